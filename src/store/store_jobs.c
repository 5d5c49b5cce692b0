/* store_jobs - delivery jobs and their recipients */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "store/store.h"
#include "store_int.h"
#include "base/log.h"
#include "base/proc.h"
#include "base/util.h"
#include "base/xalloc.h"

/* The schema step for delivery failures (see migrations in store.c): what
 * Delivery recorded and the Pipeline has not yet scored. */
const char *const store_schema_failures[] = {
	"CREATE TABLE delivery_failures ("
	"  id INTEGER PRIMARY KEY,"
	"  list TEXT NOT NULL,"
	"  address TEXT NOT NULL,"
	"  code INTEGER NOT NULL,"
	"  at INTEGER NOT NULL)",
};
const size_t store_schema_failures_n =
	sizeof store_schema_failures / sizeof store_schema_failures[0];

/* Schema: which members a job's stream reaches, and the marker of
 * per-recipient content. */
const char *const store_schema_personal_jobs[] = {
	"ALTER TABLE jobs ADD COLUMN audience TEXT NOT NULL"
	" DEFAULT 'immediate'",
	"ALTER TABLE jobs ADD COLUMN personal TEXT",
};
const size_t store_schema_personal_jobs_n =
	sizeof store_schema_personal_jobs / sizeof store_schema_personal_jobs[0];

/* Schema: who delivers a job (store_job_claim): the owner's token, its
 * process (host, boot, PID namespace, pid, start time) and the lease's
 * end. */
const char *const store_schema_claims[] = {
	"ALTER TABLE jobs ADD COLUMN claim_owner TEXT",
	"ALTER TABLE jobs ADD COLUMN claim_host TEXT",
	"ALTER TABLE jobs ADD COLUMN claim_boot TEXT",
	"ALTER TABLE jobs ADD COLUMN claim_ns TEXT",
	"ALTER TABLE jobs ADD COLUMN claim_pid INTEGER",
	"ALTER TABLE jobs ADD COLUMN claim_start INTEGER",
	"ALTER TABLE jobs ADD COLUMN claim_until INTEGER",
	"CREATE INDEX jobs_claimed ON jobs (claim_owner)"
	" WHERE claim_owner IS NOT NULL",
};
const size_t store_schema_claims_n =
	sizeof store_schema_claims / sizeof store_schema_claims[0];

/* ---- delivery jobs ---- */

void store_job_clear(struct store_job *j)
{
	xfree(&j->list);
	xfree(&j->env_from);
	xfree(&j->personal);
	xfree(&j->token_marker);
	xfree(&j->last_error);
}

int store_job_queue(struct store *s, const struct store_job_new *j,
		    int64_t *id_r)
{
	static const char sql[] =
		"INSERT INTO jobs (list, kind, archive, data, env_from,"
		" members_done, total, next_attempt, created_at, audience,"
		" personal, seq_from, seq_to, token_marker)"
		" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
	sqlite3_stmt *st;
	/* A post's total is counted by the worker when it starts: receive
	 * must cost the same for any list size. */
	int64_t total = j->kind == JOB_POST ? -1 : (int64_t)j->n, id;
	time_t now = util_now();
	size_t i;

	st = store_prep(s, sql);
	if (st == NULL)
		return -1;
	store_bind(st, STORE_T(j->list),
		   STORE_T(j->kind == JOB_POST ? "post" : "direct"));
	if (j->archive)
		sqlite3_bind_int64(st, 3, j->archive);
	else
		sqlite3_bind_null(st, 3);
	sqlite3_bind_blob64(st, 4, j->data, j->len, SQLITE_STATIC);
	store_bind_text(st, 5, j->env_from);
	sqlite3_bind_int(st, 6, j->kind == JOB_DIRECT);
	sqlite3_bind_int64(st, 7, total);
	sqlite3_bind_int64(st, 8, (sqlite3_int64)now);
	sqlite3_bind_int64(st, 9, (sqlite3_int64)now);
	store_bind_text(st, 10, store_audience_name(j->audience));
	store_bind_text(st, 11, j->personal);
	sqlite3_bind_int64(st, 12, j->seq_from);
	sqlite3_bind_int64(st, 13, j->seq_to);
	store_bind_text(st, 14, j->token_marker);
	if (store_insert_id(s, st, "queue job", &id) < 0)
		return -1;
	for (i = 0; i < j->n; i++)
		if (store_job_rcpt_add(s, id, j->rcpts[i], RCPT_QUEUED, 0, 0,
				       0, NULL) < 0)
			return -1;
	if (id_r != NULL)
		*id_r = id;
	return 0;
}

