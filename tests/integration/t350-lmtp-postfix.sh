#!/bin/bash
# t350-lmtp-postfix - a real Postfix delivering to `convene lmtp` over LMTP
# on a Unix socket, wired as `convene mta postfix --lmtp` prints it (the
# list domain to lmtp:unix:PATH), which --check then finds all there: posts
# reach the members; an unknown list is refused
# at RCPT and Postfix bounces it to the sender; a locked database gives a
# deferral, and Postfix's retry delivers once; kill -9 of the listener in
# the middle of a burst, a restart and Postfix's retries store every post
# exactly once (what was committed without its 250 comes again and is
# dropped as a duplicate, logged).
# Needs root and the shared Postfix harness; skipped (77) without them.
. "$(dirname "$0")/lib.sh"

HARNESS=${CONVENE_PF_HARNESS:-$top_srcdir/../shared/postfix/postfix-harness.sh}
SOURCE=${SMTP_SOURCE:-/usr/sbin/smtp-source}
if [ "$(id -u)" != 0 ] || [ ! -f "$HARNESS" ] || ! command -v swaks >/dev/null ||
	! command -v postfix >/dev/null; then
	echo "# needs root, swaks, postfix and $HARNESS: skipped"
	exit 77
fi
LOCKDB=$top_builddir/tests/helpers/lockdb
chmod 0755 "$T"
mkdir -p "$T/bin" "$T/list"
cp "$CONVENE" "$T/bin/convene"
cp -r "$top_srcdir/templates" "$T/templates"
chmod -R a+rX "$T/bin" "$T/templates"
chown nobody "$T/list"
CONF=$T/list/convene.conf
SOCK=$T/list/lmtp.sock

PF_QUIET=1
. "$HARNESS"
CLEANUP_PIDS=
trap 'pf_stop; cleanup' EXIT
# The pipe service is not used: the list domain goes to LMTP below.
pf_start "/bin/false" lists.example.org || { not_ok "private Postfix started"; finish; }
ok "private Postfix on 127.0.0.1:$PF_PORT"

cat >"$CONF" <<EOC
domain = "lists.example.org";
database = "convene.db";
templates = "$T/templates";
busy_timeout_ms = 300;
outbound = { transport = "smtp"; host = "127.0.0.1"; port = $PF_PORT; };
lmtp = { listen = "unix:lmtp.sock"; };
lists = ( { name = "makers"; description = "Makers of Example City";
            leaders = [ "alice@example.org" ]; subject_prefix = "[makers] "; } );
EOC
chmod 0644 "$CONF"
pcv() { pf_as_pipe_user "$T/bin/convene" -c "$CONF" "$@"; }
check "members added" pcv members makers add --quiet alice@example.org bob@example.org carol@example.org

# Wired as `convene mta postfix --lmtp` prints it: its main.cf block pasted
# into main.cf (later lines win over the harness's own transport).
printed=$("$T/bin/convene" -c "$CONF" mta postfix --lmtp)
check "mta postfix --lmtp names the socket" \
	grep -qxF "transport_maps = inline:{ lists.example.org=lmtp:unix:$SOCK }" <<<"$printed"
awk '/^# \/etc\/postfix\/main.cf:/ { p = 1; next } p && /^$/ { exit } p && !/^#/' <<<"$printed" >>"$PF_CONF/main.cf"
pf_reload
sleep 1
out=$("$T/bin/convene" -c "$CONF" mta postfix --lmtp --check --mta-config "$PF_CONF")
expect_eq "mta postfix --lmtp --check: all there" 0 "$?"
echo "$out" | sed 's/^/#   /'

LPID=
start() {
	"$T/bin/convene" -c "$CONF" lmtp --user nobody >>"$T/lmtp.out" 2>&1 &
	LPID=$!
	CLEANUP_PIDS="$CLEANUP_PIDS $LPID"
	local i
	for i in $(seq 1 100); do
		[ "$(grep -c 'listening on' "$T/lmtp.out" 2>/dev/null)" -ge "$1" ] && return 0
		sleep 0.05
	done
	return 1
}
check "convene lmtp listens on unix:$SOCK" start 1
# post FILE ID: a post from alice.
post() {
	printf 'From: Alice <alice@example.org>\nTo: makers@lists.example.org\nSubject: %s\nMessage-ID: <%s.%d@example.org>\nDate: %s\n\nHello makers, over LMTP.\n' \
		"$2" "$2" "$$" "$(date -R)" >"$1"
}

# ---- posts reach members ----

post "$T/post.eml" pf-lmtp
qid=$(pf_send alice@example.org makers@lists.example.org "$T/post.eml")
check "Postfix delivered over LMTP: status=sent (250 ... accepted)" \
	pf_wait_log "$qid: to=<makers@lists.example.org>, relay=.*lmtp.sock.*status=sent \\(250 2\\.0\\.0 <makers@lists.example.org> accepted" 20
