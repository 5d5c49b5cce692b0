/* store_archive - the archive's thread tree, full-text index and curation
 *
 * The thread tree keeps one node per Message-ID a list has seen, archived or
 * only referred to (a "ghost": JWZ's empty container), with its parent node
 * and thread. A thread's id is the archive id of a message in it (the one
 * that started it, as long as that message stays in it). The full-text
 * index is an FTS5 table keyed by archive id. Curation: the FAQ, tags,
 * resolved threads.
 *
 * Functions return 0, or -1 with the store's error (store_error,
 * store_transient), like the rest of store.h. None opens a transaction:
 * each is part of the caller's. Arrays handed back are newly allocated and
 * freed with the matching _free function. */
#ifndef CONVENE_STORE_ARCHIVE_H
#define CONVENE_STORE_ARCHIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct store;

/* A tree is never walked past this many nodes. */
#define STORE_TREE_MAX 100000

/* ---- thread nodes ---- */

struct store_node {
	int64_t id;
	int64_t archive;    /* 0: a ghost */
	int64_t parent;     /* node id; 0: a root */
	int64_t thread;     /* 0: none yet */
	bool orphan_reply;  /* a reply ("Re:") that named no parent */
};

/* The node of Message-ID mid in list; *found_r false when none. */
int store_node_find(struct store *s, const char *list, const char *mid,
		    struct store_node *n, bool *found_r);
/* Adds a ghost node for mid (no parent, no thread) into *n. */
int store_node_add(struct store *s, const char *list, const char *mid,
		   struct store_node *n);
/* Node `id`; *found_r false when none. */
int store_node_get(struct store *s, int64_t id, struct store_node *n,
		   bool *found_r);
/* Removes a ghost node that nothing hangs from (JWZ prunes such empty
 * containers). */
int store_node_delete(struct store *s, int64_t id);
/* parent 0: makes it a root. */
int store_node_set_parent(struct store *s, int64_t id, int64_t parent);
/* Makes a ghost real: the archived message, its base subject. */
int store_node_set_archive(struct store *s, int64_t id, int64_t archive,
			   const char *base_subject, bool orphan_reply);
/* The nodes of the tree below root, root first (cycles and more than
 * STORE_TREE_MAX nodes cut off). Free with free(). */
int store_node_tree(struct store *s, int64_t root, struct store_node **v_r,
		    size_t *n_r);
/* Puts the nodes `ids` (and their archived messages) into thread t. */
int store_nodes_set_thread(struct store *s, const int64_t *ids, size_t n,
			   int64_t thread);
/* The archived messages below node (through ghosts only), that is those
 * whose nearest archived ancestor is node's: their parent becomes archive
 * (0: none). */
int store_node_children_parent(struct store *s, int64_t node,
			       int64_t archive);
/* Whether node `child` is an archived message that names node `parent`'s
 * Message-ID itself (In-Reply-To or References): a link it declared, not
 * one other messages' References presumed. */
int store_node_declares(struct store *s, int64_t child, int64_t parent,
			bool *declared_r);
/* archive.parent of one archived message (0: none). */
int store_archive_set_parent(struct store *s, int64_t archive,
			     int64_t parent);

/* ---- threading and indexing later ----
 *
 * A post is archived in the transaction that accepts it, and queued here;
 * its place in the thread tree and its full-text entry come a moment later,
 * for many posts in one transaction (pipeline/archive.h, archive_catch_up).
 * The queue is read in archive order. */

/* Queues archived message `archive` (once). */
int store_pending_add(struct store *s, int64_t archive);
/* The oldest queued archive ids, at most max (free() *ids_r). */
int store_pending_next(struct store *s, size_t max, int64_t **ids_r,
		       size_t *n_r);
/* Takes `archive` off the queue. */
int store_pending_remove(struct store *s, int64_t archive);
/* How many are queued. */
int store_pending_count(struct store *s, int64_t *n_r);

/* ---- threads ---- */

struct store_thread {
	int64_t id;
	char *subject;        /* of its first message (may be NULL) */
	time_t first_date, last_date;
	int64_t messages;     /* archived messages in it */
	time_t resolved_at;   /* 0: not resolved */
	char *resolved_by;    /* may be NULL */
};
void store_thread_clear(struct store_thread *t);
void store_threads_free(struct store_thread **v, size_t n);

/* Recounts thread `id` of list from its messages: creates its row, updates
 * it, or deletes it when no message is left in it (*alive_r). */
int store_thread_refresh(struct store *s, const char *list, int64_t id,
			 bool *alive_r);
/* Thread `id` of list; *found_r false when none. */
int store_thread_get(struct store *s, const char *list, int64_t id,
		     struct store_thread *t, bool *found_r);
/* Whether a thread row `id` exists (in any list). */
int store_thread_exists(struct store *s, int64_t id, bool *found_r);
/* The root node of thread `id` (the first one found); 0 when none. */
int store_thread_root(struct store *s, int64_t id, int64_t *node_r);
/* The latest threads of list by their last message, newest first: at most
 * limit, after skipping offset. */
int store_threads_latest(struct store *s, const char *list, size_t limit,
			 size_t offset, struct store_thread **v_r,
			 size_t *n_r);
