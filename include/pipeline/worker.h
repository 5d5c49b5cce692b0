/* worker - the timed work of the worker (`convene run`): everything the
 * Pipeline does on the clock rather than for an incoming message */
#ifndef CONVENE_WORKER_H
#define CONVENE_WORKER_H

#include <stdbool.h>

struct conf;
struct store;

/* One timed pass: scores the delivery failures Delivery recorded, expires
 * holds past their time (telling the posters), decays quiet bounce scores,
 * sends due bounce probes and removes members past their last probe,
 * assembles the digest issues that are due or full, sends the health
 * reports and nudges that are due, closes the polls whose time came,
 * brings the web archive's pages up to date (render.h) and queues the
 * meeting reminders and headcounts that are due. Each step commits its own transactions; a step that fails is logged and the
 * others still run (the next pass tries again). The worker calls it before
 * its delivery pass (run --once) and once a minute (the daemon). Returns 0,
 * or -1 when a step failed. */
int worker_timed_pass(const struct conf *c, struct store *s);

/* Between two delivery passes of the daemon: threads and indexes the posts
 * accepted meanwhile (archive_catch_up), at most a few hundred, when the
 * delivery pass found nothing to do (`idle`) or the queue has grown past a
 * thousand; during a burst the catch-up would hold the write lock that
 * each arriving post needs, and whatever reads threads or the index
 * catches up itself. Returns 0, or -1 (logged). */
int worker_between_passes(const struct conf *c, struct store *s, bool idle);

#endif
