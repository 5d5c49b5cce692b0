#!/bin/bash
# t262-web-archive - the web archive's static pages as headless Chromium
# shows them: the month index, a thread page and a message page of a
# thread of our own (tests/fixtures/web) and, when ../shared/corpus is
# there, of a real list's thread, with the right subjects, senders and
# order; replies nested, quoted text folded, attachments listed with type
# and size, URLs as links, addresses hidden; the FAQ and the Atom feed.
# Hostile messages (script in the subject and the body, javascript:
# links, malformed HTML, an HTML-only part with handlers, a 1 MB line)
# show as text on every page that shows them, and no script runs: checked
# in the DOM. Every page of every render holds only the templates' markup
# (webcheck.py), also for the whole corpus, whose render time is printed.
. "$(dirname "$0")/lib.sh"

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
export CHROMIUM
[ -x "$CHROMIUM" ] || { echo "# $CHROMIUM not found (apt-get install chromium): skipped"; exit 77; }
command -v python3 >/dev/null || { echo "# python3 not found: skipped"; exit 77; }
BROWSER=$top_srcdir/tests/integration/browser.py
WEBCHECK=$top_srcdir/tests/integration/webcheck.py
WEBFIX=$top_srcdir/tests/fixtures/web

write_config 'archive = { access = "public"; };' \
	'web = { url = "https://lists.example.org/"; dir = "web"; };'
# One Chromium looks at many pages: ask NAME CMD URL [EXPRESSION] queues
# a look (CMD eval: the JSON value of a JavaScript expression on the page
# as Chromium loaded it; probe: browser.py's PROBE), look runs the queue,
# and the answer to NAME is in file $(answer NAME).
mkdir -p "$T/answers"
ask() { python3 -c 'import json,sys; print(json.dumps(sys.argv[1:]))' "$@" >>"$T/asks"; }
look() { python3 "$BROWSER" batch "$T/asks" "$T/answers"; : >"$T/asks"; }
answer() { echo "$T/answers/$1.json"; }
# json NAME [PYTHON EXPRESSION of d]: the answer (or a part of it) as JSON
# on one line.
json() { py 'import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps(eval(sys.argv[2])))' "$(answer "$1")" "${2:-d}"; }
page() { echo "file://$T/web/makers/$1"; }
# The messages of a month page, by thread: [subject, [[subject, from,
# depth]...]], depth counting the list items around an item.
MONTH_JS='Array.from(document.querySelectorAll("section.thread")).map(s =>
  [s.querySelector("h2").textContent,
   Array.from(s.querySelectorAll("li")).map(li =>
     [li.querySelector("a").textContent, li.querySelector(".from").textContent,
      (function d(e) { let n = 0; for (e = e.parentElement; e !== s; e = e.parentElement) if (e.tagName === "LI") n++; return n; })(li)])])'
# The messages of a thread page in reading order: [subject, from, depth].
THREAD_JS='Array.from(document.querySelectorAll("article.message")).map(a =>
  [a.querySelector("header a.subject").textContent, a.querySelector("header .from").textContent,
   (function d(e) { let n = 0; for (e = e.parentElement; e; e = e.parentElement) if (e.tagName === "ARTICLE") n++; return n; })(a)])'
# The header rows of a message page, and its attachments.
MESSAGE_JS='({ h1: document.querySelector("h1").textContent,
  headers: Array.from(document.querySelectorAll("dl.headers dt")).map(dt => [dt.textContent, dt.nextElementSibling.textContent]),
  attachments: Array.from(document.querySelectorAll("table.attachments tbody tr")).map(tr =>
    Array.from(tr.children).map(td => td.textContent).concat([tr.children[2].getAttribute("data-bytes")])),
  thread: document.querySelector("dl.headers a").getAttribute("href"),
  text: Array.from(document.querySelectorAll("pre.text")).map(p => p.textContent).join("\n") })'
py() { python3 -c "$1" "${@:2}"; }
id_of() { sql "SELECT id FROM archive WHERE message_id = '$1'"; }

