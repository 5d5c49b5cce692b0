/* test-calendar - iCalendar for meetings: what convene writes, what
 * calendars answer, .ics a leader sends, times in a zone across a change
 * to summer time */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/calendar.h"
#include "base/buf.h"

#define MARK "rcpt.5f2b0c4e9a7d4e21b8a3c6d1e0f97a44@convene.invalid"

static time_t local(const char *tz, int y, int mo, int d, int h, int mi)
{
	time_t t = 0;

	assert_int_equal(calendar_local_to_utc(tz, y, mo, d, h, mi, &t), 0);
	return t;
}

/* 2031-03-27 19:00 in Berlin is 18:00 UTC (winter); a week later, after
 * the change on 2031-03-30, 19:00 is 17:00 UTC. */
static void test_local_times(void **state)
{
	char s[128];

	assert_int_equal(local("Europe/Berlin", 2031, 3, 27, 19, 0),
			 1932400800);
	assert_int_equal(local("Europe/Berlin", 2031, 4, 3, 19, 0),
			 1932400800 + 7 * 86400 - 3600);
	assert_int_equal(local("UTC", 2031, 3, 27, 18, 0), 1932400800);
	assert_int_equal(local("America/New_York", 2031, 3, 27, 14, 0),
			 1932400800);
	/* 02:30 does not exist that night: it becomes 03:30 summer time. */
	assert_int_equal(local("Europe/Berlin", 2031, 3, 30, 2, 30),
			 local("Europe/Berlin", 2031, 3, 30, 3, 30));
	assert_int_equal(calendar_format_local(1932400800, "Europe/Berlin", s,
					       sizeof s), 0);
	assert_string_equal(s, "2031-03-27 19:00 Europe/Berlin (UTC+01:00)");
	assert_int_equal(calendar_format_local(1932400800 + 7 * 86400 - 3600,
					       "Europe/Berlin", s, sizeof s), 0);
	assert_string_equal(s, "2031-04-03 19:00 Europe/Berlin (UTC+02:00)");
	assert_int_equal(calendar_format_local(1932400800, "UTC", s, sizeof s),
			 0);
	assert_string_equal(s, "2031-03-27 18:00 UTC");
	assert_int_equal(calendar_format_local(1932400800, "America/New_York",
					       s, sizeof s), 0);
	assert_string_equal(s, "2031-03-27 14:00 America/New_York (UTC-04:00)");
}

static void test_bad_input(void **state)
{
	time_t t;
	char s[128];

	assert_true(calendar_zone_known("Europe/Berlin"));
	assert_true(calendar_zone_known("UTC"));
	assert_false(calendar_zone_known("Mars/Olympus_Mons"));
	assert_false(calendar_zone_known("../../etc/passwd"));
	assert_false(calendar_zone_known("/etc/localtime"));
	assert_int_equal(calendar_local_to_utc("Nowhere/City", 2031, 1, 1, 0,
					       0, &t), -1);
	assert_int_equal(calendar_local_to_utc("UTC", 2031, 2, 30, 0, 0, &t),
			 -1);
	assert_int_equal(calendar_local_to_utc("UTC", 2031, 1, 1, 24, 0, &t),
			 -1);
	assert_int_equal(calendar_format_local(0, "Nowhere/City", s, sizeof s),
			 -1);
	assert_true(calendar_rrule_ok("FREQ=WEEKLY;COUNT=4"));
	assert_true(calendar_rrule_ok("FREQ=WEEKLY;UNTIL=20310601T000000Z"));
	assert_false(calendar_rrule_ok("FREQ=SOMETIMES"));
	assert_false(calendar_rrule_ok("FREQ=WEEKLY\r\nX:1"));
	assert_false(calendar_rrule_ok(""));
}

