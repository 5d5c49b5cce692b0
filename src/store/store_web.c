/* store_web - render state of the web archive, one-click token parts */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "store/store.h"
#include "store/store_web.h"
#include "store_int.h"
#include "base/xalloc.h"

/* The last moment strftime can name (9999-12-31T23:59:59Z). */
#define DATE_MAX "253402300799"

/* Schema step: a salt per membership for one-click tokens (new rows get
 * theirs from a trigger, so every way of adding a member gives one), the
 * marker a job's data carries where each member's token goes, and the web
 * archive's render state. */
const char *const store_schema_web[] = {
	"ALTER TABLE members ADD COLUMN token_salt INTEGER NOT NULL DEFAULT 0",
	"UPDATE members SET token_salt = random()",
	"CREATE TRIGGER members_token_salt AFTER INSERT ON members BEGIN"
	" UPDATE members SET token_salt = random() WHERE id = NEW.id; END",
	"ALTER TABLE jobs ADD COLUMN token_marker TEXT",
	"CREATE TABLE web_state ("
	"  list TEXT PRIMARY KEY,"
	"  archive_done INTEGER NOT NULL,"
	"  events_done INTEGER NOT NULL,"
	"  rendered_at INTEGER NOT NULL)",
	"CREATE TABLE web_threads ("
	"  list TEXT NOT NULL,"
	"  thread INTEGER NOT NULL,"
	"  PRIMARY KEY (list, thread))",
	"CREATE TABLE web_months ("
	"  list TEXT NOT NULL,"
	"  month TEXT NOT NULL,"
	"  messages INTEGER NOT NULL,"
	"  PRIMARY KEY (list, month))",
};
const size_t store_schema_web_n =
	sizeof store_schema_web / sizeof store_schema_web[0];

/* ---- one-click tokens ---- */

int store_web_member_token(struct store *s, const char *list,
			   const char *address, int64_t *id_r,
			   int64_t *salt_r, bool *found_r)
{
	static const char sql[] = "SELECT id, token_salt FROM members"
		" WHERE list = ? AND address = ?";
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "member token");

	*found_r = false;
	if (st != NULL) {
		store_bind_text(st, 1, list);
		store_bind_text(st, 2, address);
	}
	if (store_rows_valid(&r)) {
		*id_r = sqlite3_column_int64(st, 0);
		*salt_r = sqlite3_column_int64(st, 1);
		*found_r = true;
	}
	return store_rows_end(&r);
}

int store_web_member_by_id(struct store *s, int64_t id, char **list_r,
			   char **address_r, int64_t *salt_r, bool *found_r)
{
	static const char sql[] = "SELECT list, address, token_salt"
		" FROM members WHERE id = ?";
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "member by id");

	*found_r = false;
	if (st != NULL)
		sqlite3_bind_int64(st, 1, id);
	if (store_rows_valid(&r)) {
		*list_r = store_col_text(st, 0);
		*address_r = store_col_text(st, 1);
		*salt_r = sqlite3_column_int64(st, 2);
		*found_r = *list_r != NULL && *address_r != NULL;
		if (!*found_r) {
			xfree(list_r);
			xfree(address_r);
		}
	}
	return store_rows_end(&r);
}

/* ---- render state ---- */

int store_web_state_get(struct store *s, const char *list,
			struct store_web_state *w, bool *found_r)
{
	static const char sql[] = "SELECT archive_done, events_done,"
		" rendered_at FROM web_state WHERE list = ?";
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "web state");

	*found_r = false;
	if (st != NULL)
		store_bind_text(st, 1, list);
	if (store_rows_valid(&r)) {
		w->archive_done = sqlite3_column_int64(st, 0);
		w->events_done = sqlite3_column_int64(st, 1);
		w->rendered_at = (time_t)sqlite3_column_int64(st, 2);
		*found_r = true;
	}
	return store_rows_end(&r);
}

int store_web_state_set(struct store *s, const char *list,
			const struct store_web_state *w)
{
	static const char sql[] = "INSERT INTO web_state (list, archive_done,"
		" events_done, rendered_at) VALUES (?1, ?2, ?3, ?4)"
		" ON CONFLICT (list) DO UPDATE SET archive_done = ?2,"
		" events_done = ?3, rendered_at = ?4";
	sqlite3_stmt *st = store_prep(s, sql);

	if (st == NULL)
		return -1;
	store_bind_text(st, 1, list);
	sqlite3_bind_int64(st, 2, w->archive_done);
	sqlite3_bind_int64(st, 3, w->events_done);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)w->rendered_at);
	return store_step_done(s, st, "keep web state");
}

