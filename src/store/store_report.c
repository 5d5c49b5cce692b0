/* store_report - what the health report, the nudges and experts read */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "store/store.h"
#include "store/store_report.h"
#include "store_int.h"
#include "base/xalloc.h"

#define WEEK 604800

/* 12: the reports' indexes and state, polls and their votes. */
const char *const store_schema_reports[] = {
	"CREATE INDEX archive_by_sender ON archive (list, sender, date)",
	"CREATE INDEX archive_by_parent ON archive (parent)",
	"CREATE INDEX events_by_kind ON events (list, kind, at)",
	"CREATE TABLE report_state ("
	"  list TEXT NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  schedule TEXT,"
	"  next_due INTEGER NOT NULL DEFAULT 0,"
	"  last_at INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (list, kind))",
	"CREATE TABLE polls ("
	"  id INTEGER PRIMARY KEY,"
	"  list TEXT NOT NULL,"
	"  question TEXT NOT NULL,"
	"  created_by TEXT,"
	"  created_at INTEGER NOT NULL,"
	"  closes_at INTEGER NOT NULL,"
	"  to_list INTEGER NOT NULL DEFAULT 0,"
	"  state TEXT NOT NULL DEFAULT 'open'"
	"    CHECK (state IN ('open','closed')),"
	"  closed_at INTEGER)",
	"CREATE INDEX polls_by_state ON polls (state, closes_at)",
	"CREATE TABLE poll_options ("
	"  poll INTEGER NOT NULL REFERENCES polls (id) ON DELETE CASCADE,"
	"  number INTEGER NOT NULL,"
	"  text TEXT NOT NULL,"
	"  PRIMARY KEY (poll, number))",
	"CREATE TABLE poll_votes ("
	"  poll INTEGER NOT NULL REFERENCES polls (id) ON DELETE CASCADE,"
	"  address TEXT NOT NULL,"
	"  option INTEGER NOT NULL,"
	"  at INTEGER NOT NULL,"
	"  changes INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (poll, address))",
};
const size_t store_schema_reports_n =
	sizeof store_schema_reports / sizeof store_schema_reports[0];

/* The first message of thread t (by date): who started it. */
#define FIRST_OF_THREAD \
	"(SELECT f.id FROM archive f WHERE f.list = t.list" \
	" AND f.thread = t.id ORDER BY f.date, f.id LIMIT 1)"
/* Whether someone else than r's sender wrote in thread t. */
#define ANSWERED \
	"EXISTS (SELECT 1 FROM archive a WHERE a.list = t.list" \
	" AND a.thread = t.id AND a.sender IS NOT r.sender)"

int store_report_weeks(struct store *s, const char *list, time_t start,
		       size_t nweeks, int64_t *posts, int64_t *threads)
{
	static const char sql_posts[] =
		"SELECT (date - ?2) / 604800, count(*) FROM archive"
		" WHERE list = ?1 AND date >= ?2 AND date < ?3 GROUP BY 1";
	static const char sql_threads[] =
		"SELECT (first_date - ?2) / 604800, count(*) FROM threads"
		" WHERE list = ?1 AND messages > 0 AND first_date >= ?2"
		" AND first_date < ?3 GROUP BY 1";
	const char *const sqls[2] = { sql_posts, sql_threads };
	int64_t *const into[2] = { posts, threads };
	size_t k;

	memset(posts, 0, nweeks * sizeof *posts);
	memset(threads, 0, nweeks * sizeof *threads);
	for (k = 0; k < 2; k++) {
		struct store_rows r;
		sqlite3_stmt *st = store_rows_prep(&r, s, sqls[k],
						   "weekly counts");

		if (st != NULL) {
			store_bind(st, STORE_T(list), STORE_I(start));
			sqlite3_bind_int64(st, 3, (sqlite3_int64)start +
					   (sqlite3_int64)nweeks * WEEK);
		}
		for (; store_rows_valid(&r); store_rows_next(&r)) {
			int64_t w = sqlite3_column_int64(st, 0);

			if (w >= 0 && (size_t)w < nweeks)
				into[k][w] = sqlite3_column_int64(st, 1);
		}
		if (store_rows_end(&r) < 0)
			return -1;
	}
	return 0;
}

/* ---- threads ---- */

void store_report_threads_free(struct store_report_thread **vp, size_t n)
{
	size_t i;

	if (*vp == NULL)
		return;
	for (i = 0; i < n; i++) {
		free((*vp)[i].subject);
		free((*vp)[i].sender);
		free((*vp)[i].sender_name);
	}
	xfree(vp);
}

struct threads_ctx {
	struct store_vec vec;
	size_t max;
	int64_t total;
};

