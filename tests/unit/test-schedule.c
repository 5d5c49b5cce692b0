/* test-schedule - the schedule grammar and the next time one comes due, in
 * UTC and across daylight saving time in Europe/Berlin */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/schedule.h"

/* Seconds since the epoch of a UTC time. */
static time_t utc(int y, int mo, int d, int h, int mi)
{
	struct tm tm = { 0 };

	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	return timegm(&tm);
}

static void test_parse(void **state)
{
	struct schedule sc;

	assert_int_equal(schedule_parse("daily 07:00", &sc), 0);
	assert_int_equal(sc.weekday, -1);
	assert_int_equal(sc.hour, 7);
	assert_int_equal(sc.minute, 0);
	assert_int_equal(schedule_parse("Weekly MON 7:30", &sc), 0);
	assert_int_equal(sc.weekday, 1);
	assert_int_equal(sc.hour, 7);
	assert_int_equal(sc.minute, 30);
	assert_int_equal(schedule_parse("weekly sunday 23:59", &sc), 0);
	assert_int_equal(sc.weekday, 0);
	assert_int_equal(schedule_parse("  daily   00:00  ", &sc), 0);
	assert_int_equal(sc.hour, 0);

	assert_int_equal(schedule_parse(NULL, &sc), -1);
	assert_int_equal(schedule_parse("", &sc), -1);
	assert_int_equal(schedule_parse("daily", &sc), -1);
	assert_int_equal(schedule_parse("daily 24:00", &sc), -1);
	assert_int_equal(schedule_parse("daily 07:60", &sc), -1);
	assert_int_equal(schedule_parse("daily 07:0", &sc), -1);
	assert_int_equal(schedule_parse("daily 7", &sc), -1);
	assert_int_equal(schedule_parse("daily 07:00 extra", &sc), -1);
	assert_int_equal(schedule_parse("weekly 07:00", &sc), -1);
	assert_int_equal(schedule_parse("weekly mo 07:00", &sc), -1);
	assert_int_equal(schedule_parse("weekly funday 07:00", &sc), -1);
	assert_int_equal(schedule_parse("hourly 07:00", &sc), -1);
	assert_int_equal(schedule_parse("daily 123:00", &sc), -1);
}

static void test_zones(void **state)
{
	assert_true(schedule_zone_known("UTC"));
	assert_true(schedule_zone_known("Europe/Berlin"));
	assert_false(schedule_zone_known("Mars/Olympus_Mons"));
	assert_false(schedule_zone_known("../../etc/passwd"));
	assert_false(schedule_zone_known("/etc/localtime"));
	assert_false(schedule_zone_known(""));
}

static void test_next_utc(void **state)
{
	struct schedule sc;

	assert_int_equal(schedule_parse("daily 07:00", &sc), 0);
	/* before, at (strictly after: the next day), after */
	assert_int_equal(schedule_next(&sc, "UTC", utc(2026, 12, 1, 6, 59)),
			 utc(2026, 12, 1, 7, 0));
	assert_int_equal(schedule_next(&sc, "UTC", utc(2026, 12, 1, 7, 0)),
			 utc(2026, 12, 2, 7, 0));
	assert_int_equal(schedule_next(&sc, "UTC", utc(2026, 12, 31, 8, 0)),
			 utc(2027, 1, 1, 7, 0));
	/* 2026-12-02 is a Wednesday */
	assert_int_equal(schedule_parse("weekly mon 07:00", &sc), 0);
	assert_int_equal(schedule_next(&sc, "UTC", utc(2026, 12, 2, 12, 0)),
			 utc(2026, 12, 7, 7, 0));
	assert_int_equal(schedule_next(&sc, "UTC", utc(2026, 12, 7, 6, 0)),
			 utc(2026, 12, 7, 7, 0));
	assert_int_equal(schedule_next(&sc, "UTC", utc(2026, 12, 7, 7, 0)),
			 utc(2026, 12, 14, 7, 0));
}

/* Berlin: CET (+1) in winter, CEST (+2) from 2026-03-29 02:00 local (the
 * clock jumps to 03:00) to 2026-10-25 03:00 local (back to 02:00). */
static void test_next_berlin(void **state)
{
	struct schedule sc;
	struct tm tm;

	assert_int_equal(schedule_parse("daily 07:00", &sc), 0);
	assert_int_equal(schedule_next(&sc, "Europe/Berlin",
				       utc(2026, 12, 1, 5, 0)),
			 utc(2026, 12, 1, 6, 0));
	/* over the spring change: 07:00 CEST is 05:00 UTC */
	assert_int_equal(schedule_next(&sc, "Europe/Berlin",
				       utc(2026, 3, 28, 12, 0)),
			 utc(2026, 3, 29, 5, 0));
	/* over the autumn change: 07:00 CET again is 06:00 UTC */
	assert_int_equal(schedule_next(&sc, "Europe/Berlin",
				       utc(2026, 10, 24, 12, 0)),
			 utc(2026, 10, 25, 6, 0));
	/* 02:30 does not exist on 2026-03-29: the time after the gap */
	assert_int_equal(schedule_parse("daily 02:30", &sc), 0);
	assert_int_equal(schedule_next(&sc, "Europe/Berlin",
				       utc(2026, 3, 28, 12, 0)),
			 utc(2026, 3, 29, 1, 30));
	/* and the day after it is 02:30 CEST again */
	assert_int_equal(schedule_next(&sc, "Europe/Berlin",
				       utc(2026, 3, 29, 1, 30)),
			 utc(2026, 3, 30, 0, 30));
	schedule_localtime("Europe/Berlin", utc(2026, 12, 31, 23, 30), &tm);
	assert_int_equal(tm.tm_year + 1900, 2027);
	assert_int_equal(tm.tm_hour, 0);
	/* the process's own zone is left as it was */
	assert_null(getenv("TZ"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_zones),
		cmocka_unit_test(test_next_utc),
		cmocka_unit_test(test_next_berlin),
	};

	unsetenv("TZ");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