int store_web_forget(struct store *s, const char *list)
{
	static const char sql[] = "DELETE FROM web_state WHERE list = ?";
	sqlite3_stmt *st = store_prep(s, sql);

	if (st == NULL)
		return -1;
	store_bind_text(st, 1, list);
	return store_step_done(s, st, "forget web state");
}

int store_web_newest(struct store *s, const char *list, int64_t *archive_r,
		     int64_t *event_r)
{
	static const char sql_a[] = "SELECT coalesce(max(id), 0) FROM archive"
		" WHERE list = ?";
	static const char sql_e[] = "SELECT coalesce(max(id), 0) FROM events";
	sqlite3_stmt *st = store_prep(s, sql_a);

	if (st == NULL)
		return -1;
	store_bind_text(st, 1, list);
	if (store_count_query(s, st, archive_r, "newest archived") < 0)
		return -1;
	st = store_prep(s, sql_e);
	if (st == NULL)
		return -1;
	return store_count_query(s, st, event_r, "newest event");
}

static int row_each(sqlite3_stmt *st, void *vec)
{
	struct store_web_row *w = store_vec_push(vec);

	w->id = sqlite3_column_int64(st, 0);
	w->thread = sqlite3_column_int64(st, 1);
	w->date = (time_t)sqlite3_column_int64(st, 2);
	return 0;
}

static int rows_end(struct store_rows *r, struct store_vec *vec,
		    struct store_web_row **v_r, size_t *n_r)
{
	int rc = store_rows_each(r, row_each, vec);

	*v_r = vec->v;
	*n_r = vec->n;
	if (rc < 0) {
		xfree(v_r);
		*n_r = 0;
	}
	return rc;
}

int store_web_rows_after(struct store *s, const char *list, int64_t after,
			 int64_t upto, size_t max, struct store_web_row **v_r,
			 size_t *n_r)
{
	static const char sql[] = "SELECT id, coalesce(thread, 0), date"
		" FROM archive WHERE id > ?2 AND id <= ?3 AND list = ?1"
		" ORDER BY id LIMIT ?4";
	struct store_vec vec = STORE_VEC_INIT(struct store_web_row);
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "new archive rows");

	store_bind(st, STORE_T(list), STORE_I(after), STORE_I(upto),
		   STORE_I((sqlite3_int64)max));
	return rows_end(&r, &vec, v_r, n_r);
}

int store_web_rows_dated(struct store *s, const char *list, time_t from,
			 time_t until, struct store_web_row **v_r,
			 size_t *n_r)
{
	static const char sql[] = "SELECT id, coalesce(thread, 0), date"
		" FROM archive WHERE list = ? AND date >= ? AND date < ?"
		" ORDER BY date, id";
	struct store_vec vec = STORE_VEC_INIT(struct store_web_row);
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "archive by date");

	if (st != NULL) {
		store_bind_text(st, 1, list);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)from);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)until);
	}
	return rows_end(&r, &vec, v_r, n_r);
}

static int event_each(sqlite3_stmt *st, void *vec)
{
	struct store_web_event *e = store_vec_push(vec);
	const unsigned char *k = sqlite3_column_text(st, 1);

	e->id = sqlite3_column_int64(st, 0);
	snprintf(e->kind, sizeof e->kind, "%s", k ? (const char *)k : "");
	e->ref = sqlite3_column_int64(st, 2);
	return 0;
}

int store_web_events_after(struct store *s, const char *list, int64_t after,
			   int64_t upto, size_t max,
			   struct store_web_event **v_r, size_t *n_r)
{
	/* By rowid first: only the few new events are looked at. */
	static const char sql[] = "SELECT id, kind, coalesce(ref, 0)"
		" FROM events WHERE id > ?2 AND id <= ?3 AND list = ?1"
		" AND kind IN ('archive.faq', 'archive.resolved',"
		" 'archive.tag') ORDER BY id LIMIT ?4";
	struct store_vec vec = STORE_VEC_INIT(struct store_web_event);
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "curation events");
	int rc;

	store_bind(st, STORE_T(list), STORE_I(after), STORE_I(upto),
		   STORE_I((sqlite3_int64)max));
	rc = store_rows_vec(&r, event_each, &vec, n_r);
	*v_r = vec.v;
	return rc;
}

