/* meeting - a list's meetings
 *
 * Leaders (and the council where meetings.council_may_schedule) schedule,
 * update and cancel meetings by mail to NAME-request ("meeting" with
 * "key: value" lines, or an .ics attached) or with `convene meeting`.
 * Every member who gets mail receives an iMIP invitation (RFC 6047: the
 * text beside a text/calendar part that calendars show with Accept and
 * Decline) whose ORGANIZER is NAME-rsvp+ID@DOMAIN and whose ATTENDEE is
 * the member: one delivery job with per-recipient content. The invitation
 * is archived as the root of the meeting's thread; updates (SEQUENCE + 1)
 * and cancellations (METHOD:CANCEL) go to everyone invited and into the
 * thread.
 *
 * Answers come to NAME-rsvp+ID: a calendar's REPLY (PARTSTAT ACCEPTED,
 * DECLINED, TENTATIVE) or a plain reply whose first word is yes, no or
 * maybe. Only a member's answer counts, one per member (the latest), and
 * a calendar's only for the attendee it names, for this meeting's UID.
 * Over the meeting's capacity a yes goes to the wait list, which moves up
 * when someone with a place says no. The member is told what was
 * recorded. Reminders go at the list's lead times to the members who did
 * not decline, and the leaders get the headcount before the meeting, each
 * once. A leader's "minutes" (a reply in the meeting's thread, to
 * NAME-rsvp+ID, or "minutes ID" to NAME-request) is archived in the
 * thread and sent to the list. */
#ifndef CONVENE_MEETING_H
#define CONVENE_MEETING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "pipeline/incoming.h"
#include "base/status.h"

struct buf;
struct conf;
struct conf_list;
struct incoming;
struct notice_vars;
struct request_cmd;
struct store;
struct store_meeting;

/* What a leader asks for (all newly allocated; NULL, 0 or -1: not given).
 * The keys, in mail ("key: value") and on the command line (key=value):
 * title, when ("YYYY-MM-DD HH:MM" in the zone), duration ("90m"),
 * timezone, where, url, agenda, capacity (0: no limit), repeat ("weekly",
 * "daily", "biweekly", "monthly", "every N weeks", then "N times" or
 * "until YYYY-MM-DD"; "none" stops). "-" clears where, url and agenda. */
struct meeting_spec {
	char *title, *when, *timezone, *where, *url, *agenda, *repeat;
	char *rrule;        /* a RECUR value, from an .ics */
	time_t start;       /* an instant, from an .ics */
	long duration;      /* seconds */
	long capacity;      /* -1: not given */
	size_t given;       /* settings read */
};
void meeting_spec_init(struct meeting_spec *sp);
void meeting_spec_clear(struct meeting_spec *sp);

/* A problem (*problem_r below) is the key of the line of template
 * answer-lines that tells the leader why nothing was done (static text);
 * meeting_problem_text renders it. */

/* Reads one setting. Returns 0, 1 when key is no meeting key (nothing
 * read), or -1 with *problem_r for a bad value. */
int meeting_spec_set(struct meeting_spec *sp, const char *key,
		     const char *value, const char **problem_r);
/* Reads the "key: value" lines of a leader's mail text (the lines after
 * an agenda line that are not settings continue the agenda; reading
 * stops at a signature or quoted text). Returns 0, or -1 with *problem_r
 * at the first bad value. */
int meeting_spec_read(struct meeting_spec *sp, const char *text,
		      const char **problem_r);
/* Reads an .ics (its first VEVENT): title, start, duration, zone, where,
 * url, agenda, repeat. Returns 0, or -1 with *problem_r. */
int meeting_spec_ics(struct meeting_spec *sp, const char *text, size_t len,
		     const char *default_tz, const char **problem_r);

/* The three return a 0 when done, 1 when refused (*problem_r says why: a
 * bad or missing setting, an unknown meeting), -1 on a store failure.
 * All are part of the caller's transaction. */

/* Schedules a meeting of l for `organizer` and invites every member who
 * gets mail; *id_r. */
int meeting_schedule(struct store *s, const struct conf *c,
		     const struct conf_list *l, const struct meeting_spec *sp,
		     const char *organizer, int64_t *id_r,
		     const char **problem_r);
/* Changes meeting id of l as sp says (settings not given stay) and sends
 * the update (SEQUENCE + 1) to everyone invited. A higher capacity moves
 * the wait list up. */
int meeting_update(struct store *s, const struct conf *c,
		   const struct conf_list *l, int64_t id,
		   const struct meeting_spec *sp, const char *actor,
		   const char **problem_r);
/* Cancels meeting id of l and tells everyone invited (METHOD:CANCEL). */
int meeting_cancel(struct store *s, const struct conf *c,
		   const struct conf_list *l, int64_t id, const char *actor,
		   const char **problem_r);

/* Appends the text of problem (for meeting id of l; 0 when there is
 * none yet) to out, with a newline. Returns 0, or -1 (logged, "[key]"
 * appended) when the template has no such line. */
int meeting_problem_text(const struct conf *c, const struct conf_list *l,
			 const char *problem, int64_t id, struct buf *out);

/* The headcount of meeting m of list l. */
struct meeting_headcount {
	int64_t going, waiting, maybe, declined;
	int64_t unanswered;   /* members who get mail and did not answer */
};
int meeting_headcount(struct store *s, const struct conf_list *l,
		      const struct store_meeting *m,
		      struct meeting_headcount *h);

/* Mail to NAME-rsvp+ID: an answer (or a leader's minutes), part of the
 * caller's transaction. Anything that is not a member's answer to this
 * meeting of this list changes nothing and is logged. ST_OK with
 * *outcome_r, or ST_TEMPFAIL after a store failure. */
enum status meeting_rsvp_handle(struct store *s, struct incoming *in,
				enum incoming_outcome *outcome_r);

/* A post to NAME@, part of receive's transaction: when a leader's post in
 * a meeting's thread starts with "minutes", sends it as that meeting's
 * minutes and returns 1 (with *st_r and *outcome_r); returns 0 (nothing
 * done) for any other post. */
int meeting_minutes_post(struct store *s, struct incoming *in,
			 enum status *st_r, enum incoming_outcome *outcome_r);

/* A "meeting", "minutes" or "rsvps" command of a mail to NAME-request,
 * inside the transaction commands_handle has open: acts when the sender
 * may lead meetings, sets the answer's placeholders in v and *phrase_r
 * (the key of the answer-lines phrase that says what happened); lines
 * that follow the phrase (the headcount) go to `more`. Returns 0, or -1
 * on a store failure. */
int meeting_command(struct store *s, struct incoming *in,
		    const struct request_cmd *cmd, struct notice_vars *v,
		    const char **phrase_r, struct buf *more);

/* The timed part, for the worker's pass: the reminders and the leaders'
 * headcount that are due for the next occurrence of each meeting, each
 * once (one skipped when a later one is due too, or when its time passed
 * before the invitation went out). One transaction per meeting. Returns 0,
 * or -1 after logging a store failure (the next pass tries again). */
int meeting_timed_pass(const struct conf *c, struct store *s);

#endif