# ---- our own thread ----

check "the fixture thread is imported" sh -c "'$CONVENE' -c '$T/convene.conf' archive makers import '$WEBFIX' | grep -q '^imported 5,'"
G1=$(id_of garden-1@example.org); G2=$(id_of garden-2@example.net)
G3=$(id_of garden-3@example.org); G4=$(id_of garden-4@example.com)
S1=$(id_of seeds-1@example.net)
T1=$(sql "SELECT thread FROM archive WHERE id = $G1")
TS=$(sql "SELECT thread FROM archive WHERE id = $S1")
cv archive makers faq "$G2" "Watering rota" >/dev/null
check "render writes the pages" sh -c "'$CONVENE' -c '$T/convene.conf' archive makers render >'$T/render.out'"
for f in index.html 2024-03.html 2024-04.html faq.html feed.atom style.css; do
	check "page $f" test -s "$T/web/makers/$f"
done
check "the lists page" grep -q 'href="makers/index.html"' "$T/web/index.html"
check "one page per message" test -s "$T/web/makers/msg/$G2.html"
check "one page per thread" test -s "$T/web/makers/thread/$T1.html"

ask m03 eval "$(page 2024-03.html)" "$MONTH_JS"
ask m04 eval "$(page 2024-04.html)" "$MONTH_JS"
ask m03links eval "$(page 2024-03.html)" 'Array.from(document.querySelectorAll("section.thread a")).map(a => a.getAttribute("href"))'
ask index eval "$(page index.html)" '[Array.from(document.querySelectorAll("table.threads tbody a")).map(a => a.textContent), Array.from(document.querySelectorAll("ul.months li")).map(li => li.textContent)]'
ask thread eval "$(page "thread/$T1.html")" "$THREAD_JS"
ask folded eval "$(page "thread/$T1.html")" 'Array.from(document.querySelectorAll("details.quoted")).map(d => [d.querySelector("summary").textContent, d.open, d.textContent.includes("> the beds by the workshop")])'
ask urls eval "$(page "thread/$T1.html")" 'Array.from(document.querySelectorAll("pre.text a")).map(a => a.getAttribute("href"))'
ask urltext eval "$(page "thread/$T1.html")" 'Array.from(document.querySelectorAll("pre.text")).some(p => p.textContent.includes("The rota is at https://example.org/garden/rota.\nWrite to"))'
ask hidden eval "$(page "thread/$T1.html")" '[document.body.innerText.includes("greta@example.org"), document.body.innerText.includes("greta@...")]'
ask msg2 eval "$(page "msg/$G2.html")" "$MESSAGE_JS"
ask msg4 eval "$(page "msg/$G4.html")" "$MESSAGE_JS"
ask faq eval "$(page faq.html)" '(a => [a.textContent, a.getAttribute("href")])(document.querySelector("ol.faq a"))'
check "Chromium looked at the pages" look

SUBJ='Community garden: who waters in April?'
RE="Re: [makers] $SUBJ"
INES='In\u00e8s Ivy'
expect_eq "month 2024-03: the thread, its replies nested" \
	"[[\"$SUBJ\", [[\"$SUBJ\", \"Greta Green\", 0], [\"$RE\", \"Hugo Hoe\", 1]]]]" \
	"$(json m03)"
# In April the replies whose parents are in March stand at the top; the
# threads in the order of their first message of the month.
expect_eq "month 2024-04: threads in order, by thread" \
	"[[\"$SUBJ\", [[\"$RE\", \"Greta Green\", 0], [\"$RE\", \"$INES\", 0]]], [\"Seed swap on Saturday\", [[\"Seed swap on Saturday\", \"Hugo Hoe\", 0]]]]" \
	"$(json m04)"
expect_eq "month 2024-03 links its messages and its thread" \
	"[\"thread/$T1.html\", \"msg/$G1.html\", \"msg/$G2.html\"]" "$(json m03links)"
