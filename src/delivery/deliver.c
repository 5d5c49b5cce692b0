/* deliver - turns queued jobs into transactions over parallel connections */
#include "autoconf.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "delivery/deliver.h"
#include "base/buf.h"
#include "base/conf.h"
#include "base/log.h"
#include "mail/verp.h"
#include "store/store.h"
#include "store/store_guard.h"
#include "delivery/relays.h"
#include "delivery/transport.h"
#include "base/util.h"
#include "base/xalloc.h"

/* Jobs at least this large get a progress bar on a terminal. */
#define PROGRESS_MIN 1000

/* One transaction on its way through a session. */
struct txn {
	struct txn *next;          /* in the pool's to-do or done queue */
	struct txn *fifo_next;     /* stream batches in the order read */
	bool unrecorded;           /* its outcome could not be committed */
	/* What to send (borrowed from the job while it runs; env_from is
	 * owned_from when the sender is per recipient, data owned_data when
	 * the content is). */
	const char *env_from, *data;
	char *owned_from, *owned_data;
	size_t len;
	/* Member stream batch (after, last] with its addresses, or job_rcpts
	 * rows for explicit recipients and retries. */
	int64_t after, last;
	char **addrs;
	struct store_rcpt *rows;
	size_t n;
	struct transport_rcpt *r;
	/* The outcome. */
	enum transport_result result;
	char *error;
	bool finished;
};

struct deliver {
	const struct conf *c;
	size_t nsessions;          /* sessions configured */
	size_t nthreads;           /* threads started */
	struct transport **t;
	struct relays *relays;     /* shared by the sessions; NULL: one relay */
	pthread_t *threads;
	pthread_mutex_t mu;
	pthread_cond_t work_cv, done_cv;
	struct txn *todo_head, *todo_tail, *done_head, *done_tail;
	bool stopping;
	/* the key of VERP tags (store_secret), read at the first pass */
	unsigned char verp_key[VERP_KEY_LEN];
	bool have_key;
};

time_t deliver_backoff(const struct conf *c, int attempts, time_t now)
{
	const struct conf_strv *sched = &c->outbound.retry_schedule;
	long d = 300;

	if (sched->n > 0) {
		size_t i = attempts < 1 ? 0 : (size_t)attempts - 1;

		if (i >= sched->n)
			i = sched->n - 1;
		d = conf_parse_duration(sched->v[i]);
		if (d <= 0)
			d = 300;
	}
	return now + d;
}

_Static_assert(VERP_KEY_LEN == STORE_SECRET_LEN, "the VERP key is a secret");

/* ---- the sessions: one thread and one transport each ---- */

static void push(struct txn **head, struct txn **tail, struct txn *t)
{
	t->next = NULL;
	if (*tail)
		(*tail)->next = t;
	else
		*head = t;
	*tail = t;
}

static struct txn *pop(struct txn **head, struct txn **tail)
{
	struct txn *t = *head;

	if (t != NULL) {
		*head = t->next;
		if (*head == NULL)
			*tail = NULL;
	}
	return t;
}

struct session_arg {
	struct deliver *d;
	size_t i;
};

static void *session_main(void *p)
{
	struct session_arg *a = p;
	struct deliver *d = a->d;
	struct transport *t = d->t[a->i];
	struct txn *x;

	free(a);
	for (;;) {
		pthread_mutex_lock(&d->mu);
		while (d->todo_head == NULL && !d->stopping)
			pthread_cond_wait(&d->work_cv, &d->mu);
		x = pop(&d->todo_head, &d->todo_tail);
		pthread_mutex_unlock(&d->mu);
		if (x == NULL)
			break;
		x->result = transport_send(t, x->env_from, x->r, x->n,
					   x->data, x->len, &x->error);
		pthread_mutex_lock(&d->mu);
		push(&d->done_head, &d->done_tail, x);
		pthread_cond_signal(&d->done_cv);
		pthread_mutex_unlock(&d->mu);
	}
	return NULL;
}

struct deliver *deliver_open(const struct conf *c, char **error_r)
{
	struct deliver *d = xcalloc(1, sizeof *d);
	size_t i;

