#!/bin/sh
# One robot check (RFC 3834) for every answer and notice: a hold or reject
# notice never goes to an auto-reply, a bounce or a multipart/report, on
# any path (hold, reject by policy, reject by a leader, expiry); people
# still get theirs.
. "$(dirname "$0")/lib.sh"

write_config 'hold_expiry = "1h";'
add_members bob@example.net

# robot NAME FROM HEADER: a non-member post from FROM with one more header
# line (\n for none) into $T/NAME.eml.
robot() {
	{
		printf 'Date: Sat, 21 Nov 2026 12:00:00 +0000\n'
		printf 'From: %s\n' "$2"
		printf 'To: makers@lists.example.org\n'
		printf 'Subject: Re: your message\n'
		printf 'Message-ID: <%s@example.net>\n' "$1"
		[ -n "$3" ] && printf '%s\n' "$3"
		printf '\nI am away until Monday.\n'
	} >"$T/$1.eml"
}
robot vacation-1 vac1@example.net 'Auto-Submitted: auto-replied'
robot vacation-2 vac2@example.net 'X-Autoreply: yes'
robot vacation-3 vac3@example.net 'Precedence: auto_reply'
robot bounce-1 MAILER-DAEMON@mx.example.net 'X-Nothing: else'
robot bounce-2 bnc2@example.net 'Return-Path: <>'
robot report-1 rep1@example.net 'Content-Type: multipart/report; report-type=delivery-status; boundary="B"'
robot person-1 pat@example.net ''
ROBOTS="vac1@example.net vac2@example.net vac3@example.net mailer-daemon@mx.example.net bnc2@example.net rep1@example.net"

held() { sql "SELECT count(*) FROM holds WHERE message_id = '$1@example.net' AND state = '${2:-held}'"; }
flush() { cv run --once >/dev/null 2>&1; }
clear_outbox() { rm -f "$T"/outbox/new/*; }
subjects_to() {
	local f
	for f in $(outbox_for "$1"); do header "$f" Subject; done
}

# ---- held: the leaders hear of every post, robots get no "awaits"
for m in vacation-1 vacation-2 vacation-3 bounce-1 bounce-2 report-1 person-1; do
	expect_eq "$m: exit 0" 0 "$(post "$T/$m.eml")"
	expect_eq "$m: held" 1 "$(held "$m")"
done
flush
expect_eq "the leader got a notice for each of the seven" 7 \
	"$(subjects_to alice@example.org | grep -c 'held post')"
for a in $ROBOTS; do
	expect_eq "no hold notice to the robot $a" "" "$(outbox_for "$a")"
done
expect_eq "the person got the 'awaits moderation' notice" \
	"Your post to makers awaits moderation" "$(subjects_to pat@example.net)"

# ---- rejected by a leader: the notice goes to the person only
clear_outbox
for m in vacation-1 bounce-2 report-1 person-1; do
	id=$(sql "SELECT id FROM holds WHERE message_id = '$m@example.net'")
	check "$m: rejected from the command line" sh -c "'$CONVENE' -c '$T/convene.conf' held makers reject $id 'not here' >/dev/null"
	expect_eq "$m: state rejected" 1 "$(held "$m" rejected)"
done
flush
for a in vac1@example.net bnc2@example.net rep1@example.net; do
	expect_eq "no rejection notice to the robot $a" "" "$(outbox_for "$a")"
done
expect_eq "the person got the rejection" \
	"Your post to makers was not accepted" "$(subjects_to pat@example.net)"

# ---- expired: the same
clear_outbox
robot person-2 quinn@example.net ''
post "$T/person-2.eml" >/dev/null
flush
clear_outbox
CONVENE_NOW=$(($(date +%s) + 7200)) cv run --once >/dev/null 2>&1
for m in vacation-2 vacation-3 bounce-1 person-2; do
	expect_eq "$m: expired" 1 "$(held "$m" expired)"
done
for a in vac2@example.net vac3@example.net mailer-daemon@mx.example.net; do
	expect_eq "no expiry notice to the robot $a" "" "$(outbox_for "$a")"
done
expect_eq "the person got the expiry notice" \
	"Your post to makers expired" "$(subjects_to quinn@example.net)"

# ---- rejected by policy (announce list, announce_action = reject)
write_config 'hold_expiry = "1h"; announce_action = "reject";'
sed -i 's/policy = "members"/policy = "announce"/' "$T/convene.conf"
clear_outbox
for m in vacation-1 vacation-2 bounce-1 report-1 person-1; do
	sed -i "s/^Message-ID: <$m@/Message-ID: <ann-$m@/" "$T/$m.eml"
	expect_eq "announce $m: exit 0" 0 "$(post "$T/$m.eml")"
done
flush
expect_eq "announce: nothing held" 0 "$(sql "SELECT count(*) FROM holds WHERE message_id LIKE 'ann-%'")"
expect_eq "announce: every post rejected" 5 "$(sql "SELECT count(*) FROM events WHERE kind = 'post.rejected'")"
for a in vac1@example.net vac2@example.net mailer-daemon@mx.example.net rep1@example.net; do
	expect_eq "no reject notice to the robot $a" "" "$(outbox_for "$a")"
done
expect_eq "the person got the reject notice" \
	"Your post to makers was not accepted" "$(subjects_to pat@example.net)"

finish
