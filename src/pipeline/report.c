/* report - the health report, the nudges, and acting on them by reply */
#include "autoconf.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "pipeline/report.h"
#include "base/addr.h"
#include "base/buf.h"
#include "base/chart.h"
#include "base/conf.h"
#include "base/log.h"
#include "base/schedule.h"
#include "base/template.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "mail/compose.h"
#include "mail/mime.h"
#include "mail/msg.h"
#include "mail/oneclick.h"
#include "mail/reply.h"
#include "mail/rewrite.h"
#include "pipeline/archive.h"
#include "pipeline/notice.h"
#include "pipeline/retrieve.h"
#include "pipeline/search.h"
#include "pipeline/thread.h"
#include "store/store.h"
#include "store/store_report.h"

#define WEEK (7 * 86400L)
#define DAY 86400L
/* The weeks a report reads: what it shows, and never fewer than the
 * dwindling rule needs. */
#define RULE_WEEKS (REPORT_RECENT_WEEKS + REPORT_BASE_WEEKS)
#define WEEKS_MAX 104
/* Top entries of the period's lists. */
#define TOP 5
#define PAIRS 8
/* The question of a reminder is quoted up to this many bytes. */
#define QUESTION_MAX 4000
/* `experts` names this many members. */
#define EXPERTS 5

/* ---- arithmetic ---- */

bool report_dwindling(const int64_t *v, size_t n, double *recent_r,
		      double *base_r, bool *judged_r)
{
	double recent = 0, base = 0;
	size_t i;

	*recent_r = *base_r = 0;
	*judged_r = false;
	if (n < RULE_WEEKS)
		return false;
	for (i = n - REPORT_RECENT_WEEKS; i < n; i++)
		recent += (double)v[i];
	for (i = n - RULE_WEEKS; i < n - REPORT_RECENT_WEEKS; i++)
		base += (double)v[i];
	*recent_r = recent / REPORT_RECENT_WEEKS;
	*base_r = base / REPORT_BASE_WEEKS;
	*judged_r = base >= REPORT_BASE_MIN;
	return *judged_r &&
	       (*recent_r * 100 < *base_r * REPORT_DWINDLE_PERCENT ||
		(double)v[n - 1] * 100 < *base_r * REPORT_WEEK_PERCENT);
}

void report_trend(const int64_t *v, size_t n, double *a_r, double *b_r)
{
	double sx = 0, sy = 0, sxx = 0, sxy = 0, d;
	size_t i;

	for (i = 0; i < n; i++) {
		sx += (double)i;
		sy += (double)v[i];
		sxx += (double)i * (double)i;
		sxy += (double)i * (double)v[i];
	}
	d = (double)n * sxx - sx * sx;
	*b_r = n > 1 && d != 0 ? ((double)n * sxy - sx * sy) / d : 0;
	*a_r = n > 0 ? (sy - *b_r * sx) / (double)n : 0;
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? -1 : x > y;
}

long report_median(long *v, size_t n)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof *v, cmp_long);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void report_sparkline(const int64_t *v, size_t n, struct buf *out)
{
	static const char *const blocks[8] = {
		"\u2581", "\u2582", "\u2583", "\u2584",
		"\u2585", "\u2586", "\u2587", "\u2588"
	};
	int64_t max = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i] > max)
			max = v[i];
	for (i = 0; i < n; i++) {
		int64_t k = max > 0 ? (v[i] * 7 + max - 1) / max : 0;

		buf_puts(out, blocks[k < 0 ? 0 : k > 7 ? 7 : k]);
	}
}

void report_duration(long s, struct buf *out)
{
	if (s < 0)
		s = 0;
	if (s < 2 * 3600L)
		buf_printf(out, "%ldm", (s + 59) / 60);
	else if (s < 2 * DAY)
		buf_printf(out, "%ldh", (s + 1800) / 3600);
	else
		buf_printf(out, "%ldd", (s + DAY / 2) / DAY);
}

static char *duration_text(long s)
{
	struct buf b = BUF_INIT;

	report_duration(s, &b);
	return buf_steal(&b, NULL);
}

static void fmt_date(char dst[16], time_t t)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(dst, 16, "%Y-%m-%d", &tm) == 0)
		snprintf(dst, 16, "?");
}

/* ---- the figures ---- */

struct figures {
	time_t now;
	size_t weeks, nseries;          /* shown; read (>= RULE_WEEKS) */
	int64_t posts[WEEKS_MAX], threads[WEEKS_MAX];
	double trend_a, trend_b, recent, base;
	bool dwindling, judged;
	struct store_report_thread *unanswered;
	size_t nunanswered;
	int64_t unanswered_total;
	long median;                    /* seconds to a first answer */
	size_t started, answered;       /* threads of the period */
	struct store_report_person *newcomers, *helpers, *posters, *pairs;
	struct store_report_person *unheard;
	size_t nnewcomers, nhelpers, nposters, npairs, nunheard;
	int64_t period_posts;
	int64_t joined, left, removed;  /* last week */
	struct store_report_hold *held;
	size_t nheld;
	int64_t held_total;
};

static void figures_free(struct figures *f)
{
	store_report_threads_free(&f->unanswered, f->nunanswered);
	store_report_people_free(&f->newcomers, f->nnewcomers);
	store_report_people_free(&f->helpers, f->nhelpers);
	store_report_people_free(&f->posters, f->nposters);
	store_report_people_free(&f->pairs, f->npairs);
	store_report_people_free(&f->unheard, f->nunheard);
	store_report_holds_free(&f->held, f->nheld);
}

static int first_replies(struct store *s, const struct conf_list *l,
			 struct figures *f)
{
	struct store_report_thread *v = NULL;
	size_t n = 0, i;
	long *waits;

	if (store_report_first_replies(s, l->name, f->now - REPORT_PERIOD,
				       f->now, &v, &n) < 0)
		return -1;
	waits = xcalloc(n + 1, sizeof *waits);
	for (i = 0; i < n; i++)
		if (v[i].first_reply != 0)
			waits[f->answered++] = v[i].first_reply >
					       v[i].first_date ?
					       (long)(v[i].first_reply -
						      v[i].first_date) : 0;
	f->started = n;
	f->median = report_median(waits, f->answered);
	free(waits);
	store_report_threads_free(&v, n);
	return 0;
}

