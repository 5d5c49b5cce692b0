/* moderation - held posts: notices to leaders, decisions by reply */
#ifndef CONVENE_MODERATION_H
#define CONVENE_MODERATION_H

#include <stdint.h>

#include "receive.h"
#include "status.h"

struct incoming;
struct store;

/* Holds a post (its raw bytes already stored as `message`) for `reason`,
 * inside the transaction receive has open, and commits. */
enum status moderation_hold(struct store *s, struct incoming *in,
			    int64_t message, const char *reason);

/* A reply to NAME-confirm+TOKEN: returns 1 (with *st_r and *outcome_r set)
 * when the token belongs to a held post, 0 when it is not moderation's. */
int moderation_confirm(struct store *s, struct incoming *in,
		       enum status *st_r, enum receive_outcome *outcome_r);

#endif
