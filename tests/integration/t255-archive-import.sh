#!/bin/sh
# Import and export: an mbox then export gives the same messages (by
# Message-ID and body, checked with Python's mailbox), a second import adds
# nothing, imported posts go to nobody, Maildir, threads rebuilt (and
# rebuild keeps the curation), the CLI's show/thread/search/index; with the
# shared corpus: a real list mbox (CRLF copy too), its thread as Mail::Box
# draws it, and a real thread with its middle message missing.
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || { echo "# python3 missing"; exit 77; }
A=$top_srcdir/tests/fixtures/archive
CORPUS=$top_srcdir/../shared/corpus/threads

cat >"$T/convene.conf" <<EOC
domain = "lists.example.org";
database = "convene.db";
templates = "$top_srcdir/templates";
outbound = { transport = "maildir"; path = "outbox"; };
lists = (
  { name = "makers"; leaders = [ "alice@example.org" ]; },
  { name = "copy"; leaders = [ "alice@example.org" ]; },
  { name = "inbox"; leaders = [ "alice@example.org" ]; },
  { name = "real"; leaders = [ "alice@example.org" ]; },
  { name = "gap"; leaders = [ "alice@example.org" ]; },
  { name = "whole"; leaders = [ "alice@example.org" ]; }
);
EOC
add_members alice@example.org bob@example.net carol@example.com
aid() { sql "SELECT id FROM archive WHERE list = '${2:-makers}' AND message_id = '$1'"; }
tid() { sql "SELECT thread FROM archive WHERE list = '${2:-makers}' AND message_id = '$1'"; }

# ---- mbox in, twice ----
expect_eq "import of an mbox" "imported 4, already archived 0, not messages 0, too big 0" "$(cv archive makers import "$A/old-list.mbox")"
expect_eq "a second import adds nothing" "imported 0, already archived 4, not messages 0, too big 0" "$(cv archive makers import "$A/old-list.mbox")"
expect_eq "four archived" 4 "$(sql "SELECT count(*) FROM archive WHERE list = 'makers'")"
expect_eq "imported posts are queued for nobody" 0 "$(sql 'SELECT count(*) FROM jobs')"
cv run --once >/dev/null 2>&1
expect_eq "...and nothing goes out" 0 "$(outbox_count)"
expect_eq "the message without a Message-ID got a stable one" 1 "$(sql "SELECT count(*) FROM archive WHERE list = 'makers' AND message_id LIKE 'import.%@lists.example.org'")"
expect_eq "threads rebuilt: the reply below its post" "$(aid old-1@example.org)" "$(sql "SELECT parent FROM archive WHERE message_id = 'old-2@example.net'")"
expect_eq "...in one thread" "$(tid old-1@example.org)" "$(tid old-2@example.net)"
expect_eq "the import is an event" 1 "$(sql "SELECT count(*) FROM events WHERE kind = 'archive.imported' AND ref = 4")"

# ---- export gives the same messages ----
cv archive makers export --mbox "$T/out.mbox" 2>"$T/export.err"
expect_eq "export counts them" "4 messages exported" "$(cat "$T/export.err")"
cv archive makers export >"$T/stdout.mbox" 2>/dev/null
check "export to stdout is the same" cmp -s "$T/out.mbox" "$T/stdout.mbox"
cat >"$T/same.py" <<'EOP'
import mailbox, sys
def load(path):
    out = {}
    for m in mailbox.mbox(path):
        key = m['Message-ID'] or ('no-id ' + m['Subject'])
        out[key.strip()] = m.get_payload(decode=True)
    return out
a, b = load(sys.argv[1]), load(sys.argv[2])
if a != b:
    print('differ:', sorted(set(a) ^ set(b)) or
          [k for k in a if a[k] != b.get(k)])
    sys.exit(1)
EOP
check "export = import, by Message-ID and body" python3 "$T/same.py" "$A/old-list.mbox" "$T/out.mbox"
check "mboxrd quoting kept the From line of a body" grep -q '^>From now on' "$T/out.mbox"
expect_eq "the exported mbox imports into another list" "imported 4, already archived 0, not messages 0, too big 0" "$(cv archive copy import "$T/out.mbox")"
expect_eq "...with the same Message-IDs (the made-up one too)" \
	"$(sql "SELECT group_concat(message_id) FROM (SELECT message_id FROM archive WHERE list = 'makers' ORDER BY message_id)")" \
	"$(sql "SELECT group_concat(message_id) FROM (SELECT message_id FROM archive WHERE list = 'copy' ORDER BY message_id)")"

