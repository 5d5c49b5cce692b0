#!/bin/bash
# t292-meeting-reminders - the worker's clock, moved with faketime: the
# reminders at the list's lead times (24h, 1h) reach the members who did
# not decline, each once (saying when); the leaders' headcount goes out
# before the meeting once, with the counts and who said what; a reminder
# whose time passed before the invitation, or that a later one overtook,
# is skipped; a weekly meeting has reminders for each occurrence; a
# cancelled meeting none.
. "$(dirname "$0")/lib.sh"
set -u

FAKETIME=$(command -v faketime) || { echo "faketime is not installed"; exit 77; }
# libfaketime is preloaded: under AddressSanitizer it cannot come first.
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0"
export FAKETIME_DONT_FAKE_MONOTONIC=1

write_config 'meetings = { reminders = [ "24h", "1h" ]; summary = "3h";
      timezone = "Europe/Berlin"; };' 'answer_rate_limit = "100/1h";'
add_members alice@example.org bob@example.net carol@example.com \
	dave@example.org erin@example.org frank@example.com
cv members makers set erin@example.org digest >/dev/null
cv members makers set frank@example.com nomail >/dev/null

# at "YYYY-MM-DD HH:MM" COMMAND...: the command at that UTC time.
at() {
	local when=$1
	shift
	TZ=UTC "$FAKETIME" -m -f "@$when:00" "$@"
}
run_at() { at "$1" "$CONVENE" -c "$T/convene.conf" run --once >>"$T/run.out" 2>&1; }
# who PATTERN: the recipients of the outbox messages whose Subject
# matches, one line, sorted (a recipient twice is listed twice).
who() {
	local f
	for f in $(outbox_files); do
		f=$T/outbox/new/$f
		subject_of "$f" | grep -Eq "$1" &&
			sed -n 's/^X-Convene-Envelope-To: <\(.*\)>$/\1/p' "$f"
	done | sort | tr '\n' ' ' | sed 's/ $//'
}
answer() {
	printf 'From: %s\nTo: makers-rsvp+%s@lists.example.org\nSubject: Re: invitation\nMessage-ID: <a-%s-%s@example.org>\n\n%s\n' \
		"$2" "$1" "$RANDOM" "$RANDOM" "$3" >"$T/answer.eml"
	post "$T/answer.eml" "makers-rsvp+$1@lists.example.org" >/dev/null
}

# Meeting 1: Thursday 2031-03-27 19:00 Berlin = 18:00 UTC.
cv meeting makers schedule title=Workshop when="2031-03-27 19:00" >/dev/null 2>&1
cv run --once >/dev/null 2>&1
answer 1 bob@example.net yes
answer 1 carol@example.com no
answer 1 dave@example.org maybe
rm -f "$T"/outbox/new/*
run_at "2031-03-26 17:00"
expect_eq "25 hours before: no reminder yet" "" "$(who 'Reminder: Workshop')"
run_at "2031-03-26 18:00"
expect_eq "24 hours before: the reminder to everyone who did not decline (not nomail)" \
	"alice@example.org bob@example.net dave@example.org erin@example.org" "$(who 'Reminder: Workshop')"
f=$(for f in $(outbox_files); do subject_of "$T/outbox/new/$f" | grep -q 'Reminder: Workshop' && echo "$T/outbox/new/$f"; done | head -1)
expect_eq "...one message, recipients not shown to each other" "undisclosed-recipients:;" "$(header "$f" To)"
expect_eq "...replies go to the answer address" "makers-rsvp+1@lists.example.org" "$(header "$f" Reply-To)"
check "...it says when" sh -c "python3 -c 'import email, email.policy, sys
d = open(sys.argv[1], \"rb\").read()
while d.startswith(b\"X-Convene-Envelope-\"): d = d.split(b\"\\n\", 1)[1]
print(email.message_from_bytes(d, policy=email.policy.default).get_body((\"plain\",)).get_content())' '$f' | tr '\n' ' ' | grep -q 'Workshop starts in 24h.*When: *2031-03-27 19:00 Europe/Berlin'"
expect_eq "...no headcount yet" "" "$(who 'Headcount')"
run_at "2031-03-26 18:30"
run_at "2031-03-27 06:00"
expect_eq "later passes: the 24h reminder went once" \
	"alice@example.org bob@example.net dave@example.org erin@example.org" "$(who 'Reminder: Workshop')"
run_at "2031-03-27 15:00"
expect_eq "3 hours before (summary = 3h): the headcount to the leaders" "alice@example.org" "$(who 'Headcount: Workshop')"
f=$(for f in $(outbox_files); do subject_of "$T/outbox/new/$f" | grep -q 'Headcount: Workshop' && echo "$T/outbox/new/$f"; done | head -1)
body=$(python3 -c 'import email, email.policy, sys
d = open(sys.argv[1], "rb").read()
while d.startswith(b"X-Convene-Envelope-"): d = d.split(b"\n", 1)[1]
print(email.message_from_bytes(d, policy=email.policy.default).get_body(("plain",)).get_content())' "$f")
sed 's/^/#   /' <<<"$body"
expect_eq "...the counts: bob going, dave maybe, carol declined, alice and erin silent" \
	"Going: 1 Wait list: 0 Maybe: 1 Declined: 1 Not answered: 2" \
	"$(sed -n 's/^  \(Going\|Wait list\|Maybe\|Declined\|Not answered\): *\([0-9]*\).*/\1: \2/p' <<<"$body" | tr '\n' ' ' | sed 's/ $//')"
