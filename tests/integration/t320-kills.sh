#!/bin/bash
# Kill test: receive and run killed with SIGKILL at random moments while
# the MTA hands posts (with and without Message-ID) over again and again;
# then a clean run to the end. Every post is archived once and reaches
# every member; the only duplicates are of transactions a killed worker had
# in flight (one session: at most one transaction per kill); nothing is
# left in outbox/tmp; the database is sound. receive and the worker run
# on a slow disk (tests/helpers/faults.so sleeps before each fsync), so
# that on a fast machine too the kills land while work is in flight.
. "$(dirname "$0")/lib.sh"

FAULTS=$top_builddir/tests/helpers/faults.so
[ -f "$FAULTS" ] || { echo "# $FAULTS not built"; exit 1; }
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0"

RANDOM=20261130              # the same "random" moments on every run
MEMBERS=24
POSTS=8
MAX_RCPT=5 write_config
sed -i 's/max_rcpt_per_txn = [0-9]*;/& connections = 1;/' "$T/convene.conf"
i=0
while [ $i -lt $MEMBERS ]; do
	i=$((i + 1))
	echo "k$i@example.org"
done >"$T/members.txt"
add_members $(cat "$T/members.txt")

# kill_after MS CMD...: runs CMD in the background and kills it with
# SIGKILL after MS milliseconds (below 1000); prints its exit status (137
# when the kill landed). The delays are drawn by the caller: $RANDOM does
# not advance in a $(...) subshell.
kill_after() {
	local ms=$1 pid rc=0
	shift
	"$@" >/dev/null 2>&1 &
	pid=$!
	sleep "$(printf '0.%03d' "$ms")"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" || rc=$?
	echo "$rc"
}
# (exec: the process killed is convene itself, not a subshell around it)
receive_one() {
	FAULT_CALL=fsync FAULT_DELAY_US=8000 FAULT_PATH="$T" \
		LD_PRELOAD="$FAULTS" exec "$CONVENE" -c "$T/convene.conf" \
		receive --recipient makers@lists.example.org <"$1"
}
run_once() {
	FAULT_CALL=fsync FAULT_DELAY_US=8000 FAULT_PATH="$T" \
		LD_PRELOAD="$FAULTS" exec "$CONVENE" -c "$T/convene.conf" run --once
}

# post N [noid]: the Nth post, without a Message-ID for "noid".
make_post() {
	{
		printf 'From: k1@example.org\nTo: makers@lists.example.org\n'
		printf 'Subject: post %d\nDate: Mon, 30 Nov 2026 10:%02d:00 +0000\n' "$1" "$1"
		[ "${2:-}" = noid ] || printf 'Message-ID: <kill-%d@example.org>\n' "$1"
		printf '\nThis is post %d.\n' "$1"
	} >"$T/post-$1.eml"
}

receive_kills=0 run_kills=0
n=0
while [ $n -lt $POSTS ]; do
	n=$((n + 1))
	if [ $((n % 2)) -eq 0 ]; then make_post $n noid; else make_post $n; fi
	# The MTA hands it over until it hears 0 (a kill or a 75 is a retry);
	# each attempt is killed at a random moment, the last few are not.
	attempt=0
	while :; do
		attempt=$((attempt + 1))
		if [ $attempt -le 4 ]; then
			rc=$(kill_after $((RANDOM % 40)) receive_one "$T/post-$n.eml")
		else
			rc=0
			(receive_one "$T/post-$n.eml") >/dev/null 2>&1 || rc=$?
		fi
		[ "$rc" = 137 ] && receive_kills=$((receive_kills + 1))
		# even a 0 is handed over again now and then: the MTA may
		# never have seen it
		if [ "$rc" = 0 ] && [ $((RANDOM % 3)) -ne 0 ]; then
			break
		fi
		[ $attempt -lt 12 ] || break
	done
	# The worker, killed at random moments.
	k=0
	while [ $k -lt 3 ]; do
		k=$((k + 1))
		rc=$(kill_after $((RANDOM % 150)) run_once)
		[ "$rc" = 137 ] && run_kills=$((run_kills + 1))
	done
done
echo "# $receive_kills receive and $run_kills run processes killed"

# To the end, without kills (the retry schedule's first wait is passed).
cv run --once >/dev/null 2>&1
CONVENE_NOW=$(( $(date +%s) + 3600 )) "$CONVENE" -c "$T/convene.conf" run --once >/dev/null 2>&1
CONVENE_NOW=$(( $(date +%s) + 7200 )) "$CONVENE" -c "$T/convene.conf" run --once >/dev/null 2>&1

check "some receive processes were killed ($receive_kills)" test "$receive_kills" -gt 0
check "some workers were killed ($run_kills)" test "$run_kills" -gt 0
expect_eq "every post archived once" "$POSTS" "$(sql "SELECT count(*) FROM archive")"
expect_eq "...and queued once" "$POSTS" "$(sql "SELECT count(*) FROM jobs WHERE kind = 'post'")"
expect_eq "...each job done" "$POSTS" "$(sql "SELECT count(*) FROM jobs WHERE kind = 'post' AND state = 'done'")"

# copies: "SUBJECT RCPT" for every delivered copy of a post.
for f in $(outbox_files); do
	awk -v f="$T/outbox/new/$f" '
		/^X-Convene-Envelope-To: </ { sub(/^X-Convene-Envelope-To: </, ""); sub(/>$/, ""); r[++n] = $0; next }
		/^Subject: (\[makers\] )?post / { s = $0; sub(/^Subject: (\[makers\] )?/, "", s) }
		/^$/ { if (s != "") { for (i = 1; i <= n; i++) print s "|" r[i] }; exit }' \
		"$T/outbox/new/$f"
done | sort >"$T/copies"
missing=0
n=0
while [ $n -lt $POSTS ]; do
	n=$((n + 1))
	while read -r m; do
		grep -qx "post $n|$m" "$T/copies" || missing=$((missing + 1))
	done <"$T/members.txt"
done
expect_eq "every post reached every member" 0 "$missing"
dups=$(uniq -d -c "$T/copies" | awk '{ d += $1 - 1 } END { print d + 0 }')
echo "# $dups duplicate copies"
check "duplicates only of transactions in flight at a kill ($dups <= $run_kills x 5)" \
	test "$dups" -le $((run_kills * 5))
expect_eq "nothing left in outbox/tmp" "" "$(ls -A "$T/outbox/tmp")"
expect_eq "the database is sound" ok "$(sql "PRAGMA integrity_check")"
finish
