#!/bin/bash
# run.sh - convene's benchmark, side by side with mlmmj and with Postfix's
# smtp-source as the limit, in one run, into Postfix's smtp-sink on
# 127.0.0.1.
#
# usage: bench/run.sh                  (everything: 10-20 minutes on 2 cores)
#        PARTS="accept ingest" bench/run.sh      (some parts)
#        LMTP_POSTS=500 POSTS=100 NS=1000 FLAT_NS="1 1000" bench/run.sh   (a quick check)
#
# Parts ($PARTS, default "fanout accept ingest flat"):
# fanout  one 4096-byte post to N members (N = $NS, default 1000 10000
#         100000), for
#           limit    smtp-source -d -s 8 -m N/100 -r 100: 100 recipients a
#                    transaction over 8 sessions, the same post;
#           mlmmj    Debian's mlmmj, its fastest stock setting: control/verp
#                    present and empty (no VERP), 100 recipients a
#                    transaction, timed as `mlmmj-receive -F -L LIST < post`
#                    (receive, process and send in one exec chain);
#           convene  `convene receive < post`, then `convene run --once`,
#                    once per setting in $CONVENE_SETTINGS (RCPTSxCONNECTIONS,
#                    default "100x4 500x8": max_rcpt_per_txn x connections).
# accept  posts taken in, nothing delivered (a $MEMBERS-member list):
#           limit    smtp-source -L -s $LMTP_SESSIONS -m $LMTP_POSTS into
#                    smtp-sink -L (the protocol's own ceiling on this machine);
#           lmtp     the same smtp-source into `convene lmtp`;
#           pipe     $PIPE_POSTS x `convene receive`, one after another.
# ingest  $POSTS distinct posts (default 1000) to a list of $MEMBERS
#         (default 100), until every copy is at the sink. mlmmj: a plain
#         `mlmmj-receive -L LIST` per post (what an MTA pipe runs: it forks
#         the delivery off and returns), until its last process exited.
#         convene: the worker runs as a daemon (as on a real host) while the
#         posts come in, by the pipe (`convene receive` per post) or over
#         LMTP (smtp-source -L, $LMTP_SESSIONS sessions), until the sink has
#         every copy. Accepted posts/s counts until the last post was
#         taken; the worker's peak RSS is its VmHWM.
# flat    the accept rate of both paths for a list of 1 and of 100,000
#         members ($FLAT_NS; $FLAT_LMTP_POSTS posts over LMTP,
#         $FLAT_PIPE_POSTS by the pipe).
# smtp-source makes its own posts in LMTP mode (distinct Message-Ids, about
# 4 KB with -l 3900): with -F every post would be one file with one
# Message-ID, and convene would keep one and drop the rest as duplicates.
#
# Clock: bench/benchclock.c (built here), a C parent that is the child
# subreaper of everything it starts, so detached children are waited for,
# and whose small size keeps the children's ru_maxrss their own.
#
# Every run gets a fresh smtp-sink (-c, -D dump on $DUMP_ROOT, a tmpfs), and
# afterwards every recipient in the dump is checked against the members:
# each exactly once per post, nobody else (smtp-source's generated
# recipients are counted); accept runs count what convene stored. A run that
# fails the check is marked FAILED.
#
# Environment: CONVENE (default ./convene of this tree: build it with -O2 for
# figures), PARTS, NS, CONVENE_SETTINGS, POSTS, MEMBERS, LMTP_POSTS,
# LMTP_SESSIONS, PIPE_POSTS, FLAT_NS, FLAT_LMTP_POSTS, FLAT_PIPE_POSTS,
# SINK_PORT (default: a free port), WORK_ROOT (default $TMPDIR or /tmp:
# databases and list folders on disk), DUMP_ROOT (/dev/shm), MAX_RUN_S (180:
# a fan-out run is stopped after that), INGEST_MAX_S (200: the same for an
# accept or ingest run, which is then reported as partial), KEEP=1 keeps the
# work folder, SKIP_MLMMJ=1 leaves mlmmj out.
#
# Output: one RESULT line per run on stdout, then the tables (Markdown), the
# ratios and the issue's targets (met or not). Only loopback; every process
# is stopped by its PID.
set -u
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
: "${CONVENE:=$top/convene}"
: "${NS:=1000 10000 100000}"
: "${CONVENE_SETTINGS:=100x4 500x8}"
: "${POSTS:=1000}"
: "${MEMBERS:=100}"
: "${WORK_ROOT:=${TMPDIR:-/tmp}}"
: "${DUMP_ROOT:=/dev/shm}"
: "${MAX_RUN_S:=180}"
: "${INGEST_MAX_S:=200}"
: "${KEEP:=0}"
: "${SKIP_MLMMJ:=0}"
: "${PARTS:=fanout accept ingest flat}"
: "${LMTP_POSTS:=10000}"
: "${LMTP_SESSIONS:=8}"
: "${PIPE_POSTS:=1000}"
: "${FLAT_NS:=1 100000}"
: "${FLAT_LMTP_POSTS:=2000}"
: "${FLAT_PIPE_POSTS:=200}"
SINK=${SMTP_SINK:-/usr/sbin/smtp-sink}
SOURCE=${SMTP_SOURCE:-/usr/sbin/smtp-source}
MLMMJ_RECEIVE=/usr/bin/mlmmj-receive
HOST=127.0.0.1

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---- preconditions ----