check "...and who said what" sh -c "printf '%s' \"\$1\" | grep -Eq '^ *going +bob@example.net' && printf '%s' \"\$1\" | grep -Eq '^ *declined +carol@example.com'" _ "$body"
run_at "2031-03-27 15:30"
expect_eq "...once" "alice@example.org" "$(who 'Headcount: Workshop')"
# Dave decides: no. The next reminder leaves him out.
answer 1 dave@example.org no
rm -f "$T"/outbox/new/*
run_at "2031-03-27 16:59"
expect_eq "61 minutes before: nothing" "" "$(who 'Reminder: Workshop')"
run_at "2031-03-27 17:00"
expect_eq "1 hour before: the reminder, without those who declined" \
	"alice@example.org bob@example.net erin@example.org" "$(who 'Reminder: Workshop')"
run_at "2031-03-27 17:30"
run_at "2031-03-27 18:01"
expect_eq "...once; nothing after the start" \
	"alice@example.org bob@example.net erin@example.org" "$(who 'Reminder: Workshop')"
expect_eq "two reminders and one headcount recorded" "reminder|86400|1 reminder|3600|1 summary|10800|1" \
	"$(sql "SELECT kind || '|' || lead || '|' || sent FROM meeting_notices WHERE meeting = 1 ORDER BY kind, lead DESC" | tr '\n' ' ' | sed 's/ $//')"

# Meeting 2: the worker was away until 30 minutes before: only the 1h
# reminder goes; the 24h one is skipped, not sent late.
cv meeting makers schedule title=Late when="2031-04-10 19:00" >/dev/null 2>&1
cv run --once >/dev/null 2>&1
rm -f "$T"/outbox/new/*
run_at "2031-04-10 16:30"
expect_eq "a worker back 30 minutes before: the 1h reminder only" \
	"alice@example.org bob@example.net carol@example.com dave@example.org erin@example.org" "$(who 'Reminder: Late')"
expect_eq "...the 24h one recorded as skipped" "reminder|86400|0 reminder|3600|1" \
	"$(sql "SELECT kind || '|' || lead || '|' || sent FROM meeting_notices WHERE meeting = 2 AND kind = 'reminder' ORDER BY lead DESC" | tr '\n' ' ' | sed 's/ $//')"

# Meeting 3: scheduled 2 hours before it starts: no 24h reminder (its time
# came before the invitation), the 1h one goes.
at "2031-05-01 15:00" "$CONVENE" -c "$T/convene.conf" meeting makers schedule \
	title=Sudden when="2031-05-01 19:00" >/dev/null 2>&1
rm -f "$T"/outbox/new/*
run_at "2031-05-01 15:01"
expect_eq "scheduled 2h before: no reminder at once" "" "$(who 'Reminder: Sudden')"
run_at "2031-05-01 16:00"
expect_eq "...the 1h reminder at its time" \
	"alice@example.org bob@example.net carol@example.com dave@example.org erin@example.org" "$(who 'Reminder: Sudden')"

# Meeting 4: weekly, twice: the reminders of each occurrence (19:00
# Berlin summer time is 17:00 UTC).
cv meeting makers schedule title=Weekly when="2031-06-05 19:00" repeat="weekly 2 times" >/dev/null 2>&1
cv run --once >/dev/null 2>&1
answer 4 bob@example.net no
rm -f "$T"/outbox/new/*
run_at "2031-06-05 16:00"
run_at "2031-06-05 16:10"
expect_eq "the first occurrence's 1h reminder, once" \
	"alice@example.org carol@example.com dave@example.org erin@example.org" "$(who 'Reminder: Weekly')"
run_at "2031-06-12 16:00"
expect_eq "the second occurrence's, once more" \
	"alice@example.org alice@example.org carol@example.com carol@example.com dave@example.org dave@example.org erin@example.org erin@example.org" \
	"$(who 'Reminder: Weekly')"
rm -f "$T"/outbox/new/*
run_at "2031-06-19 16:00"
expect_eq "after the last occurrence: nothing" "" "$(who 'Reminder: Weekly')"

# Meeting 5: cancelled: no reminders.
cv meeting makers schedule title=Gone when="2031-07-03 19:00" >/dev/null 2>&1
cv meeting makers cancel 5 >/dev/null 2>&1
cv run --once >/dev/null 2>&1
rm -f "$T"/outbox/new/*
run_at "2031-07-03 16:00"
expect_eq "a cancelled meeting has no reminders" "" "$(who 'Reminder: Gone')"

finish
