#!/bin/bash
# t175-mta-postfix - `convene mta postfix` pasted into a running Postfix
# delivers a post end to end: the shared harness's private instance, its own
# list wiring replaced by what convene prints (master.cf part into
# master.cf, main.cf part into main.cf, as an admin pastes them), then swaks
# -> Postfix -> pipe(8) -> convene receive; convene run -> SMTP -> Postfix ->
# Maildirs. `--check` says all is there, and names a line deliberately taken
# out. Needs root and the shared Postfix harness; skipped (77) without them.
. "$(dirname "$0")/lib.sh"

HARNESS=${CONVENE_PF_HARNESS:-$top_srcdir/../shared/postfix/postfix-harness.sh}
if [ "$(id -u)" != 0 ] || [ ! -f "$HARNESS" ] || ! command -v swaks >/dev/null ||
	! command -v postfix >/dev/null; then
	echo "# needs root, swaks, postfix and $HARNESS: skipped"
	exit 77
fi
# The pipe user (nobody) must reach everything it runs and writes.
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
# The harness wires its own "listpipe" service; what convene prints
# replaces it below.
pf_start "/bin/false" lists.example.org ||
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

printed=$("$T/bin/convene" -c "$CONF" mta postfix --user nobody)
expect_eq "mta postfix prints the wiring" 0 "$?"
out=$("$T/bin/convene" -c "$CONF" mta postfix --user nobody --check --mta-config "$PF_CONF")
expect_eq "before pasting: --check says parts are missing (EX_CONFIG)" 78 "$?"
check "...the service" grep -qx 'missing: master.cf: no service "convene unix ... pipe"' <<<"$out"
check "...the recipient limit" grep -qx 'missing: main.cf: convene_destination_recipient_limit = 1' <<<"$out"
check "...the transport (the harness sends the domain to its listpipe)" \
	grep -q 'missing: main.cf: transport_maps sends lists.example.org to listpipe:, not to convene:' <<<"$out"

# Paste: each block runs from its "# /etc/postfix/FILE" comment to the next
# empty line. main.cf's later lines win over the harness's.
paste_block() { # paste_block FILE-NAME
	awk -v f="$1" '$0 ~ "^# /etc/postfix/" f ":" { p = 1; next } p && /^$/ { exit } p && !/^#/' <<<"$printed"
}
check "the printed master.cf part is the two-line service" \
	test "$(paste_block master.cf | wc -l)" = 2
check "the printed main.cf part has three settings" \
	test "$(paste_block main.cf | wc -l)" = 3
paste_block master.cf >>"$PF_CONF/master.cf"
paste_block main.cf >>"$PF_CONF/main.cf"
check "postfix check accepts the pasted config" postfix -c "$PF_CONF" check
check "postfix reload" pf_reload
sleep 1

out=$("$T/bin/convene" -c "$CONF" mta postfix --user nobody --check --mta-config "$PF_CONF")
rc=$?
echo "$out" | sed 's/^/#   /'
expect_eq "after pasting: --check exits 0" 0 "$rc"
check "...all there" grep -qx 'The Postfix wiring is all there.' <<<"$out"

cat >"$T/post.eml" <<EOM
From: Alice <alice@example.org>
To: makers@lists.example.org
Subject: Wired by convene mta
Message-ID: <mta-post.$$@example.org>
Date: $(date -R)

Hello makers, Postfix was wired by what convene mta postfix printed.
EOM
qid=$(pf_send alice@example.org makers@lists.example.org "$T/post.eml")
check "the post went through the pasted service: relay=convene, status=sent" \
	pf_wait_log "$qid: to=<makers@lists.example.org>, relay=convene, .*status=sent" 15
check "convene run --once delivers back into Postfix" pcv run --once
for u in alice bob carol; do
	check "$u got the list copy" pf_wait_mail "$u" 1 15
	f=$(ls "$(pf_mailbox "$u")"new/* "$(pf_mailbox "$u")"cur/* 2>/dev/null | head -1)
	check "$u's copy is the post, through the list" \
		grep -q '^Subject: \[makers\] Wired by convene mta' "$f"
	check "$u's copy has List-Id" grep -q '^List-Id: "Makers of Example City" <makers.lists.example.org>' "$f"
done
qid=$(pf_send alice@example.org nosuch@lists.example.org "$T/post.eml")
check "an unknown list: exit 67 through the pasted service, bounced" \
	pf_wait_log "$qid: to=<nosuch@lists.example.org>, relay=convene, .*status=bounced" 15

# A deliberately missing line: the recipient limit taken out.
pf_postconf -X convene_destination_recipient_limit
out=$("$T/bin/convene" -c "$CONF" mta postfix --user nobody --check --mta-config "$PF_CONF")
expect_eq "without the recipient limit: --check exits EX_CONFIG" 78 "$?"
expect_eq "...and names that line, only" \
	"missing: main.cf: convene_destination_recipient_limit = 1" "$(grep '^missing:' <<<"$out")"
# And the service taken out of master.cf.
pf_postconf -MX convene/unix
out=$("$T/bin/convene" -c "$CONF" mta postfix --user nobody --check --mta-config "$PF_CONF")
expect_eq "without the service: EX_CONFIG" 78 "$?"
check "...the service is named" grep -qx 'missing: master.cf: no service "convene unix ... pipe"' <<<"$out"
finish