static int thread_row(sqlite3_stmt *st, void *ctx)
{
	struct threads_ctx *x = ctx;
	struct store_report_thread *t;

	if ((size_t)x->total++ >= x->max)
		return 0;
	t = store_vec_push(&x->vec);
	t->id = sqlite3_column_int64(st, 0);
	t->subject = store_col_text(st, 1);
	t->sender = store_col_text(st, 2);
	t->sender_name = store_col_text(st, 3);
	t->first_date = (time_t)sqlite3_column_int64(st, 4);
	t->first_reply = (time_t)sqlite3_column_int64(st, 5);
	t->messages = sqlite3_column_int64(st, 6);
	return 0;
}

static int threads_query(struct store *s, const char *sql, const char *list,
			 time_t from, time_t until, size_t max,
			 struct store_report_thread **v_r, size_t *n_r,
			 int64_t *total_r)
{
	struct threads_ctx x = {
		.vec = STORE_VEC_INIT(struct store_report_thread), .max = max,
	};
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "report threads");
	int rc;

	store_bind(st, STORE_T(list), STORE_I(from), STORE_I(until));
	rc = store_rows_each(&r, thread_row, &x);
	*v_r = x.vec.v;
	*n_r = x.vec.n;
	if (total_r != NULL)
		*total_r = x.total;
	if (rc < 0) {
		store_report_threads_free(v_r, *n_r);
		*n_r = 0;
		return -1;
	}
	return 0;
}

int store_report_unanswered(struct store *s, const char *list, time_t from,
			    time_t until, size_t max,
			    struct store_report_thread **v_r, size_t *n_r,
			    int64_t *total_r)
{
	static const char sql[] =
		"SELECT t.id, t.subject, r.sender, r.sender_name, t.first_date,"
		" 0, t.messages FROM threads t"
		" JOIN archive r ON r.id = " FIRST_OF_THREAD
		" WHERE t.list = ?1 AND t.first_date >= ?2"
		" AND t.first_date < ?3 AND t.resolved_at IS NULL"
		" AND NOT " ANSWERED
		" ORDER BY t.first_date, t.id";

	return threads_query(s, sql, list, from, until, max, v_r, n_r,
			     total_r);
}

int store_report_first_replies(struct store *s, const char *list,
			       time_t from, time_t until,
			       struct store_report_thread **v_r, size_t *n_r)
{
	static const char sql[] =
		"SELECT t.id, t.subject, r.sender, r.sender_name, t.first_date,"
		" coalesce((SELECT min(a.date) FROM archive a"
		"  WHERE a.list = t.list AND a.thread = t.id"
		"  AND a.sender IS NOT r.sender), 0), t.messages FROM threads t"
		" JOIN archive r ON r.id = " FIRST_OF_THREAD
		" WHERE t.list = ?1 AND t.first_date >= ?2"
		" AND t.first_date < ?3 ORDER BY t.first_date, t.id";

	return threads_query(s, sql, list, from, until, (size_t)-1, v_r, n_r,
			     NULL);
}

/* ---- people ---- */

void store_report_people_free(struct store_report_person **vp, size_t n)
{
	size_t i;

	if (*vp == NULL)
		return;
	for (i = 0; i < n; i++) {
		free((*vp)[i].address);
		free((*vp)[i].name);
		free((*vp)[i].other);
		free((*vp)[i].other_name);
	}
	xfree(vp);
}

/* Every people query selects: member, address, name, other, other_name,
 * count, joined, last_post. */
static int person_row(sqlite3_stmt *st, void *ctx)
{
	struct store_report_person *p = store_vec_push(ctx);

	p->member = sqlite3_column_int64(st, 0);
	p->address = store_col_text(st, 1);
	p->name = store_col_text(st, 2);
	p->other = store_col_text(st, 3);
	p->other_name = store_col_text(st, 4);
	p->count = sqlite3_column_int64(st, 5);
	p->joined = (time_t)sqlite3_column_int64(st, 6);
	p->last_post = (time_t)sqlite3_column_int64(st, 7);
	if (p->address == NULL)
		p->address = xstrdup("");
	return 0;
}

/* Binds ?1 list, ?2 from, ?3 until, ?4 max (as the SQL uses them). */
static int people_query(struct store *s, const char *sql, const char *list,
			time_t from, time_t until, size_t max,
			struct store_report_person **v_r, size_t *n_r)
{
	struct store_vec vec = STORE_VEC_INIT(struct store_report_person);
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "report people");
	int rc;

	if (st != NULL) {
		int np = sqlite3_bind_parameter_count(st);

		store_bind_text(st, 1, list);
		if (np >= 2)
			sqlite3_bind_int64(st, 2, (sqlite3_int64)from);
		if (np >= 3)
			sqlite3_bind_int64(st, 3, (sqlite3_int64)until);
		if (np >= 4)
			sqlite3_bind_int64(st, 4, max > (size_t)INT64_MAX ?
					   INT64_MAX : (sqlite3_int64)max);
	}
	rc = store_rows_each(&r, person_row, &vec);
	*v_r = vec.v;
	*n_r = vec.n;
	if (rc < 0) {
		store_report_people_free(v_r, *n_r);
		*n_r = 0;
		return -1;
	}
	return 0;
}

