/* store_threads - the archive's thread tree, threads, and curation */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "store/store.h"
#include "store/store_archive.h"
#include "store_int.h"
#include "base/util.h"
#include "base/xalloc.h"

/* The schema step for the archive (see migrations in store.c): the thread
 * tree with ghosts, threads with their counts, the full-text index, the
 * FAQ and tags. Posts archived before this step are carried over with the
 * links they had (`convene archive LIST rebuild` threads and indexes them
 * again from the stored messages). */
const char *const store_schema_archive[] = {
	"CREATE TABLE thread_nodes ("
	"  id INTEGER PRIMARY KEY,"
	"  list TEXT NOT NULL,"
	"  message_id TEXT NOT NULL,"
	"  archive INTEGER REFERENCES archive (id),"
	"  parent INTEGER REFERENCES thread_nodes (id),"
	"  thread INTEGER,"
	"  base_subject TEXT,"
	"  orphan_reply INTEGER NOT NULL DEFAULT 0,"
	"  UNIQUE (list, message_id))",
	"CREATE INDEX thread_nodes_children ON thread_nodes (parent)",
	"CREATE INDEX thread_nodes_by_thread ON thread_nodes (thread)",
	"CREATE INDEX thread_nodes_by_archive ON thread_nodes (archive)",
	"CREATE TABLE threads ("
	"  id INTEGER PRIMARY KEY,"
	"  list TEXT NOT NULL,"
	"  base_subject TEXT NOT NULL DEFAULT '',"
	"  subject TEXT,"
	"  first_date INTEGER NOT NULL DEFAULT 0,"
	"  last_date INTEGER NOT NULL DEFAULT 0,"
	"  messages INTEGER NOT NULL DEFAULT 0,"
	"  resolved_at INTEGER,"
	"  resolved_by TEXT)",
	"CREATE INDEX threads_by_date ON threads (list, last_date)",
	"CREATE INDEX threads_by_subject ON threads (list, base_subject,"
	" last_date)",
	"CREATE INDEX archive_by_date ON archive (list, date, id)",
	"CREATE VIRTUAL TABLE archive_fts USING fts5 (subject, sender, body,"
	" quoted, tokenize = 'porter unicode61 remove_diacritics 2')",
	"CREATE TABLE faq ("
	"  id INTEGER PRIMARY KEY,"
	"  list TEXT NOT NULL,"
	"  archive INTEGER NOT NULL REFERENCES archive (id),"
	"  title TEXT,"
	"  added_by TEXT,"
	"  added_at INTEGER NOT NULL,"
	"  UNIQUE (list, archive))",
	"CREATE INDEX faq_by_date ON faq (list, added_at)",
	"CREATE TABLE archive_tags ("
	"  archive INTEGER NOT NULL REFERENCES archive (id),"
	"  tag TEXT NOT NULL,"
	"  added_by TEXT,"
	"  added_at INTEGER NOT NULL,"
	"  PRIMARY KEY (archive, tag))",
	"CREATE INDEX archive_tags_by_tag ON archive_tags (tag)",
	/* What earlier versions archived: one node per post, its links. */
	"INSERT INTO thread_nodes (list, message_id, archive, thread)"
	" SELECT list, message_id, id, thread FROM archive",
	"UPDATE thread_nodes SET parent = (SELECT p.id FROM archive a"
	" JOIN thread_nodes p ON p.archive = a.parent"
	" WHERE a.id = thread_nodes.archive)",
	"INSERT INTO threads (id, list, subject, first_date, last_date,"
	" messages) SELECT thread, list, (SELECT f.subject FROM archive f"
	" WHERE f.thread = a.thread ORDER BY f.date, f.id LIMIT 1),"
	" min(date), max(date), count(*) FROM archive a"
	" WHERE thread IS NOT NULL GROUP BY thread",
};
const size_t store_schema_archive_n =
	sizeof store_schema_archive / sizeof store_schema_archive[0];

/* ---- nodes ---- */

#define NODE_COLUMNS \
	"id, coalesce(archive, 0), coalesce(parent, 0), coalesce(thread, 0)," \
	" orphan_reply"

static void node_from_row(sqlite3_stmt *st, struct store_node *n)
{
	n->id = sqlite3_column_int64(st, 0);
	n->archive = sqlite3_column_int64(st, 1);
	n->parent = sqlite3_column_int64(st, 2);
	n->thread = sqlite3_column_int64(st, 3);
	n->orphan_reply = sqlite3_column_int(st, 4) != 0;
}

