/* report - how a community is doing, told to the people who tend it, and
 * what they can do about it by reply
 *
 * The health report (weekly by mail to the sponsors, leaders and council,
 * and `convene report LIST`): posts and new threads a week with a trend
 * line and the dwindling alert, threads still unanswered, the time to a
 * first answer, newcomers, helpers and how much the most active members
 * carry, who answers whom, members' comings and goings, held posts. Its
 * text part has sparklines; its HTML part an inline PNG chart
 * (base/chart). The nudge: a short daily note to the leaders listing the
 * threads whose wait for an answer passed the list's time in the last 7
 * days. Leaders act by reply (or by mail to NAME-request): remind, welcome,
 * thank; anyone who may read the archive asks `experts WORDS`.
 *
 * Windows, all ending at the report's time `now`: the weeks are the 7-day
 * spans before it; "the period" is its last 4 weeks (newcomers, helpers,
 * the share of the top 5, who answers whom, time to a first answer);
 * members' comings and goings are those of the last week; unanswered
 * threads are those started in the report's weeks that waited longer than
 * report.unanswered_after, oldest first.
 *
 * The dwindling rule. The usual is the mean of posts a week over the
 * REPORT_BASE_WEEKS weeks before the last REPORT_RECENT_WEEKS weeks; a list
 * with fewer than REPORT_BASE_MIN posts in those weeks is not judged.
 * Activity dwindles when the last week had fewer than REPORT_WEEK_PERCENT%
 * of the usual (a sharp fall: to a fifth of the usual shows from the 5th
 * day on), or the last REPORT_RECENT_WEEKS weeks fewer than
 * REPORT_DWINDLE_PERCENT% of it a week (a slow slide). */
#ifndef CONVENE_REPORT_H
#define CONVENE_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "base/buf.h"
#include "mail/request.h"

struct conf;
struct conf_list;
struct store;

#define REPORT_RECENT_WEEKS 2
#define REPORT_BASE_WEEKS 8
#define REPORT_DWINDLE_PERCENT 70
#define REPORT_WEEK_PERCENT 50
#define REPORT_BASE_MIN 8
#define REPORT_PERIOD (28 * 86400L)
/* A list of the report shows at most this many entries. */
#define REPORT_LIST_MAX 30

/* ---- the figures' arithmetic (pure; for the unit tests too) ---- */

/* The dwindling rule on weekly counts v[0..n-1], oldest first: needs n >=
 * REPORT_RECENT_WEEKS + REPORT_BASE_WEEKS (false otherwise). *recent_r is
 * the mean of the last REPORT_RECENT_WEEKS weeks, *base_r the usual;
 * *judged_r false when the base weeks are too quiet to judge. */
bool report_dwindling(const int64_t *v, size_t n, double *recent_r,
		      double *base_r, bool *judged_r);
/* The least-squares line y = a + b*i through v[0..n-1]. */
void report_trend(const int64_t *v, size_t n, double *a_r, double *b_r);
/* The median of v[0..n-1] (sorted in place); 0 when n is 0. */
long report_median(long *v, size_t n);
/* Appends one block character (U+2581 to U+2588) per value, scaled to
 * the largest. */
void report_sparkline(const int64_t *v, size_t n, struct buf *out);
/* A duration as people say it: "45 minutes", "5 hours", "3 days". */
void report_duration(long seconds, struct buf *out);

/* ---- the report ---- */

struct report_out {
	struct buf figures;     /* the text part's figures (report-lines) */
	struct buf text;        /* the report template rendered with them:
				   what the CLI prints (Subject line first) */
	struct buf html;        /* the HTML part (when asked for) */
	struct buf png;         /* the chart (when asked for) */
	char cid[96];           /* the chart's Content-ID in the HTML */
	bool dwindling;         /* the alert is in it */
	size_t unanswered;      /* threads listed as unanswered */
};
void report_out_free(struct report_out *o);

/* Builds l's report at `now` over `weeks` weeks (0: report.weeks), read
 * from the store (no transaction needed). With `html`, the HTML part and
 * the chart too. Returns 0, or -1 with *error_r (newly allocated): a
 * store failure (store_transient tells) or a template that cannot be
 * rendered. */
int report_build(struct store *s, const struct conf *c,
		 const struct conf_list *l, time_t now, size_t weeks,
		 bool html, struct report_out *out, char **error_r);

/* Sends l's report now to report.to, in a transaction of its own. 0, or
 * -1 with *error_r (newly allocated). */
int report_send(struct store *s, const struct conf *c,
		const struct conf_list *l, time_t now, char **error_r);

/* The timed pass (worker): for each list with a report group, the report
 * when its schedule is due and the nudge when its schedule is due (none
 * when no thread waits). Each commits its own transaction. 0, or -1 when
 * one failed (logged; the next pass tries again). */
int report_pass(const struct conf *c, struct store *s, time_t now);

/* ---- commands at NAME-request ---- */

/* Whether v is one of this module's verbs (remind, welcome, thank,
 * experts). */
bool report_verb(enum request_verb v);

/* Runs one of them for `sender` (normalised), part of the caller's
 * transaction, and appends the answer's lines (answer-lines) to out.
 * remind, welcome and thank are for leaders only: each sends one message
 * (the question again to the list, the invitation to post, the thanks)
 * and records an event (report.remind, report.welcome, report.thank);
 * the same act again within a day (a week for thanks; ever for a
 * welcome) is refused. experts is for those who may read the archive.
 * *broken_r is set when a line could not be rendered. 0, or -1 with the
 * store's error. */
int report_command(struct store *s, const struct conf *c,
		   const struct conf_list *l, const char *sender,
		   const struct request_cmd *cmd, struct buf *out,
		   bool *broken_r);

#endif
