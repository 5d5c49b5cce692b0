#!/bin/bash
# t195-install - `make install` lays out what an admin needs under its
# prefix (the same layout as the Debian package): the binary, the
# templates, a configuration in SYSCONFDIR/convene whose database and outbox
# are in LOCALSTATEDIR/lib/convene, the manual pages, the systemd units and
# the state folder. The units say what the issue asks (user, confinement,
# restart, reload) and pass `systemd-analyze verify` (no running systemd
# needed); the installed configuration passes `convene check`; an installed
# configuration is never overwritten, and `make uninstall` keeps it when it
# was edited.
. "$(dirname "$0")/lib.sh"

D=$T/inst
MAKE=${MAKE:-make}
if ! $MAKE -s -C "$top_builddir" install DESTDIR="$D" >"$T/install.out" 2>&1; then
	not_ok "make install DESTDIR=..."
	sed 's/^/#   /' "$T/install.out" | tail -20
	finish
fi
ok "make install DESTDIR=..."
i() { echo "$D$1"; }
check "the binary" test -x "$(i "$bindir")/convene"
check "the binary runs" "$(i "$bindir")/convene" --version
check "the templates" test -f "$(i "$pkgdatadir")/templates/en/welcome.txt"
check "the config in SYSCONFDIR/convene" test -f "$(i "$sysconfdir")/convene/convene.conf"
expect_eq "...not readable by others (it may hold a password)" "640" "$(stat -c %a "$(i "$sysconfdir")/convene/convene.conf")"
check "...its database in LOCALSTATEDIR/lib/convene" \
	grep -qx "database = \"$localstatedir/lib/convene/convene.db\";" "$(i "$sysconfdir")/convene/convene.conf"
check "...its outbox there too" \
	grep -q "path = \"$localstatedir/lib/convene/outbox\";" "$(i "$sysconfdir")/convene/convene.conf"
check "the state folder" test -d "$(i "$localstatedir")/lib/convene"
check "the example config in the docs" test -f "$(i "$docdir")/convene.conf"
check "convene(8)" test -f "$(i "$mandir")/man8/convene.8"
check "convene.conf(5)" test -f "$(i "$mandir")/man5/convene.conf.5"
for u in convene.service convene-run.service convene-run.timer convene-lmtp.socket convene-lmtp.service convene-web.service; do
	check "unit $u" test -f "$(i "$systemdsystemunitdir")/$u"
done

# The installed config, with its paths moved into the DESTDIR, passes check
# (it creates the database there).
# (and the templates, which it leaves at their compiled-in default).
sed "s|\"$localstatedir|\"$D$localstatedir|g" "$(i "$sysconfdir")/convene/convene.conf" >"$T/installed.conf"
echo "templates = \"$(i "$pkgdatadir")/templates\";" >>"$T/installed.conf"
check "the installed config passes convene check" "$(i "$bindir")/convene" -c "$T/installed.conf" check
check "...which made the database in the state folder" test -f "$(i "$localstatedir")/lib/convene/convene.db"

# The units.
S=$(i "$systemdsystemunitdir")/convene.service
for line in "User=convene" "ProtectSystem=strict" "ReadWritePaths=$localstatedir/lib/convene" \
	"NoNewPrivileges=yes" "PrivateTmp=yes" "Restart=on-failure" \
	"ExecReload=/bin/kill -HUP \$MAINPID" "ExecStart=$bindir/convene run"; do
	check "convene.service: $line" grep -qxF "$line" "$S"
done
R=$(i "$systemdsystemunitdir")/convene-run.service
for line in "Type=oneshot" "User=convene" "ExecStart=$bindir/convene run --once" \
	"ProtectSystem=strict" "ReadWritePaths=$localstatedir/lib/convene" "NoNewPrivileges=yes" "PrivateTmp=yes"; do
	check "convene-run.service: $line" grep -qxF "$line" "$R"
done
check "convene-run.timer: every minute" grep -qx "OnUnitActiveSec=1min" "$(i "$systemdsystemunitdir")/convene-run.timer"
check "the timer and the daemon exclude each other" \
	grep -qx "Conflicts=convene.service" "$(i "$systemdsystemunitdir")/convene-run.timer"
