/* store - the one SQLite database: schema, migrations, statements */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "store.h"
#include "xalloc.h"
#include "log.h"
#include "util.h"

#define STMT_CACHE 64

struct stmt_slot {
	const char *sql;        /* the literal's address is the key */
	sqlite3_stmt *stmt;
};

struct store {
	sqlite3 *db;
	char *err;
	bool transient;
	struct stmt_slot cache[STMT_CACHE];
	size_t ncache;
};

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

static void set_err(struct store *s, int rc, const char *what)
{
	free(s->err);
	s->err = xasprintf("%s: %s", what, s->db ? sqlite3_errmsg(s->db) :
			   sqlite3_errstr(rc));
	s->transient = rc_transient(rc);
}

const char *store_error(const struct store *s)
{
	return s->err ? s->err : "no error";
}

bool store_transient(const struct store *s)
{
	return s->transient;
}

/* A cached prepared statement for the SQL literal `sql`, reset and with its
 * bindings cleared. */
static sqlite3_stmt *prep(struct store *s, const char *sql)
{
	size_t i;
	int rc;
	sqlite3_stmt *st;

	for (i = 0; i < s->ncache; i++) {
		if (s->cache[i].sql == sql) {
			sqlite3_reset(s->cache[i].stmt);
			sqlite3_clear_bindings(s->cache[i].stmt);
			return s->cache[i].stmt;
		}
	}
	rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
				&st, NULL);
	if (rc != SQLITE_OK) {
		set_err(s, rc, "prepare");
		return NULL;
	}
	if (s->ncache < STMT_CACHE) {
		s->cache[s->ncache].sql = sql;
		s->cache[s->ncache].stmt = st;
		s->ncache++;
	} else {
		log_fatal("store: statement cache full");
	}
	return st;
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
}

static char *col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? xstrdup((const char *)t) : NULL;
}

/* Steps a statement that returns no row. */
static int step_done(struct store *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	if (rc != SQLITE_DONE) {
		set_err(s, rc, what);
		sqlite3_reset(st);
		return -1;
	}
	sqlite3_reset(st);
	return 0;
}

static int exec(struct store *s, const char *sql)
{
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK) {
		set_err(s, rc, sql);
		return -1;
	}
	return 0;
}

int store_begin(struct store *s)
{
	return exec(s, "BEGIN IMMEDIATE");
}

int store_commit(struct store *s)
{
	return exec(s, "COMMIT");
}

void store_rollback(struct store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

int store_schema_version(struct store *s, int *version_r)
{
	sqlite3_stmt *st = prep(s, "PRAGMA user_version");
	int rc;

	if (st == NULL)
		return -1;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		set_err(s, rc, "user_version");
		sqlite3_reset(st);
		return -1;
	}
	*version_r = sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	return 0;
}

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
	if (version < 1) {
		for (i = 0; i < sizeof schema_v1 / sizeof schema_v1[0]; i++)
			if (exec(s, schema_v1[i]) < 0)
				goto fail;
	}
	if (version < STORE_SCHEMA_VERSION) {
		snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d",
			 STORE_SCHEMA_VERSION);
		if (exec(s, pragma) < 0)
			goto fail;
	}
	return store_commit(s);
fail:
	store_rollback(s);
	return -1;
}

