#!/bin/bash
# build-deb.sh [OUTDIR] - builds the Debian package (convene_VERSION_ARCH.deb)
# from this checkout the way Debian does: dpkg-buildpackage -us -uc -b, with
# debhelper's dh and autoreconf (debian/). It builds in a temporary copy of
# the checkout's files (tracked and new ones, not ignored ones), so that the
# working tree stays as it is, then runs lintian on the package: an error
# fails the build. The .deb (and the build log, build-deb.log) land in
# OUTDIR, by default the top of the checkout.
#
# Needs the build dependencies that debian/control names
# (scripts/install-deps.sh installs them). DEB_BUILD_OPTIONS passes through:
# DEB_BUILD_OPTIONS=nocheck leaves out `make check`.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top}
mkdir -p "$out"
out=$(cd "$out" && pwd)
log=$out/build-deb.log

say() { echo "build-deb: $*"; }
die() { echo "build-deb: $*" >&2; exit 1; }

for p in dpkg-buildpackage dh lintian; do
	command -v "$p" >/dev/null || die "$p not found (scripts/install-deps.sh installs it)"
done
[ -f "$top/debian/control" ] || die "no debian/ folder in $top"

work=$(mktemp -d "${TMPDIR:-/tmp}/convene-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
# Tests run as root hand files to other users (nobody): let them in.
chmod 0755 "$work"
src=$work/convene
mkdir "$src"
if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(cd "$top" && git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
		tar --null -T - -cf -) | tar -C "$src" -xf -
else
	tar -C "$top" --exclude=./.git --exclude='./build*' -cf - . | tar -C "$src" -xf -
fi

say "building in $src (log: $log)"
if ! (cd "$src" && dpkg-buildpackage -us -uc -b) >"$log" 2>&1; then
	tail -40 "$log" >&2
	die "dpkg-buildpackage failed (log: $log)"
fi
debs=("$work"/convene_*.deb)
[ -f "${debs[0]}" ] || die "no package was made (log: $log)"
cp "${debs[@]}" "$out/"
say "made $(basename "${debs[0]}")"

# lintian: errors fail the build; warnings and the rest are shown.
if ! lintian --fail-on error --no-tag-display-limit "${debs[0]}" >"$work/lintian.out" 2>&1; then
	cat "$work/lintian.out" >&2
	die "lintian reports errors"
fi
cat "$work/lintian.out" >>"$log"
say "lintian: no errors ($(grep -c '^W:' "$work/lintian.out" || true) warnings)"
sed -n 's/^\([WIP]: \)/  \1/p' "$work/lintian.out" | head -20