static int member_moves(struct store *s, const struct conf_list *l,
			struct figures *f)
{
	static const char *const kinds[] = {
		"member.subscribed", "member.added", "member.unsubscribed",
		"member.removed", "bounce.removed"
	};
	int64_t *const into[] = {
		&f->joined, &f->joined, &f->left, &f->left, &f->removed
	};
	size_t i;

	for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		int64_t k;

		if (store_report_events(s, l->name, kinds[i], f->now - WEEK,
					f->now, &k) < 0)
			return -1;
		*into[i] += k;
	}
	return 0;
}

static int gather(struct store *s, const struct conf_list *l,
		  struct figures *f)
{
	time_t period = f->now - REPORT_PERIOD;
	time_t waited = f->now - l->report_unanswered_s;
	size_t off;

	f->nseries = f->weeks < RULE_WEEKS ? RULE_WEEKS : f->weeks;
	off = f->nseries - f->weeks;
	if (store_report_weeks(s, l->name,
			       f->now - (time_t)f->nseries * WEEK, f->nseries,
			       f->posts, f->threads) < 0)
		return -1;
	f->dwindling = report_dwindling(f->posts, f->nseries, &f->recent,
					&f->base, &f->judged);
	report_trend(f->posts + off, f->weeks, &f->trend_a, &f->trend_b);
	if (store_report_unanswered(s, l->name,
				    f->now - (time_t)f->weeks * WEEK, waited,
				    REPORT_LIST_MAX, &f->unanswered,
				    &f->nunanswered, &f->unanswered_total) < 0 ||
	    first_replies(s, l, f) < 0 ||
	    store_report_newcomers(s, l->name, period, &f->newcomers,
				   &f->nnewcomers) < 0 ||
	    store_report_helpers(s, l->name, period, f->now, TOP, &f->helpers,
				 &f->nhelpers) < 0 ||
	    store_report_posters(s, l->name, period, f->now, TOP, &f->posters,
				 &f->nposters, &f->period_posts) < 0 ||
	    store_report_pairs(s, l->name, period, f->now, PAIRS, &f->pairs,
			       &f->npairs) < 0 ||
	    store_report_unheard(s, l->name, period, waited, PAIRS,
				 &f->unheard, &f->nunheard) < 0 ||
	    member_moves(s, l, f) < 0 ||
	    store_report_held(s, l->name, REPORT_LIST_MAX, &f->held,
			      &f->nheld, &f->held_total) < 0)
		return -1;
	return 0;
}

/* ---- writing: each line of report-lines goes to the text part as it is
 * and to the HTML part as a heading, a list item or a paragraph ---- */

enum kind { K_HEAD, K_ITEM, K_PARA, K_ALERT };

struct writer {
	const struct conf *c;
	const struct conf_list *l;
	struct template_lines *t;
	struct template_var list_vars[TEMPLATE_LIST_VARS];
	size_t nlist;
	char **storage;
	struct buf *text, *html;        /* html NULL: the text only */
	bool in_list;
	char *error;                    /* the first line that failed */
};

/* Every placeholder a line of report-lines may use besides the list's:
 * all are set ("" unless given), so that any line renders. */
static const char *const line_names[] = {
	"id", "date", "subject", "name", "count", "spark", "values", "slope",
	"recent", "base", "percent", "after", "age", "median", "answered",
	"joined", "left", "removed", "other", "weeks", "last", "mean", NULL
};
#define LINE_VARS (TEMPLATE_LIST_VARS + 24)

static void html_escape(const char *s, struct buf *out)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': buf_puts(out, "&amp;"); break;
		case '<': buf_puts(out, "&lt;"); break;
		case '>': buf_puts(out, "&gt;"); break;
		case '"': buf_puts(out, "&quot;"); break;
		default: buf_putc(out, *s); break;
		}
	}
}

static void html_list(struct writer *w, bool open)
{
	if (w->in_list != open)
		buf_puts(w->html, open ? "<ul>\n" : "</ul>\n");
	w->in_list = open;
}

static void emit(struct writer *w, enum kind k, const char *text)
{
	static const char *const tags[][2] = {
		{ "<h3>", "</h3>" }, { "<li>", "</li>" }, { "<p>", "</p>" },
		{ "<p style=\"color:#b00000;font-weight:bold\">", "</p>" },
	};
	const char *t = text;

	buf_printf(w->text, "%s%s\n", k == K_HEAD ? "\n" : "", text);
	if (w->html == NULL)
		return;
	html_list(w, k == K_ITEM);
	while (*t == ' ')
		t++;
	buf_puts(w->html, tags[k][0]);
	html_escape(t, w->html);
	buf_puts(w->html, tags[k][1]);
	buf_putc(w->html, '\n');
}

/* Untrusted text for one line: control bytes made spaces, at most 120
 * bytes (cut on a character boundary). Newly allocated. */
static char *one_line(const char *v)
{
	char *t = xstrdup(v != NULL ? v : "");
	size_t i, n = strlen(t);

	for (i = 0; i < n; i++)
		if ((unsigned char)t[i] < 32 || t[i] == 127)
			t[i] = ' ';
	if (n > 120) {
		n = 120;
		while (n > 0 && ((unsigned char)t[n] & 0xc0) == 0x80)
			n--;
		t[n] = '\0';
	}
	return t;
}

static void set_var(struct template_var *v, size_t *n, const char *name,
		    const char *value)
{
	size_t i;

	for (i = 0; i < *n; i++) {
		if (strcmp(v[i].name, name) == 0) {
			v[i].value = value;
			return;
		}
	}
	if (*n < LINE_VARS)
		v[(*n)++] = (struct template_var){ name, value };
}

/* Line `key` with the placeholders given as name, value pairs (NULL
 * ended), written as kind k. */
static void say(struct writer *w, enum kind k, const char *key, ...)
{
	struct template_var v[LINE_VARS];
	char *owned[16], *err = NULL;
	struct buf line = BUF_INIT;
	const char *name;
	size_t n = w->nlist, nown = 0, i;
	va_list ap;

	memcpy(v, w->list_vars, w->nlist * sizeof v[0]);
	for (i = 0; line_names[i] != NULL; i++)
		set_var(v, &n, line_names[i], "");
	va_start(ap, key);
	while ((name = va_arg(ap, const char *)) != NULL && nown < 16) {
		owned[nown] = one_line(va_arg(ap, const char *));
		set_var(v, &n, name, owned[nown++]);
	}
	va_end(ap);
	if (template_lines_render(w->t, key, v, n, &line, &err) < 0) {
		if (w->error == NULL)
			w->error = err;
		else
			free(err);
	} else {
		emit(w, k, buf_cstr(&line));
	}
	buf_free(&line);
	for (i = 0; i < nown; i++)
		free(owned[i]);
}

