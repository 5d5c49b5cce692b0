#!/bin/bash
# Bounce attribution with verp = "xverp" and with dotless domains: a probe,
# whose envelope sender already names its member, goes out without XVERP
# (else Postfix encodes the member twice and the probe's own bounce names
# nobody); list mail still asks for XVERP; and a DSN naming erin@localhost,
# a member convene accepted, counts for her.
. "$(dirname "$0")/lib.sh"

# A sink that offers XVERP (smtp-sink cannot): tests/helpers/rcptsink -x.
need_rcptsink
chmod 0755 "$T"
mkdir -m 0777 "$T/sink"
port=
for i in $(seq 1 20); do
	p=$((20000 + (RANDOM * 7 + $$ + i * 149) % 30000))
	"$RCPTSINK" -x -D "$T/sink/dump" "127.0.0.1:$p" 2>>"$T/sink/err" &
	pid=$!
	sleep 0.3
	if kill -0 "$pid" 2>/dev/null; then port=$p; CLEANUP_PIDS="${CLEANUP_PIDS:-} $pid"; break; fi
done
check "a sink that offers XVERP started" test -n "$port"

write_config 'bounces = { threshold = 1.0; };' \
	"outbound = { transport = \"smtp\"; host = \"127.0.0.1\"; port = ${port:-1}; verp = \"xverp\"; };"
sed -i '/transport = "maildir"/d' "$T/convene.conf"
add_members erin@localhost frank@localhost bob@example.net

dsn_for() {
	cat <<EOM
From: MAILER-DAEMON@lists.example.org (Mail Delivery System)
To: makers-bounces@lists.example.org
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn-$2@lists.example.org>
Date: Mon, 03 Mar 2025 10:00:00 +0000
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<$1>: unknown user: "${1%@*}"

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; lists.example.org

Final-Recipient: rfc822; $1
Original-Recipient: rfc822;$1
Action: failed
Status: 5.1.1
Diagnostic-Code: x-unix; unknown user: "${1%@*}"

--B--
EOM
}

# List mail asks the relay for XVERP: the relay writes each recipient into
# the return path (makers-bounces+erin=localhost@).
expect_eq "a post accepted" 0 "$(post "$FIXTURES/post-alice.eml")"
check "run --once delivers it" cv run --once
sleep 0.5
check "the post's MAIL FROM asks for XVERP" grep -q '^X-Mail-Args: <makers-bounces@lists.example.org> XVERP' "$T/sink/dump"

# A bounce at the return path XVERP made for erin disables her: a probe is
# queued, from a return path that names her already (keyed VERP).
dsn_for erin@localhost 1 >"$T/dsn1.eml"
rc=0
"$CONVENE" -c "$T/convene.conf" receive --recipient makers-bounces+erin=localhost@lists.example.org <"$T/dsn1.eml" || rc=$?
expect_eq "bounce for erin@localhost at her XVERP address taken" 0 "$rc"
expect_eq "...erin is disabled" disabled "$(sql "SELECT status FROM members WHERE address = 'erin@localhost'")"

# The probe goes out over SMTP with XVERP on, but does not ask for it.
: >"$T/sink/dump"
check "run --once sends the probe" cv run --once
sleep 0.5
probe=$(grep '^X-Mail-Args:' "$T/sink/dump" | grep 'makers-bounces+' || true)
echo "# $probe"
check "the probe's sender names erin once" sh -c "printf '%s\n' \"\$1\" | grep -Eq '^X-Mail-Args: <makers-bounces\+([0-9a-f]+\.)?erin=localhost@lists.example.org>'" _ "$probe"
check "...without XVERP" sh -c "! printf '%s\n' \"\$1\" | grep -qi 'XVERP'" _ "$probe"
check "...and never twice encoded" sh -c "! grep -q 'erin=localhost+erin=localhost' '$T/sink/dump'"

# A DSN for a member at a dotless domain, sent to the plain bounce address
# (no VERP to go by) a little after the post: the report itself must name
# him.
dsn_for frank@localhost 2 >"$T/dsn2.eml"
rc=0
"$CONVENE" -c "$T/convene.conf" receive --recipient makers-bounces@lists.example.org <"$T/dsn2.eml" || rc=$?
expect_eq "DSN for frank@localhost taken" 0 "$rc"
expect_eq "...and counted for him" 1.0 "$(sql "SELECT bounce_score FROM members WHERE address = 'frank@localhost'")"
check "the parser names frank@localhost" sh -c "'$top_builddir/tests/helpers/dsnparse' '$T/dsn2.eml' | grep -q 'frank@localhost'"
# In running text a dotless word@word is not taken for an address.
printf 'From: MAILER-DAEMON@example.net\nTo: makers-bounces@lists.example.org\nSubject: failure notice\n\nSorry, we could not deliver your mail.\nContact root@localhost for help.\n' >"$T/text.eml"
check "...but not root@localhost from running text" sh -c "! '$top_builddir/tests/helpers/dsnparse' '$T/text.eml' | grep -q 'root@localhost'"
finish
