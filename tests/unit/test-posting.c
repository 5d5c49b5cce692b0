/* test-posting - the posting policy (posting_decide) and receive's seam
 * for committing several messages together, on a real list and database,
 * without the binary */
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
#include "base/xalloc.h"
#include "pipeline/incoming.h"
#include "pipeline/posting.h"
#include "pipeline/receive.h"
#include "store/store.h"
#include "store/store_holds.h"

/* What posting_decide says of a post from `from` with extra headers, as
 * "decision: reason". */
static char *decide(struct pipefix *f, const char *from, const char *headers,
		    const char *body)
{
	char *raw = pipefix_msg("p1", from, headers, body), *out;
	struct incoming in;
	enum posting_decision d;
	const char *reason = NULL;

	assert_int_equal(incoming_init(&in, f->c, f->l, raw, strlen(raw)), 0);
	assert_int_equal(posting_decide(f->s, &in, &d, &reason), 0);
	out = xasprintf("%s: %s", posting_decision_name(d),
			reason ? reason : "-");
	incoming_free(&in);
	free(raw);
	return out;
}

#define EXPECT(f, want, from, headers, body)				\
	do {								\
		char *got_ = decide(f, from, headers, body);		\
		assert_string_equal(got_, want);			\
		free(got_);						\
	} while (0)

static void test_members_policy(void **state)
{
	struct pipefix f;

	pipefix_open(&f, NULL, NULL);
	pipefix_members(&f, "bob@example.net", NULL);
	EXPECT(&f, "accept: -", "Bob <bob@example.net>", NULL, NULL);
	EXPECT(&f, "accept: -", "BOB@Example.NET", NULL, NULL);
	EXPECT(&f, "hold: post from a non-member", "mallory@example.net",
	       NULL, NULL);
	/* Leaders, sponsors and council post without being members. */
	EXPECT(&f, "accept: -", "alice@example.org", NULL, NULL);
	EXPECT(&f, "accept: -", "dana@example.org", NULL, NULL);
	EXPECT(&f, "accept: -", "carol@example.com", NULL, NULL);
	EXPECT(&f, "hold: no sender address in From", "undisclosed", NULL,
	       NULL);
	pipefix_close(&f);
}

static void test_other_policies(void **state)
{
	struct pipefix f;

	pipefix_open(&f, "policy = \"open\";", NULL);
	EXPECT(&f, "accept: -", "mallory@example.net", NULL, NULL);
	pipefix_close(&f);

	pipefix_open(&f, "policy = \"moderated\";", NULL);
	pipefix_members(&f, "bob@example.net", NULL);
	EXPECT(&f, "hold: every post to this list is moderated",
	       "bob@example.net", NULL, NULL);
	EXPECT(&f, "accept: -", "erin@example.org", NULL, NULL);
	pipefix_close(&f);

	pipefix_open(&f, "policy = \"announce\";", NULL);
	pipefix_members(&f, "bob@example.net", NULL);
	EXPECT(&f, "hold: only leaders and sponsors post to this list",
	       "bob@example.net", NULL, NULL);
	EXPECT(&f, "accept: -", "dana@example.org", NULL, NULL);
	pipefix_close(&f);

	pipefix_open(&f, "policy = \"announce\"; announce_action = \"reject\";",
		     NULL);
	EXPECT(&f, "reject: only leaders and sponsors post to this list",
	       "bob@example.net", NULL, NULL);
	pipefix_close(&f);
}

static void test_loops_and_bans(void **state)
{
	struct pipefix f;
	bool added;

	pipefix_open(&f, "bans = [ \"@spam\\\\.example$\" ];",
		     "bans = [ \"^evil@\" ];");
	pipefix_members(&f, "bob@example.net", "x@spam.example", NULL);
	EXPECT(&f, "drop: mail loop (our own List-Id or X-Loop)",
	       "bob@example.net", "List-Id: Makers <makers.lists.example.org>\n",
	       NULL);
	EXPECT(&f, "drop: mail loop (our own List-Id or X-Loop)",
	       "bob@example.net", "X-Loop: makers@lists.example.org\n", NULL);
	/* Another list's List-Id is no loop. */
	EXPECT(&f, "accept: -", "bob@example.net",
	       "List-Id: <other.example.net>\n", NULL);
	EXPECT(&f, "drop: sender is banned", "x@spam.example", NULL, NULL);
	EXPECT(&f, "drop: sender is banned", "evil@example.org", NULL, NULL);
	assert_int_equal(store_holds_ban_add(f.s, "makers", "bob@example.net",
					     "alice@example.org", &added), 0);
	assert_true(added);
	EXPECT(&f, "drop: sender is banned by a leader", "bob@example.net",
	       NULL, NULL);
	pipefix_close(&f);
}

