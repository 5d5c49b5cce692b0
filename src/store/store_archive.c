/* store_archive - raw messages, the archive and its threads, holds, inbox, events */
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

/* ---- messages, archive, holds ---- */

int store_message_add(struct store *s, const char *raw, size_t len,
		      int64_t *id_r)
{
	static const char sql[] =
		"INSERT INTO messages (raw, received_at) VALUES (?, ?)";
	sqlite3_stmt *st = store_prep(s, sql);

	if (st == NULL)
		return -1;
	sqlite3_bind_blob64(st, 1, raw, len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)util_now());
	return store_insert_id(s, st, "store message", id_r);
}

int store_message_get(struct store *s, int64_t id, char **raw_r,
		      size_t *len_r)
{
	static const char sql[] = "SELECT raw FROM messages WHERE id = ?";
	sqlite3_stmt *st = store_prep(s, sql);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	return store_get_blob(s, st, "read message", raw_r, len_r);
}

/* The archive row and thread of the post whose Message-ID is mid. */
static int find_by_mid(struct store *s, const char *list, const char *mid,
		       int64_t *id_r, int64_t *thread_r)
{
	static const char sql[] =
		"SELECT id, thread FROM archive WHERE list = ? AND message_id = ?";
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "find parent");

	*id_r = 0;
	store_bind(st, STORE_T(list), STORE_T(mid));
	if (store_rows_valid(&r)) {
		*id_r = sqlite3_column_int64(st, 0);
		*thread_r = sqlite3_column_int64(st, 1);
	}
	return store_rows_end(&r);
}

int store_archive_add(struct store *s, const struct store_post *p,
		      int64_t *id_r)
{
	static const char sql[] =
		"INSERT INTO archive (list, message, message_id, date, sender,"
		" sender_name, subject, in_reply_to, archived_at)"
		" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
	static const char sql_ref[] =
		"INSERT INTO archive_refs (archive, position, message_id)"
		" VALUES (?, ?, ?)";
	sqlite3_stmt *st = store_prep(s, sql);
	int64_t id;
	size_t i;

	if (st == NULL)
		return -1;
	store_bind(st, STORE_T(p->list), STORE_I(p->message),
		   STORE_T(p->message_id), STORE_I(p->date), STORE_T(p->sender),
		   STORE_T(p->sender_name), STORE_T(p->subject),
		   STORE_T(p->in_reply_to), STORE_I(util_now()));
	if (store_insert_id(s, st, "archive post", &id) < 0)
		return -1;
	for (i = 0; p->references != NULL && p->references[i] != NULL; i++) {
		st = store_prep(s, sql_ref);
		if (st == NULL)
			return -1;
		store_bind(st, STORE_I(id), STORE_I(i),
			   STORE_T(p->references[i]));
		if (store_step_done(s, st, "archive references") < 0)
			return -1;
	}
	*id_r = id;
	return 0;
}

int store_archive_has(struct store *s, const char *list,
		      const char *message_id, bool *found_r)
{
	int64_t id = 0, thread = 0;

	if (find_by_mid(s, list, message_id, &id, &thread) < 0)
		return -1;
	*found_r = id != 0;
	return 0;
}

int store_archive_find(struct store *s, const char *list,
		       const char *message_id, int64_t *id_r)
{
	int64_t thread = 0;

	return find_by_mid(s, list, message_id, id_r, &thread);
}

int store_archive_get(struct store *s, int64_t id, struct store_archived *a,
		      bool *found_r)
{
	static const char sql[] =
		"SELECT id, message, coalesce(parent, 0), coalesce(thread, 0),"
		" message_id, sender, subject, date, list, sender_name"
		" FROM archive WHERE id = ?";
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "read archive");

	*found_r = false;
	store_bind(st, STORE_I(id));
	if (store_rows_valid(&r)) {
		a->id = sqlite3_column_int64(st, 0);
		a->message = sqlite3_column_int64(st, 1);
		a->parent = sqlite3_column_int64(st, 2);
		a->thread = sqlite3_column_int64(st, 3);
		a->message_id = store_col_text(st, 4);
		a->sender = store_col_text(st, 5);
		a->subject = store_col_text(st, 6);
		a->date = (time_t)sqlite3_column_int64(st, 7);
		a->list = store_col_text(st, 8);
		a->sender_name = store_col_text(st, 9);
		*found_r = true;
	}
	return store_rows_end(&r);
}

void store_archived_clear(struct store_archived *a)
{
	xfree(&a->list);
	xfree(&a->message_id);
	xfree(&a->sender);
	xfree(&a->sender_name);
	xfree(&a->subject);
}

int store_hold_add(struct store *s, const char *list, int64_t message,
		   const char *sender, const char *subject,
		   const char *message_id, const char *reason, int64_t *id_r)
{
	static const char sql[] =
		"INSERT INTO holds (list, sender, message, subject, message_id,"
		" reason, held_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
	sqlite3_stmt *st = store_prep2(s, sql, list, sender);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 3, message);
	store_bind_text(st, 4, subject);
	store_bind_text(st, 5, message_id);
	store_bind_text(st, 6, reason);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)util_now());
	return store_insert_id(s, st, "hold post", id_r);
}

int store_hold_count(struct store *s, const char *list, int64_t *count_r)
{
	static const char sql[] =
		"SELECT count(*) FROM holds WHERE list = ? AND state = 'held'";

	return store_count(s, sql, "count holds", count_r, STORE_T(list));
}

int store_inbox_add(struct store *s, const char *list, const char *kind,
		    const char *extension, int64_t message, const char *sender)
{
	static const char sql[] =
		"INSERT INTO inbox (list, kind, extension, message, sender,"
		" received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
	sqlite3_stmt *st = store_prep2(s, sql, list, kind);

	if (st == NULL)
		return -1;
	store_bind_text(st, 3, extension);
	sqlite3_bind_int64(st, 4, message);
	store_bind_text(st, 5, sender);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)util_now());
	return store_insert_id(s, st, "keep mail", NULL);
}

int store_event_add(struct store *s, const char *list, const char *kind,
		    const char *actor, int64_t ref, const char *detail)
{
	static const char sql[] =
		"INSERT INTO events (list, at, kind, actor, ref, detail)"
		" VALUES (?, ?, ?, ?, ?, ?)";
	sqlite3_stmt *st = store_prep(s, sql);

	if (st == NULL)
		return -1;
	store_bind(st, STORE_T(list), STORE_I(util_now()), STORE_T(kind),
		   STORE_T(actor));
	if (ref)
		sqlite3_bind_int64(st, 5, ref);
	else
		sqlite3_bind_null(st, 5);
	store_bind_text(st, 6, detail);
	return store_insert_id(s, st, "log event", NULL);
}
