/* search - a person's query parsed for FTS5, the index, results by thread */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "pipeline/search.h"
#include "base/buf.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "store/store.h"
#include "store/store_archive.h"

/* Words of an excerpt. */
#define EXCERPT_TOKENS 14
/* An excerpt line is cut at about this many bytes. */
#define EXCERPT_MAX 160

const char *search_error_key(enum search_error e)
{
	switch (e) {
	case SEARCH_OK:             return "search-ok";
	case SEARCH_EMPTY:          return "search-empty";
	case SEARCH_TOO_LONG:       return "search-too-long";
	case SEARCH_TOO_MANY:       return "search-too-many";
	case SEARCH_UNCLOSED_QUOTE: return "search-unclosed-quote";
	case SEARCH_BAD_DATE:       return "search-bad-date";
	case SEARCH_ONLY_NOT:       return "search-only-not";
	}
	return "search-empty";
}

void search_query_free(struct search_query *q)
{
	xfree(&q->match);
	xfree(&q->tag);
	xfree(&q->shown);
	q->after = q->before = 0;
}

/* ---- the parser ---- */

/* The length of the valid UTF-8 character at s (n bytes left), 0 when the
 * bytes are not one. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t k, i;
	unsigned int cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		k = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		k = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		k = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (k > n)
		return 0;
	for (i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((k == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (k == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return k;
}

/* The input made safe: invalid UTF-8 and control bytes become spaces. */
static char *clean_input(const char *text, size_t len)
{
	struct buf b = BUF_INIT;
	size_t i = 0;

	buf_append(&b, "", 0);
	while (i < len) {
		size_t k = utf8_len((const unsigned char *)text + i, len - i);

		if (k == 0 || (k == 1 && ((unsigned char)text[i] < 32 ||
					  text[i] == 127))) {
			buf_putc(&b, ' ');
			i++;
			continue;
		}
		buf_append(&b, text + i, k);
		i += k;
	}
	return buf_steal(&b, NULL);
}

static bool word_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c >= 0x80;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* A token stripped of the punctuation around it (newly allocated, or NULL
 * when nothing of a word is left). */
static char *trim_word(const char *s, size_t n)
{
	size_t a = 0, b = n, i;
	bool any = false;

	while (a < b && !word_byte((unsigned char)s[a]))
		a++;
	while (b > a && !word_byte((unsigned char)s[b - 1]))
		b--;
	for (i = a; i < b; i++)
		if (word_byte((unsigned char)s[i]))
			any = true;
	return any ? xstrndup(s + a, b - a) : NULL;
}

/* Appends text as an FTS5 string: in double quotes, a quote doubled. */
static void put_string(struct buf *out, const char *text)
{
	buf_putc(out, '"');
	for (; *text; text++) {
		if (*text == '"')
			buf_putc(out, '"');
		buf_putc(out, *text);
	}
	buf_putc(out, '"');
}

/* A date YYYY, YYYY-MM or YYYY-MM-DD: [*start_r, *end_r). */
static bool parse_date(const char *s, size_t n, time_t *start_r,
		       time_t *end_r)
{
	int y = 0, m = 1, d = 1, parts;
	char tail;
	struct tm tm = { 0 }, back;
	char tmp[16];
	time_t t;

	if (n == 0 || n >= sizeof tmp)
		return false;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (strspn(tmp, "0123456789-") != n)
		return false;
	parts = sscanf(tmp, "%4d-%2d-%2d%c", &y, &m, &d, &tail);
	if (parts < 1 || parts > 3 || y < 1970 || y > 9999 || m < 1 ||
	    m > 12 || d < 1 || d > 31)
		return false;
	if ((parts == 1 && n != 4) || (parts == 2 && n != 7) ||
	    (parts == 3 && n != 10))
		return false;
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	t = timegm(&tm);
	if (t == (time_t)-1 || gmtime_r(&t, &back) == NULL ||
	    back.tm_mday != d)
		return false;
	*start_r = t;
	if (parts == 1)
		tm.tm_year++;
	else if (parts == 2)
		tm.tm_mon++;
	else
		tm.tm_mday++;
	*end_r = timegm(&tm);
	return true;
}

