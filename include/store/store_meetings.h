/* store_meetings - meetings, RSVPs and the reminders already sent
 *
 * Conventions as in store.h: 0 or -1 with the store's error; part of the
 * caller's transaction. */
#ifndef CONVENE_STORE_MEETINGS_H
#define CONVENE_STORE_MEETINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct store;
struct store_job_new;

enum store_meeting_state { MEETING_SCHEDULED, MEETING_CANCELLED };

struct store_meeting {
	int64_t id;
	char *list;
	char *uid;           /* the iCalendar UID, for the life of the meeting */
	char *message_id;    /* the invitation's: the root of its thread */
	int sequence;        /* iCalendar SEQUENCE: +1 per update or cancel */
	enum store_meeting_state state;
	char *title;
	time_t starts_at;    /* the first occurrence */
	long duration;       /* seconds */
	char *timezone;      /* tz name, or "UTC" */
	char *rrule;         /* NULL: once */
	char *location, *url, *agenda;   /* may be NULL */
	long capacity;       /* 0: no limit */
	char *organizer;     /* the leader who scheduled it */
	int64_t archive;     /* the invitation in the archive (0: none) */
	int64_t minutes;     /* the latest minutes in the archive (0: none) */
	time_t created_at;
	time_t invited_at;   /* when the last invitation or update went out */
};
void store_meeting_clear(struct store_meeting *m);
const char *store_meeting_state_name(enum store_meeting_state st);

/* Adds m (its id, created_at and invited_at are set here); *id_r. */
int store_meeting_add(struct store *s, struct store_meeting *m,
		      int64_t *id_r);
/* Writes every field of m back to its row (by m->id). */
int store_meeting_save(struct store *s, const struct store_meeting *m);
/* Meeting id of any list; *found_r false when none (m untouched). */
int store_meeting_get(struct store *s, int64_t id, struct store_meeting *m,
		      bool *found_r);
/* The meeting of list whose invitation's thread holds the archived post
 * with Message-ID message_id; *found_r false when none. */
int store_meeting_by_thread(struct store *s, const char *list,
			    const char *message_id, struct store_meeting *m,
			    bool *found_r);
/* Calls fn for each meeting of list (NULL: of every list) in id order;
 * with scheduled_only, only those not cancelled. Stops when fn returns
 * non-zero and returns that value. fn may use the store. */
int store_meeting_foreach(struct store *s, const char *list,
			  bool scheduled_only,
			  int (*fn)(const struct store_meeting *m, void *ctx),
			  void *ctx);

/* ---- RSVPs: one answer per address and meeting, the latest ---- */

enum store_rsvp {
	RSVP_NONE,       /* no answer (never stored) */
	RSVP_GOING,      /* yes, with a place */
	RSVP_WAITING,    /* yes, on the wait list */
	RSVP_MAYBE,
	RSVP_DECLINED,
};
const char *store_rsvp_name(enum store_rsvp r);

/* The answer of address to meeting (RSVP_NONE when none). */
int store_rsvp_get(struct store *s, int64_t meeting, const char *address,
		   enum store_rsvp *r_r);
/* Records the answer (replacing an earlier one). Someone who joins the
 * wait list goes to its end; someone already on it keeps their place.
 * `via` says how it came ("calendar", "mail", "wait list");
 * message_id the mail that brought it (NULL keeps the one recorded).
 * -1 on a store failure. */
int store_rsvp_set(struct store *s, int64_t meeting, const char *address,
		   enum store_rsvp r, const char *via, const char *message_id,
		   time_t at);
/* *seen_r: whether address's answer on record came in the mail
 * message_id (the MTA handed it over again); false for a NULL
 * message_id. -1 on a store failure. */
int store_rsvp_seen(struct store *s, int64_t meeting, const char *address,
		    const char *message_id, bool *seen_r);

struct store_rsvp_counts {
	int64_t going, waiting, maybe, declined;
};
int store_rsvp_counts(struct store *s, int64_t meeting,
		      struct store_rsvp_counts *c_r);
/* The first on the wait list; *address_r newly allocated, NULL when the
 * list is empty. */
int store_rsvp_first_waiting(struct store *s, int64_t meeting,
			     char **address_r);
/* address's place on the wait list (1 for the first; 0 when not on it). */
int store_rsvp_position(struct store *s, int64_t meeting,
			const char *address, int64_t *pos_r);

struct store_rsvp_row {
	const char *address;
	enum store_rsvp rsvp;
	int64_t position;    /* on the wait list, else 0 */
	time_t answered_at;
	const char *via;
};
/* Calls fn for each answer of meeting: going, waiting (in wait-list
 * order), maybe, declined, by address within each. Stops when fn returns
 * non-zero and returns that value. */
int store_rsvp_foreach(struct store *s, int64_t meeting,
		       int (*fn)(const struct store_rsvp_row *r, void *ctx),
		       void *ctx);
/* The members of list who get mail and have not answered meeting. */
int store_rsvp_unanswered(struct store *s, int64_t meeting, const char *list,
			  int64_t *n_r);
/* The addresses that answered yes or maybe to meeting but are no longer
 * members of list who get mail (for updates and cancellations: everyone
 * invited hears of them). Newly allocated; free with store_strv_free. At
 * most max. */
int store_rsvp_outsiders(struct store *s, int64_t meeting, const char *list,
			 size_t max, char ***addrs_r, size_t *n_r);

/* ---- reminders and summaries: each once ---- */

/* Takes the notice `kind` ("reminder", "summary") with lead time `lead`
 * (seconds) for the occurrence of meeting starting at `occurrence`: *taken_r
 * true the first time only. `sent` false records one that was skipped. */
int store_meeting_notice_take(struct store *s, int64_t meeting,
			      time_t occurrence, const char *kind, long lead,
			      bool sent, time_t now, bool *taken_r);

/* Queues j (a JOB_DIRECT without recipients of its own) to every member
 * of the list who gets mail and has not declined meeting, in one
 * statement (memory stays flat). *n_r counts them. */
int store_meeting_queue_reminder(struct store *s, int64_t meeting,
				 const struct store_job_new *j,
				 int64_t *job_r, int64_t *n_r);

#endif