static int writer_open(struct writer *w, const struct conf *c,
		       const struct conf_list *l, struct buf *text,
		       struct buf *html, char **error_r)
{
	memset(w, 0, sizeof *w);
	w->c = c;
	w->l = l;
	w->text = text;
	w->html = html;
	if (template_lines_open(c, l, "report-lines", &w->t, error_r) < 0)
		return -1;
	w->nlist = template_list_vars(c, l, w->list_vars, &w->storage);
	return 0;
}

static void writer_close(struct writer *w)
{
	if (w->html != NULL)
		html_list(w, false);
	template_lines_close(&w->t);
	template_vars_free(&w->storage);
	free(w->error);
}

/* "Name <address>", or the address. Newly allocated. */
static char *person(const char *address, const char *name)
{
	if (name != NULL && *name != '\0')
		return xasprintf("%s <%s>", name, address ? address : "");
	return xstrdup(address ? address : "");
}

static void member_id(char dst[24], int64_t member)
{
	if (member > 0)
		snprintf(dst, 24, "m%lld", (long long)member);
	else
		snprintf(dst, 24, "-");
}

/* ---- the sections ---- */

static void series_line(struct writer *w, const char *key, const int64_t *v,
			size_t n)
{
	struct buf spark = BUF_INIT, values = BUF_INIT;
	char last[24], mean[32];
	double sum = 0;
	size_t i;

	report_sparkline(v, n, &spark);
	for (i = 0; i < n; i++) {
		buf_printf(&values, "%s%lld", i ? " " : "", (long long)v[i]);
		sum += (double)v[i];
	}
	snprintf(last, sizeof last, "%lld", (long long)v[n - 1]);
	snprintf(mean, sizeof mean, "%.1f", sum / (double)n);
	say(w, K_ITEM, key, "spark", buf_cstr(&spark), "values",
	    buf_cstr(&values), "last", last, "mean", mean, NULL);
	buf_free(&spark);
	buf_free(&values);
}

static void section_activity(struct writer *w, const struct figures *f,
			     const char *chart_cid)
{
	size_t off = f->nseries - f->weeks;
	char slope[32], recent[32], base[32], pct[32], weeks[24], date[16];

	snprintf(weeks, sizeof weeks, "%zu", f->weeks);
	fmt_date(date, f->now);
	say(w, K_HEAD, "activity", "weeks", weeks, "date", date, NULL);
	series_line(w, "posts", f->posts + off, f->weeks);
	series_line(w, "threads", f->threads + off, f->weeks);
	if (w->html != NULL && chart_cid != NULL) {
		html_list(w, false);
		buf_printf(w->html, "<p><img src=\"cid:%s\" width=\"600\" "
			   "height=\"240\" alt=\"\"></p>\n", chart_cid);
		say(w, K_PARA, "chart-legend", NULL);
	}
	snprintf(slope, sizeof slope, "%+.1f", f->trend_b);
	say(w, K_PARA, fabs(f->trend_b) < 0.05 ? "trend-flat" :
	    f->trend_b > 0 ? "trend-up" : "trend-down", "slope", slope, NULL);
	snprintf(recent, sizeof recent, "%.1f", f->recent);
	snprintf(base, sizeof base, "%.1f", f->base);
	snprintf(pct, sizeof pct, "%.0f",
		 f->base > 0 ? 100 * f->recent / f->base : 0);
	snprintf(weeks, sizeof weeks, "%lld",
		 (long long)f->posts[f->nseries - 1]);
	if (!f->judged)
		say(w, K_PARA, "too-quiet", "recent", recent, "base", base,
		    NULL);
	else
		say(w, f->dwindling ? K_ALERT : K_PARA,
		    f->dwindling ? "dwindling" : "steady", "recent", recent,
		    "base", base, "percent", pct, "last", weeks, NULL);
}

static void section_unanswered(struct writer *w, const struct conf_list *l,
			       const struct figures *f)
{
	char *after = duration_text(l->report_unanswered_s);
	char weeks[24], more[24];
	size_t i;

	snprintf(weeks, sizeof weeks, "%zu", f->weeks);
	if (f->unanswered_total == 0) {
		say(w, K_HEAD, "unanswered-none", "after", after, "weeks",
		    weeks, NULL);
		free(after);
		return;
	}
	say(w, K_HEAD, "unanswered", "after", after, "weeks", weeks, NULL);
	for (i = 0; i < f->nunanswered; i++) {
		const struct store_report_thread *t = &f->unanswered[i];
		char id[24], date[16], *age = duration_text(
			(long)(f->now - t->first_date));
		char *name = person(t->sender, t->sender_name);

		snprintf(id, sizeof id, "%lld", (long long)t->id);
		fmt_date(date, t->first_date);
		say(w, K_ITEM, "unanswered-entry", "id", id, "date", date,
		    "subject", t->subject, "name", name, "age", age, NULL);
		free(age);
		free(name);
	}
	if (f->unanswered_total > (int64_t)f->nunanswered) {
		snprintf(more, sizeof more, "%lld", (long long)(
				 f->unanswered_total - (int64_t)f->nunanswered));
		say(w, K_ITEM, "unanswered-more", "count", more, NULL);
	}
	free(after);
}

static void section_first_reply(struct writer *w, const struct figures *f)
{
	char count[24], answered[24], *median = duration_text(f->median);

	snprintf(count, sizeof count, "%zu", f->started);
	snprintf(answered, sizeof answered, "%zu", f->answered);
	say(w, K_HEAD, f->answered > 0 ? "first-reply" : "first-reply-none",
	    "median", median, "count", count, "answered", answered, NULL);
	free(median);
}

static void newcomer_entries(struct writer *w, const struct figures *f,
			     bool once)
{
	size_t i, shown = 0;
	bool head = false;

	for (i = 0; i < f->nnewcomers && shown < REPORT_LIST_MAX; i++) {
		const struct store_report_person *p = &f->newcomers[i];
		char id[24], joined[16], date[16], *name;

		if (once ? !(p->count == 1 && p->last_post < f->now - WEEK) :
		    p->count != 0)
			continue;
		if (!head)
			say(w, K_PARA, once ? "newcomers-once" :
			    "newcomers-silent", NULL);
		head = true;
		shown++;
		member_id(id, p->member);
		fmt_date(joined, p->joined);
		fmt_date(date, p->last_post);
		name = person(p->address, p->name);
		say(w, K_ITEM, once ? "newcomer-once-entry" : "newcomer-entry",
		    "id", id, "name", name, "joined", joined, "date",
		    once ? date : joined, NULL);
		free(name);
	}
}

