/* store_polls - polls, their options and votes */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "store/store.h"
#include "store/store_polls.h"
#include "store_int.h"
#include "base/xalloc.h"

void store_poll_clear(struct store_poll *p)
{
	size_t i;

	free(p->list);
	free(p->question);
	free(p->created_by);
	for (i = 0; i < p->noptions; i++)
		free(p->options[i]);
	memset(p, 0, sizeof *p);
}

int store_poll_add(struct store *s, const struct store_poll *p,
		   int64_t *id_r)
{
	static const char sql[] =
		"INSERT INTO polls (list, question, created_by, created_at,"
		" closes_at, to_list) VALUES (?, ?, ?, ?, ?, ?)";
	static const char sql_opt[] =
		"INSERT INTO poll_options (poll, number, text) VALUES (?, ?, ?)";
	sqlite3_stmt *st = store_prep2(s, sql, p->list, p->question);
	size_t i;

	if (st == NULL)
		return -1;
	store_bind_text(st, 3, p->created_by);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)p->created_at);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)p->closes_at);
	sqlite3_bind_int(st, 6, p->to_list ? 1 : 0);
	if (store_insert_id(s, st, "add poll", id_r) < 0)
		return -1;
	for (i = 0; i < p->noptions; i++) {
		st = store_prep(s, sql_opt);
		if (st == NULL)
			return -1;
		store_bind(st, STORE_I(*id_r), STORE_I((int)i + 1),
			   STORE_T(p->options[i]));
		if (store_step_done(s, st, "add poll option") < 0)
			return -1;
	}
	return 0;
}

#define POLL_COLUMNS \
	"id, list, question, created_by, created_at, closes_at, to_list," \
	" state, coalesce(closed_at, 0)"

static void poll_from_row(sqlite3_stmt *st, struct store_poll *p)
{
	p->id = sqlite3_column_int64(st, 0);
	p->list = store_col_text(st, 1);
	p->question = store_col_text(st, 2);
	p->created_by = store_col_text(st, 3);
	p->created_at = (time_t)sqlite3_column_int64(st, 4);
	p->closes_at = (time_t)sqlite3_column_int64(st, 5);
	p->to_list = sqlite3_column_int(st, 6) != 0;
	p->closed = strcmp((const char *)sqlite3_column_text(st, 7),
			   "closed") == 0;
	p->closed_at = (time_t)sqlite3_column_int64(st, 8);
}

static int load_options(struct store *s, struct store_poll *p)
{
	static const char sql[] =
		"SELECT text FROM poll_options WHERE poll = ? ORDER BY number";
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "poll options");

	store_bind(st, STORE_I(p->id));
	for (; store_rows_valid(&r); store_rows_next(&r))
		if (p->noptions < STORE_POLL_OPTIONS_MAX)
			p->options[p->noptions++] = store_col_text(st, 0);
	return store_rows_end(&r);
}

int store_poll_get(struct store *s, int64_t id, struct store_poll *p,
		   bool *found_r)
{
	static const char sql[] =
		"SELECT " POLL_COLUMNS " FROM polls WHERE id = ?";
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "read poll");

	*found_r = false;
	memset(p, 0, sizeof *p);
	store_bind(st, STORE_I(id));
	if (store_rows_valid(&r)) {
		poll_from_row(st, p);
		*found_r = true;
	}
	if (store_rows_end(&r) < 0)
		return -1;
	if (*found_r && load_options(s, p) < 0) {
		store_poll_clear(p);
		*found_r = false;
		return -1;
	}
	return 0;
}

int store_poll_foreach(struct store *s, const char *list,
		       int (*fn)(const struct store_poll *p, void *ctx),
		       void *ctx)
{
	static const char sql[] =
		"SELECT " POLL_COLUMNS " FROM polls"
		" WHERE ?1 IS NULL OR list = ?1 ORDER BY id DESC";
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "list polls");
	int ret = 0;

	store_bind(st, STORE_T(list));
	for (; ret == 0 && store_rows_valid(&r); store_rows_next(&r)) {
		struct store_poll p = { 0 };

		poll_from_row(st, &p);
		ret = load_options(s, &p);
		if (ret == 0)
			ret = fn(&p, ctx);
		store_poll_clear(&p);
	}
	if (store_rows_end(&r) < 0)
		return -1;
	return ret;
}

int store_polls_due(struct store *s, time_t now, size_t max,
		    int64_t **ids_r, size_t *n_r)
{
	static const char sql[] =
		"SELECT id FROM polls WHERE state = 'open' AND closes_at <= ?"
		" ORDER BY closes_at, id LIMIT ?";
	struct store_vec vec = STORE_VEC_INIT(int64_t);
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "polls due");

	store_bind(st, STORE_I(now), STORE_I(max));
	for (; store_rows_valid(&r); store_rows_next(&r))
		*(int64_t *)store_vec_push(&vec) = sqlite3_column_int64(st, 0);
	*ids_r = vec.v;
	*n_r = vec.n;
	if (store_rows_end(&r) < 0) {
		xfree(ids_r);
		*n_r = 0;
		return -1;
	}
	return 0;
}

int store_poll_close(struct store *s, int64_t id, time_t at,
		     bool *changed_r)
{
	static const char sql[] =
		"UPDATE polls SET state = 'closed', closed_at = ?"
		" WHERE id = ? AND state = 'open'";
	sqlite3_stmt *st = store_prep(s, sql);

	if (st == NULL)
		return -1;
	store_bind(st, STORE_I(at), STORE_I(id));
	if (store_step_done(s, st, "close poll") < 0)
		return -1;
	*changed_r = sqlite3_changes(s->db) > 0;
	return 0;
}

int store_poll_vote(struct store *s, int64_t id, const char *address,
		    int option, time_t at, bool *changed_r)
{
	static const char sql_had[] =
		"SELECT count(*) FROM poll_votes WHERE poll = ? AND address = ?";
	static const char sql[] =
		"INSERT INTO poll_votes (poll, address, option, at)"
		" VALUES (?, ?, ?, ?) ON CONFLICT (poll, address) DO UPDATE"
		" SET option = excluded.option, at = excluded.at,"
		" changes = changes + 1";
	int64_t had = 0;

	if (store_count(s, sql_had, "earlier vote", &had, STORE_I(id),
			STORE_T(address)) < 0)
		return -1;
	*changed_r = had > 0;
	return store_run(s, sql, "record vote", STORE_I(id), STORE_T(address),
			 STORE_I(option), STORE_I(at));
}

int store_poll_tally(struct store *s, int64_t id, int64_t *counts, size_t n,
		     int64_t *voters_r, int64_t *changes_r)
{
	static const char sql[] =
		"SELECT option, count(*), sum(changes > 0) FROM poll_votes"
		" WHERE poll = ? GROUP BY option";
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "tally");

	memset(counts, 0, n * sizeof *counts);
	*voters_r = 0;
	*changes_r = 0;
	store_bind(st, STORE_I(id));
	for (; store_rows_valid(&r); store_rows_next(&r)) {
		int o = sqlite3_column_int(st, 0);
		int64_t c = sqlite3_column_int64(st, 1);

		if (o >= 1 && (size_t)o <= n)
			counts[o - 1] = c;
		*voters_r += c;
		*changes_r += sqlite3_column_int64(st, 2);
	}
	return store_rows_end(&r);
}
