/* store - the one SQLite database: schema, migrations, statements
 *
 * Every function returns 0 on success and -1 on failure with *error_r set
 * (static text or owned by the store: do not free) and store_busy() telling
 * whether the failure was transient (locked past the busy timeout, disk full,
 * I/O error): the caller maps that to EX_TEMPFAIL. Only prepared statements
 * with bound parameters. */
#ifndef CONVENE_STORE_H
#define CONVENE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct store;
struct proc_id;

#define STORE_SCHEMA_VERSION 16

/* Opens (creating if needed) the database at path with WAL, the busy
 * timeout, foreign keys, and migrates the schema to STORE_SCHEMA_VERSION.
 * Returns NULL with *error_r (newly allocated) on failure; *transient_r tells
 * whether it is worth retrying. */
struct store *store_open(const char *path, long busy_timeout_ms,
			 char **error_r, bool *transient_r);
void store_close(struct store **s);
/* For a process that ends right after a committed transaction (receive):
 * the connection is left for the exit to close, *s set to NULL. Closing
 * frees the parsed schema, the statements and the page cache one
 * allocation at a time (a twentieth of a receive) for the kernel to take
 * back a moment later; a committed transaction needs nothing more of it
 * (a process that ends with its connection open is one killed after its
 * commit, as t320 does). The connection stays reachable (no leak to a
 * checker); one left before is closed. */
void store_close_at_exit(struct store **s);

/* The last failure: its text, whether it was transient, and whether it was
 * a full disk (transient too). */
const char *store_error(const struct store *s);
bool store_transient(const struct store *s);
bool store_full(const struct store *s);

/* Transactions: BEGIN IMMEDIATE (a writer from the start, so a busy database
 * fails here, before any work) / COMMIT / ROLLBACK. */
int store_begin(struct store *s);
int store_commit(struct store *s);
void store_rollback(struct store *s);
/* Savepoints inside a transaction: store_savepoint marks where one
 * message's work (or a step of it that may be given up alone) starts; one
 * may be opened inside another, and the calls below act on the innermost;
 * store_release keeps it; and
 * store_rollback_savepoint undoes it and returns true while the enclosing
 * transaction is still open (false: a failure ended the transaction, and
 * with it everything staged before the savepoint). */
int store_savepoint(struct store *s);
int store_release(struct store *s);
bool store_rollback_savepoint(struct store *s);
bool store_in_transaction(const struct store *s);

/* Who checkpoints the WAL. The worker's connection checkpoints once the WAL
 * has grown past SQLite's 1,000 pages at one of its commits, and after each
 * pass. store_leave_checkpoints is for the MTA's entry points (receive,
 * lmtp): neither commits nor closing checkpoint, so a receive costs one
 * sync and the WAL stays for the next one (and statement journals, a
 * message's savepoint, stay in memory); store_wal_tidy is their safety
 * net when no worker runs. store_checkpoint is the worker's: a
 * passive checkpoint of what every process committed; *frames_r (may be
 * NULL) gets the WAL's frames and *done_r those copied back. A checkpoint
 * that another process is running counts as done. */
int store_leave_checkpoints(struct store *s);
/* For such an entry point, after a commit: once the WAL has grown past
 * 512 frames (the worker did not check it in: none runs, or it is behind),
 * a passive checkpoint, and the WAL started afresh when all of it is in the
 * database. Costs nothing otherwise. Failures are not the caller's
 * concern (-1, the store's error set): the next one tries again. */
int store_wal_tidy(struct store *s);
/* For an entry point that checkpoints from a thread of its own
 * (store_checkpoint on a second connection, as the LMTP listener does):
 * store_wal_tidy on s waits until the WAL has 4,096 frames, in case that
 * thread falls behind. */
void store_wal_tidy_later(struct store *s);
/* Whether the WAL has grown by 512 frames since it last said so (or since
 * it started afresh), by the commits of s: time to checkpoint. */
bool store_wal_grown(struct store *s);
/* After a transaction that failed at its commit: closing checkpoints after
 * all (when no other process has the database open), so that what the
 * failed commit left in the WAL is not read as committed by the next
 * process to open it. */
void store_forget_failed_commit(struct store *s);
int store_checkpoint(struct store *s, int *frames_r, int *done_r);

