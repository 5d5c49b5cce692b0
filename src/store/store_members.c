/* store_members - members and the recipient stream */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "store/store.h"
#include "store_int.h"
#include "base/log.h"
#include "base/util.h"
#include "base/xalloc.h"

/* ---- members ---- */

static const char *const mode_names[] = {
	"immediate", "digest", "digest-plain", "nomail"
};
static const char *const status_names[] = { "active", "disabled", "pending" };

/* The index of name in names[0..n-1], or -1. */
static int name_index(const char *name, const char *const *names, int n)
{
	int i;

	for (i = 0; name != NULL && i < n; i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	return -1;
}

const char *store_mode_name(enum store_mode m)
{
	return (unsigned)m < 4 ? mode_names[m] : "immediate";
}

int store_mode_parse(const char *str, enum store_mode *m_r)
{
	int i = name_index(str, mode_names, 4);

	if (i >= 0)
		*m_r = (enum store_mode)i;
	return i >= 0 ? 0 : -1;
}

const char *store_member_status_name(enum store_member_status st)
{
	return (unsigned)st < 3 ? status_names[st] : "active";
}

int store_member_status_parse(const char *str, enum store_member_status *st_r)
{
	int i = name_index(str, status_names, 3);

	if (i >= 0)
		*st_r = (enum store_member_status)i;
	return i >= 0 ? 0 : -1;
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
	sqlite3_stmt *st = store_prep(s, sql);

	if (st == NULL)
		return -1;
	store_bind(st, STORE_T(list), STORE_T(address), STORE_T(name),
		   STORE_T(store_mode_name(mode)), STORE_I(util_now()));
	if (store_step_done(s, st, "add member") < 0)
		return -1;
	*added_r = sqlite3_changes(s->db) > 0;
	return 0;
}

int store_member_remove(struct store *s, const char *list, const char *address,
			bool *removed_r)
{
	static const char sql[] =
		"DELETE FROM members WHERE list = ? AND address = ?";
	sqlite3_stmt *st = store_prep(s, sql);

	if (st == NULL)
		return -1;
	store_bind(st, STORE_T(list), STORE_T(address));
	if (store_step_done(s, st, "remove member") < 0)
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
	m->list = store_col_text(st, 1);
	m->address = store_col_text(st, 2);
	m->name = store_col_text(st, 3);
	mode = store_col_text(st, 4);
	status = store_col_text(st, 5);
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
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "get member");

	*found_r = false;
	store_bind(st, STORE_T(list), STORE_T(address));
	if (store_rows_valid(&r)) {
		member_from_row(st, m);
		*found_r = true;
	}
	return store_rows_end(&r);
}

int store_member_set_mode(struct store *s, const char *list,
			  const char *address, enum store_mode mode,
			  bool *found_r)
{
	/* The mode before the switch covers the posts accepted so far; a
	 * second switch before the next post keeps the first one's record. */
	static const char sql_switch[] =
		"INSERT OR IGNORE INTO mode_switches (member, seq, old_mode)"
		" SELECT id, ?4, mode FROM members WHERE list = ?2"
		" AND address = ?3 AND mode <> ?1";
	static const char sql[] =
		"UPDATE members SET mode_seq = CASE WHEN mode <> ?1 THEN ?4"
		" ELSE mode_seq END, mode = ?1 WHERE list = ?2 AND address = ?3";
	const char *name = store_mode_name(mode);
	bool own = sqlite3_get_autocommit(s->db) != 0;
	sqlite3_stmt *st;
	int64_t seq;

	if (own && store_begin(s) < 0)
		return -1;
	if (store_digest_seq_now(s, &seq) < 0)
		goto fail;
	st = store_prep(s, sql_switch);
	if (st == NULL)
		goto fail;
	store_bind(st, STORE_T(name), STORE_T(list), STORE_T(address),
		   STORE_I(seq));
	if (store_step_done(s, st, "record mode switch") < 0)
		goto fail;
	st = store_prep(s, sql);
	if (st == NULL)
		goto fail;
	store_bind(st, STORE_T(name), STORE_T(list), STORE_T(address),
		   STORE_I(seq));
	if (store_step_done(s, st, "set mode") < 0)
		goto fail;
	*found_r = sqlite3_changes(s->db) > 0;
	if (own && store_commit(s) < 0)
		goto fail;
	return 0;
fail:
	if (own)
		store_rollback(s);
	return -1;
}