static void section_newcomers(struct writer *w, const struct figures *f)
{
	if (f->nnewcomers == 0) {
		say(w, K_HEAD, "newcomers-none", NULL);
		return;
	}
	say(w, K_HEAD, "newcomers", NULL);
	newcomer_entries(w, f, false);
	newcomer_entries(w, f, true);
}

static void people_entries(struct writer *w, const char *key,
			   const struct store_report_person *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char id[24], count[24], *name = person(v[i].address, v[i].name);
		char *other = v[i].other != NULL ?
			      person(v[i].other, v[i].other_name) : NULL;

		member_id(id, v[i].member);
		snprintf(count, sizeof count, "%lld", (long long)v[i].count);
		say(w, K_ITEM, key, "id", id, "name", name, "count", count,
		    "other", other, NULL);
		free(name);
		free(other);
	}
}

static void section_people(struct writer *w, const struct figures *f)
{
	int64_t top = 0;
	char pct[32], count[24];
	size_t i;

	say(w, K_HEAD, f->nhelpers > 0 ? "helpers" : "helpers-none", NULL);
	people_entries(w, "helper-entry", f->helpers, f->nhelpers);
	for (i = 0; i < f->nposters; i++)
		top += f->posters[i].count;
	snprintf(pct, sizeof pct, "%.0f", f->period_posts > 0 ?
		 100.0 * (double)top / (double)f->period_posts : 0.0);
	snprintf(count, sizeof count, "%lld", (long long)f->period_posts);
	say(w, K_PARA, "share", "percent", pct, "count", count, NULL);
	if (f->npairs > 0) {
		say(w, K_HEAD, "network", NULL);
		people_entries(w, "network-entry", f->pairs, f->npairs);
	}
	if (f->nunheard > 0) {
		say(w, K_HEAD, "unheard", NULL);
		people_entries(w, "unheard-entry", f->unheard, f->nunheard);
	}
}

static void section_members(struct writer *w, const struct figures *f)
{
	char joined[24], left[24], removed[24], count[24], *age;
	size_t i;

	snprintf(joined, sizeof joined, "%lld", (long long)f->joined);
	snprintf(left, sizeof left, "%lld", (long long)f->left);
	snprintf(removed, sizeof removed, "%lld", (long long)f->removed);
	say(w, K_HEAD, "members", "joined", joined, "left", left, "removed",
	    removed, NULL);
	if (f->held_total == 0) {
		say(w, K_PARA, "held-none", NULL);
		return;
	}
	snprintf(count, sizeof count, "%lld", (long long)f->held_total);
	age = duration_text((long)(f->now - f->held[0].held_at));
	say(w, K_PARA, "held", "count", count, "age", age, NULL);
	free(age);
	for (i = 0; i < f->nheld; i++) {
		char id[24];

		snprintf(id, sizeof id, "%lld", (long long)f->held[i].id);
		age = duration_text((long)(f->now - f->held[i].held_at));
		say(w, K_ITEM, "held-entry", "id", id, "age", age, "name",
		    f->held[i].sender, "subject", f->held[i].subject, NULL);
		free(age);
	}
}

static void write_report(struct writer *w, const struct figures *f,
			 const char *chart_cid)
{
	char weeks[24], date[16];

	snprintf(weeks, sizeof weeks, "%zu", f->weeks);
	fmt_date(date, f->now);
	say(w, K_PARA, "title", "weeks", weeks, "date", date, NULL);
	section_activity(w, f, chart_cid);
	section_unanswered(w, w->l, f);
	section_first_reply(w, f);
	section_newcomers(w, f);
	section_people(w, f);
	section_members(w, f);
	say(w, K_PARA, "actions", NULL);
}

/* ---- the report ---- */

void report_out_free(struct report_out *o)
{
	buf_free(&o->figures);
	buf_free(&o->text);
	buf_free(&o->html);
	buf_free(&o->png);
}

static int draw_chart(const struct figures *f, struct buf *png,
		      char **error_r)
{
	size_t off = f->nseries - f->weeks;
	struct chart ch = {
		.width = 600, .height = 240, .bars = f->posts + off,
		.line = f->threads + off, .n = f->weeks, .trend = true,
		.trend_a = f->trend_a, .trend_b = f->trend_b,
		.alert_from = f->dwindling && f->weeks >= REPORT_RECENT_WEEKS ?
			      f->weeks - REPORT_RECENT_WEEKS : f->weeks,
	};
	const char *err = NULL;

	if (chart_png(&ch, png, &err) < 0) {
		*error_r = xstrdup(err);
		return -1;
	}
	return 0;
}

/* Renders template `name` with the list's placeholders, date, weeks and
 * figures into out. */
static int render_whole(const struct conf *c, const struct conf_list *l,
			const char *name, const struct figures *f,
			const char *figures, struct buf *out, char **error_r)
{
	struct notice_vars v;
	char weeks[24], date[16], *text = NULL;
	int rc;

	notice_vars_init(&v, c, l);
	snprintf(weeks, sizeof weeks, "%zu", f->weeks);
	fmt_date(date, f->now);
	notice_vars_set(&v, "weeks", weeks);
	notice_vars_set(&v, "date", date);
	notice_vars_set(&v, "figures", figures);
	rc = template_render(c, l, name, v.v, v.n, &text, error_r);
	if (rc == 0)
		buf_puts(out, text);
	free(text);
	notice_vars_free(&v);
	return rc;
}

