/* render - the web archive's static pages */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pipeline/render.h"
#include "pipeline/archive.h"
#include "pipeline/search.h"
#include "pipeline/thread.h"
#include "base/buf.h"
#include "base/conf.h"
#include "base/html.h"
#include "base/log.h"
#include "base/template.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "mail/mime.h"
#include "mail/reply.h"
#include "store/store.h"
#include "store/store_archive.h"
#include "store/store_web.h"

/* A message's text on a page is cut after this many bytes. */
#define TEXT_MAX (2 * 1024 * 1024)
/* Threads on the index page, and in the feed. */
#define INDEX_THREADS 50
#define FEED_THREADS 20
/* More new messages than this since the last render: render them all. */
#define UPDATE_MAX 2000
#define EVENTS_MAX 10000
#define GONE_MAX 1000
/* Placeholders of one section call, at most. */
#define VARS_MAX 48
/* A feed entry's summary: lines and bytes. */
#define SUMMARY_LINES 6
#define SUMMARY_BYTES 400

/* Every section convene renders from web.html, and every placeholder
 * it fills (render_check_templates). */
static const char *const page_sections[] = {
	"page-start", "page-end", "plain-start", "plain-end", "index-start", "index-threads-start",
	"index-thread", "index-threads-end", "index-months-start",
	"index-month", "index-months-end", "index-empty", "resolved-mark",
	"index-title", "faq-title", "search-title", "unsubscribe-title",
	"error-title",
	"month-start", "month-thread-start", "month-thread-end",
	"month-list-start", "month-list-end", "month-item-start",
	"month-item-end", "thread-start", "thread-list-start",
	"thread-list-end", "thread-message-start", "thread-message-end",
	"text-plain", "text-quoted", "text-cut", "text-none", "link",
	"no-subject", "message-start", "message-in-reply-to", "message-id",
	"message-tags", "attachments-start", "attachment",
	"attachments-end", "message-end", "faq-start", "faq-list-start",
	"faq-entry", "faq-list-end", "faq-empty", "moved", "moved-gone",
	"lists-start", "lists-entry", "lists-end", "lists-empty",
	"search-start", "search-results-start", "search-hit",
	"search-results-end", "search-none", "search-error", "search-help",
	"unsubscribe-ask", "unsubscribe-done", "unsubscribe-invalid",
	"unsubscribe-later", "not-found", "members-only", "bad-request",
	NULL
};
static const char *const feed_sections[] = {
	"feed-start", "feed-entry", "feed-end", NULL
};
static const char *const known_vars[] = {
	/* every page of a list */
	"list", "list_address", "request_address", "subscribe_address",
	"description", "domain", "archive_url", "root", "title", "query",
	/* what pages show */
	"thread_id", "id", "subject", "thread_subject", "sender", "date",
	"iso_date", "first_date", "last_date", "count", "threads",
	"resolved", "month", "text", "url", "kb", "message_id", "tags",
	"extra", "filename", "type", "size", "bytes", "title_text",
	"added", "total", "matches", "excerpt", "error", "address",
	"lists", "feed_id", "updated", "entry_id", "base",
	NULL
};

/* ---- placeholders ---- */

struct vars {
	struct html_var v[VARS_MAX];
	size_t n;
	char *own[VARS_MAX];
	size_t nown;
};

static void v_add(struct vars *v, const char *name, const char *value,
		  bool markup)
{
	if (v->n == VARS_MAX)
		log_fatal("render: more than %d placeholders", VARS_MAX);
	v->v[v->n++] = (struct html_var){ name, value, markup };
}

static void v_text(struct vars *v, const char *name, const char *value)
{
	v_add(v, name, value, false);
}

static void v_mark(struct vars *v, const char *name, const char *value)
{
	v_add(v, name, value, true);
}

/* Takes value, which the vars free. */
static void v_take(struct vars *v, const char *name, char *value,
		   bool markup)
{
	v->own[v->nown++] = value;
	v_add(v, name, value, markup);
}

static void v_fmt(struct vars *v, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void v_fmt(struct vars *v, const char *name, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	v_take(v, name, xvasprintf(fmt, ap), false);
	va_end(ap);
}

static void v_free(struct vars *v)
{
	size_t i;

	for (i = 0; i < v->nown; i++)
		free(v->own[i]);
	v->n = v->nown = 0;
}

/* ---- a list's render ---- */

struct ren {
	struct store *s;
	const struct conf *c;
	const struct conf_list *l;
	char *dir;                 /* DIR/NAME */
	struct html_template *t;   /* web.html */
	struct html_template *ft;  /* web-feed.xml */
	struct vars base;          /* of every page of the list */
	bool hide;
	struct mime_limits lim;
	struct render_stats *st;
	bool own;                  /* web.dir: the state is kept */
	bool full;                 /* every page (months counted at once) */
	/* what the store learns at the end, in one transaction */
	int64_t *written, *forgotten;     /* thread pages */
	size_t nwritten, nforgotten;
	struct store_web_month *months;   /* month pages' counts */
	size_t nmonths;
	char *error;               /* the first failure */
	bool transient;
};

static void fail(struct ren *r, bool transient, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail(struct ren *r, bool transient, const char *fmt, ...)
{
	va_list ap;

	if (r->error != NULL)
		return;
	va_start(ap, fmt);
	r->error = xvasprintf(fmt, ap);
	va_end(ap);
	r->transient = transient;
}

static void store_fail(struct ren *r)
{
	fail(r, store_transient(r->s), "%s", store_error(r->s));
}

/* Appends section `name` of t with the list's placeholders and v's. */
static void sect_of(struct ren *r, struct html_template *t, struct buf *out,
		    const char *name, const struct vars *v)
{
	struct html_var all[2 * VARS_MAX];
	size_t n = 0, i;
	char *err = NULL;

	if (r->error != NULL)
		return;
	for (i = 0; v != NULL && i < v->n; i++)
		all[n++] = v->v[i];
	for (i = 0; i < r->base.n; i++)
		all[n++] = r->base.v[i];
	if (html_render(t, name, all, n, out, &err) < 0) {
		fail(r, false, "%s", err);
		free(err);
	}
}

static void sect(struct ren *r, struct buf *out, const char *name,
		 const struct vars *v)
{
	sect_of(r, r->t, out, name, v);
}

/* A section as a value for another one's placeholder, without the line
 * end that closes the section in the file (a link inside a line of text
 * must not break it). */
static char *sect_str(struct ren *r, const char *name, const struct vars *v)
{
	struct buf b = BUF_INIT;

	buf_append(&b, "", 0);
	sect(r, &b, name, v);
	if (b.len > 0 && b.data[b.len - 1] == '\n')
		b.data[--b.len] = '\0';
	if (b.len > 0 && b.data[b.len - 1] == '\r')
		b.data[--b.len] = '\0';
	return buf_steal(&b, NULL);
}

/* Creates a folder of pages (readable by a web server). */
static int make_dir(const char *path)
{
	char *p = xstrdup(path), *q;
	int rc = 0;

	for (q = p + 1; rc == 0 && *q != '\0'; q++) {
		if (*q != '/')
			continue;
		*q = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			rc = -1;
		*q = '/';
	}
	if (rc == 0 && mkdir(p, 0755) < 0 && errno != EEXIST)
		rc = -1;
	free(p);
	return rc;
}

/* Writes b to path: a temporary file in the same folder, renamed over
 * the page, so a reader sees the old page or the new one. */
static int write_atomic(const char *path, const struct buf *b)
{
	char *tmp = xasprintf("%s.tmp.XXXXXX", path);
	const char *p = b->data ? b->data : "";
	size_t left = b->len;
	int fd = mkstemp(tmp), saved;

	if (fd < 0) {
		saved = errno;
		free(tmp);
		errno = saved;
		return -1;
	}
	while (left > 0) {
		ssize_t w = write(fd, p, left);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail;
		p += w;
		left -= (size_t)w;
	}
	if (fchmod(fd, 0644) < 0 || close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		goto fail;
	free(tmp);
	return 0;
fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(tmp);
	errno = saved;
	return -1;
}

/* Writes page `rel` of the list (a path under its folder). */
static void write_page(struct ren *r, const char *rel, const struct buf *b)
{
	char *path = xasprintf("%s/%s", r->dir, rel), *slash;

	if (r->error != NULL) {
		free(path);
		return;
	}
	slash = strrchr(path, '/');
	*slash = '\0';
	if (make_dir(path) < 0) {
		fail(r, true, "%s: %s", path, strerror(errno));
		free(path);
		return;
	}
	*slash = '/';
	if (write_atomic(path, b) < 0)
		fail(r, true, "%s: %s", path, strerror(errno));
	free(path);
}

/* ---- what pages show ---- */

static void fmt_date(time_t t, char out[32])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, 32, "%Y-%m-%d %H:%M", &tm) == 0)
		snprintf(out, 32, "?");
}

