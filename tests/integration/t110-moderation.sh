#!/bin/sh
# Moderation by reply: held posts reach every leader as a notice with a
# token; a leader's one-word reply from Gmail, Outlook or Apple Mail decides;
# forged and reused tokens change nothing; filters, bans, expiry, the CLI.
. "$(dirname "$0")/lib.sh"

# write_mod_config [EXTRA LIST SETTINGS]; $MOD_FILTERS replaces the filters
DEFAULT_FILTERS='{ header = "Subject"; match = "(?i)\\bcasino\\b"; action = "discard"; },
      { match = "^(\\w+\\s?)*$"; action = "hold"; reason = "runaway" }'
write_mod_config() {
	cat >"$T/convene.conf" <<EOC
domain = "lists.example.org";
database = "convene.db";
templates = "$top_srcdir/templates";
outbound = { transport = "maildir"; path = "outbox"; };
lists = (
  { name = "makers"; description = "Makers of Example City";
    policy = "members";
    leaders = [ "alice@example.org", "erin@example.org" ];
    sponsors = [ "dana@example.org" ];
    council = [ "carol@example.com" ];
    subject_prefix = "[makers] "; reply_to = "list";
    hold_expiry = "2d";
    filters = ( ${MOD_FILTERS:-$DEFAULT_FILTERS} );
    ${1:-}
  }
);
EOC
}

