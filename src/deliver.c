/* deliver - turns queued jobs into transactions for the transport */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deliver.h"
#include "conf.h"
#include "log.h"
#include "store.h"
#include "transport.h"
#include "util.h"
#include "xalloc.h"

/* Jobs at least this large get a progress bar on a terminal. */
#define PROGRESS_MIN 1000

time_t deliver_backoff(const struct conf *c, int attempts, time_t now)
{
	const struct conf_strv *sched = &c->outbound.retry_schedule;
	long d = 300;

	if (sched->n > 0) {
		size_t i = attempts < 1 ? 0 : (size_t)attempts - 1;

		if (i >= sched->n)
			i = sched->n - 1;
		d = conf_parse_duration(sched->v[i]);
		if (d < 0)
			d = 300;
	}
	return now + d;
}

static void progress_bar(const struct store_job *j, int64_t sent)
{
	int width = 40, filled;
	int64_t total = j->total > 0 ? j->total : 1;

	if (sent > total)
		sent = total;
	filled = (int)(sent * width / total);
	fprintf(stderr, "\rjob %lld [%-*.*s%*s] %lld/%lld", (long long)j->id,
		filled, filled, "########################################",
		width - filled, "", (long long)sent, (long long)j->total);
	fflush(stderr);
}

/* Records what the transport said about each recipient of a transaction.
 * `rows` holds the job_rcpts row of each recipient, or 0 for one read from
 * the member stream (a row is then created only if it must be retried or
 * failed). Returns the number delivered, or -1 on a store failure. */
static int64_t record_results(const struct conf *c, struct store *s,
			      const struct store_job *j,
			      const struct transport_rcpt *r,
			      const struct store_rcpt *rows, size_t n,
			      time_t now, struct deliver_stats *stats)
{
	int64_t ok = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		int attempts = rows ? rows[i].attempts + 1 : 1;
		enum store_rcpt_state st;
		time_t next = 0;
		int rc;

		if (r[i].code >= 200 && r[i].code < 300) {
			ok++;
			stats->delivered++;
			if (!rows)
				continue;
			st = RCPT_DONE;
		} else if (r[i].code >= 500) {
			st = RCPT_FAILED;
			stats->failed++;
			log_info("list=%s job=%lld rcpt=<%s>: failed: %d",
				 j->list, (long long)j->id, r[i].addr,
				 r[i].code);
		} else {
			st = RCPT_RETRY;
			next = deliver_backoff(c, attempts, now);
			stats->deferred++;
		}
		if (rows)
			rc = store_job_rcpt_update(s, rows[i].id, st, attempts,
						   next, r[i].code, NULL);
		else
			rc = store_job_rcpt_add(s, j->id, r[i].addr, st,
						attempts, next, r[i].code,
						NULL);
		if (rc < 0)
			return -1;
		if (st == RCPT_FAILED &&
		    store_event_add(s, j->list, "delivery.failed", r[i].addr,
				    j->id, NULL) < 0)
			return -1;
	}
	return ok;
}

/* One transaction; returns 1 when it ran (results recorded), 0 when the
 * whole transaction must wait (the job was deferred), -1 on store failure. */
static int transaction(const struct conf *c, struct store *s,
		       struct transport *t, struct store_job *j,
		       const char *data, size_t len, char **addrs,
		       const struct store_rcpt *rows, size_t n,
		       int64_t new_cursor, bool members_done,
		       struct deliver_stats *stats)
{
	struct transport_rcpt *r = xcalloc(n, sizeof *r);
	enum transport_result tr;
	char *err = NULL;
	time_t now;
	int64_t ok;
	size_t i;
	int ret = -1;

