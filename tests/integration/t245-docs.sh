#!/bin/bash
# The README and the help say what works today: every command line the
# README shows is what `convene --help` prints and exists; --version; every
# command the help answer lists gets a real answer; no NAME-request@
# command is marked "not there yet", the meeting commands and the rsvp
# address are taken; CONFIG.md documents meetings.
. "$(dirname "$0")/lib.sh"

README=$top_srcdir/README.md
version=$(sed -n 's/^AC_INIT(\[convene\], \[\([^]]*\)\].*/\1/p' "$top_srcdir/configure.ac")
expect_eq "convene --version" "convene $version" "$("$CONVENE" --version 2>&1)"

# The README's command block, comments dropped, and --help's lines.
awk '/^## Command line/ { s = 1 } s && /^```/ { n++; next } s && n == 1' "$README" |
	sed 's/[[:space:]]*#.*$//; s/[[:space:]]*$//' | grep '^convene ' >"$T/readme.cmds"
"$CONVENE" --help | sed -n 's/^  \(convene .*\)$/\1/p' >"$T/help.cmds"
check "README shows commands" test -s "$T/readme.cmds"
expect_eq "README's command lines are --help's, in order" "$(cat "$T/help.cmds")" "$(cat "$T/readme.cmds")"
write_config
for name in $(awk '{ print $2 }' "$T/help.cmds" | grep -v '^--' | sort -u); do
	out=$(cv "$name" </dev/null 2>&1)
	check "convene $name exists" sh -c "! printf '%s' \"\$1\" | grep -q 'unknown command'" _ "$out"
done
check "--help names add --quiet|--invite" grep -qx 'convene members LIST add \[--quiet|--invite\] ADDR...' "$T/help.cmds"
check "--help names enable" grep -q 'members LIST enable ADDR' "$T/help.cmds"
check "--help names pending" grep -q 'members LIST pending' "$T/help.cmds"

# Every command of the help answer's table gets an answer of its own.
sed -i 's/^outbound = .*/&\nanswer_rate_limit = "1000\/1h";/' "$T/convene.conf"
sed -i 's/reply_to = "list";/reply_to = "list"; allow_who = true;/' "$T/convene.conf"
add_members erin@example.net
ask() {
	local n
	n=$(date +%s%N)
	printf 'From: erin@example.net\nTo: makers-request@lists.example.org\nSubject: x\nMessage-ID: <ask-%s@example.net>\n\n%s\n' \
		"$n" "$1" >"$T/ask$n.eml"
	rm -f "$T"/outbox/new/*
	post "$T/ask$n.eml" makers-request@lists.example.org >/dev/null
	cv run --once >/dev/null 2>&1
	f=$(outbox_for erin@example.net | head -1)
	[ -n "$f" ] && sed '1,/^$/d' "$f" | perl -pe 's/=\n//; s/=([0-9A-F]{2})/chr(hex($1))/ge' | tr '\n' ' '
}
sed -n 's/^  \([a-z][a-z -]*[a-zA-Z]\)  .*/\1/p' "$top_srcdir/templates/en/help.txt" >"$T/help.table"
check "the help lists commands" test -s "$T/help.table"
while read -r cmd; do
	line=${cmd/CODE/0123456789abcdef0123456789abcdef}
	line=${line/NUMBER/1}
	line=${line/WORDS/soldering}
	a=$(ask "$line")
	check "help's \"$cmd\": answered" test -n "$a"
	check "help's \"$cmd\": not refused as unknown" sh -c "! printf '%s' \"\$1\" | grep -Eq 'not understood|No command was found|not available'" _ "$a"
done <"$T/help.table"
# (the last ask may have been "unsubscribe": erin is still a member until
# she confirms)

# Nothing the README lists at NAME-request@ is marked as not there yet,
# and the meeting commands get their own answers (to a member: only
# leaders may), not "not understood".
check "README marks no NAME-request@ command as not there yet" sh -c \
	"! tr '\n' ' ' <'$README' | grep -q 'Not there yet: the \`NAME-request@\` commands'"
for w in "meeting" "minutes 1" "rsvps 1"; do
	a=$(ask "$w")
	check "\"$w\" answered: only the leaders may" sh -c "printf '%s' \"\$1\" | grep -q 'Only the leaders'" _ "$a"
	check "\"$w\" answered: not refused as unknown or missing" sh -c "! printf '%s' \"\$1\" | grep -Eq 'not understood|No command was found|not available'" _ "$a"
done

# The answer address of meetings is listed, and taken (0), not refused as
# unknown (67).
check "README lists NAME-rsvp+ID@" grep -q '^| `NAME-rsvp+ID@` | answers to meeting ID' "$README"
expect_eq "makers-rsvp+1@: 0 (an answer to no meeting is dropped with a log line)" 0 \
	"$(post "$FIXTURES/post-alice.eml" makers-rsvp+1@lists.example.org)"

# CONFIG.md presents meetings as working.
check "CONFIG.md: meetings documented" grep -q '^| `meetings` | group | | Meetings of the list; see below. |' "$top_srcdir/etc/CONFIG.md"
check "CONFIG.md: the meetings group's settings" grep -q '^### `meetings` of a list' "$top_srcdir/etc/CONFIG.md"
check "README: where logs go" grep -q 'syslog with facility `mail`' "$README"
check "README: postfix start when not running" grep -q '`postfix start` when Postfix is not running' "$README"
check "README: xverp needs smtpd_authorized_verp_clients" grep -q 'smtpd_authorized_verp_clients' "$README"
finish
