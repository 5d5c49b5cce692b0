/* digest - periodic digests: MIME (RFC 2046 multipart/digest) and plain
 * text (RFC 1153) */
#include "autoconf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "pipeline/digest.h"
#include "pipeline/archive.h"
#include "pipeline/footer.h"
#include "base/buf.h"
#include "base/conf.h"
#include "base/log.h"
#include "base/schedule.h"
#include "base/template.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "mail/oneclick.h"
#include "mail/compose.h"
#include "mail/content.h"
#include "mail/mime.h"
#include "mail/msg.h"
#include "mail/reply.h"
#include "mail/rewrite.h"
#include "store/store.h"
#include "store/store_digest.h"

/* RFC 1153: the line after the preamble, and the one between messages. */
#define SEP70 "--------------------------------------------------------------" \
	"--------"
#define SEP30 "------------------------------"
/* RFC 5322: no line longer than this without an encoding. */
#define LINE_MAX_BYTES 998
/* Issues one pass may send for one list (each takes at most max_messages
 * posts): a backlog goes out over the next passes. */
#define ISSUES_PER_PASS 100
/* Distinct senders named for one thread in the table of contents. */
#define SENDERS_MAX 12

/* ---- the part of a post ---- */

void digest_part(const struct msg *m, const struct rewrite_params *p,
		 struct buf *out)
{
	struct buf raw = BUF_INIT;
	struct msg copy = { 0 };

	msg_write(m, &raw);
	/* m was parsed under the configured limits: its copy parses. */
	if (msg_parse(&copy, raw.data, raw.len, NULL, NULL) != MSG_OK) {
		buf_append(out, raw.data, raw.len);
		buf_free(&raw);
		msg_free(&copy);
		return;
	}
	rewrite_digest_part(&copy, p);
	msg_write(&copy, out);
	msg_free(&copy);
	buf_free(&raw);
}

int digest_add_post(struct store *s, const struct conf_list *l,
		    int64_t archive, const struct buf *part, int64_t *seq_r)
{
	return store_digest_item_add(s, l->name, archive, buf_cstr(part),
				     part->len, seq_r);
}

/* ---- placeholders ---- */

#define VARS_MAX (TEMPLATE_LIST_VARS + 16)

struct vars {
	struct template_var v[VARS_MAX];
	char *own[VARS_MAX];
	size_t n;
	char **list_storage;
};

static void vars_init(struct vars *v, const struct conf *c,
		      const struct conf_list *l)
{
	memset(v, 0, sizeof *v);
	v->n = template_list_vars(c, l, v->v, &v->list_storage);
}

/* Sets name to value (taken: freed with the vars). */
static void vars_take(struct vars *v, const char *name, char *value)
{
	size_t i;

	for (i = 0; i < v->n; i++) {
		if (strcmp(v->v[i].name, name) == 0) {
			free(v->own[i]);
			v->own[i] = value;
			v->v[i].value = value;
			return;
		}
	}
	if (v->n == VARS_MAX)
		log_fatal("digest: too many placeholders");
	v->v[v->n].name = name;
	v->v[v->n].value = value;
	v->own[v->n] = value;
	v->n++;
}

static void vars_set(struct vars *v, const char *name, const char *value)
{
	vars_take(v, name, xstrdup(value ? value : ""));
}

static void vars_setf(struct vars *v, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void vars_setf(struct vars *v, const char *name, const char *fmt, ...)
{
	va_list ap;
	char *value;

	va_start(ap, fmt);
	value = xvasprintf(fmt, ap);
	va_end(ap);
	vars_take(v, name, value);
}

static void vars_free(struct vars *v)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		free(v->own[i]);
	template_vars_free(&v->list_storage);
}

/* ---- one issue ---- */

struct issue {
	const struct conf *c;
	const struct conf_list *l;
	struct store_digest_item *items;  /* seq order */
	size_t n;
	int64_t volume, number;
	time_t when;
	struct template_lines *lines;
	struct store_faq *faq;            /* added to the FAQ in the period */
	size_t nfaq;
	char marker[ONECLICK_MARKER_MAX];     /* of one-click tokens; "": none */
};

/* Posts of an issue in the order of its table of contents: threads in the
 * order of their first post, each thread's posts in sequence order. */
struct ord {
	int64_t thread;
	size_t first, idx;
};