# ---- the CLI reads the archive ----
out=$(cv archive makers search door code 2>/dev/null)
expect_eq "CLI search: one thread, header row first" "thread	message" "$(printf '%s\n' "$out" | head -1 | cut -f1-2)"
expect_eq "...the thread of the door code" "$(tid old-1@example.org)" "$(printf '%s\n' "$out" | sed -n 2p | cut -f1)"
expect_eq "...two of its messages match" 2 "$(printf '%s\n' "$out" | sed -n 2p | cut -f4)"
check "CLI show prints the message" sh -c "cv() { \"\$CONVENE\" -c '$T/convene.conf' \"\$@\"; }; cv archive makers show $(aid old-2@example.net) | grep -q '^Which pinned message'"
expect_eq "CLI show of another list's message" 67 "$(cv archive copy show "$(aid old-2@example.net)" >/dev/null 2>&1; echo $?)"
expect_eq "CLI thread: two messages" 2 "$(cv archive makers thread "$(aid old-2@example.net)" 2>/dev/null | tail -n +2 | wc -l | tr -d ' ')"
expect_eq "CLI hostile search is a usage error" 64 "$(cv archive makers search '"' >/dev/null 2>&1; echo $?)"
check "...that says why" sh -c "\"\$CONVENE\" -c '$T/convene.conf' archive makers search 'NEAR(' '\"' 2>&1 | grep -q 'was not closed'"
expect_eq "CLI index lists three threads" 3 "$(cv archive makers index | tail -n +2 | wc -l | tr -d ' ')"

# ---- curation from the CLI survives a rebuild ----
cv archive makers faq "$(aid old-1@example.org)" Door code >/dev/null
cv archive makers resolved "$(aid old-2@example.net)" >/dev/null
cv archive makers tag "$(aid old-4@example.com)" coffee >/dev/null
expect_eq "CLI faq lists the entry" "Door code" "$(cv archive makers faq | tail -n +2 | cut -f5)"
expect_eq "CLI tag with a bad word" 64 "$(cv archive makers tag "$(aid old-4@example.com)" 'no way' >/dev/null 2>&1; echo $?)"
expect_eq "rebuild threads and indexes again" "rebuilt threads and index of 4 messages" "$(cv archive makers rebuild)"
expect_eq "...the FAQ stays" "Door code" "$(cv archive makers faq | tail -n +2 | cut -f5)"
expect_eq "...resolved stays" "yes" "$(cv archive makers index | awk -F'\t' -v t="$(tid old-1@example.org)" '$1 == t {print $4}')"
expect_eq "...the index is whole again" "$(tid old-1@example.org)" "$(cv archive makers search 'tag:coffee' >/dev/null 2>&1; cv archive makers search door 2>/dev/null | sed -n 2p | cut -f1)"

# ---- Maildir ----
mkdir -p "$T/Maildir/cur" "$T/Maildir/new" "$T/Maildir/tmp"
cp "$A/laser-1.eml" "$T/Maildir/cur/1707120764.M1P1.host:2,S"
cp "$A/laser-2.eml" "$T/Maildir/cur/1707130802.M2P1.host:2,S"
cp "$A/laser-3.eml" "$T/Maildir/new/1707202931.M3P1.host"
cp "$A/laser-outlook.eml" "$T/Maildir/new/1707327000.M4P1.host"
echo "not a message" >"$T/Maildir/tmp/partial"
expect_eq "Maildir import (tmp/ left alone)" "imported 4, already archived 0, not messages 0, too big 0" "$(cv archive inbox import "$T/Maildir")"
expect_eq "...one thread, by References and by subject" 1 "$(sql "SELECT count(DISTINCT thread) FROM archive WHERE list = 'inbox'")"