/* A weekly series keeps its wall-clock time across the change. */
static void test_occurrences(void **state)
{
	time_t start = local("Europe/Berlin", 2031, 3, 27, 19, 0), t;
	bool found;

	assert_int_equal(calendar_next_occurrence(start, "Europe/Berlin",
						  "FREQ=WEEKLY;COUNT=3", 0, &t,
						  &found), 0);
	assert_true(found);
	assert_int_equal(t, start);
	assert_int_equal(calendar_next_occurrence(start, "Europe/Berlin",
						  "FREQ=WEEKLY;COUNT=3",
						  start + 1, &t, &found), 0);
	assert_true(found);
	assert_int_equal(t, local("Europe/Berlin", 2031, 4, 3, 19, 0));
	assert_int_equal(calendar_next_occurrence(start, "Europe/Berlin",
						  "FREQ=WEEKLY;COUNT=3",
						  t + 1, &t, &found), 0);
	assert_int_equal(t, local("Europe/Berlin", 2031, 4, 10, 19, 0));
	assert_int_equal(calendar_next_occurrence(start, "Europe/Berlin",
						  "FREQ=WEEKLY;COUNT=3",
						  t + 1, &t, &found), 0);
	assert_false(found);
	/* UNTIL in UTC ends the series on its day. */
	assert_int_equal(calendar_next_occurrence(start, "Europe/Berlin",
		"FREQ=WEEKLY;UNTIL=20310403T170000Z",
		start + 1, &t, &found), 0);
	assert_true(found);
	assert_int_equal(calendar_next_occurrence(start, "Europe/Berlin",
		"FREQ=WEEKLY;UNTIL=20310403T170000Z", t + 1, &t, &found), 0);
	assert_false(found);
	/* Once: found until it starts. */
	assert_int_equal(calendar_next_occurrence(start, "Europe/Berlin", NULL,
						  start, &t, &found), 0);
	assert_true(found);
	assert_int_equal(calendar_next_occurrence(start, "Europe/Berlin", NULL,
						  start + 1, &t, &found), 0);
	assert_false(found);
}

static void build(const struct calendar_event *e, struct buf *out)
{
	char *err = NULL;

	buf_reset(out);
	if (calendar_build(e, out, &err) < 0)
		fail_msg("calendar_build: %s", err);
}

/* Every physical line of text is at most 75 octets, but the attendee's. */
static void assert_folded(const char *text)
{
	const char *p = text;

	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		if (strncmp(p, " mailto:", 8) != 0 && n > 75)
			fail_msg("line over 75 octets: %.*s", (int)n, p);
		assert_null(memchr(p, '\r', n));
		p += n + (nl ? 1 : 0);
	}
}

