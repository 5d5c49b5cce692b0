#!/bin/bash
# t160-digest - 10 posts to a list with immediate, digest, digest-plain and
# nomail members: 10 copies to each immediate member, one MIME digest
# (multipart/digest of the 10 posts after a table of contents) to each
# digest member, one RFC 1153 digest to each digest-plain member, nothing to
# nomail. The MIME digest opens in mutt (in tmux: the pager shows the table
# of contents, the attachment menu the posts) and bursts back into the 10
# posts with their Message-IDs (Python's email); the plain digest bursts
# into the same 10 (formail -ds, and Python). List fields and footer on the
# digest; the parts keep their own fields with the same From munging as the
# immediate copies. A held post enters the next digest when approved.
. "$(dirname "$0")/lib.sh"

for tool in python3 formail mutt tmux; do
	command -v "$tool" >/dev/null ||
		{ echo "$tool is not installed (scripts/install-deps.sh installs it)"; exit 77; }
done
DIGEST_PY="$top_srcdir/tests/integration/digest.py"
DG=$top_srcdir/tests/fixtures/digest
MIDS="dg01@example.org dg02@example.net dg03@example.com dg04@example.org dg05@example.org dg06@example.net dg07@example.com dg08@example.org dg09@example.org dg10@example.net"

write_config 'from_munging = "always";
    digest = { schedule = "daily 07:00"; max_messages = 50; };'
add_members "Alice Example <alice@example.org>" "Bob Builder <bob@example.net>" \
	"Carol Cöder <carol@example.com>" "Mia <mia@example.org>" \
	"Dave <dave@example.org>" "Pat <pat@example.org>" "Nora <nora@example.org>"
cv members makers set carol@example.com digest >/dev/null
cv members makers set mia@example.org digest >/dev/null
cv members makers set dave@example.org digest-plain >/dev/null
cv members makers set pat@example.org digest-plain >/dev/null
cv members makers set nora@example.org nomail >/dev/null