int store_job_add(struct store *s, const char *list, enum store_job_kind kind,
		  int64_t archive, const char *env_from, const char *data,
		  size_t len, const char *const *rcpts, size_t n,
		  int64_t *id_r)
{
	struct store_job_new j = {
		.list = list, .kind = kind, .audience = AUDIENCE_IMMEDIATE,
		.archive = archive, .env_from = env_from, .data = data,
		.len = len, .rcpts = rcpts, .n = n,
	};

	return store_job_queue(s, &j, id_r);
}

/* The columns of a job as struct store_job has them (job_row). */
#define JOB_COLUMNS \
	"id, list, kind, coalesce(archive, 0), env_from, cursor," \
	" members_done, sent, total, attempts, next_attempt, last_error," \
	" audience, personal, seq_from, seq_to, token_marker"

static void job_row(sqlite3_stmt *st, struct store_job *j)
{
	char *kind;

	j->id = sqlite3_column_int64(st, 0);
	j->list = store_col_text(st, 1);
	kind = store_col_text(st, 2);
	j->kind = kind && strcmp(kind, "direct") == 0 ? JOB_DIRECT : JOB_POST;
	free(kind);
	j->archive = sqlite3_column_int64(st, 3);
	j->env_from = store_col_text(st, 4);
	j->cursor = sqlite3_column_int64(st, 5);
	j->members_done = sqlite3_column_int(st, 6) != 0;
	j->sent = sqlite3_column_int64(st, 7);
	j->total = sqlite3_column_int64(st, 8);
	j->attempts = sqlite3_column_int(st, 9);
	j->next_attempt = (time_t)sqlite3_column_int64(st, 10);
	j->last_error = store_col_text(st, 11);
	kind = store_col_text(st, 12);
	if (kind == NULL || store_audience_parse(kind, &j->audience) < 0)
		j->audience = AUDIENCE_IMMEDIATE;
	free(kind);
	j->personal = store_col_text(st, 13);
	j->seq_from = sqlite3_column_int64(st, 14);
	j->seq_to = sqlite3_column_int64(st, 15);
	j->token_marker = store_col_text(st, 16);
}

int store_job_next_due(struct store *s, time_t now, int64_t after,
		       struct store_job *j, bool *found_r)
{
	/* A job is due when its member stream has work and it is not
	 * deferred, or when one of its recipients is due, or when nothing is
	 * left but to mark it done (a worker killed between its last
	 * progress and that). */
	static const char sql[] =
		"SELECT " JOB_COLUMNS
		" FROM jobs WHERE state = 'queued' AND id > ?2 AND"
		" ((members_done = 0 AND next_attempt <= ?1) OR EXISTS"
		"  (SELECT 1 FROM job_rcpts r WHERE r.job = jobs.id AND"
		"   r.state IN ('queued','retry') AND r.next_attempt <= ?1) OR"
		"  (members_done = 1 AND NOT EXISTS"
		"  (SELECT 1 FROM job_rcpts r WHERE r.job = jobs.id AND"
		"   r.state IN ('queued','retry'))))"
		" ORDER BY id LIMIT 1";
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "next job");

	*found_r = false;
	store_bind(st, STORE_I(now), STORE_I(after));
	if (store_rows_valid(&r)) {
		job_row(st, j);
		*found_r = true;
	}
	return store_rows_end(&r);
}

/* ---- claims ---- */

/* The claim on job id as stored: *owner_r (newly allocated, NULL when
 * unclaimed) and its holder; *found_r false when the job is not queued. */
static int claim_get(struct store *s, int64_t id, char **owner_r,
		     struct proc_id *who, time_t *until_r, bool *found_r)
{
	static const char sql[] =
		"SELECT claim_owner, coalesce(claim_host, ''),"
		" coalesce(claim_boot, ''), coalesce(claim_pid, 0),"
		" coalesce(claim_start, 0), coalesce(claim_until, 0),"
		" coalesce(claim_ns, '')"
		" FROM jobs WHERE id = ? AND state = 'queued'";
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "read claim");

	*found_r = false;
	*owner_r = NULL;
	memset(who, 0, sizeof *who);
	store_bind(st, STORE_I(id));
	if (store_rows_valid(&r)) {
		const unsigned char *t;

		*found_r = true;
		*owner_r = store_col_text(st, 0);
		t = sqlite3_column_text(st, 1);
		snprintf(who->host, sizeof who->host, "%s",
			 t ? (const char *)t : "");
		t = sqlite3_column_text(st, 2);
		snprintf(who->boot, sizeof who->boot, "%s",
			 t ? (const char *)t : "");
		who->pid = sqlite3_column_int64(st, 3);
		who->start = sqlite3_column_int64(st, 4);
		*until_r = (time_t)sqlite3_column_int64(st, 5);
		t = sqlite3_column_text(st, 6);
		snprintf(who->ns, sizeof who->ns, "%s",
			 t ? (const char *)t : "");
	}
	return store_rows_end(&r);
}

