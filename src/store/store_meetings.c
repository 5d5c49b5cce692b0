/* store_meetings - meetings, RSVPs and the reminders already sent */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "store/store.h"
#include "store/store_meetings.h"
#include "store_int.h"
#include "base/util.h"
#include "base/xalloc.h"

/* The schema step for meetings (see migrations in store.c). */
const char *const store_schema_meetings[] = {
	"CREATE TABLE meetings ("
	"  id INTEGER PRIMARY KEY,"
	"  list TEXT NOT NULL,"
	"  uid TEXT NOT NULL UNIQUE,"
	"  message_id TEXT NOT NULL,"
	"  sequence INTEGER NOT NULL DEFAULT 0,"
	"  state TEXT NOT NULL DEFAULT 'scheduled'"
	"    CHECK (state IN ('scheduled','cancelled')),"
	"  title TEXT NOT NULL,"
	"  starts_at INTEGER NOT NULL,"
	"  duration INTEGER NOT NULL,"
	"  timezone TEXT NOT NULL,"
	"  rrule TEXT,"
	"  location TEXT,"
	"  url TEXT,"
	"  agenda TEXT,"
	"  capacity INTEGER NOT NULL DEFAULT 0,"
	"  organizer TEXT NOT NULL,"
	"  archive INTEGER REFERENCES archive (id),"
	"  minutes INTEGER REFERENCES archive (id),"
	"  created_at INTEGER NOT NULL,"
	"  invited_at INTEGER NOT NULL)",
	"CREATE INDEX meetings_by_list ON meetings (list, state)",

	"CREATE TABLE rsvps ("
	"  meeting INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,"
	"  address TEXT NOT NULL,"
	"  rsvp TEXT NOT NULL"
	"    CHECK (rsvp IN ('going','waiting','maybe','declined')),"
	"  position INTEGER,"
	"  answered_at INTEGER NOT NULL,"
	"  via TEXT,"
	"  message_id TEXT,"
	"  PRIMARY KEY (meeting, address))",
	"CREATE INDEX rsvps_by_state ON rsvps (meeting, rsvp, position)",

	"CREATE TABLE meeting_notices ("
	"  meeting INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,"
	"  occurrence INTEGER NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  lead INTEGER NOT NULL,"
	"  sent INTEGER NOT NULL,"
	"  at INTEGER NOT NULL,"
	"  PRIMARY KEY (meeting, occurrence, kind, lead))",
};
const size_t store_schema_meetings_n =
	sizeof store_schema_meetings / sizeof store_schema_meetings[0];

static const char *const rsvp_names[] = {
	"none", "going", "waiting", "maybe", "declined"
};

const char *store_rsvp_name(enum store_rsvp r)
{
	return (unsigned)r < 5 ? rsvp_names[r] : "none";
}

static enum store_rsvp rsvp_parse(const char *s)
{
	size_t i;

	for (i = 1; s != NULL && i < 5; i++)
		if (strcmp(s, rsvp_names[i]) == 0)
			return (enum store_rsvp)i;
	return RSVP_NONE;
}

const char *store_meeting_state_name(enum store_meeting_state st)
{
	return st == MEETING_CANCELLED ? "cancelled" : "scheduled";
}

void store_meeting_clear(struct store_meeting *m)
{
	xfree(&m->list);
	xfree(&m->uid);
	xfree(&m->message_id);
	xfree(&m->title);
	xfree(&m->timezone);
	xfree(&m->rrule);
	xfree(&m->location);
	xfree(&m->url);
	xfree(&m->agenda);
	xfree(&m->organizer);
}

#define MEETING_COLS \
	"id, list, uid, message_id, sequence, state, title, starts_at," \
	" duration, timezone, rrule, location, url, agenda, capacity," \
	" organizer, coalesce(archive, 0), coalesce(minutes, 0), created_at," \
	" invited_at"