/* Group commit with the sync apart: store_syncer_open makes the commits of
 * s stop waiting for the disk (synchronous = NORMAL: the WAL is still
 * synced before any checkpoint copies it back, and its header when it
 * starts afresh) and returns a syncer for s's WAL file. store_syncer_sync,
 * from any thread and while s goes on committing, makes everything
 * committed before the call durable (one fdatasync of the WAL); a commit
 * of s is on disk only once a sync that began after it returned 0. After
 * a failed sync (-1, *errno_r set) nothing committed since the last good
 * one may be taken as durable, nor anything committed after it on top of
 * it. The syncer is the caller's (store_syncer_close; before s is closed).
 * NULL with *error_r (newly allocated) when the WAL cannot be opened or
 * its folder synced; s then syncs its commits as before. */
struct store_syncer;
struct store_syncer *store_syncer_open(struct store *s, char **error_r);
int store_syncer_sync(struct store_syncer *y, int *errno_r);
void store_syncer_close(struct store_syncer **y);

int store_schema_version(struct store *s, int *version_r);

/* ---- members ---- */
enum store_mode { MODE_IMMEDIATE, MODE_DIGEST, MODE_DIGEST_PLAIN, MODE_NOMAIL };
enum store_member_status { MEMBER_ACTIVE, MEMBER_DISABLED, MEMBER_PENDING };

struct store_member {
	int64_t id;
	char *list;
	char *address;
	char *name;          /* may be NULL */
	enum store_mode mode;
	enum store_member_status status;
	bool moderated;
	double bounce_score;
	time_t subscribed_at;
};

const char *store_mode_name(enum store_mode m);
int store_mode_parse(const char *s, enum store_mode *m_r);
const char *store_member_status_name(enum store_member_status st);
int store_member_status_parse(const char *s, enum store_member_status *st_r);
void store_member_clear(struct store_member *m);

/* Adds a member; *added_r false (and nothing changed) when the address is
 * already a member of the list. */
int store_member_add(struct store *s, const char *list, const char *address,
		     const char *name, enum store_mode mode, bool *added_r);
/* *removed_r false when it was not a member. */
int store_member_remove(struct store *s, const char *list, const char *address,
			bool *removed_r);
/* Looks a member up; *found_r false when not a member (m untouched). */
int store_member_get(struct store *s, const char *list, const char *address,
		     struct store_member *m, bool *found_r);
/* Changes a member's delivery mode. A real change is recorded with the
 * sequence point of the posts accepted so far (see store_digest.h), so that
 * every post, whether it is delivered alone or in a digest, goes to the
 * member by the mode they had when it was accepted: nothing is lost or
 * doubled at a switch. Runs in the caller's transaction, or in its own when
 * there is none. */
int store_member_set_mode(struct store *s, const char *list,
			  const char *address, enum store_mode mode,
			  bool *found_r);
int store_member_count(struct store *s, const char *list, int64_t *count_r);
/* Calls fn for every member of list in id order (stops when fn returns
 * non-zero, and returns that value). */
int store_member_foreach(struct store *s, const char *list,
			 int (*fn)(const struct store_member *m, void *ctx),
			 void *ctx);
/* Which members a job's member stream goes to. */
enum store_audience {
	AUDIENCE_IMMEDIATE,  /* active members in immediate mode (posts) */
	AUDIENCE_MAIL,       /* active members in any mode but nomail
				(meeting invitations, updates, cancels) */
	AUDIENCE_DIGEST,     /* active members in digest mode (MIME digests) */
	AUDIENCE_DIGEST_PLAIN, /* in digest-plain mode (plain digests) */
};
const char *store_audience_name(enum store_audience a);
int store_audience_parse(const char *s, enum store_audience *a_r);

struct store_job;
/* The next up to max recipients of job j's member stream with after < id <
 * before (before 0: no upper bound), in id order: the active members of its
 * list in its audience, by the mode they had for the job's posts (see
 * seq_from in store_job_new), as addresses (newly allocated, free with
 * store_strv_free) and the last id seen. *n_r is 0 at the end. Memory stays
 * bounded by max. */
int store_recipients_next(struct store *s, const struct store_job *j,
			  int64_t after, int64_t before, size_t max,
			  char ***addrs_r, size_t *n_r, int64_t *last_id_r);
