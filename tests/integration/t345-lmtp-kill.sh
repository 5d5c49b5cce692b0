#!/bin/bash
# t345-lmtp-kill - kill -9 of `convene lmtp` in the middle of a burst of
# 1,000 posts from `smtp-source -L` over 8 sessions: every post that got a
# 250 is stored (the 250 replies name the Message-ID), at most the batch
# being committed is stored without its 250, and when those come again (as
# the MTA retries what it has no 250 for) they are dropped as duplicates,
# logged, and stored once.
. "$(dirname "$0")/lib.sh"

SOURCE=${SMTP_SOURCE:-/usr/sbin/smtp-source}
[ -x "$SOURCE" ] || { echo "smtp-source not found (install postfix)"; exit 1; }
command -v python3 >/dev/null || { echo "python3 is needed (scripts/install-deps.sh)"; exit 1; }
CLIENT=(python3 "$top_srcdir/tests/helpers/lmtpclient.py")
SOCK=$T/lmtp.sock
chmod 0755 "$T"

POLICY=open write_config "" 'lmtp = { listen = "unix:lmtp.sock"; };'
add_members alice@example.org bob@example.net carol@example.com
LUSER=()
if [ "$(id -u)" = 0 ]; then
	LUSER=(--user nobody)
	chown -R nobody "$T"
fi
CLEANUP_PIDS=
start() {
	"$CONVENE" -c "$T/convene.conf" lmtp "${LUSER[@]}" >>"$T/lmtp.out" 2>&1 &
	LPID=$!
	CLEANUP_PIDS="$CLEANUP_PIDS $LPID"
	local i
	for i in $(seq 1 100); do
		[ "$(grep -c 'listening on' "$T/lmtp.out" 2>/dev/null)" -ge "$1" ] && return 0
		sleep 0.05
	done
	return 1
}
stored() { sql "SELECT message_id FROM archive ORDER BY 1"; }

check "the listener is up" start 1
"$SOURCE" -v -L -s 8 -m 1000 -l 2000 -f bob@example.net -t makers@lists.example.org \
	"unix:$SOCK" >"$T/source.out" 2>&1 &
SRC=$!
CLEANUP_PIDS="$CLEANUP_PIDS $SRC"
n=0
for i in $(seq 1 600); do
	n=$(sql "SELECT count(*) FROM archive" 2>/dev/null || echo 0)
	[ "${n:-0}" -ge 250 ] && break
	kill -0 "$SRC" 2>/dev/null || break
	sleep 0.02
done
kill -9 "$LPID"
wait "$LPID" 2>/dev/null
wait "$SRC" 2>/dev/null
sed -n 's/.*<<< 250 2\.0\.0 <makers@lists\.example\.org> [a-z]*: Message-ID <\(.*\)>$/\1/p' \
	"$T/source.out" | sort >"$T/acked"
stored >"$T/stored"
acked=$(wc -l <"$T/acked" | tr -d ' ')
kept=$(wc -l <"$T/stored" | tr -d ' ')
echo "# killed with $kept posts stored, $acked answered 250"
check "killed in the middle of the burst ($kept of 1000 stored)" test "$kept" -ge 250 -a "$kept" -lt 1000
check "smtp-source saw the listener die" grep -q 'fatal' "$T/source.out"
check "250 replies were counted ($acked)" test "$acked" -ge 200
expect_eq "every post that got a 250 is stored" "" "$(comm -23 "$T/acked" "$T/stored")"
check "stored without a 250: at most one batch ($((kept - acked)) <= 8 sessions)" \
	test $((kept - acked)) -ge 0 -a $((kept - acked)) -le 8

# The MTA retries what it has no 250 for: here the stored ones (their bytes
# from the database, without the Return-Path the listener added), three
# that got their 250 but whose answer the MTA may have lost when the
# connection broke, and a few that were never stored.
check "a restart takes the socket over" start 2
comm -13 "$T/acked" "$T/stored" >"$T/unacked"
head -3 "$T/acked" >>"$T/unacked"
: >"$T/retry.out"
while read -r id; do
	sqlite3 "$T/convene.db" "SELECT writefile('$T/retry.eml', m.raw) FROM messages m
		JOIN archive a ON a.message = m.id WHERE a.message_id = '$id'" >/dev/null
	sed -i '1{/^Return-Path:/d}' "$T/retry.eml"
	"${CLIENT[@]}" "unix:$SOCK" send --rcpt makers@lists.example.org "$T/retry.eml" >>"$T/retry.out"
done <"$T/unacked"
nun=$(wc -l <"$T/unacked" | tr -d ' ')
check "some stored posts are retried ($nun)" test "$nun" -ge 3
expect_eq "each retried stored post: 250, dropped" "$nun" \
	"$(grep -c '^DOT <makers@lists.example.org> 250 2.0.0 .*dropped' "$T/retry.out")"
expect_eq "...each logged as a duplicate" "$nun" \
	"$(grep -c 'dropped: duplicate of an archived post' "$T/lmtp.out")"
for i in 1 2 3; do
	printf 'From: <bob@example.net>\nTo: <makers@lists.example.org>\nMessage-Id: <fresh-%d@example.net>\n\nnever stored\n' "$i" >"$T/fresh.eml"
	"${CLIENT[@]}" "unix:$SOCK" send --rcpt makers@lists.example.org "$T/fresh.eml" >>"$T/fresh.out"
done
expect_eq "posts that were never stored: accepted on their retry" 3 \
	"$(grep -c '^DOT <makers@lists.example.org> 250 2.0.0 .*accepted' "$T/fresh.out")"
expect_eq "nothing stored twice: one archive row, message and job per post" \
	"$((kept + 3)) $((kept + 3)) $((kept + 3))" \
	"$(sql 'SELECT count(DISTINCT message_id) FROM archive') $(sql 'SELECT count(*) FROM messages') $(sql 'SELECT count(*) FROM jobs')"
kill "$LPID"
wait "$LPID"
finish
