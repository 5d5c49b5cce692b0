/* deliver - turns queued jobs into transactions over parallel connections
 *
 * A job is a stored message plus a cursor over the list's members (those of
 * its audience): members are read in id order a batch at a time (never the
 * whole list in memory);
 * each batch is one transaction, handed to one of `connections` sessions
 * that run in parallel. Several jobs are worked on side by side (a burst
 * of small posts keeps every session busy), over sessions that stay open
 * from job to job. Progress is committed as transactions finish, all those
 * that finished together in one commit before new ones start (each on its
 * own if that commit fails): the cursor covers the batches finished in
 * order, and a batch that finishes ahead of an earlier one is recorded as a
 * range, so a crash or kill -9 repeats at most the transactions that were
 * in flight, and a failed record the one it was about. 4xx answers wait
 * for the retry schedule, per recipient where the answer was per recipient;
 * 5xx answers are recorded as failures. A job with per-recipient content
 * (a marker in its data, see store_job_queue) goes out one recipient a
 * transaction, each copy made from the stored data as the transaction
 * starts: memory holds one copy per transaction in flight, and a restart
 * makes the same bytes again. Delivery decides nothing.
 *
 * Several workers may deliver over one database at once (two `run`
 * processes, `queue flush` beside the daemon): each job is claimed by one
 * worker before any of it is sent (store.h, "claims"), and a job another
 * live worker holds is left to it. A dead worker's job is taken over at its
 * cursor, at once when its process is provably gone, else when its lease
 * ends; a worker whose job was taken over (it was stopped past its lease)
 * sends and records nothing more of it. */
#ifndef CONVENE_DELIVER_H
#define CONVENE_DELIVER_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct conf;
struct store;
struct deliver;

struct deliver_stats {
	uint64_t transactions;
	uint64_t delivered;      /* recipients accepted */
	uint64_t deferred;       /* recipients to retry later */
	uint64_t failed;         /* recipients refused for good */
	uint64_t jobs_done;
	uint64_t jobs_busy;      /* due jobs left to another worker */
	int64_t busy_pid;        /* the process of one such worker */
};

/* Starts the sessions (threads) of the configured transport; nothing is
 * connected until there is mail. NULL with *error_r (newly allocated) on a
 * bad setting. */
struct deliver *deliver_open(const struct conf *c, char **error_r);
void deliver_close(struct deliver **d);

/* Delivers every job that is due now and that no other worker holds
 * (those are counted in stats->jobs_busy, one holder's pid in
 * stats->busy_pid). Returns 0 when the queue was worked through (jobs may
 * still wait for retries, or be another worker's), -1 on a store failure
 * (the caller may try again later; the claims this pass held are given up
 * when the store lets it, else won again by its next pass). With
 * `progress`, a large job shows a progress bar on a terminal. */
int deliver_pass(struct deliver *d, struct store *s, bool progress,
		 struct deliver_stats *stats);

/* When the next attempt is due after `attempts` failures: now plus the retry
 * schedule's entry (its last entry repeats). */
time_t deliver_backoff(const struct conf *c, int attempts, time_t now);

#endif
