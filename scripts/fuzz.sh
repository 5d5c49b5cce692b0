#!/bin/bash
# fuzz.sh - builds the libFuzzer targets with clang under AddressSanitizer
# and UndefinedBehaviorSanitizer, and runs each for a bounded time.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [BUILD_DIR] [TARGET...]
#
# Defaults: 30 seconds, build-fuzz in the source tree, every target
# (message dsn request reply conf). Each target starts from its seeds (the
# test fixtures, tests/fuzz/seeds/, its regression inputs, and
# ../shared/corpus when present) in a scratch corpus folder, so the tree is
# never written. Prints one line per target: executions and seconds. A
# crash stops with exit 1 and names the input: keep it in
# tests/fuzz/regress/TARGET/ (t180 then runs it in make check).
set -uo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-30}
build=${2:-$src/build-fuzz}
shift $(( $# > 2 ? 2 : $# ))
targets=${*:-message dsn request reply conf}
jobs=${JOBS:-2}

command -v clang >/dev/null || { echo "fuzz: clang not found"; exit 1; }
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
mkdir -p "$build"
if [ ! -f "$build/Makefile" ]; then
	[ -x "$src/configure" ] || (cd "$src" && autoreconf -fi) || exit 1
	(cd "$build" && ASAN_OPTIONS=detect_leaks=0 \
		"$src/configure" -q --enable-fuzzing CC=clang \
		CFLAGS="-O1 -g -fno-omit-frame-pointer $san -fsanitize=fuzzer-no-link" \
		LDFLAGS="$san") || { echo "fuzz: configure failed"; exit 1; }
fi
progs=
for t in $targets; do progs="$progs tests/fuzz/fuzz-$t"; done
make -C "$build" -j"$jobs" $progs >"$build/fuzz-build.log" 2>&1 ||
	{ tail -30 "$build/fuzz-build.log"; echo "fuzz: build failed"; exit 1; }

corpus=$src/../shared/corpus
work=$(mktemp -d "${TMPDIR:-/tmp}/convene-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS=suppressions=$src/tests/fuzz/lsan.supp
rc=0
total=0
for t in $targets; do
	seeds="$work/$t-seeds"
	mkdir -p "$seeds" "$work/$t-corpus" "$work/$t-crash"
	case $t in
	message|reply)
		cp "$src"/tests/fixtures/mail/* "$seeds/"
		[ -d "$corpus/mime" ] && find "$corpus/mime" -type f -name '*.eml' \
			-size -64k -exec cp -t "$seeds" {} + 2>/dev/null ;;
	dsn)
		cp "$src"/tests/fixtures/bounces/* "$seeds/"
		[ -d "$corpus/bounces" ] && find "$corpus/bounces" -type f \
			-name '*.eml' -size -64k -exec cp -t "$seeds" {} + 2>/dev/null ;;
	request)
		cp "$src"/tests/fuzz/seeds/request/* "$seeds/" ;;
	conf)
		cp "$src"/tests/fuzz/seeds/conf/* "$src/etc/convene.conf" "$seeds/" ;;
	esac
	cp "$src"/tests/fuzz/regress/"$t"/* "$seeds/" 2>/dev/null
	log=$work/$t.log
	start=$(date +%s)
	"$build/tests/fuzz/fuzz-$t" -max_total_time="$secs" -timeout=10 \
		-rss_limit_mb=2048 -max_len=262144 -print_final_stats=1 \
		-artifact_prefix="$work/$t-crash/" \
		"$work/$t-corpus" "$seeds" >"$log" 2>&1
	r=$?
	end=$(date +%s)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	total=$((total + ${execs:-0}))
	echo "fuzz $t: ${execs:-0} executions in $((end - start)) s"
	if [ $r -ne 0 ]; then
		rc=1
		grep -E "ERROR|SUMMARY|runtime error" "$log" | head -5
		for c in "$work/$t-crash"/*; do
			[ -f "$c" ] || continue
			mkdir -p "$build/crashes/$t"
			cp "$c" "$build/crashes/$t/"
			echo "fuzz $t: crash input kept as $build/crashes/$t/$(basename "$c")"
		done
	fi
done
echo "fuzz: $total executions"
exit $rc
