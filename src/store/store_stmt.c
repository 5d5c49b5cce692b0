/* store_stmt - the statement cache, the row iterator, one-step helpers */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "store/store.h"
#include "store_int.h"
#include "base/xalloc.h"

/* ---- the cache: open addressing on the literal's address ---- */

static size_t slot_hash(const char *sql, size_t cap)
{
	uint64_t h = (uint64_t)(uintptr_t)sql;

	h ^= h >> 33;
	h *= UINT64_C(0xff51afd7ed558ccd);
	h ^= h >> 33;
	return (size_t)h & (cap - 1);
}

static struct stmt_slot *slot_find(struct stmt_slot *v, size_t cap,
				   const char *sql)
{
	size_t i = slot_hash(sql, cap);

	while (v[i].sql != NULL && v[i].sql != sql)
		i = (i + 1) & (cap - 1);
	return &v[i];
}

static void cache_grow(struct store *s)
{
	size_t cap = s->cap ? s->cap * 2 : 64, i;
	struct stmt_slot *v = xcalloc(cap, sizeof *v);

	for (i = 0; i < s->cap; i++)
		if (s->cache[i].sql != NULL)
			*slot_find(v, cap, s->cache[i].sql) = s->cache[i];
	free(s->cache);
	s->cache = v;
	s->cap = cap;
}

/* The slot of sql, made when absent. */
static struct stmt_slot *slot_of(struct store *s, const char *sql)
{
	struct stmt_slot *slot;

	if (2 * (s->ncache + 1) > s->cap)
		cache_grow(s);
	slot = slot_find(s->cache, s->cap, sql);
	if (slot->sql == NULL) {
		slot->sql = sql;
		s->ncache++;
	}
	return slot;
}

static sqlite3_stmt *prepare(struct store *s, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
				    &st, NULL);

	if (rc != SQLITE_OK) {
		store_set_err(s, rc, "prepare");
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

sqlite3_stmt *store_prep(struct store *s, const char *sql)
{
	struct stmt_slot *slot = slot_of(s, sql);

	if (slot->idle != NULL) {
		sqlite3_reset(slot->idle);
		sqlite3_clear_bindings(slot->idle);
		return slot->idle;
	}
	slot->idle = prepare(s, sql);
	return slot->idle;
}

sqlite3_stmt *store_prep2(struct store *s, const char *sql, const char *a,
			  const char *b)
{
	sqlite3_stmt *st = store_prep(s, sql);

	store_bind(st, STORE_T(a), STORE_T(b));
	return st;
}

void store_cache_free(struct store *s)
{
	size_t i;

	for (i = 0; i < s->cap; i++)
		sqlite3_finalize(s->cache[i].idle);
	xfree(&s->cache);
	s->ncache = s->cap = 0;
}

/* ---- the row iterator ---- */

sqlite3_stmt *store_rows_prep(struct store_rows *r, struct store *s,
			      const char *sql, const char *what)
{
	struct stmt_slot *slot = slot_of(s, sql);

	*r = (struct store_rows){ .s = s, .sql = sql, .what = what };
	if (slot->idle != NULL) {
		/* Taken out of the cache while the rows are read. */
		r->st = slot->idle;
		slot->idle = NULL;
		sqlite3_reset(r->st);
		sqlite3_clear_bindings(r->st);
	} else {
		r->st = prepare(s, sql);
	}
	if (r->st == NULL)
		r->rc = SQLITE_ERROR;
	return r->st;
}

bool store_rows_valid(struct store_rows *r)
{
	if (r->st == NULL)
		return false;
	if (r->rc == 0)
		r->rc = sqlite3_step(r->st);
	return r->rc == SQLITE_ROW;
}

void store_rows_next(struct store_rows *r)
{
	if (r->st != NULL && r->rc == SQLITE_ROW)
		r->rc = sqlite3_step(r->st);
}

int store_rows_end(struct store_rows *r)
{
	struct stmt_slot *slot;
	int ret = 0;

	if (r->st == NULL)
		return -1;
	if (r->rc != 0 && r->rc != SQLITE_ROW && r->rc != SQLITE_DONE) {
		store_set_err(r->s, r->rc, r->what);
		ret = -1;
	}
	sqlite3_reset(r->st);
	sqlite3_clear_bindings(r->st);
	slot = slot_of(r->s, r->sql);
	if (slot->idle == NULL)
		slot->idle = r->st;
	else
		sqlite3_finalize(r->st);
	r->st = NULL;
	return ret;
}

int store_rows_each(struct store_rows *r,
		    int (*each)(sqlite3_stmt *st, void *ctx), void *ctx)
{
	int ret = 0;

	for (; store_rows_valid(r); store_rows_next(r)) {
		ret = each(r->st, ctx);
		if (ret != 0)
			break;
	}
	if (store_rows_end(r) < 0 && ret == 0)
		ret = -1;
	return ret;
}

int store_rows_first_text(struct store_rows *r, char **v_r)
{
	*v_r = NULL;
	if (store_rows_valid(r))
		*v_r = store_col_text(r->st, 0);
	if (store_rows_end(r) < 0) {
		xfree(v_r);
		return -1;
	}
	return 0;
}

int store_rows_vec(struct store_rows *r,
		   int (*each)(sqlite3_stmt *st, void *vec),
		   struct store_vec *vec, size_t *n_r)
{
	int rc = store_rows_each(r, each, vec);

	if (rc < 0)
		xfree(&vec->v);
	*n_r = rc < 0 ? 0 : vec->n;
	return rc;
}

void *store_vec_push(struct store_vec *vec)
{
	char *e;

	if (vec->n == vec->cap) {
		vec->cap = vec->cap ? vec->cap * 2 : 8;
		vec->v = xreallocarray(vec->v, vec->cap, vec->size);
	}
	e = (char *)vec->v + vec->n++ * vec->size;
	memset(e, 0, vec->size);
	return e;
}

/* ---- statements stepped once ---- */

void store_bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
}

