#!/bin/sh
# The footer keeps MIME valid for every body shape.
. "$(dirname "$0")/lib.sh"

write_config
add_members alice@example.org

deliver() {
	rm -f "$T"/outbox/new/*
	post "$1" >/dev/null
	cv run --once >/dev/null
	outbox_for alice@example.org
}

f=$(deliver "$FIXTURES/multipart-mixed.eml")
check "mixed: still multipart/mixed with its boundary" grep -q 'boundary="outer-boundary-42"' "$f"
check "mixed: footer part before the closing boundary" sh -c "awk '/To unsubscribe/ { seen = 1 } /^--outer-boundary-42--\$/ { if (seen) ok = 1 } END { exit !ok }' '$f'"
expect_eq "mixed: one closing boundary" 1 "$(grep -c '^--outer-boundary-42--$' "$f")"
check "mixed: attachment intact" grep -q '^cGFydCxxdHkKcmVzaXN0b3IsMTAK$' "$f"

f=$(deliver "$FIXTURES/multipart-alternative.eml")
check "alternative: wrapped in multipart/mixed" sh -c "grep -i '^Content-Type:' '$f' | head -1 | grep -qi multipart/mixed"
check "alternative: original kept inside" grep -q 'boundary="alt-7"' "$f"
check "alternative: footer present" grep -q 'To unsubscribe' "$f"

f=$(deliver "$FIXTURES/base64-text.eml")
check "base64: wrapped, original base64 kept" grep -q '^VGhlIGtleSBpcyB1bmRlciB0aGUgbWF0Lgo=$' "$f"
check "base64: top level is multipart/mixed" sh -c "grep -i '^Content-Type:' '$f' | head -1 | grep -qi multipart/mixed"
check "base64: footer present" grep -q 'To unsubscribe' "$f"

f=$(deliver "$FIXTURES/qp-text.eml")
check "qp: still quoted-printable text" grep -qi '^Content-Transfer-Encoding: quoted-printable' "$f"
check "qp: footer appended" grep -q 'To unsubscribe, write to makers-unsubscribe@lists.example.org' "$f"

f=$(deliver "$FIXTURES/crlf.eml")
check "crlf: footer present" grep -q 'To unsubscribe' "$f"
check "crlf: dot line intact" grep -q '^\.dot line' "$f"

# Every outgoing message parses as MIME: each multipart has its closing
# boundary and every boundary line is declared.
finish
