#!/bin/bash
# End to end over SMTP: convene delivers to Postfix's smtp-sink on 127.0.0.1,
# and the sink's dump shows the envelope and headers it received.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sinks.sh"

need_sink
command -v ss >/dev/null || { echo "ss (iproute2) is needed to find free ports"; exit 1; }
chmod 0755 "$T"
mkdir -m 0777 "$T/sink"
port=$(free_port)
# (the sink is listening before anything is sent to it: a fixed pause was
# too short for a slow machine)
check "smtp-sink started" sink_start "$port" "$T/sink/dump"

write_config "" "outbound = { transport = \"smtp\"; host = \"127.0.0.1\"; port = $port; max_rcpt_per_txn = 2; };"
# write_config put a maildir outbound first; keep only the smtp one.
sed -i '/transport = "maildir"/d' "$T/convene.conf"
add_members alice@example.org bob@example.net carol@example.com

expect_eq "post accepted" 0 "$(post "$FIXTURES/post-alice.eml")"
check "run --once delivers over SMTP" cv run --once
sleep 0.5
check "sink got a dump" test -s "$T/sink/dump"
rcpts=$(sed -n 's/^X-Rcpt-Args: <\([^>]*\)>.*/\1/p' "$T/sink/dump" | sort | tr '\n' ' ' | sed 's/ $//')
expect_eq "each member once" "alice@example.org bob@example.net carol@example.com" "$rcpts"
expect_eq "two transactions (max_rcpt_per_txn = 2)" 2 "$(grep -c '^X-Mail-Args:' "$T/sink/dump")"
check "envelope sender is the bounce address" sh -c "grep '^X-Mail-Args:' '$T/sink/dump' | grep -qv '<makers-bounces@lists.example.org>' && exit 1 || exit 0"
check "List-Id arrived" grep -q '^List-Id: "Makers of Example City" <makers.lists.example.org>' "$T/sink/dump"
check "prefix arrived" grep -q '^Subject: \[makers\] Saturday soldering workshop' "$T/sink/dump"
check "footer arrived" grep -q 'To unsubscribe, write to makers-unsubscribe@lists.example.org' "$T/sink/dump"
check "Bcc did not" sh -c "! grep -qi '^Bcc:' '$T/sink/dump'"
expect_eq "queue empty" 0 "$(sql "SELECT count(*) FROM jobs WHERE state <> 'done'")"

# The relay is down: the job waits with a retry time, then goes out once the
# relay is back.
kill "$SINK_PID"; wait "$SINK_PID" 2>/dev/null
: >"$T/sink/dump"
sed 's/workshop-1@/workshop-2@/' "$FIXTURES/post-alice.eml" >"$T/p2.eml"
post "$T/p2.eml" >/dev/null
rc=0; cv run --once >/dev/null 2>&1 || rc=$?
expect_eq "relay down: run still exits 0" 0 "$rc"
expect_eq "job deferred" 1 "$(sql "SELECT count(*) FROM jobs WHERE state = 'queued' AND attempts >= 1 AND next_attempt > strftime('%s','now')")"
check "smtp-sink back" sink_start "$port" "$T/sink/dump"
CONVENE_NOW=$(( $(date +%s) + 3600 )) "$CONVENE" -c "$T/convene.conf" run --once >/dev/null
sleep 0.5
rcpts=$(sed -n 's/^X-Rcpt-Args: <\([^>]*\)>.*/\1/p' "$T/sink/dump" | sort | tr '\n' ' ' | sed 's/ $//')
expect_eq "relay back: everyone once" "alice@example.org bob@example.net carol@example.com" "$rcpts"

# verp = per-recipient: one transaction per member, each with an envelope
# sender that names the member for bounce attribution, with a keyed tag.
: >"$T/sink/dump"
write_config "" "outbound = { transport = \"smtp\"; host = \"127.0.0.1\"; port = $port; verp = \"per-recipient\"; };"
sed -i '/transport = "maildir"/d' "$T/convene.conf"
sed 's/workshop-1@/workshop-3@/' "$FIXTURES/post-alice.eml" >"$T/p3.eml"
post "$T/p3.eml" >/dev/null
cv run --once >/dev/null
sleep 0.5
expect_eq "per-recipient: one transaction per member" 3 "$(grep -c '^X-Mail-Args:' "$T/sink/dump")"
# (each with its keyed tag: 20 hex digits and a dot before the member)
expect_eq "per-recipient: VERP senders name each member" \
	"<makers-bounces+TAG.alice=example.org@lists.example.org> <alice@example.org>|<makers-bounces+TAG.bob=example.net@lists.example.org> <bob@example.net>|<makers-bounces+TAG.carol=example.com@lists.example.org> <carol@example.com>" \
	"$(awk '/^X-Mail-Args:/ { split($0, a, " "); from = a[2] } /^X-Rcpt-Args:/ { split($0, b, " "); print from " " b[2] }' "$T/sink/dump" |
		sed 's/+[0-9a-f]\{20\}\./+TAG./' | sort | tr '\n' '|' | sed 's/|$//')"
finish
