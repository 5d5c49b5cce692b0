/* content - a list's MIME content rules: parts to strip or pass, the HTML
 * alternative to drop */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <libetpan/libetpan.h>

#include "mail/content.h"
#include "base/buf.h"
#include "base/conf.h"
#include "base/log.h"
#include "mail/msg.h"
#include "base/xalloc.h"

/* A part's type: lower-case type and subtype, boundary, a name. */
struct ctype {
	char type[64];
	char subtype[64];
	char *boundary;     /* multipart only; NULL otherwise */
	char *name;         /* name or filename parameter; may be NULL */
};

static void ctype_free(struct ctype *t)
{
	xfree(&t->boundary);
	xfree(&t->name);
}

static void copy_lower(char dst[64], const char *s)
{
	size_t i;

	for (i = 0; s != NULL && s[i] != '\0' && i < 63; i++)
		dst[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ?
				s[i] - 'A' + 'a' : s[i]);
	dst[i] = '\0';
}

/* Parses a Content-Type value (NULL: text/plain, as RFC 2045 says). */
static void parse_ctype(const char *value, struct ctype *t)
{
	struct mailmime_content *ct = NULL;
	size_t idx = 0;
	const char *type = "text", *p;

	memset(t, 0, sizeof *t);
	copy_lower(t->type, "text");
	copy_lower(t->subtype, "plain");
	if (value == NULL ||
	    mailmime_content_parse(value, strlen(value), &idx, &ct) !=
	    MAILIMF_NO_ERROR)
		return;
	if (ct->ct_type->tp_type == MAILMIME_TYPE_DISCRETE_TYPE) {
		const struct mailmime_discrete_type *d =
			ct->ct_type->tp_data.tp_discrete_type;

		switch (d->dt_type) {
		case MAILMIME_DISCRETE_TYPE_TEXT: type = "text"; break;
		case MAILMIME_DISCRETE_TYPE_IMAGE: type = "image"; break;
		case MAILMIME_DISCRETE_TYPE_AUDIO: type = "audio"; break;
		case MAILMIME_DISCRETE_TYPE_VIDEO: type = "video"; break;
		case MAILMIME_DISCRETE_TYPE_APPLICATION:
			type = "application";
			break;
		default:
			type = d->dt_extension ? d->dt_extension : "x-unknown";
		}
	} else {
		const struct mailmime_composite_type *c =
			ct->ct_type->tp_data.tp_composite_type;

		switch (c->ct_type) {
		case MAILMIME_COMPOSITE_TYPE_MESSAGE: type = "message"; break;
		case MAILMIME_COMPOSITE_TYPE_MULTIPART:
			type = "multipart";
			break;
		default:
			type = c->ct_token ? c->ct_token : "x-unknown";
		}
	}
	copy_lower(t->type, type);
	copy_lower(t->subtype, ct->ct_subtype);
	p = mailmime_content_param_get(ct, "boundary");
	if (p != NULL && strcmp(t->type, "multipart") == 0 && *p != '\0')
		t->boundary = xstrdup(p);
	p = mailmime_content_param_get(ct, "name");
	if (p != NULL)
		t->name = xstrdup(p);
	mailmime_content_free(ct);
}

bool content_type_matches(const char *type, const char *const *patterns,
			  size_t n)
{
	const char *slash = strchr(type, '/');
	size_t i, tlen = slash != NULL ? (size_t)(slash - type) : strlen(type);

	for (i = 0; i < n; i++) {
		const char *p = patterns[i];
		size_t plen = strlen(p);

		if (strcasecmp(p, type) == 0)
			return true;
		if (plen == tlen + 2 && strncasecmp(p, type, tlen) == 0 &&
		    strcmp(p + tlen, "/*") == 0)
			return true;
	}
	return false;
}

/* The unfolded value of field `name` in the header block h (hlen bytes),
 * newly allocated, or NULL. */
static char *block_header(const char *h, size_t hlen, const char *name)
{
	size_t nlen = strlen(name), i = 0;

	while (i < hlen) {
		const char *line = h + i, *e = memchr(line, '\n', hlen - i);
		size_t llen = e != NULL ? (size_t)(e - line) : hlen - i;

		if (llen > nlen && line[nlen] == ':' &&
		    strncasecmp(line, name, nlen) == 0) {
			struct buf v = BUF_INIT;
			size_t j = i + nlen + 1;

			/* The value and its continuation lines. */
			for (;;) {
				const char *s = h + j;
				const char *le = memchr(s, '\n', hlen - j);
				size_t n = le != NULL ? (size_t)(le - s) :
					   hlen - j;

				buf_append(&v, s, n);
				j += n + (le != NULL);
				if (j >= hlen || (h[j] != ' ' && h[j] != '\t'))
					break;
				buf_putc(&v, ' ');
			}
			return buf_steal(&v, NULL);
		}
		i += llen + (e != NULL);
	}
	return NULL;
}

