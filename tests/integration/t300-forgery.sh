#!/bin/sh
# Forged and replayed mail: a forged "set nomail" changes nothing until the
# member confirms (also once their answer quota is spent); a post without a
# Message-ID handed over twice is delivered once; a held post handed over
# twice is held once; forged posts "from" someone give them at most the
# rate limit's worth of notices, at hold time and at expiry, however the
# address is varied (+tag, a trailing dot, address literals).
. "$(dirname "$0")/lib.sh"

cat >"$T/convene.conf" <<EOC
domain = "lists.example.org";
database = "convene.db";
templates = "$top_srcdir/templates";
outbound = { transport = "maildir"; path = "outbox"; };
answer_rate_limit = "5/1h";
lists = (
  { name = "makers"; description = "Makers of Example City";
    leaders = [ "alice@example.org", "erin@example.org" ]; }
);
EOC
export CONVENE_NOW=1700000000
tick() { CONVENE_NOW=$((CONVENE_NOW + ${1:-7200})); export CONVENE_NOW; }
deliver() { cv run --once >/dev/null 2>>"$T/run.err"; }
clear_outbox() { rm -f "$T"/outbox/new/*; }
count_for() { outbox_for "$1" | wc -l | tr -d ' '; }
mode_of() { sql "SELECT mode FROM members WHERE list = 'makers' AND address = '$1'"; }
add_members bob@example.net carol@example.com

# ---- a forged "set nomail" ----
n=0
forge_set() {
	n=$((n + 1))
	printf 'From: bob@example.net\nTo: makers-request@lists.example.org\nSubject: set nomail\nMessage-ID: <forged-%d@evil.example>\n\nset nomail\n' \
		"$n" >"$T/forged-$n.eml"
	post "$T/forged-$n.eml" makers-request@lists.example.org
}
expect_eq "forged set nomail: accepted" 0 "$(forge_set)"
expect_eq "...bob's delivery unchanged" immediate "$(mode_of bob@example.net)"
deliver
f=$(outbox_for bob@example.net)
check "...bob is asked to confirm instead" grep -q '^Subject: confirm [0-9a-f]\{32\}: delivery from makers' "$f"
for i in 2 3 4 5 6 7 8; do forge_set >/dev/null; done
expect_eq "eight forgeries in an hour: still unchanged" immediate "$(mode_of bob@example.net)"
expect_eq "...at most five mails to bob" 5 "$(sql "SELECT count(*) FROM answer_log")"
expect_eq "...past the quota nothing is recorded" 5 "$(sql "SELECT count(*) FROM sub_requests WHERE kind = 'set'")"
deliver
expect_eq "...bob got five confirmations, no more" 5 "$(count_for bob@example.net)"
# bob himself confirms the first one
tok=$(header "$f" Reply-To | sed -n 's/^makers-confirm+\([0-9a-f]*\)@.*/\1/p')
printf 'From: bob@example.net\nTo: %s\nSubject: Re: confirm\nMessage-ID: <bob-yes@example.net>\n\nyes\n' \
	"makers-confirm+$tok@lists.example.org" >"$T/yes.eml"
expect_eq "bob confirms by reply" 0 "$(post "$T/yes.eml" "makers-confirm+$tok@lists.example.org")"
expect_eq "...now it is set" nomail "$(mode_of bob@example.net)"
expect_eq "...his token is used up" 0 "$(post "$T/yes.eml" "makers-confirm+$tok@lists.example.org")"
expect_eq "...and the other requests still wait" 4 "$(sql "SELECT count(*) FROM sub_requests WHERE kind = 'set' AND state = 'confirm'")"

# ---- a post without a Message-ID, handed over twice ----
tick
clear_outbox
printf 'From: carol@example.com\nTo: makers@lists.example.org\nSubject: no id\nDate: Tue, 14 Nov 2023 10:00:00 +0000\n\nhello\n' >"$T/noid.eml"
expect_eq "a post without Message-ID: accepted" 0 "$(post "$T/noid.eml")"
# the MTA never saw the exit status and hands it over again, with one more
# trace field
{ printf 'Received: from mx.example.net by lists.example.org; Tue, 14 Nov 2023 10:05:00 +0000\n'; cat "$T/noid.eml"; } >"$T/noid2.eml"
expect_eq "...handed over again: exit 0" 0 "$(post "$T/noid.eml")"
expect_eq "...and once more with a new Received" 0 "$(post "$T/noid2.eml")"
expect_eq "...archived once" 1 "$(sql "SELECT count(*) FROM archive WHERE subject = 'no id'")"
mid=$(sql "SELECT message_id FROM archive WHERE subject = 'no id'")
check "...under an id from its content ($mid)" \
	sh -c "echo '$mid' | grep -Eqx 'convene\.[0-9a-f]{32}@lists\.example\.org'"
deliver
expect_eq "...carol got it once" 1 "$(count_for carol@example.com)"
printf 'From: carol@example.com\nTo: makers@lists.example.org\nSubject: no id\nDate: Tue, 14 Nov 2023 11:00:00 +0000\n\nhello again\n' >"$T/noid3.eml"
expect_eq "another post without Message-ID" 0 "$(post "$T/noid3.eml")"
expect_eq "...is another message" 2 "$(sql "SELECT count(*) FROM archive WHERE subject = 'no id'")"

# ---- a held post, handed over twice ----
tick
clear_outbox
printf 'From: mallory@example.net\nTo: makers@lists.example.org\nSubject: from outside\nMessage-ID: <outside-1@example.net>\n\nhi\n' >"$T/outside.eml"
expect_eq "a non-member's post: held" 0 "$(post "$T/outside.eml")"
expect_eq "...handed over again" 0 "$(post "$T/outside.eml")"
expect_eq "...held once" 1 "$(sql "SELECT count(*) FROM holds WHERE message_id = 'outside-1@example.net'")"
check "...the second logged as a duplicate" grep -q "dropped: duplicate of a held post" "$CONVENE_LOG_FILE"
deliver
expect_eq "...one notice to each leader" "1 1" "$(count_for alice@example.org) $(count_for erin@example.org)"
printf 'From: mallory@example.net\nTo: makers@lists.example.org\nSubject: no id, held\n\nhi\n' >"$T/outside2.eml"
post "$T/outside2.eml" >/dev/null
post "$T/outside2.eml" >/dev/null
expect_eq "a held post without Message-ID handed over twice: held once" 1 \
	"$(sql "SELECT count(*) FROM holds WHERE subject = 'no id, held'")"

# ---- one rate limit for every notice to an address nobody chose ----
tick
clear_outbox
sql "DELETE FROM answer_log"
i=0
for from in victim@example.org victim+a@example.org victim+b@example.org \
	Victim+C@Example.ORG 'victim@example.org.' 'victim@[192.0.2.1]' \
	'victim@[IPv6:2001:db8::1]'; do
	i=$((i + 1))
	printf 'From: %s\nTo: makers@lists.example.org\nSubject: forged %d\nMessage-ID: <forged-post-%d@evil.example>\n\nbuy\n' \
		"$from" "$i" "$i" >"$T/fp-$i.eml"
	post "$T/fp-$i.eml" >/dev/null
done
while [ $i -lt 50 ]; do
	i=$((i + 1))
	printf 'From: victim+%d@example.org\nTo: makers@lists.example.org\nSubject: forged %d\nMessage-ID: <forged-post-%d@evil.example>\n\nbuy\n' \
		"$i" "$i" "$i" >"$T/fp-$i.eml"
	post "$T/fp-$i.eml" >/dev/null
done
expect_eq "50 forged posts from the victim's variants: all held" 50 \
	"$(sql "SELECT count(*) FROM holds WHERE subject LIKE 'forged %'")"
deliver
victim_mail() { outbox_rcpts | grep -ci '^victim\(+[a-z0-9]*\)\{0,1\}@\(example\.org\.\{0,1\}\|\[.*\]\)$'; }
n_pending=$(victim_mail)
check "...the victim got at most 5 notices, not 50 ($n_pending)" test "$n_pending" -le 5
check "...and was told at least once ($n_pending)" test "$n_pending" -ge 1
# A day later the victim's quota is back; fifteen days later every hold
# expires at once.
clear_outbox
tick $((15 * 86400))
deliver
n_expired=$(victim_mail)
expect_eq "...fifteen days on, every hold expired" 50 \
	"$(sql "SELECT count(*) FROM holds WHERE subject LIKE 'forged %' AND state = 'expired'")"
check "...the victim got at most 5 expiry notices, not 50 ($n_expired)" test "$n_expired" -le 5
check "...and at least one ($n_expired)" test "$n_expired" -ge 1
finish
