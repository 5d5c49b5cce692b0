/* incoming - one message being decided on, shared by the pipeline modules
 * (receive, posting, post, moderation, commands, bounces). Filled by
 * receive (or by incoming_init for a stored post). */
#ifndef CONVENE_INCOMING_H
#define CONVENE_INCOMING_H

#include <stddef.h>
#include <stdint.h>

#include "base/addr.h"
#include "base/status.h"
#include "mail/msg.h"

struct conf;
struct conf_list;
struct store;

/* What became of a message (for logs and tests). */
enum incoming_outcome {
	INCOMING_ACCEPTED,   /* archived and queued, or acted on */
	INCOMING_HELD,       /* kept for the leaders to decide */
	INCOMING_DROPPED,    /* deliberately dropped (loop, duplicate, ban...) */
	INCOMING_KEPT,       /* stored for a later handler or a human */
	INCOMING_FORWARDED,  /* owner mail queued to sponsors and leaders */
	INCOMING_REFUSED,    /* not accepted: the exit status says why */
};

const char *incoming_outcome_name(enum incoming_outcome o);

struct incoming {
	const struct conf *c;
	const struct conf_list *list;
	struct addr_route route;  /* what address it came to */
	const char *raw;          /* the bytes as received (borrowed) */
	size_t len;
	struct msg m;             /* parsed */
	char *message_id;         /* without brackets; derived from the
				     content when absent (msg_content_id) */
	char *sender;             /* From (or Sender) address, normalised; may
				     be NULL */
	char *sender_name;
	char *subject;            /* decoded to UTF-8; may be NULL */
	char *text;               /* what the person wrote (reply_text with
				     the configured MIME limits), read before
				     any transaction is open; NULL when there
				     is none (and from incoming_init) */
	const char *text_of;      /* the raw bytes text was read from (NULL:
				     text was not read) */
	char *calendar;           /* the first calendar of mail to the request
				     and answer addresses (reply_calendar),
				     read before any transaction is open;
				     NULL when there is none */
	char logid[160];          /* sanitised Message-ID for log lines */
	char logfrom[160];        /* sanitised sender for log lines */
};

/* The limits every message is parsed with (the config's). */
void incoming_limits(const struct conf *c, struct msg_limits *lim_r);

/* Fills a fresh `in` for a post to list l from raw bytes (kept by the
 * caller while in is used): parses them with the configured limits and sets
 * Message-ID, sender, subject. Returns 0, or -1 when the bytes are not a
 * message (in is then freed). Free with incoming_free. */
int incoming_init(struct incoming *in, const struct conf *c,
		  const struct conf_list *l, const char *raw, size_t len);

/* Sets Message-ID (synthesising one when absent, also into the message),
 * sender, subject and the log forms of an `in` whose c and m are filled. */
void incoming_identify(struct incoming *in);
void incoming_free(struct incoming *in);

/* Logs a store failure for in ("what" failed; the store's error says how)
 * and returns ST_TEMPFAIL, so that the MTA keeps the message. The
 * transaction is left for its owner to roll back. */
enum status incoming_store_failure(struct store *s, const struct incoming *in,
				   const char *what);

/* Keeps the message whole in the inbox for a later handler or a human,
 * part of the caller's transaction. ST_OK with *outcome_r INCOMING_KEPT,
 * or ST_TEMPFAIL after a store failure. */
enum status incoming_keep(struct store *s, const struct incoming *in,
			  enum incoming_outcome *outcome_r);

#endif
