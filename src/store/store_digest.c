/* store_digest - posts waiting for a digest, issues, the schedule's state */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "store/store.h"
#include "store/store_digest.h"
#include "store_int.h"
#include "base/util.h"
#include "base/xalloc.h"

/* 6: digests, and the sequence points of posts and mode switches. */
const char *const store_schema_digest[] = {
	/* AUTOINCREMENT: a sequence number is never given out twice. */
	"CREATE TABLE digest_items ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  list TEXT NOT NULL,"
	"  archive INTEGER NOT NULL,"
	"  data BLOB,"
	"  size INTEGER NOT NULL,"
	"  added_at INTEGER NOT NULL,"
	"  issue INTEGER REFERENCES digest_issues (id))",
	"CREATE INDEX digest_items_waiting ON digest_items (list, issue, id)",
	"CREATE TABLE digest_issues ("
	"  id INTEGER PRIMARY KEY,"
	"  list TEXT NOT NULL,"
	"  volume INTEGER NOT NULL,"
	"  number INTEGER NOT NULL,"
	"  first_seq INTEGER NOT NULL,"
	"  last_seq INTEGER NOT NULL,"
	"  messages INTEGER NOT NULL,"
	"  bytes INTEGER NOT NULL,"
	"  reason TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  UNIQUE (list, volume, number))",
	"CREATE TABLE digest_state ("
	"  list TEXT PRIMARY KEY,"
	"  volume INTEGER NOT NULL DEFAULT 0,"
	"  number INTEGER NOT NULL DEFAULT 0,"
	"  year INTEGER NOT NULL DEFAULT 0,"
	"  schedule TEXT,"
	"  next_due INTEGER NOT NULL DEFAULT 0,"
	"  last_issue_at INTEGER NOT NULL DEFAULT 0)",
	/* One row per switch of a member's mode: the mode the member had for
	 * the posts numbered up to seq. */
	"CREATE TABLE mode_switches ("
	"  member INTEGER NOT NULL REFERENCES members (id) ON DELETE CASCADE,"
	"  seq INTEGER NOT NULL,"
	"  old_mode TEXT NOT NULL,"
	"  PRIMARY KEY (member, seq))",
	"ALTER TABLE members ADD COLUMN mode_seq INTEGER NOT NULL DEFAULT 0",
	"CREATE INDEX members_by_switch ON members (list, mode_seq)",
	/* The posts a job carries (store_job_new): its stream reaches the
	 * members by the mode they had for them; jobs queued before go by
	 * the current modes (seq_from 0). */
	"ALTER TABLE jobs ADD COLUMN seq_from INTEGER NOT NULL DEFAULT 0",
	"ALTER TABLE jobs ADD COLUMN seq_to INTEGER NOT NULL DEFAULT 0",
};
const size_t store_schema_digest_n =
	sizeof store_schema_digest / sizeof store_schema_digest[0];

int store_digest_seq_now(struct store *s, int64_t *seq_r)
{
	static const char sql[] =
		"SELECT coalesce((SELECT seq FROM sqlite_sequence"
		" WHERE name = 'digest_items'), 0)";
	sqlite3_stmt *st = store_prep(s, sql);

	if (st == NULL)
		return -1;
	return store_count_query(s, st, seq_r, "sequence point");
}

int store_digest_item_add(struct store *s, const char *list, int64_t archive,
			  const char *data, size_t len, int64_t *seq_r)
{
	static const char sql[] =
		"INSERT INTO digest_items (list, archive, data, size, added_at)"
		" VALUES (?, ?, ?, ?, ?)";
	sqlite3_stmt *st = store_prep(s, sql);

	if (st == NULL)
		return -1;
	store_bind(st, STORE_T(list), STORE_I(archive));
	sqlite3_bind_blob64(st, 3, data, len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)len);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)util_now());
	return store_insert_id(s, st, "add to digest", seq_r);
}