static void fmt_iso(time_t t, char out[32])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, 32, "1970-01-01T00:00:00Z");
}

static void date_vars(struct vars *v, const char *name, time_t t)
{
	char d[32], iso[32];

	fmt_date(t, d);
	fmt_iso(t, iso);
	v_take(v, name, xstrdup(d), false);
	v_take(v, "iso_date", xstrdup(iso), false);
}

/* The month a date falls in, "YYYY-MM" (UTC); false when it has none. */
static bool month_of(time_t t, char out[8])
{
	struct tm tm;

	if (t < 0 || gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 > 9999)
		return false;
	return strftime(out, 8, "%Y-%m", &tm) == 7;
}

/* The bounds of month "YYYY-MM": [from, until). */
static bool month_bounds(const char *month, time_t *from, time_t *until)
{
	struct tm tm = { 0 };
	int y, m;

	if (sscanf(month, "%4d-%2d", &y, &m) != 2 || m < 1 || m > 12)
		return false;
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = 1;
	*from = timegm(&tm);
	tm.tm_mon++;
	*until = timegm(&tm);
	return true;
}

static bool word_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c >= 0x80;
}

/* text with the domain of every address in it hidden: "local@...";
 * everything else as it was. Newly allocated. */
static char *hide_addresses(const char *text, size_t len)
{
	struct buf out = BUF_INIT;
	size_t i;

	buf_append(&out, "", 0);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c == '@' && i > 0 && i + 1 < len &&
		    word_byte((unsigned char)text[i - 1]) &&
		    word_byte((unsigned char)text[i + 1])) {
			buf_puts(&out, "@...");
			i++;
			while (i + 1 < len &&
			       (word_byte((unsigned char)text[i + 1]) ||
				((text[i + 1] == '.' || text[i + 1] == '-') &&
				 i + 2 < len &&
				 word_byte((unsigned char)text[i + 2]))))
				i++;
			continue;
		}
		buf_putc(&out, (char)c);
	}
	return buf_steal(&out, NULL);
}

/* What a page shows of text from a header (subject, name). */
static char *shown(const struct ren *r, const char *text)
{
	if (text == NULL)
		return xstrdup("");
	return r->hide ? hide_addresses(text, strlen(text)) : xstrdup(text);
}

/* The sender as a page shows it: with hidden addresses the name (or
 * "local@..."), else "Name <address>". */
static char *sender_shown(const struct ren *r, const char *address,
			  const char *name)
{
	bool named = name != NULL && name[strspn(name, " \t\"")] != '\0';

	if (r->hide)
		return search_sender_display(address, name);
	if (named && address != NULL)
		return xasprintf("%s <%s>", name, address);
	return xstrdup(named ? name : address != NULL ? address : "?");
}

/* The subject as markup: escaped, or the no-subject section. */
static char *subject_markup(struct ren *r, const char *subject)
{
	struct buf b = BUF_INIT;
	char *s;

	if (subject == NULL || subject[strspn(subject, " \t")] == '\0')
		return sect_str(r, "no-subject", NULL);
	s = shown(r, subject);
	buf_append(&b, "", 0);
	html_escape_str(&b, s);
	free(s);
	return buf_steal(&b, NULL);
}

/* Text as markup: escaped, http(s) URLs as the link section. */
static void text_markup(struct ren *r, const char *text, size_t len,
			struct buf *out)
{
	size_t i = 0, from = 0, n;

	while (i < len) {
		char c = text[i];

		if ((c == 'h' || c == 'H') &&
		    (i == 0 || !word_byte((unsigned char)text[i - 1])) &&
		    (n = html_url_len(text + i, len - i)) > 0) {
			struct vars v = { 0 };
			char *a;

			html_escape(out, text + from, i - from);
			v_take(&v, "url", xstrndup(text + i, n), false);
			a = sect_str(r, "link", &v);
			buf_puts(out, a);
			free(a);
			v_free(&v);
			i += n;
			from = i;
			continue;
		}
		i++;
	}
	html_escape(out, text + from, len - from);
}

static bool quoted_line(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p < end && *p == '>';
}

/* Whether the line at p is the "-----Original Message-----" line that
 * Outlook puts above the message it quotes (all of it below). */
static bool original_line(const char *p, const char *end)
{
	static const char word[] = "Original Message";
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	size_t n = (size_t)((nl != NULL ? nl : end) - p), i = 0, k;

	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	for (k = i; k < n && p[k] == '-'; k++)
		;
	if (k - i < 3)
		return false;
	while (k < n && p[k] == ' ')
		k++;
	if (n - k < sizeof word - 1 ||
	    strncasecmp(p + k, word, sizeof word - 1) != 0)
		return false;
	k += sizeof word - 1;
	while (k < n && p[k] == ' ')
		k++;
	i = k;
	while (k < n && p[k] == '-')
		k++;
	while (k < n && (p[k] == ' ' || p[k] == '\t' || p[k] == '\r'))
		k++;
	return k == n && k - i >= 3;
}

/* A message's text as markup: runs of quoted lines folded (text-quoted),
 * the rest as text-plain, a note when it was cut. */
static void body_markup(struct ren *r, const char *text, size_t len,
			bool cut, struct buf *out)
{
	const char *p = text, *end = text + len;
	char *hidden = NULL;

	if (r->hide) {
		hidden = hide_addresses(text, len);
		p = hidden;
		end = hidden + strlen(hidden);
	}
	while (p < end) {
		const char *q = p, *nl;
		bool quoted = quoted_line(p, end);
		size_t lines = 0;
		struct buf m = BUF_INIT;
		struct vars v = { 0 };

		if (!quoted && original_line(p, end)) {
			/* the quoted original runs to the end */
			quoted = true;
			for (q = p; q < end; lines++) {
				nl = memchr(q, '\n', (size_t)(end - q));
				q = nl != NULL ? nl + 1 : end;
			}
		}
		while (q < end && quoted_line(q, end) == quoted &&
		       (quoted || !original_line(q, end))) {
			nl = memchr(q, '\n', (size_t)(end - q));
			q = nl != NULL ? nl + 1 : end;
			lines++;
		}
		/* blank lines around a block are the space between blocks */
		const char *a = p, *b = q;

		while (a < b && (*a == '\n' || *a == ' ' || *a == '\t')) {
			const char *e = a;

			while (e < b && (*e == ' ' || *e == '\t'))
				e++;
			if (e < b && *e != '\n')
				break;
			a = e < b ? e + 1 : b;
		}
		while (b > a && (b[-1] == '\n' || b[-1] == ' ' ||
				 b[-1] == '\t'))
			b--;
		p = q;
		if (a == b)
			continue;
		buf_append(&m, "", 0);
		text_markup(r, a, (size_t)(b - a), &m);
		v_mark(&v, "text", m.data);
		v_fmt(&v, "count", "%zu", lines);
		sect(r, out, quoted ? "text-quoted" : "text-plain", &v);
		v_free(&v);
		buf_free(&m);
	}
	if (cut) {
		struct vars v = { 0 };

		v_fmt(&v, "kb", "%d", TEXT_MAX / 1024);
		sect(r, out, "text-cut", &v);
		v_free(&v);
	}
	free(hidden);
}

/* ---- a message's text and attachments ---- */

struct attachment {
	char *type, *filename;
	size_t size;
};

struct mtext {
	struct buf text;       /* UTF-8, LF line ends */
	bool found, cut;
	struct attachment *att;
	size_t natt;
};

