#!/bin/sh
# Bounces: VERP and DSN attribution, scores (one a day, soft fractions,
# decay), disabling at the threshold, probes, re-enabling by reply and by
# hand, removal after unanswered probes; auto-replies and non-members
# dropped; nothing is ever answered back to a bounce. The reports are of
# mail the list sent: tagged VERP return paths taken from delivered posts,
# and plain reports within days of a post (t190 shows forged ones
# counting for nothing).
. "$(dirname "$0")/lib.sh"

B=$top_srcdir/tests/fixtures/bounces
DAY=86400
T0=1741000000                        # a fixed day (2025-03-03)
at() { echo $((T0 + $1 * DAY)); }    # at N: N days later

write_config 'bounces = { threshold = 3.0; soft_weight = 0.25; decay_after = "7d"; probes = 2; probe_interval = "3d"; };'
sed -i 's/max_rcpt_per_txn = [0-9]*;/& verp = "per-recipient";/' "$T/convene.conf"
CONVENE_NOW=$(at -1) add_members bob@example.net carol@example.com frank@example.org
check "config with bounces validates" sh -c "'$CONVENE' -c '$T/convene.conf' check >/dev/null 2>&1"

# bounce FILE DAY [RECIPIENT]: receive at a given day; prints the exit code.
bounce() {
	local rc=0
	CONVENE_NOW=$(at "$2") "$CONVENE" -c "$T/convene.conf" receive \
		--recipient "${3:-makers-bounces@lists.example.org}" <"$1" \
		>>"$T/receive.out" 2>&1 || rc=$?
	echo "$rc"
}
score() { sql "SELECT bounce_score FROM members WHERE address = '$1'"; }
status() { sql "SELECT status FROM members WHERE address = '$1'"; }
jobs() { sql "SELECT count(*) FROM jobs"; }
run_at() {
	CONVENE_NOW=$(at "$1") "$CONVENE" -c "$T/convene.conf" run --once \
		>>"$T/run.out" 2>&1 || not_ok "run --once at day $1"
}

# send_post DAY: a list post that day, delivered (VERP per recipient).
np=0
send_post() {
	np=$((np + 1))
	sed "s/workshop-1@/sent-$np@/" "$FIXTURES/post-alice.eml" >"$T/sent-$np.eml"
	CONVENE_NOW=$(at "$1") "$CONVENE" -c "$T/convene.conf" receive \
		--recipient makers@lists.example.org <"$T/sent-$np.eml" \
		>>"$T/receive.out" 2>&1 || not_ok "post at day $1"
	run_at "$1"
}
# verp_of ADDR: the return path of the last mail delivered to ADDR.
verp_of() {
	header "$(outbox_for "$1" | tail -1)" X-Convene-Envelope-From | tr -d '<>'
}

# A VERP bounce raises that member's score; a second one that day does not.
send_post 0
verp_bob=$(verp_of bob@example.net)
check "the post went out with bob's tagged return path ($verp_bob)" \
	sh -c "echo '$verp_bob' | grep -Eqx 'makers-bounces\+[0-9a-f]{20}\.bob=example\.net@lists\.example\.org'"
