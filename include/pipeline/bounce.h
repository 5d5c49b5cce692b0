/* bounce - NAME-bounces: delivery reports, scores, probes
 *
 * Mail to NAME-bounces@ and NAME-bounces+ENCODED@ is read as a delivery
 * report (see dsn.h) and never answered. A bounce counts against the member
 * it names (the VERP address first, else the report's recipients): a hard
 * bounce adds 1 to the score, a soft one the list's bounces.soft_weight, at
 * most one score per UTC day (the day's worst), and a score goes back to 0
 * after bounces.decay_after without bounces. At bounces.threshold delivery
 * is disabled, the member gets a probe whose Reply-To is
 * NAME-confirm+TOKEN@ (a reply re-enables), and the leaders a notice; after
 * bounces.probes unanswered probes, bounces.probe_interval apart, the
 * member is removed and the leaders told. Auto-replies, feedback reports
 * and bounces for non-members are logged and dropped. */
#ifndef CONVENE_BOUNCE_H
#define CONVENE_BOUNCE_H

#include <stdbool.h>

#include "base/status.h"
#include "pipeline/incoming.h"

struct conf;
struct conf_list;
struct store;

/* Handles mail to NAME-bounces and NAME-bounces+ENCODED, part of the
 * caller's transaction. Never answers. ST_OK with *outcome_r, or
 * ST_TEMPFAIL after a store failure. */
enum status bounce_handle(struct store *s, struct incoming *in,
			  enum incoming_outcome *outcome_r);

/* A reply to NAME-confirm+TOKEN, part of the caller's transaction:
 * *mine_r when the token is a bounce probe's (the member's delivery is
 * re-enabled). ST_OK, or ST_TEMPFAIL after a store failure. */
enum status bounce_confirm(struct store *s, struct incoming *in,
			   bool *mine_r, enum incoming_outcome *outcome_r);

/* Turns delivery back on for member `address` of l (its score and probes
 * forgotten) with a bounce.enabled event saying `why`, part of the
 * caller's transaction. *found_r false when it is no member (or a pending
 * one). 0, or -1 on a store failure. */
int bounce_enable(struct store *s, const struct conf_list *l,
		  const char *address, const char *why, bool *found_r);

/* Scores the refusals Delivery recorded (store_failure_add: the relay
 * refused a member for good while delivering list mail): each is a hard
 * bounce for that member of its list, scored as a report would be. One
 * transaction per batch; failures of lists no longer configured and of
 * addresses that are not members are forgotten unscored. Returns 0, or -1
 * after logging a store failure (the next pass tries again). */
int bounce_score_failures(const struct conf *c, struct store *s);

/* The timed part, for the worker's every pass: scores of quiet members
 * decay, due probes go out, members past the last probe are removed (and
 * the leaders told). One transaction per list. Returns 0, or -1 after
 * logging a store failure (the next pass tries again). */
int bounce_pass(const struct conf *c, struct store *s);

#endif
