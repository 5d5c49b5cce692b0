/* store_int - what the store's files share; not for use outside the store */
#ifndef CONVENE_STORE_INT_H
#define CONVENE_STORE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>

struct store;

#define STMT_CACHE 64

struct stmt_slot {
	const char *sql;        /* the literal's address is the key */
	sqlite3_stmt *stmt;
};

struct store {
	sqlite3 *db;
	char *err;
	bool transient;
	struct stmt_slot cache[STMT_CACHE];
	size_t ncache;
};

/* Schema steps owned by the store's feature files, applied in the order of
 * the migrations list in store.c. */
extern const char *const store_schema_moderation[];
extern const size_t store_schema_moderation_n;
extern const char *const store_schema_subscriptions[];
extern const size_t store_schema_subscriptions_n;
extern const char *const store_schema_bounces[];
extern const size_t store_schema_bounces_n;
extern const char *const store_schema_failures[];
extern const size_t store_schema_failures_n;
extern const char *const store_schema_personal_jobs[];
extern const size_t store_schema_personal_jobs_n;

/* Records the failure of rc in s (text and whether it is transient). */
void store_set_err(struct store *s, int rc, const char *what);
/* A cached prepared statement for the SQL literal `sql` (its address is the
 * key), reset and with its bindings cleared; NULL on failure. */
sqlite3_stmt *store_prep(struct store *s, const char *sql);
void store_bind_text(sqlite3_stmt *st, int i, const char *v);
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