[[ -x $CONVENE ]] || die "no convene binary at $CONVENE (make convene, or set CONVENE)"
[[ -x $SINK && -x $SOURCE ]] || die "smtp-sink/smtp-source missing (apt-get install postfix)"
if [[ $SKIP_MLMMJ != 1 ]]; then
	[[ -x $MLMMJ_RECEIVE ]] || die "mlmmj missing (apt-get install mlmmj, or SKIP_MLMMJ=1)"
fi
for c in gcc ss awk sort seq sqlite3; do
	command -v "$c" >/dev/null || die "missing command: $c"
done

# A WORK_ROOT that does not exist would leave WORK empty: every folder of
# the runs would be made (and removed) under /.
WORK=$(mktemp -d "$WORK_ROOT/convene-bench.XXXXXX") && [[ -n $WORK ]] ||
	die "cannot make a work folder under $WORK_ROOT"
chmod 0755 "$WORK"
SINK_PID=
DUMPDIR=
cleanup() {
	[[ -n $SINK_PID ]] && { kill "$SINK_PID" 2>/dev/null; wait "$SINK_PID" 2>/dev/null; }
	[[ -n $DUMPDIR && -d $DUMPDIR ]] && rm -rf "$DUMPDIR"
	if [[ $KEEP == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

CLOCK=$WORK/benchclock
gcc -O2 -Wall -Wextra -Werror -o "$CLOCK" "$here/benchclock.c" || die "cannot build benchclock"

port_busy() { ss -Hltn "sport = :$1" | grep -q .; }
if [[ -z ${SINK_PORT:-} ]]; then
	for SINK_PORT in $(seq 2525 2600); do port_busy "$SINK_PORT" || break; done
fi
port_busy "$SINK_PORT" && die "port $SINK_PORT is busy"

# ---- the sink ----

# sink_start: a fresh smtp-sink dumping to $DUMPDIR/dump; it must be the
# process listening on the port (a leftover one would be caught here).
sink_start() { # sink_start [SMTP-SINK OPTIONS...] (-L: speak LMTP)
	local user=()
	port_busy "$SINK_PORT" && die "port $SINK_PORT is busy"
	DUMPDIR=$(mktemp -d "$DUMP_ROOT/convene-bench-sink.XXXXXX")
	chmod 0777 "$DUMPDIR"
	[[ $(id -u) == 0 ]] && user=(-u nobody)
	"$SINK" "${user[@]}" "$@" -c -D "$DUMPDIR/dump" "$HOST:$SINK_PORT" 1000 \
		>"$DUMPDIR/counters" 2>"$DUMPDIR/err" &
	SINK_PID=$!
	for _ in $(seq 1 100); do
		kill -0 "$SINK_PID" 2>/dev/null || die "smtp-sink exited: $(cat "$DUMPDIR/err")"
		ss -Hltnp "sport = :$SINK_PORT" | grep -q "pid=$SINK_PID," && return 0
		sleep 0.05
	done
	die "smtp-sink does not listen on $HOST:$SINK_PORT"
}

# sink_stop: waits until the message counter is still, then stops the sink.
sink_stop() {
	local last=-1 cur _
	for _ in $(seq 1 50); do
		cur=$(tail -c 200 "$DUMPDIR/counters" | tr '\r' '\n' | sed -n 's/.*mesg=\([0-9]*\).*/\1/p' | tail -1)
		[[ $cur == "$last" ]] && break
		last=$cur
		sleep 0.1
	done
	kill "$SINK_PID" 2>/dev/null
	wait "$SINK_PID" 2>/dev/null
	SINK_PID=
}

sink_drop() { rm -rf "$DUMPDIR"; DUMPDIR=; }

# verify MEMBERS COPIES: each member exactly COPIES times in the dump,
# nobody else. Prints "txns=.. rcpts=.. max_per_txn=.. missing=.. extra=..
# wrong=.. ok=1|FAILED".
verify() {
	awk -v mf="$1" -v copies="$2" '
		BEGIN { while ((getline a < mf) > 0) want[a] = 1 }
		/^X-Mail-Args: / { t++; if (c > m) m = c; c = 0; next }
		/^X-Rcpt-Args: / { r++; c++; a = $2; gsub(/[<>]/, "", a); got[a]++; next }
		END {
			if (c > m) m = c
			for (a in want) { if (!(a in got)) miss++; else if (got[a] != copies) wrong++ }
			for (a in got) if (!(a in want)) extra++
			ok = (miss + extra + wrong == 0 && r > 0) ? "1" : "FAILED"
			printf "txns=%d rcpts=%d max_per_txn=%d missing=%d extra=%d wrong=%d ok=%s\n",
				t, r, m, miss, extra, wrong, ok
		}' "$DUMPDIR/dump"
}

kv() { sed -n "s/^$1=//p" "$2"; }
field() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"; }
div() { awk -v a="$1" -v b="$2" -v f="${3:-%.1f}" 'BEGIN { if (b > 0) printf f, a / b; else print "-" }'; }

# ---- inputs ----

# write_post FILE LISTADDR SEQ: a plain-text post of exactly 4096 bytes with
# the headers a real post carries when the MTA hands it over.
write_post() {
	local file=$1 list=$2 seq=$3 head body
	head="Return-Path: <alice@example.net>
Received: from mail.example.net (mail.example.net [192.0.2.10])
	by mx.lists.example.org (Postfix) with ESMTPS id 7F3A2B1C0D
	for <$list>; Thu, 26 Nov 2026 10:00:00 +0000 (UTC)
Received: from [192.0.2.77] (unknown [192.0.2.77])
	by mail.example.net (Postfix) with ESMTPSA id 1A2B3C4D5E
	for <$list>; Thu, 26 Nov 2026 10:59:58 +0100 (CET)
DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.net; s=s1;
	h=from:to:subject:date:message-id; bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;
	b=dGhpcyBpcyBub3QgYSByZWFsIHNpZ25hdHVyZSwganVzdCBwYWRkaW5nIGZvciB0aGUgYmVuY2htYXJr
Message-ID: <convene-bench-$seq@example.net>
Date: Thu, 26 Nov 2026 10:59:58 +0100
MIME-Version: 1.0
From: Alice Example <alice@example.net>
To: $list
Subject: Workshop schedule and volunteers, round $seq
In-Reply-To: <convene-bench-parent-$seq@example.net>
References: <convene-bench-root@example.net> <convene-bench-parent-$seq@example.net>
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 7bit
"
	body="Hello everyone,

here is the plan for the next workshop weekend. Saturday starts at ten with
soldering basics, followed by a session on repairing small appliances. On
Sunday we build weather stations with the kits that arrived last week.
We still need people for the welcome desk, for the coffee corner and for
tidying up on Sunday evening. Reply to this message if you can help.

Thanks, Alice
"
	{
		printf '%s\n' "$head"
		while :; do printf '%s\n' "$body"; done | head -c $((4096 - ${#head} - 1 - 1))
		printf '\n'
	} >"$file"
	[[ $(wc -c <"$file") == 4096 ]] || die "post $file is not 4096 bytes"
}

# ---- the peers ----

# convene_setup DIR MEMBERS_FILE RCPTS CONNECTIONS: config + database.
convene_setup() {
	local dir=$1
	mkdir -p "$dir"
	cat >"$dir/convene.conf" <<EOC
domain = "lists.example.org";
database = "convene.db";
templates = "$top/templates";
outbound = { transport = "smtp"; host = "$HOST"; port = $SINK_PORT;
             max_rcpt_per_txn = $3; connections = $4; };
lists = ( { name = "bench"; description = "Benchmark list"; policy = "open";
            leaders = [ "leader@example.org" ]; } );
EOC
	"$CONVENE" -c "$dir/convene.conf" members bench import "$2" >"$dir/import.out" 2>&1 ||
		die "convene import: $(cat "$dir/import.out")"
}

# mlmmj_setup DIR MEMBERS_FILE: a list folder in batch mode (control/verp
# present and empty: no VERP, maxverprecips = 100 recipients a transaction).
mlmmj_setup() {
	local l=$1/list d
	for d in incoming queue queue/discarded archive text subconf unsubconf bounce \
		control moderation subscribers.d digesters.d nomailsubs.d requeue; do
		mkdir -p "$l/$d"
	done
	touch "$l/index"
	cp /usr/share/mlmmj/text.skel/en/* "$l/text/"
	echo bench@lists.example.org >"$l/control/listaddress"
	echo owner@example.org >"$l/control/owner"
	echo "$HOST" >"$l/control/relayhost"
	echo "$SINK_PORT" >"$l/control/smtpport"
	echo lists.example.org >"$l/control/smtphelo"
	: >"$l/control/verp"
	# subscribers.d/<first character>, as mlmmj-sub writes them
	awk -v d="$l/subscribers.d" '{ print > (d "/" substr($0, 1, 1)) }' "$2"
}
# mlmmj reads address extensions from these; an MTA would set them.
MLMMJ_ENV=(env -u DEFAULT -u EXTENSION -u LOCAL_PART_SUFFIX)

declare -A WALL RPS RSS OK ACC

# record NAME N CLOCKFILE VERIFY: keeps a fan-out run's figures for the
# tables and prints its RESULT line.
record() {
	local name=$1 n=$2 tt=$3 ver=$4 wall rc rc2
	wall=$(kv wall_s "$tt")
	rc=$(kv rc "$tt")
	rc2=$(kv rc2 "$tt")
	local ok
	ok=$(field ok "$ver")
	[[ $rc == 0 && ($rc2 == - || $rc2 == 0) && $(kv timed_out "$tt") == 0 ]] || ok=FAILED
	WALL[$name,$n]=$wall
	RPS[$name,$n]=$(div "$n" "$wall" %.0f)
	OK[$name,$n]=$ok
	echo "RESULT run=$name n=$n ok=$ok rc=$rc rc2=$rc2 wall_s=$wall accept_s=$(kv wall_main_s "$tt")" \
		"rcpt_per_s=${RPS[$name,$n]} cmd_maxrss_kb=$(kv cmd_maxrss_kb "$tt")" \
		"cmd2_maxrss_kb=$(kv cmd2_maxrss_kb "$tt") maxrss_kb=$(kv maxrss_kb "$tt")" \
		"cpu_s=$(awk -v u="$(kv utime_s "$tt")" -v s="$(kv stime_s "$tt")" 'BEGIN { printf "%.2f", u + s }')" \
		"$ver"
}

run_limit() {
	local n=$1 dir=$WORK/limit-$1 tt ver msgs
	mkdir -p "$dir"
	msgs=$(((n + 99) / 100))
	sink_start
	log "limit n=$n: smtp-source -d -s 8 -m $msgs -r 100"
	"$CLOCK" -o "$dir/tt" -t "$MAX_RUN_S" -- "$SOURCE" -d -s 8 -m "$msgs" -r 100 \
		-F "$WORK/post.eml" -f alice@example.net -t user@example.org \
		-M lists.example.org "$HOST:$SINK_PORT" >"$dir/out" 2>&1
	sink_stop
	# smtp-source makes up its recipients: count them and the messages.
	ver=$(awk -v want="$((msgs * 100))" -v wm="$msgs" '
		/^X-Mail-Args: / { t++ } /^X-Rcpt-Args: / { r++ }
		END { printf "txns=%d rcpts=%d ok=%s\n", t, r, (r == want && t == wm) ? "1" : "FAILED" }' \
		"$DUMPDIR/dump")
	sink_drop
	record limit "$n" "$dir/tt" "$ver"
	RSS[limit,$n]=$(kv maxrss_kb "$dir/tt")
}

run_mlmmj() {
	local n=$1 dir=$WORK/mlmmj-$1 ver
	mkdir -p "$dir"
	mlmmj_setup "$dir" "$WORK/members-$n"
	sink_start
	log "mlmmj n=$n: mlmmj-receive -F (batch: verp empty, 100 rcpt/txn)"
	"$CLOCK" -o "$dir/tt" -i "$WORK/post.eml" -t "$MAX_RUN_S" -- \
		"${MLMMJ_ENV[@]}" "$MLMMJ_RECEIVE" -F -L "$dir/list" >"$dir/out" 2>&1
	sink_stop
	ver=$(verify "$WORK/members-$n" 1)
	sink_drop
	record mlmmj "$n" "$dir/tt" "$ver"
	RSS[mlmmj,$n]=$(kv cmd_maxrss_kb "$dir/tt")
}

run_convene() {
	local n=$1 set=$2 dir=$WORK/convene-$2-$1 ver name=convene-$2
	convene_setup "$dir" "$WORK/members-$n" "${set%x*}" "${set#*x}"
	sink_start
	log "convene $set n=$n: receive, then run --once (max_rcpt_per_txn=${set%x*} connections=${set#*x})"
	"$CLOCK" -o "$dir/tt" -i "$WORK/post.eml" -t "$MAX_RUN_S" -- \
		"$CONVENE" -c "$dir/convene.conf" receive --recipient bench@lists.example.org \
		::: "$CONVENE" -c "$dir/convene.conf" run --once >"$dir/out" 2>&1
	sink_stop
	ver=$(verify "$WORK/members-$n" 1)
	sink_drop
	record "$name" "$n" "$dir/tt" "$ver"
	RSS[$name,$n]=$(kv cmd2_maxrss_kb "$dir/tt")
	ACC[$name,$n]=$(kv wall_main_s "$dir/tt")
	[[ $KEEP == 1 ]] || rm -rf "$dir"
}

# ---- convene's daemons: the LMTP listener and the worker ----

# As root they run as nobody (--user nobody; the list's folder becomes
# nobody's), elsewhere as the caller.
DUSER=()
[[ $(id -u) == 0 ]] && DUSER=(--user nobody)
own() { [[ $(id -u) == 0 ]] && chown -R nobody "$1"; return 0; }
LPID=
WPID=

# convene_list DIR MEMBERS_FILE: a list for the accept and ingest runs
# (100 recipients a transaction over 4 connections, as the ingest always
# used), with its LMTP socket in DIR.
convene_list() {
	convene_setup "$1" "$2" 100 4
	printf 'lmtp = { listen = "unix:%s/lmtp.sock"; max_sessions = 64; };\n' "$1" >>"$1/convene.conf"
}
lmtp_start() {
	own "$1"
	"$CONVENE" -c "$1/convene.conf" lmtp "${DUSER[@]}" >"$1/lmtp.out" 2>&1 &
	LPID=$!
	local i
	for i in $(seq 1 200); do
		grep -q "listening on" "$1/lmtp.out" 2>/dev/null && return 0
		kill -0 "$LPID" 2>/dev/null || break
		sleep 0.05
	done
	die "convene lmtp did not start: $(cat "$1/lmtp.out")"
}
# daemon_stop PID: SIGTERM, reap; prints its peak RSS (kB) first.
daemon_rss() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$1/status" 2>/dev/null; }
daemon_stop() {
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}
worker_start() {
	own "$1"
	"$CONVENE" -c "$1/convene.conf" run "${DUSER[@]}" >"$1/worker.out" 2>&1 &
	WPID=$!
}
stored() { sqlite3 "$1/convene.db" "SELECT count(*) FROM archive"; }
sink_msgs() { tail -c 300 "$DUMPDIR/counters" | tr '\r' '\n' | sed -n 's/.*mesg=\([0-9]*\).*/\1/p' | tail -1; }
# wait_sink MSGS LIMIT_S: until the sink has counted MSGS transactions.
wait_sink() {
	local end=$((SECONDS + $2)) m
	while ((SECONDS < end)); do
		m=$(sink_msgs)
		[[ ${m:-0} -ge $1 ]] && return 0
		sleep 0.02
	done
	return 1
}
now() { date +%s.%N; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a - b }'; }

# posts_files DIR N TEMPLATE: N distinct 4096-byte posts (ROUNDSEQ becomes
# an 8-digit number), listed in DIR/posts.list.
posts_files() {
	mkdir -p "$1/posts"
	awk -v n="$2" -v d="$1/posts" '
		{ line[NR] = $0 }
		END {
			for (i = 1; i <= n; i++) {
				f = sprintf("%s/p%06d.eml", d, i)
				s = sprintf("%08d", i)
				for (k = 1; k <= NR; k++) { l = line[k]; gsub(/ROUNDSEQ/, s, l); print l > f }
				close(f)
				print f > (d "/../posts.list")
			}
		}' "$3"
}

# smtp-source makes its own posts in LMTP mode: headers with a distinct
# Message-Id and -l bytes of text, about 4 KB in all (-F would send one
# file, one Message-ID, for every post: all but one dropped as duplicates).
SOURCE_LEN=3900
source_lmtp() { # source_lmtp OUT POSTS SESSIONS TARGET
	"$CLOCK" -o "$1" -t "$INGEST_MAX_S" -- "$SOURCE" -L -s "$3" -m "$2" -l "$SOURCE_LEN" \
		-f alice@example.net -t bench@lists.example.org -M example.net "$4"
}

declare -A ACCEPT

# ---- accept: posts taken in, nothing delivered ----

run_accept() {
	local what=$1 dir=$WORK/accept-$1 tt n ok rate
	case $what in
	limit)
		# The protocol's own ceiling: smtp-source -L into smtp-sink -L.
		mkdir -p "$dir"
		sink_start -L
		log "accept limit: smtp-source -L -s $LMTP_SESSIONS -m $LMTP_POSTS into smtp-sink -L"
		source_lmtp "$dir/tt" "$LMTP_POSTS" "$LMTP_SESSIONS" "$HOST:$SINK_PORT" >"$dir/out" 2>&1
		sink_stop
		n=$(grep -c '^X-Mail-Args:' "$DUMPDIR/dump")
		sink_drop
		;;
	lmtp)
		convene_list "$dir" "$WORK/ingest-members"
		lmtp_start "$dir"
		log "accept lmtp: smtp-source -L -s $LMTP_SESSIONS -m $LMTP_POSTS into convene lmtp"
		source_lmtp "$dir/tt" "$LMTP_POSTS" "$LMTP_SESSIONS" "unix:$dir/lmtp.sock" >"$dir/out" 2>&1
		ACCEPT[lmtp,rss]=$(daemon_rss "$LPID")
		daemon_stop "$LPID"
		n=$(stored "$dir")
		;;
	pipe)
		convene_list "$dir" "$WORK/ingest-members"
		posts_files "$dir" "$PIPE_POSTS" "$WORK/ingest-post.eml"
		log "accept pipe: $PIPE_POSTS x convene receive, one after another"
		"$CLOCK" -o "$dir/tt" -I "$dir/posts.list" -t "$INGEST_MAX_S" -- \
			"$CONVENE" -c "$dir/convene.conf" receive --recipient bench@lists.example.org >"$dir/out" 2>&1
		n=$(stored "$dir")
		;;
	esac
	tt=$dir/tt
	local want=$LMTP_POSTS
	[[ $what == pipe ]] && want=$PIPE_POSTS
	ok=1
	[[ $(kv rc "$tt") == 0 && $(kv timed_out "$tt") == 0 && $n == "$want" ]] || ok=FAILED
	rate=$(div "$n" "$(kv wall_main_s "$tt")")
	ACCEPT[$what,rate]=$rate
	ACCEPT[$what,ok]=$ok
	echo "RESULT run=accept-$what posts=$want stored=$n ok=$ok accept_s=$(kv wall_main_s "$tt")" \
		"posts_per_s=$rate maxrss_kb=$(kv maxrss_kb "$tt") lmtp_rss_kb=${ACCEPT[lmtp,rss]:--}"
	[[ $KEEP == 1 ]] || rm -rf "$dir"
}

# ---- ingest: POSTS posts to MEMBERS members, until every copy is at the
# sink ----
# mlmmj: each post a plain mlmmj-receive (it forks the delivery off and
# returns, as from an MTA pipe); the clock runs until its last process
# exited. convene: the worker runs as a daemon, as on a real host, while
# the posts come in, by the pipe (one `convene receive` each, one after
# another) or over LMTP (smtp-source -L, LMTP_SESSIONS sessions); the clock
# runs until the sink has every copy.

declare -A ING

run_ingest() {
	local peer=$1 dir=$WORK/ingest-$1 ver tt t0 t1 ok runs wall accept_s rss=
	mkdir -p "$dir"
	tt=$dir/tt
	case $peer in
	mlmmj)
		posts_files "$dir" "$POSTS" "$WORK/ingest-post.eml"
		mlmmj_setup "$dir" "$WORK/ingest-members"
		sink_start
		log "ingest mlmmj: $POSTS x mlmmj-receive (async, as an MTA pipe; batch mode)"
		"$CLOCK" -o "$tt" -I "$dir/posts.list" -t "$INGEST_MAX_S" -- \
			"${MLMMJ_ENV[@]}" "$MLMMJ_RECEIVE" -L "$dir/list" >"$dir/out" 2>&1
		wall=$(kv wall_s "$tt")
		runs=$(kv runs "$tt")
		rss=$(kv maxrss_kb "$tt")
		ok=1
		;;
	pipe | lmtp)
		convene_list "$dir" "$WORK/ingest-members"
		[[ $peer == pipe ]] && posts_files "$dir" "$POSTS" "$WORK/ingest-post.eml"
		sink_start
		[[ $peer == lmtp ]] && lmtp_start "$dir"
		worker_start "$dir"
		log "ingest convene-$peer: $POSTS posts with the worker running"
		t0=$(now)
		if [[ $peer == pipe ]]; then
			"$CLOCK" -o "$tt" -I "$dir/posts.list" -t "$INGEST_MAX_S" -- \
				"$CONVENE" -c "$dir/convene.conf" receive --recipient bench@lists.example.org \
				>"$dir/out" 2>&1
			runs=$(kv runs "$tt")
		else
			source_lmtp "$tt" "$POSTS" "$LMTP_SESSIONS" "unix:$dir/lmtp.sock" >"$dir/out" 2>&1
			runs=$(stored "$dir")
		fi
		ok=1
		wait_sink "$POSTS" "$INGEST_MAX_S" || ok="partial (not all at the sink in ${INGEST_MAX_S} s)"
		t1=$(now)
		wall=$(sub "$t1" "$t0")
		rss=$(daemon_rss "$WPID")
		daemon_stop "$WPID"
		[[ $peer == lmtp ]] && daemon_stop "$LPID"
		;;
	esac
	sink_stop
	ver=$(verify "$WORK/ingest-members" "$POSTS")
	sink_drop
	accept_s=$(kv wall_main_s "$tt")
	[[ $(field ok "$ver") == 1 ]] || ok=FAILED
	[[ $(kv rc "$tt") == 0 && $(kv timed_out "$tt") == 0 && $runs == "$POSTS" ]] || ok=FAILED
	ING[$peer,accept]=$(div "$runs" "$accept_s")
	ING[$peer,wall]=$(awk -v a="$wall" 'BEGIN { printf "%.2f", a }')
	ING[$peer,ok]=$ok
	ING[$peer,rss]=$rss
	echo "RESULT run=ingest-$peer posts=$POSTS members=$MEMBERS ok=$ok accept_s=$accept_s" \
		"accepted_per_s=${ING[$peer,accept]} all_delivered_s=${ING[$peer,wall]}" \
		"worker_or_largest_rss_kb=$rss $ver"
	[[ $KEEP == 1 ]] || rm -rf "$dir"
}

# ---- flat: the accept cost by list size ----

declare -A FLAT

run_flat() {
	local n=$1 dir=$WORK/flat-$1 tt posts
	seq -f 'flat%06g@example.org' 1 "$n" >"$WORK/flat-members-$n"
	convene_list "$dir" "$WORK/flat-members-$n"
	# LMTP
	lmtp_start "$dir"
	log "flat n=$n: $FLAT_LMTP_POSTS posts over LMTP"
	source_lmtp "$dir/tt-lmtp" "$FLAT_LMTP_POSTS" "$LMTP_SESSIONS" "unix:$dir/lmtp.sock" >"$dir/out" 2>&1
	daemon_stop "$LPID"
	posts=$(stored "$dir")
	FLAT[lmtp,$n]=$(div "$posts" "$(kv wall_main_s "$dir/tt-lmtp")")
	[[ $posts == "$FLAT_LMTP_POSTS" ]] || FLAT[lmtp,$n]="${FLAT[lmtp,$n]} **FAILED**"
	# The pipe
	posts_files "$dir" "$FLAT_PIPE_POSTS" "$WORK/ingest-post.eml"
	log "flat n=$n: $FLAT_PIPE_POSTS posts by the pipe"
	"$CLOCK" -o "$dir/tt-pipe" -I "$dir/posts.list" -t "$INGEST_MAX_S" -- \
		"$CONVENE" -c "$dir/convene.conf" receive --recipient bench@lists.example.org >>"$dir/out" 2>&1
	FLAT[pipe,$n]=$(div "$(kv runs "$dir/tt-pipe")" "$(kv wall_main_s "$dir/tt-pipe")")
	[[ $(kv rc "$dir/tt-pipe") == 0 ]] || FLAT[pipe,$n]="${FLAT[pipe,$n]} **FAILED**"
	echo "RESULT run=flat n=$n lmtp_posts_per_s=${FLAT[lmtp,$n]} pipe_posts_per_s=${FLAT[pipe,$n]}"
	[[ $KEEP == 1 ]] || rm -rf "$dir"
}

# ---- the run ----

log "work: $WORK, sink: $HOST:$SINK_PORT dump on $DUMP_ROOT, convene: $CONVENE, parts: $PARTS"
echo "# convene bench $(date -Is) host=$(hostname) cpus=$(nproc) kernel=$(uname -r)" \
	"mlmmj=$(dpkg-query -W -f '${Version}' mlmmj 2>/dev/null || echo -)" \
	"postfix=$(dpkg-query -W -f '${Version}' postfix 2>/dev/null || echo -)" \
	"convene_settings=$CONVENE_SETTINGS parts=\"$PARTS\" load=\"$(cut -d' ' -f1-3 /proc/loadavg)\""
write_post "$WORK/post.eml" bench@lists.example.org 1
write_post "$WORK/ingest-post.eml" bench@lists.example.org ROUNDSEQ
seq -f 'ingest%04g@example.org' 1 "$MEMBERS" >"$WORK/ingest-members"
has() { [[ " $PARTS " == *" $1 "* ]]; }

if has fanout; then
	for n in $NS; do
		seq -f 'member%06g@example.org' 1 "$n" >"$WORK/members-$n"
		run_limit "$n"
		[[ $SKIP_MLMMJ == 1 ]] || run_mlmmj "$n"
		for set in $CONVENE_SETTINGS; do run_convene "$n" "$set"; done
	done
fi
if has accept; then
	run_accept limit
	run_accept lmtp
	run_accept pipe
fi
if has ingest; then
	[[ $SKIP_MLMMJ == 1 ]] || run_ingest mlmmj
	run_ingest pipe
	run_ingest lmtp
fi
if has flat; then
	for n in $FLAT_NS; do run_flat "$n"; done
fi

# ---- tables ----

cell() { # cell NAME N: "wall s, rcpt/s, RSS"
	local k=$1,$2
	[[ -n ${WALL[$k]:-} ]] || { echo "-"; return; }
	printf '%.3f s, %s/s, %.1f MB%s' "${WALL[$k]}" "${RPS[$k]}" \
		"$(div "${RSS[$k]}" 1024 %.1f)" "$([[ ${OK[$k]} == 1 ]] || echo " **${OK[$k]}**")"
}
ratio() { # ratio A B N: wall(A)/wall(B)
	[[ -n ${WALL[$1,$3]:-} && -n ${WALL[$2,$3]:-} ]] || { echo "-"; return; }
	div "${WALL[$1,$3]}" "${WALL[$2,$3]}" %.3f
}
num() { awk -v a="$1" 'BEGIN { exit !(a + 0 == a && a != "") }'; }
# ratio_of A B: A/B with 2 decimals, "-" when either is missing.
ratio_of() { num "${1%% *}" && num "${2%% *}" && div "${1%% *}" "${2%% *}" %.2f || echo -; }
# target WHAT VALUE OP GOAL: "met" or "NOT met" (OP: ge or le).
target() {
	num "$2" || { echo "- (no figure)"; return; }
	if awk -v v="$2" -v g="$4" -v op="$3" 'BEGIN { exit !((op == "ge") ? v >= g : v <= g) }'; then
		echo "met"
	else
		echo "NOT met"
	fi
}

if has fanout; then
	names=(limit)
	[[ $SKIP_MLMMJ == 1 ]] || names+=(mlmmj)
	for set in $CONVENE_SETTINGS; do names+=("convene-$set"); done
	echo
	echo "### Fan-out: one 4 KB post to N members (wall, recipients/s, peak RSS of the timed process)"
	echo
	printf '| N |'; for nm in "${names[@]}"; do printf ' %s |' "$nm"; done; echo
	printf '|---|'; for nm in "${names[@]}"; do printf -- '---|'; done; echo
	for n in $NS; do
		printf '| %s |' "$n"
		for nm in "${names[@]}"; do printf ' %s |' "$(cell "$nm" "$n")"; done
		echo
	done
	echo
	echo "### Ratios of wall time (below 1: convene is faster)"
	echo
	printf '| N |'
	for set in $CONVENE_SETTINGS; do
		[[ $SKIP_MLMMJ == 1 ]] || printf ' convene-%s / mlmmj |' "$set"
		printf ' convene-%s / limit |' "$set"
	done
	echo
	printf '|---|'
	for set in $CONVENE_SETTINGS; do
		[[ $SKIP_MLMMJ == 1 ]] || printf -- '---|'
		printf -- '---|'
	done
	echo
	for n in $NS; do
		printf '| %s |' "$n"
		for set in $CONVENE_SETTINGS; do
			[[ $SKIP_MLMMJ == 1 ]] || printf ' %s |' "$(ratio "convene-$set" mlmmj "$n")"
			printf ' %s |' "$(ratio "convene-$set" limit "$n")"
		done
		echo
	done
fi
if has accept; then
	echo
	echo "### Accept: posts taken in (4 KB, list of $MEMBERS), nothing delivered"
	echo
	echo "| path | posts | posts/s | verified |"
	echo "|---|---|---|---|"
	echo "| limit: smtp-source -L into smtp-sink -L, $LMTP_SESSIONS sessions | $LMTP_POSTS | ${ACCEPT[limit,rate]:--} | ${ACCEPT[limit,ok]:--} |"
	echo "| convene lmtp: smtp-source -L, $LMTP_SESSIONS sessions | $LMTP_POSTS | ${ACCEPT[lmtp,rate]:--} | ${ACCEPT[lmtp,ok]:--} |"
	echo "| convene receive (pipe), one after another | $PIPE_POSTS | ${ACCEPT[pipe,rate]:--} | ${ACCEPT[pipe,ok]:--} |"
	echo
	echo "LMTP listener peak RSS: $(div "${ACCEPT[lmtp,rss]:-0}" 1024 %.1f) MB"
fi
if has ingest; then
	echo
	echo "### Ingest: $POSTS posts to $MEMBERS members, until every copy is at the sink"
	echo
	echo "| peer | accepted posts/s | all delivered | verified | peak RSS (convene: the worker; mlmmj: its largest process) |"
	echo "|---|---|---|---|---|"
	for p in mlmmj pipe lmtp; do
		[[ -n ${ING[$p,ok]:-} ]] || continue
		name=$p
		[[ $p == mlmmj ]] || name=convene-$p
		echo "| $name | ${ING[$p,accept]} | ${ING[$p,wall]} s | ${ING[$p,ok]} | $(div "${ING[$p,rss]:-0}" 1024 %.1f) MB |"
	done
fi
if has flat; then
	echo
	echo "### Accept cost by list size (posts/s; no delivery)"
	echo
	printf '| path |'; for n in $FLAT_NS; do printf ' %s members |' "$n"; done; echo ' largest / smallest |'
	printf '|---|'; for n in $FLAT_NS; do printf -- '---|'; done; echo '---|'
	first=${FLAT_NS%% *}
	last=${FLAT_NS##* }
	for p in lmtp pipe; do
		printf '| %s |' "$p"
		for n in $FLAT_NS; do printf ' %s |' "${FLAT[$p,$n]:--}"; done
		printf ' %s |\n' "$(ratio_of "${FLAT[$p,$last]:-}" "${FLAT[$p,$first]:-}")"
	done
fi

# ---- the issue's targets, as ratios ----

echo
echo "### Targets"
echo
if has accept; then
	r=$(ratio_of "${ACCEPT[lmtp,rate]:-}" "${ACCEPT[pipe,rate]:-}")
	echo "- LMTP accepted posts/s: ${ACCEPT[lmtp,rate]:--} (target >= 2000: $(target x "${ACCEPT[lmtp,rate]:-}" ge 2000))"
	echo "- LMTP / pipe accept: $r (target >= 20: $(target x "$r" ge 20))"
	echo "- LMTP / protocol limit: $(ratio_of "${ACCEPT[lmtp,rate]:-}" "${ACCEPT[limit,rate]:-}")"
fi
if has ingest; then
	r=$(ratio_of "${ING[pipe,accept]:-}" "${ING[mlmmj,accept]:-}")
	echo "- pipe / mlmmj-receive accepted posts/s: $r (target >= 1.5: $(target x "$r" ge 1.5))"
	r=$(ratio_of "${ING[lmtp,wall]:-}" "${ING[mlmmj,wall]:-}")
	echo "- ingest all delivered, convene-lmtp / mlmmj: $r (target <= 0.5: $(target x "$r" le 0.5))"
	r=$(ratio_of "${ING[pipe,wall]:-}" "${ING[mlmmj,wall]:-}")
	echo "- ingest all delivered, convene-pipe / mlmmj: $r"
	for p in pipe lmtp; do
		m=$(div "${ING[$p,rss]:-0}" 1024 %.1f)
		echo "- worker peak RSS in ingest-$p: $m MB (target <= 16: $(target x "$m" le 16))"
	done
fi
if has flat; then
	for p in lmtp pipe; do
		r=$(ratio_of "${FLAT[$p,${FLAT_NS##* }]:-}" "${FLAT[$p,${FLAT_NS%% *}]:-}")
		echo "- $p accept rate, ${FLAT_NS##* } / ${FLAT_NS%% *} members: $r (flat: near 1)"
	done
fi
echo
echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
