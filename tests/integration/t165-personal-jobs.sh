#!/bin/bash
# t165-personal-jobs - delivery jobs with per-recipient content (meeting
# invitations name each member as the ATTENDEE): one transaction per
# recipient, each copy carrying its own recipient where the job's marker
# was, to the job's audience (every member who gets mail) and its explicit
# recipients; a kill -9 in the middle resumes like any job (nobody missed,
# duplicates only from the transactions in flight); memory does not grow
# with the number of recipients.
#
# The peer is Postfix's smtp-sink with -d: one file per transaction with
# its envelope ("X-Mail-Args", "X-Rcpt-Args") and the message, so that the
# content each recipient got can be read. Every process started here is
# stopped by its PID.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sinks.sh"
set -u

need_sink
command -v ss >/dev/null || { echo "ss (iproute2) is needed to find free ports"; exit 1; }
QUEUEJOB=$top_builddir/tests/helpers/queuejob
[ -x "$QUEUEJOB" ] || { echo "tests/helpers/queuejob is not built"; exit 1; }
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "/usr/bin/time is needed (package time)"; exit 1; }
chmod 0755 "$T"
MARK="rcpt.5f2b0c4e9a7d4e21b8a3c6d1e0f97a44@convene.invalid"

# make_list DIR PORT CONNECTIONS MEMBERS-FILE
make_list() {
	local dir=$1
	mkdir -p "$dir"
	chmod 0777 "$dir"
	cat >"$dir/convene.conf" <<EOC
domain = "lists.example.org";
database = "convene.db";
templates = "$top_srcdir/templates";
outbound = { transport = "smtp"; host = "127.0.0.1"; port = $2;
             max_rcpt_per_txn = 100; connections = $3; timeout = "10s";
             retry_schedule = [ "10m" ]; };
lists = (
  { name = "makers"; policy = "open"; leaders = [ "alice@example.org" ]; }
);
EOC
	"$CONVENE" -c "$dir/convene.conf" members makers import "$4" \
		>"$dir/import.out" 2>&1
}
cvd() {
	local dir=$1
	shift
	"$CONVENE" -c "$dir/convene.conf" "$@"
}

# The message: the marker in To: and in two body lines (one of them a
# folded iCalendar line, as an invitation has it).
write_message() {
	{
		printf 'From: makers-rsvp+1@lists.example.org\n'
		printf 'To: %s\n' "$MARK"
		printf 'Subject: yours\nMessage-ID: <personal-1@lists.example.org>\n'
		printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n'
		printf 'This copy is for %s.\n' "$MARK"
		printf 'ATTENDEE;ROLE=REQ-PARTICIPANT;RSVP=TRUE:\n mailto:%s\n' "$MARK"
		head -c "${1:-0}" /dev/zero | tr '\0' 'x' | fold -w 76
		printf '\n'
	} >"$2"
}

# check_copies DIR: for every dumped transaction, "rcpt|to|line" where
# line is the recipient named in the ATTENDEE line.
copies_of() {
	local f
	for f in $(find "$1" -type f | sort); do
		awk '
			/^X-Rcpt-Args: / { r = $2; gsub(/[<>]/, "", r); n++ }
			/^To: / { to = $2 }
			/^ mailto:/ { sub(/^ mailto:/, ""); sub(/\r$/, ""); att = $0 }
			END { sub(/\r$/, "", to); print r "|" to "|" att "|" n }' "$f"
	done
}

# ---- 1. each recipient its own copy; the audience; a kill -9 mid-job ----

D=$T/crash
mkdir -p "$D"
seq -f "m%03g@example.org" 1 60 >"$D/members"
P=$(free_port)
make_list "$D" "$P" 4 "$D/members"
expect_eq "import: 60 members" "60 added, 0 already members, 0 bad lines skipped" "$(cat "$D/import.out")"
# Members who get no mail: one in nomail, one disabled. Digest members get
# invitations (audience "mail").
cvd "$D" members makers set m002@example.org nomail >/dev/null
cvd "$D" members makers set m003@example.org digest >/dev/null
sqlite3 "$D/convene.db" "UPDATE members SET status = 'disabled' WHERE address = 'm004@example.org'"
grep -vx -e m002@example.org -e m004@example.org "$D/members" >"$D/expected"
echo "guest@example.net" >>"$D/expected"
write_message 0 "$D/msg"
job=$("$QUEUEJOB" "$D/convene.db" makers mail "$MARK" "$D/msg" guest@example.net)
expect_eq "the job is queued" 1 "$job"