static void mtext_free(struct mtext *t)
{
	size_t i;

	buf_free(&t->text);
	for (i = 0; i < t->natt; i++) {
		free(t->att[i].type);
		free(t->att[i].filename);
	}
	xfree(&t->att);
	t->natt = 0;
}

static bool is_type(const struct mime_part *p, const char *type,
		    const char *subtype)
{
	return strcmp(p->ct.type, type) == 0 &&
	       (subtype == NULL || strcmp(p->ct.subtype, subtype) == 0);
}

/* The part whose text a page shows: the first text/plain that is not an
 * attachment, else the first such text/html; MIME_NONE when none. */
static size_t text_part(const struct mime_tree *t)
{
	static const char *const subtypes[] = { "plain", "html" };
	size_t k, i;

	for (k = 0; k < 2; k++)
		for (i = 0; i < t->n; i++) {
			const struct mime_part *p = &t->v[i];

			if (p->nchildren == 0 && !p->in_message &&
			    !p->attachment && is_type(p, "text", subtypes[k]))
				return i;
		}
	return MIME_NONE;
}

/* Whether part i is another rendering of what its multipart/alternative
 * parent holds (not an attachment of its own). */
static bool alternative(const struct mime_tree *t, size_t i)
{
	size_t parent = t->v[i].parent;

	return parent != MIME_NONE &&
	       is_type(&t->v[parent], "multipart", "alternative");
}

static void add_attachment(struct mtext *mt, const char *raw,
			   const struct mime_part *p)
{
	struct attachment *a;
	struct buf dec = BUF_INIT;
	const char *name = p->filename != NULL ? p->filename :
			   mime_ctype_param(&p->ct, "name");

	mt->att = xreallocarray(mt->att, mt->natt + 1, sizeof *mt->att);
	a = &mt->att[mt->natt++];
	a->type = xasprintf("%s/%s", p->ct.type, p->ct.subtype);
	a->filename = name != NULL ? xstrdup(name) : NULL;
	if (is_type(p, "message", "rfc822")) {
		a->size = p->end - p->body;
	} else {
		mime_part_decode(raw, p, &dec);
		a->size = dec.len;
		buf_free(&dec);
	}
}

static void message_text(const char *raw, size_t len,
			 const struct mime_limits *lim, bool attachments,
			 struct mtext *mt)
{
	struct mime_tree t = { 0 };
	struct buf dec = BUF_INIT, utf8 = BUF_INIT;
	size_t i, k;

	memset(mt, 0, sizeof *mt);
	(void)mime_walk(raw, len, lim, &t);
	k = text_part(&t);
	if (k != MIME_NONE) {
		const struct mime_part *p = &t.v[k];
		char *html = NULL;
		const char *src;
		size_t n, o;

		mime_part_decode(raw, p, &dec);
		mime_to_utf8(dec.data ? dec.data : "", dec.len,
			     mime_ctype_param(&p->ct, "charset"), &utf8);
		if (is_type(p, "text", "html")) {
			html = reply_html_to_text(utf8.data ? utf8.data : "",
						  utf8.len);
			src = html;
			n = strlen(html);
		} else {
			src = utf8.data ? utf8.data : "";
			n = utf8.len;
		}
		if (n > TEXT_MAX) {
			/* on a character boundary */
			n = TEXT_MAX;
			while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
				n--;
			mt->cut = true;
		}
		buf_reserve(&mt->text, n + 1);
		for (o = 0; o < n; o++)
			if (src[o] != '\r')
				buf_putc(&mt->text, src[o]);
		while (mt->text.len > 0 &&
		       (mt->text.data[mt->text.len - 1] == '\n' ||
			mt->text.data[mt->text.len - 1] == ' '))
			mt->text.len--;
		buf_truncate(&mt->text, mt->text.len);
		mt->found = true;
		free(html);
	}
	for (i = 0; attachments && i < t.n; i++) {
		const struct mime_part *p = &t.v[i];

		if (i == k || p->in_message || (i == 0 && p->nchildren > 0))
			continue;
		if (is_type(p, "message", "rfc822")) {
			add_attachment(mt, raw, p);
			continue;
		}
		if (p->nchildren > 0 || is_type(p, "multipart", NULL))
			continue;
		if (alternative(&t, i) && k != MIME_NONE &&
		    t.v[k].parent == p->parent)
			continue;
		if (i == 0 && is_type(p, "text", NULL))
			continue;
		add_attachment(mt, raw, p);
	}
	buf_free(&dec);
	buf_free(&utf8);
	mime_tree_free(&t);
}

/* Archived message id, its row and raw bytes; *found_r false when it is
 * not one of the list's. */
static int load(struct ren *r, int64_t id, struct store_archived *a,
		char **raw, size_t *len, bool *found_r)
{
	if (store_archive_get(r->s, id, a, found_r) < 0) {
		store_fail(r);
		return -1;
	}
	if (!*found_r || a->list == NULL || strcmp(a->list, r->l->name) != 0) {
		*found_r = false;
		return 0;
	}
	if (store_message_get(r->s, a->message, raw, len) < 0) {
		store_fail(r);
		return -1;
	}
	return 0;
}

static const char *size_str(size_t n, char out[32])
{
	if (n < 1000)
		snprintf(out, 32, "%zu B", n);
	else if (n < 1000 * 1000)
		snprintf(out, 32, "%.1f kB", (double)n / 1000);
	else
		snprintf(out, 32, "%.1f MB", (double)n / (1000 * 1000));
	return out;
}

/* ---- pages ---- */

static void page_start(struct ren *r, struct buf *out, const char *root,
		       char *title)
{
	struct vars v = { 0 };

	v_text(&v, "root", root);
	v_take(&v, "title", title, true);
	v_text(&v, "query", "");
	sect(r, out, "page-start", &v);
	v_free(&v);
}

static void page_end(struct ren *r, struct buf *out, const char *root)
{
	struct vars v = { 0 };

	v_text(&v, "root", root);
	sect(r, out, "page-end", &v);
	v_free(&v);
}

/* The header lines of a message page under its sender and date: the
 * message it answers, its Message-ID (when addresses are shown), its tags;
 * into extra. */
static void message_extra(struct ren *r, const struct store_archived *a,
			  struct buf *extra)
{
	struct store_archived parent = { 0 };
	char *tags = NULL;
	bool pfound = false;

	buf_append(extra, "", 0);
	if (a->parent > 0 && store_archive_get(r->s, a->parent, &parent,
					       &pfound) < 0)
		store_fail(r);
	if (store_tags_get(r->s, a->id, &tags) < 0)
		store_fail(r);
	if (pfound) {
		struct vars pv = { 0 };

		v_fmt(&pv, "id", "%lld", (long long)parent.id);
		v_take(&pv, "subject", subject_markup(r, parent.subject), true);
		v_take(&pv, "sender", sender_shown(r, parent.sender,
						   parent.sender_name), false);
		sect(r, extra, "message-in-reply-to", &pv);
		v_free(&pv);
	}
	if (!r->hide && a->message_id != NULL) {
		struct vars mv = { 0 };

		v_text(&mv, "message_id", a->message_id);
		sect(r, extra, "message-id", &mv);
		v_free(&mv);
	}
	if (tags != NULL && *tags != '\0') {
		struct vars tv = { 0 };

		v_text(&tv, "tags", tags);
		sect(r, extra, "message-tags", &tv);
		v_free(&tv);
	}
	free(tags);
	store_archived_clear(&parent);
}

/* The table of a message's attachments, when it has any. */
static void attachments(struct ren *r, const struct mtext *mt,
			struct buf *out)
{
	size_t i;

	if (mt->natt == 0)
		return;
	sect(r, out, "attachments-start", NULL);
	for (i = 0; i < mt->natt; i++) {
		struct vars av = { 0 };
		char sz[32];

		v_take(&av, "filename", shown(r, mt->att[i].filename), false);
		v_text(&av, "type", mt->att[i].type);
		v_take(&av, "size", xstrdup(size_str(mt->att[i].size, sz)),
		       false);
		v_fmt(&av, "bytes", "%zu", mt->att[i].size);
		sect(r, out, "attachment", &av);
		v_free(&av);
	}
	sect(r, out, "attachments-end", NULL);
}

