/* test-intake - group commit: concurrent messages in one transaction, each
 * answered only after its batch committed and its sync returned, a failing
 * message undone alone, a failed sync answered as transient (on a real
 * database file, with real templates; the intake's own fdatasync is
 * wrapped, -Wl,--wrap=fdatasync, so that a test can hold or fail it) */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <sqlite3.h>

#include "base/conf.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "pipeline/archive.h"
#include "pipeline/intake.h"
#include "store/store.h"

/* Posts in the second batch of the batching test, besides the one that
 * fails. */
#define NPOSTS 15

/* The intake's syncs (store_syncer_sync) go through here: they wait while
 * the gate is closed, and fail with sync_errno when it is set. SQLite's
 * own syncs (in its library) are not wrapped. */
int __real_fdatasync(int fd);
int __wrap_fdatasync(int fd);

static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static bool gate_closed;
static int syncs_entered, sync_errno;

int __wrap_fdatasync(int fd)
{
	int e;

	pthread_mutex_lock(&gate_mu);
	syncs_entered++;
	pthread_cond_broadcast(&gate_cv);
	while (gate_closed)
		pthread_cond_wait(&gate_cv, &gate_mu);
	e = sync_errno;
	pthread_mutex_unlock(&gate_mu);
	if (e != 0) {
		errno = e;
		return -1;
	}
	return __real_fdatasync(fd);
}

static void gate(bool closed, int fail)
{
	pthread_mutex_lock(&gate_mu);
	gate_closed = closed;
	sync_errno = fail;
	pthread_cond_broadcast(&gate_cv);
	pthread_mutex_unlock(&gate_mu);
}

struct fixture {
	char dir[64];
	char *db;
	struct conf *c;
	struct intake *ik;
	sqlite3 *lock;          /* another connection holding the write lock */
};

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static struct conf *load(struct fixture *f, long busy_ms)
{
	const char *top = getenv("top_srcdir");
	char *path = xasprintf("%s/convene.conf", f->dir);
	char *tpl = xasprintf("%s/tpl", f->dir), *cmd, *text;
	struct conf_problems problems = { 0 };
	struct conf *c = NULL;
	bool unreadable;

	/* The templates, and for the list "broken" a help answer that cannot
	 * be rendered: its -request answers fail at staging. */
	cmd = xasprintf("mkdir -p '%s/en/broken' && cp '%s'/templates/en/*.txt "
			"'%s/en/'", tpl, top != NULL && *top ? top : ".", tpl);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	cmd = xasprintf("%s/en/broken/help.txt", tpl);
	write_file(cmd, "Subject: help\n\n{{no_such_thing}}\n");
	free(cmd);
	text = xasprintf(
		"domain = \"lists.example.org\";\n"
		"database = \"test.db\";\n"
		"templates = \"%s\";\n"
		"busy_timeout_ms = %ld;\n"
		"lists = ( { name = \"makers\"; policy = \"open\";\n"
		"            leaders = [ \"alice@example.org\" ]; },\n"
		"          { name = \"broken\"; policy = \"open\";\n"
		"            leaders = [ \"alice@example.org\" ]; } );\n",
		tpl, busy_ms);
	write_file(path, text);
	free(text);
	assert_int_equal(conf_load(path, &c, &problems, &unreadable), 0);
	free(path);
	free(tpl);
	return c;
}

