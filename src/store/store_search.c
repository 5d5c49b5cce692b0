/* store_search - the archive's full-text index (FTS5) */
#include "autoconf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "store/store.h"
#include "store/store_archive.h"
#include "store_int.h"
#include "base/xalloc.h"

/* A row of the index that waits for store_fts_flush. */
struct store_fts_row {
	int64_t id;
	char *subject, *sender, *body, *quoted;
};

static int fts_insert(struct store *s, int64_t id, const char *subject,
		      const char *sender, const char *body, const char *quoted)
{
	static const char sql[] =
		"INSERT INTO archive_fts (rowid, subject, sender, body, quoted)"
		" VALUES (?, ?, ?, ?, ?)";
	return store_run(s, sql, "index message", STORE_I(id), STORE_T(subject),
			 STORE_T(sender), STORE_T(body), STORE_T(quoted));
}

static char *dup_or_null(const char *v)
{
	return v != NULL ? xstrdup(v) : NULL;
}

int store_fts_add(struct store *s, int64_t id, const char *subject,
		  const char *sender, const char *body, const char *quoted)
{
	struct store_fts_row *r;

	if (!s->fts_defer)
		return fts_insert(s, id, subject, sender, body, quoted);
	if (s->nfts == s->capfts) {
		s->capfts = s->capfts ? s->capfts * 2 : 16;
		s->fts_rows = xreallocarray(s->fts_rows, s->capfts,
					    sizeof *s->fts_rows);
	}
	r = &s->fts_rows[s->nfts++];
	r->id = id;
	r->subject = dup_or_null(subject);
	r->sender = dup_or_null(sender);
	r->body = dup_or_null(body);
	r->quoted = dup_or_null(quoted);
	return 0;
}

void store_fts_defer(struct store *s, bool on)
{
	s->fts_defer = on;
}

void store_fts_drop(struct store *s)
{
	size_t i;

	for (i = 0; i < s->nfts; i++) {
		free(s->fts_rows[i].subject);
		free(s->fts_rows[i].sender);
		free(s->fts_rows[i].body);
		free(s->fts_rows[i].quoted);
	}
	s->nfts = 0;
}

int store_fts_flush(struct store *s)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < s->nfts && rc == 0; i++) {
		struct store_fts_row *r = &s->fts_rows[i];

		rc = fts_insert(s, r->id, r->subject, r->sender, r->body,
				r->quoted);
	}
	store_fts_drop(s);
	return rc;
}

/* The conditions every search shares: ?1 the FTS5 expression, ?2 the list,
 * [?3, ?4) the dates, ?5 the tag or NULL. Weights of bm25: subject 4,
 * sender 1, body 1, quoted lines 0.2 (a reply that quotes a question is not
 * the answer to it). CROSS JOIN keeps the index outside: else the planner
 * walks the list's archive and asks the index about each message (seven
 * times slower on 600 messages, and worse as the archive grows). */
#define MATCHING \
	" FROM archive_fts CROSS JOIN archive a ON a.id = archive_fts.rowid" \
	" WHERE archive_fts MATCH ?1 AND a.list = ?2" \
	" AND a.date >= ?3 AND a.date < ?4 AND (?5 IS NULL OR EXISTS" \
	" (SELECT 1 FROM archive_tags g WHERE g.archive = a.id" \
	" AND g.tag = ?5))"
#define ALL \
	" FROM archive a WHERE a.list = ?2 AND a.date >= ?3 AND a.date < ?4" \
	" AND (?5 IS NULL OR EXISTS (SELECT 1 FROM archive_tags g" \
	" WHERE g.archive = a.id AND g.tag = ?5))"

static void bind_search(sqlite3_stmt *st, const struct store_search *q)
{
	if (q->match != NULL)
		store_bind_text(st, 1, q->match);
	store_bind_text(st, 2, q->list);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)q->after);
	sqlite3_bind_int64(st, 4, q->before > 0 ? (sqlite3_int64)q->before :
			   INT64_MAX);
	store_bind_text(st, 5, q->tag);
}

static int hit_row(sqlite3_stmt *st, void *vec)
{
	struct store_search_hit *e = store_vec_push(vec);

	e->thread = sqlite3_column_int64(st, 0);
	e->archive = sqlite3_column_int64(st, 1);
	e->rank = sqlite3_column_double(st, 2);
	e->matches = sqlite3_column_int64(st, 3);
	return 0;
}

