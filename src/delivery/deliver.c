/* deliver - turns queued jobs into transactions over parallel connections */
#include "autoconf.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "delivery/deliver.h"
#include "base/buf.h"
#include "base/conf.h"
#include "base/log.h"
#include "base/proc.h"
#include "mail/oneclick.h"
#include "mail/verp.h"
#include "store/store.h"
#include "store/store_guard.h"
#include "store/store_web.h"
#include "delivery/relays.h"
#include "delivery/transport.h"
#include "base/util.h"
#include "base/xalloc.h"

/* Jobs at least this large get a progress bar on a terminal. */
#define PROGRESS_MIN 1000
/* More jobs are worked on at once only while their messages take less than
 * this much memory together (there is always at least one). */
#define ACTIVE_BYTES_MAX (32u << 20)
/* A worker's claim on a job (store.h, "claims") lasts this long (seconds)
 * past its last renewal. It is renewed in every record the worker makes,
 * and at least every CLAIM_RENEW seconds while its sessions work (a
 * transaction may take minutes on a slow relay), so only a worker that is
 * stopped or hung for CLAIM_LEASE seconds loses its jobs to another. */
#define CLAIM_LEASE 300
#define CLAIM_RENEW 60

/* One transaction on its way through a session. */
struct txn {
	struct txn *next;          /* in the pool's to-do or done queue */
	struct txn *fifo_next;     /* stream batches in the order read */
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
	/* The outcome, and its record. */
	enum transport_result result;
	char *error;
	bool finished;             /* back from its session */
	bool recording;            /* in the record being made */
	bool recorded;             /* its outcome is committed */
	bool unrecorded;           /* its outcome could not be committed */
	/* The job it belongs to, and whether it is a member stream batch
	 * (else job_rcpts rows). */
	struct active *job;
	bool stream;
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
	/* the key of one-click tokens (store_secret "oneclick") */
	unsigned char oneclick_key[ONECLICK_KEY_LEN];
	/* who this worker is in its claims on jobs: a token of its own and
	 * its process */
	char owner[33];
	struct proc_id proc;
	struct store_claimant me;
	/* when the claims were last renewed (the monotonic clock, as the
	 * waits for the sessions are timed) */
	struct timespec renewed;
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
_Static_assert(ONECLICK_KEY_LEN == STORE_SECRET_LEN,
	       "the one-click key is a secret");

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
	pthread_condattr_t ca;
	size_t i;

	d->c = c;
	if (util_token(d->owner) < 0) {
		*error_r = xstrdup("no randomness for the worker's name");
		free(d);
		return NULL;
	}
	proc_self(&d->proc);
	d->me.owner = d->owner;
	d->me.proc = &d->proc;
	d->nsessions = c->outbound.connections > 0 ?
		       (size_t)c->outbound.connections : 1;
	d->t = xcalloc(d->nsessions, sizeof *d->t);
	d->threads = xcalloc(d->nsessions, sizeof *d->threads);
	pthread_mutex_init(&d->mu, NULL);
	pthread_cond_init(&d->work_cv, NULL);
	/* The waits for the sessions are timed on the monotonic clock: a
	 * clock set back or forward neither stops nor hurries the renewal of
	 * the claims. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&d->done_cv, &ca);
	pthread_condattr_destroy(&ca);
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

/* A finished transaction if there is one, else NULL (does not wait). */
static struct txn *try_done(struct deliver *d)
{
	struct txn *x;

