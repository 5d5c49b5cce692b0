#!/bin/bash
# t155-worker-burst - the worker under a burst of small jobs (many posts to a
# small list): jobs run side by side over the configured connections, the
# SMTP sessions stay open from job to job and from pass to pass, and a kill
# -9 in the middle of the burst repeats only transactions that were in
# flight, whichever jobs they belonged to.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sinks.sh"

need_sink
command -v ss >/dev/null || { echo "ss (iproute2) is needed to find free ports"; exit 1; }
need_rcptsink
chmod 0755 "$T"
# (as root the daemon and receive below run as nobody)
CONVENE=$(readable_copy "$CONVENE")
TEMPLATES=$(readable_copy "$top_srcdir/templates")

# make_list DIR PORT RCPTS CONNECTIONS MEMBERS
make_list() {
	local dir=$1
	mkdir -p "$dir"
	chmod 0777 "$dir"
	cat >"$dir/convene.conf" <<EOC
domain = "lists.example.org";
database = "convene.db";
templates = "$TEMPLATES";
outbound = { transport = "smtp"; host = "127.0.0.1"; port = $2;
             max_rcpt_per_txn = $3; connections = $4; timeout = "30s";
             retry_schedule = [ "10m" ]; };
lists = ( { name = "makers"; description = "Makers"; policy = "open";
            leaders = [ "alice@example.org" ]; footer = false; } );
EOC
	"$CONVENE" -c "$dir/convene.conf" members makers import "$5" >/dev/null
}
cvd() {
	local dir=$1
	shift
	"$CONVENE" -c "$dir/convene.conf" "$@"
}
# posts DIR FROM TO: posts number FROM..TO (Message-ID <burst-N@example.net>)
posts() {
	local i
	for i in $(seq "$2" "$3"); do
		printf 'From: Bob <bob@example.net>\nTo: makers@lists.example.org\nSubject: burst %d\nMessage-ID: <burst-%d@example.net>\nDate: Tue, 14 Nov 2023 10:00:00 +0000\n\npost %d\n' \
			"$i" "$i" "$i" >"$1/p$i.eml"
		cvd "$1" receive --recipient makers@lists.example.org <"$1/p$i.eml" ||
			echo "receive of post $i failed"
	done
}
# pairs DUMP...: "MESSAGE-ID RECIPIENT" for every copy at the sink.
pairs() {
	cat "$@" | awk '
		/^X-Mail-Args: / { n = 0; delete r; next }
		/^X-Rcpt-Args: / { a = $2; gsub(/[<>]/, "", a); r[++n] = a; next }
		tolower($1) == "message-id:" { id = $2; for (i = 1; i <= n; i++) print id, r[i]; n = 0 }'
}
jobs_left() { sqlite3 "$1/convene.db" "SELECT count(*) FROM jobs WHERE state <> 'done'"; }

# ---- 1. side by side: the sink answers the first 4 transactions only once
# all 4 are there at the same time (else 451 after 20 s) ----

D=$T/side
mkdir -p "$D/barrier"
chmod 0777 "$D/barrier"
seq -f 'm%02g@example.org' 1 5 >"$T/members5"
P=$(free_port)
make_list "$D" "$P" 10 4 "$T/members5"
posts "$D" 1 8
"$RCPTSINK" -b 4 -B "$D/barrier" -D "$D/dump" "127.0.0.1:$P" 2>>"$T/sink.err" &
RPID=$!
CLEANUP_PIDS="$CLEANUP_PIDS $RPID"
check "rcptsink listens" listening "$RPID" "$P"
rc=0
cvd "$D" run --once >"$D/run.out" 2>&1 || rc=$?
stop "$RPID"
expect_eq "8 one-transaction jobs over 4 connections: run exits 0" 0 "$rc"
expect_eq "...all delivered, none deferred" \
	"8 transactions, 40 delivered, 0 deferred, 0 failed, 8 jobs done" \
	"$(grep transactions "$D/run.out")"
expect_eq "4 transactions met at the sink at once (jobs side by side)" 4 \
	"$(ls "$D/barrier" | wc -l | tr -d ' ')"
expect_eq "each member got each of the 8 posts once" "8 5" \
	"$(rcpts "$D/dump" | sort | uniq -c | awk '{ print $1 }' | sort -u | tr '\n' ' ')$(rcpts "$D/dump" | sort -u | wc -l | tr -d ' ')"

# ---- 2. sessions stay open from job to job, and from pass to pass ----

