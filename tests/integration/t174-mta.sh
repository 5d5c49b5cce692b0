#!/bin/bash
# t174-mta - `convene mta postfix|exim`: the wiring printed for the config in
# force (this binary, -c when the config is not the default, the user), and
# `--check` against a Postfix config folder read by the real postconf and
# postmap (no Postfix running, no root): complete, then with a line taken
# out, each missing part named. The end-to-end test through a running
# Postfix is t175, the Exim one t176.
. "$(dirname "$0")/lib.sh"

write_config
exe=$(readlink -f "$CONVENE")
conf=$(readlink -f "$T/convene.conf")

out=$(cv mta postfix)
rc=$?
expect_eq "mta postfix exits 0" 0 "$rc"
check "master.cf: the pipe service running this binary with -c and the recipient" \
	grep -qxF "  flags=DRhu user=convene argv=$exe -c $conf receive --recipient \${recipient}" <<<"$out"
check "master.cf: the service line" \
	grep -qx 'convene   unix  -       n       n       -       -       pipe' <<<"$out"
check "main.cf: relay_domains is the config's domain" grep -qx 'relay_domains = lists.example.org' <<<"$out"
check "main.cf: transport_maps sends it to the service" \
	grep -qx 'transport_maps = inline:{ lists.example.org=convene: }' <<<"$out"
check "main.cf: one recipient per run" grep -qx 'convene_destination_recipient_limit = 1' <<<"$out"
check "the user can be chosen" sh -c "'$CONVENE' -c '$T/convene.conf' mta postfix --user lists | grep -q ' user=lists argv='"
# CONVENE_CONFIG names the config as -c does.
check "CONVENE_CONFIG: the same -c" sh -c "CONVENE_CONFIG='$T/convene.conf' '$CONVENE' mta postfix | grep -qF 'argv=$exe -c $conf receive'"

out=$(cv mta exim)
expect_eq "mta exim exits 0" 0 "$?"
check "exim: the router for the domain" \
	grep -qzP 'convene_router:\n  driver = accept\n  domains = lists\.example\.org\n  transport = convene_transport\n' <<<"$out"
check "exim: the pipe transport running this binary" grep -qxF "  command = $exe -c $conf receive" <<<"$out"
check "exim: as the convene user" grep -qx '  user = convene' <<<"$out"

# --lmtp: the wiring to `convene lmtp`, where lmtp.listen says it listens.
lconf() { # lconf LISTEN: a copy of the config with lmtp.listen = LISTEN
	sed "s|^lists = (|lmtp = { listen = \"$1\"; };\nlists = (|" "$T/convene.conf" >"$T/lmtp.conf"
}
lconf unix:/run/convene/lmtp.sock
out=$("$CONVENE" -c "$T/lmtp.conf" mta postfix --lmtp)
expect_eq "--lmtp: exits 0" 0 "$?"
check "--lmtp: the domain goes to the socket" \
	grep -qx 'transport_maps = inline:{ lists.example.org=lmtp:unix:/run/convene/lmtp.sock }' <<<"$out"
expect_eq "--lmtp: no pipe service, no recipient limit" 0 "$(grep -c 'pipe\|recipient_limit' <<<"$out")"
check "--lmtp: what to do where lmtp(8) is chrooted" \
	grep -q '^#   lmtp = { listen = "unix:/var/spool/postfix/private/convene-lmtp"; };' <<<"$out"
lconf unix:/var/spool/postfix/private/convene-lmtp
out=$("$CONVENE" -c "$T/lmtp.conf" mta postfix --lmtp)
check "--lmtp: a socket below Postfix's queue, named relative to it" \
	grep -qx 'transport_maps = inline:{ lists.example.org=lmtp:unix:private/convene-lmtp }' <<<"$out"
lconf 127.0.0.1:8024
out=$("$CONVENE" -c "$T/lmtp.conf" mta postfix --lmtp)
check "--lmtp: loopback TCP" \
	grep -qx 'transport_maps = inline:{ lists.example.org=lmtp:inet:127.0.0.1:8024 }' <<<"$out"
