#!/bin/bash
# t160-relays - several relays (outbound.relays): a job's transactions are
# spread by weight; a relay that refuses connections, times out or dies in
# the middle of a job is skipped and its share goes to the others, with
# every member getting the post once (twice only within a transaction that
# was interrupted); after relay_skip a skipped relay is used again; with
# every relay down the job waits for its retry as with one relay.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sinks.sh"
set -u

need_sink
command -v ss >/dev/null || { echo "ss (iproute2) is needed to find free ports"; exit 1; }
chmod 0755 "$T"
POST=$FIXTURES/post-alice.eml

# relay_list DIR RELAYS MEMBERS_FILE [EXTRA OUTBOUND SETTINGS]: a config
# whose outbound.relays is RELAYS ("PORT:WEIGHT ..."), and list "makers"
# (open policy) with the members of MEMBERS_FILE.
relay_list() {
	local dir=$1 relays="" r
	mkdir -p "$dir"
	chmod 0777 "$dir"
	for r in $2; do
		relays="$relays${relays:+, }{ host = \"127.0.0.1\"; port = ${r%:*}; weight = ${r#*:}; }"
	done
	cat >"$dir/convene.conf" <<EOC
domain = "lists.example.org";
database = "convene.db";
templates = "$top_srcdir/templates";
outbound = { transport = "smtp"; relays = ( $relays );
             max_rcpt_per_txn = 100; connections = 4; timeout = "${TIMEOUT:-10s}";
             retry_schedule = [ "10m", "30m" ]; ${4:-} };
lists = (
  { name = "makers"; description = "Makers of Example City";
    policy = "open"; leaders = [ "alice@example.org" ]; }
);
EOC
	"$CONVENE" -c "$dir/convene.conf" members makers import "$3" >"$dir/import.out" 2>&1
}
cvd() {
	local dir=$1
	shift
	"$CONVENE" -c "$dir/convene.conf" "$@"
}
post_to() {
	local rc=0
	sed "s/workshop-1@/workshop-1${2:-}@/" "$POST" >"$1/post${2:-}.eml"
	cvd "$1" receive --recipient makers@lists.example.org \
		<"$1/post${2:-}.eml" >>"$1/receive.out" 2>&1 || rc=$?
	echo "$rc"
}
jobs_left() { sqlite3 "$1/convene.db" "SELECT count(*) FROM jobs WHERE state <> 'done'"; }
# pct PART WHOLE: PART as a whole percentage of WHOLE.
pct() { echo $(( ($1 * 100 + $2 / 2) / $2 )); }

# ---- 1. weights 1 and 3: about 25% and 75% of 10,000 recipients ----

D1=$T/weights
mkdir -p "$D1"
members "$D1/members" 10000 m
PA=$(free_port)
check "sink A (weight 1) listens" sink_start "$PA" "$D1/a"
A_PID=$SINK_PID
PB=$(free_port)
check "sink B (weight 3) listens" sink_start "$PB" "$D1/b"
B_PID=$SINK_PID
relay_list "$D1" "$PA:1 $PB:3" "$D1/members"
expect_eq "import: 10000 members" "10000 added, 0 already members, 0 bad lines skipped" "$(cat "$D1/import.out")"
check "convene check accepts outbound.relays" cvd "$D1" check
expect_eq "post accepted" 0 "$(post_to "$D1")"
rc=0
cvd "$D1" run --once >"$D1/run.out" 2>&1 || rc=$?
expect_eq "run --once exits 0" 0 "$rc"
stop "$A_PID"
stop "$B_PID"
a=$(nrcpts "$D1/a")
b=$(nrcpts "$D1/b")
echo "# weights 1:3: A got $a recipients in $(ntxns "$D1/a") transactions, B got $b in $(ntxns "$D1/b")"
expect_eq "every member exactly once over both relays, nobody else" "missing=0 extra=0 wrong=0" \
	"$(copies "$D1/members" 1 "$D1/a" "$D1/b")"
check "A (weight 1) got about 25% ($(pct "$a" 10000)%)" test "$a" -ge 2000 -a "$a" -le 3000
check "B (weight 3) got about 75% ($(pct "$b" 10000)%)" test "$b" -ge 7000 -a "$b" -le 8000
expect_eq "the job is done" 0 "$(jobs_left "$D1")"
expect_eq "nothing was skipped" "" "$(grep 'skipped for' "$CONVENE_LOG_FILE")"

# ---- 2. B dies in the middle of the job ----

