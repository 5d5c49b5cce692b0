/* intake - messages from many senders at once, committed together */
#include "autoconf.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pipeline/intake.h"
#include "base/conf.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "pipeline/receive.h"
#include "store/store.h"
#include "store/store_archive.h"

/* A batch takes at most this many messages; the rest wait for the next.
 * (Sessions bound how many can wait: each has at most one message.) */
#define INTAKE_BATCH_MAX 1000
/* Syncs that take this long on average (microseconds) are left to the
 * syncer thread, so that the committer stages the next batch meanwhile;
 * quicker ones the committer makes itself (a hand-over to another thread
 * costs more than it saves then). */
#define INTAKE_SLOW_SYNC_US 1000

/* One submitted message on its way through the committer. */
struct pending {
	struct pending *next;
	struct intake_msg *m;
	struct incoming *in;        /* m->n, read for each recipient */
	bool *prepared;             /* receive_prepare said ST_OK */
	bool *ready;                /* prepared and not yet failed */
	bool done;
	pthread_cond_t done_cv;     /* its submitter waits here alone */
};

/* A committed batch waiting for the sync that makes it durable. */
struct synced {
	struct synced *next;
	struct pending *first;      /* n messages from here on */
	size_t n;
};

struct intake {
	struct store *s;
	struct store *ck;           /* the checkpointer's connection */
	struct store_syncer *sync;  /* NULL: each commit syncs itself */
	pthread_t thread, ck_thread, sync_thread;
	pthread_mutex_t mu;
	pthread_cond_t work_cv, ck_cv, sync_cv;
	bool ck_wanted;
	struct pending *head, *tail;
	size_t waiting;
	struct synced *unsynced, *unsynced_tail;
	bool stopping;
	bool committer_done;        /* nothing more comes to the syncer */
	bool broken;                /* a sync failed: nothing is kept now */
	long sync_us;               /* a sync's time, moving average */
	struct intake_stats stats;
};

/* Every staged recipient of the n messages from batch: its outcome was
 * undone with the transaction. */
static void undo_staged(struct pending *batch, size_t nbatch, bool full)
{
	struct pending *p = batch;

	for (size_t k = 0; k < nbatch && p != NULL; k++, p = p->next) {
		for (size_t i = 0; i < p->m->n; i++) {
			if (!p->ready[i])
				continue;
			p->m->status[i] = full ? ST_NOSPACE : ST_TEMPFAIL;
			p->m->outcome[i] = INCOMING_REFUSED;
		}
	}
}

/* Reads the staged messages of the batch afresh after a rollback: staging
 * may have changed what was read (a post's rewrite). */
static void reread_staged(struct pending *batch, size_t n)
{
	struct pending *p = batch;

	for (size_t k = 0; k < n; k++, p = p->next) {
		for (size_t i = 0; i < p->m->n; i++) {
			const struct conf *c;

			if (!p->ready[i])
				continue;
			c = p->in[i].c;
			incoming_free(&p->in[i]);
			p->m->status[i] = receive_prepare(c, p->m->rcpts[i],
							  p->m->raw, p->m->len,
							  &p->in[i]);
			p->m->outcome[i] = INCOMING_REFUSED;
			p->ready[i] = p->prepared[i] =
				p->m->status[i] == ST_OK;
		}
	}
}

enum fast { FAST_STAGED, FAST_SLOW };

/* The batch staged without a savepoint per message: when every message
 * stages, it is the same transaction for less work (a savepoint also ends
 * the full-text index's segment: one per message). FAST_SLOW when one did
 * not stage: all was rolled back and read afresh, for the slow path (what
 * the rolled-back messages logged is logged again there). */
static enum fast stage_fast(struct store *s, struct pending *batch, size_t n,
			    size_t *staged_r)
{
	struct pending *p = batch;

	*staged_r = 0;
	/* The batch's posts are indexed together at its end: one full-text
	 * segment for the batch, not one per post. */
	store_fts_defer(s, true);
	for (size_t k = 0; k < n; k++, p = p->next) {
		for (size_t i = 0; i < p->m->n; i++) {
			if (!p->ready[i])
				continue;
			p->m->status[i] = receive_stage(s, &p->in[i],
							&p->m->outcome[i]);
			if (p->m->status[i] != ST_OK)
				goto slow;
			(*staged_r)++;
		}
	}
	store_fts_defer(s, false);
	if (store_fts_flush(s) == 0)
		return FAST_STAGED;
	log_warn("intake: %s; the batch is staged again one message at a "
		 "time", store_error(s));
slow:
	store_fts_defer(s, false);
	store_rollback(s);
	reread_staged(batch, n);
	return FAST_SLOW;
}