static void test_build_request(void **state)
{
	struct buf b = BUF_INIT;
	time_t start = local("Europe/Berlin", 2031, 3, 27, 19, 0);
	struct calendar_event e = {
		.method = CALENDAR_REQUEST, .uid = "m1.abc@lists.example.org",
		.sequence = 2, .dtstamp = start - 86400, .start = start,
		.duration = 5400, .tzid = "Europe/Berlin",
		.rrule = "FREQ=WEEKLY;COUNT=4",
		.summary = "Repair caf\xc3\xa9: bring what is broken, and a "
			   "long title that needs folding \xc3\xbc\xc3\xbc\xc3\xbc",
		.location = "Makerspace, Main St 5; back room",
		.description = "Soldering\nThe 3D printer",
		.url = "https://meet.example.org/makers",
		.organizer = "makers-rsvp+1@lists.example.org",
		.organizer_name = "Makers \"of\" Example City",
		.attendee = MARK,
	};
	struct calendar_parsed p;
	struct calendar_reply r;
	const char *err = NULL;
	char *t;

	build(&e, &b);
	t = b.data;
	assert_non_null(strstr(t, "BEGIN:VCALENDAR\nPRODID:"));
	assert_non_null(strstr(t, "\nMETHOD:REQUEST\n"));
	assert_non_null(strstr(t, "\nTZID:Europe/Berlin\n"));
	assert_non_null(strstr(t, "\nDTSTART;TZID=Europe/Berlin:20310327T190000\n"));
	assert_non_null(strstr(t, "\nDTEND;TZID=Europe/Berlin:20310327T203000\n"));
	assert_non_null(strstr(t, "\nSEQUENCE:2\n"));
	assert_non_null(strstr(t, "\nRRULE:FREQ=WEEKLY;COUNT=4\n"));
	assert_non_null(strstr(t, "\nSTATUS:CONFIRMED\n"));
	assert_non_null(strstr(t, "\nLOCATION:Makerspace\\, Main St 5\\; back room\n"));
	/* The zone's rules in force, without UNTIL (python-dateutil). */
	assert_null(strstr(t, "UNTIL"));
	assert_non_null(strstr(t, "BEGIN:STANDARD\n"));
	assert_non_null(strstr(t, "BEGIN:DAYLIGHT\n"));
	assert_non_null(strstr(t, "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\n"));
	/* The attendee's address on a line of its own. */
	assert_non_null(strstr(t, ";RSVP=TRUE:\n mailto:" MARK "\n"));
	assert_folded(t);

	/* What libical reads back. */
	assert_int_equal(calendar_parse_event(b.data, b.len, "UTC", &p, &err),
			 0);
	assert_int_equal(p.start, start);
	assert_int_equal(p.duration, 5400);
	assert_string_equal(p.tzid, "Europe/Berlin");
	assert_string_equal(p.rrule, "FREQ=WEEKLY;COUNT=4");
	assert_string_equal(p.summary, e.summary);
	assert_string_equal(p.location, e.location);
	assert_string_equal(p.description, e.description);
	assert_string_equal(p.url, e.url);
	calendar_parsed_clear(&p);
	assert_int_equal(calendar_parse_reply(b.data, b.len, &r, &err), 0);
	assert_int_equal(r.method, CALENDAR_REQUEST);
	assert_string_equal(r.uid, e.uid);
	assert_int_equal(r.sequence, 2);
	assert_string_equal(r.attendee, MARK);
	assert_int_equal(r.partstat, CALENDAR_OTHER);
	calendar_reply_clear(&r);

	/* Cancel: METHOD:CANCEL, STATUS:CANCELLED, no RSVP asked. */
	e.method = CALENDAR_CANCEL;
	e.sequence = 3;
	build(&e, &b);
	assert_non_null(strstr(b.data, "\nMETHOD:CANCEL\n"));
	assert_non_null(strstr(b.data, "\nSTATUS:CANCELLED\n"));
	assert_non_null(strstr(b.data, "\nSEQUENCE:3\n"));
	assert_null(strstr(b.data, "RSVP"));
	assert_non_null(strstr(b.data, ":\n mailto:" MARK "\n"));
	buf_free(&b);
}

