#!/bin/sh
# The bounce parser over the shared corpus: for each bounce with a known
# bounced address (bounces/expected-sisimai.tsv, leaving out auto-replies,
# feedback reports and success notices, which name no failure), convene
# must attribute exactly that address (the same set of addresses, no more).
# Every file of every bounce set is parsed without a crash. Fails below the
# floor, which is set a little under what the parser reaches.
. "$(dirname "$0")/lib.sh"

CORPUS=${CONVENE_CORPUS:-$top_srcdir/../shared/corpus}
DSNPARSE=${DSNPARSE:-$top_builddir/tests/helpers/dsnparse}
FLOOR=${BOUNCE_FLOOR:-560}
if [ ! -f "$CORPUS/bounces/expected-sisimai.tsv" ]; then
	echo "# no corpus at $CORPUS: skipped"
	exit 77
fi
if [ ! -x "$DSNPARSE" ]; then
	echo "# no $DSNPARSE (make check builds it): skipped"
	exit 77
fi

(cd "$CORPUS/bounces" && "$DSNPARSE" sisimai/*.eml) >"$T/sisimai.out" 2>"$T/err"
check "the parser read every sisimai file" test "$(cut -f1 "$T/sisimai.out" | sort -u | wc -l)" -eq "$(ls "$CORPUS/bounces/sisimai" | wc -l)"

result=$(awk -F'\t' -v misses="$T/misses" '
	FNR == NR {
		if (FNR == 1 || $3 == "" || $7 == "feedback" || $7 == "vacation" ||
		    $7 == "delivered")
			next
		want[$1] = want[$1] " " tolower($3)
		next
	}
	{ f = $1; sub(/.*\//, "", f); if ($3 != "-") got[f] = got[f] " " tolower($3) }
	END {
		for (f in want) {
			m++
			ne = split(want[f], e, " "); ng = split(got[f], g, " ")
			ok = 1
			for (i = 1; i <= ne; i++) { h = 0; for (j = 1; j <= ng; j++) if (g[j] == e[i]) h = 1; if (!h) ok = 0 }
			for (j = 1; j <= ng; j++) { h = 0; for (i = 1; i <= ne; i++) if (g[j] == e[i]) h = 1; if (!h) ok = 0 }
			if (ok) n++; else print f "\twant" want[f] "\tgot" got[f] >misses
		}
		print n + 0, m + 0
	}' "$CORPUS/bounces/expected-sisimai.tsv" "$T/sisimai.out")
n=${result% *}
m=${result#* }
echo "# $n of $m attributed (sisimai set; floor $FLOOR)"
check "at least $FLOOR of $m bounces attributed exactly" test "$n" -ge "$FLOOR"

# Auto-replies and feedback reports are never counted as bounces.
kinds=$(awk -F'\t' 'NR > 1 && ($7 == "vacation" || $7 == "feedback") { print $1 }' \
	"$CORPUS/bounces/expected-sisimai.tsv" | sort -u | while read -r f; do
		grep "^sisimai/$f	" "$T/sisimai.out" | cut -f2 | head -1
	done | sort | uniq -c | tr -s ' ' | tr '\n' ';')
echo "# auto-replies and feedback reports read as: $kinds"
check "no auto-reply or feedback report is read as a bounce" sh -c "! printf '%s' '$kinds' | grep -q bounce"

# The other sets (CRLF, bare CR, mbox, flanker, ruby-mail, not-bounces):
# parsed without a crash; compare with the reference where it names one.
others=0
for d in sisimai-crlf sisimai-cr sisimai-mbox sisimai-not-bounces flanker ruby-mail; do
	[ -d "$CORPUS/bounces/$d" ] || continue
	(cd "$CORPUS/bounces" && find "$d" -type f | sort | xargs "$DSNPARSE") >>"$T/others.out" 2>>"$T/err" || not_ok "parser failed on $d"
	others=$((others + $(find "$CORPUS/bounces/$d" -type f | wc -l)))
done
check "every other bounce file parsed" test "$(cut -f1 "$T/others.out" | sort -u | wc -l)" -eq "$others"
if [ -f "$CORPUS/bounces/reference-sisimai-other.tsv" ]; then
	ref=$(awk -F'\t' '
		FNR == NR { if (FNR > 1 && $3 != "" && $2 != "0" && $7 != "feedback" && $7 != "vacation" && $7 != "delivered") want[$1] = want[$1] " " tolower($3); next }
		{ if ($3 != "-") got[$1] = got[$1] " " tolower($3) }
		END { for (f in want) { m++; ne = split(want[f], e, " "); ok = 1
			for (i = 1; i <= ne; i++) if (index(got[f] " ", " " e[i] " ") == 0) ok = 0
			if (ok) n++ }
		      print n + 0 " of " m + 0 }' \
		"$CORPUS/bounces/reference-sisimai-other.tsv" "$T/others.out")
	echo "# other sets: $ref reference recipients found (informational)"
fi
finish
