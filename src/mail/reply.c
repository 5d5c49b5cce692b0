/* reply - what a person wrote in a mail: its text, its first word, a token */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mail/reply.h"
#include "mail/mime.h"
#include "mail/msg.h"
#include "base/buf.h"
#include "base/xalloc.h"

/* A word never holds more than this many bytes. */
#define WORD_MAX 64

static bool is_text(const struct mime_part *p, const char *subtype)
{
	return strcmp(p->ct.type, "text") == 0 &&
	       strcmp(p->ct.subtype, subtype) == 0;
}

/* The decoded body of a leaf part in UTF-8 with LF line ends. */
static char *part_text(const char *raw, const struct mime_part *p)
{
	struct buf dec = BUF_INIT, conv = BUF_INIT, out = BUF_INIT;
	const char *s;
	size_t n, i;

	mime_part_decode(raw, p, &dec);
	mime_to_utf8(dec.data != NULL ? dec.data : "", dec.len,
		     mime_ctype_param(&p->ct, "charset"), &conv);
	buf_free(&dec);
	s = conv.data != NULL ? conv.data : "";
	n = conv.len;
	if (n > REPLY_TEXT_MAX)
		n = REPLY_TEXT_MAX;
	buf_reserve(&out, n);
	buf_append(&out, "", 0);    /* terminated even when n is 0 */
	/* Runs of ordinary bytes in one append; a CR before LF is dropped,
	 * another CR is a line end, a NUL a space. */
	for (i = 0; i < n; i++) {
		size_t run = i;

		while (run < n && s[run] != '\r' && s[run] != '\0')
			run++;
		buf_append(&out, s + i, run - i);
		if (run == n)
			break;
		i = run;
		if (s[i] == '\0')
			buf_putc(&out, ' ');
		else if (!(i + 1 < n && s[i + 1] == '\n'))
			buf_putc(&out, '\n');
	}
	buf_free(&conv);
	return buf_steal(&out, NULL);
}

char *reply_text(const char *raw, size_t len, const struct mime_limits *lim)
{
	struct mime_tree t = { 0 };
	const struct mime_part *plain = NULL, *html = NULL;
	char *text = NULL;
	size_t i;

	if (mime_walk(raw, len, lim, &t) != MIME_OK) {
		mime_tree_free(&t);
		return NULL;
	}
	for (i = 0; i < t.n && plain == NULL; i++) {
		const struct mime_part *p = &t.v[i];

		/* An attached message is not the writer's text; containers
		 * hold no text of their own. */
		if (p->in_message || p->nchildren > 0 ||
		    strcmp(p->ct.type, "multipart") == 0 || p->attachment)
			continue;
		if (is_text(p, "plain"))
			plain = p;
		else if (html == NULL && is_text(p, "html"))
			html = p;
	}
	if (plain != NULL) {
		text = part_text(raw, plain);
	} else if (html != NULL) {
		char *h = part_text(raw, html);

		text = reply_html_to_text(h, strlen(h));
		free(h);
	}
	mime_tree_free(&t);
	return text;
}

/* ---- calendars ---- */

static bool is_calendar(const struct mime_part *p)
{
	size_t n = p->filename != NULL ? strlen(p->filename) : 0;
	const char *name = n > 0 ? p->filename :
			   mime_ctype_param(&p->ct, "name");

	if (is_text(p, "calendar") ||
	    (strcmp(p->ct.type, "application") == 0 &&
	     strcmp(p->ct.subtype, "ics") == 0))
		return true;
	n = name != NULL ? strlen(name) : 0;
	return n > 4 && strcasecmp(name + n - 4, ".ics") == 0;
}

char *reply_calendar(const char *raw, size_t len,
		     const struct mime_limits *lim)
{
	struct mime_tree t = { 0 };
	char *text = NULL;
	size_t i;

	if (mime_walk(raw, len, lim, &t) != MIME_OK) {
		mime_tree_free(&t);
		return NULL;
	}
	for (i = 0; i < t.n && text == NULL; i++) {
		const struct mime_part *p = &t.v[i];

		if (p->in_message || p->nchildren > 0 ||
		    strcmp(p->ct.type, "multipart") == 0)
			continue;
		if (is_calendar(p))
			text = part_text(raw, p);
	}
	mime_tree_free(&t);
	return text;
}

