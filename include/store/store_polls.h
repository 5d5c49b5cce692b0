/* store_polls - polls by reply: the question, its options, one vote per
 * member (the latest counts)
 *
 * Functions return 0, or -1 with the store's error (store_error,
 * store_transient), like the rest of store.h. None opens a transaction. */
#ifndef CONVENE_STORE_POLLS_H
#define CONVENE_STORE_POLLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct store;

/* A poll has at most this many options. */
#define STORE_POLL_OPTIONS_MAX 20

struct store_poll {
	int64_t id;
	char *list;
	char *question;
	char *options[STORE_POLL_OPTIONS_MAX];  /* option i+1 */
	size_t noptions;
	char *created_by;
	time_t created_at, closes_at;
	bool to_list;             /* the results go to the list too */
	bool closed;
	time_t closed_at;         /* 0 while open */
};
void store_poll_clear(struct store_poll *p);

/* Adds poll p (its list, question, options, creator, times, to_list);
 * *id_r is its id. */
int store_poll_add(struct store *s, const struct store_poll *p,
		   int64_t *id_r);
/* Poll `id`; *found_r false when none. */
int store_poll_get(struct store *s, int64_t id, struct store_poll *p,
		   bool *found_r);
/* Calls fn for each poll of list (NULL: of every list), newest first
 * (stops when fn returns non-zero and returns that). */
int store_poll_foreach(struct store *s, const char *list,
		       int (*fn)(const struct store_poll *p, void *ctx),
		       void *ctx);
/* The open polls whose closing time is at or before now: their ids, at
 * most max (free with free()). */
int store_polls_due(struct store *s, time_t now, size_t max,
		    int64_t **ids_r, size_t *n_r);
/* Closes poll `id` at `at`; *changed_r false when it was closed. */
int store_poll_close(struct store *s, int64_t id, time_t at,
		     bool *changed_r);

/* Records address's vote for option (1..noptions) of poll `id`, replacing
 * an earlier one: *changed_r tells whether it had voted before. */
int store_poll_vote(struct store *s, int64_t id, const char *address,
		    int option, time_t at, bool *changed_r);
/* The tally: counts[i] the votes for option i+1 (n counts), *voters_r
 * the members who voted, *changes_r the votes that replaced earlier
 * ones. */
int store_poll_tally(struct store *s, int64_t id, int64_t *counts, size_t n,
		     int64_t *voters_r, int64_t *changes_r);

#endif