check "convene run --once delivers back into Postfix" pcv run --once
for u in alice bob carol; do
	check "$u got the list copy" pf_wait_mail "$u" 1 20
	f=$(ls "$(pf_mailbox "$u")"new/* "$(pf_mailbox "$u")"cur/* 2>/dev/null | head -1)
	check "$u's copy is the post, with the list's prefix" grep -q '^Subject: \[makers\] pf-lmtp' "$f"
done

# ---- an unknown list bounces ----

post "$T/nouser.eml" nouser
qid=$(pf_send alice@example.org nosuch@lists.example.org "$T/nouser.eml")
check "unknown list: 550 5.1.1 at RCPT, bounced by Postfix" \
	pf_wait_log "$qid: to=<nosuch@lists.example.org>, relay=.*status=bounced \\(host .*said: 550 5\\.1\\.1" 20
check "...and alice got the non-delivery notice" pf_wait_mail alice 2 20

# ---- a locked database: deferred, then delivered once ----

"$LOCKDB" "$T/list/convene.db" 4 "$T/locked" &
LOCK=$!
CLEANUP_PIDS="$CLEANUP_PIDS $LOCK"
for i in $(seq 1 100); do [ -f "$T/locked" ] && break; sleep 0.05; done
post "$T/locked.eml" locked
qid=$(pf_send alice@example.org makers@lists.example.org "$T/locked.eml")
check "locked database: 451, deferred by Postfix" \
	pf_wait_log "$qid: to=<makers@lists.example.org>, relay=.*status=deferred \\(host .*said: 451 4\\.3\\.0" 20
wait "$LOCK"
pf_flush
check "after the lock Postfix's retry is delivered" \
	pf_wait_log "$qid: to=<makers@lists.example.org>, relay=.*status=sent" 30
expect_eq "...and stored once" 1 "$(sqlite3 "$T/list/convene.db" "SELECT count(*) FROM archive WHERE message_id = 'locked.$$@example.org'")"
pcv run --once >/dev/null
check "bob got it" pf_wait_mail bob 2 20
check "queue drains" pf_wait_queue_empty 30
expect_eq "bob got each post exactly once" 2 "$(pf_count bob)"

# ---- kill -9 in the middle of a burst; Postfix retries ----

# The listener is stopped while Postfix takes the burst in (Postfix defers
# it: nobody listens), so that the kill lands in the middle of it.
N=300
kill "$LPID"
wait "$LPID"
base=$(sqlite3 "$T/list/convene.db" "SELECT count(*) FROM archive")
"$SOURCE" -s 4 -m "$N" -f alice@example.org -t makers@lists.example.org \
	-M example.org "127.0.0.1:$PF_PORT" >"$T/source.out" 2>&1
expect_eq "smtp-source handed $N posts to Postfix" 0 "$?"
check "listening again" start 2
pf_flush
for i in $(seq 1 600); do
	n=$(sqlite3 "$T/list/convene.db" "SELECT count(*) FROM archive" 2>/dev/null || echo 0)
	[ $((n - base)) -ge $((N / 4)) ] && break
	sleep 0.05
done
kill -9 "$LPID"
wait "$LPID" 2>/dev/null
n=$(sqlite3 "$T/list/convene.db" "SELECT count(*) FROM archive")
check "killed in the middle ($((n - base)) of $N stored)" test $((n - base)) -ge 1 -a $((n - base)) -lt "$N"
sleep 1
check "restarted" start 3
pf_flush
for i in $(seq 1 600); do
	n=$(sqlite3 "$T/list/convene.db" "SELECT count(*) FROM archive")
	[ $((n - base)) -ge "$N" ] && break
	sleep 0.1
done
check "Postfix's queue drains" pf_wait_queue_empty 60
expect_eq "all $N posts stored, each once (archive, messages, jobs)" "$((base + N)) $((base + N)) $((base + N))" \
	"$(sqlite3 "$T/list/convene.db" "SELECT count(DISTINCT message_id) FROM archive; SELECT count(*) FROM messages; SELECT count(*) FROM jobs WHERE kind = 'post'" | tr '\n' ' ' | sed 's/ $//')"
sent=$(grep -c 'relay=.*lmtp.sock.*status=sent (250 2.0.0 <makers@lists.example.org> accepted' "$PF_LOG")
dup=$(grep -c 'relay=.*lmtp.sock.*status=sent (250 2.0.0 <makers@lists.example.org> dropped' "$PF_LOG")
echo "# Postfix: $sent accepted, $dup dropped as duplicates after the kill"
expect_eq "duplicates logged by convene as Postfix was told" "$dup" \
	"$(grep -c 'dropped: duplicate of an archived post' "$T/lmtp.out")"

# The same post handed over twice (a lost answer): the second is dropped.
post "$T/twice.eml" twice
qid=$(pf_send alice@example.org makers@lists.example.org "$T/twice.eml")
check "a post" pf_wait_log "$qid: to=<makers@lists.example.org>, relay=.*status=sent \\(250 2\\.0\\.0 <makers@lists.example.org> accepted" 20
qid=$(pf_send alice@example.org makers@lists.example.org "$T/twice.eml")
check "the same Message-ID again: 250, dropped as a duplicate" \
	pf_wait_log "$qid: to=<makers@lists.example.org>, relay=.*status=sent \\(250 2\\.0\\.0 <makers@lists.example.org> dropped" 20
check "...logged" grep -q "message-id=<twice.$$@example.org>.*dropped: duplicate" "$T/lmtp.out"
kill "$LPID"
wait "$LPID"
finish