/* How many recipients job j's member stream has (as above). */
int store_job_recipients_count(struct store *s, const struct store_job *j,
			       int64_t *count_r);
/* The active members of the audience by their current modes. */
int store_recipients_count(struct store *s, const char *list,
			   enum store_audience audience, int64_t *count_r);
void store_strv_free(char ***v, size_t n);

/* ---- messages, archive, holds ---- */
/* Stores raw bytes once; *id_r is the message row. */
int store_message_add(struct store *s, const char *raw, size_t len,
		      int64_t *id_r);
/* The raw bytes of a stored message (newly allocated). */
int store_message_get(struct store *s, int64_t id, char **raw_r,
		      size_t *len_r);

struct store_post {
	const char *list;
	int64_t message;      /* row in messages */
	const char *message_id;
	time_t date;
	const char *sender;
	const char *sender_name;
	const char *subject;  /* decoded to UTF-8 */
	const char *in_reply_to;
	const char *const *references; /* NULL-terminated, may be NULL */
};
/* Archives a post (its row and its references; the thread links are the
 * archive module's, pipeline/archive.h). *id_r is the archive row. */
int store_archive_add(struct store *s, const struct store_post *p,
		      int64_t *id_r);
/* *found_r when a post with that Message-ID is already archived in list. */
int store_archive_has(struct store *s, const char *list,
		      const char *message_id, bool *found_r);

/* The archive id of the post with that Message-ID in list; 0 when none. */
int store_archive_find(struct store *s, const char *list,
		       const char *message_id, int64_t *id_r);

struct store_archived {
	int64_t id, message;
	int64_t parent;       /* archive id of the nearest archived ancestor;
				 0: none (a root, or only ghosts above) */
	int64_t thread;
	char *list, *message_id, *sender, *sender_name, *subject;
	time_t date;
};
int store_archive_get(struct store *s, int64_t id, struct store_archived *a,
		      bool *found_r);
void store_archived_clear(struct store_archived *a);

/* A held post; *id_r is the hold row. */
int store_hold_add(struct store *s, const char *list, int64_t message,
		   const char *sender, const char *subject,
		   const char *message_id, const char *reason, int64_t *id_r);
int store_hold_count(struct store *s, const char *list, int64_t *count_r);

/* Mail kept for handlers that are not part of the post path (commands,
 * confirmations, bounces): kind is "request", "subscribe", "unsubscribe",
 * "confirm", "bounces". */
int store_inbox_add(struct store *s, const char *list, const char *kind,
		    const char *extension, int64_t message, const char *sender);

/* An event for the activity log and analytics. */
int store_event_add(struct store *s, const char *list, const char *kind,
		    const char *actor, int64_t ref, const char *detail);

/* ---- delivery jobs ---- */
enum store_job_kind { JOB_POST, JOB_DIRECT };

struct store_job {
	int64_t id;
	char *list;
	enum store_job_kind kind;
	enum store_audience audience;  /* of the member stream */
	int64_t seq_from, seq_to;      /* its posts (see store_job_new) */
	int64_t archive;      /* 0 when none */
	char *env_from;
	char *personal;       /* NULL, or the marker that each recipient's
				 address replaces in the data (see
				 store_job_queue) */
	char *token_marker;   /* NULL, or the marker that each recipient's
				 one-click token replaces (store_job_new) */
	int64_t cursor;       /* last member id handed to the transport */
	bool members_done;    /* the member stream is finished */
	int64_t sent, total;
	int attempts;
	time_t next_attempt;
	char *last_error;
};
void store_job_clear(struct store_job *j);

/* Queues a message for delivery. JOB_POST: to the list's immediate members
 * (total -1 until the worker counts them); JOB_DIRECT: to the n addresses
 * given. */
int store_job_add(struct store *s, const char *list, enum store_job_kind kind,
		  int64_t archive, const char *env_from, const char *data,
		  size_t len, const char *const *rcpts, size_t n,
		  int64_t *id_r);

/* A job with every option (store_job_add is this with audience
 * AUDIENCE_IMMEDIATE and no marker). */