struct ctx {
	const struct conf_list *l;
	long max_depth;
	struct buf report;
};

static bool stripped(const struct ctx *x, const struct ctype *t)
{
	char type[130];

	snprintf(type, sizeof type, "%s/%s", t->type, t->subtype);
	if (content_type_matches(type,
				 (const char *const *)x->l->content_strip.v,
				 x->l->content_strip.n))
		return true;
	return x->l->content_pass.n > 0 &&
	       !content_type_matches(type,
				     (const char *const *)x->l->content_pass.v,
				     x->l->content_pass.n);
}

static void report(struct ctx *x, const struct ctype *t)
{
	char safe[80];

	buf_printf(&x->report, "%s/%s", t->type, t->subtype);
	if (t->name != NULL)
		buf_printf(&x->report, " %s",
			   log_sanitize(safe, sizeof safe, t->name,
					strlen(t->name)));
	buf_putc(&x->report, '\n');
}

/* Is the line at p (n bytes, no LF) a delimiter of boundary b? 1 for a
 * part delimiter, 2 for the close delimiter, 0 otherwise. */
static int delimiter(const char *p, size_t n, const char *b, size_t blen)
{
	size_t i;
	int kind = 1;

	if (n < blen + 2 || p[0] != '-' || p[1] != '-' ||
	    memcmp(p + 2, b, blen) != 0)
		return 0;
	i = blen + 2;
	if (n >= i + 2 && p[i] == '-' && p[i + 1] == '-') {
		kind = 2;
		i += 2;
	}
	for (; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return 0;
	return kind;
}

struct span {
	size_t start, len;
};

static int filter_multipart(struct ctx *x, const char *body, size_t len,
			    const struct ctype *t, int depth, struct buf *out,
			    bool *changed);

/* One part (headers and body): kept as is, changed, or removed. Appends
 * the part to out unless removed; *removed_r. */
static int filter_part(struct ctx *x, const char *p, size_t n, bool in_alt,
		       bool alt_has_other, int depth, struct buf *out,
		       bool *changed, bool *removed_r)
{
	const char *sep = NULL;
	size_t hlen, i;
	char *v;
	struct ctype t;

	*removed_r = false;
	/* The header block ends at the first empty line. */
	if (n > 0 && p[0] == '\n') {
		hlen = 0;
	} else {
		for (i = 0; i + 1 < n; i++)
			if (p[i] == '\n' && p[i + 1] == '\n') {
				sep = p + i;
				break;
			}
		hlen = sep != NULL ? (size_t)(sep - p) + 1 : n;
	}
	v = block_header(p, hlen, "Content-Type");
	parse_ctype(v, &t);
	free(v);
	if (t.name == NULL) {
		char *d = block_header(p, hlen, "Content-Disposition");
		char *f = d != NULL ? strcasestr(d, "filename=") : NULL;

		if (f != NULL) {
			f += 9;
			if (*f == '"')
				f++;
			t.name = xstrndup(f, strcspn(f, "\";"));
		}
		free(d);
	}
	if (strcmp(t.type, "multipart") == 0) {
		size_t bstart = hlen < n && p[hlen] == '\n' ? hlen + 1 : hlen;
		struct buf sub = BUF_INIT;
		bool sub_changed = false;

		/* Signed or encrypted content must stay byte for byte. */
		if (strcmp(t.subtype, "signed") == 0 ||
		    strcmp(t.subtype, "encrypted") == 0 ||
		    t.boundary == NULL || depth >= x->max_depth ||
		    filter_multipart(x, p + bstart, n - bstart, &t, depth + 1,
				     &sub, &sub_changed) < 0 ||
		    !sub_changed) {
			buf_append(out, p, n);
		} else {
			buf_append(out, p, bstart);
			buf_append(out, sub.data, sub.len);
			*changed = true;
		}
		buf_free(&sub);
	} else if (stripped(x, &t) ||
		   (in_alt && alt_has_other && x->l->drop_html_alternative &&
		    strcmp(t.type, "text") == 0 &&
		    strcmp(t.subtype, "html") == 0)) {
		report(x, &t);
		*removed_r = true;
		*changed = true;
	} else {
		buf_append(out, p, n);
	}
	ctype_free(&t);
	return 0;
}

/* Is there a part other than text/html among the spans? */
static bool has_non_html(const char *body, const struct span *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const char *p = body + v[i].start;
		const char *e = p + v[i].len, *q;
		size_t hlen = v[i].len;
		char *ctv;
		struct ctype t;
		bool html;

		for (q = p; q + 1 < e; q++)
			if (q[0] == '\n' && q[1] == '\n') {
				hlen = (size_t)(q - p) + 1;
				break;
			}
		ctv = block_header(p, hlen, "Content-Type");
		parse_ctype(ctv, &t);
		free(ctv);
		html = strcmp(t.type, "text") == 0 &&
		       strcmp(t.subtype, "html") == 0;
		ctype_free(&t);
		if (!html)
			return true;
	}
	return false;
}

