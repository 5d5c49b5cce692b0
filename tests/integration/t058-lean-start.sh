#!/bin/bash
# What every start of convene loads: `convene receive` runs once per
# message, so the libraries only some commands need are loaded when those
# commands need them (dlopen), not linked: GnuTLS and SASL with libetpan's
# SMTP client (at the first connection), libmicrohttpd (convene web), cairo
# (the report's chart), libical (meetings). Linked, they cost about 1.5 ms
# of every start. The parser comes from libetpan's static archive unless
# configure was told --disable-static-etpan; SQLite likewise
# (--disable-static-sqlite).
. "$(dirname "$0")/lib.sh"

linked=$(ldd "$CONVENE" | awk '{ print $1 }' | tr '\n' ' ')
# GnuTLS comes with libetpan's shared library when that is linked
# (--disable-static-etpan, as Debian's package does).
loaded_later="libmicrohttpd libcairo libical"
if grep -q '^ETPAN_LIBS = .*-Bstatic -letpan' "$top_builddir/Makefile"; then
	loaded_later="libetpan libgnutls libsasl2 libdb- $loaded_later"
else
	echo "# built with libetpan's shared library: its own dependencies are loaded"
fi
for lib in $loaded_later; do
	expect_eq "start does not load $lib" "" "$(echo "$linked" | tr ' ' '\n' | grep "^$lib")"
done
# SQLite from its static archive: nothing of it is bound when convene starts
# (its shared library binds about 1,500 of its own symbols).
if grep -q '^SQLITE_LIBS = .*-Bstatic -lsqlite3' "$top_builddir/Makefile"; then
	expect_eq "start does not load libsqlite3.so" "" "$(echo "$linked" | tr ' ' '\n' | grep '^libsqlite3')"
	# (A sanitizer's runtime takes over thousands of symbols itself.)
	if ! echo "$linked" | grep -q 'libasan'; then
		bound=$(LD_DEBUG=statistics "$CONVENE" --version 2>&1 | sed -n 's/.*final number of relocations: *\([0-9]*\).*/\1/p')
		check "start binds few symbols (${bound:-?}, under 500)" test "${bound:-99999}" -lt 500
	fi
else
	echo "# built with SQLite's shared library"
fi

# And what `convene receive` really maps while it takes a message (the
# dynamic loader's own account of the libraries it opened).
write_config
LD_DEBUG=files LD_DEBUG_OUTPUT=$T/ld "$CONVENE" -c "$T/convene.conf" receive \
	--recipient makers@lists.example.org <"$FIXTURES/post-alice.eml" >/dev/null 2>&1
opened=$(cat "$T"/ld.* 2>/dev/null | sed -n 's/.*file=\([^ ]*\) \[0\];  needed by.*/\1/p' | sort -u | tr '\n' ' ')
check "the loader's account was read" test -n "$opened"
for lib in $loaded_later; do
	expect_eq "receive does not open $lib" "" "$(echo "$opened" | tr ' ' '\n' | grep "^$lib")"
done
expect_eq "the message was taken" 1 "$(sql "SELECT count(*) FROM archive")"
finish
