#!/bin/sh
# The README's demo runs end to end on the embedded defaults.
. "$(dirname "$0")/lib.sh"

if [ ! -x "$top_srcdir/scripts/demo.sh" ]; then
	not_ok "scripts/demo.sh missing"
	finish
fi
out=$(cd "$T" && DEMO_DIR="$T/demo" CONVENE="$CONVENE" "$top_srcdir/scripts/demo.sh" 2>&1); rc=$?
echo "$out" | tail -20 | sed 's/^/#   /'
expect_eq "demo exits 0" 0 "$rc"
check "demo delivered to the members" sh -c "ls '$T/demo/outbox/new' | grep -q ."
check "demo held the non-member post" sh -c "sqlite3 '$T/demo/convene.db' \"SELECT count(*) FROM holds\" | grep -qx 1"
finish
