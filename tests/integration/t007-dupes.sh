#!/bin/sh
# No code repeated inside one floor: dupes.py finds no run of more than 10
# alike lines in two places of one floor of src/ and include/, and names a
# copy planted in a copy of the tree (word for word, or with its names
# changed) with its files and lines; a copy of 10 lines, or one in
# another floor, is not a pair.
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || { echo "# python3 missing"; exit 77; }
DUPES="python3 $top_srcdir/tests/scripts/dupes.py"

out=$($DUPES "$top_srcdir/src" "$top_srcdir/include" 2>&1); rc=$?
echo "$out" | sed 's/^/#   /'
expect_eq "no pair of more than 10 lines inside one floor" 0 "$rc"
expect_eq "...and dupes.py says nothing" "" "$out"

cp -R "$top_srcdir/src" "$top_srcdir/include" "$T/"

# func NAME VAR N: a function whose body is N code lines, its variable
# called VAR; with its signature, N + 1 lines that count.
func() {
	printf '\nstatic int %s(const char *%s)\n{\n\tint n = 0;\n\n' "$1" "$2"
	i=1
	while [ "$i" -le "$(($3 - 2))" ]; do
		printf '\tn += (int)strlen(%s) * %d - step_%d(%s, "%d");\n' \
			"$2" "$i" "$i" "$2" "$i"
		i=$((i + 1))
	done
	printf '\treturn n;\n}\n'
}
scan() {
	out=$($DUPES "$T/src" "$T/include" 2>&1); rc=$?
	echo "$out" | sed 's/^/#   /'
}
# at FILE NAME: the line of FILE where the function NAME begins.
at() { grep -n "^static int $2(" "$1" | cut -d: -f1; }

# Word for word, in two files of the Pipeline: 11 lines (a body of 10 and
# the same signature) are a pair, named with both places.
func planted_a text 10 >>"$T/src/pipeline/posting.c"
func planted_a text 10 >>"$T/src/pipeline/notice.c"
scan
expect_eq "an 11-line copy: dupes.py fails" 1 "$rc"
a=$(at "$T/src/pipeline/notice.c" planted_a)
b=$(at "$T/src/pipeline/posting.c" planted_a)
expect_eq "...and names both places" \
	"$T/src/pipeline/notice.c:$a-$((a + 12)) ~ $T/src/pipeline/posting.c:$b-$((b + 12)): 11 lines" \
	"$out"
cp "$top_srcdir/src/pipeline/posting.c" "$top_srcdir/src/pipeline/notice.c" \
	"$T/src/pipeline/"

# With its names changed (function and variable), in one file of the
# store: a body of 11 lines is still a copy.
func planted_b text 11 >>"$T/src/store/store_polls.c"
func planted_c body 11 >>"$T/src/store/store_polls.c"
scan
expect_eq "a copy with other names: dupes.py fails" 1 "$rc"
a=$(at "$T/src/store/store_polls.c" planted_b)
b=$(at "$T/src/store/store_polls.c" planted_c)
expect_eq "...and names it" \
	"$T/src/store/store_polls.c:$((a + 2))-$((a + 13)) ~ $T/src/store/store_polls.c:$((b + 2))-$((b + 13)): 11 lines" \
	"$out"
cp "$top_srcdir/src/store/store_polls.c" "$T/src/store/"

# A header and a source file of one floor are compared too.
func planted_d text 11 >>"$T/include/mail/msg.h"
func planted_d text 11 >>"$T/src/mail/verp.c"
scan
expect_eq "a copy in a header: dupes.py fails" 1 "$rc"
check "...and names the header" sh -c "echo '$out' | grep -q '^$T/include/mail/msg.h:'"
cp "$top_srcdir/include/mail/msg.h" "$T/include/mail/"
cp "$top_srcdir/src/mail/verp.c" "$T/src/mail/"

# Not pairs: 10 lines alike (other names), and a copy in two floors.
func planted_e text 10 >>"$T/src/delivery/deliver.c"
func planted_g body 10 >>"$T/src/delivery/transport_smtp.c"
func planted_f text 14 >>"$T/src/base/util.c"
func planted_f text 14 >>"$T/src/front/cmd_run.c"
scan
expect_eq "10 lines, and a copy across floors: not pairs" 0 "$rc"
expect_eq "...and nothing said" "" "$out"

finish