static int by_thread(const void *a, const void *b)
{
	const struct ord *x = a, *y = b;

	if (x->thread != y->thread)
		return x->thread < y->thread ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int by_first(const void *a, const void *b)
{
	const struct ord *x = a, *y = b;

	if (x->first != y->first)
		return x->first < y->first ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* The masked posts in table-of-contents order (newly allocated). */
static struct ord *toc_order(const struct issue *is, const bool *mask,
			     size_t *m_r)
{
	struct ord *o = xcalloc(is->n ? is->n : 1, sizeof *o);
	size_t m = 0, i;

	for (i = 0; i < is->n; i++) {
		if (!mask[i])
			continue;
		o[m].thread = is->items[i].thread;
		o[m].idx = i;
		m++;
	}
	qsort(o, m, sizeof *o, by_thread);
	for (i = 0; i < m; i++)
		o[i].first = i > 0 && o[i - 1].thread == o[i].thread ?
			     o[i - 1].first : o[i].idx;
	qsort(o, m, sizeof *o, by_first);
	*m_r = m;
	return o;
}

/* One line of text for a header-like place: controls become spaces. */
static char *one_line(const char *s)
{
	char *out = xstrdup(s ? s : ""), *p;

	for (p = out; *p; p++)
		if ((unsigned char)*p < 32 || *p == 127)
			*p = ' ';
	return util_trim(out);
}

/* A post's subject for the table of contents: one line, without the
 * list's prefix (wherever the poster's client piled it up) but with one
 * "Re:" for a reply. */
static char *toc_subject(const struct issue *is, const char *subject)
{
	const char *prefix = is->l->subject_prefix;
	char *line = one_line(subject), *clean, *p;
	size_t plen;

	if (prefix == NULL || *prefix == '\0')
		return line;
	clean = rewrite_subject(line, prefix);
	free(line);
	plen = strlen(prefix);
	while (plen > 0 && (prefix[plen - 1] == ' ' || prefix[plen - 1] == '\t'))
		plen--;
	p = clean;
	if (strncasecmp(p, prefix, plen) == 0) {
		p += plen;
		while (*p == ' ')
			p++;
	}
	line = xstrdup(p);
	free(clean);
	return line;
}

static char *sender_label(const struct store_digest_item *it)
{
	if (it->sender_name != NULL && *it->sender_name != '\0')
		return one_line(it->sender_name);
	return one_line(it->sender);
}

/* Renders line `key` of digest-lines with v and a newline into out. */
static int line(const struct issue *is, const char *key,
		const struct vars *v, struct buf *out, char **error_r)
{
	if (template_lines_render(is->lines, key, v->v, v->n, out,
				  error_r) < 0)
		return -1;
	buf_putc(out, '\n');
	return 0;
}

/* The distinct senders of posts o[from..to) ("A, B, C", at most
 * SENDERS_MAX of them, then "..."). Newly allocated. */
static char *senders_of(const struct issue *is, const struct ord *o,
			size_t from, size_t to)
{
	struct buf out = BUF_INIT;
	char *names[SENDERS_MAX];
	size_t nnames = 0, j, k;
	bool more = false;

	for (j = from; j < to; j++) {
		char *name = sender_label(&is->items[o[j].idx]);

		for (k = 0; k < nnames; k++)
			if (strcmp(names[k], name) == 0)
				break;
		if (k < nnames || *name == '\0') {
			free(name);
		} else if (nnames == SENDERS_MAX) {
			more = true;
			free(name);
		} else {
			names[nnames++] = name;
		}
	}
	for (k = 0; k < nnames; k++) {
		buf_printf(&out, "%s%s", k ? ", " : "", names[k]);
		free(names[k]);
	}
	if (more)
		buf_puts(&out, ", ...");
	return buf_steal(&out, NULL);
}

/* The table of contents: each thread with its count and senders, then its
 * posts numbered in the issue's order. */
static int toc_threads(const struct issue *is, const struct ord *o, size_t m,
		       struct vars *v, struct buf *toc, char **error_r)
{
	size_t i = 0, j, number = 0;

	while (i < m) {
		const struct store_digest_item *first = &is->items[o[i].idx];

		for (j = i; j < m && o[j].thread == o[i].thread; j++)
			;
		vars_take(v, "subject", toc_subject(is, first->thread_subject ?
						    first->thread_subject :
						    first->subject));
		vars_setf(v, "count", "%zu", j - i);
		vars_take(v, "senders", senders_of(is, o, i, j));
		if (line(is, j - i == 1 ? "thread-one" : "thread", v, toc,
			 error_r) < 0)
			return -1;
		for (; i < j; i++) {
			const struct store_digest_item *it =
				&is->items[o[i].idx];

			vars_setf(v, "number", "%zu", ++number);
			vars_take(v, "subject", toc_subject(is, it->subject));
			vars_take(v, "sender", sender_label(it));
			if (line(is, "message", v, toc, error_r) < 0)
				return -1;
		}
	}
	return 0;
}

/* Threads that started in this issue and have no reply anywhere. */
static int toc_unanswered(const struct issue *is, const struct ord *o,
			  size_t m, struct vars *v, struct buf *out,
			  char **error_r)
{
	size_t i, n = 0;

	for (i = 0; i < m; i++) {
		const struct store_digest_item *it = &is->items[o[i].idx];

		if (it->parent != 0 || it->thread_posts > 1)
			continue;
		if (n++ == 0) {
			buf_putc(out, '\n');
			if (line(is, "unanswered", v, out, error_r) < 0)
				return -1;
		}
		vars_setf(v, "number", "%zu", i + 1);
		vars_take(v, "subject", toc_subject(is, it->subject));
		vars_take(v, "sender", sender_label(it));
		if (line(is, "unanswered-thread", v, out, error_r) < 0)
			return -1;
	}
	return 0;
}

/* What the leaders added to the archive's FAQ in the period. */
static int toc_faq(const struct issue *is, struct vars *v, struct buf *out,
		   char **error_r)
{
	size_t i;

	for (i = 0; i < is->nfaq; i++) {
		const struct store_faq *e = &is->faq[i];

		if (i == 0) {
			buf_putc(out, '\n');
			if (line(is, "faq", v, out, error_r) < 0)
				return -1;
		}
		vars_setf(v, "id", "%lld", (long long)e->archive);
		vars_take(v, "title", toc_subject(is, e->title && *e->title ?
						  e->title : e->subject));
		if (line(is, "faq-entry", v, out, error_r) < 0)
			return -1;
	}
	return 0;
}

static bool all_ascii(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return false;
	return true;
}

static bool lines_fit(const char *s, size_t n)
{
	size_t i, col = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '\n') {
			col = 0;
		} else if (++col > LINE_MAX_BYTES || s[i] == '\0' ||
			   s[i] == '\r') {
			return false;
		}
	}
	return true;
}

