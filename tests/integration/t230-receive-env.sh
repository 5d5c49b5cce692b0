#!/bin/bash
# receive as an MTA's pipe runs it: the recipient from the environment when
# there is no --recipient (Exim's RECIPIENT, or LOCAL_PART and DOMAIN), and
# exit 75 on its own wall-clock limit (SIGALRM), never death by a signal,
# which Exim turns into a bounce.
. "$(dirname "$0")/lib.sh"

write_config
add_members alice@example.org bob@example.net
# A post without Delivered-To or X-Original-To: only the environment says
# where it went.
grep -v -i -E '^(Delivered-To|X-Original-To):' "$FIXTURES/post-alice.eml" >"$T/post.eml"

rc=0
RECIPIENT=makers@lists.example.org "$CONVENE" -c "$T/convene.conf" receive <"$T/post.eml" || rc=$?
expect_eq "RECIPIENT=makers@: accepted" 0 "$rc"
expect_eq "...and queued as a post" 1 "$(sql "SELECT count(*) FROM jobs")"

rc=0
RECIPIENT=nosuch@lists.example.org "$CONVENE" -c "$T/convene.conf" receive <"$T/post.eml" 2>/dev/null || rc=$?
expect_eq "RECIPIENT=nosuch@: 67" 67 "$rc"

sed 's/workshop-1@/workshop-2@/' "$T/post.eml" >"$T/post2.eml"
rc=0
LOCAL_PART=makers DOMAIN=lists.example.org "$CONVENE" -c "$T/convene.conf" receive <"$T/post2.eml" || rc=$?
expect_eq "LOCAL_PART and DOMAIN: accepted" 0 "$rc"
expect_eq "...and queued" 2 "$(sql "SELECT count(*) FROM jobs")"

rc=0
RECIPIENT=nosuch@lists.example.org "$CONVENE" -c "$T/convene.conf" receive \
	--recipient makers@lists.example.org <"$T/post.eml" || rc=$?
expect_eq "--recipient wins over RECIPIENT" 0 "$rc"

# The wall-clock limit: receive waits on a message that never ends, and
# SIGALRM (what its alarm() delivers) must end it with 75.
mkfifo "$T/in"
"$CONVENE" -c "$T/convene.conf" receive --recipient makers@lists.example.org \
	<"$T/in" 2>"$T/alarm.err" &
pid=$!
exec 3>"$T/in"
printf 'From: alice@example.org\nSubject: slow\n\n' >&3
sleep 0.5
kill -ALRM "$pid"
rc=0
wait "$pid" || rc=$?
exec 3>&-
expect_eq "SIGALRM: exit 75" 75 "$rc"
check "...saying the message stays with the MTA" grep -q 'time limit reached; message left with the MTA' "$T/alarm.err"
expect_eq "...and nothing committed" 2 "$(sql "SELECT count(*) FROM jobs")"
finish
