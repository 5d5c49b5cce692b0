#!/bin/bash
# t265-web-server - convene web on a loopback port, with headless Chromium
# and plain HTTP: the archive's pages and search (typed into the page's
# search box and sent with a click, the thread comes back), archive.access
# respected (a members-only archive is not served), paths that leave the
# archive refused; and RFC 8058 one-click unsubscribe: list mail carries
# each member's own URL and List-Unsubscribe-Post; the page behind the
# URL has one button, and a click on it unsubscribes that member and no
# one else; a POST as mail clients send it does the same; a token used
# once, or forged, or sent without List-Unsubscribe=One-Click changes
# nothing; a member who joins again gets a new token and the old one
# stays dead.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sinks.sh"

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
export CHROMIUM
[ -x "$CHROMIUM" ] || { echo "# $CHROMIUM not found (apt-get install chromium): skipped"; exit 77; }
command -v python3 >/dev/null || { echo "# python3 not found: skipped"; exit 77; }
BROWSER=$top_srcdir/tests/integration/browser.py

PORT=$(free_port) || { echo "# no free port"; exit 1; }
BASE=http://127.0.0.1:$PORT
cat >"$T/convene.conf" <<EOC
domain = "lists.example.org";
database = "convene.db";
templates = "$top_srcdir/templates";
outbound = { transport = "maildir"; path = "outbox"; };
web = { url = "https://lists.example.org/"; dir = "web";
        listen = "127.0.0.1:$PORT"; };
lists = (
  { name = "makers"; description = "Makers of Example City";
    leaders = [ "alice@example.org" ]; archive = { access = "public"; }; },
  { name = "inner"; leaders = [ "alice@example.org" ];
    archive = { access = "members"; }; }
);
EOC

# convene web does not run as root: as root, everything here runs as
# nobody, with its own copy of the binary and templates, as in t160
# (setpriv execs the program itself: the PID is convene's).
as_user=()
CV=$CONVENE
if [ "$(id -u)" = 0 ]; then
	as_user=(setpriv --reuid=nobody --regid=nogroup --clear-groups --)
	cp "$CONVENE" "$T/convene"
	cp -r "$top_srcdir/templates" "$T/templates"
	sed -i "s|^templates = .*|templates = \"$T/templates\";|" "$T/convene.conf"
	CV=$T/convene
	: >>"$CONVENE_LOG_FILE"
	chown -R nobody "$T"
	chmod 0666 "$CONVENE_LOG_FILE"
fi
cvu() { "${as_user[@]}" "$CV" -c "$T/convene.conf" "$@"; }
postu() { "${as_user[@]}" "$CV" -c "$T/convene.conf" receive --recipient makers@lists.example.org <"$1"; }
members() { cvu members makers export | tail -n +2 | cut -d, -f1 | sort | tr '\n' ' '; }
# http METHOD PATH [CONTENT-TYPE BODY]: "STATUS" then the body, from
# Python's HTTP client (as a mail client's one-click POST would be; no
# redirect followed).
http() {
	python3 - "$PORT" "$2" "$1" "${3:-}" "${4:-}" <<'EOF'
import sys, http.client
port, path, method, ctype, body = sys.argv[1:6]
c = http.client.HTTPConnection("127.0.0.1", int(port), timeout=30)
c.request(method, path, body=body.encode() if method == "POST" else None,
          headers={"Content-Type": ctype} if ctype else {})
r = c.getresponse()
print(r.status)
print(r.read().decode())
EOF
}
status() { http "$@" >"$T/http.out"; head -1 "$T/http.out"; }

check "config is valid" cvu check
cvu members makers add --quiet bob@example.net carol@example.com dave@example.org erin@example.net >/dev/null
cvu archive makers import "$(readable_copy "$top_srcdir/tests/fixtures/web")" >/dev/null
expect_eq "the post is accepted" 0 "$(postu "$FIXTURES/post-alice.eml"; echo $?)"
cvu run --once >/dev/null
check "the worker rendered the pages" test -s "$T/web/makers/index.html"

