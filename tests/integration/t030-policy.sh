#!/bin/sh
# Posting policy: non-members held, loops dropped, unknown lists refused,
# duplicates archived once, bad input refused without a crash.
. "$(dirname "$0")/lib.sh"

write_config
add_members alice@example.org bob@example.net carol@example.com

expect_eq "non-member post exits 0" 0 "$(post "$FIXTURES/nonmember.eml")"
expect_eq "it is held" 1 "$(sql "SELECT count(*) FROM holds WHERE state = 'held' AND sender = 'mallory@example.net'")"
expect_eq "held reason" "post from a non-member" "$(sql 'SELECT reason FROM holds')"
check "the held message is stored whole" sh -c "test \"\$(sqlite3 '$T/convene.db' 'SELECT length(raw) FROM messages m JOIN holds h ON h.message = m.id')\" = $(wc -c <"$FIXTURES/nonmember.eml")"
cv run --once >/dev/null
expect_eq "no member gets it: only the hold notices go out" "alice@example.org mallory@example.net" "$(outbox_rcpts | tr '\n' ' ' | sed 's/ $//')"
check "hold logged" grep -q "message-id=<spam-1@example.net>.*held" "$CONVENE_LOG_FILE"
check "lists shows the hold" sh -c "'$CONVENE' -c '$T/convene.conf' lists | grep -Eq '^makers .* 3 +1$'"

expect_eq "unknown list exits 67" 67 "$(post "$FIXTURES/post-alice.eml" nosuchlist@lists.example.org)"
expect_eq "foreign domain exits 67" 67 "$(post "$FIXTURES/post-alice.eml" makers@elsewhere.example.com)"
expect_eq "recipient from Delivered-To" 0 "$(CONVENE_LOG_FILE=$T/convene.log "$CONVENE" -c "$T/convene.conf" receive <"$FIXTURES/post-alice.eml" >/dev/null 2>&1; echo $?)"
expect_eq "...and accepted" 1 "$(sql "SELECT count(*) FROM archive WHERE message_id = 'workshop-1@example.org'")"

# The MTA hands the same message over again: archived and delivered once.
expect_eq "duplicate exits 0" 0 "$(post "$FIXTURES/post-alice.eml")"
expect_eq "archived once" 1 "$(sql "SELECT count(*) FROM archive WHERE message_id = 'workshop-1@example.org'")"
check "duplicate logged" grep -q "dropped: duplicate" "$CONVENE_LOG_FILE"

# Our own list mail coming back is a loop.
cv run --once >/dev/null
f=$(outbox_for bob@example.net)
sed '1,/^X-Convene-Envelope-To: <carol@example.com>$/d; s/^Message-ID: .*/Message-ID: <looped-1@example.org>/' "$f" >"$T/looped.eml"
expect_eq "looped copy exits 0" 0 "$(post "$T/looped.eml")"
expect_eq "looped copy not archived" 0 "$(sql "SELECT count(*) FROM archive WHERE message_id = 'looped-1@example.org'")"
check "loop logged" grep -q "message-id=<looped-1@example.org>.*dropped: mail loop" "$CONVENE_LOG_FILE"
printf 'From: bob@example.net\nX-Loop: makers@lists.example.org\nMessage-ID: <xloop@example.net>\nSubject: x\n\nbody\n' >"$T/xloop.eml"
expect_eq "X-Loop copy exits 0" 0 "$(post "$T/xloop.eml")"
expect_eq "X-Loop copy not archived" 0 "$(sql "SELECT count(*) FROM archive WHERE message_id = 'xloop@example.net'")"

# Input that is not a message, or over the bound, is refused cleanly.
printf '\001\002 binary junk without headers\n' >"$T/junk.eml"
expect_eq "junk refused with 65" 65 "$(post "$T/junk.eml")"
write_config "" "limits = { max_message_kb = 1; };"
head -c 4096 /dev/zero | tr '\0' 'x' >"$T/big.body"
{ cat "$FIXTURES/nonmember.eml"; cat "$T/big.body"; } >"$T/big.eml"
expect_eq "over the size bound refused with 65" 65 "$(post "$T/big.eml")"

