#!/bin/sh
# Subscriptions and email commands: double opt-in by reply from real
# clients, forged and reused tokens, unsubscribe, set (confirmed), who,
# auto-responders and bounces never answered, the rate limit,
# approve/closed lists, invitations, --quiet, the pending CLI, expiry.
. "$(dirname "$0")/lib.sh"

cat >"$T/convene.conf" <<EOC
domain = "lists.example.org";
database = "convene.db";
templates = "$top_srcdir/templates";
outbound = { transport = "maildir"; path = "outbox"; };
confirm_expiry = "3d";
answer_rate_limit = "5/1h";
lists = (
  { name = "makers"; description = "Makers of Example City";
    leaders = [ "alice@example.org" ]; allow_who = true; },
  { name = "crafts"; description = "Crafts circle"; subscription = "approve";
    leaders = [ "alice@example.org" ]; council = [ "bob@example.org" ]; },
  { name = "board"; description = "The board"; subscription = "closed";
    leaders = [ "alice@example.org" ]; }
);
EOC

# Time is ours: each step moves it on, so that the rate limit (5 an hour
# per address) only bites where a step means it to.
export CONVENE_NOW=1700000000
tick() { CONVENE_NOW=$((CONVENE_NOW + ${1:-7200})); export CONVENE_NOW; }
deliver() { cv run --once >/dev/null 2>>"$T/run.err"; }
clear_outbox() { rm -f "$T"/outbox/new/*; }
count_for() { outbox_for "$1" | wc -l | tr -d ' '; }
# mail FROM RCPT SUBJECT BODY [EXTRA HEADER LINES]: writes a message and
# feeds it to receive; prints the exit status.
n=0
mail() {
	n=$((n + 1))
	{
		printf 'From: %s\nTo: %s\nSubject: %s\nMessage-ID: <m%d.%d@example.net>\nDate: Tue, 14 Nov 2023 10:00:00 +0000\n' \
			"$1" "$2" "$3" "$n" "$$"
		[ -n "${5:-}" ] && printf '%b\n' "$5"
		printf '\n%b\n' "$4"
	} >"$T/m$n.eml"
	post "$T/m$n.eml" "$2"
}
# fixture NAME TOKEN FROM DISPLAY-NAME: a client's reply with the token in.
fixture() {
	sed -e "s/@TOKEN@/$2/g" -e "s/@FROM@/$3/g" -e "s/@NAME@/$4/g" \
		"$FIXTURES/$1" >"$T/$1.$2"
	echo "$T/$1.$2"
}
# token_of FILE: the token of a confirmation, from its Reply-To.
token_of() {
	header "$1" Reply-To | sed -n 's/^[a-z]*-confirm+\([0-9a-f]\{32\}\)@lists\.example\.org$/\1/p'
}
member() { sql "SELECT status || ',' || mode || ',' || coalesce(display_name, '') FROM members WHERE list = '$1' AND address = '$2'"; }
members_of() { sql "SELECT count(*) FROM members WHERE list = '$1'"; }
# got ADDR PATTERN: some message to ADDR has a line matching PATTERN.
got() { f=$(outbox_for "$1"); [ -n "$f" ] && grep -q "$2" $f; }
body_of() { sed '1,/^$/d' "$1" | perl -pe 's/=\n//; s/=([0-9A-F]{2})/chr(hex($1))/ge'; }

# ---- subscribe by mail, confirmation, reply from Gmail ----
expect_eq "subscribe to -request accepted" 0 "$(mail 'Bob Builder <Bob@Example.NET>' makers-request@lists.example.org subscribe 'Hello!')"
deliver
expect_eq "one confirmation to bob" 1 "$(count_for bob@example.net)"
f=$(outbox_for bob@example.net)
tok=$(token_of "$f")
check "Reply-To is makers-confirm+TOKEN (128 bits)" test ${#tok} -eq 32
check "the token is in the Subject" sh -c "grep -q '^Subject: confirm $tok' '$f'"
expect_eq "confirmation comes from -request" "makers-request@lists.example.org" "$(header "$f" From)"
expect_eq "confirmation is auto-replied" "auto-replied" "$(header "$f" Auto-Submitted)"
expect_eq "not a member before confirming" "" "$(member makers bob@example.net)"
tok_bob=$tok

# Forged confirmations change nothing: a wrong token, and an auto-reply
# (vacation notice) sent back to the Reply-To.
clear_outbox
expect_eq "wrong token accepted (dropped)" 0 "$(mail bob@example.net makers-confirm+0123456789abcdef0123456789abcdef@lists.example.org 'Re: confirm' yes)"
expect_eq "vacation reply to the confirm address" 0 "$(mail bob@example.net "makers-confirm+$tok@lists.example.org" 'Out of office' 'I am away' 'Auto-Submitted: auto-replied')"
expect_eq "...subscribes nobody" "" "$(member makers bob@example.net)"

gm=$(fixture confirm-reply-gmail.eml "$tok" bob@example.net "Bob Builder")
expect_eq "Gmail reply accepted" 0 "$(post "$gm" "makers-confirm+$tok@lists.example.org")"
expect_eq "bob is an active member, display name kept" "active,immediate,Bob Builder" "$(member makers bob@example.net)"
deliver
f=$(outbox_for bob@example.net)
expect_eq "bob got one message: the welcome" 1 "$(echo "$f" | grep -c .)"
check "it is the welcome" grep -q '^Subject: Welcome to makers' "$f"

# The same token again: used, changes nothing.
clear_outbox
sql "DELETE FROM members WHERE address = 'bob@example.net'"
expect_eq "reused token accepted (dropped)" 0 "$(post "$gm" "makers-confirm+$tok@lists.example.org")"
expect_eq "reused token subscribes nobody" "" "$(member makers bob@example.net)"
check "reused token logged as unknown or used" grep -q 'unknown or used confirmation token' "$CONVENE_LOG_FILE"
cv members makers add --quiet "Bob Builder <bob@example.net>" >/dev/null
deliver
expect_eq "nothing sent for forged or reused tokens, nor by --quiet" 0 "$(outbox_count)"

# ---- a token of another list ----
tick
expect_eq "carol subscribes to crafts" 0 "$(mail 'Carol <carol@example.com>' crafts-subscribe@lists.example.org 'please' 'Can I join?')"
deliver
tok_crafts=$(token_of "$(outbox_for carol@example.com)")
check "crafts confirmation token" test ${#tok_crafts} -eq 32
clear_outbox
ol=$(fixture confirm-reply-outlook.eml "$tok_crafts" carol@example.com Carol)
expect_eq "crafts token sent to makers-confirm" 0 "$(post "$ol" "makers-confirm+$tok_crafts@lists.example.org")"
expect_eq "...changes nothing on makers" "" "$(member makers carol@example.com)"
expect_eq "...nor on crafts" "" "$(member crafts carol@example.com)"
expect_eq "...the request still waits" confirm "$(sql "SELECT state FROM sub_requests WHERE address = 'carol@example.com'")"

# ---- approve list: Outlook reply confirms, the leader approves by reply ----
expect_eq "Outlook reply to crafts-confirm" 0 "$(post "$ol" "crafts-confirm+$tok_crafts@lists.example.org")"
expect_eq "confirmed request waits for approval" approve "$(sql "SELECT state FROM sub_requests WHERE address = 'carol@example.com'")"
expect_eq "not a member yet" "" "$(member crafts carol@example.com)"
deliver
f=$(outbox_for alice@example.org)
check "approval notice to the leader" test -n "$f"
check "...and to the council" test -n "$(outbox_for bob@example.org)"
tok_appr=$(token_of "$f")
check "approval notice has its own token" sh -c "[ ${#tok_appr} -eq 32 ] && [ '$tok_appr' != '$tok_crafts' ]"
check "carol is told it waits for approval" grep -q 'waits for a leader' "$(outbox_for carol@example.com)"
expect_eq "the person's token is used up" 0 "$(post "$ol" "crafts-confirm+$tok_crafts@lists.example.org")"
expect_eq "a non-leader's 'approve' changes nothing" 0 "$(mail mallory@example.net "crafts-confirm+$tok_appr@lists.example.org" "Re: subscription" approve)"
expect_eq "...carol still waits" "" "$(member crafts carol@example.com)"
clear_outbox
expect_eq "leader replies approve (quoted text below)" 0 "$(mail 'Alice <alice@example.org>' "crafts-confirm+$tok_appr@lists.example.org" "Re: [crafts] subscription $tok_appr" 'Approve\n\nOn Tue, crafts-owner wrote:\n> Reply to this message with one word\n> reject')"
expect_eq "carol is a member of crafts" "active,immediate,Carol" "$(member crafts carol@example.com)"
deliver
check "carol welcomed" grep -q '^Subject: Welcome to crafts' "$(outbox_for carol@example.com)"

# ---- Apple Mail reply; subscribe digest through -request ----
tick
clear_outbox
expect_eq "dave subscribes digest" 0 "$(mail 'Dave <dave@example.org>' makers-request@lists.example.org 'Joining' 'subscribe digest\n\nThanks,\nDave')"
deliver
tok=$(token_of "$(outbox_for dave@example.org)")
ap=$(fixture confirm-reply-apple.eml "$tok" dave@example.org Dave)
expect_eq "Apple Mail reply accepted" 0 "$(post "$ap" "makers-confirm+$tok@lists.example.org")"
expect_eq "dave active in digest mode" "active,digest,Dave" "$(member makers dave@example.org)"

# ---- already a member ----
tick
clear_outbox
mail bob@example.net makers-request@lists.example.org subscribe '' >/dev/null
deliver
f=$(outbox_for bob@example.net)
check "a member asking again is told so" grep -q 'already a member' "$f"
expect_eq "no new request for a member" 0 "$(sql "SELECT count(*) FROM sub_requests WHERE address = 'bob@example.net' AND state = 'confirm'")"

# ---- unsubscribe the same way (the reply goes to -request: Outlook) ----
tick
clear_outbox
expect_eq "unsubscribe via makers-unsubscribe (any content)" 0 "$(mail bob@example.net makers-unsubscribe@lists.example.org 'whatever' 'bye now')"
deliver
f=$(outbox_for bob@example.net)
tok=$(token_of "$f")
check "unsubscribe confirmation with a token" test ${#tok} -eq 32
check "...saying leaving" grep -q "^Subject: confirm $tok: leaving makers" "$f"
expect_eq "still a member until confirmed" "active,immediate,Bob Builder" "$(member makers bob@example.net)"
clear_outbox
ol=$(fixture confirm-reply-outlook.eml "$tok" bob@example.net Bob)
expect_eq "Outlook reply sent to -request (Subject: RE: confirm TOKEN)" 0 "$(post "$ol" makers-request@lists.example.org)"
expect_eq "bob has left" "" "$(member makers bob@example.net)"
deliver
expect_eq "bob got one message" 1 "$(count_for bob@example.net)"
check "...the goodbye" grep -q '^Subject: Goodbye from makers' "$(outbox_for bob@example.net)"

# ---- set (confirmed, as leaving is), who, several commands, signature and
# quotes ----
# confirm_by_reply ADDR: the last confirmation ADDR got, answered by reply.
confirm_by_reply() {
	local f tok=
	for f in $(outbox_for "$1"); do
		grep -q '^Subject: confirm ' "$f" && tok=$(token_of "$f")
	done
	mail "$1" "makers-confirm+$tok@lists.example.org" "Re: confirm $tok" 'yes' >/dev/null
}
pending_set() { sql "SELECT mode FROM sub_requests WHERE address = '$1' AND kind = 'set' AND state = 'confirm'"; }
tick
clear_outbox
mail 'Dave <dave@example.org>' makers-request@lists.example.org 'set digest-plain' '' >/dev/null
expect_eq "set digest-plain in the Subject: not before it is confirmed" "active,digest,Dave" "$(member makers dave@example.org)"
expect_eq "...a request waits" digest-plain "$(pending_set dave@example.org)"
deliver
expect_eq "...its confirmation is the one answer" 1 "$(count_for dave@example.org)"
check "...asking about delivery" grep -q '^Subject: confirm [0-9a-f]*: delivery from makers' "$(outbox_for dave@example.org)"
confirm_by_reply dave@example.org
expect_eq "set digest-plain, confirmed by reply" "active,digest-plain,Dave" "$(member makers dave@example.org)"
deliver
tick
clear_outbox
mail dave@example.org makers-request@lists.example.org '' 'Hi,\nset digest\nwho\n-- \nDave\nunsubscribe' >/dev/null
expect_eq "nothing after the signature ran" 0 "$(sql "SELECT count(*) FROM sub_requests WHERE address = 'dave@example.org' AND kind = 'unsubscribe'")"
expect_eq "set digest in the body waits" digest "$(pending_set dave@example.org)"
deliver
expect_eq "one answer per command message, and the confirmation" 2 "$(count_for dave@example.org)"
for f in $(outbox_for dave@example.org); do
	grep -q '^Subject: confirm ' "$f" || body_of "$f" >"$T/dave-answer.txt"
done
check "answer says a confirmation went out" grep -q 'change delivery to: digest' "$T/dave-answer.txt"
check "member's who lists members" grep -q '^  carol\|^  dave@example.org' "$T/dave-answer.txt"
confirm_by_reply dave@example.org
clear_outbox
expect_eq "set digest in the body, confirmed" "active,digest,Dave" "$(member makers dave@example.org)"
deliver
check "the confirmed change is reported with the mode" grep -q 'now: digest\.' "$(outbox_for dave@example.org)"
tick
clear_outbox
mail dave@example.org makers-request@lists.example.org '' 'set nomail\n\n> set immediate\n> unsubscribe' >/dev/null
expect_eq "quoted commands are not run" "nomail" "$(pending_set dave@example.org)"
expect_eq "...nor the unsubscribe" 0 "$(sql "SELECT count(*) FROM sub_requests WHERE address = 'dave@example.org' AND kind = 'unsubscribe'")"
deliver
confirm_by_reply dave@example.org
expect_eq "set nomail, confirmed" "active,nomail,Dave" "$(member makers dave@example.org)"
clear_outbox
mail erin@example.org makers-request@lists.example.org '' 'set digest' >/dev/null
deliver
check "set from a non-member: not a member" grep -q 'is not a member' "$(outbox_for erin@example.org)"

tick
clear_outbox
expect_eq "who from a non-member" 0 "$(mail mallory@example.net makers-request@lists.example.org who '')"
deliver
f=$(outbox_for mallory@example.net)
check "non-member answered" test -n "$f"
check "...members only" grep -q 'Only members' "$f"
check "...reveals no address" sh -c "! grep -q 'dave@example.org\|carol@example.com\|bob@example.net' '$f'"
clear_outbox
mail carol@example.com crafts-request@lists.example.org who '' >/dev/null
deliver
check "who on a list that does not allow it" grep -q 'not available by mail' "$(outbox_for carol@example.com)"

# HTML-only and base64 command messages; help; info; no command at all.
tick
clear_outbox
mail frank@example.org makers-request@lists.example.org '' '<html><body><div>help</div><div>info</div><blockquote>subscribe</blockquote></body></html>' 'MIME-Version: 1.0\nContent-Type: text/html; charset=utf-8' >/dev/null
deliver
f=$(outbox_for frank@example.org)
body_of "$f" >"$T/frank.txt"
check "HTML-only: help answered" grep -q 'one per line' "$T/frank.txt"
check "HTML-only: info answered" grep -q 'Who may post: members' "$T/frank.txt"
expect_eq "HTML quote not run" 0 "$(sql "SELECT count(*) FROM sub_requests WHERE address = 'frank@example.org'")"
mail dave@example.org makers-request@lists.example.org '' "$(printf 'set immediate\n' | base64)" 'MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64' >/dev/null
expect_eq "base64 body decoded" "immediate" "$(pending_set dave@example.org)"
clear_outbox
mail gail@example.org makers-request@lists.example.org 'hello' 'Is this the right place?' >/dev/null
deliver
check "no command: answered with help" grep -q 'No command was found' "$(outbox_for gail@example.org)"

# ---- never answered: auto-responders, lists, bounces ----
tick
clear_outbox
i=0
for h in 'Auto-Submitted: auto-replied' 'Auto-Submitted: auto-generated' \
	'Precedence: bulk' 'Precedence: junk' 'Precedence: list' \
	'List-Id: <other.lists.example.net>' 'Return-Path: <>' \
	'Return-Path: <MAILER-DAEMON@mx.example.net>' 'X-Autoreply: yes' \
	'MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=x'; do
	i=$((i + 1))
	expect_eq "not answered: $(echo "$h" | tail -c 40 | tr -d '\\')" 0 "$(mail "robot$i@example.net" makers-request@lists.example.org subscribe 'subscribe\nhelp' "$h")"
done
expect_eq "not answered: MAILER-DAEMON sender" 0 "$(mail 'Mail Delivery System <MAILER-DAEMON@mx.example.net>' makers-request@lists.example.org 'Undelivered Mail' 'subscribe')"
expect_eq "not answered: to -subscribe with Auto-Submitted" 0 "$(mail robot@example.net makers-subscribe@lists.example.org 'Out of office' 'away' 'Auto-Submitted: auto-replied')"
deliver
expect_eq "nothing at all sent to robots" 0 "$(outbox_count)"
expect_eq "no request recorded for robots" 0 "$(sql "SELECT count(*) FROM sub_requests WHERE address LIKE 'robot%' OR address LIKE 'mailer-daemon%'")"
check "Auto-Submitted: no is answered" test 0 = "$(mail henry@example.org makers-request@lists.example.org help '' 'Auto-Submitted: no')"
deliver
expect_eq "...once" 1 "$(count_for henry@example.org)"

# ---- the rate limit: 100 forged requests for one victim ----
tick
clear_outbox
for i in $(seq 1 100); do
	mail victim@example.org makers-request@lists.example.org subscribe "forged $i" >/dev/null
done
deliver
v=$(count_for victim@example.org)
check "rate limit holds: $v messages to the victim for 100 requests (limit 5)" test "$v" -le 5 -a "$v" -ge 1
expect_eq "only the sent confirmations are recorded" "$v" "$(sql "SELECT count(*) FROM sub_requests WHERE address = 'victim@example.org'")"
check "over the limit is logged" grep -q 'over the answer rate limit' "$CONVENE_LOG_FILE"
tick 3601
clear_outbox
mail victim@example.org makers-request@lists.example.org subscribe 'again' >/dev/null
deliver
expect_eq "an hour later one more goes out" 1 "$(count_for victim@example.org)"

# ---- closed list ----
tick
clear_outbox
mail ivy@example.org board-request@lists.example.org subscribe '' >/dev/null
mail judy@example.org board-subscribe@lists.example.org '' '' >/dev/null
deliver
check "closed list: polite refusal" grep -q '^Subject: About joining board' "$(outbox_for ivy@example.org)"
check "closed list by -subscribe too" grep -q 'does not take new members' "$(outbox_for judy@example.org)"
expect_eq "closed list: no request, no member" "0 0" "$(sql "SELECT count(*) FROM sub_requests WHERE list = 'board'") $(members_of board)"

# ---- invalid address ----
tick
clear_outbox
mail bad..dots@example.org makers-request@lists.example.org subscribe '' >/dev/null
deliver
check "invalid address refused with an answer" grep -q 'not a valid email address' "$(outbox_for bad..dots@example.org)"
expect_eq "...and nothing recorded" 0 "$(sql "SELECT count(*) FROM sub_requests WHERE address LIKE 'bad%'")"

# ---- CLI: add (welcome), --quiet, --invite ----
tick
clear_outbox
out=$(cv members makers add "Kim <kim@example.org>")
check "add reports added" sh -c "echo '$out' | grep -q 'kim@example.org: added'"
cv members makers add --quiet leo@example.org >/dev/null
out=$(cv members makers add --invite "Gina Invite <gina@example.org>")
check "invite reported" sh -c "echo '$out' | grep -q 'gina@example.org: invited'"
expect_eq "unknown option refused" 64 "$(cv members makers add --loud x@example.org >/dev/null 2>&1; echo $?)"
deliver
check "plain add welcomes" grep -q '^Subject: Welcome to makers' "$(outbox_for kim@example.org)"
expect_eq "--quiet sends nothing" 0 "$(count_for leo@example.org)"
f=$(outbox_for gina@example.org)
tok=$(token_of "$f")
check "invitation with a token" grep -q "^Subject: confirm $tok: invitation to makers" "$f"
expect_eq "invited is not yet a member" "" "$(member makers gina@example.org)"
clear_outbox
gm=$(fixture confirm-reply-gmail.eml "$tok" gina@example.org "Gina")
post "$gm" "makers-confirm+$tok@lists.example.org" >/dev/null
expect_eq "invitation accepted by reply; name kept" "active,immediate,Gina Invite" "$(member makers gina@example.org)"
deliver
check "invited member welcomed" grep -q '^Subject: Welcome to makers' "$(outbox_for gina@example.org)"

# ---- pending CLI on the approve list ----
tick
for who in nina oscar; do
	mail "$who@example.org" crafts-request@lists.example.org subscribe '' >/dev/null
done
deliver
for who in nina oscar; do
	tok=$(token_of "$(outbox_for $who@example.org | tail -1)")
	mail "$who@example.org" "crafts-confirm+$tok@lists.example.org" "Re: confirm $tok" 'yes' >/dev/null
done
mail paul@example.org crafts-request@lists.example.org subscribe '' >/dev/null
out=$(cv members crafts pending 2>/dev/null)
check "pending lists nina waiting for approval" sh -c "echo '$out' | grep -q 'subscribe .*approve .*nina@example.org'"
check "pending lists paul waiting for confirmation" sh -c "echo '$out' | grep -q 'subscribe .*confirm .*paul@example.org'"
id_nina=$(sql "SELECT id FROM sub_requests WHERE address = 'nina@example.org'")
id_oscar=$(sql "SELECT id FROM sub_requests WHERE address = 'oscar@example.org'")
id_paul=$(sql "SELECT id FROM sub_requests WHERE address = 'paul@example.org'")
deliver
clear_outbox
check "pending approve" sh -c "'$CONVENE' -c '$T/convene.conf' members crafts pending approve $id_nina | grep -q ': approved'"
expect_eq "nina is a member" "active,immediate," "$(member crafts nina@example.org)"
check "pending reject" sh -c "'$CONVENE' -c '$T/convene.conf' members crafts pending reject $id_oscar | grep -q ': rejected'"
expect_eq "oscar is not" "" "$(member crafts oscar@example.org)"
expect_eq "approving an unconfirmed request is refused" 65 "$(cv members crafts pending approve "$id_paul" >/dev/null 2>&1; echo $?)"
expect_eq "no such request" 67 "$(cv members crafts pending approve 99999 >/dev/null 2>&1; echo $?)"
expect_eq "deciding twice is refused" 65 "$(cv members crafts pending approve "$id_nina" >/dev/null 2>&1; echo $?)"
deliver
check "nina welcomed" got nina@example.org '^Subject: Welcome to crafts'
check "oscar told politely" got oscar@example.org '^Subject: Your request to join crafts'

# ---- expiry ----
tick
clear_outbox
mail quinn@example.org makers-request@lists.example.org subscribe '' >/dev/null
deliver
tok=$(token_of "$(outbox_for quinn@example.org)")
tick $((4 * 86400))
clear_outbox
expect_eq "a reply after 4 days" 0 "$(mail quinn@example.org "makers-confirm+$tok@lists.example.org" "Re: confirm $tok" yes)"
expect_eq "expired token subscribes nobody" "" "$(member makers quinn@example.org)"
expect_eq "the request is expired" expired "$(sql "SELECT state FROM sub_requests WHERE address = 'quinn@example.org'")"
out=$(cv members makers pending 2>/dev/null)
check "expired requests are not pending" sh -c "! echo '$out' | grep -q quinn"

# ---- config validation ----
sed 's|answer_rate_limit = "5/1h";|answer_rate_limit = "lots";|' "$T/convene.conf" >"$T/bad.conf"
out=$("$CONVENE" -c "$T/bad.conf" check 2>&1)
check "bad answer_rate_limit reported with its line" sh -c "echo '$out' | grep -q 'bad.conf:6: answer_rate_limit'"
# (Only this issue's templates: others are checked by their own tests.)
out=$(cv check 2>&1)
check "subscription templates pass convene check" sh -c "! echo '$out' | grep -E '/(help|answer|answer-lines|confirm-subscribe|confirm-unsubscribe|welcome|goodbye|closed|invite|approval-notice|subscription-rejected)\.txt'"
check "no sanitizer report" sh -c "! cat '$T/receive.out' '$T/run.err' | grep -q 'Sanitizer\|runtime error'"
finish
