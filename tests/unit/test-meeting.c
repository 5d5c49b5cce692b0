/* test-meeting - what a leader asks for: settings by mail and CLI */
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
#include "pipeline/meeting.h"

static void test_set(void **state)
{
	struct meeting_spec sp;
	const char *problem = NULL;

	meeting_spec_init(&sp);
	assert_int_equal(meeting_spec_set(&sp, "Title", "  Repair café ",
					  &problem), 0);
	assert_string_equal(sp.title, "Repair café");
	assert_int_equal(meeting_spec_set(&sp, "duration", "1h30m", &problem),
			 0);
	assert_int_equal(sp.duration, 5400);
	assert_int_equal(meeting_spec_set(&sp, "PLACES", "12", &problem), 0);
	assert_int_equal(sp.capacity, 12);
	assert_int_equal(meeting_spec_set(&sp, "tz", "America/New_York",
					  &problem), 0);
	assert_string_equal(sp.timezone, "America/New_York");
	assert_int_equal(meeting_spec_set(&sp, "location", "Room 2", &problem),
			 0);
	assert_string_equal(sp.where, "Room 2");
	assert_int_equal(meeting_spec_set(&sp, "url", "-", &problem), 0);
	assert_int_equal(sp.given, 6);
	/* Not a meeting key: nothing read. */
	assert_int_equal(meeting_spec_set(&sp, "note", "x", &problem), 1);
	assert_int_equal(sp.given, 6);
	/* Bad values: refused with a reason, the old value kept. */
	problem = NULL;
	assert_int_equal(meeting_spec_set(&sp, "capacity", "-3", &problem), -1);
	assert_non_null(problem);
	assert_int_equal(sp.capacity, 12);
	assert_int_equal(meeting_spec_set(&sp, "capacity", "12 people",
					  &problem), -1);
	assert_int_equal(meeting_spec_set(&sp, "duration", "30s", &problem),
			 -1);
	assert_int_equal(meeting_spec_set(&sp, "duration", "8d", &problem), -1);
	assert_int_equal(meeting_spec_set(&sp, "url", "ftp://x/", &problem),
			 -1);
	assert_int_equal(meeting_spec_set(&sp, "url", "https://x/ y",
					  &problem), -1);
	assert_int_equal(meeting_spec_set(&sp, "timezone", "Mars/Base",
					  &problem), -1);
	assert_int_equal(meeting_spec_set(&sp, "timezone", "../../etc/passwd",
					  &problem), -1);
	assert_int_equal(meeting_spec_set(&sp, "title", "a\x01" "b", &problem),
			 -1);
	assert_int_equal(meeting_spec_set(&sp, "title", "", &problem), -1);
	assert_int_equal(meeting_spec_set(&sp, "where", "a\nb", &problem), -1);
	assert_string_equal(sp.title, "Repair café");
	meeting_spec_clear(&sp);
	assert_null(sp.title);
	assert_int_equal(sp.capacity, -1);
}

static void test_read(void **state)
{
	struct meeting_spec sp;
	const char *problem = NULL;

	meeting_spec_init(&sp);
	assert_int_equal(meeting_spec_read(&sp,
		"Hello all,\n\nmeeting\ntitle: Workshop\nwhen: 2031-03-27 19:00\n"
		"Note: bring tools\nagenda: Soldering\n  The printer\n\n"
		"Something else\nwhere: Room 1\n-- \ncapacity: 99\n", &problem),
		0);
	assert_string_equal(sp.title, "Workshop");
	assert_string_equal(sp.when, "2031-03-27 19:00");
	assert_string_equal(sp.agenda, "Soldering\nThe printer");
	assert_string_equal(sp.where, "Room 1");
	/* The signature ended the reading. */
	assert_int_equal(sp.capacity, -1);
	assert_int_equal(sp.given, 4);
	meeting_spec_clear(&sp);
	/* Quoted text is not read. */
	meeting_spec_init(&sp);
	assert_int_equal(meeting_spec_read(&sp, "where: A\n> where: B\n"
					   "title: T\n", &problem), 0);
	assert_string_equal(sp.where, "A");
	assert_null(sp.title);
	meeting_spec_clear(&sp);
	/* A bad value stops with its reason. */
	meeting_spec_init(&sp);
	problem = NULL;
	assert_int_equal(meeting_spec_read(&sp, "title: T\ncapacity: many\n",
					   &problem), -1);
	assert_string_equal(problem, "meeting-bad-capacity");
	meeting_spec_clear(&sp);
	meeting_spec_init(&sp);
	assert_int_equal(meeting_spec_read(&sp, NULL, &problem), 0);
	assert_int_equal(sp.given, 0);
	meeting_spec_clear(&sp);
}

static void test_ics(void **state)
{
	static const char ics[] =
		"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nSUMMARY:Board\r\n"
		"DTSTART;TZID=Europe/Berlin:20310327T190000\r\n"
		"DTEND;TZID=Europe/Berlin:20310327T200000\r\n"
		"RRULE:FREQ=WEEKLY;COUNT=3\r\nLOCATION:Hall\r\n"
		"END:VEVENT\r\nEND:VCALENDAR\r\n";
	struct meeting_spec sp;
	const char *problem = NULL;

	meeting_spec_init(&sp);
	assert_int_equal(meeting_spec_ics(&sp, ics, strlen(ics), "UTC",
					  &problem), 0);
	assert_string_equal(sp.title, "Board");
	assert_string_equal(sp.where, "Hall");
	assert_string_equal(sp.timezone, "Europe/Berlin");
	assert_int_equal(sp.start, 1932400800);
	assert_int_equal(sp.duration, 3600);
	assert_string_equal(sp.rrule, "FREQ=WEEKLY;COUNT=3");
	meeting_spec_clear(&sp);
	meeting_spec_init(&sp);
	assert_int_equal(meeting_spec_ics(&sp, "not a calendar", 14, "UTC",
					  &problem), -1);
	meeting_spec_clear(&sp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set),
		cmocka_unit_test(test_read),
		cmocka_unit_test(test_ics),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	calendar_cleanup();
	return rc;
}
