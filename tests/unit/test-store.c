/* test-store - the SQLite store on a real file */
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
#include <sqlite3.h>
#include <sys/wait.h>

#include "store/store.h"
#include "base/proc.h"
#include "store/store_digest.h"
#include "store/store_archive.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "../../src/store/store_int.h"

struct fixture {
	char dir[64];
	char *path;
	struct store *s;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof *f);
	char *err = NULL;
	bool transient;

	snprintf(f->dir, sizeof f->dir, "/tmp/convene-store.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->path = xasprintf("%s/test.db", f->dir);
	f->s = store_open(f->path, 1000, &err, &transient);
	assert_non_null(f->s);
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
	free(f->path);
	free(f);
	return 0;
}

static void test_schema(void **state)
{
	struct fixture *f = *state;
	int v = 0;
	char *err = NULL;
	bool transient;

	assert_int_equal(store_schema_version(f->s, &v), 0);
	assert_int_equal(v, STORE_SCHEMA_VERSION);
	/* Reopening migrates nothing and keeps the data. */
	store_close(&f->s);
	f->s = store_open(f->path, 1000, &err, &transient);
	assert_non_null(f->s);
	assert_int_equal(store_schema_version(f->s, &v), 0);
	assert_int_equal(v, STORE_SCHEMA_VERSION);
}

static void test_newer_schema_refused(void **state)
{
	struct fixture *f = *state;
	sqlite3 *db;
	char *err = NULL;
	bool transient = true;
	struct store *s;

	store_close(&f->s);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL,
				      NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	s = store_open(f->path, 1000, &err, &transient);
	assert_null(s);
	assert_non_null(strstr(err, "newer"));
	assert_false(transient);
	free(err);
	f->s = NULL;
}

