#!/bin/bash
# Posts are archived in the transaction that accepts them and threaded and
# indexed a moment later, many at a time (archive_catch_up): the accepting
# transaction writes no thread node and no full-text entry; the worker (one
# pass, or the daemon) catches up; whatever reads threads or the index
# first (a search by mail, the command line) sees every post accepted
# before it; and the threads come out exactly as when each message is
# threaded on arrival (an import, which threads at once).
. "$(dirname "$0")/lib.sh"

A=$top_srcdir/tests/fixtures/archive
chmod 0755 "$T"
# (as root the daemon below runs as nobody)
CONVENE=$(readable_copy "$CONVENE")
write_config "archive = { access = \"public\"; };" "templates = \"$(readable_copy "$top_srcdir/templates")\";"
sed -i '0,/^templates = "[^"]*";$/{/^templates = "[^"]*";$/d}' "$T/convene.conf"
add_members alice@example.org bob@example.net carol@example.com dan@example.com erin@example.org
pending() { sql "SELECT count(*) FROM archive_pending"; }
nodes() { sql "SELECT count(*) FROM thread_nodes"; }
indexed() { sql "SELECT count(*) FROM archive_fts"; }
# shape DB: each archived message with its parent's and its thread's
# Message-ID, the way a reader sees the tree.
shape() {
	sqlite3 "$1" "SELECT a.message_id, coalesce(p.message_id, '-'), coalesce(t.message_id, '-')
		FROM archive a LEFT JOIN archive p ON p.id = a.parent
		LEFT JOIN archive t ON t.id = a.thread ORDER BY a.message_id" | tr '\n' ' '
}

# ---- accepting writes neither thread nodes nor index entries ----
order="laser-1 laser-3 laser-2 laser-outlook soldering-html"
for f in $order; do
	expect_eq "$f accepted" 0 "$(post "$A/$f.eml")"
done
expect_eq "five posts archived" 5 "$(sql "SELECT count(*) FROM archive")"
expect_eq "...five waiting to be threaded" 5 "$(pending)"
expect_eq "...no thread node written while accepting" 0 "$(nodes)"
expect_eq "...no full-text entry written while accepting" 0 "$(indexed)"

# ---- one pass of the worker threads and indexes them all ----
run_once() { cv run --once >/dev/null 2>&1; }
check "run --once" run_once
expect_eq "nothing waits after a pass" 0 "$(pending)"
expect_eq "...five entries in the index" 5 "$(indexed)"
root=$(sql "SELECT id FROM archive WHERE message_id = 'laser-1@example.org'")
expect_eq "...the laser thread has its four posts" 4 "$(sql "SELECT messages FROM threads WHERE id = $root")"

# ---- the same messages imported (threaded one by one, at once) ----
mkdir "$T/import" "$T/imp"
i=0
for f in $order; do i=$((i + 1)); cp "$A/$f.eml" "$T/import/0$i-$f.eml"; done
sed 's|database = "convene.db";|database = "imp.db";|; s|path = "outbox"|path = "imp"|' "$T/convene.conf" >"$T/imp.conf"
check "the same messages imported into another database" \
	"$CONVENE" -c "$T/imp.conf" archive makers import "$T/import"
expect_eq "the import threads at once (nothing waits)" 0 "$(sqlite3 "$T/imp.db" "SELECT count(*) FROM archive_pending")"
deferred=$(shape "$T/convene.db")
expect_eq "threaded later, the tree is the one threading on arrival gives" "$(shape "$T/imp.db")" "$deferred"
check "...and it is a tree (a reply below its parent)" grep -q "laser-3@example.com|laser-2@example.net|laser-1@example.org" <<<"$deferred"

# ---- a search by mail sees the post accepted just before it ----
printf 'From: Carol <carol@example.com>\nTo: makers@lists.example.org\nSubject: Kiln schedule\nMessage-ID: <kiln-1@example.com>\nDate: Sat, 10 Feb 2024 09:00:00 +0000\n\nThe glaze kiln fires on Thursdays.\n' >"$T/kiln.eml"
expect_eq "a new post accepted" 0 "$(post "$T/kiln.eml")"
expect_eq "...waits to be threaded" 1 "$(pending)"
printf 'From: Dan <dan@example.com>\nTo: makers-request@lists.example.org\nSubject: search\nMessage-ID: <ask-1@example.com>\n\nsearch glaze kiln\n' >"$T/ask.eml"
expect_eq "a search by mail right after it" 0 "$(post "$T/ask.eml" makers-request@lists.example.org)"
expect_eq "...threaded what waited first" 0 "$(pending)"
kiln=$(sql "SELECT id FROM archive WHERE message_id = 'kiln-1@example.com'")
run_once
answer=$(grep -l "^To: .*dan@example.com" "$T"/outbox/new/* 2>/dev/null | xargs grep -l "thread $kiln" 2>/dev/null | head -1)
check "...and its answer names the new post's thread" test -n "$answer"

# ---- the command line sees it too ----
printf 'From: Bob <bob@example.net>\nTo: makers@lists.example.org\nSubject: Lathe belts\nMessage-ID: <lathe-1@example.net>\nDate: Sat, 10 Feb 2024 10:00:00 +0000\n\nThe lathe needs new belts, size 4L.\n' >"$T/lathe.eml"
post "$T/lathe.eml" >/dev/null
expect_eq "another post waits" 1 "$(pending)"
check "convene archive search finds it at once" sh -c "'$CONVENE' -c '$T/convene.conf' archive makers search lathe belts | grep -q 'Lathe belts'"
expect_eq "...having threaded it" 0 "$(pending)"

# ---- the daemon catches up between its delivery passes ----
duser=()
if [ "$(id -u)" = 0 ]; then
	duser=(--user nobody)
	chown -R nobody "$T"
fi
"$CONVENE" -c "$T/convene.conf" run "${duser[@]}" >"$T/daemon.out" 2>&1 &
WPID=$!
CLEANUP_PIDS="$WPID"
printf 'From: Alice <alice@example.org>\nTo: makers@lists.example.org\nSubject: Bandsaw blade\nMessage-ID: <saw-1@example.org>\nDate: Sat, 10 Feb 2024 11:00:00 +0000\n\nThe bandsaw blade snapped.\n' >"$T/saw.eml"
if [ "$(id -u)" = 0 ]; then
	runuser -u nobody -- "$CONVENE" -c "$T/convene.conf" receive --recipient makers@lists.example.org <"$T/saw.eml"
else
	post "$T/saw.eml" >/dev/null
fi
for _ in $(seq 1 200); do [ "$(pending)" = 0 ] && break; sleep 0.1; done
expect_eq "the daemon threaded it" 0 "$(pending)"
expect_eq "...and indexed it" 1 "$(sql "SELECT count(*) FROM archive_fts WHERE archive_fts MATCH 'bandsaw'")"
kill "$WPID"; wait "$WPID" 2>/dev/null
finish