	d->c = c;
	d->nsessions = c->outbound.connections > 0 ?
		       (size_t)c->outbound.connections : 1;
	d->t = xcalloc(d->nsessions, sizeof *d->t);
	d->threads = xcalloc(d->nsessions, sizeof *d->threads);
	pthread_mutex_init(&d->mu, NULL);
	pthread_cond_init(&d->work_cv, NULL);
	pthread_cond_init(&d->done_cv, NULL);
	d->relays = relays_new(c);
	for (i = 0; i < d->nsessions; i++) {
		d->t[i] = transport_open_relays(c, d->relays, error_r);
		if (d->t[i] == NULL)
			goto fail;
	}
	for (i = 0; i < d->nsessions; i++) {
		struct session_arg *a = xmalloc(sizeof *a);

		a->d = d;
		a->i = i;
		if (pthread_create(&d->threads[i], NULL, session_main, a) != 0) {
			free(a);
			*error_r = xstrdup("cannot start a delivery thread");
			goto fail;
		}
		d->nthreads++;
	}
	return d;
fail:
	deliver_close(&d);
	return NULL;
}

void deliver_close(struct deliver **dp)
{
	struct deliver *d = *dp;
	size_t i;

	if (d == NULL)
		return;
	pthread_mutex_lock(&d->mu);
	d->stopping = true;
	pthread_cond_broadcast(&d->work_cv);
	pthread_mutex_unlock(&d->mu);
	for (i = 0; i < d->nthreads; i++)
		pthread_join(d->threads[i], NULL);
	for (i = 0; i < d->nsessions; i++)
		transport_close(&d->t[i]);
	relays_free(&d->relays);
	pthread_cond_destroy(&d->work_cv);
	pthread_cond_destroy(&d->done_cv);
	pthread_mutex_destroy(&d->mu);
	free(d->t);
	free(d->threads);
	free(d);
	*dp = NULL;
}

static void submit(struct deliver *d, struct txn *x)
{
	pthread_mutex_lock(&d->mu);
	push(&d->todo_head, &d->todo_tail, x);
	pthread_cond_signal(&d->work_cv);
	pthread_mutex_unlock(&d->mu);
}

static struct txn *wait_done(struct deliver *d)
{
	struct txn *x;

	pthread_mutex_lock(&d->mu);
	while (d->done_head == NULL)
		pthread_cond_wait(&d->done_cv, &d->mu);
	x = pop(&d->done_head, &d->done_tail);
	pthread_mutex_unlock(&d->mu);
	return x;
}

static struct txn *txn_new(const struct store_job *j, const char *data,
			   size_t len, size_t n)
{
	struct txn *x = xcalloc(1, sizeof *x);

	x->env_from = j->env_from;
	x->data = data;
	x->len = len;
	x->n = n;
	x->r = xcalloc(n ? n : 1, sizeof *x->r);
	return x;
}

static void txn_free(struct txn *x)
{
	if (x->addrs)
		store_strv_free(&x->addrs, x->n);
	if (x->rows)
		store_rcpts_free(&x->rows, x->n);
	free(x->r);
	free(x->error);
	free(x->owned_from);
	free(x->owned_data);
	free(x);
}

/* Recipients a transaction of job j takes at most: one when the content or
 * the envelope sender is per recipient. */
static size_t batch_max(const struct deliver *d, const struct store_job *j)
{
	if (j->personal != NULL ||
	    d->c->outbound.verp == VERP_PER_RECIPIENT)
		return 1;
	return d->c->outbound.max_rcpt_per_txn > 0 ?
	       (size_t)d->c->outbound.max_rcpt_per_txn : 100;
}

/* Per-recipient content: the job's data with every occurrence of its
 * marker replaced by the one recipient's address. The copy belongs to the
 * transaction, so memory holds one message per transaction in flight
 * whatever the list's size; a restart renders the same bytes again. */
static void personalize(const struct store_job *j, struct txn *x)
{
	struct buf out = BUF_INIT;
	const char *p = x->data, *end = x->data + x->len, *hit;
	size_t mlen;

	if (j->personal == NULL || j->personal[0] == '\0' || x->n != 1)
		return;
	mlen = strlen(j->personal);
	buf_reserve(&out, x->len + 256);
	while ((hit = memmem(p, (size_t)(end - p), j->personal, mlen)) !=
	       NULL) {
		buf_append(&out, p, (size_t)(hit - p));
		buf_puts(&out, x->r[0].addr);
		p = hit + mlen;
	}
	buf_append(&out, p, (size_t)(end - p));
	x->owned_data = buf_steal(&out, &x->len);
	x->data = x->owned_data;
}

