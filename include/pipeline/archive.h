/* archive - a list's archive as community knowledge: every accepted post
 * archived inside the transaction that accepts it, then threaded
 * (pipeline/thread.h) and indexed (pipeline/search.h) a moment later with
 * the posts that came in meanwhile (archive_catch_up: the worker, and
 * whatever reads threads or the index first); import from mbox and Maildir,
 * export as mboxrd; curation by leaders (FAQ, resolved threads, tags); who
 * may read it; its URLs.
 *
 * What other modules read (the web archive, digests, reports):
 *   search_run (search.h)    threads matching a query, with excerpts
 *   thread_list (thread.h)   a thread's messages in reading order
 *   archive_latest           threads by their latest message
 *   archive_faq              the FAQ with the dates entries were added
 *   archive_message_url      the URL of a message (Archived-At)
 *
 * Functions return 0, or -1 with the store's error (store_error,
 * store_transient) unless they say otherwise. None opens a transaction
 * except archive_import, archive_rebuild and archive_catch_up, which commit
 * their own. */
#ifndef CONVENE_ARCHIVE_H
#define CONVENE_ARCHIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "store/store_archive.h"

struct conf;
struct conf_list;
struct msg;
struct store;

/* A post to archive. */
struct archive_post {
	const struct conf *c;     /* its MIME limits */
	const char *list;
	int64_t message;          /* its row in messages (the raw bytes) */
	const char *raw;          /* the bytes as received */
	size_t len;
	const struct msg *m;      /* parsed */
	const char *message_id;   /* without brackets */
	const char *sender;       /* normalised address; may be NULL */
	const char *sender_name;  /* may be NULL */
	const char *subject;      /* decoded; may be NULL */
	bool text_read;           /* text is reply_text of raw (with c's
				     limits), read already */
	const char *text;         /* then: what is indexed (NULL: none) */
	bool later;               /* threaded and indexed by the next
				     archive_catch_up, not now */
};

/* Archives p: its archive row, and (unless p->later) its place in the
 * thread tree and the full-text index, after what was queued before, all
 * in the caller's transaction. *id_r is its archive id, *thread_r its
 * thread (0 when later; either may be NULL). */
int archive_post(struct store *s, const struct archive_post *p,
		 int64_t *id_r, int64_t *thread_r);

/* Threads and indexes the oldest queued posts (p->later), at most max, in
 * the caller's transaction; *n_r (may be NULL) counts them. What reads
 * threads or the index inside a transaction calls it first. */
int archive_index_pending(struct store *s, const struct conf *c, size_t max,
			  size_t *n_r);

/* Threads and indexes the queued posts, at most max (SIZE_MAX: all), a
 * hundred a transaction (its own, so that others write in between);
 * nothing queued costs one read and no write lock. *n_r (may be NULL)
 * counts them. */
int archive_catch_up(struct store *s, const struct conf *c, size_t max,
		     size_t *n_r);

/* ---- import and export ---- */

struct archive_import_stats {
	size_t added;        /* archived now */
	size_t duplicates;   /* a message with that Message-ID was there */
	size_t unreadable;   /* not a message */
	size_t too_big;      /* over limits.max_message_kb */
};

/* Archives every message of `path` into l's archive without sending it to
 * anyone: an mbox file (mboxrd or mboxo), a file holding one message, a
 * Maildir (its cur/ and new/), or a folder of such files (in name order).
 * Idempotent by Message-ID (a message without one gets an id made from a
 * hash of its bytes, so it too is imported once). Commits every few
 * hundred messages: an interrupted import is finished by running it again.
 * Returns 0, or -1 with *error_r (newly allocated) and *transient_r. */
int archive_import(struct store *s, const struct conf *c,
		   const struct conf_list *l, const char *path,
		   struct archive_import_stats *st, char **error_r,
		   bool *transient_r);

/* Writes l's archive to out as mboxrd, in date order, each message as it
 * was received. *n_r counts them. Returns 0, or -1 (the store's error, or
 * errno set when writing failed). */
int archive_export(struct store *s, const struct conf_list *l, FILE *out,
		   size_t *n_r);

/* Threads and indexes l's whole archive again from the stored messages
 * (after an upgrade, or to apply a new threading rule), keeping the FAQ,
 * tags and resolved threads; one transaction. *n_r counts messages. */
int archive_rebuild(struct store *s, const struct conf *c,
		    const struct conf_list *l, size_t *n_r);

/* ---- reading ---- */

/* Whether `address` may read l's archive by mail: anyone when access is
 * "public"; members and the list's sponsors, leaders and council when
 * "members"; only sponsors, leaders and council when "private".
 * *member_r (may be NULL) tells whether it is a member or one of those. */
int archive_may_read(struct store *s, const struct conf_list *l,
		     const char *address, bool *ok_r, bool *member_r);
/* Whether `address` may curate l's archive: its leaders. */
bool archive_may_curate(const struct conf_list *l, const char *address);

/* The latest threads of l, newest first (store_threads_free). */
int archive_latest(struct store *s, const struct conf_list *l, size_t limit,
		   struct store_thread **v_r, size_t *n_r);
/* l's FAQ, entries added at or after `since` (0: all), oldest first
 * (store_faq_free). For the digest: the additions of a period. */
int archive_faq(struct store *s, const struct conf_list *l, time_t since,
		struct store_faq **v_r, size_t *n_r);

/* The URL of archived message `id` for Archived-At (RFC 5064):
 * archive.url followed by "msg/ID.html"; NULL when no URL is set. Newly
 * allocated. */
char *archive_message_url(const struct conf_list *l, int64_t id);

/* ---- curation ---- */

enum archive_curation { CURATE_FAQ, CURATE_RESOLVED, CURATE_TAG };
enum archive_curated {
	CURATED,             /* done */
	CURATED_ALREADY,     /* it was so (a FAQ title is still updated) */
	CURATED_NOT_FOUND,   /* no message or thread `id` in this list */
	CURATED_BAD_TAG,     /* a tag is 1 to 32 of a-z 0-9 - _ */
};

/* Curates message `id` of l (for resolved: its thread): `arg` is the FAQ
 * title (may be NULL) or the tag. `by` is recorded, with an event
 * (archive.faq, archive.resolved, archive.tag) for digests and reports.
 * Whether `by` may curate is the caller's check. */
int archive_curate(struct store *s, const struct conf_list *l,
		   enum archive_curation what, int64_t id, const char *arg,
		   const char *by, enum archive_curated *result_r);

#endif