	pthread_mutex_lock(&d->mu);
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

/* A member batch that is recorded but waits in its job's FIFO for an
 * earlier one to finish keeps only its place: its copy of the message and
 * its addresses go at once, so that one slow session does not make the
 * others' finished batches pile up in memory. */
static void txn_shrink(struct txn *x)
{
	if (x->addrs)
		store_strv_free(&x->addrs, x->n);
	xfree(&x->r);
	xfree(&x->error);
	xfree(&x->owned_from);
	xfree(&x->owned_data);
	x->data = x->env_from = NULL;
}

/* Recipients a transaction of job j takes at most: one when the content or
 * the envelope sender is per recipient. */
static size_t batch_max(const struct deliver *d, const struct store_job *j)
{
	if (j->personal != NULL || j->token_marker != NULL ||
	    d->c->outbound.verp == VERP_PER_RECIPIENT)
		return 1;
	return d->c->outbound.max_rcpt_per_txn > 0 ?
	       (size_t)d->c->outbound.max_rcpt_per_txn : 100;
}

/* data with every occurrence of marker replaced by value, into out. */
static void replace_all(const char *data, size_t len, const char *marker,
			const char *value, struct buf *out)
{
	const char *p = data, *end = data + len, *hit;
	size_t mlen = strlen(marker);

	buf_reserve(out, len + 256);
	while ((hit = memmem(p, (size_t)(end - p), marker, mlen)) != NULL) {
		buf_append(out, p, (size_t)(hit - p));
		buf_puts(out, value);
		p = hit + mlen;
	}
	buf_append(out, p, (size_t)(end - p));
}

/* The one-click token of the recipient's membership of the job's list,
 * or "x" (which no token is) when it has none. */
static char *recipient_token(const struct deliver *d, struct store *s,
			     const struct store_job *j, const char *addr)
{
	int64_t id, salt;
	bool found = false;

	if (store_web_member_token(s, j->list, addr, &id, &salt,
				   &found) < 0)
		log_warn("list=%s job=%lld: no one-click token: %s", j->list,
			 (long long)j->id, store_error(s));
	if (!found)
		return xstrdup("x");
	return oneclick_token(d->oneclick_key, j->list, addr, id, salt);
}

/* Per-recipient content: the job's data with every occurrence of its
 * markers replaced by the one recipient's address and one-click token.
 * The copy belongs to the transaction, so memory holds one message per
 * transaction in flight whatever the list's size; a restart renders the
 * same bytes again. */
static void personalize(const struct deliver *d, struct store *s,
			const struct store_job *j, struct txn *x)
{
	struct buf out = BUF_INIT;
	bool addr = j->personal != NULL && j->personal[0] != '\0';
	bool token = j->token_marker != NULL && j->token_marker[0] != '\0';

	if ((!addr && !token) || x->n != 1)
		return;
	if (addr) {
		replace_all(x->data, x->len, j->personal, x->r[0].addr, &out);
		free(x->owned_data);
		x->owned_data = buf_steal(&out, &x->len);
		x->data = x->owned_data;
	}
	if (token) {
		char *t = recipient_token(d, s, j, x->r[0].addr);

		replace_all(x->data, x->len, j->token_marker, t, &out);
		free(t);
		free(x->owned_data);
		x->owned_data = buf_steal(&out, &x->len);
		x->data = x->owned_data;
	}
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

/* ---- jobs side by side ----
 *
 * Up to `2 x connections` jobs are worked on at once (bounded by the memory
 * their messages take), their transactions taken in turn so that every
 * session has one while there is work: a burst of small jobs keeps all the
 * sessions busy instead of one job at a time. Whenever transactions finish,
 * all that have finished are recorded in one store transaction before any
 * new one starts, so that a crash repeats at most the transactions that
 * were in flight. When that commit fails, each is recorded on its own, so
 * that a fault in the database repeats at most the one transaction whose
 * record failed; then nothing more is sent, what is in flight is recorded
 * as it finishes, and the pass reports the failure. */

struct active {
	struct active *next;
	struct store_job j;
	char *data;
	size_t len, max;
	size_t inflight;              /* its transactions in the sessions */
	/* The member stream. */
	bool streaming;               /* the stream is being read */
	struct store_range *ranges;   /* sent ahead of the cursor earlier */
	size_t nranges, ri;
	int64_t after;                /* where reading goes on */
	bool end;                     /* nothing left to read */
	bool deferred;                /* a transaction failed: stop */
	bool defer_unsaved;           /* ...not yet stored, with its error */
	char *defer_error;
	struct txn *fifo_head, *fifo_tail;
	size_t stream_inflight;
	int64_t sent;
	bool bar;
	bool total_unsaved;           /* counted here, not yet stored */
	bool end_unsaved;             /* the stream ended with no transaction
					 to record it */
	bool finished;                /* marked done in the store */
	/* Explicit recipients and retries, a round at a time: a round is
	 * read only when the last one is recorded. */
	struct txn *rows_todo;        /* read, not yet handed to a session */
	size_t rows_inflight;
	bool rows_tempfail, rows_end;
	/* While a record is being made (record_set). */
	int64_t new_cursor, new_ok;
	bool new_done, touched, finish_now;
	/* Another worker took the job over (our claim ran out while this
	 * one was stopped or hung): nothing more of it is sent or recorded. */
	bool lost;
};

struct sched {
	struct deliver *d;
	struct store *s;
	bool progress;
	struct deliver_stats *stats;
	struct active *head;
	size_t nactive, inflight;
	size_t active_bytes;          /* the working set's messages */
	int64_t last_id;
	bool more;                    /* jobs may be left to take */
	bool failed;                  /* a record failed: send no more */
};

static void active_free(struct active *a)
{
	struct txn *x;

	while ((x = a->fifo_head) != NULL) {
		a->fifo_head = x->fifo_next;
		txn_free(x);
	}
	while ((x = a->rows_todo) != NULL) {
		a->rows_todo = x->next;
		txn_free(x);
	}
	if (a->bar)
		fputc('\n', stderr);
	free(a->ranges);
	free(a->data);
	free(a->defer_error);
	store_job_clear(&a->j);
	free(a);
}

static void job_failed(struct store *s, const struct store_job *j)
{
	log_error("list=%s job=%lld: %s", j->list, (long long)j->id,
		  store_error(s));
}

/* ---- claims: one worker per job ----
 *
 * Two delivery passes may run at once (two `run --once` from cron, `queue
 * flush` or a timer's `run --once` beside the daemon, two daemons). Before
 * it sends anything of a job, a pass claims it in the store, in a write
 * transaction of its own, so that of two workers only one wins it, and
 * starts from the job as stored at that moment; a job another worker
 * holds is left to it (counted in jobs_busy). Every record renews the
 * claims of the working set inside its own transaction, and finds out
 * there when a job is not ours any more (another worker took it over
 * after our lease ran out): then nothing of that job is recorded and
 * nothing more of it sent. The claim goes in the commit that closes the
 * job (finished, or waiting for a retry). A worker that dies keeps its
 * claims until another sees that its process is gone (at once, on the
 * same host) or its lease ran out, and takes the job over at its cursor:
 * only the transactions it had in flight can come twice. */

static struct timespec mono_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t;
}

/* Claims job id for this worker; a->j is then the job as stored. Returns
 * 1 when the job is ours, 0 when another worker holds it (counted) or it
 * is finished, -1 on a store failure. */
static int claim(struct sched *sc, int64_t id, struct active *a)
{
	struct deliver *d = sc->d;
	struct store *s = sc->s;
	struct store_claim_holder h;
	enum store_claim_result r;
	time_t now = util_now();

	if (store_begin(s) < 0)
		return -1;
	if (store_job_claim(s, id, &d->me, now, now + CLAIM_LEASE, &a->j, &r,
			    &h) < 0) {
		store_rollback(s);
		return -1;
	}
	if (r == CLAIM_HELD || r == CLAIM_GONE) {
		store_rollback(s);
		if (r == CLAIM_HELD) {
			sc->stats->jobs_busy++;
			sc->stats->busy_pid = h.pid;
		}
		return 0;
	}
	if (store_commit(s) < 0)
		return -1;
	if (r == CLAIM_TAKEN_OVER)
		log_warn("list=%s job=%lld: taken over at its cursor from the "
			 "worker with pid %lld on %s (%s)", a->j.list,
			 (long long)id, (long long)h.pid, h.host,
			 h.until <= now ? "its claim ran out" :
			 "its process is gone");
	return 1;
}

/* Inside the caller's store transaction, before anything is recorded:
 * renews our claims on the jobs of the working set. A job that is not
 * ours any more is marked lost (nothing about it may be recorded). -1 on a
 * store failure. */
static int claims_keep(struct sched *sc)
{
	time_t until = util_now() + CLAIM_LEASE;

	for (struct active *a = sc->head; a != NULL; a = a->next) {
		bool held;

		if (a->lost)
			continue;
		if (store_job_claim_renew(sc->s, a->j.id, sc->d->owner, until,
					  &held) < 0)
			return -1;
		if (!held) {
			a->lost = true;
			log_error("list=%s job=%lld: another worker has taken "
				  "the job over (this one was stopped or hung "
				  "past its claim's %d s): this one stops "
				  "sending it", a->j.list, (long long)a->j.id,
				  CLAIM_LEASE);
		}
	}
	sc->d->renewed = mono_now();
	return 0;
}

/* Gives up every claim of this worker, in a transaction of its own: after
 * a failure, the jobs that were in the working set. When that fails too
 * they stay ours: this worker wins them again at its next pass, another
 * once this process is gone or the lease ran out. */
static void claims_drop(struct sched *sc)
{
	struct store *s = sc->s;

	if (store_begin(s) < 0 ||
	    store_job_claims_release_all(s, sc->d->owner, NULL) < 0 ||
	    store_commit(s) < 0) {
		log_warn("queue: claims not given up: %s", store_error(s));
		store_rollback(s);
	}
}

/* The next finished transaction: waits for the sessions, renewing the
 * claims every CLAIM_RENEW seconds while they work. */
static struct txn *wait_claimed(struct sched *sc)
{
	struct deliver *d = sc->d;