bool reply_strip_command(struct msg *m, const char *word)
{
	char *ct = msg_header_unfolded(m, "Content-Type");
	char *cte = msg_header_unfolded(m, "Content-Transfer-Encoding");
	size_t pos = 0, k = strlen(word), end;
	bool simple;

	simple = (ct == NULL || strncasecmp(ct, "text/plain", 10) == 0) &&
		 (cte == NULL || strcasecmp(cte, "7bit") == 0 ||
		  strcasecmp(cte, "8bit") == 0);
	free(ct);
	free(cte);
	if (!simple || m->body == NULL)
		return false;
	while (pos < m->body_len && (m->body[pos] == '\n' ||
				     m->body[pos] == ' ' ||
				     m->body[pos] == '\t'))
		pos++;
	if (m->body_len - pos < k || strncasecmp(m->body + pos, word, k) != 0 ||
	    (pos + k < m->body_len && m->body[pos + k] != ' ' &&
	     m->body[pos + k] != '\t' && m->body[pos + k] != '\n' &&
	     m->body[pos + k] != ':' && m->body[pos + k] != '.'))
		return false;
	end = pos + k;
	while (end < m->body_len && m->body[end] != '\n')
		end++;
	while (end < m->body_len && (m->body[end] == '\n' ||
				     m->body[end] == ' ' ||
				     m->body[end] == '\t'))
		end++;
	/* Keep the indentation of the first line of text. */
	while (end < m->body_len && end > pos && m->body[end - 1] != '\n')
		end--;
	memmove(m->body, m->body + end, m->body_len - end);
	m->body_len -= end;
	m->body[m->body_len] = '\0';
	return true;
}

/* HTML */

struct html {
	struct buf out;
	int quote;          /* blockquote depth */
	bool bol;           /* at the beginning of an output line */
	bool space;         /* white space pending */
};

static void html_newline(struct html *h)
{
	buf_putc(&h->out, '\n');
	h->bol = true;
	h->space = false;
}

static void html_char(struct html *h, char c)
{
	int i;

	if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
		h->space = !h->bol;
		return;
	}
	if (h->bol) {
		for (i = 0; i < h->quote && i < 20; i++)
			buf_puts(&h->out, "> ");
		h->bol = false;
	} else if (h->space) {
		buf_putc(&h->out, ' ');
	}
	h->space = false;
	buf_putc(&h->out, c);
}

static void html_str(struct html *h, const char *s)
{
	for (; *s != '\0'; s++)
		html_char(h, *s);
}

