#!/bin/bash
# t171-digest-schedule - when issues go out, with faketime moving the clock:
# the schedule trigger on time (daily 07:00 Europe/Berlin, not a minute
# before), the size triggers early (max_messages, max_kb; a backlog goes
# out in several issues), nothing for an empty day, a weekly schedule, and a
# new volume with the new year.
. "$(dirname "$0")/lib.sh"

command -v faketime >/dev/null ||
	{ echo "faketime is not installed (scripts/install-deps.sh installs it)"; exit 77; }
command -v python3 >/dev/null || { echo "python3 is not installed"; exit 77; }
DIGEST_PY="$top_srcdir/tests/integration/digest.py"

# at 'YYYY-MM-DD hh:mm:ss' COMMAND...: runs COMMAND with the clock at that
# UTC time (libfaketime; an ASan build must let it load first).
at() {
	local when=$1
	shift
	TZ=UTC ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		faketime "$when" "$@"
}

# scenario NAME DIGEST-SETTINGS: a fresh list "makers" in its own folder
# (config, database, outbox) with a digest member d@ and an immediate one
# i@; the helpers below work on it.
scenario() {
	D=$T/$1
	mkdir -p "$D"
	cat >"$D/convene.conf" <<EOC
domain = "lists.example.org";
database = "convene.db";
templates = "$top_srcdir/templates";
outbound = { transport = "maildir"; path = "outbox"; };
lists = ( { name = "makers"; policy = "open"; leaders = [ "alice@example.org" ];
            digest = { $2 }; } );
EOC
	"$CONVENE" -c "$D/convene.conf" members makers add --quiet \
		d@example.org i@example.org >/dev/null
	"$CONVENE" -c "$D/convene.conf" members makers set d@example.org digest >/dev/null
}
n=0
# post_at TIME [BODY-BYTES]: a new post at TIME.
post_at() {
	local rc=0 pad=${2:-0}
	n=$((n + 1))
	{
		printf 'From: Poster %d <p%d@example.org>\nTo: makers@lists.example.org\n' "$n" "$n"
		printf 'Subject: Post number %d\nMessage-ID: <sched-%d@example.org>\n' "$n" "$n"
		printf 'Date: Tue, 1 Dec 2026 04:00:00 +0000\n\nPost %d.\n' "$n"
		if [ "$pad" -gt 0 ]; then
			head -c "$pad" /dev/zero | tr '\0' 'x' | fold -w 70
			echo
		fi
	} >"$D/post-$n.eml"
	at "$1" "$CONVENE" -c "$D/convene.conf" receive --recipient makers@lists.example.org \
		<"$D/post-$n.eml" >>"$D/receive.out" 2>&1 || rc=$?
	expect_eq "post $n at $1 accepted" 0 "$rc"
}
run_at() { at "$1" "$CONVENE" -c "$D/convene.conf" run --once >>"$D/run.out" 2>&1; }
dsql() { sqlite3 "$D/convene.db" "$@"; }
issues() { dsql "SELECT number || ':' || messages || ':' || reason FROM digest_issues ORDER BY id" | tr '\n' ' ' | sed 's/ $//'; }
next_due() { dsql "SELECT next_due FROM digest_state"; }
epoch() { TZ=UTC date -d "$1" +%s; }
# to ADDR: the outbox files of D with ADDR as a recipient.
to() { grep -lx "X-Convene-Envelope-To: <$1>" "$D"/outbox/new/* 2>/dev/null; }
count_to() { to "$1" | wc -l | tr -d ' '; }
nfiles() { ls "$D/outbox/new" 2>/dev/null | wc -l | tr -d ' '; }

# ---- the schedule: 07:00 in Berlin is 06:00 UTC in December ----
scenario sched 'schedule = "daily 07:00"; timezone = "Europe/Berlin";'
post_at "2026-12-01 04:00:00"
post_at "2026-12-01 04:30:00"
run_at "2026-12-01 04:35:00"
expect_eq "before 07:00 Berlin: no digest" "" "$(issues)"
expect_eq "the next issue is due at 07:00 Berlin (06:00 UTC)" \
	"$(epoch '2026-12-01 06:00:00')" "$(next_due)"
run_at "2026-12-01 05:59:30"
expect_eq "at 06:59:30 Berlin: still none" "" "$(issues)"
expect_eq "the immediate member got both posts meanwhile" 2 "$(count_to i@example.org)"
expect_eq "the digest member got nothing yet" 0 "$(count_to d@example.org)"
run_at "2026-12-01 06:00:20"
expect_eq "at 07:00:20 Berlin: Issue 1 with the 2 posts, on schedule" "1:2:schedule" "$(issues)"
f=$(to d@example.org)
expect_eq "the digest member has it" "makers Digest, Vol 1, Issue 1" "$(header "$f" Subject)"
expect_eq "it holds the 2 posts" "<sched-1@example.org> <sched-2@example.org>" \
	"$(python3 "$DIGEST_PY" mime "$f" | cut -f1 | tr '\n' ' ' | sed 's/ $//')"
run_at "2026-12-01 06:05:00"
expect_eq "a second pass that day sends nothing more" "1:2:schedule" "$(issues)"
post_at "2026-12-01 09:00:00"
run_at "2026-12-01 12:00:00"
expect_eq "a post after the issue waits for the next day" "1:2:schedule" "$(issues)"
run_at "2026-12-02 06:00:10"
expect_eq "next day 07:00 Berlin: Issue 2" "1:2:schedule 2:1:schedule" "$(issues)"

# ---- an empty day sends nothing ----
rm -f "$D"/outbox/new/*
run_at "2026-12-03 06:00:10"
expect_eq "empty day: no issue" "1:2:schedule 2:1:schedule" "$(issues)"
expect_eq "empty day: nothing sent to anyone" 0 "$(nfiles)"
expect_eq "empty day: the next issue is due the day after" \
	"$(epoch '2026-12-04 06:00:00')" "$(next_due)"
run_at "2026-12-04 06:00:10"
expect_eq "another empty day: still nothing" 0 "$(nfiles)"

# ---- a new year starts a new volume ----
post_at "2026-12-31 20:00:00"
run_at "2027-01-01 06:00:10"
expect_eq "the first issue of 2027 is Vol 2, Issue 1" "makers Digest, Vol 2, Issue 1" \
	"$(header "$(to d@example.org)" Subject)"

# ---- max_messages: early, and a backlog in several issues ----
scenario size 'schedule = "daily 07:00"; max_messages = 3;'
post_at "2026-12-01 10:00:00"
post_at "2026-12-01 10:01:00"
run_at "2026-12-01 10:02:00"
expect_eq "two posts of max_messages 3: nothing yet" "" "$(issues)"
post_at "2026-12-01 10:03:00"
run_at "2026-12-01 10:04:00"
expect_eq "the third post fills it: Issue 1 at 10:04, long before 07:00" "1:3:size" "$(issues)"
for i in 1 2 3 4 5 6 7; do post_at "2026-12-01 11:00:0$i"; done
run_at "2026-12-01 11:01:00"
expect_eq "seven more: two full issues at once" "1:3:size 2:3:size 3:3:size" "$(issues)"
expect_eq "one post waits" 1 "$(dsql "SELECT count(*) FROM digest_items WHERE issue IS NULL")"
run_at "2026-12-02 06:59:50"
expect_eq "it waits until 07:00" "1:3:size 2:3:size 3:3:size" "$(issues)"
run_at "2026-12-02 07:00:10"
expect_eq "it goes at 07:00 with the schedule" "1:3:size 2:3:size 3:3:size 4:1:schedule" "$(issues)"
expect_eq "the digest member got the four issues" 4 "$(count_to d@example.org)"
expect_eq "the immediate member got the 10 posts alone, no digest" 10 "$(count_to i@example.org)"

# ---- max_kb: two posts of about 700 bytes: the first goes alone ----
scenario kb 'schedule = "daily 07:00"; max_kb = 1;'
post_at "2026-12-01 10:00:00" 600
run_at "2026-12-01 10:00:30"
expect_eq "one post under max_kb: nothing" "" "$(issues)"
post_at "2026-12-01 10:01:00" 600
run_at "2026-12-01 10:01:30"
expect_eq "over max_kb: an issue early with what fits (the first post)" "1:1:size" "$(issues)"
expect_eq "the second post waits" 1 "$(dsql "SELECT count(*) FROM digest_items WHERE issue IS NULL")"

# ---- weekly mon 07:00 (UTC) ----
scenario week 'schedule = "weekly mon 07:00";'
post_at "2026-12-02 12:00:00"
run_at "2026-12-06 23:59:00"
expect_eq "weekly: nothing on Sunday" "" "$(issues)"
expect_eq "weekly: due on Monday 07:00" "$(epoch '2026-12-07 07:00:00')" "$(next_due)"
run_at "2026-12-07 06:59:00"
expect_eq "weekly: not at 06:59 on Monday" "" "$(issues)"
run_at "2026-12-07 07:00:30"
expect_eq "weekly: Monday 07:00" "1:1:schedule" "$(issues)"
expect_eq "weekly: then the Monday after" "$(epoch '2026-12-14 07:00:00')" "$(next_due)"

finish
