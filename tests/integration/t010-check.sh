#!/bin/sh
# convene check: validates config, templates and database; errors name file
# and line.
. "$(dirname "$0")/lib.sh"

write_config
check "a good config passes" cv check
check "the shipped example passes" sh -c "cd '$T' && sed 's|^database = .*|database = \"example.db\";\ntemplates = \"$top_srcdir/templates\";|' '$top_srcdir/etc/convene.conf' >example.conf && '$CONVENE' -c example.conf check >/dev/null"

cat >"$T/bad.conf" <<'EOC'
domain = "lists.example.org";
database = "bad.db";
colour = "blue";
outbound = { transport = "smtp"; port = "twenty-five"; };
lists = (
  { name = "makers"; leaders = [ "alice@example.org" ];
    filters = ( { header = "Subject"; match = "(unclosed"; action = "discard"; } ); },
  { name = "Makers"; leaders = [ "not an address" ]; },
  { name = "quiet"; }
);
EOC
out=$("$CONVENE" -c "$T/bad.conf" check 2>&1); rc=$?
expect_eq "a bad config exits 78" 78 "$rc"
echo "$out" | sed 's/^/#   /'
check "unknown key with its line" sh -c "echo '$out' | grep -q 'bad.conf:3:.*colour'"
check "wrong type with its line" sh -c "echo '$out' | grep -q 'bad.conf:4:.*port'"
check "invalid regex with its line" sh -c "echo '$out' | grep -q 'bad.conf:7:.*match'"
check "duplicate list name with its line" sh -c "echo '$out' | grep -qi 'bad.conf:8:.*duplicate'"
check "bad address with its line" sh -c "echo '$out' | grep -q 'bad.conf:8:.*not an address'"
check "list without leaders with its line" sh -c "echo '$out' | grep -qi 'bad.conf:9:.*leader'"

printf 'domain = "x.example.org"\nlists = (\n' >"$T/syntax.conf"
out=$("$CONVENE" -c "$T/syntax.conf" check 2>&1); rc=$?
expect_eq "a syntax error exits 78" 78 "$rc"
check "syntax error names file and line" sh -c "echo '$out' | grep -q 'syntax.conf:[0-9]'"
expect_eq "a missing config exits 78" 78 "$("$CONVENE" -c "$T/none.conf" check >/dev/null 2>&1; echo $?)"
expect_eq "receive with an unreadable config exits 75" 75 "$("$CONVENE" -c "$T/none.conf" receive --recipient makers@lists.example.org <"$FIXTURES/post-alice.eml" >/dev/null 2>&1; echo $?)"
expect_eq "receive with an invalid config exits 75" 75 "$("$CONVENE" -c "$T/bad.conf" receive --recipient makers@lists.example.org <"$FIXTURES/post-alice.eml" >/dev/null 2>&1; echo $?)"

# A template with an unknown placeholder is reported.
mkdir -p "$T/tpl/en"
cp "$top_srcdir"/templates/en/*.txt "$T/tpl/en/"
printf 'Hello {{nosuchthing}}\n' >"$T/tpl/en/footer.txt"
sed "s|^templates = .*|templates = \"$T/tpl\";|" "$T/convene.conf" >"$T/tpl.conf"
out=$("$CONVENE" -c "$T/tpl.conf" check 2>&1); rc=$?
expect_eq "a bad template exits 78" 78 "$rc"
check "unknown placeholder named with file and line" sh -c "echo '$out' | grep -q 'footer.txt:1:.*nosuchthing'"
finish