static int setup_busy(void **state, long busy_ms)
{
	struct fixture *f = xcalloc(1, sizeof *f);
	char *err = NULL;

	snprintf(f->dir, sizeof f->dir, "/tmp/convene-intake.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->db = xasprintf("%s/test.db", f->dir);
	f->c = load(f, busy_ms);
	f->ik = intake_open(f->c, &err);
	assert_non_null(f->ik);
	assert_int_equal(sqlite3_open(f->db, &f->lock), SQLITE_OK);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_busy(state, 10000);
}

static int setup_short(void **state)
{
	return setup_busy(state, 200);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char *cmd = xasprintf("rm -rf '%s'", f->dir);

	intake_close(&f->ik);
	sqlite3_close(f->lock);
	conf_free(&f->c);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(f->db);
	free(f);
	return 0;
}

static int64_t count(struct fixture *f, const char *sql)
{
	sqlite3_stmt *st;
	int64_t n = -1;

	assert_int_equal(sqlite3_prepare_v2(f->lock, sql, -1, &st, NULL),
			 SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* Threads and indexes what the intake archived (as the worker does next):
 * how many posts. */
static size_t catch_up(struct fixture *f)
{
	char *err = NULL;
	bool transient;
	struct store *s = store_open(f->db, 5000, &err, &transient);
	size_t n = 0;

	assert_non_null(s);
	assert_int_equal(archive_catch_up(s, f->c, SIZE_MAX, &n), 0);
	store_close(&s);
	return n;
}

/* One message to one or two recipients, submitted from its own thread. */
struct sub {
	struct fixture *f;
	char raw[512];
	const char *rcpts[2];
	size_t n;
	enum status status[2];
	enum incoming_outcome outcome[2];
	char logid[160];
	pthread_t t;
};

static void *submit_main(void *p)
{
	struct sub *s = p;
	struct intake_msg m = {
		.raw = s->raw, .len = strlen(s->raw), .rcpts = s->rcpts,
		.n = s->n, .status = s->status, .outcome = s->outcome,
	};

	intake_submit(s->f->ik, s->f->c, &m);
	memcpy(s->logid, m.logid, sizeof s->logid);
	return NULL;
}

static void post(struct sub *s, struct fixture *f, int i, const char *to,
		 const char *body)
{
	memset(s, 0, sizeof *s);
	s->f = f;
	snprintf(s->raw, sizeof s->raw,
		 "Return-Path: <bob@example.net>\n"
		 "From: Bob <bob@example.net>\nTo: %s\nSubject: n%d\n"
		 "Message-ID: <intake-%d@example.net>\n\n%s\n", to, i, i,
		 body);
	s->rcpts[0] = to;
	s->n = 1;
	assert_int_equal(pthread_create(&s->t, NULL, submit_main, s), 0);
}

static void lock_db(struct fixture *f)
{
	assert_int_equal(sqlite3_exec(f->lock, "BEGIN IMMEDIATE", NULL, NULL,
				      NULL), SQLITE_OK);
}

static void unlock_db(struct fixture *f)
{
	assert_int_equal(sqlite3_exec(f->lock, "ROLLBACK", NULL, NULL, NULL),
			 SQLITE_OK);
}

static void nap(void)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

/* Messages that arrive while a batch waits for the database all go into
 * the next batch: one transaction (one sync) for them all. The one whose
 * answer cannot be made is undone alone and answered as transient; the
 * others are committed and answered only then. */
static void test_group_commit(void **state)
{
	struct fixture *f = *state;
	struct sub first, subs[NPOSTS + 1];
	struct intake_stats st;
	int i;

	lock_db(f);
	post(&first, f, 0, "makers@lists.example.org", "first");
	/* The committer took it and waits for the lock. */
	for (;;) {
		intake_stats(f->ik, &st);
		if (st.queued == 1 && intake_waiting(f->ik) == 0)
			break;
		nap();
	}
	for (i = 0; i < NPOSTS; i++)
		post(&subs[i], f, i + 1, "makers@lists.example.org", "hello");
	post(&subs[NPOSTS], f, 99, "broken-request@lists.example.org",
	     "help");
	while (intake_waiting(f->ik) != NPOSTS + 1)
		nap();
	intake_stats(f->ik, &st);
	assert_int_equal(st.batches, 0);
	/* Nobody was answered while nothing was on disk. */
	for (i = 0; i <= NPOSTS; i++)
		assert_int_equal(pthread_tryjoin_np(subs[i].t, NULL) == 0, 0);
	unlock_db(f);
	pthread_join(first.t, NULL);
	for (i = 0; i <= NPOSTS; i++)
		pthread_join(subs[i].t, NULL);

	intake_stats(f->ik, &st);
	assert_int_equal(st.batches, 2);
	assert_int_equal(st.largest, NPOSTS);
	assert_int_equal(st.messages, NPOSTS + 1);
	assert_int_equal(first.status[0], ST_OK);
	assert_int_equal(first.outcome[0], INCOMING_ACCEPTED);
	for (i = 0; i < NPOSTS; i++) {
		assert_int_equal(subs[i].status[0], ST_OK);
		assert_int_equal(subs[i].outcome[0], INCOMING_ACCEPTED);
	}
	assert_string_equal(subs[3].logid, "intake-4@example.net");
	assert_int_equal(subs[NPOSTS].status[0], ST_TEMPFAIL);
	assert_int_equal(subs[NPOSTS].outcome[0], INCOMING_REFUSED);
	assert_int_equal(count(f, "SELECT count(*) FROM archive"), NPOSTS + 1);
	assert_int_equal(count(f, "SELECT count(*) FROM jobs"), NPOSTS + 1);
	/* Nothing of the failed one stayed (its message row neither). */
	assert_int_equal(count(f, "SELECT count(*) FROM messages"),
			 NPOSTS + 1);
	/* Every archived post queued for threading and indexing, whichever
	 * way its batch was staged, and indexed by the next catch-up. */
	assert_int_equal(count(f, "SELECT count(*) FROM archive_pending"),
			 NPOSTS + 1);
	assert_int_equal(catch_up(f), NPOSTS + 1);
	assert_int_equal(count(f, "SELECT count(*) FROM archive_fts"),
			 NPOSTS + 1);
}

/* A batch that cannot begin (locked past the busy timeout) answers every
 * message as transient and keeps nothing; the retry is accepted. */
static void test_locked(void **state)
{
	struct fixture *f = *state;
	struct sub a, b;
	struct intake_stats st;

	lock_db(f);
	post(&a, f, 1, "makers@lists.example.org", "a");
	post(&b, f, 2, "makers@lists.example.org", "b");
	pthread_join(a.t, NULL);
	pthread_join(b.t, NULL);
	assert_int_equal(a.status[0], ST_TEMPFAIL);
	assert_int_equal(b.status[0], ST_TEMPFAIL);
	intake_stats(f->ik, &st);
	assert_true(st.failed_batches >= 1);
	assert_int_equal(st.batches, 0);
	unlock_db(f);
	assert_int_equal(count(f, "SELECT count(*) FROM archive"), 0);
	post(&a, f, 1, "makers@lists.example.org", "a");
	pthread_join(a.t, NULL);
	assert_int_equal(a.status[0], ST_OK);
	assert_int_equal(count(f, "SELECT count(*) FROM archive"), 1);
}

/* The same message twice (an MTA that never saw the answer) is kept once,
 * in the same batch or a later one; each recipient of a message gets its
 * own answer. */
static void test_duplicates_and_recipients(void **state)
{
	struct fixture *f = *state;
	struct intake_stats st;
	struct sub a, b, c;

	lock_db(f);
	post(&a, f, 7, "makers@lists.example.org", "x");
	post(&b, f, 7, "makers@lists.example.org", "x");
	for (;;) {
		intake_stats(f->ik, &st);
		if (st.queued == 2)
			break;
		nap();
	}
	unlock_db(f);
	pthread_join(a.t, NULL);
	pthread_join(b.t, NULL);
	assert_int_equal(a.status[0], ST_OK);
	assert_int_equal(b.status[0], ST_OK);
	assert_true((a.outcome[0] == INCOMING_DROPPED) !=
		    (b.outcome[0] == INCOMING_DROPPED));
	assert_int_equal(count(f, "SELECT count(*) FROM archive"), 1);
	assert_int_equal(catch_up(f), 1);
	assert_int_equal(count(f, "SELECT count(*) FROM archive_fts"), 1);

	memset(&c, 0, sizeof c);
	c.f = f;
	snprintf(c.raw, sizeof c.raw, "From: bob@example.net\n"
		 "Subject: two\nMessage-ID: <two@example.net>\n\nx\n");
	c.rcpts[0] = "nosuch@lists.example.org";
	c.rcpts[1] = "broken@lists.example.org";
	c.n = 2;
	submit_main(&c);
	assert_int_equal(c.status[0], ST_NOUSER);
	assert_int_equal(c.status[1], ST_OK);
	assert_int_equal(c.outcome[1], INCOMING_ACCEPTED);
	assert_int_equal(count(f, "SELECT count(*) FROM archive WHERE "
			      "list = 'broken'"), 1);
}

/* Closes the gate on the intake's syncs: how many had entered it before. */
static int close_gate(void)
{
	int entered;

	pthread_mutex_lock(&gate_mu);
	entered = syncs_entered;
	gate_closed = true;
	pthread_mutex_unlock(&gate_mu);
	return entered;
}

/* A batch is committed (other connections see it) before its sync, and
 * its sender is answered only once that sync returned: held here at the
 * sync, the submitter has not returned while the row is already visible. */
static void test_answer_after_sync(void **state)
{
	struct fixture *f = *state;
	struct timespec until;
	struct sub a;
	int entered;

	entered = close_gate();
	post(&a, f, 1, "makers@lists.example.org", "a");
	/* Until the intake syncs (a minute at most: it has no reason to
	 * take more than milliseconds). */
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 60;
	pthread_mutex_lock(&gate_mu);
	while (syncs_entered == entered &&
	       pthread_cond_timedwait(&gate_cv, &gate_mu, &until) == 0)
		;
	entered = syncs_entered - entered;
	pthread_mutex_unlock(&gate_mu);
	assert_true(entered > 0);
	/* Committed, not yet synced: not answered. */
	assert_int_equal(count(f, "SELECT count(*) FROM archive"), 1);
	assert_int_equal(pthread_tryjoin_np(a.t, NULL), EBUSY);
	gate(false, 0);
	pthread_join(a.t, NULL);
	assert_int_equal(a.status[0], ST_OK);
	assert_int_equal(a.outcome[0], INCOMING_ACCEPTED);
}

/* A sync that fails answers its message as transient although it was
 * committed, and every later one too, without committing it (nothing on
 * top of what may not be on disk). After a restart the MTA's retry of the
 * first is taken as the duplicate it is: stored once. */
static void test_failed_sync(void **state)
{
	struct fixture *f = *state;
	struct intake_stats st;
	struct sub a, b;
	char *err = NULL;

	gate(false, EIO);
	post(&a, f, 1, "makers@lists.example.org", "a");
	pthread_join(a.t, NULL);
	gate(false, 0);
	assert_int_equal(a.status[0], ST_TEMPFAIL);
	assert_int_equal(a.outcome[0], INCOMING_REFUSED);
	post(&b, f, 2, "makers@lists.example.org", "b");
	pthread_join(b.t, NULL);
	assert_int_equal(b.status[0], ST_TEMPFAIL);
	intake_stats(f->ik, &st);
	assert_int_equal(st.failed_batches, 2);
	assert_int_equal(count(f, "SELECT count(*) FROM archive"), 1);

	intake_close(&f->ik);
	f->ik = intake_open(f->c, &err);
	assert_non_null(f->ik);
	post(&a, f, 1, "makers@lists.example.org", "a");
	post(&b, f, 2, "makers@lists.example.org", "b");
	pthread_join(a.t, NULL);
	pthread_join(b.t, NULL);
	assert_int_equal(a.status[0], ST_OK);
	assert_int_equal(a.outcome[0], INCOMING_DROPPED);
	assert_int_equal(b.status[0], ST_OK);
	assert_int_equal(b.outcome[0], INCOMING_ACCEPTED);
	assert_int_equal(count(f, "SELECT count(*) FROM archive"), 2);
}

/* Until the intake entered a sync more than `entered` times (a minute at
 * most); the count. */
static int wait_entered(int entered)
{
	struct timespec until;
	int n;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 60;
	pthread_mutex_lock(&gate_mu);
	while (syncs_entered <= entered &&
	       pthread_cond_timedwait(&gate_cv, &gate_mu, &until) == 0)
		;
	n = syncs_entered;
	pthread_mutex_unlock(&gate_mu);
	assert_true(n > entered);
	return n;
}

/* On a slow disk (a sync that took 50 ms) the syncer thread syncs, and the
 * committer goes on committing meanwhile: a post is committed while the
 * sync of the one before is held, and neither is answered before its
 * sync returned. */
static void test_slow_disk(void **state)
{
	struct fixture *f = *state;
	struct timespec slow = { 0, 50 * 1000 * 1000 };
	struct sub a, b, c;
	int entered;

	entered = close_gate();
	post(&a, f, 1, "makers@lists.example.org", "a");
	entered = wait_entered(entered);
	nanosleep(&slow, NULL);
	gate(false, 0);
	pthread_join(a.t, NULL);
	assert_int_equal(a.status[0], ST_OK);

	gate(true, 0);
	post(&b, f, 2, "makers@lists.example.org", "b");
	entered = wait_entered(entered);
	post(&c, f, 3, "makers@lists.example.org", "c");
	for (int i = 0; i < 6000 &&
	     count(f, "SELECT count(*) FROM archive") < 3; i++)
		nap();
	/* c committed while b's sync is held; neither answered. */
	assert_int_equal(count(f, "SELECT count(*) FROM archive"), 3);
	assert_int_equal(pthread_tryjoin_np(b.t, NULL), EBUSY);
	assert_int_equal(pthread_tryjoin_np(c.t, NULL), EBUSY);
	gate(false, 0);
	pthread_join(b.t, NULL);
	pthread_join(c.t, NULL);
	assert_int_equal(b.status[0], ST_OK);
	assert_int_equal(c.status[0], ST_OK);
	assert_int_equal(c.outcome[0], INCOMING_ACCEPTED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_group_commit, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_locked, setup_short,
						teardown),
		cmocka_unit_test_setup_teardown(test_duplicates_and_recipients,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_answer_after_sync, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_failed_sync, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_slow_disk, setup,
						teardown),
	};

	log_open("test-intake", false);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