static void meeting_from_row(sqlite3_stmt *st, struct store_meeting *m)
{
	char *state;

	m->id = sqlite3_column_int64(st, 0);
	m->list = store_col_text(st, 1);
	m->uid = store_col_text(st, 2);
	m->message_id = store_col_text(st, 3);
	m->sequence = sqlite3_column_int(st, 4);
	state = store_col_text(st, 5);
	m->state = state != NULL && strcmp(state, "cancelled") == 0 ?
		   MEETING_CANCELLED : MEETING_SCHEDULED;
	free(state);
	m->title = store_col_text(st, 6);
	m->starts_at = (time_t)sqlite3_column_int64(st, 7);
	m->duration = (long)sqlite3_column_int64(st, 8);
	m->timezone = store_col_text(st, 9);
	m->rrule = store_col_text(st, 10);
	m->location = store_col_text(st, 11);
	m->url = store_col_text(st, 12);
	m->agenda = store_col_text(st, 13);
	m->capacity = (long)sqlite3_column_int64(st, 14);
	m->organizer = store_col_text(st, 15);
	m->archive = sqlite3_column_int64(st, 16);
	m->minutes = sqlite3_column_int64(st, 17);
	m->created_at = (time_t)sqlite3_column_int64(st, 18);
	m->invited_at = (time_t)sqlite3_column_int64(st, 19);
}

static void bind_id_or_null(sqlite3_stmt *st, int i, int64_t v)
{
	if (v)
		sqlite3_bind_int64(st, i, v);
	else
		sqlite3_bind_null(st, i);
}

/* The fields both INSERT and UPDATE write, as ?1 .. ?18. */
static void bind_meeting(sqlite3_stmt *st, const struct store_meeting *m)
{
	store_bind_text(st, 1, m->list);
	store_bind_text(st, 2, m->uid);
	store_bind_text(st, 3, m->message_id);
	sqlite3_bind_int(st, 4, m->sequence);
	store_bind_text(st, 5, store_meeting_state_name(m->state));
	store_bind_text(st, 6, m->title);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)m->starts_at);
	sqlite3_bind_int64(st, 8, m->duration);
	store_bind_text(st, 9, m->timezone);
	store_bind_text(st, 10, m->rrule);
	store_bind_text(st, 11, m->location);
	store_bind_text(st, 12, m->url);
	store_bind_text(st, 13, m->agenda);
	sqlite3_bind_int64(st, 14, m->capacity);
	store_bind_text(st, 15, m->organizer);
	bind_id_or_null(st, 16, m->archive);
	bind_id_or_null(st, 17, m->minutes);
	sqlite3_bind_int64(st, 18, (sqlite3_int64)m->invited_at);
}

int store_meeting_add(struct store *s, struct store_meeting *m,
		      int64_t *id_r)
{
	static const char sql[] =
		"INSERT INTO meetings (list, uid, message_id, sequence, state,"
		" title, starts_at, duration, timezone, rrule, location, url,"
		" agenda, capacity, organizer, archive, minutes, invited_at,"
		" created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,"
		" ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)";
	sqlite3_stmt *st = store_prep(s, sql);

	if (st == NULL)
		return -1;
	m->created_at = util_now();
	if (m->invited_at == 0)
		m->invited_at = m->created_at;
	bind_meeting(st, m);
	sqlite3_bind_int64(st, 19, (sqlite3_int64)m->created_at);
	if (store_insert_id(s, st, "add meeting", &m->id) < 0)
		return -1;
	if (id_r != NULL)
		*id_r = m->id;
	return 0;
}

int store_meeting_save(struct store *s, const struct store_meeting *m)
{
	static const char sql[] =
		"UPDATE meetings SET list = ?1, uid = ?2, message_id = ?3,"
		" sequence = ?4, state = ?5, title = ?6, starts_at = ?7,"
		" duration = ?8, timezone = ?9, rrule = ?10, location = ?11,"
		" url = ?12, agenda = ?13, capacity = ?14, organizer = ?15,"
		" archive = ?16, minutes = ?17, invited_at = ?18 WHERE id = ?19";
	sqlite3_stmt *st = store_prep(s, sql);

	if (st == NULL)
		return -1;
	bind_meeting(st, m);
	sqlite3_bind_int64(st, 19, m->id);
	return store_step_done(s, st, "save meeting");
}

/* The first row of the query prepared in r, when there is one. */
static int one_meeting(struct store_rows *r, sqlite3_stmt *st,
		       struct store_meeting *m, bool *found_r)
{
	*found_r = store_rows_valid(r);
	if (*found_r)
		meeting_from_row(st, m);
	return store_rows_end(r);
}