/* With verp = per-recipient, each transaction has one recipient and the
 * envelope sender names it with a keyed tag
 * (NAME-bounces+TAG.user=example.org@DOMAIN), so that a bounce says who it
 * is about and cannot be forged. */
static void per_recipient_sender(const struct deliver *d, const char *list,
				 struct txn *x)
{
	const struct conf *c = d->c;

	if (c->outbound.verp != VERP_PER_RECIPIENT || x->n != 1)
		return;
	x->owned_from = verp_encode_tagged(list, x->r[0].addr, c->domain,
					   d->verp_key, util_now());
	if (x->owned_from != NULL)
		x->env_from = x->owned_from;
}

/* ---- recording outcomes ---- */

/* Records what the transport said about each recipient of a finished
 * transaction, inside the caller's store transaction. Stream recipients get
 * a job_rcpts row only when they must be retried or failed. Returns the
 * number delivered, or -1 on a store failure. */
static int64_t record(const struct conf *c, struct store *s,
		      const struct store_job *j, struct txn *x, time_t now,
		      struct deliver_stats *stats)
{
	int64_t ok = 0;
	size_t i;

	if (x->result == TRANSPORT_PERMFAIL) {
		log_warn("list=%s job=%lld: refused: %s", j->list,
			 (long long)j->id, x->error ? x->error : "5xx");
		for (i = 0; i < x->n; i++)
			x->r[i].code = 554;
	}
	for (i = 0; i < x->n; i++) {
		int attempts = x->rows ? x->rows[i].attempts + 1 : 1;
		int code = x->r[i].code;
		enum store_rcpt_state st;
		time_t next = 0;
		int rc;

		if (x->result == TRANSPORT_TEMPFAIL)
			code = 0;
		if (code >= 200 && code < 300) {
			ok++;
			stats->delivered++;
			if (x->rows == NULL)
				continue;
			st = RCPT_DONE;
		} else if (code >= 500) {
			st = RCPT_FAILED;
			stats->failed++;
			log_info("list=%s job=%lld rcpt=<%s>: failed: %d",
				 j->list, (long long)j->id, x->r[i].addr, code);
		} else {
			st = RCPT_RETRY;
			next = deliver_backoff(c, attempts, now);
			stats->deferred++;
		}
		if (x->rows)
			rc = store_job_rcpt_update(s, x->rows[i].id, st,
						   attempts, next, code,
						   x->error);
		else
			rc = store_job_rcpt_add(s, j->id, x->r[i].addr, st,
						attempts, next, code, x->error);
		if (rc < 0)
			return -1;
		if (st == RCPT_FAILED &&
		    store_event_add(s, j->list, "delivery.failed",
				    x->r[i].addr, j->id, NULL) < 0)
			return -1;
		/* A refusal of this recipient (not of the whole message)
		 * is recorded for the Pipeline, which scores it. */
		if (st == RCPT_FAILED && x->result == TRANSPORT_OK &&
		    store_failure_add(s, j->list, x->r[i].addr, code,
				      now) < 0)
			return -1;
	}
	return ok;
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

/* ---- the member stream ---- */

struct stream {
	struct deliver *d;
	struct store *s;
	struct store_job *j;
	const char *data;
	size_t len, max;
	struct store_range *ranges;   /* sent ahead of the cursor earlier */
	size_t nranges, ri;
	int64_t after;                /* where reading goes on */
	bool end;                     /* nothing left to read */
	bool deferred;                /* a transaction failed: stop */
	bool blocked;                 /* the cursor cannot pass a failed batch */
	bool unrecorded;              /* a finished batch could not be
					 recorded: submit no more, record
					 what is in flight, report failure */
	struct txn *fifo_head, *fifo_tail;
	size_t inflight;
	int64_t sent;
	bool bar;
};

/* Reads the next batch (skipping ranges already sent) and submits it.
 * Returns 1 when one was submitted, 0 at the end, -1 on a store failure. */
static int stream_submit(struct stream *st)
{
	for (;;) {
		int64_t before = 0, last;
		char **addrs;
		size_t n;
		struct txn *x;

		while (st->ri < st->nranges &&
		       st->ranges[st->ri].after <= st->after) {
			if (st->ranges[st->ri].last > st->after)
				st->after = st->ranges[st->ri].last;
			st->ri++;
		}
		if (st->ri < st->nranges)
			before = st->ranges[st->ri].after + 1;
		if (store_recipients_next(st->s, st->j, st->after, before,
					  st->max, &addrs, &n, &last) < 0)
			return -1;
		if (n == 0) {
			store_strv_free(&addrs, n);
			if (before == 0) {
				st->end = true;
				return 0;
			}
			/* Nobody left before the next range: jump to it. */
			st->after = st->ranges[st->ri].after;
			continue;
		}
		x = txn_new(st->j, st->data, st->len, n);
		x->addrs = addrs;
		x->after = st->after;
		x->last = last;
		for (size_t i = 0; i < n; i++)
			x->r[i].addr = addrs[i];
		per_recipient_sender(st->d, st->j->list, x);
		personalize(st->j, x);
		st->after = last;
		x->fifo_next = NULL;
		if (st->fifo_tail)
			st->fifo_tail->fifo_next = x;
		else
			st->fifo_head = x;
		st->fifo_tail = x;
		submit(st->d, x);
		st->inflight++;
		return 1;
	}
}

/* What finished transaction x did, inside the caller's store transaction:
 * the job deferred (a transient failure of the whole), or each
 * recipient's outcome, *ok_r counting those delivered. 0 or -1. */
static int record_finished(struct stream *st, struct txn *x, time_t now,
			   struct deliver_stats *stats, int64_t *ok_r)
{
	const struct conf *c = st->d->c;
	struct store_job *j = st->j;