/* The body of a text part: as it is when it can go as 7bit or 8bit,
 * else quoted-printable. The Content-Transfer-Encoding field (with its
 * newline) goes to cte. */
static void text_body(const char *text, size_t len, struct buf *cte,
		      struct buf *out)
{
	if (!lines_fit(text, len)) {
		buf_puts(cte, "Content-Transfer-Encoding: quoted-printable\n");
		compose_qp(text, out);
		return;
	}
	buf_printf(cte, "Content-Transfer-Encoding: %s\n",
		   all_ascii(text, len) ? "7bit" : "8bit");
	buf_append(out, text, len);
	if (len > 0 && text[len - 1] != '\n')
		buf_putc(out, '\n');
}

/* Date, From, To, Subject, Message-ID, MIME-Version of an issue. */
static void issue_header(const struct issue *is, const char *subject,
			 struct buf *out)
{
	const struct conf *c = is->c;
	const char *name = is->l->name;
	char date[64], token[33], *enc;
	struct tm tm;

	gmtime_r(&is->when, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
	if (util_token(token) < 0)
		log_fatal("getrandom failed");
	enc = msg_encode_rfc2047(subject, strlen("Subject: "));
	buf_printf(out, "Date: %s\nFrom: %s-request@%s\nTo: %s@%s\n"
		   "Subject: %s\nMessage-ID: <convene.digest.%lld.%lld.%s@%s>\n"
		   "MIME-Version: 1.0\n", date, name, c->domain, name,
		   c->domain, enc, (long long)is->volume,
		   (long long)is->number, token, c->domain);
	free(enc);
}

/* A boundary that none of the texts holds. */
static void boundary(const struct issue *is, const bool *mask,
		     const char *masthead, const char *other, char dst[64])
{
	char token[33];
	size_t i;
	bool clash;

	do {
		if (util_token(token) < 0)
			log_fatal("getrandom failed");
		snprintf(dst, 64, "=_digest_%s", token);
		clash = strstr(masthead, dst) != NULL ||
			(other != NULL && strstr(other, dst) != NULL);
		for (i = 0; !clash && i < is->n; i++)
			clash = mask[i] && memmem(is->items[i].data,
						  is->items[i].len, dst,
						  strlen(dst)) != NULL;
	} while (clash);
}

/* MIME: a multipart/mixed of the table of contents (text/plain) and a
 * multipart/digest of the posts as message/rfc822 (RFC 2046 5.1.5). */
static void build_mime(const struct issue *is, const bool *mask,
		       const struct ord *o, size_t m, const char *subject,
		       const char *masthead, struct buf *out)
{
	char outer[64], inner[64];
	struct buf cte = BUF_INIT, text = BUF_INIT;
	bool eight = !all_ascii(masthead, strlen(masthead));
	size_t i;

	for (i = 0; i < m && !eight; i++)
		eight = !all_ascii(is->items[o[i].idx].data,
				   is->items[o[i].idx].len);
	boundary(is, mask, masthead, NULL, outer);
	boundary(is, mask, masthead, outer, inner);
	issue_header(is, subject, out);
	buf_printf(out, "Content-Type: multipart/mixed; boundary=\"%s\"\n",
		   outer);
	if (eight)
		buf_puts(out, "Content-Transfer-Encoding: 8bit\n");
	text_body(masthead, strlen(masthead), &cte, &text);
	buf_printf(out, "\n--%s\nContent-Type: text/plain; charset=utf-8\n"
		   "%s\n", outer, buf_cstr(&cte));
	buf_append(out, text.data, text.len);
	buf_printf(out, "\n--%s\nContent-Type: multipart/digest; "
		   "boundary=\"%s\"\n%s", outer, inner,
		   eight ? "Content-Transfer-Encoding: 8bit\n" : "");
	for (i = 0; i < m; i++) {
		const struct store_digest_item *it = &is->items[o[i].idx];

		buf_printf(out, "\n--%s\nContent-Type: message/rfc822\n%s\n",
			   inner, all_ascii(it->data, it->len) ? "" :
			   "Content-Transfer-Encoding: 8bit\n");
		buf_append(out, it->data, it->len);
		if (it->len > 0 && it->data[it->len - 1] != '\n')
			buf_putc(out, '\n');
	}
	buf_printf(out, "\n--%s--\n\n--%s--\n", inner, outer);
	buf_free(&cte);
	buf_free(&text);
}

/* A header field of a post for the plain digest, or nothing. */
static void plain_field(struct buf *out, const char *name, char *value)
{
	if (value != NULL) {
		char *v = one_line(value);

		if (*v != '\0')
			buf_printf(out, "%s: %s\n", name, v);
		free(v);
	}
	free(value);
}

/* Text with RFC 934 quoting: a line that starts with '-' gets "- " in
 * front, so that no line of a post reads as a separator. */
static void stuffed(struct buf *out, const char *text)
{
	const char *p = text;

	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		if (*p == '-')
			buf_puts(out, "- ");
		buf_append(out, p, n);
		buf_putc(out, '\n');
		p += n + (nl != NULL);
	}
}

