#!/bin/bash
# t152-two-workers - two delivery passes at once never send a job twice:
# two `run --once` started together, a worker that holds a job while
# another pass comes (stopped with SIGSTOP, so that the second pass surely
# finds it at work), `queue flush` and `run --once` beside the daemon, two
# daemons sharing several posts, and the one delivering killed with SIGKILL
# in the middle of a job: the other takes the job over at its cursor at
# once (its process is provably gone), and only the killed worker's
# transactions in flight can come twice. Then the lease: a worker stopped
# past its claim's 5 minutes (faketime moves the other's clock) loses the
# job to another and, let go on, records nothing more of it; and a dead
# worker whose process cannot be looked at (its claim names another host)
# keeps the job until its lease ends, then it is taken over.
#
# The peer is Postfix's smtp-sink with -D (tests/integration/sinks.sh): its
# dump has one block per transaction, so every copy of every member is
# counted. The sink holds its reply to each "." for a second (-W .:1), so
# that a job of 2,000 members (20 transactions, 2 sessions) takes about ten
# seconds and the passes overlap. Every process started here is stopped by
# its PID.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sinks.sh"
set -u

need_sink
command -v ss >/dev/null || { echo "ss (iproute2) is needed to find free ports"; exit 1; }
command -v sqlite3 >/dev/null || { echo "sqlite3 is needed to read the queue"; exit 1; }

POST=$FIXTURES/post-alice.eml
chmod 0755 "$T"

command -v faketime >/dev/null ||
	{ echo "faketime is not installed (scripts/install-deps.sh installs it)"; exit 77; }
FAKETIME_LIB=$(ls /usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | head -1)
[ -n "$FAKETIME_LIB" ] || { echo "libfaketime.so.1 not found"; exit 1; }

# The daemon does not run as root: as root, every convene process of this
# test runs as nobody (they share the database), from its own copy of the
# binary and templates (the build folder may be closed to others). setpriv
# execs convene in its own process (runuser would stay as its parent, and
# stop itself when its child is stopped), so $! of a launch is convene's.
as_user=()
CV=$CONVENE
TEMPLATES=$top_srcdir/templates
if [ "$(id -u)" = 0 ]; then
	command -v setpriv >/dev/null || { echo "setpriv (util-linux) is needed"; exit 1; }
	as_user=(setpriv --reuid=nobody --regid=nogroup --clear-groups --)
	mkdir -p "$T/bin"
	cp "$CONVENE" "$T/bin/convene"
	cp -r "$top_srcdir/templates" "$T/bin/templates"
	CV=$T/bin/convene
	TEMPLATES=$T/bin/templates
	chmod -R a+rX "$T/bin"
	: >"$CONVENE_LOG_FILE"
	chmod 0666 "$CONVENE_LOG_FILE"
fi

