/* test-report - the report's arithmetic (the dwindling rule on a daily
 * history, the trend, the median, sparklines, durations), the chart as a
 * PNG, the poll's settings and choices, and the new request verbs */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/chart.h"
#include "mail/request.h"
#include "pipeline/poll.h"
#include "pipeline/report.h"

/* Weekly counts of a list posting `before` a day until day `fall`, then
 * `after` a day, as a report on day `today` reads them (12 weeks). */
static void weeks_at(int64_t v[12], int today, int fall, int before,
		     int after)
{
	int w, d;

	for (w = 0; w < 12; w++) {
		v[w] = 0;
		for (d = today - (12 - w) * 7; d < today - (11 - w) * 7; d++)
			v[w] += d < fall ? before : after;
	}
}

static bool alert_on(int today, int fall, int before, int after)
{
	int64_t v[12];
	double recent, base;
	bool judged;

	weeks_at(v, today, fall, before, after);
	return report_dwindling(v, 12, &recent, &base, &judged);
}

static void test_dwindling(void **state)
{
	int d, first = 0;
	int64_t quiet[12] = { 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0 };
	double recent, base;
	bool judged;

	(void)state;
	/* A sharp fall to a fifth: named from day 5 on, never before. */
	for (d = 200; d < 220 && first == 0; d++)
		if (alert_on(d, 200, 5, 1))
			first = d;
	assert_true(first > 200 && first <= 207);
	for (d = 150; d <= 200; d++)
		assert_false(alert_on(d, 200, 5, 1));
	/* A steady list never. */
	for (d = 100; d < 200; d++)
		assert_false(alert_on(d, 1000, 3, 3));
	/* A slow slide (to two thirds) shows through the two weeks. */
	assert_false(alert_on(300, 290, 6, 4));
	assert_true(alert_on(310, 290, 6, 3));
	/* Too quiet to judge. */
	assert_false(report_dwindling(quiet, 12, &recent, &base, &judged));
	assert_false(judged);
	/* Too few weeks. */
	assert_false(report_dwindling(quiet, 9, &recent, &base, &judged));
}

static void test_trend_median(void **state)
{
	int64_t v[5] = { 10, 8, 6, 4, 2 };
	long m[6] = { 50, 10, 40, 20, 30, 60 };
	double a, b;

	(void)state;
	report_trend(v, 5, &a, &b);
	assert_true(b > -2.0001 && b < -1.9999);
	assert_true(a > 9.9999 && a < 10.0001);
	assert_int_equal(report_median(m, 5), 30);
	assert_int_equal(report_median(m, 6), 35);
	assert_int_equal(report_median(m, 0), 0);
}

static void test_sparkline_duration(void **state)
{
	int64_t v[4] = { 0, 4, 8, 2 };
	struct buf b = BUF_INIT;

	(void)state;
	report_sparkline(v, 4, &b);
	assert_string_equal(buf_cstr(&b), "\u2581\u2585\u2588\u2583");
	buf_reset(&b);
	report_duration(45 * 60, &b);
	buf_puts(&b, " ");
	report_duration(5 * 3600, &b);
	buf_puts(&b, " ");
	report_duration(3 * 86400, &b);
	assert_string_equal(buf_cstr(&b), "45m 5h 3d");
	buf_free(&b);
}

static void test_chart(void **state)
{
	int64_t bars[12] = { 5, 6, 7, 6, 5, 6, 7, 6, 5, 6, 1, 0 };
	int64_t line[12] = { 2, 2, 3, 2, 2, 2, 3, 2, 2, 2, 1, 0 };
	struct chart ch = { .width = 600, .height = 240, .bars = bars,
			    .line = line, .n = 12, .trend = true,
			    .trend_a = 6, .trend_b = -0.3, .alert_from = 10 };
	struct buf png = BUF_INIT;
	const char *err = NULL;
	const unsigned char *p;

	(void)state;
	assert_int_equal(chart_png(&ch, &png, &err), 0);
	p = (const unsigned char *)png.data;
	assert_true(png.len > 1000 && png.len < 200000);
	assert_memory_equal(p, "\x89PNG\r\n\x1a\n", 8);
	/* IHDR: width and height */
	assert_int_equal((p[16] << 24) | (p[17] << 16) | (p[18] << 8) | p[19],
			 600);
	assert_int_equal((p[20] << 24) | (p[21] << 16) | (p[22] << 8) | p[23],
			 240);
	buf_free(&png);
	ch.n = 0;
	assert_int_equal(chart_png(&ch, &png, &err), -1);
	ch.n = 12;
	ch.width = 5000;
	assert_int_equal(chart_png(&ch, &png, &err), -1);
	buf_free(&png);
}