int store_meeting_get(struct store *s, int64_t id, struct store_meeting *m,
		      bool *found_r)
{
	static const char sql[] =
		"SELECT " MEETING_COLS " FROM meetings WHERE id = ?";
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "read meeting");

	if (st != NULL)
		sqlite3_bind_int64(st, 1, id);
	return one_meeting(&r, st, m, found_r);
}

int store_meeting_by_thread(struct store *s, const char *list,
			    const char *message_id, struct store_meeting *m,
			    bool *found_r)
{
	static const char sql[] =
		"SELECT " MEETING_COLS " FROM meetings WHERE list = ?1 AND"
		" archive IS NOT NULL AND (SELECT thread FROM archive WHERE"
		" id = meetings.archive) = (SELECT thread FROM thread_nodes"
		" WHERE list = ?1 AND message_id = ?2)"
		" ORDER BY id DESC LIMIT 1";
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "meeting of a thread");

	if (st != NULL) {
		store_bind_text(st, 1, list);
		store_bind_text(st, 2, message_id);
	}
	return one_meeting(&r, st, m, found_r);
}

int store_meeting_foreach(struct store *s, const char *list,
			  bool scheduled_only,
			  int (*fn)(const struct store_meeting *m, void *ctx),
			  void *ctx)
{
	static const char sql[] =
		"SELECT " MEETING_COLS " FROM meetings WHERE"
		" (?1 IS NULL OR list = ?1) AND (?2 = 0 OR state = 'scheduled')"
		" ORDER BY id";
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "list meetings");
	int ret = 0;

	if (st != NULL) {
		store_bind_text(st, 1, list);
		sqlite3_bind_int(st, 2, scheduled_only);
	}
	for (; store_rows_valid(&r); store_rows_next(&r)) {
		struct store_meeting m = { 0 };

		meeting_from_row(st, &m);
		ret = fn(&m, ctx);
		store_meeting_clear(&m);
		if (ret != 0)
			break;
	}
	if (store_rows_end(&r) < 0 && ret == 0)
		ret = -1;
	return ret;
}

/* ---- RSVPs ---- */

int store_rsvp_get(struct store *s, int64_t meeting, const char *address,
		   enum store_rsvp *r_r)
{
	static const char sql[] =
		"SELECT rsvp FROM rsvps WHERE meeting = ? AND address = ?";
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "read answer");

	*r_r = RSVP_NONE;
	if (st != NULL) {
		sqlite3_bind_int64(st, 1, meeting);
		store_bind_text(st, 2, address);
	}
	if (store_rows_valid(&r))
		*r_r = rsvp_parse((const char *)sqlite3_column_text(st, 0));
	return store_rows_end(&r);
}

int store_rsvp_seen(struct store *s, int64_t meeting, const char *address,
		    const char *message_id, bool *seen_r)
{
	static const char sql[] =
		"SELECT 1 FROM rsvps WHERE meeting = ? AND address = ?"
		" AND message_id = ?";
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "read answer");

	*seen_r = false;
	if (message_id == NULL)
		return 0;
	if (st != NULL) {
		sqlite3_bind_int64(st, 1, meeting);
		store_bind_text(st, 2, address);
		store_bind_text(st, 3, message_id);
	}
	if (store_rows_valid(&r))
		*seen_r = true;
	return store_rows_end(&r);
}

int store_rsvp_set(struct store *s, int64_t meeting, const char *address,
		   enum store_rsvp r, const char *via, const char *message_id,
		   time_t at)
{
	/* The wait-list position: kept while waiting, the end of the list
	 * on joining it, none otherwise. */
	static const char sql[] =
		"INSERT INTO rsvps (meeting, address, rsvp, position,"
		" answered_at, via, message_id) VALUES (?1, ?2, ?3,"
		" CASE WHEN ?3 = 'waiting' THEN (SELECT coalesce(max(position),"
		"  0) + 1 FROM rsvps WHERE meeting = ?1) END, ?4, ?5, ?6)"
		" ON CONFLICT (meeting, address) DO UPDATE SET"
		" position = CASE WHEN excluded.rsvp <> 'waiting' THEN NULL"
		"  WHEN rsvps.rsvp = 'waiting' THEN rsvps.position"
		"  ELSE excluded.position END,"
		" rsvp = excluded.rsvp, answered_at = excluded.answered_at,"
		" via = excluded.via,"
		" message_id = coalesce(excluded.message_id, rsvps.message_id)";
	sqlite3_stmt *st = store_prep(s, sql);

	if (st == NULL)
		return -1;
	if (r == RSVP_NONE) {
		store_set_err(s, SQLITE_MISUSE, "record answer: no answer");
		return -1;
	}
	sqlite3_bind_int64(st, 1, meeting);
	store_bind_text(st, 2, address);
	store_bind_text(st, 3, store_rsvp_name(r));
	sqlite3_bind_int64(st, 4, (sqlite3_int64)at);
	store_bind_text(st, 5, via);
	store_bind_text(st, 6, message_id);
	return store_step_done(s, st, "record answer");
}