static int claim_set(struct store *s, int64_t id,
		     const struct store_claimant *me, time_t until)
{
	static const char sql[] =
		"UPDATE jobs SET claim_owner = ?2, claim_host = ?3,"
		" claim_boot = ?4, claim_pid = ?5, claim_start = ?6,"
		" claim_until = ?7, claim_ns = ?8 WHERE id = ?1";

	return store_run(s, sql, "claim job", STORE_I(id), STORE_T(me->owner),
			 STORE_T(me->proc->host), STORE_T(me->proc->boot),
			 STORE_I(me->proc->pid), STORE_I(me->proc->start),
			 STORE_I(until), STORE_T(me->proc->ns));
}

static int job_get(struct store *s, int64_t id, struct store_job *j)
{
	static const char sql[] = "SELECT " JOB_COLUMNS " FROM jobs WHERE id = ?";
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "read job");

	store_bind(st, STORE_I(id));
	if (store_rows_valid(&r))
		job_row(st, j);
	return store_rows_end(&r);
}

int store_job_claim(struct store *s, int64_t id,
		    const struct store_claimant *me, time_t now, time_t until,
		    struct store_job *j, enum store_claim_result *result_r,
		    struct store_claim_holder *holder_r)
{
	struct proc_id who;
	enum store_claim_result res;
	char *owner = NULL;
	time_t old_until = 0;
	bool found;

	if (sqlite3_get_autocommit(s->db)) {
		/* A claim read and written outside a write transaction could
		 * be won by two workers at once. */
		free(s->err);
		s->err = xstrdup("a claim needs a write transaction");
		s->transient = false;
		return -1;
	}
	if (claim_get(s, id, &owner, &who, &old_until, &found) < 0)
		return -1;
	if (!found)
		res = CLAIM_GONE;
	else if (owner == NULL || strcmp(owner, me->owner) == 0)
		res = CLAIM_WON;
	else if (old_until <= now || proc_state(&who) == PROC_GONE)
		res = CLAIM_TAKEN_OVER;
	else
		res = CLAIM_HELD;
	free(owner);
	if (holder_r != NULL && (res == CLAIM_HELD || res == CLAIM_TAKEN_OVER)) {
		holder_r->pid = who.pid;
		snprintf(holder_r->host, sizeof holder_r->host, "%s", who.host);
		holder_r->until = old_until;
	}
	if (res == CLAIM_WON || res == CLAIM_TAKEN_OVER) {
		store_job_clear(j);
		memset(j, 0, sizeof *j);
		if (claim_set(s, id, me, until) < 0 || job_get(s, id, j) < 0) {
			store_job_clear(j);
			return -1;
		}
	}
	*result_r = res;
	return 0;
}

int store_job_claim_renew(struct store *s, int64_t id, const char *owner,
			  time_t until, bool *held_r)
{
	static const char sql[] =
		"UPDATE jobs SET claim_until = ?3 WHERE id = ?1"
		" AND claim_owner = ?2";

	if (store_run(s, sql, "renew claim", STORE_I(id), STORE_T(owner),
		      STORE_I(until)) < 0)
		return -1;
	*held_r = sqlite3_changes(s->db) > 0;
	return 0;
}

/* The columns of a claim, emptied. */
#define CLAIM_CLEARED \
	"claim_owner = NULL, claim_host = NULL, claim_boot = NULL," \
	" claim_ns = NULL, claim_pid = NULL, claim_start = NULL," \
	" claim_until = NULL"

int store_job_claim_release(struct store *s, int64_t id, const char *owner)
{
	static const char sql[] =
		"UPDATE jobs SET " CLAIM_CLEARED
		" WHERE id = ?1 AND claim_owner = ?2";

	return store_run(s, sql, "release claim", STORE_I(id), STORE_T(owner));
}