static void message_page(struct ren *r, int64_t id)
{
	struct store_archived a = { 0 };
	struct store_thread th = { 0 };
	struct buf out = BUF_INIT, extra = BUF_INIT, body = BUF_INIT;
	struct mtext mt = { 0 };
	struct vars v = { 0 };
	char *raw = NULL, *rel;
	size_t len = 0;
	bool found, tfound = false;

	if (load(r, id, &a, &raw, &len, &found) < 0 || !found)
		goto out;
	message_text(raw, len, &r->lim, true, &mt);
	if (a.thread > 0 && store_thread_get(r->s, r->l->name, a.thread, &th,
					     &tfound) < 0)
		store_fail(r);
	message_extra(r, &a, &extra);
	buf_append(&body, "", 0);
	if (mt.found)
		body_markup(r, mt.text.data ? mt.text.data : "", mt.text.len,
			    mt.cut, &body);
	else
		sect(r, &body, "text-none", NULL);

	page_start(r, &out, "../", subject_markup(r, a.subject));
	v_fmt(&v, "id", "%lld", (long long)a.id);
	v_fmt(&v, "thread_id", "%lld", (long long)a.thread);
	v_take(&v, "subject", subject_markup(r, a.subject), true);
	v_take(&v, "thread_subject", subject_markup(r, tfound ? th.subject :
						      a.subject), true);
	v_take(&v, "sender", sender_shown(r, a.sender, a.sender_name), false);
	date_vars(&v, "date", a.date);
	v_mark(&v, "extra", extra.data);
	v_mark(&v, "text", body.data);
	v_text(&v, "root", "../");
	sect(r, &out, "message-start", &v);
	attachments(r, &mt, &out);
	sect(r, &out, "message-end", &v);
	page_end(r, &out, "../");
	rel = xasprintf("msg/%lld.html", (long long)id);
	write_page(r, rel, &out);
	free(rel);
	if (r->error == NULL)
		r->st->messages++;
out:
	v_free(&v);
	mtext_free(&mt);
	buf_free(&out);
	buf_free(&extra);
	buf_free(&body);
	free(raw);
	store_thread_clear(&th);
	store_archived_clear(&a);
}

/* Nested lists of items (replies under their parents): an item's
 * children go in a list that opens with its first child. */
struct nest {
	struct ren *r;
	struct buf *out;
	const char *list_start, *list_end, *item_end;
	bool *opened;           /* per open item: its list of children */
	size_t n, cap;
};

/* Closes the items at depth >= d (d clamped to what is open) and opens
 * the list of the new item's parent. */
static void nest_enter(struct nest *ns, size_t d)
{
	if (d > ns->n)
		d = ns->n;
	while (ns->n > d) {
		if (ns->opened[--ns->n])
			sect(ns->r, ns->out, ns->list_end, NULL);
		sect(ns->r, ns->out, ns->item_end, NULL);
	}
	if (ns->n > 0 && !ns->opened[ns->n - 1]) {
		sect(ns->r, ns->out, ns->list_start, NULL);
		ns->opened[ns->n - 1] = true;
	}
}

static void nest_push(struct nest *ns)
{
	if (ns->n == ns->cap) {
		ns->cap = ns->cap ? 2 * ns->cap : 16;
		ns->opened = xreallocarray(ns->opened, ns->cap,
					   sizeof *ns->opened);
	}
	ns->opened[ns->n++] = false;
}

static void nest_close(struct nest *ns)
{
	nest_enter(ns, 0);
	free(ns->opened);
	ns->opened = NULL;
	ns->cap = 0;
}

static void entry_vars(struct ren *r, struct vars *v,
		       const struct thread_entry *e)
{
	v_fmt(v, "id", "%lld", (long long)e->archive);
	v_take(v, "subject", subject_markup(r, e->subject), true);
	v_take(v, "sender", sender_shown(r, e->sender, e->sender_name), false);
	date_vars(v, "date", e->date);
}

static void resolved_var(struct ren *r, struct vars *v,
			 const struct store_thread *t)
{
	if (t->resolved_at > 0)
		v_take(v, "resolved", sect_str(r, "resolved-mark", NULL),
		       true);
	else
		v_mark(v, "resolved", "");
}

/* One message of a thread page, at its depth; -1 when it cannot be
 * read (r->error says why). */
static int thread_message(struct ren *r, struct nest *ns,
			  const struct thread_entry *e)
{
	struct store_archived a = { 0 };
	struct mtext mt = { 0 };
	struct buf body = BUF_INIT;
	struct vars v = { 0 };
	char *raw = NULL;
	size_t len = 0;
	bool found;

	if (load(r, e->archive, &a, &raw, &len, &found) < 0) {
		store_archived_clear(&a);
		return -1;
	}
	buf_append(&body, "", 0);
	if (found) {
		message_text(raw, len, &r->lim, false, &mt);
		if (mt.found)
			body_markup(r, mt.text.data ? mt.text.data : "",
				    mt.text.len, mt.cut, &body);
		else
			sect(r, &body, "text-none", NULL);
	}
	nest_enter(ns, (size_t)(e->depth < 0 ? 0 : e->depth));
	entry_vars(r, &v, e);
	v_mark(&v, "text", body.data);
	sect(r, ns->out, "thread-message-start", &v);
	nest_push(ns);
	v_free(&v);
	mtext_free(&mt);
	buf_free(&body);
	free(raw);
	store_archived_clear(&a);
	return 0;
}

static void thread_page(struct ren *r, int64_t thread)
{
	struct store_thread th = { 0 };
	struct thread_entry *e = NULL;
	struct buf out = BUF_INIT;
	struct vars v = { 0 };
	struct nest ns = { r, &out, "thread-list-start", "thread-list-end",
			   "thread-message-end", NULL, 0, 0 };
	char d1[32], d2[32], *rel;
	size_t n = 0, i;
	bool found;

	if (store_thread_get(r->s, r->l->name, thread, &th, &found) < 0) {
		store_fail(r);
		return;
	}
	if (!found)
		return;
	if (thread_list(r->s, thread, false, &e, &n) < 0) {
		store_fail(r);
		store_thread_clear(&th);
		return;
	}
	page_start(r, &out, "../", subject_markup(r, th.subject));
	v_fmt(&v, "thread_id", "%lld", (long long)thread);
	v_take(&v, "subject", subject_markup(r, th.subject), true);
	v_fmt(&v, "count", "%zu", n);
	fmt_date(th.first_date, d1);
	fmt_date(th.last_date, d2);
	v_text(&v, "first_date", d1);
	v_text(&v, "last_date", d2);
	resolved_var(r, &v, &th);
	sect(r, &out, "thread-start", &v);
	v_free(&v);
	sect(r, &out, "thread-list-start", NULL);
	for (i = 0; i < n && r->error == NULL; i++)
		if (e[i].archive != 0 && thread_message(r, &ns, &e[i]) < 0)
			break;
	nest_close(&ns);
	sect(r, &out, "thread-list-end", NULL);
	page_end(r, &out, "../");
	rel = xasprintf("thread/%lld.html", (long long)thread);
	write_page(r, rel, &out);
	free(rel);
	if (r->error == NULL) {
		r->written = xreallocarray(r->written, r->nwritten + 1,
					   sizeof *r->written);
		r->written[r->nwritten++] = thread;
		r->st->threads++;
	}
	thread_entries_free(&e, n);
	store_thread_clear(&th);
	buf_free(&out);
}

/* A thread that was merged into another: its page sends readers to the
 * thread its first message is in now. */
static void moved_page(struct ren *r, int64_t old)
{
	struct buf out = BUF_INIT;
	struct vars v = { 0 };
	int64_t now = 0;
	bool found = false;
	char *rel;

	if (thread_resolve(r->s, r->l->name, old, &now, &found) < 0) {
		store_fail(r);
		return;
	}
	v_fmt(&v, "thread_id", "%lld", (long long)now);
	v_text(&v, "root", "../");
	sect(r, &out, found && now != old ? "moved" : "moved-gone", &v);
	v_free(&v);
	rel = xasprintf("thread/%lld.html", (long long)old);
	write_page(r, rel, &out);
	free(rel);
	buf_free(&out);
	if (r->error == NULL) {
		r->forgotten = xreallocarray(r->forgotten, r->nforgotten + 1,
					     sizeof *r->forgotten);
		r->forgotten[r->nforgotten++] = old;
		r->st->moved++;
	}
}