out=$("$CONVENE" -c "$T/lmtp.conf" mta exim --lmtp)
check "exim --lmtp over TCP: an smtp transport speaking LMTP" \
	grep -qzP 'convene_lmtp:\n  driver = smtp\n  protocol = lmtp\n  hosts = 127\.0\.0\.1\n  port = 8024\n' <<<"$out"
check "exim --lmtp: the router sends the domain there" grep -qx '  transport = convene_lmtp' <<<"$out"
cv mta sendmail >/dev/null 2>&1
expect_eq "an unknown MTA: usage" 64 "$?"
cv mta >/dev/null 2>&1
expect_eq "no MTA named: usage" 64 "$?"
cv mta postfix --user 'a b' >/dev/null 2>&1
expect_eq "a user name with a space: refused" 64 "$?"
mkdir -p "$T/with space"
cp "$T/convene.conf" "$T/with space/c.conf"
sed -i "s|^templates = .*|templates = \"$top_srcdir/templates\";|" "$T/with space/c.conf"
err=$("$CONVENE" -c "$T/with space/c.conf" mta postfix 2>&1)
expect_eq "a config path with a space: refused" 64 "$?"
check "...naming the path" grep -q "with space/c.conf holds white space" <<<"$err"
echo 'domain = ;' >"$T/bad.conf"
"$CONVENE" -c "$T/bad.conf" mta postfix >/dev/null 2>&1
expect_eq "a broken config: EX_CONFIG" 78 "$?"

# ---- --check against a Postfix config folder, with the real postconf ----

POSTCONF=$(command -v postconf || echo /usr/sbin/postconf)
if [ ! -x "$POSTCONF" ]; then
	echo "postconf not found (install postfix): cannot test --check"
	exit 1
fi
PF=$T/postfix
mkdir -p "$PF"
cat >"$PF/master.cf" <<'EOF'
smtp      inet  n       -       y       -       -       smtpd
pickup    unix  n       -       y       60      1       pickup
EOF
printf 'compatibility_level = 3.6\nmydestination = localhost\n' >"$PF/main.cf"

out=$(cv mta postfix --check --mta-config "$PF")
expect_eq "--check on a bare Postfix: EX_CONFIG" 78 "$?"
check "...the service is missing" grep -qx 'missing: master.cf: no service "convene unix ... pipe"' <<<"$out"
check "...relay_domains is missing" grep -qx 'missing: main.cf: relay_domains = lists.example.org' <<<"$out"
check "...transport_maps is missing" grep -qx 'missing: main.cf: transport_maps = inline:{ lists.example.org=convene: }' <<<"$out"
check "...the recipient limit is missing" grep -qx 'missing: main.cf: convene_destination_recipient_limit = 1' <<<"$out"
check "...4 parts" grep -qx '4 parts of the wiring are missing: `convene mta postfix` prints it.' <<<"$out"

# Pasted as printed: the master.cf part into master.cf, the main.cf part
# into main.cf (each block runs from its "# /etc/postfix/..." comment to the
# next empty line).
paste_block() { # paste_block FILE-NAME OUTPUT
	awk -v f="$1" '$0 ~ "^# /etc/postfix/" f ":" { p = 1; next } p && /^$/ { exit } p && !/^#/' <<<"$2"
}
printed=$(cv mta postfix)
paste_block master.cf "$printed" >>"$PF/master.cf"
paste_block main.cf "$printed" >>"$PF/main.cf"
check "the pasted master.cf holds the service" sh -c "'$POSTCONF' -c '$PF' -M convene/unix | grep -q pipe"
out=$(cv mta postfix --check --mta-config "$PF")
expect_eq "--check after pasting: all there (exit 0)" 0 "$?"
check "...says so" grep -qx 'The Postfix wiring is all there.' <<<"$out"
expect_eq "...nothing missing" 0 "$(grep -c '^missing:' <<<"$out")"
check "...MAIL_CONFIG names the folder as --mta-config does" \
	sh -c "MAIL_CONFIG='$PF' '$CONVENE' -c '$T/convene.conf' mta postfix --check >/dev/null"