int report_build(struct store *s, const struct conf *c,
		 const struct conf_list *l, time_t now, size_t weeks,
		 bool html, struct report_out *out, char **error_r)
{
	struct figures f = { 0 };
	struct writer w;
	struct buf hbody = BUF_INIT;
	int rc = -1;

	memset(out, 0, sizeof *out);
	*error_r = NULL;
	f.now = now;
	f.weeks = weeks == 0 ? (size_t)l->report_weeks : weeks;
	if (f.weeks > WEEKS_MAX)
		f.weeks = WEEKS_MAX;
	snprintf(out->cid, sizeof out->cid, "report-chart.%lld@%s",
		 (long long)now, c->domain);
	if (gather(s, l, &f) < 0) {
		*error_r = xstrdup(store_error(s));
		goto out;
	}
	if (writer_open(&w, c, l, &out->figures, html ? &hbody : NULL,
			error_r) < 0)
		goto out;
	write_report(&w, &f, out->cid);
	if (w.error != NULL) {
		*error_r = w.error;
		w.error = NULL;
	}
	writer_close(&w);
	if (*error_r != NULL ||
	    render_whole(c, l, "report", &f, buf_cstr(&out->figures),
			 &out->text, error_r) < 0)
		goto out;
	if (html && (render_whole(c, l, "report-html", &f, buf_cstr(&hbody),
				  &out->html, error_r) < 0 ||
		     draw_chart(&f, &out->png, error_r) < 0))
		goto out;
	out->dwindling = f.dwindling;
	out->unanswered = (size_t)f.unanswered_total;
	rc = 0;
out:
	buf_free(&hbody);
	figures_free(&f);
	if (rc < 0)
		report_out_free(out);
	return rc;
}

/* report.to: its roles and addresses, each once. Newly allocated array
 * of borrowed strings. */
static const char **report_rcpts(const struct conf_list *l, size_t *n_r)
{
	size_t n = 0, i, k;
	const char **roles = conf_list_roles(l, l->report_roles, &n);
	const char **v = xcalloc(n + l->report_to.n + 1, sizeof *v);

	memcpy(v, roles, n * sizeof *v);
	free(roles);
	for (i = 0; i < l->report_to.n; i++) {
		for (k = 0; k < n && !util_streq_ci(v[k], l->report_to.v[i]);
		     k++)
			;
		if (k == n)
			v[n++] = l->report_to.v[i];
	}
	*n_r = n;
	return v;
}

/* Queues out (built with html) to report.to, part of the caller's
 * transaction. */
static int queue_report(struct store *s, const struct conf *c,
			const struct conf_list *l, time_t now,
			const struct report_out *out)
{
	char *reply_to = xasprintf("%s-request@%s", l->name, c->domain);
	struct compose_image chart = {
		.cid = out->cid, .type = "image/png", .data = out->png.data,
		.len = out->png.len,
	};
	struct notice how = {
		.reply_to = reply_to, .html = buf_cstr(&out->html),
		.images = &chart, .nimages = 1,
	};
	struct notice_vars v;
	char weeks[24], date[16];
	size_t n;
	const char **rcpts = report_rcpts(l, &n);
	int rc;

	notice_vars_init(&v, c, l);
	snprintf(weeks, sizeof weeks, "%ld", l->report_weeks);
	fmt_date(date, now);
	notice_vars_set(&v, "weeks", weeks);
	notice_vars_set(&v, "date", date);
	notice_vars_set(&v, "figures", buf_cstr(&out->figures));
	rc = notice_send(s, c, l, "report", &v, &how, rcpts, n);
	if (rc == 0)
		rc = store_event_add(s, l->name, "report.sent", NULL,
				     (int64_t)n, out->dwindling ?
				     "dwindling" : NULL);
	notice_vars_free(&v);
	free(rcpts);
	free(reply_to);
	return rc;
}

int report_send(struct store *s, const struct conf *c,
		const struct conf_list *l, time_t now, char **error_r)
{
	struct report_out out;

	if (report_build(s, c, l, now, 0, true, &out, error_r) < 0)
		return -1;
	if (store_begin(s) < 0 || queue_report(s, c, l, now, &out) < 0 ||
	    store_commit(s) < 0) {
		*error_r = xstrdup(store_error(s));
		store_rollback(s);
		report_out_free(&out);
		return -1;
	}
	log_info("list=%s: health report queued%s", l->name,
		 out.dwindling ? " (activity dwindling)" : "");
	report_out_free(&out);
	return 0;
}

/* ---- the nudge ---- */

/* The threads whose wait passed unanswered_after in the 7 days before
 * now, as nudge lines into out; *n_r how many. */
static int nudge_lines(struct store *s, const struct conf *c,
		       const struct conf_list *l, time_t now, struct buf *out,
		       size_t *n_r, char **error_r)
{
	struct store_report_thread *v = NULL;
	time_t until = now - l->report_unanswered_s;
	int64_t total = 0;
	struct writer w;
	size_t n = 0, i;

	*n_r = 0;
	if (store_report_unanswered(s, l->name, until - WEEK, until,
				    REPORT_LIST_MAX, &v, &n, &total) < 0) {
		*error_r = xstrdup(store_error(s));
		return -1;
	}
	if (writer_open(&w, c, l, out, NULL, error_r) < 0) {
		store_report_threads_free(&v, n);
		return -1;
	}
	for (i = 0; i < n; i++) {
		char id[24], date[16], *age = duration_text(
			(long)(now - v[i].first_date));
		char *name = person(v[i].sender, v[i].sender_name);

		snprintf(id, sizeof id, "%lld", (long long)v[i].id);
		fmt_date(date, v[i].first_date);
		say(&w, K_ITEM, "nudge-entry", "id", id, "date", date,
		    "subject", v[i].subject, "name", name, "age", age, NULL);
		free(age);
		free(name);
	}
	*error_r = w.error;
	w.error = NULL;
	writer_close(&w);
	store_report_threads_free(&v, n);
	*n_r = n;
	return *error_r != NULL ? -1 : 0;
}

/* Queues the nudge to the leaders when a thread waits; part of the
 * caller's transaction. *sent_r tells. */
static int queue_nudge(struct store *s, const struct conf *c,
		       const struct conf_list *l, time_t now, bool *sent_r,
		       char **error_r)
{
	char *reply_to = xasprintf("%s-request@%s", l->name, c->domain);
	char count[24], *after = duration_text(l->report_unanswered_s);
	struct notice how = { .reply_to = reply_to };
	struct buf lines = BUF_INIT;
	struct notice_vars v;
	const char **rcpts = NULL;
	size_t n = 0, nr = 0;
	int rc;

	*sent_r = false;
	rc = nudge_lines(s, c, l, now, &lines, &n, error_r);
	if (rc == 0 && n > 0) {
		notice_vars_init(&v, c, l);
		snprintf(count, sizeof count, "%zu", n);
		notice_vars_set(&v, "count", count);
		notice_vars_set(&v, "after", after);
		notice_vars_set(&v, "figures", buf_cstr(&lines));
		rcpts = conf_list_roles(l, CONF_LEADERS, &nr);
		rc = notice_send(s, c, l, "report-nudge", &v, &how, rcpts, nr);
		if (rc == 0)
			rc = store_event_add(s, l->name, "report.nudge", NULL,
					     (int64_t)n, NULL);
		if (rc < 0)
			*error_r = xstrdup(store_error(s));
		*sent_r = rc == 0;
		notice_vars_free(&v);
	}
	free(rcpts);
	buf_free(&lines);
	free(after);
	free(reply_to);
	return rc;
}