int store_search(struct store *s, const struct store_search *q,
		 struct store_search_hit **v_r, size_t *n_r,
		 int64_t *threads_r, int64_t *messages_r)
{
	/* SQLite takes a bare column of an aggregate with min() or max()
	 * from the row that gave the minimum: the best message. */
	/* bm25() needs the FTS5 query of its own: the hits are
	 * materialised before they are grouped. */
	static const char sql_match[] =
		"WITH hits (t, id, r) AS MATERIALIZED (SELECT"
		" coalesce(a.thread, a.id), a.id,"
		" bm25(archive_fts, 4.0, 1.0, 1.0, 0.2)" MATCHING ")"
		" SELECT t, id, min(r), count(*) FROM hits"
		" GROUP BY t ORDER BY min(r), t DESC LIMIT ?6";
	static const char sql_count_match[] =
		"SELECT count(DISTINCT coalesce(a.thread, a.id)), count(*)"
		MATCHING;
	static const char sql_all[] =
		"SELECT t, id, -max(d), count(*) FROM (SELECT"
		" coalesce(a.thread, a.id) AS t, a.id AS id, a.date AS d" ALL ")"
		" GROUP BY t ORDER BY max(d) DESC, t DESC LIMIT ?6";
	static const char sql_count_all[] =
		"SELECT count(DISTINCT coalesce(a.thread, a.id)), count(*)" ALL;
	struct store_vec vec = STORE_VEC_INIT(struct store_search_hit);
	struct store_rows r;
	sqlite3_stmt *st;
	int rc;

	*v_r = NULL;
	*n_r = 0;
	*threads_r = *messages_r = 0;
	/* What this transaction indexed is found too. */
	if (s->nfts > 0 && store_fts_flush(s) < 0)
		return -1;
	st = store_rows_prep(&r, s, q->match != NULL ? sql_count_match :
			     sql_count_all, "search");
	if (st != NULL)
		bind_search(st, q);
	if (store_rows_valid(&r)) {
		*threads_r = sqlite3_column_int64(st, 0);
		*messages_r = sqlite3_column_int64(st, 1);
	}
	if (store_rows_end(&r) < 0)
		return -1;
	st = store_rows_prep(&r, s, q->match != NULL ? sql_match : sql_all,
			     "search");
	if (st != NULL) {
		bind_search(st, q);
		sqlite3_bind_int64(st, 6, (sqlite3_int64)q->limit);
	}
	rc = store_rows_each(&r, hit_row, &vec);
	*v_r = vec.v;
	*n_r = vec.n;
	if (rc < 0)
		xfree(v_r);
	return rc;
}

int store_search_excerpt(struct store *s, const char *match, int64_t archive,
			 int tokens, char **excerpt_r)
{
	static const char sql_match[] =
		"SELECT snippet(archive_fts, 2, '', '', '...', ?3),"
		" snippet(archive_fts, 0, '', '', '...', ?3)"
		" FROM archive_fts WHERE archive_fts MATCH ?1 AND rowid = ?2";
	static const char sql_plain[] =
		"SELECT substr(body, 1, ?3 * 8), subject FROM archive_fts"
		" WHERE rowid = ?2";
	struct store_rows r;
	sqlite3_stmt *st;
	char *body = NULL, *subject = NULL;

	*excerpt_r = NULL;
	if (s->nfts > 0 && store_fts_flush(s) < 0)
		return -1;
	st = store_rows_prep(&r, s, match != NULL ? sql_match : sql_plain,
			     "excerpt");
	if (st != NULL) {
		if (match != NULL)
			store_bind_text(st, 1, match);
		sqlite3_bind_int64(st, 2, archive);
		sqlite3_bind_int(st, 3, tokens);
	}
	if (store_rows_valid(&r)) {
		body = store_col_text(st, 0);
		subject = store_col_text(st, 1);
	}
	if (store_rows_end(&r) < 0) {
		free(body);
		free(subject);
		return -1;
	}
	if (body != NULL && body[strspn(body, " \t\n.")] != '\0') {
		*excerpt_r = body;
		free(subject);
	} else {
		*excerpt_r = subject != NULL ? subject : xstrdup("");
		free(body);
	}
	return 0;
}
