/* retrieve - the archive by mail, and curation by leaders' mail */
#include "autoconf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pipeline/retrieve.h"
#include "pipeline/archive.h"
#include "pipeline/notice.h"
#include "pipeline/search.h"
#include "pipeline/thread.h"
#include "base/buf.h"
#include "base/conf.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "mail/compose.h"
#include "mail/msg.h"
#include "mail/rewrite.h"
#include "store/store.h"
#include "store/store_archive.h"

/* Indentation of a reply in a thread listing stops growing here. */
#define INDENT_MAX 8

void retrieve_init(struct retrieve *r, struct store *s, const struct conf *c,
		   const struct conf_list *l, const char *sender,
		   int64_t replied, struct buf *out)
{
	memset(r, 0, sizeof *r);
	r->s = s;
	r->c = c;
	r->l = l;
	r->sender = sender;
	r->replied = replied;
	r->out = out;
	r->reader = -1;
}

void retrieve_free(struct retrieve *r)
{
	size_t i;

	for (i = 0; i < r->nparts; i++)
		free((char *)r->parts[i].data);
	xfree(&r->parts);
	r->nparts = r->bytes = 0;
}

bool retrieve_verb(enum request_verb v)
{
	switch (v) {
	case REQ_INDEX:
	case REQ_THREAD:
	case REQ_GET:
	case REQ_SEARCH:
	case REQ_FAQ:
	case REQ_RESOLVED:
	case REQ_TAG:
		return true;
	default:
		return false;
	}
}

int retrieve_replied(struct store *s, const struct conf_list *l,
		     const struct msg *m, int64_t *id_r)
{
	char *irt = msg_in_reply_to(m);
	char **refs = NULL;
	size_t n = 0;
	int rc;

	*id_r = 0;
	if (irt == NULL) {
		refs = msg_references(m);
		while (refs[n] != NULL)
			n++;
	}
	if (irt != NULL)
		rc = store_archive_find(s, l->name, irt, id_r);
	else
		rc = n > 0 ? store_archive_find(s, l->name, refs[n - 1],
						id_r) : 0;
	free(irt);
	msg_idlist_free(&refs);
	return rc;
}

/* ---- lines of the answer ---- */

static void vline(const struct conf *c, const struct conf_list *l,
		  const char *address, struct buf *out, const char *key,
		  va_list ap)
{
	/* Every name the template may use is set, so that any line
	 * renders. */
	static const char *const names[] = {
		"id", "thread_id", "date", "count", "replies", "indent",
		"subject", "name", "excerpt", "query", "matches", "total",
		"title", "tag", "ids", "limit", "kb", NULL
	};
	struct notice_vars v;
	const char *name;
	size_t i;

	notice_vars_init(&v, c, l);
	for (i = 0; names[i] != NULL; i++)
		notice_vars_set(&v, names[i], "");
	notice_vars_set(&v, "address", address);
	while ((name = va_arg(ap, const char *)) != NULL)
		notice_vars_oneline(&v, name, va_arg(ap, const char *));
	notice_line_wrapped(c, l, "archive-lines", key, &v, out);
	notice_vars_free(&v);
}

void retrieve_line(const struct conf *c, const struct conf_list *l,
		   struct buf *out, const char *key, ...)
{
	va_list ap;

	va_start(ap, key);
	vline(c, l, NULL, out, key, ap);
	va_end(ap);
}

/* A line of the answer. */
static void say(struct retrieve *r, const char *key, ...)
{
	va_list ap;

	va_start(ap, key);
	vline(r->c, r->l, r->sender, r->out, key, ap);
	va_end(ap);
}

static void fmt_id(char dst[24], int64_t id)
{
	snprintf(dst, 24, "%lld", (long long)id);
}

static void fmt_date(char dst[16], time_t t)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(dst, 16, "%Y-%m-%d", &tm) == 0)
		snprintf(dst, 16, "?");
}

/* Whether the sender may read; says why not when not. */
static int may_read(struct retrieve *r, bool *ok_r)
{
	bool ok;

	if (r->reader < 0) {
		if (archive_may_read(r->s, r->l, r->sender, &ok,
				     &r->member) < 0)
			return -1;
		r->reader = ok ? 1 : 0;
	}
	*ok_r = r->reader == 1;
	if (!*ok_r)
		say(r, r->l->archive_access == ARCHIVE_PRIVATE ?
		    "archive-private" : "archive-members-only", NULL);
	return 0;
}

/* ---- attachments ---- */

/* The stored bytes as a message to attach: LF line ends, no mbox From_
 * line; for a reader who is not a member, with no address in its
 * header. Newly allocated, or NULL when they do not parse. */
