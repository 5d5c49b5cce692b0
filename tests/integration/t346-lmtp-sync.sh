#!/bin/bash
# t346-lmtp-sync - the LMTP listener answers 250 only after its batch's sync:
# on a disk whose syncs of the WAL hang (tests/helpers/faults.so sleeps a
# minute in each), a post is committed (other connections see it) and gets
# no 250; kill -9 of the listener then, and the client has none; after a
# restart, the MTA's retry is dropped as the duplicate it is, and the post
# is stored once.
. "$(dirname "$0")/lib.sh"

FAULTS=$top_builddir/tests/helpers/faults.so
[ -f "$FAULTS" ] || { echo "# $FAULTS not built"; exit 1; }
command -v python3 >/dev/null || { echo "python3 is needed (scripts/install-deps.sh)"; exit 1; }
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0"
CLIENT=(python3 "$top_srcdir/tests/helpers/lmtpclient.py")
SOCK=$T/lmtp.sock
chmod 0755 "$T"

POLICY=open write_config "" 'lmtp = { listen = "unix:lmtp.sock"; };'
add_members alice@example.org bob@example.net
LUSER=()
if [ "$(id -u)" = 0 ]; then
	LUSER=(--user nobody)
	chown -R nobody "$T"
fi
CLEANUP_PIDS=
# start N [ENV...]: the listener (with ENV), up once "listening on" was
# logged N times.
start() {
	local n=$1 i
	shift
	env "$@" "$CONVENE" -c "$T/convene.conf" lmtp "${LUSER[@]}" >>"$T/lmtp.out" 2>&1 &
	LPID=$!
	CLEANUP_PIDS="$CLEANUP_PIDS $LPID"
	for i in $(seq 1 200); do
		[ "$(grep -c 'listening on' "$T/lmtp.out" 2>/dev/null)" -ge "$n" ] && return 0
		sleep 0.05
	done
	return 1
}
post() { # post N: a post with Message-ID <syncN@example.net>
	printf 'From: <bob@example.net>\nTo: <makers@lists.example.org>\nSubject: sync %s\nMessage-Id: <sync%s@example.net>\n\nhello\n' "$1" "$1" >"$T/p$1.eml"
	echo "$T/p$1.eml"
}
stored() { sql "SELECT count(*) FROM archive WHERE message_id = '$1'" 2>/dev/null || echo 0; }

# A first post on a normal disk, then kill -9: the WAL keeps its frames, so
# that the next listener's first commit appends to it (starting the file
# afresh would sync its header inside the commit).
check "the listener is up" start 1
"${CLIENT[@]}" "unix:$SOCK" send --rcpt makers@lists.example.org "$(post 1)" >"$T/c1.out"
check "a post on a normal disk gets its 250" grep -q '^DOT <makers@lists.example.org> 250 ' "$T/c1.out"
kill -9 "$LPID"
wait "$LPID" 2>/dev/null

check "a listener whose syncs of the WAL hang is up" start 2 \
	LD_PRELOAD="$FAULTS" FAULT_CALL=fsync FAULT_DELAY_US=60000000 FAULT_PATH="$T/convene.db-wal"
"${CLIENT[@]}" "unix:$SOCK" send --rcpt makers@lists.example.org "$(post 2)" >"$T/c2.out" 2>&1 &
CPID=$!
CLEANUP_PIDS="$CLEANUP_PIDS $CPID"
for i in $(seq 1 600); do
	[ "$(stored sync2@example.net)" = 1 ] && break
	sleep 0.05
done
expect_eq "the post is committed: another connection sees it" 1 "$(stored sync2@example.net)"
check "...and its sender still waits for its answer" kill -0 "$CPID"
kill -9 "$LPID"
wait "$LPID" 2>/dev/null
wait "$CPID" 2>/dev/null
expect_eq "killed before its sync returned: no 250 was sent" "" "$(grep '250' "$T/c2.out" | grep '^DOT')"

# The MTA retries what it has no 250 for.
check "a restart takes the socket over" start 3
"${CLIENT[@]}" "unix:$SOCK" send --rcpt makers@lists.example.org "$T/p2.eml" >"$T/c3.out"
check "the retry gets 250, dropped as a duplicate" grep -q '^DOT <makers@lists.example.org> 250 2.0.0 .*dropped' "$T/c3.out"
check "...logged" grep -q 'message-id=<sync2@example.net>.*dropped: duplicate of an archived post' "$T/lmtp.out"
expect_eq "each post stored once" "1 1" "$(stored sync1@example.net) $(stored sync2@example.net)"
kill "$LPID"
wait "$LPID"
finish
