#!/bin/sh
# The floors (DESIGN.md, "Layers"; src/README.md): every #include in src/
# and include/ stays on its own floor or below, and floors.sh, which holds
# them to it, names the file and line of a violation planted in a copy.
# No circles between modules either (circles.sh), tested the same way.
. "$(dirname "$0")/lib.sh"

FLOORS=$top_srcdir/tests/scripts/floors.sh
CIRCLES=$top_srcdir/tests/scripts/circles.sh

out=$(bash "$FLOORS" "$top_srcdir/src" "$top_srcdir/include" 2>&1); rc=$?
echo "$out" | sed 's/^/#   /'
expect_eq "src/ and include/ keep to their floors" 0 "$rc"
expect_eq "...and floors.sh says nothing" "" "$out"

# A copy of the tree to plant violations in.
cp -R "$top_srcdir/src" "$top_srcdir/include" "$T/"

# plant FILE LINE TEXT: inserts TEXT as line LINE of FILE (in the copy).
plant() {
	sed -i "$2i\\
$3" "$T/$1"
}

# expect_named DESCRIPTION PATTERN: floors.sh fails on the copy and names
# the planted line.
expect_named() {
	out=$(bash "$FLOORS" "$T/src" "$T/include" 2>&1); rc=$?
	echo "$out" | sed 's/^/#   /'
	expect_eq "$1: floors.sh fails" 1 "$rc"
	check "$1: named with file and line" sh -c "echo '$out' | grep -q '$2'"
}

# Mail may not reach Store.
plant src/mail/msg.c 3 '#include "store/store.h"'
expect_named "mail including store" "^$T/src/mail/msg.c:3: mail may not include store"
cp "$top_srcdir/src/mail/msg.c" "$T/src/mail/msg.c"

# Delivery may not reach the Pipeline.
plant src/delivery/deliver.c 5 '#include "pipeline/bounce.h"'
expect_named "delivery including pipeline" "^$T/src/delivery/deliver.c:5: delivery may not include pipeline"
cp "$top_srcdir/src/delivery/deliver.c" "$T/src/delivery/deliver.c"

# Base may not reach a floor above it, nor libetpan.
plant src/base/conf.c 4 '#include "mail/msg.h"'
plant src/base/addr.c 6 '#include <libetpan/libetpan.h>'
expect_named "base including mail" "^$T/src/base/conf.c:4: base may not include mail"
check "base using libetpan: named with file and line" sh -c "echo '$out' | grep -q '^$T/src/base/addr.c:6: base may not use <libetpan/libetpan.h>'"
cp "$top_srcdir/src/base/conf.c" "$T/src/base/conf.c"
cp "$top_srcdir/src/base/addr.c" "$T/src/base/addr.c"

# The Pipeline may not talk to SQLite; a header too is held to its floor.
plant src/pipeline/receive.c 2 '#include <sqlite3.h>'
plant include/store/store.h 9 '#  include "pipeline/receive.h"'
expect_named "pipeline using sqlite3" "^$T/src/pipeline/receive.c:2: pipeline may not use <sqlite3.h>"
check "a header including upwards: named with file and line" sh -c "echo '$out' | grep -q '^$T/include/store/store.h:9: store may not include pipeline'"
cp "$top_srcdir/src/pipeline/receive.c" "$T/src/pipeline/receive.c"
cp "$top_srcdir/include/store/store.h" "$T/include/store/store.h"

# A header named without its floor, and a file outside any floor.
plant src/front/cmd_run.c 3 '#include "buf.h"'
mkdir -p "$T/src/misc"
echo 'int x;' >"$T/src/misc/stray.c"
expect_named "a header without its floor" "^$T/src/front/cmd_run.c:3: \"buf.h\" names no floor"
check "a file in no floor is named" sh -c "echo '$out' | grep -q '^$T/src/misc/stray.c:1: not in a floor folder'"
cp "$top_srcdir/src/front/cmd_run.c" "$T/src/front/cmd_run.c"
rm -r "$T/src/misc"

# Back to the clean copy: passes again.
out=$(bash "$FLOORS" "$T/src" "$T/include" 2>&1); rc=$?
expect_eq "the repaired copy passes" 0 "$rc"

# No module uses, through others, a module that uses it.
out=$(bash "$CIRCLES" "$top_srcdir/src" "$top_srcdir/include" 2>&1); rc=$?
echo "$out" | sed 's/^/#   /'
expect_eq "no circles between modules" 0 "$rc"
expect_eq "...and circles.sh says nothing" "" "$out"
# Moderation calling back into receive (as it once did) is a circle.
plant src/pipeline/moderation.c 3 '#include "pipeline/receive.h"'
out=$(bash "$CIRCLES" "$T/src" "$T/include" 2>&1); rc=$?
echo "$out" | sed 's/^/#   /'
expect_eq "a planted circle: circles.sh fails" 1 "$rc"
check "...and names its modules" sh -c "echo '$out' | grep -Eq '^circle: .*pipeline/(receive|moderation) -> .*pipeline/(moderation|receive)'"
cp "$top_srcdir/src/pipeline/moderation.c" "$T/src/pipeline/moderation.c"
# A header that includes another that includes it back, too.
plant include/mail/msg.h 12 '#include "mail/mime.h"'
cat >"$T/include/mail/mime.h" <<'EOH'
#include "mail/msg.h"
EOH
out=$(bash "$CIRCLES" "$T/src" "$T/include" 2>&1); rc=$?
expect_eq "a circle between two headers: circles.sh fails" 1 "$rc"
check "...and names it" sh -c "echo '$out' | grep -Eq '^circle: mail/(msg|mime) -> mail/(mime|msg) -> mail/(msg|mime)\$'"

finish
