#!/bin/bash
# STARTTLS on the way out: convene delivers to an SMTP server that refuses
# mail before TLS (tests/helpers/tlssink.py, OpenSSL through Python's ssl,
# with a certificate made here), and every copy arrives inside the TLS
# session, intact. The session side of libetpan (the stream, STARTTLS with
# GnuTLS) is loaded at the first connection (dlopen): this is the test that
# it loads and works.
. "$(dirname "$0")/lib.sh"

command -v openssl >/dev/null || { echo "openssl not found (install openssl)"; exit 1; }
command -v python3 >/dev/null || { echo "python3 not found"; exit 1; }
mkdir "$T/tls" "$T/got"
check "a self-signed certificate" openssl req -x509 -newkey rsa:2048 -nodes \
	-keyout "$T/tls/key.pem" -out "$T/tls/cert.pem" -days 2 \
	-subj "/CN=localhost" -batch 2>"$T/tls/openssl.err"
python3 "$top_srcdir/tests/helpers/tlssink.py" "$T/tls/cert.pem" "$T/tls/key.pem" \
	"$T/got" "$T/port" 2>"$T/tlssink.err" &
CLEANUP_PIDS="$!"
for _ in $(seq 1 100); do [ -s "$T/port" ] && break; sleep 0.05; done
port=$(cat "$T/port" 2>/dev/null)
check "the STARTTLS server listens" test -n "$port"

smtp_config() {
	write_config "" "outbound = { transport = \"smtp\"; host = \"127.0.0.1\"; port = $port; max_rcpt_per_txn = 2; $1 };"
	sed -i '/transport = "maildir"/d' "$T/convene.conf"
}
smtp_config "starttls = true;"
add_members alice@example.org bob@example.net carol@example.com
expect_eq "post accepted" 0 "$(post "$FIXTURES/post-alice.eml")"
check "run --once delivers" cv run --once
for _ in $(seq 1 100); do [ "$(ls "$T/got" | grep -c '^msg-[0-9]*$')" -ge 2 ] && break; sleep 0.05; done
expect_eq "two transactions (max_rcpt_per_txn = 2)" 2 "$(ls "$T/got" | grep -c '^msg-[0-9]*$')"
rcpts=$(cat "$T/got"/msg-* 2>/dev/null | sed -n 's/^X-Rcpt: <\([^>]*\)>.*/\1/p' | sort | tr '\n' ' ' | sed 's/ $//')
expect_eq "each member once" "alice@example.org bob@example.net carol@example.com" "$rcpts"
expect_eq "every transaction inside TLS" 2 "$(grep -l '^X-TLS: TLSv1\.[23] ' "$T/got"/msg-* 2>/dev/null | wc -l)"
check "the body arrived intact" grep -q 'To unsubscribe, write to makers-unsubscribe@lists.example.org' "$T/got/msg-1"
expect_eq "queue empty" 0 "$(sql "SELECT count(*) FROM jobs WHERE state <> 'done'")"

# Without starttls the same server refuses the envelope (530 before TLS,
# RFC 3207): nothing goes out in the clear, and the refusal is on record.
rm -f "$T/got"/msg-*
smtp_config ""
sed 's/workshop-1@/workshop-2@/' "$FIXTURES/post-alice.eml" >"$T/p2.eml"
post "$T/p2.eml" >/dev/null
cv run --once >/dev/null 2>&1
expect_eq "no STARTTLS: nothing delivered" 0 "$(ls "$T/got" | grep -c '^msg-')"
check "the refusal is logged" grep -q "MAIL FROM: 530 5.7.0 must issue a STARTTLS" "$CONVENE_LOG_FILE"
finish
