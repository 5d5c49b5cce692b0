#!/bin/bash
# End to end through a real Postfix, wired as an admin would: swaks -> Postfix
# -> pipe(8) -> convene receive; convene run -> SMTP -> Postfix -> Maildirs.
# Needs root and the shared Postfix harness; skipped (77) without them.
. "$(dirname "$0")/lib.sh"

HARNESS=${CONVENE_PF_HARNESS:-$top_srcdir/../shared/postfix/postfix-harness.sh}
if [ "$(id -u)" != 0 ] || [ ! -f "$HARNESS" ] || ! command -v swaks >/dev/null ||
	! command -v postfix >/dev/null; then
	echo "# needs root, swaks, postfix and $HARNESS: skipped"
	exit 77
fi
# The pipe user must reach everything it runs and writes.
chmod 0755 "$T"
mkdir -p "$T/bin" "$T/list"
cp "$CONVENE" "$T/bin/convene"
cp -r "$top_srcdir/templates" "$T/templates"
chmod -R a+rX "$T/bin" "$T/templates"
chown nobody "$T/list"
CONF=$T/list/convene.conf

PF_QUIET=1
. "$HARNESS"
trap 'pf_stop; cleanup' EXIT
pf_start "$T/bin/convene -c $CONF receive --recipient \${recipient}" lists.example.org ||
	{ not_ok "private Postfix started"; finish; }
ok "private Postfix on 127.0.0.1:$PF_PORT"

cat >"$CONF" <<EOC
domain = "lists.example.org";
database = "convene.db";
templates = "$T/templates";
outbound = { transport = "smtp"; host = "127.0.0.1"; port = $PF_PORT; };
lists = ( { name = "makers"; description = "Makers of Example City";
            leaders = [ "alice@example.org" ]; subject_prefix = "[makers] "; } );
EOC
chmod 0644 "$CONF"
pcv() { pf_as_pipe_user "$T/bin/convene" -c "$CONF" "$@"; }
check "members added as the pipe user" pcv members makers add --quiet alice@example.org bob@example.org carol@example.org

cat >"$T/post.eml" <<EOM
From: Alice <alice@example.org>
To: makers@lists.example.org
Subject: Through Postfix
Message-ID: <pf-post.$$@example.org>
Date: $(date -R)

Hello makers, this post went through a real Postfix.
EOM
qid=$(pf_send alice@example.org makers@lists.example.org "$T/post.eml")
check "pipe(8) ran convene receive: status=sent" \
	pf_wait_log "$qid: to=<makers@lists.example.org>, relay=listpipe, .*status=sent" 15
check "convene run --once delivers back into Postfix" pcv run --once
for u in alice bob carol; do
	check "$u got the list copy" pf_wait_mail "$u" 1 15
	f=$(ls "$(pf_mailbox "$u")"new/* "$(pf_mailbox "$u")"cur/* 2>/dev/null | head -1)
	check "$u's copy has List-Id" grep -q '^List-Id: "Makers of Example City" <makers.lists.example.org>' "$f"
	check "$u's copy has the prefix" grep -q '^Subject: \[makers\] Through Postfix' "$f"
	check "$u's copy's Return-Path is the bounce address" grep -q '^Return-Path: <makers-bounces@lists.example.org>' "$f"
done

sed "s/pf-post/pf-spam/; s/Alice <alice@/Mallory <mallory@/" "$T/post.eml" >"$T/spam.eml"
qid=$(pf_send mallory@example.org makers@lists.example.org "$T/spam.eml")
check "non-member post accepted by the pipe (held)" \
	pf_wait_log "$qid: to=<makers@lists.example.org>, relay=listpipe, .*status=sent" 15
check "...and held" test "$(sqlite3 "$T/list/convene.db" 'SELECT count(*) FROM holds')" = 1

qid=$(pf_send alice@example.org nosuch@lists.example.org "$T/post.eml")
check "unknown list: exit 67, bounced by Postfix" \
	pf_wait_log "$qid: to=<nosuch@lists.example.org>, relay=listpipe, .*status=bounced" 15
pcv run --once >/dev/null
check "queue drains" pf_wait_queue_empty 20
for u in bob carol; do
	expect_eq "$u got exactly one message" 1 "$(pf_count "$u")"
done
finish
