/* store_holds - held posts, tokens, moderation decisions */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "store/store.h"
#include "store/store_holds.h"
#include "store_int.h"
#include "base/util.h"
#include "base/xalloc.h"

/* The schema step for held posts, tokens, moderation decisions (see
 * migrations in store.c). A token is looked up by its first 8 digits and
 * then compared whole in constant time, so the index never answers for a
 * whole guessed token. */
const char *const store_schema_moderation[] = {
	"CREATE INDEX holds_by_token_prefix ON holds (substr(token, 1, 8))",
	"CREATE INDEX holds_by_age ON holds (list, state, held_at)",
	"CREATE TABLE mod_bans ("
	"  id INTEGER PRIMARY KEY,"
	"  list TEXT NOT NULL,"
	"  address TEXT NOT NULL,"
	"  added_at INTEGER NOT NULL,"
	"  added_by TEXT,"
	"  UNIQUE (list, address))",
	"CREATE TABLE mod_allow ("
	"  id INTEGER PRIMARY KEY,"
	"  list TEXT NOT NULL,"
	"  address TEXT NOT NULL,"
	"  added_at INTEGER NOT NULL,"
	"  added_by TEXT,"
	"  UNIQUE (list, address))",
	"CREATE TABLE mod_notices ("
	"  list TEXT NOT NULL,"
	"  address TEXT NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  sent_at INTEGER NOT NULL,"
	"  PRIMARY KEY (list, address, kind))",
};
const size_t store_schema_moderation_n =
	sizeof store_schema_moderation / sizeof store_schema_moderation[0];

#define HOLD_COLUMNS \
	"id, message, list, sender, subject, message_id, reason, token," \
	" state, held_at, coalesce(decided_at, 0), decided_by"

void store_hold_clear(struct store_hold *h)
{
	xfree(&h->list);
	xfree(&h->sender);
	xfree(&h->subject);
	xfree(&h->message_id);
	xfree(&h->reason);
	xfree(&h->token);
	xfree(&h->state);
	xfree(&h->decided_by);
}

static void hold_from_row(sqlite3_stmt *st, struct store_hold *h)
{
	h->id = sqlite3_column_int64(st, 0);
	h->message = sqlite3_column_int64(st, 1);
	h->list = store_col_text(st, 2);
	h->sender = store_col_text(st, 3);
	h->subject = store_col_text(st, 4);
	h->message_id = store_col_text(st, 5);
	h->reason = store_col_text(st, 6);
	h->token = store_col_text(st, 7);
	h->state = store_col_text(st, 8);
	h->held_at = (time_t)sqlite3_column_int64(st, 9);
	h->decided_at = (time_t)sqlite3_column_int64(st, 10);
	h->decided_by = store_col_text(st, 11);
}

int store_holds_set_token(struct store *s, int64_t id, const char *token)
{
	static const char sql[] = "UPDATE holds SET token = ? WHERE id = ?";
	return store_run(s, sql, "set hold token", STORE_T(token), STORE_I(id));
}

int store_holds_by_token(struct store *s, const char *list, const char *token,
			 struct store_hold *h, bool *found_r)
{
	static const char sql[] =
		"SELECT " HOLD_COLUMNS " FROM holds"
		" WHERE substr(token, 1, 8) = ? AND list = ?";
	struct store_rows r;
	sqlite3_stmt *st;
	char prefix[9];

	*found_r = false;
	if (strlen(token) != 32)
		return 0;
	st = store_rows_prep(&r, s, sql, "find hold by token");
	memcpy(prefix, token, 8);
	prefix[8] = '\0';
	store_bind(st, STORE_T(prefix), STORE_T(list));
	/* Every candidate is compared, so that the time taken says nothing of
	 * which one matched. */
	for (; store_rows_valid(&r); store_rows_next(&r)) {
		const char *t = (const char *)sqlite3_column_text(st, 7);

		if (t != NULL && util_token_equal(t, token) && !*found_r) {
			hold_from_row(st, h);
			*found_r = true;
		}
	}
	if (store_rows_end(&r) < 0) {
		if (*found_r)
			store_hold_clear(h);
		*found_r = false;
		return -1;
	}
	return 0;
}

int store_holds_get(struct store *s, const char *list, int64_t id,
		    struct store_hold *h, bool *found_r)
{
	static const char sql[] =
		"SELECT " HOLD_COLUMNS " FROM holds WHERE id = ? AND list = ?";
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "get hold");

	*found_r = false;
	store_bind(st, STORE_I(id), STORE_T(list));
	if (store_rows_valid(&r)) {
		hold_from_row(st, h);
		*found_r = true;
	}
	return store_rows_end(&r);
}

STORE_FOREACH_ROW(hold_each, struct store_hold, hold_from_row,
		  store_hold_clear)

int store_holds_foreach(struct store *s, const char *list,
			int (*fn)(const struct store_hold *h, void *ctx),
			void *ctx)
{
	static const char sql[] =
		"SELECT " HOLD_COLUMNS " FROM holds"
		" WHERE list = ? AND state = 'held' ORDER BY id";
	struct hold_each_cb cb = { fn, ctx };
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "list holds");

	store_bind(st, STORE_T(list));
	return store_rows_each(&r, hold_each, &cb);
}

