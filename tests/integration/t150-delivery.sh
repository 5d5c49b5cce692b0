#!/bin/bash
# t150-delivery - the delivery engine end to end over SMTP on loopback:
# fan-out to 10,000 members over parallel sessions, kill -9 of the worker in
# the middle of a job, per-recipient 451 answers with backoff, a relay that
# is down (and one that dies mid-job), and `queue list|retry|flush`.
#
# The peer is Postfix's smtp-sink with -D: its dump has one block per
# transaction, "X-Mail-Args: <from>" then one "X-Rcpt-Args: <rcpt>" line per
# recipient, so every copy of every member can be counted. smtp-sink cannot
# refuse some recipients and accept others, so the 451 case uses
# tests/helpers/rcptsink.c, which writes the same dump format.
# Every process started here is stopped by its PID.
. "$(dirname "$0")/lib.sh"
set -u

SINK=${SMTP_SINK:-/usr/sbin/smtp-sink}
need_sink
command -v ss >/dev/null || { echo "ss (iproute2) is needed to find free ports"; exit 1; }

need_rcptsink

chmod 0755 "$T"
POST=$FIXTURES/post-alice.eml
CLEANUP_PIDS=

# ---- helpers ----

# A TCP port on 127.0.0.1 that nobody listens on (checked, not guessed).
free_port() {
	local p i
	for i in $(seq 1 50); do
		p=$((20000 + (RANDOM * 7 + $$ + i * 131) % 30000))
		if ! ss -Hltn "sport = :$p" | grep -q .; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# listening PID PORT: waits until PID listens on PORT (up to 5 s).
listening() {
	local i
	for i in $(seq 1 100); do
		kill -0 "$1" 2>/dev/null || return 1
		ss -Hltnp "sport = :$2" | grep -q "pid=$1," && return 0
		sleep 0.05
	done
	return 1
}

# sink_start PORT DUMP [SMTP-SINK OPTIONS...]: a fresh smtp-sink appending
# to DUMP, its -c counters in DUMP.count. Sets SINK_PID.
sink_start() {
	local port=$1 dump=$2 user=()
	shift 2
	[ "$(id -u)" = 0 ] && user=(-u nobody)
	"$SINK" "${user[@]}" -c "$@" -D "$dump" "127.0.0.1:$port" 100 \
		>"$dump.count" 2>>"$T/sink.err" &
	SINK_PID=$!
	CLEANUP_PIDS="$CLEANUP_PIDS $SINK_PID"
	listening "$SINK_PID" "$port"
}

# stop PID: SIGTERM to that one process, then reap it.
stop() {
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

# sessions DUMP: SMTP sessions the sink has seen (its -c counters).
sessions() {
	tail -c 300 "$1.count" | tr '\r' '\n' | sed -n 's/.*sess=\([0-9]*\).*/\1/p' | tail -1
}

# rcpts DUMP...: every recipient in the dumps, one per line (with repeats).
rcpts() {
	cat "$@" 2>/dev/null | sed -n 's/^X-Rcpt-Args: <\([^>]*\)>.*/\1/p'
}
nrcpts() { rcpts "$@" | wc -l | tr -d ' '; }

# copies EXPECTED N DUMP...: "missing=A extra=B wrong=C" where wrong counts
# the expected addresses that did not arrive exactly N times.
copies() {
	local expected=$1 n=$2
	shift 2
	rcpts "$@" | sort | uniq -c | awk -v n="$n" -v expf="$expected" '
		BEGIN { while ((getline a < expf) > 0) want[a] = 1 }
		{ got[$2] = $1 }
		END {
			for (a in want) { if (!(a in got)) miss++; else if (got[a] != n) wrong++ }
			for (a in got) if (!(a in want)) extra++
			printf "missing=%d extra=%d wrong=%d\n", miss, extra, wrong
		}'
}

# dup_report EXPECTED DUMP...: checks a crash-and-resume delivery; prints
# "missing=A extra=B over2=C dups=D txns=E" where over2 counts addresses
# that arrived more than twice, dups the addresses that arrived twice, and
# txns the number of transactions that the first copies of the duplicated
# addresses belong to (the transactions in flight at the crash).
dup_report() {
	local expected=$1
	shift
	cat "$@" | awk -v expf="$expected" '
		BEGIN { while ((getline a < expf) > 0) want[a] = 1 }
		/^X-Mail-Args: / { t++; next }
		/^X-Rcpt-Args: / {
			a = $2; gsub(/[<>]/, "", a)
			if (!(a in got)) first[a] = t
			got[a]++
			next
		}
		END {
			for (a in want) if (!(a in got)) miss++
			for (a in got) {
				if (!(a in want)) extra++
				if (got[a] > 2) over++
				if (got[a] >= 2) { dups++; ft[first[a]] = 1 }
			}
			for (x in ft) txns++
			printf "missing=%d extra=%d over2=%d dups=%d txns=%d\n",
				miss, extra, over, dups, txns
		}'
}
field() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"; }

# make_list DIR PORT MAX_RCPT CONNECTIONS MEMBERS_FILE: a config and database
# in DIR whose list "makers" (open policy) has the members of MEMBERS_FILE.
make_list() {
	local dir=$1
	mkdir -p "$dir"
	cat >"$dir/convene.conf" <<EOC
domain = "lists.example.org";
database = "convene.db";
templates = "$top_srcdir/templates";
outbound = { transport = "smtp"; host = "127.0.0.1"; port = $2;
             max_rcpt_per_txn = $3; connections = $4; timeout = "10s";
             retry_schedule = [ "10m", "30m", "2h" ]; };
lists = (
  { name = "makers"; description = "Makers of Example City";
    policy = "open"; leaders = [ "alice@example.org" ];
    sponsors = [ "dana@example.org" ]; }
);
EOC
	"$CONVENE" -c "$dir/convene.conf" members makers import "$5" >"$dir/import.out" 2>&1
}

# cvd DIR ARGS...: convene on DIR's config.
cvd() {
	local dir=$1
	shift
	"$CONVENE" -c "$dir/convene.conf" "$@"
}

# post_to DIR [MESSAGE-ID-SUFFIX]: posts the fixture (with a distinct
# Message-ID); prints receive's exit status.
post_to() {
	local rc=0
	sed "s/workshop-1@/workshop-1${2:-}@/" "$POST" >"$1/post${2:-}.eml"
	cvd "$1" receive --recipient makers@lists.example.org \
		<"$1/post${2:-}.eml" >>"$1/receive.out" 2>&1 || rc=$?
	echo "$rc"
}

# queue_row DIR JOB: "sent/total waiting failed" of a job in `queue list`.
queue_row() {
	cvd "$1" queue list 2>/dev/null | awk -v j="$2" '$1 == j { print $3, $4, $5 }'
}
jobs_left() { sqlite3 "$1/convene.db" "SELECT count(*) FROM jobs WHERE state <> 'done'"; }

# members FILE N PREFIX: N generated addresses.
members() { seq -f "$3%05g@example.org" 1 "$2" >"$1"; }

# ---- 1. 10,000 members, 100 a transaction, 4 sessions: each exactly once ----

D1=$T/fanout
mkdir -p "$D1"
chmod 0777 "$D1"
members "$D1/members" 10000 m
P1=$(free_port)
make_list "$D1" "$P1" 100 4 "$D1/members"
expect_eq "import: 10000 members" "10000 added, 0 already members, 0 bad lines skipped" "$(cat "$D1/import.out")"
check "smtp-sink listens" sink_start "$P1" "$D1/dump"
expect_eq "post accepted" 0 "$(post_to "$D1")"
rc=0
cvd "$D1" run --once >"$D1/run.out" 2>&1 || rc=$?
expect_eq "run --once exits 0" 0 "$rc"
stop "$SINK_PID"
expect_eq "10000 members: each exactly once, nobody else" "missing=0 extra=0 wrong=0" "$(copies "$D1/members" 1 "$D1/dump")"
expect_eq "10000 recipients in all" 10000 "$(nrcpts "$D1/dump")"
expect_eq "100 transactions (max_rcpt_per_txn = 100)" 100 "$(grep -c '^X-Mail-Args:' "$D1/dump")"
s=$(sessions "$D1/dump")
check "several SMTP sessions were used (sink counted ${s:-?}, connections = 4)" \
	test "${s:-0}" -ge 2 -a "${s:-0}" -le 4
expect_eq "the job is done" 0 "$(jobs_left "$D1")"
expect_eq "run reports the transactions" \
	"100 transactions, 10000 delivered, 0 deferred, 0 failed, 1 jobs done" \
	"$(grep transactions "$D1/run.out")"

# ---- 2. kill -9 of the worker in the middle of the job, then a restart ----

# The sink holds its reply to each "." for a second (-W .:1) after it has
# dumped the message, so the kill lands while transactions are in flight:
# the sink has them, the worker has not recorded them. Those (and only
# those) may come again after the restart. The restart goes to a fast sink
# on the same port, appending to the same dump.
# crash_case NAME CONNECTIONS KILL_AFTER
crash_case() {
	local name=$1 conns=$2 kill_after=$3 dir=$T/$1 port rc got i wpid row sent
	mkdir -p "$dir"
	chmod 0777 "$dir"
	cp "$D1/members" "$dir/members"
	port=$(free_port)
	make_list "$dir" "$port" 100 "$conns" "$dir/members"
	check "$name: slow sink listens" sink_start "$port" "$dir/dump" -W .:1
	post_to "$dir" >/dev/null
	# Started directly (not through a shell function) so that $! is the
	# worker itself.
	"$CONVENE" -c "$dir/convene.conf" run --once >"$dir/run1.out" 2>&1 &
	wpid=$!
	got=0
	for i in $(seq 1 300); do
		got=$(nrcpts "$dir/dump")
		[ "$got" -ge "$kill_after" ] && break
		sleep 0.05
	done
	kill -9 "$wpid"
	wait "$wpid" 2>/dev/null
	check "$name: the worker is gone" sh -c "! kill -0 $wpid 2>/dev/null"
	check "$name: killed in the middle ($got of 10000 at the sink)" \
		test "$got" -ge "$kill_after" -a "$got" -lt 10000
	stop "$SINK_PID"
	got=$(nrcpts "$dir/dump")
	cp "$dir/dump" "$dir/dump.before"

	# queue list shows the progress committed before the kill: at most
	# what the sink has, and short of it by at most the transactions in
	# flight.
	row=$(queue_row "$dir" 1)
	sent=${row%%/*}
	expect_eq "$name: queue list shows sent/10000" "/10000" "$(sed 's/^[0-9]*//; s/ .*//' <<<"$row")"
	check "$name: queue list progress $sent within [sink - $conns txns, sink = $got]" \
		test "$sent" -ge 1 -a "$sent" -le "$got" -a "$sent" -ge $((got - conns * 100))

	check "$name: fast sink listens" sink_start "$port" "$dir/dump"
	rc=0
	cvd "$dir" run --once >"$dir/run2.out" 2>&1 || rc=$?
	stop "$SINK_PID"
	expect_eq "$name: the restarted run exits 0" 0 "$rc"
	expect_eq "$name: the job is done" 0 "$(jobs_left "$dir")"
	rep=$(dup_report "$dir/members" "$dir/dump")
	expect_eq "$name: every member has a copy, nobody else, none thrice" \
		"missing=0 extra=0 over2=0" "$(sed 's/ dups=.*//' <<<"$rep")"
	check "$name: duplicates ($(field dups "$rep") in $(field txns "$rep") transaction(s)) within the $conns in flight" \
		test "$(field txns "$rep")" -le "$conns" -a "$(field dups "$rep")" -le $((conns * 100))
	# Every duplicate is a recipient of the first run (nobody was sent
	# twice by the restart alone).
	expect_eq "$name: the restart repeated only recipients the killed run had sent" "" \
		"$(comm -23 <(rcpts "$dir/dump" | sort | uniq -d) <(rcpts "$dir/dump.before" | sort -u))"
	echo "# $name: killed at $got recipients, queue showed $sent sent; $rep"
}
crash_case crash4 4 800
# The issue's literal requirement: with one session, duplicates only within
# ONE transaction.
crash_case crash1 1 300

# ---- 3. 451 for some recipients: retried after the backoff, alone ----

D3=$T/soft
mkdir -p "$D3"
chmod 0777 "$D3"
members "$D3/members" 300 s
# Every 7th member is deferred (451), two are refused for good (550).
awk 'NR % 7 == 0' "$D3/members" >"$D3/soft"
printf 's00010@example.org\ns00200@example.org\n' >"$D3/hard"
nsoft=$(wc -l <"$D3/soft" | tr -d ' ')
grep -vxF -f "$D3/soft" "$D3/members" | grep -vxF -f "$D3/hard" >"$D3/accepted"
P3=$(free_port)
make_list "$D3" "$P3" 100 2 "$D3/members"
"$RCPTSINK" -s "$D3/soft" -h "$D3/hard" -D "$D3/dump1" "127.0.0.1:$P3" 2>>"$T/sink.err" &
RS_PID=$!
CLEANUP_PIDS="$CLEANUP_PIDS $RS_PID"
check "rcptsink listens" listening "$RS_PID" "$P3"
post_to "$D3" >/dev/null
rc=0
cvd "$D3" run --once >"$D3/run1.out" 2>&1 || rc=$?
expect_eq "451 run exits 0" 0 "$rc"
expect_eq "first run: everyone else exactly once, nobody deferred or refused" \
	"missing=0 extra=0 wrong=0" "$(copies "$D3/accepted" 1 "$D3/dump1")"
expect_eq "queue list: sent/total, waiting = the $nsoft deferred, failed = 2" \
	"$((300 - nsoft - 2))/300 $nsoft 2" "$(queue_row "$D3" 1)"
# Before the backoff has passed, nothing is due.
cvd "$D3" run --once >"$D3/run2.out" 2>&1
expect_eq "before the backoff: nothing resent" "$((300 - nsoft - 2))" "$(nrcpts "$D3/dump1")"
stop "$RS_PID"
# Past the backoff (10m), to a sink that still defers half of them (every
# 14th member): the other half goes out, once, and nobody else.
awk 'NR % 14 == 0' "$D3/members" >"$D3/soft2"
nsoft2=$(wc -l <"$D3/soft2" | tr -d ' ')
grep -vxF -f "$D3/soft2" "$D3/soft" >"$D3/soft1"
"$RCPTSINK" -s "$D3/soft2" -D "$D3/dump2" "127.0.0.1:$P3" 2>>"$T/sink.err" &
RS_PID=$!
CLEANUP_PIDS="$CLEANUP_PIDS $RS_PID"
check "rcptsink (half of them still deferred) listens" listening "$RS_PID" "$P3"
rc=0
CONVENE_NOW=$(($(date +%s) + 3600)) cvd "$D3" run --once >"$D3/run3.out" 2>&1 || rc=$?
expect_eq "after the backoff: run exits 0" 0 "$rc"
stop "$RS_PID"
expect_eq "after the backoff: exactly the deferred ones now accepted, once each, nobody else" \
	"missing=0 extra=0 wrong=0" "$(copies "$D3/soft1" 1 "$D3/dump2")"
# queue list counts the recipients delivered on retry too.
expect_eq "queue list: sent includes the retried ones, $nsoft2 still waiting" \
	"$((300 - nsoft2 - 2))/300 $nsoft2 2" "$(queue_row "$D3" 1)"
# The second attempt waits for the schedule's second step (30m), then goes
# to a sink that accepts everyone.
check "smtp-sink listens" sink_start "$P3" "$D3/dump3"
CONVENE_NOW=$(($(date +%s) + 3600 + 600)) cvd "$D3" run --once >"$D3/run4.out" 2>&1
expect_eq "before the second backoff: nothing resent" 0 "$(nrcpts "$D3/dump3")"
rc=0
CONVENE_NOW=$(($(date +%s) + 3 * 3600)) cvd "$D3" run --once >"$D3/run5.out" 2>&1 || rc=$?
expect_eq "after the second backoff: run exits 0" 0 "$rc"
stop "$SINK_PID"
expect_eq "after the second backoff: exactly the last $nsoft2, once each, nobody else" \
	"missing=0 extra=0 wrong=0" "$(copies "$D3/soft2" 1 "$D3/dump3")"
expect_eq "the refused ones were recorded as failures" "s00010@example.org s00200@example.org" \
	"$(sqlite3 "$D3/convene.db" "SELECT address FROM job_rcpts WHERE state = 'failed' ORDER BY address" | tr '\n' ' ' | sed 's/ $//')"
expect_eq "the job is done" 0 "$(jobs_left "$D3")"
expect_eq "a 550 at RCPT is a hard bounce for the member: score 1, once" "1.0 1.0" \
	"$(sqlite3 "$D3/convene.db" "SELECT bounce_score FROM members WHERE address IN ('s00010@example.org', 's00200@example.org') ORDER BY address" | tr '\n' ' ' | sed 's/ $//')"
expect_eq "...and nobody else was scored" 0 \
	"$(sqlite3 "$D3/convene.db" "SELECT count(*) FROM members WHERE bounce_score > 0 AND address NOT IN ('s00010@example.org', 's00200@example.org')")"

# ---- 5 (with 3). queue retry makes the waiting recipients due now ----

"$RCPTSINK" -s "$D3/soft" -D "$D3/dump3" "127.0.0.1:$P3" 2>>"$T/sink.err" &
RS_PID=$!
CLEANUP_PIDS="$CLEANUP_PIDS $RS_PID"
check "rcptsink listens again" listening "$RS_PID" "$P3"
post_to "$D3" -2 >/dev/null
cvd "$D3" run --once >"$D3/run6.out" 2>&1
stop "$RS_PID"
expect_eq "second post: queue list shows its $nsoft waiting" "$((300 - nsoft))/300 $nsoft 0" "$(queue_row "$D3" 2)"
check "smtp-sink listens" sink_start "$P3" "$D3/dump4"
cvd "$D3" run --once >"$D3/run7.out" 2>&1
expect_eq "without queue retry nothing is due yet" 0 "$(nrcpts "$D3/dump4")"
expect_eq "queue retry makes the $nsoft waiting recipients due" "$nsoft waiting items due now" \
	"$(cvd "$D3" queue retry 2>&1)"
rc=0
cvd "$D3" run --once >"$D3/run8.out" 2>&1 || rc=$?
stop "$SINK_PID"
expect_eq "after queue retry: run exits 0" 0 "$rc"
expect_eq "after queue retry: exactly the waiting ones, once each" \
	"missing=0 extra=0 wrong=0" "$(copies "$D3/soft" 1 "$D3/dump4")"
expect_eq "queue empty" 0 "$(jobs_left "$D3")"

# ---- 4. the relay is down, then listens ----

D4=$T/down
mkdir -p "$D4"
chmod 0777 "$D4"
members "$D4/members" 1000 d
P4=$(free_port)
make_list "$D4" "$P4" 100 4 "$D4/members"
post_to "$D4" >/dev/null
rc=0
cvd "$D4" run --once >"$D4/run1.out" 2>&1 || rc=$?
expect_eq "relay down: run --once exits 0" 0 "$rc"
expect_eq "relay down: queue list shows the job waiting at 0/1000" "0/1000 0 0" "$(queue_row "$D4" 1)"
expect_eq "relay down: the job waits for a retry time" 1 \
	"$(sqlite3 "$D4/convene.db" "SELECT count(*) FROM jobs WHERE state = 'queued' AND attempts = 1 AND next_attempt > strftime('%s','now')")"
check "the relay listens now" sink_start "$P4" "$D4/dump1"
cvd "$D4" run --once >"$D4/run2.out" 2>&1
expect_eq "before the backoff: nothing sent" 0 "$(nrcpts "$D4/dump1")"
rc=0
CONVENE_NOW=$(($(date +%s) + 3600)) cvd "$D4" run --once >"$D4/run3.out" 2>&1 || rc=$?
expect_eq "after the backoff: run exits 0" 0 "$rc"
stop "$SINK_PID"
expect_eq "after the backoff: every member exactly once" "missing=0 extra=0 wrong=0" \
	"$(copies "$D4/members" 1 "$D4/dump1")"
expect_eq "queue empty" 0 "$(jobs_left "$D4")"

# Down again for a second post; `queue flush` sends it once the relay is back.
post_to "$D4" -2 >/dev/null
cvd "$D4" run --once >"$D4/run4.out" 2>&1
expect_eq "relay down again: the second job waits" "0/1000 0 0" "$(queue_row "$D4" 2)"
check "the relay listens again" sink_start "$P4" "$D4/dump2"
rc=0
cvd "$D4" queue flush >"$D4/flush.out" 2>&1 || rc=$?
stop "$SINK_PID"
expect_eq "queue flush exits 0" 0 "$rc"
expect_eq "after queue flush: every member exactly once" "missing=0 extra=0 wrong=0" \
	"$(copies "$D4/members" 1 "$D4/dump2")"
expect_eq "queue empty after the flush" 0 "$(jobs_left "$D4")"

# The relay dies in the middle of a job (smtp-sink -M 6 exits after six
# messages): the transactions that finished are kept (cursor and ranges),
# the job waits, and once the relay is back the rest goes out.
post_to "$D4" -3 >/dev/null
check "a relay that dies after 6 messages listens" sink_start "$P4" "$D4/dump3" -M 6
rc=0
cvd "$D4" run --once >"$D4/run5.out" 2>&1 || rc=$?
stop "$SINK_PID"
expect_eq "relay died mid-job: run exits 0" 0 "$rc"
got=$(nrcpts "$D4/dump3")
check "relay died mid-job: it had some ($got), not all" test "$got" -ge 100 -a "$got" -lt 1000
check "the relay is back" sink_start "$P4" "$D4/dump3"
rc=0
CONVENE_NOW=$(($(date +%s) + 3600)) cvd "$D4" run --once >"$D4/run6.out" 2>&1 || rc=$?
stop "$SINK_PID"
expect_eq "relay back: run exits 0" 0 "$rc"
rep=$(dup_report "$D4/members" "$D4/dump3")
expect_eq "relay back: every member has a copy, nobody else, none thrice" \
	"missing=0 extra=0 over2=0" "$(sed 's/ dups=.*//' <<<"$rep")"
check "relay back: duplicates ($(field dups "$rep")) only within the 4 transactions in flight" \
	test "$(field txns "$rep")" -le 4 -a "$(field dups "$rep")" -le 400
expect_eq "queue empty at the end" 0 "$(jobs_left "$D4")"

finish