/* Reads at most one node with the rows of r. */
static int one_node(struct store_rows *r, sqlite3_stmt *st,
		    struct store_node *n, bool *found_r)
{
	*found_r = false;
	if (store_rows_valid(r)) {
		node_from_row(st, n);
		*found_r = true;
	}
	return store_rows_end(r);
}

int store_node_find(struct store *s, const char *list, const char *mid,
		    struct store_node *n, bool *found_r)
{
	static const char sql[] = "SELECT " NODE_COLUMNS " FROM thread_nodes"
		" WHERE list = ? AND message_id = ?";
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "find thread node");

	store_bind(st, STORE_T(list), STORE_T(mid));
	return one_node(&r, st, n, found_r);
}

int store_node_get(struct store *s, int64_t id, struct store_node *n,
		   bool *found_r)
{
	static const char sql[] = "SELECT " NODE_COLUMNS " FROM thread_nodes"
		" WHERE id = ?";
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "read thread node");

	store_bind(st, STORE_I(id));
	return one_node(&r, st, n, found_r);
}

int store_node_add(struct store *s, const char *list, const char *mid,
		   struct store_node *n)
{
	static const char sql[] =
		"INSERT INTO thread_nodes (list, message_id) VALUES (?, ?)";
	sqlite3_stmt *st = store_prep(s, sql);

	if (st == NULL)
		return -1;
	store_bind(st, STORE_T(list), STORE_T(mid));
	memset(n, 0, sizeof *n);
	return store_insert_id(s, st, "add thread node", &n->id);
}

int store_node_delete(struct store *s, int64_t id)
{
	static const char sql[] =
		"DELETE FROM thread_nodes WHERE id = ?1 AND archive IS NULL"
		" AND NOT EXISTS (SELECT 1 FROM thread_nodes WHERE parent = ?1)";
	sqlite3_stmt *st = store_prep(s, sql);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	return store_step_done(s, st, "prune thread node");
}

static void bind_id_or_null(sqlite3_stmt *st, int i, int64_t v)
{
	if (v != 0)
		sqlite3_bind_int64(st, i, v);
	else
		sqlite3_bind_null(st, i);
}

int store_node_set_parent(struct store *s, int64_t id, int64_t parent)
{
	static const char sql[] =
		"UPDATE thread_nodes SET parent = ? WHERE id = ?";
	sqlite3_stmt *st = store_prep(s, sql);

	if (st == NULL)
		return -1;
	bind_id_or_null(st, 1, parent);
	sqlite3_bind_int64(st, 2, id);
	return store_step_done(s, st, "link thread node");
}

int store_node_set_archive(struct store *s, int64_t id, int64_t archive,
			   const char *base_subject, bool orphan_reply)
{
	static const char sql[] =
		"UPDATE thread_nodes SET archive = ?, base_subject = ?,"
		" orphan_reply = ? WHERE id = ?";
	return store_run(s, sql, "archive thread node", STORE_I(archive),
			 STORE_T(base_subject), STORE_I(orphan_reply ? 1 : 0),
			 STORE_I(id));
}

static int node_row(sqlite3_stmt *st, void *vec)
{
	node_from_row(st, store_vec_push(vec));
	return 0;
}

int store_node_tree(struct store *s, int64_t root, struct store_node **v_r,
		    size_t *n_r)
{
	/* UNION (not UNION ALL) drops a node seen before: a cycle ends. */
	static const char sql[] =
		"WITH RECURSIVE tree (id) AS (SELECT ?1 UNION"
		" SELECT n.id FROM thread_nodes n JOIN tree t ON n.parent = t.id"
		" LIMIT ?2)"
		" SELECT " NODE_COLUMNS " FROM thread_nodes"
		" WHERE id IN (SELECT id FROM tree)"
		" ORDER BY id = ?1 DESC, id";
	struct store_vec vec = STORE_VEC_INIT(struct store_node);
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "walk thread");
	int rc;

	store_bind(st, STORE_I(root), STORE_I(STORE_TREE_MAX));
	rc = store_rows_each(&r, node_row, &vec);
	*v_r = vec.v;
	*n_r = vec.n;
	if (rc < 0)
		xfree(v_r);
	return rc;
}

