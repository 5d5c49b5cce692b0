#!/bin/sh
# Every message of the shared corpus, posted by a member, ends in exit 0 with
# one copy per member, or in a logged deliberate refusal: never a crash.
. "$(dirname "$0")/lib.sh"

CORPUS=${CONVENE_CORPUS:-$top_srcdir/../shared/corpus}
if [ ! -d "$CORPUS" ]; then
	echo "# no corpus at $CORPUS: skipped"
	exit 77
fi
POLICY=open write_config 'filters = ( { match = "(a+)+$"; action = "hold"; } );'
add_members alice@example.org bob@example.net carol@example.com
# An open list: what is tested is the parse, rewrite and delivery path, for
# whoever the corpus message says it is from.
accepted=0 refused=0 dropped=0 held=0 other=0 n=0
: >"$T/other"
find "$CORPUS" -type f \( -name '*.eml' -o -name '*.mbox' -o -name '*.txt' \) ! -name 'README*' | sort >"$T/files"
while IFS= read -r f; do
	n=$((n + 1))
	before=$(wc -l <"$CONVENE_LOG_FILE" 2>/dev/null || echo 0)
	rc=0
	"$CONVENE" -c "$T/convene.conf" receive --recipient makers@lists.example.org \
		<"$f" >/dev/null 2>>"$T/stderr" || rc=$?
	line=$(tail -n +"$((before + 1))" "$CONVENE_LOG_FILE" 2>/dev/null | tail -1)
	case "$rc:$line" in
	0:*": accepted:"*) accepted=$((accepted + 1)) ;;
	0:*": held as "*) held=$((held + 1)) ;;
	0:*": dropped: "*) dropped=$((dropped + 1)) ;;
	65:*"refused"*) refused=$((refused + 1)) ;;
	*) other=$((other + 1)); echo "$rc $f :: $line" >>"$T/other" ;;
	esac
done <"$T/files"
echo "# $n files: $accepted accepted, $held held, $dropped dropped, $refused refused, $other unexpected"
sed 's/^/#   /' "$T/other" | head -20
expect_eq "no unexpected exit (crash, tempfail, unlogged)" 0 "$other"
check "most of the corpus is accepted" test "$accepted" -gt $((n / 2))
check "run --once delivers everything" cv run --once
expect_eq "one copy per member per accepted post" $((accepted * 3)) "$(outbox_rcpts | wc -l | tr -d ' ')"
expect_eq "every member got every accepted post" "$accepted $accepted $accepted" \
	"$(outbox_rcpts | uniq -c | awk '{ print $1 }' | tr '\n' ' ' | sed 's/ $//')"
expect_eq "queue empty" 0 "$(sql "SELECT count(*) FROM jobs WHERE state <> 'done'")"
finish
