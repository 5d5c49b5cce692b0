/* commands - NAME-request, NAME-subscribe, NAME-unsubscribe */
#ifndef CONVENE_COMMANDS_H
#define CONVENE_COMMANDS_H

#include "receive.h"
#include "status.h"

struct incoming;
struct store;

/* Handles mail to the list's command addresses. */
enum status commands_handle(struct store *s, struct incoming *in,
			    enum receive_outcome *outcome_r);

/* A reply to NAME-confirm+TOKEN: 1 when the token is a subscription's, 0
 * when it is not. */
int commands_confirm(struct store *s, struct incoming *in, enum status *st_r,
		     enum receive_outcome *outcome_r);

#endif