static char *attachable(struct retrieve *r, const char *raw, size_t len,
			size_t *len_r)
{
	struct msg_limits limits = {
		.max_header_bytes = (size_t)r->c->limits.max_header_kb * 1024,
		.max_headers = (size_t)r->c->limits.max_headers,
	};
	struct msg m = { 0 };
	struct buf out = BUF_INIT;

	if (msg_parse(&m, raw, len, &limits, NULL) != MSG_OK) {
		msg_free(&m);
		return NULL;
	}
	if (!r->member)
		rewrite_public_copy(&m);
	msg_write(&m, &out);
	msg_free(&m);
	return buf_steal(&out, len_r);
}

/* Attaches archived message `id` when it fits in archive.answer_kb; a
 * message that does not fit goes to left_out. */
static int attach(struct retrieve *r, int64_t id, struct buf *left_out)
{
	struct store_archived a = { 0 };
	char *raw = NULL, *data, idb[24];
	size_t len = 0, n = 0;
	bool found;
	int rc = 0;

	if (store_archive_get(r->s, id, &a, &found) < 0 ||
	    (found && store_message_get(r->s, a.message, &raw, &len) < 0)) {
		store_archived_clear(&a);
		return -1;
	}
	data = found ? attachable(r, raw, len, &n) : NULL;
	fmt_id(idb, id);
	if (data != NULL &&
	    r->bytes + n <= (size_t)r->l->archive_answer_kb * 1024) {
		r->parts = xreallocarray(r->parts, r->nparts + 1,
					 sizeof *r->parts);
		r->parts[r->nparts].data = data;
		r->parts[r->nparts].len = n;
		r->nparts++;
		r->bytes += n;
	} else {
		free(data);
		buf_printf(left_out, "%s%s", left_out->len > 0 ? " " : "",
			   idb);
	}
	free(raw);
	store_archived_clear(&a);
	return rc;
}

static void say_left_out(struct retrieve *r, const struct buf *left_out)
{
	char kb[24];

	if (left_out->len == 0)
		return;
	fmt_id(kb, r->l->archive_answer_kb);
	say(r, "left-out", "ids", buf_cstr(left_out), "kb", kb, NULL);
}

/* ---- reading ---- */

static int run_index(struct retrieve *r, const struct request_cmd *cmd)
{
	struct store_thread *v = NULL;
	size_t n = 0, i, limit = 10;
	bool ok;

	if (may_read(r, &ok) < 0)
		return -1;
	if (!ok)
		return 0;
	if (cmd->arg != NULL) {
		limit = (size_t)strtoul(cmd->arg, NULL, 10);
		if (limit == 0)
			limit = 10;
		if (limit > RETRIEVE_INDEX_MAX)
			limit = RETRIEVE_INDEX_MAX;
	}
	if (archive_latest(r->s, r->l, limit, &v, &n) < 0)
		return -1;
	if (n == 0)
		say(r, "index-empty", NULL);
	else {
		char count[24];

		fmt_id(count, (int64_t)n);
		say(r, "index", "count", count, NULL);
	}
	for (i = 0; i < n; i++) {
		char id[24], msgs[24], replies[24], date[16];

		fmt_id(id, v[i].id);
		fmt_id(msgs, v[i].messages);
		fmt_id(replies, v[i].messages - 1);
		fmt_date(date, v[i].last_date);
		say(r, v[i].resolved_at != 0 ? "index-entry-resolved" :
		    "index-entry", "thread_id", id, "count", msgs, "replies",
		    replies, "date", date, "subject",
		    v[i].subject ? v[i].subject : "", NULL);
	}
	store_threads_free(&v, n);
	return 0;
}