# make_list DIR PORT: list "makers" (open) with 2,000 members, 100
# recipients a transaction over 2 sessions, to the sink on PORT.
make_list() {
	local dir=$1
	mkdir -p "$dir"
	members "$dir/members" 2000 w
	cat >"$dir/convene.conf" <<EOC
domain = "lists.example.org";
database = "convene.db";
templates = "$TEMPLATES";
outbound = { transport = "smtp"; host = "127.0.0.1"; port = $2;
             max_rcpt_per_txn = 100; connections = 2; timeout = "20s";
             retry_schedule = [ "10m" ]; };
lists = (
  { name = "makers"; description = "Makers of Example City";
    policy = "open"; leaders = [ "alice@example.org" ]; }
);
EOC
	[ ${#as_user[@]} -gt 0 ] && chown -R nobody "$dir"
	cv "$dir" members makers import "$dir/members" >"$dir/import.out" 2>&1
}

# cv DIR ARGS...: convene on DIR's config (as nobody when root).
cv() {
	local dir=$1
	shift
	"${as_user[@]}" "$CV" -c "$dir/convene.conf" "$@"
}
# bg DIR OUT ARGS...: cv in the background, output to OUT; $! is convene's
# own process, which the test stops at its end.
bg() {
	local dir=$1 out=$2
	shift 2
	"${as_user[@]}" "$CV" -c "$dir/convene.conf" "$@" >"$out" 2>&1 &
	CLEANUP_PIDS="$CLEANUP_PIDS $!"
}
# later DIR ARGS...: cv with the clock 10 minutes on (past a claim's 5
# minute lease; libfaketime, which an ASan build must let load first). The
# library is preloaded into convene alone, after the switch to nobody and
# without shared memory: loaded by root first (the faketime wrapper, or
# setpriv), it makes a semaphore only root may open.
later() {
	local dir=$1
	shift
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		"${as_user[@]}" env FAKETIME_DISABLE_SHM=1 FAKETIME="+600" \
		LD_PRELOAD="$FAKETIME_LIB" "$CV" -c "$dir/convene.conf" "$@"
}

# post DIR N: posts the fixture with a Message-ID of its own.
post() {
	sed "s/workshop-1@/workshop-1-$2@/" "$POST" >"$1/post$2.eml"
	chmod a+r "$1/post$2.eml"
	cv "$1" receive --recipient makers@lists.example.org <"$1/post$2.eml" \
		>>"$1/receive.out" 2>&1
}

# sql DIR QUERY: the database as convene's user sees it (a root process
# could leave root's -wal and -shm files behind, which nobody cannot use).
sql() { "${as_user[@]}" sqlite3 -cmd ".timeout 5000" "$1/convene.db" "$2"; }
jobs_left() { sql "$1" "SELECT count(*) FROM jobs WHERE state <> 'done'"; }
# holder DIR: the pid of the worker that holds DIR's unfinished job.
holder() { sql "$1" "SELECT coalesce(max(claim_pid), 0) FROM jobs WHERE state <> 'done'"; }

# wait_for SECONDS COMMAND...: until the command succeeds.
wait_for() {
	local n=$(($1 * 10)) i
	shift
	for i in $(seq 1 "$n"); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}
at_least() { [ "$(nrcpts "$2")" -ge "$1" ]; }
queue_empty() { [ "$(jobs_left "$1")" = 0 ]; }
has_holder() { [ "$(holder "$1")" != 0 ]; }

# delivered FILE: the "N delivered" figure of a run's summary.
delivered() {
	local n
	n=$(grep -o '[0-9]* delivered,' "$1" | head -1 | cut -d' ' -f1)
	echo "${n:-0}"
}

# beside DIR HOLDER OUT CMD...: runs a second pass (CMD) while HOLDER is
# stopped (SIGSTOP). A holder stopped inside a commit keeps the database
# locked and the pass exits 75 for that: then the holder goes on a moment
# and is stopped again. Sets BESIDE_RC.
beside() {
	local dir=$1 pid=$2 out=$3 try
	shift 3
	for try in 1 2 3 4 5; do
		kill -STOP "$pid"
		BESIDE_RC=0
		"$@" >"$out" 2>&1 || BESIDE_RC=$?
		kill -CONT "$pid"
		[ "$BESIDE_RC" != 75 ] && return 0
		sleep 0.3
	done
}

# took_over PID WHY JOB: the log says job JOB was taken over from PID.
took_over() {
	grep -q "job=$3: taken over at its cursor from the worker with pid $1 on .* ($2)" \
		"$CONVENE_LOG_FILE"
}
# since DUMP LINES: the sink's blocks after the first LINES lines.
since() { tail -n +"$(($2 + 1))" "$1"; }

# ---- 1. two `run --once` started together ----

D1=$T/together
P1=$(free_port)
make_list "$D1" "$P1"
expect_eq "together: 2000 members" "2000 added, 0 already members, 0 bad lines skipped" "$(cat "$D1/import.out")"
check "together: slow sink listens" sink_start "$P1" "$D1/dump" -W .:1
S1=$SINK_PID
check "together: post accepted" post "$D1" 1
bg "$D1" "$D1/a.out" run --once
A=$!
bg "$D1" "$D1/b.out" run --once
B=$!
rca=0
wait "$A" || rca=$?
rcb=0
wait "$B" || rcb=$?
stop "$S1"
expect_eq "together: both passes exit 0" "0 0" "$rca $rcb"
expect_eq "together: every member exactly once, nobody else" "missing=0 extra=0 wrong=0" \
	"$(copies "$D1/members" 1 "$D1/dump")"
expect_eq "together: 20 transactions in all (none sent twice)" 20 "$(ntxns "$D1/dump")"
expect_eq "together: the two passes delivered 2000 between them" 2000 \
	"$(( $(delivered "$D1/a.out") + $(delivered "$D1/b.out") ))"
expect_eq "together: the job is done" 0 "$(jobs_left "$D1")"
expect_eq "together: no claim is left behind" 0 \
	"$(sql "$D1" "SELECT count(*) FROM jobs WHERE claim_owner IS NOT NULL")"
echo "# together: a delivered $(delivered "$D1/a.out"), b delivered $(delivered "$D1/b.out")"

# ---- 2. a pass while another holds the job ----

D2=$T/held
P2=$(free_port)
make_list "$D2" "$P2"
check "held: slow sink listens" sink_start "$P2" "$D2/dump" -W .:1
S2=$SINK_PID
check "held: post accepted" post "$D2" 1
bg "$D2" "$D2/a.out" run --once
A=$!
check "held: the first pass is in the middle of the job" wait_for 60 at_least 200 "$D2/dump"
expect_eq "held: the job is claimed by the first pass's process" "$A" "$(holder "$D2")"
beside "$D2" "$A" "$D2/b.out" cv "$D2" run --once
expect_eq "held: the second pass exits 0" 0 "$BESIDE_RC"
expect_eq "held: ...sends nothing" "0 transactions, 0 delivered, 0 deferred, 0 failed, 0 jobs done" \
	"$(grep transactions "$D2/b.out")"
expect_eq "held: ...and says who has the job" "1 job left to the worker that is delivering it (pid $A)" \
	"$(grep 'left to' "$D2/b.out")"
kill -STOP "$A"
cv "$D2" queue list >"$D2/list.out" 2>/dev/null
kill -CONT "$A"
check "held: queue list names the worker ($(grep makers "$D2/list.out"))" \
	grep -q "^ *1 makers .*\[worker pid $A on $(hostname)\]" "$D2/list.out"
rca=0
wait "$A" || rca=$?
stop "$S2"
expect_eq "held: the first pass goes on and exits 0" 0 "$rca"
expect_eq "held: every member exactly once" "missing=0 extra=0 wrong=0" \
	"$(copies "$D2/members" 1 "$D2/dump")"
expect_eq "held: the job is done" 0 "$(jobs_left "$D2")"

# ---- 3. `queue flush` and `run --once` beside the daemon ----

D3=$T/flush
P3=$(free_port)
make_list "$D3" "$P3"
check "flush: slow sink listens" sink_start "$P3" "$D3/dump" -W .:1
S3=$SINK_PID
check "flush: post accepted" post "$D3" 1
bg "$D3" "$D3/daemon.out" run
DW=$!
rc=0
cv "$D3" queue flush >"$D3/flush1.out" 2>&1 || rc=$?
expect_eq "flush: queue flush beside the starting daemon exits 0" 0 "$rc"
check "flush: the job gets done" wait_for 120 queue_empty "$D3"
expect_eq "flush: every member exactly once" "missing=0 extra=0 wrong=0" \
	"$(copies "$D3/members" 1 "$D3/dump")"
echo "# flush: queue flush delivered $(delivered "$D3/flush1.out")"

# A second post, which the daemon takes at once; queue flush and run
# --once while it is at work leave the job to it.
check "flush: second post accepted" post "$D3" 2
check "flush: the daemon is in the middle of the second job" wait_for 60 at_least 2200 "$D3/dump"
check "flush: ...and holds it" wait_for 10 has_holder "$D3"
expect_eq "flush: the daemon's process holds it" "$DW" "$(holder "$D3")"
beside "$D3" "$DW" "$D3/flush2.out" cv "$D3" queue flush
expect_eq "flush: queue flush exits 0" 0 "$BESIDE_RC"
expect_eq "flush: ...delivers nothing itself" "0 delivered, 0 deferred, 0 failed" \
	"$(grep delivered "$D3/flush2.out")"
expect_eq "flush: ...and says the worker has it" "1 job left to the worker that is delivering it (pid $DW)" \
	"$(grep 'left to' "$D3/flush2.out")"
beside "$D3" "$DW" "$D3/once.out" cv "$D3" run --once
expect_eq "flush: run --once beside the daemon exits 0" 0 "$BESIDE_RC"
expect_eq "flush: ...sends nothing" "0 transactions, 0 delivered, 0 deferred, 0 failed, 0 jobs done" \
	"$(grep transactions "$D3/once.out")"
expect_eq "flush: ...and says the daemon has the job" "1 job left to the worker that is delivering it (pid $DW)" \
	"$(grep 'left to' "$D3/once.out")"
check "flush: the daemon finishes the second job" wait_for 120 queue_empty "$D3"
check "flush: the daemon still runs" kill -0 "$DW"
stop "$DW"
stop "$S3"
expect_eq "flush: every member exactly twice (two posts), nobody else" "missing=0 extra=0 wrong=0" \
	"$(copies "$D3/members" 2 "$D3/dump")"

# ---- 4. two daemons: three posts shared, then the one delivering the
# fourth is killed with SIGKILL ----

D4=$T/kill
P4=$(free_port)
make_list "$D4" "$P4"
check "kill: slow sink listens" sink_start "$P4" "$D4/dump" -W .:1
S4=$SINK_PID
bg "$D4" "$D4/x.out" run
XW=$!
bg "$D4" "$D4/y.out" run
YW=$!
check "kill: 3 posts accepted" post "$D4" 1
post "$D4" 2
post "$D4" 3
check "kill: the two daemons deliver them" wait_for 180 queue_empty "$D4"
expect_eq "kill: every member got each of the 3 posts exactly once" "missing=0 extra=0 wrong=0" \
	"$(copies "$D4/members" 3 "$D4/dump")"
expect_eq "kill: 60 transactions for the 3 posts (none twice)" 60 "$(ntxns "$D4/dump")"
off=$(wc -l <"$D4/dump")
check "kill: post 4 accepted" post "$D4" 4
check "kill: a daemon is in the middle of the job" wait_for 60 at_least 6300 "$D4/dump"
K=$(holder "$D4")
if [ "$K" = "$XW" ]; then SURV=$YW; else SURV=$XW; fi
check "kill: the job is held by one of the two daemons ($K)" test "$K" = "$XW" -o "$K" = "$YW"
kill -9 "$K"
wait "$K" 2>/dev/null
check "kill: the holder is gone" sh -c "! kill -0 $K 2>/dev/null"
since "$D4/dump" "$off" >"$D4/dump.before"
got=$(nrcpts "$D4/dump.before")
check "kill: killed in the middle ($got of 2000 at the sink)" test "$got" -lt 2000
check "kill: the other daemon finishes the job" wait_for 120 queue_empty "$D4"
check "kill: the other daemon is still running" kill -0 "$SURV"
stop "$SURV"
stop "$S4"
since "$D4/dump" "$off" >"$D4/dump4"
check "kill: the log says the job was taken over at once from the dead worker" \
	took_over "$K" "its process is gone" 4
rep=$(dup_report "$D4/members" "$D4/dump4")
expect_eq "kill: every member has a copy, nobody else, none thrice" \
	"missing=0 extra=0 over2=0" "$(sed 's/ dups=.*//' <<<"$rep")"
check "kill: duplicates ($(field dups "$rep") in $(field txns "$rep") transaction(s)) within the killed worker's 2 in flight" \
	test "$(field txns "$rep")" -le 2 -a "$(field dups "$rep")" -le 200
expect_eq "kill: only recipients the killed worker had sent came twice" "" \
	"$(comm -23 <(rcpts "$D4/dump4" | sort | uniq -d) <(rcpts "$D4/dump.before" | sort -u))"
expect_eq "kill: no claim is left behind" 0 \
	"$(sql "$D4" "SELECT count(*) FROM jobs WHERE claim_owner IS NOT NULL")"
echo "# kill: killed at $got recipients; $rep"

# ---- 5. a worker stopped past its lease loses the job ----

D5=$T/lease
P5=$(free_port)
make_list "$D5" "$P5"
check "lease: slow sink listens" sink_start "$P5" "$D5/dump" -W .:1
S5=$SINK_PID
check "lease: post accepted" post "$D5" 1
bg "$D5" "$D5/a.out" run --once
A=$!
check "lease: the first pass is in the middle of the job" wait_for 60 at_least 300 "$D5/dump"
check "lease: ...and holds it" wait_for 10 has_holder "$D5"
# Stopped outside a commit (one holds the database for the other's wait):
# the claim is what stands in the way.
for try in 1 2 3 4 5; do
	kill -STOP "$A"
	rc=0
	cv "$D5" run --once >"$D5/b.out" 2>&1 || rc=$?
	[ "$rc" != 75 ] && break
	kill -CONT "$A"
	sleep 0.3
done
expect_eq "lease: a pass within the lease leaves the stopped worker's job to it" \
	"0 1 job left to the worker that is delivering it (pid $A)" \
	"$rc $(grep 'left to' "$D5/b.out")"
cp "$D5/dump" "$D5/dump.before"
rc=0
later "$D5" run --once >"$D5/c.out" 2>&1 || rc=$?
expect_eq "lease: 10 minutes on, a pass takes the job over and exits 0" 0 "$rc"
check "lease: the log says the claim ran out" took_over "$A" "its claim ran out" 1
expect_eq "lease: the job is done" 0 "$(jobs_left "$D5")"
kill -CONT "$A"
rca=0
wait "$A" || rca=$?
stop "$S5"
expect_eq "lease: the stopped worker, let go on, exits 0" 0 "$rca"
check "lease: ...and logs that it stopped sending the job" \
	grep -q "convene\[$A\]: .*job=1: another worker has taken the job over" "$CONVENE_LOG_FILE"
expect_eq "lease: ...having recorded nothing more of it (its counts are the taker's)" \
	"2000|0" "$(sql "$D5" "SELECT sent, (SELECT count(*) FROM job_rcpts) FROM jobs")"
rep=$(dup_report "$D5/members" "$D5/dump")
expect_eq "lease: every member has a copy, nobody else, none thrice" \
	"missing=0 extra=0 over2=0" "$(sed 's/ dups=.*//' <<<"$rep")"
check "lease: duplicates ($(field dups "$rep") in $(field txns "$rep") transaction(s)) within the stopped worker's 2 in flight" \
	test "$(field txns "$rep")" -le 2 -a "$(field dups "$rep")" -le 200
echo "# lease: $rep"

# ---- 6. a dead worker that cannot be looked at keeps its job until its
# lease ends ----

D6=$T/far
P6=$(free_port)
make_list "$D6" "$P6"
check "far: slow sink listens" sink_start "$P6" "$D6/dump" -W .:1
S6=$SINK_PID
check "far: post accepted" post "$D6" 1
bg "$D6" "$D6/a.out" run --once
A=$!
check "far: the first pass is in the middle of the job" wait_for 60 at_least 300 "$D6/dump"
check "far: ...and holds it" wait_for 10 has_holder "$D6"
kill -9 "$A"
wait "$A" 2>/dev/null
# As if it had run on another host (two hosts on one volume), where this
# one cannot tell whether it still runs.
sql "$D6" "UPDATE jobs SET claim_host = 'elsewhere.example' WHERE claim_owner IS NOT NULL"
cp "$D6/dump" "$D6/dump.before"
rc=0
cv "$D6" run --once >"$D6/b.out" 2>&1 || rc=$?
expect_eq "far: within the lease the job is left to it" \
	"0 1 job left to the worker that is delivering it (pid $A)" \
	"$rc $(grep 'left to' "$D6/b.out")"
check "far: queue list names it" grep -q "\[worker pid $A on elsewhere.example\]" \
	<(cv "$D6" queue list 2>/dev/null)
expect_eq "far: ...and nothing more was sent" "$(nrcpts "$D6/dump.before")" "$(nrcpts "$D6/dump")"
rc=0
later "$D6" run --once >"$D6/c.out" 2>&1 || rc=$?
stop "$S6"
expect_eq "far: past the lease a pass takes it over and exits 0" 0 "$rc"
check "far: the log says the claim ran out" took_over "$A" "its claim ran out" 1
expect_eq "far: the job is done" 0 "$(jobs_left "$D6")"
rep=$(dup_report "$D6/members" "$D6/dump")
expect_eq "far: every member has a copy, nobody else, none thrice" \
	"missing=0 extra=0 over2=0" "$(sed 's/ dups=.*//' <<<"$rep")"
check "far: duplicates ($(field dups "$rep") in $(field txns "$rep") transaction(s)) within the dead worker's 2 in flight" \
	test "$(field txns "$rep")" -le 2 -a "$(field dups "$rep")" -le 200
echo "# far: $rep"

finish