/* One post of a plain digest: its fields, its text, what was left out. */
static int plain_post(const struct issue *is, struct vars *v,
		      const struct store_digest_item *it, size_t number,
		      struct buf *out, char **error_r)
{
	static char *text_types[] = { "text/*", NULL };
	struct conf_list only_text;
	struct mime_limits lim;
	struct msg m = { 0 };
	char *text, *removed = NULL;
	bool parsed;
	int rc = 0;

	mime_limits_from_conf(&lim, is->c);

	buf_printf(out, "Message: %zu\n", number);
	parsed = msg_parse(&m, it->data, it->len, NULL, NULL) == MSG_OK;
	if (parsed) {
		plain_field(out, "Date", msg_header_unfolded(&m, "Date"));
		plain_field(out, "From", msg_header_decoded(&m, "From"));
		plain_field(out, "Subject", msg_header_decoded(&m, "Subject"));
		plain_field(out, "Message-ID",
			    msg_header_unfolded(&m, "Message-ID"));
	}
	buf_putc(out, '\n');
	text = reply_text(it->data, it->len, &lim);
	if (text != NULL) {
		stuffed(out, text);
		free(text);
	} else {
		rc = line(is, "no-text", v, out, error_r);
	}
	/* What is not text (images, documents) is named, not shown. */
	memset(&only_text, 0, sizeof only_text);
	only_text.content_pass.v = text_types;
	only_text.content_pass.n = 1;
	if (rc == 0 && parsed &&
	    content_filter(&m, &only_text, &lim, &removed) == 0 &&
	    removed != NULL) {
		char *p = removed, *nl;

		buf_putc(out, '\n');
		for (; rc == 0 && *p != '\0'; p = nl ? nl + 1 : p + strlen(p)) {
			nl = strchr(p, '\n');
			if (nl != NULL)
				*nl = '\0';
			if (*p == '\0')
				continue;
			vars_set(v, "attachment", p);
			rc = line(is, "attachment", v, out, error_r);
		}
	}
	free(removed);
	msg_free(&m);
	return rc;
}

/* RFC 1153: the preamble (masthead and table of contents), a line of 70
 * hyphens, the posts separated by lines of 30 hyphens, the trailer. */
static int build_plain(const struct issue *is, struct vars *v,
		       const struct ord *o, size_t m, const char *subject,
		       const char *masthead, struct buf *out, char **error_r)
{
	struct buf body = BUF_INIT, cte = BUF_INIT, end = BUF_INIT;
	size_t i;
	int rc = 0;

	buf_puts(&body, masthead);
	while (body.len > 0 && (body.data[body.len - 1] == '\n' ||
				body.data[body.len - 1] == ' '))
		buf_truncate(&body, body.len - 1);
	buf_puts(&body, "\n\n" SEP70 "\n\n");
	for (i = 0; rc == 0 && i < m; i++) {
		rc = plain_post(is, v, &is->items[o[i].idx], i + 1, &body,
				error_r);
		buf_puts(&body, "\n" SEP30 "\n\n");
	}
	if (rc == 0 &&
	    template_lines_render(is->lines, "end", v->v, v->n, &end,
				  error_r) < 0)
		rc = -1;
	if (rc == 0) {
		char *e = one_line(buf_cstr(&end));
		size_t n = strlen(e);

		buf_printf(&body, "%s\n", e);
		while (n-- > 0)
			buf_putc(&body, '*');
		buf_putc(&body, '\n');
		free(e);
		issue_header(is, subject, out);
		buf_puts(out, "Content-Type: text/plain; charset=utf-8\n");
		{
			struct buf text = BUF_INIT;

			text_body(body.data, body.len, &cte, &text);
			buf_printf(out, "%s\n", buf_cstr(&cte));
			buf_append(out, text.data, text.len);
			buf_free(&text);
		}
	}
	buf_free(&body);
	buf_free(&cte);
	buf_free(&end);
	return rc;
}

