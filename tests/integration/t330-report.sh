#!/bin/bash
# t330-report - the health report on a community simulated over a year
# (community.py: a year of posts and replies imported with their dates,
# members added on their join dates under faketime): the dwindling alert
# within 7 days of the fall and not before; every thread unanswered after
# 48 hours listed and no answered one; newcomers who never posted; the top
# helper; the report by mail on its schedule (text part with sparklines,
# HTML part whose chart PNG decodes, read in mutt and in headless
# chromium); the daily nudge (and none when no thread waits); remind,
# welcome and thank by a leader (one message each) and by a member
# (nothing); experts on a topic.
. "$(dirname "$0")/lib.sh"

command -v faketime >/dev/null ||
	{ echo "faketime is not installed (scripts/install-deps.sh installs it)"; exit 77; }
command -v python3 >/dev/null || { echo "python3 is not installed"; exit 77; }
PY=$top_srcdir/tests/integration
at() {
	local when=$1
	shift
	TZ=UTC ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		faketime "$when" "$@"
}
json() { python3 -c "import json,sys; v=json.load(open('$T/sim/expected.json'))['$1']; print('\n'.join(v) if isinstance(v, list) else v)"; }

python3 "$PY/community.py" "$T/sim"
cat >"$T/convene.conf" <<EOC
domain = "lists.example.org";
database = "convene.db";
templates = "$top_srcdir/templates";
outbound = { transport = "maildir"; path = "outbox"; };
lists = (
  { name = "makers"; description = "Makers of Example City";
    leaders = [ "alice@example.org" ]; sponsors = [ "dana@example.org" ];
    council = [ "erin@example.org" ];
    report = { schedule = "weekly wed 08:00"; nudge = "daily 08:30";
               unanswered_after = "48h"; }; },
  { name = "quiet"; leaders = [ "alice@example.org" ];
    report = { schedule = "off"; nudge = "daily 08:30"; }; }
);
EOC
# members on their join dates (one call a date)
sort "$T/sim/members.txt" | awk '{ k = $1 " " $2; a[k] = a[k] " " $3 }
	END { for (k in a) print k "\t" a[k] }' | sort |
	while IFS=$'\t' read -r when addrs; do
		# shellcheck disable=SC2086
		at "$when" "$CONVENE" -c "$T/convene.conf" members makers add --quiet $addrs >/dev/null
	done
check "a year of posts imported" cv archive makers import "$T/sim/year.mbox"
FINAL=$(json final)
DROP=$(json drop)

# ---- the dwindling alert: a report each day around the fall ----
first=""
for k in $(seq -5 9); do
	day=$(date -u -d "$DROP $k days" +%Y-%m-%d)
	out=$(at "$day 09:00:00" "$CONVENE" -c "$T/convene.conf" report makers)
	if grep -q "ALERT: activity is dwindling" <<<"$out"; then
		[ -z "$first" ] && first=$k
	elif [ -n "$first" ]; then
		not_ok "the alert stays once the fall began (day $k)"
	fi
done
check "the report names the dwindling trend (first on day $first after the fall)" \
	test -n "$first"
check "...not before the fall" test "${first:-0}" -gt 0
check "...within 7 days of it" test "${first:-99}" -le 7
out=$(at "$DROP 09:00:00" "$CONVENE" -c "$T/convene.conf" report makers --weeks 6)
check "report --weeks 6 shows 6 weeks" grep -qE "^  Posts +[^ ]+  ([0-9]+ ){5}[0-9]+  \(" <<<"$out"

# ---- the final report ----
rc=0
at "$FINAL" "$CONVENE" -c "$T/convene.conf" report makers --html "$T/final.html" \
	--chart "$T/final.png" >"$T/final.txt" || rc=$?
expect_eq "report with --html and --chart exits 0" 0 "$rc"
check "--chart writes the PNG" grep -q "PNG" <(head -c 8 "$T/final.png")
check "--html writes the HTML part" grep -q "<h3>Activity, week by week" "$T/final.html"
sed -n '/^Threads without an answer/,/^$/p' "$T/final.txt" | sed -n 's/^  [0-9]*  [0-9-]*  \(Q[0-9]*-0: [^(]*\) (.*/\1/p' |
	sed 's/ *$//' | sort >"$T/listed.txt"