jobs0=$(jobs)
expect_eq "VERP bounce exits 0" 0 "$(bounce "$B/postfix-dsn.eml" 0 "$verp_bob")"
expect_eq "...bob's score is 1" 1.0 "$(score bob@example.net)"
expect_eq "...no other member scored" "0.0 0.0" "$(score carol@example.com) $(score frank@example.org)"
ext=${verp_bob#makers-bounces+}
ext=$(echo "${ext%@lists.example.org}" | tr a-z A-Z)
expect_eq "again the same day" 0 "$(bounce "$B/postfix-dsn.eml" 0 "makers-bounces+$ext@lists.example.org")"
expect_eq "...one score per day (VERP case-mangled)" 1.0 "$(score bob@example.net)"
expect_eq "...both bounces recorded" 2 "$(sql "SELECT count(*) FROM bounce_events WHERE address = 'bob@example.net'")"
expect_eq "nothing queued in answer" "$jobs0" "$(jobs)"

# A delay notice is soft: it adds the soft weight, never a hard point.
expect_eq "delay notice exits 0" 0 "$(bounce "$B/delay-dsn.eml" 1 "$(verp_of carol@example.com)")"
expect_eq "...soft: carol's score is 0.25" 0.25 "$(score carol@example.com)"
expect_eq "...recorded as soft" "soft|4.4.1" "$(sql "SELECT severity || '|' || status FROM bounce_events WHERE address = 'carol@example.com'")"

# Auto-replies and feedback reports at the bounce address are dropped.
expect_eq "auto-reply exits 0" 0 "$(bounce "$B/autoreply.eml" 1 "$verp_bob")"
expect_eq "feedback report exits 0" 0 "$(bounce "$B/feedback.eml" 1)"
expect_eq "...neither scored" 1.0 "$(score bob@example.net)"
check "auto-reply logged" grep -q "message-id=<ooo-1@example.net>.*dropped: auto-reply" "$CONVENE_LOG_FILE"

# Bounces for non-members: logged and dropped, never kept nor answered.
expect_eq "bounce for a non-member exits 0" 0 "$(bounce "$B/qmail.eml" 1)"
expect_eq "VERP for a non-member exits 0" 0 "$(bounce "$B/postfix-dsn.eml" 1 makers-bounces+zed=example.com@lists.example.org)"
check "non-member logged" grep -q "message-id=<qmail-1@mail.example.com>: dropped: bounce for a non-member <dave@example.com>" "$CONVENE_LOG_FILE"
expect_eq "...nothing kept" 0 "$(sql "SELECT count(*) FROM inbox")"
expect_eq "...nothing queued" "$jobs0" "$(jobs)"

# Three hard bounces on three days disable bob (plain bounce address: the
# DSN names him, and the list sent him mail on day 0); the probe and the
# leaders' notice go out.
rm -f "$T"/outbox/new/*
expect_eq "day 2 bounce" 0 "$(bounce "$B/postfix-dsn.eml" 2)"
expect_eq "...score 2" 2.0 "$(score bob@example.net)"
expect_eq "...still active" active "$(status bob@example.net)"
expect_eq "day 3 bounce" 0 "$(bounce "$B/postfix-dsn.eml" 3)"
expect_eq "...score 3" 3.0 "$(score bob@example.net)"
expect_eq "...disabled" disabled "$(status bob@example.net)"
run_at 3
probe=$(outbox_for bob@example.net)
check "the probe went to bob" test -n "$probe"
token=$(sed -n 's/^Reply-To: makers-confirm+\([0-9a-f]\{32\}\)@lists.example.org$/\1/p' "$probe")
check "...with a re-enable token in Reply-To" test -n "$token"
check "...sent with bob's tagged VERP return path" sh -c "echo '$(header "$probe" X-Convene-Envelope-From)' | grep -Eqx '<makers-bounces\+[0-9a-f]{20}\.bob=example\.net@lists\.example\.org>'"
verp_probe=$(header "$probe" X-Convene-Envelope-From | tr -d '<>')
check "leaders told" test -n "$(outbox_for alice@example.org)"
check "...about bob" grep -q "bob@example.net" "$(outbox_for alice@example.org)"
check "nothing ever went back to a bounce's sender" sh -c "! grep -rqi 'Envelope-To: <mailer-daemon' '$T/outbox/new'"

# A disabled member gets no list mail.
rm -f "$T"/outbox/new/*
sed 's/workshop-1@/w2@/' "$FIXTURES/post-alice.eml" >"$T/post2.eml"
export CONVENE_NOW=$(at 3)
expect_eq "a post" 0 "$(post "$T/post2.eml")"
unset CONVENE_NOW
run_at 3
expect_eq "...not to disabled bob" "" "$(outbox_for bob@example.net)"
check "...but to carol" test -n "$(outbox_for carol@example.com)"

# The probe bouncing back (a bounce of our bounce notice) is recorded only.
jobs_before=$(jobs)
expect_eq "probe bounce exits 0" 0 "$(bounce "$B/postfix-dsn.eml" 4 "$verp_probe")"
expect_eq "...nothing queued" "$jobs_before" "$(jobs)"
expect_eq "...score unchanged" 3.0 "$(score bob@example.net)"

# A reply to the probe re-enables.
printf 'From: Bob <bob@example.net>\nTo: makers-confirm+%s@lists.example.org\nSubject: Re: bouncing\nMessage-ID: <re-probe@example.net>\n\nyes please\n' "$token" >"$T/reply.eml"
expect_eq "probe reply exits 0" 0 "$(post "$T/reply.eml" "makers-confirm+$token@lists.example.org")"
expect_eq "...bob active again" "active 0.0" "$(status bob@example.net) $(score bob@example.net)"
expect_eq "...token used up" 0 "$(post "$T/reply.eml" "makers-confirm+$token@lists.example.org")"
check "...second use logged as unknown" grep -q "message-id=<re-probe@example.net>.*unknown or used confirmation token" "$CONVENE_LOG_FILE"

# carol: hard prose bounces (Exim) on three days, then two unanswered
# probes: removed, leaders told.
for d in 10 11 12; do bounce "$B/exim.eml" $d >/dev/null; done
expect_eq "carol disabled after three hard days (the old soft score decayed)" "disabled 3.0" "$(status carol@example.com) $(score carol@example.com)"
rm -f "$T"/outbox/new/*
run_at 12
check "probe 1 to carol" test -n "$(outbox_for carol@example.com)"
rm -f "$T"/outbox/new/*
run_at 14
expect_eq "no probe before the interval" "" "$(outbox_for carol@example.com)"
run_at 15
check "probe 2 after the interval" test -n "$(outbox_for carol@example.com)"
rm -f "$T"/outbox/new/*
run_at 18
expect_eq "carol removed after the last unanswered probe" 0 "$(sql "SELECT count(*) FROM members WHERE address = 'carol@example.com'")"
check "...leaders told" grep -q "removed" "$(outbox_for alice@example.org)"
expect_eq "...her bounce record went with her" 0 "$(sql "SELECT count(*) FROM bounce_state WHERE address = 'carol@example.com'")"

# Decay: frank's score goes back to 0 after a quiet week.
send_post 20
bounce "$B/postfix-dsn.eml" 20 "$(verp_of frank@example.org)" >/dev/null
expect_eq "frank scored" 1.0 "$(score frank@example.org)"
run_at 26
expect_eq "...not decayed within the week" 1.0 "$(score frank@example.org)"
run_at 28
expect_eq "...decayed after a quiet week" 0.0 "$(score frank@example.org)"

# Re-enabling by hand; export shows status and score.
sql "UPDATE members SET status = 'disabled', bounce_score = 3 WHERE address = 'frank@example.org'"
check "export shows disabled" sh -c "'$CONVENE' -c '$T/convene.conf' members makers export | grep -q 'frank@example.org.*disabled'"
expect_eq "enable exits 0" 0 "$(cv members makers enable frank@example.org >/dev/null 2>&1; echo $?)"
expect_eq "...frank active, score 0" "active 0.0" "$(status frank@example.org) $(score frank@example.org)"
expect_eq "enable of a non-member exits 67" 67 "$(cv members makers enable nobody@example.org >/dev/null 2>&1; echo $?)"

# A message that is no report at all stays for a human, unanswered.
expect_eq "plain mail to the bounce address exits 0" 0 "$(bounce "$FIXTURES/nonmember.eml" 28)"
expect_eq "...kept" 1 "$(sql "SELECT count(*) FROM inbox WHERE kind = 'bounces'")"

# Bad config is reported with its line.
write_config 'bounces = { threshold = "high"; soft_weight = 2.0; probe_interval = "soon"; };'
out=$("$CONVENE" -c "$T/convene.conf" check 2>&1)
check "bad threshold reported with file:line" sh -c "printf '%s' \"\$1\" | grep -q 'convene.conf:[0-9]*:.*bounces.threshold'" _ "$out"
check "bad soft_weight reported" sh -c "printf '%s' \"\$1\" | grep -q 'soft_weight'" _ "$out"
check "bad probe_interval reported" sh -c "printf '%s' \"\$1\" | grep -q 'probe_interval'" _ "$out"
finish