static int cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static bool has_id(const int64_t *v, size_t n, int64_t id)
{
	return n > 0 && bsearch(&id, v, n, sizeof *v, cmp_id) != NULL;
}

/* The messages of thread `thread` among the month's (ids, sorted), its
 * replies nested under the nearest of their ancestors in the month. */
static void month_thread(struct ren *r, struct buf *out, int64_t thread,
			 const int64_t *ids, size_t nids)
{
	struct store_thread th = { 0 };
	struct thread_entry *e = NULL;
	struct nest ns = { r, out, "month-list-start", "month-list-end",
			   "month-item-end", NULL, 0, 0 };
	struct vars v = { 0 };
	size_t n = 0, i, k, *depth = NULL;
	int64_t *in = NULL;
	bool found;

	if (store_thread_get(r->s, r->l->name, thread, &th, &found) < 0 ||
	    thread_list(r->s, thread, false, &e, &n) < 0) {
		store_fail(r);
		store_thread_clear(&th);
		return;
	}
	v_fmt(&v, "thread_id", "%lld", (long long)thread);
	v_take(&v, "subject", subject_markup(r, found ? th.subject : NULL),
	       true);
	sect(r, out, "month-thread-start", &v);
	v_free(&v);
	sect(r, out, "month-list-start", NULL);
	/* in[k]/depth[k]: the month's messages of the thread seen so far */
	in = xcalloc(n + 1, sizeof *in);
	depth = xcalloc(n + 1, sizeof *depth);
	for (i = 0, k = 0; i < n; i++) {
		int64_t up = e[i].parent;
		size_t d = 0, j;

		if (e[i].archive == 0 || !has_id(ids, nids, e[i].archive))
			continue;
		/* the nearest ancestor shown: the last one seen up the
		 * chain of parents */
		while (up > 0) {
			for (j = k; j > 0 && in[j - 1] != up; j--)
				;
			if (j > 0) {
				d = depth[j - 1] + 1;
				break;
			}
			for (j = 0; j < n && e[j].archive != up; j++)
				;
			up = j < n ? e[j].parent : 0;
		}
		in[k] = e[i].archive;
		depth[k++] = d;
		nest_enter(&ns, d);
		entry_vars(r, &v, &e[i]);
		sect(r, out, "month-item-start", &v);
		v_free(&v);
		nest_push(&ns);
	}
	nest_close(&ns);
	sect(r, out, "month-list-end", NULL);
	sect(r, out, "month-thread-end", NULL);
	free(in);
	free(depth);
	thread_entries_free(&e, n);
	store_thread_clear(&th);
}

static void month_page(struct ren *r, const char *month)
{
	struct store_web_row *rows = NULL;
	struct buf out = BUF_INIT;
	struct vars v = { 0 };
	int64_t *ids = NULL, *threads = NULL;
	size_t n = 0, nt = 0, i, j;
	time_t from, until;
	char *rel;

	if (!month_bounds(month, &from, &until))
		return;
	if (store_web_rows_dated(r->s, r->l->name, from, until, &rows,
				 &n) < 0) {
		store_fail(r);
		return;
	}
	if (!r->full) {
		r->months = xreallocarray(r->months, r->nmonths + 1,
					  sizeof *r->months);
		snprintf(r->months[r->nmonths].month,
			 sizeof r->months[r->nmonths].month, "%s", month);
		r->months[r->nmonths++].messages = (int64_t)n;
	}
	ids = xcalloc(n + 1, sizeof *ids);
	threads = xcalloc(n + 1, sizeof *threads);
	for (i = 0; i < n; i++) {
		ids[i] = rows[i].id;
		/* the threads in the order of their first message here */
		for (j = 0; j < nt && threads[j] != rows[i].thread; j++)
			;
		if (j == nt && rows[i].thread > 0)
			threads[nt++] = rows[i].thread;
	}
	qsort(ids, n, sizeof *ids, cmp_id);
	page_start(r, &out, "", xstrdup(month));
	v_text(&v, "month", month);
	v_fmt(&v, "count", "%zu", n);
	v_fmt(&v, "threads", "%zu", nt);
	sect(r, &out, "month-start", &v);
	v_free(&v);
	for (i = 0; i < nt && r->error == NULL; i++)
		month_thread(r, &out, threads[i], ids, n);
	page_end(r, &out, "");
	rel = xasprintf("%s.html", month);
	write_page(r, rel, &out);
	free(rel);
	if (r->error == NULL)
		r->st->months++;
	free(ids);
	free(threads);
	free(rows);
	buf_free(&out);
}

static void index_page(struct ren *r)
{
	struct store_thread *t = NULL;
	struct store_web_month *m = NULL;
	struct buf out = BUF_INIT;
	size_t nt = 0, nm = 0, i;

	if (archive_latest(r->s, r->l, INDEX_THREADS, &t, &nt) < 0 ||
	    store_web_months(r->s, r->l->name, &m, &nm) < 0) {
		store_fail(r);
		goto out;
	}
	page_start(r, &out, "", sect_str(r, "index-title", NULL));
	sect(r, &out, "index-start", NULL);
	if (nt == 0)
		sect(r, &out, "index-empty", NULL);
	if (nt > 0) {
		sect(r, &out, "index-threads-start", NULL);
		for (i = 0; i < nt; i++) {
			struct vars v = { 0 };

			v_fmt(&v, "thread_id", "%lld", (long long)t[i].id);
			v_take(&v, "subject", subject_markup(r, t[i].subject),
			       true);
			v_fmt(&v, "count", "%lld", (long long)t[i].messages);
			date_vars(&v, "date", t[i].last_date);
			resolved_var(r, &v, &t[i]);
			sect(r, &out, "index-thread", &v);
			v_free(&v);
		}
		sect(r, &out, "index-threads-end", NULL);
	}
	if (nm > 0) {
		sect(r, &out, "index-months-start", NULL);
		for (i = 0; i < nm; i++) {
			struct vars v = { 0 };

			v_text(&v, "month", m[i].month);
			v_fmt(&v, "count", "%lld", (long long)m[i].messages);
			sect(r, &out, "index-month", &v);
			v_free(&v);
		}
		sect(r, &out, "index-months-end", NULL);
	}
	page_end(r, &out, "");
	write_page(r, "index.html", &out);
	if (r->error == NULL)
		r->st->other++;
out:
	store_threads_free(&t, nt);
	free(m);
	buf_free(&out);
}

static void faq_page(struct ren *r)
{
	struct store_faq *f = NULL;
	struct buf out = BUF_INIT;
	char added[32];
	size_t n = 0, i;

	if (archive_faq(r->s, r->l, 0, &f, &n) < 0) {
		store_fail(r);
		return;
	}
	page_start(r, &out, "", sect_str(r, "faq-title", NULL));
	sect(r, &out, "faq-start", NULL);
	if (n == 0)
		sect(r, &out, "faq-empty", NULL);
	else
		sect(r, &out, "faq-list-start", NULL);
	for (i = 0; i < n; i++) {
		struct vars v = { 0 };
		const char *title = f[i].title != NULL ? f[i].title :
				    f[i].subject;

		v_fmt(&v, "id", "%lld", (long long)f[i].archive);
		v_fmt(&v, "thread_id", "%lld", (long long)f[i].thread);
		v_take(&v, "subject", subject_markup(r, title), true);
		date_vars(&v, "date", f[i].date);
		fmt_date(f[i].added_at, added);
		v_take(&v, "added", xstrdup(added), false);
		sect(r, &out, "faq-entry", &v);
		v_free(&v);
	}
	if (n > 0)
		sect(r, &out, "faq-list-end", NULL);
	page_end(r, &out, "");
	write_page(r, "faq.html", &out);
	if (r->error == NULL)
		r->st->other++;
	store_faq_free(&f, n);
	buf_free(&out);
}

