/* store_holds - held posts, their tokens and decisions, stored bans, the
 * allow list and notice bookkeeping
 *
 * Functions return 0, or -1 with the store's error (store_error,
 * store_transient), like the rest of store.h. None opens a transaction:
 * each is part of the caller's. */
#ifndef CONVENE_STORE_HOLDS_H
#define CONVENE_STORE_HOLDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct store;

struct store_hold {
	int64_t id;
	int64_t message;
	char *list;
	char *sender;       /* may be NULL */
	char *subject;      /* may be NULL */
	char *message_id;   /* may be NULL */
	char *reason;
	char *token;        /* may be NULL (holds made before tokens) */
	char *state;        /* held, approved, rejected, discarded, expired */
	time_t held_at;
	time_t decided_at;  /* 0 while held */
	char *decided_by;   /* may be NULL */
};
void store_hold_clear(struct store_hold *h);

/* Gives hold `id` its moderation token. */
int store_holds_set_token(struct store *s, int64_t id, const char *token);

/* The hold of list whose token is `token` (compared in constant time);
 * *found_r false when none. */
int store_holds_by_token(struct store *s, const char *list, const char *token,
			 struct store_hold *h, bool *found_r);
/* Hold `id` of list; *found_r false when none. */
int store_holds_get(struct store *s, const char *list, int64_t id,
		    struct store_hold *h, bool *found_r);

/* Calls fn for each hold of list still held, oldest first (stops when fn
 * returns non-zero, and returns that value). */
int store_holds_foreach(struct store *s, const char *list,
			int (*fn)(const struct store_hold *h, void *ctx),
			void *ctx);

/* Moves hold `id` from held to `state`, recording who and when. *changed_r
 * is false when it was no longer held (someone decided first). */
int store_holds_decide(struct store *s, int64_t id, const char *state,
		       const char *by, time_t at, bool *changed_r);

/* Ids of the holds of list still held since `before` or earlier, oldest
 * first, at most max (free with free()). */
int store_holds_due(struct store *s, const char *list, time_t before,
		    size_t max, int64_t **ids_r, size_t *n_r);

/* The bans leaders made by reply: *added_r false when already banned. */
int store_holds_ban_add(struct store *s, const char *list,
			const char *address, const char *by, bool *added_r);
int store_holds_banned(struct store *s, const char *list, const char *address,
		       bool *banned_r);

/* Whether list holds (or held) a post with this Message-ID, in any
 * state: a post the MTA hands over again is held once. */
int store_holds_has(struct store *s, const char *list,
		    const char *message_id, bool *found_r);

/* Senders whose posts are no longer moderated ("always"). */
int store_holds_allow_add(struct store *s, const char *list,
			  const char *address, const char *by);
int store_holds_allowed(struct store *s, const char *list,
			const char *address, bool *allowed_r);
/* Clears a member's moderated flag; *found_r false when not a member. */
int store_holds_unmoderate(struct store *s, const char *list,
			   const char *address, bool *found_r);

/* Rate limit for notices to one address: *due_r true (and the sending
 * recorded at now) when no notice of `kind` went to address within
 * `interval` seconds before now. */
int store_holds_notice_due(struct store *s, const char *list,
			   const char *address, const char *kind, time_t now,
			   long interval, bool *due_r);

#endif
