/* test-search - the query parser (nothing raw reaches FTS5) and searches
 * over a real index */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pipeline/search.h"
#include "pipeline/thread.h"
#include "base/buf.h"
#include "store/store.h"
#include "store/store_archive.h"
#include "base/xalloc.h"

static enum search_error parse(const char *text, struct search_query *q)
{
	return search_parse(text, strlen(text), q);
}

static void expect_match(const char *text, const char *match)
{
	struct search_query q;

	assert_int_equal(parse(text, &q), SEARCH_OK);
	assert_non_null(q.match);
	assert_string_equal(q.match, match);
	search_query_free(&q);
}

static void expect_error(const char *text, enum search_error e)
{
	struct search_query q;

	assert_int_equal(parse(text, &q), e);
	assert_null(q.match);
	assert_null(q.shown);
}

static void test_parse_terms(void **state)
{
	(void)state;
	expect_match("laser", "(\"laser\")");
	expect_match("  laser   cutter ", "(\"laser\" \"cutter\")");
	expect_match("\"laser cutter\"", "(\"laser cutter\")");
	expect_match("from:alice@example.org",
		     "(sender : \"alice@example.org\")");
	expect_match("subject:\"open day\" tools",
		     "(subject : \"open day\" \"tools\")");
	expect_match("sold* -iron", "(\"sold\"*) NOT \"iron\"");
	expect_match("FROM:Bob", "(sender : \"Bob\")");
	/* Punctuation around words goes; inside, the tokenizer splits. */
	expect_match("(laser), e-mail!", "(\"laser\" \"e-mail\")");
}

/* What FTS5 would read as syntax is a plain word here. */
static void test_parse_hostile(void **state)
{
	struct search_query q;
	char *big;

	(void)state;
	expect_match("NEAR(", "(\"NEAR\")");
	expect_match("a NEAR(b c)", "(\"a\" \"NEAR(b\" \"c\")");
	expect_match("laser AND OR NOT", "(\"laser\" \"AND\" \"OR\" \"NOT\")");
	expect_match("body:x", "(\"body:x\")");
	expect_match("{subject}:x ^y", "(\"subject}:x\" \"y\")");
	expect_match("a\"b", "(\"a\"\"b\")");
	expect_error("\"", SEARCH_UNCLOSED_QUOTE);
	expect_error("laser \"cutter", SEARCH_UNCLOSED_QUOTE);
	expect_error("*", SEARCH_EMPTY);
	expect_error("* ( ) \"\" -", SEARCH_EMPTY);
	expect_error("", SEARCH_EMPTY);
	expect_error("-laser", SEARCH_ONLY_NOT);
	expect_error("a b c d e f g h i j k l m n o p q", SEARCH_TOO_MANY);
	big = xmalloc(10241);
	memset(big, 'a', 10240);
	big[10240] = '\0';
	expect_error(big, SEARCH_TOO_LONG);
	free(big);
	/* A lone star or one letter is no prefix. */
	expect_match("a*", "(\"a\")");
	/* Invalid UTF-8 and control bytes separate words. */
	assert_int_equal(search_parse("caf\xc3\xa9 \xff\x01x", 9, &q),
			 SEARCH_OK);
	assert_string_equal(q.match, "(\"caf\xc3\xa9\" \"x\")");
	search_query_free(&q);
}

static void test_parse_dates(void **state)
{
	struct search_query q;

	(void)state;
	assert_int_equal(parse("after:2024-02-01 tools", &q), SEARCH_OK);
	assert_int_equal(q.after, 1706745600);
	assert_int_equal(q.before, 0);
	search_query_free(&q);
	assert_int_equal(parse("date:2024-02", &q), SEARCH_OK);
	assert_null(q.match);
	assert_int_equal(q.after, 1706745600);
	assert_int_equal(q.before, 1709251200);     /* 2024-03-01 */
	assert_string_equal(q.shown, "date:2024-02");
	search_query_free(&q);
	assert_int_equal(parse("date:2023..2024-01-15 x", &q), SEARCH_OK);
	assert_int_equal(q.after, 1672531200);
	assert_int_equal(q.before, 1705363200);     /* 2024-01-16 */
	search_query_free(&q);
	assert_int_equal(parse("before:2024 tag:HowTo", &q), SEARCH_OK);
	assert_int_equal(q.before, 1704067200);
	assert_string_equal(q.tag, "howto");
	search_query_free(&q);
	expect_error("after:yesterday", SEARCH_BAD_DATE);
	expect_error("date:2024-02-30", SEARCH_BAD_DATE);
	expect_error("date:2024-13", SEARCH_BAD_DATE);
	expect_error("date:2024..2023", SEARCH_BAD_DATE);
	expect_error("-after:2024", SEARCH_BAD_DATE);
}

