/* incoming - one message being decided on */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/incoming.h"
#include "base/conf.h"
#include "base/log.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "store/store.h"

const char *incoming_outcome_name(enum incoming_outcome o)
{
	switch (o) {
	case INCOMING_ACCEPTED:  return "accepted";
	case INCOMING_HELD:      return "held";
	case INCOMING_DROPPED:   return "dropped";
	case INCOMING_KEPT:      return "kept";
	case INCOMING_FORWARDED: return "forwarded";
	case INCOMING_REFUSED:   return "refused";
	}
	return "unknown";
}

void incoming_limits(const struct conf *c, struct msg_limits *lim_r)
{
	*lim_r = (struct msg_limits){
		.max_header_bytes = (size_t)c->limits.max_header_kb * 1024,
		.max_headers = (size_t)c->limits.max_headers,
	};
}

void incoming_free(struct incoming *in)
{
	msg_free(&in->m);
	addr_route_free(&in->route);
	xfree(&in->message_id);
	xfree(&in->sender);
	xfree(&in->sender_name);
	xfree(&in->subject);
	xfree(&in->text);
	xfree(&in->calendar);
}

void incoming_identify(struct incoming *in)
{
	const struct conf *c = in->c;
	char *from;

	in->message_id = msg_message_id(&in->m);
	if (in->message_id == NULL || *in->message_id == '\0') {
		/* From the content, not at random: a post the MTA hands over
		 * again (it never saw our exit) is the same message. */
		char *id = msg_content_id(&in->m);

		free(in->message_id);
		in->message_id = xasprintf("convene.%s@%s", id, c->domain);
		free(id);
		from = xasprintf("<%s>", in->message_id);
		msg_field_set(&in->m, "Message-ID", from);
		free(from);
	}
	from = msg_first_address(&in->m, "From", &in->sender_name);
	if (from == NULL) {
		xfree(&in->sender_name);
		from = msg_first_address(&in->m, "Sender", &in->sender_name);
	}
	if (from != NULL) {
		in->sender = addr_normalize(from, c->local_part_case_sensitive);
		if (in->sender == NULL)
			in->sender = util_lower(xstrdup(from));
		free(from);
	}
	in->subject = msg_header_decoded(&in->m, "Subject");
	log_sanitize(in->logid, sizeof in->logid, in->message_id,
		     strlen(in->message_id));
	if (in->sender != NULL)
		log_sanitize(in->logfrom, sizeof in->logfrom, in->sender,
			     strlen(in->sender));
}

int incoming_init(struct incoming *in, const struct conf *c,
		  const struct conf_list *l, const char *raw, size_t len)
{
	struct msg_limits limits;

	incoming_limits(c, &limits);
	memset(in, 0, sizeof *in);
	in->c = c;
	in->list = l;
	in->raw = raw;
	in->len = len;
	in->route.list = xstrdup(l->name);
	in->route.kind = ADDR_POST;
	if (msg_parse(&in->m, raw, len, &limits, NULL) != MSG_OK) {
		incoming_free(in);
		return -1;
	}
	incoming_identify(in);
	return 0;
}

enum status incoming_store_failure(struct store *s, const struct incoming *in,
				   const char *what)
{
	log_error("list=%s message-id=<%s>: %s: %s; left with the MTA to retry",
		  in->list->name, in->logid, what, store_error(s));
	return ST_TEMPFAIL;
}

enum status incoming_keep(struct store *s, const struct incoming *in,
			  enum incoming_outcome *outcome_r)
{
	const char *kind = addr_kind_name(in->route.kind);
	int64_t message;

	if (store_message_add(s, in->raw, in->len, &message) < 0 ||
	    store_inbox_add(s, in->list->name, kind, in->route.extension,
			    message, in->sender) < 0)
		return incoming_store_failure(s, in, "keep");
	log_info("list=%s message-id=<%s> from=<%s>: kept for the %s "
		 "handler as message %lld", in->list->name, in->logid,
		 in->logfrom, kind, (long long)message);
	*outcome_r = INCOMING_KEPT;
	return ST_OK;
}
