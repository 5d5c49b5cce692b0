/* mime - the one MIME walk: structure, limits, and the parts' contents */
#include "autoconf.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <libetpan/libetpan.h>

#include "mail/mime.h"
#include "base/buf.h"
#include "base/conf.h"
#include "mail/etpan.h"
#include "base/xalloc.h"

const struct mime_limits mime_default_limits = {
	.max_depth = 50,
	.max_parts = 10000,
	.max_header_bytes = 512 * 1024,
	.max_headers = 1000,
};

void mime_limits_from_conf(struct mime_limits *lim, const struct conf *c)
{
	lim->max_depth = (size_t)c->limits.max_mime_depth;
	lim->max_parts = (size_t)c->limits.max_mime_parts;
	lim->max_header_bytes = (size_t)c->limits.max_header_kb * 1024;
	lim->max_headers = (size_t)c->limits.max_headers;
}

const char *mime_result_str(enum mime_result r)
{
	switch (r) {
	case MIME_OK:
		return "ok";
	case MIME_TOO_DEEP:
		return "MIME parts nested deeper than max_mime_depth";
	case MIME_TOO_MANY_PARTS:
		return "more MIME parts than max_mime_parts";
	case MIME_NESTED_COMMENTS:
		return "comments in a header field nested deeper than "
		       "max_mime_depth";
	case MIME_HEADER_TOO_BIG:
		return "the header of a MIME part over its limits";
	}
	return "unknown MIME result";
}

/* ---- header values, through libetpan ---- */

static void copy_lower(char dst[64], const char *s)
{
	size_t i;

	for (i = 0; s != NULL && s[i] != '\0' && i < 63; i++)
		dst[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ?
				s[i] - 'A' + 'a' : s[i]);
	dst[i] = '\0';
}

static const char *discrete_name(const struct mailmime_discrete_type *d)
{
	switch (d->dt_type) {
	case MAILMIME_DISCRETE_TYPE_TEXT:
		return "text";
	case MAILMIME_DISCRETE_TYPE_IMAGE:
		return "image";
	case MAILMIME_DISCRETE_TYPE_AUDIO:
		return "audio";
	case MAILMIME_DISCRETE_TYPE_VIDEO:
		return "video";
	case MAILMIME_DISCRETE_TYPE_APPLICATION:
		return "application";
	}
	return d->dt_extension != NULL ? d->dt_extension : "x-unknown";
}

static const char *composite_name(const struct mailmime_composite_type *c)
{
	switch (c->ct_type) {
	case MAILMIME_COMPOSITE_TYPE_MESSAGE:
		return "message";
	case MAILMIME_COMPOSITE_TYPE_MULTIPART:
		return "multipart";
	}
	return c->ct_token != NULL ? c->ct_token : "x-unknown";
}

void mime_ctype_free(struct mime_ctype *ct)
{
	size_t i;

	for (i = 0; i < ct->nparams; i++) {
		free(ct->params[i].name);
		free(ct->params[i].value);
	}
	xfree(&ct->params);
	ct->nparams = 0;
}

