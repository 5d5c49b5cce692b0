#!/bin/bash
# t268-web-incremental - the worker keeps the web archive up to date and
# touches only what changed: after one new post, exactly that post's page
# is new and only its thread's page, its month's page, the index and the
# feed are written again (inode and nanosecond mtime of every other file
# unchanged); a pass with nothing new writes nothing; curation writes the
# pages it changed (the FAQ; a tagged message and its thread; a resolved
# thread and the index); a thread merged into another by a late message
# leaves a page that sends readers to where it went. Pages are written
# atomically (no temporary file is left behind).
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || { echo "# python3 not found: skipped"; exit 77; }
WEBFIX=$top_srcdir/tests/fixtures/web
POLICY=open write_config 'archive = { access = "public"; };' \
	'web = { url = "https://lists.example.org/"; dir = "web"; };'

# snap FILE: every file under web/ with its inode and mtime (ns).
snap() {
	python3 - "$T/web" >"$1" <<'EOF'
import os, sys
top = sys.argv[1]
for root, _, files in os.walk(top):
    for f in sorted(files):
        p = os.path.join(root, f)
        s = os.stat(p)
        print(os.path.relpath(p, top), s.st_ino, s.st_mtime_ns)
EOF
}
# touched BEFORE AFTER: the files written (new or replaced), sorted, on
# one line.
touched() {
	python3 - "$1" "$2" <<'EOF'
import sys
def load(p):
    return {l.split()[0]: l.split()[1:] for l in open(p)}
a, b = load(sys.argv[1]), load(sys.argv[2])
print(" ".join(sorted(k for k in b if a.get(k) != b[k])))
EOF
}
gone() {
	python3 - "$1" "$2" <<'EOF'
import sys
a = {l.split()[0] for l in open(sys.argv[1])}
b = {l.split()[0] for l in open(sys.argv[2])}
print(" ".join(sorted(a - b)))
EOF
}
pass() { cv run --once >/dev/null 2>&1; }
id_of() { sql "SELECT id FROM archive WHERE message_id = '$1'"; }
thread_of() { sql "SELECT thread FROM archive WHERE message_id = '$1'"; }
# mail ID PARENT DATE SUBJECT: a post from Greta to the list.
mail() {
	cat >"$T/$1.eml" <<EOM
From: Greta Green <greta@example.org>
To: makers@lists.example.org
Subject: $4
Date: $3
Message-ID: <$1>
${2:+In-Reply-To: <$2>}
${2:+References: <$2>}
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Text of $1.
EOM
	post "$T/$1.eml" >/dev/null
}

cv archive makers import "$WEBFIX" >/dev/null
cv archive makers import "$top_srcdir/tests/fixtures/archive" >/dev/null
pass
check "the first pass rendered everything" test -s "$T/web/makers/index.html"
N=$(find "$T/web/makers/msg" -name '*.html' | wc -l)
expect_eq "one page per archived message" "$(sql 'SELECT count(*) FROM archive')" "$N"
snap "$T/s0"

# Nothing new: nothing written.
pass
snap "$T/s1"
expect_eq "a pass with nothing new writes nothing" "" "$(touched "$T/s0" "$T/s1")"

# One new post in an old thread.
mail garden-5@example.org garden-3@example.org "Sat, 06 Apr 2024 08:00:00 +0000" \
	"Re: [makers] Community garden: who waters in April?"
pass
snap "$T/s2"
T1=$(thread_of garden-1@example.org)
expect_eq "the post is in the garden thread" "$T1" "$(thread_of garden-5@example.org)"
G5=$(id_of garden-5@example.org)
expect_eq "one new post: its page, its thread's, its month's, the index and the feed" \
	"makers/2024-04.html makers/feed.atom makers/index.html makers/msg/$G5.html makers/thread/$T1.html" \
	"$(touched "$T/s1" "$T/s2")"
check "the thread page shows it" grep -q "msg/$G5.html" "$T/web/makers/thread/$T1.html"
check "the month page shows it" grep -q "msg/$G5.html" "$T/web/makers/2024-04.html"
check "the index counts it" grep -q "(4)</li>" "$T/web/makers/index.html"
check "no temporary file left" sh -c "! find '$T/web' -name '*.tmp.*' | grep -q ."

