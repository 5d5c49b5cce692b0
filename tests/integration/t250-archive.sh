#!/bin/sh
# The archive as community knowledge, by mail: threads that survive a
# missing message and clients without References, List-Archive and
# Archived-At, search/thread/get/index/faq at NAME-request for members and
# never for non-members of a members-only archive, attachments a mail
# client opens (parsed with Python's email), the size bound, hostile
# searches, curation by leaders (by command and by reply), the rate limit,
# public and private archives.
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || { echo "# python3 missing"; exit 77; }
A=$top_srcdir/tests/fixtures/archive

conf() {
	cat >"$T/convene.conf" <<EOC
domain = "lists.example.org";
database = "convene.db";
templates = "$top_srcdir/templates";
outbound = { transport = "maildir"; path = "outbox"; };
answer_rate_limit = "${RATE:-50/1h}";
lists = (
  { name = "makers"; description = "Makers of Example City";
    leaders = [ "alice@example.org" ]; subject_prefix = "[makers] ";
    archive = { access = "${ACCESS:-members}";
                url = "https://lists.example.org/makers/";
                answer_kb = ${ANSWER_KB:-1024}; }; }
);
EOC
}
conf
add_members alice@example.org bob@example.net carol@example.com \
	dan@example.com erin@example.org

deliver() { cv run --once >/dev/null 2>>"$T/run.err"; }
clear_outbox() { rm -f "$T"/outbox/new/*; }
aid() { sql "SELECT id FROM archive WHERE message_id = '$1'"; }
tid() { sql "SELECT thread FROM archive WHERE message_id = '$1'"; }
n=0
# ask FROM BODY [EXTRA HEADERS]: a command mail to makers-request.
ask() {
	n=$((n + 1))
	{
		printf 'From: %s\nTo: makers-request@lists.example.org\nSubject: archive\nMessage-ID: <ask%d.%d@example.net>\nDate: Fri, 09 Feb 2024 10:00:00 +0000\n' "$1" "$n" "$$"
		[ -n "${3:-}" ] && printf '%b\n' "$3"
		printf '\n%b\n' "$2"
	} >"$T/ask$n.eml"
	post "$T/ask$n.eml" makers-request@lists.example.org
}
# answer_for ADDR: the newest message to ADDR in the outbox.
answer_for() { ls -t $(outbox_for "$1") 2>/dev/null | head -1; }
# parse FILE: the answer's text part, then one line per attached message:
# "ATTACHED <message-id> | <from>" (Python's email, as a client reads it).
parse() {
	python3 - "$1" <<'EOP'
import email, sys
from email import policy
raw = open(sys.argv[1], 'rb').read().split(b'\n')
while raw and raw[0].startswith(b'X-Convene-Envelope'):
    raw.pop(0)
m = email.message_from_bytes(b'\n'.join(raw), policy=policy.default)
for p in m.walk():
    if p.get_content_type() == 'text/plain' and p.get_filename() is None \
       and p.get('Content-Disposition') is None:
        print(p.get_content())
    if p.get_content_type() == 'message/rfc822':
        inner = p.get_payload()[0]
        body = inner.get_body(preferencelist=('plain', 'html'))
        ok = body is not None and len(body.get_content()) > 0
        print('ATTACHED %s | %s | %s' % (inner['Message-ID'], inner['From'],
                                         'text' if ok else 'EMPTY'))
EOP
}

# says ADDR PATTERN: the newest answer to ADDR, as a client shows it (its
# lines read as one), matches PATTERN (grep -E).
says() {
	local t
	t=$(parse "$(answer_for "$1")")
	# Running text is wrapped to the reader's width: read it whole.
	printf '%s\n' "$t" | tr '\n' ' ' | grep -qE -- "$2"
}

# ---- threads: a missing middle message, a client without References ----
# (A post is threaded and indexed by the worker's next pass, with the posts
# that came in meanwhile: `deliver` runs it.)
expect_eq "root accepted" 0 "$(post "$A/laser-1.eml")"
expect_eq "reply to the missing middle accepted" 0 "$(post "$A/laser-3.eml")"
deliver
root=$(aid laser-1@example.org)
expect_eq "missing middle: one thread" "$(tid laser-1@example.org)" "$(tid laser-3@example.com)"
expect_eq "...the reply hangs below the root" "$root" "$(sql "SELECT parent FROM archive WHERE message_id = 'laser-3@example.com'")"
expect_eq "...the missing message is a ghost" 1 "$(sql "SELECT count(*) FROM thread_nodes WHERE message_id = 'laser-2@example.net' AND archive IS NULL")"
expect_eq "the late middle message accepted" 0 "$(post "$A/laser-2.eml")"
deliver
expect_eq "...joins the same thread" "$root" "$(tid laser-2@example.net)"
expect_eq "...and is the parent now" "$(aid laser-2@example.net)" "$(sql "SELECT parent FROM archive WHERE message_id = 'laser-3@example.com'")"
expect_eq "no References: accepted" 0 "$(post "$A/laser-outlook.eml")"
deliver
expect_eq "...joins by subject" "$root" "$(tid laser-4@example.com)"
expect_eq "HTML-only post accepted" 0 "$(post "$A/soldering-html.eml")"
deliver
expect_eq "...a thread of its own" "$(aid solder-1@example.org)" "$(tid solder-1@example.org)"
expect_eq "thread counts four messages" 4 "$(sql "SELECT messages FROM threads WHERE id = $root")"
expect_eq "CLI thread lists them" 4 "$(cv archive makers thread "$root" 2>/dev/null | tail -n +2 | wc -l | tr -d ' ')"

# ---- List-Archive, Archived-At ----
deliver
f=$(outbox_for bob@example.net | head -1)
expect_eq "List-Archive on list mail" "<https://lists.example.org/makers/>" "$(header "$f" List-Archive)"
copy=$(grep -l "^Message-ID: <laser-1@example.org>" $(outbox_for bob@example.net))
expect_eq "Archived-At names the post" "<https://lists.example.org/makers/msg/$root.html>" "$(header "$copy" Archived-At)"

# ---- search by mail: a member gets the right thread ids ----
clear_outbox
expect_eq "member's search accepted" 0 "$(ask 'Bob Builder <bob@example.net>' 'search scorch plywood')"
deliver
a=$(answer_for bob@example.net)
text=$(parse "$a")
check "search names the laser thread" sh -c "printf '%s' \"\$1\" | grep -q \"thread $root: Laser cutter settings for plywood\"" - "$text"
check "...with an excerpt around the words" sh -c "printf '%s' \"\$1\" | grep -q 'no more scorch marks'" - "$text"
check "...and no address of another member" sh -c "! printf '%s' \"\$1\" | grep -qiE '(alice|carol|dan|erin)@'" - "$text"
expect_eq "the answer comes from -request" "makers-request@lists.example.org" "$(header "$a" From)"
clear_outbox
ask 'Bob Builder <bob@example.net>' 'search flux' >/dev/null
deliver
check "HTML text is searched" says bob@example.net "thread $(aid solder-1@example.org): Soldering night"
clear_outbox
ask 'Bob Builder <bob@example.net>' 'search from:carol lens' >/dev/null
deliver
text=$(parse "$(answer_for bob@example.net)")
check "from: narrows to the sender" sh -c "printf '%s' \"\$1\" | grep -q 'best: $(aid laser-3@example.com),'" - "$text"

# ---- a non-member on a members-only archive learns nothing ----
clear_outbox
expect_eq "non-member's search accepted" 0 "$(ask 'Mallory <mallory@evil.example>' 'search plywood\nindex\nthread 1\nget 1\nfaq')"
deliver
a=$(answer_for mallory@evil.example)
text=$(parse "$a")
check "non-member gets the members-only line" sh -c "printf '%s' \"\$1\" | grep -q 'for its members only'" - "$text"
check "...and no thread, subject or member's address" sh -c "! printf '%s' \"\$1\" | grep -v '^> ' | grep -qiE '(laser|plywood|soldering|(alice|bob|carol|dan|erin)@|thread [0-9]+:|^ +[0-9]+  20)'" - "$text"
check "...and nothing attached" sh -c "! printf '%s' \"\$1\" | grep -q ATTACHED" - "$text"

# ---- thread ID: attachments a mail client opens ----
clear_outbox
ask 'Carol <carol@example.com>' "thread $root" >/dev/null
deliver
a=$(answer_for carol@example.com)
text=$(parse "$a")
expect_eq "thread answer attaches the four messages" 4 "$(printf '%s\n' "$text" | grep -c '^ATTACHED')"
for mid in laser-1@example.org laser-2@example.net laser-3@example.com laser-4@example.com; do
	check "...<$mid> parses with its text" sh -c "printf '%s' \"\$1\" | grep -q '^ATTACHED <$mid> | .* | text'" - "$text"
done
check "...members see the senders" sh -c "printf '%s' \"\$1\" | grep -q 'ATTACHED <laser-1@example.org> | Alice Example <alice@example.org>'" - "$text"
check "...listed in reading order" sh -c "printf '%s' \"\$1\" | grep -A1 '  $root  2024-02-05  Alice Example' | grep -q '    $(aid laser-2@example.net)  2024-02-05  Bob Builder'" - "$text"

# ---- get ID... and what does not exist ----
clear_outbox
ask 'Carol <carol@example.com>' "get $(aid laser-2@example.net) 9999" >/dev/null
deliver
text=$(parse "$(answer_for carol@example.com)")
expect_eq "get attaches the one message" 1 "$(printf '%s\n' "$text" | grep -c '^ATTACHED <laser-2@example.net>')"
check "...and says 9999 is not there" sh -c "printf '%s' \"\$1\" | grep -q 'no message or thread 9999'" - "$text"

# ---- index ----
clear_outbox
ask 'Carol <carol@example.com>' "index" >/dev/null
deliver
text=$(parse "$(answer_for carol@example.com)")
check "index lists both threads with their ids" sh -c "printf '%s' \"\$1\" | grep -q '  $root  2024-02-0[0-9]  Laser cutter settings for plywood (4 messages)' && printf '%s' \"\$1\" | grep -q 'Soldering night on Friday'" - "$text"

# ---- hostile searches get a clear answer ----
clear_outbox
big=$(head -c 10240 /dev/zero | tr '\0' 'a')
ask 'Bob <bob@example.net>' 'search "' >/dev/null
deliver
check 'search " says the quote is not closed' says bob@example.net 'was not closed'
clear_outbox
ask 'Bob <bob@example.net>' 'search NEAR(' >/dev/null
deliver
check 'search NEAR( is words, answered' says bob@example.net 'Nothing in the archive matches "NEAR"'
clear_outbox
ask 'Bob <bob@example.net>' 'search *' >/dev/null
deliver
check 'search * has nothing to search for' says bob@example.net 'nothing to search for'
clear_outbox
expect_eq "10 kB search accepted" 0 "$(ask 'Bob <bob@example.net>' "search $big")"
deliver
check '10 kB search is too long' says bob@example.net 'search was too long: at most 256'
check "no SQL error logged" sh -c "! grep -qi 'fts5\|syntax error\|sqlite' '$CONVENE_LOG_FILE'"

# ---- curation: a leader's faq shows in faq, a member's changes nothing ----
l3=$(aid laser-3@example.com)
clear_outbox
ask 'Alice <alice@example.org>' "faq $l3 Clean lens, two passes" >/dev/null
deliver
check "leader's faq ID is done" says alice@example.org "Message $l3 is in the FAQ now"
ask 'Bob <bob@example.net>' "faq $(aid solder-1@example.org) Soldering" >/dev/null
deliver
check "member's faq ID is refused" says bob@example.net "Only the list's leaders curate"
expect_eq "...and changes nothing" 1 "$(sql 'SELECT count(*) FROM faq')"
clear_outbox
ask 'Bob <bob@example.net>' 'faq' >/dev/null
deliver
text=$(parse "$(answer_for bob@example.net)")
check "faq answer shows the leader's entry" sh -c "printf '%s' \"\$1\" | grep -q '  $l3  Clean lens, two passes (thread $root, added '" - "$text"
check "...not the member's" sh -c "! printf '%s' \"\$1\" | grep -q 'Soldering'" - "$text"

# Curation by reply: a leader answers the post, to -request.
clear_outbox
solder=$(aid solder-1@example.org)
ask 'Alice <alice@example.org>' 'faq Where to get flux\n\nOn Thu, Erin wrote:\n> Friday is soldering night' 'In-Reply-To: <solder-1@example.org>\nReferences: <solder-1@example.org>' >/dev/null
ask 'Alice <alice@example.org>' 'tag howto' 'In-Reply-To: <laser-2@example.net>' >/dev/null
ask 'Alice <alice@example.org>' 'resolved' 'In-Reply-To: <laser-3@example.com>' >/dev/null
expect_eq "reply-faq adds the post replied to" "Where to get flux" "$(sql "SELECT title FROM faq WHERE archive = $solder")"
expect_eq "reply-tag tags it" "howto" "$(sql "SELECT tag FROM archive_tags WHERE archive = $(aid laser-2@example.net)")"
check "reply-resolved marks its thread" test -n "$(sql "SELECT resolved_at FROM threads WHERE id = $root")"
ask 'Bob <bob@example.net>' 'resolved' 'In-Reply-To: <solder-1@example.org>' >/dev/null
expect_eq "a member's reply resolves nothing" "" "$(sql "SELECT resolved_at FROM threads WHERE id = $solder")"
expect_eq "curation is in the events" 4 "$(sql "SELECT count(*) FROM events WHERE kind IN ('archive.faq','archive.tag','archive.resolved') AND actor = 'alice@example.org'")"
deliver
clear_outbox
ask 'Bob <bob@example.net>' 'search tag:howto' >/dev/null
deliver
check "search tag: finds the tagged post" says bob@example.net "best: $(aid laser-2@example.net),"

# ---- the size bound: what does not fit is named ----
ANSWER_KB=16 conf
big_body=$(head -c 12000 /dev/zero | tr '\0' 'x' | fold -w 70)
{
	printf 'Date: Sat, 10 Feb 2024 10:00:00 +0000\nFrom: Bob <bob@example.net>\nTo: makers@lists.example.org\nSubject: Re: Laser cutter settings for plywood\nMessage-ID: <laser-big@example.net>\nIn-Reply-To: <laser-3@example.com>\nReferences: <laser-1@example.org> <laser-3@example.com>\n\n'
	printf '%s\n' "$big_body"
	printf '%s\n' "$big_body"
} >"$T/big.eml"
expect_eq "a big reply accepted" 0 "$(post "$T/big.eml")"
# Its copies go out first: the worker runs jobs side by side, so in one
# pass with the answer either could be the newest file for carol.
deliver
clear_outbox
ask 'Carol <carol@example.com>' "thread $root" >/dev/null
deliver
a=$(answer_for carol@example.com)
text=$(parse "$a")
check "the answer stays under answer_kb" test "$(wc -c <"$a")" -lt 24000
check "...names the message left out" sh -c "printf '%s' \"\$1\" | grep -q 'Not attached, to keep this answer under 16 kB: $(aid laser-big@example.net)'" - "$text"
expect_eq "...and attaches the rest" 4 "$(printf '%s\n' "$text" | grep -c '^ATTACHED')"

# ---- the rate limit: answers stop, the archive is not read for nothing ----
RATE="2/1h" conf
export CONVENE_NOW=1800000000
clear_outbox
for i in 1 2 3; do ask 'Dan <dan@example.com>' 'index' >/dev/null; done
deliver
expect_eq "only two answers within the hour" 2 "$(outbox_for dan@example.com | wc -l | tr -d ' ')"
unset CONVENE_NOW

# ---- public: anyone reads, without addresses ----
ACCESS=public conf
clear_outbox
ask 'Mallory <mallory@evil.example>' "thread $root" >/dev/null
deliver
a=$(answer_for mallory@evil.example)
text=$(parse "$a")
expect_eq "public archive: a non-member gets the thread" 5 "$(printf '%s\n' "$text" | grep -c '^ATTACHED')"
check "...with the names but no address in the headers" sh -c "printf '%s' \"\$1\" | grep -q 'ATTACHED <laser-1@example.org> | Alice Example <hidden@hidden.invalid> | text'" - "$text"
check "...nowhere in the copies' headers" sh -c "! grep -qE '^(From|To|Cc|Reply-To|Sender|Return-Path|Received):.*@example\.(org|net|com)' '$a'"

# ---- private: only the people running the list ----
ACCESS=private conf
clear_outbox
ask 'Bob <bob@example.net>' 'index' >/dev/null
ask 'Alice <alice@example.org>' 'index' >/dev/null
deliver
check "private archive: a member is refused" says bob@example.net 'open only to the people running the list'
check "...a leader reads it" says alice@example.org 'Laser cutter settings'


finish
