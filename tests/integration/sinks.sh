# sinks.sh - SMTP peers on loopback for the delivery tests (sourced after
# lib.sh): Postfix's smtp-sink with -D, whose dump has one block per
# transaction, "X-Mail-Args: <from>" then one "X-Rcpt-Args: <rcpt>" line
# per recipient, so that every copy of every member can be counted. Every
# process started here is stopped by its PID (lib.sh's CLEANUP_PIDS).

SINK=${SMTP_SINK:-/usr/sbin/smtp-sink}
CLEANUP_PIDS=${CLEANUP_PIDS:-}

# A TCP port on 127.0.0.1 that nobody listens on (checked, not guessed).
free_port() {
	local p i
	for i in $(seq 1 50); do
		p=$((20000 + (RANDOM * 7 + $$ + i * 131) % 30000))
		if ! ss -Hltn "sport = :$p" | grep -q .; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# listening PID PORT: waits until PID listens on PORT (up to 5 s).
listening() {
	local i
	for i in $(seq 1 100); do
		kill -0 "$1" 2>/dev/null || return 1
		ss -Hltnp "sport = :$2" | grep -q "pid=$1," && return 0
		sleep 0.05
	done
	return 1
}

# sink_start PORT DUMP [SMTP-SINK OPTIONS...]: a fresh smtp-sink appending
# to DUMP. Sets SINK_PID.
sink_start() {
	local port=$1 dump=$2 user=()
	shift 2
	[ "$(id -u)" = 0 ] && user=(-u nobody)
	"$SINK" "${user[@]}" "$@" -D "$dump" "127.0.0.1:$port" 100 \
		2>>"$T/sink.err" &
	SINK_PID=$!
	CLEANUP_PIDS="$CLEANUP_PIDS $SINK_PID"
	listening "$SINK_PID" "$port"
}

# stop PID: SIGTERM to that one process, then reap it.
stop() {
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

# rcpts DUMP...: every recipient in the dumps, one per line (with repeats).
rcpts() {
	cat "$@" 2>/dev/null | sed -n 's/^X-Rcpt-Args: <\([^>]*\)>.*/\1/p'
}
nrcpts() { rcpts "$@" | wc -l | tr -d ' '; }
# ntxns DUMP...: transactions in the dumps.
ntxns() { cat "$@" 2>/dev/null | grep -c '^X-Mail-Args:'; }

# copies EXPECTED N DUMP...: "missing=A extra=B wrong=C" where wrong counts
# the expected addresses that did not arrive exactly N times.
copies() {
	local expected=$1 n=$2
	shift 2
	rcpts "$@" | sort | uniq -c | awk -v n="$n" -v expf="$expected" '
		BEGIN { while ((getline a < expf) > 0) want[a] = 1 }
		{ got[$2] = $1 }
		END {
			for (a in want) { if (!(a in got)) miss++; else if (got[a] != n) wrong++ }
			for (a in got) if (!(a in want)) extra++
			printf "missing=%d extra=%d wrong=%d\n", miss, extra, wrong
		}'
}

# dup_report EXPECTED DUMP...: "missing=A extra=B over2=C dups=D txns=E"
# where over2 counts addresses that arrived more than twice, dups the
# addresses that arrived twice, and txns the number of transactions that the
# first copies of the duplicated addresses belong to.
dup_report() {
	local expected=$1
	shift
	cat "$@" | awk -v expf="$expected" '
		BEGIN { while ((getline a < expf) > 0) want[a] = 1 }
		/^X-Mail-Args: / { t++; next }
		/^X-Rcpt-Args: / {
			a = $2; gsub(/[<>]/, "", a)
			if (!(a in got)) first[a] = t
			got[a]++
			next
		}
		END {
			for (a in want) if (!(a in got)) miss++
			for (a in got) {
				if (!(a in want)) extra++
				if (got[a] > 2) over++
				if (got[a] >= 2) { dups++; ft[first[a]] = 1 }
			}
			for (x in ft) txns++
			printf "missing=%d extra=%d over2=%d dups=%d txns=%d\n",
				miss, extra, over, dups, txns
		}'
}
field() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"; }

# members FILE N PREFIX: N generated addresses.
members() { seq -f "$3%05g@example.org" 1 "$2" >"$1"; }

# file_sink_start PORT DIR [SMTP-SINK OPTIONS...]: a fresh smtp-sink that
# writes each transaction, its envelope and its message, to a file of its
# own under DIR (-d), so that what each recipient got can be read. Sets
# SINK_PID.
file_sink_start() {
	local port=$1 dir=$2 user=()
	shift 2
	mkdir -p "$dir"
	chmod 0777 "$dir"
	[ "$(id -u)" = 0 ] && user=(-u nobody)
	"$SINK" "${user[@]}" "$@" -d "$dir/%H%M%S." "127.0.0.1:$port" 100 \
		2>>"$T/sink.err" &
	SINK_PID=$!
	CLEANUP_PIDS="$CLEANUP_PIDS $SINK_PID"
	listening "$SINK_PID" "$port"
}