for f in "$DG"/*.eml; do
	expect_eq "post $(basename "$f") accepted" 0 "$(post "$f")"
done
check "run --once" cv run --once >/dev/null
nfiles() { outbox_for "$1" | wc -l | tr -d ' '; }
expect_eq "immediate alice: 10 copies" 10 "$(nfiles alice@example.org)"
expect_eq "immediate bob: 10 copies" 10 "$(nfiles bob@example.net)"
for a in carol@example.com mia@example.org dave@example.org pat@example.org nora@example.org; do
	expect_eq "$a: no immediate copy" 0 "$(nfiles "$a")"
done

# The preview shows what the next issue holds, and changes nothing.
cv digest makers preview >"$T/preview.txt" 2>&1
check "preview names the issue" grep -q '^Subject: makers Digest, Vol 1, Issue 1$' "$T/preview.txt"
expect_eq "preview holds the 10 posts" 10 "$(grep -c '^Message: ' "$T/preview.txt")"
expect_eq "preview sent nothing" 0 "$(sql 'SELECT count(*) FROM digest_issues')"

# A leader adds a post of the period to the archive's FAQ by mail: the
# digest shows it under "New in the FAQ".
laser=$(sql "SELECT id FROM archive WHERE message_id = 'dg05@example.org'")
printf 'From: Alice Example <alice@example.org>\nTo: makers-request@lists.example.org\nSubject: curation\nMessage-ID: <faq-1@example.org>\n\nfaq %s Booking the laser cutter\n' "$laser" >"$T/faq.eml"
expect_eq "a leader's faq command accepted" 0 "$(post "$T/faq.eml" makers-request@lists.example.org)"
expect_eq "...and the post is in the FAQ" "Booking the laser cutter" "$(sql "SELECT title FROM faq WHERE archive = $laser")"
# The issue in a later second than the FAQ entry: the next issue's period
# starts with it.
sleep 1
out=$(cv digest makers send 2>&1)
check "digest send queues Vol 1, Issue 1 with 10 posts ($out)" \
	sh -c "echo '$out' | grep -q 'Vol 1, Issue 1 queued with 10 post(s)'"
check "run --once sends the digests" cv run --once >/dev/null
expect_eq "alice (immediate): no digest" "" \
	"$(for f in $(outbox_for alice@example.org); do header "$f" Subject; done | grep 'Digest')"
expect_eq "nora (nomail): nothing at all" 0 "$(nfiles nora@example.org)"
for a in carol@example.com mia@example.org dave@example.org pat@example.org; do
	expect_eq "$a: one digest" 1 "$(nfiles "$a")"
done
MIME=$(outbox_for mia@example.org)
PLAIN=$(outbox_for pat@example.org)
expect_eq "both digest members got the one stored MIME issue" \
	"$(header "$MIME" Message-ID)" "$(header "$(outbox_for carol@example.com)" Message-ID)"
expect_eq "both digest-plain members got the one stored plain issue" \
	"$(header "$PLAIN" Message-ID)" "$(header "$(outbox_for dave@example.org)" Message-ID)"
expect_eq "MIME Subject has Vol and Issue" "makers Digest, Vol 1, Issue 1" "$(header "$MIME" Subject)"
expect_eq "plain Subject has Vol and Issue" "makers Digest, Vol 1, Issue 1" "$(header "$PLAIN" Subject)"

# ---- the MIME digest, burst by Python's email ----
rc=0
python3 "$DIGEST_PY" mime "$MIME" >"$T/mime.rows" || rc=$?
expect_eq "MIME layout (text/plain contents, multipart/digest of message/rfc822)" 0 "$rc"
expect_eq "MIME digest bursts into the 10 posts, by Message-ID" \
	"$(printf '%s\n' $MIDS | sort)" \
	"$(cut -f1 "$T/mime.rows" | tr -d '<>' | sort)"
expect_eq "List-Id on the digest" '"Makers of Example City" <makers.lists.example.org>' "$(header "$MIME" List-Id)"
expect_eq "List-Unsubscribe on the digest" "<mailto:makers-unsubscribe@lists.example.org>" "$(header "$MIME" List-Unsubscribe)"
expect_eq "Reply-To: the list" "makers@lists.example.org" "$(header "$MIME" Reply-To)"
check "the footer is the MIME digest's last part" sh -c \
	"python3 -c 'import email,sys; from email import policy; m=email.message_from_bytes(open(sys.argv[1],\"rb\").read(), policy=policy.default); p=list(m.iter_parts()); sys.exit(0 if len(p)==3 and \"To unsubscribe, write to makers-unsubscribe@lists.example.org\" in p[2].get_content() else 1)' '$MIME'"
python3 "$DIGEST_PY" toc "$MIME" >"$T/toc.txt"
check "TOC groups the thread with its count and senders" \
	grep -qF "  Saturday soldering workshop (4 posts from Alice Example, Bob Builder, Carol Cöder, Dave)" "$T/toc.txt"
check "TOC numbers the thread's posts, list prefix removed" \
	grep -qF "     3. Re: Saturday soldering workshop ✔ (Carol Cöder)" "$T/toc.txt"
check "TOC: a two-post thread" grep -qF "  Laser cutter booking (2 posts from Alice Example)" "$T/toc.txt"
check "TOC: a one-post thread" grep -qF "  Photos from the fair (1 post from Bob Builder)" "$T/toc.txt"
check "TOC: new in the FAQ, with the message number" sh -c \
	"sed -n '/^New in the FAQ/,\$p' '$T/toc.txt' | grep -qx '  $laser. Booking the laser cutter'"
sed -n '/^Needs an answer/,/^New in the FAQ/p' "$T/toc.txt" >"$T/unanswered.txt"
check "needs an answer: the unanswered threads" sh -c \
	"grep -q 'Photos from the fair' '$T/unanswered.txt' && grep -q 'Who has a 3D printer?' '$T/unanswered.txt' && grep -q 'Spare keys' '$T/unanswered.txt'"
check "needs an answer: not the answered ones" sh -c \
	"! grep -q 'Laser cutter\|soldering' '$T/unanswered.txt'"

# The parts keep their own fields; From is munged as on the immediate copy.
imm=$(grep -l '^Message-ID: <dg01@example.org>' $(outbox_for alice@example.org))
part=$(python3 - "$MIME" <<'EOF'
import email, sys
m = email.message_from_bytes(open(sys.argv[1], 'rb').read())
for p in m.get_payload()[1].get_payload():
    x = p.get_payload()[0]
    if x['Message-ID'] == '<dg01@example.org>':
        print(x['From']); print(x['Reply-To']); print(x['Date']); print(x['Subject'])
        print('list fields' if x['List-Id'] else 'no list fields')
EOF
)
expect_eq "part From munged as on the immediate copy" "$(header "$imm" From)" "$(sed -n 1p <<<"$part")"
expect_eq "munged From: 'Alice Example via makers'" '"Alice Example via makers" <makers@lists.example.org>' "$(sed -n 1p <<<"$part")"
expect_eq "part Reply-To as on the immediate copy" "$(header "$imm" Reply-To)" "$(sed -n 2p <<<"$part")"
expect_eq "part keeps its Date" "Mon, 30 Nov 2026 08:00:00 +0100" "$(sed -n 3p <<<"$part")"
expect_eq "part keeps its Subject (no prefix)" "Saturday soldering workshop" "$(sed -n 4p <<<"$part")"
expect_eq "part has no list fields of its own" "no list fields" "$(sed -n 5p <<<"$part")"

# ---- the plain digest: formail and Python burst it into the same 10 ----
rc=0
python3 "$DIGEST_PY" plain "$PLAIN" >"$T/plain.rows" || rc=$?
expect_eq "plain layout (RFC 1153)" 0 "$rc"
expect_eq "plain digest bursts (Python) into the 10 posts" \
	"$(printf '%s\n' $MIDS | sort)" "$(cut -f1 "$T/plain.rows" | tr -d '<>' | sort)"
mkdir -p "$T/burst"
sed '/^X-Convene-Envelope-/d' "$PLAIN" |
	(cd "$T/burst" && formail +1 -ds sh -c 'cat >"msg.$FILENO"')
expect_eq "formail -ds bursts it into 10 messages" 10 "$(ls "$T/burst" | wc -l | tr -d ' ')"
expect_eq "formail's messages have the 10 Message-IDs" \
	"$(printf '%s\n' $MIDS | sort)" \
	"$(cat "$T"/burst/msg.* | sed -n 's/^Message-ID: <\(.*\)>$/\1/p' | sort)"
check "plain digest: the trailer" grep -qx 'End of makers Digest, Vol 1, Issue 1' "$PLAIN"
check "plain digest: footer after the trailer" sh -c \
	"sed -n '/^End of makers Digest/,\$p' '$PLAIN' | grep -q '^To unsubscribe, write to makers-unsubscribe@lists.example.org'"
python3 "$DIGEST_PY" parts "$PLAIN" >"$T/parts.txt"
check "plain digest: QP text decoded" grep -qF "Café after the workshop = tradition. Who is in?" "$T/parts.txt"
check "plain digest: base64 text decoded" grep -qF "The spare keys are with the caretaker." "$T/parts.txt"
check "plain digest: the attachment is named, not shown" grep -qF "[Not included in the plain-text digest: image/png stand.png]" "$T/parts.txt"
check "plain digest: a post's line of hyphens comes back whole" grep -qx -- "------------------------------" "$T/parts.txt"
check "plain digest: ... and is quoted in the digest (RFC 934)" grep -qx -- "- ------------------------------" "$PLAIN"
check "plain digest: From decoded (and munged)" grep -qF "From: Carol Cöder via makers <makers@lists.example.org>" "$T/parts.txt"

# ---- mutt in tmux: the table of contents, then the posts as attachments ----
# (a machine without pseudo-terminals, such as a chroot without /dev/pts,
# cannot run mutt: said, and the rest still runs)
if have_pty; then
	mkdir -p "$T/mutt/cur" "$T/mutt/new" "$T/mutt/tmp"
	sed '/^X-Convene-Envelope-/d' "$MIME" >"$T/mutt/new/1.digest"
	cat >"$T/muttrc" <<-EOF
	set folder=$T/mutt
	set spoolfile=$T/mutt
	set record=/dev/null
	set mbox_type=Maildir
	set charset=utf-8
	set pager_index_lines=0
	EOF
	SESSION=convene-t160-$$
	tmux kill-session -t "$SESSION" 2>/dev/null
	tmux new-session -d -s "$SESSION" -x 132 -y 60 \
		"env TERM=xterm LANG=C.UTF-8 HOME=$T mutt -n -F $T/muttrc -f $T/mutt"
	CLEANUP_TMUX=$SESSION
	trap 'tmux kill-session -t "$CLEANUP_TMUX" 2>/dev/null; cleanup' EXIT
	# screen_has TEXT: waits (up to 10 s) until the pane shows TEXT.
	screen_has() {
		local i
		for i in $(seq 1 100); do
			tmux capture-pane -t "$SESSION" -p >"$T/screen.txt" 2>/dev/null
			grep -qF -- "$1" "$T/screen.txt" && return 0
			sleep 0.1
		done
		return 1
	}
	check "mutt lists the digest" screen_has "makers Digest, Vol 1, Issue 1"
	tmux send-keys -t "$SESSION" Enter
	check "mutt's pager shows the table of contents" screen_has "Topics in this issue:"
	check "...with the thread line" screen_has "Saturday soldering workshop (4 posts from Alice Example"
	cp "$T/screen.txt" "$T/screen-pager.txt"
	tmux send-keys -t "$SESSION" v
	check "mutt's attachment menu shows the multipart/digest" screen_has "multipa/digest"
	tmux send-keys -t "$SESSION" j v
	check "mutt opens the digest: its posts as message/rfc822" screen_has "Spare keys"
	expect_eq "mutt shows 10 message/rfc822 attachments" 10 "$(grep -c 'message/rfc822' "$T/screen.txt")"
	for s in "Saturday soldering workshop" "Laser cutter booking" "Photos from the fair" "Who has a 3D printer?"; do
		check "attachment menu names '$s'" grep -qF "$s" "$T/screen.txt"
	done
	cp "$T/screen.txt" "$T/screen-attachments.txt"
	tmux send-keys -t "$SESSION" q q q
	tmux kill-session -t "$SESSION" 2>/dev/null
else
	echo "# SKIP mutt: no pseudo-terminal here (/dev/pts not mounted)"
fi

# ---- a held post enters the next digest when approved ----
expect_eq "a non-member's post is held" 0 "$(post "$FIXTURES/nonmember.eml")"
hid=$(sql "SELECT id FROM holds WHERE state = 'held'")
check "held post approved from the CLI" cv held makers approve "$hid"
rm -f "$T"/outbox/new/*
cv run --once >/dev/null
nmid=$(sed -n 's/^Message-ID: <\(.*\)>$/\1/p' "$FIXTURES/nonmember.eml")
expect_eq "approved post: immediate copies only to the immediate members" \
	"<alice@example.org> <bob@example.net>" \
	"$(for f in "$T"/outbox/new/*; do [ "$(header "$f" Message-ID)" = "<$nmid>" ] && sed -n 's/^X-Convene-Envelope-To: //p' "$f"; done | sort | tr '\n' ' ' | sed 's/ $//')"
cv digest makers send >/dev/null
cv run --once >/dev/null
MIME2=$(outbox_for mia@example.org)
expect_eq "the second issue is Issue 2" "makers Digest, Vol 1, Issue 2" "$(header "$MIME2" Subject)"
expect_eq "Issue 2 holds the approved post" "$nmid" "$(python3 "$DIGEST_PY" mime "$MIME2" | cut -f1 | tr -d '<>')"
python3 "$DIGEST_PY" toc "$MIME2" >"$T/toc2.txt"
check "Issue 2: no FAQ section (nothing new since Issue 1)" sh -c "! grep -q 'New in the FAQ' '$T/toc2.txt'"
check "Issue 2: the approved post needs an answer" grep -q "1. Cheap watches (Mallory)" "$T/toc2.txt"
expect_eq "plain Issue 2 holds it too" "$nmid" "$(python3 "$DIGEST_PY" plain "$(outbox_for pat@example.org)" | cut -f1 | tr -d '<>')"
expect_eq "nothing waits: send says so" "makers: no posts wait for the next digest; nothing sent" "$(cv digest makers send 2>&1)"
# Issue 10, item 4: no mode delivers nothing silently. Every mode but
# nomail got the posts above; help and welcome say what each mode gets.
printf 'From: Ivy <ivy@example.org>\nTo: makers-request@lists.example.org\nSubject: help\nMessage-ID: <help-1@example.org>\n\nhelp\n' >"$T/help.eml"
rm -f "$T"/outbox/new/*
expect_eq "help asked" 0 "$(post "$T/help.eml" makers-request@lists.example.org)"
cv run --once >/dev/null
help=$(outbox_for ivy@example.org)
check "help: digest explained" grep -q "set digest .*get the posts collected in a digest" "$help"
check "help: nomail is the only mode without posts" grep -q "the only$" "$help"
check "help: ...(wrapped)" grep -q "choice that gets no posts at all" "$help"
check "help: when the digest goes out" grep -q "The digest goes out daily 07:00 (UTC), or sooner" "$help"
rm -f "$T"/outbox/new/*
cv members makers add "Walt <walt@example.org>" >/dev/null
cv run --once >/dev/null
welcome=$(outbox_for walt@example.org)
# (welcome's running text is wrapped once its placeholders are filled:
# read it as one line)
check "welcome: the digest modes" sh -c "tr '\n' ' ' <'$welcome' | grep -q '\"set digest\" (the posts'"
check "welcome: nomail gets no posts" sh -c "tr '\n' ' ' <'$welcome' | grep -q '\"set nomail\" (no posts at'"
expect_eq "two issues recorded" "1|10 2|1" "$(sql "SELECT number || '|' || messages FROM digest_issues ORDER BY id" | tr '\n' ' ' | sed 's/ $//')"

finish
