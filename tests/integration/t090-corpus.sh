#!/bin/sh
# Every message of the shared corpus, posted by a member, ends in exit 0 with
# one copy per member, or in a logged deliberate refusal: never a crash.
. "$(dirname "$0")/lib.sh"

CORPUS=${CONVENE_CORPUS:-$top_srcdir/../shared/corpus}
if [ ! -d "$CORPUS" ]; then
	echo "# no corpus at $CORPUS: skipped"
	exit 77
fi
# The leader is not a member: notices about holds go to her, not to them.
LEADER=erin@example.org POLICY=open write_config 'filters = ( { match = "(a+)+$"; action = "hold"; } );'
add_members alice@example.org bob@example.net carol@example.com
# An open list: what is tested is the parse, rewrite and delivery path, for
# whoever the corpus message says it is from.
ok0=0 refused=0 other=0 n=0
: >"$T/other"
find "$CORPUS" -type f \( -name '*.eml' -o -name '*.mbox' -o -name '*.txt' \) ! -name 'README*' | sort >"$T/files"
while IFS= read -r f; do
	n=$((n + 1))
	rc=0
	"$CONVENE" -c "$T/convene.conf" receive --recipient makers@lists.example.org \
		<"$f" >/dev/null 2>>"$T/stderr" || rc=$?
	case $rc in
	0) ok0=$((ok0 + 1)) ;;
	65) refused=$((refused + 1)) ;;
	*) other=$((other + 1)); echo "$rc $f" >>"$T/other" ;;
	esac
done <"$T/files"
# Every message ended in exactly one logged decision.
accepted=$(grep -c ': accepted: ' "$CONVENE_LOG_FILE")
held=$(grep -c ': held as ' "$CONVENE_LOG_FILE")
dropped=$(grep -c ': dropped: ' "$CONVENE_LOG_FILE")
refusals=$(grep -c ': refused: ' "$CONVENE_LOG_FILE")
echo "# $n files: $accepted accepted, $held held, $dropped dropped, $refused refused, $other unexpected"
sed 's/^/#   /' "$T/other" | head -20
expect_eq "each exit 0 has one logged decision" "$ok0" "$((accepted + held + dropped))"
expect_eq "each refusal is logged" "$refused" "$refusals"
expect_eq "no unexpected exit (crash, tempfail, unlogged)" 0 "$other"
check "most of the corpus is accepted" test "$accepted" -gt $((n / 2))
check "run --once delivers everything" cv run --once
outbox_rcpts | grep -E '^(alice@example.org|bob@example.net|carol@example.com)$' >"$T/member-rcpts"
expect_eq "one copy per member per accepted post" $((accepted * 3)) "$(wc -l <"$T/member-rcpts" | tr -d ' ')"
expect_eq "every member got every accepted post" "$accepted $accepted $accepted" \
	"$(uniq -c "$T/member-rcpts" | awk '{ print $1 }' | tr '\n' ' ' | sed 's/ $//')"
expect_eq "queue empty" 0 "$(sql "SELECT count(*) FROM jobs WHERE state <> 'done'")"
finish