static int run_thread(struct retrieve *r, const struct request_cmd *cmd)
{
	struct thread_entry *v = NULL;
	struct store_thread t = { 0 };
	struct buf left_out = BUF_INIT;
	int64_t id = cmd->arg != NULL ? strtoll(cmd->arg, NULL, 10) : 0;
	int64_t thread;
	size_t n = 0, i;
	char tid[24], count[24];
	bool ok, found;
	int rc = 0;

	if (may_read(r, &ok) < 0)
		return -1;
	if (!ok)
		return 0;
	if (thread_resolve(r->s, r->l->name, id, &thread, &found) < 0)
		return -1;
	if (!found) {
		fmt_id(tid, id);
		say(r, "not-found", "id", tid, NULL);
		return 0;
	}
	if (store_thread_get(r->s, r->l->name, thread, &t, &found) < 0 ||
	    thread_list(r->s, thread, false, &v, &n) < 0) {
		store_thread_clear(&t);
		return -1;
	}
	fmt_id(tid, thread);
	fmt_id(count, (int64_t)n);
	say(r, "thread", "thread_id", tid, "count", count, "subject",
	    t.subject ? t.subject : "", NULL);
	for (i = 0; rc == 0 && i < n; i++) {
		char mid[24], date[16], indent[2 * INDENT_MAX + 1];
		char *name = search_sender_display(v[i].sender,
						   v[i].sender_name);
		int d = v[i].depth < INDENT_MAX ? v[i].depth : INDENT_MAX;

		memset(indent, ' ', (size_t)(2 * d));
		indent[2 * d] = '\0';
		fmt_id(mid, v[i].archive);
		fmt_date(date, v[i].date);
		say(r, "thread-entry", "indent", indent, "id", mid, "date",
		    date, "name", name, "subject",
		    v[i].subject ? v[i].subject : "", NULL);
		free(name);
		rc = attach(r, v[i].archive, &left_out);
	}
	if (rc == 0)
		say_left_out(r, &left_out);
	buf_free(&left_out);
	thread_entries_free(&v, n);
	store_thread_clear(&t);
	return rc;
}

static int run_get(struct retrieve *r, const struct request_cmd *cmd)
{
	struct buf left_out = BUF_INIT;
	const char *p = cmd->arg;
	size_t n = 0;
	bool ok;
	int rc = 0;

	if (may_read(r, &ok) < 0)
		return -1;
	if (!ok)
		return 0;
	while (rc == 0 && p != NULL && *p != '\0') {
		struct store_archived a = { 0 };
		char *end, idb[24], date[16], *name;
		long long id;
		bool found;

		errno = 0;
		id = strtoll(p, &end, 10);
		if (end == p)
			break;
		p = end;
		if (++n > RETRIEVE_GET_MAX) {
			fmt_id(idb, RETRIEVE_GET_MAX);
			say(r, "get-too-many", "count", idb, NULL);
			break;
		}
		fmt_id(idb, id);
		if (errno != 0 ||
		    store_archive_get(r->s, id, &a, &found) < 0) {
			rc = errno != 0 ? 0 : -1;
			store_archived_clear(&a);
			if (rc == 0)
				say(r, "not-found", "id", idb, NULL);
			continue;
		}
		if (!found || a.list == NULL ||
		    strcmp(a.list, r->l->name) != 0) {
			say(r, "not-found", "id", idb, NULL);
			store_archived_clear(&a);
			continue;
		}
		name = search_sender_display(a.sender, a.sender_name);
		fmt_date(date, a.date);
		say(r, "get-entry", "id", idb, "date", date, "name", name,
		    "subject", a.subject ? a.subject : "", NULL);
		free(name);
		store_archived_clear(&a);
		rc = attach(r, id, &left_out);
	}
	if (rc == 0)
		say_left_out(r, &left_out);
	buf_free(&left_out);
	return rc;
}

static int run_search(struct retrieve *r, const struct request_cmd *cmd)
{
	struct search_query q;
	struct search_result res;
	enum search_error e;
	size_t i;
	char total[24], max[24];
	bool ok;

	if (may_read(r, &ok) < 0)
		return -1;
	if (!ok)
		return 0;
	fmt_id(max, SEARCH_QUERY_MAX);
	e = cmd->arg_cut ? SEARCH_TOO_LONG :
	    search_parse(cmd->arg, strlen(cmd->arg), &q);
	if (e != SEARCH_OK) {
		say(r, search_error_key(e), "limit", max, NULL);
		say(r, "search-help", NULL);
		return 0;
	}
	if (search_run(r->s, r->l->name, &q, (size_t)r->l->archive_results,
		       &res) < 0) {
		search_query_free(&q);
		return -1;
	}
	fmt_id(total, res.threads);
	if (res.n == 0)
		say(r, "search-none", "query", q.shown, NULL);
	else
		say(r, "search", "query", q.shown, "total", total, NULL);
	for (i = 0; i < res.n; i++) {
		struct search_hit *h = &res.v[i];
		char tid[24], mid[24], matches[24], count[24], date[16];

		fmt_id(tid, h->thread);
		fmt_id(mid, h->archive);
		fmt_id(matches, h->matches);
		fmt_id(count, h->messages);
		fmt_date(date, h->date);
		say(r, "search-entry", "thread_id", tid, "id", mid, "date",
		    date, "name", h->sender_name, "subject", h->subject,
		    "matches", matches, "count", count, NULL);
		say(r, "search-excerpt", "excerpt", h->excerpt, NULL);
	}
	search_result_free(&res);
	search_query_free(&q);
	return 0;
}