D=$T/sessions
P=$(free_port)
make_list "$D" "$P" 10 4 "$T/members5"
posts "$D" 1 30
user=()
[ "$(id -u)" = 0 ] && user=(-u nobody)
"$SINK" "${user[@]}" -c -D "$D/dump" "127.0.0.1:$P" 100 >"$D/dump.count" 2>>"$T/sink.err" &
SINK_PID=$!
CLEANUP_PIDS="$CLEANUP_PIDS $SINK_PID"
check "smtp-sink (counting sessions) listens" listening "$SINK_PID" "$P"
cvd "$D" run --once >"$D/run.out" 2>&1
sessions() { tail -c 300 "$1" | tr '\r' '\n' | sed -n 's/.*sess=\([0-9]*\).*/\1/p' | tail -1; }
expect_eq "30 jobs delivered" "30 jobs done" "$(grep -o '[0-9]* jobs done' "$D/run.out")"
s=$(sessions "$D/dump.count")
check "...over at most 4 SMTP sessions (the sink counted ${s:-?})" test "${s:-99}" -le 4

# The daemon: posts arriving over several passes reuse its sessions. As
# root it runs as nobody, which then owns the list's files.
duser=()
asuser=()
if [ "$(id -u)" = 0 ]; then
	duser=(--user nobody)
	asuser=(runuser -u nobody --)
	chown -R nobody "$D"
fi
"$CONVENE" -c "$D/convene.conf" run "${duser[@]}" >"$D/daemon.out" 2>&1 &
WPID=$!
CLEANUP_PIDS="$CLEANUP_PIDS $WPID"
for i in 31 32 33 34 35 36; do
	printf 'From: Bob <bob@example.net>\nSubject: late %d\nMessage-ID: <burst-%d@example.net>\n\npost %d\n' \
		"$i" "$i" "$i" | "${asuser[@]}" "$CONVENE" -c "$D/convene.conf" receive \
		--recipient makers@lists.example.org
	sleep 0.4
done
for i in $(seq 1 100); do
	[ "$(jobs_left "$D")" = 0 ] && break
	sleep 0.1
done
stop "$WPID"
expect_eq "the daemon delivered the 6 posts that came one by one" 0 "$(jobs_left "$D")"
s2=$(sessions "$D/dump.count")
check "...over its own sessions, kept between passes (sessions ${s:-?} -> ${s2:-?}, at most 4 more)" \
	test "${s2:-99}" -le $(( ${s:-0} + 4 ))
expect_eq "36 posts x 5 members, each once" 180 "$(pairs "$D/dump" | sort -u | wc -l | tr -d ' ')"
stop "$SINK_PID"

# ---- 3. kill -9 in the middle of a burst of jobs ----
# The sink holds its reply to each "." for a second, so the kill lands while
# transactions of several jobs are in flight. Progress is committed for
# several transactions at once, but never for fewer than have finished:
# after a restart only transactions that were in flight come again.

D=$T/crash
seq -f 'c%02g@example.org' 1 20 >"$T/members20"
P=$(free_port)
make_list "$D" "$P" 10 4 "$T/members20"
posts "$D" 1 20
check "slow sink listens" sink_start "$P" "$D/dump" -W .:1
"$CONVENE" -c "$D/convene.conf" run --once >"$D/run1.out" 2>&1 &
WPID=$!
got=0
for i in $(seq 1 300); do
	got=$(nrcpts "$D/dump")
	[ "$got" -ge 100 ] && break
	sleep 0.05
done
kill -9 "$WPID"
wait "$WPID" 2>/dev/null
stop "$SINK_PID"
got=$(nrcpts "$D/dump")
check "killed in the middle ($got of 400 copies at the sink)" test "$got" -ge 100 -a "$got" -lt 400
check "fast sink listens" sink_start "$P" "$D/dump"
rc=0
cvd "$D" run --once >"$D/run2.out" 2>&1 || rc=$?
stop "$SINK_PID"
expect_eq "the restarted run exits 0" 0 "$rc"
expect_eq "every job is done" 0 "$(jobs_left "$D")"
expect_eq "every member got every post" 400 "$(pairs "$D/dump" | sort -u | wc -l | tr -d ' ')"
dups=$(pairs "$D/dump" | sort | uniq -d | wc -l | tr -d ' ')
over2=$(pairs "$D/dump" | sort | uniq -c | awk '$1 > 2' | wc -l | tr -d ' ')
expect_eq "no copy came three times" 0 "$over2"
check "repeated copies ($dups) within the 4 transactions of 10 in flight" test "$dups" -le 40
echo "# killed at $got copies; $dups repeated after the restart"
finish
