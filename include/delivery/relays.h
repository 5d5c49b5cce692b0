/* relays - which of several relays takes the next transaction
 *
 * With outbound.relays, a job's transactions are spread over the relays by
 * weight (smooth weighted round-robin: with weights 1 and 3, of every four
 * transactions one goes to the first relay and three to the second, evenly
 * interleaved). A relay that refuses the connection, times out or drops the
 * session is skipped for outbound.relay_skip, and its share goes to the
 * others; then it gets its turn again. One `struct relays` is shared by all
 * the sessions of a worker (it locks itself), so that what one session learns
 * about a relay the others know at once. */
#ifndef CONVENE_RELAYS_H
#define CONVENE_RELAYS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct conf;
struct relays;

/* The relay set of c->outbound.relays, or NULL when none is configured.
 * Free with relays_free. */
struct relays *relays_new(const struct conf *c);
void relays_free(struct relays **r);

/* How many relays there are. */
size_t relays_count(const struct relays *r);
/* "host:port" of relay i (borrowed; lives as long as r). */
const char *relays_name(const struct relays *r, size_t i);

/* The relay for the next transaction at time `now`, never one whose bit is
 * set in `tried` (relays already tried for this transaction; bit i for relay
 * i, so at most 64 relays take part). Returns the index, or -1 when every
 * relay not yet tried is being skipped. */
int relays_pick(struct relays *r, time_t now, unsigned long long tried);

/* Relay i refused, timed out or dropped the session at `now`: skipped until
 * now + relay_skip. Returns true when it was not already being skipped (so
 * that the caller logs the change once). */
bool relays_failed(struct relays *r, size_t i, time_t now);
/* Relay i completed a transaction: no longer skipped. Returns true when it
 * was being skipped before. */
bool relays_ok(struct relays *r, size_t i);

/* Seconds left before relay i is tried again at `now` (0: not skipped). */
long relays_skipped_for(struct relays *r, size_t i, time_t now);

#endif
