#!/bin/bash
# t291-meeting-calendars - every invitation, update and cancellation
# convene writes is read by libical (tests/helpers/icalcheck, libical used
# directly) and by Python's email + icalendar (Debian 12's
# python3-icalendar 4.0.3, tests/helpers/icalpy.py), and both say the
# same: METHOD (in the calendar and the Content-Type), UID, SEQUENCE, the
# instants of DTSTART and DTEND across changes to and from summer time in
# Berlin and New York, a zone without summer time, UTC; a weekly meeting
# is one UID with an RRULE whose occurrences keep their wall-clock time;
# DTSTART names the meeting's zone (none for UTC); the archived copy of
# each invitation reads alike in both (METHOD:PUBLISH).
# Then the invitation job is killed in the middle over SMTP and resumed:
# every member gets an invitation naming them, duplicates only from the
# transactions in flight.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sinks.sh"
set -u

PY=$(icalendar_python) || { echo "python3-icalendar is not installed"; exit 77; }
ICALPY="$PY $top_srcdir/tests/helpers/icalpy.py"
ICALCHECK=$top_builddir/tests/helpers/icalcheck
[ -x "$ICALCHECK" ] || { echo "tests/helpers/icalcheck is not built"; exit 1; }
need_sink

write_config 'meetings = { timezone = "Europe/Berlin"; };'
add_members ann@example.org ben@example.net
flush() { cv run --once >/dev/null 2>&1; }
utc() { date -ud "$1" +%Y-%m-%dT%H:%M:%SZ; }

# schedule NAME KEY=VALUE...: a meeting by the CLI; its id in $ID_<NAME>.
schedule() {
	local name=$1 out
	shift
	out=$(cv meeting makers schedule title="$name" duration=90m "$@" 2>/dev/null)
	eval "ID_$name=$(sed -n 's/^meeting \([0-9]*\):.*/\1/p' <<<"$out")"
}
schedule Winter when="2031-03-27 19:00"
schedule Summer when="2031-04-03 19:00"
schedule Weekly when="2031-03-20 19:00" repeat="weekly 4 times"
schedule NewYork when="2031-03-06 09:00" timezone=America/New_York repeat="weekly 2 times"
schedule FallBack when="2031-10-23 19:00" repeat="weekly until 2031-10-30"
schedule Tokyo when="2031-03-27 19:00" timezone=Asia/Tokyo
schedule Utc when="2031-03-27 19:00" timezone=UTC
expect_eq "seven meetings scheduled" 7 "$(sql 'SELECT count(*) FROM meetings')"
flush
cv meeting makers update "$ID_Weekly" when="2031-03-21 19:00" >/dev/null 2>&1
cv meeting makers cancel "$ID_Weekly" >/dev/null 2>&1
flush

# What each meeting must say, in UTC.
declare -A START END OCC
START[Winter]=$(utc '2031-03-27 18:00'); END[Winter]=$(utc '2031-03-27 19:30')
START[Summer]=$(utc '2031-04-03 17:00'); END[Summer]=$(utc '2031-04-03 18:30')
START[NewYork]=$(utc '2031-03-06 14:00'); END[NewYork]=$(utc '2031-03-06 15:30')
OCC[NewYork]="$(utc '2031-03-06 14:00') $(utc '2031-03-13 13:00')"
START[FallBack]=$(utc '2031-10-23 17:00'); END[FallBack]=$(utc '2031-10-23 18:30')
OCC[FallBack]="$(utc '2031-10-23 17:00') $(utc '2031-10-30 18:00')"
START[Tokyo]=$(utc '2031-03-27 10:00'); END[Tokyo]=$(utc '2031-03-27 11:30')
START[Utc]=$(utc '2031-03-27 19:00'); END[Utc]=$(utc '2031-03-27 20:30')
# The zone each meeting's DTSTART names (none for UTC: a time with Z).
declare -A TZ_OF
TZ_OF[NewYork]=America/New_York; TZ_OF[Tokyo]=Asia/Tokyo; TZ_OF[Utc]='UTC (no TZID)'

