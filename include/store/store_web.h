/* store_web - what the web archive and one-click unsubscribe keep: how far
 * each list's pages are rendered, which thread pages exist, the month
 * counts, and what a member's one-click token is made from
 *
 * Functions return 0, or -1 with the store's error (store_error,
 * store_transient), like the rest of store.h. None opens a transaction.
 * Arrays handed back are newly allocated; free them with free() unless a
 * _free function is named. */
#ifndef CONVENE_STORE_WEB_H
#define CONVENE_STORE_WEB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct store;

/* ---- one-click tokens ---- */

/* A token names a membership: the member's row and a salt that a new row
 * gets at random when it is made (by a trigger, whatever makes the row),
 * so that a token stops working when the member leaves and does not work
 * again when the same address joins again. */

/* The membership of `address` in list: *id_r and *salt_r; *found_r false
 * when it is not a member. */
int store_web_member_token(struct store *s, const char *list,
			   const char *address, int64_t *id_r,
			   int64_t *salt_r, bool *found_r);
/* Member row `id`: its list, address (newly allocated) and salt; *found_r
 * false when there is no such row. */
int store_web_member_by_id(struct store *s, int64_t id, char **list_r,
			   char **address_r, int64_t *salt_r, bool *found_r);

/* ---- how far a list's pages are rendered ---- */

struct store_web_state {
	int64_t archive_done;   /* archive rows up to this id are on pages */
	int64_t events_done;    /* curation events up to this id too */
	time_t rendered_at;
};
/* *found_r false when the list's pages were never rendered (or were
 * forgotten: store_web_forget). */
int store_web_state_get(struct store *s, const char *list,
			struct store_web_state *st, bool *found_r);
int store_web_state_set(struct store *s, const char *list,
			const struct store_web_state *st);
/* Forgets list's state, so that the next pass renders every page again
 * (after the archive was threaded anew). */
int store_web_forget(struct store *s, const char *list);
/* The newest archive row of list and the newest event (of any list): 0
 * when none. */
int store_web_newest(struct store *s, const char *list, int64_t *archive_r,
		     int64_t *event_r);

/* An archived message, as rendering walks them. */
struct store_web_row {
	int64_t id, thread;
	time_t date;
};
/* List's archive rows with after < id <= upto in id order, at most max. */
int store_web_rows_after(struct store *s, const char *list, int64_t after,
			 int64_t upto, size_t max, struct store_web_row **v_r,
			 size_t *n_r);
/* List's archive rows dated from <= date < until, by date then id. */
int store_web_rows_dated(struct store *s, const char *list, time_t from,
			 time_t until, struct store_web_row **v_r,
			 size_t *n_r);

/* A curation event (archive.faq, archive.resolved, archive.tag). */
struct store_web_event {
	int64_t id, ref;
	char kind[24];
};
/* List's curation events with after < id <= upto, in id order, at most
 * max. */
int store_web_events_after(struct store *s, const char *list, int64_t after,
			   int64_t upto, size_t max,
			   struct store_web_event **v_r, size_t *n_r);

/* ---- thread pages written ---- */

/* Remembers that thread `thread` of list has a page. */
int store_web_thread_written(struct store *s, const char *list,
			     int64_t thread);
/* The threads of list that have a page but exist no more (merged into
 * another), at most max. */
int store_web_threads_gone(struct store *s, const char *list, size_t max,
			   int64_t **v_r, size_t *n_r);
int store_web_thread_forget(struct store *s, const char *list,
			    int64_t thread);

/* ---- months ---- */

struct store_web_month {
	char month[8];          /* "YYYY-MM", UTC */
	int64_t messages;
};
/* Keeps n as the number of list's messages in `month` (removed when 0). */
int store_web_month_set(struct store *s, const char *list, const char *month,
			int64_t n);
/* Counts every month of list's archive afresh (a whole render). */
int store_web_months_recount(struct store *s, const char *list);
/* The months kept, newest first. */
int store_web_months(struct store *s, const char *list,
		     struct store_web_month **v_r, size_t *n_r);

#endif
