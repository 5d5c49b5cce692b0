#!/bin/sh
# The smaller things probing found: no recipient at all gives 75 (the MTA
# keeps the mail); a config that is a FIFO (or includes one) gives 75
# instead of blocking; what killed maildir deliveries left in outbox/tmp is
# removed; `run --once` exits 75 when a locked database kept it from its
# work.
. "$(dirname "$0")/lib.sh"

LOCKDB=$top_builddir/tests/helpers/lockdb
BUSY_TIMEOUT_MS=300 write_config
add_members bob@example.net

# recv CONFIG [RCPT] [MESSAGE]: receive with a bound on its time (124: it
# blocked)
recv() {
	local rc=0
	timeout 20 "$CONVENE" -c "$1" receive ${2:+--recipient "$2"} \
		<"${3:-$FIXTURES/post-alice.eml}" >>"$T/receive.out" 2>&1 || rc=$?
	echo "$rc"
}
grep -v '^Delivered-To:\|^X-Original-To:' "$FIXTURES/post-alice.eml" >"$T/bare.eml"

expect_eq "no --recipient and no Delivered-To: 75" 75 "$(recv "$T/convene.conf" "" "$T/bare.eml")"
check "...logged" grep -q "no recipient: give --recipient" "$CONVENE_LOG_FILE"
expect_eq "...nothing committed" 0 "$(sql 'SELECT count(*) FROM messages')"

mkfifo "$T/fifo.conf"
expect_eq "a config that is a FIFO: 75 at once" 75 \
	"$(recv "$T/fifo.conf" makers@lists.example.org)"
sed 's|^database = .*|@include "fifo.conf"\n&|' "$T/convene.conf" >"$T/inc.conf"
expect_eq "a config that includes a FIFO: 75 at once" 75 \
	"$(recv "$T/inc.conf" makers@lists.example.org)"
expect_eq "the config itself still works" 0 \
	"$(recv "$T/convene.conf" makers@lists.example.org)"

# What deliveries killed before their rename left in outbox/tmp: a file of
# a process that is gone, and one older than 36 hours, are removed; the
# file of a live delivery stays.
mkdir -p "$T/outbox/tmp" "$T/outbox/new" "$T/outbox/cur"
host=$(hostname | sed 's|/|\\057|g; s|:|\\072|g')
sh -c 'exit 0' &
dead=$!
wait $dead
: >"$T/outbox/tmp/1700000000.${dead}_1.0123456789abcdef.$host"
: >"$T/outbox/tmp/1700000000.$$_2.0123456789abcdef.$host"
: >"$T/outbox/tmp/1700000000.$$_3.0123456789abcdef.$host"
touch -d '40 hours ago' "$T/outbox/tmp/1700000000.$$_3.0123456789abcdef.$host"
cv run --once >/dev/null
expect_eq "the post delivered" 1 "$(outbox_rcpts | grep -c bob@example.net)"
check "a killed delivery's file is gone" test ! -e "$T/outbox/tmp/1700000000.${dead}_1.0123456789abcdef.$host"
check "a file older than 36 hours is gone" test ! -e "$T/outbox/tmp/1700000000.$$_3.0123456789abcdef.$host"
check "a live writer's file stays" test -e "$T/outbox/tmp/1700000000.$$_2.0123456789abcdef.$host"

# run --once while the database is locked: nothing is due, but the timed
# work could not be done.
"$LOCKDB" "$T/convene.db" 3 "$T/locked" &
CLEANUP_PIDS=$!
i=0
while [ ! -f "$T/locked" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
check "lock held" test -f "$T/locked"
rc=0
cv run --once >/dev/null 2>&1 || rc=$?
expect_eq "run --once on a locked database: 75" 75 "$rc"
wait "$CLEANUP_PIDS"
CLEANUP_PIDS=
rc=0
cv run --once >/dev/null 2>&1 || rc=$?
expect_eq "...and 0 once it is free" 0 "$rc"
finish