void mime_ctype_parse(const char *value, struct mime_ctype *ct)
{
	struct mailmime_content *c = NULL;
	const struct mailmime_type *t;
	const char *type;
	clistiter *it;
	size_t idx = 0, n;
	char *v;

	memset(ct, 0, sizeof *ct);
	copy_lower(ct->type, "text");
	copy_lower(ct->subtype, "plain");
	if (value == NULL)
		return;
	v = etpan_value(value, &n);
	if (mailmime_content_parse(v, n, &idx, &c) != MAILIMF_NO_ERROR) {
		free(v);
		return;
	}
	free(v);
	t = c->ct_type;
	if (t->tp_type == MAILMIME_TYPE_DISCRETE_TYPE)
		type = discrete_name(t->tp_data.tp_discrete_type);
	else
		type = composite_name(t->tp_data.tp_composite_type);
	copy_lower(ct->type, type);
	copy_lower(ct->subtype, c->ct_subtype != NULL ? c->ct_subtype : "");
	ct->parsed = true;
	if (c->ct_parameters != NULL) {
		for (it = clist_begin(c->ct_parameters); it != NULL;
		     it = clist_next(it)) {
			const struct mailmime_parameter *p = clist_content(it);
			struct mime_param *q;
			char *name;

			if (p->pa_name == NULL || p->pa_value == NULL)
				continue;
			ct->params = xreallocarray(ct->params, ct->nparams + 1,
						   sizeof *ct->params);
			q = &ct->params[ct->nparams++];
			name = xstrdup(p->pa_name);
			for (n = 0; name[n] != '\0'; n++)
				if (name[n] >= 'A' && name[n] <= 'Z')
					name[n] = (char)(name[n] - 'A' + 'a');
			q->name = name;
			q->value = xstrdup(p->pa_value);
		}
	}
	mailmime_content_free(c);
}

const char *mime_ctype_param(const struct mime_ctype *ct, const char *name)
{
	size_t i;

	for (i = 0; i < ct->nparams; i++)
		if (strcasecmp(ct->params[i].name, name) == 0)
			return ct->params[i].value;
	return NULL;
}

enum mime_encoding mime_encoding_parse(const char *value)
{
	struct mailmime_mechanism *mech = NULL;
	enum mime_encoding e = MIME_ENC_OTHER;
	size_t idx = 0, n;
	char *v;

	if (value == NULL)
		return MIME_ENC_7BIT;
	v = etpan_value(value, &n);
	if (mailmime_encoding_parse(v, n, &idx, &mech) == MAILIMF_NO_ERROR) {
		switch (mech->enc_type) {
		case MAILMIME_MECHANISM_7BIT:
			e = MIME_ENC_7BIT;
			break;
		case MAILMIME_MECHANISM_8BIT:
			e = MIME_ENC_8BIT;
			break;
		case MAILMIME_MECHANISM_BINARY:
			e = MIME_ENC_BINARY;
			break;
		case MAILMIME_MECHANISM_QUOTED_PRINTABLE:
			e = MIME_ENC_QP;
			break;
		case MAILMIME_MECHANISM_BASE64:
			e = MIME_ENC_BASE64;
			break;
		default:
			e = MIME_ENC_OTHER;
		}
		mailmime_mechanism_free(mech);
	}
	free(v);
	return e;
}

/* Content-Disposition: attachment, and its filename. */
static void read_disposition(const char *value, struct mime_part *p)
{
	char *v, *f;
	size_t n;

	if (value == NULL)
		return;
	v = etpan_strip_comments(value, NULL);
	for (f = v; *f == ' ' || *f == '\t'; f++)
		;
	n = strcspn(f, "; \t");
	p->attachment = n == 10 && strncasecmp(f, "attachment", 10) == 0;
	f = strcasestr(v, "filename=");
	if (f != NULL) {
		f += 9;
		if (*f == '"')
			f++;
		p->filename = xstrndup(f, strcspn(f, "\";"));
	}
	free(v);
}

/* ---- the walk ---- */

struct open_mp {
	const char *b;          /* its boundary (owned by the part's ct) */
	size_t blen;
	size_t part;
};

enum field { F_NONE, F_CTYPE, F_CTE, F_DISP, F_OTHER };

struct walker {
	const char *d;
	size_t len;
	const struct mime_limits *lim;
	struct mime_tree *t;
	struct open_mp *stack;
	size_t nstack, capstack;
	size_t cur;             /* the innermost open part */
	bool in_header;
	bool root_header;       /* the message's own header, no field yet */
	/* the header being read */
	struct buf ctype, cte, disp;
	bool have_ctype, have_cte, have_disp;
	enum field field;       /* the field continuation lines belong to */
	size_t nfields, hbytes;
	/* comments in the current structured field */
	bool structured, quoted, escaped;
	size_t cdepth;
	enum mime_result result;
};

