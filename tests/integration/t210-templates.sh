#!/bin/bash
# Templates as a new admin meets them: the example config uses the folder
# `make install` fills; `check` renders every template each list can use and
# names each one it cannot; and a template missing at run time never drops
# mail: receive exits 75 (the MTA keeps the message) and the worker's timed
# jobs wait, until the admin puts the template back.
. "$(dirname "$0")/lib.sh"

: "${pkgdatadir:=/usr/local/share/convene}"

# 1. The shipped example, with only the database moved: its templates are
# the compiled-in folder, where `make install` puts them.
sed 's|^database = .*|database = "example.db";|' "$top_srcdir/etc/convene.conf" >"$T/example.conf"
out=$("$CONVENE" -c "$T/example.conf" check 2>&1)
echo "$out" | head -3 | sed 's/^/#   /'
check "example config: templates from $pkgdatadir/templates" \
	sh -c "printf '%s' \"\$1\" | grep -q '$pkgdatadir/templates/en'" _ "$out"
check "...and no other folder" \
	sh -c "! printf '%s' \"\$1\" | sed 's|$pkgdatadir/templates||g' | grep -q 'share/convene'" _ "$out"

# 2. check renders every template each list can use and names each one it
# cannot: missing files, a message without a Subject, an unknown
# placeholder in one list's own copy.
mkdir -p "$T/tpl/en/makers"
cp "$top_srcdir"/templates/en/*.txt "$T/tpl/en/"
TPL=$T/tpl/en
write_config
sed -i "s|^templates = .*|templates = \"$T/tpl\";|" "$T/convene.conf"
check "all templates present: check passes" cv check
# Every shipped template is one convene uses (and so one check renders).
printf 'Subject: hi\n\nhello\n' >"$TPL/makers/welcom.txt"
rc=0
out=$(cv check 2>&1) || rc=$?
expect_eq "a misspelt template name: check fails (78)" 78 "$rc"
check "...naming the file" sh -c "printf '%s' \"\$1\" | grep -q 'makers/welcom.txt: not a template convene uses'" _ "$out"
rm "$TPL/makers/welcom.txt"
rm "$TPL/welcome.txt" "$TPL/hold-notice.txt"
sed -i '/^Subject:/d' "$TPL/goodbye.txt"
printf 'Subject: hi\n\nHello {{no_such_thing}}\n' >"$TPL/makers/invite.txt"
rc=0
out=$(cv check 2>&1) || rc=$?
echo "$out" | sed 's/^/#   /'
expect_eq "broken templates: check fails (78)" 78 "$rc"
check "...naming welcome" sh -c "printf '%s' \"\$1\" | grep -q 'list makers: template welcome cannot be used:.*welcome.txt'" _ "$out"
check "...naming hold-notice" sh -c "printf '%s' \"\$1\" | grep -q 'list makers: template hold-notice cannot be used'" _ "$out"
check "...naming goodbye's missing Subject" sh -c "printf '%s' \"\$1\" | grep -q 'list makers: template goodbye cannot be used: no Subject'" _ "$out"
check "...naming the list's own invite" sh -c "printf '%s' \"\$1\" | grep -q 'list makers: template invite cannot be used:.*makers/invite.txt.*no_such_thing'" _ "$out"
cp "$top_srcdir/templates/en/welcome.txt" "$top_srcdir/templates/en/hold-notice.txt" \
	"$top_srcdir/templates/en/goodbye.txt" "$TPL/"
rm "$TPL/makers/invite.txt"
check "templates back: check passes" cv check

# 3. At run time, a missing template keeps the message with the MTA.
add_members alice@example.org
n=0
mail() {
	n=$((n + 1))
	printf 'From: %s\nTo: %s\nSubject: %s\nMessage-ID: <t%d.%d@example.net>\nDate: Tue, 14 Nov 2023 10:00:00 +0000\n\n%s\n' \
		"$1" "$2" "$3" "$n" "$$" "${4:-}" >"$T/m$n.eml"
	echo "$T/m$n.eml"
}
hide() { mv "$TPL/$1.txt" "$TPL/$1.txt.away"; }
restore() { mv "$TPL/$1.txt.away" "$TPL/$1.txt"; }

m=$(mail dave@example.net makers-request@lists.example.org subscribe)
hide confirm-subscribe
expect_eq "subscribe without confirm-subscribe: 75" 75 "$(post "$m" makers-request@lists.example.org)"
expect_eq "...no request recorded" 0 "$(sql "SELECT count(*) FROM sub_requests")"
check "...logged as left to retry" grep -q 'confirm-subscribe.*left to retry' "$CONVENE_LOG_FILE"
restore confirm-subscribe
expect_eq "the MTA retries once it is back: 0" 0 "$(post "$m" makers-request@lists.example.org)"
expect_eq "...the request recorded" 1 "$(sql "SELECT count(*) FROM sub_requests")"

m=$(mail erin@example.net makers-request@lists.example.org info)
hide answer-lines
expect_eq "info without answer-lines: 75" 75 "$(post "$m" makers-request@lists.example.org)"
restore answer-lines
expect_eq "info once it is back: 0" 0 "$(post "$m" makers-request@lists.example.org)"
cv run --once >/dev/null
f=$(outbox_for erin@example.net)
check "...the answer went out" test -n "$f"
check "...with no placeholder for a missing line" sh -c "! grep -q '\[info\]' $f"

m=$(mail mallory@example.net makers@lists.example.org "Buy now" "cheap")
hide hold-notice
expect_eq "held post without hold-notice: 75" 75 "$(post "$m")"
expect_eq "...nothing held" 0 "$(sql "SELECT count(*) FROM holds")"
restore hold-notice
expect_eq "held once it is back: 0" 0 "$(post "$m")"
expect_eq "...held" held "$(sql "SELECT state FROM holds")"

# The worker's timed jobs wait too: an expiry notice without its template.
hide hold-expired
later=$(( $(date +%s) + 30 * 86400 ))
CONVENE_NOW=$later cv run --once >/dev/null 2>&1
expect_eq "expiry without hold-expired: the hold waits" held "$(sql "SELECT state FROM holds")"
restore hold-expired
CONVENE_NOW=$later cv run --once >/dev/null 2>&1
expect_eq "...and expires once it is back" expired "$(sql "SELECT state FROM holds")"
check "...and the poster is told" test -n "$(outbox_for mallory@example.net)"
finish