struct store *store_open(const char *path, long busy_timeout_ms,
			 char **error_r, bool *transient_r)
{
	struct store *s = xcalloc(1, sizeof *s);
	int rc;

	*transient_r = false;
	rc = sqlite3_open_v2(path, &s->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			     SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		*error_r = xasprintf("cannot open database %s: %s", path,
				     s->db ? sqlite3_errmsg(s->db) :
				     sqlite3_errstr(rc));
		*transient_r = true;
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, (int)busy_timeout_ms);
	if (exec(s, "PRAGMA foreign_keys = ON") < 0 ||
	    exec(s, "PRAGMA journal_mode = WAL") < 0 ||
	    exec(s, "PRAGMA synchronous = FULL") < 0 ||
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

void store_close(struct store **sp)
{
	struct store *s = *sp;
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->ncache; i++)
		sqlite3_finalize(s->cache[i].stmt);
	if (s->db != NULL)
		sqlite3_close(s->db);
	free(s->err);
	free(s);
	*sp = NULL;
}

/* ---- members ---- */

static const char *const mode_names[] = {
	"immediate", "digest", "digest-plain", "nomail"
};
static const char *const status_names[] = { "active", "disabled", "pending" };

const char *store_mode_name(enum store_mode m)
{
	return (unsigned)m < 4 ? mode_names[m] : "immediate";
}

int store_mode_parse(const char *str, enum store_mode *m_r)
{
	int i;

	for (i = 0; i < 4; i++) {
		if (strcmp(str, mode_names[i]) == 0) {
			*m_r = (enum store_mode)i;
			return 0;
		}
	}
	return -1;
}

const char *store_member_status_name(enum store_member_status st)
{
	return (unsigned)st < 3 ? status_names[st] : "active";
}

int store_member_status_parse(const char *str, enum store_member_status *st_r)
{
	int i;

	for (i = 0; i < 3; i++) {
		if (strcmp(str, status_names[i]) == 0) {
			*st_r = (enum store_member_status)i;
			return 0;
		}
	}
	return -1;
}

void store_member_clear(struct store_member *m)
{
	xfree(&m->list);
	xfree(&m->address);
	xfree(&m->name);
}

int store_member_add(struct store *s, const char *list, const char *address,
		     const char *name, enum store_mode mode, bool *added_r)
{
	static const char sql[] =
		"INSERT INTO members (list, address, display_name, mode,"
		" subscribed_at) VALUES (?, ?, ?, ?, ?)"
		" ON CONFLICT (list, address) DO NOTHING";
	sqlite3_stmt *st = prep(s, sql);

	if (st == NULL)
		return -1;
	bind_text(st, 1, list);
	bind_text(st, 2, address);
	bind_text(st, 3, name);
	bind_text(st, 4, store_mode_name(mode));
	sqlite3_bind_int64(st, 5, (sqlite3_int64)util_now());
	if (step_done(s, st, "add member") < 0)
		return -1;
	*added_r = sqlite3_changes(s->db) > 0;
	return 0;
}

int store_member_remove(struct store *s, const char *list, const char *address,
			bool *removed_r)
{
	static const char sql[] =
		"DELETE FROM members WHERE list = ? AND address = ?";
	sqlite3_stmt *st = prep(s, sql);

	if (st == NULL)
		return -1;
	bind_text(st, 1, list);
	bind_text(st, 2, address);
	if (step_done(s, st, "remove member") < 0)
		return -1;
	*removed_r = sqlite3_changes(s->db) > 0;
	return 0;
}

#define MEMBER_COLS "id, list, address, display_name, mode, status," \
	" moderated, bounce_score, subscribed_at"

static void member_from_row(sqlite3_stmt *st, struct store_member *m)
{
	char *mode, *status;

	m->id = sqlite3_column_int64(st, 0);
	m->list = col_text(st, 1);
	m->address = col_text(st, 2);
	m->name = col_text(st, 3);
	mode = col_text(st, 4);
	status = col_text(st, 5);
	if (mode == NULL || store_mode_parse(mode, &m->mode) < 0)
		m->mode = MODE_IMMEDIATE;
	if (status == NULL || store_member_status_parse(status, &m->status) < 0)
		m->status = MEMBER_ACTIVE;
	free(mode);
	free(status);
	m->moderated = sqlite3_column_int(st, 6) != 0;
	m->bounce_score = sqlite3_column_double(st, 7);
	m->subscribed_at = (time_t)sqlite3_column_int64(st, 8);
}

int store_member_get(struct store *s, const char *list, const char *address,
		     struct store_member *m, bool *found_r)
{
	static const char sql[] = "SELECT " MEMBER_COLS
		" FROM members WHERE list = ? AND address = ?";
	sqlite3_stmt *st = prep(s, sql);
	int rc;

	if (st == NULL)
		return -1;
	bind_text(st, 1, list);
	bind_text(st, 2, address);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		member_from_row(st, m);
		*found_r = true;
	} else if (rc == SQLITE_DONE) {
		*found_r = false;
	} else {
		set_err(s, rc, "get member");
		sqlite3_reset(st);
		return -1;
	}
	sqlite3_reset(st);
	return 0;
}