/* The tag's name, lower-cased, into name; *closing for "</x>". */
static void tag_name(const char *p, size_t n, char name[16], bool *closing)
{
	size_t i = 0, k = 0;

	*closing = false;
	if (i < n && p[i] == '/') {
		*closing = true;
		i++;
	}
	for (; i < n && k < 15; i++) {
		char c = p[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9')))
			break;
		name[k++] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	}
	name[k] = '\0';
}

static bool name_in(const char *name, const char *const *set)
{
	for (; *set != NULL; set++)
		if (strcmp(name, *set) == 0)
			return true;
	return false;
}

static void html_entity(struct html *h, const char *p, size_t n, size_t *used)
{
	static const struct {
		const char *name;
		const char *text;
	} ents[] = {
		{ "amp;", "&" }, { "lt;", "<" }, { "gt;", ">" },
		{ "quot;", "\"" }, { "apos;", "'" }, { "nbsp;", " " },
		{ "#39;", "'" }, { "#160;", " " },
	};
	size_t i;

	for (i = 0; i < sizeof ents / sizeof ents[0]; i++) {
		size_t k = strlen(ents[i].name);

		if (n >= k && strncasecmp(p, ents[i].name, k) == 0) {
			html_str(h, ents[i].text);
			*used = k;
			return;
		}
	}
	html_char(h, '&');
	*used = 0;
}

char *reply_html_to_text(const char *html, size_t len)
{
	static const char *const breaks[] = {
		"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5",
		"h6", "hr", "table", NULL
	};
	static const char *const hidden[] = {
		"head", "style", "script", "title", NULL
	};
	struct html h = { .out = BUF_INIT, .bol = true };
	size_t i = 0;
	const char *skip_until = NULL;

	if (len > REPLY_TEXT_MAX)
		len = REPLY_TEXT_MAX;
	while (i < len) {
		char c = html[i];

		if (c == '<') {
			const char *end = memchr(html + i, '>', len - i);
			char name[16];
			bool closing;
			size_t n;

			if (end == NULL)
				break;
			n = (size_t)(end - (html + i)) - 1;
			if (n >= 3 && strncmp(html + i + 1, "!--", 3) == 0) {
				const char *ce = NULL, *q;

				for (q = html + i + 4; q + 2 < html + len; q++)
					if (q[0] == '-' && q[1] == '-' &&
					    q[2] == '>') {
						ce = q;
						break;
					}
				i = ce != NULL ? (size_t)(ce - html) + 3 : len;
				continue;
			}
			tag_name(html + i + 1, n, name, &closing);
			i = (size_t)(end - html) + 1;
			if (skip_until != NULL) {
				if (closing && strcmp(name, skip_until) == 0)
					skip_until = NULL;
				continue;
			}
			if (!closing && name_in(name, hidden)) {
				size_t k;

				for (k = 0; hidden[k] != NULL; k++)
					if (strcmp(hidden[k], name) == 0)
						skip_until = hidden[k];
				continue;
			}
			if (strcmp(name, "blockquote") == 0) {
				if (!h.bol)
					html_newline(&h);
				h.quote += closing ? (h.quote > 0 ? -1 : 0) : 1;
				continue;
			}
			if (name_in(name, breaks) &&
			    (strcmp(name, "br") == 0 || closing || !h.bol))
				html_newline(&h);
			continue;
		}
		i++;
		if (skip_until != NULL)
			continue;
		if (c == '&') {
			size_t used = 0;

			html_entity(&h, html + i, len - i, &used);
			i += used;
			continue;
		}
		html_char(&h, c);
	}
	if (!h.bol)
		html_newline(&h);
	return buf_steal(&h.out, NULL);
}

/* Words and quotes */

static bool is_blank(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' &&
		    (unsigned char)s[i] != 0xa0 && (unsigned char)s[i] != 0xc2)
			return false;
	return true;
}

static bool starts_ci(const char *s, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);

	return n >= k && strncasecmp(s, prefix, k) == 0;
}

static bool contains(const char *s, size_t n, const char *needle)
{
	size_t k = strlen(needle), i;

	for (i = 0; i + k <= n; i++)
		if (memcmp(s + i, needle, k) == 0)
			return true;
	return false;
}

/* Where the line starting at p ends (its '\n' or the NUL). */
static const char *line_end(const char *p)
{
	const char *e = strchr(p, '\n');

	return e != NULL ? e : p + strlen(p);
}

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

/* Does a quoted original start at this line (Outlook's styles)? */
static bool original_starts(const char *p, size_t n, const char *next)
{
	size_t i, k;

	if (contains(p, n, "-----Original Message-----") ||
	    contains(p, n, "----- Original Message -----"))
		return true;
	for (i = 0, k = 0; i < n; i++)
		k += p[i] == '_';
	if (n >= 10 && k == n)
		return true;
	if (starts_ci(p, n, "From:") && next != NULL) {
		/* Outlook: a header block, From: then Sent: or Date:. */
		const char *q = next;
		int lines;

		for (lines = 0; lines < 3 && *q != '\0'; lines++) {
			const char *e = line_end(q);
			const char *s = skip_ws(q, e);

			if (starts_ci(s, (size_t)(e - s), "Sent:") ||
			    starts_ci(s, (size_t)(e - s), "Date:"))
				return true;
			q = *e == '\n' ? e + 1 : e;
		}
	}
	return false;
}

