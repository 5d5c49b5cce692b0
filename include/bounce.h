/* bounce - NAME-bounces: delivery reports, scores, probes */
#ifndef CONVENE_BOUNCE_H
#define CONVENE_BOUNCE_H

#include "receive.h"
#include "status.h"

struct incoming;
struct store;

/* Handles mail to NAME-bounces and NAME-bounces+ENCODED. Never answers. */
enum status bounce_handle(struct store *s, struct incoming *in,
			  enum receive_outcome *outcome_r);

/* A reply to NAME-confirm+TOKEN: 1 when the token is a bounce probe's (the
 * member re-enables delivery), 0 when it is not. */
int bounce_confirm(struct store *s, struct incoming *in, enum status *st_r,
		   enum receive_outcome *outcome_r);

#endif