static void test_error_keys(void **state)
{
	(void)state;
	assert_string_equal(search_error_key(SEARCH_TOO_LONG),
			    "search-too-long");
	assert_string_equal(search_error_key(SEARCH_UNCLOSED_QUOTE),
			    "search-unclosed-quote");
}

static void test_split_and_hide(void **state)
{
	struct buf body = BUF_INIT, quoted = BUF_INIT;
	char *h;

	(void)state;
	search_split_text("I agree.\n> you wrote\n  >> deeper\nthanks\n", &body,
			  &quoted);
	assert_string_equal(buf_cstr(&body), "I agree.\nthanks\n");
	assert_string_equal(buf_cstr(&quoted), "> you wrote\n  >> deeper\n");
	buf_free(&body);
	buf_free(&quoted);
	h = search_hide_addresses("mail alice@example.org or @x, a@b.c.");
	assert_string_equal(h, "mail alice@... or @x, a@....");
	free(h);
	h = search_sender_display("bob@example.net", NULL);
	assert_string_equal(h, "bob@...");
	free(h);
	h = search_sender_display("bob@example.net", "\"Bob <bob@x.org>\"");
	assert_string_equal(h, "Bob <bob@...>");
	free(h);
}

/* ---- over a real index ---- */

struct fixture {
	char dir[64];
	struct store *s;
	int64_t msg;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof *f);
	char *err = NULL, *path;
	bool transient;

	snprintf(f->dir, sizeof f->dir, "/tmp/convene-search.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	path = xasprintf("%s/test.db", f->dir);
	f->s = store_open(path, 1000, &err, &transient);
	free(path);
	assert_non_null(f->s);
	assert_int_equal(store_message_add(f->s, "raw", 3, &f->msg), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char *cmd = xasprintf("rm -rf '%s'", f->dir);

	store_close(&f->s);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(f);
	return 0;
}

static int64_t post(struct fixture *f, const char *list, const char *mid,
		    const char *irt, const char *subject, const char *sender,
		    time_t date, const char *text)
{
	const char *refs[] = { irt, NULL };
	struct store_post p = { .list = list, .message = f->msg,
				.message_id = mid, .date = date,
				.subject = subject, .sender = sender,
				.in_reply_to = irt };
	struct thread_post tp;
	int64_t id, thread;

	p.references = irt != NULL ? refs : NULL;
	assert_int_equal(store_archive_add(f->s, &p, &id), 0);
	tp = (struct thread_post){ list, id, mid, irt,
				   irt != NULL ? refs : NULL, subject, date };
	assert_int_equal(thread_link(f->s, &tp, &thread), 0);
	if (search_index(f->s, id, subject, sender, NULL, text) < 0)
		fail_msg("%s", store_error(f->s));
	return id;
}

static void run(struct fixture *f, const char *list, const char *text,
		struct search_result *r)
{
	struct search_query q;

	assert_int_equal(parse(text, &q), SEARCH_OK);
	if (search_run(f->s, list, &q, 10, r) < 0)
		fail_msg("%s: %s", q.match, store_error(f->s));
	search_query_free(&q);
}

static void test_search_threads(void **state)
{
	struct fixture *f = *state;
	struct search_result r;
	int64_t q1, a1, q2, other, quoting;

	q1 = post(f, "makers", "q1@x", NULL, "Laser cutter settings",
		  "alice@example.org", 1706745600,
		  "What power for 3mm plywood on the laser?\n");
	a1 = post(f, "makers", "a1@x", "q1@x", "Re: Laser cutter settings",
		  "bob@example.net", 1706832000,
		  "Try 60% power and two passes. Mail me at bob@example.net\n");
	q2 = post(f, "makers", "q2@x", NULL, "Soldering night",
		  "carol@example.com", 1709251200,
		  "Bring your own iron; plywood scraps welcome\n");
	quoting = post(f, "makers", "q3@x", NULL, "Something else",
		       "dan@example.com", 1709337600,
		       "> laser laser laser laser\nunrelated answer\n");
	other = post(f, "other", "o1@x", NULL, "Laser elsewhere",
		     "eve@example.org", 1706745600, "laser laser\n");
	(void)other;

	/* Grouped by thread: two matching messages, one thread. */
	run(f, "makers", "passes", &r);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.v[0].thread, q1);
	assert_int_equal(r.v[0].archive, a1);
	assert_non_null(strstr(r.v[0].excerpt, "passes"));
	/* No address in an excerpt or a sender. */
	assert_null(strstr(r.v[0].excerpt, "example.net"));
	assert_string_equal(r.v[0].sender_name, "bob@...");
	search_result_free(&r);

	run(f, "makers", "laser", &r);
	assert_int_equal(r.threads, 2);
	assert_int_equal(r.n, 2);
	/* The subject match ranks above the quoted lines. */
	assert_int_equal(r.v[0].thread, q1);
	assert_int_equal(r.v[0].matches, 2);
	assert_int_equal(r.v[0].messages, 2);
	assert_string_equal(r.v[0].subject, "Laser cutter settings");
	assert_int_equal(r.v[1].thread, quoting);
	search_result_free(&r);

	/* Stemming: "settings" finds "setting". */
	run(f, "makers", "setting", &r);
	assert_int_equal(r.n, 1);
	search_result_free(&r);
	run(f, "makers", "plywood", &r);
	assert_int_equal(r.n, 2);
	search_result_free(&r);
	run(f, "makers", "plywood -iron", &r);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.v[0].thread, q1);
	search_result_free(&r);
	run(f, "makers", "\"two passes\"", &r);
	assert_int_equal(r.n, 1);
	search_result_free(&r);
	run(f, "makers", "\"passes two\"", &r);
	assert_int_equal(r.n, 0);
	search_result_free(&r);
	run(f, "makers", "from:carol plywood", &r);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.v[0].thread, q2);
	search_result_free(&r);
	run(f, "makers", "subject:soldering", &r);
	assert_int_equal(r.n, 1);
	search_result_free(&r);
	run(f, "makers", "subject:plywood", &r);
	assert_int_equal(r.n, 0);
	search_result_free(&r);
	run(f, "makers", "plywood date:2024-02", &r);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.v[0].thread, q1);
	search_result_free(&r);
	run(f, "makers", "plywood after:2024-03-01", &r);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.v[0].thread, q2);
	search_result_free(&r);
	/* Dates alone: newest thread first. */
	run(f, "makers", "after:2024-01-01", &r);
	assert_int_equal(r.threads, 3);
	assert_int_equal(r.v[0].thread, quoting);
	search_result_free(&r);
	/* The other list's archive is another archive. */
	run(f, "other", "plywood", &r);
	assert_int_equal(r.n, 0);
	search_result_free(&r);
	/* Tags. */
	{
		bool added;

		assert_int_equal(store_tag_add(f->s, a1, "howto", "x", 1,
					       &added), 0);
		assert_true(added);
	}
	run(f, "makers", "tag:howto", &r);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.v[0].archive, a1);
	search_result_free(&r);
	run(f, "makers", "tag:howto plywood", &r);
	assert_int_equal(r.n, 0);
	search_result_free(&r);
}

