/* store_bounces - bounce events, scores, probes (the store's bounce tables)
 *
 * Same conventions as store.h: 0 on success, -1 with the store's error
 * (store_error, store_transient). Addresses are members' stored addresses
 * (normalised); a member's state row goes when the member goes. */
#ifndef CONVENE_STORE_BOUNCES_H
#define CONVENE_STORE_BOUNCES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct store;

/* The member address of list equal to `address` ignoring case (for reports
 * from MTAs that change the case); newly allocated in *member_r, NULL when
 * there is none. */
int store_bounce_find_member(struct store *s, const char *list,
			     const char *address, char **member_r);

/* One bounce as it arrived, for the record ("hard" or "soft"). */
int store_bounce_event_add(struct store *s, const char *list,
			   const char *address, const char *severity,
			   const char *status, double scored, time_t at);

/* What scoring needs to know about a member's past bounces. */
struct store_bounce_info {
	int64_t last_day;        /* UTC day last scored; -1 when never */
	double last_weight;      /* the weight scored on that day */
	time_t last_bounce_at;   /* 0 when never */
	int probes;              /* probes sent since delivery was disabled */
	time_t next_probe_at;    /* 0 when none is due */
};
/* *found_r false (and b cleared) when the member has no bounce record. */
int store_bounce_info_get(struct store *s, const char *list,
			  const char *address, struct store_bounce_info *b,
			  bool *found_r);
/* Sets the member's score and remembers the day and weight scored. */
int store_bounce_scored(struct store *s, const char *list,
			const char *address, double score, int64_t day,
			double weight, time_t at);
/* Disables delivery to the member: status disabled, the probe token, the
 * first probe counted, the next one due at next_probe_at. */
int store_bounce_disable(struct store *s, const char *list,
			 const char *address, const char *token, time_t now,
			 time_t next_probe_at);
/* Counts one more probe sent; the next one due at next_probe_at. */
int store_bounce_probe_sent(struct store *s, const char *list,
			    const char *address, time_t next_probe_at);
/* Re-enables delivery: status active, score 0, bounce record forgotten.
 * *found_r false when not a member. */
int store_bounce_enable(struct store *s, const char *list,
			const char *address, bool *found_r);
/* The member whose probe token of list is `token` (newly allocated), or
 * NULL. */
int store_bounce_token_member(struct store *s, const char *list,
			      const char *token, char **member_r);

/* Disabled members whose next probe is due. */
struct store_bounce_due {
	char *address;
	char *token;
	int probes;
	double score;
};
/* Up to max of list's members due at now; free with store_bounce_due_free. */
int store_bounce_due_list(struct store *s, const char *list, time_t now,
			  size_t max, struct store_bounce_due **v_r,
			  size_t *n_r);
void store_bounce_due_free(struct store_bounce_due **v, size_t n);

/* Scores of active members of list whose last bounce is before `quiet`
 * go back to 0, and their records are forgotten; *n_r counts them. */
int store_bounce_decay(struct store *s, const char *list, time_t quiet,
		       int64_t *n_r);

#endif