struct parser {
	const char *p;          /* where we are in the cleaned input */
	struct buf pos, neg;    /* FTS5 terms wanted and excluded */
	struct buf shown;
	size_t terms;
	struct search_query *q;
};

static void show(struct parser *ps, const char *field, bool negated,
		 const char *value, bool quoted)
{
	if (ps->shown.len > 0)
		buf_putc(&ps->shown, ' ');
	if (negated)
		buf_putc(&ps->shown, '-');
	buf_puts(&ps->shown, field);
	if (quoted)
		buf_printf(&ps->shown, "\"%s\"", value);
	else
		buf_puts(&ps->shown, value);
}

/* Adds one FTS5 term (column NULL: any column). */
static enum search_error add_term(struct parser *ps, const char *column,
				  const char *field, bool negated,
				  const char *value, bool phrase, bool prefix)
{
	struct buf *b = negated ? &ps->neg : &ps->pos;

	if (++ps->terms > SEARCH_TERMS_MAX)
		return SEARCH_TOO_MANY;
	if (negated)
		buf_puts(b, " NOT ");
	else if (b->len > 0)
		buf_putc(b, ' ');
	if (column != NULL)
		buf_printf(b, "%s : ", column);
	put_string(b, value);
	if (prefix)
		buf_putc(b, '*');
	show(ps, field, negated, value, phrase);
	if (prefix)
		buf_putc(&ps->shown, '*');
	return SEARCH_OK;
}

/* The value after a field name or a bare term: a "phrase" or a run of
 * non-space bytes. *quoted_r tells which. */
static enum search_error read_value(struct parser *ps, char **value_r,
				    bool *quoted_r)
{
	const char *s = ps->p, *e;

	*value_r = NULL;
	*quoted_r = *s == '"';
	if (*quoted_r) {
		e = strchr(s + 1, '"');
		if (e == NULL)
			return SEARCH_UNCLOSED_QUOTE;
		*value_r = xstrndup(s + 1, (size_t)(e - s - 1));
		ps->p = e + 1;
		return SEARCH_OK;
	}
	for (e = s; *e != '\0' && !is_space(*e); e++)
		;
	*value_r = xstrndup(s, (size_t)(e - s));
	ps->p = e;
	return SEARCH_OK;
}

static enum search_error date_field(struct parser *ps, const char *field,
				    const char *v)
{
	struct search_query *q = ps->q;
	const char *dots = strstr(v, "..");
	time_t s1, e1, s2, e2;

	if (strcmp(field, "date:") == 0 && dots != NULL) {
		if (!parse_date(v, (size_t)(dots - v), &s1, &e1) ||
		    !parse_date(dots + 2, strlen(dots + 2), &s2, &e2) ||
		    e2 <= s1)
			return SEARCH_BAD_DATE;
		q->after = s1;
		q->before = e2;
	} else {
		if (!parse_date(v, strlen(v), &s1, &e1))
			return SEARCH_BAD_DATE;
		if (strcmp(field, "after:") == 0) {
			q->after = s1;
		} else if (strcmp(field, "before:") == 0) {
			q->before = s1;
		} else {
			q->after = s1;
			q->before = e1;
		}
	}
	show(ps, field, false, v, false);
	return SEARCH_OK;
}

/* One field:value term. */
static enum search_error field_term(struct parser *ps, const char *field,
				    bool negated)
{
	char *v = NULL, *w;
	bool quoted;
	enum search_error e = read_value(ps, &v, &quoted);

	if (e != SEARCH_OK)
		goto out;
	if (strcmp(field, "after:") == 0 || strcmp(field, "before:") == 0 ||
	    strcmp(field, "date:") == 0) {
		e = negated ? SEARCH_BAD_DATE : date_field(ps, field, v);
		goto out;
	}
	w = trim_word(v, strlen(v));
	if (w == NULL)
		goto out;       /* nothing of a word: dropped */
	if (strcmp(field, "tag:") == 0) {
		free(ps->q->tag);
		ps->q->tag = util_lower(w);
		show(ps, field, false, ps->q->tag, false);
		goto out;
	}
	e = add_term(ps, strcmp(field, "from:") == 0 ? "sender" : "subject",
		     field, negated, w, quoted, false);
	free(w);
out:
	free(v);
	return e;
}