struct store_job_new {
	const char *list;
	enum store_job_kind kind;
	enum store_audience audience;  /* JOB_POST: who the stream reaches */
	int64_t archive;               /* 0: none */
	const char *env_from;
	const char *data;
	size_t len;
	/* Per-recipient content: when set, every occurrence of this marker
	 * in data is replaced by the recipient's address, and each
	 * transaction has one recipient. The writer of data places it only
	 * where any valid address keeps the message well-formed (a header's
	 * address, an unencoded body line). NULL: the same bytes for all. */
	const char *personal;
	/* Per-recipient one-click unsubscribe tokens (mail/oneclick.h):
	 * when set, every occurrence of this marker in data is replaced by
	 * the token of the recipient's membership of the list (something
	 * that is no token when the recipient is not a member), and each
	 * transaction has one recipient. The writer of data places it where
	 * a token is read: in a List-Unsubscribe URL. */
	const char *token_marker;
	/* JOB_POST: the sequence numbers of the posts it carries (see
	 * store_digest.h): the first and the last of a digest issue, the
	 * same for a post alone. The stream reaches the members whose mode
	 * was the audience's for all of them, so that a member who switched
	 * modes gets each post once. 0: the members' current modes. */
	int64_t seq_from, seq_to;
	/* Explicit recipients: a JOB_DIRECT's, or a JOB_POST's besides its
	 * member stream. */
	const char *const *rcpts;
	size_t n;
};
int store_job_queue(struct store *s, const struct store_job_new *j,
		    int64_t *id_r);
/* Records how many recipients a post's job has. */
int store_job_set_total(struct store *s, int64_t id, int64_t total);

/* The oldest job after id `after` that is due (its member stream not
 * deferred past now, or a recipient due, or nothing left but to finish it)
 * and unfinished; *found_r false when none. */
int store_job_next_due(struct store *s, time_t now, int64_t after,
		       struct store_job *j, bool *found_r);
int store_job_data(struct store *s, int64_t id, char **data_r, size_t *len_r);
/* Records a transaction's progress over the member stream: cursor, sent
 * count, and members_done; `succeeded` clears the job's failed attempts. */
int store_job_progress(struct store *s, int64_t id, int64_t cursor,
		       int64_t sent_delta, bool members_done, bool succeeded);
/* The job must wait: attempts+1, next attempt and the error. */
int store_job_defer(struct store *s, int64_t id, time_t next_attempt,
		    const char *error);
/* Marks the job finished when it has no recipient left to try; *done_r. */
int store_job_finish_if_done(struct store *s, int64_t id, bool *done_r);
/* How many of the job's recipients were delivered and how many failed
 * for good. 0, or -1 (the store's error). */
int store_job_counts(struct store *s, int64_t id, int64_t *delivered_r,
		     int64_t *failed_r);

/* Who delivers a job: claims. A worker claims a job before it sends any of
 * it and holds it while it works, so that two workers (two `run --once`
 * from cron, `queue flush` beside the daemon, two daemons) never send the
 * same job: the claim names its owner (a token unique to one worker), the
 * owner's process (proc.h) and a lease time. Each of these functions works
 * inside the caller's write transaction (store_begin), which is what makes
 * a claim exclusive: of two workers, the second to get the write lock sees
 * the first one's claim. */
struct store_claimant {
	const char *owner;            /* unique to one worker */
	const struct proc_id *proc;   /* the process it runs in */
};
enum store_claim_result {
	CLAIM_WON,         /* the job was free, or already ours */
	CLAIM_TAKEN_OVER,  /* ours now: its owner's lease had run out, or its
			      process is gone from this host */
	CLAIM_HELD,        /* another worker holds it and may be working */
	CLAIM_GONE,        /* the job is finished (or there is no such job) */
};
/* Who held a claim (CLAIM_HELD, CLAIM_TAKEN_OVER). */
struct store_claim_holder {
	int64_t pid;
	char host[256];
	time_t until;
};
/* Claims job `id` for `me` until `until` (lease time, seconds since the
 * epoch; `now` is the same clock): won when the job is unclaimed, already
 * me's, its claim's lease ended by now, or its owner's process is gone
 * (proc_state). On CLAIM_WON and CLAIM_TAKEN_OVER, *j (cleared first) is
 * the job as stored at the claim, so that the caller starts from the
 * progress of whoever worked on it before; *holder_r (may be NULL) is the
 * previous owner on CLAIM_TAKEN_OVER and CLAIM_HELD. Outside a
 * transaction it fails (-1). */
