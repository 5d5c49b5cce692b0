#!/bin/bash
# Fault injection (tests/helpers/faults.so, an LD_PRELOAD shim): open,
# write, fsync and rename fail with ENOSPC or EIO at each point of receive
# and of a delivery pass, one point per run. receive exits 75 with nothing
# committed (or 0 with everything, when the fault came after the commit),
# and the MTA's retry is accepted once; the worker loses no recipient, and
# its retry delivers each once (a fault in the database after a
# transaction went out may repeat that one transaction, never more).
. "$(dirname "$0")/lib.sh"

FAULTS=$top_builddir/tests/helpers/faults.so
[ -f "$FAULTS" ] || { echo "# $FAULTS not built"; exit 1; }
# An AddressSanitizer build wants its runtime first among the libraries.
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0"
MAX_RCPT=2 write_config
add_members m1@example.org m2@example.org m3@example.org m4@example.org \
	m5@example.org
# The database's file alone holds it all once the WAL is checkpointed
# (receive leaves that to the worker).
checkpoint() { sql "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null; }
checkpoint
cp "$T/convene.db" "$T/base.db"
MEMBERS="m1@example.org m2@example.org m3@example.org m4@example.org m5@example.org"

# with_fault FAMILY AT ERRNO PATH STICKY CMD...: runs CMD with the shim.
with_fault() {
	local fam=$1 at=$2 err=$3 path=$4 sticky=$5
	shift 5
	FAULT_CALL=$fam FAULT_AT=$at FAULT_ERRNO=$err FAULT_PATH=$path \
		FAULT_STICKY=$sticky FAULT_REPORT="$T/report" \
		LD_PRELOAD="$FAULTS" "$@"
}
reset_db() { rm -f "$T"/convene.db*; cp "$1" "$T/convene.db"; }
receive_post() { "$CONVENE" -c "$T/convene.conf" receive --recipient makers@lists.example.org <"$FIXTURES/post-alice.eml" >/dev/null 2>&1; }
run_once() { "$CONVENE" -c "$T/convene.conf" run --once >/dev/null 2>&1; }
# points FAMILY PATH CMD...: how many calls of FAMILY on PATH CMD makes.
points() {
	local fam=$1 path=$2
	shift 2
	rm -f "$T/report"
	with_fault "$fam" 0 ENOSPC "$path" 0 "$@"
	awk -v f="$fam" '$1 == f { n += $2 } END { print n + 0 }' "$T/report"
}
hit() { grep -q ' hit$' "$T/report" 2>/dev/null; }

# ---- receive ----
for fam in open write fsync rename; do
	reset_db "$T/base.db"
	n=$(points "$fam" "$T/" receive_post)
	echo "# receive: $n $fam calls"
	for err in ENOSPC EIO; do
		bad=0 hits=0 i=1
		while [ "$i" -le "$n" ]; do
			reset_db "$T/base.db"
			rm -f "$T/report"
			rc=0
			with_fault "$fam" "$i" "$err" "$T/" 0 receive_post || rc=$?
			hit && hits=$((hits + 1))
			got=$(sql "SELECT count(*) FROM archive") 
			case "$rc:$got" in
			75:0|0:1) ;;
			*) bad=$((bad + 1)); echo "# $fam $i $err: exit $rc, $got archived" ;;
			esac
			# the MTA retries (again, if we had said 0)
			rc=0
			receive_post || rc=$?
			if [ "$rc" != 0 ] ||
			   [ "$(sql "SELECT count(*) FROM archive")" != 1 ] ||
			   [ "$(sql "SELECT count(*) FROM jobs")" != 1 ] ||
			   [ "$(sql "PRAGMA integrity_check")" != ok ]; then
				bad=$((bad + 1))
				echo "# $fam $i $err: the retry did not end with one post"
			fi
			i=$((i + 1))
		done
		expect_eq "receive, $fam fails ($err) at each of its $n points ($hits hit): 75 and nothing, or 0 and all; the retry once" 0 "$bad"
	done
done

# ---- a delivery pass ----
reset_db "$T/base.db"
receive_post
checkpoint
cp "$T/convene.db" "$T/queued.db"
# deliver_check LABEL: the final clean runs deliver the rest; each member
# has the post, duplicates only within one transaction ($2: allowed).
copies() {
	local m
	for m in $MEMBERS; do
		echo "$(outbox_rcpts | grep -cx "$m")"
	done | tr '\n' ' '
}
finish_and_count() {
	CONVENE_NOW=$(( $(date +%s) + 86400 )) run_once
	CONVENE_NOW=$(( $(date +%s) + 2 * 86400 )) run_once
}
for where in outbox convene.db; do
	for fam in open write fsync rename; do
		reset_db "$T/queued.db"
		rm -rf "$T/outbox"
		n=$(points "$fam" "$T/$where" run_once)
		echo "# run --once ($where): $n $fam calls"
		[ "$n" -gt 0 ] || continue
		for err in ENOSPC EIO; do
			bad=0 hits=0 i=1
			while [ "$i" -le "$n" ]; do
				reset_db "$T/queued.db"
				rm -rf "$T/outbox"
				rm -f "$T/report"
				with_fault "$fam" "$i" "$err" "$T/$where" 0 run_once
				hit && hits=$((hits + 1))
				finish_and_count
				c=$(copies)
				total=0 missing=0
				for k in $c; do
					total=$((total + k))
					[ "$k" -ge 1 ] || missing=$((missing + 1))
				done
				dup=$((total - 5))
				if [ "$missing" -ne 0 ] ||
				   { [ "$where" = outbox ] && [ "$dup" -ne 0 ]; } ||
				   [ "$dup" -gt 2 ] ||
				   [ -n "$(ls -A "$T/outbox/tmp" 2>/dev/null)" ] ||
				   [ "$(sql "SELECT state FROM jobs")" != done ]; then
					bad=$((bad + 1))
					echo "# $where $fam $i $err: copies $c, tmp: $(ls "$T/outbox/tmp" 2>/dev/null | wc -l), job $(sql "SELECT state FROM jobs")"
				fi
				i=$((i + 1))
			done
			expect_eq "delivery, $fam on $where fails ($err) at each of its $n points ($hits hit): nobody lost, $( [ $where = outbox ] && echo 'nobody twice' || echo 'at most one transaction twice')" 0 "$bad"
		done
	done
done

# A disk that stays full: every write to the outbox fails; the job waits,
# and once there is room each member gets the post once.
reset_db "$T/queued.db"
rm -rf "$T/outbox"
rc=0
with_fault write 1 ENOSPC "$T/outbox" 1 "$CONVENE" -c "$T/convene.conf" run --once >/dev/null 2>&1 || rc=$?
expect_eq "outbox full: the job waits" queued "$(sql "SELECT state FROM jobs")"
expect_eq "...nothing in new/" 0 "$(outbox_count)"
finish_and_count
expect_eq "...once there is room, each member once" "1 1 1 1 1 " "$(copies)"
finish