/* ---- thread pages ---- */

int store_web_thread_written(struct store *s, const char *list,
			     int64_t thread)
{
	static const char sql[] = "INSERT OR IGNORE INTO web_threads"
		" (list, thread) VALUES (?, ?)";

	return store_run(s, sql, "thread page written", STORE_T(list),
			 STORE_I(thread));
}

static int id_each(sqlite3_stmt *st, void *vec)
{
	*(int64_t *)store_vec_push(vec) = sqlite3_column_int64(st, 0);
	return 0;
}

int store_web_threads_gone(struct store *s, const char *list, size_t max,
			   int64_t **v_r, size_t *n_r)
{
	static const char sql[] = "SELECT w.thread FROM web_threads w"
		" WHERE w.list = ?1 AND NOT EXISTS (SELECT 1 FROM threads t"
		" WHERE t.id = w.thread AND t.list = ?1)"
		" ORDER BY w.thread LIMIT ?2";
	struct store_vec vec = STORE_VEC_INIT(int64_t);
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "gone threads");
	int rc;

	store_bind(st, STORE_T(list), STORE_I((sqlite3_int64)max));
	rc = store_rows_vec(&r, id_each, &vec, n_r);
	*v_r = vec.v;
	return rc;
}

int store_web_thread_forget(struct store *s, const char *list,
			    int64_t thread)
{
	static const char sql[] = "DELETE FROM web_threads"
		" WHERE list = ? AND thread = ?";

	return store_run(s, sql, "forget thread page", STORE_T(list),
			 STORE_I(thread));
}

/* ---- months ---- */

int store_web_month_set(struct store *s, const char *list, const char *month,
			int64_t n)
{
	static const char sql_set[] = "INSERT INTO web_months (list, month,"
		" messages) VALUES (?1, ?2, ?3) ON CONFLICT (list, month)"
		" DO UPDATE SET messages = ?3";
	static const char sql_del[] = "DELETE FROM web_months"
		" WHERE list = ? AND month = ?";
	sqlite3_stmt *st = store_prep2(s, n > 0 ? sql_set : sql_del, list,
				       month);

	if (st == NULL)
		return -1;
	if (n > 0)
		sqlite3_bind_int64(st, 3, n);
	return store_step_done(s, st, "keep month");
}

int store_web_months_recount(struct store *s, const char *list)
{
	static const char sql_del[] = "DELETE FROM web_months WHERE list = ?";
	static const char sql_ins[] = "INSERT INTO web_months (list, month,"
		" messages) SELECT ?1, strftime('%Y-%m', date, 'unixepoch'),"
		" count(*) FROM archive WHERE list = ?1 AND date >= 0"
		" AND date <= " DATE_MAX " GROUP BY 2";
	sqlite3_stmt *st = store_prep(s, sql_del);

	if (st == NULL)
		return -1;
	store_bind_text(st, 1, list);
	if (store_step_done(s, st, "drop months") < 0)
		return -1;
	st = store_prep(s, sql_ins);
	if (st == NULL)
		return -1;
	store_bind_text(st, 1, list);
	return store_step_done(s, st, "count months");
}

static int month_each(sqlite3_stmt *st, void *vec)
{
	struct store_web_month *m = store_vec_push(vec);
	const unsigned char *t = sqlite3_column_text(st, 0);

	snprintf(m->month, sizeof m->month, "%s", t ? (const char *)t : "");
	m->messages = sqlite3_column_int64(st, 1);
	return 0;
}

int store_web_months(struct store *s, const char *list,
		     struct store_web_month **v_r, size_t *n_r)
{
	static const char sql[] = "SELECT month, messages FROM web_months"
		" WHERE list = ? ORDER BY month DESC";
	struct store_vec vec = STORE_VEC_INIT(struct store_web_month);
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "months");
	int rc;

	if (st != NULL)
		store_bind_text(st, 1, list);
	rc = store_rows_vec(&r, month_each, &vec, n_r);
	*v_r = vec.v;
	return rc;
}