int store_nodes_set_thread(struct store *s, const int64_t *ids, size_t n,
			   int64_t thread)
{
	static const char sql_node[] =
		"UPDATE thread_nodes SET thread = ?1 WHERE id = ?2"
		" AND thread IS NOT ?1";
	static const char sql_archive[] =
		"UPDATE archive SET thread = ?1 WHERE id ="
		" (SELECT archive FROM thread_nodes WHERE id = ?2)"
		" AND thread IS NOT ?1";
	sqlite3_stmt *st;
	size_t i;

	for (i = 0; i < n; i++) {
		st = store_prep(s, sql_node);
		if (st == NULL)
			return -1;
		bind_id_or_null(st, 1, thread);
		sqlite3_bind_int64(st, 2, ids[i]);
		if (store_step_done(s, st, "set node thread") < 0)
			return -1;
		st = store_prep(s, sql_archive);
		if (st == NULL)
			return -1;
		bind_id_or_null(st, 1, thread);
		sqlite3_bind_int64(st, 2, ids[i]);
		if (store_step_done(s, st, "set message thread") < 0)
			return -1;
	}
	return 0;
}

int store_node_children_parent(struct store *s, int64_t node,
			       int64_t archive)
{
	/* Down through ghosts only: a real message below stops the walk. */
	static const char sql[] =
		"WITH RECURSIVE below (id, archive) AS ("
		" SELECT id, archive FROM thread_nodes WHERE parent = ?1"
		" UNION SELECT n.id, n.archive FROM thread_nodes n"
		" JOIN below b ON n.parent = b.id WHERE b.archive IS NULL"
		" LIMIT ?3)"
		" UPDATE archive SET parent = ?2 WHERE id IN"
		" (SELECT archive FROM below WHERE archive IS NOT NULL)";
	sqlite3_stmt *st = store_prep(s, sql);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, node);
	bind_id_or_null(st, 2, archive);
	sqlite3_bind_int64(st, 3, STORE_TREE_MAX);
	return store_step_done(s, st, "relink replies");
}

int store_node_declares(struct store *s, int64_t child, int64_t parent,
			bool *declared_r)
{
	static const char sql[] =
		"SELECT count(*) FROM thread_nodes c, thread_nodes p, archive a"
		" WHERE c.id = ?1 AND p.id = ?2 AND a.id = c.archive"
		" AND (a.in_reply_to = p.message_id OR EXISTS (SELECT 1 FROM"
		" archive_refs r WHERE r.archive = a.id"
		" AND r.message_id = p.message_id))";
	int64_t n;

	*declared_r = false;
	if (store_count(s, sql, "read references", &n, STORE_I(child),
			STORE_I(parent)) < 0)
		return -1;
	*declared_r = n > 0;
	return 0;
}

int store_archive_set_parent(struct store *s, int64_t archive,
			     int64_t parent)
{
	static const char sql[] = "UPDATE archive SET parent = ? WHERE id = ?";
	sqlite3_stmt *st = store_prep(s, sql);

	if (st == NULL)
		return -1;
	bind_id_or_null(st, 1, parent);
	sqlite3_bind_int64(st, 2, archive);
	return store_step_done(s, st, "set parent");
}

/* ---- threads ---- */

void store_thread_clear(struct store_thread *t)
{
	xfree(&t->subject);
	xfree(&t->resolved_by);
}

void store_threads_free(struct store_thread **v, size_t n)
{
	size_t i;

	if (*v == NULL)
		return;
	for (i = 0; i < n; i++)
		store_thread_clear(&(*v)[i]);
	xfree(v);
}

#define THREAD_COLUMNS \
	"id, subject, first_date, last_date, messages," \
	" coalesce(resolved_at, 0), resolved_by"

static void thread_from_row(sqlite3_stmt *st, struct store_thread *t)
{
	t->id = sqlite3_column_int64(st, 0);
	t->subject = store_col_text(st, 1);
	t->first_date = (time_t)sqlite3_column_int64(st, 2);
	t->last_date = (time_t)sqlite3_column_int64(st, 3);
	t->messages = sqlite3_column_int64(st, 4);
	t->resolved_at = (time_t)sqlite3_column_int64(st, 5);
	t->resolved_by = store_col_text(st, 6);
}

