#!/bin/sh
# Hostile structure: messages that crashed or locked up receive (30,000
# nested message/rfc822 parts, 200,000 '(' in Cc, 20,000 nested multiparts,
# 200,000 parts) get one defined exit in bounded time and memory at every
# address of a list, and nothing is committed; a post past max_mime_parts or
# max_mime_depth gets the same outcome through every path (post, moderation
# reply, bounce, command); a 20,000-level post does not hold the database
# while another list's posts are accepted.
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || { echo "# python3 missing"; exit 77; }

cat >"$T/convene.conf" <<EOC
domain = "lists.example.org";
database = "convene.db";
templates = "$top_srcdir/templates";
busy_timeout_ms = 1000;
outbound = { transport = "maildir"; path = "outbox"; };
limits = { max_mime_depth = 8; max_mime_parts = 40; };
lists = (
  { name = "makers"; leaders = [ "alice@example.org" ]; policy = "members"; },
  { name = "other"; leaders = [ "alice@example.org" ]; policy = "open"; }
);
EOC
add_members bob@example.net

# gen KIND N [FROM]: a message built in $T/KIND-N.eml
gen() {
	python3 - "$1" "$2" "${3:-mallory@evil.example}" >"$T/$1-$2.eml" <<'EOP'
import sys
kind, n, frm = sys.argv[1], int(sys.argv[2]), sys.argv[3]
w = sys.stdout.write
w("From: %s\nTo: makers@lists.example.org\nSubject: %s %d\n"
  "Message-ID: <%s-%d@evil.example>\nMIME-Version: 1.0\n" % (frm, kind, n, kind, n))
if kind == "rfc822":
    w("Content-Type: message/rfc822\n\n" * (n + 1))
    w("Subject: x\n\nhello\n")
elif kind == "multipart":
    w('Content-Type: multipart/mixed; boundary="b0"\n\n')
    for i in range(1, n):
        w('--b%d\nContent-Type: multipart/mixed; boundary="b%d"\n\n' % (i - 1, i))
    w('--b%d\nContent-Type: text/plain\n\nhello\n' % (n - 1))
    for i in range(n - 1, -1, -1):
        w('--b%d--\n' % i)
elif kind == "paren":
    w("Cc: " + "(" * n + "\n\nhello\n")
elif kind == "parts":
    w('Content-Type: multipart/mixed; boundary="b"\n\n')
    w('--b\nContent-Type: text/plain\n\nhello\n' * n)
    w('--b--\n')
EOP
}

# Memory: a bound on the address space, except under AddressSanitizer
# (which reserves terabytes of it).
limit=
if ! ldd "$CONVENE" 2>/dev/null | grep -q asan; then limit="ulimit -v 600000;"; fi

# try FILE RCPT: receive's exit status with a time and memory bound (124:
# killed by the time-out).
try() {
	sh -c "$limit exec timeout 120 \"\$0\" -c \"\$1\" receive \
		--recipient \"\$2\" <\"\$3\" >/dev/null 2>&1" \
		"$CONVENE" "$T/convene.conf" "$2" "$1"
	echo $?
}

counts() {
	sql "SELECT (SELECT count(*) FROM messages), (SELECT count(*) FROM holds),
		(SELECT count(*) FROM inbox), (SELECT count(*) FROM jobs),
		(SELECT count(*) FROM archive)"
}

# A hold, so that a moderation reply has a real token to name.
nonmember=$FIXTURES/nonmember.eml
expect_eq "a non-member's post is held" 0 "$(post "$nonmember")"
tok=$(sql "SELECT token FROM holds")
before=$(counts)

gen rfc822 30000
gen paren 200000
gen multipart 20000
gen parts 200000
for a in makers makers-request makers-bounces "makers-confirm+$tok" \
	makers-owner makers-subscribe; do
	for m in rfc822-30000 paren-200000 multipart-20000 parts-200000; do
		expect_eq "$m to $a: refused (65)" 65 \
			"$(try "$T/$m.eml" "$a@lists.example.org")"
	done
done
expect_eq "nothing was committed" "$before" "$(counts)"
check "refusals are logged with the limit" \
	grep -q "refused: MIME parts nested deeper than max_mime_depth" \
	"$CONVENE_LOG_FILE"
check "deep comments are logged" grep -q \
	"refused: comments in a header field nested deeper" "$CONVENE_LOG_FILE"
check "too many parts are logged" \
	grep -q "refused: more MIME parts than max_mime_parts" "$CONVENE_LOG_FILE"

# The configured limits, one past and at them, from a member: the same
# outcome through the post, a moderation reply, a bounce and a command.
gen parts 40 bob@example.net
gen parts 39 bob@example.net
gen multipart 9 bob@example.net
gen multipart 8 bob@example.net
for a in makers "makers-confirm+$tok" makers-bounces makers-request; do
	expect_eq "41 parts to $a: refused" 65 \
		"$(try "$T/parts-40.eml" "$a@lists.example.org")"
	expect_eq "depth 9 to $a: refused" 65 \
		"$(try "$T/multipart-9.eml" "$a@lists.example.org")"
done
expect_eq "still nothing committed" "$before" "$(counts)"
expect_eq "40 parts (the message and 39 inside) are accepted" 0 \
	"$(try "$T/parts-39.eml" makers@lists.example.org)"
expect_eq "depth 8 is accepted" 0 \
	"$(try "$T/multipart-8.eml" makers@lists.example.org)"
expect_eq "...as posts of the member" 2 \
	"$(sql "SELECT count(*) FROM archive WHERE sender = 'bob@example.net'")"

# A deep post while another list takes posts: the database is never held
# long enough for their busy time-out (1 s) to run out.
gen multipart 20000
( try "$T/multipart-20000.eml" makers@lists.example.org >"$T/deep.rc" ) &
i=0
while [ $i -lt 6 ]; do
	sed -e "s/spam-1@/other-$i@/" -e "s/^To: .*/To: other@lists.example.org/" \
		"$nonmember" >"$T/other-$i.eml"
	echo "$(post "$T/other-$i.eml" other@lists.example.org)" >>"$T/other.rc"
	sleep 0.2
	i=$((i + 1))
done
wait
expect_eq "the deep post: refused" 65 "$(cat "$T/deep.rc")"
expect_eq "every post to the other list accepted meanwhile" "0 0 0 0 0 0" \
	"$(tr '\n' ' ' <"$T/other.rc" | sed 's/ $//')"
finish