/* Opens the batch's transaction; false after answering it as transient. */
static bool begin_batch(struct store *s, struct pending *batch, size_t n)
{
	if (store_begin(s) == 0)
		return true;
	log_error("intake: %s; %zu message(s) left with the MTA to retry",
		  store_error(s), n);
	undo_staged(batch, n, store_full(s));
	return false;
}

/* Each message of the batch in a savepoint of its own: one that does not
 * stage is undone alone. False when the transaction ended (all undone). */
static bool stage_slow(struct store *s, struct pending *batch, size_t n,
		       size_t *staged_r)
{
	struct pending *p = batch;

	*staged_r = 0;
	for (size_t k = 0; k < n; k++, p = p->next) {
		struct intake_msg *m = p->m;

		for (size_t i = 0; i < m->n; i++) {
			enum status st;

			if (!p->ready[i])
				continue;
			if (store_savepoint(s) < 0) {
				st = incoming_store_failure(s, &p->in[i],
							    "savepoint");
			} else {
				st = receive_stage(s, &p->in[i],
						   &m->outcome[i]);
				if (st == ST_OK && store_release(s) < 0)
					st = incoming_store_failure(
						s, &p->in[i], "release");
			}
			if (st == ST_OK) {
				m->status[i] = ST_OK;
				(*staged_r)++;
				continue;
			}
			/* This message alone is undone; the others stay. */
			if (st == ST_TEMPFAIL && store_full(s))
				st = ST_NOSPACE;
			m->status[i] = st;
			m->outcome[i] = INCOMING_REFUSED;
			p->ready[i] = false;
			if (!store_rollback_savepoint(s)) {
				log_error("intake: the transaction ended with "
					  "that failure; %zu message(s) left "
					  "with the MTA to retry", n);
				undo_staged(batch, n, store_full(s));
				store_rollback(s);
				return false;
			}
		}
	}
	return true;
}

/* Stages and commits one batch of n messages (the first n of the list
 * starting at batch): all at once, or when one of them does not stage,
 * again one at a time. Returns whether it was committed. */
static bool commit_batch(struct intake *ik, struct pending *batch, size_t n)
{
	struct store *s = ik->s;
	size_t staged = 0;

	if (!begin_batch(s, batch, n))
		return false;
	if (stage_fast(s, batch, n, &staged) != FAST_STAGED &&
	    (!begin_batch(s, batch, n) || !stage_slow(s, batch, n, &staged)))
		return false;
	if (store_commit(s) < 0) {
		log_error("intake: commit: %s; %zu message(s) left with the "
			  "MTA to retry", store_error(s), n);
		undo_staged(batch, n, store_full(s));
		store_rollback(s);
		store_forget_failed_commit(s);
		return false;
	}
	/* The checkpointer copies the WAL back while the next batches
	 * commit; the committer only does it itself when that thread fell
	 * far behind. */
	if (store_wal_tidy(s) < 0)
		log_warn("intake: checkpoint: %s", store_error(s));
	pthread_mutex_lock(&ik->mu);
	if (store_wal_grown(s)) {
		ik->ck_wanted = true;
		pthread_cond_signal(&ik->ck_cv);
	}
	ik->stats.batches++;
	ik->stats.messages += staged;
	if (staged > ik->stats.largest)
		ik->stats.largest = staged;
	pthread_mutex_unlock(&ik->mu);
	return true;
}

/* Answers the n messages from batch (ik->mu held): their submitters may
 * return, and free them, once the lock is let go. */
static void answer(struct pending *batch, size_t n)
{
	struct pending *p;

	for (p = batch; n > 0; p = p->next, n--) {
		p->done = true;
		pthread_cond_signal(&p->done_cv);
	}
}