# Commands (answered: see t120) and bounces are never posted.
write_config
expect_eq "request address exits 0" 0 "$(post "$FIXTURES/nonmember.eml" makers-request@lists.example.org)"
expect_eq "bounce address exits 0" 0 "$(post "$FIXTURES/nonmember.eml" makers-bounces+bob=example.net@lists.example.org)"
expect_eq "kept in the inbox" "bounces|bob=example.net" \
	"$(sql "SELECT kind || '|' || coalesce(extension, '') FROM inbox ORDER BY kind" | tr '\n' ' ' | sed 's/ $//')"

# Owner mail reaches the sponsors and leaders.
cv run --once >/dev/null
rm -f "$T"/outbox/new/*
expect_eq "owner mail exits 0" 0 "$(post "$FIXTURES/nonmember.eml" makers-owner@lists.example.org)"
cv run --once >/dev/null
expect_eq "owner mail to sponsor and leader" "alice@example.org dana@example.org" "$(outbox_rcpts | tr '\n' ' ' | sed 's/ $//')"

# Policies.
POLICY=open write_config
sed 's/spam-1@/open-1@/' "$FIXTURES/nonmember.eml" >"$T/open.eml"
expect_eq "open list accepts a non-member" 0 "$(post "$T/open.eml")"
expect_eq "...archived" 1 "$(sql "SELECT count(*) FROM archive WHERE message_id = 'open-1@example.net'")"
POLICY=moderated write_config
sed 's/workshop-1@/mod-1@/; s/alice@example.org/bob@example.net/' "$FIXTURES/post-alice.eml" >"$T/mod.eml"
expect_eq "moderated list holds a member" 0 "$(post "$T/mod.eml")"
expect_eq "...held" 1 "$(sql "SELECT count(*) FROM holds WHERE message_id = 'mod-1@example.org'")"
POLICY=announce write_config
sed 's/workshop-1@/ann-1@/; s/alice@example.org/bob@example.net/' "$FIXTURES/post-alice.eml" >"$T/ann.eml"
expect_eq "announce list holds a member" 0 "$(post "$T/ann.eml")"
expect_eq "...held" 1 "$(sql "SELECT count(*) FROM holds WHERE message_id = 'ann-1@example.org'")"
sed 's/workshop-1@/ann-2@/' "$FIXTURES/post-alice.eml" >"$T/ann2.eml"
expect_eq "announce list takes a leader's post" 0 "$(post "$T/ann2.eml")"
expect_eq "...archived" 1 "$(sql "SELECT count(*) FROM archive WHERE message_id = 'ann-2@example.org'")"

# Bans and filters.
write_config 'filters = ( { header = "Subject"; match = "(?i)watches"; action = "discard"; reason = "spam"; } ); bans = [ "@banned\\.example$" ];'
sed 's/spam-1@/spam-2@/' "$FIXTURES/nonmember.eml" >"$T/spam2.eml"
expect_eq "filtered post exits 0" 0 "$(post "$T/spam2.eml")"
expect_eq "...neither held nor archived" "0 0" "$(sql "SELECT count(*) FROM holds WHERE message_id = 'spam-2@example.net'") $(sql "SELECT count(*) FROM archive WHERE message_id = 'spam-2@example.net'")" 
printf 'From: x@banned.example\nMessage-ID: <ban-1@x>\nSubject: hi\n\nhi\n' >"$T/ban.eml"
expect_eq "banned sender exits 0" 0 "$(post "$T/ban.eml")"
check "ban logged" grep -q "message-id=<ban-1@x>.*dropped: sender is banned" "$CONVENE_LOG_FILE"
finish