int store_thread_refresh(struct store *s, const char *list, int64_t id,
			 bool *alive_r)
{
	static const char sql_count[] =
		"SELECT count(*) FROM archive WHERE list = ? AND thread = ?";
	static const char sql_delete[] = "DELETE FROM threads WHERE id = ?";
	/* The first message gives the thread its subjects. */
	static const char sql_upsert[] =
		"INSERT INTO threads (id, list, base_subject, subject,"
		" first_date, last_date, messages)"
		" SELECT ?1, ?2,"
		" coalesce((SELECT n.base_subject FROM archive f JOIN"
		"  thread_nodes n ON n.archive = f.id"
		"  WHERE f.list = ?2 AND f.thread = ?1"
		"  ORDER BY f.date, f.id LIMIT 1), ''),"
		" (SELECT f.subject FROM archive f"
		"  WHERE f.list = ?2 AND f.thread = ?1"
		"  ORDER BY f.date, f.id LIMIT 1),"
		" min(date), max(date), count(*) FROM archive"
		" WHERE list = ?2 AND thread = ?1"
		" ON CONFLICT (id) DO UPDATE SET base_subject ="
		" excluded.base_subject, subject = excluded.subject,"
		" first_date = excluded.first_date,"
		" last_date = excluded.last_date, messages = excluded.messages";
	sqlite3_stmt *st = store_prep(s, sql_count);
	int64_t n;

	*alive_r = false;
	if (st == NULL)
		return -1;
	store_bind(st, STORE_T(list), STORE_I(id));
	if (store_count_query(s, st, &n, "count thread") < 0)
		return -1;
	if (n == 0) {
		st = store_prep(s, sql_delete);
		if (st == NULL)
			return -1;
		sqlite3_bind_int64(st, 1, id);
		return store_step_done(s, st, "drop thread");
	}
	st = store_prep(s, sql_upsert);
	if (st == NULL)
		return -1;
	store_bind(st, STORE_I(id), STORE_T(list));
	*alive_r = true;
	return store_step_done(s, st, "save thread");
}

int store_thread_get(struct store *s, const char *list, int64_t id,
		     struct store_thread *t, bool *found_r)
{
	static const char sql[] = "SELECT " THREAD_COLUMNS " FROM threads"
		" WHERE id = ? AND list = ?";
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "read thread");

	*found_r = false;
	store_bind(st, STORE_I(id), STORE_T(list));
	if (store_rows_valid(&r)) {
		thread_from_row(st, t);
		*found_r = true;
	}
	return store_rows_end(&r);
}

int store_thread_exists(struct store *s, int64_t id, bool *found_r)
{
	static const char sql[] = "SELECT count(*) FROM threads WHERE id = ?";
	sqlite3_stmt *st = store_prep(s, sql);
	int64_t n;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	if (store_count_query(s, st, &n, "find thread") < 0)
		return -1;
	*found_r = n > 0;
	return 0;
}

int store_thread_root(struct store *s, int64_t id, int64_t *node_r)
{
	static const char sql[] =
		"SELECT coalesce((SELECT id FROM thread_nodes WHERE thread = ?"
		" AND parent IS NULL ORDER BY id LIMIT 1), 0)";
	sqlite3_stmt *st = store_prep(s, sql);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	return store_count_query(s, st, node_r, "find thread root");
}

static int thread_row(sqlite3_stmt *st, void *vec)
{
	thread_from_row(st, store_vec_push(vec));
	return 0;
}

int store_threads_latest(struct store *s, const char *list, size_t limit,
			 size_t offset, struct store_thread **v_r,
			 size_t *n_r)
{
	static const char sql[] = "SELECT " THREAD_COLUMNS " FROM threads"
		" WHERE list = ? ORDER BY last_date DESC, id DESC"
		" LIMIT ? OFFSET ?";
	struct store_vec vec = STORE_VEC_INIT(struct store_thread);
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "latest threads");
	int rc;

	store_bind(st, STORE_T(list), STORE_I(limit), STORE_I(offset));
	rc = store_rows_each(&r, thread_row, &vec);
	*v_r = vec.v;
	*n_r = vec.n;
	if (rc < 0)
		store_threads_free(v_r, *n_r);
	return rc;
}

int store_threads_started(struct store *s, const char *list, size_t limit,
			  struct store_thread **v_r, size_t *n_r)
{
	static const char sql[] = "SELECT " THREAD_COLUMNS " FROM threads"
		" WHERE list = ? ORDER BY first_date DESC, id DESC LIMIT ?";
	struct store_vec vec = STORE_VEC_INIT(struct store_thread);
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "new threads");
	int rc;

	if (st != NULL) {
		store_bind_text(st, 1, list);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
	}
	rc = store_rows_each(&r, thread_row, &vec);
	*v_r = vec.v;
	*n_r = vec.n;
	if (rc < 0)
		store_threads_free(v_r, *n_r);
	return rc;
}

