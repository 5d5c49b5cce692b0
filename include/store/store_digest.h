/* store_digest - posts waiting for a digest, issues, the schedule's state
 *
 * Every accepted post gets a sequence number (its digest_items row: ids
 * only grow, over all lists) and waits there, as the part digest members
 * will see, until an issue takes it. A member's switch of delivery mode is
 * recorded at the sequence point of the posts accepted so far (see
 * store_member_set_mode), so that each post reaches each member by the mode
 * they had when it was accepted.
 *
 * Functions return 0, or -1 with the store's error (store_error,
 * store_transient), like the rest of store.h. None opens a transaction:
 * each is part of the caller's. */
#ifndef CONVENE_STORE_DIGEST_H
#define CONVENE_STORE_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "store/store.h"

/* Adds the post archived as `archive` to list's next digest, with `data`
 * (len bytes) the message as digest members will see it. *seq_r is the
 * post's sequence number. */
int store_digest_item_add(struct store *s, const char *list, int64_t archive,
			  const char *data, size_t len, int64_t *seq_r);

/* How many posts wait for list's next issue, their bytes, and when the
 * oldest of them arrived (0 when none waits). */
int store_digest_waiting(struct store *s, const char *list, int64_t *count_r,
			 int64_t *bytes_r, time_t *oldest_r);

struct store_digest_item {
	int64_t seq;            /* sequence number (digest_items id) */
	int64_t archive;        /* archive row */
	int64_t thread;         /* archive thread id */
	int64_t parent;         /* archive parent, 0 for a thread's start */
	int64_t thread_posts;   /* posts archived in its thread, all told */
	char *data;             /* the part (NUL-terminated), len bytes */
	size_t len;
	char *message_id;       /* may be NULL */
	char *sender;           /* may be NULL */
	char *sender_name;      /* may be NULL */
	char *subject;          /* decoded; may be NULL */
	char *thread_subject;   /* the thread's first post's; may be NULL */
	time_t date;
};

/* The oldest posts waiting for list's next issue: at most max_items, and
 * no more than max_bytes in all (but always the first one), in sequence
 * order. *v_r newly allocated (free with store_digest_items_free). */
int store_digest_items_waiting(struct store *s, const char *list,
			       size_t max_items, int64_t max_bytes,
			       struct store_digest_item **v_r, size_t *n_r);
void store_digest_items_free(struct store_digest_item **v, size_t n);

/* The schedule's state of one list. */
struct store_digest_state {
	int64_t volume, number; /* of the last issue (0, 0 before the first) */
	int year;               /* the year its volume belongs to */
	char *schedule;         /* what next_due was computed from (may be
				   NULL) */
	time_t next_due;        /* the next scheduled issue */
	time_t last_issue_at;   /* 0 before the first */
};
/* *found_r false (st untouched) when the list has none yet. */
int store_digest_state_get(struct store *s, const char *list,
			   struct store_digest_state *st, bool *found_r);
int store_digest_state_put(struct store *s, const char *list,
			   const struct store_digest_state *st);
void store_digest_state_clear(struct store_digest_state *st);

struct store_digest_issue {
	const char *list;
	int64_t volume, number;
	int64_t first_seq, last_seq;  /* of its posts */
	int64_t messages, bytes;
	const char *reason;           /* "schedule", "size", "command" */
};
/* Records an issue and takes the list's waiting posts up to last_seq into
 * it (their parts are dropped: the issue's messages hold them). */
int store_digest_issue_add(struct store *s,
			   const struct store_digest_issue *is, int64_t *id_r);

/* The active members of list whose delivery mode changed at or after
 * sequence point `since`, in id order (newly allocated; free with
 * store_digest_switchers_free). */
struct store_digest_switcher {
	int64_t member;
	char *address;
};
int store_digest_switchers(struct store *s, const char *list, int64_t since,
			   struct store_digest_switcher **v_r, size_t *n_r);
void store_digest_switchers_free(struct store_digest_switcher **v, size_t n);
/* Member `member`'s delivery mode for the posts numbered seq_from to
 * seq_to: *same_r false when it changed between them (*mode_r is then
 * untouched). */
int store_member_mode_for(struct store *s, int64_t member, int64_t seq_from,
			  int64_t seq_to, enum store_mode *mode_r,
			  bool *same_r);

#endif