int store_member_set_mode(struct store *s, const char *list,
			  const char *address, enum store_mode mode,
			  bool *found_r)
{
	static const char sql[] =
		"UPDATE members SET mode = ? WHERE list = ? AND address = ?";
	sqlite3_stmt *st = prep(s, sql);

	if (st == NULL)
		return -1;
	bind_text(st, 1, store_mode_name(mode));
	bind_text(st, 2, list);
	bind_text(st, 3, address);
	if (step_done(s, st, "set mode") < 0)
		return -1;
	*found_r = sqlite3_changes(s->db) > 0;
	return 0;
}

static int count_query(struct store *s, sqlite3_stmt *st, int64_t *count_r,
		       const char *what)
{
	int rc = sqlite3_step(st);

	if (rc != SQLITE_ROW) {
		set_err(s, rc, what);
		sqlite3_reset(st);
		return -1;
	}
	*count_r = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return 0;
}

int store_member_count(struct store *s, const char *list, int64_t *count_r)
{
	static const char sql[] = "SELECT count(*) FROM members WHERE list = ?";
	sqlite3_stmt *st = prep(s, sql);

	if (st == NULL)
		return -1;
	bind_text(st, 1, list);
	return count_query(s, st, count_r, "count members");
}

int store_recipients_count(struct store *s, const char *list, int64_t *count_r)
{
	static const char sql[] = "SELECT count(*) FROM members WHERE list = ?"
		" AND status = 'active' AND mode = 'immediate'";
	sqlite3_stmt *st = prep(s, sql);

	if (st == NULL)
		return -1;
	bind_text(st, 1, list);
	return count_query(s, st, count_r, "count recipients");
}

int store_member_foreach(struct store *s, const char *list,
			 int (*fn)(const struct store_member *m, void *ctx),
			 void *ctx)
{
	/* Not the cached statement: fn may call back into the store. */
	static const char sql[] = "SELECT " MEMBER_COLS
		" FROM members WHERE list = ? ORDER BY id";
	sqlite3_stmt *st;
	int rc, ret = 0;

	rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		set_err(s, rc, "list members");
		return -1;
	}
	bind_text(st, 1, list);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_member m = { 0 };

		member_from_row(st, &m);
		ret = fn(&m, ctx);
		store_member_clear(&m);
		if (ret != 0)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE) {
		set_err(s, rc, "list members");
		ret = -1;
	}
	sqlite3_finalize(st);
	return ret;
}

int store_recipients_next(struct store *s, const char *list, int64_t after,
			  size_t max, char ***addrs_r, size_t *n_r,
			  int64_t *last_id_r)
{
	static const char sql[] =
		"SELECT id, address FROM members WHERE list = ? AND id > ?"
		" AND status = 'active' AND mode = 'immediate'"
		" ORDER BY id LIMIT ?";
	sqlite3_stmt *st = prep(s, sql);
	char **v;
	size_t n = 0;
	int rc;

	*addrs_r = NULL;
	*n_r = 0;
	*last_id_r = after;
	if (st == NULL)
		return -1;
	v = xcalloc(max + 1, sizeof *v);
	bind_text(st, 1, list);
	sqlite3_bind_int64(st, 2, after);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*last_id_r = sqlite3_column_int64(st, 0);
		v[n++] = col_text(st, 1);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		set_err(s, rc, "read recipients");
		store_strv_free(&v, n);
		return -1;
	}
	*addrs_r = v;
	*n_r = n;
	return 0;
}

void store_strv_free(char ***vp, size_t n)
{
	size_t i;

	if (*vp == NULL)
		return;
	for (i = 0; i < n; i++)
		free((*vp)[i]);
	xfree(vp);
}

/* ---- messages, archive, holds ---- */

static int insert_id(struct store *s, sqlite3_stmt *st, const char *what,
		     int64_t *id_r)
{
	if (step_done(s, st, what) < 0)
		return -1;
	if (id_r != NULL)
		*id_r = sqlite3_last_insert_rowid(s->db);
	return 0;
}

