/* store_int - what the store's files share; not for use outside the store */
#ifndef CONVENE_STORE_INT_H
#define CONVENE_STORE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>

struct store;

/* A WAL file that a burst made larger than this is cut back to it once a
 * checkpoint has emptied it. */
#define STORE_WAL_LIMIT_BYTES "16777216"
/* Past this many frames in the WAL, an entry point that leaves checkpoints
 * to the worker does one itself (store_wal_tidy). */
#define STORE_WAL_TIDY_FRAMES 512
/* The same for an entry point whose own thread checkpoints
 * (store_wal_tidy_later): the committer only steps in when that thread
 * cannot keep up. */
#define STORE_WAL_TIDY_LATE_FRAMES 4096

/* The statement cache: for each SQL literal (its address is the key) one
 * idle prepared statement, in a hash table that grows as literals come, so
 * that it never runs out. */
struct stmt_slot {
	const char *sql;        /* NULL: an empty slot */
	sqlite3_stmt *idle;     /* NULL while every one is taken */
};

struct store {
	sqlite3 *db;
	char *err;
	bool transient;
	bool full;              /* the last failure was a full disk */
	bool leave_ckpt;        /* store_leave_checkpoints */
	int wal_frames;         /* frames in the WAL after the last commit */
	int wal_told;           /* wal_frames when store_wal_grown said so */
	int wal_tidy_frames;    /* store_wal_tidy's threshold */
	struct stmt_slot *cache;
	size_t ncache, cap;     /* literals cached, slots */
	bool fts_defer;         /* store_fts_defer: rows wait in fts_rows */
	struct store_fts_row *fts_rows;
	size_t nfts, capfts;
	long busy_timeout_us;   /* how long busy_wait waits in all */
	long busy_waited_us;    /* so far, this time */
};

/* Full-text rows that store_fts_add deferred: inserted by
 * store_fts_flush (store_archive.h, declared here too for the
 * transactions in store.c), dropped by store_fts_drop. */
int store_fts_flush(struct store *s);
void store_fts_drop(struct store *s);

/* Schema steps owned by the store's feature files, applied in the order of
 * the migrations list in store.c. */
#define STORE_SCHEMA_STEPS(name) \
	extern const char *const name[]; \
	extern const size_t name##_n
STORE_SCHEMA_STEPS(store_schema_moderation);
STORE_SCHEMA_STEPS(store_schema_subscriptions);
STORE_SCHEMA_STEPS(store_schema_bounces);
STORE_SCHEMA_STEPS(store_schema_failures);
STORE_SCHEMA_STEPS(store_schema_personal_jobs);
STORE_SCHEMA_STEPS(store_schema_digest);
STORE_SCHEMA_STEPS(store_schema_meetings);

/* The current sequence point: the number of the newest post accepted so far
 * (digest_items ids; 0 before the first). */
int store_digest_seq_now(struct store *s, int64_t *seq_r);

/* SQL: a member's delivery mode for the posts numbered F to T (parameter
 * names such as "?5"), NULL when it changed between them. The member's row
 * is `members`. mode_seq is the sequence point of its last switch and
 * mode_switches holds, for each switch, the mode before it: a post numbered
 * i had the mode of the first switch at or after i, or the current one. */
#define STORE_MODE_FOR(F, T) \
	"(CASE WHEN " F " = 0 OR members.mode_seq < " F " THEN members.mode" \
	" WHEN EXISTS (SELECT 1 FROM mode_switches w" \
	"  WHERE w.member = members.id AND w.seq >= " F " AND w.seq < " T ")" \
	" THEN NULL" \
	" ELSE coalesce((SELECT w.old_mode FROM mode_switches w" \
	"  WHERE w.member = members.id AND w.seq >= " T \
	"  ORDER BY w.seq LIMIT 1), members.mode) END)"
STORE_SCHEMA_STEPS(store_schema_guard);
STORE_SCHEMA_STEPS(store_schema_set_requests);

STORE_SCHEMA_STEPS(store_schema_reports);

STORE_SCHEMA_STEPS(store_schema_archive);
STORE_SCHEMA_STEPS(store_schema_web);
STORE_SCHEMA_STEPS(store_schema_claims);
STORE_SCHEMA_STEPS(store_schema_pending);

/* Records the failure of rc in s (text and whether it is transient). */
void store_set_err(struct store *s, int rc, const char *what);
/* A cached prepared statement for the SQL literal `sql` (its address is the
 * key), reset and with its bindings cleared, for a statement stepped once
 * (store_step_done, store_insert_id, store_count_query, store_get_blob);
 * it stays in the cache. NULL on failure. Queries that return rows use
 * store_rows_prep. */
sqlite3_stmt *store_prep(struct store *s, const char *sql);

/* The one row iterator of the store:
 *
 *	struct store_rows r;
 *	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "what");
 *
 *	if (st != NULL)
 *		sqlite3_bind_...(st, ...);
 *	for (; store_rows_valid(&r); store_rows_next(&r))
 *		... sqlite3_column_...(st, ...) ...;
 *	return store_rows_end(&r);
 *
 * The statement (from the cache) is the iterator's own until
 * store_rows_end, so the loop body may call back into the store, even the
 * same query. store_rows_prep returns NULL on failure (then valid is false
 * and end returns -1); stopping early is allowed. store_rows_end returns
 * 0, or -1 when preparing or a step failed (the store's error says how). */
