#!/bin/sh
# The fuzz targets (tests/fuzz/) over the inputs that once crashed them
# (tests/fuzz/regress/TARGET/), their seeds, and the corpus when it is
# there: no crash, no sanitizer report (make check runs this under ASan and
# UBSan in .ci/run).
. "$(dirname "$0")/lib.sh"

F=$top_srcdir/tests/fuzz
FX=$top_srcdir/tests/fixtures
CORPUS=$top_srcdir/../shared/corpus
# libconfig's own leak on some syntax errors is not ours (see the file)
LSAN_OPTIONS=suppressions=$F/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}
export LSAN_OPTIONS

# run TARGET PATH...: the target's standalone program over the paths.
run() {
	target=$1
	shift
	out=$("$top_builddir/tests/fuzz/regress-$target" "$@" 2>&1)
	rc=$?
	echo "# $target: $(printf '%s\n' "$out" | tail -1)"
	if [ $rc -eq 0 ]; then
		ok "$target: every input handled"
	else
		not_ok "$target: exit $rc"
		printf '%s\n' "$out" | tail -30 | sed 's/^/#   /'
	fi
}

more=
[ -d "$CORPUS" ] && more=$CORPUS
run message "$F/regress/message" "$FX" $more
run dsn "$F/regress/dsn" "$FX" ${more:+$CORPUS/bounces}
run reply "$F/regress/reply" "$FX" ${more:+$CORPUS/mime}
run request "$F/regress/request" "$F/seeds/request" "$FX/mail"
run conf "$F/regress/conf" "$F/seeds/conf" "$top_srcdir/etc/convene.conf"
finish
