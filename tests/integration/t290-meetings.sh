#!/bin/bash
# t290-meetings - meetings end to end through the real binary: leaders
# schedule by mail ("meeting" with key lines, or an .ics) and by the CLI,
# a non-leader changes nothing; every member who gets mail receives one
# invitation naming them (one job with per-recipient content); answers
# at NAME-rsvp+ID from Google, Outlook and Apple calendars and plain
# yes/no/maybe, the latest counting once; forged and non-member answers
# change nothing; capacity 2 with 3 yes gives a wait list that moves on a
# decline; rsvps by mail and CLI; updates and cancellations reach everyone
# invited; minutes (three ways) reach the archive's thread and the list.
. "$(dirname "$0")/lib.sh"
set -u

MEETINGS=$top_srcdir/tests/fixtures/meetings
PY=$(icalendar_python) ||
	{ echo "python3-icalendar is not installed: cannot read the invitations"; exit 77; }
ICALPY="$PY $top_srcdir/tests/helpers/icalpy.py"

# (Answers to one address are limited to 5 an hour by default: this test
# sends a leader more. With a one-click URL, list mail carries each
# member's own unsubscribe token.)
write_config 'council = [ "carol@example.com" ];
    unsubscribe_url = "https://lists.example.org/u/";
    meetings = { reminders = [ "24h", "1h" ]; timezone = "Europe/Berlin"; };' \
	'answer_rate_limit = "100/1h";'
add_members alice@example.org bob@example.net carol@example.com \
	dave@example.org gina@example.org erin@example.org frank@example.com
cv members makers set erin@example.org digest >/dev/null
cv members makers set frank@example.com nomail >/dev/null
# Everyone who gets mail: invitations reach digest members too.
INVITED="alice@example.org bob@example.net carol@example.com dave@example.org erin@example.org gina@example.org"