# B holds its reply to each "." for a second (-W .:1) after it has dumped
# the message, so that the kill lands while transactions are in flight to
# it: those may reach A as well. Nobody else may get two copies.
D2=$T/kill
mkdir -p "$D2"
cp "$D1/members" "$D2/members"
PA=$(free_port)
check "kill: sink A listens" sink_start "$PA" "$D2/a"
A_PID=$SINK_PID
PB=$(free_port)
check "kill: slow sink B listens" sink_start "$PB" "$D2/b" -W .:1
B_PID=$SINK_PID
relay_list "$D2" "$PA:1 $PB:3" "$D2/members" 'relay_skip = "10m";'
post_to "$D2" >/dev/null
: >"$CONVENE_LOG_FILE"
"$CONVENE" -c "$D2/convene.conf" run --once >"$D2/run.out" 2>&1 &
wpid=$!
got=0
for i in $(seq 1 300); do
	got=$(nrcpts "$D2/b")
	[ "$got" -ge 1000 ] && break
	sleep 0.05
done
kill -9 "$B_PID"
wait "$B_PID" 2>/dev/null
check "kill: B died in the middle of the job ($got recipients dumped)" \
	test "$got" -ge 1000 -a "$got" -lt 7500
rc=0
wait "$wpid" || rc=$?
expect_eq "kill: run --once exits 0" 0 "$rc"
stop "$A_PID"
expect_eq "kill: the job is done in the same run (nothing waits for a retry)" 0 "$(jobs_left "$D2")"
# B's dump first: the first copy of a duplicate is then B's.
rep=$(dup_report "$D2/members" "$D2/b" "$D2/a")
echo "# kill: B had $(nrcpts "$D2/b") recipients, A $(nrcpts "$D2/a"); $rep"
expect_eq "kill: every member has a copy, nobody else, none thrice" \
	"missing=0 extra=0 over2=0" "$(sed 's/ dups=.*//' <<<"$rep")"
check "kill: duplicates ($(field dups "$rep")) only within the transactions in flight to B ($(field txns "$rep") of at most 4)" \
	test "$(field txns "$rep")" -le 4 -a "$(field dups "$rep")" -le 400
# Every duplicate is in a transaction B dumped but never acknowledged: each
# such address is in B's dump and in A's.
expect_eq "kill: every duplicate went to B, then to A" "" \
	"$(comm -23 <(rcpts "$D2/b" "$D2/a" | sort | uniq -d) <(comm -12 <(rcpts "$D2/b" | sort -u) <(rcpts "$D2/a" | sort -u)))"
check "kill: the log says B is skipped" grep -q "relay 127.0.0.1:$PB: skipped for" "$CONVENE_LOG_FILE"
expect_eq "kill: ...once" 1 "$(grep -c "relay 127.0.0.1:$PB: skipped for" "$CONVENE_LOG_FILE")"

# ---- 3. a relay that refuses connections ----

D3=$T/refused
mkdir -p "$D3"
members "$D3/members" 1000 r
PA=$(free_port)
check "refused: sink A listens" sink_start "$PA" "$D3/a"
A_PID=$SINK_PID
PDEAD=$(free_port)
relay_list "$D3" "$PDEAD:3 $PA:1" "$D3/members"
post_to "$D3" >/dev/null
: >"$CONVENE_LOG_FILE"
rc=0
cvd "$D3" run --once >"$D3/run.out" 2>&1 || rc=$?
stop "$A_PID"
expect_eq "refused: run --once exits 0" 0 "$rc"
expect_eq "refused: every member exactly once, all through A" "missing=0 extra=0 wrong=0" \
	"$(copies "$D3/members" 1 "$D3/a")"
expect_eq "refused: the job is done" 0 "$(jobs_left "$D3")"
check "refused: the log names the refusal" \
	grep -q "relay 127.0.0.1:$PDEAD: skipped for [0-9]*s: smtp 127.0.0.1:$PDEAD: cannot connect: Connection refused" "$CONVENE_LOG_FILE"

# ---- 4. a relay that times out (accepts the connection, never greets) ----

D4=$T/timeout
mkdir -p "$D4"
members "$D4/members" 1000 t
PA=$(free_port)
check "timeout: sink A listens" sink_start "$PA" "$D4/a"
A_PID=$SINK_PID
PMUTE=$(free_port)
# The kernel completes the handshakes (the backlog); nobody ever answers.
perl -MIO::Socket::INET -e '
	my $s = IO::Socket::INET->new(Listen => 16, LocalAddr => "127.0.0.1:$ARGV[0]",
		ReuseAddr => 1) or die "listen: $!";
	sleep 120;' "$PMUTE" &
MUTE_PID=$!
CLEANUP_PIDS="$CLEANUP_PIDS $MUTE_PID"
check "timeout: the mute relay listens" listening "$MUTE_PID" "$PMUTE"
TIMEOUT=2s relay_list "$D4" "$PMUTE:1 $PA:1" "$D4/members"
post_to "$D4" >/dev/null
: >"$CONVENE_LOG_FILE"
rc=0
cvd "$D4" run --once >"$D4/run.out" 2>&1 || rc=$?
stop "$A_PID"
stop "$MUTE_PID"
expect_eq "timeout: run --once exits 0" 0 "$rc"
expect_eq "timeout: every member exactly once, all through A" "missing=0 extra=0 wrong=0" \
	"$(copies "$D4/members" 1 "$D4/a")"