static const char *const structured_fields[] = {
	"from", "sender", "reply-to", "to", "cc", "bcc", "resent-from",
	"resent-sender", "resent-to", "resent-cc", "resent-bcc",
	"return-path", "date", "resent-date", "message-id",
	"resent-message-id", "in-reply-to", "references", "mime-version",
	"disposition-notification-to", NULL
};

static bool is_structured(const char *name, size_t n)
{
	size_t i;

	if (n >= 8 && strncasecmp(name, "content-", 8) == 0)
		return true;
	for (i = 0; structured_fields[i] != NULL; i++)
		if (strlen(structured_fields[i]) == n &&
		    strncasecmp(name, structured_fields[i], n) == 0)
			return true;
	return false;
}

static struct mime_part *part(struct walker *w, size_t i)
{
	return &w->t->v[i];
}

/* Opens a new part under parent (MIME_NONE: the message) at start. */
static bool open_part(struct walker *w, size_t parent, size_t delim,
		      size_t start)
{
	struct mime_tree *t = w->t;
	struct mime_part *p;
	size_t depth = 0;
	bool in_message = false;

	if (parent != MIME_NONE) {
		const struct mime_part *q = part(w, parent);

		depth = q->depth + 1;
		in_message = q->in_message ||
			     strcmp(q->ct.type, "message") == 0;
		if (depth > w->lim->max_depth) {
			w->result = MIME_TOO_DEEP;
			return false;
		}
	}
	if (t->n >= w->lim->max_parts) {
		w->result = MIME_TOO_MANY_PARTS;
		return false;
	}
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 8;
		t->v = xreallocarray(t->v, t->cap, sizeof *t->v);
	}
	p = &t->v[t->n];
	memset(p, 0, sizeof *p);
	p->parent = parent;
	p->depth = depth;
	p->delim = delim;
	p->start = start;
	p->body = start;
	p->end = MIME_NONE;
	p->close = MIME_NONE;
	p->in_message = in_message;
	p->first_child = p->last_child = p->next_sibling = MIME_NONE;
	copy_lower(p->ct.type, "text");
	copy_lower(p->ct.subtype, "plain");
	if (parent != MIME_NONE) {
		struct mime_part *q = part(w, parent);

		if (q->last_child != MIME_NONE)
			part(w, q->last_child)->next_sibling = t->n;
		else
			q->first_child = t->n;
		q->last_child = t->n;
		q->nchildren++;
	}
	w->cur = t->n++;
	/* a fresh header */
	w->in_header = true;
	buf_reset(&w->ctype);
	buf_reset(&w->cte);
	buf_reset(&w->disp);
	w->have_ctype = w->have_cte = w->have_disp = false;
	w->field = F_NONE;
	w->nfields = w->hbytes = 0;
	w->structured = false;
	return true;
}

static void push_boundary(struct walker *w, size_t i)
{
	const char *b = mime_ctype_param(&part(w, i)->ct, "boundary");

	if (b == NULL || *b == '\0')
		return;
	if (w->nstack == w->capstack) {
		w->capstack = w->capstack ? w->capstack * 2 : 8;
		w->stack = xreallocarray(w->stack, w->capstack,
					 sizeof *w->stack);
	}
	w->stack[w->nstack].b = b;
	w->stack[w->nstack].blen = strlen(b);
	w->stack[w->nstack].part = i;
	w->nstack++;
}

/* The current part's header ended; its body begins at `body`. Reads the
 * content fields, then opens what its body holds: a multipart's boundary,
 * an attached message's header. */
