#!/bin/bash
# t340-lmtp - convene lmtp, the MTA's entry point over LMTP (RFC 2033), with
# real clients on a Unix socket and on loopback TCP: one reply per recipient
# after DATA with the decisions of `receive`; an unknown list refused at
# RCPT; concurrent messages committed together (fewer syncs than messages);
# a locked database answered 451 and nothing kept; bounded sessions, message
# size, line length and idle time, each cut off while others are served;
# reload on SIGHUP; the privilege drop; a clean stop and a restart after
# kill -9.
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || { echo "python3 is needed (scripts/install-deps.sh)"; exit 1; }
command -v ss >/dev/null || { echo "ss (iproute2) is needed"; exit 1; }
CLIENT=(python3 "$top_srcdir/tests/helpers/lmtpclient.py")
LOCKDB=$top_builddir/tests/helpers/lockdb
SOURCE=${SMTP_SOURCE:-/usr/sbin/smtp-source}
SOCK=$T/lmtp.sock
chmod 0755 "$T"

BUSY_TIMEOUT_MS=300 write_config "" 'lmtp = { listen = "unix:lmtp.sock"; timeout = "2s"; max_sessions = 8; };
limits = { max_message_kb = 64; };'
# A second list, for transactions with several recipients.
sed -i 's|^lists = (|lists = (\n  { name = "garden"; description = "Garden"; policy = "open"; leaders = [ "alice@example.org" ]; },|' "$T/convene.conf"
add_members alice@example.org bob@example.net carol@example.com
cv members garden add --quiet dave@example.org >/dev/null

# As root the listener becomes nobody, who then owns the list's files.
LUSER=()
if [ "$(id -u)" = 0 ]; then
	LUSER=(--user nobody)
	sed -i "s|^templates = .*|templates = \"$(readable_copy "$top_srcdir/templates")\";|" "$T/convene.conf"
	chown -R nobody "$T"
fi

LPID=
CLEANUP_PIDS=
# ready N: waits until the listener said "listening" N times in all.
ready() {
	local i
	for i in $(seq 1 100); do
		[ "$(grep -c 'listening on' "$T/lmtp.out" 2>/dev/null)" -ge "$1" ] && return 0
		kill -0 "$LPID" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}
lsend() { "${CLIENT[@]}" "unix:$SOCK" send "$@"; }
# msg FILE ID [FROM]: a small post.
msg() {
	printf 'From: %s\nTo: makers@lists.example.org\nSubject: lmtp %s\nMessage-ID: <%s@example.net>\nDate: Tue, 14 Nov 2023 10:00:00 +0000\n\nHello over LMTP.\n.leading dot\n' \
		"${3:-Alice <alice@example.org>}" "$2" "$2" >"$1"
}
archived() { sql "SELECT count(*) FROM archive WHERE ${1:-1}"; }

"$CONVENE" -c "$T/convene.conf" lmtp "${LUSER[@]}" >>"$T/lmtp.out" 2>&1 &
LPID=$!
CLEANUP_PIDS="$CLEANUP_PIDS $LPID"
check "the listener is up on unix:lmtp.sock" ready 1

# ---- one reply per recipient, the decisions of receive ----

msg "$T/m1.eml" m1
out=$(lsend --rcpt makers@lists.example.org --rcpt nosuch@lists.example.org --rcpt garden@lists.example.org "$T/m1.eml")
echo "$out" | sed 's/^/#   /'
check "LHLO: PIPELINING, ENHANCEDSTATUSCODES and the size bound are offered" \
	sh -c "printf '%s\n' \"\$1\" | grep -q '^LHLO 250 SIZE 65536'" _ "$out"
check "RCPT of the unknown list: 550 5.1.1" \
	sh -c "printf '%s\n' \"\$1\" | grep -q '^RCPT <nosuch@lists.example.org> 550 5.1.1'" _ "$out"
check "RCPT of both lists: 250" \
	sh -c "[ \$(printf '%s\n' \"\$1\" | grep -c '^RCPT <[a-z]*@lists.example.org> 250 2.1.5') = 2 ]" _ "$out"
check "after DATA: 250 for makers" \
	sh -c "printf '%s\n' \"\$1\" | grep -q '^DOT <makers@lists.example.org> 250 2.0.0 .*accepted: Message-ID <m1@example.net>'" _ "$out"
check "...and 250 for garden" \
	sh -c "printf '%s\n' \"\$1\" | grep -q '^DOT <garden@lists.example.org> 250 2.0.0 .*accepted'" _ "$out"
