#!/bin/bash
# End to end through a real Exim 4 (Debian's exim4-daemon-light), wired with
# the router and transport that README.md shows, copied from it: a post is
# delivered to convene and on to the members (convene's sendmail transport
# is the same Exim), mail for an unknown list is bounced to its sender with
# convene's reason, and a locked database is deferred, then delivered once.
#
# Exim runs with `-C` on a private config, spool and log under the test's
# folder, so it cannot clash with the host's mail server. Debian's binary
# wants its user "Debian-exim"; the test runs in a private mount namespace
# whose /etc/passwd names it (as nobody), so the host is not touched. Needs
# root, unshare and the binary: /usr/sbin/exim4, or the copy that
# scripts/install-deps.sh unpacks; skipped (77) only without them.
set -u
if [ -z "${CONVENE_EXIM_NS:-}" ]; then
	exim=
	for e in "${EXIM:-}" /usr/sbin/exim4 \
		"${CONVENE_TEST_EXIM_DIR:-/usr/local/lib/convene-test/exim4}/usr/sbin/exim4"; do
		if [ -n "$e" ] && [ -x "$e" ]; then exim=$e; break; fi
	done
	if [ -z "$exim" ]; then
		echo "# no exim4 binary (scripts/install-deps.sh unpacks one): skipped"
		exit 77
	fi
	if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
		echo "# needs root and unshare -m to run Exim privately: skipped"
		exit 77
	fi
	exec unshare -m env CONVENE_EXIM_NS=1 EXIM="$exim" bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"

# The private /etc/passwd and /etc/group, in this namespace only.
chmod 0755 "$T"
grep -v '^Debian-exim:' /etc/passwd >"$T/passwd"
echo 'Debian-exim:x:65534:65534::/nonexistent:/usr/sbin/nologin' >>"$T/passwd"
grep -v '^Debian-exim:' /etc/group >"$T/group"
echo 'Debian-exim:x:65534:' >>"$T/group"
mount --bind "$T/passwd" /etc/passwd && mount --bind "$T/group" /etc/group ||
	{ not_ok "private /etc/passwd in the mount namespace"; finish; }
check "exim runs" sh -c "'$EXIM' -C /dev/null -bV >'$T/version' 2>&1"
echo "# $(grep -m1 '^Exim version' "$T/version")"

mkdir -p "$T/bin" "$T/list" "$T/spool" "$T/log" "$T/mail"
cp "$CONVENE" "$T/bin/convene"
cp -r "$top_srcdir/templates" "$T/templates"
chmod -R a+rX "$T/bin" "$T/templates"
chown nobody:nogroup "$T/list" "$T/spool" "$T/log" "$T/mail"
CONF=$T/list/convene.conf
EXIMCONF=$T/exim.conf

# The README's router and transport, as an admin copies them: only the
# program's path (plus -c), the user and nothing else changed.
readme_exim=$(awk '/^## Wiring Exim/ { s = 1 } s && /^```/ { n++; next } s && n == 1' \
	"$top_srcdir/README.md")
check "README shows an Exim router and transport" \
	sh -c "printf '%s' \"\$1\" | grep -q '^convene_router:' && printf '%s' \"\$1\" | grep -q '^convene_transport:'" _ "$readme_exim"
router=$(printf '%s\n' "$readme_exim" | awk '/^convene_router:/ { p = 1 } p && /^$/ { exit } p')
transport=$(printf '%s\n' "$readme_exim" | awk '/^convene_transport:/ { p = 1 } p && /^$/ { exit } p' |
	sed "s|/usr/local/bin/convene|$T/bin/convene -c $CONF|; s|user = convene|user = nobody|")

cat >"$EXIMCONF" <<EOC
exim_path = $EXIM
keep_environment =
spool_directory = $T/spool
log_file_path = $T/log/%slog
primary_hostname = mx.example.org
qualify_domain = example.org
domainlist local_domains = example.org

begin routers

$router

local_user:
  driver = accept
  domains = +local_domains
  local_parts = alice : bob : carol
  transport = local_maildir

begin transports

$transport

local_maildir:
  driver = appendfile
  directory = $T/mail/\$local_part_data
  maildir_format
  create_directory
  delivery_date_add
  envelope_to_add
  return_path_add
  user = nobody

begin retry

*  *  F,2h,15m; G,16h,1h,1.5; F,4d,6h
EOC
chmod 0644 "$EXIMCONF"

cat >"$CONF" <<EOC
domain = "lists.example.org";
database = "convene.db";
templates = "$T/templates";
busy_timeout_ms = 300;
outbound = { transport = "sendmail"; sendmail = [ "$EXIM", "-C", "$EXIMCONF", "-odi", "-i" ]; };
lists = ( { name = "makers"; description = "Makers of Example City";
            leaders = [ "alice@example.org" ]; subject_prefix = "[makers] "; } );