static int show_faq(struct retrieve *r)
{
	struct store_faq *v = NULL;
	size_t n = 0, i;
	bool ok;

	if (may_read(r, &ok) < 0)
		return -1;
	if (!ok)
		return 0;
	if (archive_faq(r->s, r->l, 0, &v, &n) < 0)
		return -1;
	say(r, n == 0 ? "faq-empty" : "faq", NULL);
	for (i = 0; i < n; i++) {
		char id[24], tid[24], date[16];

		fmt_id(id, v[i].archive);
		fmt_id(tid, v[i].thread);
		fmt_date(date, v[i].added_at);
		say(r, "faq-entry", "id", id, "thread_id", tid, "date", date,
		    "title", v[i].title != NULL ? v[i].title :
		    v[i].subject != NULL ? v[i].subject : "", NULL);
	}
	store_faq_free(&v, n);
	return 0;
}

/* ---- curation ---- */

/* Splits "[ID] rest": *id_r the number when the arg starts with one (else
 * r->replied), *rest_r what follows (may be NULL). */
static void id_and_rest(struct retrieve *r, const char *arg, int64_t *id_r,
			const char **rest_r)
{
	char *end;
	long long id;

	*id_r = r->replied;
	*rest_r = arg;
	if (arg == NULL)
		return;
	errno = 0;
	id = strtoll(arg, &end, 10);
	if (end != arg && errno == 0 && (*end == '\0' || *end == ' ')) {
		*id_r = id;
		while (*end == ' ')
			end++;
		*rest_r = *end != '\0' ? end : NULL;
	}
}

static int curate(struct retrieve *r, enum archive_curation what,
		  int64_t id, const char *arg)
{
	static const char *const done[] = {
		"faq-added", "resolved", "tagged"
	};
	static const char *const already[] = {
		"faq-already", "resolved-already", "tagged-already"
	};
	enum archive_curated res;
	char idb[24];

	fmt_id(idb, id);
	if (!archive_may_curate(r->l, r->sender)) {
		say(r, "leaders-only", NULL);
		return 0;
	}
	if (id <= 0) {
		say(r, "curate-no-id", NULL);
		return 0;
	}
	if (archive_curate(r->s, r->l, what, id, arg, r->sender, &res) < 0)
		return -1;
	switch (res) {
	case CURATED:
		say(r, done[what], "id", idb, "title", arg ? arg : "", "tag",
		    arg ? arg : "", NULL);
		break;
	case CURATED_ALREADY:
		say(r, already[what], "id", idb, "title", arg ? arg : "",
		    "tag", arg ? arg : "", NULL);
		break;
	case CURATED_NOT_FOUND:
		say(r, "not-found", "id", idb, NULL);
		break;
	case CURATED_BAD_TAG:
		say(r, "bad-tag", "tag", arg ? arg : "", NULL);
		break;
	}
	return 0;
}

static int run_faq(struct retrieve *r, const struct request_cmd *cmd)
{
	int64_t id;
	const char *title;

	id_and_rest(r, cmd->arg, &id, &title);
	/* "faq" alone, not in a reply to a post: the FAQ. A title without
	 * an id outside a reply is a reader's words, not a command. */
	if (id == 0)
		return show_faq(r);
	return curate(r, CURATE_FAQ, id, title);
}

static int run_resolved(struct retrieve *r, const struct request_cmd *cmd)
{
	int64_t id;
	const char *rest;

	id_and_rest(r, cmd->arg, &id, &rest);
	return curate(r, CURATE_RESOLVED, id, NULL);
}

static int run_tag(struct retrieve *r, const struct request_cmd *cmd)
{
	int64_t id;
	const char *word;
	char *w;
	int rc;

	id_and_rest(r, cmd->arg, &id, &word);
	if (word == NULL) {
		say(r, "bad-tag", "tag", "", NULL);
		return 0;
	}
	w = xstrndup(word, strcspn(word, " "));
	rc = curate(r, CURATE_TAG, id, w);
	free(w);
	return rc;
}

int retrieve_run(struct retrieve *r, const struct request_cmd *cmd)
{
	/* Threads and the index as of every post accepted before. */
	if (archive_index_pending(r->s, r->c, SIZE_MAX, NULL) < 0)
		return -1;
	switch (cmd->verb) {
	case REQ_INDEX:
		return run_index(r, cmd);
	case REQ_THREAD:
		return run_thread(r, cmd);
	case REQ_GET:
		return run_get(r, cmd);
	case REQ_SEARCH:
		return run_search(r, cmd);
	case REQ_FAQ:
		return run_faq(r, cmd);
	case REQ_RESOLVED:
		return run_resolved(r, cmd);
	case REQ_TAG:
		return run_tag(r, cmd);
	default:
		return 0;
	}
}