/* The messages waiting now, at most INTAKE_BATCH_MAX (ik->mu held); NULL
 * when the committer is to end. */
static struct pending *take_batch(struct intake *ik, size_t *n_r)
{
	struct pending *batch, *p, *last = NULL;
	size_t n = 0;

	while (ik->head == NULL && !ik->stopping)
		pthread_cond_wait(&ik->work_cv, &ik->mu);
	batch = ik->head;
	for (p = batch; p != NULL && n < INTAKE_BATCH_MAX; p = p->next) {
		last = p;
		n++;
	}
	if (last != NULL) {
		ik->head = last->next;
		if (ik->head == NULL)
			ik->tail = NULL;
	}
	ik->waiting -= n;
	*n_r = n;
	return batch;
}

/* One sync of the WAL for msgs messages (ik->mu not held): 0, or its
 * errno (told). Its time goes into the average (ik->mu taken for it). */
static int sync_wal(struct intake *ik, size_t msgs)
{
	struct timespec t0, t1;
	int err = 0;
	long us;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (store_syncer_sync(ik->sync, &err) < 0)
		log_error("intake: sync of the database's WAL: %s; %zu "
			  "message(s) left with the MTA to retry, and all that "
			  "come until the listener is restarted",
			  strerror(err), msgs);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	us = (long)(t1.tv_sec - t0.tv_sec) * 1000000L +
	     (t1.tv_nsec - t0.tv_nsec) / 1000;
	pthread_mutex_lock(&ik->mu);
	ik->sync_us = (ik->sync_us * 7 + us) / 8;
	pthread_mutex_unlock(&ik->mu);
	return err;
}

/* Makes the committed batch durable itself (ik->mu held, let go for the
 * sync): false when it was not, the batch then answered as transient. */
static bool sync_here(struct intake *ik, struct pending *batch, size_t n)
{
	int err = 0;

	if (!ik->broken) {
		pthread_mutex_unlock(&ik->mu);
		err = sync_wal(ik, n);
		pthread_mutex_lock(&ik->mu);
	}
	if (err != 0)
		ik->broken = true;
	if (!ik->broken)
		return true;
	undo_staged(batch, n, err == ENOSPC);
	return false;
}

/* Takes what is waiting, stages and commits it, and makes it durable: by
 * a sync of its own, or on a slow disk by handing it to the syncer, which
 * syncs it while the next batch is staged. Without a syncer each commit
 * synced itself. */
static void *committer_main(void *arg)
{
	struct intake *ik = arg;

	pthread_mutex_lock(&ik->mu);
	for (;;) {
		size_t n;
		struct pending *batch = take_batch(ik, &n);
		bool broken = ik->broken, ok = false;

		if (batch == NULL)
			break;
		pthread_mutex_unlock(&ik->mu);
		/* After a failed sync nothing more is committed on top of
		 * what may not be on disk: all is left with the MTA. */
		if (broken)
			undo_staged(batch, n, false);
		else
			ok = commit_batch(ik, batch, n);
		pthread_mutex_lock(&ik->mu);
		if (ok && ik->sync != NULL &&
		    (ik->sync_us >= INTAKE_SLOW_SYNC_US || ik->unsynced != NULL)) {
			struct synced *y = xmalloc(sizeof *y);

			y->next = NULL;
			y->first = batch;
			y->n = n;
			if (ik->unsynced_tail != NULL)
				ik->unsynced_tail->next = y;
			else
				ik->unsynced = y;
			ik->unsynced_tail = y;
			pthread_cond_signal(&ik->sync_cv);
			continue;
		}
		if (ok && ik->sync != NULL)
			ok = sync_here(ik, batch, n);
		if (!ok)
			ik->stats.failed_batches++;
		answer(batch, n);
	}
	pthread_mutex_unlock(&ik->mu);
	return NULL;
}

/* On a slow disk: one sync for every batch committed since the last one,
 * then their answers. A failed sync answers them as transient, and every batch after
 * them too (they were committed on top of what may not be on disk): the
 * listener keeps nothing more until it is restarted. */