	*ok_r = 0;
	if (x->result != TRANSPORT_TEMPFAIL) {
		*ok_r = record(c, st->s, j, x, now, stats);
		return *ok_r < 0 ? -1 : 0;
	}
	log_warn("list=%s job=%lld: deferred: %s", j->list, (long long)j->id,
		 x->error ? x->error : "temporary failure");
	stats->deferred += x->n;
	if (st->deferred)
		return 0;
	return store_job_defer(st->s, j->id,
			       deliver_backoff(c, j->attempts + 1, now),
			       x->error);
}

/* Frees the transactions at the head of the FIFO, up to `stop`. */
static void fifo_release(struct stream *st, struct txn *stop)
{
	struct txn *h;

	while (st->fifo_head != stop) {
		h = st->fifo_head;
		st->fifo_head = h->fifo_next;
		if (st->fifo_head == NULL)
			st->fifo_tail = NULL;
		txn_free(h);
	}
}

/* A stream transaction finished: record it, move the cursor over every
 * batch finished in order, remember a batch finished out of order. */
static int stream_finish(struct stream *st, struct txn *x,
			 struct deliver_stats *stats)
{
	struct store *s = st->s;
	struct store_job *j = st->j;
	time_t now = util_now();
	int64_t ok = 0, cursor = j->cursor;
	bool advanced = false, popped_x = false, block = false, xok, done;
	struct txn *h, *stop = NULL;

