/* html - HTML output: text escaped, links found, pages from templates */
#include "autoconf.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/html.h"
#include "base/buf.h"
#include "base/template.h"
#include "base/util.h"
#include "base/xalloc.h"

#define HTML_TEMPLATE_MAX (1024 * 1024)
#define REPLACEMENT "\xef\xbf\xbd"

/* The length of the well-formed UTF-8 sequence at p (n bytes available)
 * and its code point, or 0 when there is none. */
static size_t utf8_seq(const unsigned char *p, size_t n, uint32_t *cp_r)
{
	unsigned char c = p[0];
	size_t len, i;
	uint32_t cp;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c < 0x80) {
		*cp_r = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;      /* no surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		unsigned char d = p[i];

		if (d < (i == 1 ? lo : 0x80) || d > (i == 1 ? hi : 0xbf))
			return 0;
		cp = cp << 6 | (d & 0x3f);
	}
	*cp_r = cp;
	return len;
}

void html_escape(struct buf *out, const char *text, size_t len)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t i = 0, run = 0;

	if (text == NULL)
		return;
	buf_reserve(out, len + len / 8 + 16);
	while (i < len) {
		unsigned char c = p[i];
		const char *rep = NULL;
		uint32_t cp;
		size_t k;

		switch (c) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		case '\r': rep = ""; break;
		case '\n': case '\t': break;
		default:
			if (c < 32 || c == 127)
				rep = REPLACEMENT;
			break;
		}
		if (rep == NULL && c < 0x80) {
			i++;
			run++;
			continue;
		}
		if (rep == NULL) {
			k = utf8_seq(p + i, len - i, &cp);
			if (k > 0 && !(cp >= 0x80 && cp <= 0x9f) &&
			    cp != 0xfffe && cp != 0xffff) {
				i += k;
				run += k;
				continue;
			}
			rep = REPLACEMENT;
			/* a well-formed sequence we refuse is replaced whole */
			k = k > 0 ? k : 1;
		} else {
			k = 1;
		}
		buf_append(out, p + i - run, run);
		run = 0;
		buf_puts(out, rep);
		i += k;
	}
	buf_append(out, p + i - run, run);
}

void html_escape_str(struct buf *out, const char *text)
{
	if (text != NULL)
		html_escape(out, text, strlen(text));
}

static bool url_byte(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("-._~:/?#[]@!$&'()*+,;=%", c) != NULL;
}

size_t html_url_len(const char *text, size_t len)
{
	size_t n, i, open_p = 0, close_p = 0, open_b = 0, close_b = 0;

	if (len >= 8 && strncasecmp(text, "https://", 8) == 0)
		n = 8;
	else if (len >= 7 && strncasecmp(text, "http://", 7) == 0)
		n = 7;
	else
		return 0;
	for (i = n; i < len && url_byte((unsigned char)text[i]); i++) {
		open_p += text[i] == '(';
		close_p += text[i] == ')';
		open_b += text[i] == '[';
		close_b += text[i] == ']';
	}
	/* Punctuation that ends a sentence ends the URL; a closing bracket
	 * does when the URL did not open it. */
	while (i > n) {
		char c = text[i - 1];

		if (strchr(".,;:!?'", c) != NULL) {
			i--;
		} else if (c == ')' && close_p > open_p) {
			close_p--;
			i--;
		} else if (c == ']' && close_b > open_b) {
			close_b--;
			i--;
		} else {
			break;
		}
	}
	/* A host: at least one byte that is not a separator. */
	if (i == n || strchr("/?#@:", text[n]) != NULL)
		return 0;
	return i;
}

/* ---- templates ---- */

struct section {
	const char *name, *text;
	size_t nlen, tlen, line;   /* line: where its text begins */
};

struct html_template {
	char *path;
	char *data;
	struct section *v;
	size_t n;
};

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

static bool section_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/* Walks the placeholders of a section: fn(name, len) for each, the text
 * between them appended to out (when not NULL). 0, or -1 with *error_r. */
static int walk(const struct html_template *t, const struct section *s,
		int (*fn)(const char *name, size_t nlen, void *ctx,
			  struct buf *out),
		void *ctx, struct buf *out, char **error_r)
{
	const char *p = s->text, *end = s->text + s->tlen, *lit = p;
	size_t line = s->line;

	while (p < end) {
		const char *q;

		if (*p == '\n') {
			line++;
			p++;
			continue;
		}
		if (p[0] != '{' || p + 1 >= end || p[1] != '{') {
			p++;
			continue;
		}
		for (q = p + 2; q < end && name_char(*q); q++)
			;
		if (q == p + 2 || q + 1 >= end || q[0] != '}' || q[1] != '}') {
			*error_r = xasprintf("%s:%zu: unterminated or "
					     "malformed placeholder", t->path,
					     line);
			return -1;
		}
		if (out != NULL)
			buf_append(out, lit, (size_t)(p - lit));
		if (fn(p + 2, (size_t)(q - p - 2), ctx, out) < 0) {
			*error_r = xasprintf("%s:%zu: unknown placeholder "
					     "{{%.*s}} in section %.*s",
					     t->path, line, (int)(q - p - 2),
					     p + 2, (int)s->nlen, s->name);
			return -1;
		}
		p = lit = q + 2;
	}
	if (out != NULL)
		buf_append(out, lit, (size_t)(end - lit));
	return 0;
}