static void *syncer_main(void *arg)
{
	struct intake *ik = arg;

	pthread_mutex_lock(&ik->mu);
	for (;;) {
		struct synced *y, *next;
		bool broken;
		int err = 0;

		while (ik->unsynced == NULL && !ik->committer_done)
			pthread_cond_wait(&ik->sync_cv, &ik->mu);
		y = ik->unsynced;
		if (y == NULL)
			break;
		ik->unsynced = ik->unsynced_tail = NULL;
		broken = ik->broken;
		pthread_mutex_unlock(&ik->mu);
		if (!broken) {
			size_t msgs = 0;

			for (next = y; next != NULL; next = next->next)
				msgs += next->n;
			err = sync_wal(ik, msgs);
		}
		pthread_mutex_lock(&ik->mu);
		if (err != 0)
			ik->broken = true;
		for (; y != NULL; y = next) {
			next = y->next;
			if (ik->broken) {
				undo_staged(y->first, y->n, err == ENOSPC);
				ik->stats.failed_batches++;
			}
			answer(y->first, y->n);
			free(y);
		}
	}
	pthread_mutex_unlock(&ik->mu);
	return NULL;
}

/* Passive checkpoints on a connection of its own, each time the committer
 * says the WAL grew: the copying and the database file's sync happen
 * beside the commits, not between them. A commit that starts once all is
 * copied starts the WAL afresh. */
static void *checkpointer_main(void *arg)
{
	struct intake *ik = arg;

	pthread_mutex_lock(&ik->mu);
	for (;;) {
		while (!ik->ck_wanted && !ik->stopping)
			pthread_cond_wait(&ik->ck_cv, &ik->mu);
		if (!ik->ck_wanted)
			break;
		ik->ck_wanted = false;
		pthread_mutex_unlock(&ik->mu);
		if (store_checkpoint(ik->ck, NULL, NULL) < 0)
			log_warn("intake: checkpoint: %s", store_error(ik->ck));
		pthread_mutex_lock(&ik->mu);
	}
	pthread_mutex_unlock(&ik->mu);
	return NULL;
}

/* One connection in the role of an MTA entry point. */
static struct store *open_store(const struct conf *c, char **error_r)
{
	bool transient;
	struct store *s = store_open(c->database, c->busy_timeout_ms, error_r,
				     &transient);

	if (s != NULL && store_leave_checkpoints(s) < 0) {
		*error_r = xstrdup(store_error(s));
		store_close(&s);
	}
	return s;
}

/* Frees ik once no thread of it runs: its locks, its two handles, itself. */
static void intake_free(struct intake *ik)
{
	pthread_cond_destroy(&ik->work_cv);
	pthread_cond_destroy(&ik->ck_cv);
	pthread_cond_destroy(&ik->sync_cv);
	pthread_mutex_destroy(&ik->mu);
	store_syncer_close(&ik->sync);
	store_close(&ik->ck);
	store_close(&ik->s);
	free(ik);
}

struct intake *intake_open(const struct conf *c, char **error_r)
{
	struct intake *ik = xcalloc(1, sizeof *ik);
	bool ck_started = false, sync_started = false;
	char *err = NULL;

	ik->s = open_store(c, error_r);
	if (ik->s == NULL) {
		free(ik);
		return NULL;
	}
	ik->ck = open_store(c, error_r);
	if (ik->ck == NULL) {
		store_close(&ik->s);
		free(ik);
		return NULL;
	}
	store_wal_tidy_later(ik->s);
	/* Without a syncer each commit waits for its own sync: slower, as
	 * safe. */
	ik->sync = store_syncer_open(ik->s, &err);
	if (ik->sync == NULL) {
		log_warn("intake: each batch syncs its own commit: %s", err);
		free(err);
	}
	pthread_mutex_init(&ik->mu, NULL);
	pthread_cond_init(&ik->work_cv, NULL);
	pthread_cond_init(&ik->ck_cv, NULL);
	pthread_cond_init(&ik->sync_cv, NULL);
	if (pthread_create(&ik->ck_thread, NULL, checkpointer_main, ik) != 0)
		goto fail;
	ck_started = true;
	if (ik->sync != NULL &&
	    pthread_create(&ik->sync_thread, NULL, syncer_main, ik) != 0)
		goto fail;
	sync_started = ik->sync != NULL;
	if (pthread_create(&ik->thread, NULL, committer_main, ik) != 0)
		goto fail;
	return ik;
fail:
	*error_r = xstrdup("cannot start the intake's threads");
	pthread_mutex_lock(&ik->mu);
	ik->stopping = ik->committer_done = true;
	pthread_cond_signal(&ik->ck_cv);
	pthread_cond_signal(&ik->sync_cv);
	pthread_mutex_unlock(&ik->mu);
	if (sync_started)
		pthread_join(ik->sync_thread, NULL);
	if (ck_started)
		pthread_join(ik->ck_thread, NULL);
	intake_free(ik);
	return NULL;
}

