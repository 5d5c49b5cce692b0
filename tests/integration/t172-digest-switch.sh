#!/bin/bash
# t172-digest-switch - members switch delivery modes by mail in the middle
# of a digest period, also between a post's acceptance and its delivery:
# each post reaches each member exactly once, by the mode the member had
# when the post was accepted. sam writes "set digest" and later "set
# immediate" (his own issue holds just the posts of his digest time), tom
# "set digest" (his issue: the posts from his switch on), una "set
# immediate" from digest (her issue: the posts before her switch); dora
# (digest) and ivan (immediate) do not switch. Each switch is confirmed by
# the member's reply (as every "set" is).
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || { echo "python3 is not installed"; exit 77; }
DIGEST_PY="$top_srcdir/tests/integration/digest.py"

write_config 'digest = { schedule = "daily 07:00"; };'
add_members "Alice Example <alice@example.org>" sam@example.org tom@example.org \
	una@example.org dora@example.org ivan@example.org
cv members makers set una@example.org digest >/dev/null
cv members makers set dora@example.org digest >/dev/null

# post N: post number N from alice.
post_n() {
	printf 'From: Alice Example <alice@example.org>\nTo: makers@lists.example.org\nSubject: Post %s\nMessage-ID: <p%s@example.org>\nDate: Mon, 30 Nov 2026 08:0%s:00 +0000\n\nThis is post %s.\n' \
		"$1" "$1" "$1" "$1" >"$T/p$1.eml"
	expect_eq "post $1 accepted" 0 "$(post "$T/p$1.eml")"
}
# command FROM SUBJECT BODY: a mail to makers-request.
command() {
	printf 'From: %s\nTo: makers-request@lists.example.org\nSubject: %s\nMessage-ID: <cmd-%s@example.org>\n\n%s\n' \
		"$1" "$2" "$RANDOM$RANDOM" "$3" >"$T/cmd.eml"
	expect_eq "$1: '$2 $3' accepted" 0 \
		"$(post "$T/cmd.eml" makers-request@lists.example.org)"
	case "$2 $3" in *set*) confirm_set "$1" ;; esac
}
# confirm_set ADDR: ADDR answers the confirmation of its "set" at once
# (before the worker runs: the token is read where the mail would carry
# it), as a member does by reply.
confirm_set() {
	local tok
	tok=$(sql "SELECT token FROM sub_requests WHERE address = '$1' AND kind = 'set' AND state = 'confirm' ORDER BY id DESC LIMIT 1")
	printf 'From: %s\nTo: makers-confirm+%s@lists.example.org\nSubject: Re: confirm %s\nMessage-ID: <yes-%s@example.org>\n\nyes\n' \
		"$1" "$tok" "$tok" "$RANDOM$RANDOM" >"$T/yes.eml"
	expect_eq "$1 confirms by reply" 0 \
		"$(post "$T/yes.eml" "makers-confirm+$tok@lists.example.org")"
}
mode() { sql "SELECT mode FROM members WHERE address = '$1'"; }
run() { cv run --once >>"$T/run.out" 2>&1; }

post_n 1
run
post_n 2
# The switches come after post 2 is accepted and before it is delivered.
command sam@example.org "" "set digest"
command tom@example.org "set digest" ""
command una@example.org "" "set immediate"
expect_eq "sam is in digest mode" digest "$(mode sam@example.org)"
expect_eq "una is in immediate mode" immediate "$(mode una@example.org)"
run
post_n 3
post_n 4
run
post_n 5
command sam@example.org "" "set immediate"
expect_eq "sam is back in immediate mode" immediate "$(mode sam@example.org)"
run
post_n 6
run
out=$(cv digest makers send 2>&1)
check "digest sent: one main job, three own issues ($out)" \
	sh -c "echo '$out' | grep -q 'queued with 6 post(s): job [1-9][0-9]* (digest), job 0 (digest-plain), 3 own issue'"
run

# received ADDR: "immediate: p1 p2 ... | digest: p3 p4 ..." from the outbox.
received() {
	local f imm="" dig="" sub mid
	for f in $(outbox_for "$1"); do
		sub=$(header "$f" Subject)
		mid=$(header "$f" Message-ID)
		case $sub in
		"makers Digest"*)
			dig="$dig $(python3 "$DIGEST_PY" mime "$f" | cut -f1 | sed 's/^<\(p[0-9]*\)@.*/\1/' | tr '\n' ' ')" ;;
		*)
			case $mid in
			"<p"[0-9]*"@example.org>") imm="$imm $(sed 's/^<\(p[0-9]*\)@.*/\1/' <<<"$mid")" ;;
			esac ;;
		esac
	done
	echo "immediate:$(tr ' ' '\n' <<<"$imm" | sed '/^$/d' | sort | tr '\n' ' ' | sed 's/ $//') | digest:$(tr ' ' '\n' <<<"$dig" | sed '/^$/d' | sort | tr '\n' ' ' | sed 's/ $//')"
}
expect_eq "sam: his digest time in his own issue, the rest alone" \
	"immediate:p1 p2 p6 | digest:p3 p4 p5" "$(received sam@example.org)"
expect_eq "tom: from his switch on in the digest" \
	"immediate:p1 p2 | digest:p3 p4 p5 p6" "$(received tom@example.org)"
expect_eq "una: before her switch in the digest, then alone" \
	"immediate:p3 p4 p5 p6 | digest:p1 p2" "$(received una@example.org)"
expect_eq "dora (digest throughout): all six in the digest" \
	"immediate: | digest:p1 p2 p3 p4 p5 p6" "$(received dora@example.org)"
expect_eq "ivan (immediate throughout): all six alone" \
	"immediate:p1 p2 p3 p4 p5 p6 | digest:" "$(received ivan@example.org)"
for a in sam@example.org tom@example.org una@example.org dora@example.org; do
	n=0
	for f in $(outbox_for "$a"); do
		case $(header "$f" Subject) in "makers Digest"*) n=$((n + 1)) ;; esac
	done
	expect_eq "$a: one digest" 1 "$n"
done
# The own issues are the same issue: same Subject, the posts a subset.
expect_eq "sam's issue is Vol 1, Issue 1" "makers Digest, Vol 1, Issue 1" \
	"$(for f in $(outbox_for sam@example.org); do header "$f" Subject; done | grep Digest)"
check "sam's answers said what changed" sh -c \
	"grep -l 'Delivery for sam@example.org is now: digest' '$T'/outbox/new/* >/dev/null && grep -l 'Delivery for sam@example.org is now: immediate' '$T'/outbox/new/* >/dev/null"

# A second period: nobody switches; everyone in a digest mode is in the
# one job again, and nobody gets an own issue.
rm -f "$T"/outbox/new/*
post_n 7
run
out=$(cv digest makers send 2>&1)
check "second issue: no own issues ($out)" sh -c "echo '$out' | grep -q ', 0 own issue'"
run
expect_eq "tom: post 7 in the digest" "immediate: | digest:p7" "$(received tom@example.org)"
expect_eq "sam: post 7 alone" "immediate:p7 | digest:" "$(received sam@example.org)"
expect_eq "dora and tom share the one stored issue" \
	"$(header "$(outbox_for dora@example.org)" Message-ID)" "$(header "$(outbox_for tom@example.org)" Message-ID)"

finish
