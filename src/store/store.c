/* store - the one SQLite database: open, migrate, transactions, statements */
#include "autoconf.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sqlite3.h>

#include "store/store.h"
#include "store_int.h"
#include "base/xalloc.h"
#include "base/log.h"
#include "base/util.h"


static const char *const schema_v1[] = {
	"CREATE TABLE messages ("
	"  id INTEGER PRIMARY KEY,"
	"  raw BLOB NOT NULL,"
	"  received_at INTEGER NOT NULL)",

	"CREATE TABLE members ("
	"  id INTEGER PRIMARY KEY,"
	"  list TEXT NOT NULL,"
	"  address TEXT NOT NULL,"
	"  display_name TEXT,"
	"  mode TEXT NOT NULL DEFAULT 'immediate'"
	"    CHECK (mode IN ('immediate','digest','digest-plain','nomail')),"
	"  status TEXT NOT NULL DEFAULT 'active'"
	"    CHECK (status IN ('active','disabled','pending')),"
	"  moderated INTEGER NOT NULL DEFAULT 0,"
	"  bounce_score REAL NOT NULL DEFAULT 0,"
	"  subscribed_at INTEGER NOT NULL,"
	"  UNIQUE (list, address))",
	"CREATE INDEX members_by_list ON members (list, id)",

	"CREATE TABLE archive ("
	"  id INTEGER PRIMARY KEY,"
	"  list TEXT NOT NULL,"
	"  message INTEGER NOT NULL REFERENCES messages (id),"
	"  message_id TEXT NOT NULL,"
	"  date INTEGER NOT NULL,"
	"  sender TEXT,"
	"  sender_name TEXT,"
	"  subject TEXT,"
	"  in_reply_to TEXT,"
	"  parent INTEGER REFERENCES archive (id),"
	"  thread INTEGER,"
	"  archived_at INTEGER NOT NULL,"
	"  UNIQUE (list, message_id))",
	"CREATE INDEX archive_by_thread ON archive (list, thread, date)",
	"CREATE TABLE archive_refs ("
	"  archive INTEGER NOT NULL REFERENCES archive (id) ON DELETE CASCADE,"
	"  position INTEGER NOT NULL,"
	"  message_id TEXT NOT NULL,"
	"  PRIMARY KEY (archive, position))",

	"CREATE TABLE holds ("
	"  id INTEGER PRIMARY KEY,"
	"  list TEXT NOT NULL,"
	"  message INTEGER NOT NULL REFERENCES messages (id),"
	"  sender TEXT,"
	"  subject TEXT,"
	"  message_id TEXT,"
	"  reason TEXT NOT NULL,"
	"  token TEXT UNIQUE,"
	"  state TEXT NOT NULL DEFAULT 'held'"
	"    CHECK (state IN ('held','approved','rejected','discarded','expired')),"
	"  held_at INTEGER NOT NULL,"
	"  decided_at INTEGER,"
	"  decided_by TEXT)",
	"CREATE INDEX holds_by_list ON holds (list, state)",

	"CREATE TABLE inbox ("
	"  id INTEGER PRIMARY KEY,"
	"  list TEXT NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  extension TEXT,"
	"  message INTEGER NOT NULL REFERENCES messages (id),"
	"  sender TEXT,"
	"  received_at INTEGER NOT NULL,"
	"  state TEXT NOT NULL DEFAULT 'new')",

	"CREATE TABLE events ("
	"  id INTEGER PRIMARY KEY,"
	"  list TEXT,"
	"  at INTEGER NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  actor TEXT,"
	"  ref INTEGER,"
	"  detail TEXT)",
	"CREATE INDEX events_by_list ON events (list, at)",

	"CREATE TABLE jobs ("
	"  id INTEGER PRIMARY KEY,"
	"  list TEXT NOT NULL,"
	"  kind TEXT NOT NULL CHECK (kind IN ('post','direct')),"
	"  archive INTEGER REFERENCES archive (id),"
	"  data BLOB NOT NULL,"
	"  env_from TEXT NOT NULL,"
	"  cursor INTEGER NOT NULL DEFAULT 0,"
	"  members_done INTEGER NOT NULL DEFAULT 0,"
	"  state TEXT NOT NULL DEFAULT 'queued'"
	"    CHECK (state IN ('queued','done')),"
	"  sent INTEGER NOT NULL DEFAULT 0,"
	"  total INTEGER NOT NULL DEFAULT 0,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_attempt INTEGER NOT NULL,"
	"  last_error TEXT,"
	"  created_at INTEGER NOT NULL,"
	"  done_at INTEGER)",
	"CREATE INDEX jobs_due ON jobs (state, next_attempt)",

	"CREATE TABLE job_rcpts ("
	"  id INTEGER PRIMARY KEY,"
	"  job INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,"
	"  address TEXT NOT NULL,"
	"  state TEXT NOT NULL CHECK (state IN ('queued','retry','done','failed')),"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_attempt INTEGER NOT NULL DEFAULT 0,"
	"  last_code INTEGER,"
	"  last_error TEXT)",
	"CREATE INDEX job_rcpts_due ON job_rcpts (job, state, next_attempt)",
};

