#!/bin/bash
# check-deb.sh DEB - checks a built convene package without installing it
# (the installation itself is tried on a fresh Debian by
# ../shared/newcomer/fresh-debian.sh, see README): what it holds and where,
# its maintainer scripts, its configuration, manual pages and systemd units
# (systemd-analyze verify, no running systemd needed), and lintian.
# Prints "ok - ..." or "not ok - ..." per check and a last line
# "# N checks, M failed"; exits 1 when a check failed. .ci/run counts them.
set -u
deb=${1:-}
[ -f "$deb" ] || { echo "usage: check-deb.sh convene_VERSION_ARCH.deb" >&2; exit 2; }
T=$(mktemp -d "${TMPDIR:-/tmp}/convene-deb-check.XXXXXX")
trap 'rm -rf "$T"' EXIT
checks=0 failures=0
ok() { checks=$((checks + 1)); echo "ok - $*"; }
not_ok() { checks=$((checks + 1)); failures=$((failures + 1)); echo "not ok - $*"; }
check() { local what=$1; shift; if "$@" >/dev/null 2>&1; then ok "$what"; else not_ok "$what"; fi; }
has_line() { grep -qxF -- "$2" <<<"$1"; }

version=$(dpkg-deb -f "$deb" Version)
upstream=${version%-*}
check "package name convene" test "$(dpkg-deb -f "$deb" Package)" = convene
depends=$(dpkg-deb -f "$deb" Depends)
check "depends on adduser (the postinst makes the user)" grep -qw adduser <<<"$depends"
check "depends on the libraries it links (shlibs)" grep -q 'libetpan' <<<"$depends"

contents=$(dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|')
for f in /usr/bin/convene /etc/convene/convene.conf \
	/usr/share/convene/templates/en/welcome.txt /usr/share/convene/templates/en/hold-notice.txt \
	/usr/share/man/man8/convene.8.gz /usr/share/man/man5/convene.conf.5.gz \
	/lib/systemd/system/convene.service /lib/systemd/system/convene-run.service \
	/lib/systemd/system/convene-run.timer /usr/share/doc/convene/copyright \
	/usr/share/doc/convene/convene.conf.gz; do
	check "holds $f" has_line "$contents" "$f"
done

dpkg-deb -e "$deb" "$T/control"
check "conffile /etc/convene/convene.conf" grep -qx /etc/convene/convene.conf "$T/control/conffiles"
check "postinst makes the convene system user" grep -q 'adduser --system --group --home /var/lib/convene' "$T/control/postinst"
check "postinst makes /var/lib/convene for it" grep -q 'install -d -o convene -g convene -m 0750 /var/lib/convene' "$T/control/postinst"
check "postinst makes the database as convene" grep -q 'runuser -u convene -- /usr/bin/convene check' "$T/control/postinst"
check "postinst enables convene.service" grep -q "deb-systemd-helper.*enable 'convene.service'\|deb-systemd-helper enable 'convene.service'" "$T/control/postinst"
# The timer is the daemon's alternative: enabled again on upgrade only if
# the admin had enabled it (dh_installsystemd --no-enable), never started.
check "postinst enables the timer only where the admin had" \
	grep -q "deb-systemd-helper debian-installed 'convene-run.timer'" "$T/control/postinst"
check "postinst starts convene.service, not the timer" \
	sh -c "grep -q \"deb-systemd-invoke \\\$_dh_action 'convene.service'\" '$T/control/postinst' && ! grep -q \"deb-systemd-invoke .*'convene-run\" '$T/control/postinst'"
check "postrm purges /var/lib/convene" grep -q 'rm -rf /var/lib/convene' "$T/control/postrm"

R=$T/root
dpkg-deb -x "$deb" "$R"
check "convene --version is the package's version ($upstream)" test "$("$R/usr/bin/convene" --version)" = "convene $upstream"
conf=$R/etc/convene/convene.conf
check "the configuration keeps the database in /var/lib/convene" grep -qx 'database = "/var/lib/convene/convene.db";' "$conf"
check "...and the outbox" grep -q 'path = "/var/lib/convene/outbox";' "$conf"
sed "s|\"/var/lib/convene|\"$R/var/lib/convene|g" "$conf" >"$T/convene.conf"
echo "templates = \"$R/usr/share/convene/templates\";" >>"$T/convene.conf"
mkdir -p "$R/var/lib/convene"
check "the configuration passes convene check" "$R/usr/bin/convene" -c "$T/convene.conf" check
# The compiled-in defaults are the package's paths.
"$R/usr/bin/convene" --help >"$T/help" 2>&1
check "the default configuration is /etc/convene/convene.conf" grep -q '/etc/convene/convene.conf' "$T/help"

for m in man8/convene.8.gz man5/convene.conf.5.gz; do
	check "mandoc -T lint: $m has no error or warning" mandoc -T lint -W warning "$R/usr/share/man/$m"
	MANWIDTH=80 man -l "$R/usr/share/man/$m" >"$T/rendered" 2>"$T/man.err"
	check "man -l renders $m" sh -c "test -s '$T/rendered' && test ! -s '$T/man.err'"
done

mkdir -p "$T/units"
for u in convene.service convene-run.service convene-run.timer; do
	sed "s|/usr/bin/convene|$R/usr/bin/convene|" "$R/lib/systemd/system/$u" >"$T/units/$u"
done
check "convene.service: User=convene, ProtectSystem=strict, ReadWritePaths=/var/lib/convene" \
	sh -c "grep -qx User=convene '$T/units/convene.service' && grep -qx ProtectSystem=strict '$T/units/convene.service' && grep -qx ReadWritePaths=/var/lib/convene '$T/units/convene.service'"
if MANPATH=$R/usr/share/man systemd-analyze verify "$T/units/convene.service" \
	"$T/units/convene-run.service" "$T/units/convene-run.timer" >"$T/verify" 2>&1; then
	ok "systemd-analyze verify: the package's units"
else
	not_ok "systemd-analyze verify: the package's units"
	sed 's/^/#   /' "$T/verify"
fi

if lintian --fail-on error --no-tag-display-limit "$deb" >"$T/lintian" 2>&1; then
	ok "lintian: no errors ($(grep -c '^W:' "$T/lintian") warnings)"
else
	not_ok "lintian: errors"
fi
grep '^[EW]:' "$T/lintian" | sed 's/^/#   /'

echo "# $checks checks, $failures failed"
[ "$failures" -eq 0 ]