json unanswered | sort >"$T/expected-unanswered.txt"
check "every thread unanswered after 48 hours is listed, and no other" \
	cmp "$T/expected-unanswered.txt" "$T/listed.txt"
expect_eq "15 of them" 15 "$(wc -l <"$T/listed.txt" | tr -d ' ')"
n=0
while IFS= read -r s; do
	grep -qF "$s (" "$T/final.txt" && n=$((n + 1))
done < <(json answered)
expect_eq "no answered thread is listed (of $(json answered | wc -l))" 0 "$n"
check "a thread answered after 55 hours is not listed" bash -c "! grep -q 'Q901-0' '$T/final.txt'"
check "a thread 30 hours old is not listed yet" bash -c "! grep -q 'Q900-0' '$T/final.txt'"
unans=$(sed -n '/^Threads without an answer/,/^$/p' "$T/final.txt" | sed -n 's/^  [0-9]*  \([0-9-]*\) .*/\1/p')
expect_eq "oldest first" "$(sort <<<"$unans")" "$unans"
silent=$(sed -n '/^Not posted yet:/,/^Posted once/p' "$T/final.txt")
for a in $(json silent); do
	check "newcomer $a who never posted is listed" grep -q "m[0-9]*  $a, joined" <<<"$silent"
done
check "a member who joined 40 days ago is no newcomer" bash -c "! grep -q '$(json old_silent)' '$T/final.txt'"
once=$(sed -n '/^Posted once, nothing since:/,/^$/p' "$T/final.txt")
check "the newcomer who posted once is listed as such" grep -q "$(json once)" <<<"$once"
top=$(sed -n '/^Helpers:/{n;p}' "$T/final.txt")
check "the top helper is the member who answered most ($(json top_helper))" \
	grep -qE "^  m[0-9]+  .*<$(json top_helper)>: $(json top_helper_answers) answers$" <<<"$top"
check "the share of the 5 most active members" grep -qE "^The 5 most active members wrote [0-9]+% of the [0-9]+ posts" "$T/final.txt"
check "who answers whom" grep -q "^  Bob <bob@example.org> answered " "$T/final.txt"
check "the median time to a first answer" grep -qE "median 2h \([0-9]+ of [0-9]+ answered\)" "$T/final.txt"

# ---- by mail on its schedule ----
at "$(date -u -d "${FINAL% *} 07:50" '+%F %T')" "$CONVENE" -c "$T/convene.conf" run --once >/dev/null
expect_eq "nothing before the report's time" 0 "$(outbox_count)"
at "$(date -u -d "${FINAL% *} 08:01" '+%F %T')" "$CONVENE" -c "$T/convene.conf" run --once >/dev/null
expect_eq "the report went out at its time (one transaction)" 1 "$(outbox_count)"
R=$T/report.eml
cp "$T/outbox/new/$(outbox_files | head -1)" "$R"
expect_eq "to the sponsors, leaders and council" "alice@example.org dana@example.org erin@example.org" \
	"$(outbox_rcpts | tr '\n' ' ' | sed 's/ $//')"
check "replies go to the request address" grep -qx "Reply-To: makers-request@lists.example.org" "$R"
python3 "$PY/report.py" parts "$R" "$T/parts" >"$T/parts.txt"
check "multipart/alternative: text, then HTML with the chart" \
	diff <(awk '{print $1}' "$T/parts.txt") <(printf '%s\n' multipart/alternative text/plain multipart/related text/html image/png)
check "text part: sparklines" grep -q "Posts         [▁▂▃▄▅▆▇█]\{12\}  " "$T/parts/text.txt"
check "text part: the alert" grep -q "ALERT: activity is dwindling" "$T/parts/text.txt"
cid=$(awk '$1 == "image/png" {print $2}' "$T/parts.txt")
check "the HTML shows the chart by its Content-ID" grep -q "src=\"${cid/@/_}.png\"" "$T/parts/report.html"
read -r w h colours < <(python3 "$PY/report.py" png "$T/parts/${cid/@/_}.png")
expect_eq "the PNG decodes: 600 x 240" "600 240" "$w $h"
check "...and is drawn (more than 3 colours: $colours)" test "$colours" -gt 3
if command -v file >/dev/null; then
	check "file(1) reads it as a PNG" grep -q "PNG image data, 600 x 240" <(file "$T/parts/${cid/@/_}.png")