int store_message_add(struct store *s, const char *raw, size_t len,
		      int64_t *id_r)
{
	static const char sql[] =
		"INSERT INTO messages (raw, received_at) VALUES (?, ?)";
	sqlite3_stmt *st = prep(s, sql);

	if (st == NULL)
		return -1;
	sqlite3_bind_blob64(st, 1, raw, len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)util_now());
	return insert_id(s, st, "store message", id_r);
}

static int get_blob(struct store *s, sqlite3_stmt *st, const char *what,
		    char **data_r, size_t *len_r)
{
	int rc = sqlite3_step(st);
	const void *p;
	size_t n;

	if (rc != SQLITE_ROW) {
		if (rc == SQLITE_DONE) {
			free(s->err);
			s->err = xasprintf("%s: not found", what);
			s->transient = false;
		} else {
			set_err(s, rc, what);
		}
		sqlite3_reset(st);
		return -1;
	}
	p = sqlite3_column_blob(st, 0);
	n = (size_t)sqlite3_column_bytes(st, 0);
	*data_r = xmalloc(n + 1);
	if (n)
		memcpy(*data_r, p, n);
	(*data_r)[n] = '\0';
	*len_r = n;
	sqlite3_reset(st);
	return 0;
}

int store_message_get(struct store *s, int64_t id, char **raw_r,
		      size_t *len_r)
{
	static const char sql[] = "SELECT raw FROM messages WHERE id = ?";
	sqlite3_stmt *st = prep(s, sql);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	return get_blob(s, st, "read message", raw_r, len_r);
}

/* The archive row and thread of the post whose Message-ID is mid. */
static int find_by_mid(struct store *s, const char *list, const char *mid,
		       int64_t *id_r, int64_t *thread_r)
{
	static const char sql[] =
		"SELECT id, thread FROM archive WHERE list = ? AND message_id = ?";
	sqlite3_stmt *st = prep(s, sql);
	int rc;

	*id_r = 0;
	if (st == NULL)
		return -1;
	bind_text(st, 1, list);
	bind_text(st, 2, mid);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*id_r = sqlite3_column_int64(st, 0);
		*thread_r = sqlite3_column_int64(st, 1);
	} else if (rc != SQLITE_DONE) {
		set_err(s, rc, "find parent");
		sqlite3_reset(st);
		return -1;
	}
	sqlite3_reset(st);
	return 0;
}

int store_archive_add(struct store *s, const struct store_post *p,
		      int64_t *id_r)
{
	static const char sql[] =
		"INSERT INTO archive (list, message, message_id, date, sender,"
		" sender_name, subject, in_reply_to, parent, thread,"
		" archived_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
	static const char sql_thread[] =
		"UPDATE archive SET thread = id WHERE id = ?";
	static const char sql_adopt[] =
		"UPDATE archive SET parent = ?1, thread = ?2"
		" WHERE list = ?3 AND parent IS NULL AND id <> ?1"
		" AND (in_reply_to = ?4 OR id IN (SELECT archive FROM"
		" archive_refs WHERE message_id = ?4))";
	static const char sql_ref[] =
		"INSERT INTO archive_refs (archive, position, message_id)"
		" VALUES (?, ?, ?)";
	sqlite3_stmt *st;
	int64_t parent = 0, thread = 0, id;
	size_t i, nrefs = 0;

	/* The parent: In-Reply-To first, else the newest known reference. */
	if (p->in_reply_to != NULL &&
	    find_by_mid(s, p->list, p->in_reply_to, &parent, &thread) < 0)
		return -1;
	if (p->references != NULL)
		while (p->references[nrefs] != NULL)
			nrefs++;
	for (i = nrefs; parent == 0 && i > 0; i--)
		if (find_by_mid(s, p->list, p->references[i - 1], &parent,
				&thread) < 0)
			return -1;

	st = prep(s, sql);
	if (st == NULL)
		return -1;
	bind_text(st, 1, p->list);
	sqlite3_bind_int64(st, 2, p->message);
	bind_text(st, 3, p->message_id);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)p->date);
	bind_text(st, 5, p->sender);
	bind_text(st, 6, p->sender_name);
	bind_text(st, 7, p->subject);
	bind_text(st, 8, p->in_reply_to);
	if (parent)
		sqlite3_bind_int64(st, 9, parent);
	else
		sqlite3_bind_null(st, 9);
	if (thread)
		sqlite3_bind_int64(st, 10, thread);
	else
		sqlite3_bind_null(st, 10);
	sqlite3_bind_int64(st, 11, (sqlite3_int64)util_now());
	if (insert_id(s, st, "archive post", &id) < 0)
		return -1;
	if (!parent) {
		thread = id;
		st = prep(s, sql_thread);
		if (st == NULL)
			return -1;
		sqlite3_bind_int64(st, 1, id);
		if (step_done(s, st, "start thread") < 0)
			return -1;
	}
	for (i = 0; i < nrefs; i++) {
		st = prep(s, sql_ref);
		if (st == NULL)
			return -1;
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
		bind_text(st, 3, p->references[i]);
		if (step_done(s, st, "archive references") < 0)
			return -1;
	}
	/* Replies that arrived before this post (out of order) were roots of
	 * their own: link them to it. Their own replies keep their old
	 * thread id; a full re-thread belongs to the archive tools. */
	st = prep(s, sql_adopt);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, thread);
	bind_text(st, 3, p->list);
	bind_text(st, 4, p->message_id);
	if (step_done(s, st, "adopt replies") < 0)
		return -1;
	*id_r = id;
	return 0;
}