	st->inflight--;
	stats->transactions++;
	x->finished = true;
	/* A finished batch may wait in the FIFO behind a slow one: it keeps
	 * its outcome, not its own copy of the message. */
	xfree(&x->owned_data);
	x->data = NULL;
	if (store_begin(s) < 0 || record_finished(st, x, now, stats, &ok) < 0)
		goto fail;
	/* The cursor passes the finished batches at the head, in order; a
	 * batch finished ahead of an unfinished one is kept as a range. The
	 * FIFO changes only once this is committed. */
	for (h = st->fifo_head; h != NULL && h->finished && !st->blocked;
	     h = h->fifo_next) {
		if (h->result == TRANSPORT_TEMPFAIL || h->unrecorded) {
			block = true;
			break;
		}
		cursor = h->last;
		advanced = true;
		popped_x |= h == x;
	}
	stop = h;
	xok = x->result != TRANSPORT_TEMPFAIL;
	if (xok && !popped_x &&
	    store_job_range_add(s, j->id, x->after, x->last) < 0)
		goto fail;
	done = st->end && stop == NULL && !st->deferred && xok &&
	       !st->unrecorded;
	if (store_job_progress(s, j->id, cursor, ok, done,
			       xok && !st->deferred) < 0)
		goto fail;
	if (advanced && store_job_ranges_prune(s, j->id, cursor) < 0)
		goto fail;
	if (store_commit(s) < 0)
		goto fail;
	if (!xok)
		st->deferred = true;
	if (block)
		st->blocked = true;
	fifo_release(st, stop);
	j->cursor = cursor;
	j->members_done = done;
	st->sent += ok;
	if (st->bar)
		progress_bar(j, st->sent);
	return 0;
fail:
	/* Not recorded: this batch stays ahead of the cursor and goes again
	 * on the next pass (at most its recipients get it twice). What is
	 * still in flight is recorded as it finishes, nothing more is sent,
	 * and the pass reports the failure. */
	log_error("list=%s job=%lld: recording a transaction: %s", j->list,
		  (long long)j->id, store_error(s));
	store_rollback(s);
	x->unrecorded = true;
	st->unrecorded = true;
	return 0;
}

static void stream_drain_free(struct stream *st, bool wait)
{
	struct txn *x;

	while (wait && st->inflight > 0) {
		x = wait_done(st->d);
		st->inflight--;
		x->finished = true;
	}
	while ((x = st->fifo_head) != NULL) {
		st->fifo_head = x->fifo_next;
		txn_free(x);
	}
	st->fifo_tail = NULL;
}

static int run_stream(struct deliver *d, struct store *s, struct store_job *j,
		      const char *data, size_t len, bool progress,
		      struct deliver_stats *stats)
{
	struct stream st = {
		.d = d, .s = s, .j = j, .data = data, .len = len,
		.max = batch_max(d, j), .after = j->cursor, .sent = j->sent,
	};
	int ret = 0;

