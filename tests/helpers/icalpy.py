"""icalpy - reads the calendar of a message the way a Python program does
(the standard library's email, then the icalendar package, as Debian 12's
python3-icalendar 4.0.3 ships it) and prints what it says, for the tests.

usage: python3 icalpy.py MESSAGE-FILE
       python3 icalpy.py --part MESSAGE-FILE   (prints the calendar text)

One "key=value" a line, as tests/helpers/icalcheck.c prints them:
  ctmethod (the method parameter of the text/calendar part) method uid
  sequence status summary tzid dtstart dtend rrule organizer attendee
  occurrence (at most 10: a repeating event expanded in its own zone, at
  the same wall-clock time across a change to summer time)
Exits 1 when there is no calendar or icalendar cannot read it.
"""
import datetime
import email
import email.policy
import sys

import icalendar
from dateutil.rrule import rrulestr

UTC = datetime.timezone.utc


def utc(dt):
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def calendar_part(path):
    with open(path, "rb") as f:
        data = f.read()
    # The maildir outbox starts with envelope lines: a message is what
    # follows them.
    while data.startswith(b"X-Convene-Envelope-"):
        data = data.split(b"\n", 1)[1]
    msg = email.message_from_bytes(data, policy=email.policy.default)
    for part in msg.walk():
        if part.get_content_type() == "text/calendar":
            return part
    return None


def occurrences(ev, start):
    rule = ev["RRULE"]
    tz = start.tzinfo
    # Wall-clock expansion: the rule runs on local times, each localized
    # in the event's zone (as calendars show a weekly 19:00 meeting).
    naive = start.replace(tzinfo=None)
    if "UNTIL" in rule:
        until = rule["UNTIL"][0]
        if isinstance(until, datetime.datetime) and until.tzinfo:
            rule["UNTIL"] = [until.astimezone(tz).replace(tzinfo=None)]
    out = []
    for o in rrulestr(rule.to_ical().decode(), dtstart=naive):
        out.append(tz.localize(o) if hasattr(tz, "localize")
                   else o.replace(tzinfo=tz))
        if len(out) == 10:
            break
    return out


def main():
    args = sys.argv[1:]
    part_only = args and args[0] == "--part"
    if part_only:
        args = args[1:]
    part = calendar_part(args[0])
    if part is None:
        print("icalpy: no text/calendar part", file=sys.stderr)
        return 1
    text = part.get_content()
    if part_only:
        sys.stdout.write(text)
        return 0
    cal = icalendar.Calendar.from_ical(text)
    print("ctmethod=%s" % part.get_param("method", ""))
    print("method=%s" % cal.get("METHOD", ""))
    events = [c for c in cal.walk() if c.name == "VEVENT"]
    if not events:
        print("icalpy: no VEVENT", file=sys.stderr)
        return 1
    ev = events[0]
    print("uid=%s" % ev["UID"])
    print("sequence=%d" % int(ev.get("SEQUENCE", 0)))
    print("status=%s" % ev.get("STATUS", ""))
    print("summary=%s" % ev.get("SUMMARY", ""))
    start = ev.decoded("DTSTART")
    print("tzid=%s" % ev["DTSTART"].params.get("TZID", ""))
    print("dtstart=%s" % utc(start))
    if "DTEND" in ev:
        print("dtend=%s" % utc(ev.decoded("DTEND")))
    if "RRULE" in ev:
        print("rrule=%s" % ev["RRULE"].to_ical().decode())
        for o in occurrences(ev, start):
            print("occurrence=%s" % utc(o))
    if "ORGANIZER" in ev:
        print("organizer=%s" % ev["ORGANIZER"])
    attendees = ev.get("ATTENDEE", [])
    if not isinstance(attendees, list):
        attendees = [attendees]
    for a in attendees:
        print("attendee=%s" % a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
