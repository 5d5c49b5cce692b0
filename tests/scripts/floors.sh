#!/bin/bash
# floors.sh - holds every #include in a source tree to the floors of
# DESIGN.md ("Layers"): a file may include headers of its own floor and of
# the floors below it, never of a floor above, and never of a sibling it
# must not reach (Mail and Store know nothing of each other; Delivery knows
# nothing of the Pipeline). Library headers are held too: only Mail talks
# to libetpan and libical, only Store to SQLite, only Base (its chart) to
# cairo.
#
# Usage: floors.sh SRCDIR [INCLUDEDIR]
# Prints one line per violation as FILE:LINE: message and exits 1 when there
# is any, 0 otherwise.
set -u
src=${1:?usage: floors.sh SRCDIR [INCLUDEDIR]}
inc=${2:-}

# What each floor may include besides itself.
declare -A allowed=(
	[base]="base"
	[mail]="base mail"
	[store]="base store"
	[pipeline]="base mail store pipeline"
	[delivery]="base mail store delivery"
	[front]="base mail store pipeline delivery front"
)
# Third-party headers only one floor may use (<prefix>: floors).
declare -A library=(
	[libetpan/]="mail delivery"
	[sqlite3.h]="store"
	[cairo]="base"
	[libical/]="mail"
)

floor_of() {
	local rel=${1#"$2"/}
	echo "${rel%%/*}"
}

bad=0
check_file() {
	local file=$1 root=$2 floor n line hdr target
	floor=$(floor_of "$file" "$root")
	if [ -z "${allowed[$floor]+x}" ]; then
		echo "$file:1: not in a floor folder (base mail store pipeline delivery front)"
		bad=1
		return
	fi
	n=0
	while IFS= read -r line; do
		n=$((n + 1))
		case $line in
		\#*include*) ;;
		*) continue ;;
		esac
		if [[ $line =~ ^[[:space:]]*#[[:space:]]*include[[:space:]]*\"([^\"]+)\" ]]; then
			hdr=${BASH_REMATCH[1]}
			case $hdr in
			*/*) target=${hdr%%/*} ;;
			autoconf.h) continue ;;
			*)
				# A private header beside the file: same floor.
				[ -f "$(dirname "$file")/$hdr" ] && continue
				echo "$file:$n: \"$hdr\" names no floor (write \"FLOOR/$hdr\")"
				bad=1
				continue
				;;
			esac
			if [ -z "${allowed[$target]+x}" ]; then
				echo "$file:$n: \"$hdr\" is in no floor"
				bad=1
			elif [[ " ${allowed[$floor]} " != *" $target "* ]]; then
				echo "$file:$n: $floor may not include $target (\"$hdr\")"
				bad=1
			fi
		elif [[ $line =~ ^[[:space:]]*#[[:space:]]*include[[:space:]]*\<([^\>]+)\> ]]; then
			hdr=${BASH_REMATCH[1]}
			for lib in "${!library[@]}"; do
				if [[ $hdr == "$lib"* ]] &&
					[[ " ${library[$lib]} " != *" $floor "* ]]; then
					echo "$file:$n: $floor may not use <$hdr> (only ${library[$lib]})"
					bad=1
				fi
			done
		fi
	done <"$file"
}

while IFS= read -r f; do
	check_file "$f" "$src"
done < <(find "$src" -name '*.[ch]' | sort)
if [ -n "$inc" ]; then
	while IFS= read -r f; do
		check_file "$f" "$inc"
	done < <(find "$inc" -name '*.h' | sort)
fi
exit $bad