# check_file FILE: both readers agree, and say what the meeting is.
n=0
check_file() {
	local f=$1 name kind py lc seq method id uid start end occ tz
	name=$(header "$f" Subject)
	case $name in *=\?*) name=$(decode_rfc2047 "$name") ;; esac
	kind=$(sed 's/^\[makers\] \([A-Za-z]*\):.*/\1/' <<<"$name")
	name=$(sed 's/^\[makers\] [A-Za-z]*: \([A-Za-z]*\) .*/\1/' <<<"$name")
	py=$($ICALPY "$f") || { not_ok "$f: Python's icalendar cannot read it"; return; }
	lc=$($ICALPY --part "$f" | "$ICALCHECK") || { not_ok "$f: libical cannot read it"; return; }
	n=$((n + 1))
	expect_eq "$kind $name: libical and Python read the same" "$lc" "$(grep -v '^ctmethod=' <<<"$py")"
	case $kind in
	Invitation) method=REQUEST; seq=0 ;;
	Updated) method=REQUEST; seq=1 ;;
	Cancelled) method=CANCEL; seq=2 ;;
	*) not_ok "$f: unexpected subject $kind"; return ;;
	esac
	id=$(eval echo "\${ID_$name}")
	uid=$(sql "SELECT uid FROM meetings WHERE id = $id")
	expect_eq "$kind $name: METHOD in the calendar and the Content-Type" "$method $method" \
		"$(sed -n 's/^method=//p' <<<"$py") $(sed -n 's/^ctmethod=//p' <<<"$py")"
	expect_eq "$kind $name: UID and SEQUENCE" "$uid $seq" \
		"$(sed -n 's/^uid=//p' <<<"$lc") $(sed -n 's/^sequence=//p' <<<"$lc")"
	expect_eq "$kind $name: the ATTENDEE is the recipient" \
		"attendee=mailto:$(sed -n 's/^X-Convene-Envelope-To: <\(.*\)>$/\1/p' "$f")" "$(grep '^attendee=' <<<"$lc")"
	if [ "$name" = Weekly ]; then
		if [ "$kind" = Invitation ]; then
			start=$(utc '2031-03-20 18:00')
			occ="$(utc '2031-03-20 18:00') $(utc '2031-03-27 18:00') $(utc '2031-04-03 17:00') $(utc '2031-04-10 17:00')"
		else
			start=$(utc '2031-03-21 18:00')
			occ="$(utc '2031-03-21 18:00') $(utc '2031-03-28 18:00') $(utc '2031-04-04 17:00') $(utc '2031-04-11 17:00')"
		fi
		expect_eq "$kind $name: one weekly RRULE" "FREQ=WEEKLY;COUNT=4" "$(sed -n 's/^rrule=//p' <<<"$lc")"
		expect_eq "$kind $name: occurrences at 19:00 Berlin across the change to summer time" \
			"$occ" "$(sed -n 's/^occurrence=//p' <<<"$lc" | tr '\n' ' ' | sed 's/ $//')"
	else
		start=${START[$name]}
		expect_eq "$kind $name: DTEND" "${END[$name]}" "$(sed -n 's/^dtend=//p' <<<"$lc")"
		if [ -n "${OCC[$name]:-}" ]; then
			expect_eq "$kind $name: occurrences keep their local time" "${OCC[$name]}" \
				"$(sed -n 's/^occurrence=//p' <<<"$lc" | tr '\n' ' ' | sed 's/ $//')"
		fi
	fi
	expect_eq "$kind $name: DTSTART" "$start" "$(sed -n 's/^dtstart=//p' <<<"$lc")"
	tz=$(sed -n 's/^tzid=//p' <<<"$lc")
	expect_eq "$kind $name: the times in the meeting's zone" "${TZ_OF[$name]:-Europe/Berlin}" \
		"${tz:-UTC (no TZID)}"
}
for f in $(outbox_files); do
	f=$T/outbox/new/$f
	grep -q '^Content-Type: text/calendar' "$f" || continue
	check_file "$f"
done
# 7 invitations + 1 update + 1 cancellation, to 2 members each.
expect_eq "every message with a calendar was read (18)" 18 "$n"
expect_eq "the zone is written the way both read it: no UNTIL in a VTIMEZONE" "" \
	"$(for f in $(outbox_files); do sed -n '/BEGIN:VTIMEZONE/,/END:VTIMEZONE/p' "$T/outbox/new/$f"; done | grep UNTIL)"
expect_eq "a weekly meeting is one UID" 1 "$(for f in $(outbox_files); do
	f=$T/outbox/new/$f; grep -q 'Weekly' "$f" && $ICALPY "$f" | sed -n 's/^uid=//p'; done | sort -u | wc -l | tr -d ' ')"