static bool end_header(struct walker *w, size_t body, bool has_body)
{
	size_t i = w->cur;
	struct mime_part *p = part(w, i);
	const struct mime_part *parent =
		p->parent != MIME_NONE ? part(w, p->parent) : NULL;

	w->in_header = false;
	p->body = body;
	if (w->have_ctype) {
		mime_ctype_parse(buf_cstr(&w->ctype), &p->ct);
	} else if (parent != NULL &&
		   strcmp(parent->ct.type, "multipart") == 0 &&
		   strcmp(parent->ct.subtype, "digest") == 0) {
		/* RFC 2046 5.1.5 */
		copy_lower(p->ct.type, "message");
		copy_lower(p->ct.subtype, "rfc822");
	}
	p->encoding = w->have_cte ? mime_encoding_parse(buf_cstr(&w->cte)) :
		      MIME_ENC_7BIT;
	if (w->have_disp)
		read_disposition(buf_cstr(&w->disp), p);
	if (!has_body)
		return true;
	if (strcmp(p->ct.type, "multipart") == 0) {
		push_boundary(w, i);
	} else if (strcmp(p->ct.type, "message") == 0 &&
		   (strcmp(p->ct.subtype, "rfc822") == 0 ||
		    strcmp(p->ct.subtype, "global") == 0) &&
		   p->encoding != MIME_ENC_QP &&
		   p->encoding != MIME_ENC_BASE64) {
		if (!open_part(w, i, body, body))
			return false;
	}
	return true;
}

/* Counts comment nesting in the bytes of a structured field. */
static bool check_comments(struct walker *w, const char *s, size_t n)
{
	size_t i;

	if (!w->structured)
		return true;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (w->escaped) {
			w->escaped = false;
		} else if (c == '\\') {
			w->escaped = true;
		} else if (w->quoted) {
			if (c == '"')
				w->quoted = false;
		} else if (c == '"' && w->cdepth == 0) {
			w->quoted = true;
		} else if (c == '(') {
			if (++w->cdepth > w->lim->max_depth) {
				w->result = MIME_NESTED_COMMENTS;
				return false;
			}
		} else if (c == ')' && w->cdepth > 0) {
			w->cdepth--;
		}
	}
	return true;
}

static struct buf *field_buf(struct walker *w, enum field f)
{
	switch (f) {
	case F_CTYPE:
		return &w->ctype;
	case F_CTE:
		return &w->cte;
	case F_DISP:
		return &w->disp;
	default:
		return NULL;
	}
}

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* One line of a header, [ls, ce) without its line end; next is where the
 * following line begins. */
static bool header_line(struct walker *w, size_t ls, size_t ce, size_t next)
{
	const char *s = w->d + ls;
	size_t n = ce - ls, i, name_len, colon;
	struct buf *b;
	bool blank = true;

	for (i = 0; i < n; i++)
		if (!is_wsp(s[i]))
			blank = false;
	/* Blank lines before the first field of a message are left-overs of
	 * tools, not the end of its header (as msg_parse reads them). */
	if (blank && n > 0 && w->root_header)
		return true;
	if (blank)
		return end_header(w, next, true);
	w->hbytes += next - ls;
	if (w->hbytes > w->lim->max_header_bytes) {
		w->result = MIME_HEADER_TOO_BIG;
		return false;
	}
	if (is_wsp(s[0])) {
		b = field_buf(w, w->field);
		if (b != NULL) {
			buf_putc(b, ' ');
			buf_append(b, s, n);
		}
		return check_comments(w, s, n);
	}
	for (i = 0; i < n && (unsigned char)s[i] > 32 &&
	     (unsigned char)s[i] < 127 && s[i] != ':'; i++)
		;
	name_len = i;
	while (i < n && is_wsp(s[i]))
		i++;
	if (name_len == 0 || i >= n || s[i] != ':') {
		w->field = F_NONE;      /* junk: not a field */
		w->structured = false;
		return true;
	}
	colon = i;
	w->root_header = false;
	if (++w->nfields > w->lim->max_headers) {
		w->result = MIME_HEADER_TOO_BIG;
		return false;
	}
	w->field = F_OTHER;
	if (name_len == 12 && strncasecmp(s, "content-type", 12) == 0 &&
	    !w->have_ctype) {
		w->field = F_CTYPE;
		w->have_ctype = true;
	} else if (name_len == 25 &&
		   strncasecmp(s, "content-transfer-encoding", 25) == 0 &&
		   !w->have_cte) {
		w->field = F_CTE;
		w->have_cte = true;
	} else if (name_len == 19 &&
		   strncasecmp(s, "content-disposition", 19) == 0 &&
		   !w->have_disp) {
		w->field = F_DISP;
		w->have_disp = true;
	}
	b = field_buf(w, w->field);
	if (b != NULL)
		buf_append(b, s + colon + 1, n - colon - 1);
	w->structured = is_structured(s, name_len);
	w->quoted = w->escaped = false;
	w->cdepth = 0;
	return check_comments(w, s + colon + 1, n - colon - 1);
}

