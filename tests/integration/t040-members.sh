#!/bin/sh
# The members CLI: add, remove, set, export, import (CSV and plain).
. "$(dirname "$0")/lib.sh"

write_config
out=$(cv members makers add "Alice Example <Alice@Example.ORG>" bob@example.net)
check "add reports added" sh -c "echo '$out' | grep -q 'alice@example.org: added'"
check "domain lower-cased" sh -c "echo '$out' | grep -q 'alice@example.org'"
out=$(cv members makers add bob@example.net)
check "adding twice is reported" sh -c "echo '$out' | grep -q 'already a member'"
expect_eq "bad address refused" 64 "$(cv members makers add 'not an address' >/dev/null 2>&1; echo $?)"
expect_eq "no such list" 67 "$(cv members nosuch list >/dev/null 2>&1; echo $?)"
check "set digest" cv members makers set bob@example.net digest
expect_eq "unknown mode refused" 64 "$(cv members makers set bob@example.net weekly >/dev/null 2>&1; echo $?)"

cv members makers export >"$T/export.csv"
expect_eq "export header row" "address,name,mode,status,moderated,bounce_score,subscribed_at" "$(head -1 "$T/export.csv")"
check "export has alice with name" grep -q '^alice@example.org,Alice Example,immediate,active,0,0.00,' "$T/export.csv"
check "export has bob in digest" grep -q '^bob@example.net,,digest,active,0,' "$T/export.csv"

check "remove" cv members makers remove bob@example.net
expect_eq "one member left" 1 "$(sql 'SELECT count(*) FROM members')"
# remove goes through the pipeline like add: an event and a goodbye
# (unless --quiet).
cv run --once >/dev/null 2>&1
expect_eq "the removed member is told goodbye" 1 \
	"$(for f in $(outbox_for bob@example.net); do header "$f" Subject; done | grep -c '^Goodbye from makers$')"
expect_eq "a member.removed event by the admin" "bob@example.net|admin" \
	"$(sql "SELECT actor || '|' || detail FROM events WHERE kind = 'member.removed'")"
out=$(cv members makers remove bob@example.net)
expect_eq "removing a non-member is reported, exit 0" "bob@example.net: not a member" "$out"
add_members carol@example.org
out=$(cv members makers remove --quiet carol@example.org)
expect_eq "remove --quiet reports removed" "carol@example.org: removed" "$out"
cv run --once >/dev/null 2>&1
expect_eq "...and sends no goodbye" "" "$(outbox_for carol@example.org)"
expect_eq "...but records the event" 1 "$(sql "SELECT count(*) FROM events WHERE kind = 'member.removed' AND actor = 'carol@example.org'")"
expect_eq "remove takes no --invite" 64 "$(cv members makers remove --invite x@example.org >/dev/null 2>&1; echo $?)"

# CSV round trip into a fresh database.
rm -f "$T"/convene.db*
out=$(cv members makers import "$T/export.csv")
check "CSV import" sh -c "echo '$out' | grep -q '^2 added'"
cv members makers export >"$T/export2.csv"
expect_eq "round trip keeps the records" "$(cut -d, -f1-6 "$T/export.csv")" "$(cut -d, -f1-6 "$T/export2.csv")"

# Plain files; bad lines named by number; nothing imported unless asked.
cat >"$T/plain.txt" <<'EOP'
# new members from the fair
dave@example.org
Erin Example <erin@example.org>

not-an-address
frank@@example.org
EOP
out=$(cv members makers import "$T/plain.txt" 2>&1); rc=$?
expect_eq "import with bad lines fails" 65 "$rc"
check "bad line 5 reported" sh -c "echo '$out' | grep -q 'plain.txt:5: .*not-an-address'"
check "bad line 6 reported" sh -c "echo '$out' | grep -q 'plain.txt:6: .*frank@@example.org'"
expect_eq "nothing imported" 2 "$(sql 'SELECT count(*) FROM members')"
out=$(cv members makers import "$T/plain.txt" --skip-bad 2>&1)
check "--skip-bad imports the rest" sh -c "echo '$out' | grep -q '^2 added'"
expect_eq "display name kept" "Erin Example" "$(sql "SELECT display_name FROM members WHERE address = 'erin@example.org'")"
printf 'address,name\n"quoted, comma"@example.org,x\n"Zoe, Z" <zoe@example.org>\n' >"$T/q.csv"
out=$(cv members makers import "$T/q.csv" 2>&1); rc=$?
expect_eq "csv with an invalid line fails" 65 "$rc"
check "the list shows members" sh -c "'$CONVENE' -c '$T/convene.conf' members makers list 2>/dev/null | grep -q '^erin@example.org'"
finish