# ---- the shared corpus, where there is one ----
if [ -d "$CORPUS" ]; then
	expect_eq "a real list mbox (majordomo, 2000)" "imported 45, already archived 0, not messages 0, too big 0" "$(cv archive real import "$CORPUS/magick-list-2000.mbox")"
	expect_eq "...its CRLF copy adds nothing" "imported 0, already archived 45, not messages 0, too big 0" "$(cv archive real import "$CORPUS/magick-list-2000-crlf.mbox")"
	cv archive real export --mbox "$T/real.mbox" 2>/dev/null
	check "...export gives its 45 messages back" python3 "$T/same.py" "$CORPUS/magick-list-2000.mbox" "$T/real.mbox"
	# Mail::Box's t/105mbox-thread.t: a dummy root with the chain of four
	# and the "Convert HTM" reply below it.
	t=$(sql "SELECT thread FROM archive WHERE list = 'real' AND subject = 'Problem resizing images through perl script'")
	# Each message's parent, as its place in date order (0: none).
	shape=$(sql "WITH o AS (SELECT id, parent, row_number() OVER (ORDER BY date) AS k FROM archive WHERE thread = $t) SELECT group_concat(p, ' ') FROM (SELECT coalesce((SELECT k FROM o q WHERE q.id = o.parent), 0) AS p FROM o ORDER BY k)")
	ghost=$(sql "SELECT id FROM thread_nodes WHERE thread = $t AND archive IS NULL AND parent IS NULL")
	expect_eq "...the resizing thread has five messages" 5 "$(sql "SELECT count(*) FROM archive WHERE thread = $t")"
	expect_eq "...under one missing root" 1 "$(sql "SELECT count(*) FROM thread_nodes WHERE thread = $t AND archive IS NULL AND parent IS NULL")"
	expect_eq "...with two messages below it" 2 "$(sql "SELECT count(*) FROM thread_nodes WHERE parent = ${ghost:-0} AND archive IS NOT NULL")"
	expect_eq "...a chain of four and the other reply" "0 0 1 3 4" "$shape"
	# A real thread with its middle message missing stays one thread.
	python3 - "$CORPUS/notmuch-list" "$T/gap" >"$T/gap.txt" <<'EOP'
import email, glob, os, shutil, sys
src, dst = sys.argv[1], sys.argv[2]
msgs = {}
for f in sorted(glob.glob(src + '/*.eml')):
    m = email.message_from_binary_file(open(f, 'rb'))
    mid = (m['Message-ID'] or '').strip()
    refs = (m['References'] or '').split()
    msgs[mid] = (f, refs, (m['In-Reply-To'] or '').strip())
# C replies to B, B replies to A, C's References name A too.
for c, (fc, refs, irt) in msgs.items():
    b = irt
    if b not in msgs or len(refs) < 2:
        continue
    a = msgs[b][2]
    if a in msgs and a in refs:
        os.makedirs(dst)
        for mid, (f, _, _) in msgs.items():
            if mid != b:
                shutil.copy(f, dst)
        print(a.strip('<>'), b.strip('<>'), c.strip('<>'))
        break
EOP
	read -r ga gb gc <"$T/gap.txt"
	check "found a real chain A < B < C" test -n "$gc"
	cv archive gap import "$T/gap" >/dev/null
	expect_eq "real thread without its middle: one thread" "$(tid "$ga" gap)" "$(tid "$gc" gap)"
	expect_eq "...the middle is a ghost" 1 "$(sql "SELECT count(*) FROM thread_nodes WHERE list = 'gap' AND message_id = '$gb' AND archive IS NULL")"
	# Every thread of the corpus in one list: each In-Reply-To that names
	# an archived message is its parent, and the thread ids agree.
	for src in lkml notmuch-list notmuch-threading/ghost-root \
		notmuch-threading/parent-priority patchwork-series \
		magick-list-2000.mbox; do
		cv archive whole import "$CORPUS/$src" >/dev/null
	done
	expect_eq "the corpus's threads: 333 distinct messages" 333 "$(sql "SELECT count(*) FROM archive WHERE list = 'whole'")"
	links=$(sql "SELECT count(*) FROM archive a JOIN archive p ON p.list = a.list AND p.message_id = a.in_reply_to WHERE a.list = 'whole'")
	check "...with many In-Reply-To links ($links)" test "$links" -ge 200
	expect_eq "...each of them found" 0 "$(sql "SELECT count(*) FROM archive a JOIN archive p ON p.list = a.list AND p.message_id = a.in_reply_to WHERE a.list = 'whole' AND a.parent IS NOT p.id")"
	expect_eq "...every message in its node's thread" 0 "$(sql "SELECT count(*) FROM archive a JOIN thread_nodes n ON n.archive = a.id WHERE a.list = 'whole' AND (a.thread IS NULL OR a.thread IS NOT n.thread)")"
	expect_eq "...and the threads count them all" 333 "$(sql "SELECT sum(messages) FROM threads WHERE list = 'whole'")"
	expect_eq "...each thread id is one of its messages" 0 "$(sql "SELECT count(*) FROM threads t WHERE list = 'whole' AND NOT EXISTS (SELECT 1 FROM archive a WHERE a.id = t.id AND a.thread = t.id)")"
else
	echo "# no shared corpus: real-mail checks skipped"
fi

finish