static void test_members(void **state)
{
	struct fixture *f = *state;
	struct store_member m = { 0 };
	bool added, found, removed;
	int64_t n;

	assert_int_equal(store_member_add(f->s, "makers", "a@example.org",
					  "Alice", MODE_IMMEDIATE, &added), 0);
	assert_true(added);
	assert_int_equal(store_member_add(f->s, "makers", "a@example.org",
					  NULL, MODE_DIGEST, &added), 0);
	assert_false(added);
	assert_int_equal(store_member_add(f->s, "other", "a@example.org",
					  NULL, MODE_DIGEST, &added), 0);
	assert_true(added);
	assert_int_equal(store_member_get(f->s, "makers", "a@example.org", &m,
					  &found), 0);
	assert_true(found);
	assert_string_equal(m.name, "Alice");
	assert_int_equal(m.mode, MODE_IMMEDIATE);
	assert_int_equal(m.status, MEMBER_ACTIVE);
	store_member_clear(&m);
	assert_int_equal(store_member_set_mode(f->s, "makers", "a@example.org",
					       MODE_NOMAIL, &found), 0);
	assert_true(found);
	assert_int_equal(store_recipients_count(f->s, "makers",
						 AUDIENCE_IMMEDIATE, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_member_count(f->s, "makers", &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_member_remove(f->s, "makers", "a@example.org",
					     &removed), 0);
	assert_true(removed);
	assert_int_equal(store_member_remove(f->s, "makers", "a@example.org",
					     &removed), 0);
	assert_false(removed);
	assert_int_equal(store_member_get(f->s, "makers", "a@example.org", &m,
					  &found), 0);
	assert_false(found);
}

/* Recipients stream in id order, a batch at a time, skipping digest, nomail
 * and disabled members. */
static void test_recipient_stream(void **state)
{
	struct fixture *f = *state;
	char addr[64], **v;
	size_t n, total = 0, i;
	int64_t last = 0, prev = 0;
	bool added;
	struct store_job j = { .list = "big", .kind = JOB_POST,
			       .audience = AUDIENCE_IMMEDIATE };

	assert_int_equal(store_begin(f->s), 0);
	for (i = 0; i < 1000; i++) {
		snprintf(addr, sizeof addr, "user%04zu@example.org", i);
		assert_int_equal(store_member_add(f->s, "big", addr, NULL,
						  i % 10 == 0 ? MODE_DIGEST :
						  MODE_IMMEDIATE, &added), 0);
	}
	assert_int_equal(store_commit(f->s), 0);
	for (;;) {
		assert_int_equal(store_recipients_next(f->s, &j, last, 0, 64,
						       &v, &n, &last), 0);
		if (n == 0) {
			store_strv_free(&v, n);
			break;
		}
		assert_true(n <= 64);
		assert_true(last > prev);
		prev = last;
		for (i = 0; i < n; i++)
			assert_int_not_equal(atoi(v[i] + 4) % 10, 0);
		total += n;
		store_strv_free(&v, n);
	}
	assert_int_equal(total, 900);
}

/* The "mail" audience (meeting invitations) reaches every active member
 * but those in nomail mode; disabled members get nothing. */
static void test_recipient_audience(void **state)
{
	struct fixture *f = *state;
	static const enum store_mode modes[] = {
		MODE_IMMEDIATE, MODE_DIGEST, MODE_DIGEST_PLAIN, MODE_NOMAIL
	};
	char addr[64], **v;
	size_t n, i;
	int64_t last = 0, count;
	bool added;
	struct store_job mail = { .list = "aud", .kind = JOB_POST,
				  .audience = AUDIENCE_MAIL };

	assert_int_equal(store_begin(f->s), 0);
	for (i = 0; i < 8; i++) {
		snprintf(addr, sizeof addr, "aud%zu@example.org", i);
		assert_int_equal(store_member_add(f->s, "aud", addr, NULL,
						  modes[i % 4], &added), 0);
	}
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(store_recipients_count(f->s, "aud", AUDIENCE_MAIL,
						&count), 0);
	assert_int_equal(count, 6);
	assert_int_equal(store_recipients_count(f->s, "aud",
						AUDIENCE_IMMEDIATE, &count), 0);
	assert_int_equal(count, 2);
	assert_int_equal(store_recipients_next(f->s, &mail, 0, 0, 100, &v, &n,
					       &last), 0);
	assert_int_equal(n, 6);
	for (i = 0; i < n; i++)
		assert_int_not_equal(atoi(v[i] + 3) % 4, 3);
	store_strv_free(&v, n);
}

/* The recipients of a job's member stream, as "a,b,c". */
static void stream_of(struct store *s, const char *list,
		      enum store_audience audience, int64_t from, int64_t to,
		      char *dst, size_t size)
{
	struct store_job j = { .list = (char *)list, .kind = JOB_POST,
			       .audience = audience, .seq_from = from,
			       .seq_to = to };
	char **v;
	size_t n, i;
	int64_t last = 0, count;

	dst[0] = '\0';
	for (;;) {
		assert_int_equal(store_recipients_next(s, &j, last, 0, 2, &v,
						       &n, &last), 0);
		if (n == 0) {
			store_strv_free(&v, n);
			break;
		}
		for (i = 0; i < n; i++) {
			if (dst[0] != '\0')
				strncat(dst, ",", size - strlen(dst) - 1);
			strncat(dst, v[i], size - strlen(dst) - 1);
		}
		store_strv_free(&v, n);
	}
	assert_int_equal(store_job_recipients_count(s, &j, &count), 0);
	for (i = 0, n = dst[0] != '\0'; dst[i] != '\0'; i++)
		n += dst[i] == ',';
	assert_int_equal(count, (int64_t)n);
}

/* Each post reaches each member by the mode the member had when it was
 * accepted: a switch is recorded at the sequence point of the posts so
 * far, however late the post's job or the digest streams the members. */
static void test_mode_switches(void **state)
{
	struct fixture *f = *state;
	char got[256];
	int64_t seq1, seq2, seq3;
	struct store_digest_switcher *sw;
	size_t n;
	enum store_mode mode;
	bool added, found, same;

	assert_int_equal(store_member_add(f->s, "sw", "a", NULL,
					  MODE_IMMEDIATE, &added), 0);
	assert_int_equal(store_member_add(f->s, "sw", "b", NULL, MODE_DIGEST,
					  &added), 0);
	assert_int_equal(store_member_add(f->s, "sw", "c", NULL,
					  MODE_IMMEDIATE, &added), 0);
	assert_int_equal(store_digest_item_add(f->s, "sw", 1, "x", 1, &seq1),
			 0);
	/* c: digest after the first post, immediate after the second */
	assert_int_equal(store_member_set_mode(f->s, "sw", "c", MODE_DIGEST,
					       &found), 0);
	assert_true(found);
	assert_int_equal(store_digest_item_add(f->s, "sw", 2, "x", 1, &seq2),
			 0);
	assert_int_equal(store_member_set_mode(f->s, "sw", "c",
					       MODE_IMMEDIATE, &found), 0);
	assert_int_equal(store_digest_item_add(f->s, "other", 9, "x", 1,
					       &seq3), 0);
	assert_int_equal(store_digest_item_add(f->s, "sw", 3, "x", 1, &seq3),
			 0);
	/* b: away and back before the next post: still digest throughout */
	assert_int_equal(store_member_set_mode(f->s, "sw", "b",
					       MODE_IMMEDIATE, &found), 0);
	assert_int_equal(store_member_set_mode(f->s, "sw", "b", MODE_DIGEST,
					       &found), 0);
	assert_true(seq1 < seq2 && seq2 < seq3);

	stream_of(f->s, "sw", AUDIENCE_IMMEDIATE, seq1, seq1, got, sizeof got);
	assert_string_equal(got, "a,c");
	stream_of(f->s, "sw", AUDIENCE_IMMEDIATE, seq2, seq2, got, sizeof got);
	assert_string_equal(got, "a");
	stream_of(f->s, "sw", AUDIENCE_IMMEDIATE, seq3, seq3, got, sizeof got);
	assert_string_equal(got, "a,c");
	/* the whole period: c switched within it, so it is in no stream */
	stream_of(f->s, "sw", AUDIENCE_DIGEST, seq1, seq3, got, sizeof got);
	assert_string_equal(got, "b");
	stream_of(f->s, "sw", AUDIENCE_DIGEST, seq2, seq2, got, sizeof got);
	assert_string_equal(got, "b,c");
	stream_of(f->s, "sw", AUDIENCE_IMMEDIATE, seq1, seq3, got, sizeof got);
	assert_string_equal(got, "a");
	/* seq 0: the current modes, as for jobs queued before sequence
	 * numbers */
	stream_of(f->s, "sw", AUDIENCE_IMMEDIATE, 0, 0, got, sizeof got);
	assert_string_equal(got, "a,c");

	assert_int_equal(store_digest_switchers(f->s, "sw", seq1, &sw, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(sw[0].address, "b");
	assert_string_equal(sw[1].address, "c");
	assert_int_equal(store_member_mode_for(f->s, sw[1].member, seq1, seq3,
					       &mode, &same), 0);
	assert_false(same);
	assert_int_equal(store_member_mode_for(f->s, sw[1].member, seq2, seq2,
					       &mode, &same), 0);
	assert_true(same);
	assert_int_equal(mode, MODE_DIGEST);
	assert_int_equal(store_member_mode_for(f->s, sw[0].member, seq1, seq3,
					       &mode, &same), 0);
	assert_true(same);
	assert_int_equal(mode, MODE_DIGEST);
	store_digest_switchers_free(&sw, n);
}

/* What waits for an issue: bounded by count and bytes, always at least
 * one post; an issue takes them out. */
static void test_digest_items(void **state)
{
	struct fixture *f = *state;
	struct store_digest_item *v;
	struct store_digest_issue is = { .list = "makers", .volume = 1,
					 .number = 1, .reason = "test" };
	struct store_post p = { .list = "makers", .date = 1 };
	int64_t msg, arch, seq, count, bytes, first = 0;
	time_t oldest;
	size_t n, i;
	char mid[32];

	assert_int_equal(store_message_add(f->s, "x", 1, &msg), 0);
	for (i = 0; i < 5; i++) {
		snprintf(mid, sizeof mid, "m%zu@x", i);
		p.message = msg;
		p.message_id = mid;
		p.subject = "s";
		assert_int_equal(store_archive_add(f->s, &p, &arch), 0);
		assert_int_equal(store_digest_item_add(f->s, "makers", arch,
						       "0123456789", 10, &seq),
				 0);
		if (first == 0)
			first = seq;
	}
	assert_int_equal(store_digest_waiting(f->s, "makers", &count, &bytes,
					      &oldest), 0);
	assert_int_equal(count, 5);
	assert_int_equal(bytes, 50);
	assert_true(oldest > 0);
	assert_int_equal(store_digest_items_waiting(f->s, "makers", 3, 1000,
						    &v, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(v[0].seq, first);
	assert_int_equal(v[0].len, 10);
	assert_string_equal(v[0].data, "0123456789");
	assert_string_equal(v[0].message_id, "m0@x");
	store_digest_items_free(&v, n);
	assert_int_equal(store_digest_items_waiting(f->s, "makers", 10, 25,
						    &v, &n), 0);
	assert_int_equal(n, 2);
	store_digest_items_free(&v, n);
	assert_int_equal(store_digest_items_waiting(f->s, "makers", 10, 1,
						    &v, &n), 0);
	assert_int_equal(n, 1);
	is.first_seq = first;
	is.last_seq = v[0].seq + 1;
	is.messages = 2;
	store_digest_items_free(&v, n);
	assert_int_equal(store_digest_issue_add(f->s, &is, NULL), 0);
	assert_int_equal(store_digest_waiting(f->s, "makers", &count, &bytes,
					      &oldest), 0);
	assert_int_equal(count, 3);
	assert_int_equal(store_digest_issue_add(f->s, &is, NULL), -1);
}

/* A worker killed after a job's last progress and before marking it done
 * leaves it finishable: it is due, so that the next pass finishes it. */
static void test_job_finishable(void **state)
{
	struct fixture *f = *state;
	struct store_job j = { 0 };
	int64_t id;
	bool found, done;

	assert_int_equal(store_job_add(f->s, "makers", JOB_POST, 0,
				       "b@x", "x", 1, NULL, 0, &id), 0);
	assert_int_equal(store_job_progress(f->s, id, 0, 0, true, true), 0);
	assert_int_equal(store_job_next_due(f->s, util_now(), 0, &j, &found),
			 0);
	assert_true(found);
	assert_int_equal(j.id, id);
	assert_true(j.members_done);
	store_job_clear(&j);
	assert_int_equal(store_job_finish_if_done(f->s, id, &done), 0);
	assert_true(done);
	assert_int_equal(store_job_next_due(f->s, util_now(), 0, &j, &found),
			 0);
	assert_false(found);
	/* One waiting for a retry later is not due. */
	assert_int_equal(store_job_add(f->s, "makers", JOB_DIRECT, 0, "b@x",
				       "x", 1, NULL, 0, &id), 0);
	assert_int_equal(store_job_rcpt_add(f->s, id, "r@x", RCPT_RETRY, 1,
					    util_now() + 600, 451, "later"),
			 0);
	assert_int_equal(store_job_next_due(f->s, util_now(), 0, &j, &found),
			 0);
	assert_false(found);
}

/* The archive row and its references; threading is pipeline/thread's
 * (test-thread). */
static int64_t fts_rows(struct fixture *f)
{
	sqlite3_stmt *st;
	int64_t n = -1;

	assert_int_equal(sqlite3_prepare_v2(f->s->db, "SELECT count(*) FROM "
					    "archive_fts", -1, &st, NULL),
			 SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static int64_t archive_one(struct fixture *f, const char *mid)
{
	struct store_post p = { .list = "makers", .date = 7,
				.message_id = mid, .subject = "Tools" };
	int64_t msg, id;

	assert_int_equal(store_message_add(f->s, "raw", 3, &msg), 0);
	p.message = msg;
	assert_int_equal(store_archive_add(f->s, &p, &id), 0);
	return id;
}

/* Deferred indexing (the intake's batches): rows wait until a flush, the
 * commit, a savepoint or a search inserts them; a rollback, or one of the
 * savepoint they came after, drops them. */
static void test_fts_deferred(void **state)
{
	struct fixture *f = *state;
	struct store_search q = { .list = "makers", .match = "deferredword",
				  .limit = 10 };
	struct store_search_hit *hits = NULL;
	size_t nhits = 0;
	int64_t a, b, c, threads, messages;

	assert_int_equal(store_begin(f->s), 0);
	store_fts_defer(f->s, true);
	a = archive_one(f, "a@x");
	b = archive_one(f, "b@x");
	assert_int_equal(store_fts_add(f->s, a, "Tools", NULL,
				       "deferredword one", NULL), 0);
	assert_int_equal(store_fts_add(f->s, b, "Tools", NULL,
				       "deferredword two", NULL), 0);
	assert_int_equal(fts_rows(f), 0);
	/* A search in the same transaction finds them. */
	assert_int_equal(store_search(f->s, &q, &hits, &nhits, &threads,
				      &messages), 0);
	assert_int_equal(messages, 2);
	free(hits);
	assert_int_equal(fts_rows(f), 2);
	c = archive_one(f, "c@x");
	assert_int_equal(store_fts_add(f->s, c, "Tools", NULL, "three", NULL),
			 0);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(fts_rows(f), 3);

	/* A rollback drops what waits. */
	assert_int_equal(store_begin(f->s), 0);
	a = archive_one(f, "d@x");
	assert_int_equal(store_fts_add(f->s, a, "Tools", NULL, "four", NULL),
			 0);
	store_rollback(f->s);
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(fts_rows(f), 3);

	/* Rows from before a savepoint stay when it is undone; those after
	 * it go with it. */
	assert_int_equal(store_begin(f->s), 0);
	a = archive_one(f, "e@x");
	assert_int_equal(store_fts_add(f->s, a, "Tools", NULL, "five", NULL),
			 0);
	assert_int_equal(store_savepoint(f->s), 0);
	b = archive_one(f, "f@x");
	assert_int_equal(store_fts_add(f->s, b, "Tools", NULL, "six", NULL),
			 0);
	assert_true(store_rollback_savepoint(f->s));
	assert_int_equal(store_fts_flush(f->s), 0);
	assert_int_equal(store_commit(f->s), 0);
	store_fts_defer(f->s, false);
	assert_int_equal(fts_rows(f), 4);
	/* Off again: inserted at once. */
	assert_int_equal(store_begin(f->s), 0);
	a = archive_one(f, "g@x");
	assert_int_equal(store_fts_add(f->s, a, "Tools", NULL, "seven", NULL),
			 0);
	assert_int_equal(fts_rows(f), 5);
	assert_int_equal(store_commit(f->s), 0);
}

static void test_archive_rows(void **state)
{
	struct fixture *f = *state;
	struct store_archived a = { 0 };
	const char *refs[] = { "root@x", "ghost@x", NULL };
	struct store_post p = { .list = "makers", .date = 7 };
	int64_t msg, root, reply, id;
	bool found;

	assert_int_equal(store_message_add(f->s, "raw", 3, &msg), 0);
	p.message = msg;
	p.message_id = "root@x";
	p.sender = "alice@example.org";
	p.sender_name = "Alice";
	p.subject = "Tools";
	assert_int_equal(store_archive_add(f->s, &p, &root), 0);
	p.message_id = "reply@x";
	p.in_reply_to = "ghost@x";
	p.references = refs;
	assert_int_equal(store_archive_add(f->s, &p, &reply), 0);

	assert_int_equal(store_archive_get(f->s, reply, &a, &found), 0);
	assert_true(found);
	assert_string_equal(a.list, "makers");
	assert_string_equal(a.message_id, "reply@x");
	assert_string_equal(a.sender_name, "Alice");
	assert_int_equal(a.date, 7);
	assert_int_equal(a.parent, 0);      /* linked by thread_link */
	store_archived_clear(&a);
	assert_int_equal(store_archive_find(f->s, "makers", "root@x", &id), 0);
	assert_int_equal(id, root);
	assert_int_equal(store_archive_find(f->s, "other", "root@x", &id), 0);
	assert_int_equal(id, 0);
	assert_int_equal(store_archive_has(f->s, "makers", "root@x", &found), 0);
	assert_true(found);
	assert_int_equal(store_archive_has(f->s, "other", "root@x", &found), 0);
	assert_false(found);
	/* The same Message-ID twice in one list is refused by the schema. */
	p.message_id = "root@x";
	assert_int_equal(store_archive_add(f->s, &p, &root), -1);
	assert_false(store_transient(f->s));
}

/* Steps the cached statements took through a whole table, in all. */
static long fullscan_steps(struct store *s)
{
	long n = 0;
	size_t i;

	for (i = 0; i < s->cap; i++)
		if (s->cache[i].idle != NULL)
			n += sqlite3_stmt_status(s->cache[i].idle,
						 SQLITE_STMTSTATUS_FULLSCAN_STEP,
						 0);
	return n;
}

/* Refreshing a thread after a post reads that thread through the
 * archive's index, never the whole archive: its cost must not grow with
 * the archive (a scan per post made LMTP intake fall from 1,600 to 600
 * posts a second as 10,000 posts came in). */
static void test_thread_refresh_indexed(void **state)
{
	struct fixture *f = *state;
	struct store_post p = { .list = "makers", .date = 7 };
	char mid[32], *err = NULL;
	int64_t msg, id;
	sqlite3 *db;
	bool alive;
	long before;
	int i;

	assert_int_equal(store_message_add(f->s, "raw", 3, &msg), 0);
	p.message = msg;
	p.sender = "alice@example.org";
	p.subject = "Tools";
	for (i = 0; i < 200; i++) {
		snprintf(mid, sizeof mid, "m%d@x", i);
		p.message_id = mid;
		p.list = i % 2 == 0 ? "makers" : "garden";
		assert_int_equal(store_archive_add(f->s, &p, &id), 0);
	}
	/* threads as pipeline/thread would give them: ten posts each */
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "UPDATE archive SET thread ="
				      " 1 + (id - 1) / 10", NULL, NULL, &err),
			 SQLITE_OK);
	sqlite3_close(db);
	/* once to prepare the statements, then counted */
	assert_int_equal(store_thread_refresh(f->s, "makers", 3, &alive), 0);
	before = fullscan_steps(f->s);
	assert_int_equal(store_thread_refresh(f->s, "makers", 3, &alive), 0);
	assert_true(alive);
	assert_int_equal(store_thread_refresh(f->s, "makers", 999, &alive),
			 0);
	assert_false(alive);
	assert_int_equal(fullscan_steps(f->s) - before, 0);
}

static void test_jobs(void **state)
{
	struct fixture *f = *state;
	const char *rcpts[] = { "x@example.org", "y@example.org" };
	struct store_job j = { 0 };
	struct store_rcpt *v;
	char *data;
	size_t len, n;
	int64_t id, id2;
	bool found, done;

	assert_int_equal(store_job_add(f->s, "makers", JOB_DIRECT, 0,
				       "makers-bounces@x", "hello\n", 6, rcpts,
				       2, &id), 0);
	assert_int_equal(store_job_add(f->s, "makers", JOB_POST, 0,
				       "makers-bounces@x", "post\n", 5, NULL,
				       0, &id2), 0);
	/* The post's member stream is not due before its time. */
	assert_int_equal(store_job_next_due(f->s, 100000, id, &j, &found), 0);
	assert_false(found);
	assert_int_equal(store_job_next_due(f->s, time(NULL) + 1, 0, &j,
					    &found), 0);
	assert_true(found);
	assert_int_equal(j.id, id);
	assert_int_equal(j.kind, JOB_DIRECT);
	assert_true(j.members_done);
	store_job_clear(&j);
	assert_int_equal(store_job_data(f->s, id, &data, &len), 0);
	assert_int_equal(len, 6);
	assert_memory_equal(data, "hello\n", 6);
	free(data);
	assert_int_equal(store_job_rcpts_due(f->s, id, time(NULL) + 1, 10, &v,
					     &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_job_rcpt_update(f->s, v[0].id, RCPT_DONE, 1, 0,
					       250, NULL), 0);
	assert_int_equal(store_job_rcpt_update(f->s, v[1].id, RCPT_RETRY, 1,
					       time(NULL) + 600, 451, "later"),
			 0);
	store_rcpts_free(&v, n);
	assert_int_equal(store_job_finish_if_done(f->s, id, &done), 0);
	assert_false(done);
	/* The next due job after the first is the post. */
	assert_int_equal(store_job_next_due(f->s, time(NULL) + 1, id, &j,
					    &found), 0);
	assert_true(found);
	assert_int_equal(j.id, id2);
	store_job_clear(&j);
	assert_int_equal(store_job_rcpts_due(f->s, id, time(NULL) + 700, 10,
					     &v, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_job_rcpt_update(f->s, v[0].id, RCPT_DONE, 2, 0,
					       250, NULL), 0);
	store_rcpts_free(&v, n);
	assert_int_equal(store_job_finish_if_done(f->s, id, &done), 0);
	assert_true(done);
	/* Progress over the member stream is persisted. */
	assert_int_equal(store_job_progress(f->s, id2, 42, 7, false, true), 0);
	assert_int_equal(store_job_next_due(f->s, time(NULL) + 1, 0, &j,
					    &found), 0);
	assert_true(found);
	assert_int_equal(j.cursor, 42);
	assert_int_equal(j.sent, 7);
	assert_int_equal(j.audience, AUDIENCE_IMMEDIATE);
	assert_null(j.personal);
	store_job_clear(&j);
	/* A job with per-recipient content keeps its audience and marker. */
	{
		struct store_job_new nj = {
			.list = "makers", .kind = JOB_POST,
			.audience = AUDIENCE_MAIL, .env_from = "b@x",
			.data = "To: m@x.invalid\n", .len = 16,
			.personal = "m@x.invalid", .rcpts = rcpts, .n = 1,
		};
		int64_t id3;

		assert_int_equal(store_job_queue(f->s, &nj, &id3), 0);
		assert_int_equal(store_job_next_due(f->s, time(NULL) + 1,
						    id2, &j, &found), 0);
		assert_true(found);
		assert_int_equal(j.id, id3);
		assert_int_equal(j.kind, JOB_POST);
		assert_false(j.members_done);
		assert_int_equal(j.audience, AUDIENCE_MAIL);
		assert_string_equal(j.personal, "m@x.invalid");
		store_job_clear(&j);
		assert_int_equal(store_job_rcpts_due(f->s, id3, time(NULL) + 1,
						     10, &v, &n), 0);
		assert_int_equal(n, 1);
		store_rcpts_free(&v, n);
	}
}

/* ---- claims: two handles (two workers) on one database file ---- */

static struct store *open_second(struct fixture *f, long busy_ms)
{
	char *err = NULL;
	bool transient;
	struct store *s = store_open(f->path, busy_ms, &err, &transient);

	assert_non_null(s);
	return s;
}

/* begin; claim; commit (or roll back when not won). */
static enum store_claim_result claim(struct store *s, int64_t id,
				     const struct store_claimant *me,
				     time_t now, struct store_job *j,
				     struct store_claim_holder *h)
{
	enum store_claim_result r;

	assert_int_equal(store_begin(s), 0);
	assert_int_equal(store_job_claim(s, id, me, now, now + 300, j, &r, h),
			 0);
	if (r == CLAIM_WON || r == CLAIM_TAKEN_OVER)
		assert_int_equal(store_commit(s), 0);
	else
		store_rollback(s);
	return r;
}

static char *claim_owner(struct fixture *f, int64_t id)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	char *owner = NULL;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT claim_owner FROM jobs"
					    " WHERE id = ?", -1, &st, NULL),
			 SQLITE_OK);
	sqlite3_bind_int64(st, 1, id);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	if (sqlite3_column_text(st, 0) != NULL)
		owner = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return owner;
}

/* A pid that is certainly gone: a child that exited and was reaped. */
static int64_t dead_pid(void)
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return (int64_t)pid;
}

static void test_claims(void **state)
{
	struct fixture *f = *state;
	struct store *b = open_second(f, 100);
	struct proc_id me, dead, far, reused;
	struct store_claimant wa = { "worker-a", &me }, wb = { "worker-b", &me };
	struct store_claimant wd = { "worker-dead", &dead };
	struct store_claimant wf = { "worker-far", &far };
	struct store_claimant wr = { "worker-reused", &reused };
	struct store_claim_holder h;
	struct store_job j = { 0 };
	enum store_claim_result r;
	time_t now = 1700000000;
	int64_t id, n;
	bool held, done;
	char *owner;

	proc_self(&me);
	assert_true(me.pid > 0);
	assert_int_equal(proc_state(&me), PROC_RUNNING);
	assert_int_equal(store_job_add(f->s, "makers", JOB_POST, 0, "b@x",
				       "post\n", 5, NULL, 0, &id), 0);
	assert_int_equal(store_job_progress(f->s, id, 17, 3, false, true), 0);

	/* Outside a write transaction a claim is refused. */
	assert_int_equal(store_job_claim(f->s, id, &wa, now, now + 300, &j, &r,
					 NULL), -1);

	/* A wins; while A's transaction is open, B cannot even begin (the
	 * write lock), so B can never read the job as free. */
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_job_claim(f->s, id, &wa, now, now + 300, &j, &r,
					 NULL), 0);
	assert_int_equal(r, CLAIM_WON);
	assert_int_equal(j.id, id);
	assert_int_equal(j.cursor, 17);
	assert_int_equal(j.sent, 3);
	assert_int_equal(store_begin(b), -1);
	assert_true(store_transient(b));
	assert_int_equal(store_commit(f->s), 0);
	store_job_clear(&j);

	/* Committed: B sees A's claim, held by a live process. */
	assert_int_equal(claim(b, id, &wb, now + 10, &j, &h), CLAIM_HELD);
	assert_int_equal(h.pid, me.pid);
	assert_string_equal(h.host, me.host);
	assert_int_equal(h.until, now + 300);
	/* A again: still A's (a worker re-claims its own). */
	assert_int_equal(claim(f->s, id, &wa, now + 20, &j, NULL), CLAIM_WON);
	store_job_clear(&j);
	/* Renewing: A holds it, B does not. */
	assert_int_equal(store_begin(b), 0);
	assert_int_equal(store_job_claim_renew(b, id, "worker-b", now + 900,
					       &held), 0);
	assert_false(held);
	store_rollback(b);
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_job_claim_renew(f->s, id, "worker-a", now + 600,
					       &held), 0);
	assert_true(held);
	assert_int_equal(store_commit(f->s), 0);
	/* Renewed to now + 600: still A's at now + 500... */
	assert_int_equal(claim(b, id, &wb, now + 500, &j, &h), CLAIM_HELD);
	assert_int_equal(h.until, now + 600);
	/* ...and past its lease, taken over although A's process runs. */
	assert_int_equal(claim(b, id, &wb, now + 600, &j, &h),
			 CLAIM_TAKEN_OVER);
	assert_int_equal(j.cursor, 17);
	store_job_clear(&j);
	/* A may record nothing more, and cannot release B's claim. */
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_job_claim_renew(f->s, id, "worker-a",
					       now + 900, &held), 0);
	assert_false(held);
	assert_int_equal(store_job_claim_release(f->s, id, "worker-a"), 0);
	assert_int_equal(store_commit(f->s), 0);
	owner = claim_owner(f, id);
	assert_string_equal(owner, "worker-b");
	free(owner);
	/* B releases: free for anyone. */
	assert_int_equal(store_begin(b), 0);
	assert_int_equal(store_job_claim_release(b, id, "worker-b"), 0);
	assert_int_equal(store_commit(b), 0);
	owner = claim_owner(f, id);
	assert_null(owner);

	/* An owner whose process is gone from this host loses its claim at
	 * once, lease or not. */
	dead = me;
	dead.pid = dead_pid();
	assert_int_equal(proc_state(&dead), PROC_GONE);
	assert_int_equal(claim(f->s, id, &wd, now, &j, NULL), CLAIM_WON);
	store_job_clear(&j);
	assert_int_equal(claim(b, id, &wb, now + 1, &j, &h), CLAIM_TAKEN_OVER);
	assert_int_equal(h.pid, dead.pid);
	store_job_clear(&j);
	/* So does one whose pid now names another process (another start
	 * time), or a process of an earlier boot. */
	reused = me;
	reused.start = me.start + 1;
	if (me.start != 0) {
		assert_int_equal(proc_state(&reused), PROC_GONE);
		assert_int_equal(claim(f->s, id, &wr, now + 700, &j, NULL),
				 CLAIM_TAKEN_OVER);
		store_job_clear(&j);
		assert_int_equal(claim(b, id, &wb, now + 701, &j, NULL),
				 CLAIM_TAKEN_OVER);
		store_job_clear(&j);
	}
	if (me.boot[0] != '\0') {
		reused = me;
		reused.boot[0] = reused.boot[0] == '0' ? '1' : '0';
		assert_int_equal(proc_state(&reused), PROC_GONE);
	}
	/* An owner in another PID namespace (a container on this kernel):
	 * its pid says nothing here, so only its lease tells. */
	if (me.ns[0] != '\0') {
		far = me;
		snprintf(far.ns, sizeof far.ns, "pid:[1]");
		far.pid = dead_pid();
		assert_int_equal(proc_state(&far), PROC_ELSEWHERE);
		assert_int_equal(claim(f->s, id, &wf, now + 1100, &j, NULL),
				 CLAIM_TAKEN_OVER);
		store_job_clear(&j);
		assert_int_equal(claim(b, id, &wb, now + 1399, &j, &h),
				 CLAIM_HELD);
		assert_int_equal(h.pid, far.pid);
		assert_int_equal(claim(b, id, &wb, now + 1400, &j, NULL),
				 CLAIM_TAKEN_OVER);
		store_job_clear(&j);
	}
	/* An owner on another host: only its lease tells. */
	far = me;
	snprintf(far.host, sizeof far.host, "elsewhere.invalid");
	far.pid = dead_pid();
	assert_int_equal(proc_state(&far), PROC_ELSEWHERE);
	assert_int_equal(claim(f->s, id, &wf, now + 2000, &j, NULL),
			 CLAIM_TAKEN_OVER);
	store_job_clear(&j);
	assert_int_equal(claim(b, id, &wb, now + 2299, &j, &h), CLAIM_HELD);
	assert_string_equal(h.host, "elsewhere.invalid");
	assert_int_equal(claim(b, id, &wb, now + 2300, &j, NULL),
			 CLAIM_TAKEN_OVER);
	store_job_clear(&j);

	/* release_all gives up every claim of one owner only. */
	{
		int64_t id2;

		assert_int_equal(store_job_add(f->s, "makers", JOB_POST, 0,
					       "b@x", "post\n", 5, NULL, 0,
					       &id2), 0);
		assert_int_equal(claim(b, id2, &wb, now, &j, NULL), CLAIM_WON);
		store_job_clear(&j);
		assert_int_equal(store_begin(f->s), 0);
		assert_int_equal(store_job_claims_release_all(f->s, "worker-a",
							      &n), 0);
		assert_int_equal(n, 0);
		assert_int_equal(store_commit(f->s), 0);
		assert_int_equal(store_begin(b), 0);
		assert_int_equal(store_job_claims_release_all(b, "worker-b",
							      &n), 0);
		assert_int_equal(n, 2);
		assert_int_equal(store_commit(b), 0);
		owner = claim_owner(f, id2);
		assert_null(owner);
	}

	/* A finished job cannot be claimed. */
	assert_int_equal(store_job_progress(f->s, id, 17, 0, true, true), 0);
	assert_int_equal(store_job_finish_if_done(f->s, id, &done), 0);
	assert_true(done);
	assert_int_equal(claim(b, id, &wb, now, &j, NULL), CLAIM_GONE);
	assert_int_equal(claim(b, 999999, &wb, now, &j, NULL), CLAIM_GONE);
	store_close(&b);
}

/* Two processes claim the same jobs at the same moment: each job is won by
 * exactly one of them. */
#define RACE_JOBS 40
static void test_claims_race(void **state)
{
	struct fixture *f = *state;
	int64_t ids[RACE_JOBS];
	int wins[2][2], go[2];
	pid_t pids[2];
	unsigned char won[2][RACE_JOBS];
	size_t i, k;

	for (i = 0; i < RACE_JOBS; i++)
		assert_int_equal(store_job_add(f->s, "makers", JOB_POST, 0,
					       "b@x", "post\n", 5, NULL, 0,
					       &ids[i]), 0);
	assert_int_equal(pipe(go), 0);
	for (k = 0; k < 2; k++) {
		assert_int_equal(pipe(wins[k]), 0);
		pids[k] = fork();
		assert_true(pids[k] >= 0);
		if (pids[k] == 0) {
			struct proc_id me;
			struct store_claimant c = {
				k == 0 ? "racer-0" : "racer-1", &me
			};
			struct store *s;
			char *err = NULL, b;
			bool transient;
			unsigned char res[RACE_JOBS] = { 0 };

			proc_self(&me);
			close(go[1]);
			/* Both start together. */
			if (read(go[0], &b, 1) != 1)
				_exit(2);
			s = store_open(f->path, 10000, &err, &transient);
			if (s == NULL)
				_exit(2);
			for (i = 0; i < RACE_JOBS; i++) {
				struct store_job j = { 0 };
				enum store_claim_result r;

				if (store_begin(s) < 0 ||
				    store_job_claim(s, ids[i], &c, 1000, 2000,
						    &j, &r, NULL) < 0 ||
				    store_commit(s) < 0)
					_exit(2);
				res[i] = r == CLAIM_WON;
				store_job_clear(&j);
			}
			if (write(wins[k][1], res, sizeof res) !=
			    (ssize_t)sizeof res)
				_exit(2);
			/* Alive until the parent has both answers, so that
			 * neither sees the other's process gone. */
			(void)read(go[0], &b, 1);
			store_close(&s);
			_exit(0);
		}
		close(wins[k][1]);
	}
	close(go[0]);
	assert_int_equal(write(go[1], "xx", 2), 2);
	for (k = 0; k < 2; k++) {
		size_t got = 0;
		ssize_t r;

		while (got < RACE_JOBS &&
		       (r = read(wins[k][0], won[k] + got,
				 RACE_JOBS - got)) > 0)
			got += (size_t)r;
		assert_int_equal(got, RACE_JOBS);
		close(wins[k][0]);
	}
	close(go[1]);
	for (k = 0; k < 2; k++) {
		int status;

		assert_int_equal(waitpid(pids[k], &status, 0), pids[k]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	for (i = 0; i < RACE_JOBS; i++)
		assert_int_equal(won[0][i] + won[1][i], 1);
}

/* Another writer holding the database past the busy timeout is a transient
 * failure. */
static void test_busy_is_transient(void **state)
{
	struct fixture *f = *state;
	sqlite3 *db;
	bool added;

	store_close(&f->s);
	{
		char *err = NULL;
		bool transient;

		f->s = store_open(f->path, 50, &err, &transient);
		assert_non_null(f->s);
	}
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(store_begin(f->s), -1);
	assert_true(store_transient(f->s));
	assert_int_equal(store_member_add(f->s, "makers", "a@example.org",
					  NULL, MODE_IMMEDIATE, &added), -1);
	assert_true(store_transient(f->s));
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(db);
	assert_int_equal(store_member_add(f->s, "makers", "a@example.org",
					  NULL, MODE_IMMEDIATE, &added), 0);
	assert_true(added);
}

/* The statement cache cannot run out: 200 distinct statements (each its
 * own literal) are prepared, cached and reused, and the store still works
 * after them (it exited on the 65th before). */
static void test_many_statements(void **state)
{
	struct fixture *f = *state;
	enum { N = 200 };
	char *sql[N];
	sqlite3_stmt *first[N];
	int64_t v, count;
	bool added;
	size_t i;

	for (i = 0; i < N; i++) {
		sql[i] = xasprintf("SELECT %zu + count(*) FROM members", i);
		first[i] = store_prep(f->s, sql[i]);
		assert_non_null(first[i]);
		assert_int_equal(store_count_query(f->s, first[i], &v, "n"),
				 0);
		assert_int_equal(v, (int64_t)i);
	}
	/* Each is cached: the same statement comes back, and runs. */
	for (i = 0; i < N; i++) {
		assert_ptr_equal(store_prep(f->s, sql[i]), first[i]);
		assert_int_equal(store_count_query(f->s, first[i], &v, "n"),
				 0);
		assert_int_equal(v, (int64_t)i);
	}
	/* The store's own statements still work after them. */
	assert_int_equal(store_member_add(f->s, "makers", "a@example.org",
					  NULL, MODE_IMMEDIATE, &added), 0);
	assert_true(added);
	assert_int_equal(store_member_count(f->s, "makers", &count), 0);
	assert_int_equal(count, 1);
	for (i = 0; i < N; i++)
		free(sql[i]);
}

/* The row iterator owns its statement while it runs: the loop body may run
 * the very same query (here: every member, inside every member). */
static int inner_count(const struct store_member *m, void *ctx)
{
	size_t *n = ctx;

	(*n)++;
	return 0;
}

struct outer {
	struct store *s;
	size_t outer, inner;
};

static int outer_visit(const struct store_member *m, void *ctx)
{
	struct outer *o = ctx;

	o->outer++;
	return store_member_foreach(o->s, "makers", inner_count, &o->inner);
}

static int stop_at_two(const struct store_member *m, void *ctx)
{
	size_t *n = ctx;

	return ++*n == 2 ? 7 : 0;
}

static void test_rows_reentrant(void **state)
{
	struct fixture *f = *state;
	struct outer o = { f->s, 0, 0 };
	struct store_rows r;
	sqlite3_stmt *st;
	size_t i, n = 0;
	bool added;

	for (i = 0; i < 5; i++) {
		char *a = xasprintf("m%zu@example.org", i);

		assert_int_equal(store_member_add(f->s, "makers", a, NULL,
						  MODE_IMMEDIATE, &added), 0);
		free(a);
	}
	assert_int_equal(store_member_foreach(f->s, "makers", outer_visit,
					      &o), 0);
	assert_int_equal(o.outer, 5);
	assert_int_equal(o.inner, 25);
	/* A callback's non-zero value stops the walk and is returned. */
	assert_int_equal(store_member_foreach(f->s, "makers", stop_at_two,
					      &n), 7);
	assert_int_equal(n, 2);
	/* A query that cannot be prepared: no rows, and end says so. */
	st = store_rows_prep(&r, f->s, "SELECT nosuchcolumn FROM members",
			     "bad");
	assert_null(st);
	assert_false(store_rows_valid(&r));
	assert_int_equal(store_rows_end(&r), -1);
	assert_non_null(strstr(store_error(f->s), "prepare"));
	/* An iterator stopped early leaves its statement for the next. */
	st = store_rows_prep(&r, f->s, "SELECT id FROM members ORDER BY id",
			     "ids");
	assert_non_null(st);
	assert_true(store_rows_valid(&r));
	assert_int_equal(store_rows_end(&r), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_refused,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_members, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recipient_stream, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_recipient_audience, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_mode_switches, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_digest_items, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_job_finishable, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fts_deferred, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_archive_rows, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_thread_refresh_indexed,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_jobs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claims, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claims_race, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_many_statements, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rows_reentrant, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_busy_is_transient, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
