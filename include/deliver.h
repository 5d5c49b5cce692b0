/* deliver - turns queued jobs into transactions for the transport
 *
 * A job is a stored message plus a cursor over the list's members: members
 * are read in id order a batch at a time (never the whole list in memory),
 * each batch is one transaction, and the cursor is committed after each one,
 * so a crash resumes where it stopped. 4xx answers wait for the retry
 * schedule; 5xx answers are recorded as failures. Delivery decides nothing. */
#ifndef CONVENE_DELIVER_H
#define CONVENE_DELIVER_H

#include <stdbool.h>
#include <stdint.h>

struct conf;
struct store;
struct transport;

struct deliver_stats {
	uint64_t transactions;
	uint64_t delivered;      /* recipients accepted */
	uint64_t deferred;       /* recipients or transactions to retry */
	uint64_t failed;         /* recipients refused for good */
	uint64_t jobs_done;
};

/* Delivers every job that is due now. Returns 0 when the queue was worked
 * through (jobs may still wait for retries), -1 on a store failure (the
 * caller may try again later). When `progress` is set, prints a progress bar
 * to stderr for large jobs. */
int deliver_pass(const struct conf *c, struct store *s, struct transport *t,
		 bool progress, struct deliver_stats *stats);

/* When the job's next attempt is after `attempts` failures: now plus the
 * retry schedule's entry (the last one repeats). */
time_t deliver_backoff(const struct conf *c, int attempts, time_t now);

#endif