expect_eq "...and no reply for the refused recipient" 2 "$(printf '%s\n' "$out" | grep -c '^DOT')"
expect_eq "archived once in each list" "1 1" "$(archived "list = 'makers'") $(archived "list = 'garden'")"
raw=$(sql "SELECT raw FROM messages m JOIN archive a ON a.message = m.id WHERE a.list = 'makers'")
check "stored with the envelope sender as Return-Path" sh -c "printf '%s\n' \"\$1\" | head -1 | grep -qx 'Return-Path: <bob@example.net>'" _ "$raw"
check "...dot-unstuffed, with LF line ends" sh -c "printf '%s\n' \"\$1\" | grep -qx '.leading dot'" _ "$raw"
cv run --once >/dev/null
expect_eq "the post reached every member of makers" \
	"alice@example.org bob@example.net carol@example.com" \
	"$(outbox_rcpts | grep -v dave | tr '\n' ' ' | sed 's/ $//')"
check "...and garden's" grep -rlq 'X-Convene-Envelope-To: <dave@example.org>' "$T/outbox/new"

msg "$T/m2.eml" m2 "Mallory <mallory@example.net>"
out=$(lsend --rcpt makers@lists.example.org "$T/m2.eml")
check "a non-member's post: 250, held (as receive would)" \
	sh -c "printf '%s\n' \"\$1\" | grep -q '^DOT <makers@lists.example.org> 250 2.0.0 .*held'" _ "$out"
expect_eq "...and a hold row" 1 "$(sql 'SELECT count(*) FROM holds')"

out=$(lsend --rcpt makers@lists.example.org "$T/m1.eml")
check "the same message again (an MTA retrying): 250, dropped" \
	sh -c "printf '%s\n' \"\$1\" | grep -q '^DOT <makers@lists.example.org> 250 2.0.0 .*dropped'" _ "$out"
check "...the duplicate logged" grep -q "message-id=<m1@example.net>.*dropped: duplicate" "$CONVENE_LOG_FILE"
expect_eq "...and archived once" 1 "$(archived "list = 'makers'")"

out=$(lsend --rcpt makers-owner@lists.example.org "$T/m1.eml")
check "owner mail: 250, forwarded" \
	sh -c "printf '%s\n' \"\$1\" | grep -q '^DOT <makers-owner@lists.example.org> 250 2.0.0 .*forwarded'" _ "$out"

# ---- group commit: concurrent sessions share syncs ----

if [ -x "$SOURCE" ] && command -v strace >/dev/null; then
	before=$(archived)
	strace -f -qq -e trace=fdatasync,fsync -o "$T/strace.out" -p "$LPID" &
	SPID=$!
	sleep 0.5
	"$SOURCE" -L -s 8 -m 200 -f bob@example.net -t garden@lists.example.org \
		"unix:$SOCK" >"$T/source.out" 2>&1
	rc=$?
	sleep 0.3
	kill "$SPID"; wait "$SPID" 2>/dev/null
	expect_eq "smtp-source -L: 200 messages over 8 sessions, all 250" 0 "$rc"
	expect_eq "...all 200 archived" $((before + 200)) "$(archived)"
	syncs=$(grep -c 'sync(' "$T/strace.out")
	check "...with fewer syncs than messages ($syncs for 200)" test "$syncs" -ge 1 -a "$syncs" -lt 200
else
	not_ok "group commit: smtp-source and strace are needed (scripts/install-deps.sh)"
fi

# ---- a locked database: 451, nothing kept; the retry is accepted ----

