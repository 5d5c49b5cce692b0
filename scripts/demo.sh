#!/bin/bash
# demo.sh - runs one small list on the embedded defaults and shows what it did
#
# No MTA, no network: mail goes in through `convene receive` (as the MTA
# would run it) and comes out as files in a maildir outbox. Everything lives
# in demo/ of the checkout, which is wiped and rebuilt on each run.
#
# Environment (optional): CONVENE, the binary (default ./convene of the
# checkout); DEMO_DIR, where to build the demo (default demo/ of the checkout).
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
here=$(pwd)
abspath() { case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$here/$1" ;; esac; }
DEMO_DIR=$(abspath "${DEMO_DIR:-$top/demo}")
CONVENE=$(abspath "${CONVENE:-$top/convene}")
MAIL_DIR=$top/scripts/demo-mail
LIST=makers
DOMAIN=lists.example.org

cd "$top"
conf=$DEMO_DIR/convene.conf
export CONVENE_LOG_FILE=$DEMO_DIR/convene.log

# Paths as the reader would type them from the checkout.
rel() {
	case $1 in
	"$top/convene") printf './convene\n' ;;
	"$top"/*) printf '%s\n' "${1#"$top"/}" ;;
	*) printf '%s\n' "$1" ;;
	esac
}
conv_shown="$(rel "$CONVENE") -c $(rel "$conf")"

heading() { printf '\n== %s\n' "$*"; }
fail() { printf '\ndemo: %s\n' "$*" >&2; exit 1; }

# The arguments as one would type them: quoted where they need it.
shell_words() {
	local a out=
	for a in "$@"; do
		case $a in
		*[!A-Za-z0-9@%+=:,./_-]* | '') out+=" \"$a\"" ;;
		*) out+=" $a" ;;
		esac
	done
	printf '%s\n' "${out# }"
}

# Shows a convene command, runs it, and stops the demo if it fails.
step() {
	printf '$ %s %s\n' "$conv_shown" "$(shell_words "$@")"
	"$CONVENE" -c "$conf" "$@" || fail "'convene $1' failed (exit $?)"
}

# Decodes RFC 2047 words for display, when perl's Encode is at hand.
decode_header() {
	if perl -MEncode -e 1 2>/dev/null; then
		perl -CO -MEncode -ne 'chomp; print decode("MIME-Header", $_), "\n"'
	else
		cat
	fi
}

[ -x "$CONVENE" ] ||
	fail "no convene binary at $(rel "$CONVENE"): build it first (./configure && make)"
[ -d "$MAIL_DIR" ] || fail "missing $MAIL_DIR"
[ -d "$top/templates" ] || fail "missing $top/templates"

# Wipe only what an earlier demo made.
if [ -e "$DEMO_DIR" ]; then
	if [ -f "$DEMO_DIR/convene.conf" ] || [ -z "$(ls -A "$DEMO_DIR")" ]; then
		rm -rf "$DEMO_DIR"
	else
		fail "$DEMO_DIR exists and is not an earlier demo: not wiping it"
	fi
fi
mkdir -p "$DEMO_DIR"

heading "configuration: $(rel "$conf")"
cat >"$conf" <<EOF
# The demo list. Relative paths are taken from this file's folder.
domain = "$DOMAIN";
database = "convene.db";
templates = "$top/templates";
outbound = { transport = "maildir"; path = "outbox"; };
lists = (
  { name = "$LIST";
    description = "Makers of Example City";
    policy = "members";
    leaders = [ "alice@example.org" ];
    sponsors = [ "dana@example.org" ];
    subject_prefix = "[$LIST] ";
    reply_to = "list";
  }
);
EOF
cat "$conf"

heading "check the configuration, templates and database"
step check

heading "add three members"
step members "$LIST" add "Alice Example <alice@example.org>" \
	"Bob Builder <bob@example.net>" "Carol Coder <carol@example.com>"
step members "$LIST" list

heading "the MTA hands four messages to convene receive"
unexpected=0
for f in "$MAIL_DIR"/*.eml; do
	from=$(sed -n 's/^From: //p;T;q' "$f")
	subject=$(sed -n 's/^Subject: //p;T;q' "$f" | decode_header)
	printf '$ %s receive --recipient %s@%s < %s\n' "$conv_shown" "$LIST" \
		"$DOMAIN" "$(rel "$f")"
	set +e
	"$CONVENE" -c "$conf" receive --recipient "$LIST@$DOMAIN" <"$f"
	rc=$?
	set -e
	printf '  from %s, "%s": exit %d\n' "$from" "$subject" "$rc"
	# Every one of them is accepted (0): the non-member's post is held.
	[ "$rc" -eq 0 ] || unexpected=$((unexpected + 1))
done
[ "$unexpected" -eq 0 ] || fail "$unexpected message(s) were not accepted"

heading "one pass of the worker delivers the queue"
step run --once

outbox=$DEMO_DIR/outbox/new
heading "what went out: $(rel "$outbox")/ (one file per SMTP transaction)"
n=0
if [ -d "$outbox" ]; then
	while IFS= read -r f; do
		n=$((n + 1))
		printf '\n-- %s\n' "$(basename "$f")"
		sed -n 's/^X-Convene-Envelope-From: /   envelope from: /p;T;q' "$f"
		printf '   envelope to:  %s\n' \
			"$(sed -n 's/^X-Convene-Envelope-To: //p' "$f" | paste -sd ' ')"
		# The message's own header block, with folded lines unfolded.
		hdrs=$(sed -e '/^X-Convene-Envelope-/d' -e '/^$/q' "$f" |
			sed -e ':a' -e '$!N' -e 's/\n[ \t]\+/ /' -e 'ta' -e 'P' -e 'D')
		for h in Subject List-Id; do
			v=$(printf '%s\n' "$hdrs" | sed -n "s/^$h: //I;T;p;q")
			printf '   %-13s %s\n' "$h:" "$v"
			if [ "$h" = Subject ]; then
				d=$(printf '%s\n' "$v" | decode_header)
				[ "$d" = "$v" ] || printf '   %-13s %s\n' "(decoded)" "$d"
			fi
		done
		printf '   end of the body:\n'
		sed '1,/^$/d' "$f" | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' |
			tail -n 5 | sed 's/^/   | /'
	done < <(ls -tr "$outbox" 2>/dev/null | sed "s|^|$outbox/|")
fi
[ "$n" -gt 0 ] || fail "nothing was delivered to $(rel "$outbox")"

heading "what was held"
step lists

heading "the log: $(rel "$CONVENE_LOG_FILE")"
if [ -f "$CONVENE_LOG_FILE" ]; then
	cat "$CONVENE_LOG_FILE"
else
	echo "(empty)"
fi

heading "done"
cat <<EOF
Outgoing mail, one file per SMTP transaction: $(rel "$outbox")/
The database:  sqlite3 $(rel "$DEMO_DIR/convene.db") .tables
Held posts:    sqlite3 $(rel "$DEMO_DIR/convene.db") 'SELECT id, sender, subject, reason, state FROM holds'
Try more:      $conv_shown members $LIST export
EOF
