#!/bin/bash
# t173-digest-crash - a digest issue reaches each digest member once, over
# SMTP on loopback, whatever kills the worker:
#   1. kill -9 while the issue is being sent (the relay holds its answer to
#      each message for a second, so the kill lands with a transaction in
#      flight), then a restart: every digest and digest-plain member has the
#      issue, nobody twice but the recipients of the one transaction in
#      flight, and every copy is the one stored message;
#   2. kill -9 over and over at arbitrary moments of the worker's pass
#      (assembly included: the tenth post fills the issue, the worker's
#      timed pass assembles it), then a run to the end: one issue, each
#      member has it, duplicates only from the transactions in flight.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sinks.sh"

need_sink
command -v ss >/dev/null || { echo "ss (iproute2) is needed to find free ports"; exit 1; }
chmod 0755 "$T"
DG=$top_srcdir/tests/fixtures/digest

# make_list DIR PORT MAX_MESSAGES DIGEST PLAIN IMMEDIATE: list "makers" over
# SMTP to PORT, one session, 100 recipients a transaction, with that many
# digest members (d...), digest-plain members (p...) and immediate ones
# (i...).
make_list() {
	local dir=$1
	mkdir -p "$dir"
	chmod 0777 "$dir"
	cat >"$dir/convene.conf" <<EOC
domain = "lists.example.org";
database = "convene.db";
templates = "$top_srcdir/templates";
outbound = { transport = "smtp"; host = "127.0.0.1"; port = $2;
             max_rcpt_per_txn = 100; connections = 1; timeout = "10s";
             retry_schedule = [ "10m" ]; };
lists = (
  { name = "makers"; policy = "open"; leaders = [ "alice@example.org" ];
    digest = { schedule = "weekly sun 03:00"; max_messages = $3; }; }
);
EOC
	members "$dir/digest" "$4" d
	members "$dir/plain" "$5" p
	: >"$dir/immediate"
	[ "$6" -gt 0 ] && members "$dir/immediate" "$6" i
	cat "$dir/digest" "$dir/plain" "$dir/immediate" >"$dir/all"
	"$CONVENE" -c "$dir/convene.conf" members makers import "$dir/all" >/dev/null
	sqlite3 "$dir/convene.db" "UPDATE members SET mode = 'digest' WHERE address LIKE 'd%'; UPDATE members SET mode = 'digest-plain' WHERE address LIKE 'p%';"
}
cvd() {
	local dir=$1
	shift
	"$CONVENE" -c "$dir/convene.conf" "$@"
}
post_all() {
	local f rc
	for f in "$DG"/*.eml; do
		rc=0
		cvd "$1" receive --recipient makers@lists.example.org <"$f" \
			>>"$1/receive.out" 2>&1 || rc=$?
		[ "$rc" = 0 ] || return 1
	done
}
# issue_ids DUMP...: the Message-IDs of the digests in the dumps, one per
# transaction that carried one, sorted and counted.
issue_ids() {
	cat "$@" | awk '/^X-Mail-Args: / { seen = 0 }
		/^Message-ID: <convene\.digest\./ && !seen { print $2; seen = 1 }' |
		sort | uniq -c | awk '{ print $2 }'
}
# digest_rcpts KIND DUMP...: the recipients of the transactions that carried
# a digest (as "X-Rcpt-Args: <addr>" lines, like a dump): KIND mime (a
# multipart/mixed issue), plain (a text/plain one) or any.
digest_rcpts() {
	local kind=$1
	shift
	cat "$@" | awk -v kind="$kind" '
		function flush() {
			if (mid && n && (kind == "any" || kind == k))
				for (i = 0; i < n; i++) print "X-Rcpt-Args: " r[i]
		}
		/^X-Mail-Args: / { flush(); n = 0; delete r; hdr = 1; mid = 0; k = ""; next }
		/^X-Rcpt-Args: / { r[n++] = $2; next }
		hdr && /^$/ { hdr = 0; next }
		hdr && /^Message-ID: <convene\.digest\./ { mid = 1 }
		hdr && /^Content-Type: / { k = $2 ~ /^multipart\/mixed/ ? "mime" : "plain" }
		END { flush() }'
}

# ---- 1. kill -9 while the issue is being sent ----
D1=$T/sending
P1=$(free_port)
make_list "$D1" "$P1" 50 1500 500 3
check "posts accepted" post_all "$D1"
check "fast sink listens" sink_start "$P1" "$D1/dump0"
cvd "$D1" run --once >"$D1/run0.out" 2>&1
stop "$SINK_PID"
expect_eq "the immediate members got the 10 posts (3 x 10)" 30 "$(nrcpts "$D1/dump0")"
out=$(cvd "$D1" digest makers send 2>&1)
check "the issue is queued ($out)" sh -c "echo '$out' | grep -q 'Issue 1 queued with 10 post(s)'"
check "slow sink listens" sink_start "$P1" "$D1/dump1" -W .:1
"$CONVENE" -c "$D1/convene.conf" run --once >"$D1/run1.out" 2>&1 &
wpid=$!
got=0
for i in $(seq 1 400); do
	got=$(nrcpts "$D1/dump1")
	[ "$got" -ge 500 ] && break
	sleep 0.05
done
kill -9 "$wpid"
wait "$wpid" 2>/dev/null
stop "$SINK_PID"
got=$(nrcpts "$D1/dump1")
check "killed while sending the issue ($got of 2000 at the relay)" test "$got" -ge 500 -a "$got" -lt 2000
check "fast sink listens again" sink_start "$P1" "$D1/dump1"
rc=0
cvd "$D1" run --once >"$D1/run2.out" 2>&1 || rc=$?
stop "$SINK_PID"
expect_eq "the restarted run exits 0" 0 "$rc"
expect_eq "no job left" 0 "$(sqlite3 "$D1/convene.db" "SELECT count(*) FROM jobs WHERE state <> 'done'")"
cat "$D1/digest" "$D1/plain" >"$D1/expected"
rep=$(dup_report "$D1/expected" "$D1/dump1")
expect_eq "every digest member has the issue, nobody else, none thrice" \
	"missing=0 extra=0 over2=0" "$(sed 's/ dups=.*//' <<<"$rep")"
check "duplicates ($(field dups "$rep")) only from the one transaction in flight ($(field txns "$rep"))" \
	test "$(field txns "$rep")" -le 1 -a "$(field dups "$rep")" -le 100
expect_eq "the MIME issue went to the digest members" "$(sort "$D1/digest")" \
	"$(digest_rcpts mime "$D1/dump1" | rcpts /dev/stdin | sort -u)"
expect_eq "the plain issue went to the digest-plain members" "$(sort "$D1/plain")" \
	"$(digest_rcpts plain "$D1/dump1" | rcpts /dev/stdin | sort -u)"
expect_eq "two stored messages: one MIME issue, one plain, the same for everyone" 2 \
	"$(issue_ids "$D1/dump1" | wc -l | tr -d ' ')"
expect_eq "one issue recorded" "1" "$(sqlite3 "$D1/convene.db" "SELECT count(*) FROM digest_issues")"
echo "# 1: killed at $got recipients; $rep"

# ---- 2. kill -9 at arbitrary moments, assembly included ----
D2=$T/anytime
P2=$(free_port)
make_list "$D2" "$P2" 10 300 100 0
check "posts accepted (the tenth fills the issue)" post_all "$D2"
check "slow sink listens" sink_start "$P2" "$D2/dump" -W .:1
kills=0
early=0
for delay in 0.01 0.03 0.1 0.3 0.7 1.3 2.2 3.1; do
	"$CONVENE" -c "$D2/convene.conf" run --once >"$D2/run-$delay.out" 2>&1 &
	wpid=$!
	sleep "$delay"
	kill -9 "$wpid" 2>/dev/null && kills=$((kills + 1))
	wait "$wpid" 2>/dev/null
	[ "$(sqlite3 "$D2/convene.db" "SELECT count(*) FROM digest_issues")" = 0 ] &&
		early=$((early + 1))
done
rc=0
cvd "$D2" run --once >"$D2/run-last.out" 2>&1 || rc=$?
stop "$SINK_PID"
expect_eq "the last run exits 0" 0 "$rc"
expect_eq "one issue, assembled once" "1" "$(sqlite3 "$D2/convene.db" "SELECT count(*) FROM digest_issues")"
expect_eq "no job left" 0 "$(sqlite3 "$D2/convene.db" "SELECT count(*) FROM jobs WHERE state <> 'done'")"
cat "$D2/digest" "$D2/plain" >"$D2/expected"
digest_rcpts any "$D2/dump" >"$D2/digest.rcpts"
rep=$(dup_report "$D2/expected" "$D2/digest.rcpts")
expect_eq "after $kills kills: every digest member has the issue, nobody else" \
	"missing=0 extra=0" "$(sed 's/ over2=.*//' <<<"$rep")"
extra=$(( $(rcpts "$D2/digest.rcpts" | wc -l) - $(rcpts "$D2/digest.rcpts" | sort -u | wc -l) ))
check "extra copies ($extra) at most the ${kills} transactions in flight at the kills" \
	test "$extra" -le $((kills * 100))
expect_eq "two stored messages for all copies (MIME and plain)" 2 \
	"$(issue_ids "$D2/dump" | wc -l | tr -d ' ')"
echo "# 2: $kills kills, $early of them before the issue was committed; $extra extra copies; $rep"

finish