# A new thread in a new month.
mail bikes-1@example.org "" "Mon, 03 Jun 2024 18:00:00 +0000" "Bike repair evening"
pass
snap "$T/s3"
B1=$(id_of bikes-1@example.org)
TB=$(thread_of bikes-1@example.org)
expect_eq "a new thread: its message, thread and month pages are new; the index and feed" \
	"makers/2024-06.html makers/feed.atom makers/index.html makers/msg/$B1.html makers/thread/$TB.html" \
	"$(touched "$T/s2" "$T/s3")"
check "the feed names the new thread first" python3 -c '
import sys, xml.etree.ElementTree as ET
a = "{http://www.w3.org/2005/Atom}"
e = ET.parse(sys.argv[1]).getroot().find(a + "entry")
sys.exit(0 if e.find(a + "title").text == "Bike repair evening" else 1)' "$T/web/makers/feed.atom"

# Curation.
G2=$(id_of garden-2@example.net)
cv archive makers faq "$G2" "Watering rota" >/dev/null
pass
snap "$T/s4"
expect_eq "a FAQ entry: the FAQ page" "makers/faq.html" "$(touched "$T/s3" "$T/s4")"
check "the FAQ page lists it" grep -q "Watering rota" "$T/web/makers/faq.html"
cv archive makers tag "$G2" rota >/dev/null
pass
snap "$T/s5"
expect_eq "a tag: the message's page and its thread's" \
	"makers/msg/$G2.html makers/thread/$T1.html" "$(touched "$T/s4" "$T/s5")"
check "the message page shows the tag" grep -q "<dd>rota</dd>" "$T/web/makers/msg/$G2.html"
cv archive makers resolved "$G2" >/dev/null
pass
snap "$T/s6"
expect_eq "resolved: the thread's page and the index" \
	"makers/index.html makers/thread/$T1.html" "$(touched "$T/s5" "$T/s6")"
check "the thread page is marked resolved" grep -q 'class="resolved"' "$T/web/makers/thread/$T1.html"

# A late message that joins two threads: the one merged away leaves a
# page that sends readers on.
mail orphan-1@example.org lost-root@example.org "Tue, 04 Jun 2024 09:00:00 +0000" "Re: Lost and found"
pass
TO=$(thread_of orphan-1@example.org)
check "the orphan has its page" test -s "$T/web/makers/thread/$TO.html"
cat >"$T/late.eml" <<EOM
From: Hugo Hoe <hugo@example.net>
To: makers@lists.example.org
Subject: Lost and found
Date: Wed, 05 Jun 2024 09:00:00 +0000
Message-ID: <late-1@example.org>
In-Reply-To: <bikes-1@example.org>
References: <bikes-1@example.org>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Late text.
EOM
post "$T/late.eml" >/dev/null
cat >"$T/root.eml" <<EOM
From: Hugo Hoe <hugo@example.net>
To: makers@lists.example.org
Subject: Lost and found
Date: Thu, 06 Jun 2024 09:00:00 +0000
Message-ID: <lost-root@example.org>
In-Reply-To: <late-1@example.org>
References: <bikes-1@example.org> <late-1@example.org>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

The message the orphan answered, late.
EOM
post "$T/root.eml" >/dev/null
pass
NOW=$(thread_of orphan-1@example.org)
check "the late message joined the threads" test "$NOW" != "$TO"
if [ "$NOW" != "$TO" ]; then
	check "the old thread's page sends readers to the new one" \
		grep -q "url=$NOW.html" "$T/web/makers/thread/$TO.html"
	check "the new thread's page shows the orphan" \
		grep -q "msg/$(id_of orphan-1@example.org).html" "$T/web/makers/thread/$NOW.html"
fi
check "no temporary file left" sh -c "! find '$T/web' -name '*.tmp.*' | grep -q ."
expect_eq "no page went missing" "" "$(snap "$T/s7"; gone "$T/s6" "$T/s7")"

# archive rebuild threads anew: the next pass renders every page.
cv archive makers rebuild >/dev/null
snap "$T/s8"
pass
snap "$T/s9"
# (The lists page had no change, and a merged thread's page still sends
# readers on.)
expect_eq "after a rebuild every page is written again" \
	"index.html" "$(python3 -c '
import sys
def load(p):
    return {l.split()[0]: l.split()[1:] for l in open(p)}
a, b = load(sys.argv[1]), load(sys.argv[2])
print(" ".join(sorted(k for k in a if a[k] == b.get(k) and
                      "http-equiv" not in open(sys.argv[3] + "/" + k).read())))' "$T/s8" "$T/s9" "$T/web")"
finish