/* The first lines of a thread's first message, for the feed. */
static char *thread_summary(struct ren *r, int64_t thread)
{
	struct store_archived a = { 0 };
	struct mtext mt = { 0 };
	char *raw = NULL, *sum = NULL, *hidden;
	size_t len = 0;
	bool found;

	if (load(r, thread, &a, &raw, &len, &found) < 0 || !found ||
	    a.thread != thread)
		goto out;
	message_text(raw, len, &r->lim, false, &mt);
	if (mt.found) {
		sum = reply_excerpt(buf_cstr(&mt.text), SUMMARY_LINES,
				    SUMMARY_BYTES);
		if (r->hide) {
			hidden = hide_addresses(sum, strlen(sum));
			free(sum);
			sum = hidden;
		}
	}
out:
	mtext_free(&mt);
	free(raw);
	store_archived_clear(&a);
	return sum != NULL ? sum : xstrdup("");
}

static void feed_page(struct ren *r)
{
	struct store_thread *t = NULL;
	struct buf out = BUF_INIT;
	struct vars v = { 0 };
	const char *base = r->l->archive_url != NULL ? r->l->archive_url : "";
	char iso[32], day[16];
	size_t n = 0, i;
	time_t updated = 0;
	struct tm tm;

	if (store_threads_started(r->s, r->l->name, FEED_THREADS, &t,
				  &n) < 0) {
		store_fail(r);
		return;
	}
	for (i = 0; i < n; i++)
		if (t[i].first_date > updated)
			updated = t[i].first_date;
	fmt_iso(updated, iso);
	v_text(&v, "base", base);
	v_text(&v, "updated", iso);
	v_fmt(&v, "feed_id", "tag:%s,2000:%s", r->c->domain, r->l->name);
	sect_of(r, r->ft, &out, "feed-start", &v);
	v_free(&v);
	for (i = 0; i < n && r->error == NULL; i++) {
		time_t d = t[i].first_date;

		if (gmtime_r(&d, &tm) == NULL ||
		    strftime(day, sizeof day, "%Y-%m-%d", &tm) == 0)
			snprintf(day, sizeof day, "2000-01-01");
		v_text(&v, "base", base);
		v_fmt(&v, "thread_id", "%lld", (long long)t[i].id);
		v_fmt(&v, "entry_id", "tag:%s,%s:%s/thread/%lld",
		      r->c->domain, day, r->l->name, (long long)t[i].id);
		v_take(&v, "subject", subject_markup(r, t[i].subject), true);
		fmt_iso(d, iso);
		v_text(&v, "date", iso);
		v_fmt(&v, "count", "%lld", (long long)t[i].messages);
		v_take(&v, "excerpt", thread_summary(r, t[i].id), false);
		sect_of(r, r->ft, &out, "feed-entry", &v);
		v_free(&v);
	}
	sect_of(r, r->ft, &out, "feed-end", NULL);
	write_page(r, "feed.atom", &out);
	if (r->error == NULL)
		r->st->other++;
	store_threads_free(&t, n);
	buf_free(&out);
}

static void style_page(struct ren *r)
{
	char *path = template_file(r->c, r->l, "web.css");
	struct buf css = BUF_INIT;

	if (util_read_file(path, 1024 * 1024, &css) < 0)
		fail(r, false, "template %s: %s", path, strerror(errno));
	else
		write_page(r, "style.css", &css);
	if (r->error == NULL)
		r->st->other++;
	free(path);
	buf_free(&css);
}

/* ---- whole renders and updates ---- */

static int ren_open(struct ren *r, struct store *s, const struct conf *c,
		    const struct conf_list *l, const char *dir,
		    struct render_stats *st, char **error_r)
{
	char *path;
	struct template_var tv[TEMPLATE_LIST_VARS];
	char **storage = NULL;
	size_t n, i;

	memset(r, 0, sizeof *r);
	memset(st, 0, sizeof *st);
	r->s = s;
	r->c = c;
	r->l = l;
	r->st = st;
	r->hide = l->archive_hide_addresses;
	mime_limits_from_conf(&r->lim, c);
	path = template_file(c, l, "web.html");
	if (html_template_open(path, &r->t, error_r) < 0) {
		free(path);
		return -1;
	}
	free(path);
	path = template_file(c, l, "web-feed.xml");
	if (html_template_open(path, &r->ft, error_r) < 0) {
		free(path);
		html_template_close(&r->t);
		return -1;
	}
	free(path);
	r->dir = xasprintf("%s/%s", dir, l->name);
	/* the list's own placeholders, as every template has them */
	n = template_list_vars(c, l, tv, &storage);
	for (i = 0; i < n; i++) {
		if (strcmp(tv[i].name, "list") != 0 &&
		    strcmp(tv[i].name, "list_address") != 0 &&
		    strcmp(tv[i].name, "request_address") != 0 &&
		    strcmp(tv[i].name, "subscribe_address") != 0 &&
		    strcmp(tv[i].name, "description") != 0 &&
		    strcmp(tv[i].name, "domain") != 0 &&
		    strcmp(tv[i].name, "archive_url") != 0)
			continue;
		v_take(&r->base, tv[i].name, xstrdup(tv[i].value), false);
	}
	template_vars_free(&storage);
	return 0;
}

static int ren_close(struct ren *r, char **error_r, bool *transient_r)
{
	int rc = r->error != NULL ? -1 : 0;

	if (rc < 0) {
		*error_r = r->error;
		*transient_r = r->transient;
	}
	html_template_close(&r->t);
	html_template_close(&r->ft);
	v_free(&r->base);
	free(r->dir);
	free(r->written);
	free(r->forgotten);
	free(r->months);
	return rc;
}

static int render_all_messages(struct ren *r)
{
	struct store_archive_ref *v = NULL;
	time_t after_date = -1;
	int64_t after_id = 0;
	size_t n, i;
	char last[8] = "", m[8];

	do {
		if (store_archive_page(r->s, r->l->name, after_date, after_id,
				       200, &v, &n) < 0) {
			store_fail(r);
			return -1;
		}
		for (i = 0; i < n && r->error == NULL; i++) {
			message_page(r, v[i].id);
			/* date order: each month once */
			if (month_of(v[i].date, m) && strcmp(m, last) != 0) {
				month_page(r, m);
				memcpy(last, m, sizeof last);
			}
		}
		if (n > 0) {
			after_date = v[n - 1].date;
			after_id = v[n - 1].id;
		}
		free(v);
	} while (r->error == NULL && n == 200);
	return r->error != NULL ? -1 : 0;
}

static void render_all_threads(struct ren *r)
{
	size_t off = 0, n, i;

	do {
		struct store_thread *t = NULL;

		if (store_threads_latest(r->s, r->l->name, 500, off, &t,
					 &n) < 0) {
			store_fail(r);
			return;
		}
		for (i = 0; i < n && r->error == NULL; i++)
			thread_page(r, t[i].id);
		store_threads_free(&t, n);
		off += n;
	} while (r->error == NULL && n == 500);
}

static void render_moved(struct ren *r)
{
	int64_t *gone = NULL;
	size_t n = 0, i;

	if (store_web_threads_gone(r->s, r->l->name, GONE_MAX, &gone,
				   &n) < 0) {
		store_fail(r);
		return;
	}
	for (i = 0; i < n && r->error == NULL; i++)
		moved_page(r, gone[i]);
	free(gone);
}

/* Tells the store what the pages written so far mean for the next pass:
 * which thread pages exist, the months' counts. One transaction. */
static void flush(struct ren *r)
{
	struct store *s = r->s;
	const char *list = r->l->name;
	size_t i;
	int rc;

	if (r->error != NULL || !r->own)
		return;
	rc = store_begin(s);
	for (i = 0; rc == 0 && i < r->nmonths; i++)
		rc = store_web_month_set(s, list, r->months[i].month,
					 r->months[i].messages);
	for (i = 0; rc == 0 && i < r->nwritten; i++)
		rc = store_web_thread_written(s, list, r->written[i]);
	for (i = 0; rc == 0 && i < r->nforgotten; i++)
		rc = store_web_thread_forget(s, list, r->forgotten[i]);
	if (rc == 0)
		rc = store_commit(s);
	if (rc < 0) {
		store_fail(r);
		store_rollback(s);
	}
	r->nmonths = r->nwritten = r->nforgotten = 0;
}

