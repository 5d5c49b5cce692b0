#!/bin/bash
# install-deps.sh - installs what convene needs to build, run and test on
# Debian 12
#
# Build: a C compiler, autotools, pkg-config and the development packages of
# libetpan, SQLite, libconfig, PCRE2, cairo (the health report's chart),
# libmicrohttpd (convene web) and libical (meetings), and tzdata for the
# time zones of schedules and meetings. Run: libsasl2-modules (the PLAIN
# and LOGIN mechanisms that SMTP AUTH needs). Tests: cmocka, the sqlite3 shell,
# swaks, Postfix for its smtp-sink/smtp-source tools, python3 (an LMTP
# client), strace (counts syncs), a private copy of
# Exim 4 (see below), mandoc and man-db (the manual pages), systemd (for
# systemd-analyze), debhelper, dpkg-dev and lintian (the Debian package,
# scripts/build-deb.sh), what reads digests the way members do (python3's
# email, formail from procmail, mutt in tmux), Python's icalendar (a second
# reader of the meeting invitations convene writes) and faketime (to move
# the clock). Postfix is installed with "No configuration" preseeded, so it
# asks nothing and is not set up to run.
#
# Needs root, or sudo. Safe to run again: when everything is already
# installed it changes nothing and does not touch the network. A mail server
# that was running before the script stays running: only a Postfix master
# that the installation itself started is stopped.
#
# Installing Postfix would replace another mail server (exim4, OpenSMTPD...):
# when one is installed, Postfix is left out with a warning (the build and the
# demo do not need it; the SMTP tests of `make check` do). Set
# CONVENE_REPLACE_MTA=yes to replace it anyway.
#
# The Exim test of `make check` needs Debian's Exim 4 binary, which cannot
# be installed next to Postfix (the packages conflict). Unless exim4 is
# installed, the script unpacks exim4-daemon-light with `dpkg -x` into
# CONVENE_TEST_EXIM_DIR (default /usr/local/lib/convene-test/exim4): nothing
# is configured, started or registered with dpkg, and the tests run it with a
# private config.
set -euo pipefail

packages=(
	build-essential autoconf automake libtool pkg-config
	libetpan-dev libsqlite3-dev sqlite3 libconfig-dev libpcre2-dev
	libmicrohttpd-dev
	# the health report's chart (a PNG drawn with cairo)
	libcairo2-dev
	# what reads the report as people do: chromium renders its HTML part
	# (and the web archive, whose tests drive it), file(1) names its chart
	chromium file
	libical-dev
	libcmocka-dev postfix swaks iproute2 ca-certificates strace
	libsasl2-modules
	# the fuzz targets (libFuzzer) and the hostile-mail test's generator
	clang libclang-rt-14-dev python3
	# the manual pages, the units' check and the Debian package
	perl mandoc man-db systemd procps debhelper dpkg-dev lintian git
	# /usr/bin/time (t165)
	time
	# the meeting tests: a second reader of the invitations
	python3-icalendar
	# what the private Exim binary links with
	libdb5.3 libgnutls-dane0 libgnutls30 libidn12 libidn2-0 libnsl2
	libpcre2-8-0 libcrypt1 util-linux
	tzdata python3 procmail mutt tmux faketime
	# the STARTTLS test's certificate
	openssl
)
exim_dir=${CONVENE_TEST_EXIM_DIR:-/usr/local/lib/convene-test/exim4}

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

# A running Postfix master, checked through /proc so that a run with
# nothing to do needs no sudo.
postfix_master_running() {
	local queue pidfile pid
	queue=$("$(command -v postconf || echo /usr/sbin/postconf)" -h \
		queue_directory 2>/dev/null) || queue=/var/spool/postfix
	pidfile=${queue:-/var/spool/postfix}/pid/master.pid
	[ -r "$pidfile" ] || return 1
	pid=$(tr -dc '0-9' <"$pidfile")
	[ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = master ]
}
was_running=no
postfix_master_running && was_running=yes

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

# A Postfix master that this run started (a postinst may start one) is
# stopped; one that was running before is the host's mail server and is
# left alone.
if [ "$was_running" = no ] && postfix_master_running; then
	say "stopping the Postfix master that the installation started"
	"${as_root[@]}" "$(command -v postfix || echo /usr/sbin/postfix)" stop \
		>/dev/null 2>&1 || true
fi

# The private Exim for the tests, unless Exim is installed for real.
if ! installed exim4-daemon-light && ! installed exim4-daemon-heavy &&
	[ ! -x "$exim_dir/usr/sbin/exim4" ]; then
	say "unpacking exim4-daemon-light into $exim_dir (for make check)"
	tmp=$(mktemp -d)
	chmod 0777 "$tmp"   # apt's download sandbox user writes here
	(cd "$tmp" && apt-get -qq -o Dpkg::Use-Pty=0 download \
		exim4-daemon-light >/dev/null) ||
		{ rm -rf "$tmp"; die "cannot download exim4-daemon-light"; }
	"${as_root[@]}" mkdir -p "$exim_dir"
	"${as_root[@]}" dpkg -x "$tmp"/exim4-daemon-light_*.deb "$exim_dir" ||
		{ rm -rf "$tmp"; die "cannot unpack exim4-daemon-light"; }
	rm -rf "$tmp"
	[ -x "$exim_dir/usr/sbin/exim4" ] ||
		die "no exim4 binary in $exim_dir after unpacking"
	# Only root runs it, for the tests: no set-user-ID root binary left
	# lying around.
	"${as_root[@]}" chmod u-s,g-s "$exim_dir/usr/sbin/exim4"
fi

exit 0
