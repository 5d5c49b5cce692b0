#!/bin/bash
# t335-polls - polls by reply: a leader's poll with 3 options goes to the
# 10 members with Reply-To NAME-vote+ID; they vote by number or word, two
# change their vote; the tally counts each member once with the latest
# vote; a non-member's and a closed poll's votes count for nothing; a
# member's "poll" starts none; at its time the worker closes it and the
# results go to the leaders and the list; convene poll list|results|close.
. "$(dirname "$0")/lib.sh"

command -v faketime >/dev/null ||
	{ echo "faketime is not installed (scripts/install-deps.sh installs it)"; exit 77; }
at() {
	local when=$1
	shift
	TZ=UTC ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		faketime "$when" "$@"
}
write_config
members=""
for i in 0 1 2 3 4 5 6 7 8 9; do members="$members v$i@example.org"; done
# shellcheck disable=SC2086
add_members $members

n=0
# mail_at TIME FROM TO BODY [SUBJECT]
mail_at() {
	n=$((n + 1))
	printf 'From: %s\nTo: %s\nSubject: %s\nMessage-ID: <poll-%d@example.org>\nDate: Mon, 1 Jun 2026 10:00:00 +0000\n\n%b\n' \
		"$2" "$3" "${5:-Re: Poll}" "$n" "$4" >"$T/m-$n.eml"
	rc=0
	at "$1" "$CONVENE" -c "$T/convene.conf" receive --recipient "$3" \
		<"$T/m-$n.eml" >>"$T/receive.out" 2>&1 || rc=$?
	expect_eq "mail $n from $2 to $3 taken" 0 "$rc"
}
POLL='question: Where shall we meet in June?
option: The workshop
option: The cafe on Main Street
option: Online
closes: 2026-06-05 18:00
results: list'

mail_at "2026-06-01 09:00:00" "v1@example.org" makers-request@lists.example.org "$POLL" "poll"
expect_eq "a member's poll starts nothing" 0 "$(sql 'SELECT count(*) FROM polls')"
mail_at "2026-06-01 09:01:00" "Alice <alice@example.org>" makers-request@lists.example.org "poll\n$POLL"
expect_eq "a leader's poll is stored" 1 "$(sql 'SELECT count(*) FROM polls')"
id=$(sql 'SELECT id FROM polls')
at "2026-06-01 09:02:00" "$CONVENE" -c "$T/convene.conf" run --once >/dev/null
P=$(grep -l "^Subject: \[makers\] Poll: Where shall we meet in June?" $T/outbox/new/*)
expect_eq "the poll went out as one message" 1 "$(wc -w <<<"$P" | tr -d ' ')"
for i in 0 9; do
	check "...to member v$i" grep -q "X-Convene-Envelope-To: <v$i@example.org>" "$P"
done
check "...with Reply-To the vote address" grep -qx "Reply-To: makers-vote+$id@lists.example.org" "$P"
check "...and its numbered options" grep -q "^  3. Online" "$P"
A=$(outbox_for alice@example.org)
check "the leader is told" grep -q "Poll $id (\"Where shall we meet in June?\", 3 options) went to the members" $A

# 10 members: 4 for the workshop, 3 for the cafe, 3 online; v1 and v2 change
vote() { mail_at "2026-06-0$1 1$2:00:00" "v$3@example.org" "makers-vote+$id@lists.example.org" "$4"; }
vote 2 0 0 "1"
vote 2 0 1 "2"
vote 2 1 2 "Online"
vote 2 1 3 "1."
vote 2 2 4 "workshop"
vote 2 2 5 "cafe"
vote 2 3 6 "3"
vote 2 3 7 "The cafe on Main Street"
vote 2 4 8 "online, please"
vote 2 4 9 "2"
vote 3 0 1 "1"
vote 3 1 2 "I changed my mind: 2\n"
vote 3 2 2 "2"
mail_at "2026-06-03 13:00:00" "stranger@example.net" "makers-vote+$id@lists.example.org" "1"
vote 3 3 5 "maybe"
expect_eq "one vote a member" 10 "$(sql "SELECT count(*) FROM poll_votes WHERE poll = $id")"
"$CONVENE" -c "$T/convene.conf" poll makers results "$id" >"$T/results.txt"
check "results: the poll and its state" grep -qx "Poll $id of makers@lists.example.org (open, closes 2026-06-05 18:00 UTC): Where shall we meet in June?" "$T/results.txt"
check "results: the workshop 4 (v0, v3, v4, v1 changed to it)" grep -qx "  1. The workshop: 4" "$T/results.txt"
check "results: the cafe 4 (v2 changed to it, v5 kept)" grep -qx "  2. The cafe on Main Street: 4" "$T/results.txt"
check "results: online 2" grep -qx "  3. Online: 2" "$T/results.txt"
check "results: 10 voted, 2 changed" grep -q "^10 members voted (2 changed their vote" "$T/results.txt"
"$CONVENE" -c "$T/convene.conf" poll makers list >"$T/list.txt"
check "poll list" grep -q "^$id,open,2026-06-05 18:00 UTC,3,Where shall we meet in June?" "$T/list.txt"
rm -f "$T"/outbox/new/*
at "2026-06-03 14:00:00" "$CONVENE" -c "$T/convene.conf" run --once >/dev/null
check "each vote is confirmed to its voter" grep -q "Your vote for 2. The cafe on Main Street is counted" $(outbox_for v2@example.org)
check "an unclear vote is told so" grep -q "named none of its" $(outbox_for v5@example.org)
expect_eq "nothing to the stranger" "" "$(outbox_for stranger@example.net)"
rm -f "$T"/outbox/new/*
at "2026-06-05 17:59:00" "$CONVENE" -c "$T/convene.conf" run --once >/dev/null
expect_eq "still open a minute before its time" open "$(sql "SELECT state FROM polls WHERE id = $id")"
at "2026-06-05 18:01:00" "$CONVENE" -c "$T/convene.conf" run --once >/dev/null
expect_eq "closed at its time" closed "$(sql "SELECT state FROM polls WHERE id = $id")"
R=$(outbox_for alice@example.org)
check "the results go to the leaders" grep -q "^  1. The workshop: 4" $R
L=$(grep -l "^Subject: \[makers\] Results of the poll" $T/outbox/new/*)
check "...and to the list, as the poll asked" grep -q "X-Convene-Envelope-To: <v7@example.org>" $L
vote 6 0 6 "1"
"$CONVENE" -c "$T/convene.conf" poll makers results "$id" >"$T/results2.txt"
check "a vote after the close counts for nothing" cmp <(sed 's/(open/(closed/' "$T/results.txt" | grep -v '^Poll') <(grep -v '^Poll' "$T/results2.txt")
rc=0
"$CONVENE" -c "$T/convene.conf" poll makers close "$id" 2>/dev/null || rc=$?
expect_eq "close of a closed poll: no such open poll (67)" 67 "$rc"
mail_at "2026-06-06 09:00:00" "Alice <alice@example.org>" makers-request@lists.example.org \
	"poll\nquestion: Tea or coffee?\noption: Tea\noption: Coffee\ncloses: 2d"
id2=$(sql "SELECT max(id) FROM polls")
check "convene poll close closes it now" cv poll makers close "$id2"
expect_eq "...closed" closed "$(sql "SELECT state FROM polls WHERE id = $id2")"
mail_at "2026-06-06 09:00:00" "Alice <alice@example.org>" makers-request@lists.example.org \
	"poll\nquestion: Tea?\noption: Tea\ncloses: 2d"
expect_eq "a poll with one option is refused" 2 "$(sql 'SELECT count(*) FROM polls')"
finish