EOC
chmod 0644 "$CONF"
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
pcv() { as_nobody "$T/bin/convene" -c "$CONF" "$@"; }
exim() { "$EXIM" -C "$EXIMCONF" "$@"; }
mainlog() { cat "$T/log/mainlog" 2>/dev/null; }
mails() { ls "$T/mail/$1/new" 2>/dev/null | wc -l | tr -d ' '; }
check "members added" pcv members makers add --quiet alice@example.org bob@example.org carol@example.org

post_msg() {
	cat <<EOM
From: Alice <alice@example.org>
To: $2
Subject: $3
Message-ID: <$1@example.org>
Date: $(date -R)

Hello makers, this came through Exim.
EOM
}

# 1. A post: Exim pipes it to receive, which finds the list in RECIPIENT.
post_msg exim-post-1 makers@lists.example.org "Through Exim" >"$T/post1.eml"
check "exim accepts the post" exim -odi -f alice@example.org makers@lists.example.org <"$T/post1.eml"
check "exim delivered it to convene" sh -c "cat '$T/log/mainlog' | grep -q '=> makers <makers@lists.example.org> R=convene_router T=convene_transport'"
check "...without a tainted-command error" sh -c "! grep -qi 'tainted' '$T/log/mainlog'"
expect_eq "...and it is archived once" 1 "$(sqlite3 "$T/list/convene.db" "SELECT count(*) FROM archive")"
check "convene run --once hands it to Exim" pcv run --once
for u in bob carol; do
	expect_eq "$u got the post" 1 "$(mails "$u")"
done
f=$(ls "$T"/mail/bob/new/* | head -1)
check "bob's copy has List-Id" grep -q '^List-Id: "Makers of Example City" <makers.lists.example.org>' "$f"
check "bob's copy has the prefix" grep -q '^Subject: \[makers\] Through Exim' "$f"
check "bob's copy's Return-Path is the bounce address" grep -qi '^Return-Path: <makers-bounces@lists.example.org>' "$f"

# 2. An unknown list: receive exits 67, Exim bounces it with the reason.
post_msg exim-nosuch nosuch@lists.example.org "Nobody home" >"$T/nosuch.eml"
exim -odi -f alice@example.org nosuch@lists.example.org <"$T/nosuch.eml"
check "unknown list: Exim failed the address" sh -c "grep -q '\*\* nosuch@lists.example.org R=convene_router T=convene_transport.*returned 67' '$T/log/mainlog'"
check "...logging convene's reason" sh -c "grep -q 'convene: no such list' '$T/log/mainlog'"
bounce=$(grep -l 'nosuch@lists.example.org' "$T"/mail/alice/new/* 2>/dev/null | head -1)
check "...and alice got the bounce" test -n "$bounce"
check "...saying why" grep -q 'convene: no such list' "${bounce:-/dev/null}"

# 3. A locked database: receive exits 75, Exim keeps the message; a queue
# run after the lock is gone delivers it, once.
LOCKDB=$top_builddir/tests/helpers/lockdb
as_nobody "$LOCKDB" "$T/list/convene.db" 3 "$T/list/locked" &
lockpid=$!
CLEANUP_PIDS="$lockpid"
i=0
while [ ! -f "$T/list/locked" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
check "database locked" test -f "$T/list/locked"
post_msg exim-post-2 makers@lists.example.org "While locked" >"$T/post2.eml"
exim -odi -f alice@example.org makers@lists.example.org <"$T/post2.eml"
check "locked: Exim deferred it" sh -c "grep -q '== makers@lists.example.org R=convene_router T=convene_transport defer' '$T/log/mainlog'"
expect_eq "...and keeps it in its queue" 1 "$(exim -bpc)"
expect_eq "...with nothing committed" 1 "$(sqlite3 "$T/list/convene.db" "SELECT count(*) FROM archive")"
wait "$lockpid"
CLEANUP_PIDS=
check "queue run after the lock" exim -qff
expect_eq "Exim's queue is empty" 0 "$(exim -bpc)"
expect_eq "the post is archived once" 2 "$(sqlite3 "$T/list/convene.db" "SELECT count(*) FROM archive")"
pcv run --once >/dev/null
exim -qff
for u in bob carol; do
	expect_eq "$u got each post exactly once" 2 "$(mails "$u")"
done
check "bob got the second post" sh -c "grep -l '^Subject: \[makers\] While locked' '$T'/mail/bob/new/* | grep -q ."
finish