static void test_poll_spec(void **state)
{
	struct poll_spec sp;
	const char *problem = NULL;
	time_t now = 1780000000;

	(void)state;
	assert_int_equal(poll_spec_read("poll\nquestion: Tea or coffee?\n"
					"option: Tea\nOption: Coffee\n"
					"closes: 2d\nresults: list\n> quoted: x\n",
					"UTC", now, &sp, &problem), 0);
	assert_string_equal(sp.question, "Tea or coffee?");
	assert_int_equal(sp.noptions, 2);
	assert_string_equal(sp.options[1], "Coffee");
	assert_int_equal(sp.closes_at, now + 2 * 86400);
	assert_true(sp.to_list);
	poll_spec_clear(&sp);
	assert_int_equal(poll_spec_read("question: Q\noption: A\n"
					"closes: 2d\n", "UTC", now, &sp,
					&problem), -1);
	assert_string_equal(problem, "poll-options");
	assert_int_equal(poll_spec_read("question: Q\noption: A\noption: B\n"
					"closes: 1999-01-01 10:00\n", "UTC",
					now, &sp, &problem), -1);
	assert_string_equal(problem, "poll-closes");
	assert_int_equal(poll_spec_read("option: A\noption: B\ncloses: 1d\n",
					"UTC", now, &sp, &problem), -1);
	assert_string_equal(problem, "poll-no-question");
}

static void test_poll_choice(void **state)
{
	struct store_poll p = { .noptions = 3 };

	(void)state;
	p.options[0] = "The workshop";
	p.options[1] = "The cafe on Main Street";
	p.options[2] = "Online";
	assert_int_equal(poll_choice(&p, "2"), 2);
	assert_int_equal(poll_choice(&p, " 3."), 3);
	assert_int_equal(poll_choice(&p, "4"), 0);
	assert_int_equal(poll_choice(&p, "online, please"), 3);
	assert_int_equal(poll_choice(&p, "WORKSHOP"), 1);
	assert_int_equal(poll_choice(&p, "the cafe on main street"), 2);
	assert_int_equal(poll_choice(&p, "the"), 0);    /* two options */
	assert_int_equal(poll_choice(&p, "maybe"), 0);
	assert_int_equal(poll_choice(&p, ""), 0);
}

static void test_request_verbs(void **state)
{
	struct request_cmds c;
	static const char body[] =
		"remind 812\nwelcome m17\nthank Bob@Example.org\n"
		"experts laser cutter\npoll\nquestion: x\n";

	(void)state;
	request_parse("Re: makers: how the community is doing", body,
		      strlen(body), &c);
	assert_int_equal(c.n, 5);
	assert_int_equal(c.v[0].verb, REQ_REMIND);
	assert_string_equal(c.v[0].arg, "812");
	assert_int_equal(c.v[1].verb, REQ_WELCOME);
	assert_string_equal(c.v[1].arg, "m17");
	assert_int_equal(c.v[2].verb, REQ_THANK);
	assert_string_equal(c.v[2].arg, "bob@example.org");
	assert_int_equal(c.v[3].verb, REQ_EXPERTS);
	assert_string_equal(c.v[3].arg, "laser cutter");
	assert_int_equal(c.v[4].verb, REQ_POLL);
	request_cmds_free(&c);
	/* prose is no command */
	request_parse(NULL, "remind me tomorrow\nwelcome to the list\n", 40,
		      &c);
	assert_int_equal(c.n, 0);
	request_cmds_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dwindling),
		cmocka_unit_test(test_trend_median),
		cmocka_unit_test(test_sparkline_duration),
		cmocka_unit_test(test_chart),
		cmocka_unit_test(test_poll_spec),
		cmocka_unit_test(test_poll_choice),
		cmocka_unit_test(test_request_verbs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
