#!/bin/bash
# install-check.sh - installs the package built by scripts/build-deb.sh
# (./convene_*.deb) on this machine and checks it as an admin would, then
# purges it. For a disposable Debian 12 only (as root): it installs, creates
# the convene user and removes /var/lib/convene again. The fresh-install
# test runs it on a brand-new system:
#   ../shared/newcomer/fresh-debian.sh scripts/install-deps.sh \
#       'DEB_BUILD_OPTIONS=nocheck scripts/build-deb.sh' \
#       tests/package/install-check.sh
# Without a running systemd the service is not started; the units are
# checked with systemd-analyze verify.
set -euxo pipefail
[ "$(id -u)" = 0 ] || { echo "run as root, on a machine you can throw away"; exit 2; }
cd "$(dirname "$0")/../.."
apt install -y ./convene_*.deb
convene --version
convene check
runuser -u convene -- convene check
id convene
test "$(stat -c '%U:%G %a' /var/lib/convene)" = "convene:convene 750"
test "$(stat -c '%U:%G %a' /etc/convene/convene.conf)" = "root:convene 640"
test "$(stat -c '%U' /var/lib/convene/convene.db)" = convene
systemd-analyze verify /lib/systemd/system/convene.service /lib/systemd/system/convene-run.service /lib/systemd/system/convene-run.timer \
	/lib/systemd/system/convene-lmtp.socket /lib/systemd/system/convene-lmtp.service \
	/lib/systemd/system/convene-web.service
MANWIDTH=80 man convene | grep -q 'convene mta postfix'
MANWIDTH=80 man 5 convene.conf | grep -q relay_skip
runuser -u convene -- convene members makers add --quiet bob@example.net carol@example.com
printf 'From: Alice <alice@example.org>\nTo: makers@lists.example.org\nSubject: installed\nMessage-ID: <fresh@example.org>\n\nHello from a fresh install.\n' | runuser -u convene -- convene receive --recipient makers@lists.example.org
runuser -u convene -- convene run --once
grep -l 'Subject: \[makers\] installed' /var/lib/convene/outbox/new/* 
convene mta postfix | grep -q 'argv=/usr/bin/convene receive --recipient'
convene mta postfix --lmtp | grep -q 'lists.example.org=lmtp:unix:/run/convene/lmtp.sock'
apt-get purge -y convene
test ! -e /var/lib/convene
echo "fresh install checks: all passed"
