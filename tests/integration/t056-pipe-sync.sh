#!/bin/bash
# t056-pipe-sync - what one `convene receive` costs the disk: one sync (the
# commit's), no checkpoint and nothing written to the database file itself
# (the WAL holds the commit; the worker checkpoints), the same WAL file from
# run to run (no new file, no folder sync); and with no worker running the
# WAL still does not grow without bound (receive tidies it past 512 frames).
. "$(dirname "$0")/lib.sh"

command -v strace >/dev/null || { echo "strace is needed (scripts/install-deps.sh)"; exit 1; }
POLICY=open write_config
add_members alice@example.org bob@example.net
n=0
one() {
	n=$((n + 1))
	printf 'From: Alice <alice@example.org>\nTo: makers@lists.example.org\nSubject: sync %d\nMessage-ID: <sync-%d.%d@example.org>\n\nHello %d.\n' \
		"$n" "$n" "$$" "$n" >"$T/m.eml"
	"$@" "$CONVENE" -c "$T/convene.conf" receive --recipient makers@lists.example.org <"$T/m.eml"
}
one >/dev/null 2>&1
sum() { md5sum "$T/convene.db" | cut -d' ' -f1; }
before=$(sum)
inode=$(stat -c %i "$T/convene.db-wal")
for i in 1 2 3; do
	one strace -f -qq -e trace=fsync,fdatasync,unlink,openat -o "$T/strace.$i" || echo "receive $i failed"
done
for i in 1 2 3; do
	expect_eq "receive $i: one sync" 1 "$(grep -c 'sync(' "$T/strace.$i")"
	expect_eq "receive $i: no file removed (the WAL stays)" 0 "$(grep -c 'unlink' "$T/strace.$i")"
	expect_eq "receive $i: no folder opened to sync it" 0 "$(grep -c 'O_DIRECTORY' "$T/strace.$i")"
done
# (Before the sqlite3 shell looks: it checkpoints and removes the WAL when
# it closes.)
expect_eq "the database file is untouched: the commits are in the WAL" "$before" "$(sum)"
expect_eq "the WAL is the same file from run to run" "$inode" "$(stat -c %i "$T/convene.db-wal")"
expect_eq "three posts archived" 4 "$(sql 'SELECT count(*) FROM archive')"

# No worker: 60 posts (some 25 frames each) still leave a WAL of a bounded
# size, each restart of it a small one (it is not read whole by every
# receive, nor checkpointed by each).
before=$(sum)
for i in $(seq 1 60); do one >/dev/null 2>&1 || echo "receive failed"; done
size=$(stat -c %s "$T/convene.db-wal")
check "the WAL stays small without a worker ($size bytes, under 4 MB)" test "$size" -lt 4194304
check "...as some of it was checkpointed into the database file" test "$(sum)" != "$before"
expect_eq "64 posts archived" 64 "$(sql 'SELECT count(*) FROM archive')"

# The worker checkpoints what receive left.
before=$(sum)
one >/dev/null 2>&1
expect_eq "a receive: the database file untouched" "$before" "$(sum)"
cv run --once >/dev/null
check "run --once: the database file takes in the WAL" test "$(sum)" != "$before"
expect_eq "...every post still there" 65 "$(sql 'SELECT count(*) FROM archive')"
finish