int store_thread_by_subject(struct store *s, const char *list,
			    const char *base, time_t date, long window,
			    int64_t *thread_r)
{
	static const char sql[] =
		"SELECT coalesce((SELECT id FROM threads WHERE list = ?1"
		" AND base_subject = ?2 AND last_date >= ?3 - ?4"
		" AND first_date <= ?3 + ?4"
		" ORDER BY abs(last_date - ?3), id LIMIT 1), 0)";
	sqlite3_stmt *st = store_prep(s, sql);

	if (st == NULL)
		return -1;
	store_bind(st, STORE_T(list), STORE_T(base), STORE_I(date),
		   STORE_I(window));
	return store_count_query(s, st, thread_r, "thread by subject");
}

static int id_row(sqlite3_stmt *st, void *vec)
{
	*(int64_t *)store_vec_push(vec) = sqlite3_column_int64(st, 0);
	return 0;
}

/* The ids in the first column of r's rows (statement already bound), into
 * *ids_r (free()) and *n_r. */
static int ids_of(struct store_rows *r, int64_t **ids_r, size_t *n_r)
{
	struct store_vec vec = STORE_VEC_INIT(int64_t);
	int rc = store_rows_each(r, id_row, &vec);

	*ids_r = vec.v;
	*n_r = vec.n;
	if (rc < 0)
		xfree(ids_r);
	return rc;
}

int store_orphan_roots(struct store *s, const char *list, const char *base,
		       time_t from, time_t until, size_t max,
		       int64_t **nodes_r, size_t *n_r)
{
	static const char sql[] =
		"SELECT n.id FROM thread_nodes n JOIN threads t"
		" ON t.id = n.thread WHERE n.list = ?1 AND n.parent IS NULL"
		" AND n.orphan_reply = 1 AND t.base_subject = ?2"
		" AND t.first_date BETWEEN ?3 AND ?4 ORDER BY n.id LIMIT ?5";
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "orphan replies");

	store_bind(st, STORE_T(list), STORE_T(base), STORE_I(from),
		   STORE_I(until), STORE_I(max));
	return ids_of(&r, nodes_r, n_r);
}

/* ---- threading and indexing later ---- */

/* The schema step for posts archived now and threaded and indexed a moment
 * later, in batches (pipeline/archive.h, archive_catch_up). */
const char *const store_schema_pending[] = {
	"CREATE TABLE archive_pending ("
	"  archive INTEGER PRIMARY KEY REFERENCES archive (id))",
};
const size_t store_schema_pending_n =
	sizeof store_schema_pending / sizeof store_schema_pending[0];

int store_pending_add(struct store *s, int64_t archive)
{
	static const char sql[] =
		"INSERT OR IGNORE INTO archive_pending (archive) VALUES (?)";

	return store_run(s, sql, "queue for threading", STORE_I(archive));
}

int store_pending_next(struct store *s, size_t max, int64_t **ids_r,
		       size_t *n_r)
{
	static const char sql[] =
		"SELECT archive FROM archive_pending ORDER BY archive LIMIT ?";
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "waiting for threading");

	store_bind(st, STORE_I(max));
	return ids_of(&r, ids_r, n_r);
}

int store_pending_remove(struct store *s, int64_t archive)
{
	static const char sql[] =
		"DELETE FROM archive_pending WHERE archive = ?";

	return store_run(s, sql, "threaded", STORE_I(archive));
}

int store_pending_count(struct store *s, int64_t *n_r)
{
	static const char sql[] = "SELECT count(*) FROM archive_pending";
	sqlite3_stmt *st = store_prep(s, sql);

	if (st == NULL)
		return -1;
	return store_count_query(s, st, n_r, "waiting for threading");
}

int store_thread_resolve(struct store *s, int64_t id, const char *by,
			 time_t at, bool *changed_r)
{
	static const char sql[] =
		"UPDATE threads SET resolved_at = ?, resolved_by = ?"
		" WHERE id = ? AND resolved_at IS NULL";
	sqlite3_stmt *st = store_prep(s, sql);

	*changed_r = false;
	if (st == NULL)
		return -1;
	store_bind(st, STORE_I(at), STORE_T(by), STORE_I(id));
	if (store_step_done(s, st, "resolve thread") < 0)
		return -1;
	*changed_r = sqlite3_changes(s->db) > 0;
	return 0;
}

