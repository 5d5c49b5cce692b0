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

#include "pipeline/receive.h"
#include "base/status.h"

struct conf;
struct incoming;
struct store;

/* Handles mail to NAME-bounces and NAME-bounces+ENCODED. Never answers. */
enum status bounce_handle(struct store *s, struct incoming *in,
			  enum receive_outcome *outcome_r);

/* A reply to NAME-confirm+TOKEN: 1 when the token is a bounce probe's (the
 * member re-enables delivery), 0 when it is not. */
int bounce_confirm(struct store *s, struct incoming *in, enum status *st_r,
		   enum receive_outcome *outcome_r);

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