static void test_filters(void **state)
{
	struct pipefix f;

	pipefix_open(&f,
		     "filters = ("
		     " { header = \"Subject\"; match = \"(?i)casino\";"
		     "   action = \"discard\"; },"
		     " { header = \"X-Spam\"; match = \"yes\";"
		     "   action = \"reject\"; reason = \"spam\"; },"
		     " { match = \"(?i)urgent\"; action = \"hold\"; },"
		     " { header = \"X-Trusted\"; match = \"1\";"
		     "   action = \"accept\"; } );", NULL);
	pipefix_members(&f, "bob@example.net", NULL);
	EXPECT(&f, "accept: -", "bob@example.net", NULL, NULL);
	EXPECT(&f, "reject: spam", "bob@example.net", "X-Spam: yes\n", NULL);
	EXPECT(&f, "hold: matched a filter", "bob@example.net", NULL,
	       "This is URGENT.\n");
	/* A filter decides before membership. */
	EXPECT(&f, "accept: matched a filter", "mallory@example.net",
	       "X-Trusted: 1\n", NULL);
	pipefix_close(&f);
}

static void test_limits(void **state)
{
	struct pipefix f;
	struct buf;
	char big[3000];

	memset(big, 'x', sizeof big - 2);
	big[sizeof big - 2] = '\n';
	big[sizeof big - 1] = '\0';
	pipefix_open(&f, "max_message_kb = 2; max_recipients = 2;", NULL);
	pipefix_members(&f, "bob@example.net", NULL);
	EXPECT(&f, "hold: message over the list's size limit",
	       "bob@example.net", NULL, big);
	EXPECT(&f, "hold: too many recipients in To and Cc",
	       "bob@example.net", "Cc: a@x.org, b@x.org\n", NULL);
	/* Leaders may write to many. */
	EXPECT(&f, "accept: -", "alice@example.org",
	       "Cc: a@x.org, b@x.org\n", NULL);
	pipefix_close(&f);

	pipefix_open(&f, "max_message_kb = 2; max_message_action = \"reject\";",
		     NULL);
	EXPECT(&f, "reject: message over the list's size limit",
	       "bob@example.net", NULL, big);
	pipefix_close(&f);
}

static void test_moderated_members(void **state)
{
	struct pipefix f;
	char *q;

	pipefix_open(&f, NULL, NULL);
	pipefix_members(&f, "bob@example.net", NULL);
	q = pipefix_sql_text(&f, "UPDATE members SET moderated = 1 "
			     "WHERE address = 'bob@example.net' RETURNING 'x'");
	free(q);
	EXPECT(&f, "hold: sender is moderated", "bob@example.net", NULL,
	       NULL);
	/* A leader answered "always". */
	assert_int_equal(store_holds_allow_add(f.s, "makers",
					       "bob@example.net",
					       "alice@example.org"), 0);
	EXPECT(&f, "accept: -", "bob@example.net", NULL, NULL);
	pipefix_close(&f);
}

/* A store failure is -1, not a decision. */
static void test_store_failure(void **state)
{
	struct pipefix f;
	char *raw = pipefix_msg("p1", "bob@example.net", NULL, NULL), *q;
	struct incoming in;
	enum posting_decision d;
	const char *reason;

	pipefix_open(&f, NULL, NULL);
	q = pipefix_sql_text(&f, "DROP TABLE mod_bans");
	free(q);
	/* The cached statement still names the table: reopen the store. */
	store_close(&f.s);
	{
		char *err = NULL;
		bool transient;

		f.s = store_open(f.c->database, 5000, &err, &transient);
		assert_non_null(f.s);
	}
	assert_int_equal(incoming_init(&in, f.c, f.l, raw, strlen(raw)), 0);
	assert_int_equal(posting_decide(f.s, &in, &d, &reason), -1);
	assert_non_null(strstr(store_error(f.s), "mod_bans"));
	incoming_free(&in);
	free(raw);
	pipefix_close(&f);
}