int store_job_claim(struct store *s, int64_t id,
		    const struct store_claimant *me, time_t now, time_t until,
		    struct store_job *j, enum store_claim_result *result_r,
		    struct store_claim_holder *holder_r);
/* Extends owner's claim on job id to `until`. *held_r is false when the
 * claim is not owner's any more (another worker took the job over): then
 * nothing about the job may be recorded in this transaction. */
int store_job_claim_renew(struct store *s, int64_t id, const char *owner,
			  time_t until, bool *held_r);
/* Gives up owner's claim on job id (nothing when it is not owner's). */
int store_job_claim_release(struct store *s, int64_t id, const char *owner);
/* Gives up every claim of owner; *n_r (may be NULL) counts them. */
int store_job_claims_release_all(struct store *s, const char *owner,
				 int64_t *n_r);

/* Ranges of the member stream, (after, last], that went out ahead of the
 * job's cursor (parallel transactions finish out of order): a restart skips
 * them, so a crash repeats at most the transactions in flight. */
struct store_range {
	int64_t after, last;
};
int store_job_range_add(struct store *s, int64_t job, int64_t after,
			int64_t last);
/* The job's ranges in order (free with free()). */
int store_job_ranges(struct store *s, int64_t job, struct store_range **v_r,
		     size_t *n_r);
/* Forgets the ranges the cursor has passed. */
int store_job_ranges_prune(struct store *s, int64_t job, int64_t cursor);

/* The worker trades durability against power loss (never against a crash
 * of the process: the WAL keeps every commit) for speed: synchronous=NORMAL.
 * A lost progress record means a repeated transaction, never a lost one. */
int store_set_fast_commits(struct store *s);

/* Per-recipient state rows of a job (explicit recipients and retries). */
enum store_rcpt_state { RCPT_QUEUED, RCPT_RETRY, RCPT_DONE, RCPT_FAILED };
int store_job_rcpt_add(struct store *s, int64_t job, const char *address,
		       enum store_rcpt_state st, int attempts,
		       time_t next_attempt, int code, const char *error);
struct store_rcpt {
	int64_t id;
	char *address;
	int attempts;
};
/* Up to max recipients of the job that are due (queued or retry with
 * next_attempt <= now). Free with store_rcpts_free. */
int store_job_rcpts_due(struct store *s, int64_t job, time_t now, size_t max,
			struct store_rcpt **v_r, size_t *n_r);
void store_rcpts_free(struct store_rcpt **v, size_t n);
int store_job_rcpt_update(struct store *s, int64_t rcpt,
			  enum store_rcpt_state st, int attempts,
			  time_t next_attempt, int code, const char *error);
/* The earliest next_attempt among a job's waiting recipients (0 if none). */
int store_job_rcpt_next_time(struct store *s, int64_t job, time_t *t_r);

/* Makes every waiting job and recipient of job `id` (0: of every job) due
 * now; *n_r counts what was waiting. */
int store_job_retry_now(struct store *s, int64_t id, time_t now,
			int64_t *n_r);

struct store_job_info {
	int64_t id;
	char *list;
	char *state;
	int64_t sent, total, waiting, failed;
	int attempts;
	time_t next_attempt;
	char *last_error;
	/* The claim on it (store_job_claim): claim_pid 0 when none. */
	int64_t claim_pid;
	char *claim_host;
	time_t claim_until;
};
/* A recipient the relay refused for good (a 5xx answer for that recipient,
 * not for the whole message), recorded by Delivery in the transaction that
 * records the job's progress, for the Pipeline to score (bounce.h). */
struct store_failure {
	int64_t id;
	char *list;
	char *address;
	int code;
	time_t at;
};
int store_failure_add(struct store *s, const char *list, const char *address,
		      int code, time_t at);
/* The oldest up to max recorded failures, newly allocated (free with
 * store_failures_free); *n_r is 0 when there is none. */
int store_failures_next(struct store *s, size_t max,
			struct store_failure **v_r, size_t *n_r);
void store_failures_free(struct store_failure **v, size_t n);
/* Forgets failure `id` once it has been scored. */
int store_failure_forget(struct store *s, int64_t id);

/* Calls fn for every unfinished job (for `queue list`). */
int store_job_foreach(struct store *s,
		      int (*fn)(const struct store_job_info *j, void *ctx),
		      void *ctx);

#endif