fi
rm -f "$T"/outbox/new/*
at "$(date -u -d "${FINAL% *} 08:20" '+%F %T')" "$CONVENE" -c "$T/convene.conf" run --once >/dev/null
expect_eq "once a week: nothing more at 08:20" 0 "$(outbox_count)"

# ---- the nudge: once a day, to the leaders, only when a thread waits ----
at "$(date -u -d "${FINAL% *} 08:31" '+%F %T')" "$CONVENE" -c "$T/convene.conf" run --once >/dev/null
expect_eq "one nudge (the quiet list has none)" 1 "$(outbox_count)"
N=$T/outbox/new/$(outbox_files | head -1)
expect_eq "to the leaders" "alice@example.org" "$(outbox_rcpts | tr '\n' ' ' | sed 's/ $//')"
check "the nudge lists the thread that passed 48 hours this week" grep -q "Q303-0: workshop opening hours" "$N"
check "...and not one that passed it weeks ago" bash -c "! grep -q 'Q227-0' '$N'"
rm -f "$T"/outbox/new/*
at "$(date -u -d "${FINAL% *} 12:00" '+%F %T')" "$CONVENE" -c "$T/convene.conf" run --once >/dev/null
expect_eq "no second nudge the same day" 0 "$(outbox_count)"

# ---- mutt in tmux: the text part is readable ----
if command -v mutt >/dev/null && command -v tmux >/dev/null && have_pty; then
	mkdir -p "$T/mutt/cur" "$T/mutt/new" "$T/mutt/tmp"
	sed '/^X-Convene-Envelope-/d' "$R" >"$T/mutt/new/1.report"
	printf 'set folder=%s\nset spoolfile=%s\nset record=/dev/null\nset mbox_type=Maildir\nset charset=utf-8\nset pager_index_lines=0\n' \
		"$T/mutt" "$T/mutt" >"$T/muttrc"
	SESSION=convene-t330-$$
	tmux new-session -d -s "$SESSION" -x 132 -y 60 \
		"env TERM=xterm LANG=C.UTF-8 HOME=$T mutt -n -F $T/muttrc -f $T/mutt"
	trap 'tmux kill-session -t "$SESSION" 2>/dev/null; cleanup' EXIT
	screen_has() {
		local i
		for i in $(seq 1 100); do
			tmux capture-pane -t "$SESSION" -p >"$T/screen.txt" 2>/dev/null
			grep -qF -- "$1" "$T/screen.txt" && return 0
			sleep 0.1
		done
		return 1
	}
	check "mutt lists the report" screen_has "how the community is doing"
	tmux send-keys -t "$SESSION" Enter
	check "mutt shows the text part" screen_has "ALERT: activity is dwindling"
	check "...with the sparklines" screen_has "Posts         "
	check "...and the unanswered threads" screen_has "Q227-0: 3D printer bed"
	tmux send-keys -t "$SESSION" q q
	tmux kill-session -t "$SESSION" 2>/dev/null
else
	echo "# SKIP mutt: mutt, tmux or a pseudo-terminal missing: not read in mutt"
fi

# ---- headless chromium: the HTML part with its chart ----
if command -v chromium >/dev/null; then
	chrome() {
		timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic \
			--no-first-run --disable-background-networking --disable-component-update \
			--disable-sync --user-data-dir="$T/chromium" "$@" 2>/dev/null
	}
	sed 's|</body>|<script>window.onload = function () { var i = document.images[0]; document.body.setAttribute("data-chart", i.naturalWidth + "x" + i.naturalHeight); };</script></body>|' \
		"$T/parts/report.html" >"$T/parts/check.html"
	chrome --dump-dom "file://$T/parts/check.html" >"$T/dom.html"
	check "chromium loads the chart: 600x240" grep -q 'data-chart="600x240"' "$T/dom.html"
	check "chromium shows the alert" grep -q "ALERT: activity is dwindling" "$T/dom.html"
	chrome --screenshot="$T/shot.png" --window-size=900,1200 "file://$T/parts/report.html" >/dev/null
	check "chromium's screenshot of the report" test -s "$T/shot.png"
else
	echo "# chromium missing: HTML not rendered"
fi

# ---- acting by reply ----
rm -f "$T"/outbox/new/*
# mail MSG-FILE FROM BODY: a reply to the report at NAME-request.
n=0
reply() {
	n=$((n + 1))
	printf 'From: %s\nTo: makers-request@lists.example.org\nSubject: Re: makers: how the community is doing\nMessage-ID: <act-%d@example.org>\nIn-Reply-To: <report@example>\nDate: Wed, 12 Nov 2025 10:00:00 +0000\n\n%b\n\n> How makers@lists.example.org is doing\n' \
		"$1" "$n" "$2" >"$T/act-$n.eml"
	at "$(date -u -d "${FINAL% *} 10:0$n" '+%F %T')" "$CONVENE" -c "$T/convene.conf" receive \
		--recipient makers-request@lists.example.org <"$T/act-$n.eml" >>"$T/receive.out" 2>&1
	at "$(date -u -d "${FINAL% *} 10:0$n:30" '+%F %T')" "$CONVENE" -c "$T/convene.conf" run --once >/dev/null
}
subjects() { for f in $(outbox_files); do header "$T/outbox/new/$f" Subject; done; }
tid=$(sed -n 's/^  \([0-9]*\)  [0-9-]*  Q227-0: .*/\1/p' "$T/final.txt")
m_n1=$(sed -n 's/^  \(m[0-9]*\)  n1@example.org, joined.*/\1/p' "$T/final.txt")
m_top=$(sed -n 's/^  \(m[0-9]*\)  .*/\1/p' <<<"$top")
reply "M01 <m01@example.org>" "remind $tid\nwelcome $m_n1\nthank bob@example.org"
expect_eq "a member's remind, welcome, thank: only the answer to the member" \
	"m01@example.org" "$(outbox_rcpts | sort -u | tr '\n' ' ' | sed 's/ $//')"