int store_archive_has(struct store *s, const char *list,
		      const char *message_id, bool *found_r)
{
	int64_t id = 0, thread = 0;

	if (find_by_mid(s, list, message_id, &id, &thread) < 0)
		return -1;
	*found_r = id != 0;
	return 0;
}

int store_archive_get(struct store *s, int64_t id, struct store_archived *a,
		      bool *found_r)
{
	static const char sql[] =
		"SELECT id, message, coalesce(parent, 0), coalesce(thread, 0),"
		" message_id, sender, subject, date FROM archive WHERE id = ?";
	sqlite3_stmt *st = prep(s, sql);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	*found_r = rc == SQLITE_ROW;
	if (rc == SQLITE_ROW) {
		a->id = sqlite3_column_int64(st, 0);
		a->message = sqlite3_column_int64(st, 1);
		a->parent = sqlite3_column_int64(st, 2);
		a->thread = sqlite3_column_int64(st, 3);
		a->message_id = col_text(st, 4);
		a->sender = col_text(st, 5);
		a->subject = col_text(st, 6);
		a->date = (time_t)sqlite3_column_int64(st, 7);
	} else if (rc != SQLITE_DONE) {
		set_err(s, rc, "read archive");
		sqlite3_reset(st);
		return -1;
	}
	sqlite3_reset(st);
	return 0;
}

void store_archived_clear(struct store_archived *a)
{
	xfree(&a->message_id);
	xfree(&a->sender);
	xfree(&a->subject);
}

int store_hold_add(struct store *s, const char *list, int64_t message,
		   const char *sender, const char *subject,
		   const char *message_id, const char *reason, int64_t *id_r)
{
	static const char sql[] =
		"INSERT INTO holds (list, message, sender, subject, message_id,"
		" reason, held_at) VALUES (?, ?, ?, ?, ?, ?, ?)";
	sqlite3_stmt *st = prep(s, sql);

	if (st == NULL)
		return -1;
	bind_text(st, 1, list);
	sqlite3_bind_int64(st, 2, message);
	bind_text(st, 3, sender);
	bind_text(st, 4, subject);
	bind_text(st, 5, message_id);
	bind_text(st, 6, reason);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)util_now());
	return insert_id(s, st, "hold post", id_r);
}

int store_hold_count(struct store *s, const char *list, int64_t *count_r)
{
	static const char sql[] =
		"SELECT count(*) FROM holds WHERE list = ? AND state = 'held'";
	sqlite3_stmt *st = prep(s, sql);

	if (st == NULL)
		return -1;
	bind_text(st, 1, list);
	return count_query(s, st, count_r, "count holds");
}

