/* store_bounces - bounce reports, scores, probes */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "store/store.h"
#include "store/store_bounces.h"
#include "store_int.h"
#include "base/xalloc.h"

/* The schema step for bounce reports, scores, probes (see migrations in
 * store.c). bounce_events keeps every bounce as it came (history for
 * reports); bounce_state holds one row per member with a bounce record:
 * what was scored on which day, and the probes once delivery is disabled.
 * A state row goes with its member. */
const char *const store_schema_bounces[] = {
	"CREATE TABLE bounce_events ("
	"  id INTEGER PRIMARY KEY,"
	"  list TEXT NOT NULL,"
	"  address TEXT NOT NULL,"
	"  at INTEGER NOT NULL,"
	"  severity TEXT NOT NULL CHECK (severity IN ('hard','soft')),"
	"  status TEXT,"
	"  scored REAL NOT NULL DEFAULT 0)",
	"CREATE INDEX bounce_events_by_member ON bounce_events"
	"  (list, address, at)",
	"CREATE TABLE bounce_state ("
	"  list TEXT NOT NULL,"
	"  address TEXT NOT NULL,"
	"  last_day INTEGER NOT NULL DEFAULT -1,"
	"  last_weight REAL NOT NULL DEFAULT 0,"
	"  last_bounce_at INTEGER NOT NULL DEFAULT 0,"
	"  probes INTEGER NOT NULL DEFAULT 0,"
	"  next_probe_at INTEGER,"
	"  token TEXT UNIQUE,"
	"  disabled_at INTEGER,"
	"  PRIMARY KEY (list, address),"
	"  FOREIGN KEY (list, address) REFERENCES members (list, address)"
	"    ON DELETE CASCADE)",
	"CREATE INDEX bounce_state_due ON bounce_state (list, next_probe_at)"
	"  WHERE next_probe_at IS NOT NULL",
	"CREATE INDEX bounce_state_quiet ON bounce_state (list, last_bounce_at)",
};
const size_t store_schema_bounces_n =
	sizeof store_schema_bounces / sizeof store_schema_bounces[0];

/* The address of a member (?1 list, ?2 key) a query finds, or NULL. */
static int one_address(struct store *s, const char *sql, const char *what,
		       const char *list, const char *key, char **member_r)
{
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, what);

	store_bind(st, STORE_T(list), STORE_T(key));
	return store_rows_first_text(&r, member_r);
}

int store_bounce_find_member(struct store *s, const char *list,
			     const char *address, char **member_r)
{
	static const char sql[] =
		"SELECT address FROM members WHERE list = ?1"
		" AND address = ?2 COLLATE NOCASE ORDER BY address = ?2 DESC,"
		" id LIMIT 1";

	return one_address(s, sql, "find member", list, address, member_r);
}

int store_bounce_event_add(struct store *s, const char *list,
			   const char *address, const char *severity,
			   const char *status, double scored, time_t at)
{
	static const char sql[] =
		"INSERT INTO bounce_events (list, address, at, severity,"
		" status, scored) VALUES (?, ?, ?, ?, ?, ?)";
	sqlite3_stmt *st = store_prep(s, sql);

	if (st == NULL)
		return -1;
	store_bind(st, STORE_T(list), STORE_T(address), STORE_I(at),
		   STORE_T(severity));
	store_bind_text(st, 5, status != NULL && *status != '\0' ? status :
			NULL);
	sqlite3_bind_double(st, 6, scored);
	return store_step_done(s, st, "add bounce event");
}

int store_bounce_info_get(struct store *s, const char *list,
			  const char *address, struct store_bounce_info *b,
			  bool *found_r)
{
	static const char sql[] =
		"SELECT last_day, last_weight, last_bounce_at, probes,"
		" coalesce(next_probe_at, 0) FROM bounce_state"
		" WHERE list = ? AND address = ?";
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "get bounce state");

	memset(b, 0, sizeof *b);
	b->last_day = -1;
	*found_r = false;
	store_bind(st, STORE_T(list), STORE_T(address));
	if (store_rows_valid(&r)) {
		b->last_day = sqlite3_column_int64(st, 0);
		b->last_weight = sqlite3_column_double(st, 1);
		b->last_bounce_at = (time_t)sqlite3_column_int64(st, 2);
		b->probes = sqlite3_column_int(st, 3);
		b->next_probe_at = (time_t)sqlite3_column_int64(st, 4);
		*found_r = true;
	}
	return store_rows_end(&r);
}

int store_bounce_scored(struct store *s, const char *list,
			const char *address, double score, int64_t day,
			double weight, time_t at)
{
	static const char upd[] =
		"UPDATE members SET bounce_score = ?3 WHERE list = ?1"
		" AND address = ?2";
	static const char ups[] =
		"INSERT INTO bounce_state (list, address, last_day,"
		" last_weight, last_bounce_at) VALUES (?1, ?2, ?3, ?4, ?5)"
		" ON CONFLICT (list, address) DO UPDATE SET"
		" last_day = excluded.last_day,"
		" last_weight = excluded.last_weight,"
		" last_bounce_at = excluded.last_bounce_at";
	sqlite3_stmt *st = store_prep2(s, upd, list, address);

	if (st == NULL)
		return -1;
	sqlite3_bind_double(st, 3, score);
	if (store_step_done(s, st, "set bounce score") < 0 ||
	    (st = store_prep2(s, ups, list, address)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 3, (sqlite3_int64)day);
	sqlite3_bind_double(st, 4, weight);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)at);
	return store_step_done(s, st, "set bounce state");
}

