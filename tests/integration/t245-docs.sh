#!/bin/bash
# The README and the help say what works today: every command line the
# README shows is what `convene --help` prints and exists; --version; every
# command the help answer lists gets a real answer; the commands and
# addresses marked "not there yet" are answered or refused as the README
# says; CONFIG.md marks meetings as not used yet.
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

# The commands the README marks as not there yet, each answered so.
notyet="meeting minutes rsvps"
readme_notyet=$(tr '\n' ' ' <"$README" | sed -n 's/.*Not there yet: the `NAME-request@` commands \(.*\) (each is answered.*/\1/p')
for w in $notyet; do
	check "README marks \"$w\" as not there yet" sh -c "printf '%s' \"\$1\" | grep -qw '$w'" _ "$readme_notyet"
	arg=
	case $w in minutes|rsvps) arg=" 1" ;; esac
	a=$(ask "$w$arg")
	check "\"$w$arg\" answered: not available yet" sh -c "printf '%s' \"\$1\" | grep -q '\"$w\" is not available on'" _ "$a"
done

# The address marked not there yet is refused as unknown (67).
for a in makers-rsvp+1@lists.example.org; do
	kind=$(echo "$a" | sed 's/^makers-\([a-z]*\)+.*/\1/')
	check "README marks NAME-$kind+ID@ as not there yet" grep -q "\`NAME-$kind+ID@\`" "$README"
	expect_eq "$a: 67 as the README says" 67 "$(post "$FIXTURES/post-alice.eml" "$a")"
done

# CONFIG.md does not present meetings as working.
check "CONFIG.md: meetings not used yet" grep -q '^| `meetings` | group | | \*\*Not used yet' "$top_srcdir/etc/CONFIG.md"
check "README: where logs go" grep -q 'syslog with facility `mail`' "$README"
check "README: postfix start when not running" grep -q '`postfix start` when Postfix is not running' "$README"
check "README: xverp needs smtpd_authorized_verp_clients" grep -q 'smtpd_authorized_verp_clients' "$README"
finish