int store_inbox_add(struct store *s, const char *list, const char *kind,
		    const char *extension, int64_t message, const char *sender)
{
	static const char sql[] =
		"INSERT INTO inbox (list, kind, extension, message, sender,"
		" received_at) VALUES (?, ?, ?, ?, ?, ?)";
	sqlite3_stmt *st = prep(s, sql);

	if (st == NULL)
		return -1;
	bind_text(st, 1, list);
	bind_text(st, 2, kind);
	bind_text(st, 3, extension);
	sqlite3_bind_int64(st, 4, message);
	bind_text(st, 5, sender);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)util_now());
	return insert_id(s, st, "keep mail", NULL);
}

int store_event_add(struct store *s, const char *list, const char *kind,
		    const char *actor, int64_t ref, const char *detail)
{
	static const char sql[] =
		"INSERT INTO events (list, at, kind, actor, ref, detail)"
		" VALUES (?, ?, ?, ?, ?, ?)";
	sqlite3_stmt *st = prep(s, sql);

	if (st == NULL)
		return -1;
	bind_text(st, 1, list);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)util_now());
	bind_text(st, 3, kind);
	bind_text(st, 4, actor);
	if (ref)
		sqlite3_bind_int64(st, 5, ref);
	else
		sqlite3_bind_null(st, 5);
	bind_text(st, 6, detail);
	return insert_id(s, st, "log event", NULL);
}

/* ---- delivery jobs ---- */

void store_job_clear(struct store_job *j)
{
	xfree(&j->list);
	xfree(&j->env_from);
	xfree(&j->last_error);
}

int store_job_add(struct store *s, const char *list, enum store_job_kind kind,
		  int64_t archive, const char *env_from, const char *data,
		  size_t len, const char *const *rcpts, size_t n,
		  int64_t *id_r)
{
	static const char sql[] =
		"INSERT INTO jobs (list, kind, archive, data, env_from,"
		" members_done, total, next_attempt, created_at)"
		" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
	sqlite3_stmt *st;
	int64_t total = (int64_t)n, id;
	time_t now = util_now();
	size_t i;

	if (kind == JOB_POST && store_recipients_count(s, list, &total) < 0)
		return -1;
	st = prep(s, sql);
	if (st == NULL)
		return -1;
	bind_text(st, 1, list);
	bind_text(st, 2, kind == JOB_POST ? "post" : "direct");
	if (archive)
		sqlite3_bind_int64(st, 3, archive);
	else
		sqlite3_bind_null(st, 3);
	sqlite3_bind_blob64(st, 4, data, len, SQLITE_STATIC);
	bind_text(st, 5, env_from);
	sqlite3_bind_int(st, 6, kind == JOB_DIRECT);
	sqlite3_bind_int64(st, 7, total);
	sqlite3_bind_int64(st, 8, (sqlite3_int64)now);
	sqlite3_bind_int64(st, 9, (sqlite3_int64)now);
	if (insert_id(s, st, "queue job", &id) < 0)
		return -1;
	for (i = 0; i < n; i++)
		if (store_job_rcpt_add(s, id, rcpts[i], RCPT_QUEUED, 0, 0, 0,
				       NULL) < 0)
			return -1;
	if (id_r != NULL)
		*id_r = id;
	return 0;
}