# The archived copy of each invitation (the root of the meeting's thread)
# is a calendar too: METHOD:PUBLISH, the meeting's UID and time.
bad=
for name in Winter Summer NewYork FallBack Tokyo Utc; do
	id=$(eval echo "\${ID_$name}")
	sql "SELECT raw FROM messages m JOIN archive a ON a.message = m.id JOIN meetings t ON t.archive = a.id WHERE t.id = $id" >"$T/archived.eml"
	py=$($ICALPY "$T/archived.eml") || { bad="$bad $name(python)"; continue; }
	lc=$($ICALPY --part "$T/archived.eml" | "$ICALCHECK") || { bad="$bad $name(libical)"; continue; }
	[ "$(grep -v '^ctmethod=' <<<"$py")" = "$lc" ] || bad="$bad $name(differ)"
	grep -qx "method=PUBLISH" <<<"$lc" || bad="$bad $name(method)"
	grep -qx "uid=$(sql "SELECT uid FROM meetings WHERE id = $id")" <<<"$lc" || bad="$bad $name(uid)"
	grep -qx "dtstart=${START[$name]}" <<<"$lc" || bad="$bad $name(dtstart)"
done
expect_eq "the archived invitations read alike in both: PUBLISH, UID, DTSTART" "" "$bad"
expect_eq "UTC times without a VTIMEZONE" "" \
	"$(for f in $(outbox_files); do f=$T/outbox/new/$f; header "$f" Subject | grep -q Utc && grep -l VTIMEZONE "$f"; done)"

# ---- the invitation job killed in the middle, then resumed ----

D=$T/crash
mkdir -p "$D"
chmod 0777 "$D" "$T"
seq -f "m%03g@example.org" 1 60 >"$D/members"
P=$(free_port)
cat >"$D/convene.conf" <<EOC
domain = "lists.example.org";
database = "convene.db";
templates = "$top_srcdir/templates";
outbound = { transport = "smtp"; host = "127.0.0.1"; port = $P;
             connections = 4; timeout = "10s"; retry_schedule = [ "10m" ]; };
lists = ( { name = "makers"; policy = "open"; leaders = [ "m001@example.org" ];
            meetings = { timezone = "Europe/Berlin"; }; } );
EOC
cvd() { "$CONVENE" -c "$D/convene.conf" "$@"; }
cvd members makers import "$D/members" >/dev/null 2>&1
cvd meeting makers schedule title=Crash when="2031-03-27 19:00" >/dev/null 2>&1
check "slow sink listens" file_sink_start "$P" "$D/dump" -W .:1
"$CONVENE" -c "$D/convene.conf" run --once >"$D/run1.out" 2>&1 &
wpid=$!
for i in $(seq 1 200); do
	[ "$(find "$D/dump" -type f | wc -l)" -ge 8 ] && break
	sleep 0.05
done
kill -9 "$wpid"
wait "$wpid" 2>/dev/null
stop "$SINK_PID"
got=$(find "$D/dump" -type f | wc -l)
check "the invitation job was killed in the middle ($got of 60 sent)" test "$got" -ge 8 -a "$got" -lt 60
before=$(grep -h '^X-Rcpt-Args:' -r "$D/dump" | sed 's/^X-Rcpt-Args: <\([^>]*\)>.*/\1/' | sort)
check "fast sink listens" file_sink_start "$P" "$D/dump"
rc=0
cvd run --once >"$D/run2.out" 2>&1 || rc=$?
stop "$SINK_PID"
expect_eq "the resumed run exits 0" 0 "$rc"
for f in $(find "$D/dump" -type f | sort); do
	r=$(sed -n 's/^X-Rcpt-Args: <\([^>]*\)>.*/\1/p' "$f")
	a=$($ICALPY "$f" | sed -n 's/^attendee=mailto://p')
	echo "$r $a"
done >"$D/pairs"
expect_eq "every copy names its own recipient as the ATTENDEE" "" "$(awk '$1 != $2' "$D/pairs")"
expect_eq "every member has an invitation, nobody else" "" \
	"$(comm -3 <(sort -u "$D/members") <(cut -d' ' -f1 "$D/pairs" | sort -u))"
dups=$(cut -d' ' -f1 "$D/pairs" | sort | uniq -d)
ndups=$(printf '%s' "$dups" | grep -c . || true)
check "duplicates ($ndups) only from the 4 transactions in flight" test "$ndups" -le 4
expect_eq "every duplicate had been sent before the kill" "" \
	"$(comm -23 <(printf '%s\n' "$dups" | grep . | sort) <(printf '%s\n' "$before"))"
echo "# killed at $got; $ndups duplicate(s)"

finish