/* 2: ranges of a job's member stream delivered ahead of its cursor. */
static const char *const schema_v2[] = {
	"CREATE TABLE job_ranges ("
	"  job INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,"
	"  after_id INTEGER NOT NULL,"
	"  last_id INTEGER NOT NULL,"
	"  PRIMARY KEY (job, after_id))",
};

static bool rc_transient(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_FULL:
	case SQLITE_IOERR:
	case SQLITE_NOMEM:
	case SQLITE_CANTOPEN:
	case SQLITE_PROTOCOL:
		return true;
	default:
		return false;
	}
}

void store_set_err(struct store *s, int rc, const char *what)
{
	free(s->err);
	s->err = xasprintf("%s: %s", what, s->db ? sqlite3_errmsg(s->db) :
			   sqlite3_errstr(rc));
	s->transient = rc_transient(rc);
	s->full = (rc & 0xff) == SQLITE_FULL;
}

const char *store_error(const struct store *s)
{
	return s->err ? s->err : "no error";
}

bool store_transient(const struct store *s)
{
	return s->transient;
}

bool store_full(const struct store *s)
{
	return s->full;
}

int store_exec(struct store *s, const char *sql)
{
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK) {
		store_set_err(s, rc, sql);
		return -1;
	}
	return 0;
}

int store_begin(struct store *s)
{
	return store_exec(s, "BEGIN IMMEDIATE");
}

int store_commit(struct store *s)
{
	if (s->nfts > 0 && store_fts_flush(s) < 0)
		return -1;
	return store_exec(s, "COMMIT");
}

