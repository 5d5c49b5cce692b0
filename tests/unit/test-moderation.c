/* test-moderation - held posts and their decisions (by reply, by the CLI,
 * by expiry) on a real list and database, without the binary */
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
#include "base/conf.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "pipeline/moderation.h"
#include "store/store.h"
#include "store/store_holds.h"

/* How many queued messages to `addr` have `text` in them. */
static int64_t notices(struct pipefix *f, const char *addr, const char *text)
{
	char *q = xasprintf("SELECT count(*) FROM jobs j JOIN job_rcpts r"
			    " ON r.job = j.id WHERE r.address = '%s'"
			    " AND instr(CAST(j.data AS TEXT), '%s') > 0",
			    addr, text);
	int64_t n = pipefix_sql(f, q);

	free(q);
	return n;
}

static char *state_of(struct pipefix *f, const char *id)
{
	char *q = xasprintf("SELECT state FROM holds WHERE message_id = "
			    "'%s@example.net'", id);
	char *v = pipefix_sql_text(f, q);

	free(q);
	return v;
}

static int64_t hold_id(struct pipefix *f, const char *id)
{
	char *q = xasprintf("SELECT id FROM holds WHERE message_id = "
			    "'%s@example.net'", id);
	int64_t v = pipefix_sql(f, q);

	free(q);
	return v;
}

/* A non-member's post, held. */
static void hold(struct pipefix *f, const char *id, const char *from,
		 const char *headers)
{
	char *raw = pipefix_msg(id, from, headers, "Buy now.\n");
	enum incoming_outcome o;

	assert_int_equal(pipefix_receive(f, "makers@lists.example.org", raw,
					 &o), ST_OK);
	assert_int_equal(o, INCOMING_HELD);
	free(raw);
}

static void test_decision_words(void **state)
{
	static const char *const words[] = {
		"approve", "reject", "discard", "ban", "always"
	};
	enum moderation_decision d;
	size_t i;

	for (i = 0; i < 5; i++) {
		assert_true(moderation_decision_parse(words[i], &d));
		assert_int_equal(d, (enum moderation_decision)i);
		assert_string_equal(moderation_decision_name(d), words[i]);
	}
	assert_true(moderation_decision_parse("APPROVE", &d));
	assert_int_equal(d, MOD_APPROVE);
	assert_false(moderation_decision_parse("maybe", &d));
	assert_false(moderation_decision_parse("", &d));
}

/* A hold: a token, one notice to leaders and council with the post, the
 * poster told once a day, robots never. */
static void test_hold(void **state)
{
	struct pipefix f;
	char *tok, *s;

	pipefix_open(&f, NULL, NULL);
	hold(&f, "h1", "mallory@example.net", NULL);
	s = state_of(&f, "h1");
	assert_string_equal(s, "held");
	free(s);
	tok = pipefix_sql_text(&f, "SELECT token FROM holds");
	assert_int_equal(strlen(tok), 32);
	assert_int_equal(strspn(tok, "0123456789abcdef"), 32);
	assert_int_equal(notices(&f, "alice@example.org", tok), 1);
	assert_int_equal(notices(&f, "erin@example.org", tok), 1);
	assert_int_equal(notices(&f, "carol@example.com", tok), 1);
	assert_int_equal(notices(&f, "alice@example.org",
				 "message/rfc822"), 1);
	assert_int_equal(notices(&f, "mallory@example.net",
				 "awaits moderation"), 1);
	free(tok);
	/* A second hold the same day: no second "awaits" to the poster. */
	hold(&f, "h2", "mallory@example.net", NULL);
	assert_int_equal(notices(&f, "mallory@example.net",
				 "awaits moderation"), 1);
	/* A robot's post is held too, but not answered. */
	hold(&f, "h3", "robot@example.net", "Auto-Submitted: auto-replied\n");
	hold(&f, "h4", "report@example.net",
	     "Content-Type: multipart/report; boundary=x\n");
	assert_int_equal(notices(&f, "robot@example.net", "moderation"), 0);
	assert_int_equal(notices(&f, "report@example.net", "moderation"), 0);
	assert_int_equal(pipefix_sql(&f, "SELECT count(*) FROM holds"), 4);
	pipefix_close(&f);
}