/* receive_stage works inside a transaction its caller owns: several
 * messages staged and committed together, or rolled back together. */
static void test_stage_together(void **state)
{
	struct pipefix f;
	struct incoming in[3];
	enum incoming_outcome o;
	char *raw[3];
	int i;

	pipefix_open(&f, NULL, NULL);
	pipefix_members(&f, "bob@example.net", NULL);
	for (i = 0; i < 3; i++) {
		char id[16];

		snprintf(id, sizeof id, "g%d", i);
		raw[i] = pipefix_msg(id, i == 2 ? "mallory@example.net" :
				     "bob@example.net", NULL, NULL);
		assert_int_equal(receive_prepare(f.c,
				 "makers@lists.example.org", raw[i],
				 strlen(raw[i]), &in[i]), ST_OK);
	}
	/* Rolled back together: nothing stays. */
	assert_int_equal(store_begin(f.s), 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(receive_stage(f.s, &in[i], &o), ST_OK);
	store_rollback(f.s);
	assert_int_equal(pipefix_sql(&f, "SELECT count(*) FROM archive"), 0);
	assert_int_equal(pipefix_sql(&f, "SELECT count(*) FROM holds"), 0);
	/* Staging rewrote the messages for the members: they are read again
	 * (as the MTA hands them again after a rollback). */
	for (i = 0; i < 3; i++) {
		incoming_free(&in[i]);
		assert_int_equal(receive_prepare(f.c,
				 "makers@lists.example.org", raw[i],
				 strlen(raw[i]), &in[i]), ST_OK);
	}
	/* Committed together. */
	assert_int_equal(store_begin(f.s), 0);
	for (i = 0; i < 3; i++) {
		assert_int_equal(receive_stage(f.s, &in[i], &o), ST_OK);
		assert_int_equal(o, i == 2 ? INCOMING_HELD : INCOMING_ACCEPTED);
	}
	/* Nothing is visible to another connection before the commit. */
	assert_int_equal(pipefix_sql(&f, "SELECT count(*) FROM archive"), 0);
	assert_int_equal(store_commit(f.s), 0);
	assert_int_equal(pipefix_sql(&f, "SELECT count(*) FROM archive"), 2);
	assert_int_equal(pipefix_sql(&f, "SELECT count(*) FROM jobs WHERE "
				     "kind = 'post'"), 2);
	assert_int_equal(pipefix_sql(&f, "SELECT count(*) FROM holds"), 1);
	for (i = 0; i < 3; i++) {
		incoming_free(&in[i]);
		free(raw[i]);
	}
	pipefix_close(&f);
}

/* What receive_prepare refuses. */
static void test_prepare(void **state)
{
	struct pipefix f;
	struct incoming in;
	char *raw;

	pipefix_open(&f, NULL, NULL);
	raw = pipefix_msg("r1", "bob@example.net", NULL, NULL);
	assert_int_equal(receive_prepare(f.c, "nosuch@lists.example.org", raw,
					 strlen(raw), &in), ST_NOUSER);
	assert_int_equal(receive_prepare(f.c, "makers@elsewhere.example",
					 raw, strlen(raw), &in), ST_NOUSER);
	assert_int_equal(receive_prepare(f.c, "makers-request@"
					 "lists.example.org", raw,
					 strlen(raw), &in), ST_OK);
	assert_int_equal(in.route.kind, ADDR_REQUEST);
	assert_string_equal(in.sender, "bob@example.net");
	assert_string_equal(in.message_id, "r1@example.net");
	incoming_free(&in);
	free(raw);
	/* Without --recipient: Delivered-To names it. */
	raw = pipefix_msg("r2", "bob@example.net",
			  "Delivered-To: makers-owner@lists.example.org\n",
			  NULL);
	assert_int_equal(receive_prepare(f.c, NULL, raw, strlen(raw), &in),
			 ST_OK);
	assert_int_equal(in.route.kind, ADDR_OWNER);
	incoming_free(&in);
	free(raw);
	pipefix_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_members_policy),
		cmocka_unit_test(test_other_policies),
		cmocka_unit_test(test_loops_and_bans),
		cmocka_unit_test(test_filters),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_moderated_members),
		cmocka_unit_test(test_store_failure),
		cmocka_unit_test(test_stage_together),
		cmocka_unit_test(test_prepare),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
