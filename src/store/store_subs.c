/* store_subs - subscription requests, confirmations, rate limits */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "store/store.h"
#include "store_int.h"
#include "store/store_subs.h"
#include "base/util.h"
#include "base/xalloc.h"

/* The columns of sub_requests (both versions: KINDS is the list that the
 * kind column allows), so that the table made anew for 'set' requests
 * cannot drift from the first. */
#define SUB_REQUESTS_COLUMNS(KINDS) \
	"  id INTEGER PRIMARY KEY," \
	"  list TEXT NOT NULL," \
	"  kind TEXT NOT NULL" \
	"    CHECK (kind IN (" KINDS "))," \
	"  address TEXT NOT NULL," \
	"  display_name TEXT," \
	"  mode TEXT NOT NULL DEFAULT 'immediate'" \
	"    CHECK (mode IN ('immediate','digest','digest-plain','nomail'))," \
	"  selector TEXT NOT NULL," \
	"  token TEXT NOT NULL UNIQUE," \
	"  state TEXT NOT NULL DEFAULT 'confirm'" \
	"    CHECK (state IN ('confirm','approve','done','rejected','expired'))," \
	"  created_at INTEGER NOT NULL," \
	"  expires_at INTEGER NOT NULL," \
	"  decided_at INTEGER," \
	"  decided_by TEXT)"

/* The schema step for subscription requests, confirmations, rate limits
 * (see migrations in store.c). Invitations are requests of kind 'invite'.
 * A token is found by its first 8 digits (the selector) and then compared
 * whole in constant time, so that the time a lookup takes says nothing
 * about the secret part. */
const char *const store_schema_subscriptions[] = {
	"CREATE TABLE sub_requests ("
	SUB_REQUESTS_COLUMNS("'subscribe','unsubscribe','invite'"),
	"CREATE INDEX sub_requests_by_selector ON sub_requests (selector)",
	"CREATE INDEX sub_requests_by_list ON sub_requests (list, state, id)",

	"CREATE TABLE answer_log ("
	"  address TEXT NOT NULL,"
	"  at INTEGER NOT NULL)",
	"CREATE INDEX answer_log_by_address ON answer_log (address, at)",
};
const size_t store_schema_subscriptions_n =
	sizeof store_schema_subscriptions / sizeof store_schema_subscriptions[0];

/* Schema step: requests of kind 'set' (a change of delivery mode, confirmed
 * as an unsubscribe is). SQLite cannot change a CHECK: the table is made
 * anew with the same columns and its rows copied. */
const char *const store_schema_set_requests[] = {
	"CREATE TABLE sub_requests_new ("
	SUB_REQUESTS_COLUMNS("'subscribe','unsubscribe','invite','set'"),
	"INSERT INTO sub_requests_new (id, list, kind, address, display_name,"
	" mode, selector, token, state, created_at, expires_at, decided_at,"
	" decided_by) SELECT id, list, kind, address, display_name, mode,"
	" selector, token, state, created_at, expires_at, decided_at,"
	" decided_by FROM sub_requests",
	"DROP TABLE sub_requests",
	"ALTER TABLE sub_requests_new RENAME TO sub_requests",
	"CREATE INDEX sub_requests_by_selector ON sub_requests (selector)",
	"CREATE INDEX sub_requests_by_list ON sub_requests (list, state, id)",
};
const size_t store_schema_set_requests_n =
	sizeof store_schema_set_requests / sizeof store_schema_set_requests[0];

static const char *const kind_names[] = {
	"subscribe", "unsubscribe", "invite", "set"
};
static const char *const state_names[] = {
	"confirm", "approve", "done", "rejected", "expired"
};

#define SELECTOR_LEN 8

const char *store_sub_kind_name(enum store_sub_kind k)
{
	return (unsigned)k < 4 ? kind_names[k] : "subscribe";
}

const char *store_sub_state_name(enum store_sub_state st)
{
	return (unsigned)st < 5 ? state_names[st] : "confirm";
}

