/* test-deliver - job progress: batches, the cursor, resuming after a
 * crash, deferral on the retry schedule, explicit recipients, and the
 * failures Delivery records for the Pipeline; on a real database with the
 * maildir transport (and a scripted SMTP peer on loopback) */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pipefix.h"
#include "base/conf.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "delivery/deliver.h"
#include "store/store.h"

static const char POST[] = "From: alice@example.org\nSubject: hi\n\nhello\n";

/* Files in the outbox's new/ folder. */
static int outbox_files(struct pipefix *f)
{
	char *path = xasprintf("%s/outbox/new", f->dir);
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	free(path);
	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static void members(struct pipefix *f, int n)
{
	bool added;
	int i;

	for (i = 0; i < n; i++) {
		char *a = xasprintf("m%02d@example.org", i);

		assert_int_equal(store_member_add(f->s, "makers", a, NULL,
						  MODE_IMMEDIATE, &added), 0);
		free(a);
	}
}

static int64_t post_job(struct pipefix *f)
{
	int64_t id;

	assert_int_equal(store_job_add(f->s, "makers", JOB_POST, 0,
				       "makers-bounces@lists.example.org",
				       POST, sizeof POST - 1, NULL, 0, &id),
			 0);
	return id;
}

static int64_t job_col(struct pipefix *f, int64_t id, const char *col)
{
	char *q = xasprintf("SELECT %s FROM jobs WHERE id = %lld", col,
			    (long long)id);
	int64_t v = pipefix_sql(f, q);

	free(q);
	return v;
}

static void pass(struct pipefix *f, struct deliver_stats *st)
{
	char *err = NULL;
	struct deliver *d = deliver_open(f->c, &err);

	if (d == NULL)
		fail_msg("deliver_open: %s", err);
	memset(st, 0, sizeof *st);
	assert_int_equal(deliver_pass(d, f->s, false, st), 0);
	deliver_close(&d);
}

/* Five members, two a transaction: three transactions, the cursor at the
 * end, the job done. */
static void test_batches(void **state)
{
	struct pipefix f;
	struct deliver_stats st;
	int64_t id;

	pipefix_open(&f, NULL, "outbound = { transport = \"maildir\";"
		     " path = \"outbox\"; max_rcpt_per_txn = 2;"
		     " connections = 1; };");
	members(&f, 5);
	id = post_job(&f);
	assert_int_equal(job_col(&f, id, "total"), -1);
	pass(&f, &st);
	assert_int_equal(st.transactions, 3);
	assert_int_equal(st.delivered, 5);
	assert_int_equal(st.jobs_done, 1);
	assert_int_equal(outbox_files(&f), 3);
	assert_int_equal(job_col(&f, id, "total"), 5);
	assert_int_equal(job_col(&f, id, "sent"), 5);
	assert_int_equal(job_col(&f, id, "members_done"), 1);
	assert_int_equal(job_col(&f, id, "cursor"),
			 pipefix_sql(&f, "SELECT max(id) FROM members"));
	assert_int_equal(pipefix_sql(&f, "SELECT count(*) FROM jobs WHERE "
				     "state = 'done'"), 1);
	/* Nothing is sent twice. */
	pass(&f, &st);
	assert_int_equal(st.transactions, 0);
	assert_int_equal(outbox_files(&f), 3);
	pipefix_close(&f);
}

/* A worker killed after the first transaction's progress was committed:
 * the next pass starts at the cursor. */
static void test_resume(void **state)
{
	struct pipefix f;
	struct deliver_stats st;
	int64_t id, second;

	pipefix_open(&f, NULL, "outbound = { transport = \"maildir\";"
		     " path = \"outbox\"; max_rcpt_per_txn = 2;"
		     " connections = 1; };");
	members(&f, 5);
	id = post_job(&f);
	second = pipefix_sql(&f, "SELECT id FROM members ORDER BY id "
			     "LIMIT 1 OFFSET 1");
	assert_int_equal(store_job_set_total(f.s, id, 5), 0);
	assert_int_equal(store_job_progress(f.s, id, second, 2, false, true),
			 0);
	pass(&f, &st);
	assert_int_equal(st.delivered, 3);
	assert_int_equal(st.transactions, 2);
	assert_int_equal(job_col(&f, id, "sent"), 5);
	assert_int_equal(st.jobs_done, 1);
	pipefix_close(&f);
}

/* An outbox that cannot be written: the job waits for the retry schedule
 * (attempts counted, the error kept), then goes out. */
static void test_deferred(void **state)
{
	struct pipefix f;
	struct deliver_stats st;
	time_t now = util_now();
	char *outbox;
	int64_t id;
	FILE *fp;

	pipefix_open(&f, NULL, "outbound = { transport = \"maildir\";"
		     " path = \"outbox\"; retry_schedule = [ \"10m\", \"1h\" ];"
		     " };");
	members(&f, 3);
	outbox = xasprintf("%s/outbox", f.dir);
	fp = fopen(outbox, "w");       /* a file where the folder should be */
	assert_non_null(fp);
	fclose(fp);
	pipefix_now(now);
	id = post_job(&f);
	pass(&f, &st);
	assert_int_equal(st.delivered, 0);
	assert_int_equal(st.deferred, 3);
	assert_int_equal(job_col(&f, id, "attempts"), 1);
	assert_int_equal(job_col(&f, id, "next_attempt"), now + 600);
	assert_int_equal(job_col(&f, id, "last_error IS NOT NULL"), 1);
	assert_int_equal(job_col(&f, id, "members_done"), 0);
	assert_int_equal(unlink(outbox), 0);
	/* Not before the schedule says. */
	pipefix_now(now + 599);
	pass(&f, &st);
	assert_int_equal(st.transactions, 0);
	pipefix_now(now + 601);
	pass(&f, &st);
	assert_int_equal(st.delivered, 3);
	assert_int_equal(job_col(&f, id, "attempts"), 0);
	assert_int_equal(job_col(&f, id, "last_error IS NULL"), 1);
	assert_int_equal(outbox_files(&f), 1);
	free(outbox);
	pipefix_close(&f);
}

static void test_backoff(void **state)
{
	struct pipefix f;

	pipefix_open(&f, NULL, "outbound = { transport = \"maildir\";"
		     " path = \"outbox\"; retry_schedule = [ \"1m\", \"1h\" ];"
		     " };");
	assert_int_equal(deliver_backoff(f.c, 1, 1000), 1000 + 60);
	assert_int_equal(deliver_backoff(f.c, 2, 1000), 1000 + 3600);
	/* The last entry repeats. */
	assert_int_equal(deliver_backoff(f.c, 9, 1000), 1000 + 3600);
	assert_int_equal(deliver_backoff(f.c, 0, 1000), 1000 + 60);
	pipefix_close(&f);
}

/* A direct job goes to its own recipients, each with a row. */
static void test_direct(void **state)
{
	struct pipefix f;
	struct deliver_stats st;
	const char *rcpts[] = { "x@example.org", "y@example.org" };
	int64_t id;

	pipefix_open(&f, NULL, NULL);
	members(&f, 4);
	assert_int_equal(store_job_add(f.s, "makers", JOB_DIRECT, 0,
				       "makers-bounces@lists.example.org",
				       POST, sizeof POST - 1, rcpts, 2, &id),
			 0);
	pass(&f, &st);
	assert_int_equal(st.delivered, 2);
	assert_int_equal(st.jobs_done, 1);
	assert_int_equal(pipefix_sql(&f, "SELECT count(*) FROM job_rcpts "
				     "WHERE state = 'done'"), 2);
	assert_int_equal(job_col(&f, id, "sent"), 2);
	pipefix_close(&f);
}

/* A free loopback port (bound and let go). */
static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static bool listening(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
	close(fd);
	return ok;
}

/* A relay that refuses one recipient for good: Delivery records it (the
 * recipient's row, an event, a failure for the Pipeline) and delivers the
 * others; it scores nothing itself. */
static void test_refused_recorded(void **state)
{
	const char *bld = getenv("top_builddir");
	struct pipefix f;
	struct deliver_stats st;
	struct timespec nap = { 0, 20 * 1000 * 1000 };
	char *sink, *hard, *dump, *addr, *top;
	int port = free_port(), i;
	pid_t pid;
	FILE *fp;

	sink = xasprintf("%s/tests/helpers/rcptsink", bld ? bld : ".");
	if (access(sink, X_OK) != 0) {
		free(sink);
		skip();
	}
	top = xasprintf("outbound = { transport = \"smtp\";"
			" host = \"127.0.0.1\"; port = %d; connections = 1;"
			" };", port);
	pipefix_open(&f, NULL, top);
	members(&f, 4);
	hard = xasprintf("%s/hard", f.dir);
	dump = xasprintf("%s/dump", f.dir);
	fp = fopen(hard, "w");
	assert_non_null(fp);
	fputs("m02@example.org\n", fp);
	fclose(fp);
	addr = xasprintf("127.0.0.1:%d", port);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		execl(sink, sink, "-h", hard, "-D", dump, addr, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 500 && !listening(port); i++)
		nanosleep(&nap, NULL);
	assert_true(listening(port));
	post_job(&f);
	pass(&f, &st);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	assert_int_equal(st.delivered, 3);
	assert_int_equal(st.failed, 1);
	assert_int_equal(pipefix_sql(&f, "SELECT count(*) FROM job_rcpts WHERE "
				     "state = 'failed' AND address = "
				     "'m02@example.org' AND last_code = 550"),
			 1);
	assert_int_equal(pipefix_sql(&f, "SELECT count(*) FROM events WHERE "
				     "kind = 'delivery.failed'"), 1);
	assert_int_equal(pipefix_sql(&f, "SELECT count(*) FROM "
				     "delivery_failures WHERE address = "
				     "'m02@example.org' AND code = 550"), 1);
	/* Delivery decides nothing: the score is the Pipeline's to give. */
	assert_int_equal(pipefix_sql(&f, "SELECT count(*) FROM members WHERE "
				     "bounce_score > 0"), 0);
	free(sink);
	free(hard);
	free(dump);
	free(addr);
	free(top);
	pipefix_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batches),
		cmocka_unit_test(test_resume),
		cmocka_unit_test(test_deferred),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_direct),
		cmocka_unit_test(test_refused_recorded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