int store_job_next_due(struct store *s, time_t now, int64_t after,
		       struct store_job *j, bool *found_r)
{
	/* A job is due when its member stream has work and it is not
	 * deferred, or when one of its recipients is due. */
	static const char sql[] =
		"SELECT id, list, kind, coalesce(archive, 0), env_from, cursor,"
		" members_done, sent, total, attempts, next_attempt, last_error"
		" FROM jobs WHERE state = 'queued' AND id > ?2 AND"
		" ((members_done = 0 AND next_attempt <= ?1) OR EXISTS"
		"  (SELECT 1 FROM job_rcpts r WHERE r.job = jobs.id AND"
		"   r.state IN ('queued','retry') AND r.next_attempt <= ?1))"
		" ORDER BY id LIMIT 1";
	sqlite3_stmt *st = prep(s, sql);
	int rc;
	char *kind;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)now);
	sqlite3_bind_int64(st, 2, after);
	rc = sqlite3_step(st);
	*found_r = rc == SQLITE_ROW;
	if (rc == SQLITE_ROW) {
		j->id = sqlite3_column_int64(st, 0);
		j->list = col_text(st, 1);
		kind = col_text(st, 2);
		j->kind = kind && strcmp(kind, "direct") == 0 ? JOB_DIRECT :
			  JOB_POST;
		free(kind);
		j->archive = sqlite3_column_int64(st, 3);
		j->env_from = col_text(st, 4);
		j->cursor = sqlite3_column_int64(st, 5);
		j->members_done = sqlite3_column_int(st, 6) != 0;
		j->sent = sqlite3_column_int64(st, 7);
		j->total = sqlite3_column_int64(st, 8);
		j->attempts = sqlite3_column_int(st, 9);
		j->next_attempt = (time_t)sqlite3_column_int64(st, 10);
		j->last_error = col_text(st, 11);
	} else if (rc != SQLITE_DONE) {
		set_err(s, rc, "next job");
		sqlite3_reset(st);
		return -1;
	}
	sqlite3_reset(st);
	return 0;
}

int store_job_data(struct store *s, int64_t id, char **data_r, size_t *len_r)
{
	static const char sql[] = "SELECT data FROM jobs WHERE id = ?";
	sqlite3_stmt *st = prep(s, sql);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	return get_blob(s, st, "read job", data_r, len_r);
}

int store_job_progress(struct store *s, int64_t id, int64_t cursor,
		       int64_t sent_delta, bool members_done)
{
	static const char sql[] =
		"UPDATE jobs SET cursor = ?, sent = sent + ?, members_done = ?,"
		" attempts = 0, last_error = NULL WHERE id = ?";
	sqlite3_stmt *st = prep(s, sql);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, cursor);
	sqlite3_bind_int64(st, 2, sent_delta);
	sqlite3_bind_int(st, 3, members_done);
	sqlite3_bind_int64(st, 4, id);
	return step_done(s, st, "job progress");
}

int store_job_defer(struct store *s, int64_t id, time_t next_attempt,
		    const char *error)
{
	static const char sql[] =
		"UPDATE jobs SET attempts = attempts + 1, next_attempt = ?,"
		" last_error = ? WHERE id = ?";
	sqlite3_stmt *st = prep(s, sql);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)next_attempt);
	bind_text(st, 2, error);
	sqlite3_bind_int64(st, 3, id);
	return step_done(s, st, "defer job");
}

int store_job_finish_if_done(struct store *s, int64_t id, bool *done_r)
{
	static const char sql[] =
		"UPDATE jobs SET state = 'done', done_at = ?2 WHERE id = ?1"
		" AND members_done = 1 AND NOT EXISTS (SELECT 1 FROM job_rcpts"
		" WHERE job = ?1 AND state IN ('queued','retry'))";
	sqlite3_stmt *st = prep(s, sql);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)util_now());
	if (step_done(s, st, "finish job") < 0)
		return -1;
	*done_r = sqlite3_changes(s->db) > 0;
	return 0;
}

static const char *const rcpt_state_names[] = {
	"queued", "retry", "done", "failed"
};

int store_job_rcpt_add(struct store *s, int64_t job, const char *address,
		       enum store_rcpt_state rst, int attempts,
		       time_t next_attempt, int code, const char *error)
{
	static const char sql[] =
		"INSERT INTO job_rcpts (job, address, state, attempts,"
		" next_attempt, last_code, last_error)"
		" VALUES (?, ?, ?, ?, ?, ?, ?)";
	sqlite3_stmt *st = prep(s, sql);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, job);
	bind_text(st, 2, address);
	bind_text(st, 3, rcpt_state_names[rst]);
	sqlite3_bind_int(st, 4, attempts);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)next_attempt);
	if (code)
		sqlite3_bind_int(st, 6, code);
	else
		sqlite3_bind_null(st, 6);
	bind_text(st, 7, error);
	return step_done(s, st, "add recipient");
}