void store_rollback(struct store *s)
{
	store_fts_drop(s);
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

int store_schema_version(struct store *s, int *version_r)
{
	sqlite3_stmt *st = store_prep(s, "PRAGMA user_version");
	int64_t v;

	if (st == NULL || store_count_query(s, st, &v, "user_version") < 0)
		return -1;
	*version_r = (int)v;
	return 0;
}

/* The schema's history: migration i takes user_version i to i + 1. A
 * feature that needs tables adds its step at the end, never edits one that
 * has shipped. */
static const size_t schema_v1_n = sizeof schema_v1 / sizeof schema_v1[0];
static const size_t schema_v2_n = sizeof schema_v2 / sizeof schema_v2[0];

static const struct {
	const char *const *sql;
	const size_t *n;
} migrations[] = {
	{ schema_v1, &schema_v1_n },
	{ schema_v2, &schema_v2_n },
	{ store_schema_moderation, &store_schema_moderation_n },
	{ store_schema_subscriptions, &store_schema_subscriptions_n },
	{ store_schema_bounces, &store_schema_bounces_n },
	{ store_schema_failures, &store_schema_failures_n },
	{ store_schema_personal_jobs, &store_schema_personal_jobs_n },
	{ store_schema_digest, &store_schema_digest_n },
	{ store_schema_archive, &store_schema_archive_n },
	{ store_schema_guard, &store_schema_guard_n },
	{ store_schema_set_requests, &store_schema_set_requests_n },
	{ store_schema_reports, &store_schema_reports_n },
	{ store_schema_web, &store_schema_web_n },
	{ store_schema_meetings, &store_schema_meetings_n },
	{ store_schema_claims, &store_schema_claims_n },
	{ store_schema_pending, &store_schema_pending_n },
};

_Static_assert(sizeof migrations / sizeof migrations[0] ==
	       STORE_SCHEMA_VERSION, "STORE_SCHEMA_VERSION is the migration count");

static int migrate(struct store *s)
{
	int version;
	size_t i;
	char pragma[64];

	if (store_schema_version(s, &version) < 0)
		return -1;
	if (version == STORE_SCHEMA_VERSION)
		return 0;
	if (version > STORE_SCHEMA_VERSION) {
		free(s->err);
		s->err = xasprintf("database schema version %d is newer than "
				   "this convene (%d)", version,
				   STORE_SCHEMA_VERSION);
		s->transient = false;
		return -1;
	}
	if (store_begin(s) < 0)
		return -1;
	/* Read again inside the write transaction: another process may have
	 * migrated in between. */
	if (store_schema_version(s, &version) < 0)
		goto fail;
	for (; version < STORE_SCHEMA_VERSION; version++) {
		for (i = 0; i < *migrations[version].n; i++)
			if (store_exec(s, migrations[version].sql[i]) < 0)
				goto fail;
	}
	snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d",
		 STORE_SCHEMA_VERSION);
	if (store_exec(s, pragma) < 0)
		goto fail;
	return store_commit(s);
fail:
	store_rollback(s);
	return -1;
}

/* The default VFS with one change: a WAL file that exists is opened
 * without O_CREAT. SQLite syncs the folder at the first sync of every file
 * it opened for creation, so each process would pay a second sync for a
 * folder entry that is already on disk (the process that created the file
 * synced it). */
#define STORE_VFS "convene-unix"

static sqlite3_vfs store_vfs;
static pthread_once_t store_vfs_once = PTHREAD_ONCE_INIT;

static int vfs_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *f,
		    int flags, int *out_flags)
{
	sqlite3_vfs *base = vfs->pAppData;

	if ((flags & SQLITE_OPEN_WAL) && (flags & SQLITE_OPEN_CREATE) &&
	    name != NULL && access(name, F_OK) == 0) {
		int rc = base->xOpen(base, name, f,
				     flags & ~SQLITE_OPEN_CREATE, out_flags);

		/* Removed in between (by a process that deletes it): make
		 * it afresh, as SQLite would. */
		if (rc != SQLITE_CANTOPEN)
			return rc;
	}
	return base->xOpen(base, name, f, flags, out_flags);
}

static void vfs_register(void)
{
	sqlite3_vfs *base;

	/* SQLite counts every allocation for sqlite3_status() (a mutex and
	 * a counter each time), which nothing here reads: a tenth of the
	 * instructions of a receive, parsing the schema mostly. Only
	 * possible before SQLite initialises; when something else started
	 * it, it keeps counting. */
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	base = sqlite3_vfs_find(NULL);
	if (base == NULL)
		return;
	store_vfs = *base;
	store_vfs.zName = STORE_VFS;
	store_vfs.pAppData = base;
	store_vfs.xOpen = vfs_open;
	store_vfs.pNext = NULL;
	if (sqlite3_vfs_register(&store_vfs, 0) != SQLITE_OK)
		store_vfs.zName = NULL;
}

/* Waits while another connection writes. SQLite's own handler sleeps 1,
 * 2, 5, 10, 15 ms and on, though a commit holds the lock for a few hundred
 * microseconds: a receive that met the worker's commit slept ten times
 * longer than it waited for. Here the naps start at 50 us and double up
 * to 10 ms, until busy_timeout_ms in all. */
