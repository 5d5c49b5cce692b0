/* test-thread - JWZ threading kept up in a real store, one post at a time */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline/thread.h"
#include "store/store.h"
#include "store/store_archive.h"
#include "base/xalloc.h"

#define DAY 86400

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

	snprintf(f->dir, sizeof f->dir, "/tmp/convene-thread.XXXXXX");
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

/* Archives and threads one post: refs are NULL-terminated varargs after
 * the subject (References then In-Reply-To order, as msg_references). */
static int64_t post(struct fixture *f, const char *mid, const char *irt,
		    const char *subject, time_t date, ...)
{
	const char *refs[16];
	struct store_post p = { .list = "makers", .message = f->msg,
				.message_id = mid, .date = date,
				.subject = subject, .in_reply_to = irt };
	struct thread_post tp;
	int64_t id, thread;
	size_t n = 0;
	va_list ap;
	const char *r;

	va_start(ap, date);
	while ((r = va_arg(ap, const char *)) != NULL && n < 15)
		refs[n++] = r;
	va_end(ap);
	refs[n] = NULL;
	p.references = refs;
	assert_int_equal(store_archive_add(f->s, &p, &id), 0);
	tp = (struct thread_post){ "makers", id, mid, irt, refs, subject,
				   date };
	assert_int_equal(thread_link(f->s, &tp, &thread), 0);
	assert_int_not_equal(thread, 0);
	return id;
}

static struct store_archived get(struct fixture *f, int64_t id)
{
	struct store_archived a = { 0 };
	bool found;

	assert_int_equal(store_archive_get(f->s, id, &a, &found), 0);
	assert_true(found);
	return a;
}

static int64_t thread_of(struct fixture *f, int64_t id)
{
	struct store_archived a = get(f, id);
	int64_t t = a.thread;

	store_archived_clear(&a);
	return t;
}

static int64_t parent_of(struct fixture *f, int64_t id)
{
	struct store_archived a = get(f, id);
	int64_t p = a.parent;

	store_archived_clear(&a);
	return p;
}

static int64_t thread_count(struct fixture *f, int64_t thread)
{
	struct store_thread t = { 0 };
	bool found;
	int64_t n;

	assert_int_equal(store_thread_get(f->s, "makers", thread, &t, &found),
			 0);
	n = found ? t.messages : -1;
	store_thread_clear(&t);
	return n;
}

