/* receive - what happens to one message the MTA hands over
 *
 * Classifies the message by the address it was sent to (post, command,
 * confirmation, bounce, owner mail), hands it to the module that decides,
 * and has the outcome committed in one transaction: it never fans out
 * itself, so accepting a post costs the same for any list size.
 *
 * Two steps, so that a front that takes many messages at once (LMTP) can
 * commit several together: receive_prepare reads one message for one
 * recipient; receive_stage decides and stages its outcome inside a
 * transaction the caller owns. receive_message does both for one message
 * with a transaction of its own (the pipe front). */
#ifndef CONVENE_RECEIVE_H
#define CONVENE_RECEIVE_H

#include <stddef.h>

#include "base/status.h"
#include "pipeline/incoming.h"

struct conf;
struct store;

/* Reads `len` bytes of `raw` (kept by the caller while in is used) sent to
 * `recipient` (NULL: taken from the Delivered-To or X-Original-To field)
 * into a fresh `in`: parsed with the configured limits, routed to its list,
 * its sender and Message-ID read, its MIME structure walked (mime.h) and
 * what the person wrote read (in->text), all before any transaction.
 * Returns ST_OK (free in with incoming_free), ST_NOUSER for an address of
 * no list, ST_TEMPFAIL when there is no recipient at all (a wiring
 * mistake: the MTA keeps the mail), ST_DATAERR for bytes that are not a
 * message convene can accept or are past a MIME limit (in needs no
 * freeing then). Logged. */
enum status receive_prepare(const struct conf *c, const char *recipient,
			    const char *raw, size_t len, struct incoming *in);

/* Whether `recipient` is an address of a configured list (its posting
 * address or any of the others: -request, -owner, -confirm+, -bounces+...),
 * before the message is read: ST_OK, or ST_NOUSER (logged), the answer
 * receive_prepare would give. For a front that answers per recipient
 * (LMTP's RCPT). */
enum status receive_recipient(const struct conf *c, const char *recipient);

/* Decides what becomes of `in` and stages it in s (archive and queue, hold,
 * answers, events), inside the transaction the caller has open: nothing
 * here begins, commits or rolls back. Returns ST_OK with *outcome_r, or
 * ST_TEMPFAIL after a store failure (logged): the caller rolls back and
 * the MTA keeps the message. Every decision is logged with the
 * Message-ID. Staging rewrites `in` for the members: stage it once (after
 * a rollback, prepare the message again). */
enum status receive_stage(struct store *s, struct incoming *in,
			  enum incoming_outcome *outcome_r);

/* The whole of it for one message: prepare, open the database named by c,
 * begin, stage, commit. Returns ST_OK (with *outcome_r), ST_NOUSER,
 * ST_DATAERR, or ST_TEMPFAIL when nothing was committed and the MTA should
 * retry. */
enum status receive_message(const struct conf *c, const char *recipient,
			    const char *raw, size_t len,
			    enum incoming_outcome *outcome_r);

#endif