static void test_build_zones(void **state)
{
	struct buf b = BUF_INIT;
	struct calendar_event e = {
		.method = CALENDAR_REQUEST, .uid = "u@x", .summary = "s",
		.duration = 3600, .organizer = "o@x", .attendee = "a@x",
	};
	struct calendar_parsed p;
	const char *err;
	char *ebad = NULL;

	/* UTC: times with Z, no VTIMEZONE. */
	e.tzid = "UTC";
	e.start = 1932400800;
	build(&e, &b);
	assert_non_null(strstr(b.data, "\nDTSTART:20310327T180000Z\n"));
	assert_null(strstr(b.data, "VTIMEZONE"));
	/* A zone without summer time: one fixed observance. */
	e.tzid = "Asia/Tokyo";
	build(&e, &b);
	assert_non_null(strstr(b.data, "\nDTSTART;TZID=Asia/Tokyo:20310328T030000\n"));
	assert_non_null(strstr(b.data, "TZOFFSETFROM:+0900\nTZOFFSETTO:+0900\n"));
	assert_null(strstr(b.data, "BEGIN:DAYLIGHT"));
	assert_int_equal(calendar_parse_event(b.data, b.len, "UTC", &p, &err),
			 0);
	assert_int_equal(p.start, 1932400800);
	calendar_parsed_clear(&p);
	/* New York in summer time. */
	e.tzid = "America/New_York";
	build(&e, &b);
	assert_non_null(strstr(b.data, "\nDTSTART;TZID=America/New_York:20310327T140000\n"));
	assert_non_null(strstr(b.data, "TZOFFSETTO:-0400"));
	assert_null(strstr(b.data, "UNTIL"));
	/* After 2037, where libical splits the rules. */
	e.tzid = "Europe/Berlin";
	e.start = local("Europe/Berlin", 2040, 7, 1, 12, 0);
	build(&e, &b);
	assert_non_null(strstr(b.data, "BEGIN:DAYLIGHT"));
	assert_null(strstr(b.data, "UNTIL"));
	assert_int_equal(calendar_parse_event(b.data, b.len, "UTC", &p, &err),
			 0);
	assert_int_equal(p.start, e.start);
	calendar_parsed_clear(&p);
	/* Refused: an unknown zone, a bad rule. */
	e.tzid = "Nowhere/City";
	assert_int_equal(calendar_build(&e, &b, &ebad), -1);
	assert_non_null(ebad);
	free(ebad);
	ebad = NULL;
	e.tzid = "UTC";
	e.rrule = "FREQ=NEVER";
	assert_int_equal(calendar_build(&e, &b, &ebad), -1);
	free(ebad);
	buf_free(&b);
}

static void expect_reply(const char *ics, enum calendar_partstat ps,
			 const char *attendee)
{
	struct calendar_reply r;
	const char *err = NULL;

	if (calendar_parse_reply(ics, strlen(ics), &r, &err) < 0)
		fail_msg("calendar_parse_reply: %s", err);
	assert_int_equal(r.method, CALENDAR_REPLY);
	assert_string_equal(r.uid, "m1.abc@lists.example.org");
	assert_string_equal(r.attendee, attendee);
	assert_int_equal(r.partstat, ps);
	calendar_reply_clear(&r);
}

/* Replies as Google, Outlook and Apple write them (CRLF, folding, their
 * own zones and parameters). */
static void test_replies(void **state)
{
	expect_reply(
		"BEGIN:VCALENDAR\r\nPRODID:-//Google Inc//Google Calendar "
		"70.9054//EN\r\nVERSION:2.0\r\nCALSCALE:GREGORIAN\r\n"
		"METHOD:REPLY\r\nBEGIN:VEVENT\r\nDTSTART:20310327T180000Z\r\n"
		"DTEND:20310327T193000Z\r\nDTSTAMP:20310301T101010Z\r\n"
		"ORGANIZER;CN=Makers:mailto:makers-rsvp+1@lists.example.org\r\n"
		"UID:m1.abc@lists.example.org\r\nATTENDEE;CUTYPE=INDIVIDUAL;"
		"ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;CN=Bob B\r\n ;X-NUM-GUES"
		"TS=0:mailto:bob@example.net\r\nSEQUENCE:0\r\nSTATUS:CONFIRMED"
		"\r\nSUMMARY:Repair café\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
		CALENDAR_ACCEPTED, "bob@example.net");
	expect_reply(
		"BEGIN:VCALENDAR\nMETHOD:REPLY\nPRODID:Microsoft Exchange "
		"Server 2010\nVERSION:2.0\nBEGIN:VTIMEZONE\nTZID:W. Europe "
		"Standard Time\nBEGIN:STANDARD\nDTSTART:16010101T030000\n"
		"TZOFFSETFROM:+0200\nTZOFFSETTO:+0100\nRRULE:FREQ=YEARLY;"
		"INTERVAL=1;BYDAY=-1SU;BYMONTH=10\nEND:STANDARD\nBEGIN:DAYLIGHT"
		"\nDTSTART:16010101T020000\nTZOFFSETFROM:+0100\nTZOFFSETTO:+0200"
		"\nRRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3\nEND:"
		"DAYLIGHT\nEND:VTIMEZONE\nBEGIN:VEVENT\nATTENDEE;PARTSTAT="
		"DECLINED;CN=Frank:MAILTO:Frank@Example.COM\nCOMMENT;LANGUAGE="
		"en-US:Sorry\\, away.\nSUMMARY;LANGUAGE=en-US:Declined: Repair "
		"café\nDTSTART;TZID=W. Europe Standard Time:20310327T190000\n"
		"DTEND;TZID=W. Europe Standard Time:20310327T203000\nUID:m1.abc@"
		"lists.example.org\nCLASS:PUBLIC\nPRIORITY:5\nDTSTAMP:"
		"20310301T101010Z\nTRANSP:OPAQUE\nSEQUENCE:0\nEND:VEVENT\n"
		"END:VCALENDAR\n",
		CALENDAR_DECLINED, "Frank@Example.COM");
	expect_reply(
		"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REPLY\r\nPRODID:-//"
		"Apple Inc.//macOS 14.4//EN\r\nBEGIN:VEVENT\r\nATTENDEE;CN="
		"\"Carol C.\";CUTYPE=INDIVIDUAL;EMAIL=\"carol@example.com\";"
		"PARTSTAT=TENTATIVE:mailto:carol@example.com\r\nDTSTAMP:"
		"20310301T101010Z\r\nDTSTART;TZID=Europe/Berlin:20310327T190000"
		"\r\nORGANIZER:mailto:makers-rsvp+1@lists.example.org\r\n"
		"SEQUENCE:0\r\nUID:m1.abc@lists.example.org\r\nEND:VEVENT\r\n"
		"END:VCALENDAR\r\n",
		CALENDAR_TENTATIVE, "carol@example.com");
}