int render_all(struct store *s, const struct conf *c,
	       const struct conf_list *l, const char *dir,
	       struct render_stats *st, char **error_r, bool *transient_r)
{
	struct ren r;
	struct store_web_state w = { 0 };
	bool own = dir == NULL || (c->web.dir != NULL &&
				   strcmp(dir, c->web.dir) == 0);

	*transient_r = false;
	if (dir == NULL)
		dir = c->web.dir;
	if (dir == NULL) {
		*error_r = xstrdup("no folder for the pages: give one, or set "
				   "web.dir");
		return -1;
	}
	if (ren_open(&r, s, c, l, dir, st, error_r) < 0)
		return -1;
	r.own = own;
	r.full = true;
	/* What is archived from here on is the next update's. */
	if (store_web_newest(s, l->name, &w.archive_done,
			     &w.events_done) < 0 ||
	    store_web_months_recount(s, l->name) < 0)
		store_fail(&r);
	if (r.error == NULL && make_dir(r.dir) < 0)
		fail(&r, true, "%s: %s", r.dir, strerror(errno));
	if (r.error == NULL)
		style_page(&r);
	if (r.error == NULL)
		render_all_messages(&r);
	if (r.error == NULL)
		render_all_threads(&r);
	if (r.error == NULL && own)
		render_moved(&r);
	flush(&r);
	if (r.error == NULL) {
		faq_page(&r);
		feed_page(&r);
		index_page(&r);
	}
	w.rendered_at = util_now();
	if (r.error == NULL && own && store_web_state_set(s, l->name, &w) < 0)
		store_fail(&r);
	return ren_close(&r, error_r, transient_r);
}

/* Adds id to a set (an array kept unique). */
static void set_add(int64_t **v, size_t *n, int64_t id)
{
	size_t i;

	if (id <= 0)
		return;
	for (i = 0; i < *n; i++)
		if ((*v)[i] == id)
			return;
	*v = xreallocarray(*v, *n + 1, sizeof **v);
	(*v)[(*n)++] = id;
}

struct changes {
	int64_t *messages, *threads;
	size_t nmessages, nthreads;
	char (*months)[8];
	size_t nmonths;
	bool faq, resolved;
};

static void changes_free(struct changes *ch)
{
	free(ch->messages);
	free(ch->threads);
	free(ch->months);
}

static void month_add(struct changes *ch, time_t date)
{
	char m[8];
	size_t i;

	if (!month_of(date, m))
		return;
	for (i = 0; i < ch->nmonths; i++)
		if (strcmp(ch->months[i], m) == 0)
			return;
	ch->months = xreallocarray(ch->months, ch->nmonths + 1,
				   sizeof *ch->months);
	memcpy(ch->months[ch->nmonths++], m, 8);
}

/* What curation event e changed. */
static void event_changes(struct ren *r, const struct store_web_event *e,
			  struct changes *ch)
{
	struct store_archived a = { 0 };
	bool found;

	if (strcmp(e->kind, "archive.faq") == 0) {
		ch->faq = true;
	} else if (strcmp(e->kind, "archive.resolved") == 0) {
		set_add(&ch->threads, &ch->nthreads, e->ref);
		ch->resolved = true;
	} else if (strcmp(e->kind, "archive.tag") == 0) {
		set_add(&ch->messages, &ch->nmessages, e->ref);
		if (store_archive_get(r->s, e->ref, &a, &found) < 0)
			store_fail(r);
		else if (found)
			set_add(&ch->threads, &ch->nthreads, a.thread);
		store_archived_clear(&a);
	}
}

/* The pages that new rows (messages archived), events (curation) and
 * threads merged away change, each written once. */
static void update_pages(struct ren *r, const struct store_web_row *rows,
			 size_t nrows, const struct store_web_event *ev,
			 size_t nev, const int64_t *gone, size_t ngone)
{
	struct changes ch = { 0 };
	size_t i;

	for (i = 0; i < nrows; i++) {
		set_add(&ch.messages, &ch.nmessages, rows[i].id);
		set_add(&ch.threads, &ch.nthreads, rows[i].thread);
		month_add(&ch, rows[i].date);
	}
	for (i = 0; i < nev && r->error == NULL; i++)
		event_changes(r, &ev[i], &ch);
	for (i = 0; i < ch.nmessages && r->error == NULL; i++)
		message_page(r, ch.messages[i]);
	for (i = 0; i < ch.nthreads && r->error == NULL; i++)
		thread_page(r, ch.threads[i]);
	for (i = 0; i < ch.nmonths && r->error == NULL; i++)
		month_page(r, ch.months[i]);
	for (i = 0; i < ngone && r->error == NULL; i++)
		moved_page(r, gone[i]);
	if (ch.faq && r->error == NULL)
		faq_page(r);
	flush(r);
	/* The feed shows new threads; the index the latest threads, their
	 * counts and marks, and the months. */
	if (r->error == NULL && nrows > 0)
		feed_page(r);
	if (r->error == NULL && (nrows > 0 || ngone > 0 || ch.resolved))
		index_page(r);
	changes_free(&ch);
}

int render_update(struct store *s, const struct conf *c,
		  const struct conf_list *l, struct render_stats *st,
		  char **error_r, bool *transient_r)
{
	struct store_web_state w = { 0 }, now = { 0 };
	struct store_web_row *rows = NULL;
	struct store_web_event *ev = NULL;
	int64_t *gone = NULL;
	size_t nrows = 0, nev = 0, ngone = 0;
	struct ren r;
	bool found;

	*transient_r = false;
	memset(st, 0, sizeof *st);
	if (c->web.dir == NULL || l->archive_access != ARCHIVE_PUBLIC)
		return 0;
	if (store_web_state_get(s, l->name, &w, &found) < 0 ||
	    store_web_newest(s, l->name, &now.archive_done,
			     &now.events_done) < 0)
		goto store_failed;
	if (!found)
		return render_all(s, c, l, NULL, st, error_r, transient_r);
	if (store_web_rows_after(s, l->name, w.archive_done, now.archive_done,
				 UPDATE_MAX + 1, &rows, &nrows) < 0 ||
	    store_web_events_after(s, l->name, w.events_done,
				   now.events_done, EVENTS_MAX, &ev,
				   &nev) < 0 ||
	    store_web_threads_gone(s, l->name, GONE_MAX, &gone, &ngone) < 0)
		goto store_failed;
	if (nrows > UPDATE_MAX) {
		free(rows);
		free(ev);
		free(gone);
		return render_all(s, c, l, NULL, st, error_r, transient_r);
	}
	if (nrows == 0 && nev == 0 && ngone == 0) {
		free(rows);
		free(ev);
		free(gone);
		return 0;
	}
	if (ren_open(&r, s, c, l, c->web.dir, st, error_r) < 0) {
		free(rows);
		free(ev);
		free(gone);
		return -1;
	}
	r.own = true;
	update_pages(&r, rows, nrows, ev, nev, gone, ngone);
	now.rendered_at = util_now();
	if (r.error == NULL && store_web_state_set(s, l->name, &now) < 0)
		store_fail(&r);
	free(rows);
	free(ev);
	free(gone);
	return ren_close(&r, error_r, transient_r);
store_failed:
	*error_r = xstrdup(store_error(s));
	*transient_r = store_transient(s);
	free(rows);
	free(ev);
	free(gone);
	return -1;
}

/* ---- the lists page ---- */