int store_digest_waiting(struct store *s, const char *list, int64_t *count_r,
			 int64_t *bytes_r, time_t *oldest_r)
{
	static const char sql[] =
		"SELECT count(*), coalesce(sum(size), 0),"
		" coalesce(min(added_at), 0) FROM digest_items"
		" WHERE list = ? AND issue IS NULL";
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "digest waiting");

	*count_r = 0;
	*bytes_r = 0;
	*oldest_r = 0;
	store_bind(st, STORE_T(list));
	if (store_rows_valid(&r)) {
		*count_r = sqlite3_column_int64(st, 0);
		*bytes_r = sqlite3_column_int64(st, 1);
		*oldest_r = (time_t)sqlite3_column_int64(st, 2);
	}
	return store_rows_end(&r);
}

void store_digest_items_free(struct store_digest_item **vp, size_t n)
{
	size_t i;

	if (*vp == NULL)
		return;
	for (i = 0; i < n; i++) {
		struct store_digest_item *it = &(*vp)[i];

		free(it->data);
		free(it->message_id);
		free(it->sender);
		free(it->sender_name);
		free(it->subject);
		free(it->thread_subject);
	}
	xfree(vp);
}

/* Collects waiting posts until max_bytes (always the first). */
struct items_ctx {
	struct store_vec vec;
	int64_t bytes, max_bytes;
};

static int item_row(sqlite3_stmt *st, void *ctx)
{
	struct items_ctx *x = ctx;
	struct store_digest_item *it;
	int64_t size = sqlite3_column_int64(st, 12);
	const void *p;

	if (x->vec.n > 0 && x->bytes + size > x->max_bytes)
		return 1;
	x->bytes += size;
	it = store_vec_push(&x->vec);
	it->seq = sqlite3_column_int64(st, 0);
	it->archive = sqlite3_column_int64(st, 1);
	it->thread = sqlite3_column_int64(st, 2);
	it->parent = sqlite3_column_int64(st, 3);
	it->thread_posts = sqlite3_column_int64(st, 4);
	p = sqlite3_column_blob(st, 5);
	it->len = (size_t)sqlite3_column_bytes(st, 5);
	it->data = xmalloc(it->len + 1);
	if (it->len)
		memcpy(it->data, p, it->len);
	it->data[it->len] = '\0';
	it->message_id = store_col_text(st, 6);
	it->sender = store_col_text(st, 7);
	it->sender_name = store_col_text(st, 8);
	it->subject = store_col_text(st, 9);
	it->thread_subject = store_col_text(st, 10);
	it->date = (time_t)sqlite3_column_int64(st, 11);
	return 0;
}

int store_digest_items_waiting(struct store *s, const char *list,
			       size_t max_items, int64_t max_bytes,
			       struct store_digest_item **v_r, size_t *n_r)
{
	static const char sql[] =
		"SELECT d.id, d.archive, coalesce(a.thread, a.id),"
		" coalesce(a.parent, 0),"
		" (SELECT count(*) FROM archive t WHERE t.list = a.list"
		"  AND t.thread = a.thread),"
		" d.data, a.message_id, a.sender, a.sender_name, a.subject,"
		" (SELECT r.subject FROM archive r WHERE r.id = a.thread),"
		" a.date, d.size"
		" FROM digest_items d JOIN archive a ON a.id = d.archive"
		" WHERE d.list = ? AND d.issue IS NULL ORDER BY d.id LIMIT ?";
	struct items_ctx x = {
		.vec = STORE_VEC_INIT(struct store_digest_item),
		.max_bytes = max_bytes,
	};
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "read digest");
	int rc;

	store_bind(st, STORE_T(list), STORE_I(max_items));
	rc = store_rows_each(&r, item_row, &x);
	*v_r = x.vec.v;
	*n_r = x.vec.n;
	if (rc < 0) {
		store_digest_items_free(v_r, *n_r);
		*n_r = 0;
		return -1;
	}
	return 0;
}

void store_digest_state_clear(struct store_digest_state *st)
{
	xfree(&st->schedule);
}

int store_digest_state_get(struct store *s, const char *list,
			   struct store_digest_state *dst, bool *found_r)
{
	static const char sql[] =
		"SELECT volume, number, year, schedule, next_due, last_issue_at"
		" FROM digest_state WHERE list = ?";
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "digest state");

	*found_r = false;
	store_bind(st, STORE_T(list));
	if (store_rows_valid(&r)) {
		dst->volume = sqlite3_column_int64(st, 0);
		dst->number = sqlite3_column_int64(st, 1);
		dst->year = sqlite3_column_int(st, 2);
		dst->schedule = store_col_text(st, 3);
		dst->next_due = (time_t)sqlite3_column_int64(st, 4);
		dst->last_issue_at = (time_t)sqlite3_column_int64(st, 5);
		*found_r = true;
	}
	return store_rows_end(&r);
}

