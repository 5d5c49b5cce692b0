#!/bin/sh
# Forged bounce reports change no score: plain reports naming 150 members
# on three days, untagged VERP reports day after day, wrong, borrowed and
# stale tags. A real bounce of mail convene sent still counts: one to the
# tagged return path of a delivered post, and a plain report about a member
# the list wrote to that week.
. "$(dirname "$0")/lib.sh"

DAY=86400
T0=1741000000
at() { echo $((T0 + $1 * DAY)); }

write_config 'bounces = { threshold = 3.0; probes = 2; probe_interval = "3d"; };'
sed -i 's/max_rcpt_per_txn = [0-9]*;/& verp = "per-recipient";/' "$T/convene.conf"
i=0
while [ $i -lt 150 ]; do
	i=$((i + 1))
	echo "m$i@example.org"
done >"$T/members.txt"
CONVENE_NOW=$(at -1) add_members $(cat "$T/members.txt")

# dsn FILE RCPT...: a delivery status report naming each RCPT as failed.
dsn() {
	f=$1
	shift
	{
		printf 'From: MAILER-DAEMON@mx.example.net\nTo: makers-bounces@lists.example.org\n'
		printf 'Subject: Undelivered Mail Returned to Sender\nMessage-ID: <%s@mx.example.net>\n' "$(basename "$f")"
		printf 'MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n'
		printf -- '--b\nContent-Type: text/plain\n\nYour message could not be delivered.\n\n'
		printf -- '--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n'
		for r in "$@"; do
			printf '\nFinal-Recipient: rfc822; %s\nAction: failed\nStatus: 5.1.1\n' "$r"
		done
		printf -- '--b--\n'
	} >"$f"
}
# bounce FILE DAY RCPT: receive at a given day; prints the exit code.
bounce() {
	local rc=0
	CONVENE_NOW=$(at "$2") "$CONVENE" -c "$T/convene.conf" receive \
		--recipient "$3" <"$1" >>"$T/receive.out" 2>&1 || rc=$?
	echo "$rc"
}
run_at() {
	CONVENE_NOW=$(at "$1") "$CONVENE" -c "$T/convene.conf" run --once \
		>>"$T/run.out" 2>&1 || not_ok "run --once at day $1"
}
scored() { sql "SELECT count(*) FROM members WHERE bounce_score > 0"; }
disabled() { sql "SELECT count(*) FROM members WHERE status <> 'active'"; }
score() { sql "SELECT bounce_score FROM members WHERE address = '$1'"; }

# Plain reports naming every member, on three days.
dsn "$T/all.eml" $(cat "$T/members.txt")
for d in 0 1 2; do
	expect_eq "forged plain report, day $d: exit 0" 0 \
		"$(bounce "$T/all.eml" $d makers-bounces@lists.example.org)"
	run_at $d
done
expect_eq "...no member scored" 0 "$(scored)"
expect_eq "...none disabled" 0 "$(disabled)"
check "...logged as not counted" grep -q \
	"not counted: a report for <m1@example.org> without a VERP tag" "$CONVENE_LOG_FILE"

# Untagged VERP reports for m1 every day for eleven days.
dsn "$T/m1.eml" m1@example.org
d=0
while [ $d -le 11 ]; do
	bounce "$T/m1.eml" $d makers-bounces+m1=example.org@lists.example.org >/dev/null
	run_at $d
	d=$((d + 1))
done
expect_eq "untagged VERP for eleven days: m1 unscored" 0.0 "$(score m1@example.org)"
expect_eq "...still a member, active" active "$(sql "SELECT status FROM members WHERE address = 'm1@example.org'")"

# A post goes out on day 12: real return paths with their tags (not to m3,
# who takes no mail).
cv members makers set m3@example.org nomail >/dev/null
sed 's/workshop-1@/real-1@/' "$FIXTURES/post-alice.eml" >"$T/real.eml"
CONVENE_NOW=$(at 12) "$CONVENE" -c "$T/convene.conf" receive \
	--recipient makers@lists.example.org <"$T/real.eml" >/dev/null 2>&1
run_at 12
verp_of() { header "$(outbox_for "$1" | tail -1)" X-Convene-Envelope-From | tr -d '<>'; }
v2=$(verp_of m2@example.org)
tag2=$(echo "$v2" | sed -n 's/^makers-bounces+\([0-9a-f]\{20\}\)\..*/\1/p')
check "m2's return path carries a tag ($v2)" test -n "$tag2"

# Wrong and borrowed tags change nothing (for a member the list did not
# write to: for one it did, a report without a good tag is believed).
dsn "$T/m3.eml" m3@example.org
expect_eq "a made-up tag: exit 0" 0 "$(bounce "$T/m3.eml" 12 makers-bounces+0123456789abcdef0123.m3=example.org@lists.example.org)"
expect_eq "m2's tag with m3's address: exit 0" 0 "$(bounce "$T/m3.eml" 12 "makers-bounces+$tag2.m3=example.org@lists.example.org")"
expect_eq "...m3 unscored by the tags" 0.0 "$(score m3@example.org)"
check "...logged as a wrong tag" grep -q "a report for <m3@example.org> with a wrong or old VERP tag" "$CONVENE_LOG_FILE"

# The real bounce: m2's own tagged return path.
dsn "$T/m2.eml" m2@example.org
expect_eq "real bounce to m2's tagged return path" 0 "$(bounce "$T/m2.eml" 12 "$v2")"
expect_eq "...counts" 1.0 "$(score m2@example.org)"
# A plain report about m4, to whom the list wrote that day, counts too.
dsn "$T/m4.eml" m4@example.org
expect_eq "plain report about a member written to lately" 0 "$(bounce "$T/m4.eml" 13 makers-bounces@lists.example.org)"
expect_eq "...counts" 1.0 "$(score m4@example.org)"

# m2's tag two weeks later, after nothing more was sent: too old.
expect_eq "a tag 15 days old" 0 "$(bounce "$T/m2.eml" 27 "$v2")"
expect_eq "...does not count" 1.0 "$(score m2@example.org)"
finish