/* A bare word or "phrase". */
static enum search_error plain_term(struct parser *ps, bool negated)
{
	char *v = NULL, *w;
	bool quoted, prefix = false;
	size_t n;
	enum search_error e = read_value(ps, &v, &quoted);

	if (e != SEARCH_OK) {
		free(v);
		return e;
	}
	n = strlen(v);
	if (!quoted && n > 0 && v[n - 1] == '*') {
		w = trim_word(v, n);
		/* "ab*" is a prefix; "*" or "a*" alone is not. */
		prefix = w != NULL && strlen(w) >= 2 &&
			 strspn(w, "abcdefghijklmnopqrstuvwxyz"
				"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") ==
			 strlen(w) && strncmp(v, w, strlen(w)) == 0;
	} else {
		w = trim_word(v, n);
	}
	free(v);
	if (w == NULL)
		return SEARCH_OK;
	e = add_term(ps, NULL, "", negated, w, quoted, prefix);
	free(w);
	return e;
}

enum search_error search_parse(const char *text, size_t len,
			       struct search_query *q)
{
	static const char *const fields[] = {
		"from:", "subject:", "after:", "before:", "date:", "tag:", NULL
	};
	struct parser ps = { NULL, BUF_INIT, BUF_INIT, BUF_INIT, 0, q };
	enum search_error e = SEARCH_OK;
	char *clean;

	memset(q, 0, sizeof *q);
	if (len > SEARCH_QUERY_MAX)
		return SEARCH_TOO_LONG;
	clean = clean_input(text, len);
	ps.p = clean;
	while (e == SEARCH_OK) {
		bool negated = false;
		size_t i;

		while (is_space(*ps.p))
			ps.p++;
		if (*ps.p == '\0')
			break;
		if (*ps.p == '-' && ps.p[1] != '\0' && !is_space(ps.p[1])) {
			negated = true;
			ps.p++;
		}
		for (i = 0; fields[i] != NULL; i++)
			if (strncasecmp(ps.p, fields[i],
					strlen(fields[i])) == 0)
				break;
		if (fields[i] != NULL) {
			ps.p += strlen(fields[i]);
			e = field_term(&ps, fields[i], negated);
		} else {
			e = plain_term(&ps, negated);
		}
	}
	if (e == SEARCH_OK && ps.pos.len == 0 && ps.neg.len > 0)
		e = SEARCH_ONLY_NOT;
	if (e == SEARCH_OK && ps.pos.len == 0 && q->tag == NULL &&
	    q->after == 0 && q->before == 0)
		e = SEARCH_EMPTY;
	if (e == SEARCH_OK && ps.pos.len > 0) {
		struct buf m = BUF_INIT;

		buf_printf(&m, "(%s)%s", ps.pos.data,
			   ps.neg.len > 0 ? ps.neg.data : "");
		q->match = buf_steal(&m, NULL);
	}
	if (e == SEARCH_OK)
		q->shown = buf_steal(&ps.shown, NULL);
	else
		search_query_free(q);
	buf_free(&ps.pos);
	buf_free(&ps.neg);
	buf_free(&ps.shown);
	free(clean);
	return e;
}

/* ---- the index ---- */

void search_split_text(const char *text, struct buf *body,
		       struct buf *quoted)
{
	const char *p = text;

	buf_append(body, "", 0);
	buf_append(quoted, "", 0);
	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p), i = 0;
		struct buf *to = body;

		while (i < n && is_space(p[i]))
			i++;
		if (i < n && p[i] == '>')
			to = quoted;
		buf_append(to, p, n);
		buf_putc(to, '\n');
		p += n + (nl != NULL ? 1 : 0);
	}
}

int search_index(struct store *s, int64_t archive, const char *subject,
		 const char *sender, const char *sender_name,
		 const char *text)
{
	struct buf body = BUF_INIT, quoted = BUF_INIT;
	char *from = xasprintf("%s %s", sender ? sender : "",
			       sender_name ? sender_name : "");
	int rc;

	search_split_text(text != NULL ? text : "", &body, &quoted);
	rc = store_fts_add(s, archive, subject, from, buf_cstr(&body),
			   buf_cstr(&quoted));
	buf_free(&body);
	buf_free(&quoted);
	free(from);
	return rc;
}

/* ---- results ---- */