	if (j->total < 0) {
		if (store_job_recipients_count(s, j, &j->total) < 0 ||
		    store_job_set_total(s, j->id, j->total) < 0)
			return -1;
	}
	st.bar = progress && j->total >= PROGRESS_MIN && isatty(STDERR_FILENO);
	if (store_job_ranges(s, j->id, &st.ranges, &st.nranges) < 0)
		return -1;
	for (;;) {
		while (!st.deferred && !st.end && !st.unrecorded &&
		       st.inflight < d->nsessions) {
			if (stream_submit(&st) < 0) {
				ret = -1;
				break;
			}
		}
		if (ret < 0 || st.inflight == 0)
			break;
		if (stream_finish(&st, wait_done(d), stats) < 0) {
			ret = -1;
			break;
		}
	}
	if (st.unrecorded)
		ret = -1;
	if (st.end && st.inflight == 0 && !st.deferred && !j->members_done &&
	    ret == 0) {
		/* The stream ended without a transaction to record it. */
		if (store_job_progress(s, j->id, j->cursor, 0, true, true) < 0)
			ret = -1;
		else
			j->members_done = true;
	}
	if (st.bar)
		fputc('\n', stderr);
	stream_drain_free(&st, true);
	free(st.ranges);
	return ret;
}

/* ---- explicit recipients and retries ---- */

/* Records one finished transaction of job rows in a store transaction of
 * its own: one that cannot be leaves only its recipients to go again.
 * *tempfail_r when the whole was deferred. 0, or -1 (logged). */
static int rows_finish(struct deliver *d, struct store *s, struct store_job *j,
		       struct txn *x, struct deliver_stats *stats,
		       bool *tempfail_r)
{
	time_t now = util_now();
	int r = store_begin(s);

	stats->transactions++;
	if (r == 0 && x->result == TRANSPORT_TEMPFAIL) {
		*tempfail_r = true;
		stats->deferred += x->n;
		for (size_t i = 0; i < x->n && r == 0; i++)
			r = store_job_rcpt_update(s, x->rows[i].id, RCPT_RETRY,
				x->rows[i].attempts + 1,
				deliver_backoff(d->c, x->rows[i].attempts + 1,
						now), 0, x->error);
	} else if (r == 0) {
		/* Recipients delivered on a retry (or as the explicit
		 * recipients of a direct job) count in the job's progress
		 * like the member stream's: the cursor and members_done stay
		 * as they are. */
		int64_t ok = record(d->c, s, j, x, now, stats);

		if (ok < 0 ||
		    (ok > 0 && store_job_progress(s, j->id, j->cursor, ok,
						  j->members_done, false) < 0))
			r = -1;
	}
	if (r == 0 && store_commit(s) < 0)
		r = -1;
	if (r < 0) {
		log_error("list=%s job=%lld: recording a transaction: %s",
			  j->list, (long long)j->id, store_error(s));
		store_rollback(s);
	}
	return r;
}

static int run_rows(struct deliver *d, struct store *s, struct store_job *j,
		    const char *data, size_t len, struct deliver_stats *stats)
{
	size_t max = batch_max(d, j);

	for (;;) {
		struct store_rcpt *rows;
		size_t n, off, k, inflight = 0;
		bool tempfail = false;
		int ret = 0;

		if (store_job_rcpts_due(s, j->id, util_now(), max * d->nsessions,
					&rows, &n) < 0)
			return -1;
		if (n == 0) {
			store_rcpts_free(&rows, n);
			return 0;
		}
		for (off = 0; off < n; off += k) {
			struct txn *x;

			k = n - off < max ? n - off : max;
			x = txn_new(j, data, len, k);
			x->rows = xcalloc(k + 1, sizeof *x->rows);
			for (size_t i = 0; i < k; i++) {
				x->rows[i] = rows[off + i];
				rows[off + i].address = NULL;
				x->r[i].addr = x->rows[i].address;
			}
			per_recipient_sender(d, j->list, x);
			personalize(j, x);
			submit(d, x);
			inflight++;
		}
		store_rcpts_free(&rows, n);
		while (inflight > 0) {
			struct txn *x = wait_done(d);

			inflight--;
			if (rows_finish(d, s, j, x, stats, &tempfail) < 0)
				ret = -1;
			txn_free(x);
		}
		if (ret < 0)
			return -1;
		if (tempfail)
			return 0;
	}
}

static int run_job(struct deliver *d, struct store *s, struct store_job *j,
		   bool progress, struct deliver_stats *stats)
{
	char *data = NULL;
	size_t len;
	bool done;

	if (store_job_data(s, j->id, &data, &len) < 0)
		goto fail;
	if (!j->members_done && j->next_attempt <= util_now() &&
	    run_stream(d, s, j, data, len, progress, stats) < 0)
		goto fail;
	if (run_rows(d, s, j, data, len, stats) < 0)
		goto fail;
	if (store_job_finish_if_done(s, j->id, &done) < 0)
		goto fail;
	if (done) {
		int64_t delivered, failed;

		stats->jobs_done++;
		if (store_job_counts(s, j->id, &delivered, &failed) < 0)
			goto fail;
		log_info("list=%s job=%lld: finished: %lld delivered, %lld "
			 "failed", j->list, (long long)j->id,
			 (long long)delivered, (long long)failed);
	}
	free(data);
	return 0;
fail:
	log_error("list=%s job=%lld: %s", j->list, (long long)j->id,
		  store_error(s));
	free(data);
	return -1;
}

int deliver_pass(struct deliver *d, struct store *s, bool progress,
		 struct deliver_stats *stats)
{
	struct store_job j = { 0 };
	int64_t last_id = 0;
	bool found;
	int ret = 0;

	if (!d->have_key) {
		if (store_secret(s, "verp", d->verp_key) < 0) {
			log_error("queue: %s", store_error(s));
			return -1;
		}
		d->have_key = true;
	}
	for (;;) {
		if (store_job_next_due(s, util_now(), last_id, &j,
				       &found) < 0) {
			log_error("queue: %s", store_error(s));
			return -1;
		}
		if (!found)
			return ret;
		last_id = j.id;
		if (run_job(d, s, &j, progress, stats) < 0)
			ret = -1;
		store_job_clear(&j);
		if (ret < 0)
			return ret;
	}
}