/* ---- the timed pass ---- */

/* Whether `kind` ("report", "nudge") of l is due at now; a new or changed
 * schedule only sets the next time (saved). */
static int due(struct store *s, const struct conf_list *l, const char *kind,
	       const struct schedule *when, const char *written, time_t now,
	       bool *due_r)
{
	struct store_report_state st = { 0 };
	char *key = xasprintf("%s %s", written, l->report_timezone);
	bool found;
	int rc;

	*due_r = false;
	if (store_report_state_get(s, l->name, kind, &st, &found) < 0) {
		free(key);
		return -1;
	}
	if (!found || st.schedule == NULL || strcmp(st.schedule, key) != 0) {
		free(st.schedule);
		st.schedule = key;
		st.next_due = schedule_next(when, l->report_timezone, now);
		rc = store_report_state_put(s, l->name, kind, &st);
		store_report_state_clear(&st);
		return rc;
	}
	free(key);
	*due_r = now >= st.next_due;
	store_report_state_clear(&st);
	return 0;
}

/* Records that `kind` went (or had nothing to say) at now. */
static int done(struct store *s, const struct conf_list *l, const char *kind,
		const struct schedule *when, const char *written, time_t now)
{
	struct store_report_state st = {
		.schedule = xasprintf("%s %s", written, l->report_timezone),
		.next_due = schedule_next(when, l->report_timezone, now),
		.last_at = now,
	};
	int rc = store_report_state_put(s, l->name, kind, &st);

	store_report_state_clear(&st);
	return rc;
}

static int pass_report(const struct conf *c, const struct conf_list *l,
		       struct store *s, time_t now)
{
	struct report_out out = { 0 };
	char *err = NULL;
	bool is_due;

	if (store_begin(s) < 0 ||
	    due(s, l, "report", &l->report_when, l->report_schedule, now,
		&is_due) < 0 || store_commit(s) < 0)
		goto store_fail;
	if (!is_due)
		return 0;
	if (report_build(s, c, l, now, 0, true, &out, &err) < 0) {
		log_error("list=%s: health report not built: %s; tried again "
			  "next pass", l->name, err);
		free(err);
		return -1;
	}
	/* Again inside the transaction: another worker may have sent it. */
	if (store_begin(s) < 0 ||
	    due(s, l, "report", &l->report_when, l->report_schedule, now,
		&is_due) < 0 ||
	    (is_due && (queue_report(s, c, l, now, &out) < 0 ||
			done(s, l, "report", &l->report_when,
			     l->report_schedule, now) < 0)) ||
	    store_commit(s) < 0)
		goto store_fail;
	if (is_due)
		log_info("list=%s: health report queued%s", l->name,
			 out.dwindling ? " (activity dwindling)" : "");
	report_out_free(&out);
	return 0;
store_fail:
	log_error("list=%s: health report: %s; tried again next pass",
		  l->name, store_error(s));
	store_rollback(s);
	report_out_free(&out);
	return -1;
}

static int pass_nudge(const struct conf *c, const struct conf_list *l,
		      struct store *s, time_t now)
{
	char *err = NULL;
	bool is_due, sent = false;

	if (store_begin(s) < 0)
		goto store_fail;
	if (due(s, l, "nudge", &l->nudge_when, l->report_nudge, now,
		&is_due) < 0)
		goto store_fail;
	if (is_due && (queue_nudge(s, c, l, now, &sent, &err) < 0 ||
		       done(s, l, "nudge", &l->nudge_when, l->report_nudge,
			    now) < 0)) {
		log_error("list=%s: nudge not sent: %s; tried again next pass",
			  l->name, err != NULL ? err : store_error(s));
		free(err);
		store_rollback(s);
		return -1;
	}
	if (store_commit(s) < 0)
		goto store_fail;
	if (sent)
		log_info("list=%s: nudge queued to the leaders", l->name);
	return 0;
store_fail:
	log_error("list=%s: nudge: %s; tried again next pass", l->name,
		  store_error(s));
	store_rollback(s);
	return -1;
}

int report_pass(const struct conf *c, struct store *s, time_t now)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < c->nlists; i++) {
		const struct conf_list *l = &c->lists[i];

		if (!l->report_on)
			continue;
		if (l->report_scheduled && pass_report(c, l, s, now) < 0)
			rc = -1;
		if (l->nudge_scheduled && pass_nudge(c, l, s, now) < 0)
			rc = -1;
	}
	return rc;
}

/* ---- acting by reply: remind, welcome, thank; experts ---- */

struct act {
	struct store *s;
	const struct conf *c;
	const struct conf_list *l;
	const char *sender;
	struct buf *out;
	bool *broken;
};

/* Appends answer line `key` with the placeholders given as name, value
 * pairs (NULL ended). */
static void answer(struct act *a, const char *key, ...)
{
	/* Every name of answer-lines (commands.c sets the same). */
	static const char *const names[] = {
		"address", "name", "mode", "token", "confirm_address",
		"expires", "request_id", "results", "count", "members",
		"policy", "subscription", "reason", "id", "subject", "date",
		"query", "poll_id", "question", "closes", "vote_address",
		"meeting_id", "title", "when", "rsvp_address", "capacity",
		"going", "waiting", "maybe", "declined", "unanswered",
		"problem", NULL
	};
	struct notice_vars v;
	const char *name;
	va_list ap;
	size_t i;

	notice_vars_init(&v, a->c, a->l);
	for (i = 0; names[i] != NULL; i++)
		notice_vars_set(&v, names[i], "");
	notice_vars_set(&v, "sender", a->sender);
	va_start(ap, key);
	while ((name = va_arg(ap, const char *)) != NULL)
		notice_vars_oneline(&v, name, va_arg(ap, const char *));
	va_end(ap);
	if (notice_line_wrapped(a->c, a->l, "answer-lines", key, &v,
				 a->out) < 0)
		*a->broken = true;
	notice_vars_free(&v);
}

/* Whether the same act was done within `window` seconds (ever: 0);
 * *when_r its date. */
