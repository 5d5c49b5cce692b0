#!/bin/bash
# t293-meeting-mutt - what members see of a meeting in mutt (in tmux), and
# answers written with it: the invitation lists as "[makers] Invitation",
# its text part shows the time in the list's zone and how to answer, the
# attachment menu holds the text/calendar part; mutt's reply to it goes to
# NAME-rsvp+ID@ and one word ("yes" above mutt's quote, "no" from another
# member) counts once each in the headcount the leader asks for; the
# confirmation arrives; the minutes a leader sends reach the list (the
# member reads them in mutt) and the archive's thread of the meeting
# (convene archive ... thread, and the search).
. "$(dirname "$0")/lib.sh"
set -u

for tool in mutt tmux; do
	command -v "$tool" >/dev/null ||
		{ echo "$tool is not installed (scripts/install-deps.sh installs it)"; exit 77; }
done
# (tmux needs a pseudo-terminal; a chroot without /dev/pts has none, and
# this test is all mutt)
have_pty || { echo "no pseudo-terminal can be opened: mutt cannot run in tmux"; exit 77; }

write_config 'meetings = { timezone = "Europe/Berlin"; };'
add_members alice@example.org "Bob Builder <bob@example.net>" carol@example.com
flush() { cv run --once >/dev/null 2>&1; }

out=$(cv meeting makers schedule title="Repair café" when="2031-03-27 19:00" \
	duration=90m where="Makerspace, Main St 5" capacity=2 2>/dev/null)
expect_eq "scheduled by the CLI" "meeting 1: scheduled, invitations queued" "$out"
flush

# ---- mutt: a maildir per member, sendmail a script that keeps what mutt sends ----