struct store_rows {
	struct store *s;
	const char *sql, *what;
	sqlite3_stmt *st;
	int rc;                 /* the last step's result; 0 before the first */
};
sqlite3_stmt *store_rows_prep(struct store_rows *r, struct store *s,
			      const char *sql, const char *what);
bool store_rows_valid(struct store_rows *r);
void store_rows_next(struct store_rows *r);
int store_rows_end(struct store_rows *r);
/* The step-convert-callback helper on top of it: calls each(st, ctx) for
 * every row until it returns non-zero, then ends r. Returns that value, 0
 * after the last row, or -1 when preparing or a step failed. */
int store_rows_each(struct store_rows *r,
		    int (*each)(sqlite3_stmt *st, void *ctx), void *ctx);
/* Defines the row callback NAME of a public _foreach over TYPE, and
 * struct NAME_cb { fn, ctx } to hand it: each row is converted with
 * FROM_ROW, handed to the caller's fn and cleared with CLEAR; fn's non-zero
 * value stops the walk. */
#define STORE_FOREACH_ROW(name, type, from_row, clear)			\
	struct name##_cb {						\
		int (*fn)(const type *item, void *ctx);			\
		void *ctx;						\
	};								\
	static int name(sqlite3_stmt *st, void *ctx)			\
	{								\
		struct name##_cb *cb = ctx;				\
		type item = { 0 };					\
		int ret;						\
									\
		from_row(st, &item);					\
		ret = cb->fn(&item, cb->ctx);				\
		clear(&item);						\
		return ret;						\
	}

/* The first row's first column as text (newly allocated; NULL when there
 * is no row, or on failure), then ends r. 0 or -1. */
int store_rows_first_text(struct store_rows *r, char **v_r);

/* A growing array of rows for the functions that hand back several:
 * store_vec_push gives a zeroed new element; v (n elements) belongs to the
 * caller in the end. */
struct store_vec {
	void *v;
	size_t n, cap, size;
};
#define STORE_VEC_INIT(type) { NULL, 0, 0, sizeof(type) }
void *store_vec_push(struct store_vec *vec);
/* store_rows_each into vec, then *n_r = vec->n; on failure (-1) vec->v is
 * freed and NULL and *n_r is 0. The caller takes vec->v. */
int store_rows_vec(struct store_rows *r,
		   int (*each)(sqlite3_stmt *st, void *vec),
		   struct store_vec *vec, size_t *n_r);

/* Frees every cached statement (store_close). */
void store_cache_free(struct store *s);
/* store_prep with text parameters ?1 = a and ?2 = b bound: most statements
 * name a list and an address first. */
sqlite3_stmt *store_prep2(struct store *s, const char *sql, const char *a,
			  const char *b);
void store_bind_text(sqlite3_stmt *st, int i, const char *v);
/* One parameter for store_bind: STORE_T(text) (NULL binds NULL) or
 * STORE_I(integer). Each is type-checked: a pointer is no integer. */
struct store_arg {
	const char *t;
	sqlite3_int64 i;
	bool text;
};
#define STORE_T(v) ((struct store_arg){ .t = (v), .text = true })
#define STORE_I(v) ((struct store_arg){ .i = (v) })
/* The arguments of the macros below as an array and its length. */
#define STORE_ARGS(...)							\
	(const struct store_arg[]){ __VA_ARGS__ },			\
	sizeof((const struct store_arg[]){ __VA_ARGS__ }) /		\
	sizeof(struct store_arg)
/* store_bind(st, STORE_T(list), STORE_I(now), ...) binds ?1, ?2, ... of st
 * to the arguments in order; it does nothing when st is NULL (preparing
 * failed, and the store has its error). */
#define store_bind(st, ...) store_bind_args((st), STORE_ARGS(__VA_ARGS__))
void store_bind_args(sqlite3_stmt *st, const struct store_arg *a, size_t n);
/* store_run(s, sql, what, args...): a statement that returns no row,
 * prepared (store_prep), bound (store_bind) and stepped once
 * (store_step_done). 0 or -1. */
#define store_run(s, sql, what, ...)					\
	store_run_args((s), (sql), (what), STORE_ARGS(__VA_ARGS__))
int store_run_args(struct store *s, const char *sql, const char *what,
		   const struct store_arg *a, size_t n);
/* store_count(s, sql, what, count_r, args...): a statement returning one
 * integer, prepared, bound and stepped into *count_r
 * (store_count_query). 0 or -1. */
#define store_count(s, sql, what, count_r, ...)				\
	store_count_args((s), (sql), (what), (count_r),			\
			 STORE_ARGS(__VA_ARGS__))
int store_count_args(struct store *s, const char *sql, const char *what,
		     int64_t *count_r, const struct store_arg *a, size_t n);
/* A column's text, newly allocated, or NULL. */
char *store_col_text(sqlite3_stmt *st, int i);
/* Steps a statement that returns no row; resets it. 0 or -1. */
int store_step_done(struct store *s, sqlite3_stmt *st, const char *what);
int store_exec(struct store *s, const char *sql);
/* Steps a statement returning one integer into *count_r. */
int store_count_query(struct store *s, sqlite3_stmt *st, int64_t *count_r,
		      const char *what);
/* Steps an INSERT and hands back the new row id (id_r may be NULL). */
int store_insert_id(struct store *s, sqlite3_stmt *st, const char *what,
		    int64_t *id_r);
/* Steps a statement returning one blob into a new buffer. */
int store_get_blob(struct store *s, sqlite3_stmt *st, const char *what,
		   char **data_r, size_t *len_r);

#endif
