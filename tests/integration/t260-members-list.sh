#!/bin/bash
# `convene members LIST list` shows what an admin needs to look after the
# members: delivery mode, status, bounce score and since when, with a
# header row.
. "$(dirname "$0")/lib.sh"

B=$top_srcdir/tests/fixtures/bounces
T0=1741000000   # 2025-03-03
write_config
CONVENE_NOW=$T0 cv members makers add --quiet "Bob Example <bob@example.net>" carol@example.com >/dev/null
# The list writes to bob, and his mail server bounces it.
CONVENE_NOW=$T0 post "$FIXTURES/post-alice.eml" >/dev/null
CONVENE_NOW=$T0 cv run --once >/dev/null 2>&1
rc=0
CONVENE_NOW=$T0 "$CONVENE" -c "$T/convene.conf" receive \
	--recipient makers-bounces+bob=example.net@lists.example.org <"$B/postfix-dsn.eml" || rc=$?
expect_eq "a bounce for bob is taken" 0 "$rc"
expect_eq "...and scored" 1.0 "$(sql "SELECT bounce_score FROM members WHERE address = 'bob@example.net'")"

out=$(CONVENE_NOW=$T0 cv members makers list 2>/dev/null)
echo "$out" | sed 's/^/#   /'
check "a header row names the columns" sh -c "printf '%s\n' \"\$1\" | head -1 | grep -Eq '^ADDRESS +MODE +STATUS +BOUNCE +SINCE +NAME'" _ "$out"
check "bob: his bounce score, his date, his name" sh -c "printf '%s\n' \"\$1\" | grep -Eq '^bob@example.net +immediate +active +1\.00 +2025-03-03 +Bob Example$'" _ "$out"
check "carol: no bounces" sh -c "printf '%s\n' \"\$1\" | grep -Eq '^carol@example.com +immediate +active +0\.00 +2025-03-03'" _ "$out"
expect_eq "one line a member, after the header" 3 "$(printf '%s\n' "$out" | wc -l | tr -d ' ')"
finish
