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

/* The relay refused `address` for good (a 5xx answer to RCPT) while
 * delivering list mail: a hard bounce for that member of list, scored as
 * a report would be, part of the caller's transaction. 0, or -1 on a store
 * failure. Addresses that are not members are ignored. */
int bounce_delivery_failure(struct store *s, const struct conf *c,
			    const char *list, const char *address, int code);

/* The timed part, for the worker's every pass: scores of quiet members
 * decay, due probes go out, members past the last probe are removed (and
 * the leaders told). One transaction per list. Returns 0, or -1 after
 * logging a store failure (the next pass tries again). */
int bounce_pass(const struct conf *c, struct store *s);

/* VERP. The return path for `member` of list `list` at the lists' domain:
 * LIST-bounces+ENCODED@DOMAIN, ENCODED being the member's local part, '=',
 * its domain ("bob=example.net"). In the local part every byte other than
 * a letter, digit, '.', '-', '_' or '+' (so '=' itself too, and the
 * characters of a quoted local part) is written "=XX" with two hex digits:
 * the domain never holds '=', so the last '=' always starts it, and the
 * encoding is unambiguous. Newly allocated; NULL when member is not a
 * valid address or its domain is an address literal. */
char *bounce_verp_encode(const char *list, const char *member,
			 const char *domain);

/* Decodes ENCODED (the extension of a bounce address, as addr_route gives
 * it) back into the member address, normalised as addr_normalize does with
 * case_sensitive. Tolerates what MTAs do to local parts: a changed case
 * (hex digits in either case, domain lower-cased), surrounding quotes or
 * angle brackets, white space. Returns 0 and *member_r (newly allocated),
 * or -1 when it is not an encoded address. */
int bounce_verp_decode(const char *encoded, bool case_sensitive,
		       char **member_r);

#endif