/* Which open boundary the line [ls, ce) delimits: its index in the stack
 * (the innermost that matches), or MIME_NONE. *close_r for "--b--". */
static size_t delimiter(const struct walker *w, size_t ls, size_t ce,
			bool *close_r)
{
	const char *s = w->d + ls;
	size_t n = ce - ls, k, i;

	for (k = w->nstack; k-- > 0;) {
		const struct open_mp *o = &w->stack[k];

		if (n < o->blen + 2 || memcmp(s + 2, o->b, o->blen) != 0)
			continue;
		i = o->blen + 2;
		*close_r = n >= i + 2 && s[i] == '-' && s[i + 1] == '-';
		if (*close_r)
			i += 2;
		while (i < n && (is_wsp(s[i]) || s[i] == '\r'))
			i++;
		if (i == n)
			return k;
	}
	return MIME_NONE;
}

/* Ends the open parts from the current one up to (not including) `upto`
 * at `at` (a part never ends before its body begins). */
static void end_parts(struct walker *w, size_t upto, size_t at)
{
	size_t i = w->cur;

	while (i != upto && i != MIME_NONE) {
		struct mime_part *p = part(w, i);

		if (p->end == MIME_NONE)
			p->end = at > p->body ? at : p->body;
		i = p->parent;
	}
}

/* A delimiter line of stack entry k begins at ls; the next line at next. */
static bool on_delimiter(struct walker *w, size_t k, bool close, size_t ls,
			 size_t next)
{
	size_t mp = w->stack[k].part, brk = ls;

	if (w->in_header)
		(void)end_header(w, ls, false);
	/* the line break before a delimiter belongs to it */
	if (brk > 0 && w->d[brk - 1] == '\n')
		brk--;
	if (brk > 0 && w->d[brk - 1] == '\r')
		brk--;
	end_parts(w, mp, brk);
	w->cur = mp;
	if (close) {
		part(w, mp)->close = ls;
		w->nstack = k;          /* the epilogue follows */
		return true;
	}
	w->nstack = k + 1;
	return open_part(w, mp, ls, next);
}

static enum mime_result run(struct walker *w, size_t pos)
{
	const char *d = w->d;
	size_t len = w->len;

	while (pos < len && w->result == MIME_OK) {
		size_t ce = pos, next, k;
		bool close = false;

		/* a line ends at LF, CRLF or a bare CR (as msg_parse reads) */
		while (ce < len && d[ce] != '\n' && d[ce] != '\r')
			ce++;
		next = ce;
		if (next < len && d[next] == '\r')
			next++;
		if (next < len && d[next] == '\n' &&
		    (next == ce || d[ce] == '\r'))
			next++;
		if (w->nstack > 0 && ce - pos >= 2 && d[pos] == '-' &&
		    d[pos + 1] == '-' &&
		    (k = delimiter(w, pos, ce, &close)) != MIME_NONE) {
			(void)on_delimiter(w, k, close, pos, next);
		} else if (w->in_header) {
			(void)header_line(w, pos, ce, next);
		}
		pos = next;
	}
	if (w->in_header && w->result == MIME_OK)
		(void)end_header(w, pos < len ? pos : len, false);
	end_parts(w, MIME_NONE, pos < len ? pos : len);
	return w->result;
}

