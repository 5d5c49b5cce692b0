#!/bin/bash
# t196-debian-deps - the Debian package runs `make check` when it is built,
# so what the tests need must be in debian/control's Build-Depends (as
# "PACKAGE <!nocheck>") as well as in scripts/install-deps.sh. This names
# every package install-deps.sh installs that Build-Depends lacks, apart
# from those a package build does not want (the toolchain that
# build-essential and debhelper bring, the package tools themselves, what
# only the fuzzing or the private Exim binary of the CI need, run-time
# packages that are Depends or Recommends).
. "$(dirname "$0")/lib.sh"

not_build_deps=" build-essential autoconf automake libtool pkg-config
	ca-certificates git debhelper dpkg-dev lintian libsasl2-modules procps
	clang libclang-rt-14-dev
	libdb5.3 libgnutls-dane0 libgnutls30 libidn12 libidn2-0 libnsl2
	libpcre2-8-0 libcrypt1 util-linux "

# install_deps_packages FILE: the names in its packages=( ... ) array.
install_deps_packages() {
	sed -n '/^packages=(/,/^)/p' "$1" | sed '1d;$d; s/#.*//' | tr -s ' \t' '\n' | sed '/^$/d' | sort -u
}
# build_depends FILE: the names in debian/control's Build-Depends.
build_depends() {
	awk '/^Build-Depends:/ { p = 1; sub(/^Build-Depends:/, ""); print; next }
		p && /^[ \t]/ { print; next } { p = 0 }' "$1" |
		tr ',|' '\n\n' | sed 's/[(<\[].*//; s/^[ \t]*//; s/[ \t]*$//' | sed '/^$/d' | sort -u
}
# missing INSTALL-DEPS CONTROL: what install-deps has and Build-Depends lacks.
missing() {
	comm -23 <(install_deps_packages "$1") <(build_depends "$2") |
		while read -r p; do
			case $not_build_deps in *[[:space:]]$p[[:space:]]*) ;; *) echo "$p" ;; esac
		done
}
n=$(install_deps_packages "$top_srcdir/scripts/install-deps.sh" | wc -l)
check "install-deps.sh names packages ($n)" test "$n" -ge 20
check "debian/control names build dependencies" test "$(build_depends "$top_srcdir/debian/control" | wc -l)" -ge 10
expect_eq "every test package of install-deps.sh is in Build-Depends (add it as PACKAGE <!nocheck>)" "" \
	"$(missing "$top_srcdir/scripts/install-deps.sh" "$top_srcdir/debian/control" | tr '\n' ' ')"
# The check finds one that is missing.
sed '/^[ \t]*tmux <!nocheck>,$/d' "$top_srcdir/debian/control" >"$T/control"
expect_eq "a test package left out of Build-Depends is named" "tmux" \
	"$(missing "$top_srcdir/scripts/install-deps.sh" "$T/control" | tr '\n' ' ' | sed 's/ $//')"
finish