int store_member_count(struct store *s, const char *list, int64_t *count_r)
{
	static const char sql[] = "SELECT count(*) FROM members WHERE list = ?";

	return store_count(s, sql, "count members", count_r, STORE_T(list));
}

static const char *const audience_names[] = {
	"immediate", "mail", "digest", "digest-plain"
};

const char *store_audience_name(enum store_audience a)
{
	return (unsigned)a < 4 ? audience_names[a] : "immediate";
}

int store_audience_parse(const char *str, enum store_audience *a_r)
{
	int i;

	for (i = 0; i < 4; i++) {
		if (strcmp(str, audience_names[i]) == 0) {
			*a_r = (enum store_audience)i;
			return 0;
		}
	}
	return -1;
}

/* The members of an audience (?7, its name) by the mode they had for the
 * posts numbered ?5 to ?6 (0: their current mode). */
#define AUDIENCE_SQL \
	" AND status = 'active' AND CASE WHEN ?7 = 'mail'" \
	" THEN " STORE_MODE_FOR("?5", "?6") " <> 'nomail'" \
	" ELSE " STORE_MODE_FOR("?5", "?6") " = ?7 END"

int store_recipients_count(struct store *s, const char *list,
			   enum store_audience audience, int64_t *count_r)
{
	static const char sql[] = "SELECT count(*) FROM members WHERE"
		" list = ?1" AUDIENCE_SQL;
	sqlite3_stmt *st = store_prep(s, sql);

	if (st == NULL)
		return -1;
	store_bind_text(st, 1, list);
	sqlite3_bind_int64(st, 5, 0);
	sqlite3_bind_int64(st, 6, 0);
	store_bind_text(st, 7, store_audience_name(audience));
	return store_count_query(s, st, count_r, "count recipients");
}

/* A callback of a _foreach and its context. */
STORE_FOREACH_ROW(member_each, struct store_member, member_from_row,
		  store_member_clear)

int store_member_foreach(struct store *s, const char *list,
			 int (*fn)(const struct store_member *m, void *ctx),
			 void *ctx)
{
	static const char sql[] = "SELECT " MEMBER_COLS
		" FROM members WHERE list = ? ORDER BY id";
	struct member_each_cb cb = { fn, ctx };
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "list members");

	store_bind(st, STORE_T(list));
	return store_rows_each(&r, member_each, &cb);
}

int store_recipients_next(struct store *s, const struct store_job *j,
			  int64_t after, int64_t before, size_t max,
			  char ***addrs_r, size_t *n_r, int64_t *last_id_r)
{
	static const char sql[] =
		"SELECT id, address FROM members WHERE list = ?1 AND id > ?2"
		" AND (?4 = 0 OR id < ?4)" AUDIENCE_SQL
		" ORDER BY id LIMIT ?3";
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "read recipients");
	char **v = xcalloc(max + 1, sizeof *v);
	size_t n = 0;

	*addrs_r = NULL;
	*n_r = 0;
	*last_id_r = after;
	store_bind(st, STORE_T(j->list), STORE_I(after), STORE_I(max),
		   STORE_I(before), STORE_I(j->seq_from), STORE_I(j->seq_to),
		   STORE_T(store_audience_name(j->audience)));
	for (; n < max && store_rows_valid(&r); store_rows_next(&r)) {
		*last_id_r = sqlite3_column_int64(st, 0);
		v[n++] = store_col_text(st, 1);
	}
	if (store_rows_end(&r) < 0) {
		store_strv_free(&v, n);
		return -1;
	}
	*addrs_r = v;
	*n_r = n;
	return 0;
}

int store_job_recipients_count(struct store *s, const struct store_job *j,
			       int64_t *count_r)
{
	static const char sql[] = "SELECT count(*) FROM members WHERE"
		" list = ?1" AUDIENCE_SQL;
	sqlite3_stmt *st = store_prep(s, sql);

	if (st == NULL)
		return -1;
	store_bind_text(st, 1, j->list);
	sqlite3_bind_int64(st, 5, j->seq_from);
	sqlite3_bind_int64(st, 6, j->seq_to);
	store_bind_text(st, 7, store_audience_name(j->audience));
	return store_count_query(s, st, count_r, "count recipients");
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