static void walker_free(struct walker *w)
{
	buf_free(&w->ctype);
	buf_free(&w->cte);
	buf_free(&w->disp);
	free(w->stack);
}

enum mime_result mime_walk(const char *data, size_t len,
			   const struct mime_limits *lim, struct mime_tree *t)
{
	struct walker w = { .d = data, .len = len, .t = t,
			    .lim = lim != NULL ? lim : &mime_default_limits };
	enum mime_result r = MIME_OK;

	if (open_part(&w, MIME_NONE, 0, 0)) {
		w.root_header = true;
		r = run(&w, 0);
	} else {
		r = w.result;
	}
	walker_free(&w);
	return r;
}

enum mime_result mime_walk_body(const char *body, size_t len,
				const char *content_type,
				const char *transfer_encoding,
				const struct mime_limits *lim,
				struct mime_tree *t)
{
	struct walker w = { .d = body, .len = len, .t = t,
			    .lim = lim != NULL ? lim : &mime_default_limits };
	enum mime_result r;

	if (!open_part(&w, MIME_NONE, 0, 0)) {
		walker_free(&w);
		return w.result;
	}
	w.in_header = false;
	if (content_type != NULL) {
		buf_puts(&w.ctype, content_type);
		w.have_ctype = true;
	}
	if (transfer_encoding != NULL) {
		buf_puts(&w.cte, transfer_encoding);
		w.have_cte = true;
	}
	/* the header was read by the caller: check its comments too */
	w.structured = true;
	if (content_type != NULL &&
	    !check_comments(&w, content_type, strlen(content_type))) {
		end_parts(&w, MIME_NONE, len);
		walker_free(&w);
		return w.result;
	}
	(void)end_header(&w, 0, true);
	r = run(&w, 0);
	walker_free(&w);
	return r;
}

void mime_tree_free(struct mime_tree *t)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		mime_ctype_free(&t->v[i].ct);
		free(t->v[i].filename);
	}
	xfree(&t->v);
	t->n = t->cap = 0;
}

/* ---- contents ---- */

void mime_part_decode(const char *data, const struct mime_part *p,
		      struct buf *out)
{
	const char *s = data + p->body;
	size_t n = p->end > p->body ? p->end - p->body : 0, idx = 0, dlen = 0;
	char *copy, *dec = NULL;
	int mech;

	if (p->encoding != MIME_ENC_QP && p->encoding != MIME_ENC_BASE64) {
		buf_append(out, s, n);
		return;
	}
	mech = p->encoding == MIME_ENC_QP ?
	       MAILMIME_MECHANISM_QUOTED_PRINTABLE : MAILMIME_MECHANISM_BASE64;
	copy = etpan_copy(s, n);
	if (mailmime_part_parse(copy, n, &idx, mech, &dec, &dlen) ==
	    MAILIMF_NO_ERROR) {
		buf_append(out, dec, dlen);
		mailmime_decoded_part_free(dec);
	} else {
		buf_append(out, s, n);
	}
	free(copy);
}

void mime_to_utf8(const char *s, size_t n, const char *charset,
		  struct buf *out)
{
	char *copy, *conv = NULL;
	size_t conv_len = 0;

	if (charset == NULL || strcasecmp(charset, "utf-8") == 0 ||
	    strcasecmp(charset, "us-ascii") == 0) {
		buf_append(out, s, n);
		return;
	}
	copy = etpan_copy(s, n);
	if (charconv_buffer("utf-8", charset, copy, n, &conv, &conv_len) ==
	    MAIL_CHARCONV_NO_ERROR) {
		buf_append(out, conv, conv_len);
		charconv_buffer_free(conv);
	} else {
		buf_append(out, s, n);
	}
	free(copy);
}