# nonmember_post ID [FROM] [SUBJECT]: a post from a non-member into $T/ID.eml
nonmember_post() {
	sed -e "s/spam-1@example.net/$1@example.net/" \
	    -e "s/mallory@example.net/${2:-mallory@example.net}/" \
	    -e "s/^Subject: .*/Subject: ${3:-Cheap watches}/" \
	    "$FIXTURES/nonmember.eml" >"$T/$1.eml"
}
token_of() { sql "SELECT token FROM holds WHERE message_id = '$1@example.net'"; }
state_of() { sql "SELECT state FROM holds WHERE message_id = '$1@example.net'"; }
# reply FIXTURE TOKEN [SED EXPRESSION]: the fixture with the token filled in
reply() {
	sed -e "s/@TOKEN@/$2/g" -e "${3:-s/^//}" "$FIXTURES/$1" >"$T/reply.eml"
	echo "$T/reply.eml"
}
confirm_to() { echo "makers-confirm+$1@lists.example.org"; }
# Recipients of the outbox files carrying Message-ID <MID>, one line.
delivered() {
	local f
	for f in $(outbox_files); do
		if [ "$(header "$T/outbox/new/$f" Message-ID)" = "<$1>" ]; then
			sed -n 's/^X-Convene-Envelope-To: <\(.*\)>$/\1/p' "$T/outbox/new/$f"
		fi
	done | sort | tr '\n' ' ' | sed 's/ $//'
}
# The outbox files to RCPT whose Subject matches the pattern.
mail_to() {
	local f
	for f in $(outbox_for "$1"); do
		if header "$f" Subject | grep -Eq "$2"; then echo "$f"; fi
	done
}
flush() { cv run --once >/dev/null 2>&1; }
clear_outbox() { rm -f "$T"/outbox/new/*; }

write_mod_config
add_members alice@example.org bob@example.net frank@example.com
MEMBERS="alice@example.org bob@example.net frank@example.com"

# ---- a non-member's post is held; one notice reaches every leader
nonmember_post held-1
expect_eq "non-member post exits 0" 0 "$(post "$T/held-1.eml")"
expect_eq "it is held" held "$(state_of held-1)"
tok=$(token_of held-1)
check "the hold has a 128-bit token" sh -c "echo '$tok' | grep -Eqx '[0-9a-f]{32}'"
flush
for who in alice@example.org erin@example.org carol@example.com; do
	expect_eq "one notice reaches $who" 1 "$(mail_to "$who" "held post" | wc -l | tr -d ' ')"
done
n=$(mail_to alice@example.org "held post")
expect_eq "one notice file for leaders and council" "alice@example.org carol@example.com erin@example.org" \
	"$(sed -n 's/^X-Convene-Envelope-To: <\(.*\)>$/\1/p' "$n" | sort | tr '\n' ' ' | sed 's/ $//')"
expect_eq "notice Reply-To carries the token" "$(confirm_to "$tok")" "$(header "$n" Reply-To)"
check "notice Subject carries the token" grep -q "^Subject: .*$tok" "$n"
check "notice attaches the post as message/rfc822" grep -qi "^Content-Type: message/rfc822" "$n"
check "the attached post is whole" grep -q "^Message-ID: <held-1@example.net>" "$n"
check "notice has an excerpt" grep -q "^Buy now" "$n"
check "notice gives the reason" grep -q "post from a non-member" "$n"
expect_eq "the poster is told it awaits moderation" 1 "$(mail_to mallory@example.net "awaits moderation" | wc -l | tr -d ' ')"
expect_eq "nothing reached the members" "" "$(delivered held-1@example.net)"
expect_eq "hold event" 1 "$(sql "SELECT count(*) FROM events WHERE kind = 'post.held' AND actor = 'mallory@example.net'")"

# The poster notice is rate limited, and never goes to automatic mail.
clear_outbox
nonmember_post held-1b
post "$T/held-1b.eml" >/dev/null
nonmember_post auto-1 robot@example.net
sed -i 's/^Subject:/Auto-Submitted: auto-replied\nSubject:/' "$T/auto-1.eml"
post "$T/auto-1.eml" >/dev/null
nonmember_post list-1 digest@example.net
sed -i 's/^Subject:/List-Id: <other.example.net>\nSubject:/' "$T/list-1.eml"
post "$T/list-1.eml" >/dev/null
flush
expect_eq "second hold: no second 'awaits' to the same poster" 0 "$(mail_to mallory@example.net "awaits moderation" | wc -l | tr -d ' ')"
expect_eq "no 'awaits' to an auto-responder" "" "$(outbox_for robot@example.net)"
expect_eq "no 'awaits' to list mail" "" "$(outbox_for digest@example.net)"
expect_eq "...but they are held" "held held" "$(state_of auto-1) $(state_of list-1)"

# ---- Gmail: top-posted "Approve" above the quoted notice (QP, alternative)
clear_outbox
expect_eq "Gmail reply exits 0" 0 "$(post "$(reply reply-gmail.eml "$tok")" "$(confirm_to "$tok")")"
expect_eq "Gmail reply approved the hold" approved "$(state_of held-1)"
flush
expect_eq "approved post reaches every member once" "$MEMBERS" "$(delivered held-1@example.net)"
expect_eq "...archived once" 1 "$(sql "SELECT count(*) FROM archive WHERE message_id = 'held-1@example.net'")"
expect_eq "the decider is told" 1 "$(mail_to alice@example.org "hold [0-9]+: approve" | wc -l | tr -d ' ')"
expect_eq "decision event (who, what)" "alice@example.org|hold.approve" \
	"$(sql "SELECT actor || '|' || kind FROM events WHERE kind LIKE 'hold.approve' ORDER BY id DESC LIMIT 1")"
check "decision event has a time" test "$(sql "SELECT at FROM events WHERE kind = 'hold.approve'")" -gt 0

# A reused token changes nothing; the later decider hears who decided.
clear_outbox
expect_eq "reused token exits 0" 0 "$(post "$(reply reply-gmail.eml "$tok" 's/CAHx8pQ2gmail-reply-1/CAHx8pQ2gmail-reply-again/')" "$(confirm_to "$tok")")"
flush
expect_eq "reused token: not delivered again" "" "$(delivered held-1@example.net)"
expect_eq "...still archived once" 1 "$(sql "SELECT count(*) FROM archive WHERE message_id = 'held-1@example.net'")"
# First decision wins: Erin (a leader) decides later, and is told by whom.
expect_eq "later decider exits 0" 0 "$(post "$(reply reply-outlook.eml "$tok" 's/approve=A0/discard/')" "$(confirm_to "$tok")")"
expect_eq "first decision stands" approved "$(state_of held-1)"
flush
n=$(mail_to erin@example.org "already decided")
check "later decider is told" test -n "$n"
check "...who decided" grep -q "alice@example.org" "$n"

# ---- Outlook: top-posted above "From: ... Sent: ...", CRLF, iso-8859-1 QP
nonmember_post held-2 mallory2@example.net
post "$T/held-2.eml" >/dev/null
tok=$(token_of held-2)
clear_outbox
expect_eq "Outlook reply exits 0" 0 "$(post "$(reply reply-outlook.eml "$tok")" "$(confirm_to "$tok")")"
expect_eq "Outlook reply approved" approved "$(state_of held-2)"
flush
expect_eq "...delivered to every member once" "$MEMBERS" "$(delivered held-2@example.net)"

# ---- Apple Mail: bottom-posted "Approve." below the quoted notice
nonmember_post held-3 mallory3@example.net
post "$T/held-3.eml" >/dev/null
tok=$(token_of held-3)
clear_outbox
expect_eq "Apple Mail reply exits 0" 0 "$(post "$(reply reply-apple.eml "$tok")" "$(confirm_to "$tok")")"
expect_eq "Apple Mail reply approved" approved "$(state_of held-3)"
flush
expect_eq "...delivered to every member once" "$MEMBERS" "$(delivered held-3@example.net)"

# ---- reject with a reason (bottom-posted, wrapped attribution line)
nonmember_post held-4 mallory4@example.net
post "$T/held-4.eml" >/dev/null
tok=$(token_of held-4)
clear_outbox
expect_eq "reject reply exits 0" 0 "$(post "$(reply reply-bottom-reject.eml "$tok")" "$(confirm_to "$tok")")"
expect_eq "rejected" rejected "$(state_of held-4)"
flush
n=$(mail_to mallory4@example.net "not accepted")
check "the poster is told" test -n "$n"
check "...with the reason" grep -q "spam please" "$n"
expect_eq "...and nothing reached the members" "" "$(delivered held-4@example.net)"
expect_eq "reject event has the reason" "spam please" "$(sql "SELECT detail FROM events WHERE kind = 'hold.reject'")"

# ---- a valid token from someone who is not a leader does nothing
nonmember_post held-5 mallory5@example.net
post "$T/held-5.eml" >/dev/null
tok=$(token_of held-5)
clear_outbox
expect_eq "member's reply exits 0" 0 "$(post "$(reply reply-gmail.eml "$tok" 's/alice@example.org/bob@example.net/')" "$(confirm_to "$tok")")"
expect_eq "council's reply exits 0" 0 "$(post "$(reply reply-gmail.eml "$tok" 's/alice@example.org/carol@example.com/')" "$(confirm_to "$tok")")"
expect_eq "still held" held "$(state_of held-5)"
flush
expect_eq "nothing delivered" "" "$(delivered held-5@example.net)"
check "the leaders are warned" test -n "$(mail_to alice@example.org "may not decide")"
check "...both of them" test -n "$(mail_to erin@example.org "may not decide")"
check "...naming who replied" grep -q "bob@example.net" "$(mail_to alice@example.org "may not decide")"
expect_eq "forgery events" 2 "$(sql "SELECT count(*) FROM events WHERE kind = 'hold.forged'")"

# Where allowed, the council decides.
write_mod_config "council_may_approve = true;"
expect_eq "council reply (allowed) exits 0" 0 "$(post "$(reply reply-gmail.eml "$tok" 's/alice@example.org/carol@example.com/')" "$(confirm_to "$tok")")"
expect_eq "council approved" approved "$(state_of held-5)"
write_mod_config

# ---- HTML-only reply (base64 text/html)
nonmember_post held-6 mallory6@example.net
post "$T/held-6.eml" >/dev/null
tok=$(token_of held-6)
clear_outbox
expect_eq "HTML-only reply exits 0" 0 "$(post "$(reply reply-html-only.eml "$tok")" "$(confirm_to "$tok")")"
expect_eq "HTML-only reply approved" approved "$(state_of held-6)"
flush
expect_eq "...delivered to every member once" "$MEMBERS" "$(delivered held-6@example.net)"

# ---- the token only in the Subject (a reply to From, not Reply-To)
nonmember_post held-7 mallory7@example.net
post "$T/held-7.eml" >/dev/null
tok=$(token_of held-7)
flush
n=$(mail_to alice@example.org "held post $tok")
from=$(header "$n" From)
clear_outbox
expect_eq "reply to the notice's From exits 0" 0 "$(post "$(reply reply-apple.eml "$tok" 's/^To: .*/To: makers-owner@lists.example.org/')" "$from")"
expect_eq "Subject token decided" approved "$(state_of held-7)"
flush
expect_eq "...delivered to every member once" "$MEMBERS" "$(delivered held-7@example.net)"
expect_eq "an unknown token is not moderation's" 0 "$(post "$(reply reply-apple.eml 0123456789abcdef0123456789abcdef)" "$(confirm_to 0123456789abcdef0123456789abcdef)")"

# ---- an unclear reply leaves the hold, and says so
nonmember_post held-8 mallory8@example.net
post "$T/held-8.eml" >/dev/null
tok=$(token_of held-8)
clear_outbox
post "$(reply reply-apple.eml "$tok" 's/^Approve\.$/Looks fine to me/')" "$(confirm_to "$tok")" >/dev/null
expect_eq "unclear reply: still held" held "$(state_of held-8)"
flush
check "the leader is asked again" test -n "$(mail_to alice@example.org "which decision")"

# ---- ban and always
post "$(reply reply-apple.eml "$tok" 's/^Approve\.$/ban/')" "$(confirm_to "$tok")" >/dev/null
expect_eq "ban rejects the hold" rejected "$(state_of held-8)"
expect_eq "ban is stored" 1 "$(sql "SELECT count(*) FROM mod_bans WHERE list = 'makers' AND address = 'mallory8@example.net' AND added_by = 'alice@example.org'")"
nonmember_post banned-1 mallory8@example.net
expect_eq "a banned sender's post exits 0" 0 "$(post "$T/banned-1.eml")"
expect_eq "...is neither held nor archived" "0 0" "$(sql "SELECT count(*) FROM holds WHERE message_id = 'banned-1@example.net'") $(sql "SELECT count(*) FROM archive WHERE message_id = 'banned-1@example.net'")"
check "...logged" grep -q "banned-1@example.net.*banned by a leader" "$CONVENE_LOG_FILE"

nonmember_post held-9 guest@example.net
post "$T/held-9.eml" >/dev/null
tok=$(token_of held-9)
post "$(reply reply-apple.eml "$tok" 's/^Approve\.$/always/')" "$(confirm_to "$tok")" >/dev/null
expect_eq "always approves" approved "$(state_of held-9)"
nonmember_post after-always guest@example.net
post "$T/after-always.eml" >/dev/null
expect_eq "...and the sender is no longer held" 1 "$(sql "SELECT count(*) FROM archive WHERE message_id = 'after-always@example.net'")"
cv members makers add zed@example.org >/dev/null
sql "UPDATE members SET moderated = 1 WHERE address = 'zed@example.org'"
nonmember_post held-10 zed@example.org
post "$T/held-10.eml" >/dev/null
expect_eq "a moderated member is held" "sender is moderated" "$(sql "SELECT reason FROM holds WHERE message_id = 'held-10@example.net'")"
tok=$(token_of held-10)
post "$(reply reply-apple.eml "$tok" 's/^Approve\.$/Always/')" "$(confirm_to "$tok")" >/dev/null
expect_eq "always clears the member's moderated flag" 0 "$(sql "SELECT moderated FROM members WHERE address = 'zed@example.org'")"
MEMBERS="$MEMBERS zed@example.org"

# ---- a discard filter drops a matching post silently
flush
clear_outbox
nonmember_post casino-1 mallory@example.net "Best casino deals"
expect_eq "filtered post exits 0" 0 "$(post "$T/casino-1.eml")"
expect_eq "...neither held nor archived" "0 0" "$(sql "SELECT count(*) FROM holds WHERE message_id = 'casino-1@example.net'") $(sql "SELECT count(*) FROM archive WHERE message_id = 'casino-1@example.net'")"
flush
expect_eq "...and nobody is told" 0 "$(outbox_count)"

# ---- reject filters and settings tell the poster why; too many recipients
MOD_FILTERS='{ header = "Subject"; match = "(?i)lottery"; action = "reject"; reason = "No lottery mail here."; }' \
	write_mod_config 'max_message_kb = 1; max_message_action = "reject"; max_recipients = 3;'
flush
clear_outbox
nonmember_post lottery-1 winner@example.net "You won the lottery"
expect_eq "reject filter exits 0" 0 "$(post "$T/lottery-1.eml")"
expect_eq "...neither held nor archived" "0 0" "$(sql "SELECT count(*) FROM holds WHERE message_id = 'lottery-1@example.net'") $(sql "SELECT count(*) FROM archive WHERE message_id = 'lottery-1@example.net'")"
{ sed 's/spam-1@/big-2@/; s/mallory@example.net/bob@example.net/' "$FIXTURES/nonmember.eml"; head -c 3000 /dev/zero | tr '\0' 'x'; echo; } >"$T/big2.eml"
expect_eq "over max_message_kb (reject) exits 0" 0 "$(post "$T/big2.eml")"
expect_eq "...not held" 0 "$(sql "SELECT count(*) FROM holds WHERE message_id = 'big-2@example.net'")"
flush
check "the poster hears the filter's reason" grep -q "No lottery mail here" "$(mail_to winner@example.net "not accepted")"
check "the poster hears of the size limit" grep -q "size limit" "$(mail_to bob@example.net "not accepted")"
sed 's/workshop-1@/many-1@/; s/^To: .*/To: makers@lists.example.org, a@example.net, b@example.net, c@example.net/' "$FIXTURES/post-alice.eml" |
	sed 's/alice@example.org/bob@example.net/' >"$T/many.eml"
post "$T/many.eml" >/dev/null
expect_eq "too many recipients: held" "too many recipients in To and Cc" "$(sql "SELECT reason FROM holds WHERE message_id = 'many-1@example.org'")"
sed -i 's/policy = "members";/policy = "announce"; announce_action = "reject";/' "$T/convene.conf"
sed 's/workshop-1@/ann-1@/; s/alice@example.org/bob@example.net/' "$FIXTURES/post-alice.eml" >"$T/ann.eml"
post "$T/ann.eml" >/dev/null
expect_eq "announce list rejects a member (announce_action)" "0 0" "$(sql "SELECT count(*) FROM holds WHERE message_id = 'ann-1@example.org'") $(sql "SELECT count(*) FROM archive WHERE message_id = 'ann-1@example.org'")"
check "...logged" grep -q "ann-1@example.org.*dropped: rejected: only leaders" "$CONVENE_LOG_FILE"
write_mod_config

# ---- a catastrophic regex on a 1 MB body stays within its match limit
{
	sed '/^$/q' "$FIXTURES/post-alice.eml" | sed 's/workshop-1@/big-1@/; s/^Subject: .*/Subject: big/'
	awk 'BEGIN { for (i = 0; i < 30000; i++) printf "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"; print "!" }'
} >"$T/big.eml"
check "the body is about 1 MB" test "$(wc -c <"$T/big.eml")" -gt 1000000
start=$(date +%s)
expect_eq "1 MB post exits 0" 0 "$(post "$T/big.eml")"
elapsed=$(( $(date +%s) - start ))
check "...within 10 seconds (took ${elapsed}s)" test "$elapsed" -lt 10
check "...the filter hit its limit" grep -q "big-1@example.org.*match limit" "$CONVENE_LOG_FILE"
expect_eq "...and the post was handled (accepted)" 1 "$(sql "SELECT count(*) FROM archive WHERE message_id = 'big-1@example.org'")"

# ---- content rules: executables stripped, the HTML alternative dropped,
# and the footer says what was removed
write_mod_config 'content = { strip = [ "application/x-msdownload", "application/x-dosexec" ]; drop_html_alternative = true; };'
flush
clear_outbox
expect_eq "post with an executable exits 0" 0 "$(post "$FIXTURES/post-with-exe.eml")"
flush
f=$(for x in $(outbox_for frank@example.com); do if [ "$(header "$x" Message-ID)" = "<exe-1@example.net>" ]; then echo "$x"; fi; done)
check "the post reached a member" test -n "$f"
check "...without the executable" sh -c "! grep -qi '^Content-Type: application/x-msdownload' '$f' && ! grep -q '^TVqQ' '$f'"
check "...without the HTML alternative" sh -c "! grep -qi '^Content-Type: text/html' '$f' && ! grep -q '<b>schematic' '$f'"
check "...with the text and the image" sh -c "grep -q 'Here is the schematic' '$f' && grep -q 'schematic.png' '$f'"
KEEPF=$T/exe-delivered.eml; cp "$f" "$KEEPF"
check "...and the footer names what was removed" sh -c "grep -q 'removed by the list' '$f' && grep -q 'application/x-msdownload flash.exe' '$f'"
check "the archive keeps the post as received" sh -c "sqlite3 '$T/convene.db' \"SELECT raw FROM messages m JOIN archive a ON a.message = m.id WHERE a.message_id = 'exe-1@example.net'\" | grep -q 'flash.exe'"
write_mod_config

# ---- the CLI mirror
nonmember_post cli-1 m1@example.net
nonmember_post cli-2 m2@example.net
nonmember_post cli-3 m3@example.net
for i in 1 2 3; do post "$T/cli-$i.eml" >/dev/null; done
id1=$(sql "SELECT id FROM holds WHERE message_id = 'cli-1@example.net'")
id2=$(sql "SELECT id FROM holds WHERE message_id = 'cli-2@example.net'")
id3=$(sql "SELECT id FROM holds WHERE message_id = 'cli-3@example.net'")
check "held list shows the holds" sh -c "'$CONVENE' -c '$T/convene.conf' held makers list 2>/dev/null | grep -q '^$id1	.*m1@example.net'"
check "held show prints the post" sh -c "'$CONVENE' -c '$T/convene.conf' held makers show $id1 | grep -q '^Message-ID: <cli-1@example.net>'"
clear_outbox
expect_eq "held approve exits 0" 0 "$(cv held makers approve "$id1" >/dev/null 2>&1; echo $?)"
expect_eq "held reject exits 0" 0 "$(cv held makers reject "$id2" "off topic" >/dev/null 2>&1; echo $?)"
expect_eq "held discard exits 0" 0 "$(cv held makers discard "$id3" >/dev/null 2>&1; echo $?)"
expect_eq "states" "approved rejected discarded" "$(state_of cli-1) $(state_of cli-2) $(state_of cli-3)"
check "a decided hold is refused" sh -c "! '$CONVENE' -c '$T/convene.conf' held makers approve $id3 2>&1 | grep -q nothing; '$CONVENE' -c '$T/convene.conf' held makers approve $id3 2>&1 | grep -q 'already decided'"
expect_eq "an unknown hold exits 67" 67 "$(cv held makers approve 999999 >/dev/null 2>&1; echo $?)"
flush
expect_eq "CLI approve delivers to every member once" "$MEMBERS" "$(delivered cli-1@example.net)"
check "CLI reject tells the poster the reason" grep -q "off topic" "$(mail_to m2@example.net "not accepted")"
expect_eq "CLI decisions are events" 3 "$(sql "SELECT count(*) FROM events WHERE ref IN ($id1, $id2, $id3) AND kind IN ('hold.approve', 'hold.reject', 'hold.discard') AND actor LIKE 'cli:%'")"

# ---- expiry
nonmember_post old-1 m4@example.net
post "$T/old-1.eml" >/dev/null
clear_outbox
flush
expect_eq "not expired yet" held "$(state_of old-1)"
later=$(( $(date +%s) + 3 * 86400 ))
CONVENE_NOW=$later cv run --once >/dev/null
expect_eq "expired after hold_expiry" expired "$(state_of old-1)"
check "the poster is told" test -n "$(mail_to m4@example.net "expired")"
expect_eq "expiry event" 1 "$(sql "SELECT count(*) FROM events WHERE kind = 'hold.expired' AND ref = (SELECT id FROM holds WHERE message_id = 'old-1@example.net')")"
finish
