/* intake - messages from many senders at once, committed together
 *
 * Group commit for a front that takes messages over several sessions at
 * the same time (the LMTP listener): each session hands a finished message
 * to intake_submit from its own thread, which reads it for each of its
 * recipients (receive_prepare, in parallel) and queues it. One committer
 * thread takes every message waiting at that moment, decides and stages
 * each (receive_stage, the decisions of `receive`) in one transaction,
 * commits them without waiting for the disk, then makes the batch durable
 * with one sync of the WAL (store_syncer_sync) and only then wakes their
 * submitters: an answer is given only once the outcome is on disk. While
 * one batch commits, the next gathers, so the syncs per message fall as
 * the load rises. On a disk whose syncs are slow (1 ms and more on
 * average), a syncer thread does them instead, for every batch committed
 * so far, while the committer stages the next. A failed sync answers its
 * batches, and every later one, as transient: nothing is kept on top of
 * what may not be on disk until the intake is opened again.
 *
 * A batch is staged at once; when one of its messages fails to stage, the
 * batch is rolled back, read afresh and staged again one message at a time
 * (a savepoint each): the failing one is rolled back alone and answered as
 * a transient failure; the others in its batch still commit. A thread of
 * its own, on a second connection, checkpoints the WAL as it grows, beside
 * the commits.
 * A batch that cannot begin or commit (database locked past its busy
 * timeout, disk full) answers every staged recipient as transient: nothing
 * of it was kept, the sender keeps the messages and retries. */
#ifndef CONVENE_INTAKE_H
#define CONVENE_INTAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/status.h"
#include "pipeline/incoming.h"

struct conf;
struct intake;

/* One message with its envelope recipients, and the answers for them. */
struct intake_msg {
	const char *raw;            /* the message (borrowed, LF line ends) */
	size_t len;
	const char *const *rcpts;   /* n envelope recipients (borrowed) */
	size_t n;
	enum status *status;        /* out: n answers, the decisions of
				       receive (ST_OK, ST_NOUSER, ST_DATAERR,
				       ST_TEMPFAIL, ST_NOSPACE for a full
				       disk); status_to_reply says them */
	enum incoming_outcome *outcome;  /* out: n, for ST_OK */
	char logid[160];            /* out: its Message-ID, sanitised for
				       a log line or a reply ("" when it
				       could not be read) */
};

struct intake_stats {
	uint64_t queued;            /* messages queued for the committer */
	uint64_t batches;           /* transactions committed */
	uint64_t messages;          /* messages (recipients) staged */
	uint64_t largest;           /* most messages in one batch */
	uint64_t failed_batches;    /* batches that could not commit */
};

/* Opens the database named by c twice (with the role of an MTA entry
 * point: store_leave_checkpoints) and starts the committer, the syncer
 * (store_syncer_open; without one, each commit syncs itself) and the
 * checkpointer threads. NULL with
 * *error_r (newly allocated) when the database cannot be opened. */
struct intake *intake_open(const struct conf *c, char **error_r);

/* Decides and commits m for each of its recipients, reading the message
 * with c (which must outlive the call; it may differ from the one intake
 * was opened with, after a reload). Blocks until m's batch is on disk (or
 * failed). Thread-safe. Fills m->status and m->outcome. */
void intake_submit(struct intake *ik, const struct conf *c,
		   struct intake_msg *m);

/* Messages queued and not yet taken by the committer (for tests). */
size_t intake_waiting(struct intake *ik);
void intake_stats(struct intake *ik, struct intake_stats *st_r);

/* Commits what is queued, stops the committer, closes the database and
 * frees ik; clears *ik. No submit may be running or follow. */
void intake_close(struct intake **ik);

#endif