void store_thread_nodes_free(struct store_thread_node **v, size_t n)
{
	size_t i;

	if (*v == NULL)
		return;
	for (i = 0; i < n; i++) {
		free((*v)[i].message_id);
		free((*v)[i].sender);
		free((*v)[i].sender_name);
		free((*v)[i].subject);
	}
	xfree(v);
}

static int tnode_row(sqlite3_stmt *st, void *vec)
{
	struct store_thread_node *e = store_vec_push(vec);

	e->node = sqlite3_column_int64(st, 0);
	e->parent = sqlite3_column_int64(st, 1);
	e->archive = sqlite3_column_int64(st, 2);
	e->message_id = store_col_text(st, 3);
	e->sender = store_col_text(st, 4);
	e->sender_name = store_col_text(st, 5);
	e->subject = store_col_text(st, 6);
	e->date = (time_t)sqlite3_column_int64(st, 7);
	return 0;
}

int store_thread_nodes(struct store *s, int64_t thread,
		       struct store_thread_node **v_r, size_t *n_r)
{
	static const char sql[] =
		"SELECT n.id, coalesce(n.parent, 0), coalesce(n.archive, 0),"
		" n.message_id, a.sender, a.sender_name, a.subject,"
		" coalesce(a.date, 0) FROM thread_nodes n"
		" LEFT JOIN archive a ON a.id = n.archive"
		" WHERE n.thread = ? ORDER BY coalesce(a.date, 0), n.id LIMIT ?";
	struct store_vec vec = STORE_VEC_INIT(struct store_thread_node);
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "read thread");
	int rc;

	store_bind(st, STORE_I(thread), STORE_I(STORE_TREE_MAX));
	rc = store_rows_each(&r, tnode_row, &vec);
	*v_r = vec.v;
	*n_r = vec.n;
	if (rc < 0)
		store_thread_nodes_free(v_r, *n_r);
	return rc;
}

int store_archive_reset(struct store *s, const char *list)
{
	static const char *const sql[] = {
		"DELETE FROM archive_fts WHERE rowid IN"
		" (SELECT id FROM archive WHERE list = ?)",
		"DELETE FROM threads WHERE list = ?",
		"DELETE FROM thread_nodes WHERE list = ?",
		"UPDATE archive SET parent = NULL, thread = NULL WHERE list = ?",
	};
	size_t i;

	if (s->nfts > 0 && store_fts_flush(s) < 0)
		return -1;
	for (i = 0; i < sizeof sql / sizeof sql[0]; i++) {
		sqlite3_stmt *st = store_prep(s, sql[i]);

		if (st == NULL)
			return -1;
		store_bind_text(st, 1, list);
		if (store_step_done(s, st, "reset archive") < 0)
			return -1;
	}
	return 0;
}

static int ref_row(sqlite3_stmt *st, void *vec)
{
	struct store_archive_ref *e = store_vec_push(vec);

	e->id = sqlite3_column_int64(st, 0);
	e->message = sqlite3_column_int64(st, 1);
	e->date = (time_t)sqlite3_column_int64(st, 2);
	return 0;
}

int store_archive_page(struct store *s, const char *list, time_t after_date,
		       int64_t after_id, size_t max,
		       struct store_archive_ref **v_r, size_t *n_r)
{
	static const char sql[] =
		"SELECT id, message, date FROM archive WHERE list = ?1"
		" AND (date > ?2 OR (date = ?2 AND id > ?3))"
		" ORDER BY date, id LIMIT ?4";
	struct store_vec vec = STORE_VEC_INIT(struct store_archive_ref);
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "page archive");
	int rc;

	store_bind(st, STORE_T(list), STORE_I(after_date), STORE_I(after_id),
		   STORE_I(max));
	rc = store_rows_each(&r, ref_row, &vec);
	*v_r = vec.v;
	*n_r = vec.n;
	if (rc < 0)
		xfree(v_r);
	return rc;
}

int store_archive_count(struct store *s, const char *list, int64_t *n_r)
{
	static const char sql[] = "SELECT count(*) FROM archive WHERE list = ?";
	sqlite3_stmt *st = store_prep(s, sql);

	if (st == NULL)
		return -1;
	store_bind_text(st, 1, list);
	return store_count_query(s, st, n_r, "count archive");
}

