#!/bin/bash
# bench/archive/run.sh - the archive side by side with notmuch 0.37
# (Debian's package) on the same messages, in one run.
#
# usage: bench/archive/run.sh        (about a minute on 2 cores)
#
# The messages: every file of the shared corpus's threads/ folders and
# every message of its mbox files, one file each in a Maildir (cur/), split
# by Python's mailbox (untimed). Both programs get that Maildir; both keep a
# message once per Message-ID.
#
#   index   convene: `convene archive bench import MAILDIR` into a fresh
#           database (parse, thread, FTS5 index, one process);
#           notmuch: `notmuch new` into a fresh database (Xapian).
#   search  one word, whole process: `convene archive bench search WORD`
#           against `notmuch search WORD`; hit counts (threads and
#           messages) for a few words, compared.
#   links   the share of the References graph's reply links that
#           convene's threads found, for the real list archives of the
#           corpus (lkml, notmuch-list, the majordomo mbox), each imported
#           into a list of its own (bench/archive/links.py).
#
# The runs alternate (notmuch first in odd rounds, convene first in even
# ones); the tables give medians of $ROUNDS index runs and $SEARCHES search
# runs, and `uptime` before and after. Clock: bench/benchclock.c (wall time
# until every descendant exited, CPU time, peak RSS).
#
# Environment: CONVENE (default ./convene of this tree: build it with -O2
# for figures), CORPUS (default ../shared/corpus/threads), ROUNDS (5),
# SEARCHES (21), WORD (the timed word, "semicolon"), WORDS (the words whose
# hit counts are compared), WORK_ROOT ($TMPDIR or /tmp), KEEP=1 keeps the
# work folder. Nothing runs in the background; nothing leaves this machine.
set -u
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
: "${CONVENE:=$top/convene}"
: "${CORPUS:=$top/../shared/corpus/threads}"
: "${ROUNDS:=5}"
: "${SEARCHES:=21}"
: "${WORD:=semicolon}"
: "${WORDS:=semicolon cache mutex thread tags plywood}"
: "${WORK_ROOT:=${TMPDIR:-/tmp}}"

die() { echo "run.sh: $*" >&2; exit 1; }
[ -x "$CONVENE" ] || die "no convene at $CONVENE (build it first)"
[ -d "$CORPUS" ] || die "no corpus at $CORPUS"
command -v notmuch >/dev/null || die "notmuch is not installed"
command -v python3 >/dev/null || die "python3 is not installed"

W=$(mktemp -d "$WORK_ROOT/convene-archive-bench.XXXXXX")
cleanup() { [ -n "${KEEP:-}" ] && echo "# kept $W" || rm -rf "$W"; }
trap cleanup EXIT
CLOCK=$W/benchclock
gcc -O2 -Wall -Wextra -Werror -o "$CLOCK" "$here/../benchclock.c" ||
	die "cannot build benchclock"

# ---- the messages ----
mkdir -p "$W/mail/cur" "$W/mail/new" "$W/mail/tmp"
python3 - "$CORPUS" "$W" <<'EOP' || die "cannot split the corpus"
import mailbox, os, shutil, sys
src, w = sys.argv[1], sys.argv[2]
n = 0
def put(data, folder):
    global n
    n += 1
    for d in (w + '/mail/cur', folder):
        with open('%s/%05d.eml' % (d, n), 'wb') as f:
            f.write(data)
for root, dirs, files in sorted(os.walk(src)):
    dirs.sort()
    for name in sorted(files):
        path = os.path.join(root, name)
        real = {'lkml': 'lkml', 'notmuch-list': 'notmuch-list',
                'magick-list-2000.mbox': 'magick'}.get(
                    name if name.endswith('.mbox') else os.path.basename(root),
                    'other')
        folder = w + '/real/' + real
        os.makedirs(folder, exist_ok=True)
        with open(path, 'rb') as f:
            head = f.read(5)
        if head == b'From ':
            box = mailbox.mbox(path)
            for key in box.keys():
                put(box.get_bytes(key), folder)
        else:
            with open(path, 'rb') as f:
                put(f.read(), folder)
print('# %d message files' % n)
EOP
files=$(ls "$W/mail/cur" | wc -l)

cat >"$W/convene.conf" <<EOC
domain = "lists.example.org";
database = "$W/convene.db";
templates = "$top/templates";
outbound = { transport = "maildir"; path = "$W/outbox"; };
limits = { max_message_kb = 10240; };
lists = (
  { name = "bench"; leaders = [ "admin@example.org" ]; },
  { name = "lkml"; leaders = [ "admin@example.org" ]; },
  { name = "notmuch"; leaders = [ "admin@example.org" ]; },
  { name = "magick"; leaders = [ "admin@example.org" ]; }
);
EOC
cat >"$W/notmuch-config" <<EOC
[database]
path=$W/mail
[user]
name=Bench
primary_email=bench@example.org
[new]
tags=
ignore=
[search]
exclude_tags=
[maildir]
synchronize_flags=false
EOC
export NOTMUCH_CONFIG=$W/notmuch-config
cv() { "$CONVENE" -c "$W/convene.conf" "$@"; }