bool reply_first_word(const char *text, char **word_r, char **rest_r)
{
	const char *p = text;

	while (*p != '\0') {
		const char *e = line_end(p), *next = *e == '\n' ? e + 1 : NULL;
		const char *s = skip_ws(p, e);
		size_t n = (size_t)(e - s);
		const char *w, *we;
		char *word, *rest;
		size_t k;

		if (n == 0 || is_blank(s, n) || *s == '>') {
			p = next != NULL ? next : e;
			continue;
		}
		if (original_starts(s, n, next))
			return false;
		if (starts_ci(s, n, "On ") || starts_ci(s, n, "Am ") ||
		    starts_ci(s, n, "Le ")) {
			/* An attribution, maybe wrapped onto the next line. */
			if (contains(s, n, "wrote:") ||
			    contains(s, n, "schrieb:") ||
			    contains(s, n, "crit :")) {
				p = next != NULL ? next : e;
				continue;
			}
			if (next != NULL) {
				const char *e2 = line_end(next);

				if (contains(next, (size_t)(e2 - next),
					     "wrote:")) {
					p = *e2 == '\n' ? e2 + 1 : e2;
					continue;
				}
			}
		}
		/* The word: letters after any leading punctuation. */
		w = s;
		while (w < e && !((*w >= 'a' && *w <= 'z') ||
				  (*w >= 'A' && *w <= 'Z')))
			w++;
		if (w == e) {
			p = next != NULL ? next : e;
			continue;
		}
		we = w;
		while (we < e && ((*we >= 'a' && *we <= 'z') ||
				  (*we >= 'A' && *we <= 'Z')))
			we++;
		if ((size_t)(we - w) > WORD_MAX)
			we = w + WORD_MAX;
		word = xstrndup(w, (size_t)(we - w));
		for (k = 0; word[k] != '\0'; k++)
			if (word[k] >= 'A' && word[k] <= 'Z')
				word[k] = (char)(word[k] - 'A' + 'a');
		/* Punctuation right after the word ("approve.", "*reject*:")
		 * is not part of the reason. */
		while (we < e && strchr(".,;:!*_", *we) != NULL)
			we++;
		we = skip_ws(we, e);
		rest = xstrndup(we, (size_t)(e - we));
		k = strlen(rest);
		while (k > 0 && (rest[k - 1] == ' ' || rest[k - 1] == '\t' ||
				 rest[k - 1] == '\r'))
			rest[--k] = '\0';
		*word_r = word;
		*rest_r = rest;
		return true;
	}
	return false;
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

bool reply_find_token(const char *s, char tok[33])
{
	size_t i = 0, k;

	if (s == NULL)
		return false;
	while (s[i] != '\0') {
		if (!is_hex(s[i])) {
			i++;
			continue;
		}
		for (k = i; is_hex(s[k]); k++)
			;
		if (k - i == 32) {
			for (k = 0; k < 32; k++) {
				char c = s[i + k];

				tok[k] = (char)(c >= 'A' && c <= 'F' ?
						c - 'A' + 'a' : c);
			}
			tok[32] = '\0';
			return true;
		}
		i = k;
	}
	return false;
}

char *reply_excerpt(const char *text, size_t max_lines, size_t max_bytes)
{
	struct buf out = BUF_INIT;
	const char *p = text;
	size_t lines = 0;
	bool cut = false;

	while (*p != '\0') {
		const char *e = line_end(p);
		size_t n = (size_t)(e - p);

		if (n > 0 && !is_blank(p, n)) {
			if (lines == max_lines) {
				cut = true;
				break;
			}
			lines++;
		}
		if (out.len + n > max_bytes) {
			n = max_bytes > out.len ? max_bytes - out.len : 0;
			/* Back off to the start of a UTF-8 character. */
			while (n > 0 && ((unsigned char)p[n] & 0xc0) == 0x80)
				n--;
			buf_append(&out, p, n);
			cut = true;
			break;
		}
		buf_append(&out, p, n);
		buf_putc(&out, '\n');
		p = *e == '\n' ? e + 1 : e;
	}
	while (out.len > 0 && out.data[out.len - 1] == '\n')
		buf_truncate(&out, out.len - 1);
	if (cut)
		buf_puts(&out, "\n...");
	buf_putc(&out, '\n');
	return buf_steal(&out, NULL);
}
