#!/bin/sh
# No function over 80 lines outside the parsers of untrusted input (whose
# state machines read best whole), and funclen.sh, which holds src/ to it,
# names a long function planted in a copy with its file and line.
. "$(dirname "$0")/lib.sh"

FUNCLEN=$top_srcdir/tests/scripts/funclen.sh
PARSERS="-x mail/msg.c -x mail/dsn.c -x mail/request.c"

# shellcheck disable=SC2086
out=$(bash "$FUNCLEN" $PARSERS "$top_srcdir/src" 2>&1); rc=$?
echo "$out" | sed 's/^/#   /'
expect_eq "no function over 80 lines outside the parsers" 0 "$rc"
expect_eq "...and funclen.sh says nothing" "" "$out"

# A copy with an 81-line function and an 80-line one.
cp -R "$top_srcdir/src" "$T/"
{
	printf '\nstatic int planted_long(int x)\n{\n'
	i=0; while [ $i -lt 79 ]; do printf '\tx++;\n'; i=$((i + 1)); done
	printf '}\n\nint planted_fits(int x)\n{\n'
	i=0; while [ $i -lt 78 ]; do printf '\tx++;\n'; i=$((i + 1)); done
	printf '}\n'
} >>"$T/src/pipeline/posting.c"
start=$(grep -n '^static int planted_long' "$T/src/pipeline/posting.c" | cut -d: -f1)
start=$((start + 1))
# shellcheck disable=SC2086
out=$(bash "$FUNCLEN" $PARSERS "$T/src" 2>&1); rc=$?
echo "$out" | sed 's/^/#   /'
expect_eq "a planted 81-line function: funclen.sh fails" 1 "$rc"
expect_eq "...named with file, line and length" \
	"$T/src/pipeline/posting.c:$start: planted_long is 81 lines (max 80)" "$out"
# shellcheck disable=SC2086
out=$(bash "$FUNCLEN" $PARSERS -x pipeline/posting.c "$T/src" 2>&1); rc=$?
expect_eq "a file left out with -x is not read" 0 "$rc"
out=$(bash "$FUNCLEN" -n 200 "$T/src" 2>&1); rc=$?
expect_eq "a larger limit with -n passes" 0 "$rc"

finish