int store_holds_decide(struct store *s, int64_t id, const char *state,
		       const char *by, time_t at, bool *changed_r)
{
	static const char sql[] =
		"UPDATE holds SET state = ?, decided_by = ?, decided_at = ?"
		" WHERE id = ? AND state = 'held'";
	sqlite3_stmt *st = store_prep(s, sql);

	*changed_r = false;
	if (st == NULL)
		return -1;
	store_bind(st, STORE_T(state), STORE_T(by), STORE_I(at), STORE_I(id));
	if (store_step_done(s, st, "decide hold") < 0)
		return -1;
	*changed_r = sqlite3_changes(s->db) == 1;
	return 0;
}

static int id_row(sqlite3_stmt *st, void *vec)
{
	*(int64_t *)store_vec_push(vec) = sqlite3_column_int64(st, 0);
	return 0;
}

int store_holds_due(struct store *s, const char *list, time_t before,
		    size_t max, int64_t **ids_r, size_t *n_r)
{
	static const char sql[] =
		"SELECT id FROM holds WHERE list = ? AND state = 'held'"
		" AND held_at <= ? ORDER BY held_at, id LIMIT ?";
	struct store_vec vec = STORE_VEC_INIT(int64_t);
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "due holds");
	int rc;

	store_bind(st, STORE_T(list), STORE_I(before), STORE_I(max));
	rc = store_rows_each(&r, id_row, &vec);
	*ids_r = vec.v;
	*n_r = vec.n;
	if (rc < 0)
		xfree(ids_r);
	return rc;
}

int store_holds_ban_add(struct store *s, const char *list,
			const char *address, const char *by, bool *added_r)
{
	static const char sql[] =
		"INSERT OR IGNORE INTO mod_bans (list, address, added_at,"
		" added_by) VALUES (?, ?, ?, ?)";
	sqlite3_stmt *st = store_prep(s, sql);

	*added_r = false;
	if (st == NULL)
		return -1;
	store_bind(st, STORE_T(list), STORE_T(address), STORE_I(util_now()),
		   STORE_T(by));
	if (store_step_done(s, st, "add ban") < 0)
		return -1;
	*added_r = sqlite3_changes(s->db) == 1;
	return 0;
}

/* Whether (list, address) is a row of a table, by a statement given. */
static int has_row(struct store *s, const char *sql, const char *list,
		   const char *address, bool *has_r, const char *what)
{
	int64_t n;

	*has_r = false;
	if (store_count(s, sql, what, &n, STORE_T(list), STORE_T(address)) < 0)
		return -1;
	*has_r = n > 0;
	return 0;
}

int store_holds_banned(struct store *s, const char *list, const char *address,
		       bool *banned_r)
{
	static const char sql[] =
		"SELECT count(*) FROM mod_bans WHERE list = ? AND address = ?";

	return has_row(s, sql, list, address, banned_r, "check ban");
}

int store_holds_has(struct store *s, const char *list,
		    const char *message_id, bool *found_r)
{
	static const char sql[] =
		"SELECT count(*) FROM holds WHERE list = ? AND message_id = ?";

	return has_row(s, sql, list, message_id, found_r, "check holds");
}

int store_holds_allow_add(struct store *s, const char *list,
			  const char *address, const char *by)
{
	static const char sql[] =
		"INSERT OR IGNORE INTO mod_allow (list, address, added_at,"
		" added_by) VALUES (?, ?, ?, ?)";
	return store_run(s, sql, "allow sender", STORE_T(list),
			 STORE_T(address), STORE_I(util_now()), STORE_T(by));
}

int store_holds_allowed(struct store *s, const char *list,
			const char *address, bool *allowed_r)
{
	static const char sql[] =
		"SELECT count(*) FROM mod_allow WHERE list = ? AND address = ?";

	return has_row(s, sql, list, address, allowed_r, "check allow list");
}

int store_holds_unmoderate(struct store *s, const char *list,
			   const char *address, bool *found_r)
{
	static const char sql[] =
		"UPDATE members SET moderated = 0 WHERE list = ? AND address = ?";
	sqlite3_stmt *st = store_prep(s, sql);

	*found_r = false;
	if (st == NULL)
		return -1;
	store_bind(st, STORE_T(list), STORE_T(address));
	if (store_step_done(s, st, "unmoderate member") < 0)
		return -1;
	*found_r = sqlite3_changes(s->db) > 0;
	return 0;
}

int store_holds_notice_due(struct store *s, const char *list,
			   const char *address, const char *kind, time_t now,
			   long interval, bool *due_r)
{
	static const char sql[] =
		"INSERT INTO mod_notices (list, address, kind, sent_at)"
		" VALUES (?1, ?2, ?3, ?4)"
		" ON CONFLICT (list, address, kind) DO UPDATE SET sent_at = ?4"
		" WHERE sent_at <= ?4 - ?5";
	sqlite3_stmt *st = store_prep(s, sql);

	*due_r = false;
	if (st == NULL)
		return -1;
	store_bind(st, STORE_T(list), STORE_T(address), STORE_T(kind),
		   STORE_I(now), STORE_I(interval));
	if (store_step_done(s, st, "notice rate limit") < 0)
		return -1;
	*due_r = sqlite3_changes(s->db) == 1;
	return 0;
}