int store_job_claims_release_all(struct store *s, const char *owner,
				 int64_t *n_r)
{
	static const char sql[] =
		"UPDATE jobs SET " CLAIM_CLEARED " WHERE claim_owner = ?1";

	if (store_run(s, sql, "release claims", STORE_T(owner)) < 0)
		return -1;
	if (n_r != NULL)
		*n_r = sqlite3_changes(s->db);
	return 0;
}

int store_job_data(struct store *s, int64_t id, char **data_r, size_t *len_r)
{
	static const char sql[] = "SELECT data FROM jobs WHERE id = ?";
	sqlite3_stmt *st = store_prep(s, sql);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	return store_get_blob(s, st, "read job", data_r, len_r);
}

int store_job_progress(struct store *s, int64_t id, int64_t cursor,
		       int64_t sent_delta, bool members_done, bool succeeded)
{
	static const char sql[] =
		"UPDATE jobs SET cursor = ?1, sent = sent + ?2, members_done = ?3,"
		" attempts = CASE WHEN ?5 THEN 0 ELSE attempts END,"
		" last_error = CASE WHEN ?5 THEN NULL ELSE last_error END"
		" WHERE id = ?4";
	return store_run(s, sql, "job progress", STORE_I(cursor),
			 STORE_I(sent_delta), STORE_I(members_done),
			 STORE_I(id), STORE_I(succeeded));
}

int store_job_defer(struct store *s, int64_t id, time_t next_attempt,
		    const char *error)
{
	static const char sql[] =
		"UPDATE jobs SET attempts = attempts + 1, next_attempt = ?,"
		" last_error = ? WHERE id = ?";
	return store_run(s, sql, "defer job", STORE_I(next_attempt),
			 STORE_T(error), STORE_I(id));
}

int store_job_finish_if_done(struct store *s, int64_t id, bool *done_r)
{
	static const char sql[] =
		"UPDATE jobs SET state = 'done', done_at = ?2 WHERE id = ?1"
		" AND members_done = 1 AND NOT EXISTS (SELECT 1 FROM job_rcpts"
		" WHERE job = ?1 AND state IN ('queued','retry'))";
	sqlite3_stmt *st = store_prep(s, sql);

	if (st == NULL)
		return -1;
	store_bind(st, STORE_I(id), STORE_I(util_now()));
	if (store_step_done(s, st, "finish job") < 0)
		return -1;
	*done_r = sqlite3_changes(s->db) > 0;
	return 0;
}

int store_job_counts(struct store *s, int64_t id, int64_t *delivered_r,
		     int64_t *failed_r)
{
	static const char sql[] =
		"SELECT sent, (SELECT count(*) FROM job_rcpts WHERE job = ?1"
		" AND state = 'failed') FROM jobs WHERE id = ?1";
	sqlite3_stmt *st = store_prep(s, sql);
	int rc;

	*delivered_r = *failed_r = 0;
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*delivered_r = sqlite3_column_int64(st, 0);
		*failed_r = sqlite3_column_int64(st, 1);
	} else if (rc != SQLITE_DONE) {
		store_set_err(s, rc, "job counts");
		sqlite3_reset(st);
		return -1;
	}
	sqlite3_reset(st);
	return 0;
}

static const char *const rcpt_state_names[] = {
	"queued", "retry", "done", "failed"
};

int store_job_rcpt_add(struct store *s, int64_t job, const char *address,
		       enum store_rcpt_state rst, int attempts,
		       time_t next_attempt, int code, const char *error)
{
	static const char sql[] =
		"INSERT INTO job_rcpts (job, address, state, attempts,"
		" next_attempt, last_code, last_error)"
		" VALUES (?, ?, ?, ?, ?, ?, ?)";
	sqlite3_stmt *st = store_prep(s, sql);

	if (st == NULL)
		return -1;
	store_bind(st, STORE_I(job), STORE_T(address),
		   STORE_T(rcpt_state_names[rst]), STORE_I(attempts),
		   STORE_I(next_attempt));
	if (code)
		sqlite3_bind_int(st, 6, code);
	else
		sqlite3_bind_null(st, 6);
	store_bind_text(st, 7, error);
	return store_step_done(s, st, "add recipient");
}

static int rcpt_row(sqlite3_stmt *st, void *vec)
{
	struct store_rcpt *e = store_vec_push(vec);

	e->id = sqlite3_column_int64(st, 0);
	e->address = store_col_text(st, 1);
	e->attempts = sqlite3_column_int(st, 2);
	return 0;
}