/* The list's fields, its Reply-To (the list) and its footer, as on posts. */
static void list_rewrite(const struct issue *is, struct buf *raw,
			 struct buf *out)
{
	struct rewrite_params p;
	struct msg m = { 0 };
	char *footer = footer_render(is->c, is->l);
	const char *err = NULL;

	if (msg_parse(&m, raw->data, raw->len, NULL, NULL) != MSG_OK) {
		/* Our own header: it parses. Sent as built if not. */
		buf_append(out, raw->data, raw->len);
		msg_free(&m);
		free(footer);
		return;
	}
	rewrite_params_from_conf(&p, is->c, is->l, footer);
	p.subject_prefix = NULL;
	p.unsubscribe_token = is->marker[0] != '\0' ? is->marker : NULL;
	p.reply_to = REPLYTO_LIST;
	p.from_munging = FROMMUNGE_NONE;
	if (rewrite_post(&m, &p, &err) < 0)
		log_warn("list=%s: digest footer not added: %s", is->l->name,
			 err);
	msg_write(&m, out);
	msg_free(&m);
	free(footer);
}

/* The message of the issue for the masked posts, for members in `mode`
 * (digest: MIME; digest-plain: RFC 1153). */
static int build(const struct issue *is, const bool *mask,
		 enum store_mode mode, struct buf *out, char **error_r)
{
	struct buf toc = BUF_INIT, unanswered = BUF_INIT, faq = BUF_INIT;
	struct buf raw = BUF_INIT;
	struct vars v;
	struct ord *o;
	struct tm tm;
	char date[32], *text = NULL, *subject = NULL, *body, *ln, *next;
	size_t m;
	int rc = -1;