# mutt_for ADDR: a maildir with ADDR's outbox mail (envelope lines taken
# off) and a muttrc that answers as ADDR; "yes"/"no" is the first line of
# the reply the editor writes (WORD file).
mutt_for() {
	local a=$1 M=$T/mutt-$1 f i=0
	rm -rf "$M"
	mkdir -p "$M/box/cur" "$M/box/new" "$M/box/tmp" "$M/sent"
	for f in $(outbox_for "$a"); do
		i=$((i + 1))
		sed '/^X-Convene-Envelope-/d' "$f" >"$M/box/new/$i.msg"
	done
	cat >"$M/sendmail" <<EOF
#!/bin/sh
# mutt's sendmail: the message and its recipients (after "--").
n=\$(ls "$M/sent" | wc -l)
while [ \$# -gt 0 ] && [ "\$1" != "--" ]; do shift; done
[ "\$1" = "--" ] && shift
printf '%s\n' "\$@" >"$M/sent/\$n.rcpt"
cat >"$M/sent/\$n.eml"
EOF
	cat >"$M/editor" <<EOF
#!/bin/sh
# The member writes one word above mutt's quote of the invitation.
{ cat "$M/word"; echo; cat "\$1"; } >"\$1.new" && mv "\$1.new" "\$1"
EOF
	chmod +x "$M/sendmail" "$M/editor"
	cat >"$M/muttrc" <<EOF
set folder=$M/box
set spoolfile=$M/box
set mbox_type=Maildir
set record=
set copy=no
set postpone=no
set from="$a"
set use_from=yes
set hostname=example.net
set realname=""
set sendmail="$M/sendmail"
set editor="$M/editor"
set fast_reply=yes
set include=yes
set askcc=no
set askbcc=no
set edit_headers=no
set autoedit=no
set abort_unmodified=no
set reply_to=yes
set wait_key=no
set charset=utf-8
set send_charset=utf-8
set sort=date
set pager_index_lines=0
set pager_stop=yes
EOF
}
SESSION=convene-t293-$$
CLEANUP_TMUX=
trap 'tmux kill-session -t "$CLEANUP_TMUX" 2>/dev/null; cleanup' EXIT
# mutt_start ADDR: mutt on ADDR's maildir in a tmux session.
mutt_start() {
	local M=$T/mutt-$1
	tmux kill-session -t "$SESSION" 2>/dev/null
	tmux new-session -d -s "$SESSION" -x 132 -y 60 \
		"env TERM=xterm LANG=C.UTF-8 HOME=$M mutt -n -F $M/muttrc -f $M/box"
	CLEANUP_TMUX=$SESSION
}
mutt_stop() {
	tmux send-keys -t "$SESSION" q q q q 2>/dev/null
	tmux kill-session -t "$SESSION" 2>/dev/null
}
# screen_has TEXT: waits (up to 20 s) until the pane shows TEXT.
screen_has() {
	local i
	for i in $(seq 1 200); do
		tmux capture-pane -t "$SESSION" -p >"$T/screen.txt" 2>/dev/null
		grep -qF -- "$1" "$T/screen.txt" && return 0
		sleep 0.1
	done
	return 1
}
# sent_by ADDR: waits (up to 20 s) until mutt has handed a message to
# sendmail; prints the file.
sent_by() {
	local i
	for i in $(seq 1 200); do
		if [ -s "$T/mutt-$1/sent/0.eml" ] && [ -s "$T/mutt-$1/sent/0.rcpt" ]; then
			echo "$T/mutt-$1/sent/0.eml"
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# ---- bob reads the invitation, and answers "yes" with mutt ----

mutt_for bob@example.net
echo yes >"$T/mutt-bob@example.net/word"
mutt_start bob@example.net
check "mutt lists bob's invitation" screen_has "[makers] Invitation: Repair café"
tmux send-keys -t "$SESSION" Enter
check "the pager shows the text part: the time in the list's zone" \
	screen_has "When:      2031-03-27 19:00 Europe/Berlin (UTC+01:00)"
check "...the place" grep -qF "Where:     Makerspace, Main St 5" "$T/screen.txt"
check "...and how to answer" sh -c "tr '\n' ' ' <'$T/screen.txt' | grep -qF 'reply to this message with one word: yes, no or maybe'"
cp "$T/screen.txt" "$T/screen-invitation.txt"
tmux send-keys -t "$SESSION" v
check "mutt's attachment menu holds the calendar (text/calendar)" screen_has "text/calendar"
check "...beside the text (multipart/alternative)" grep -qF "multipa/alternativ" "$T/screen.txt"
cp "$T/screen.txt" "$T/screen-attachments.txt"
tmux send-keys -t "$SESSION" q
check "back in the pager" screen_has "This is meeting 1 of makers@lists.example.org."
tmux send-keys -t "$SESSION" r
check "mutt's compose menu addresses the reply to the answer address" \
	screen_has "makers-rsvp+1@lists.example.org"
tmux send-keys -t "$SESSION" y
REPLY=$(sent_by bob@example.net) || REPLY=
check "mutt sent bob's reply" test -n "$REPLY"
mutt_stop
expect_eq "...to makers-rsvp+1@ (its envelope)" "makers-rsvp+1@lists.example.org" \
	"$(cat "$T/mutt-bob@example.net/sent/0.rcpt")"
check "...with 'yes' on its first line and the invitation quoted below" sh -c \
	"sed '1,/^\$/d' '$REPLY' | head -1 | grep -qx yes && grep -q '^> .*Repair caf' '$REPLY'"
check "...as a reply (In-Reply-To the invitation)" grep -q "^In-Reply-To: <$(sql 'SELECT message_id FROM meetings WHERE id = 1')>" "$REPLY"
expect_eq "the MTA hands bob's reply to convene: exit 0" 0 \
	"$(post "$REPLY" "$(cat "$T/mutt-bob@example.net/sent/0.rcpt")")"

# ---- carol answers "no" the same way; bob's reply handed over twice ----

mutt_for carol@example.com
echo no >"$T/mutt-carol@example.com/word"
mutt_start carol@example.com
check "mutt lists carol's invitation" screen_has "[makers] Invitation: Repair café"
tmux send-keys -t "$SESSION" r
check "carol's reply goes to the answer address" screen_has "makers-rsvp+1@lists.example.org"
tmux send-keys -t "$SESSION" y
REPLY_C=$(sent_by carol@example.com) || REPLY_C=
check "mutt sent carol's reply" test -n "$REPLY_C"
mutt_stop
expect_eq "carol's reply: exit 0" 0 "$(post "$REPLY_C" makers-rsvp+1@lists.example.org)"
expect_eq "bob's reply handed over again: exit 0" 0 "$(post "$REPLY" makers-rsvp+1@lists.example.org)"

cv meeting makers rsvps 1 >"$T/rsvps.txt" 2>&1
expect_eq "the headcount the leader sees: each answer once" "going: 1
waiting: 0
maybe: 0
declined: 1" "$(grep -E '^(going|waiting|maybe|declined):' "$T/rsvps.txt")"
expect_eq "...bob going by mail, carol declined by mail" "bob@example.net going mail
carol@example.com declined mail" \
	"$(awk -F'\t' '$1 ~ /@/ { print $1, $2, $5 }' "$T/rsvps.txt")"
rm -f "$T"/outbox/new/*
flush
expect_eq "bob is told once that he is coming (the mail handed over twice)" "You are coming: Repair café" \
	"$(for f in $(outbox_for bob@example.net); do subject_of "$f"; echo; done)"
check "...the second hand-over logged as counted already" \
	grep -q "from=<bob@example.net>: meeting 1: dropped: this answer was counted already" "$CONVENE_LOG_FILE"

# ---- the minutes: to the list and the archive ----

printf 'From: Alice Leader <alice@example.org>\nTo: makers-request@lists.example.org\nSubject: minutes 1\nMessage-ID: <minutes-1@example.org>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\nWe met, twelve came.\nDecided: a second soldering station.\n' >"$T/minutes.eml"
expect_eq "the leader's 'minutes 1' exits 0" 0 "$(post "$T/minutes.eml" makers-request@lists.example.org)"
flush
mutt_for bob@example.net
mutt_start bob@example.net
check "mutt lists the confirmation" screen_has "You are coming: Repair café"
check "...and the minutes from the list" screen_has "[makers] Minutes: Repair café"
tmux send-keys -t "$SESSION" /
tmux send-keys -t "$SESSION" "Minutes" Enter
tmux send-keys -t "$SESSION" Enter
check "the pager shows the minutes" screen_has "Decided: a second soldering station."
check "...sent by the leader to the list" grep -qE "^(From|To):.*makers@lists.example.org" "$T/screen.txt"
cp "$T/screen.txt" "$T/screen-minutes.txt"
mutt_stop

THREAD=$(sql "SELECT a.thread FROM archive a JOIN meetings m ON m.archive = a.id WHERE m.id = 1")
cv archive makers thread "$THREAD" >"$T/thread.txt" 2>&1
expect_eq "the archive's thread of the meeting: the invitation, then the minutes" "0 Invitation: Repair
1 Minutes: Repair" \
	"$(awk -F'\t' '$1 ~ /^[0-9]+$/ && NF >= 6 { print $3, substr($6, 1, index($6, "Repair") + 5) }' "$T/thread.txt")"
check "the archive finds the minutes by their words, in the meeting's thread" sh -c \
	"$CONVENE -c '$T/convene.conf' archive makers search soldering station 2>/dev/null | awk -F'\t' 'NR > 1 && \$1 == $THREAD' | grep -q ."

finish