int store_bounce_disable(struct store *s, const char *list,
			 const char *address, const char *token, time_t now,
			 time_t next_probe_at)
{
	static const char upd[] =
		"UPDATE members SET status = 'disabled' WHERE list = ?1"
		" AND address = ?2";
	static const char ups[] =
		"INSERT INTO bounce_state (list, address, probes,"
		" next_probe_at, token, disabled_at)"
		" VALUES (?1, ?2, 1, ?3, ?4, ?5)"
		" ON CONFLICT (list, address) DO UPDATE SET probes = 1,"
		" next_probe_at = excluded.next_probe_at,"
		" token = excluded.token, disabled_at = excluded.disabled_at";
	sqlite3_stmt *st = store_prep2(s, upd, list, address);

	if (st == NULL || store_step_done(s, st, "disable member") < 0 ||
	    (st = store_prep2(s, ups, list, address)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 3, (sqlite3_int64)next_probe_at);
	store_bind_text(st, 4, token);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)now);
	return store_step_done(s, st, "record probe");
}

int store_bounce_probe_sent(struct store *s, const char *list,
			    const char *address, time_t next_probe_at)
{
	static const char sql[] =
		"UPDATE bounce_state SET probes = probes + 1,"
		" next_probe_at = ?3 WHERE list = ?1 AND address = ?2";
	sqlite3_stmt *st = store_prep2(s, sql, list, address);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 3, (sqlite3_int64)next_probe_at);
	return store_step_done(s, st, "count probe");
}

int store_bounce_enable(struct store *s, const char *list,
			const char *address, bool *found_r)
{
	static const char upd[] =
		"UPDATE members SET status = 'active', bounce_score = 0"
		" WHERE list = ?1 AND address = ?2 AND status != 'pending'";
	static const char del[] =
		"DELETE FROM bounce_state WHERE list = ?1 AND address = ?2";
	sqlite3_stmt *st = store_prep2(s, upd, list, address);

	if (st == NULL || store_step_done(s, st, "enable member") < 0)
		return -1;
	*found_r = sqlite3_changes(s->db) > 0;
	st = store_prep2(s, del, list, address);
	if (st == NULL)
		return -1;
	return store_step_done(s, st, "forget bounce state");
}

int store_bounce_token_member(struct store *s, const char *list,
			      const char *token, char **member_r)
{
	static const char sql[] =
		"SELECT b.address FROM bounce_state b JOIN members m"
		" ON m.list = b.list AND m.address = b.address"
		" WHERE b.list = ?1 AND b.token = ?2 AND m.status = 'disabled'";

	return one_address(s, sql, "find probe token", list, token, member_r);
}

static int due_row(sqlite3_stmt *st, void *vec)
{
	struct store_bounce_due *e = store_vec_push(vec);

	e->address = store_col_text(st, 0);
	e->token = store_col_text(st, 1);
	e->probes = sqlite3_column_int(st, 2);
	e->score = sqlite3_column_double(st, 3);
	return 0;
}

int store_bounce_due_list(struct store *s, const char *list, time_t now,
			  size_t max, struct store_bounce_due **v_r,
			  size_t *n_r)
{
	static const char sql[] =
		"SELECT b.address, b.token, b.probes, m.bounce_score"
		" FROM bounce_state b JOIN members m"
		" ON m.list = b.list AND m.address = b.address"
		" WHERE b.list = ? AND b.next_probe_at IS NOT NULL"
		" AND b.next_probe_at <= ? AND m.status = 'disabled'"
		" ORDER BY b.next_probe_at LIMIT ?";
	struct store_vec vec = STORE_VEC_INIT(struct store_bounce_due);
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "due probes");
	int rc;

	store_bind(st, STORE_T(list), STORE_I(now), STORE_I(max));
	rc = store_rows_each(&r, due_row, &vec);
	*v_r = vec.v;
	*n_r = vec.n;
	if (rc < 0)
		store_bounce_due_free(v_r, *n_r);
	return rc;
}

void store_bounce_due_free(struct store_bounce_due **v, size_t n)
{
	size_t i;

	if (*v == NULL)
		return;
	for (i = 0; i < n; i++) {
		free((*v)[i].address);
		free((*v)[i].token);
	}
	xfree(v);
}

int store_bounce_decay(struct store *s, const char *list, time_t quiet,
		       int64_t *n_r)
{
	static const char upd[] =
		"UPDATE members SET bounce_score = 0 WHERE list = ?"
		" AND status = 'active' AND address IN (SELECT address"
		" FROM bounce_state WHERE list = ? AND last_bounce_at < ?"
		" AND next_probe_at IS NULL)";
	static const char del[] =
		"DELETE FROM bounce_state WHERE list = ? AND last_bounce_at < ?"
		" AND next_probe_at IS NULL";
	sqlite3_stmt *st = store_prep(s, upd);

	*n_r = 0;
	if (st == NULL)
		return -1;
	store_bind(st, STORE_T(list), STORE_T(list), STORE_I(quiet));
	if (store_step_done(s, st, "decay scores") < 0)
		return -1;
	*n_r = sqlite3_changes(s->db);
	st = store_prep(s, del);
	if (st == NULL)
		return -1;
	store_bind(st, STORE_T(list), STORE_I(quiet));
	return store_step_done(s, st, "forget quiet bounces");
}
