#!/bin/bash
# circles.sh - names every circle between modules in a source tree
#
# Usage: circles.sh SRCDIR INCLUDEDIR
# A module is a name: src/FLOOR/NAME.c and include/FLOOR/NAME.h (or a
# private NAME.h beside the .c). Module A uses module B when A's .c or .h
# includes B's header. A circle (A uses B ... uses A) means neither can be
# understood, tested or built without the other: a module that needs a
# service of its caller gets it passed in, or the service moves down.
# Prints one line per circle, "circle: A -> B -> ... -> A", and exits 1
# when there is any, 0 otherwise.
set -u
src=${1:?usage: circles.sh SRCDIR INCLUDEDIR}
inc=${2:?usage: circles.sh SRCDIR INCLUDEDIR}
declare -A uses=()

while IFS= read -r f; do
	case $f in
	"$src"/*) rel=${f#"$src"/} ;;
	*) rel=${f#"$inc"/} ;;
	esac
	base=${rel##*/}
	m=${rel%/*}/${base%.*}
	while IFS= read -r hdr; do
		case $hdr in
		*/*) t=${hdr%.h} ;;
		*) t=${rel%/*}/${hdr%.h} ;;
		esac
		[ "$t" = "$m" ] && continue
		uses[$m]="${uses[$m]:-} $t"
	done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\.h\)".*/\1/p' "$f")
done < <(find "$src" "$inc" -name '*.[ch]' | sort)

declare -A state=()   # 1: on the path, 2: done
bad=0
path=()
visit() {
	local m=$1 t i
	state[$m]=1
	path+=("$m")
	for t in ${uses[$m]:-}; do
		if [ "${state[$t]:-0}" = 1 ]; then
			local out="circle:"
			for ((i = 0; i < ${#path[@]}; i++)); do
				if [ "${path[$i]}" = "$t" ] || [ -n "${started:-}" ]; then
					started=1
					out="$out ${path[$i]} ->"
				fi
			done
			unset started
			echo "$out $t"
			bad=1
		elif [ "${state[$t]:-0}" = 0 ]; then
			visit "$t"
		fi
	done
	unset 'path[${#path[@]}-1]'
	state[$m]=2
}
for m in $(printf '%s\n' "${!uses[@]}" | sort); do
	[ "${state[$m]:-0}" = 0 ] && visit "$m"
done
exit $bad