/* The threads of list that began last (by their first message), newest
 * first, at most limit: what a feed of new threads shows. */
int store_threads_started(struct store *s, const char *list, size_t limit,
			  struct store_thread **v_r, size_t *n_r);
/* The thread of list with base subject `base` whose last message is nearest
 * to `date`, among those with a message within window seconds of it; 0
 * when none. */
int store_thread_by_subject(struct store *s, const char *list,
			    const char *base, time_t date, long window,
			    int64_t *thread_r);
/* Root nodes of list that are replies without a parent ("Re: X" that named
 * no message) with base subject `base`, dated from..until (at most max).
 * Free with free(). */
int store_orphan_roots(struct store *s, const char *list, const char *base,
		       time_t from, time_t until, size_t max,
		       int64_t **nodes_r, size_t *n_r);
/* Marks thread `id` resolved (by, at); *changed_r false when it already
 * was. */
int store_thread_resolve(struct store *s, int64_t id, const char *by,
			 time_t at, bool *changed_r);

/* The nodes of a thread with what a listing shows (ghosts have archive 0
 * and NULL texts). Order: date, then id. */
struct store_thread_node {
	int64_t node, parent;     /* node ids; parent 0: a root */
	int64_t archive;
	char *message_id, *sender, *sender_name, *subject;
	time_t date;
};
int store_thread_nodes(struct store *s, int64_t thread,
		       struct store_thread_node **v_r, size_t *n_r);
void store_thread_nodes_free(struct store_thread_node **v, size_t n);

/* Forgets the thread tree, threads and index of list (the archived
 * messages, the FAQ and tags stay), before they are rebuilt. */
int store_archive_reset(struct store *s, const char *list);

/* The archived messages of list in date order after (date, id), at most
 * max: their archive ids, dates and message rows. For walking a whole
 * archive in pages (export, rebuild). */
struct store_archive_ref {
	int64_t id, message;
	time_t date;
};
int store_archive_page(struct store *s, const char *list, time_t after_date,
		       int64_t after_id, size_t max,
		       struct store_archive_ref **v_r, size_t *n_r);
/* How many messages list's archive holds. */
int store_archive_count(struct store *s, const char *list, int64_t *n_r);

/* ---- full-text index ---- */

/* Indexes archived message `id` (texts may be NULL). */
int store_fts_add(struct store *s, int64_t id, const char *subject,
		  const char *sender, const char *body, const char *quoted);
/* Deferred indexing for a transaction that stages many messages: while on,
 * store_fts_add keeps its rows (copies) instead of inserting them, and
 * they are inserted together by store_fts_flush (one full-text segment for
 * all instead of one per message), by store_commit, before a savepoint, and
 * before any search; a rollback drops them. store_fts_flush returns -1
 * (the store's error set, the rows dropped) when an insert fails. */
void store_fts_defer(struct store *s, bool on);
int store_fts_flush(struct store *s);

/* A search: `match` an FTS5 expression built by the query parser (never
 * text from a person), or NULL for "every message"; dates [after, before)
 * (0: unbounded); tag or NULL. */
struct store_search {
	const char *list;
	const char *match;
	time_t after, before;
	const char *tag;
	size_t limit;
};
/* One thread of the results: its best message (bm25, subject weighted up,
 * quoted lines down; newest first without `match`) and how many of its
 * messages matched. */
struct store_search_hit {
	int64_t thread, archive;
	int64_t matches;
	double rank;
};
/* The best `limit` threads, best first; *threads_r the number of matching
 * threads, *messages_r of matching messages. -1 also when match is not a
 * valid FTS5 expression. Free with free(). */
int store_search(struct store *s, const struct store_search *q,
		 struct store_search_hit **v_r, size_t *n_r,
		 int64_t *threads_r, int64_t *messages_r);
/* An excerpt of message `archive` around what `match` found, in its body
 * (else its subject), at most about `tokens` words; "" when none. Newly
 * allocated. */
int store_search_excerpt(struct store *s, const char *match, int64_t archive,
			 int tokens, char **excerpt_r);

/* ---- curation ---- */

/* Adds archived message `archive` to list's FAQ with title (may be NULL),
 * or gives it the new title; *added_r false when it was there. */
int store_faq_set(struct store *s, const char *list, int64_t archive,
		  const char *title, const char *by, time_t at,
		  bool *added_r);
struct store_faq {
	int64_t archive, thread;
	char *title;          /* as the leader gave it; may be NULL */
	char *subject;        /* of the message */
	time_t date;          /* of the message */
	time_t added_at;
	char *added_by;
};
/* List's FAQ entries added at or after `since` (0: all), oldest first, at
 * most max. */
int store_faq_list(struct store *s, const char *list, time_t since,
		   size_t max, struct store_faq **v_r, size_t *n_r);
void store_faq_free(struct store_faq **v, size_t n);

/* Tags message `archive` with `tag`; *added_r false when it had it. */
int store_tag_add(struct store *s, int64_t archive, const char *tag,
		  const char *by, time_t at, bool *added_r);
/* The tags of message `archive`, sorted, space-separated ("" for none);
 * newly allocated. */
int store_tags_get(struct store *s, int64_t archive, char **tags_r);

#endif