static int done_lately(struct act *a, const char *kind, const char *detail,
		       long window, bool *lately_r, char when_r[16])
{
	time_t at;

	if (store_report_event_last(a->s, a->l->name, kind, detail, &at) < 0)
		return -1;
	*lately_r = at != 0 && (window == 0 || at > util_now() - window);
	fmt_date(when_r, at);
	return 0;
}

/* The question of archived message `id`: what its writer wrote, quoted,
 * at most QUESTION_MAX bytes. Newly allocated ("" when unreadable). */
static char *question_text(struct act *a, int64_t message)
{
	struct mime_limits lim;
	struct buf q = BUF_INIT;
	char *raw = NULL, *text, *line, *next;
	size_t len = 0;

	if (store_message_get(a->s, message, &raw, &len) < 0)
		return xstrdup("");
	mime_limits_from_conf(&lim, a->c);
	text = reply_text(raw, len, &lim);
	free(raw);
	for (line = text; line != NULL && q.len < QUESTION_MAX; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		buf_printf(&q, ">%s%s\n", *line ? " " : "", line);
	}
	free(text);
	return buf_steal(&q, NULL);
}

/* The reminder: the question again to the list, in its thread, with
 * the list's header fields; to every member who gets mail. */
static int post_reminder(struct act *a, const struct store_archived *root)
{
	struct notice_vars v;
	struct compose how = { 0 };
	struct rewrite_params p;
	struct msg_limits lim = {
		.max_header_bytes = (size_t)a->c->limits.max_header_kb * 1024,
		.max_headers = (size_t)a->c->limits.max_headers,
	};
	struct msg m = { 0 };
	struct buf raw = BUF_INIT, data = BUF_INIT;
	char date[16], *err = NULL, *name;
	char *from = xasprintf("%s-owner@%s", a->l->name, a->c->domain);
	char *list = xasprintf("%s@%s", a->l->name, a->c->domain);
	char *env = xasprintf("%s-bounces@%s", a->l->name, a->c->domain);
	const char *rerr = NULL;
	int rc = -1;

	notice_vars_init(&v, a->c, a->l);
	name = search_sender_display(root->sender, root->sender_name);
	fmt_date(date, root->date);
	notice_vars_own(&v, "name", name);
	notice_vars_oneline(&v, "subject", root->subject);
	notice_vars_set(&v, "date", date);
	notice_vars_own(&v, "excerpt", question_text(a, root->message));
	how.from = from;
	how.to = list;
	how.reply_to = list;
	how.in_reply_to = root->message_id;
	if (compose_from_template(a->c, a->l, "report-remind", v.v, v.n, &how,
				  &raw, &err) < 0) {
		log_error("list=%s: reminder not sent: %s", a->l->name, err);
		free(err);
		*a->broken = true;
		rc = 0;
	} else if (msg_parse(&m, raw.data, raw.len, &lim, NULL) != MSG_OK) {
		log_error("list=%s: reminder not sent: its header is too big",
			  a->l->name);
		*a->broken = true;
		rc = 0;
	} else {
		char marker[ONECLICK_MARKER_MAX];
		bool oneclick = oneclick_marker(a->l, marker);

		rewrite_params_from_conf(&p, a->c, a->l, NULL);
		p.reply_to = REPLYTO_LIST;
		p.from_munging = FROMMUNGE_NONE;
		p.unsubscribe_token = oneclick ? marker : NULL;
		(void)rewrite_post(&m, &p, &rerr);
		msg_write(&m, &data);
		{
			struct store_job_new j = {
				.list = a->l->name, .kind = JOB_POST,
				.audience = AUDIENCE_MAIL, .env_from = env,
				.data = data.data, .len = data.len,
				.token_marker = oneclick ? marker : NULL,
			};

			rc = store_job_queue(a->s, &j, NULL);
		}
	}
	msg_free(&m);
	buf_free(&raw);
	buf_free(&data);
	notice_vars_free(&v);
	free(from);
	free(list);
	free(env);
	return rc;
}

static int run_remind(struct act *a, const char *arg)
{
	struct thread_entry *v = NULL;
	struct store_archived root = { 0 };
	int64_t id = strtoll(arg, NULL, 10), thread = 0;
	size_t n = 0, i;
	bool found = false, answered = false, lately;
	char idb[24], when[16];
	int rc = 0;

	if (thread_resolve(a->s, a->l->name, id, &thread, &found) < 0)
		return -1;
	snprintf(idb, sizeof idb, "%lld", (long long)thread);
	if (!found) {
		answer(a, "remind-not-found", "id", arg, NULL);
		return 0;
	}
	if (thread_list(a->s, thread, false, &v, &n) < 0 ||
	    (n > 0 && store_archive_get(a->s, v[0].archive, &root,
					&found) < 0)) {
		thread_entries_free(&v, n);
		return -1;
	}
	for (i = 1; i < n; i++)
		if (v[i].sender == NULL || root.sender == NULL ||
		    strcmp(v[i].sender, root.sender) != 0)
			answered = true;
	if (n == 0 || !found)
		answer(a, "remind-not-found", "id", idb, NULL);
	else if (answered)
		answer(a, "remind-answered", "id", idb, "subject",
		       root.subject, NULL);
	else if ((rc = done_lately(a, "report.remind", idb, DAY, &lately,
				   when)) < 0)
		;
	else if (lately)
		answer(a, "remind-already", "id", idb, "subject",
		       root.subject, "date", when, NULL);
	else if ((rc = post_reminder(a, &root)) == 0 &&
		 (rc = store_event_add(a->s, a->l->name, "report.remind",
				       a->sender, thread, idb)) == 0)
		answer(a, "remind-sent", "id", idb, "subject", root.subject,
		       NULL);
	store_archived_clear(&root);
	thread_entries_free(&v, n);
	return rc;
}

/* The member an argument names ("m17" or an address): *address_r newly
 * allocated, NULL when not a member of l. */
static int target(struct act *a, const char *arg, char **address_r,
		  struct store_member *m)
{
	bool found = false;
	char *addr = NULL;

	*address_r = NULL;
	if (arg[0] == 'm' && strchr(arg, '@') == NULL) {
		if (store_report_member_address(a->s, a->l->name,
						strtoll(arg + 1, NULL, 10),
						&addr) < 0)
			return -1;
	} else {
		addr = addr_normalize(arg, a->c->local_part_case_sensitive);
	}
	if (addr != NULL &&
	    store_member_get(a->s, a->l->name, addr, m, &found) < 0) {
		free(addr);
		return -1;
	}
	if (found)
		*address_r = addr;
	else
		free(addr);
	return 0;
}