static int busy_wait(void *ctx, int count)
{
	struct store *s = ctx;
	long us = count < 8 ? 50L << count : 10000L;
	struct timespec nap;

	if (count == 0)
		s->busy_waited_us = 0;
	if (s->busy_waited_us >= s->busy_timeout_us)
		return 0;
	if (us > s->busy_timeout_us - s->busy_waited_us)
		us = s->busy_timeout_us - s->busy_waited_us;
	nap.tv_sec = us / 1000000;
	nap.tv_nsec = (us % 1000000) * 1000;
	nanosleep(&nap, NULL);
	s->busy_waited_us += us;
	return 1;
}

struct store *store_open(const char *path, long busy_timeout_ms,
			 char **error_r, bool *transient_r)
{
	struct store *s = xcalloc(1, sizeof *s);
	int rc, persist = 1;

	*transient_r = false;
	pthread_once(&store_vfs_once, vfs_register);
	rc = sqlite3_open_v2(path, &s->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			     SQLITE_OPEN_NOMUTEX,
			     store_vfs.zName != NULL ? STORE_VFS : NULL);
	if (rc != SQLITE_OK) {
		*error_r = xasprintf("cannot open database %s: %s", path,
				     s->db ? sqlite3_errmsg(s->db) :
				     sqlite3_errstr(rc));
		*transient_r = true;
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 1);
	s->busy_timeout_us = busy_timeout_ms * 1000;
	sqlite3_busy_handler(s->db, busy_wait, s);
	/* The WAL file is kept (emptied, not deleted) by whoever checkpoints
	 * on close: the next writer overwrites its blocks instead of creating
	 * and growing a file, so a commit's sync writes data, not metadata.
	 * journal_size_limit gives back what a burst made it grow to. */
	sqlite3_file_control(s->db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
	if (store_exec(s, "PRAGMA foreign_keys = ON") < 0 ||
	    store_exec(s, "PRAGMA journal_mode = WAL") < 0 ||
	    store_exec(s, "PRAGMA synchronous = FULL") < 0 ||
	    store_exec(s, "PRAGMA journal_size_limit = "
		       STORE_WAL_LIMIT_BYTES) < 0 ||
	    migrate(s) < 0) {
		*error_r = xasprintf("database %s: %s", path, store_error(s));
		*transient_r = s->transient;
		goto fail;
	}
	return s;
fail:
	store_close(&s);
	return NULL;
}

int store_set_fast_commits(struct store *s)
{
	return store_exec(s, "PRAGMA synchronous = NORMAL");
}

static int wal_hook(void *ctx, sqlite3 *db, const char *name, int frames)
{
	struct store *s = ctx;

	(void)db;
	(void)name;
	/* The WAL started afresh: nothing of it was reported yet. */
	if (frames < s->wal_frames)
		s->wal_told = 0;
	s->wal_frames = frames;
	return SQLITE_OK;
}

int store_leave_checkpoints(struct store *s)
{
	int rc = sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1,
				   NULL);

	if (rc != SQLITE_OK) {
		store_set_err(s, rc, "no checkpoint on close");
		return -1;
	}
	/* A message's savepoint journals the pages it changes: in memory,
	 * not in a temporary file made, written and removed per message. */
	if (store_exec(s, "PRAGMA temp_store = MEMORY") < 0)
		return -1;
	/* No checkpoint inside a commit: store_wal_tidy decides after it. */
	sqlite3_wal_hook(s->db, wal_hook, s);
	s->leave_ckpt = true;
	s->wal_tidy_frames = STORE_WAL_TIDY_FRAMES;
	return 0;
}

void store_wal_tidy_later(struct store *s)
{
	s->wal_tidy_frames = STORE_WAL_TIDY_LATE_FRAMES;
}

bool store_wal_grown(struct store *s)
{
	if (!s->leave_ckpt || s->wal_frames - s->wal_told <
	    STORE_WAL_TIDY_FRAMES)
		return false;
	s->wal_told = s->wal_frames;
	return true;
}