static int filter_multipart(struct ctx *x, const char *body, size_t len,
			    const struct ctype *t, int depth, struct buf *out,
			    bool *changed)
{
	const char *b = t->boundary;
	size_t blen = strlen(b), i = 0, pre_end = 0, close_at = 0;
	struct span *parts = NULL;
	size_t nparts = 0, kept = 0, k;
	size_t cur = 0;
	bool in_part = false, closed = false, alt, other;

	/* Find the delimiter lines. */
	while (i < len && !closed) {
		const char *line = body + i;
		const char *e = memchr(line, '\n', len - i);
		size_t n = e != NULL ? (size_t)(e - line) : len - i;
		int d = delimiter(line, n, b, blen);

		if (d != 0) {
			/* The LF before a delimiter belongs to it. */
			size_t end = i > 0 ? i - 1 : 0;

			if (in_part) {
				parts = xreallocarray(parts, nparts + 1,
						      sizeof *parts);
				parts[nparts].start = cur;
				parts[nparts].len = end > cur ? end - cur : 0;
				nparts++;
			} else {
				pre_end = i;
			}
			if (d == 2) {
				closed = true;
				close_at = i;
			}
			in_part = true;
			cur = i + n + (e != NULL);
		}
		i += n + (e != NULL);
	}
	if (!closed || nparts == 0) {
		free(parts);
		return -1;
	}
	alt = strcmp(t->subtype, "alternative") == 0;
	other = alt && has_non_html(body, parts, nparts);
	buf_append(out, body, pre_end);
	for (k = 0; k < nparts; k++) {
		struct buf part = BUF_INIT;
		bool removed;

		filter_part(x, body + parts[k].start, parts[k].len, alt, other,
			    depth, &part, changed, &removed);
		if (!removed) {
			buf_printf(out, "--%s\n", b);
			buf_append(out, part.data, part.len);
			buf_putc(out, '\n');
			kept++;
		}
		buf_free(&part);
	}
	if (kept == 0)
		buf_printf(out, "--%s\nContent-Type: text/plain; "
			   "charset=utf-8\n\n\n", b);
	/* The close delimiter and the epilogue, as they were. */
	buf_append(out, body + close_at, len - close_at);
	free(parts);
	return 0;
}

int content_filter(struct msg *m, const struct conf_list *l, long max_depth,
		   char **removed_r)
{
	struct ctx x = { .l = l, .max_depth = max_depth, .report = BUF_INIT };
	struct ctype t;
	char *v;
	bool changed = false;
	int rc = 0;

	*removed_r = NULL;
	if (l->content_strip.n == 0 && l->content_pass.n == 0 &&
	    !l->drop_html_alternative)
		return 0;
	v = msg_header_unfolded(m, "Content-Type");
	parse_ctype(v, &t);
	free(v);
	if (strcmp(t.type, "multipart") == 0) {
		struct buf out = BUF_INIT;

		if (strcmp(t.subtype, "signed") == 0 ||
		    strcmp(t.subtype, "encrypted") == 0) {
			ctype_free(&t);
			return 0;
		}
		if (t.boundary == NULL ||
		    filter_multipart(&x, m->body, m->body_len, &t, 1, &out,
				     &changed) < 0) {
			rc = -1;
		} else if (changed) {
			free(m->body);
			m->body = buf_steal(&out, &m->body_len);
		}
		buf_free(&out);
	} else if (stripped(&x, &t)) {
		report(&x, &t);
		changed = true;
		free(m->body);
		m->body = xstrdup("");
		m->body_len = 0;
		msg_field_set(m, "Content-Type", "text/plain; charset=utf-8");
		msg_field_delete(m, "Content-Transfer-Encoding");
		msg_field_delete(m, "Content-Disposition");
	}
	ctype_free(&t);
	if (changed && x.report.len > 0)
		*removed_r = buf_steal(&x.report, NULL);
	buf_free(&x.report);
	return rc;
}
