/* test-bounce - bounce scoring (from reports and from the failures
 * Delivery recorded), the day's worst, decay, disable and probes, removal,
 * re-enabling, on a real list and database, without the binary */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipefix.h"
#include "base/buf.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "pipeline/bounce.h"
#include "pipeline/worker.h"
#include "mail/verp.h"
#include "store/store.h"
#include "store/store_guard.h"

#define DAY 86400L

static double score_of(struct pipefix *f, const char *addr)
{
	char *q = xasprintf("SELECT bounce_score * 1000 FROM members WHERE "
			    "address = '%s'", addr);
	int64_t v = pipefix_sql(f, q);

	free(q);
	return v / 1000.0;
}

static char *status_of(struct pipefix *f, const char *addr)
{
	char *q = xasprintf("SELECT status FROM members WHERE address = '%s'",
			    addr);
	char *v = pipefix_sql_text(f, q);

	free(q);
	return v;
}

static int64_t mail_to(struct pipefix *f, const char *addr, const char *text)
{
	char *q = xasprintf("SELECT count(*) FROM jobs j JOIN job_rcpts r"
			    " ON r.job = j.id WHERE r.address = '%s'"
			    " AND instr(CAST(j.data AS TEXT), '%s') > 0",
			    addr, text);
	int64_t n = pipefix_sql(f, q);

	free(q);
	return n;
}

/* What Delivery records when the relay refuses a recipient for good. */
static void refused(struct pipefix *f, const char *list, const char *addr,
		    int code)
{
	assert_int_equal(store_failure_add(f->s, list, addr, code,
					   util_now()), 0);
}

/* The tagged VERP return path the list gives bob now. */
static char *bob_return_path(struct pipefix *f)
{
	unsigned char key[STORE_SECRET_LEN];

	assert_int_equal(store_secret(f->s, "verp", key), 0);
	return verp_encode_tagged("makers", "bob@example.net",
				  "lists.example.org", key, util_now());
}

/* A report from the fixtures, to `to` (NULL: bob's return path). */
static enum incoming_outcome report(struct pipefix *f, const char *fixture,
				    const char *to)
{
	char *own = to == NULL ? bob_return_path(f) : NULL;

	char *path = xasprintf("%s/tests/fixtures/bounces/%s",
			       getenv("top_srcdir"), fixture);
	struct buf raw = BUF_INIT;
	enum incoming_outcome o;

	assert_int_equal(util_read_file(path, 1 << 20, &raw), 0);
	assert_int_equal(pipefix_receive(f, own != NULL ? own : to,
					 buf_cstr(&raw), &o), ST_OK);
	buf_free(&raw);
	free(path);
	free(own);
	return o;
}

static void test_recorded_failures(void **state)
{
	struct pipefix f;
	time_t now = util_now();

	pipefix_open(&f, NULL, NULL);
	pipefix_members(&f, "bob@example.net", "cat@example.net", NULL);
	pipefix_now(now);
	refused(&f, "makers", "bob@example.net", 550);
	refused(&f, "makers", "bob@example.net", 554);   /* same day */
	refused(&f, "makers", "nobody@example.net", 550);
	refused(&f, "gone", "cat@example.net", 550);    /* no such list */
	/* Nothing is scored until the Pipeline's pass. */
	assert_true(score_of(&f, "bob@example.net") == 0.0);
	assert_int_equal(worker_timed_pass(f.c, f.s), 0);
	/* One score a day: the day's worst, hard = 1. */
	assert_true(score_of(&f, "bob@example.net") == 1.0);
	assert_true(score_of(&f, "cat@example.net") == 0.0);
	assert_int_equal(pipefix_sql(&f, "SELECT count(*) FROM "
				     "delivery_failures"), 0);
	/* Both are recorded; the second added nothing. */
	assert_int_equal(pipefix_sql(&f, "SELECT count(*) FROM events WHERE "
				     "kind = 'bounce.scored'"), 2);
	assert_int_equal(pipefix_sql(&f, "SELECT count(*) FROM events WHERE "
				     "kind = 'bounce.scored' AND detail = "
				     "'hard 554 +0.00 = 1.00'"), 1);
	/* Each failure is scored once. */
	assert_int_equal(bounce_score_failures(f.c, f.s), 0);
	assert_true(score_of(&f, "bob@example.net") == 1.0);
	/* Another day adds another. */
	pipefix_now(now + DAY);
	refused(&f, "makers", "bob@example.net", 550);
	assert_int_equal(bounce_score_failures(f.c, f.s), 0);
	assert_true(score_of(&f, "bob@example.net") == 2.0);
	pipefix_close(&f);
}