# ---- one-click URLs in list mail ----

expect_eq "each member got a copy of their own" 4 "$(outbox_count)"
declare -A TOKEN
for m in bob@example.net carol@example.com dave@example.org erin@example.net; do
	f=$(outbox_for "$m")
	lu=$(header "$f" List-Unsubscribe)
	TOKEN[$m]=$(sed -n 's|^<https://lists.example.org/u/\([0-9]*-[0-9a-f]*\)>, <mailto:makers-unsubscribe@lists.example.org>$|\1|p' <<<"$lu")
	check "$m: List-Unsubscribe names their URL, then the mailto" test -n "${TOKEN[$m]}"
	expect_eq "$m: List-Unsubscribe-Post" "List-Unsubscribe=One-Click" "$(header "$f" List-Unsubscribe-Post)"
	expect_eq "$m: the token names their membership" \
		"$(sql "SELECT id FROM members WHERE list = 'makers' AND address = '$m'")" "${TOKEN[$m]%%-*}"
done
expect_eq "four different tokens" 4 "$(printf '%s\n' "${TOKEN[@]}" | sort -u | wc -l)"
check "Python's email reads the header as RFC 8058 wants it" python3 - "$(outbox_for bob@example.net)" <<'EOF'
import sys, email, re
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
v = " ".join(str(m["List-Unsubscribe"]).split())
sys.exit(0 if re.fullmatch(r"<https://lists\.example\.org/u/\d+-[0-9a-f]{32}>, <mailto:makers-unsubscribe@lists\.example\.org>", v)
         and m["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click" else 1)
EOF

# ---- the server ----

"${as_user[@]}" "$CV" -c "$T/convene.conf" web >"$T/web.out" 2>&1 &
WEB_PID=$!
CLEANUP_PIDS="$CLEANUP_PIDS $WEB_PID"
check "convene web listens on web.listen" listening "$WEB_PID" "$PORT"
check "it listens on loopback only" sh -c "ss -Hltn 'sport = :$PORT' | grep -q '127.0.0.1:$PORT'"
expect_eq "the list's front page" 200 "$(status GET /makers/)"
expect_eq "/makers goes to /makers/" 303 "$(status GET /makers)"
expect_eq "the lists page" 200 "$(status GET /)"
expect_eq "a members-only archive is not served" 403 "$(status GET /inner/)"
expect_eq "nor its search" 403 "$(status GET '/inner/search?q=x')"
expect_eq "no such list" 404 "$(status GET /nosuch/)"
expect_eq "a path out of the archive" 404 "$(status GET /makers/../../convene.conf)"
expect_eq "an encoded path out of the archive" 404 "$(status GET /makers/%2e%2e/%2e%2e/convene.db)"
expect_eq "a file that is not a page" 404 "$(status GET /makers/../convene.db)"
expect_eq "a temporary file of a render" 404 "$(status GET /makers/.tmp)"
expect_eq "POST to a page" 405 "$(status POST /makers/index.html application/x-www-form-urlencoded a=b)"
check "pages carry a Content-Security-Policy without scripts" sh -c "python3 -c \"
import urllib.request,sys
h = urllib.request.urlopen('$BASE/makers/index.html').headers
sys.exit(0 if \\\"default-src 'none'\\\" in h['Content-Security-Policy'] and 'script' not in h['Content-Security-Policy'] and h['X-Content-Type-Options'] == 'nosniff' else 1)\""

# Search from the page: typed into the box, sent with a mouse click.
python3 "$BROWSER" search "$BASE/makers/index.html" "who waters" >"$T/search.json"
check "search from the page returns the thread" python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if "Community garden: who waters in April?" in d["text"] else 1)' "$T/search.json"
check "the result links to the thread page" python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["url"].endswith("/makers/search?q=who+waters") and any(h.startswith("thread/") for h in d["links"]) and d["scripts"] == 0 else 1)' "$T/search.json"
python3 "$BROWSER" search "$BASE/makers/index.html" '"unclosed' >"$T/search2.json"
check "a search that is not understood says why" python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if "was not closed" in d["text"] else 1)' "$T/search2.json"