char *search_hide_addresses(const char *text)
{
	struct buf out = BUF_INIT;
	const char *p;

	buf_append(&out, "", 0);
	for (p = text; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '@' && p > text && word_byte((unsigned char)p[-1]) &&
		    word_byte((unsigned char)p[1])) {
			buf_puts(&out, "@...");
			p++;
			while (word_byte((unsigned char)p[1]) ||
			       ((p[1] == '.' || p[1] == '-') &&
				word_byte((unsigned char)p[2])))
				p++;
			continue;
		}
		buf_putc(&out, c < 32 || c == 127 ? ' ' : (char)c);
	}
	return buf_steal(&out, NULL);
}

char *search_sender_display(const char *address, const char *name)
{
	if (name != NULL && name[strspn(name, " \t\"")] != '\0') {
		char *n = search_hide_addresses(name);
		char *t = n + strspn(n, " \t\"");
		char *r;
		size_t k = strlen(t);

		while (k > 0 && strchr(" \t\"", t[k - 1]) != NULL)
			k--;
		r = xstrndup(t, k);
		free(n);
		return r;
	}
	if (address != NULL && strchr(address, '@') != NULL)
		return xasprintf("%.*s@...",
				 (int)(strchr(address, '@') - address),
				 address);
	return xstrdup(address != NULL ? address : "?");
}

/* The excerpt on one line, white space runs squeezed, cut at about
 * EXCERPT_MAX bytes on a character boundary. */
static char *one_line(const char *text)
{
	char *hidden = search_hide_addresses(text);
	struct buf out = BUF_INIT;
	const char *p;
	bool space = false;

	buf_append(&out, "", 0);
	for (p = hidden; *p != '\0'; p++) {
		if (*p == ' ' || *p == '\t') {
			space = out.len > 0;
			continue;
		}
		if (out.len >= EXCERPT_MAX &&
		    ((unsigned char)*p & 0xc0) != 0x80) {
			buf_puts(&out, "...");
			break;
		}
		if (space)
			buf_putc(&out, ' ');
		space = false;
		buf_putc(&out, *p);
	}
	free(hidden);
	return buf_steal(&out, NULL);
}

void search_result_free(struct search_result *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		free(r->v[i].subject);
		free(r->v[i].sender_name);
		free(r->v[i].excerpt);
	}
	xfree(&r->v);
	r->n = 0;
}

int search_run(struct store *s, const char *list,
	       const struct search_query *q, size_t limit,
	       struct search_result *r)
{
	struct store_search sq = {
		.list = list, .match = q->match, .after = q->after,
		.before = q->before, .tag = q->tag,
		.limit = limit < SEARCH_RESULTS_MAX ? limit :
			 SEARCH_RESULTS_MAX,
	};
	struct store_search_hit *hits = NULL;
	size_t n = 0, i;

	memset(r, 0, sizeof *r);
	if (store_search(s, &sq, &hits, &n, &r->threads, &r->messages) < 0)
		return -1;
	r->v = xcalloc(n ? n : 1, sizeof *r->v);
	for (i = 0; i < n; i++) {
		struct search_hit *h = &r->v[r->n];
		struct store_thread t = { 0 };
		struct store_archived a = { 0 };
		char *ex = NULL;
		bool found = false, afound = false;

		if (store_thread_get(s, list, hits[i].thread, &t, &found) < 0 ||
		    store_archive_get(s, hits[i].archive, &a, &afound) < 0 ||
		    store_search_excerpt(s, q->match, hits[i].archive,
					 EXCERPT_TOKENS, &ex) < 0) {
			store_thread_clear(&t);
			store_archived_clear(&a);
			free(hits);
			search_result_free(r);
			return -1;
		}
		h->thread = hits[i].thread;
		h->archive = hits[i].archive;
		h->matches = hits[i].matches;
		h->messages = found ? t.messages : hits[i].matches;
		h->date = a.date;
		h->subject = xstrdup(found && t.subject ? t.subject :
				     a.subject ? a.subject : "");
		h->sender_name = search_sender_display(a.sender,
						       a.sender_name);
		h->excerpt = one_line(ex != NULL ? ex : "");
		r->n++;
		free(ex);
		store_thread_clear(&t);
		store_archived_clear(&a);
	}
	free(hits);
	return 0;
}
