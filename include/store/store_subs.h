/* store_subs - subscription requests with their tokens, and the answer log
 * that rate-limits what convene sends to one address
 *
 * Same conventions as store.h: 0 or -1 with the store's error. A request
 * (subscribe, unsubscribe, or an admin's invitation) waits for the person
 * (state "confirm"), then for a leader on lists that approve (state
 * "approve"), and ends "done", "rejected" or "expired". Its token is the
 * authority: 128 random bits, single use (a new token for each step), found
 * by an 8-digit selector and compared whole in constant time. */
#ifndef CONVENE_STORE_SUBS_H
#define CONVENE_STORE_SUBS_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "store/store.h"

struct store;

enum store_sub_kind {
	SUBREQ_SUBSCRIBE, SUBREQ_UNSUBSCRIBE, SUBREQ_INVITE,
	SUBREQ_SET,       /* a change of a member's delivery mode */
};
enum store_sub_state {
	SUBREQ_CONFIRM,   /* waiting for the person's reply */
	SUBREQ_APPROVE,   /* confirmed, waiting for a leader */
	SUBREQ_DONE,
	SUBREQ_REJECTED,
	SUBREQ_EXPIRED,
};

struct store_sub_request {
	int64_t id;
	char *list;
	enum store_sub_kind kind;
	char *address;
	char *name;              /* display name, may be NULL */
	enum store_mode mode;
	enum store_sub_state state;
	time_t created_at;
	time_t expires_at;
	char *decided_by;        /* may be NULL */
};

const char *store_sub_kind_name(enum store_sub_kind k);
const char *store_sub_state_name(enum store_sub_state st);
void store_sub_request_clear(struct store_sub_request *r);

/* Adds a request in state "confirm" with `token` (util_token's 32 hex
 * digits); *id_r (may be NULL) is its row. */
int store_sub_request_add(struct store *s, const char *list,
			  enum store_sub_kind kind, const char *address,
			  const char *name, enum store_mode mode,
			  const char *token, time_t expires_at,
			  int64_t *id_r);

/* The waiting request (state confirm or approve) whose token is `token`,
 * of any list: the caller checks the list. *found_r false when none. */
int store_sub_request_find(struct store *s, const char *token,
			   struct store_sub_request *r, bool *found_r);

/* The request with row `id` of `list`, in any state. */
int store_sub_request_get(struct store *s, const char *list, int64_t id,
			  struct store_sub_request *r, bool *found_r);

/* Moves request `id` to `state`; `token` (may be NULL) replaces its token
 * (the old one stops working either way: a state other than confirm and
 * approve is never found by token); `decided_by` may be NULL. `expires_at`
 * 0 leaves the expiry. */
int store_sub_request_set_state(struct store *s, int64_t id,
				enum store_sub_state state, const char *token,
				time_t expires_at, const char *decided_by);

/* Marks the waiting requests of list past their expiry "expired"; *n_r
 * (may be NULL) how many. */
int store_sub_request_expire(struct store *s, const char *list, time_t now,
			     int64_t *n_r);

/* Calls fn for each waiting request of list, oldest first; stops when fn
 * returns non-zero and returns that. */
int store_sub_request_foreach(struct store *s, const char *list,
			      int (*fn)(const struct store_sub_request *r,
					void *ctx),
			      void *ctx);

/* The rate limit: when fewer than `max` messages went to `address` in the
 * `window` seconds before `now`, records one more and sets *allowed_r;
 * otherwise records nothing and clears it. Records older than the window
 * are forgotten. */
int store_sub_rate_take(struct store *s, const char *address, time_t now,
			long window, long max, bool *allowed_r);

#endif
