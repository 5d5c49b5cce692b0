#!/bin/bash
# What people read: answers and notices are wrapped once, after their
# placeholders are filled (no quoted-printable soft breaks in the raw text,
# no short fragments in a client); the help answer names the owners once;
# a leader's bounce notice gives the score and what the last bounce said;
# log lines say "1 owner" and how a job really ended.
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || { echo "python3 is needed to read MIME"; exit 1; }
B=$top_srcdir/tests/fixtures/bounces
chmod 0755 "$T"
# A long description and list name make the filled lines long.
cat >"$T/convene.conf" <<EOC
domain = "lists.example.org";
database = "convene.db";
templates = "$top_srcdir/templates";
outbound = { transport = "maildir"; path = "outbox"; };
lists = (
  { name = "makers-of-example-city";
    description = "Makers of Example City, the people who build, repair and share tools";
    leaders = [ "alice@example.org" ];
    bounces = { threshold = 1.0; }; }
);
EOC
L=makers-of-example-city
add() { cv members $L add --quiet "$@" >/dev/null; }
add bob@example.net carol@example.com
rcv() {
	local rc=0
	"$CONVENE" -c "$T/convene.conf" receive --recipient "$2" <"$1" >>"$T/receive.out" 2>&1 || rc=$?
	echo "$rc"
}

# layout FILE: checks the text part of an outbox message as a reader's
# client decodes it; prints the decoded body.
cat >"$T/layout.py" <<'EOP'
import email, email.policy, sys
raw = open(sys.argv[1], 'rb').read()
msg = email.message_from_bytes(raw, policy=email.policy.default)
part = msg if not msg.is_multipart() else next(p for p in msg.walk() if p.get_content_type() == 'text/plain')
problems = []
# 1. No soft line breaks in what goes over the wire: every line fits.
body_raw = part.get_payload(decode=False)
for line in body_raw.split('\n'):
    if line.endswith('=') and not line.endswith('=='):
        problems.append('soft line break in the raw text: %r' % line)
text = part.get_content()
lines = text.split('\n')
# 2. Running text is wrapped once: no line over 72 characters unless it is
# one word, and no line left short while the next word of its paragraph
# would have fitted.
def prose(l):
    return l and not l[0].isspace() and not l.startswith('>') and '  ' not in l and l != '-- '
for i, l in enumerate(lines):
    if len(l) > 72 and ' ' in l.strip():
        problems.append('line over 72: %r' % l)
    if i + 1 < len(lines) and prose(l) and prose(lines[i + 1]):
        nxt = lines[i + 1].split()[0]
        if len(l) + 1 + len(nxt) <= 72:
            problems.append('short line %r before %r' % (l, nxt))
for p in problems:
    print('# ' + p, file=sys.stderr)
print(text)
sys.exit(1 if problems else 0)
EOP
layout() { python3 "$T/layout.py" "$1"; }
one_for() { outbox_for "$1" | head -1; }

# The help answer.
printf 'From: erin@example.net\nTo: %s-request@lists.example.org\nSubject: help\nMessage-ID: <help-1@example.net>\n\nhelp\n' "$L" >"$T/help.eml"
expect_eq "help accepted" 0 "$(rcv "$T/help.eml" "$L-request@lists.example.org")"
cv run --once >/dev/null 2>&1
f=$(one_for erin@example.net)
check "help answered" test -n "$f"
check "help answer: wrapped once, no soft breaks, no fragments" sh -c "python3 '$T/layout.py' '$f' >'$T/help.txt'"
sed 's/^/#   /' "$T/help.txt"
expect_eq "the owners named once" 1 "$(tr '\n' ' ' <"$T/help.txt" | grep -o 'People running the list can be reached' | wc -l | tr -d ' ')"
check "the description is there, whole" sh -c "tr '\n' ' ' <'$T/help.txt' | grep -q 'the people who build, repair and share tools'"