int store_wal_tidy(struct store *s)
{
	int frames = 0, done = 0, version;
	char sql[64];

	if (!s->leave_ckpt || s->wal_frames < s->wal_tidy_frames)
		return 0;
	/* Counted afresh from here, store_wal_grown's mark too: else, once
	 * the WAL starts afresh below, the mark stays past this threshold and
	 * store_wal_grown never says so again before it. */
	s->wal_frames = s->wal_told = 0;
	if (sqlite3_wal_checkpoint_v2(s->db, "main",
				      SQLITE_CHECKPOINT_PASSIVE, &frames,
				      &done) != SQLITE_OK ||
	    frames <= 0 || done < frames)
		return 0;       /* busy, or readers still on old frames */
	/* All of the WAL is in the database file now. The process that
	 * opens the database when no other has it open rebuilds its index
	 * from the WAL file and would take every frame still in it for new:
	 * a small write starts the file afresh (a new salt makes the old
	 * frames invalid), without truncating it, so that later commits
	 * overwrite blocks instead of growing the file. */
	if (store_schema_version(s, &version) < 0)
		return -1;
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d", version);
	if (store_begin(s) < 0)
		return -1;
	if (store_exec(s, sql) < 0 || store_commit(s) < 0) {
		store_rollback(s);
		return -1;
	}
	return 0;
}

void store_forget_failed_commit(struct store *s)
{
	/* A commit whose sync failed may have left whole frames in the WAL
	 * that no wal-index names: the shared index of the processes still
	 * open ignores them and the next writer overwrites them, but a
	 * process that opens the database alone rebuilds the index from the
	 * file and would take them for committed. The last one to close
	 * checkpoints what is committed and empties the file instead. */
	(void)sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 0,
				NULL);
}

int store_checkpoint(struct store *s, int *frames_r, int *done_r)
{
	int frames = 0, done = 0;
	int rc = sqlite3_wal_checkpoint_v2(s->db, "main",
					   SQLITE_CHECKPOINT_PASSIVE, &frames,
					   &done);

	/* BUSY: another checkpoint is running; it does the same work. */
	if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY) {
		store_set_err(s, rc, "checkpoint");
		return -1;
	}
	if (frames_r != NULL)
		*frames_r = frames;
	if (done_r != NULL)
		*done_r = done;
	return 0;
}

int store_savepoint(struct store *s)
{
	/* Index rows deferred before the savepoint are not undone with it. */
	if (s->nfts > 0 && store_fts_flush(s) < 0)
		return -1;
	return store_exec(s, "SAVEPOINT one");
}

int store_release(struct store *s)
{
	return store_exec(s, "RELEASE one");
}

bool store_rollback_savepoint(struct store *s)
{
	/* A failure that ended the whole transaction (SQLite rolls back by
	 * itself after some I/O errors and a full disk) leaves nothing to
	 * return to: the caller's transaction is gone too. */
	store_fts_drop(s);
	if (sqlite3_get_autocommit(s->db))
		return false;
	if (sqlite3_exec(s->db, "ROLLBACK TO one", NULL, NULL, NULL) !=
	    SQLITE_OK ||
	    sqlite3_exec(s->db, "RELEASE one", NULL, NULL, NULL) != SQLITE_OK)
		return false;
	return !sqlite3_get_autocommit(s->db);
}

bool store_in_transaction(const struct store *s)
{
	return !sqlite3_get_autocommit(s->db);
}

static struct store *left_for_exit;

void store_close_at_exit(struct store **sp)
{
	store_close(&left_for_exit);
	left_for_exit = *sp;
	*sp = NULL;
}

void store_close(struct store **sp)
{
	struct store *s = *sp;

	if (s == NULL)
		return;
	store_cache_free(s);
	store_fts_drop(s);
	free(s->fts_rows);
	if (s->db != NULL)
		sqlite3_close(s->db);
	free(s->err);
	free(s);
	*sp = NULL;
}