void intake_submit(struct intake *ik, const struct conf *c,
		   struct intake_msg *m)
{
	struct pending p = { .m = m };
	size_t i, nready = 0;

	p.in = xcalloc(m->n ? m->n : 1, sizeof *p.in);
	p.prepared = xcalloc(m->n ? m->n : 1, sizeof *p.prepared);
	p.ready = xcalloc(m->n ? m->n : 1, sizeof *p.ready);
	pthread_cond_init(&p.done_cv, NULL);
	/* Reading and parsing happen here, in the sender's thread, so that
	 * several messages are read at the same time; only the decisions
	 * and the writes are one at a time. */
	m->logid[0] = '\0';
	for (i = 0; i < m->n; i++) {
		m->outcome[i] = INCOMING_REFUSED;
		m->status[i] = receive_prepare(c, m->rcpts[i], m->raw, m->len,
					       &p.in[i]);
		p.prepared[i] = p.ready[i] = m->status[i] == ST_OK;
		nready += p.ready[i];
		if (p.ready[i] && m->logid[0] == '\0')
			memcpy(m->logid, p.in[i].logid, sizeof m->logid);
	}
	if (nready > 0) {
		pthread_mutex_lock(&ik->mu);
		if (ik->tail != NULL)
			ik->tail->next = &p;
		else
			ik->head = &p;
		ik->tail = &p;
		ik->waiting++;
		ik->stats.queued++;
		pthread_cond_signal(&ik->work_cv);
		while (!p.done)
			pthread_cond_wait(&p.done_cv, &ik->mu);
		pthread_mutex_unlock(&ik->mu);
	}
	/* Those read are freed whatever became of them (receive_prepare
	 * freed the others). */
	for (i = 0; i < m->n; i++)
		if (p.prepared[i])
			incoming_free(&p.in[i]);
	free(p.in);
	free(p.prepared);
	free(p.ready);
	pthread_cond_destroy(&p.done_cv);
}

size_t intake_waiting(struct intake *ik)
{
	size_t n;

	pthread_mutex_lock(&ik->mu);
	n = ik->waiting;
	pthread_mutex_unlock(&ik->mu);
	return n;
}

void intake_stats(struct intake *ik, struct intake_stats *st_r)
{
	pthread_mutex_lock(&ik->mu);
	*st_r = ik->stats;
	pthread_mutex_unlock(&ik->mu);
}

void intake_close(struct intake **ikp)
{
	struct intake *ik = *ikp;

	if (ik == NULL)
		return;
	pthread_mutex_lock(&ik->mu);
	ik->stopping = true;
	pthread_cond_signal(&ik->work_cv);
	pthread_mutex_unlock(&ik->mu);
	pthread_join(ik->thread, NULL);
	/* The committer is done: the syncer ends once what it committed is
	 * synced and answered, the checkpointer after a checkpoint that was
	 * asked for. */
	pthread_mutex_lock(&ik->mu);
	ik->committer_done = true;
	pthread_cond_signal(&ik->sync_cv);
	pthread_cond_signal(&ik->ck_cv);
	pthread_mutex_unlock(&ik->mu);
	if (ik->sync != NULL)
		pthread_join(ik->sync_thread, NULL);
	pthread_join(ik->ck_thread, NULL);
	log_info("intake: %llu message(s) in %llu batch(es), at most %llu "
		 "in one; %llu batch(es) failed",
		 (unsigned long long)ik->stats.messages,
		 (unsigned long long)ik->stats.batches,
		 (unsigned long long)ik->stats.largest,
		 (unsigned long long)ik->stats.failed_batches);
	intake_free(ik);
	*ikp = NULL;
}
