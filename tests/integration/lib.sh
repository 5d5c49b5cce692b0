# lib.sh - shared setup for the integration tests (sourced)
#
# Each test builds a real list in a temporary folder: a config file, a SQLite
# database on disk, the maildir outbox, and runs the real binary on real
# messages. Exit 0 pass, 1 fail, 77 skip (automake's convention).
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${CONVENE:=$top_builddir/convene}"
FIXTURES=$top_srcdir/tests/fixtures/mail
T=$(mktemp -d "${TMPDIR:-/tmp}/convene-test.XXXXXX")
export CONVENE_LOG_FILE=$T/convene.log
failures=0
checks=0

cleanup() {
	local pid
	for pid in ${CLEANUP_PIDS:-}; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	if [ "$failures" -eq 0 ] && [ -z "${KEEP:-}" ]; then
		rm -rf "$T"
	else
		echo "# kept $T"
	fi
}
trap cleanup EXIT

ok() { checks=$((checks + 1)); echo "ok - $*"; }
not_ok() { checks=$((checks + 1)); failures=$((failures + 1)); echo "not ok - $*"; }

# check DESCRIPTION COMMAND...: passes when the command succeeds.
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}

# expect_eq DESCRIPTION EXPECTED ACTUAL
expect_eq() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1: expected '$2', got '$3'"
	fi
}

# need_sink: stops the test when Postfix's smtp-sink ($SINK) is missing
# (scripts/install-deps.sh installs it).
need_sink() {
	if [ ! -x "$SINK" ]; then
		echo "smtp-sink not found (install postfix): cannot test SMTP delivery"
		exit 1
	fi
}

# need_rcptsink: sets RCPTSINK to the per-address sink
# (tests/helpers/rcptsink), built by `make check`, else compiled here.
need_rcptsink() {
	RCPTSINK=$top_builddir/tests/helpers/rcptsink
	[ -x "$RCPTSINK" ] && return 0
	RCPTSINK=$T/rcptsink
	"${CC:-cc}" -O2 -o "$RCPTSINK" "$top_srcdir/tests/helpers/rcptsink.c" ||
		{ echo "cannot build tests/helpers/rcptsink"; exit 1; }
}

# readable_copy PATH: a path to PATH (a file or a folder) that nobody can
# read. As root, tests run the listeners and workers as nobody; a clone in
# a private folder (such as /root) is closed to nobody, so the binary,
# templates and fixtures those processes read are copied into $T. As any
# other user PATH itself is printed.
readable_copy() {
	local dst
	if [ "$(id -u)" != 0 ]; then
		echo "$1"
		return
	fi
	dst=$T/readable/$(basename "$1")
	mkdir -p "$T/readable"
	[ -e "$dst" ] || cp -r "$1" "$dst"
	chmod -R a+rX "$T/readable"
	chmod a+x "$T"
	echo "$dst"
}

# have_pty: whether this machine can open a pseudo-terminal (tmux needs
# one; a chroot without /dev/pts has none).
have_pty() {
	python3 -c 'import os; os.openpty()' 2>/dev/null
}

finish() {
	echo "# $checks checks, $failures failed"
	if [ "$failures" -ne 0 ]; then
		if [ -f "$CONVENE_LOG_FILE" ]; then
			echo "# log:"
			sed 's/^/#   /' "$CONVENE_LOG_FILE" | tail -40
		fi
		exit 1
	fi
	exit 0
}

# write_config [EXTRA LIST SETTINGS] [EXTRA TOP-LEVEL SETTINGS]
write_config() {
	cat >"$T/convene.conf" <<EOC
domain = "lists.example.org";
database = "convene.db";
templates = "$top_srcdir/templates";
busy_timeout_ms = ${BUSY_TIMEOUT_MS:-5000};
outbound = { transport = "maildir"; path = "outbox"; max_rcpt_per_txn = ${MAX_RCPT:-500}; };
${2:-}
lists = (
  { name = "makers"; description = "Makers of Example City";
    policy = "${POLICY:-members}";
    leaders = [ "${LEADER:-alice@example.org}" ]; sponsors = [ "dana@example.org" ];
    subject_prefix = "[makers] "; reply_to = "list";
    ${1:-}
  }
);
EOC
}

cv() { "$CONVENE" -c "$T/convene.conf" "$@"; }

# post FILE [RECIPIENT]: prints receive's exit status.
post() {
	local rc=0
	"$CONVENE" -c "$T/convene.conf" receive \
		--recipient "${2:-makers@lists.example.org}" <"$1" \
		>>"$T/receive.out" 2>&1 || rc=$?
	echo "$rc"
}

add_members() { cv members makers add --quiet "$@" >/dev/null; }

# The outbox: one file per transaction.
outbox_files() { ls "$T/outbox/new" 2>/dev/null | sort; }
outbox_count() { outbox_files | wc -l | tr -d ' '; }
# Every envelope recipient in the outbox, one per line, sorted (read from the
# envelope lines at the top of each file only).
outbox_rcpts() {
	[ -n "$(outbox_files)" ] || return 0
	find "$T/outbox/new" -type f -exec awk '
		FNR == 1 { top = 1 }
		top && /^X-Convene-Envelope-To: </ {
			sub(/^X-Convene-Envelope-To: </, ""); sub(/>$/, ""); print; next }
		!/^X-Convene-Envelope-/ { top = 0; nextfile }' {} + | sort
}
# The files whose envelope names RCPT.
outbox_for() {
	local f
	for f in $(outbox_files); do
		if grep -qx "X-Convene-Envelope-To: <$1>" "$T/outbox/new/$f"; then
			echo "$T/outbox/new/$f"
		fi
	done
}
# header FILE NAME: the first value of a header field (unfolded) of an outbox
# file or message.
header() {
	awk -v name="$2" '
		BEGIN { IGNORECASE = 1; want = tolower(name) ":" }
		/^$/ { exit }
		/^[ \t]/ { if (inh) { sub(/^[ \t]+/, " "); val = val $0 }; next }
		{ if (inh) { print val; exit }
		  split($0, a, ":"); if (tolower(a[1]) ":" == want) {
			inh = 1; val = substr($0, length(a[1]) + 2); sub(/^[ \t]+/, "", val) } }
		END { if (inh) print val }' "$1" | head -1
}
sql() { sqlite3 "$T/convene.db" "$@"; }
# decode_rfc2047 TEXT: decodes the =?UTF-8?B?...?= words of a header value
# (what convene writes), dropping the white space between adjacent words.
decode_rfc2047() {
	printf '%s' "$1" | grep -o '=?[Uu][Tt][Ff]-8?[Bb]?[^?]*?=' |
		sed 's/^=?[^?]*?[^?]*?//; s/?=$//' | while IFS= read -r w; do
			printf '%s' "$w" | base64 -d
		done
}

# subject_of FILE: the Subject of an outbox file or message, decoded.
subject_of() {
	local s
	s=$(header "$1" Subject)
	case $s in *=\?*) decode_rfc2047 "$s" ;; *) printf '%s' "$s" ;; esac
}

# icalendar_python: a python3 that has the icalendar package (Debian's
# python3-icalendar is in /usr/bin's Python, which may not be first on
# PATH); prints its path, or fails.
icalendar_python() {
	local p
	for p in python3 /usr/bin/python3; do
		if command -v "$p" >/dev/null &&
			"$p" -c 'import icalendar' 2>/dev/null; then
			command -v "$p"
			return 0
		fi
	done
	return 1
}