static void test_base_subject(void **state)
{
	static const struct {
		const char *in, *out;
		bool reply;
	} cases[] = {
		{ "Re: [makers] Laser cutter", "laser cutter", true },
		{ "RE : AW: Laser   cutter ", "laser cutter", true },
		{ "Fwd: Laser cutter", "laser cutter", false },
		{ "Re[2]: Re(3): x", "x", true },
		{ "[PATCH 1/2] fix the thing", "fix the thing", false },
		{ "Re: [PATCH v2 1/2] fix the thing", "fix the thing", true },
		{ "[makers]", "[makers]", false },
		{ "Registration open", "registration open", false },
		{ "Sv: Tr: Hej", "hej", true },
		{ "", "", false },
		{ NULL, "", false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		bool reply = !cases[i].reply;
		char *b = thread_base_subject(cases[i].in, &reply);

		assert_string_equal(b, cases[i].out);
		assert_int_equal(reply, cases[i].reply);
		free(b);
	}
}

/* Replies before their parent, a ghost in the middle: one thread, and its
 * id (the first message's) does not change when the root arrives. */
static void test_out_of_order_and_ghosts(void **state)
{
	struct fixture *f = *state;
	int64_t early, root, reply, ghost_reply;

	early = post(f, "early@x", "root@x", "Re: Tools", 10, "root@x", NULL);
	root = post(f, "root@x", NULL, "Tools", 5, NULL);
	reply = post(f, "reply@x", "root@x", "Re: Tools", 20, "root@x", NULL);
	ghost_reply = post(f, "r3@x", "ghost@x", "Re: Tools", 30, "root@x",
			   "ghost@x", NULL);
	assert_int_equal(thread_of(f, root), early);
	assert_int_equal(thread_of(f, reply), early);
	assert_int_equal(thread_of(f, ghost_reply), early);
	assert_int_equal(parent_of(f, early), root);
	assert_int_equal(parent_of(f, reply), root);
	/* Its parent is missing: the nearest archived ancestor. */
	assert_int_equal(parent_of(f, ghost_reply), root);
	assert_int_equal(parent_of(f, root), 0);
	assert_int_equal(thread_count(f, early), 4);
	/* The root's own id names the thread too. */
	{
		int64_t t;
		bool found;

		assert_int_equal(thread_resolve(f->s, "makers", root, &t,
						&found), 0);
		assert_true(found);
		assert_int_equal(t, early);
		assert_int_equal(thread_resolve(f->s, "other", root, &t,
						&found), 0);
		assert_false(found);
		assert_int_equal(thread_resolve(f->s, "makers", 999, &t,
						&found), 0);
		assert_false(found);
	}
}

/* A missing middle message, and then it arrives late. */
static void test_missing_middle(void **state)
{
	struct fixture *f = *state;
	int64_t a, c, b, d;
	struct thread_entry *v = NULL;
	size_t n;

	a = post(f, "a@x", NULL, "Meeting", 1, NULL);
	c = post(f, "c@x", "b@x", "Re: Meeting", 3, "a@x", "b@x", NULL);
	d = post(f, "d@x", "c@x", "Re: Meeting", 4, "a@x", "b@x", "c@x",
		 NULL);
	assert_int_equal(thread_of(f, c), a);
	assert_int_equal(thread_of(f, d), a);
	assert_int_equal(parent_of(f, c), a);
	assert_int_equal(parent_of(f, d), c);
	/* With the ghost shown, C sits below it. */
	assert_int_equal(thread_list(f->s, a, true, &v, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(v[0].archive, a);
	assert_int_equal(v[1].archive, 0);
	assert_string_equal(v[1].message_id, "b@x");
	assert_int_equal(v[2].archive, c);
	assert_int_equal(v[2].depth, 2);
	assert_int_equal(v[3].archive, d);
	assert_int_equal(v[3].depth, 3);
	thread_entries_free(&v, n);
	assert_int_equal(thread_list(f->s, a, false, &v, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(v[1].archive, c);
	assert_int_equal(v[1].depth, 1);
	assert_int_equal(v[1].parent, a);
	thread_entries_free(&v, n);

	b = post(f, "b@x", "a@x", "Re: Meeting", 2, "a@x", NULL);
	assert_int_equal(thread_of(f, b), a);
	assert_int_equal(parent_of(f, b), a);
	assert_int_equal(parent_of(f, c), b);
	assert_int_equal(parent_of(f, d), c);
	assert_int_equal(thread_count(f, a), 4);
	assert_int_equal(thread_list(f->s, a, true, &v, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(v[1].archive, b);
	assert_int_equal(v[3].depth, 3);
	thread_entries_free(&v, n);
}

/* Clients that drop References: "Re: subject" joins by subject. */
static void test_subject_fallback(void **state)
{
	struct fixture *f = *state;
	int64_t root, re, late, same, fwd, empty1, empty2;

	root = post(f, "root@x", NULL, "[makers] Soldering night", 100 * DAY,
		    NULL);
	re = post(f, "re@x", NULL, "Re: [makers] Soldering night",
		  101 * DAY, NULL);
	assert_int_equal(thread_of(f, re), root);
	assert_int_equal(parent_of(f, re), root);
	/* Outside the window: a thread of its own. */
	late = post(f, "late@x", NULL, "Re: Soldering night", 200 * DAY,
		    NULL);
	assert_int_equal(thread_of(f, late), late);
	/* No reply marker: a new topic with the same words. */
	same = post(f, "same@x", NULL, "Soldering night", 102 * DAY, NULL);
	assert_int_equal(thread_of(f, same), same);
	/* A forward is not a reply. */
	fwd = post(f, "fwd@x", NULL, "Fwd: Soldering night", 101 * DAY, NULL);
	assert_int_equal(thread_of(f, fwd), fwd);
	/* An empty subject never joins anything. */
	empty1 = post(f, "e1@x", NULL, "", 100 * DAY, NULL);
	empty2 = post(f, "e2@x", NULL, "Re:", 100 * DAY, NULL);
	assert_int_equal(thread_of(f, empty1), empty1);
	assert_int_equal(thread_of(f, empty2), empty2);
	assert_int_equal(thread_count(f, root), 2);
}

/* A reply that names no parent keeps the place its own replies gave it. */
static void test_presumed_parent(void **state)
{
	struct fixture *f = *state;
	int64_t root, other, late, outlook;

	root = post(f, "root@x", NULL, "Printer", 1, NULL);
	other = post(f, "other@x", NULL, "Printer", 3, NULL);
	/* Its reply says: root > outlook > late. */
	late = post(f, "late@x", "outlook@x", "Re: Printer", 4, "root@x",
		    "outlook@x", NULL);
	outlook = post(f, "outlook@x", NULL, "RE: Printer", 3, NULL);
	assert_int_equal(parent_of(f, outlook), root);
	assert_int_equal(parent_of(f, late), outlook);
	assert_int_equal(thread_of(f, outlook), root);
	assert_int_equal(thread_count(f, other), 1);
}

/* Replies by subject that arrive before their original are taken in by it
 * (an import out of order). */
static void test_adoption(void **state)
{
	struct fixture *f = *state;
	int64_t r1, r2, orig;

	r1 = post(f, "r1@x", NULL, "Re: Open day", 10 * DAY + 60, NULL);
	r2 = post(f, "r2@x", NULL, "Re: Open day", 10 * DAY + 120, NULL);
	/* r2 joined r1 by subject already. */
	assert_int_equal(thread_of(f, r2), r1);
	orig = post(f, "orig@x", NULL, "Open day", 10 * DAY, NULL);
	assert_int_equal(thread_of(f, orig), r1);
	assert_int_equal(parent_of(f, r1), orig);
	assert_int_equal(thread_count(f, r1), 3);
}

/* A late message joins two threads: the older id stays, the other id
 * still finds the merged thread. */
static void test_merge(void **state)
{
	struct fixture *f = *state;
	int64_t x, y, joiner, t;
	bool found;

	x = post(f, "x@x", "gx@x", "Re: A", 1, "gx@x", NULL);
	y = post(f, "y@x", "gy@x", "Re: B", 2, "gy@x", NULL);
	assert_int_not_equal(thread_of(f, x), thread_of(f, y));
	joiner = post(f, "j@x", "gy@x", "Re: B", 3, "gx@x", "gy@x", NULL);
	assert_int_equal(thread_of(f, y), x);
	assert_int_equal(thread_of(f, joiner), x);
	assert_int_equal(thread_count(f, x), 3);
	assert_int_equal(thread_count(f, y), -1);   /* no thread row now */
	assert_int_equal(thread_resolve(f->s, "makers", y, &t, &found), 0);
	assert_true(found);
	assert_int_equal(t, x);
}

/* A message that names another parent than its replies presumed moves with
 * its replies; the thread it left keeps its id. */
static void test_move(void **state)
{
	struct fixture *f = *state;
	int64_t p1, p2, x, g;

	p1 = post(f, "p1@x", NULL, "One", 1, NULL);
	p2 = post(f, "p2@x", NULL, "Two", 2, NULL);
	/* X says: P1 > G > X. */
	x = post(f, "x@x", "g@x", "Re: One", 3, "p1@x", "g@x", NULL);
	assert_int_equal(thread_of(f, x), p1);
	/* G itself says its parent is P2. */
	g = post(f, "g@x", "p2@x", "Re: Two", 4, "p2@x", NULL);
	assert_int_equal(thread_of(f, g), p2);
	assert_int_equal(thread_of(f, x), p2);
	assert_int_equal(parent_of(f, x), g);
	assert_int_equal(thread_of(f, p1), p1);
	assert_int_equal(thread_count(f, p1), 1);
	assert_int_equal(thread_count(f, p2), 3);
}

/* References that would make a loop are not followed. */
static void test_loops(void **state)
{
	struct fixture *f = *state;
	int64_t a, b, c;
	struct thread_entry *v = NULL;
	size_t n;

	a = post(f, "a@x", "b@x", "Loop", 1, "b@x", NULL);
	b = post(f, "b@x", "a@x", "Re: Loop", 2, "a@x", NULL);
	/* And a References list that names the message itself. */
	c = post(f, "c@x", "b@x", "Re: Loop", 3, "c@x", "a@x", "b@x", "c@x",
		 NULL);
	assert_int_equal(thread_of(f, b), thread_of(f, a));
	assert_int_equal(thread_of(f, c), thread_of(f, a));
	assert_int_equal(thread_list(f->s, thread_of(f, a), true, &v, &n), 0);
	assert_int_equal(n, 3);
	thread_entries_free(&v, n);
	/* Some message has no parent: no cycle in the archive. */
	assert_true(parent_of(f, a) == 0 || parent_of(f, b) == 0);
}

/* A client that writes References newest first makes the root presumed
 * below a reply that had not arrived; when it does, naming its own parent,
 * that presumption gives way. */
static void test_reversed_references(void **state)
{
	struct fixture *f = *state;
	int64_t r, a, c, b;

	r = post(f, "r@x", NULL, "Patch", 1, NULL);
	a = post(f, "a@x", "r@x", "Re: Patch", 2, "r@x", NULL);
	/* C replies to B; its References are reversed: B, R, A. */
	c = post(f, "c@x", "b@x", "Re: Patch", 4, "b@x", "r@x", "a@x", NULL);
	b = post(f, "b@x", "a@x", "Re: Patch", 3, "r@x", "a@x", NULL);
	assert_int_equal(parent_of(f, r), 0);
	assert_int_equal(parent_of(f, a), r);
	assert_int_equal(parent_of(f, b), a);
	assert_int_equal(parent_of(f, c), b);
	assert_int_equal(thread_of(f, b), r);
	assert_int_equal(thread_of(f, c), r);
	assert_int_equal(thread_count(f, r), 4);
}

/* A reference that is no message id ("<yes>" from a mistyped
 * --in-reply-to) joins nothing. */
static void test_bogus_ids(void **state)
{
	struct fixture *f = *state;
	int64_t a, b;

	a = post(f, "a@x", "yes", "Patch one", 1, "yes", NULL);
	b = post(f, "b@x", "yes", "Other patch", 2, "yes", NULL);
	assert_int_equal(thread_of(f, a), a);
	assert_int_equal(thread_of(f, b), b);
}

/* In-Reply-To names the parent even when References disagree (notmuch's
 * parent-priority case: a typo in References, reversed References). */
static void test_parent_priority(void **state)
{
	struct fixture *f = *state;
	int64_t root, child, grand;

	root = post(f, "B00-root@x", NULL, "root message", 1, NULL);
	child = post(f, "B01-child@x", "B00-root@x", "child message", 2,
		     "B00--root@x", "B00-root@x", NULL);
	grand = post(f, "B01-grand@x", "B01-child@x", "grand-child message",
		     3, "B01-child@x", "B00-root@x", NULL);
	assert_int_equal(parent_of(f, child), root);
	assert_int_equal(parent_of(f, grand), child);
	assert_int_equal(thread_of(f, grand), root);
	assert_int_equal(thread_of(f, child), root);
}

/* A hostile chain of references stays bounded and linked. */
static void test_long_chain(void **state)
{
	struct fixture *f = *state;
	char mids[15][32];
	const char *r[16];
	struct store_post p = { .list = "makers", .date = 9 };
	struct thread_post tp;
	int64_t root, id, thread;
	size_t i;

	root = post(f, "m0@x", NULL, "Chain", 1, NULL);
	for (i = 0; i < 15; i++) {
		snprintf(mids[i], sizeof mids[i], "m%zu@x", i);
		r[i] = mids[i];
	}
	r[15] = NULL;
	p.message = f->msg;
	p.message_id = "last@x";
	p.references = r;
	assert_int_equal(store_archive_add(f->s, &p, &id), 0);
	tp = (struct thread_post){ "makers", id, "last@x", NULL, r, "Re: Chain",
				   9 };
	assert_int_equal(thread_link(f->s, &tp, &thread), 0);
	assert_int_equal(thread, root);
	assert_int_equal(parent_of(f, id), root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base_subject),
		cmocka_unit_test_setup_teardown(test_out_of_order_and_ghosts,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_middle, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_subject_fallback, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_presumed_parent, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_adoption, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_merge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_move, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reversed_references, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bogus_ids, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_parent_priority, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_long_chain, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