check "...which says only leaders may" grep -q "Only the leaders of makers@lists.example.org remind, welcome and thank" $T/outbox/new/*
rm -f "$T"/outbox/new/*
reply "Alice <alice@example.org>" "remind $tid"
expect_eq "a leader's remind: one message to the members, and the answer" 2 "$(outbox_count)"
expect_eq "...one still-open post" 1 "$(subjects | grep -c "Still open: Q227-0: 3D printer bed")"
S=$(grep -l "^Subject: \[makers\] Still open" $T/outbox/new/*)
check "...in the thread (In-Reply-To the question)" grep -q "^In-Reply-To: <d227-0@example.org>" "$S"
check "...to every member" grep -q "X-Convene-Envelope-To: <m23@example.org>" "$S"
check "...quoting the question" grep -q "^> How do I get the 3D printer bed right? Day 227." "$S"
check "...with the list's header fields" grep -q "^List-Id: " "$S"
rm -f "$T"/outbox/new/*
reply "Alice <alice@example.org>" "welcome $m_n1"
expect_eq "a leader's welcome: one message to the newcomer, and the answer" \
	"alice@example.org n1@example.org" "$(outbox_rcpts | tr '\n' ' ' | sed 's/ $//')"
check "...the invitation to post" grep -q "Welcome to makers@lists.example.org: tell us about you" $(outbox_for n1@example.org)
rm -f "$T"/outbox/new/*
reply "Alice <alice@example.org>" "thank $m_top"
expect_eq "a leader's thanks: one message to the helper, and the answer" \
	"alice@example.org bob@example.org" "$(outbox_rcpts | tr '\n' ' ' | sed 's/ $//')"
check "...the thank-you" grep -q "Subject: Thank you for your answers" $(outbox_for bob@example.org)
rm -f "$T"/outbox/new/*
reply "Alice <alice@example.org>" "remind $tid\nthank $m_top"
expect_eq "the same acts again the same day: only the answer" "alice@example.org" \
	"$(outbox_rcpts | sort -u | tr '\n' ' ' | sed 's/ $//')"
expect_eq "each act is an event" "1 1 1" \
	"$(for k in remind welcome thank; do sql "SELECT count(*) FROM events WHERE kind = 'report.$k'"; done | tr '\n' ' ' | sed 's/ $//')"
rm -f "$T"/outbox/new/*
reply "M01 <m01@example.org>" "experts laser cutter"
A=$(outbox_for m01@example.org)
first_expert=$(grep -A1 "^Members who answered most in the" "$A" | tail -1)
check "experts on the laser cutter names $(json laser_expert) first" \
	grep -q "<$(json laser_expert)>: [0-9]* answers" <<<"$first_expert"
finish
