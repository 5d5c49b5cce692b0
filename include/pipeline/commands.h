/* commands - NAME-request, NAME-subscribe, NAME-unsubscribe, and the
 * subscription requests they start: double opt-in by token, approval by
 * leaders, answers from templates, a rate limit per address */
#ifndef CONVENE_COMMANDS_H
#define CONVENE_COMMANDS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/status.h"
#include "pipeline/incoming.h"

struct conf;
struct conf_list;
struct incoming;
struct store;

/* Handles mail to the list's command addresses: reads the commands, acts,
 * and sends one answer (from templates, rate-limited per address), part of
 * the caller's transaction. Mail from robots (robot.h) is dropped
 * unanswered. ST_OK with *outcome_r, or ST_TEMPFAIL after a store
 * failure. */
enum status commands_handle(struct store *s, struct incoming *in,
			    enum incoming_outcome *outcome_r);

/* A reply to NAME-confirm+TOKEN, part of the caller's transaction. *mine_r
 * tells whether the token is a waiting subscription request of this list
 * (when not: unknown, used, expired, or another list's, nothing changed).
 * ST_OK (with *outcome_r when mine), or ST_TEMPFAIL after a store
 * failure. */
enum status commands_confirm(struct store *s, struct incoming *in,
			     bool *mine_r, enum incoming_outcome *outcome_r);

/* ---- the admin's side (members CLI); each is part of the caller's
 * transaction and returns 0, or -1 on a store failure (the store's error
 * says why) ---- */

/* What an admin's action did. */
enum commands_result {
	COMMANDS_ADDED,
	COMMANDS_INVITED,
	COMMANDS_REMOVED,
	COMMANDS_APPROVED,
	COMMANDS_REJECTED,
	COMMANDS_ALREADY_MEMBER,
	COMMANDS_NOT_MEMBER,
	COMMANDS_NO_SUCH_REQUEST,
	COMMANDS_ALREADY_DECIDED,
	COMMANDS_UNCONFIRMED,     /* waiting for the person's confirmation */
};

/* The words the CLI prints for a result ("added", "already a member",
 * "waiting for the person's confirmation"...): static text. */
const char *commands_result_name(enum commands_result r);
/* What the CLI exits with: ST_OK when it was done or needed no doing,
 * ST_NOUSER for no such request, ST_DATAERR for a request that cannot be
 * decided (decided before, or not yet confirmed). */
enum status commands_result_status(enum commands_result r);

enum commands_add_how {
	COMMANDS_ADD_WELCOME,   /* add and send the welcome message */
	COMMANDS_ADD_QUIET,     /* add, send nothing */
	COMMANDS_ADD_INVITE,    /* send an invitation the person confirms */
};

/* Adds (or invites) address to l: *result_r is COMMANDS_ADDED,
 * COMMANDS_INVITED or COMMANDS_ALREADY_MEMBER. */
int commands_admin_add(struct store *s, const struct conf *c,
		       const struct conf_list *l, const char *address,
		       const char *name, enum commands_add_how how,
		       enum commands_result *result_r);

/* Removes address from l with a member.removed event for `actor`, and
 * says goodbye unless `quiet`: *result_r is COMMANDS_REMOVED or
 * COMMANDS_NOT_MEMBER. */
int commands_admin_remove(struct store *s, const struct conf *c,
			  const struct conf_list *l, const char *address,
			  bool quiet, const char *actor,
			  enum commands_result *result_r);

/* Decides request `id` of l: approve (only once the person confirmed:
 * adds the member and welcomes them) or reject (tells the person).
 * `decider` is recorded. *result_r is COMMANDS_APPROVED,
 * COMMANDS_REJECTED, COMMANDS_NO_SUCH_REQUEST, COMMANDS_ALREADY_DECIDED,
 * COMMANDS_UNCONFIRMED or COMMANDS_ALREADY_MEMBER. */
int commands_decide(struct store *s, const struct conf *c,
		    const struct conf_list *l, int64_t id, bool approve,
		    const char *decider, enum commands_result *result_r);

/* Expires the requests of l past their time, in a transaction of its own.
 * 0, or -1 on a store failure. */
int commands_expire(struct store *s, const struct conf_list *l);

#endif