static void expect_refused(const char *ics)
{
	struct calendar_reply r;
	const char *err = NULL;

	assert_int_equal(calendar_parse_reply(ics, strlen(ics), &r, &err), -1);
	assert_non_null(err);
	assert_null(r.uid);
	assert_null(r.attendee);
}

static void test_hostile(void **state)
{
	char *big;
	struct calendar_reply r;
	struct calendar_parsed p;
	const char *err;

	expect_refused("");
	expect_refused("hello, this is not a calendar\n");
	expect_refused("BEGIN:VCALENDAR\nMETHOD:REPLY\nEND:VCALENDAR\n");
	expect_refused("BEGIN:VCALENDAR\nMETHOD:REPLY\nBEGIN:VEVENT\n"
		       "ATTENDEE;PARTSTAT=ACCEPTED:mailto:a@x\nEND:VEVENT\n"
		       "END:VCALENDAR\n");
	/* Answering for two people at once is not an answer. */
	expect_refused("BEGIN:VCALENDAR\nMETHOD:REPLY\nBEGIN:VEVENT\nUID:u\n"
		       "ATTENDEE;PARTSTAT=ACCEPTED:mailto:a@x\n"
		       "ATTENDEE;PARTSTAT=ACCEPTED:mailto:b@x\nEND:VEVENT\n"
		       "END:VCALENDAR\n");
	expect_refused("BEGIN:VCALENDAR\nMETHOD:REPLY\nBEGIN:VEVENT\nUID:u\n"
		       "ATTENDEE;PARTSTAT=ACCEPTED:http://x/\nEND:VEVENT\n"
		       "END:VCALENDAR\n");
	expect_refused("BEGIN:VCALENDAR\nBEGIN:VEVENT\nBEGIN:VEVENT\n"
		       "BEGIN:VEVENT\n");
	big = malloc(CALENDAR_MAX + 10);
	memset(big, 'A', CALENDAR_MAX + 9);
	big[CALENDAR_MAX + 9] = '\0';
	assert_int_equal(calendar_parse_reply(big, strlen(big), &r, &err), -1);
	free(big);
	/* An .ics without a time of day, or in a zone nobody knows. */
	{
		static const char date_only[] =
			"BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:u\nDTSTART;VALUE="
			"DATE:20310327\nEND:VEVENT\nEND:VCALENDAR\n";
		static const char mars[] =
			"BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:u\nDTSTART;TZID="
			"Mars/Base:20310327T190000\nEND:VEVENT\nEND:VCALENDAR\n";

		err = NULL;
		assert_int_equal(calendar_parse_event(date_only,
			strlen(date_only), "UTC", &p, &err), -1);
		assert_non_null(err);
		err = NULL;
		assert_int_equal(calendar_parse_event(mars, strlen(mars),
			"UTC", &p, &err), -1);
		assert_non_null(err);
	}
}