# rsvps and meeting from a member: only leaders may, and the answer says
# so; the archive's answers are wrapped once too. ("meeting" comes last:
# the lines after it are its settings.)
printf 'From: erin@example.net\nTo: %s-request@lists.example.org\nSubject: commands\nMessage-ID: <idx-1@example.net>\n\nrsvps 1\nindex\nmeeting\n' "$L" >"$T/idx.eml"
rm -f "$T"/outbox/new/*
expect_eq "rsvps, index and meeting accepted" 0 "$(rcv "$T/idx.eml" "$L-request@lists.example.org")"
cv run --once >/dev/null 2>&1
f=$(one_for erin@example.net)
check "...answered, wrapped once" sh -c "python3 '$T/layout.py' '$f' >'$T/idx.txt'"
expect_eq "...rsvps and meeting: only the leaders may (twice)" 2 "$(grep -o 'Only the leaders' "$T/idx.txt" | wc -l | tr -d ' ')"
check "...and not the help text" sh -c "! grep -q 'No command was found' '$T/idx.txt'"

# A leader's bounce notice: the score and the last bounce's status. The
# list writes to bob and carol first (reports count only for mail the list
# sent).
printf 'From: alice@example.org\nTo: %s@lists.example.org\nSubject: Tools\nMessage-ID: <tools-1@example.org>\n\nWho has a drill?\n' "$L" >"$T/tools.eml"
expect_eq "a post to bob and carol" 0 "$(rcv "$T/tools.eml" "$L@lists.example.org")"
cv run --once >/dev/null 2>&1
rm -f "$T"/outbox/new/*
expect_eq "a bounce with a status code for bob" 0 "$(rcv "$B/postfix-dsn.eml" "$L-bounces+bob=example.net@lists.example.org")"
cv run --once >/dev/null 2>&1
f=$(grep -l 'delivery to bob@example.net paused' $(outbox_for alice@example.org) 2>/dev/null | head -1)
check "alice is told bob is paused" test -n "$f"
check "...the notice wrapped once" sh -c "python3 '$T/layout.py' '${f:-/dev/null}' >'$T/bob.txt'"
sed 's/^/#   /' "$T/bob.txt"
check "...with bob's score" grep -Eq '^Bounce score: +1\.00$' "$T/bob.txt"
check "...and the last bounce's status" grep -Eq '^Last bounce: +5\.1\.1, hard$' "$T/bob.txt"
rm -f "$T"/outbox/new/*
expect_eq "a bounce without a status code for carol" 0 "$(rcv "$B/exim.eml" "$L-bounces@lists.example.org")"
cv run --once >/dev/null 2>&1
f=$(grep -l 'delivery to carol@example.com paused' $(outbox_for alice@example.org) 2>/dev/null | head -1)
check "alice is told carol is paused" test -n "$f"
python3 "$T/layout.py" "${f:-/dev/null}" >"$T/carol.txt" 2>/dev/null
check "...the last bounce is still named" grep -Eq '^Last bounce: +hard$' "$T/carol.txt"

# Owner mail to one owner: "1 owner".
printf 'From: erin@example.net\nTo: %s-owner@lists.example.org\nSubject: hello\nMessage-ID: <own-1@example.net>\n\nHi.\n' "$L" >"$T/own.eml"
expect_eq "owner mail accepted" 0 "$(rcv "$T/own.eml" "$L-owner@lists.example.org")"
check "the log says 'forwarded to 1 owner'" grep -q 'forwarded to 1 owner$' "$CONVENE_LOG_FILE"

# A job whose one recipient is refused with 550 is not logged "delivered".
need_rcptsink
echo dave@example.org >"$T/hard"
port=
for i in $(seq 1 20); do
	p=$((20000 + (RANDOM * 7 + $$ + i * 131) % 30000))
	"$RCPTSINK" -h "$T/hard" -D "$T/rcpt.dump" "127.0.0.1:$p" 2>>"$T/rcptsink.err" &
	pid=$!
	sleep 0.3
	if kill -0 "$pid" 2>/dev/null; then port=$p; CLEANUP_PIDS="${CLEANUP_PIDS:-} $pid"; break; fi
done
check "rcptsink listening" test -n "$port"
sed -i "s|^outbound = .*|outbound = { transport = \"smtp\"; host = \"127.0.0.1\"; port = ${port:-1}; };|" "$T/convene.conf"
add frank@example.org dave@example.org
printf 'From: alice@example.org\nTo: %s@lists.example.org\nSubject: Saturday\nMessage-ID: <post-1@example.org>\n\nSee you.\n' "$L" >"$T/post.eml"
expect_eq "a post accepted" 0 "$(rcv "$T/post.eml" "$L@lists.example.org")"
cv run --once >/dev/null 2>&1
job=$(sql "SELECT max(id) FROM jobs WHERE kind = 'post'")
check "dave's 550 logged" grep -q "job=$job rcpt=<dave@example.org>: failed: 550" "$CONVENE_LOG_FILE"
check "the job's end says what happened" grep -q "job=$job: finished: 1 delivered, 1 failed" "$CONVENE_LOG_FILE"
check "...not plain 'delivered'" sh -c "! grep -q 'job=$job: delivered$' '$CONVENE_LOG_FILE'"
finish
