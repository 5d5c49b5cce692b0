#!/bin/bash
# t190-docs - the manual pages and their one source each: convene(8) is made
# from doc/COMMANDS.md and convene.conf(5) from etc/CONFIG.md (by
# doc/md2mdoc.pl, at build time). Both are clean for `mandoc -T lint` and
# render with `man -l`; every subcommand `convene --help` lists has its
# section in COMMANDS.md (and so in the page), every setting the config
# loader knows is in CONFIG.md (and so in the page), so that a new
# subcommand or setting without its documentation fails here. The converter
# is also run on a fixture with the awkward cases.
. "$(dirname "$0")/lib.sh"

for p in mandoc man perl; do
	command -v "$p" >/dev/null || { echo "# $p not found (apt-get install mandoc man-db): skipped"; exit 77; }
done
MAN8=$top_builddir/doc/convene.8
MAN5=$top_builddir/doc/convene.conf.5
check "convene.8 was built" test -s "$MAN8"
check "convene.conf.5 was built" test -s "$MAN5"

# mandoc -T lint: no error, no warning (style notes, such as pages it
# cannot find on this machine, are not counted).
lint=$(mandoc -T lint "$MAN8" "$MAN5" 2>&1)
expect_eq "mandoc -T lint: no ERROR or WARNING" "" "$(grep -E ': (UNSUPP|FATAL|BADARG|ERROR|WARNING):' <<<"$lint")"
check "mandoc -T lint -W warning exits 0" mandoc -T lint -W warning "$MAN8" "$MAN5"
echo "# style notes: $(grep -c ': STYLE:' <<<"$lint")"

# troff's "can't break line" is no fault of the page: a long path (as under
# make distcheck's prefix) does not fit in 80 columns.
render() {
	MANWIDTH=80 man -l "$1" 2>"$T/man.all" | col -b
	grep -v "can't break line" "$T/man.all" >"$T/man.err"
}
r8=$(render "$MAN8")
expect_eq "man -l convene.8 renders without a complaint" "" "$(cat "$T/man.err")"
check "convene(8): NAME" grep -q 'convene . community mailing-list server' <<<"$r8"
for s in SYNOPSIS DESCRIPTION COMMANDS ENVIRONMENT FILES 'EXIT STATUS' 'SEE ALSO'; do
	check "convene(8) has $s" grep -qx "$s" <<<"$r8"
done
r5=$(render "$MAN5")
expect_eq "man -l convene.conf.5 renders without a complaint" "" "$(cat "$T/man.err")"
check "convene.conf(5): NAME" grep -q 'convene.conf . configuration file of the convene mailing-list server' <<<"$r5"
check "convene.conf(5): the installed config path" grep -qF "$sysconfdir/convene/convene.conf" <<<"$r5"
check "convene.conf(5): the installed templates" grep -qF "$pkgdatadir/templates" <<<"$r5"
check "convene.conf(5): no placeholder left" sh -c "! grep -q 'SYSCONFDIR\|PKGDATADIR' <<'X'
$r5
X"

# ---- every subcommand and every setting, documented ----

# undocumented_commands COMMANDS.md: the subcommands of `convene --help`
# without a "### convene NAME" section.
undocumented_commands() {
	"$CONVENE" --help | sed -n 's/^  convene \([a-z-]*\).*/\1/p' | awk '!seen[$0]++' | while read -r c; do
		grep -q "^### convene $c\\b" "$1" || echo "$c"
	done
}
# undocumented_settings CONFIG.md: the names in the loader's key tables
# (src/base/conf.c, static const char *const *_keys[]) not in CONFIG.md.
setting_names() {
	perl -ne 'print "$_\n" for (/static const char \*const \w+_keys\[\] =/ .. /\};/) ? /"(\w+)"/g : ()' \
		"$top_srcdir/src/base/conf.c" | sort -u
}
undocumented_settings() {
	setting_names | while read -r k; do
		grep -qF "\`$k\`" "$1" || echo "$k"
	done
}
commands=$("$CONVENE" --help | sed -n 's/^  convene \([a-z-]*\).*/\1/p' | awk '!seen[$0]++' | tr '\n' ' ')
echo "# subcommands: $commands"
check "--help lists subcommands" test "$(wc -w <<<"$commands")" -ge 9
expect_eq "every subcommand has its section in doc/COMMANDS.md" "" \
	"$(undocumented_commands "$top_srcdir/doc/COMMANDS.md" | tr '\n' ' ')"
for c in $commands; do
	grep -q "^   convene $c\b" <<<"$r8" || not_ok "convene(8) shows convene $c"
done
ok "convene(8) shows each subcommand"
n=$(setting_names | wc -l)
check "the loader knows settings ($n)" test "$n" -ge 60
expect_eq "every setting is in etc/CONFIG.md" "" "$(undocumented_settings "$top_srcdir/etc/CONFIG.md" | tr '\n' ' ')"
missing5=$(setting_names | while read -r k; do grep -qw -- "$k" <<<"$r5" || echo "$k"; done | tr '\n' ' ')
expect_eq "every setting is in convene.conf(5)" "" "$missing5"
# The checks catch what is missing: a section taken out, a setting taken out.
sed '/^### convene queue/,/^### /{/^### convene mta/!d}' "$top_srcdir/doc/COMMANDS.md" >"$T/COMMANDS.md"
expect_eq "a subcommand without its section is named" "queue" "$(undocumented_commands "$T/COMMANDS.md" | tr '\n' ' ' | sed 's/ $//')"
grep -v '^| `soft_weight`' "$top_srcdir/etc/CONFIG.md" >"$T/CONFIG.md"
expect_eq "a setting without its entry is named" "soft_weight" "$(undocumented_settings "$T/CONFIG.md" | tr '\n' ' ' | sed 's/ $//')"

# ---- the converter on the awkward cases ----

F=$top_srcdir/tests/fixtures/md2mdoc/sample.md
perl "$top_srcdir/doc/md2mdoc.pl" --name sample --section 1 --description "a sample page" "$F" >"$T/sample.1"
check "md2mdoc: the sample converts" test -s "$T/sample.1"
check "md2mdoc: the sample is lint clean" mandoc -T lint -W warning "$T/sample.1"
rs=$(render "$T/sample.1")
printf '%s\n' "$rs" | sed 's/^/#   /' | head -60
check "md2mdoc: the note before the first section is dropped" sh -c "! grep -q 'note for the editors' <<'X'
$rs
X"
for want in "NAME-‘x’" "like y's," "(‘p’)" "sentence ‘end’." "link: https://example.org/x" \
	'.dot at the start of a line \ and a backslash' "‘a\\b’" "‘\"quoted\"’" \
	'.A line that starts with a dot.' "an item with ‘code’, continued on a second line" \
	'Settings with two names. Type: string. Default: ‘"x"’.' 'Needed. Type: int. Default: required.' \
	'other(1), sample.conf(5), alpha(8), zeta(8), sysexits.h'; do
	check "md2mdoc: renders $want" grep -qF -- "$want" <<<"$(tr -s ' \n' ' ' <<<"$rs")"
done
check "md2mdoc: two names as one tag" grep -q '^ *alpha, beta' <<<"$rs"
check "md2mdoc: glued code stays glued" grep -qE 'a.?/.?b' <<<"$rs"
finish
