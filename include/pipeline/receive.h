/* receive - what happens to one message the MTA hands over
 *
 * Classifies the message by the address it was sent to (post, command,
 * confirmation, bounce, owner mail), decides (accept, hold, drop), and commits
 * the outcome in one transaction: it never fans out itself, so accepting a
 * post costs the same for any list size. */
#ifndef CONVENE_RECEIVE_H
#define CONVENE_RECEIVE_H

#include <stddef.h>

#include "base/status.h"

struct conf;

/* What receive did with a message (for logs and tests). */
enum receive_outcome {
	RECEIVED_ACCEPTED,   /* archived and queued for the members */
	RECEIVED_HELD,       /* kept for the leaders to decide */
	RECEIVED_DROPPED,    /* deliberately dropped (loop, duplicate, ban...) */
	RECEIVED_KEPT,       /* stored for a later handler (commands, bounces) */
	RECEIVED_FORWARDED,  /* owner mail queued to sponsors and leaders */
	RECEIVED_REFUSED,    /* not accepted: the exit status says why */
};

/* Handles `len` bytes of `raw` sent to `recipient` (NULL: taken from the
 * Delivered-To or X-Original-To field). Opens the database named by c.
 * Returns ST_OK (with *outcome_r), ST_NOUSER for an address of no list,
 * ST_DATAERR for input it refuses, ST_TEMPFAIL when nothing was committed
 * and the MTA should retry. Every decision is logged with the Message-ID. */
enum status receive_message(const struct conf *c, const char *recipient,
			    const char *raw, size_t len,
			    enum receive_outcome *outcome_r);

const char *receive_outcome_name(enum receive_outcome o);

#endif
