/* commands - NAME-request, NAME-subscribe, NAME-unsubscribe, and the
 * subscription requests they start: double opt-in by token, approval by
 * leaders, answers from templates, a rate limit per address */
#ifndef CONVENE_COMMANDS_H
#define CONVENE_COMMANDS_H

#include <stdbool.h>
#include <stdint.h>

#include "pipeline/receive.h"
#include "base/status.h"

struct conf;
struct conf_list;
struct incoming;
struct store;

/* Handles mail to the list's command addresses: reads the commands, acts,
 * and sends one answer (from templates, rate-limited per address), all in
 * one transaction. Mail from auto-responders, lists and bounces is dropped
 * unanswered. */
enum status commands_handle(struct store *s, struct incoming *in,
			    enum receive_outcome *outcome_r);

/* A reply to NAME-confirm+TOKEN: returns 1 (with *st_r and *outcome_r set)
 * when the token is a waiting subscription request of this list, 0 when it
 * is not (unknown, used, expired, or another list's): then nothing changed. */
int commands_confirm(struct store *s, struct incoming *in, enum status *st_r,
		     enum receive_outcome *outcome_r);

/* ---- the admin's side (members CLI); each is part of the caller's
 * transaction and returns 0, or -1 with the store's error ---- */

enum commands_add_how {
	COMMANDS_ADD_WELCOME,   /* add and send the welcome message */
	COMMANDS_ADD_QUIET,     /* add, send nothing */
	COMMANDS_ADD_INVITE,    /* send an invitation the person confirms */
};

/* Adds (or invites) address to l. *result_r is static text: "added",
 * "already a member", "invited". */
int commands_admin_add(struct store *s, const struct conf *c,
		       const struct conf_list *l, const char *address,
		       const char *name, enum commands_add_how how,
		       const char **result_r);

/* Decides request `id` of l: approve (only once the person confirmed:
 * adds the member and welcomes them) or reject (tells the person).
 * `decider` is recorded. *result_r is static text: "approved",
 * "rejected", "no such request", "already decided", "waiting for the
 * person's confirmation", "already a member". */
int commands_decide(struct store *s, const struct conf *c,
		    const struct conf_list *l, int64_t id, bool approve,
		    const char *decider, const char **result_r);

#endif