/* More failures than one batch: all are scored in one pass. */
static void test_many_failures(void **state)
{
	struct pipefix f;
	int i;

	pipefix_open(&f, NULL, NULL);
	pipefix_members(&f, "bob@example.net", NULL);
	for (i = 0; i < 250; i++)
		refused(&f, "makers", i % 2 ? "bob@example.net" :
			"nobody@example.net", 550);
	assert_int_equal(bounce_score_failures(f.c, f.s), 0);
	assert_int_equal(pipefix_sql(&f, "SELECT count(*) FROM "
				     "delivery_failures"), 0);
	assert_true(score_of(&f, "bob@example.net") == 1.0);
	pipefix_close(&f);
}

/* Reports: soft counts soft_weight, the day's worst counts once. */
static void test_reports(void **state)
{
	struct pipefix f;
	time_t now = util_now();

	pipefix_open(&f, "bounces = { soft_weight = 0.25; };", NULL);
	pipefix_members(&f, "bob@example.net", NULL);
	pipefix_now(now);
	assert_int_equal(report(&f, "delay-dsn.eml", NULL),
			 INCOMING_ACCEPTED);
	assert_true(score_of(&f, "bob@example.net") == 0.25);
	/* A hard one the same day: the day counts 1 in all. */
	assert_int_equal(report(&f, "postfix-dsn.eml", NULL),
			 INCOMING_ACCEPTED);
	assert_true(score_of(&f, "bob@example.net") == 1.0);
	assert_int_equal(report(&f, "postfix-dsn.eml", NULL),
			 INCOMING_ACCEPTED);
	assert_true(score_of(&f, "bob@example.net") == 1.0);
	/* A report without a tag for someone the list never wrote to is
	 * not believed (forgery protection). */
	assert_int_equal(report(&f, "postfix-dsn.eml",
				"makers-bounces@lists.example.org"),
			 INCOMING_DROPPED);
	/* Auto-replies at the bounce address are dropped, never scored. */
	assert_int_equal(report(&f, "autoreply.eml", NULL),
			 INCOMING_DROPPED);
	assert_true(score_of(&f, "bob@example.net") == 1.0);
	/* After decay_after without bounces, a new one starts again from 0. */
	pipefix_now(now + 8 * DAY);
	assert_int_equal(report(&f, "delay-dsn.eml", NULL),
			 INCOMING_ACCEPTED);
	assert_true(score_of(&f, "bob@example.net") == 0.25);
	pipefix_close(&f);
}

/* A quiet score decays to 0 in the timed pass. */
static void test_decay(void **state)
{
	struct pipefix f;
	time_t now = util_now();

	pipefix_open(&f, "bounces = { decay_after = \"7d\"; };", NULL);
	pipefix_members(&f, "bob@example.net", NULL);
	pipefix_now(now);
	refused(&f, "makers", "bob@example.net", 550);
	assert_int_equal(worker_timed_pass(f.c, f.s), 0);
	assert_true(score_of(&f, "bob@example.net") == 1.0);
	pipefix_now(now + 6 * DAY);
	assert_int_equal(bounce_pass(f.c, f.s), 0);
	assert_true(score_of(&f, "bob@example.net") == 1.0);
	pipefix_now(now + 7 * DAY + 60);
	assert_int_equal(bounce_pass(f.c, f.s), 0);
	assert_true(score_of(&f, "bob@example.net") == 0.0);
	pipefix_close(&f);
}

/* At the threshold: disabled, a probe with the member's VERP return path
 * and the leaders told; probes every interval; removed after the last;
 * a reply to a probe re-enables. */
