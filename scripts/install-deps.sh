#!/bin/bash
# install-deps.sh - installs what convene needs to build and test on Debian 12
#
# Build: a C compiler, autotools, pkg-config and the development packages of
# libetpan, SQLite, libconfig and PCRE2. Tests: cmocka, the sqlite3 shell,
# and Postfix for its smtp-sink/smtp-source tools. Postfix is installed with
# "No configuration" preseeded, so it asks nothing and is not set up to run;
# any Postfix master left running afterwards is stopped.
#
# Needs root, or sudo. Safe to run again: when every package is already
# installed it changes nothing and does not touch the network. A running
# Postfix master is stopped unless CONVENE_KEEP_POSTFIX=yes.
#
# Installing Postfix would replace another mail server (exim4, OpenSMTPD...):
# when one is installed, Postfix is left out with a warning (the build and the
# demo do not need it; the SMTP tests of `make check` do). Set
# CONVENE_REPLACE_MTA=yes to replace it anyway.
set -euo pipefail

packages=(
	build-essential autoconf automake libtool pkg-config
	libetpan-dev libsqlite3-dev sqlite3 libconfig-dev libpcre2-dev
	libcmocka-dev postfix swaks iproute2 ca-certificates
)

say() { echo "install-deps: $*"; }
die() { echo "install-deps: $*" >&2; exit 1; }

command -v apt-get >/dev/null 2>&1 ||
	die "apt-get not found: this script is for Debian 12 (bookworm)"

if [ "$(id -u)" -eq 0 ]; then
	as_root=()
elif command -v sudo >/dev/null 2>&1; then
	as_root=(sudo)
else
	die "run as root (or install sudo): installing packages needs it"
fi

installed() {
	[ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null)" = "ii " ]
}

# Installed packages other than Postfix that provide an MTA.
other_mta() {
	dpkg-query -W -f='${db:Status-Abbrev}|${Package}|${Provides}\n' 2>/dev/null |
		awk -F'|' '$1 ~ /^ii/ && $2 != "postfix" &&
			$3 ~ /(^|[ ,])mail-transport-agent([ ,]|$)/ { print $2 }'
}

missing=()
for p in "${packages[@]}"; do
	installed "$p" || missing+=("$p")
done

if [[ " ${missing[*]} " == *" postfix "* ]] &&
	[ "${CONVENE_REPLACE_MTA:-}" != yes ]; then
	mta=$(other_mta | tr '\n' ' ')
	if [ -n "$mta" ]; then
		say "warning: not installing postfix: it would replace ${mta% }"
		say "warning: make check needs its smtp-sink; set" \
			"CONVENE_REPLACE_MTA=yes to install it anyway"
		kept=()
		for p in "${missing[@]}"; do
			[ "$p" = postfix ] || kept+=("$p")
		done
		missing=("${kept[@]+"${kept[@]}"}")
	fi
fi

if [ "${#missing[@]}" -eq 0 ]; then
	say "nothing to install"
else
	say "installing: ${missing[*]}"
	# Postfix only provides smtp-sink/smtp-source here: no questions, no
	# configuration, nothing listening.
	echo "postfix postfix/main_mailer_type select No configuration" |
		"${as_root[@]}" debconf-set-selections
	"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
		apt-get -qq -o Dpkg::Use-Pty=0 update
	"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
		apt-get -qq -y -o Dpkg::Use-Pty=0 --no-install-recommends \
		install "${missing[@]}" >/dev/null
	for p in "${missing[@]}"; do
		installed "$p" || die "package $p did not install"
	done
	say "installed ${#missing[@]} package(s)"
fi

# Leave no Postfix master behind (a postinst or an earlier setup may have
# started one); the tests start their own SMTP peers on loopback. Checked
# through /proc, so that a run with nothing to do needs no sudo.
postfix_master_running() {
	local pidfile=/var/spool/postfix/pid/master.pid pid
	[ -r "$pidfile" ] || return 1
	pid=$(tr -dc '0-9' <"$pidfile")
	[ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = master ]
}
if [ "${CONVENE_KEEP_POSTFIX:-}" != yes ] && postfix_master_running; then
	say "stopping the running Postfix master (CONVENE_KEEP_POSTFIX=yes keeps it)"
	"${as_root[@]}" "$(command -v postfix || echo /usr/sbin/postfix)" stop \
		>/dev/null 2>&1 || true
fi

exit 0
