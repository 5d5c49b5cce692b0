/* commands - NAME-request, NAME-subscribe, NAME-unsubscribe */
#include "autoconf.h"

#include "commands.h"
#include "incoming.h"

enum status commands_handle(struct store *s, struct incoming *in,
			    enum receive_outcome *outcome_r)
{
	return incoming_keep(s, in, outcome_r);
}

int commands_confirm(struct store *s, struct incoming *in, enum status *st_r,
		     enum receive_outcome *outcome_r)
{
	return 0;
}
