#!/bin/bash
# funclen.sh - names every function longer than a limit in a source tree
#
# Usage: funclen.sh [-n MAX] [-x FILE]... SRCDIR
# A function is a definition whose opening and closing braces stand alone
# at the start of a line (the house style); its length is the number of
# lines from that '{' to that '}'. -x leaves a file (path relative to
# SRCDIR, e.g. mail/msg.c) out: the parsers of untrusted input, whose
# state machines read best whole. Prints FILE:LINE: NAME is N lines (max
# MAX) for each, and exits 1 when there is any, 0 otherwise.
set -u
max=80
declare -A skip=()
while getopts "n:x:" opt; do
	case $opt in
	n) max=$OPTARG ;;
	x) skip[$OPTARG]=1 ;;
	*) echo "usage: funclen.sh [-n MAX] [-x FILE]... SRCDIR" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
src=${1:?usage: funclen.sh [-n MAX] [-x FILE]... SRCDIR}
bad=0
while IFS= read -r f; do
	rel=${f#"$src"/}
	[ -n "${skip[$rel]+x}" ] && continue
	out=$(awk -v max="$max" -v file="$f" '
		/^[A-Za-z_].*\(/ { sig = $0; sigline = FNR }
		/^\{/ { if (sig != "") { start = FNR; name = sig } }
		/^\}/ {
			if (start > 0) {
				n = FNR - start + 1
				if (n > max) {
					sub(/\(.*/, "", name)
					k = split(name, w, /[ *]+/)
					printf "%s:%d: %s is %d lines (max %d)\n", file, start, w[k], n, max
				}
			}
			start = 0; sig = ""
		}' "$f")
	if [ -n "$out" ]; then
		echo "$out"
		bad=1
	fi
done < <(find "$src" -name '*.c' | sort)
exit $bad