void store_bind_args(sqlite3_stmt *st, const struct store_arg *a, size_t n)
{
	size_t i;

	if (st == NULL)
		return;
	for (i = 0; i < n; i++) {
		if (a[i].text)
			store_bind_text(st, (int)i + 1, a[i].t);
		else
			sqlite3_bind_int64(st, (int)i + 1, a[i].i);
	}
}

int store_run_args(struct store *s, const char *sql, const char *what,
		   const struct store_arg *a, size_t n)
{
	sqlite3_stmt *st = store_prep(s, sql);

	if (st == NULL)
		return -1;
	store_bind_args(st, a, n);
	return store_step_done(s, st, what);
}

int store_count_args(struct store *s, const char *sql, const char *what,
		     int64_t *count_r, const struct store_arg *a, size_t n)
{
	sqlite3_stmt *st = store_prep(s, sql);

	if (st == NULL)
		return -1;
	store_bind_args(st, a, n);
	return store_count_query(s, st, count_r, what);
}

char *store_col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? xstrdup((const char *)t) : NULL;
}

int store_step_done(struct store *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	if (rc != SQLITE_DONE)
		store_set_err(s, rc, what);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int store_count_query(struct store *s, sqlite3_stmt *st, int64_t *count_r,
		      const char *what)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		*count_r = sqlite3_column_int64(st, 0);
	else
		store_set_err(s, rc, what);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

int store_insert_id(struct store *s, sqlite3_stmt *st, const char *what,
		    int64_t *id_r)
{
	if (store_step_done(s, st, what) < 0)
		return -1;
	if (id_r != NULL)
		*id_r = sqlite3_last_insert_rowid(s->db);
	return 0;
}

int store_get_blob(struct store *s, sqlite3_stmt *st, const char *what,
		   char **data_r, size_t *len_r)
{
	int rc = sqlite3_step(st);
	size_t n;

	if (rc != SQLITE_ROW) {
		if (rc == SQLITE_DONE) {
			free(s->err);
			s->err = xasprintf("%s: not found", what);
			s->transient = false;
		} else {
			store_set_err(s, rc, what);
		}
		sqlite3_reset(st);
		return -1;
	}
	n = (size_t)sqlite3_column_bytes(st, 0);
	*data_r = xmalloc(n + 1);
	if (n)
		memcpy(*data_r, sqlite3_column_blob(st, 0), n);
	(*data_r)[n] = '\0';
	*len_r = n;
	sqlite3_reset(st);
	return 0;
}