int store_job_rcpts_due(struct store *s, int64_t job, time_t now, size_t max,
			struct store_rcpt **v_r, size_t *n_r)
{
	static const char sql[] =
		"SELECT id, address, attempts FROM job_rcpts WHERE job = ?"
		" AND state IN ('queued','retry') AND next_attempt <= ?"
		" ORDER BY id LIMIT ?";
	struct store_vec vec = STORE_VEC_INIT(struct store_rcpt);
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "read recipients");
	int rc;

	store_bind(st, STORE_I(job), STORE_I(now), STORE_I(max));
	rc = store_rows_each(&r, rcpt_row, &vec);
	*v_r = vec.v;
	*n_r = vec.n;
	if (rc < 0)
		store_rcpts_free(v_r, *n_r);
	return rc;
}

void store_rcpts_free(struct store_rcpt **vp, size_t n)
{
	size_t i;

	if (*vp == NULL)
		return;
	for (i = 0; i < n; i++)
		free((*vp)[i].address);
	xfree(vp);
}

int store_job_rcpt_update(struct store *s, int64_t rcpt,
			  enum store_rcpt_state rst, int attempts,
			  time_t next_attempt, int code, const char *error)
{
	static const char sql[] =
		"UPDATE job_rcpts SET state = ?, attempts = ?, next_attempt = ?,"
		" last_code = ?, last_error = ? WHERE id = ?";
	return store_run(s, sql, "update recipient",
			 STORE_T(rcpt_state_names[rst]), STORE_I(attempts),
			 STORE_I(next_attempt), STORE_I(code), STORE_T(error),
			 STORE_I(rcpt));
}

int store_job_rcpt_next_time(struct store *s, int64_t job, time_t *t_r)
{
	static const char sql[] =
		"SELECT coalesce(min(next_attempt), 0) FROM job_rcpts"
		" WHERE job = ? AND state IN ('queued','retry')";
	int64_t t;

	if (store_count(s, sql, "next retry", &t, STORE_I(job)) < 0)
		return -1;
	*t_r = (time_t)t;
	return 0;
}

int store_job_foreach(struct store *s,
		      int (*fn)(const struct store_job_info *j, void *ctx),
		      void *ctx)
{
	static const char sql[] =
		"SELECT id, list, state, sent, total, attempts, next_attempt,"
		" last_error,"
		" (SELECT count(*) FROM job_rcpts r WHERE r.job = jobs.id AND"
		"  r.state IN ('queued','retry')),"
		" (SELECT count(*) FROM job_rcpts r WHERE r.job = jobs.id AND"
		"  r.state = 'failed'),"
		" coalesce(claim_pid, 0), claim_host, coalesce(claim_until, 0)"
		" FROM jobs WHERE state <> 'done' ORDER BY id";
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "list jobs");
	int ret = 0;

	for (; store_rows_valid(&r); store_rows_next(&r)) {
		struct store_job_info j = { 0 };

		j.id = sqlite3_column_int64(st, 0);
		j.list = store_col_text(st, 1);
		j.state = store_col_text(st, 2);
		j.sent = sqlite3_column_int64(st, 3);
		j.total = sqlite3_column_int64(st, 4);
		j.attempts = sqlite3_column_int(st, 5);
		j.next_attempt = (time_t)sqlite3_column_int64(st, 6);
		j.last_error = store_col_text(st, 7);
		j.waiting = sqlite3_column_int64(st, 8);
		j.failed = sqlite3_column_int64(st, 9);
		j.claim_pid = sqlite3_column_int64(st, 10);
		j.claim_host = store_col_text(st, 11);
		j.claim_until = (time_t)sqlite3_column_int64(st, 12);
		ret = fn(&j, ctx);
		free(j.claim_host);
		free(j.list);
		free(j.state);
		free(j.last_error);
		if (ret != 0)
			break;
	}
	if (store_rows_end(&r) < 0 && ret == 0)
		ret = -1;
	return ret;
}

int store_job_range_add(struct store *s, int64_t job, int64_t after,
			int64_t last)
{
	static const char sql[] =
		"INSERT OR REPLACE INTO job_ranges (job, after_id, last_id)"
		" VALUES (?, ?, ?)";
	return store_run(s, sql, "record range", STORE_I(job), STORE_I(after),
			 STORE_I(last));
}