/* Decisions from the CLI: each state, the first decision wins. */
static void test_decide(void **state)
{
	struct pipefix f;
	enum moderation_result res;
	char *by = NULL, *s;
	time_t at;

	pipefix_open(&f, NULL, NULL);
	pipefix_members(&f, "bob@example.net", NULL);
	hold(&f, "a1", "ann@example.net", NULL);
	hold(&f, "r1", "rick@example.net", NULL);
	hold(&f, "d1", "dan@example.net", NULL);
	hold(&f, "b1", "ben@example.net", NULL);
	hold(&f, "w1", "will@example.net", NULL);
	assert_int_equal(moderation_decide(f.s, f.c, f.l, hold_id(&f, "a1"),
					   MOD_APPROVE, NULL, "cli:root",
					   &res, &by, &at), ST_OK);
	assert_int_equal(res, MODR_DONE);
	s = state_of(&f, "a1");
	assert_string_equal(s, "approved");
	free(s);
	assert_int_equal(pipefix_sql(&f, "SELECT count(*) FROM archive WHERE "
				     "message_id = 'a1@example.net'"), 1);
	assert_int_equal(pipefix_sql(&f, "SELECT count(*) FROM jobs WHERE "
				     "kind = 'post'"), 1);
	/* Decided twice: the first stands, and says who. */
	assert_int_equal(moderation_decide(f.s, f.c, f.l, hold_id(&f, "a1"),
					   MOD_DISCARD, NULL, "cli:other",
					   &res, &by, &at), ST_OK);
	assert_int_equal(res, MODR_DECIDED);
	assert_string_equal(by, "cli:root");
	assert_true(at > 0);
	free(by);
	assert_int_equal(moderation_decide(f.s, f.c, f.l, hold_id(&f, "r1"),
					   MOD_REJECT, "off topic", "cli:root",
					   &res, &by, &at), ST_OK);
	assert_int_equal(notices(&f, "rick@example.net", "off topic"), 1);
	assert_int_equal(moderation_decide(f.s, f.c, f.l, hold_id(&f, "d1"),
					   MOD_DISCARD, NULL, "cli:root",
					   &res, &by, &at), ST_OK);
	s = state_of(&f, "d1");
	assert_string_equal(s, "discarded");
	free(s);
	assert_int_equal(notices(&f, "dan@example.net", "not accepted"), 0);
	assert_int_equal(moderation_decide(f.s, f.c, f.l, hold_id(&f, "b1"),
					   MOD_BAN, NULL, "cli:root", &res,
					   &by, &at), ST_OK);
	assert_int_equal(pipefix_sql(&f, "SELECT count(*) FROM mod_bans WHERE "
				     "address = 'ben@example.net'"), 1);
	assert_int_equal(moderation_decide(f.s, f.c, f.l, hold_id(&f, "w1"),
					   MOD_ALWAYS, NULL, "cli:root", &res,
					   &by, &at), ST_OK);
	assert_int_equal(pipefix_sql(&f, "SELECT count(*) FROM mod_allow WHERE "
				     "address = 'will@example.net'"), 1);
	assert_int_equal(pipefix_sql(&f, "SELECT count(*) FROM archive WHERE "
				     "message_id = 'w1@example.net'"), 1);
	/* No such hold. */
	assert_int_equal(moderation_decide(f.s, f.c, f.l, 9999, MOD_APPROVE,
					   NULL, "cli:root", &res, &by, &at),
			 ST_OK);
	assert_int_equal(res, MODR_NOT_FOUND);
	pipefix_close(&f);
}

/* A reply to the notice: a leader's first word decides; anyone else's
 * changes nothing and the leaders hear of it; a robot's is ignored. */
