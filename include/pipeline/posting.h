/* posting - the posting policy: what becomes of a post to NAME@ */
#ifndef CONVENE_POSTING_H
#define CONVENE_POSTING_H

struct incoming;
struct store;

enum posting_decision {
	POSTING_ACCEPT,   /* archive and queue it for the members */
	POSTING_HOLD,     /* hold it for the leaders */
	POSTING_DROP,     /* drop it (logged, an event) */
	POSTING_REJECT,   /* refuse it, telling the poster */
};

const char *posting_decision_name(enum posting_decision d);

/* Decides post `in` by the list's rules, in order: our own loop marks,
 * bans (config, then those leaders stored), filters (the first match
 * decides), no sender, size, too many recipients (not for leaders),
 * moderated members, senders a leader answered "always" for, then the
 * policy (open, members, moderated, announce). Reads the store only.
 * Returns 0 with *d_r and *reason_r (static text, or the filter's reason,
 * which lives as long as the config), or -1 on a store failure (the store's
 * error says why). */
int posting_decide(struct store *s, const struct incoming *in,
		   enum posting_decision *d_r, const char **reason_r);

#endif