int render_lists_page(const struct conf *c, const char *dir, char **error_r)
{
	struct html_template *t = NULL;
	struct buf out = BUF_INIT, old = BUF_INIT;
	char *path = template_file(c, NULL, "web.html"), *err = NULL;
	size_t i, shown = 0;
	int rc = -1;

	if (html_template_open(path, &t, error_r) < 0)
		goto out;
	free(path);
	path = NULL;
	if (html_render(t, "lists-start", NULL, 0, &out, &err) < 0)
		goto fail;
	for (i = 0; i < c->nlists; i++) {
		const struct conf_list *l = &c->lists[i];
		char *addr = xasprintf("%s@%s", l->name, c->domain);
		struct html_var v[] = {
			{ "list", l->name, false },
			{ "list_address", addr, false },
			{ "description", l->description, false },
		};

		if (l->archive_access != ARCHIVE_PUBLIC) {
			free(addr);
			continue;
		}
		rc = html_render(t, "lists-entry", v, 3, &out, &err);
		free(addr);
		rc = rc < 0 ? -1 : 0;
		if (rc < 0)
			goto fail;
		shown++;
	}
	if (shown == 0 &&
	    html_render(t, "lists-empty", NULL, 0, &out, &err) < 0)
		goto fail;
	if (html_render(t, "lists-end", NULL, 0, &out, &err) < 0)
		goto fail;
	path = xasprintf("%s/index.html", dir);
	/* Rewritten only when it changed: every pass looks at it. */
	if (util_read_file(path, 4 * 1024 * 1024, &old) == 0 &&
	    old.len == out.len && memcmp(old.data, out.data, out.len) == 0) {
		rc = 0;
		goto out;
	}
	if (make_dir(dir) < 0 || write_atomic(path, &out) < 0) {
		*error_r = xasprintf("%s: %s", path, strerror(errno));
		rc = -1;
		goto out;
	}
	rc = 0;
	goto out;
fail:
	*error_r = err;
	rc = -1;
out:
	html_template_close(&t);
	free(path);
	buf_free(&out);
	buf_free(&old);
	return rc;
}

int render_pass(const struct conf *c, struct store *s)
{
	size_t i;
	int ret = 0;
	char *err = NULL;

	if (c->web.dir == NULL)
		return 0;
	for (i = 0; i < c->nlists; i++) {
		struct render_stats st;
		bool transient;

		if (render_update(s, c, &c->lists[i], &st, &err,
				  &transient) < 0) {
			log_error("list=%s: web pages: %s", c->lists[i].name,
				  err);
			xfree(&err);
			ret = -1;
		} else if (st.messages + st.threads + st.months + st.moved +
			   st.other > 0) {
			log_info("list=%s: web pages: %zu messages, %zu "
				 "threads, %zu months", c->lists[i].name,
				 st.messages, st.threads, st.months);
		}
	}
	if (render_lists_page(c, c->web.dir, &err) < 0) {
		log_error("web pages: %s", err);
		free(err);
		ret = -1;
	}
	return ret;
}

/* ---- the pages convene web makes as they are asked for ---- */

/* A ren for a page that is not written to a file. */
static int ren_page(struct ren *r, struct store *s, const struct conf *c,
		    const struct conf_list *l, struct render_stats *st,
		    char **error_r)
{
	return ren_open(r, s, c, l, c->web.dir != NULL ? c->web.dir : ".",
			st, error_r);
}

/* The text of line `key` of archive-lines (the archive's answers by mail
 * say the same), with {{limit}}. */
static char *search_error_text(struct ren *r, enum search_error e)
{
	struct template_lines *t = NULL;
	struct buf b = BUF_INIT;
	char max[24], *err = NULL;
	struct template_var v[] = { { "limit", max } };

	snprintf(max, sizeof max, "%d", SEARCH_QUERY_MAX);
	buf_append(&b, "", 0);
	if (template_lines_open(r->c, r->l, "archive-lines", &t, &err) < 0 ||
	    template_lines_render(t, search_error_key(e), v, 1, &b,
				  &err) < 0) {
		fail(r, false, "%s", err);
		free(err);
	}
	template_lines_close(&t);
	return buf_steal(&b, NULL);
}

static void search_hits(struct ren *r, struct buf *out,
			const struct search_query *q,
			const struct search_result *res)
{
	struct vars v = { 0 };
	size_t i;

	if (res->n == 0) {
		v_text(&v, "query", q->shown);
		sect(r, out, "search-none", &v);
		v_free(&v);
		return;
	}
	v_text(&v, "query", q->shown);
	v_fmt(&v, "total", "%lld", (long long)res->threads);
	sect(r, out, "search-results-start", &v);
	v_free(&v);
	for (i = 0; i < res->n; i++) {
		const struct search_hit *h = &res->v[i];

		v_fmt(&v, "thread_id", "%lld", (long long)h->thread);
		v_fmt(&v, "id", "%lld", (long long)h->archive);
		v_take(&v, "subject", subject_markup(r, h->subject), true);
		v_fmt(&v, "matches", "%lld", (long long)h->matches);
		v_fmt(&v, "count", "%lld", (long long)h->messages);
		v_take(&v, "sender", shown(r, h->sender_name), false);
		date_vars(&v, "date", h->date);
		v_take(&v, "excerpt", shown(r, h->excerpt), false);
		sect(r, out, "search-hit", &v);
		v_free(&v);
	}
	sect(r, out, "search-results-end", NULL);
}

int render_search(struct store *s, const struct conf *c,
		  const struct conf_list *l, const char *query,
		  struct buf *out, char **error_r, bool *transient_r)
{
	struct render_stats st;
	struct search_query q = { 0 };
	struct search_result res = { 0 };
	enum search_error e = SEARCH_EMPTY;
	struct vars v = { 0 };
	struct ren r;

	*transient_r = false;
	if (ren_page(&r, s, c, l, &st, error_r) < 0)
		return -1;
	v_text(&v, "root", "");
	v_take(&v, "title", sect_str(&r, "search-title", NULL), true);
	v_text(&v, "query", query != NULL ? query : "");
	sect(&r, out, "page-start", &v);
	v_free(&v);
	sect(&r, out, "search-start", NULL);
	if (query != NULL)
		e = search_parse(query, strlen(query), &q);
	if (e != SEARCH_OK) {
		if (query != NULL && query[strspn(query, " \t")] != '\0') {
			v_take(&v, "error", search_error_text(&r, e), false);
			sect(&r, out, "search-error", &v);
			v_free(&v);
		}
		sect(&r, out, "search-help", NULL);
	} else if (search_run(s, l->name, &q, SEARCH_RESULTS_MAX,
			      &res) < 0) {
		store_fail(&r);
	} else {
		search_hits(&r, out, &q, &res);
	}
	v_text(&v, "root", "");
	sect(&r, out, "page-end", &v);
	v_free(&v);
	search_result_free(&res);
	if (e == SEARCH_OK)
		search_query_free(&q);
	return ren_close(&r, error_r, transient_r);
}

int render_notice(const struct conf *c, const struct conf_list *l,
		  const char *title_section, const char *section,
		  const struct html_var *vars, size_t nvars, struct buf *out,
		  char **error_r)
{
	struct render_stats st;
	struct vars v = { 0 };
	struct ren r;
	bool transient;
	size_t i;

	if (l != NULL) {
		if (ren_page(&r, NULL, c, l, &st, error_r) < 0)
			return -1;
	} else {
		char *path = template_file(c, NULL, "web.html");

		memset(&r, 0, sizeof r);
		r.c = c;
		r.st = &st;
		if (html_template_open(path, &r.t, error_r) < 0) {
			free(path);
			return -1;
		}
		free(path);
	}
	v_take(&v, "title", sect_str(&r, title_section, NULL), true);
	sect(&r, out, "plain-start", &v);
	v_free(&v);
	for (i = 0; i < nvars; i++)
		v_add(&v, vars[i].name, vars[i].value, vars[i].markup);
	sect(&r, out, section, &v);
	v_free(&v);
	sect(&r, out, "plain-end", NULL);
	return ren_close(&r, error_r, &transient);
}

/* ---- convene check ---- */

size_t render_check_templates(const struct conf *c, const struct conf_list *l,
			      void (*report)(const char *problem, void *ctx),
			      void *ctx)
{
	static const char *const files[] = { "web.html", "web-feed.xml" };
	const char *const *sections[] = { page_sections, feed_sections };
	size_t bad = 0, i;

	for (i = 0; i < 2; i++) {
		char *path = template_file(c, l, files[i]), *err = NULL;
		struct html_template *t = NULL;

		if (html_template_open(path, &t, &err) == 0)
			(void)html_template_check(t, sections[i], known_vars,
						  &err);
		if (err != NULL) {
			char *problem = xasprintf("list %s: %s", l->name, err);

			report(problem, ctx);
			free(problem);
			bad++;
		}
		free(err);
		free(path);
		html_template_close(&t);
	}
	return bad;
}
