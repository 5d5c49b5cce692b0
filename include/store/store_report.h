/* store_report - what the health report, the nudges and `experts` read:
 * posts and threads by week, unanswered threads and first replies,
 * newcomers, helpers, who answers whom, member events, held posts; the
 * schedules' state of the report and the nudge
 *
 * A thread is answered when a message in it comes from another sender
 * than the one who started it; an answer is an archived reply whose
 * nearest archived ancestor (archive.parent) has another sender.
 * Times are [from, until) in seconds since the epoch. Functions return 0,
 * or -1 with the store's error (store_error, store_transient), like the
 * rest of store.h. None opens a transaction. Arrays handed back are newly
 * allocated and freed with the matching _free function. */
#ifndef CONVENE_STORE_REPORT_H
#define CONVENE_STORE_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct store;

/* Posts (archived messages by date) and new threads (by their first
 * message) of list in the weeks [start + i*7d, start + (i+1)*7d) for i
 * from 0 to nweeks-1, into posts[i] and threads[i] (each nweeks long). */
int store_report_weeks(struct store *s, const char *list, time_t start,
		       size_t nweeks, int64_t *posts, int64_t *threads);

/* A thread of the report. */
struct store_report_thread {
	int64_t id;               /* the thread's id */
	char *subject;            /* of its first message; may be NULL */
	char *sender, *sender_name;   /* who started it; may be NULL */
	time_t first_date;        /* its first message */
	time_t first_reply;       /* the first message of another sender;
				     0: none */
	int64_t messages;
};
void store_report_threads_free(struct store_report_thread **v, size_t n);

/* The threads of list started in [from, until) that nobody but their
 * starter wrote in and that no leader marked resolved, oldest first, at
 * most max; *total_r counts them all. */
int store_report_unanswered(struct store *s, const char *list, time_t from,
			    time_t until, size_t max,
			    struct store_report_thread **v_r, size_t *n_r,
			    int64_t *total_r);
/* Every thread of list started in [from, until) with its first reply
 * (first_reply 0 when none), oldest first. */
int store_report_first_replies(struct store *s, const char *list,
			       time_t from, time_t until,
			       struct store_report_thread **v_r, size_t *n_r);

/* A person of the report. */
struct store_report_person {
	int64_t member;           /* members.id; 0: not a member now */
	char *address, *name;     /* name may be NULL */
	char *other, *other_name; /* store_report_pairs: whom they answer */
	int64_t count;            /* what the function counts */
	time_t joined;            /* store_report_newcomers */
	time_t last_post;         /* store_report_newcomers: 0 when none */
};
void store_report_people_free(struct store_report_person **v, size_t n);

/* The members of list (not pending) who joined at or after `since`, oldest
 * first, with their posts in all (count) and the date of their last. */
int store_report_newcomers(struct store *s, const char *list, time_t since,
			   struct store_report_person **v_r, size_t *n_r);
/* Who answered others most in [from, until): count is their answers; most
 * first, at most max. */
int store_report_helpers(struct store *s, const char *list, time_t from,
			 time_t until, size_t max,
			 struct store_report_person **v_r, size_t *n_r);
/* Who wrote most in [from, until): count is their posts; most first, at
 * most max. *total_r is every post of the period. */
int store_report_posters(struct store *s, const char *list, time_t from,
			 time_t until, size_t max,
			 struct store_report_person **v_r, size_t *n_r,
			 int64_t *total_r);
/* Who answered whom in [from, until): address answered other, count
 * times; most first, at most max. */
int store_report_pairs(struct store *s, const char *list, time_t from,
		       time_t until, size_t max,
		       struct store_report_person **v_r, size_t *n_r);
/* Who started threads in [from, until) and had none of them answered:
 * count is their threads; most first, at most max. */
int store_report_unheard(struct store *s, const char *list, time_t from,
			 time_t until, size_t max,
			 struct store_report_person **v_r, size_t *n_r);
/* Who answered others in thread `thread` of list: count is their
 * answers there (for `experts`). */
int store_report_thread_helpers(struct store *s, const char *list,
				int64_t thread,
				struct store_report_person **v_r,
				size_t *n_r);

/* The address of member `id` of list (newly allocated); NULL when there
 * is none. */
int store_report_member_address(struct store *s, const char *list,
				int64_t id, char **address_r);

/* How many events of `kind` list had in [from, until). */
int store_report_events(struct store *s, const char *list, const char *kind,
			time_t from, time_t until, int64_t *count_r);
/* When list last had an event of `kind` whose detail is `detail`; 0 when
 * never. */
int store_report_event_last(struct store *s, const char *list,
			    const char *kind, const char *detail,
			    time_t *at_r);

/* A held post waiting for a decision. */
struct store_report_hold {
	int64_t id;
	char *sender, *subject;   /* may be NULL */
	time_t held_at;
};
/* The posts of list waiting for a decision, oldest first, at most max;
 * *total_r counts them all. */
int store_report_held(struct store *s, const char *list, size_t max,
		      struct store_report_hold **v_r, size_t *n_r,
		      int64_t *total_r);
void store_report_holds_free(struct store_report_hold **v, size_t n);

/* The state of one of list's timed mails (`kind`: "report", "nudge"):
 * what next_due was computed from (the schedule as written), the next
 * time it is due and when it last went out. *found_r false (and nothing
 * set) when it has none yet. */
struct store_report_state {
	char *schedule;
	time_t next_due;
	time_t last_at;
};
int store_report_state_get(struct store *s, const char *list,
			   const char *kind, struct store_report_state *st,
			   bool *found_r);
int store_report_state_put(struct store *s, const char *list,
			   const char *kind,
			   const struct store_report_state *st);
void store_report_state_clear(struct store_report_state *st);

#endif