static const struct section *find(const struct html_template *t,
				  const char *name)
{
	size_t i, k = strlen(name);

	for (i = 0; i < t->n; i++)
		if (t->v[i].nlen == k && memcmp(t->v[i].name, name, k) == 0)
			return &t->v[i];
	return NULL;
}

static int nothing(const char *name, size_t nlen, void *ctx,
		   struct buf *out)
{
	return 0;
}

int html_template_open(const char *path, struct html_template **t_r,
		       char **error_r)
{
	struct html_template *t = xcalloc(1, sizeof *t);
	struct buf text = BUF_INIT;
	size_t cap = 0, lineno = 0, i, j;
	char *p, *next;
	struct section *cur = NULL;

	t->path = xstrdup(path);
	if (util_read_file(path, HTML_TEMPLATE_MAX, &text) < 0) {
		*error_r = xasprintf("template %s: %s", path, strerror(errno));
		goto fail;
	}
	t->data = buf_steal(&text, NULL);
	for (p = t->data; *p != '\0'; p = next) {
		char *q;

		lineno++;
		next = strchr(p, '\n');
		next = next != NULL ? next + 1 : p + strlen(p);
		if (strncmp(p, "@@ ", 3) != 0)
			continue;
		if (cur != NULL)
			cur->tlen = (size_t)(p - cur->text);
		for (q = p + 3; section_char(*q); q++)
			;
		if (q == p + 3) {
			*error_r = xasprintf("%s:%zu: \"@@\" without a section "
					     "name", path, lineno);
			goto fail;
		}
		if (t->n == cap) {
			cap = cap ? cap * 2 : 32;
			t->v = xreallocarray(t->v, cap, sizeof *t->v);
		}
		cur = &t->v[t->n++];
		cur->name = p + 3;
		cur->nlen = (size_t)(q - p - 3);
		cur->text = next;
		cur->line = lineno + 1;
	}
	if (cur != NULL)
		cur->tlen = strlen(cur->text);
	for (i = 0; i < t->n; i++) {
		for (j = 0; j < i; j++)
			if (t->v[i].nlen == t->v[j].nlen &&
			    memcmp(t->v[i].name, t->v[j].name,
				   t->v[i].nlen) == 0) {
				*error_r = xasprintf("%s:%zu: section %.*s is "
						     "there twice", path,
						     t->v[i].line - 1,
						     (int)t->v[i].nlen,
						     t->v[i].name);
				goto fail;
			}
		if (walk(t, &t->v[i], nothing, NULL, NULL, error_r) < 0)
			goto fail;
	}
	*t_r = t;
	return 0;
fail:
	buf_free(&text);
	html_template_close(&t);
	return -1;
}

void html_template_close(struct html_template **tp)
{
	if (*tp != NULL)
		template_parts_free((*tp)->path, (*tp)->data, (*tp)->v);
	xfree(tp);
}

struct fill {
	const struct html_var *vars;
	size_t n;
};

static int fill_var(const char *name, size_t nlen, void *ctx,
		    struct buf *out)
{
	const struct fill *f = ctx;
	size_t i;

	for (i = 0; i < f->n; i++) {
		const struct html_var *v = &f->vars[i];

		if (strlen(v->name) != nlen || memcmp(v->name, name, nlen) != 0)
			continue;
		if (v->value == NULL)
			return 0;
		if (v->markup)
			buf_puts(out, v->value);
		else
			html_escape_str(out, v->value);
		return 0;
	}
	return -1;
}

int html_render(const struct html_template *t, const char *section,
		const struct html_var *vars, size_t nvars, struct buf *out,
		char **error_r)
{
	const struct section *s = find(t, section);
	struct fill f = { vars, nvars };

	if (s == NULL) {
		*error_r = xasprintf("template %s has no section \"@@ %s\"",
				     t->path, section);
		return -1;
	}
	return walk(t, s, fill_var, &f, out, error_r);
}

static int known_var(const char *name, size_t nlen, void *ctx,
		     struct buf *out)
{
	const char *const *known = ctx;
	size_t i;

	for (i = 0; known[i] != NULL; i++)
		if (strlen(known[i]) == nlen &&
		    memcmp(known[i], name, nlen) == 0)
			return 0;
	return -1;
}

int html_template_check(const struct html_template *t,
			const char *const *sections,
			const char *const *known, char **error_r)
{
	size_t i;

	for (i = 0; sections[i] != NULL; i++) {
		if (find(t, sections[i]) == NULL) {
			*error_r = xasprintf("template %s has no section "
					     "\"@@ %s\"", t->path,
					     sections[i]);
			return -1;
		}
	}
	for (i = 0; i < t->n; i++)
		if (walk(t, &t->v[i], known_var, (void *)known, NULL,
			 error_r) < 0)
			return -1;
	return 0;
}
