/* incoming - one message being decided on, shared by the pipeline modules
 * (posts, moderation, commands, bounces). Filled by receive. */
#ifndef CONVENE_INCOMING_H
#define CONVENE_INCOMING_H

#include <stddef.h>
#include <stdint.h>

#include "base/addr.h"
#include "mail/msg.h"
#include "pipeline/receive.h"
#include "base/status.h"

struct conf;
struct conf_list;
struct store;

struct incoming {
	const struct conf *c;
	const struct conf_list *list;
	struct addr_route route;  /* what address it came to */
	const char *raw;          /* the bytes as received */
	size_t len;
	struct msg m;             /* parsed */
	char *message_id;         /* without brackets; synthesised when absent */
	char *sender;             /* From (or Sender) address, normalised; may
				     be NULL */
	char *sender_name;
	char *subject;            /* decoded to UTF-8; may be NULL */
	char logid[160];          /* sanitised Message-ID for log lines */
	char logfrom[160];        /* sanitised sender for log lines */
};

/* Fills a fresh `in` for a post to list l from raw bytes (kept by the
 * caller while in is used): parses them with the configured limits and sets
 * Message-ID, sender, subject. Returns 0, or -1 when the bytes are not a
 * message (in is then freed). Free with incoming_free. */
int incoming_init(struct incoming *in, const struct conf *c,
		  const struct conf_list *l, const char *raw, size_t len);
void incoming_free(struct incoming *in);

/* The accept path of a post, as for a member's: footer and header rewrite,
 * archive, queue one delivery job to the members, a post.accepted event.
 * Part of the caller's open transaction (no commit). Returns 0 with the
 * archive row and job, or -1 (the store's error). */
int receive_accept(struct store *s, struct incoming *in, int64_t message,
		   int64_t *archive_r, int64_t *job_r);

/* Logs a store failure for in, rolls back, and returns ST_TEMPFAIL so that
 * the MTA keeps the message. */
enum status incoming_store_failure(struct store *s, struct incoming *in,
				   const char *what);

/* Keeps the message whole in the inbox for a later handler, and commits.
 * (Used for mail a handler stores rather than acts on.) */
enum status incoming_keep(struct store *s, struct incoming *in,
			  enum receive_outcome *outcome_r);

#endif
