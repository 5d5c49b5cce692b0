#!/bin/sh
# A member's post reaches every member as a proper list message; a reply
# keeps one prefix; threads are linked in the archive.
. "$(dirname "$0")/lib.sh"

write_config
add_members "Alice Example <alice@example.org>" "Bob Builder <bob@example.net>" \
	"carol@example.com"

expect_eq "member post accepted" 0 "$(post "$FIXTURES/post-alice.eml")"
expect_eq "nothing sent before the worker runs" 0 "$(outbox_count)"
check "run --once succeeds" cv run --once >/dev/null
expect_eq "one transaction" 1 "$(outbox_count)"
expect_eq "three deliveries, one per member" \
	"alice@example.org bob@example.net carol@example.com" \
	"$(outbox_rcpts | tr '\n' ' ' | sed 's/ $//')"

f=$(outbox_for bob@example.net)
expect_eq "envelope sender is the bounce address" \
	"X-Convene-Envelope-From: <makers-bounces@lists.example.org>" "$(head -1 "$f")"
expect_eq "List-Id" '"Makers of Example City" <makers.lists.example.org>' "$(header "$f" List-Id)"
expect_eq "List-Unsubscribe" "<mailto:makers-unsubscribe@lists.example.org>" "$(header "$f" List-Unsubscribe)"
expect_eq "List-Post" "<mailto:makers@lists.example.org>" "$(header "$f" List-Post)"
expect_eq "List-Help" "<mailto:makers-request@lists.example.org?subject=help>" "$(header "$f" List-Help)"
expect_eq "List-Subscribe" "<mailto:makers-subscribe@lists.example.org>" "$(header "$f" List-Subscribe)"
expect_eq "Precedence" "list" "$(header "$f" Precedence)"
expect_eq "Reply-To is the list" "makers@lists.example.org" "$(header "$f" Reply-To | sed 's/.*<\(.*\)>.*/\1/')"
expect_eq "prefix added" "[makers] Saturday soldering workshop" "$(header "$f" Subject)"
check "footer appended" grep -q "^To unsubscribe, write to makers-unsubscribe@lists.example.org" "$f"
check "body kept" grep -q "we have three spare irons" "$f"
for h in Bcc Disposition-Notification-To Return-Receipt-To Approved X-Original-To Delivered-To; do
	expect_eq "$h removed" "" "$(header "$f" "$h")"
done
check "secret Bcc address nowhere" sh -c "! grep -q secret-friend '$f'"

# A reply keeps one prefix, also with an RFC 2047 subject that piled it up.
expect_eq "reply accepted" 0 "$(post "$FIXTURES/reply-bob.eml")"
expect_eq "encoded reply accepted" 0 "$(post "$FIXTURES/reply-carol-encoded.eml")"
rm -f "$T"/outbox/new/*
cv run --once >/dev/null
expect_eq "two more transactions" 2 "$(outbox_count)"
subjects=$(for f in $(outbox_files); do header "$T/outbox/new/$f" Subject; done | sort)
check "reply has one prefix" sh -c "echo '$subjects' | grep -qx '\[makers\] Re: Saturday soldering workshop'"
enc=$(echo "$subjects" | grep '=?')
check "encoded reply subject is RFC 2047" test -n "$enc"
dec=$(decode_rfc2047 "$enc")
expect_eq "encoded reply decodes with one prefix" "[makers] Re: Saturday soldering workshop ✔" "$dec"

# The archive links the thread.
expect_eq "three posts archived" 3 "$(sql 'SELECT count(*) FROM archive')"
expect_eq "one thread" 1 "$(sql 'SELECT count(DISTINCT thread) FROM archive')"
expect_eq "bob's reply's parent is alice's post" "workshop-1@example.org" \
	"$(sql "SELECT p.message_id FROM archive a JOIN archive p ON p.id = a.parent WHERE a.message_id = 'bob-reply-1@example.net'")"
expect_eq "decoded subject stored" "Re: [makers] Re: [makers] Saturday soldering workshop ✔" \
	"$(sql "SELECT subject FROM archive WHERE message_id = 'carol-1@example.com'")"
expect_eq "raw message stored once per post" 3 "$(sql 'SELECT count(*) FROM messages')"
check "raw kept byte for byte" sh -c "sqlite3 '$T/convene.db' \"SELECT writefile('$T/raw1', raw) FROM messages WHERE id = 1\" >/dev/null && cmp -s '$T/raw1' '$FIXTURES/post-alice.eml'"

# A second run sends nothing again; the queue is empty.
rm -f "$T"/outbox/new/*
cv run --once >/dev/null
expect_eq "nothing sent twice" 0 "$(outbox_count)"
expect_eq "all jobs done" 0 "$(sql "SELECT count(*) FROM jobs WHERE state <> 'done'")"

# Digest and nomail members get no immediate copy.
cv members makers set bob@example.net digest >/dev/null
cv members makers set carol@example.com nomail >/dev/null
sed 's/workshop-1@/workshop-2@/' "$FIXTURES/post-alice.eml" >"$T/post2.eml"
expect_eq "second post accepted" 0 "$(post "$T/post2.eml")"
cv run --once >/dev/null
expect_eq "only the immediate member gets it" "alice@example.org" "$(outbox_rcpts | tr '\n' ' ' | sed 's/ $//')"

check "decision logged with Message-ID" grep -q "message-id=<workshop-1@example.org>.*accepted" "$CONVENE_LOG_FILE"
finish