static void test_disable_probe_remove(void **state)
{
	struct pipefix f;
	time_t now = util_now();
	char *s, *tok, *to, *raw;
	enum incoming_outcome o;

	pipefix_open(&f, "bounces = { threshold = 2.0; probes = 3;"
		     " probe_interval = \"3d\"; };", NULL);
	pipefix_members(&f, "bob@example.net", "cat@example.net", NULL);
	pipefix_now(now);
	refused(&f, "makers", "bob@example.net", 550);
	refused(&f, "makers", "cat@example.net", 550);
	assert_int_equal(bounce_score_failures(f.c, f.s), 0);
	pipefix_now(now + DAY);
	refused(&f, "makers", "bob@example.net", 550);
	refused(&f, "makers", "cat@example.net", 550);
	assert_int_equal(bounce_score_failures(f.c, f.s), 0);
	s = status_of(&f, "bob@example.net");
	assert_string_equal(s, "disabled");
	free(s);
	assert_int_equal(mail_to(&f, "bob@example.net", "is bouncing"), 1);
	/* The probe's return path names bob (with a tag). */
	assert_int_equal(pipefix_sql(&f, "SELECT count(*) FROM jobs WHERE "
				     "env_from LIKE 'makers-bounces+%.bob="
				     "example.net@lists.example.org'"), 1);
	assert_int_equal(mail_to(&f, "alice@example.org", "paused"), 2);
	/* cat answers the probe: delivery back on, score forgotten. */
	tok = pipefix_sql_text(&f, "SELECT token FROM bounce_state WHERE "
			       "address = 'cat@example.net'");
	assert_non_null(tok);
	to = xasprintf("makers-confirm+%s@lists.example.org", tok);
	raw = pipefix_msg("p1", "cat@example.net", NULL, "I am here.\n");
	assert_int_equal(pipefix_receive(&f, to, raw, &o), ST_OK);
	assert_int_equal(o, INCOMING_ACCEPTED);
	s = status_of(&f, "cat@example.net");
	assert_string_equal(s, "active");
	free(s);
	assert_true(score_of(&f, "cat@example.net") == 0.0);
	free(raw);
	free(to);
	free(tok);
	/* bob's probes: the 2nd and 3rd an interval apart, then removal. */
	pipefix_now(now + DAY + 3 * DAY + 60);
	assert_int_equal(bounce_pass(f.c, f.s), 0);
	assert_int_equal(mail_to(&f, "bob@example.net", "is bouncing"), 2);
	pipefix_now(now + DAY + 6 * DAY + 120);
	assert_int_equal(bounce_pass(f.c, f.s), 0);
	assert_int_equal(mail_to(&f, "bob@example.net", "is bouncing"), 3);
	assert_int_equal(pipefix_sql(&f, "SELECT count(*) FROM members WHERE "
				     "address = 'bob@example.net'"), 1);
	pipefix_now(now + DAY + 9 * DAY + 180);
	assert_int_equal(bounce_pass(f.c, f.s), 0);
	assert_int_equal(pipefix_sql(&f, "SELECT count(*) FROM members WHERE "
				     "address = 'bob@example.net'"), 0);
	assert_int_equal(mail_to(&f, "alice@example.org",
				 "Subject: [makers] bob@example.net removed"),
			 1);
	pipefix_close(&f);
}

/* bounce_enable (the CLI's `members enable`): back on, with an event;
 * false for a non-member. */
static void test_enable(void **state)
{
	struct pipefix f;
	bool found;
	char *s;

	pipefix_open(&f, "bounces = { threshold = 1.0; };", NULL);
	pipefix_members(&f, "bob@example.net", NULL);
	refused(&f, "makers", "bob@example.net", 550);
	assert_int_equal(bounce_score_failures(f.c, f.s), 0);
	s = status_of(&f, "bob@example.net");
	assert_string_equal(s, "disabled");
	free(s);
	assert_int_equal(store_begin(f.s), 0);
	assert_int_equal(bounce_enable(f.s, f.l, "bob@example.net", "by hand",
				       &found), 0);
	assert_true(found);
	assert_int_equal(bounce_enable(f.s, f.l, "zed@example.net", "by hand",
				       &found), 0);
	assert_false(found);
	assert_int_equal(store_commit(f.s), 0);
	s = status_of(&f, "bob@example.net");
	assert_string_equal(s, "active");
	free(s);
	assert_int_equal(pipefix_sql(&f, "SELECT count(*) FROM events WHERE "
				     "kind = 'bounce.enabled' AND detail = "
				     "'by hand'"), 1);
	pipefix_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_recorded_failures),
		cmocka_unit_test(test_many_failures),
		cmocka_unit_test(test_reports),
		cmocka_unit_test(test_decay),
		cmocka_unit_test(test_disable_probe_remove),
		cmocka_unit_test(test_enable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