expect_eq "index: threads by their last message, months with counts" \
	"[[\"Seed swap on Saturday\", \"$SUBJ\"], [\"2024-04 (3)\", \"2024-03 (2)\"]]" \
	"$(json index)"
expect_eq "thread page: every message in reading order, replies nested" \
	"[[\"$SUBJ\", \"Greta Green\", 0], [\"$RE\", \"Hugo Hoe\", 1], [\"$RE\", \"Greta Green\", 2], [\"$RE\", \"$INES\", 1]]" \
	"$(json thread)"
expect_eq "thread page: the quoted lines are folded (closed details)" \
	'[["2 quoted lines", false, true]]' "$(json folded)"
expect_eq "thread page: a URL in the text is a link, its full stop is not" \
	'["https://example.org/garden/rota"]' "$(json urls)"
expect_eq "thread page: a link does not break its line of text" true "$(json urltext)"
expect_eq "thread page: addresses in the text are hidden" '[false, true]' "$(json hidden)"
expect_eq "message page: subject" "\"$RE\"" "$(json msg2 'd["h1"]')"
expect_eq "message page: headers" \
	"[[\"From\", \"Hugo Hoe\"], [\"Date\", \"2024-03-29 17:02 (UTC)\"], [\"Thread\", \"$SUBJ\"], [\"In reply to\", \"$SUBJ (Greta Green)\"]]" \
	"$(json msg2 'd["headers"]')"
expect_eq "message page: the attachment with its type and size" \
	'[["rota-2023.pdf", "application/pdf", "1.0 kB", "1035"]]' \
	"$(json msg2 'd["attachments"]')"
expect_eq "message page: links to its place in the thread" "\"../thread/$T1.html#m$G2\"" \
	"$(json msg2 'd["thread"]')"
expect_eq "message page: the text, not the attachment" '[true, false]' \
	"$(json msg2 '["I take the first week" in d["text"], "PDF" in d["text"]]')"
expect_eq "message page: Latin-1 quoted-printable text as UTF-8" '[true, true]' \
	"$(json msg4 '["the w\u00e9ek after" in d["text"], d["headers"][0][1] == "In\u00e8s Ivy"]')"
expect_eq "faq.html lists the leaders' pick" "[\"Watering rota\", \"msg/$G2.html\"]" "$(json faq)"

# The feed: Atom that Python's XML parser reads, newest thread first.
check "feed.atom: new threads, newest first" py '
import sys, xml.etree.ElementTree as ET
a = "{http://www.w3.org/2005/Atom}"
f = ET.parse(sys.argv[1]).getroot()
t = [e.find(a + "title").text for e in f.findall(a + "entry")]
links = [e.find(a + "link").get("href") for e in f.findall(a + "entry")]
sys.exit(0 if t == ["Seed swap on Saturday", "Community garden: who waters in April?"]
         and links[0] == "https://lists.example.org/makers/thread/" + sys.argv[2] + ".html" else 1)' \
	"$T/web/makers/feed.atom" "$TS"

# ---- hostile messages ----

