/* bounce - NAME-bounces: delivery reports, scores, probes */
#include "autoconf.h"

#include "bounce.h"
#include "incoming.h"

enum status bounce_handle(struct store *s, struct incoming *in,
			  enum receive_outcome *outcome_r)
{
	return incoming_keep(s, in, outcome_r);
}

int bounce_confirm(struct store *s, struct incoming *in, enum status *st_r,
		   enum receive_outcome *outcome_r)
{
	return 0;
}