flush() { cv run --once >/dev/null 2>&1; }
clear_outbox() { rm -f "$T"/outbox/new/*; }
# fill FIXTURE OUT KEY=VALUE...: the fixture with @KEY@ replaced; a line
# @ICS_BASE64@ becomes $ICS (a file) in base64.
fill() {
	local in=$MEETINGS/$1 out=$2 kv
	shift 2
	cp "$in" "$out"
	for kv in "$@"; do
		sed -i "s|@${kv%%=*}@|${kv#*=}|g" "$out"
	done
	if grep -q '^@ICS_BASE64@$' "$out"; then
		base64 -w 76 "$ICS" >"$out.b64"
		awk -v f="$out.b64" '/^@ICS_BASE64@$/ { while ((getline l < f) > 0) print l; next } { print }' \
			"$out" >"$out.tmp" && mv "$out.tmp" "$out"
	fi
}
# mail_to ADDR PATTERN: outbox files to ADDR whose decoded Subject matches.
mail_to() {
	local f
	for f in $(outbox_for "$1"); do
		if subject_of "$f" | grep -Eq "$2"; then echo "$f"; fi
	done
}
count() { wc -l | tr -d ' '; }
# body_of FILE: the decoded text of a message (quoted-printable undone).
body_of() {
	$PY -c 'import email, email.policy, sys
d = open(sys.argv[1], "rb").read()
while d.startswith(b"X-Convene-Envelope-"): d = d.split(b"\n", 1)[1]
m = email.message_from_bytes(d, policy=email.policy.default)
print(m.get_body(("plain",)).get_content())' "$1"
}
rsvp_of() { sql "SELECT rsvp FROM rsvps WHERE meeting = $1 AND address = '$2'"; }
rsvps_all() { sql "SELECT address || '=' || rsvp FROM rsvps WHERE meeting = $1 ORDER BY address" | tr '\n' ' ' | sed 's/ $//'; }
uid_of() { sql "SELECT uid FROM meetings WHERE id = $1"; }
mid_of() { sql "SELECT message_id FROM meetings WHERE id = $1"; }
# to_request FILE: a mail to makers-request; prints the exit status.
to_request() { post "$1" makers-request@lists.example.org; }
to_rsvp() { post "$2" "makers-rsvp+$1@lists.example.org"; }
# next_n NAME: a counter kept in a file, so that calls in $(...) count too
# (each answer is a new mail with its own Message-ID).
next_n() {
	local n
	n=$(($(cat "$T/n-$1" 2>/dev/null || echo 0) + 1))
	echo "$n" >"$T/n-$1"
	echo "$n"
}
# plain ID FROM WORD: a plain reply with WORD on top, sent to rsvp+ID.
plain() {
	local n_plain
	n_plain=$(next_n plain)
	fill reply-plain.eml "$T/plain.eml" ID="$1" FROM="$2" NAME=Someone \
		WORD="$3" MID="plain-$n_plain" THREAD="$(mid_of "$1")"
	to_rsvp "$1" "$T/plain.eml"
}
# calendar FIXTURE ID FROM ATTENDEE PARTSTAT [UID]: a calendar's REPLY.
calendar() {
	local n_cal
	n_cal=$(next_n cal)
	ICS=$T/reply.ics
	fill reply-outlook.ics "$ICS" UID="${6:-$(uid_of "$2")}" \
		ATTENDEE="$4" PARTSTAT="$5"
	fill "$1" "$T/cal.eml" ID="$2" FROM="$3" ATTENDEE="$4" PARTSTAT="$5" \
		UID="${6:-$(uid_of "$2")}" MID="cal-$n_cal"
	to_rsvp "$2" "$T/cal.eml"
}

# ---- scheduling: only leaders ----

fill schedule.eml "$T/s-bob.eml" ID=bob WHEN="2031-03-27 19:00"
sed -i 's/^From: .*/From: Bob <bob@example.net>/' "$T/s-bob.eml"
expect_eq "a member's 'meeting' exits 0" 0 "$(to_request "$T/s-bob.eml")"
expect_eq "...and schedules nothing" 0 "$(sql 'SELECT count(*) FROM meetings')"
flush
check "...the member is told only leaders schedule" grep -q "Only the leaders" <<<"$(body_of "$(mail_to bob@example.net 'commands')")"
fill schedule.eml "$T/s-carol.eml" ID=carol WHEN="2031-03-27 19:00"
sed -i 's/^From: .*/From: Carol <carol@example.com>/' "$T/s-carol.eml"
to_request "$T/s-carol.eml" >/dev/null
expect_eq "the council without council_may_schedule schedules nothing" 0 "$(sql 'SELECT count(*) FROM meetings')"

# A leader's request with a problem: nothing scheduled, the reason told.
clear_outbox
fill schedule.eml "$T/s-past.eml" ID=past WHEN="2020-01-01 10:00"
to_request "$T/s-past.eml" >/dev/null
fill schedule.eml "$T/s-bad.eml" ID=bad WHEN="next tuesday"
to_request "$T/s-bad.eml" >/dev/null
expect_eq "a time in the past or unreadable schedules nothing" 0 "$(sql 'SELECT count(*) FROM meetings')"
flush
check "the leader hears why (past)" grep -q "that time has passed" <<<"$(for f in $(mail_to alice@example.org 'commands'); do body_of "$f"; done)"
check "the leader hears why (unreadable)" grep -q "a date and time like" <<<"$(for f in $(mail_to alice@example.org 'commands'); do body_of "$f"; done)"

# ---- a leader schedules by mail: invitations to every member ----

clear_outbox
fill schedule.eml "$T/s1.eml" ID=1 WHEN="2031-03-27 19:00"
expect_eq "the leader's 'meeting' exits 0" 0 "$(to_request "$T/s1.eml")"
expect_eq "meeting 1 is scheduled" "1|Repair café|scheduled|2|5400" \
	"$(sql "SELECT id || '|' || title || '|' || state || '|' || capacity || '|' || duration FROM meetings")"
expect_eq "at 19:00 Berlin time (18:00 UTC)" "$(date -ud '2031-03-27 18:00' +%s)" "$(sql 'SELECT starts_at FROM meetings WHERE id = 1')"
expect_eq "the agenda keeps its lines" "Soldering irons
The 3D printer
Bring what is broken" "$(sql 'SELECT agenda FROM meetings WHERE id = 1')"
expect_eq "one delivery job with per-recipient content" "1|mail" \
	"$(sql "SELECT count(*) || '|' || max(audience) FROM jobs WHERE personal IS NOT NULL")"
flush
ans=$(mail_to alice@example.org 'commands')
check "the leader is told it is scheduled" grep -q "Meeting 1 is scheduled" <<<"$(body_of "$ans")"
UID1=$(uid_of 1)
MID1=$(mid_of 1)
expect_eq "each member who gets mail has one invitation, nomail members none" "$INVITED" \
	"$(for f in $(outbox_files); do f=$T/outbox/new/$f; subject_of "$f" | grep -q '^\[makers\] Invitation' && sed -n 's/^X-Convene-Envelope-To: <\(.*\)>$/\1/p' "$f"; done | sort | tr '\n' ' ' | sed 's/ $//')"
bad=0
for a in $INVITED; do
	f=$(mail_to "$a" 'Invitation')
	[ "$(header "$f" To)" = "$a" ] || bad=$((bad + 1))
	$ICALPY "$f" >"$T/inv.txt" || bad=$((bad + 1))
	grep -qx "attendee=mailto:$a" "$T/inv.txt" || bad=$((bad + 1))
	grep -qx "uid=$UID1" "$T/inv.txt" || bad=$((bad + 1))
	[ "$(header "$f" Message-ID)" = "<$MID1>" ] || bad=$((bad + 1))
done
expect_eq "each invitation names its member in To: and ATTENDEE, with the meeting's UID" 0 "$bad"
f=$(mail_to bob@example.net 'Invitation')
expect_eq "Reply-To is the answer address" "makers-rsvp+1@lists.example.org" "$(header "$f" Reply-To)"
check "ORGANIZER is the answer address" grep -qx "organizer=mailto:makers-rsvp+1@lists.example.org" "$T/inv.txt"
check "the invitation has the list's List-Id" grep -q '^List-Id: .*<makers.lists.example.org>' "$f"
check "a text part beside text/calendar; method=REQUEST" sh -c "grep -q '^Content-Type: text/plain' '$f' && grep -q '^Content-Type: text/calendar; charset=utf-8; method=REQUEST' '$f'"
# One-click unsubscribe (RFC 8058) as on other list mail: each member's
# copy names their own token (compared below with the one on the minutes,
# an ordinary post); the archived copy names nobody's.
declare -A TOKEN
for a in $INVITED; do
	TOKEN[$a]=$(header "$(mail_to "$a" 'Invitation')" List-Unsubscribe |
		sed -n 's|^<https://lists.example.org/u/\([0-9]*-[A-Za-z0-9_-]*\)>, <mailto:makers-unsubscribe@lists.example.org>$|\1|p')
done
expect_eq "each invitation has its member's own one-click token (6 different)" 6 \
	"$(printf '%s\n' "${TOKEN[@]}" | grep . | sort -u | wc -l | tr -d ' ')"
check "...with List-Unsubscribe-Post: List-Unsubscribe=One-Click" grep -qx 'List-Unsubscribe-Post: List-Unsubscribe=One-Click' "$f"
check "...and the archived copy names no token" sh -c \
	"! sqlite3 '$T/convene.db' \"SELECT raw FROM messages m JOIN archive a ON a.message = m.id WHERE a.message_id = '$MID1'\" | grep -q '/u/'"
expect_eq "the invitation is archived: the root of the meeting's thread" "1|$MID1" \
	"$(sql "SELECT count(*) || '|' || max(a.message_id) FROM archive a JOIN meetings m ON m.archive = a.id WHERE a.thread = a.id")"
check "the archived copy asks nobody (METHOD:PUBLISH, no ATTENDEE)" sh -c \
	"sqlite3 '$T/convene.db' \"SELECT raw FROM messages m JOIN archive a ON a.message = m.id WHERE a.message_id = '$MID1'\" | grep -q '^METHOD:PUBLISH' &&
	 ! sqlite3 '$T/convene.db' \"SELECT raw FROM messages m JOIN archive a ON a.message = m.id WHERE a.message_id = '$MID1'\" | grep -q ATTENDEE"

# ---- an .ics attached, and the CLI ----

ICS=$T/board.ics
fill outlook.ics "$ICS" DATE=20310403
fill schedule-ics.eml "$T/s2.eml" ID=2
expect_eq "a leader's .ics exits 0" 0 "$(to_request "$T/s2.eml")"
expect_eq "meeting 2 from the .ics: title, place, capacity from the text" "Board meeting|Town hall, room 2|12|5400" \
	"$(sql "SELECT title || '|' || location || '|' || capacity || '|' || duration FROM meetings WHERE id = 2")"
# 18:00 in Outlook's "W. Europe Standard Time" on 2031-04-03 is summer time.
expect_eq "the .ics time, read in its own VTIMEZONE (18:00 CEST = 16:00 UTC)" \
	"$(date -ud '2031-04-03 16:00' +%s)" "$(sql 'SELECT starts_at FROM meetings WHERE id = 2')"
out=$(cv meeting makers schedule title="Weekly call" when="2031-03-20 18:30" \
	duration=45m repeat="weekly 6 times" url=https://meet.example.org/makers 2>/dev/null)
expect_eq "convene meeting schedule" "meeting 3: scheduled, invitations queued" "$out"
expect_eq "the CLI's meeting repeats weekly" "FREQ=WEEKLY;COUNT=6|alice@example.org" \
	"$(sql "SELECT rrule || '|' || organizer FROM meetings WHERE id = 3")"
out=$(cv meeting makers schedule title="Bad" when="2031-03-20 18:30" capacity=-3 2>&1)
expect_eq "the CLI refuses a bad value, saying why (answer-lines)" \
	"convene: capacity: Nothing was done: the capacity must be a number of places (0: no limit)." "$out"
out=$(cv meeting makers schedule title="Bad" 2>&1)
check "the CLI refuses a meeting without a time ($out)" grep -q "a new meeting needs a time" <<<"$out"
out=$(cv meeting makers update 99 where=Hall 2>&1)
expect_eq "the CLI refuses an unknown meeting" \
	"convene: update: Nothing was done: there is no meeting 99 on makers@lists.example.org." "$out"
# Every answer line the meeting code names is in answer-lines (a missing
# one would show as "[key]" in the answer).
missing=
for k in $(grep -o '"\(meeting\|minutes\)-[a-z-]*"' "$top_srcdir/src/pipeline/meeting.c" | tr -d '"' | sort -u); do
	[ -f "$top_srcdir/templates/en/$k.txt" ] || grep -q "^$k: " "$top_srcdir/templates/en/answer-lines.txt" || missing="$missing $k"
done
expect_eq "every answer line the meeting code names exists" "" "$missing"
check "meeting list shows the three" sh -c "[ \$($CONVENE -c '$T/convene.conf' meeting makers list | wc -l) -eq 4 ]"
flush

# ---- answers: calendars and plain words, the latest counting once ----

clear_outbox
expect_eq "Google Calendar's ACCEPTED exits 0" 0 "$(calendar reply-google.eml 1 bob@example.net bob@example.net ACCEPTED)"
expect_eq "...bob is going" going "$(rsvp_of 1 bob@example.net)"
calendar reply-google.eml 1 bob@example.net bob@example.net ACCEPTED >/dev/null
expect_eq "the same REPLY again counts once" "1" "$(sql "SELECT count(*) FROM rsvps WHERE meeting = 1")"
expect_eq "a plain 'Yes' above the quoted invitation exits 0" 0 "$(plain 1 carol@example.com 'Yes, I will be there!')"
expect_eq "...carol is going" going "$(rsvp_of 1 carol@example.com)"
plain 1 carol@example.com 'yes' >/dev/null
expect_eq "a second yes counts once" 2 "$(sql "SELECT count(*) FROM rsvps WHERE meeting = 1 AND rsvp = 'going'")"
flush
expect_eq "bob is told he is coming (once per answer)" 2 "$(mail_to bob@example.net 'You are coming' | count)"
f=$(mail_to bob@example.net 'You are coming' | head -1)
expect_eq "the confirmation comes from the answer address" "makers-rsvp+1@lists.example.org" "$(header "$f" From)"

# Capacity 2: the third yes waits.
clear_outbox
plain 1 dave@example.org 'yes' >/dev/null
expect_eq "capacity 2, a third yes: dave waits" waiting "$(rsvp_of 1 dave@example.org)"
plain 1 gina@example.org 'Y' >/dev/null
expect_eq "a fourth: gina waits after dave" "1 2" \
	"$(sql "SELECT position FROM rsvps WHERE meeting = 1 AND rsvp = 'waiting' ORDER BY address" | tr '\n' ' ' | sed 's/ $//')"
flush
check "dave hears he is number 1 on the wait list" grep -q "number 1 on the wait" <<<"$(body_of "$(mail_to dave@example.org 'Wait list')")"
check "gina hears she is number 2" grep -q "number 2 on the wait" <<<"$(body_of "$(mail_to gina@example.org 'Wait list')")"
expect_eq "headcount by the CLI" "going: 2
waiting: 2
maybe: 0
declined: 0" "$(cv meeting makers rsvps 1 | grep -E '^(going|waiting|maybe|declined):')"

# Outlook declines for bob: the wait list moves up.
clear_outbox
expect_eq "Outlook's DECLINED (base64) exits 0" 0 "$(calendar reply-outlook.eml 1 bob@example.net bob@example.net DECLINED)"
expect_eq "...bob declined, dave moved up, gina waits first" \
	"bob@example.net=declined carol@example.com=going dave@example.org=going gina@example.org=waiting" "$(rsvps_all 1)"
flush
expect_eq "dave is told he has a place" 1 "$(mail_to dave@example.org 'You have a place' | count)"
check "bob is told he is not coming" test -n "$(mail_to bob@example.net 'Not coming')"
# Apple Calendar: carol, TENTATIVE (quoted-printable): her place goes to gina.
expect_eq "Apple's TENTATIVE exits 0" 0 "$(calendar reply-apple.eml 1 carol@example.com carol@example.com TENTATIVE)"
expect_eq "...carol maybe, gina moved up" \
	"bob@example.net=declined carol@example.com=maybe dave@example.org=going gina@example.org=going" "$(rsvps_all 1)"
# The latest answer counts: carol says yes again, and waits (full).
plain 1 carol@example.com 'yes' >/dev/null
expect_eq "the latest counts: carol's yes now waits" waiting "$(rsvp_of 1 carol@example.com)"
expect_eq "one answer a member: 4 rows for 4 people" 4 "$(sql 'SELECT count(*) FROM rsvps WHERE meeting = 1')"
plain 1 gina@example.org 'No, sorry' >/dev/null
expect_eq "gina's no moves carol up" going "$(rsvp_of 1 carol@example.com)"
plain 1 gina@example.org 'maybe' >/dev/null
expect_eq "maybe is recorded" maybe "$(rsvp_of 1 gina@example.org)"

# ---- forged and non-member answers change nothing ----

before=$(rsvps_all 1)
logged=$(grep -c 'meeting [0-9]*: dropped' "$CONVENE_LOG_FILE")
plain 1 mallory@example.net 'yes' >/dev/null
expect_eq "a non-member's yes changes nothing" "$before" "$(rsvps_all 1)"
calendar reply-google.eml 1 mallory@example.net alice@example.org ACCEPTED >/dev/null
expect_eq "a non-member's REPLY for a member changes nothing" "$before" "$(rsvps_all 1)"
calendar reply-google.eml 1 bob@example.net dave@example.org DECLINED >/dev/null
expect_eq "a member's REPLY for another member changes nothing" "$before" "$(rsvps_all 1)"
calendar reply-google.eml 1 bob@example.net bob@example.net ACCEPTED "$(uid_of 2)" >/dev/null
expect_eq "a REPLY with another meeting's UID changes nothing" "$before" "$(rsvps_all 1)"
fill reply-google.eml "$T/cancel.eml" ID=1 FROM=bob@example.net ATTENDEE=bob@example.net \
	PARTSTAT=ACCEPTED UID="$UID1" MID=forged-cancel
sed -i 's/^METHOD:REPLY/METHOD:CANCEL/; s/^STATUS:CONFIRMED/STATUS:CANCELLED/' "$T/cancel.eml"
to_rsvp 1 "$T/cancel.eml" >/dev/null
expect_eq "a CANCEL sent to the answer address changes nothing" "$before|scheduled" "$(rsvps_all 1)|$(sql 'SELECT state FROM meetings WHERE id = 1')"
plain 99 bob@example.net 'yes' >/dev/null
expect_eq "an answer to an unknown meeting changes nothing" "0" "$(sql 'SELECT count(*) FROM rsvps WHERE meeting = 99')"
fill reply-plain.eml "$T/auto.eml" ID=1 FROM=bob@example.net NAME=Bob WORD=yes MID=auto THREAD="$MID1"
sed -i 's/^Subject: .*/Subject: Out of office/; s/^MIME-Version/Auto-Submitted: auto-replied\nMIME-Version/' "$T/auto.eml"
to_rsvp 1 "$T/auto.eml" >/dev/null
expect_eq "an auto-reply changes nothing" declined "$(rsvp_of 1 bob@example.net)"
plain 1 bob@example.net 'I will think about it' >/dev/null
expect_eq "a reply without yes, no or maybe changes nothing" declined "$(rsvp_of 1 bob@example.net)"
expect_eq "each of the 8 is logged" $((logged + 8)) "$(grep -c 'meeting [0-9]*: dropped' "$CONVENE_LOG_FILE")"

# ---- the headcount by mail ----

clear_outbox
printf 'From: alice@example.org\nTo: makers-request@lists.example.org\nSubject: rsvps 1\nMessage-ID: <rsvps-1@example.org>\n\nrsvps 1\n' >"$T/rsvps.eml"
to_request "$T/rsvps.eml" >/dev/null
printf 'From: bob@example.net\nTo: makers-request@lists.example.org\nSubject: rsvps 1\nMessage-ID: <rsvps-2@example.net>\n\nrsvps 1\n' >"$T/rsvps2.eml"
to_request "$T/rsvps2.eml" >/dev/null
flush
f=$(mail_to alice@example.org 'commands')
body_of "$f" >"$T/hc.txt"
check "the leader gets the headcount by mail" grep -q "going 2 (places: 2), wait list 0, maybe 1, declined 1" "$T/hc.txt"
check "...with who answered" grep -Eq "^ *declined +bob@example.net" "$T/hc.txt"
check "a member gets no headcount" sh -c "! grep -q 'going 2' '$(mail_to bob@example.net 'commands')'"
check "...but is told only leaders may" grep -q "Only the leaders" <<<"$(body_of "$(mail_to bob@example.net 'commands')")"

# ---- updates and cancellation reach everyone invited ----

# Dave, who is going, leaves the list: he still hears of changes.
cv members makers remove dave@example.org >/dev/null
clear_outbox
out=$(cv meeting makers update 1 when="2031-04-03 19:00" capacity=3 2>/dev/null)
expect_eq "convene meeting update" "meeting 1: updated, the update queued" "$out"
expect_eq "SEQUENCE 1, the new time" "1|$(date -ud '2031-04-03 17:00' +%s)|3" \
	"$(sql "SELECT sequence || '|' || starts_at || '|' || capacity FROM meetings WHERE id = 1")"
flush
got=$(for f in $(outbox_files); do f=$T/outbox/new/$f; subject_of "$f" | grep -q '^\[makers\] Updated' && sed -n 's/^X-Convene-Envelope-To: <\(.*\)>$/\1/p' "$f"; done | sort | tr '\n' ' ' | sed 's/ $//')
expect_eq "the update reaches the members and the former member who is going" \
	"alice@example.org bob@example.net carol@example.com dave@example.org erin@example.org gina@example.org" "$got"
f=$(mail_to dave@example.org 'Updated')
$ICALPY "$f" >"$T/upd.txt"
check "the update: METHOD:REQUEST, the same UID, SEQUENCE 1, dave as ATTENDEE" sh -c \
	"grep -qx method=REQUEST '$T/upd.txt' && grep -qx 'uid=$UID1' '$T/upd.txt' && grep -qx sequence=1 '$T/upd.txt' && grep -qx attendee=mailto:dave@example.org '$T/upd.txt'"
expect_eq "the update is in the meeting's thread" "$(sql "SELECT thread FROM archive WHERE message_id = '$MID1'")" \
	"$(sql "SELECT thread FROM archive WHERE message_id = '$(header "$f" Message-ID | tr -d '<>')'")"
# By mail: "meeting update 1" with a new place.
clear_outbox
printf 'From: alice@example.org\nTo: makers-request@lists.example.org\nSubject: meeting update 1\nMessage-ID: <upd-2@example.org>\n\nwhere: Town hall, room 3\n' >"$T/upd.eml"
to_request "$T/upd.eml" >/dev/null
expect_eq "'meeting update 1' by mail: SEQUENCE 2, the new place" "2|Town hall, room 3" \
	"$(sql "SELECT sequence || '|' || location FROM meetings WHERE id = 1")"
printf 'From: bob@example.net\nTo: makers-request@lists.example.org\nSubject: meeting cancel 1\nMessage-ID: <c-bob@example.net>\n\n' >"$T/c-bob.eml"
to_request "$T/c-bob.eml" >/dev/null
expect_eq "a member's 'meeting cancel' changes nothing" scheduled "$(sql 'SELECT state FROM meetings WHERE id = 1')"
flush
clear_outbox
printf 'From: alice@example.org\nTo: makers-request@lists.example.org\nSubject: meeting cancel 1\nMessage-ID: <c-1@example.org>\n\nSorry, the room is gone.\n' >"$T/c1.eml"
expect_eq "'meeting cancel 1' exits 0" 0 "$(to_request "$T/c1.eml")"
expect_eq "cancelled, SEQUENCE 3" "cancelled|3" "$(sql "SELECT state || '|' || sequence FROM meetings WHERE id = 1")"
flush
got=$(for f in $(outbox_files); do f=$T/outbox/new/$f; subject_of "$f" | grep -q '^\[makers\] Cancelled' && sed -n 's/^X-Convene-Envelope-To: <\(.*\)>$/\1/p' "$f"; done | sort | tr '\n' ' ' | sed 's/ $//')
expect_eq "the cancellation reaches everyone invited" \
	"alice@example.org bob@example.net carol@example.com dave@example.org erin@example.org gina@example.org" "$got"
$ICALPY "$(mail_to carol@example.com 'Cancelled')" >"$T/can.txt"
check "the cancellation: METHOD:CANCEL, STATUS:CANCELLED, SEQUENCE 3, the same UID" sh -c \
	"grep -qx method=CANCEL '$T/can.txt' && grep -qx ctmethod=CANCEL '$T/can.txt' && grep -qx status=CANCELLED '$T/can.txt' && grep -qx sequence=3 '$T/can.txt' && grep -qx 'uid=$UID1' '$T/can.txt'"
before=$(rsvps_all 1)
plain 1 bob@example.net 'yes' >/dev/null
expect_eq "answers to a cancelled meeting change nothing" "$before" "$(rsvps_all 1)"

# ---- minutes: by command, by a reply in the thread, at the answer address ----

MID2=$(mid_of 2)
clear_outbox
printf 'From: Alice Leader <alice@example.org>\nTo: makers-request@lists.example.org\nSubject: minutes 2\nMessage-ID: <minutes-2@example.org>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\nWe met, twelve came.\nDecided: new bylaws.\n' >"$T/m2.eml"
expect_eq "'minutes 2' to the request address exits 0" 0 "$(to_request "$T/m2.eml")"
expect_eq "...recorded as meeting 2's minutes" \
	"$(sql "SELECT id FROM archive WHERE message_id = 'minutes-2@example.org'")" "$(sql 'SELECT minutes FROM meetings WHERE id = 2')"
# The worker threads what was accepted (archive_catch_up) as it delivers.
flush
expect_eq "the minutes are archived in meeting 2's thread" \
	"$(sql "SELECT thread FROM archive WHERE message_id = '$MID2'")|$MID2" \
	"$(sql "SELECT thread || '|' || in_reply_to FROM archive WHERE message_id = 'minutes-2@example.org'")"
got=$(for f in $(outbox_files); do f=$T/outbox/new/$f; [ "$(header "$f" Message-ID)" = "<minutes-2@example.org>" ] && sed -n 's/^X-Convene-Envelope-To: <\(.*\)>$/\1/p' "$f"; done | sort | tr '\n' ' ' | sed 's/ $//')
expect_eq "the minutes reach the list's members (immediate delivery)" \
	"alice@example.org bob@example.net carol@example.com gina@example.org" "$got"
f=$(mail_to bob@example.net 'Minutes')
expect_eq "Subject: [makers] Minutes: Board meeting (...)" "[makers] Minutes: Board meeting" "$(subject_of "$f" | sed 's/ (.*//')"
check "the minutes text reached the list" grep -q "Decided: new bylaws." <<<"$(body_of "$f")"
expect_eq "bob's one-click token on the minutes (a post) is the one on his invitation" \
	"<https://lists.example.org/u/${TOKEN[bob@example.net]}>, <mailto:makers-unsubscribe@lists.example.org>" \
	"$(header "$f" List-Unsubscribe)"
check "the answer tells the leader" grep -q "minutes of meeting 2" <<<"$(body_of "$(mail_to alice@example.org 'commands')")"

# A leader's reply in the thread, to the list: "minutes" above the text.
MID3=$(mid_of 3)
printf 'From: alice@example.org\nTo: makers@lists.example.org\nSubject: Re: [makers] Invitation: Weekly call\nMessage-ID: <minutes-3@example.org>\nIn-Reply-To: <%s>\nReferences: <%s>\n\nminutes\n\nFirst call went well.\n' "$MID3" "$MID3" >"$T/m3.eml"
expect_eq "a leader's 'minutes' reply to the list exits 0" 0 "$(post "$T/m3.eml")"
flush
expect_eq "...recorded as meeting 3's minutes, in its thread" \
	"$(sql "SELECT id FROM archive WHERE message_id = 'minutes-3@example.org'")|$(sql "SELECT thread FROM archive WHERE message_id = '$MID3'")" \
	"$(sql 'SELECT minutes FROM meetings WHERE id = 3')|$(sql "SELECT thread FROM archive WHERE message_id = 'minutes-3@example.org'")"
f=$(outbox_for gina@example.org | while read -r f; do [ "$(header "$f" Message-ID)" = "<minutes-3@example.org>" ] && echo "$f"; done)
check "...sent to the list, the 'minutes' line taken off" sh -c "grep -q 'First call went well.' '$f' && ! grep -qx minutes '$f'"
# The same from a member is an ordinary post: no minutes recorded.
printf 'From: bob@example.net\nTo: makers@lists.example.org\nSubject: Re: [makers] Invitation: Weekly call\nMessage-ID: <bob-3@example.net>\nIn-Reply-To: <%s>\n\nminutes please!\n' "$MID3" >"$T/b3.eml"
post "$T/b3.eml" >/dev/null
expect_eq "a member's 'minutes' reply is an ordinary post" \
	"$(sql "SELECT id FROM archive WHERE message_id = 'minutes-3@example.org'")|1" \
	"$(sql 'SELECT minutes FROM meetings WHERE id = 3')|$(sql "SELECT count(*) FROM archive WHERE message_id = 'bob-3@example.net'")"
# A leader's reply to the invitation (it goes to the answer address).
printf 'From: alice@example.org\nTo: makers-rsvp+3@lists.example.org\nSubject: Re: Invitation\nMessage-ID: <minutes-3b@example.org>\nIn-Reply-To: <%s>\n\nMinutes:\nSecond call: we chose a logo.\n' "$MID3" >"$T/m3b.eml"
expect_eq "a leader's 'minutes' to the answer address exits 0" 0 "$(to_rsvp 3 "$T/m3b.eml")"
flush
expect_eq "...archived in the thread as the latest minutes" \
	"$(sql "SELECT id FROM archive WHERE message_id = 'minutes-3b@example.org'")|$(sql "SELECT thread FROM archive WHERE message_id = '$MID3'")" \
	"$(sql 'SELECT minutes FROM meetings WHERE id = 3')|$(sql "SELECT thread FROM archive WHERE message_id = 'minutes-3b@example.org'")"
expect_eq "...and no answer was recorded for the leader" "" "$(rsvp_of 3 alice@example.org)"

# help tells the leaders' meeting commands
check "help lists the meeting commands" grep -q "meeting update ID" "$top_srcdir/templates/en/help.txt"
check "convene check accepts the meeting templates" cv check
sed -i 's|timezone = "Europe/Berlin"|timezone = "Mars/Olympus_Mons"|' "$T/convene.conf"
out=$(cv check 2>&1)
check "convene check refuses a zone the tz database does not know ($out)" \
	grep -q 'meetings.timezone: unknown time zone "Mars/Olympus_Mons"' <<<"$out"

finish