/* ---- curation ---- */

int store_faq_set(struct store *s, const char *list, int64_t archive,
		  const char *title, const char *by, time_t at,
		  bool *added_r)
{
	static const char sql_add[] =
		"INSERT INTO faq (list, archive, title, added_by, added_at)"
		" VALUES (?, ?, ?, ?, ?) ON CONFLICT (list, archive) DO NOTHING";
	static const char sql_title[] =
		"UPDATE faq SET title = ? WHERE list = ? AND archive = ?";
	sqlite3_stmt *st = store_prep(s, sql_add);

	*added_r = false;
	if (st == NULL)
		return -1;
	store_bind(st, STORE_T(list), STORE_I(archive), STORE_T(title),
		   STORE_T(by), STORE_I(at));
	if (store_step_done(s, st, "add to FAQ") < 0)
		return -1;
	*added_r = sqlite3_changes(s->db) > 0;
	if (*added_r || title == NULL)
		return 0;
	st = store_prep(s, sql_title);
	if (st == NULL)
		return -1;
	store_bind(st, STORE_T(title), STORE_T(list), STORE_I(archive));
	return store_step_done(s, st, "retitle FAQ");
}

void store_faq_free(struct store_faq **v, size_t n)
{
	size_t i;

	if (*v == NULL)
		return;
	for (i = 0; i < n; i++) {
		free((*v)[i].title);
		free((*v)[i].subject);
		free((*v)[i].added_by);
	}
	xfree(v);
}

static int faq_row(sqlite3_stmt *st, void *vec)
{
	struct store_faq *e = store_vec_push(vec);

	e->archive = sqlite3_column_int64(st, 0);
	e->thread = sqlite3_column_int64(st, 1);
	e->title = store_col_text(st, 2);
	e->subject = store_col_text(st, 3);
	e->date = (time_t)sqlite3_column_int64(st, 4);
	e->added_at = (time_t)sqlite3_column_int64(st, 5);
	e->added_by = store_col_text(st, 6);
	return 0;
}

int store_faq_list(struct store *s, const char *list, time_t since,
		   size_t max, struct store_faq **v_r, size_t *n_r)
{
	static const char sql[] =
		"SELECT f.archive, coalesce(a.thread, 0), f.title, a.subject,"
		" a.date, f.added_at, f.added_by FROM faq f"
		" JOIN archive a ON a.id = f.archive"
		" WHERE f.list = ? AND f.added_at >= ?"
		" ORDER BY f.added_at, f.id LIMIT ?";
	struct store_vec vec = STORE_VEC_INIT(struct store_faq);
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "read FAQ");
	int rc;

	store_bind(st, STORE_T(list), STORE_I(since), STORE_I(max));
	rc = store_rows_each(&r, faq_row, &vec);
	*v_r = vec.v;
	*n_r = vec.n;
	if (rc < 0)
		store_faq_free(v_r, *n_r);
	return rc;
}

int store_tag_add(struct store *s, int64_t archive, const char *tag,
		  const char *by, time_t at, bool *added_r)
{
	static const char sql[] =
		"INSERT INTO archive_tags (archive, tag, added_by, added_at)"
		" VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING";
	sqlite3_stmt *st = store_prep(s, sql);

	*added_r = false;
	if (st == NULL)
		return -1;
	store_bind(st, STORE_I(archive), STORE_T(tag), STORE_T(by),
		   STORE_I(at));
	if (store_step_done(s, st, "tag message") < 0)
		return -1;
	*added_r = sqlite3_changes(s->db) > 0;
	return 0;
}

int store_tags_get(struct store *s, int64_t archive, char **tags_r)
{
	static const char sql[] =
		"SELECT coalesce((SELECT group_concat(tag, ' ') FROM"
		" (SELECT tag FROM archive_tags WHERE archive = ? ORDER BY tag)),"
		" '')";
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "read tags");

	*tags_r = NULL;
	store_bind(st, STORE_I(archive));
	if (store_rows_valid(&r))
		*tags_r = store_col_text(st, 0);
	if (store_rows_end(&r) < 0) {
		xfree(tags_r);
		return -1;
	}
	if (*tags_r == NULL)
		*tags_r = xstrdup("");
	return 0;
}