int store_rsvp_counts(struct store *s, int64_t meeting,
		      struct store_rsvp_counts *c_r)
{
	static const char sql[] =
		"SELECT rsvp, count(*) FROM rsvps WHERE meeting = ?"
		" GROUP BY rsvp";
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "count answers");

	memset(c_r, 0, sizeof *c_r);
	if (st != NULL)
		sqlite3_bind_int64(st, 1, meeting);
	for (; store_rows_valid(&r); store_rows_next(&r)) {
		int64_t n = sqlite3_column_int64(st, 1);

		switch (rsvp_parse((const char *)sqlite3_column_text(st, 0))) {
		case RSVP_GOING:    c_r->going = n; break;
		case RSVP_WAITING:  c_r->waiting = n; break;
		case RSVP_MAYBE:    c_r->maybe = n; break;
		case RSVP_DECLINED: c_r->declined = n; break;
		case RSVP_NONE:     break;
		}
	}
	return store_rows_end(&r);
}

int store_rsvp_first_waiting(struct store *s, int64_t meeting,
			     char **address_r)
{
	static const char sql[] =
		"SELECT address FROM rsvps WHERE meeting = ? AND"
		" rsvp = 'waiting' ORDER BY position LIMIT 1";
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "wait list");
	int rc;

	*address_r = NULL;
	if (st != NULL)
		sqlite3_bind_int64(st, 1, meeting);
	if (store_rows_valid(&r))
		*address_r = store_col_text(st, 0);
	rc = store_rows_end(&r);
	if (rc < 0)
		xfree(address_r);
	return rc;
}

int store_rsvp_position(struct store *s, int64_t meeting,
			const char *address, int64_t *pos_r)
{
	static const char sql[] =
		"SELECT count(*) FROM rsvps w, rsvps me WHERE w.meeting = ?1"
		" AND me.meeting = ?1 AND me.address = ?2 AND"
		" me.rsvp = 'waiting' AND w.rsvp = 'waiting' AND"
		" w.position <= me.position";
	sqlite3_stmt *st = store_prep(s, sql);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, meeting);
	store_bind_text(st, 2, address);
	return store_count_query(s, st, pos_r, "wait-list place");
}

int store_rsvp_foreach(struct store *s, int64_t meeting,
		       int (*fn)(const struct store_rsvp_row *r, void *ctx),
		       void *ctx)
{
	static const char sql[] =
		"SELECT address, rsvp, coalesce(position, 0), answered_at, via"
		" FROM rsvps WHERE meeting = ? ORDER BY CASE rsvp"
		" WHEN 'going' THEN 1 WHEN 'waiting' THEN 2 WHEN 'maybe' THEN 3"
		" ELSE 4 END, position, address";
	struct store_rows rows;
	sqlite3_stmt *st = store_rows_prep(&rows, s, sql, "list answers");
	int ret = 0;
	int64_t place = 0;

	if (st != NULL)
		sqlite3_bind_int64(st, 1, meeting);
	for (; store_rows_valid(&rows); store_rows_next(&rows)) {
		struct store_rsvp_row r;

		r.address = (const char *)sqlite3_column_text(st, 0);
		r.rsvp = rsvp_parse((const char *)sqlite3_column_text(st, 1));
		/* Positions have gaps where people left the list: count. */
		r.position = r.rsvp == RSVP_WAITING ? ++place : 0;
		r.answered_at = (time_t)sqlite3_column_int64(st, 3);
		r.via = (const char *)sqlite3_column_text(st, 4);
		ret = fn(&r, ctx);
		if (ret != 0)
			break;
	}
	if (store_rows_end(&rows) < 0 && ret == 0)
		ret = -1;
	return ret;
}

