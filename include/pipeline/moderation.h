/* moderation - held posts: notices to leaders, decisions by reply or CLI,
 * stored bans, expiry */
#ifndef CONVENE_MODERATION_H
#define CONVENE_MODERATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "base/status.h"
#include "pipeline/incoming.h"

struct conf;
struct conf_list;
struct incoming;
struct store;

enum moderation_decision {
	MOD_APPROVE,   /* send it to the members */
	MOD_REJECT,    /* return it to the poster with a reason */
	MOD_DISCARD,   /* drop it silently */
	MOD_BAN,       /* reject, and ban the sender from the list */
	MOD_ALWAYS,    /* approve, and stop moderating the sender */
};

/* "approve", "reject", ...; and back (false for an unknown word). */
const char *moderation_decision_name(enum moderation_decision d);
bool moderation_decision_parse(const char *word,
			       enum moderation_decision *d_r);

/* Holds a post (its raw bytes already stored as `message`) for `reason`,
 * part of the caller's transaction: gives it a token, queues one notice to
 * the leaders (and council) with the post attached, and tells the poster
 * (rate limited, never a robot). Returns 0 with *hold_r, or -1 on a store
 * failure (the store's error says why). */
int moderation_hold(struct store *s, struct incoming *in, int64_t message,
		    const char *reason, int64_t *hold_r);

/* Refuses a post outright (a filter or a setting said "reject"), part of
 * the caller's transaction: an event, and the reason to the poster (rate
 * limited, never a robot). 0, or -1 on a store failure. */
int moderation_reject(struct store *s, struct incoming *in,
		      const char *reason);

/* A reply to NAME-confirm+TOKEN (the token in the address, or only in the
 * Subject), part of the caller's transaction. *mine_r tells whether the
 * token belongs to a hold of the list (when not, nothing was done). The
 * first non-quoted word of the reply decides; only a leader (or council
 * where allowed) decides, anyone else only makes the leaders warned;
 * robots are ignored. Returns ST_OK (with *outcome_r when mine), or
 * ST_TEMPFAIL after a store failure. */
enum status moderation_confirm(struct store *s, struct incoming *in,
			       bool *mine_r, enum incoming_outcome *outcome_r);

enum moderation_result {
	MODR_DONE,        /* decided now */
	MODR_NOT_FOUND,   /* no such hold in the list */
	MODR_DECIDED,     /* decided before: *by_r and *at_r say by whom */
};

/* Decides hold `id` of list l for `actor` (the CLI's user), in its own
 * transaction. Returns ST_OK with *result_r (and for MODR_DECIDED the
 * earlier decider in *by_r, newly allocated, and the time in *at_r), or
 * ST_TEMPFAIL on a store failure (the store's error says why). */
enum status moderation_decide(struct store *s, const struct conf *c,
			      const struct conf_list *l, int64_t id,
			      enum moderation_decision d, const char *reason,
			      const char *actor,
			      enum moderation_result *result_r, char **by_r,
			      time_t *at_r);

/* Expires the holds of every list held longer than its hold_expiry, each
 * in its own transaction, telling the poster. *n_r counts them. Returns 0,
 * or -1 on a store failure (what was expired stays expired). */
int moderation_expire(struct store *s, const struct conf *c, size_t *n_r);

#endif