# A deliberately missing line is named, and only that one.
cp "$PF/main.cf" "$PF/main.cf.full"
grep -v '^convene_destination_recipient_limit' "$PF/main.cf.full" >"$PF/main.cf"
out=$(cv mta postfix --check --mta-config "$PF")
expect_eq "without the recipient limit: EX_CONFIG" 78 "$?"
expect_eq "...that line is named, nothing else" \
	"missing: main.cf: convene_destination_recipient_limit = 1" "$(grep '^missing:' <<<"$out")"
check "...1 part" grep -qx '1 part of the wiring is missing: `convene mta postfix` prints it.' <<<"$out"

# The domain sent elsewhere by an earlier table: named with where it goes.
printf 'lists.example.org listpipe:\n' >"$PF/transport"
sed 's|^transport_maps = .*|transport_maps = texthash:'"$PF"'/transport, inline:{ lists.example.org=convene: }|' \
	"$PF/main.cf.full" >"$PF/main.cf"
out=$(cv mta postfix --check --mta-config "$PF")
expect_eq "a transport table that sends the domain elsewhere: EX_CONFIG" 78 "$?"
check "...names where it goes" grep -q 'missing: main.cf: transport_maps sends lists.example.org to listpipe:, not to convene:' <<<"$out"

# The service run as another user, by another binary.
cp "$PF/main.cf.full" "$PF/main.cf"
sed -i 's|user=convene argv=.*|user=nobody argv=/usr/local/bin/convene receive --recipient ${recipient}|' "$PF/master.cf"
out=$(cv mta postfix --check --mta-config "$PF")
expect_eq "another user and binary in master.cf: EX_CONFIG" 78 "$?"
check "...the user named" grep -q 'missing: master.cf: service convene: user=convene (not user=nobody)' <<<"$out"
check "...the argv named" grep -qF "missing: master.cf: service convene: argv=$exe -c $conf receive --recipient \${recipient}" <<<"$out"

# ---- --lmtp --check against a Postfix config folder ----

PL=$T/postfix-lmtp
mkdir -p "$PL"
printf '%s\n' 'smtp      inet  n       -       y       -       -       smtpd' \
	'lmtp      unix  -       -       n       -       -       lmtp' >"$PL/master.cf"
printf 'compatibility_level = 3.6\nmydestination = localhost\n' >"$PL/main.cf"
lconf unix:/run/convene/lmtp.sock
out=$("$CONVENE" -c "$T/lmtp.conf" mta postfix --lmtp --check --mta-config "$PL")
expect_eq "--lmtp --check on a bare Postfix: EX_CONFIG" 78 "$?"
check "...the transport is missing" \
	grep -qx 'missing: main.cf: transport_maps = inline:{ lists.example.org=lmtp:unix:/run/convene/lmtp.sock }' <<<"$out"
check "...the lmtp service is there" grep -qx 'ok: master.cf: service lmtp runs lmtp(8)' <<<"$out"
paste_block main.cf "$("$CONVENE" -c "$T/lmtp.conf" mta postfix --lmtp)" >>"$PL/main.cf"
out=$("$CONVENE" -c "$T/lmtp.conf" mta postfix --lmtp --check --mta-config "$PL")
expect_eq "--lmtp --check after pasting: all there (exit 0)" 0 "$?"
check "...says so" grep -qx 'The Postfix wiring is all there.' <<<"$out"
out=$(cv mta postfix --check --mta-config "$PL")
check "...and the pipe's --check names the LMTP transport as elsewhere" \
	grep -q 'missing: main.cf: transport_maps sends lists.example.org to lmtp:unix:/run/convene/lmtp.sock, not to convene:' <<<"$out"
sed -i 's/^lmtp      unix  -       -       n/lmtp      unix  -       -       y/' "$PL/master.cf"
out=$("$CONVENE" -c "$T/lmtp.conf" mta postfix --lmtp --check --mta-config "$PL")
expect_eq "a chrooted lmtp(8): EX_CONFIG" 78 "$?"
check "...it cannot reach the socket, and where to put it is said" \
	grep -q 'missing: lmtp(8) runs chrooted in /var/spool/postfix and cannot reach /run/convene/lmtp.sock: have convene listen below it' <<<"$out"

finish