/* Whatever the parser lets through is valid FTS5: no SQL error for any of
 * these. */
static void test_hostile_queries_run(void **state)
{
	static const char *const queries[] = {
		"NEAR(", "a NEAR(b c)", "\"\"\"\"", "a\"b", "^x", "x:y:z",
		"AND", "OR OR", "NOT", "*x*", "x*y", "{a b}:c", "-x y",
		"col:val", "'; DROP TABLE archive; --", "\xe2\x80\x9cquoted"
		"\xe2\x80\x9d", "+x", "x+", "(((x)))", "sender:x", NULL
	};
	struct fixture *f = *state;
	struct search_result r;
	size_t i;

	post(f, "makers", "x@x", NULL, "x", "x@example.org", 1, "x y z\n");
	for (i = 0; queries[i] != NULL; i++) {
		struct search_query q;

		if (parse(queries[i], &q) != SEARCH_OK)
			continue;
		assert_int_equal(search_run(f->s, "makers", &q, 10, &r), 0);
		search_result_free(&r);
		search_query_free(&q);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_terms),
		cmocka_unit_test(test_parse_hostile),
		cmocka_unit_test(test_parse_dates),
		cmocka_unit_test(test_error_keys),
		cmocka_unit_test(test_split_and_hide),
		cmocka_unit_test_setup_teardown(test_search_threads, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_hostile_queries_run,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