# The sink holds its answer to each "." for a second after dumping the
# message, so the kill lands with transactions in flight.
check "slow sink listens" file_sink_start "$P" "$D/dump" -W .:1
"$CONVENE" -c "$D/convene.conf" run --once >"$D/run1.out" 2>&1 &
wpid=$!
got=0
for i in $(seq 1 200); do
	got=$(find "$D/dump" -type f | wc -l)
	[ "$got" -ge 8 ] && break
	sleep 0.05
done
kill -9 "$wpid"
wait "$wpid" 2>/dev/null
stop "$SINK_PID"
got=$(find "$D/dump" -type f | wc -l)
check "killed in the middle ($got of 59 transactions at the sink)" test "$got" -ge 8 -a "$got" -lt 59
before=$(copies_of "$D/dump" | cut -d'|' -f1 | sort)
check "fast sink listens" file_sink_start "$P" "$D/dump"
rc=0
cvd "$D" run --once >"$D/run2.out" 2>&1 || rc=$?
stop "$SINK_PID"
expect_eq "the restarted run exits 0" 0 "$rc"
expect_eq "the job is done" 0 "$(sqlite3 "$D/convene.db" "SELECT count(*) FROM jobs WHERE state <> 'done'")"
copies_of "$D/dump" >"$D/copies"
expect_eq "one recipient a transaction" "" "$(awk -F'|' '$4 != 1' "$D/copies")"
expect_eq "each copy names its own recipient in To: and the body" "" \
	"$(awk -F'|' '$1 != $2 || $1 != $3' "$D/copies")"
expect_eq "no marker left in any copy" "" "$(grep -rl "$MARK" "$D/dump")"
expect_eq "every member who gets mail and the explicit recipient: a copy, nobody else" "" \
	"$(comm -3 <(sort -u "$D/expected") <(cut -d'|' -f1 "$D/copies" | sort -u))"
dups=$(cut -d'|' -f1 "$D/copies" | sort | uniq -d)
ndups=$(printf '%s' "$dups" | grep -c . || true)
check "duplicates ($ndups) only from the 4 transactions in flight" test "$ndups" -le 4
expect_eq "nobody thrice" "" "$(cut -d'|' -f1 "$D/copies" | sort | uniq -c | awk '$1 > 2')"
expect_eq "every duplicate was sent before the kill" "" \
	"$(comm -23 <(printf '%s\n' "$dups" | grep . | sort) <(printf '%s\n' "$before"))"
echo "# killed at $got transactions; $ndups duplicate(s)"

# ---- 2. memory stays flat: 10 times the recipients, the same peak ----

# rss MEMBERS: the worker's peak resident set (kB) delivering one
# per-recipient job of a 64 kB message to MEMBERS members.
rss() {
	local n=$1 dir=$T/rss$1 port out user=()
	mkdir -p "$dir"
	seq -f "r%05g@example.org" 1 "$n" >"$dir/members"
	port=$(free_port)
	make_list "$dir" "$port" 4 "$dir/members"
	write_message 65536 "$dir/msg"
	"$QUEUEJOB" "$dir/convene.db" makers mail "$MARK" "$dir/msg" >/dev/null
	[ "$(id -u)" = 0 ] && user=(-u nobody)
	"$SINK" "${user[@]}" -c "127.0.0.1:$port" 100 >/dev/null 2>>"$T/sink.err" &
	SINK_PID=$!
	CLEANUP_PIDS="$CLEANUP_PIDS $SINK_PID"
	listening "$SINK_PID" "$port" || return 1
	# (Under AddressSanitizer freed memory waits in a quarantine of
	# 256 MB unless told otherwise, and the leak checker keeps memory of
	# its own that grows with the allocations: leaks are the rest of the
	# suite's to find.)
	out=$(ASAN_OPTIONS="${ASAN_OPTIONS:-}:quarantine_size_mb=1:detect_leaks=0" \
		"$TIME" -f 'maxrss=%M' "$CONVENE" -c "$dir/convene.conf" run --once 2>&1)
	stop "$SINK_PID"
	grep -q "$n delivered" <<<"$out" || { echo "rss $n: $out" >&2; return 1; }
	sed -n 's/^maxrss=//p' <<<"$out"
}
small=$(rss 200)
big=$(rss 2000)
check "200 and 2000 recipients delivered (peak ${small:-?} kB and ${big:-?} kB)" test -n "$small" -a -n "$big"
# A copy per recipient kept would add 2000 x 64 kB = 128 MB; flat means
# the same peak give or take the allocator (8 MB). (This caught finished
# copies kept in the FIFO behind a slow transaction, cf7de96.)
check "peak memory does not grow with the recipients (${small:-?} kB -> ${big:-?} kB)" \
	test "${big:-999999}" -le $((${small:-0} + 8192))

finish