	for (;;) {
		struct timespec until = d->renewed;
		struct txn *x;
		int rc = 0;

		until.tv_sec += CLAIM_RENEW;
		pthread_mutex_lock(&d->mu);
		while (d->done_head == NULL && rc != ETIMEDOUT)
			rc = pthread_cond_timedwait(&d->done_cv, &d->mu,
						    &until);
		x = pop(&d->done_head, &d->done_tail);
		pthread_mutex_unlock(&d->mu);
		if (x != NULL)
			return x;
		if (store_begin(sc->s) < 0 || claims_keep(sc) < 0 ||
		    store_commit(sc->s) < 0) {
			/* The next record renews them, or finds out. */
			log_warn("queue: claims not renewed: %s",
				 store_error(sc->s));
			store_rollback(sc->s);
			d->renewed = mono_now();
		}
	}
}

/* Takes the next due job that no other worker holds into the working set.
 * Returns 1, 0 when there is none, -1 on a store failure. */
static int admit(struct sched *sc)
{
	struct store *s = sc->s;
	struct active *a = xcalloc(1, sizeof *a), **tail;
	bool found;
	int r;

	for (;;) {
		if (store_job_next_due(s, util_now(), sc->last_id, &a->j,
				       &found) < 0) {
			log_error("queue: %s", store_error(s));
			store_job_clear(&a->j);
			free(a);
			return -1;
		}
		if (!found) {
			free(a);
			sc->more = false;
			return 0;
		}
		sc->last_id = a->j.id;
		r = claim(sc, a->j.id, a);
		if (r > 0)
			break;
		if (r < 0) {
			log_error("queue: job=%lld: %s", (long long)sc->last_id,
				  store_error(s));
			store_job_clear(&a->j);
			free(a);
			return -1;
		}
		store_job_clear(&a->j);
		memset(&a->j, 0, sizeof a->j);
	}
	if (sc->head == NULL)
		sc->d->renewed = mono_now();
	a->max = batch_max(sc->d, &a->j);
	if (store_job_data(s, a->j.id, &a->data, &a->len) < 0)
		goto fail;
	if (!a->j.members_done && a->j.next_attempt <= util_now()) {
		a->streaming = true;
		a->after = a->j.cursor;
		a->sent = a->j.sent;
		if (a->j.total < 0) {
			if (store_job_recipients_count(s, &a->j,
						       &a->j.total) < 0)
				goto fail;
			a->total_unsaved = true;
		}
		a->bar = sc->progress && a->j.total >= PROGRESS_MIN &&
			 isatty(STDERR_FILENO);
		if (store_job_ranges(s, a->j.id, &a->ranges,
				     &a->nranges) < 0)
			goto fail;
	}
	for (tail = &sc->head; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = a;
	sc->nactive++;
	sc->active_bytes += a->len;
	return 1;
fail:
	job_failed(s, &a->j);
	active_free(a);
	return -1;
}

static void hand_over(struct sched *sc, struct active *a, struct txn *x)
{
	x->job = a;
	a->inflight++;
	sc->inflight++;
	submit(sc->d, x);
}

/* Reads the job's next member batch (skipping ranges already sent) and
 * hands it to a session. Returns 1 when one was handed over, 0 at the end,
 * -1 on a store failure. */
static int stream_submit(struct sched *sc, struct active *a)
{
	for (;;) {
		int64_t before = 0, last;
		char **addrs;
		size_t n;
		struct txn *x;

		while (a->ri < a->nranges && a->ranges[a->ri].after <= a->after) {
			if (a->ranges[a->ri].last > a->after)
				a->after = a->ranges[a->ri].last;
			a->ri++;
		}
		if (a->ri < a->nranges)
			before = a->ranges[a->ri].after + 1;
		if (store_recipients_next(sc->s, &a->j, a->after, before,
					  a->max, &addrs, &n, &last) < 0)
			return -1;
		if (n == 0) {
			store_strv_free(&addrs, n);
			if (before == 0) {
				a->end = true;
				return 0;
			}
			/* Nobody left before the next range: jump to it. */
			a->after = a->ranges[a->ri].after;
			continue;
		}
		x = txn_new(&a->j, a->data, a->len, n);
		x->stream = true;
		x->addrs = addrs;
		x->after = a->after;
		x->last = last;
		for (size_t i = 0; i < n; i++)
			x->r[i].addr = addrs[i];
		per_recipient_sender(sc->d, a->j.list, x);
		personalize(sc->d, sc->s, &a->j, x);
		a->after = last;
		/* A short batch with no range after it is the last one: its
		 * record finishes the stream. */
		if (n < a->max && before == 0)
			a->end = true;
		x->fifo_next = NULL;
		if (a->fifo_tail)
			a->fifo_tail->fifo_next = x;
		else
			a->fifo_head = x;
		a->fifo_tail = x;
		a->stream_inflight++;
		hand_over(sc, a, x);
		return 1;
	}
}

/* Reads the next round of the job's due recipients into transactions.
 * Returns 0 (a->rows_end when there was none), -1 on a store failure. */
static int rows_read(struct sched *sc, struct active *a)
{
	struct deliver *d = sc->d;
	struct store_rcpt *rows;
	struct txn **tail = &a->rows_todo;
	size_t n, off, k;

	if (store_job_rcpts_due(sc->s, a->j.id, util_now(),
				a->max * d->nsessions, &rows, &n) < 0)
		return -1;
	if (n == 0)
		a->rows_end = true;
	for (off = 0; off < n; off += k) {
		struct txn *x;

		k = n - off < a->max ? n - off : a->max;
		x = txn_new(&a->j, a->data, a->len, k);
		x->rows = xcalloc(k + 1, sizeof *x->rows);
		for (size_t i = 0; i < k; i++) {
			x->rows[i] = rows[off + i];
			rows[off + i].address = NULL;
			x->r[i].addr = x->rows[i].address;
		}
		per_recipient_sender(d, a->j.list, x);
		personalize(sc->d, sc->s, &a->j, x);
		*tail = x;
		tail = &x->next;
	}
	store_rcpts_free(&rows, n);
	return 0;
}

/* Hands the job's next transaction to a session. Returns 1 when one was
 * handed over, 0 when the job has none to give now, -1 on a failure. */
static int job_submit(struct sched *sc, struct active *a)
{
	if (a->lost)
		return 0;
	if (a->streaming) {
		if (!a->deferred && !a->end) {
			int r = stream_submit(sc, a);

			if (r != 0)
				return r;
		}
		if (a->stream_inflight > 0)
			return 0;
		/* The stream is through (or waits for its retry). Its
		 * records were made as its transactions came back. */
		a->streaming = false;
		if (a->end && !a->deferred && !a->j.members_done &&
		    a->fifo_head == NULL) {
			a->j.members_done = true;
			a->end_unsaved = true;
		}
	}
	if (a->rows_todo == NULL && a->rows_inflight == 0 &&
	    !a->rows_tempfail && !a->rows_end && rows_read(sc, a) < 0)
		return -1;
	if (a->rows_todo != NULL) {
		struct txn *x = a->rows_todo;

		a->rows_todo = x->next;
		x->next = NULL;
		a->rows_inflight++;
		hand_over(sc, a, x);
		return 1;
	}
	return 0;
}

/* Whether the job has nothing more to do in this pass. */
static bool job_through(const struct active *a)
{
	if (a->lost)
		return a->inflight == 0;
	return !a->streaming && a->inflight == 0 && a->rows_todo == NULL &&
	       (a->rows_tempfail || a->rows_end);
}

/* Fills every free session, taking the jobs in turn. Returns -1 on a store
 * failure. */
static int fill(struct sched *sc)
{
	bool any = true;

	while (!sc->failed && sc->inflight < sc->d->nsessions && any) {
		any = false;
		for (struct active *a = sc->head;
		     a != NULL && sc->inflight < sc->d->nsessions;
		     a = a->next) {
			int r = job_submit(sc, a);

			if (r < 0) {
				job_failed(sc->s, &a->j);
				return -1;
			}
			any |= r > 0;
		}
		if (!any && sc->more && sc->nactive < 2 * sc->d->nsessions &&
		    (sc->nactive == 0 ||
		     sc->active_bytes < ACTIVE_BYTES_MAX)) {
			int r = admit(sc);

			if (r < 0)
				return -1;
			any = r > 0;
		}
	}
	return 0;
}

/* ---- recording what finished ---- */

/* A transaction back from its session: what it means for sending goes at
 * once (a deferred stream stops, a deferred round of recipients ends); what
 * it means for the store waits for its record. */
static void picked_up(struct sched *sc, struct txn *x)
{
	struct active *a = x->job;

	a->inflight--;
	sc->inflight--;
	sc->stats->transactions++;
	x->finished = true;
	if (x->stream) {
		a->stream_inflight--;
		if (x->result == TRANSPORT_TEMPFAIL && !a->deferred) {
			a->deferred = true;
			a->defer_unsaved = true;
			free(a->defer_error);
			a->defer_error = x->error != NULL ? xstrdup(x->error) :
					 NULL;
		}
	} else {
		a->rows_inflight--;
		if (x->result == TRANSPORT_TEMPFAIL)
			a->rows_tempfail = true;
	}
}

/* The cursor of a's member stream once the transactions marked `recording`
 * are recorded: past every batch at the head of its FIFO that is recorded
 * (or being recorded) and was not deferred. */
static int64_t stream_cursor(const struct active *a, bool *all_r)
{
	int64_t cursor = a->j.cursor;
	struct txn *h;

	for (h = a->fifo_head; h != NULL; h = h->fifo_next) {
		if (!(h->recorded || h->recording) || h->unrecorded ||
		    h->result == TRANSPORT_TEMPFAIL)
			break;
		cursor = h->last;
	}
	*all_r = h == NULL;
	return cursor;
}

/* Writes what one transaction says, inside the store transaction: its
 * recipients, and for a member batch ahead of the cursor its range. */
static int record_txn(struct sched *sc, struct txn *x, time_t now)
{
	const struct conf *c = sc->d->c;
	struct store *s = sc->s;
	struct active *a = x->job;
	int64_t ok;

	if (a->lost)
		return 0;
	a->touched = true;
	if (x->result == TRANSPORT_TEMPFAIL) {
		sc->stats->deferred += x->n;
		if (x->stream) {
			log_warn("list=%s job=%lld: deferred: %s", a->j.list,
				 (long long)a->j.id, x->error ? x->error :
				 "temporary failure");
			return 0;
		}
		for (size_t i = 0; i < x->n; i++)
			if (store_job_rcpt_update(s, x->rows[i].id, RCPT_RETRY,
						  x->rows[i].attempts + 1,
						  deliver_backoff(c,
						  x->rows[i].attempts + 1,
						  now), 0, x->error) < 0)
				return -1;
		return 0;
	}
	ok = record(c, s, &a->j, x, now, sc->stats);
	if (ok < 0)
		return -1;
	a->new_ok += ok;
	return 0;
}

/* Whether the job is finished (nothing left to send), in the store, in
 * the commit that records its last transaction: a crash after it cannot
 * leave a job that is sent but never marked. */
static int job_finish(struct sched *sc, struct active *a)
{
	bool done;

	if (a->finished || !a->j.members_done)
		return 0;
	if (store_job_finish_if_done(sc->s, a->j.id, &done) < 0)
		return -1;
	a->finish_now = done;
	return 0;
}

/* Writes what the jobs touched by this record say: the defer, the cursor,
 * the ranges ahead of it, the progress, the count and whether they are
 * finished. */
static int record_jobs(struct sched *sc, struct txn *set, time_t now)
{
	const struct conf *c = sc->d->c;
	struct store *s = sc->s;

	for (struct active *a = sc->head; a != NULL; a = a->next) {
		int64_t cursor;
		bool all, done, members_done;

		if (a->lost)
			continue;
		if (a->total_unsaved &&
		    store_job_set_total(s, a->j.id, a->j.total) < 0)
			return -1;
		if (!a->touched)
			continue;
		if (a->defer_unsaved &&
		    store_job_defer(s, a->j.id,
				    deliver_backoff(c, a->j.attempts + 1, now),
				    a->defer_error) < 0)
			return -1;
		cursor = stream_cursor(a, &all);
		for (struct txn *x = set; x != NULL; x = x->next) {
			if (x->job != a || !x->stream ||
			    x->result == TRANSPORT_TEMPFAIL || x->last <= cursor)
				continue;
			if (store_job_range_add(s, a->j.id, x->after,
						x->last) < 0)
				return -1;
		}
		done = a->end && !a->deferred && a->stream_inflight == 0 && all;
		if (store_job_progress(s, a->j.id, cursor, a->new_ok,
				       done || a->j.members_done,
				       !a->deferred) < 0)
			return -1;
		if (cursor != a->j.cursor &&
		    store_job_ranges_prune(s, a->j.id, cursor) < 0)
			return -1;
		a->new_cursor = cursor;
		a->new_done = done || a->j.members_done;
		/* job_finish asks the store, which sees this commit's rows. */
		members_done = a->j.members_done;
		a->j.members_done = a->new_done;
		if (job_finish(sc, a) < 0) {
			a->j.members_done = members_done;
			return -1;
		}
		a->j.members_done = members_done;
	}
	return 0;
}

/* A job is done: counted, and its end logged with what happened. */
static void job_finished(struct sched *sc, const struct active *a)
{
	int64_t delivered, failed;

	sc->stats->jobs_done++;
	if (store_job_counts(sc->s, a->j.id, &delivered, &failed) < 0) {
		log_info("list=%s job=%lld: finished", a->j.list,
			 (long long)a->j.id);
		return;
	}
	log_info("list=%s job=%lld: finished: %lld delivered, %lld failed",
		 a->j.list, (long long)a->j.id, (long long)delivered,
		 (long long)failed);
}

/* The record of `set` (linked by next) is on disk: the jobs move on. */
static void recorded(struct sched *sc, struct txn *set)
{
	struct txn *x, *next;

	for (x = set; x != NULL; x = next) {
		next = x->next;
		x->recording = false;
		x->recorded = true;
		if (!x->stream)
			txn_free(x);
		else
			txn_shrink(x);
	}
	for (struct active *a = sc->head; a != NULL; a = a->next) {
		a->total_unsaved = false;
		a->end_unsaved = false;
		if (!a->touched)
			continue;
		a->touched = false;
		a->defer_unsaved = false;
		/* The batches the cursor passed are done with. */
		while (a->fifo_head != NULL && a->fifo_head->recorded &&
		       a->fifo_head->last <= a->new_cursor &&
		       a->fifo_head->result != TRANSPORT_TEMPFAIL) {
			struct txn *h = a->fifo_head;

			a->fifo_head = h->fifo_next;
			if (a->fifo_head == NULL)
				a->fifo_tail = NULL;
			txn_free(h);
		}
		a->j.cursor = a->new_cursor;
		a->j.members_done = a->new_done;
		a->sent += a->new_ok;
		a->new_ok = 0;
		if (a->bar)
			progress_bar(&a->j, a->sent);
		if (a->finish_now) {
			a->finish_now = false;
			a->finished = true;
			job_finished(sc, a);
		}
	}
}

static int close_write(struct sched *sc);
static void close_remove(struct sched *sc);

/* One record of `set`: begin, each transaction, the jobs (and those that
 * are through), commit. Returns 0, or -1 with nothing of it kept (the
 * stats as they were). */
static int record_set(struct sched *sc, struct txn *set)
{
	struct deliver_stats saved = *sc->stats;
	time_t now = util_now();
	struct txn *x;

	for (x = set; x != NULL; x = x->next)
		x->recording = true;
	if (store_begin(sc->s) < 0 || claims_keep(sc) < 0)
		goto fail;
	for (x = set; x != NULL; x = x->next)
		if (record_txn(sc, x, now) < 0)
			goto fail;
	if (record_jobs(sc, set, now) < 0 || close_write(sc) < 0 ||
	    store_commit(sc->s) < 0)
		goto fail;
	recorded(sc, set);
	close_remove(sc);
	return 0;
fail:
	store_rollback(sc->s);
	*sc->stats = saved;
	for (x = set; x != NULL; x = x->next)
		x->recording = false;
	for (struct active *a = sc->head; a != NULL; a = a->next) {
		a->touched = false;
		a->finish_now = false;
		a->new_ok = 0;
	}
	return -1;
}

/* What is stored about the jobs that are through, inside the caller's
 * store transaction (after claims_keep): a stream that ended without a
 * transaction to record it, whether they are finished, and the end of our
 * claims on them. */
static int close_write(struct sched *sc)
{
	for (struct active *a = sc->head; a != NULL; a = a->next) {
		if (!job_through(a) || a->lost)
			continue;
		if (a->end_unsaved &&
		    store_job_progress(sc->s, a->j.id, a->j.cursor, 0, true,
				       true) < 0)
			return -1;
		if (job_finish(sc, a) < 0)
			return -1;
		if (store_job_claim_release(sc->s, a->j.id, sc->d->owner) < 0)
			return -1;
	}
	return 0;
}

/* ...and once that is committed, they leave the working set. */
static void close_remove(struct sched *sc)
{
	struct active **pa;

	for (pa = &sc->head; *pa != NULL;) {
		struct active *a = *pa;

		if (!job_through(a)) {
			pa = &a->next;
			continue;
		}
		if (a->finish_now) {
			job_finished(sc, a);
		}
		*pa = a->next;
		sc->nactive--;
		sc->active_bytes -= a->len;
		active_free(a);
	}
}

/* Closes the jobs that are through, in a commit of their own (when nothing
 * is in flight to record with it). */
static int close_jobs(struct sched *sc)
{
	struct store *s = sc->s;
	bool any = false;

	for (struct active *a = sc->head; a != NULL && !any; a = a->next)
		any = job_through(a);
	if (!any)
		return 0;
	if (store_begin(s) < 0 || claims_keep(sc) < 0 || close_write(sc) < 0 ||
	    store_commit(s) < 0) {
		log_error("queue: %s", store_error(s));
		store_rollback(s);
		for (struct active *a = sc->head; a != NULL; a = a->next)
			a->finish_now = false;
		return -1;
	}
	close_remove(sc);
	return 0;
}

/* Records every finished transaction, `first` (taken from the sessions)
 * and those finished since: all in one commit, else each in its own. A
 * transaction whose record fails stays ahead of its job's cursor (it goes
 * again on the next pass) and nothing more is sent. Returns -1 when
 * something could not be recorded. */
static int record_finished(struct sched *sc, struct txn *first)
{
	struct txn *set = NULL, **tail = &set, *x;
	int ret = 0;

	for (x = first; x != NULL; x = try_done(sc->d)) {
		picked_up(sc, x);
		x->next = NULL;
		*tail = x;
		tail = &x->next;
	}
	if (set == NULL || record_set(sc, set) == 0)
		return 0;
	/* One at a time: a fault repeats the one that meets it only. */
	for (x = set; x != NULL;) {
		struct txn *next = x->next;

		x->next = NULL;
		if (record_set(sc, x) < 0) {
			log_error("list=%s job=%lld: recording a transaction: "
				  "%s", x->job->j.list, (long long)x->job->j.id,
				  store_error(sc->s));
			x->unrecorded = true;
			sc->failed = true;
			ret = -1;
			if (x->stream) {
				/* It stays in the FIFO, blocking the cursor:
				 * the job goes no further in this pass. */
				x->job->deferred = true;
			} else {
				x->job->rows_tempfail = true;
				txn_free(x);
			}
		}
		x = next;
	}
	return ret;
}

static void sched_free(struct sched *sc)
{
	struct active *a;

	while ((a = sc->head) != NULL) {
		sc->head = a->next;
		active_free(a);
	}
	sc->nactive = 0;
	sc->active_bytes = 0;
}

int deliver_pass(struct deliver *d, struct store *s, bool progress,
		 struct deliver_stats *stats)
{
	struct sched sc = {
		.d = d, .s = s, .progress = progress, .stats = stats,
		.more = true,
	};

	if (!d->have_key) {
		if (store_secret(s, "verp", d->verp_key) < 0 ||
		    store_secret(s, "oneclick", d->oneclick_key) < 0) {
			log_error("queue: %s", store_error(s));
			return -1;
		}
		d->have_key = true;
	}
	for (;;) {
		/* After a failure nothing more is sent, and what is in flight
		 * is still recorded as it finishes. */
		if (!sc.failed && fill(&sc) < 0)
			sc.failed = true;
		if (sc.inflight > 0) {
			if (record_finished(&sc, wait_claimed(&sc)) < 0)
				sc.failed = true;
			continue;
		}
		/* Nothing in flight: every job in the set is through. */
		if (close_jobs(&sc) < 0)
			sc.failed = true;
		if (sc.failed || sc.head != NULL) {
			if (!sc.failed)
				log_error("queue: a job is neither through nor "
					  "in flight");
			sched_free(&sc);
			claims_drop(&sc);
			return -1;
		}
		if (!sc.more)
			return 0;
	}
}
