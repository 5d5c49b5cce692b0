#!/bin/bash
# SMTP AUTH without the SASL library's plugins (a fresh Debian 12 without
# libsasl2-modules): nothing is sent, the job waits, and the log says that no
# SASL mechanism was available, not the server's greeting.
. "$(dirname "$0")/lib.sh"

SINK=${SMTP_SINK:-/usr/sbin/smtp-sink}
need_sink
chmod 0755 "$T"
mkdir -m 0777 "$T/sink" "$T/nosasl"
port=
start_sink() {
	local p i
	for i in 1 2 3 4 5 6 7 8; do
		p=$(( 20000 + ($$ * 11 + i * 137) % 30000 ))
		"$SINK" -u nobody -v -D "$T/sink/dump" "127.0.0.1:$p" 100 \
			>"$T/sink/log" 2>&1 &
		SINK_PID=$!
		sleep 0.3
		if kill -0 "$SINK_PID" 2>/dev/null; then
			port=$p
			CLEANUP_PIDS="$CLEANUP_PIDS $SINK_PID"
			return 0
		fi
	done
	return 1
}
CLEANUP_PIDS=
check "smtp-sink started" start_sink

write_config "" "outbound = { transport = \"smtp\"; host = \"127.0.0.1\"; port = $port;
  auth_user = \"convene\"; auth_password = \"s3cret\"; };"
sed -i '/transport = "maildir"/d' "$T/convene.conf"
add_members bob@example.net
expect_eq "post accepted" 0 "$(post "$FIXTURES/post-alice.eml")"

# Cyrus SASL looks for its mechanisms in $SASL_PATH: an empty folder is a
# host without libsasl2-modules.
rc=0
SASL_PATH=$T/nosasl "$CONVENE" -c "$T/convene.conf" run --once >"$T/run.out" 2>&1 || rc=$?
expect_eq "run --once exits 0" 0 "$rc"
check "the log says no SASL mechanism was available" \
	grep -q 'cannot AUTH PLAIN: no SASL mechanism PLAIN was available.*libsasl2-modules' "$CONVENE_LOG_FILE"
check "...and does not blame the greeting" \
	sh -c "! grep -q 'failed: 220' '$CONVENE_LOG_FILE'"
check "no AUTH command reached the server" \
	sh -c "! grep -q ': AUTH' '$T/sink/log'"
expect_eq "the job waits for a retry" 1 \
	"$(sql "SELECT count(*) FROM jobs WHERE state = 'queued' AND attempts >= 1")"

# With the mechanisms (the packages install-deps.sh installs) it goes out.
CONVENE_NOW=$(( $(date +%s) + 3600 )) cv run --once >>"$T/run.out" 2>&1
sleep 0.5
check "with libsasl2-modules: AUTH PLAIN sent" grep -q ': AUTH PLAIN' "$T/sink/log"
check "...and the post delivered" grep -q '^X-Rcpt-Args: <bob@example.net>' "$T/sink/dump"
finish
