#!/bin/sh
# A database locked past the busy timeout makes receive exit 75 and commit
# nothing; the same message piped again later is delivered once.
. "$(dirname "$0")/lib.sh"

LOCKDB=$top_builddir/tests/helpers/lockdb
BUSY_TIMEOUT_MS=300 write_config
add_members alice@example.org bob@example.net carol@example.com

"$LOCKDB" "$T/convene.db" 3 "$T/locked" &
CLEANUP_PIDS=$!
i=0
while [ ! -f "$T/locked" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
check "lock held" test -f "$T/locked"
expect_eq "locked database: exit 75" 75 "$(post "$FIXTURES/post-alice.eml")"
check "transient failure logged" grep -q "left with the MTA to retry" "$CONVENE_LOG_FILE"
wait "$CLEANUP_PIDS"
CLEANUP_PIDS=
expect_eq "nothing was committed" "0 0" "$(sql 'SELECT count(*) FROM archive') $(sql 'SELECT count(*) FROM jobs')"

expect_eq "the MTA retries: exit 0" 0 "$(post "$FIXTURES/post-alice.eml")"
expect_eq "and once more (lost exit status): exit 0" 0 "$(post "$FIXTURES/post-alice.eml")"
cv run --once >/dev/null
expect_eq "each member got it exactly once" \
	"alice@example.org bob@example.net carol@example.com" \
	"$(outbox_rcpts | tr '\n' ' ' | sed 's/ $//')"

# The worker meets a locked database: it stops, exits 75, loses nothing.
sed 's/workshop-1@/workshop-3@/' "$FIXTURES/post-alice.eml" >"$T/p3.eml"
post "$T/p3.eml" >/dev/null
rm -f "$T/locked"
"$LOCKDB" "$T/convene.db" 2 "$T/locked" &
CLEANUP_PIDS=$!
i=0
while [ ! -f "$T/locked" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
rc=0; cv run --once >/dev/null 2>&1 || rc=$?
expect_eq "worker on a locked database: exit 75" 75 "$rc"
wait "$CLEANUP_PIDS"
CLEANUP_PIDS=
rm -f "$T"/outbox/new/*
cv run --once >/dev/null
expect_eq "after the lock: delivered once" 3 "$(outbox_rcpts | wc -l | tr -d ' ')"

# An outbox that cannot be written: the job waits, nothing is lost.
sed 's/workshop-1@/workshop-4@/' "$FIXTURES/post-alice.eml" >"$T/p4.eml"
post "$T/p4.eml" >/dev/null
rm -rf "$T/outbox"
: >"$T/outbox"
cv run --once >/dev/null 2>&1
expect_eq "job deferred" 1 "$(sql "SELECT count(*) FROM jobs WHERE state = 'queued' AND attempts = 1")"
rm -f "$T/outbox"
CONVENE_NOW=$(( $(date +%s) + 3600 )) "$CONVENE" -c "$T/convene.conf" run --once >/dev/null
expect_eq "delivered after the backoff" 3 "$(outbox_rcpts | wc -l | tr -d ' ')"

# A lock shorter than the busy timeout: receive waits for it (naps from
# 50 us, doubling to 10 ms) and takes the message once it is free.
BUSY_TIMEOUT_MS=10000 write_config
rm -f "$T/locked"
"$LOCKDB" "$T/convene.db" 1 "$T/locked" &
CLEANUP_PIDS=$!
i=0
while [ ! -f "$T/locked" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
check "lock held again" test -f "$T/locked"
sed 's/workshop-1@/workshop-wait@/' "$FIXTURES/post-alice.eml" >"$T/wait.eml"
expect_eq "a short lock: receive waits, exit 0" 0 "$(post "$T/wait.eml")"
wait "$CLEANUP_PIDS"
CLEANUP_PIDS=
expect_eq "...and the post is archived" 1 "$(sql "SELECT count(*) FROM archive WHERE message_id = 'workshop-wait@example.org'")"
finish