cv run --once >/dev/null
rm -rf "$T/outbox/new"/*

"$LOCKDB" "$T/convene.db" 3 "$T/locked" &
LOCK=$!
CLEANUP_PIDS="$CLEANUP_PIDS $LOCK"
for i in $(seq 1 100); do [ -f "$T/locked" ] && break; sleep 0.05; done
msg "$T/m3.eml" m3
out=$(lsend --rcpt makers@lists.example.org --rcpt garden@lists.example.org "$T/m3.eml")
check "locked past the busy timeout: 451 4.3.0 for each recipient" \
	sh -c "[ \$(printf '%s\n' \"\$1\" | grep -c '^DOT <[a-z]*@lists.example.org> 451 4.3.0') = 2 ]" _ "$out"
wait "$LOCK"
expect_eq "...nothing of it was kept" 0 "$(archived "message_id = 'm3@example.net'")"
out=$(lsend --rcpt makers@lists.example.org "$T/m3.eml")
check "the retry: 250 accepted" sh -c "printf '%s\n' \"\$1\" | grep -q '^DOT <makers@lists.example.org> 250 2.0.0 .*accepted'" _ "$out"
cv run --once >/dev/null
expect_eq "...delivered once to each member" 3 "$(outbox_rcpts | wc -l | tr -d ' ')"

# ---- limits: each cut off while another session is served ----

"${CLIENT[@]}" "unix:$SOCK" flood --rcpt makers@lists.example.org --size 100000000 >"$T/flood.out" 2>&1 &
FLOOD=$!
msg "$T/m4.eml" m4
out=$(lsend --rcpt makers@lists.example.org "$T/m4.eml")
check "during a 100 MB flood another session is served" \
	sh -c "printf '%s\n' \"\$1\" | grep -q '^DOT <makers@lists.example.org> 250'" _ "$out"
wait "$FLOOD"
sed 's/^/#   /' "$T/flood.out"
check "100 MB over a 64 KB bound: 552 5.3.4" grep -q '^reply 552 5.3.4' "$T/flood.out"
check "...cut off: connection closed" grep -q '^closed=1' "$T/flood.out"
check "...long before the 100 MB were sent" test "$(sed -n 's/^sent=//p' "$T/flood.out")" -lt 100000000
head -c 100000 /dev/zero | tr '\0' 'x' | fold -w 70 >"$T/big.body"
{ printf 'From: alice@example.org\nSubject: big\nMessage-ID: <big@example.net>\n\n'; cat "$T/big.body"; } >"$T/big.eml"
out=$(lsend --rcpt makers@lists.example.org "$T/big.eml")
check "a 100 KB message: 552 5.3.4 after its end" \
	sh -c "printf '%s\n' \"\$1\" | grep -q '^DOT <makers@lists.example.org> 552 5.3.4'" _ "$out"
check "...and the session goes on" sh -c "printf '%s\n' \"\$1\" | grep -q '^QUIT 221'" _ "$out"

"${CLIENT[@]}" "unix:$SOCK" longline --size 10000000 >"$T/long.out" 2>&1
check "a line that never ends: 500 5.5.2" grep -q '^reply 500 5.5.2' "$T/long.out"
check "...and cut off" grep -q '^closed=1' "$T/long.out"

"${CLIENT[@]}" "unix:$SOCK" stall --wait 30 >"$T/stall.out" 2>&1 &
STALL=$!
msg "$T/m5.eml" m5
out=$(lsend --rcpt makers@lists.example.org "$T/m5.eml")
check "while a client stalls mid-line another session is served" \
	sh -c "printf '%s\n' \"\$1\" | grep -q '^DOT <makers@lists.example.org> 250'" _ "$out"
wait "$STALL"
check "the stalled client: 421 4.4.2 after the idle time-out" grep -q '^reply 421 4.4.2' "$T/stall.out"
check "...and cut off" grep -q '^closed=1' "$T/stall.out"

# Sessions are bounded (max_sessions = 8): the ninth waits for a free one.
mkfifo "$T/hold"
exec 7<>"$T/hold"
HOLDS=
for i in 1 2 3 4 5 6 7 8; do
	"${CLIENT[@]}" "unix:$SOCK" hold <"$T/hold" >"$T/hold$i.out" 2>&1 7>&- &
	HOLDS="$HOLDS $!"
done
for i in 1 2 3 4 5 6 7 8; do
	for j in $(seq 1 100); do grep -q GREETING "$T/hold$i.out" 2>/dev/null && break; sleep 0.05; done
done
msg "$T/m6.eml" m6
lsend --rcpt makers@lists.example.org "$T/m6.eml" >"$T/ninth.out" 2>&1 7>&- &
NINTH=$!
sleep 1
expect_eq "with 8 sessions open, a ninth waits: no greeting yet" "" "$(cat "$T/ninth.out")"
check "...and it was logged" grep -q "all 8 sessions busy" "$T/lmtp.out"
exec 7>&-
for p in $HOLDS; do wait "$p"; done
wait "$NINTH"
check "...and it is served once they left" grep -q '^DOT <makers@lists.example.org> 250' "$T/ninth.out"

# ---- reload, privileges, stop, restart ----

sed -i 's|^lists = (|lists = (\n  { name = "newlist"; description = "New"; policy = "open"; leaders = [ "alice@example.org" ]; },|' "$T/convene.conf"
kill -HUP "$LPID"
for i in $(seq 1 100); do grep -q "configuration reloaded" "$T/lmtp.out" && break; sleep 0.05; done
msg "$T/m7.eml" m7
out=$(lsend --rcpt newlist@lists.example.org "$T/m7.eml")
check "SIGHUP: a list added to the config is served" \
	sh -c "printf '%s\n' \"\$1\" | grep -q '^DOT <newlist@lists.example.org> 250'" _ "$out"

if [ "$(id -u)" = 0 ]; then
	expect_eq "started as root with --user nobody, it runs as nobody" nobody \
		"$(ps -o user= -p "$LPID" | tr -d ' ')"
	rc=0
	"$CONVENE" -c "$T/convene.conf" lmtp --listen "unix:$T/other.sock" >"$T/root.out" 2>&1 || rc=$?
	expect_eq "as root without --user: refused (64)" 64 "$rc"
fi
rc=0
"$CONVENE" -c "$T/convene.conf" lmtp "${LUSER[@]}" --listen 0.0.0.0:2424 >"$T/any.out" 2>&1 || rc=$?
expect_eq "--listen on a non-loopback address: refused (64)" 64 "$rc"
rc=0
"$CONVENE" -c "$T/convene.conf" lmtp "${LUSER[@]}" >"$T/twice.out" 2>&1 || rc=$?
check "a second listener on the same socket: refused ($rc)" test "$rc" -ne 0
check "...saying another one answers there" grep -q "another listener answers" "$T/twice.out"

kill -9 "$LPID"
wait "$LPID" 2>/dev/null
check "kill -9 leaves the socket file behind" test -S "$SOCK"
"$CONVENE" -c "$T/convene.conf" lmtp "${LUSER[@]}" >>"$T/lmtp.out" 2>&1 &
LPID=$!
CLEANUP_PIDS="$CLEANUP_PIDS $LPID"
check "a restart takes the stale socket over" ready 2
out=$(lsend --rcpt makers@lists.example.org "$T/m6.eml")
check "...and serves (the message it had: 250, dropped as a duplicate)" \
	sh -c "printf '%s\n' \"\$1\" | grep -q '^DOT <makers@lists.example.org> 250 2.0.0 .*dropped'" _ "$out"
kill "$LPID"
rc=0
wait "$LPID" || rc=$?
expect_eq "SIGTERM: it stops with 0" 0 "$rc"
check "...and removes its socket" test ! -e "$SOCK"

# ---- loopback TCP ----

port=
for i in $(seq 1 50); do
	p=$((20000 + (RANDOM * 7 + $$ + i * 131) % 30000))
	ss -Hltn "sport = :$p" | grep -q . || { port=$p; break; }
done
"$CONVENE" -c "$T/convene.conf" lmtp "${LUSER[@]}" --listen "127.0.0.1:$port" >>"$T/lmtp.out" 2>&1 &
LPID=$!
CLEANUP_PIDS="$CLEANUP_PIDS $LPID"
check "--listen 127.0.0.1:$port" ready 3
msg "$T/m8.eml" m8
out=$("${CLIENT[@]}" "127.0.0.1:$port" send --rcpt garden@lists.example.org "$T/m8.eml")
check "over loopback TCP: 250" sh -c "printf '%s\n' \"\$1\" | grep -q '^DOT <garden@lists.example.org> 250'" _ "$out"
# Byte for byte: a bare CR stays, CRLF becomes LF, stuffed dots go, a
# 3,000-byte line comes whole (whatever the reads cut it into).
python3 - "$T/bytes.eml" "$T/bytes.want" <<'EOP'
import sys
head = (b"From: <bob@example.net>\nTo: <garden@lists.example.org>\n"
        b"Subject: bytes\nMessage-Id: <bytes@example.net>\n\n")
body = b"one\rtwo\n.single\n..double\n" + b"x" * 3000 + b"\n" + b"y\r\nend\n"
open(sys.argv[1], "wb").write(head + body)
want = b"Return-Path: <bob@example.net>\n" + head + body.replace(b"y\r\n", b"y\n")
open(sys.argv[2], "wb").write(want)
EOP
"${CLIENT[@]}" "127.0.0.1:$port" send --rcpt garden@lists.example.org "$T/bytes.eml" >"$T/bytes.out"
python3 - "$T/convene.db" "$T/bytes.got" <<'EOP'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
row = db.execute("SELECT m.raw FROM messages m JOIN archive a ON a.message = m.id"
                 " WHERE a.message_id = 'bytes@example.net'").fetchone()
open(sys.argv[2], "wb").write(bytes(row[0]) if row else b"")
EOP
check "a message is stored byte for byte (bare CR kept, CRLF to LF, dots unstuffed)" \
	cmp "$T/bytes.want" "$T/bytes.got"
kill "$LPID"
wait "$LPID"
finish