int store_digest_state_put(struct store *s, const char *list,
			   const struct store_digest_state *dst)
{
	static const char sql[] =
		"INSERT OR REPLACE INTO digest_state (list, volume, number, year,"
		" schedule, next_due, last_issue_at) VALUES (?, ?, ?, ?, ?, ?, ?)";
	return store_run(s, sql, "save digest state", STORE_T(list),
			 STORE_I(dst->volume), STORE_I(dst->number),
			 STORE_I(dst->year), STORE_T(dst->schedule),
			 STORE_I(dst->next_due), STORE_I(dst->last_issue_at));
}

int store_digest_issue_add(struct store *s,
			   const struct store_digest_issue *is, int64_t *id_r)
{
	static const char sql[] =
		"INSERT INTO digest_issues (list, volume, number, first_seq,"
		" last_seq, messages, bytes, reason, created_at)"
		" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
	static const char sql_take[] =
		"UPDATE digest_items SET issue = ?1, data = NULL"
		" WHERE list = ?2 AND issue IS NULL AND id <= ?3";
	sqlite3_stmt *st = store_prep(s, sql);
	int64_t id;

	if (st == NULL)
		return -1;
	store_bind(st, STORE_T(is->list), STORE_I(is->volume),
		   STORE_I(is->number), STORE_I(is->first_seq),
		   STORE_I(is->last_seq), STORE_I(is->messages),
		   STORE_I(is->bytes), STORE_T(is->reason),
		   STORE_I(util_now()));
	if (store_insert_id(s, st, "record issue", &id) < 0)
		return -1;
	st = store_prep(s, sql_take);
	if (st == NULL)
		return -1;
	store_bind(st, STORE_I(id), STORE_T(is->list), STORE_I(is->last_seq));
	if (store_step_done(s, st, "take posts into issue") < 0)
		return -1;
	if (id_r != NULL)
		*id_r = id;
	return 0;
}

static int switcher_row(sqlite3_stmt *st, void *ctx)
{
	struct store_digest_switcher *e = store_vec_push(ctx);

	e->member = sqlite3_column_int64(st, 0);
	e->address = store_col_text(st, 1);
	return 0;
}

int store_digest_switchers(struct store *s, const char *list, int64_t since,
			   struct store_digest_switcher **v_r, size_t *n_r)
{
	static const char sql[] =
		"SELECT id, address FROM members WHERE list = ?"
		" AND mode_seq >= ? AND status = 'active' ORDER BY id";
	struct store_vec vec = STORE_VEC_INIT(struct store_digest_switcher);
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "read switches");
	int rc;

	store_bind(st, STORE_T(list), STORE_I(since));
	rc = store_rows_each(&r, switcher_row, &vec);
	*v_r = vec.v;
	*n_r = vec.n;
	if (rc < 0) {
		store_digest_switchers_free(v_r, *n_r);
		*n_r = 0;
		return -1;
	}
	return 0;
}

void store_digest_switchers_free(struct store_digest_switcher **vp, size_t n)
{
	size_t i;

	if (*vp == NULL)
		return;
	for (i = 0; i < n; i++)
		free((*vp)[i].address);
	xfree(vp);
}

int store_member_mode_for(struct store *s, int64_t member, int64_t seq_from,
			  int64_t seq_to, enum store_mode *mode_r,
			  bool *same_r)
{
	static const char sql[] =
		"SELECT " STORE_MODE_FOR("?2", "?3")
		" FROM members WHERE id = ?1";
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "member mode");

	*same_r = false;
	store_bind(st, STORE_I(member), STORE_I(seq_from), STORE_I(seq_to));
	if (store_rows_valid(&r)) {
		const unsigned char *t = sqlite3_column_text(st, 0);

		if (t != NULL && store_mode_parse((const char *)t, mode_r) == 0)
			*same_r = true;
	}
	return store_rows_end(&r);
}