int store_job_rcpts_due(struct store *s, int64_t job, time_t now, size_t max,
			struct store_rcpt **v_r, size_t *n_r)
{
	static const char sql[] =
		"SELECT id, address, attempts FROM job_rcpts WHERE job = ?"
		" AND state IN ('queued','retry') AND next_attempt <= ?"
		" ORDER BY id LIMIT ?";
	sqlite3_stmt *st = prep(s, sql);
	struct store_rcpt *v;
	size_t n = 0;
	int rc;

	*v_r = NULL;
	*n_r = 0;
	if (st == NULL)
		return -1;
	v = xcalloc(max + 1, sizeof *v);
	sqlite3_bind_int64(st, 1, job);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)now);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		v[n].id = sqlite3_column_int64(st, 0);
		v[n].address = col_text(st, 1);
		v[n].attempts = sqlite3_column_int(st, 2);
		n++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		set_err(s, rc, "read recipients");
		store_rcpts_free(&v, n);
		return -1;
	}
	*v_r = v;
	*n_r = n;
	return 0;
}

void store_rcpts_free(struct store_rcpt **vp, size_t n)
{
	size_t i;

	if (*vp == NULL)
		return;
	for (i = 0; i < n; i++)
		free((*vp)[i].address);
	xfree(vp);
}

int store_job_rcpt_update(struct store *s, int64_t rcpt,
			  enum store_rcpt_state rst, int attempts,
			  time_t next_attempt, int code, const char *error)
{
	static const char sql[] =
		"UPDATE job_rcpts SET state = ?, attempts = ?, next_attempt = ?,"
		" last_code = ?, last_error = ? WHERE id = ?";
	sqlite3_stmt *st = prep(s, sql);

	if (st == NULL)
		return -1;
	bind_text(st, 1, rcpt_state_names[rst]);
	sqlite3_bind_int(st, 2, attempts);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)next_attempt);
	sqlite3_bind_int(st, 4, code);
	bind_text(st, 5, error);
	sqlite3_bind_int64(st, 6, rcpt);
	return step_done(s, st, "update recipient");
}

int store_job_rcpt_next_time(struct store *s, int64_t job, time_t *t_r)
{
	static const char sql[] =
		"SELECT coalesce(min(next_attempt), 0) FROM job_rcpts"
		" WHERE job = ? AND state IN ('queued','retry')";
	sqlite3_stmt *st = prep(s, sql);
	int64_t t;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, job);
	if (count_query(s, st, &t, "next retry") < 0)
		return -1;
	*t_r = (time_t)t;
	return 0;
}

int store_job_foreach(struct store *s,
		      int (*fn)(const struct store_job_info *j, void *ctx),
		      void *ctx)
{
	static const char sql[] =
		"SELECT id, list, state, sent, total, attempts, next_attempt,"
		" last_error,"
		" (SELECT count(*) FROM job_rcpts r WHERE r.job = jobs.id AND"
		"  r.state IN ('queued','retry')),"
		" (SELECT count(*) FROM job_rcpts r WHERE r.job = jobs.id AND"
		"  r.state = 'failed')"
		" FROM jobs WHERE state <> 'done' ORDER BY id";
	sqlite3_stmt *st;
	int rc, ret = 0;

	rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		set_err(s, rc, "list jobs");
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_job_info j = { 0 };

		j.id = sqlite3_column_int64(st, 0);
		j.list = col_text(st, 1);
		j.state = col_text(st, 2);
		j.sent = sqlite3_column_int64(st, 3);
		j.total = sqlite3_column_int64(st, 4);
		j.attempts = sqlite3_column_int(st, 5);
		j.next_attempt = (time_t)sqlite3_column_int64(st, 6);
		j.last_error = col_text(st, 7);
		j.waiting = sqlite3_column_int64(st, 8);
		j.failed = sqlite3_column_int64(st, 9);
		ret = fn(&j, ctx);
		free(j.list);
		free(j.state);
		free(j.last_error);
		if (ret != 0)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE) {
		set_err(s, rc, "list jobs");
		ret = -1;
	}
	sqlite3_finalize(st);
	return ret;
}