/* welcome (thank false) or thank. */
static int run_greet(struct act *a, const char *arg, bool thank)
{
	const char *kind = thank ? "report.thank" : "report.welcome";
	char *from = xasprintf("%s-owner@%s", a->l->name, a->c->domain);
	struct notice how = { .from = from, .reply_to = a->sender };
	struct store_member m = { 0 };
	struct notice_vars v;
	char *addr = NULL, when[16], joined[16];
	bool lately = false;
	int rc = target(a, arg, &addr, &m);

	if (rc == 0 && addr == NULL)
		answer(a, "report-not-member", "address", arg, NULL);
	if (rc < 0 || addr == NULL)
		goto out;
	rc = done_lately(a, kind, addr, thank ? WEEK : 0, &lately, when);
	if (rc == 0 && lately) {
		answer(a, thank ? "thank-already" : "welcome-already",
		       "address", addr, "date", when, NULL);
		goto out;
	}
	notice_vars_init(&v, a->c, a->l);
	fmt_date(joined, m.subscribed_at);
	notice_vars_set(&v, "address", addr);
	notice_vars_oneline(&v, "name", m.name != NULL ? m.name : "");
	notice_vars_set(&v, "sender", a->sender);
	notice_vars_set(&v, "date", joined);
	if (rc == 0)
		rc = notice_send(a->s, a->c, a->l, thank ? "report-thank" :
				 "report-welcome", &v, &how,
				 (const char *const *)&addr, 1);
	notice_vars_free(&v);
	if (rc == 0)
		rc = store_event_add(a->s, a->l->name, kind, a->sender, m.id,
				     addr);
	if (rc == 0)
		answer(a, thank ? "thank-sent" : "welcome-sent", "address",
		       addr, NULL);
out:
	store_member_clear(&m);
	free(addr);
	free(from);
	return rc;
}

struct expert {
	char *address, *name;
	int64_t count;
};

static int by_count(const void *x, const void *y)
{
	const struct expert *a = x, *b = y;

	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	return strcmp(a->address, b->address);
}

/* Adds the members who answered in thread `thread` to v. */
static int tally_thread(struct act *a, int64_t thread, struct expert **v,
			size_t *n)
{
	struct store_report_person *p = NULL;
	size_t np = 0, i, k;

	if (store_report_thread_helpers(a->s, a->l->name, thread, &p,
					&np) < 0)
		return -1;
	for (i = 0; i < np; i++) {
		if (p[i].member == 0)
			continue;       /* members only */
		for (k = 0; k < *n && strcmp((*v)[k].address, p[i].address);
		     k++)
			;
		if (k == *n) {
			*v = xreallocarray(*v, *n + 1, sizeof **v);
			(*v)[k] = (struct expert){ xstrdup(p[i].address),
				p[i].name ? xstrdup(p[i].name) : NULL, 0 };
			(*n)++;
		}
		(*v)[k].count += p[i].count;
	}
	store_report_people_free(&p, np);
	return 0;
}

static void say_experts(struct act *a, const struct search_query *q,
			struct expert *v, size_t n, size_t threads,
			bool member)
{
	char count[24];
	size_t i;

	if (n == 0) {
		answer(a, "experts-none", "query", q->shown, NULL);
		return;
	}
	qsort(v, n, sizeof *v, by_count);
	snprintf(count, sizeof count, "%zu", threads);
	answer(a, "experts", "query", q->shown, "count", count, NULL);
	for (i = 0; i < n && i < EXPERTS; i++) {
		/* Addresses only to members (and the list's people). */
		char *name = member ? person(v[i].address, v[i].name) :
			     search_sender_display(v[i].address, v[i].name);

		snprintf(count, sizeof count, "%lld", (long long)v[i].count);
		answer(a, "experts-entry", "name", name, "count", count, NULL);
		free(name);
	}
}

static int run_experts(struct act *a, const struct request_cmd *cmd)
{
	struct search_query q;
	struct search_result res = { 0 };
	struct expert *v = NULL;
	enum search_error e;
	bool ok, member;
	size_t n = 0, i;
	char max[24];
	int rc = 0;

	if (archive_may_read(a->s, a->l, a->sender, &ok, &member) < 0)
		return -1;
	if (!ok) {
		retrieve_line(a->c, a->l, a->out,
			      a->l->archive_access == ARCHIVE_PRIVATE ?
			      "archive-private" : "archive-members-only", NULL);
		return 0;
	}
	snprintf(max, sizeof max, "%d", SEARCH_QUERY_MAX);
	e = cmd->arg_cut ? SEARCH_TOO_LONG :
	    search_parse(cmd->arg, strlen(cmd->arg), &q);
	if (e != SEARCH_OK) {
		retrieve_line(a->c, a->l, a->out, search_error_key(e), "limit",
			      max, NULL);
		return 0;
	}
	if (search_run(a->s, a->l->name, &q, SEARCH_RESULTS_MAX, &res) < 0)
		rc = -1;
	for (i = 0; rc == 0 && i < res.n; i++)
		rc = tally_thread(a, res.v[i].thread, &v, &n);
	if (rc == 0)
		say_experts(a, &q, v, n, res.n, member);
	for (i = 0; i < n; i++) {
		free(v[i].address);
		free(v[i].name);
	}
	free(v);
	search_result_free(&res);
	search_query_free(&q);
	return rc;
}

bool report_verb(enum request_verb v)
{
	return v == REQ_REMIND || v == REQ_WELCOME || v == REQ_THANK ||
	       v == REQ_EXPERTS;
}

int report_command(struct store *s, const struct conf *c,
		   const struct conf_list *l, const char *sender,
		   const struct request_cmd *cmd, struct buf *out,
		   bool *broken_r)
{
	struct act a = { s, c, l, sender, out, broken_r };

	/* Threads and the index as of every post accepted before. */
	if (archive_index_pending(s, c, SIZE_MAX, NULL) < 0)
		return -1;
	if (cmd->verb == REQ_EXPERTS)
		return run_experts(&a, cmd);
	if (!conf_list_is_leader(l, sender)) {
		answer(&a, "report-leaders-only", NULL);
		return 0;
	}
	switch (cmd->verb) {
	case REQ_REMIND:
		return run_remind(&a, cmd->arg);
	case REQ_WELCOME:
		return run_greet(&a, cmd->arg, false);
	case REQ_THANK:
		return run_greet(&a, cmd->arg, true);
	default:
		return 0;
	}
}