L=$(i "$systemdsystemunitdir")/convene-lmtp.service
for line in "User=convene" "ExecStart=$bindir/convene lmtp" "Requires=convene-lmtp.socket" \
	"ProtectSystem=strict" "ReadWritePaths=$localstatedir/lib/convene" "NoNewPrivileges=yes" \
	"ExecReload=/bin/kill -HUP \$MAINPID"; do
	check "convene-lmtp.service: $line" grep -qxF "$line" "$L"
done
W=$(i "$systemdsystemunitdir")/convene-web.service
for line in "User=convene" "ExecStart=$bindir/convene web" \
	"ProtectSystem=strict" "ReadWritePaths=$localstatedir/lib/convene" "NoNewPrivileges=yes" \
	"ExecReload=/bin/kill -HUP \$MAINPID"; do
	check "convene-web.service: $line" grep -qxF "$line" "$W"
done
check "convene-lmtp.socket: where the example config listens" \
	grep -qx "ListenStream=/run/convene/lmtp.sock" "$(i "$systemdsystemunitdir")/convene-lmtp.socket"
check "...the same path as lmtp.listen in the installed config" \
	grep -q 'listen = "unix:/run/convene/lmtp.sock";' "$(i "$sysconfdir")/convene/convene.conf"

# systemd-analyze verify needs the programs the units name at their paths:
# the units as installed, with the binary's path moved into the DESTDIR.
if command -v systemd-analyze >/dev/null; then
	mkdir -p "$T/units"
	for u in convene.service convene-run.service convene-run.timer convene-lmtp.socket convene-lmtp.service convene-web.service; do
		sed "s|$bindir/convene|$D$bindir/convene|" "$(i "$systemdsystemunitdir")/$u" >"$T/units/$u"
	done
	# It also opens the manual pages the units name (Documentation=).
	if MANPATH=$(i "$mandir") systemd-analyze verify "$T/units/convene.service" "$T/units/convene-run.service" \
		"$T/units/convene-run.timer" "$T/units/convene-lmtp.socket" "$T/units/convene-lmtp.service" \
		"$T/units/convene-web.service" \
		>"$T/verify.out" 2>&1; then
		ok "systemd-analyze verify: the six units"
	else
		not_ok "systemd-analyze verify: the six units"
		sed 's/^/#   /' "$T/verify.out"
	fi
	# It does catch a broken unit.
	sed 's/^ProtectSystem=strict/ProtectSystem=very/; s|^ExecStart=.*|ExecStart=/nonexistent/convene run|' \
		"$T/units/convene.service" >"$T/units/broken.service"
	check "systemd-analyze verify: a broken unit fails" sh -c "! MANPATH='$(i "$mandir")' systemd-analyze verify '$T/units/broken.service' >/dev/null 2>&1"
else
	echo "systemd-analyze not found (apt-get install systemd): cannot verify the units"
	not_ok "systemd-analyze verify"
fi

# Installing again keeps the admin's config; uninstalling keeps it when it
# was edited, and removes everything else.
echo '# edited' >>"$(i "$sysconfdir")/convene/convene.conf"
$MAKE -s -C "$top_builddir" install DESTDIR="$D" >"$T/install2.out" 2>&1
check "install again: the edited config is kept" grep -qx '# edited' "$(i "$sysconfdir")/convene/convene.conf"
check "...and said so" grep -q "keeping $D$sysconfdir/convene/convene.conf" "$T/install2.out"
$MAKE -s -C "$top_builddir" uninstall DESTDIR="$D" >"$T/uninstall.out" 2>&1
check "uninstall: the edited config stays" test -f "$(i "$sysconfdir")/convene/convene.conf"
expect_eq "uninstall: nothing else of ours is left" "$(i "$sysconfdir")/convene/convene.conf" \
	"$(find "$D" -type f ! -path "*/lib/convene/*" | sort | tr '\n' ' ' | sed 's/ $//')"
rm -f "$(i "$sysconfdir")/convene/convene.conf"
$MAKE -s -C "$top_builddir" install DESTDIR="$D" >/dev/null 2>&1
$MAKE -s -C "$top_builddir" uninstall DESTDIR="$D" >/dev/null 2>&1
expect_eq "uninstall: an unedited config goes too" "" "$(find "$D" -type f ! -path "*/lib/convene/*")"
finish