int store_rsvp_unanswered(struct store *s, int64_t meeting, const char *list,
			  int64_t *n_r)
{
	static const char sql[] =
		"SELECT count(*) FROM members m WHERE m.list = ?2 AND"
		" m.status = 'active' AND m.mode <> 'nomail' AND NOT EXISTS"
		" (SELECT 1 FROM rsvps r WHERE r.meeting = ?1 AND"
		"  r.address = m.address)";
	sqlite3_stmt *st = store_prep(s, sql);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, meeting);
	store_bind_text(st, 2, list);
	return store_count_query(s, st, n_r, "unanswered");
}

int store_rsvp_outsiders(struct store *s, int64_t meeting, const char *list,
			 size_t max, char ***addrs_r, size_t *n_r)
{
	static const char sql[] =
		"SELECT r.address FROM rsvps r WHERE r.meeting = ?1 AND"
		" r.rsvp IN ('going','waiting','maybe') AND NOT EXISTS"
		" (SELECT 1 FROM members m WHERE m.list = ?2 AND"
		"  m.address = r.address AND m.status = 'active' AND"
		"  m.mode <> 'nomail') ORDER BY r.address LIMIT ?3";
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql,
					   "answers of former members");
	char **v = xcalloc(max + 1, sizeof *v);
	size_t n = 0;

	*addrs_r = NULL;
	*n_r = 0;
	if (st != NULL) {
		sqlite3_bind_int64(st, 1, meeting);
		store_bind_text(st, 2, list);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
	}
	for (; store_rows_valid(&r) && n < max; store_rows_next(&r))
		v[n++] = store_col_text(st, 0);
	if (store_rows_end(&r) < 0) {
		store_strv_free(&v, n);
		return -1;
	}
	*addrs_r = v;
	*n_r = n;
	return 0;
}

/* ---- reminders and summaries ---- */

int store_meeting_notice_take(struct store *s, int64_t meeting,
			      time_t occurrence, const char *kind, long lead,
			      bool sent, time_t now, bool *taken_r)
{
	static const char sql[] =
		"INSERT OR IGNORE INTO meeting_notices (meeting, occurrence,"
		" kind, lead, sent, at) VALUES (?, ?, ?, ?, ?, ?)";
	sqlite3_stmt *st = store_prep(s, sql);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, meeting);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)occurrence);
	store_bind_text(st, 3, kind);
	sqlite3_bind_int64(st, 4, lead);
	sqlite3_bind_int(st, 5, sent);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)now);
	if (store_step_done(s, st, "record reminder") < 0)
		return -1;
	*taken_r = sqlite3_changes(s->db) > 0;
	return 0;
}

int store_meeting_queue_reminder(struct store *s, int64_t meeting,
				 const struct store_job_new *j,
				 int64_t *job_r, int64_t *n_r)
{
	static const char sql_rcpts[] =
		"INSERT INTO job_rcpts (job, address, state, attempts,"
		" next_attempt) SELECT ?1, m.address, 'queued', 0, 0"
		" FROM members m WHERE m.list = ?2 AND m.status = 'active' AND"
		" m.mode <> 'nomail' AND NOT EXISTS (SELECT 1 FROM rsvps r"
		"  WHERE r.meeting = ?3 AND r.address = m.address AND"
		"  r.rsvp = 'declined') ORDER BY m.id";
	struct store_job_new direct = *j;
	sqlite3_stmt *st;
	int64_t job, n;

	direct.kind = JOB_DIRECT;
	direct.rcpts = NULL;
	direct.n = 0;
	if (store_job_queue(s, &direct, &job) < 0)
		return -1;
	st = store_prep(s, sql_rcpts);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, job);
	store_bind_text(st, 2, j->list);
	sqlite3_bind_int64(st, 3, meeting);
	if (store_step_done(s, st, "reminder recipients") < 0)
		return -1;
	n = sqlite3_changes(s->db);
	if (store_job_set_total(s, job, n) < 0)
		return -1;
	*job_r = job;
	*n_r = n;
	return 0;
}
