/* moderation - held posts: notices to leaders, decisions by reply */
#include "autoconf.h"

#include "moderation.h"
#include "conf.h"
#include "incoming.h"
#include "log.h"
#include "store.h"

enum status moderation_hold(struct store *s, struct incoming *in,
			    int64_t message, const char *reason)
{
	const struct conf_list *l = in->list;
	int64_t hold;

	if (store_hold_add(s, l->name, message, in->sender, in->subject,
			   in->message_id, reason, &hold) < 0 ||
	    store_event_add(s, l->name, "post.held", in->sender, hold,
			    reason) < 0)
		return incoming_store_failure(s, in, "hold");
	if (store_commit(s) < 0)
		return incoming_store_failure(s, in, "commit");
	log_info("list=%s message-id=<%s> from=<%s>: held as %lld: %s",
		 l->name, in->logid, in->logfrom, (long long)hold, reason);
	return ST_OK;
}

int moderation_confirm(struct store *s, struct incoming *in,
		       enum status *st_r, enum receive_outcome *outcome_r)
{
	return 0;
}