void store_sub_request_clear(struct store_sub_request *r)
{
	xfree(&r->list);
	xfree(&r->address);
	xfree(&r->name);
	xfree(&r->decided_by);
}

static int name_index(const char *v, const char *const *names, int n)
{
	int i;

	for (i = 0; v != NULL && i < n; i++)
		if (strcmp(v, names[i]) == 0)
			return i;
	return 0;
}

#define REQ_COLS "id, list, kind, address, display_name, mode, state," \
	" created_at, expires_at, decided_by"

static void request_from_row(sqlite3_stmt *st, struct store_sub_request *r)
{
	char *v;

	r->id = sqlite3_column_int64(st, 0);
	r->list = store_col_text(st, 1);
	v = store_col_text(st, 2);
	r->kind = (enum store_sub_kind)name_index(v, kind_names, 4);
	free(v);
	r->address = store_col_text(st, 3);
	r->name = store_col_text(st, 4);
	v = store_col_text(st, 5);
	if (v == NULL || store_mode_parse(v, &r->mode) < 0)
		r->mode = MODE_IMMEDIATE;
	free(v);
	v = store_col_text(st, 6);
	r->state = (enum store_sub_state)name_index(v, state_names, 5);
	free(v);
	r->created_at = (time_t)sqlite3_column_int64(st, 7);
	r->expires_at = (time_t)sqlite3_column_int64(st, 8);
	r->decided_by = store_col_text(st, 9);
}

static void bind_token(sqlite3_stmt *st, int sel, int tok, const char *token)
{
	char selector[SELECTOR_LEN + 1];

	snprintf(selector, sizeof selector, "%s", token);
	store_bind_text(st, sel, selector);
	store_bind_text(st, tok, token);
}

int store_sub_request_add(struct store *s, const char *list,
			  enum store_sub_kind kind, const char *address,
			  const char *name, enum store_mode mode,
			  const char *token, time_t expires_at,
			  int64_t *id_r)
{
	static const char sql[] =
		"INSERT INTO sub_requests (list, kind, address, display_name,"
		" mode, selector, token, created_at, expires_at)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
	sqlite3_stmt *st = store_prep(s, sql);

	if (st == NULL)
		return -1;
	store_bind(st, STORE_T(list), STORE_T(store_sub_kind_name(kind)),
		   STORE_T(address), STORE_T(name),
		   STORE_T(store_mode_name(mode)));
	bind_token(st, 6, 7, token);
	sqlite3_bind_int64(st, 8, (sqlite3_int64)util_now());
	sqlite3_bind_int64(st, 9, (sqlite3_int64)expires_at);
	return store_insert_id(s, st, "add subscription request", id_r);
}

int store_sub_request_find(struct store *s, const char *token,
			   struct store_sub_request *r, bool *found_r)
{
	static const char sql[] = "SELECT " REQ_COLS ", token"
		" FROM sub_requests WHERE selector = ?1"
		" AND state IN ('confirm','approve') ORDER BY id";
	struct store_rows rows;
	sqlite3_stmt *st;

	*found_r = false;
	if (strlen(token) < SELECTOR_LEN)
		return 0;
	st = store_rows_prep(&rows, s, sql, "find subscription request");
	if (st != NULL)
		bind_token(st, 1, 2, token);
	/* Every candidate is compared, so that the time taken says nothing of
	 * which one matched. */
	for (; store_rows_valid(&rows); store_rows_next(&rows)) {
		const char *t = (const char *)sqlite3_column_text(st, 10);

		if (!*found_r && t != NULL && util_token_equal(t, token)) {
			request_from_row(st, r);
			*found_r = true;
		}
	}
	if (store_rows_end(&rows) < 0) {
		if (*found_r)
			store_sub_request_clear(r);
		*found_r = false;
		return -1;
	}
	return 0;
}

