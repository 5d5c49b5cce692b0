#!/bin/bash
# t176-mta-exim - `convene mta exim --check` against a real Exim 4 (Debian's
# binary) reading a private config: the router and transport that `convene
# mta exim` prints, pasted into it, pass (exim -bP for both, -bt routes a
# list address to them, a -bh test session accepts mail for the domain);
# a transport without the right command, a router after the one that takes
# every domain, and a domain Exim does not accept are each named.
#
# Debian's binary wants its user "Debian-exim": as t240 does, the test runs
# in a private mount namespace whose /etc/passwd names it. Needs root,
# unshare and the binary (/usr/sbin/exim4, or the copy that
# scripts/install-deps.sh unpacks); skipped (77) only without them.
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

chmod 0755 "$T"
grep -v '^Debian-exim:' /etc/passwd >"$T/passwd"
echo 'Debian-exim:x:65534:65534::/nonexistent:/usr/sbin/nologin' >>"$T/passwd"
grep -v '^Debian-exim:' /etc/group >"$T/group"
echo 'Debian-exim:x:65534:' >>"$T/group"
mount --bind "$T/passwd" /etc/passwd && mount --bind "$T/group" /etc/group ||
	{ not_ok "private /etc/passwd in the mount namespace"; finish; }
# convene finds the tool as "exim4" in PATH.
export PATH="$(dirname "$EXIM"):$PATH"

write_config
mkdir -p "$T/spool"
printed=$(cv mta exim --user nobody)
expect_eq "mta exim prints the wiring" 0 "$?"
block() { printf '%s\n' "$printed" | awk -v n="$1:" '$0 == n { p = 1 } p && /^$/ { exit } p'; }
router=$(block convene_router)
transport=$(block convene_transport)
check "the printed router" test -n "$router"
check "the printed transport" test -n "$transport"

# exim_conf FILE RELAY_DOMAINS ROUTERS TRANSPORTS: a small Exim config.
exim_conf() {
	cat >"$1" <<EOC
exim_path = $EXIM
keep_environment =
spool_directory = $T/spool
log_file_path = $T/%slog
primary_hostname = mx.example.org
domainlist local_domains = example.org
domainlist relay_to_domains = $2
acl_smtp_rcpt = acl_check_rcpt

begin acl

acl_check_rcpt:
  accept domains = +local_domains : +relay_to_domains
  deny message = relay not permitted

begin routers

$3

begin transports

$4

remote_smtp:
  driver = smtp
EOC
}
everything='dnslookup:
  driver = accept
  domains = ! +local_domains
  transport = remote_smtp'

exim_conf "$T/good.conf" lists.example.org "$router" "$transport"
out=$(cv mta exim --user nobody --check --mta-config "$T/good.conf")
rc=$?
echo "$out" | sed 's/^/#   /'
expect_eq "pasted as printed: --check exits 0" 0 "$rc"
check "...router and transport" grep -q '^ok: router convene_router and transport convene_transport run ' <<<"$out"
check "...exim -bt routes the list address to them" \
	grep -qx 'ok: exim -bt makers@lists.example.org: router convene_router, transport convene_transport' <<<"$out"
check "...Exim accepts mail for the domain" grep -qx 'ok: Exim accepts mail for lists.example.org from other hosts' <<<"$out"
check "...all there" grep -qx 'The Exim wiring is all there.' <<<"$out"

# The transport with an old command (and no log_output).
bad_transport=$(printf '%s\n' "$transport" | sed 's|^  command = .*|  command = /usr/local/bin/convene receive --recipient $local_part@$domain|; /log_output/d')
exim_conf "$T/cmd.conf" lists.example.org "$router" "$bad_transport"
out=$(cv mta exim --user nobody --check --mta-config "$T/cmd.conf")
expect_eq "another command: EX_CONFIG" 78 "$?"
check "...the command named" grep -qF "missing: transport convene_transport: command = $(readlink -f "$CONVENE") -c $(readlink -f "$T/convene.conf") receive" <<<"$out"
check "...log_output named" grep -qx 'missing: transport convene_transport: log_output' <<<"$out"
expect_eq "...and nothing else" 2 "$(grep -c '^missing:' <<<"$out")"

# The router after one that takes every other domain.
exim_conf "$T/order.conf" lists.example.org "$everything

$router" "$transport"
out=$(cv mta exim --user nobody --check --mta-config "$T/order.conf")
expect_eq "the router too late: EX_CONFIG" 78 "$?"
expect_eq "...exim -bt named, only" \
	"missing: exim -bt makers@lists.example.org does not reach convene_router (put the router before those that handle other domains)" \
	"$(grep '^missing:' <<<"$out")"

# The domain not accepted from other hosts.
exim_conf "$T/relay.conf" other.example.org "$router" "$transport"
out=$(cv mta exim --user nobody --check --mta-config "$T/relay.conf")
expect_eq "domain not in relay_to_domains: EX_CONFIG" 78 "$?"
check "...named" grep -q '^missing: Exim refuses RCPT TO:<makers@lists.example.org> from other hosts (550): add lists.example.org to relay_to_domains' <<<"$out"

# No router and no transport at all.
exim_conf "$T/none.conf" lists.example.org "" ""
out=$(cv mta exim --user nobody --check --mta-config "$T/none.conf")
expect_eq "nothing pasted: EX_CONFIG" 78 "$?"
check "...the router named" grep -q '^missing: router convene_router (driver = accept' <<<"$out"
check "...the transport named" grep -q '^missing: transport convene_transport (driver = pipe' <<<"$out"
finish