python3 - "$T" <<'EOF'
import sys
d = sys.argv[1]
evil = '<script>window.pwned=1</script>'
line = 'A' * (1024 * 1024) + evil
body = f"""Look: {evil}
<img src=x onerror="window.pwned=1"> <a href="javascript:window.pwned=1">click me</a>
javascript:window.pwned=1 and [x](javascript:alert(1)) and JaVaScRiPt:alert(2)
</pre></details></article><script>window.pwned=1</script><!--
<textarea><iframe src="javascript:window.pwned=1"></iframe><svg onload=window.pwned=1>
&lt;already escaped&gt; &amp; "quotes" 'single' <b unclosed
http://example.org/"onmouseover="window.pwned=1" https://example.org/ok?a=1&b=<x>
{line}
"""
with open(d + "/hostile.eml", "w") as f:
    f.write(f"""From: "<script>window.pwned=1</script>" <mallory@example.org>
To: makers@lists.example.org
Subject: <script>window.pwned=1</script> Re: <b>bold</b> "x" & y
Date: Fri, 05 Apr 2024 10:00:00 +0000
Message-ID: <hostile-1@example.org>
In-Reply-To: <garden-1@example.org>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

{body}""")
with open(d + "/hostile-html.eml", "w") as f:
    f.write(f"""From: Mallory <mallory@example.org>
To: makers@lists.example.org
Subject: =?utf-8?b?PHNjcmlwdD53aW5kb3cucHduZWQ9MTwvc2NyaXB0Pg==?= encoded
Date: Fri, 05 Apr 2024 11:00:00 +0000
Message-ID: <hostile-2@example.org>
In-Reply-To: <hostile-1@example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: text/html; charset=utf-8

<html><head><script>window.pwned=1</script><style>body{{display:none}}</style></head>
<body onload="window.pwned=1"><p>Shown as text: &lt;script&gt;window.pwned=1&lt;/script&gt;</p>
<img src=x onerror=window.pwned=1><a href="javascript:window.pwned=1">js link</a>
<iframe src="javascript:window.pwned=1"></iframe></body></html>
--b1
Content-Type: text/html; name="<script>window.pwned=1</script>.html"
Content-Disposition: attachment; filename="'><img src=x onerror=window.pwned=1>.html"

<script>window.pwned=1</script>
--b1--
""")
EOF
check "hostile messages imported" sh -c "'$CONVENE' -c '$T/convene.conf' archive makers import '$T/hostile.eml' | grep -q '^imported 1,' && '$CONVENE' -c '$T/convene.conf' archive makers import '$T/hostile-html.eml' | grep -q '^imported 1,'"
cv archive makers render >/dev/null
H1=$(id_of hostile-1@example.org); H2=$(id_of hostile-2@example.org)
TH=$(sql "SELECT thread FROM archive WHERE id = $H1")
HOSTILE_PAGES="msg/$H1.html msg/$H2.html thread/$TH.html 2024-04.html index.html"
n=0
for p in $HOSTILE_PAGES; do
	ask "h$n" probe "$(page "$p")"
	n=$((n + 1))