	for (i = 0; i < n; i++) {
		r[i].addr = rows ? rows[i].address : addrs[i];
		r[i].code = 0;
	}
	tr = transport_send(t, j->env_from, r, n, data, len, &err);
	now = util_now();
	stats->transactions++;
	if (tr == TRANSPORT_TEMPFAIL) {
		time_t next = deliver_backoff(c, j->attempts + 1, now);

		log_warn("list=%s job=%lld: deferred: %s", j->list,
			 (long long)j->id, err ? err : "temporary failure");
		stats->deferred += n;
		if (store_begin(s) < 0)
			goto out;
		if (rows) {
			for (i = 0; i < n; i++)
				if (store_job_rcpt_update(s, rows[i].id,
							  RCPT_RETRY,
							  rows[i].attempts + 1,
							  next, 0, err) < 0)
					goto fail;
		} else if (store_job_defer(s, j->id, next, err) < 0) {
			goto fail;
		}
		if (store_commit(s) < 0)
			goto fail;
		j->attempts++;
		ret = 0;
		goto out;
	}
	if (tr == TRANSPORT_PERMFAIL) {
		log_warn("list=%s job=%lld: refused: %s", j->list,
			 (long long)j->id, err ? err : "permanent failure");
		for (i = 0; i < n; i++)
			r[i].code = 550;
	}
	if (store_begin(s) < 0)
		goto out;
	ok = record_results(c, s, j, r, rows, n, now, stats);
	if (ok < 0)
		goto fail;
	if (!rows && store_job_progress(s, j->id, new_cursor, ok,
					members_done) < 0)
		goto fail;
	if (store_commit(s) < 0)
		goto fail;
	ret = 1;
	goto out;
fail:
	store_rollback(s);
out:
	free(err);
	free(r);
	return ret;
}

/* Works one job until it is done or must wait. 0, or -1 on store failure. */
static int run_job(const struct conf *c, struct store *s, struct transport *t,
		   struct store_job *j, bool progress,
		   struct deliver_stats *stats)
{
	size_t max = (size_t)(c->outbound.max_rcpt_per_txn > 0 ?
			      c->outbound.max_rcpt_per_txn : 100);
	bool bar = progress && j->total >= PROGRESS_MIN &&
		   isatty(STDERR_FILENO);
	char *data = NULL;
	size_t len;
	int64_t sent = j->sent;
	bool done;
	int rc;

	if (store_job_data(s, j->id, &data, &len) < 0)
		return -1;
	/* The member stream, one transaction per batch, the cursor committed
	 * after each. */
	while (!j->members_done && j->next_attempt <= util_now()) {
		char **addrs;
		size_t n;
		int64_t last;

		if (store_recipients_next(s, j->list, j->cursor, max, &addrs,
					  &n, &last) < 0)
			goto fail;
		if (n == 0) {
			store_strv_free(&addrs, n);
			if (store_job_progress(s, j->id, j->cursor, 0,
					       true) < 0)
				goto fail;
			j->members_done = true;
			break;
		}
		rc = transaction(c, s, t, j, data, len, addrs, NULL, n, last,
				 n < max, stats);
		store_strv_free(&addrs, n);
		if (rc < 0)
			goto fail;
		if (rc == 0)
			break;
		j->cursor = last;
		j->members_done = n < max;
		sent += (int64_t)n;
		if (bar)
			progress_bar(j, sent);
	}
	/* Explicit recipients and retries that are due. */
	for (;;) {
		struct store_rcpt *rows;
		size_t n;

		if (store_job_rcpts_due(s, j->id, util_now(), max, &rows,
					&n) < 0)
			goto fail;
		if (n == 0) {
			store_rcpts_free(&rows, n);
			break;
		}
		rc = transaction(c, s, t, j, data, len, NULL, rows, n, 0,
				 false, stats);
		store_rcpts_free(&rows, n);
		if (rc < 0)
			goto fail;
		if (rc == 0)
			break;
	}
	if (bar)
		fputc('\n', stderr);
	if (store_job_finish_if_done(s, j->id, &done) < 0)
		goto fail;
	if (done) {
		stats->jobs_done++;
		log_info("list=%s job=%lld: delivered", j->list,
			 (long long)j->id);
	}
	free(data);
	return 0;
fail:
	log_error("list=%s job=%lld: %s", j->list, (long long)j->id,
		  store_error(s));
	free(data);
	return -1;
}

int deliver_pass(const struct conf *c, struct store *s, struct transport *t,
		 bool progress, struct deliver_stats *stats)
{
	struct store_job j = { 0 };
	int64_t last_id = 0;
	bool found;

	for (;;) {
		if (store_job_next_due(s, util_now(), last_id, &j,
				       &found) < 0) {
			log_error("queue: %s", store_error(s));
			return -1;
		}
		if (!found)
			return 0;
		last_id = j.id;
		if (run_job(c, s, t, &j, progress, stats) < 0) {
			store_job_clear(&j);
			return -1;
		}
		store_job_clear(&j);
	}
}