# clock NAME CMD...: one timed run; appends "NAME wall cpu rss" to times.
clock() {
	local name=$1
	shift
	"$CLOCK" -o "$W/clock.out" -i /dev/null -- "$@" >/dev/null 2>"$W/last.err" ||
		die "$name failed: $(tail -3 "$W/last.err")"
	grep -q '^rc=0$' "$W/clock.out" || die "$name failed: $(tail -3 "$W/last.err")"
	awk -F= -v n="$name" '
		$1 == "wall_s" { w = $2 } $1 == "utime_s" { u = $2 }
		$1 == "stime_s" { s = $2 } $1 == "maxrss_kb" { r = $2 }
		END { printf "%s %s %.3f %s\n", n, w, u + s, r }' \
		"$W/clock.out" >>"$W/times"
}
median() { awk -v n="$1" '$1 == n { print $'"${2:-2}"' }' "$W/times" |
	sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "# load before: $(uptime)"
: >"$W/times"

# ---- index ----
index_notmuch() { rm -rf "$W/mail/.notmuch"; clock notmuch-new notmuch new --quiet; }
index_convene() { rm -f "$W"/convene.db*; clock convene-import "$CONVENE" -c "$W/convene.conf" archive bench import "$W/mail"; }
for r in $(seq 1 "$ROUNDS"); do
	if [ $((r % 2)) -eq 1 ]; then index_notmuch; index_convene
	else index_convene; index_notmuch; fi
done
imported=$(cv archive bench import "$W/mail")    # a no-op: all there
nm_msgs=$(notmuch count '*')
cv_msgs=$(sqlite3 "$W/convene.db" "SELECT count(*) FROM archive WHERE list = 'bench'")

# ---- search ----
for r in $(seq 1 "$SEARCHES"); do
	if [ $((r % 2)) -eq 1 ]; then
		clock notmuch-search notmuch search "$WORD"
		clock convene-search "$CONVENE" -c "$W/convene.conf" archive bench search "$WORD"
	else
		clock convene-search "$CONVENE" -c "$W/convene.conf" archive bench search "$WORD"
		clock notmuch-search notmuch search "$WORD"
	fi
done
echo "# load after: $(uptime)"

# ---- what they found ----
{
	echo "word | notmuch threads | convene threads | notmuch messages | convene messages"
	echo "---|---|---|---|---"
	for w in $WORDS; do
		nt=$(notmuch search --output=threads "$w" | wc -l)
		nm=$(notmuch count "$w")
		line=$(cv archive bench search "$w" 2>&1 >/dev/null | tail -1)
		ct=$(printf '%s' "$line" | sed -n 's/^\([0-9]*\) threads.*/\1/p')
		cm=$(printf '%s' "$line" | sed -n 's/.*(\([0-9]*\) messages).*/\1/p')
		echo "$w | $nt | ${ct:-0} | $nm | ${cm:-0}"
	done
} >"$W/hits.md"

# ---- reply links of the real archives ----
for l in lkml notmuch magick; do
	d=$W/real/$l
	[ "$l" = notmuch ] && d=$W/real/notmuch-list
	cv archive "$l" import "$d" >/dev/null
	echo "$l: $(python3 "$here/links.py" "$W/convene.db" "$l" "$d" | head -3 | tr '\n' ';')"
done >"$W/links.txt"

# ---- tables ----
nw=$(median notmuch-new); cw=$(median convene-import)
ns=$(median notmuch-search); cs=$(median convene-search)
echo
echo "## Archive index and search: convene vs notmuch $(notmuch --version | cut -d' ' -f2)"
echo
echo "$files message files from the corpus's threads ($nm_msgs distinct for notmuch, $cv_msgs for convene); medians of $ROUNDS index runs and $SEARCHES search runs, alternated."
echo
echo "| task | notmuch wall s | convene wall s | convene/notmuch | notmuch CPU s | convene CPU s | notmuch RSS kB | convene RSS kB |"
echo "|---|---|---|---|---|---|---|---|"
printf '| index (notmuch new / archive import) | %s | %s | %.2f | %s | %s | %s | %s |\n' \
	"$nw" "$cw" "$(echo "$cw / $nw" | bc -l)" "$(median notmuch-new 3)" \
	"$(median convene-import 3)" "$(median notmuch-new 4)" "$(median convene-import 4)"
printf '| search "%s" (whole process) | %s | %s | %.2f | %s | %s | %s | %s |\n' \
	"$WORD" "$ns" "$cs" "$(echo "$cs / $ns" | bc -l)" "$(median notmuch-search 3)" \
	"$(median convene-search 3)" "$(median notmuch-search 4)" "$(median convene-search 4)"
echo
echo "### Hits"
echo
cat "$W/hits.md"
echo
echo "### Reply links found (References graph of the real archives)"
echo
sed 's/^/    /' "$W/links.txt"
echo
echo "RESULT index_notmuch_s=$nw index_convene_s=$cw search_notmuch_s=$ns search_convene_s=$cs"