done
check "Chromium looked at the hostile pages" look
# What must not be on a page: a script that ran or is there; a handler,
# frame or image; a link that is not http(s), mailto or the archive's own.
UNSAFE='[k for k in ("pwned", "scripts", "iframes", "images", "event_attributes", "bad_links") if d[k]]'
TEXT='[s for s in ("<script>window.pwned=1</script>", "<img src=x onerror=", "javascript:window.pwned=1", "</pre></details></article>", "<b unclosed", "&lt;already escaped&gt;") if s not in d["text"]]'
n=0
for p in $HOSTILE_PAGES; do
	expect_eq "$p: no script ran, no markup from mail" '[]' "$(json "h$n" "$UNSAFE")"
	case $p in
	"msg/$H1.html"|thread/*)
		expect_eq "$p: the script and tags show as text" '[]' "$(json "h$n" "$TEXT")"
		expect_eq "$p: the 1 MB line is all there, as text" true \
			"$(json "h$n" 'd["pre_max"] >= 1024 * 1024')"
		;;
	esac
	n=$((n + 1))
done
expect_eq "the hostile subject is the page's heading, as text" \
	'["<script>window.pwned=1</script> Re: <b>bold</b> \"x\" & y"]' "$(json h0 'd["h1"]')"
expect_eq "only the http(s) URLs are links, and none breaks its attribute" \
	'["http://example.org/", "https://example.org/ok?a=1&b="]' \
	"$(json h0 '[l for l in d["links"] if l.startswith("http")]')"
expect_eq "an HTML-only message: its text, its script and style dropped" '[true, false]' \
	"$(json h1 '["Shown as text: <script>window.pwned=1</script>" in d["text"], "display:none" in d["text"]]')"
expect_eq "an encoded subject that decodes to a script is text" \
	'["<script>window.pwned=1</script> encoded"]' "$(json h1 'd["h1"]')"
expect_eq "a hostile attachment name is listed as text" true \
	"$(json h1 '"\x27><img src=x onerror=window.pwned=1>.html" in d["text"]')"
check "every page holds only the templates' markup" python3 "$WEBCHECK" "$T/web"

# ---- a real list's thread ----

CORPUS=$top_srcdir/../shared/corpus
if [ -d "$CORPUS/threads" ]; then
	mkdir -p "$T/c"
	sed -e 's|^database = .*|database = "c.db";|' -e 's|dir = "web"|dir = "cweb"|' \
		"$T/convene.conf" >"$T/c/convene.conf"
	cc() { "$CONVENE" -c "$T/c/convene.conf" "$@"; }
	cc archive makers import "$CORPUS/threads/magick-list-2000.mbox" >/dev/null
	cc archive makers render >/dev/null
	cpage() { echo "file://$T/c/cweb/makers/$1"; }
	P='Problem resizing images through perl script'
	CM=$(sqlite3 "$T/c/c.db" "SELECT id FROM archive WHERE subject = '$P'")
	CT=$(sqlite3 "$T/c/c.db" "SELECT thread FROM archive WHERE subject = '$P'")
	ask c03 eval "$(cpage 2000-03.html)" "$MONTH_JS"
	ask cthread eval "$(cpage "thread/$CT.html")" "$THREAD_JS"
	ask cmsg eval "$(cpage "msg/$CM.html")" "$MESSAGE_JS"
	check "Chromium looked at the corpus pages" look
	# Mail::Box's t/105mbox-thread.t: a missing parent with two
	# children, the chain "Problem resizing images through perl script" >
	# Re: > RE: > Re:, and "Re: Convert HTM, HTML files to the .jpg format".
	expect_eq "corpus: month 2000-03 in order, the thread's replies nested" \
		"[[\"RE: jpeg2000 question\", [[\"RE: jpeg2000 question\", \"Bill Radcliffe\", 0]]], [\"$P\", [[\"$P\", \"Carl Knoos\", 0], [\"Re: $P\", \"Mark Overmeer\", 1], [\"Re: Convert HTM, HTML files to the .jpg format\", \"Leonard Rosenthol\", 0]]]]" \
		"$(json c03)"
	expect_eq "corpus: the thread page, as Mail::Box threads it" \
		"[[\"$P\", \"Carl Knoos\", 0], [\"Re: $P\", \"Mark Overmeer\", 1], [\"RE: $P\", \"Carl Knoos\", 2], [\"Re: $P\", \"Mark Overmeer\", 3], [\"Re: Convert HTM, HTML files to the .jpg format\", \"Leonard Rosenthol\", 0]]" \
		"$(json cthread)"
	expect_eq "corpus: the message page's subject, sender and date" \
		"[\"$P\", \"Carl Knoos\", \"2000-03-30 23:27 (UTC)\"]" \
		"$(json cmsg '[d["h1"], d["headers"][0][1], d["headers"][1][1]]')"
	expect_eq "corpus: the message page shows the text" true "$(json cmsg '"mogrify" in d["text"]')"

	# The whole corpus in one list: every page rendered holds only the
	# templates' markup; the time is what the report quotes.
	mkdir -p "$T/all"
	sed -e 's|^database = .*|database = "all.db";|' -e 's|dir = "cweb"|dir = "allweb"|' \
		"$T/c/convene.conf" >"$T/all/convene.conf"
	find "$CORPUS" -type d | sort | while read -r d; do
		"$CONVENE" -c "$T/all/convene.conf" archive makers import "$d" >/dev/null 2>&1
	done
	out=$("$CONVENE" -c "$T/all/convene.conf" archive makers render)
	echo "# whole corpus: $out (load: $(cut -d' ' -f1-3 /proc/loadavg))"
	check "whole corpus: rendered" grep -q '^rendered [1-9][0-9]* messages' <<<"$out"
	check "whole corpus: every page holds only the templates' markup" python3 "$WEBCHECK" "$T/all/allweb"
else
	echo "# $CORPUS not found: the corpus thread and sweep are skipped"
fi
finish