/* An .ics as a leader's calendar writes it: Outlook's zone names resolved
 * by the file's VTIMEZONE, libical's prefixed names by the tz database,
 * floating times in the list's zone, UNTIL made UTC. */
static void test_parse_event(void **state)
{
	static const char outlook[] =
		"BEGIN:VCALENDAR\nMETHOD:REQUEST\nVERSION:2.0\n"
		"BEGIN:VTIMEZONE\nTZID:W. Europe Standard Time\n"
		"BEGIN:STANDARD\nDTSTART:16010101T030000\nTZOFFSETFROM:+0200\n"
		"TZOFFSETTO:+0100\nRRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;"
		"BYMONTH=10\nEND:STANDARD\nBEGIN:DAYLIGHT\nDTSTART:"
		"16010101T020000\nTZOFFSETFROM:+0100\nTZOFFSETTO:+0200\n"
		"RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3\n"
		"END:DAYLIGHT\nEND:VTIMEZONE\nBEGIN:VEVENT\nSUMMARY:Board "
		"meeting\nDTSTART;TZID=W. Europe Standard Time:20310403T190000\n"
		"DTEND;TZID=W. Europe Standard Time:20310403T200000\n"
		"RRULE:FREQ=WEEKLY;UNTIL=20310501\nUID:x\nLOCATION:Room 1\n"
		"END:VEVENT\nEND:VCALENDAR\n";
	static const char prefixed[] =
		"BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:y\nSUMMARY:Call\n"
		"DTSTART;TZID=/freeassociation.sourceforge.net/America/New_York:"
		"20310327T140000\nDURATION:PT45M\nEND:VEVENT\nEND:VCALENDAR\n";
	static const char floating[] =
		"BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:z\nSUMMARY:Walk\n"
		"DTSTART:20310327T190000\nEND:VEVENT\nEND:VCALENDAR\n";
	struct calendar_parsed p;
	const char *err = NULL;

	assert_int_equal(calendar_parse_event(outlook, strlen(outlook),
					      "UTC", &p, &err), 0);
	assert_int_equal(p.start, local("Europe/Berlin", 2031, 4, 3, 19, 0));
	assert_int_equal(p.duration, 3600);
	assert_null(p.tzid);
	assert_string_equal(p.summary, "Board meeting");
	assert_string_equal(p.location, "Room 1");
	assert_non_null(strstr(p.rrule, "UNTIL=20310501T"));
	assert_non_null(strstr(p.rrule, "Z"));
	assert_true(calendar_rrule_ok(p.rrule));
	calendar_parsed_clear(&p);
	assert_int_equal(calendar_parse_event(prefixed, strlen(prefixed),
					      "UTC", &p, &err), 0);
	assert_int_equal(p.start, 1932400800);
	assert_int_equal(p.duration, 2700);
	assert_string_equal(p.tzid, "America/New_York");
	calendar_parsed_clear(&p);
	assert_int_equal(calendar_parse_event(floating, strlen(floating),
					      "Europe/Berlin", &p, &err), 0);
	assert_int_equal(p.start, 1932400800);
	assert_int_equal(p.duration, 0);
	assert_null(p.tzid);
	assert_null(p.rrule);
	calendar_parsed_clear(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_local_times),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_occurrences),
		cmocka_unit_test(test_build_request),
		cmocka_unit_test(test_build_zones),
		cmocka_unit_test(test_replies),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_parse_event),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	calendar_cleanup();
	return rc;
}