expect_eq "timeout: the job is done" 0 "$(jobs_left "$D4")"
check "timeout: the log says the mute relay is skipped" \
	grep -q "relay 127.0.0.1:$PMUTE: skipped for" "$CONVENE_LOG_FILE"

# ---- 5. every relay down: the job waits for its retry ----

D5=$T/alldown
mkdir -p "$D5"
members "$D5/members" 300 d
P1=$(free_port)
P2=$(free_port)
relay_list "$D5" "$P1:1 $P2:1" "$D5/members"
post_to "$D5" >/dev/null
rc=0
cvd "$D5" run --once >"$D5/run.out" 2>&1 || rc=$?
expect_eq "all down: run --once exits 0" 0 "$rc"
expect_eq "all down: the job waits for a retry time" 1 \
	"$(sqlite3 "$D5/convene.db" "SELECT count(*) FROM jobs WHERE state = 'queued' AND attempts = 1 AND next_attempt > strftime('%s','now')")"
check "all down: the reason is logged" grep -q "no relay to take it" "$CONVENE_LOG_FILE"
check "both relays listen now" sink_start "$P1" "$D5/1"
S1=$SINK_PID
check "...the second too" sink_start "$P2" "$D5/2"
S2=$SINK_PID
rc=0
CONVENE_NOW=$(($(date +%s) + 3600)) cvd "$D5" run --once >"$D5/run2.out" 2>&1 || rc=$?
stop "$S1"
stop "$S2"
expect_eq "after the backoff: every member exactly once" "missing=0 extra=0 wrong=0" \
	"$(copies "$D5/members" 1 "$D5/1" "$D5/2")"
check "after the backoff: both relays took a share ($(nrcpts "$D5/1") and $(nrcpts "$D5/2"))" \
	test "$(nrcpts "$D5/1")" -gt 0 -a "$(nrcpts "$D5/2")" -gt 0

# ---- 6. the worker uses a skipped relay again after relay_skip ----

D6=$T/back
mkdir -p "$D6"
members "$D6/members" 400 b
PA=$(free_port)
check "back: sink A listens" sink_start "$PA" "$D6/a"
A_PID=$SINK_PID
PB=$(free_port)
relay_list "$D6" "$PA:1 $PB:1" "$D6/members" 'relay_skip = "2s";'
# The daemon does not run as root: as root, the test runs it (and the
# posts, which share its database) as nobody, with its own copy of the
# binary and templates (the build folder may be closed to others).
as_user=()
CV6=$CONVENE
if [ "$(id -u)" = 0 ]; then
	as_user=(runuser -u nobody --)
	cp "$CONVENE" "$D6/convene"
	cp -r "$top_srcdir/templates" "$D6/templates"
	sed -i "s|^templates = .*|templates = \"$D6/templates\";|" "$D6/convene.conf"
	CV6=$D6/convene
	chown -R nobody "$D6"
	chmod 0666 "$CONVENE_LOG_FILE"
fi
: >"$CONVENE_LOG_FILE"
"${as_user[@]}" "$CV6" -c "$D6/convene.conf" run >"$D6/run.out" 2>&1 &
WPID=$!
CLEANUP_PIDS="$CLEANUP_PIDS $WPID"
post6() {
	sed "s/workshop-1@/workshop-1$1@/" "$POST" >"$D6/post$1.eml"
	"${as_user[@]}" "$CV6" -c "$D6/convene.conf" receive \
		--recipient makers@lists.example.org <"$D6/post$1.eml" >>"$D6/receive.out" 2>&1
}
check "back: first post accepted" post6 -1
# wait_rcpts N DUMP...: until the dumps hold N recipients (up to 20 s).
wait_rcpts() {
	local n=$1 i
	shift
	for i in $(seq 1 200); do
		[ "$(nrcpts "$@")" -ge "$n" ] && return 0
		sleep 0.1
	done
	return 1
}
check "back: the first post reached everyone through A while B is down" wait_rcpts 400 "$D6/a"
check "back: B was skipped" grep -q "relay 127.0.0.1:$PB: skipped for" "$CONVENE_LOG_FILE"
check "back: sink B listens now" sink_start "$PB" "$D6/b"
B_PID=$SINK_PID
sleep 3
check "back: second post accepted" post6 -2
check "back: the second post reached everyone" wait_rcpts 800 "$D6/a" "$D6/b"
stop "$WPID"
stop "$A_PID"
stop "$B_PID"
check "back: B took its share of the second post ($(nrcpts "$D6/b") recipients)" \
	test "$(nrcpts "$D6/b")" -ge 100
check "back: the log says B is back" grep -q "relay 127.0.0.1:$PB: back in use" "$CONVENE_LOG_FILE"
expect_eq "back: every member twice in all (two posts), nobody else" "missing=0 extra=0 wrong=0" \
	"$(copies "$D6/members" 2 "$D6/a" "$D6/b")"

finish
