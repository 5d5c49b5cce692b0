#!/bin/bash
# scripts/install-deps.sh on a host whose package tools and Postfix are
# stand-ins (nothing is installed, downloaded or stopped for real): the run
# time packages are installed, a Postfix that was running stays running, and
# only a Postfix master that the installation started is stopped.
. "$(dirname "$0")/lib.sh"

SCRIPT=$top_srcdir/scripts/install-deps.sh
S=$T/stubs
mkdir -p "$S" "$T/spool/pid"
: >"$T/calls"
# A process whose name (/proc/PID/comm) is "master", as Postfix's is.
cp "$(command -v sleep)" "$S/master"

cat >"$S/dpkg-query" <<'EOS'
#!/bin/bash
# dpkg-query -W -f=FORMAT [PACKAGE]: answers from $STUB/installed.
pkg=${3:-}
if [ -z "$pkg" ]; then
	while read -r p; do echo "ii |$p|"; done <"$STUB/installed"
	exit 0
fi
grep -qx "$pkg" "$STUB/installed" && { printf 'ii '; exit 0; }
exit 1
EOS
cat >"$S/apt-get" <<'EOS'
#!/bin/bash
echo "apt-get $*" >>"$STUB/calls"
for a in "$@"; do
	case $a in
	download) : >exim4-daemon-light_4.96_amd64.deb; exit 0 ;;
	-*|install|update) ;;
	*=*) ;;
	*) echo "$a" >>"$STUB/installed"
	   if [ "$a" = postfix ] && [ -f "$STUB/postinst-starts" ]; then
		   setsid "$STUB/stubs/master" 300 </dev/null >/dev/null 2>&1 &
		   echo $! >"$STUB/spool/pid/master.pid"
		   # Started means running as "master" (not still the shell
		   # that forked it), as a real postinst returns.
		   for _ in $(seq 100); do
			   [ "$(cat /proc/$!/comm 2>/dev/null)" = master ] && break
			   sleep 0.02
		   done
	   fi ;;
	esac
done
exit 0
EOS
cat >"$S/postfix" <<'EOS'
#!/bin/bash
echo "postfix $*" >>"$STUB/calls"
[ "$1" = stop ] && kill "$(cat "$STUB/spool/pid/master.pid")"
exit 0
EOS
cat >"$S/postconf" <<'EOS'
#!/bin/bash
echo "$STUB/spool"
EOS
cat >"$S/dpkg" <<'EOS'
#!/bin/bash
echo "dpkg $*" >>"$STUB/calls"
[ "$1" = -x ] && mkdir -p "$3/usr/sbin" && printf '#!/bin/sh\n' >"$3/usr/sbin/exim4" &&
	chmod 0755 "$3/usr/sbin/exim4"
exit 0
EOS
printf '#!/bin/bash\ncat >/dev/null\n' >"$S/debconf-set-selections"
printf '#!/bin/bash\nexec "$@"\n' >"$S/sudo"
chmod 0755 "$S"/*

export STUB=$T
# Every package of the script's list, as on a host where it ran before.
all_packages() {
	sed -n '/^packages=(/,/^)/p' "$SCRIPT" | sed '1d;$d; s/#.*//' | tr -s ' \t' '\n' | sed '/^$/d'
}
run_script() {
	local rc=0
	PATH="$S:$PATH" CONVENE_TEST_EXIM_DIR=$T/exim bash "$SCRIPT" >"$T/out" 2>&1 || rc=$?
	echo "$rc"
}
master_gone() {
	local i
	for i in $(seq 50); do
		master_alive || return 0
		sleep 0.1
	done
	return 1
}
start_master() {
	setsid "$S/master" 300 </dev/null >/dev/null 2>&1 &
	echo $! >"$T/spool/pid/master.pid"
	CLEANUP_PIDS="${CLEANUP_PIDS:-} $!"
}
# Alive and not a zombie waiting for its parent.
master_alive() {
	local pid
	pid=$(cat "$T/spool/pid/master.pid")
	kill -0 "$pid" 2>/dev/null && ! grep -q '^[^)]*) Z' "/proc/$pid/stat" 2>/dev/null
}

check "libsasl2-modules is among the packages" sh -c "grep -qx libsasl2-modules <<EOL
$(all_packages)
EOL"

# 1. Everything installed, the host's Postfix running: nothing changes.
all_packages >"$T/installed"
start_master
expect_eq "all installed: exits 0" 0 "$(run_script)"
check "all installed: says nothing to install" grep -q 'nothing to install' "$T/out"
check "all installed: the running Postfix is still running" master_alive
check "all installed: Postfix was not stopped" sh -c "! grep -q '^postfix stop' '$T/calls'"
check "all installed: no package installed" sh -c "! grep -Eq '^apt-get .*(update|install)' '$T/calls'"
# The private Exim for the tests is unpacked when it is not there.
check "exim unpacked" test -x "$T/exim/usr/sbin/exim4"
check "...from exim4-daemon-light with dpkg -x" grep -q "^dpkg -x .*/exim4-daemon-light_.*\.deb $T/exim" "$T/calls"

# 2. A package missing, the host's Postfix running: installed, Postfix left
# running (the production host re-running the README's commands).
all_packages | grep -vx libsasl2-modules >"$T/installed"
: >"$T/calls"
expect_eq "one missing: exits 0" 0 "$(run_script)"
check "one missing: libsasl2-modules installed" grep -q '^apt-get .*install.* libsasl2-modules' "$T/calls"
check "one missing: the running Postfix is still running" master_alive
check "one missing: Postfix was not stopped" sh -c "! grep -q '^postfix stop' '$T/calls'"
kill "$(cat "$T/spool/pid/master.pid")"

# 3. Postfix missing, its installation starts a master: that one is stopped.
all_packages | grep -vx postfix >"$T/installed"
rm -f "$T/spool/pid/master.pid"
: >"$T/calls"
touch "$T/postinst-starts"
expect_eq "postfix installed: exits 0" 0 "$(run_script)"
check "postfix installed: the master it started was stopped" grep -q '^postfix stop' "$T/calls"
check "postfix installed: ...and is gone" master_gone
rm -f "$T/postinst-starts"

# 4. Everything there, the private Exim too: nothing downloaded.
: >"$T/calls"
expect_eq "again: exits 0" 0 "$(run_script)"
check "again: nothing downloaded" sh -c "! grep -q 'download' '$T/calls'"
finish