static int range_row(sqlite3_stmt *st, void *vec)
{
	struct store_range *e = store_vec_push(vec);

	e->after = sqlite3_column_int64(st, 0);
	e->last = sqlite3_column_int64(st, 1);
	return 0;
}

int store_job_ranges(struct store *s, int64_t job, struct store_range **v_r,
		     size_t *n_r)
{
	static const char sql[] =
		"SELECT after_id, last_id FROM job_ranges WHERE job = ?"
		" ORDER BY after_id";
	struct store_vec vec = STORE_VEC_INIT(struct store_range);
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "read ranges");
	int rc;

	store_bind(st, STORE_I(job));
	rc = store_rows_each(&r, range_row, &vec);
	*v_r = vec.v;
	*n_r = vec.n;
	if (rc < 0)
		xfree(v_r);
	return rc;
}

int store_job_ranges_prune(struct store *s, int64_t job, int64_t cursor)
{
	static const char sql[] =
		"DELETE FROM job_ranges WHERE job = ? AND last_id <= ?";
	return store_run(s, sql, "prune ranges", STORE_I(job), STORE_I(cursor));
}

int store_job_retry_now(struct store *s, int64_t id, time_t now,
			int64_t *n_r)
{
	static const char sql_jobs[] =
		"UPDATE jobs SET next_attempt = ?2 WHERE state = 'queued'"
		" AND next_attempt > ?2 AND (?1 = 0 OR id = ?1)";
	static const char sql_rcpts[] =
		"UPDATE job_rcpts SET next_attempt = ?2 WHERE state = 'retry'"
		" AND next_attempt > ?2 AND (?1 = 0 OR job = ?1)";
	sqlite3_stmt *st;
	int64_t n;

	st = store_prep(s, sql_jobs);
	if (st == NULL)
		return -1;
	store_bind(st, STORE_I(id), STORE_I(now));
	if (store_step_done(s, st, "retry jobs") < 0)
		return -1;
	n = sqlite3_changes(s->db);
	st = store_prep(s, sql_rcpts);
	if (st == NULL)
		return -1;
	store_bind(st, STORE_I(id), STORE_I(now));
	if (store_step_done(s, st, "retry recipients") < 0)
		return -1;
	*n_r = n + sqlite3_changes(s->db);
	return 0;
}

int store_job_set_total(struct store *s, int64_t id, int64_t total)
{
	static const char sql[] = "UPDATE jobs SET total = ? WHERE id = ?";
	return store_run(s, sql, "job total", STORE_I(total), STORE_I(id));
}

/* ---- failures for the Pipeline to score ---- */

int store_failure_add(struct store *s, const char *list, const char *address,
		      int code, time_t at)
{
	static const char sql[] =
		"INSERT INTO delivery_failures (list, address, code, at)"
		" VALUES (?, ?, ?, ?)";
	return store_run(s, sql, "record failure", STORE_T(list),
			 STORE_T(address), STORE_I(code), STORE_I(at));
}

static int failure_row(sqlite3_stmt *st, void *vec)
{
	struct store_failure *e = store_vec_push(vec);

	e->id = sqlite3_column_int64(st, 0);
	e->list = store_col_text(st, 1);
	e->address = store_col_text(st, 2);
	e->code = sqlite3_column_int(st, 3);
	e->at = (time_t)sqlite3_column_int64(st, 4);
	return 0;
}

int store_failures_next(struct store *s, size_t max,
			struct store_failure **v_r, size_t *n_r)
{
	static const char sql[] =
		"SELECT id, list, address, code, at FROM delivery_failures"
		" ORDER BY id LIMIT ?";
	struct store_vec vec = STORE_VEC_INIT(struct store_failure);
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "read failures");
	int rc;

	store_bind(st, STORE_I(max));
	rc = store_rows_each(&r, failure_row, &vec);
	*v_r = vec.v;
	*n_r = vec.n;
	if (rc < 0)
		store_failures_free(v_r, *n_r);
	return rc;
}

void store_failures_free(struct store_failure **vp, size_t n)
{
	size_t i;

	if (*vp == NULL)
		return;
	for (i = 0; i < n; i++) {
		free((*vp)[i].list);
		free((*vp)[i].address);
	}
	xfree(vp);
}

int store_failure_forget(struct store *s, int64_t id)
{
	static const char sql[] = "DELETE FROM delivery_failures WHERE id = ?";
	sqlite3_stmt *st = store_prep(s, sql);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	return store_step_done(s, st, "forget failure");
}