int store_report_newcomers(struct store *s, const char *list, time_t since,
			   struct store_report_person **v_r, size_t *n_r)
{
	static const char sql[] =
		"SELECT m.id, m.address, m.display_name, NULL, NULL,"
		" (SELECT count(*) FROM archive a WHERE a.list = m.list"
		"  AND a.sender = m.address), m.subscribed_at,"
		" coalesce((SELECT max(a.date) FROM archive a"
		"  WHERE a.list = m.list AND a.sender = m.address), 0)"
		" FROM members m WHERE m.list = ?1 AND m.subscribed_at >= ?2"
		" AND m.status != 'pending' ORDER BY m.subscribed_at, m.id";

	return people_query(s, sql, list, since, 0, 0, v_r, n_r);
}

/* An answer: a's nearest archived ancestor p has another sender. */
#define ANSWERS \
	" FROM archive a JOIN archive p ON p.id = a.parent" \
	" LEFT JOIN members m ON m.list = a.list AND m.address = a.sender" \
	" WHERE a.list = ?1 AND a.sender IS NOT NULL" \
	" AND a.sender IS NOT p.sender"

int store_report_helpers(struct store *s, const char *list, time_t from,
			 time_t until, size_t max,
			 struct store_report_person **v_r, size_t *n_r)
{
	static const char sql[] =
		"SELECT coalesce(max(m.id), 0), a.sender, max(a.sender_name),"
		" NULL, NULL, count(*), 0, 0" ANSWERS
		" AND a.date >= ?2 AND a.date < ?3"
		" GROUP BY a.sender ORDER BY 6 DESC, a.sender LIMIT ?4";

	return people_query(s, sql, list, from, until, max, v_r, n_r);
}

int store_report_thread_helpers(struct store *s, const char *list,
				int64_t thread,
				struct store_report_person **v_r,
				size_t *n_r)
{
	static const char sql[] =
		"SELECT coalesce(max(m.id), 0), a.sender, max(a.sender_name),"
		" NULL, NULL, count(*), 0, 0" ANSWERS
		" AND a.thread = ?2 GROUP BY a.sender ORDER BY 6 DESC, a.sender";

	return people_query(s, sql, list, (time_t)thread, 0, 0, v_r, n_r);
}

int store_report_posters(struct store *s, const char *list, time_t from,
			 time_t until, size_t max,
			 struct store_report_person **v_r, size_t *n_r,
			 int64_t *total_r)
{
	static const char sql[] =
		"SELECT coalesce(max(m.id), 0), a.sender, max(a.sender_name),"
		" NULL, NULL, count(*), 0, 0 FROM archive a"
		" LEFT JOIN members m ON m.list = a.list AND m.address = a.sender"
		" WHERE a.list = ?1 AND a.sender IS NOT NULL"
		" AND a.date >= ?2 AND a.date < ?3"
		" GROUP BY a.sender ORDER BY 6 DESC, a.sender LIMIT ?4";
	static const char sql_total[] =
		"SELECT count(*) FROM archive WHERE list = ?"
		" AND date >= ? AND date < ?";

	*n_r = 0;
	*v_r = NULL;
	if (store_count(s, sql_total, "posts of the period", total_r,
			STORE_T(list), STORE_I(from), STORE_I(until)) < 0)
		return -1;
	return people_query(s, sql, list, from, until, max, v_r, n_r);
}

int store_report_pairs(struct store *s, const char *list, time_t from,
		       time_t until, size_t max,
		       struct store_report_person **v_r, size_t *n_r)
{
	static const char sql[] =
		"SELECT coalesce(max(m.id), 0), a.sender, max(a.sender_name),"
		" p.sender, max(p.sender_name), count(*), 0, 0" ANSWERS
		" AND p.sender IS NOT NULL AND a.date >= ?2 AND a.date < ?3"
		" GROUP BY a.sender, p.sender"
		" ORDER BY 6 DESC, a.sender, p.sender LIMIT ?4";

	return people_query(s, sql, list, from, until, max, v_r, n_r);
}