int store_sub_request_get(struct store *s, const char *list, int64_t id,
			  struct store_sub_request *r, bool *found_r)
{
	static const char sql[] = "SELECT " REQ_COLS
		" FROM sub_requests WHERE id = ?1 AND list = ?2";
	struct store_rows rows;
	sqlite3_stmt *st = store_rows_prep(&rows, s, sql,
					   "get subscription request");

	*found_r = false;
	store_bind(st, STORE_I(id), STORE_T(list));
	if (store_rows_valid(&rows)) {
		request_from_row(st, r);
		*found_r = true;
	}
	return store_rows_end(&rows);
}

int store_sub_request_set_state(struct store *s, int64_t id,
				enum store_sub_state state, const char *token,
				time_t expires_at, const char *decided_by)
{
	static const char sql[] =
		"UPDATE sub_requests SET state = ?1,"
		" selector = coalesce(?2, selector), token = coalesce(?3, token),"
		" expires_at = CASE WHEN ?4 > 0 THEN ?4 ELSE expires_at END,"
		" decided_at = CASE WHEN ?1 IN ('confirm','approve') THEN NULL"
		"   ELSE ?5 END,"
		" decided_by = coalesce(?6, decided_by)"
		" WHERE id = ?7";
	sqlite3_stmt *st = store_prep(s, sql);

	if (st == NULL)
		return -1;
	store_bind_text(st, 1, store_sub_state_name(state));
	if (token != NULL)
		bind_token(st, 2, 3, token);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)expires_at);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)util_now());
	store_bind_text(st, 6, decided_by);
	sqlite3_bind_int64(st, 7, id);
	return store_step_done(s, st, "update subscription request");
}

int store_sub_request_expire(struct store *s, const char *list, time_t now,
			     int64_t *n_r)
{
	static const char sql[] =
		"UPDATE sub_requests SET state = 'expired', decided_at = ?2"
		" WHERE list = ?1 AND state IN ('confirm','approve')"
		" AND expires_at <= ?2";
	sqlite3_stmt *st = store_prep(s, sql);

	if (st == NULL)
		return -1;
	store_bind(st, STORE_T(list), STORE_I(now));
	if (store_step_done(s, st, "expire subscription requests") < 0)
		return -1;
	if (n_r != NULL)
		*n_r = sqlite3_changes(s->db);
	return 0;
}

STORE_FOREACH_ROW(request_each, struct store_sub_request, request_from_row,
		  store_sub_request_clear)

int store_sub_request_foreach(struct store *s, const char *list,
			      int (*fn)(const struct store_sub_request *r,
					void *ctx),
			      void *ctx)
{
	static const char sql[] = "SELECT " REQ_COLS
		" FROM sub_requests WHERE list = ?1"
		" AND state IN ('confirm','approve') ORDER BY id";
	struct request_each_cb cb = { fn, ctx };
	struct store_rows rows;
	sqlite3_stmt *st = store_rows_prep(&rows, s, sql,
					   "list subscription requests");

	store_bind(st, STORE_T(list));
	return store_rows_each(&rows, request_each, &cb);
}

int store_sub_rate_take(struct store *s, const char *address, time_t now,
			long window, long max, bool *allowed_r)
{
	static const char prune_sql[] =
		"DELETE FROM answer_log WHERE address = ?1 AND at <= ?2";
	static const char count_sql[] =
		"SELECT count(*) FROM answer_log WHERE address = ?1";
	static const char add_sql[] =
		"INSERT INTO answer_log (address, at) VALUES (?1, ?2)";
	int64_t n;

	*allowed_r = false;
	if (store_run(s, prune_sql, "prune answer log", STORE_T(address),
		      STORE_I(now - window)) < 0 ||
	    store_count(s, count_sql, "count answers", &n,
			STORE_T(address)) < 0)
		return -1;
	if (n >= max)
		return 0;
	if (store_run(s, add_sql, "log answer", STORE_T(address),
		      STORE_I(now)) < 0)
		return -1;
	*allowed_r = true;
	return 0;
}
