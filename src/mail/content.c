/* content - a list's MIME content rules: parts to strip or pass, the HTML
 * alternative to drop */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mail/content.h"
#include "base/buf.h"
#include "base/conf.h"
#include "base/log.h"
#include "mail/mime.h"
#include "mail/msg.h"
#include "base/xalloc.h"

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

struct ctx {
	const struct conf_list *l;
	const char *data;
	const struct mime_tree *t;
	struct buf report;
};

static bool stripped(const struct ctx *x, const struct mime_ctype *ct)
{
	char type[130];

	snprintf(type, sizeof type, "%s/%s", ct->type, ct->subtype);
	if (content_type_matches(type,
				 (const char *const *)x->l->content_strip.v,
				 x->l->content_strip.n))
		return true;
	return x->l->content_pass.n > 0 &&
	       !content_type_matches(type,
				     (const char *const *)x->l->content_pass.v,
				     x->l->content_pass.n);
}

static void report(struct ctx *x, const struct mime_part *p)
{
	const char *name = mime_ctype_param(&p->ct, "name");
	char safe[80];

	if (name == NULL)
		name = p->filename;
	buf_printf(&x->report, "%s/%s", p->ct.type, p->ct.subtype);
	if (name != NULL)
		buf_printf(&x->report, " %s",
			   log_sanitize(safe, sizeof safe, name,
					strlen(name)));
	buf_putc(&x->report, '\n');
}

static bool is_type(const struct mime_part *p, const char *type,
		    const char *subtype)
{
	return strcmp(p->ct.type, type) == 0 &&
	       strcmp(p->ct.subtype, subtype) == 0;
}

/* A multipart whose parts can be taken out: not signed or encrypted (they
 * must stay byte for byte), with its parts and close delimiter. */
static bool filterable(const struct mime_part *p)
{
	return strcmp(p->ct.type, "multipart") == 0 &&
	       strcmp(p->ct.subtype, "signed") != 0 &&
	       strcmp(p->ct.subtype, "encrypted") != 0 &&
	       p->nchildren > 0 && p->close != MIME_NONE;
}

static void filter_part(struct ctx *x, size_t i, bool in_alt,
			bool alt_has_other, struct buf *out, bool *changed,
			bool *removed_r);

/* The parts of multipart i, rules applied, into out. */
static void filter_multipart(struct ctx *x, size_t i, struct buf *out,
			     bool *changed)
{
	const struct mime_tree *t = x->t;
	const struct mime_part *p = &t->v[i];
	const char *d = x->data;
	bool alt = strcmp(p->ct.subtype, "alternative") == 0, other = false;
	size_t c, kept = 0;

	for (c = p->first_child; alt && c != MIME_NONE;
	     c = t->v[c].next_sibling)
		if (!is_type(&t->v[c], "text", "html"))
			other = true;
	/* header, blank line and preamble, as they were */
	buf_append(out, d + p->start, t->v[p->first_child].delim - p->start);
	for (c = p->first_child; c != MIME_NONE; c = t->v[c].next_sibling) {
		const struct mime_part *q = &t->v[c];
		size_t next = q->next_sibling != MIME_NONE ?
			      t->v[q->next_sibling].delim : p->close;
		struct buf sub = BUF_INIT;
		bool removed;

		filter_part(x, c, alt, other, &sub, changed, &removed);
		if (!removed) {
			/* the delimiter line, the part, the line break */
			buf_append(out, d + q->delim, q->start - q->delim);
			buf_append(out, sub.data, sub.len);
			buf_append(out, d + q->end, next - q->end);
			kept++;
		}
		buf_free(&sub);
	}
	if (kept == 0)
		buf_printf(out, "--%s\nContent-Type: text/plain; "
			   "charset=utf-8\n\n\n",
			   mime_ctype_param(&p->ct, "boundary"));
	/* the close delimiter and the epilogue, as they were */
	buf_append(out, d + p->close, p->end - p->close);
}

/* One part (header and body): kept as is, changed, or removed. Appends the
 * part to out unless removed. */
static void filter_part(struct ctx *x, size_t i, bool in_alt,
			bool alt_has_other, struct buf *out, bool *changed,
			bool *removed_r)
{
	const struct mime_part *p = &x->t->v[i];

	*removed_r = false;
	if (strcmp(p->ct.type, "multipart") == 0) {
		struct buf sub = BUF_INIT;
		bool sub_changed = false;

		if (filterable(p))
			filter_multipart(x, i, &sub, &sub_changed);
		if (sub_changed) {
			buf_append(out, sub.data, sub.len);
			*changed = true;
		} else {
			buf_append(out, x->data + p->start, p->end - p->start);
		}
		buf_free(&sub);
	} else if (stripped(x, &p->ct) ||
		   (in_alt && alt_has_other && x->l->drop_html_alternative &&
		    is_type(p, "text", "html"))) {
		report(x, p);
		*removed_r = true;
		*changed = true;
	} else {
		buf_append(out, x->data + p->start, p->end - p->start);
	}
}

int content_filter(struct msg *m, const struct conf_list *l,
		   const struct mime_limits *lim, char **removed_r)
{
	struct mime_tree t = { 0 };
	struct ctx x = { .l = l, .data = m->body, .t = &t,
			 .report = BUF_INIT };
	const struct mime_part *root;
	char *ctv, *ctev;
	bool changed = false;
	int rc = 0;

	*removed_r = NULL;
	if (l->content_strip.n == 0 && l->content_pass.n == 0 &&
	    !l->drop_html_alternative)
		return 0;
	ctv = msg_header_unfolded(m, "Content-Type");
	ctev = msg_header_unfolded(m, "Content-Transfer-Encoding");
	if (mime_walk_body(m->body, m->body_len, ctv, ctev, lim, &t) !=
	    MIME_OK) {
		rc = -1;
		goto out;
	}
	root = &t.v[0];
	if (strcmp(root->ct.type, "multipart") == 0) {
		struct buf out = BUF_INIT;

		if (strcmp(root->ct.subtype, "signed") == 0 ||
		    strcmp(root->ct.subtype, "encrypted") == 0)
			goto out;
		if (!filterable(root)) {
			rc = -1;
			goto out;
		}
		filter_multipart(&x, 0, &out, &changed);
		if (changed) {
			free(m->body);
			m->body = buf_steal(&out, &m->body_len);
		}
		buf_free(&out);
	} else if (stripped(&x, &root->ct)) {
		report(&x, root);
		changed = true;
		free(m->body);
		m->body = xstrdup("");
		m->body_len = 0;
		msg_field_set(m, "Content-Type", "text/plain; charset=utf-8");
		msg_field_delete(m, "Content-Transfer-Encoding");
		msg_field_delete(m, "Content-Disposition");
	}
	if (changed && x.report.len > 0)
		*removed_r = buf_steal(&x.report, NULL);
out:
	buf_free(&x.report);
	mime_tree_free(&t);
	free(ctv);
	free(ctev);
	return rc;
}