int store_report_unheard(struct store *s, const char *list, time_t from,
			 time_t until, size_t max,
			 struct store_report_person **v_r, size_t *n_r)
{
	static const char sql[] =
		"SELECT coalesce(max(m.id), 0), r.sender, max(r.sender_name),"
		" NULL, NULL, count(*), 0, 0 FROM threads t"
		" JOIN archive r ON r.id = " FIRST_OF_THREAD
		" LEFT JOIN members m ON m.list = t.list AND m.address = r.sender"
		" WHERE t.list = ?1 AND t.first_date >= ?2 AND t.first_date < ?3"
		" AND r.sender IS NOT NULL GROUP BY r.sender"
		" HAVING sum(" ANSWERED ") = 0"
		" ORDER BY 6 DESC, r.sender LIMIT ?4";

	return people_query(s, sql, list, from, until, max, v_r, n_r);
}

int store_report_member_address(struct store *s, const char *list,
				int64_t id, char **address_r)
{
	static const char sql[] =
		"SELECT address FROM members WHERE list = ? AND id = ?";
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "member by id");

	store_bind(st, STORE_T(list), STORE_I(id));
	return store_rows_first_text(&r, address_r);
}

/* ---- events and holds ---- */

int store_report_events(struct store *s, const char *list, const char *kind,
			time_t from, time_t until, int64_t *count_r)
{
	static const char sql[] =
		"SELECT count(*) FROM events WHERE list = ? AND kind = ?"
		" AND at >= ? AND at < ?";
	sqlite3_stmt *st = store_prep2(s, sql, list, kind);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 3, (sqlite3_int64)from);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)until);
	return store_count_query(s, st, count_r, "count events");
}

int store_report_event_last(struct store *s, const char *list,
			    const char *kind, const char *detail,
			    time_t *at_r)
{
	static const char sql[] =
		"SELECT coalesce(max(at), 0) FROM events WHERE list = ?"
		" AND kind = ? AND detail = ?";
	sqlite3_stmt *st = store_prep2(s, sql, list, kind);
	int64_t at = 0;

	if (st == NULL)
		return -1;
	store_bind_text(st, 3, detail);
	if (store_count_query(s, st, &at, "last event") < 0)
		return -1;
	*at_r = (time_t)at;
	return 0;
}

void store_report_holds_free(struct store_report_hold **vp, size_t n)
{
	size_t i;

	if (*vp == NULL)
		return;
	for (i = 0; i < n; i++) {
		free((*vp)[i].sender);
		free((*vp)[i].subject);
	}
	xfree(vp);
}

int store_report_held(struct store *s, const char *list, size_t max,
		      struct store_report_hold **v_r, size_t *n_r,
		      int64_t *total_r)
{
	static const char sql[] =
		"SELECT id, sender, subject, held_at FROM holds"
		" WHERE list = ? AND state = 'held' ORDER BY held_at, id";
	struct store_vec vec = STORE_VEC_INIT(struct store_report_hold);
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "held posts");

	*total_r = 0;
	store_bind(st, STORE_T(list));
	for (; store_rows_valid(&r); store_rows_next(&r)) {
		struct store_report_hold *h;

		if ((size_t)(*total_r)++ >= max)
			continue;
		h = store_vec_push(&vec);
		h->id = sqlite3_column_int64(st, 0);
		h->sender = store_col_text(st, 1);
		h->subject = store_col_text(st, 2);
		h->held_at = (time_t)sqlite3_column_int64(st, 3);
	}
	*v_r = vec.v;
	*n_r = vec.n;
	if (store_rows_end(&r) < 0) {
		store_report_holds_free(v_r, *n_r);
		*n_r = 0;
		return -1;
	}
	return 0;
}

/* ---- state of the timed mails ---- */

void store_report_state_clear(struct store_report_state *st)
{
	xfree(&st->schedule);
}

int store_report_state_get(struct store *s, const char *list,
			   const char *kind, struct store_report_state *dst,
			   bool *found_r)
{
	static const char sql[] =
		"SELECT schedule, next_due, last_at FROM report_state"
		" WHERE list = ? AND kind = ?";
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "report state");

	*found_r = false;
	store_bind(st, STORE_T(list), STORE_T(kind));
	if (store_rows_valid(&r)) {
		dst->schedule = store_col_text(st, 0);
		dst->next_due = (time_t)sqlite3_column_int64(st, 1);
		dst->last_at = (time_t)sqlite3_column_int64(st, 2);
		*found_r = true;
	}
	return store_rows_end(&r);
}

int store_report_state_put(struct store *s, const char *list,
			   const char *kind,
			   const struct store_report_state *dst)
{
	static const char sql[] =
		"INSERT OR REPLACE INTO report_state (list, kind, schedule,"
		" next_due, last_at) VALUES (?, ?, ?, ?, ?)";
	sqlite3_stmt *st = store_prep2(s, sql, list, kind);

	if (st == NULL)
		return -1;
	store_bind_text(st, 3, dst->schedule);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)dst->next_due);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)dst->last_at);
	return store_step_done(s, st, "save report state");
}