static void test_reply(void **state)
{
	struct pipefix f;
	enum incoming_outcome o;
	char *tok, *raw, *to, *s;

	pipefix_open(&f, NULL, NULL);
	hold(&f, "h1", "mallory@example.net", NULL);
	tok = pipefix_sql_text(&f, "SELECT token FROM holds");
	to = xasprintf("makers-confirm+%s@lists.example.org", tok);

	raw = pipefix_msg("x1", "mallory@example.net", NULL, "approve\n");
	assert_int_equal(pipefix_receive(&f, to, raw, &o), ST_OK);
	assert_int_equal(o, INCOMING_DROPPED);
	free(raw);
	s = state_of(&f, "h1");
	assert_string_equal(s, "held");
	free(s);
	assert_int_equal(pipefix_sql(&f, "SELECT count(*) FROM events WHERE "
				     "kind = 'hold.forged'"), 1);
	assert_int_equal(notices(&f, "alice@example.org",
				 "may not decide"), 1);

	raw = pipefix_msg("x2", "alice@example.org",
			  "Auto-Submitted: auto-replied\n", "approve\n");
	assert_int_equal(pipefix_receive(&f, to, raw, &o), ST_OK);
	assert_int_equal(o, INCOMING_DROPPED);
	free(raw);
	s = state_of(&f, "h1");
	assert_string_equal(s, "held");
	free(s);

	raw = pipefix_msg("x3", "alice@example.org", NULL, "sure\n");
	assert_int_equal(pipefix_receive(&f, to, raw, &o), ST_OK);
	free(raw);
	assert_int_equal(notices(&f, "alice@example.org", "which decision"),
			 1);

	raw = pipefix_msg("x4", "Alice <alice@example.org>", NULL,
			  "Reject not for this list\n\n> quoted\n");
	assert_int_equal(pipefix_receive(&f, to, raw, &o), ST_OK);
	assert_int_equal(o, INCOMING_ACCEPTED);
	free(raw);
	s = state_of(&f, "h1");
	assert_string_equal(s, "rejected");
	free(s);
	assert_int_equal(notices(&f, "mallory@example.net",
				 "not for this list"), 1);
	/* The token only in the Subject works too; the late one is told. */
	raw = xasprintf("From: erin@example.org\nTo: x@lists.example.org\n"
			"Subject: Re: held post %s\nMessage-ID: <x5@e>\n\n"
			"approve\n", tok);
	assert_int_equal(pipefix_receive(&f, "makers-confirm+moderation@"
					 "lists.example.org", raw, &o),
			 ST_OK);
	free(raw);
	assert_int_equal(notices(&f, "erin@example.org", "already decided"),
			 1);
	s = state_of(&f, "h1");
	assert_string_equal(s, "rejected");
	free(s);
	free(to);
	free(tok);
	pipefix_close(&f);
}

/* Holds past hold_expiry expire, each with a notice to its poster. */
static void test_expire(void **state)
{
	struct pipefix f;
	time_t now = util_now();
	size_t n;
	char *s;

	pipefix_open(&f, "hold_expiry = \"1h\";", NULL);
	pipefix_now(now);
	hold(&f, "old", "ann@example.net", NULL);
	pipefix_now(now + 1800);
	hold(&f, "new", "bea@example.net", NULL);
	pipefix_now(now + 3600 + 60);
	assert_int_equal(moderation_expire(f.s, f.c, &n), 0);
	assert_int_equal(n, 1);
	s = state_of(&f, "old");
	assert_string_equal(s, "expired");
	free(s);
	s = state_of(&f, "new");
	assert_string_equal(s, "held");
	free(s);
	assert_int_equal(notices(&f, "ann@example.net", "expired"), 1);
	assert_int_equal(moderation_expire(f.s, f.c, &n), 0);
	assert_int_equal(n, 0);
	pipefix_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decision_words),
		cmocka_unit_test(test_hold),
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_reply),
		cmocka_unit_test(test_expire),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