	o = toc_order(is, mask, &m);
	vars_init(&v, is->c, is->l);
	vars_setf(&v, "volume", "%lld", (long long)is->volume);
	vars_setf(&v, "issue", "%lld", (long long)is->number);
	schedule_localtime(is->l->digest_timezone, is->when, &tm);
	strftime(date, sizeof date, "%Y-%m-%d", &tm);
	vars_set(&v, "date", date);
	vars_set(&v, "mode", store_mode_name(mode));
	if (toc_threads(is, o, m, &v, &toc, error_r) < 0 ||
	    toc_unanswered(is, o, m, &v, &unanswered, error_r) < 0 ||
	    toc_faq(is, &v, &faq, error_r) < 0)
		goto out;
	vars_setf(&v, "count", "%zu", m);
	vars_set(&v, "toc", buf_cstr(&toc));
	vars_set(&v, "unanswered", buf_cstr(&unanswered));
	vars_set(&v, "faq", buf_cstr(&faq));
	if (template_render(is->c, is->l, "digest", v.v, v.n, &text,
			    error_r) < 0)
		goto out;
	/* Header lines up to the first blank line; Subject is used. */
	for (ln = text; ln != NULL && *ln != '\n' && *ln != '\0'; ln = next) {
		next = strchr(ln, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (strncasecmp(ln, "Subject:", 8) == 0) {
			free(subject);
			subject = one_line(ln + 8);
		}
	}
	if (subject == NULL) {
		*error_r = xstrdup("template digest has no Subject line");
		goto out;
	}
	body = ln == NULL ? "" : (*ln == '\n' ? ln + 1 : ln);
	if (mode == MODE_DIGEST_PLAIN) {
		if (build_plain(is, &v, o, m, subject, body, &raw,
				error_r) < 0)
			goto out;
	} else {
		build_mime(is, mask, o, m, subject, body, &raw);
	}
	list_rewrite(is, &raw, out);
	rc = 0;
out:
	free(o);
	free(text);
	free(subject);
	vars_free(&v);
	buf_free(&toc);
	buf_free(&unanswered);
	buf_free(&faq);
	buf_free(&raw);
	return rc;
}

/* The FAQ entries added since the last issue (or, for the first, since
 * the oldest post it holds arrived) into is. */
static int load_faq(struct store *s, const struct conf_list *l,
		    const struct store_digest_state *st, struct issue *is,
		    char **error_r)
{
	int64_t count, bytes;
	time_t since = st->last_issue_at;

	if (since == 0 &&
	    store_digest_waiting(s, l->name, &count, &bytes, &since) < 0)
		goto fail;
	if (archive_faq(s, l, since, &is->faq, &is->nfaq) < 0)
		goto fail;
	return 0;
fail:
	*error_r = xstrdup(store_error(s));
	return -1;
}

static const enum store_mode digest_modes[2] = {
	MODE_DIGEST, MODE_DIGEST_PLAIN
};
static const enum store_audience digest_audiences[2] = {
	AUDIENCE_DIGEST, AUDIENCE_DIGEST_PLAIN
};

/* Queues the issue for members in mode (format f): one job whose member
 * stream is everyone in that mode for all of its posts (*job_r, 0 when
 * there is nobody). */
static int queue_issue(struct store *s, const struct issue *is,
		       const bool *all, size_t f, const char *env_from,
		       int64_t *job_r, char **error_r)
{
	struct store_job j = {
		.list = (char *)is->l->name, .kind = JOB_POST,
		.audience = digest_audiences[f],
		.seq_from = is->items[0].seq, .seq_to = is->items[is->n - 1].seq,
	};
	struct store_job_new q = {
		.list = is->l->name, .kind = JOB_POST,
		.audience = digest_audiences[f], .env_from = env_from,
		.seq_from = j.seq_from, .seq_to = j.seq_to,
		.token_marker = is->marker[0] != '\0' ? is->marker : NULL,
	};
	struct buf msg = BUF_INIT;
	int64_t count;
	int rc;

	*job_r = 0;
	if (store_job_recipients_count(s, &j, &count) < 0)
		goto store_fail;
	if (count == 0)
		return 0;
	if (build(is, all, digest_modes[f], &msg, error_r) < 0)
		return -1;
	q.data = msg.data;
	q.len = msg.len;
	rc = store_job_queue(s, &q, job_r);
	buf_free(&msg);
	if (rc == 0)
		return 0;
store_fail:
	*error_r = xstrdup(store_error(s));
	return -1;
}

/* Members who switched modes during the issue's period and are not in a
 * whole format's stream: an issue of their own with the posts their modes
 * give them in a digest. */
static int queue_personal(struct store *s, const struct issue *is,
			  const char *env_from, size_t *count_r,
			  char **error_r)
{
	int64_t first = is->items[0].seq, last = is->items[is->n - 1].seq;
	struct store_digest_switcher *sw = NULL;
	bool *mask = xcalloc(is->n, sizeof *mask);
	size_t n = 0, i, k, f;
	int rc = 0;

	if (store_digest_switchers(s, is->l->name, first, &sw, &n) < 0)
		goto store_fail;
	for (i = 0; rc == 0 && i < n; i++) {
		for (f = 0; rc == 0 && f < 2; f++) {
			enum store_mode mode = digest_modes[f], mm;
			struct buf msg = BUF_INIT;
			const char *rcpt[1] = { sw[i].address };
			struct store_job_new q = {
				.list = is->l->name, .kind = JOB_DIRECT,
				.env_from = env_from, .n = 1,
				.token_marker = is->marker[0] != '\0' ?
						is->marker : NULL,
			};
			size_t got = 0;
			bool same;

			if (store_member_mode_for(s, sw[i].member, first, last,
						  &mm, &same) < 0)
				goto store_fail;
			if (same)
				continue;   /* in a stream, or in none */
			for (k = 0; k < is->n; k++) {
				if (store_member_mode_for(s, sw[i].member,
							  is->items[k].seq,
							  is->items[k].seq,
							  &mm, &same) < 0)
					goto store_fail;
				mask[k] = same && mm == mode;
				got += mask[k];
			}
			if (got == 0)
				continue;
			rc = build(is, mask, mode, &msg, error_r);
			q.data = msg.data;
			q.len = msg.len;
			q.rcpts = rcpt;
			if (rc == 0 && store_job_queue(s, &q, NULL) < 0) {
				buf_free(&msg);
				goto store_fail;
			}
			buf_free(&msg);
			if (rc == 0)
				(*count_r)++;
		}
	}
	store_digest_switchers_free(&sw, n);
	free(mask);
	return rc;
store_fail:
	*error_r = xstrdup(store_error(s));
	store_digest_switchers_free(&sw, n);
	free(mask);
	return -1;
}

/* Assembles and queues an issue of what waits, inside the caller's
 * transaction; st is the list's state (its numbers are moved on).
 * *issued_r false when nothing waits. */
static int issue(struct store *s, const struct conf *c,
		 const struct conf_list *l, time_t now, const char *reason,
		 struct store_digest_state *st, struct digest_issued *info,
		 bool *issued_r, char **error_r)
{
	struct issue is = { .c = c, .l = l, .when = now };
	struct store_digest_issue rec = { .list = l->name, .reason = reason };
	char *env_from = NULL;
	bool *all = NULL;
	struct tm tm;
	size_t i;
	int rc = -1;

	memset(info, 0, sizeof *info);
	*issued_r = false;
	if (store_digest_items_waiting(s, l->name,
				       (size_t)l->digest_max_messages,
				       (int64_t)l->digest_max_kb * 1024,
				       &is.items, &is.n) < 0) {
		*error_r = xstrdup(store_error(s));
		return -1;
	}
	if (is.n == 0)
		return 0;
	if (template_lines_open(c, l, "digest-lines", &is.lines,
				error_r) < 0 ||
	    load_faq(s, l, st, &is, error_r) < 0)
		goto out;
	schedule_localtime(l->digest_timezone, now, &tm);
	if (st->number == 0) {
		st->volume = 1;
		st->number = 1;
	} else if (st->year != tm.tm_year + 1900) {
		st->volume++;
		st->number = 1;
	} else {
		st->number++;
	}
	st->year = tm.tm_year + 1900;
	st->last_issue_at = now;
	is.volume = st->volume;
	is.number = st->number;
	env_from = xasprintf("%s-bounces@%s", l->name, c->domain);
	all = xcalloc(is.n, sizeof *all);
	for (i = 0; i < is.n; i++) {
		all[i] = true;
		rec.bytes += (int64_t)is.items[i].len;
	}
	oneclick_marker(l, is.marker);
	for (i = 0; i < 2; i++)
		if (queue_issue(s, &is, all, i, env_from, &info->jobs[i],
				error_r) < 0)
			goto out;
	if (queue_personal(s, &is, env_from, &info->personal, error_r) < 0)
		goto out;
	rec.volume = is.volume;
	rec.number = is.number;
	rec.first_seq = is.items[0].seq;
	rec.last_seq = is.items[is.n - 1].seq;
	rec.messages = (int64_t)is.n;
	if (store_digest_issue_add(s, &rec, NULL) < 0) {
		*error_r = xstrdup(store_error(s));
		goto out;
	}
	info->volume = is.volume;
	info->number = is.number;
	info->messages = is.n;
	*issued_r = true;
	rc = 0;
out:
	template_lines_close(&is.lines);
	store_digest_items_free(&is.items, is.n);
	store_faq_free(&is.faq, is.nfaq);
	free(all);
	free(env_from);
	return rc;
}

static void log_issue(const struct conf_list *l, const struct digest_issued *d,
		      const char *reason)
{
	log_info("list=%s: digest Vol %lld, Issue %lld (%s): posts=%zu "
		 "job=%lld (digest) job=%lld (digest-plain) own=%zu (members "
		 "who switched)", l->name, (long long)d->volume,
		 (long long)d->number, reason, d->messages,
		 (long long)d->jobs[0], (long long)d->jobs[1], d->personal);
}

/* What next_due was computed from: a changed schedule starts afresh. */
static char *schedule_key(const struct conf_list *l)
{
	return xasprintf("%s %s", l->digest_schedule, l->digest_timezone);
}

/* The list's state, made when it has none and brought up to date with
 * the configured schedule. *dirty_r when it must be saved. */
static int load_state(struct store *s, const struct conf_list *l,
		      time_t now, time_t oldest, struct store_digest_state *st,
		      bool *dirty_r)
{
	char *key = schedule_key(l);
	bool found;

	memset(st, 0, sizeof *st);
	*dirty_r = false;
	if (store_digest_state_get(s, l->name, st, &found) < 0) {
		free(key);
		return -1;
	}
	if (!found || st->schedule == NULL || strcmp(st->schedule, key) != 0) {
		/* The first scheduled time after the oldest waiting post. */
		time_t from = oldest > 0 && oldest < now ? oldest : now;

		free(st->schedule);
		st->schedule = key;
		st->next_due = schedule_next(&l->digest_when,
					     l->digest_timezone, from);
		*dirty_r = true;
		return 0;
	}
	free(key);
	return 0;
}

/* One round for list l: at most one issue. *more_r when posts still wait
 * after an issue (a backlog over max_messages or max_kb). */
static int pass_round(const struct conf *c, const struct conf_list *l,
		      struct store *s, time_t now, bool *issued_r,
		      bool *more_r)
{
	struct store_digest_state st;
	struct digest_issued info;
	int64_t count, bytes;
	time_t oldest;
	bool dirty, full, due;
	char *err = NULL;
	const char *reason;

	*issued_r = false;
	*more_r = false;
	/* A look without the write lock first: most passes find nothing to
	 * do, and receive must not wait for them. */
	if (store_digest_waiting(s, l->name, &count, &bytes, &oldest) < 0 ||
	    load_state(s, l, now, oldest, &st, &dirty) < 0)
		goto store_fail;
	full = count >= l->digest_max_messages ||
	       bytes >= l->digest_max_kb * 1024;
	due = now >= st.next_due;
	store_digest_state_clear(&st);
	if (!dirty && !due && !full)
		return 0;
	/* Again inside the transaction: another process may have been
	 * quicker. */
	if (store_begin(s) < 0)
		goto store_fail;
	if (store_digest_waiting(s, l->name, &count, &bytes, &oldest) < 0 ||
	    load_state(s, l, now, oldest, &st, &dirty) < 0)
		goto store_fail;
	full = count >= l->digest_max_messages ||
	       bytes >= l->digest_max_kb * 1024;
	due = now >= st.next_due;
	reason = full ? "size" : "schedule";
	if (count > 0 && (full || due)) {
		if (issue(s, c, l, now, reason, &st, &info, issued_r,
			  &err) < 0) {
			log_error("list=%s: digest not assembled: %s; tried "
				  "again next pass", l->name, err);
			free(err);
			store_digest_state_clear(&st);
			store_rollback(s);
			return -1;
		}
		dirty = true;
		*more_r = *issued_r && count > (int64_t)info.messages;
	}
	/* The period is over: issued, or empty (nothing goes out). */
	if (due && !*more_r) {
		st.next_due = schedule_next(&l->digest_when, l->digest_timezone,
					    now);
		dirty = true;
	}
	if (dirty && store_digest_state_put(s, l->name, &st) < 0) {
		store_digest_state_clear(&st);
		goto store_fail;
	}
	store_digest_state_clear(&st);
	if (!dirty)
		store_rollback(s);
	else if (store_commit(s) < 0)
		goto store_fail;
	if (*issued_r)
		log_issue(l, &info, reason);
	return 0;
store_fail:
	log_error("list=%s: digest: %s; tried again next pass", l->name,
		  store_error(s));
	store_rollback(s);
	*issued_r = false;
	return -1;
}

int digest_pass(const struct conf *c, struct store *s, time_t now,
		size_t *issued_r)
{
	size_t i, k, issued = 0;
	int rc = 0;

	for (i = 0; i < c->nlists; i++) {
		for (k = 0; k < ISSUES_PER_PASS; k++) {
			bool did, more;

			if (pass_round(c, &c->lists[i], s, now, &did,
				       &more) < 0) {
				rc = -1;
				break;
			}
			issued += did;
			if (!more)
				break;
		}
	}
	if (issued_r != NULL)
		*issued_r = issued;
	return rc;
}

int digest_send_now(const struct conf *c, const struct conf_list *l,
		    struct store *s, struct digest_issued *info,
		    bool *issued_r, char **error_r)
{
	struct store_digest_state st;
	int64_t count, bytes;
	time_t oldest, now = util_now();
	bool dirty;

	*issued_r = false;
	memset(info, 0, sizeof *info);
	if (store_begin(s) < 0)
		goto store_fail;
	if (store_digest_waiting(s, l->name, &count, &bytes, &oldest) < 0 ||
	    load_state(s, l, now, oldest, &st, &dirty) < 0)
		goto store_fail;
	if (issue(s, c, l, now, "command", &st, info, issued_r,
		  error_r) < 0) {
		store_digest_state_clear(&st);
		store_rollback(s);
		return -1;
	}
	if ((*issued_r || dirty) &&
	    store_digest_state_put(s, l->name, &st) < 0) {
		store_digest_state_clear(&st);
		goto store_fail;
	}
	store_digest_state_clear(&st);
	if (store_commit(s) < 0)
		goto store_fail;
	if (*issued_r)
		log_issue(l, info, "command");
	return 0;
store_fail:
	*error_r = xstrdup(store_error(s));
	store_rollback(s);
	*issued_r = false;
	return -1;
}

int digest_preview(const struct conf *c, const struct conf_list *l,
		   struct store *s, struct buf *out, size_t *count_r,
		   char **error_r)
{
	struct issue is = { .c = c, .l = l, .when = util_now() };
	struct store_digest_state st;
	bool found, *all = NULL;
	struct tm tm;
	size_t i;
	int rc = -1;

	*count_r = 0;
	memset(&st, 0, sizeof st);
	if (store_digest_items_waiting(s, l->name,
				       (size_t)l->digest_max_messages,
				       (int64_t)l->digest_max_kb * 1024,
				       &is.items, &is.n) < 0 ||
	    store_digest_state_get(s, l->name, &st, &found) < 0) {
		*error_r = xstrdup(store_error(s));
		goto out;
	}
	*count_r = is.n;
	if (is.n == 0) {
		rc = 0;
		goto out;
	}
	if (template_lines_open(c, l, "digest-lines", &is.lines,
				error_r) < 0 ||
	    load_faq(s, l, &st, &is, error_r) < 0)
		goto out;
	schedule_localtime(l->digest_timezone, is.when, &tm);
	is.volume = st.number == 0 ? 1 : st.year != tm.tm_year + 1900 ?
		    st.volume + 1 : st.volume;
	is.number = st.number == 0 || st.year != tm.tm_year + 1900 ? 1 :
		    st.number + 1;
	all = xcalloc(is.n, sizeof *all);
	for (i = 0; i < is.n; i++)
		all[i] = true;
	rc = build(&is, all, MODE_DIGEST_PLAIN, out, error_r);
out:
	template_lines_close(&is.lines);
	store_digest_items_free(&is.items, is.n);
	store_faq_free(&is.faq, is.nfaq);
	store_digest_state_clear(&st);
	free(all);
	return rc;
}