# ---- one-click unsubscribe ----

BOB=${TOKEN[bob@example.net]}
python3 "$BROWSER" probe "$BASE/u/$BOB" >"$T/ask.json"
check "GET shows a page with one button, and changes nothing" python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["h1"] == ["Leave makers@lists.example.org?"] and d["forms"] == [""] and "bob@example.net" in d["text"] and d["scripts"] == 0 else 1)' "$T/ask.json"
expect_eq "after the GET all four are members" "bob@example.net carol@example.com dave@example.org erin@example.net " "$(members)"
python3 "$BROWSER" click "$BASE/u/$BOB" "form button" >"$T/done.json"
check "a click on the button: the page says so" python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["h1"] == ["Unsubscribed"] else 1)' "$T/done.json"
expect_eq "the click unsubscribed bob and no one else" "carol@example.com dave@example.org erin@example.net " "$(members)"
expect_eq "the used token does not work again" 404 "$(status POST "/u/$BOB" application/x-www-form-urlencoded List-Unsubscribe=One-Click)"
expect_eq "...nor show its page" 404 "$(status GET "/u/$BOB")"

CAROL=${TOKEN[carol@example.com]}
DAVE=${TOKEN[dave@example.org]}
ERIN=${TOKEN[erin@example.net]}
flip() { local t=$1 c=${1: -1}; [ "$c" = 0 ] && c=1 || c=0; echo "${t%?}$c"; }
expect_eq "a forged tag" 404 "$(status POST "/u/$(flip "$CAROL")" application/x-www-form-urlencoded List-Unsubscribe=One-Click)"
expect_eq "carol's number with dave's tag" 404 "$(status POST "/u/${CAROL%%-*}-${DAVE#*-}" application/x-www-form-urlencoded List-Unsubscribe=One-Click)"
expect_eq "a made-up token" 404 "$(status POST /u/1-00000000000000000000000000000000 application/x-www-form-urlencoded List-Unsubscribe=One-Click)"
expect_eq "not a token at all" 404 "$(status POST "/u/../makers/index.html" application/x-www-form-urlencoded List-Unsubscribe=One-Click)"
expect_eq "a POST without List-Unsubscribe=One-Click" 400 "$(status POST "/u/$CAROL" application/x-www-form-urlencoded List-Unsubscribe=Maybe)"
expect_eq "...nor with an empty body" 400 "$(status POST "/u/$CAROL" application/x-www-form-urlencoded '')"
expect_eq "forgeries changed nothing" "carol@example.com dave@example.org erin@example.net " "$(members)"

# As a mail client sends it (RFC 8058): urlencoded, then multipart.
expect_eq "carol's one-click POST" 200 "$(status POST "/u/$CAROL" application/x-www-form-urlencoded List-Unsubscribe=One-Click)"
expect_eq "it unsubscribed carol and no one else" "dave@example.org erin@example.net " "$(members)"
MP=$'--XyZ\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--XyZ--\r\n'
expect_eq "dave's one-click POST as multipart/form-data" 200 "$(status POST "/u/$DAVE" 'multipart/form-data; boundary=XyZ' "$MP")"
expect_eq "it unsubscribed dave and no one else" "erin@example.net " "$(members)"
expect_eq "carol's token again" 404 "$(status POST "/u/$CAROL" application/x-www-form-urlencoded List-Unsubscribe=One-Click)"
expect_eq "erin stays" "erin@example.net " "$(members)"

# Joining again: the old token stays dead, the new mail has a new one.
cvu members makers add --quiet bob@example.net >/dev/null
expect_eq "bob's old token is dead after he joins again" 404 "$(status POST "/u/$BOB" application/x-www-form-urlencoded List-Unsubscribe=One-Click)"
expect_eq "bob is still a member" "bob@example.net erin@example.net " "$(members)"
rm -f "$T"/outbox/new/*
sed 's/workshop-1@/workshop-2@/' "$FIXTURES/post-alice.eml" >"$T/post2.eml"
chmod 0644 "$T/post2.eml"
postu "$T/post2.eml"
cvu run --once >/dev/null
NEWBOB=$(header "$(grep -l '^Message-ID: <workshop-2@' $(outbox_for bob@example.net))" List-Unsubscribe | sed -n 's|^<https://lists.example.org/u/\([0-9]*-[0-9a-f]*\)>.*|\1|p')
check "bob's new mail has a new token" test -n "$NEWBOB" -a "$NEWBOB" != "$BOB"
expect_eq "the new token works" 200 "$(status GET "/u/$NEWBOB")"
check "each one-click unsubscribe is on record" sh -c "sqlite3 '$T/convene.db' \"SELECT count(*) FROM events WHERE kind = 'member.removed' AND detail = 'one-click'\" | grep -qx 3"

# Each who left by one-click got the goodbye (sent by the last run), and
# no one else did.
goodbyes() {
	local m f
	for m in bob@example.net carol@example.com dave@example.org erin@example.net; do
		for f in $(outbox_for "$m"); do
			grep -q '^Subject: Goodbye from makers' "$f" && echo "$m"
		done
	done | tr '\n' ' '
}
expect_eq "the goodbye went to those who left, and only to them" \
	"bob@example.net carol@example.com dave@example.org " "$(goodbyes)"

# A poll is list mail too: each member's copy carries their own URL.
rm -f "$T"/outbox/new/*
printf '%s\n' 'From: Alice <alice@example.org>' 'To: makers-request@lists.example.org' \
	'Subject: poll' 'Message-ID: <poll-1@example.org>' \
	'Date: Mon, 1 Jun 2026 10:00:00 +0000' '' 'poll' 'question: Tea or coffee?' \
	'option: Tea' 'option: Coffee' 'closes: 2d' >"$T/poll.eml"
chmod 0644 "$T/poll.eml"
"${as_user[@]}" "$CV" -c "$T/convene.conf" receive \
	--recipient makers-request@lists.example.org <"$T/poll.eml"
cvu run --once >/dev/null
for m in erin@example.net bob@example.net; do
	f=$(grep -l '^Subject: \[makers\] Poll: Tea or coffee?' $(outbox_for "$m") /dev/null)
	want=$ERIN
	[ "$m" = bob@example.net ] && want=$NEWBOB
	expect_eq "$m: the poll carries their own one-click URL" \
		"<https://lists.example.org/u/$want>, <mailto:makers-unsubscribe@lists.example.org>" \
		"$([ -n "$f" ] && header "$f" List-Unsubscribe)"
	expect_eq "$m: ...and List-Unsubscribe-Post" "List-Unsubscribe=One-Click" \
		"$([ -n "$f" ] && header "$f" List-Unsubscribe-Post)"
done

# SIGHUP re-reads the configuration: the members-only archive made public
# is served (its live search) without a restart.
sed -i 's/archive = { access = "members"; }/archive = { access = "public"; }/' "$T/convene.conf"
kill -HUP "$WEB_PID"
for _ in $(seq 1 120); do
	[ "$(status GET '/inner/search?q=x')" = 200 ] && break
	sleep 0.5
done
expect_eq "after SIGHUP the archive made public is served" 200 "$(status GET '/inner/search?q=x')"
check "...by the same process" kill -0 "$WEB_PID"

kill "$WEB_PID" 2>/dev/null
wait "$WEB_PID" 2>/dev/null
finish
