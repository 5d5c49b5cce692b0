/* msg - one RFC 5322 message held in memory, parsed with limits */
#include "autoconf.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <libetpan/libetpan.h>

#include "base/buf.h"
#include "base/hash.h"
#include "mail/etpan.h"
#include "mail/msg.h"
#include "base/util.h"
#include "base/xalloc.h"

/* Used when the caller passes no limits (the configuration's defaults). */
#define DEFAULT_MAX_HEADER_BYTES (512 * 1024)
#define DEFAULT_MAX_HEADERS 1000
/* RFC 5322's line limit, used as the longest message-id we keep. */
#define ID_MAX 998
/* The longest list msg_references returns: the first id (the thread root)
 * and the newest others. */
#define REFS_MAX 500
/* Longest encoded-word charset name we look at. */
#define CHARSET_MAX 64

static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* The line starting at pos ends at *eol_r (its terminator, or len); returns
 * where the next line starts. A line ends at LF, CRLF or a bare CR. */
static size_t line_end(const char *d, size_t len, size_t pos, size_t *eol_r,
		       bool *crlf_r)
{
	size_t i = pos;

	while (i < len && d[i] != '\n' && d[i] != '\r')
		i++;
	*eol_r = i;
	if (i == len)
		return len;
	if (d[i] == '\r' && i + 1 < len && d[i + 1] == '\n') {
		*crlf_r = true;
		return i + 2;
	}
	return i + 1;
}

/* The length of the field name that starts the line, 0 when the line is
 * not a field ("Name:" or the obsolete "Name :"); *colon_r is set to the
 * index of the colon. */
static size_t field_name_len(const char *s, size_t n, size_t *colon_r)
{
	size_t i = 0, nlen;

	while (i < n && (unsigned char)s[i] > 32 && (unsigned char)s[i] < 127 &&
	       s[i] != ':')
		i++;
	nlen = i;
	if (nlen == 0)
		return 0;
	while (i < n && is_wsp(s[i]))
		i++;
	if (i >= n || s[i] != ':')
		return 0;
	*colon_r = i;
	return nlen;
}

static bool only_wsp(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!is_wsp(s[i]))
			return false;
	return true;
}

/* Appends header bytes with NUL bytes turned into spaces. */
static void append_header_bytes(struct buf *b, const char *s, size_t n)
{
	size_t start = b->len, i;

	buf_append(b, s, n);
	for (i = start; i < b->len; i++)
		if (b->data[i] == '\0')
			b->data[i] = ' ';
}

static void fields_grow(struct msg *m)
{
	if (m->nfields < m->capfields)
		return;
	m->capfields = m->capfields ? m->capfields * 2 : 16;
	m->fields = xreallocarray(m->fields, m->capfields, sizeof *m->fields);
}

/* Adds the field being read, if any, taking name and value. */
static void flush_field(struct msg *m, char **name, struct buf *value)
{
	struct msg_field *f;

	if (*name == NULL)
		return;
	fields_grow(m);
	f = &m->fields[m->nfields++];
	f->name = *name;
	f->value = buf_steal(value, NULL);
	f->deleted = false;
	*name = NULL;
}

/* Copies the body with CRLF and bare CR turned into LF. */
static void set_body(struct msg *m, const char *d, size_t len)
{
	char *out = xmalloc(len + 1);
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		if (d[i] != '\r') {
			out[o++] = d[i];
			continue;
		}
		out[o++] = '\n';
		if (i + 1 < len && d[i + 1] == '\n') {
			m->had_crlf = true;
			i++;
		}
	}
	out[o] = '\0';
	m->body = out;
	m->body_len = o;
}

enum msg_parse_result msg_parse(struct msg *m, const char *data, size_t len,
				const struct msg_limits *limits, size_t *junk_r)
{
	size_t max_bytes = DEFAULT_MAX_HEADER_BYTES;
	size_t max_fields = DEFAULT_MAX_HEADERS;
	size_t pos = 0, next, eol, junk = 0, hbytes = 0;
	struct buf value = BUF_INIT;
	char *name = NULL;
	bool first = true, blank = false, crlf = false, seen_from = false;
	enum msg_parse_result rc = MSG_OK;

	if (limits != NULL) {
		/* a zero limit means none */
		max_bytes = limits->max_header_bytes;
		max_fields = limits->max_headers;
		if (max_bytes == 0)
			max_bytes = (size_t)-1;
		if (max_fields == 0)
			max_fields = (size_t)-1;
	}
	while (pos < len) {
		const char *line = data + pos;
		size_t llen, nlen, colon;

		next = line_end(data, len, pos, &eol, &crlf);
		llen = eol - pos;
		if (next - pos > max_bytes - hbytes) {
			rc = MSG_HEADER_TOO_BIG;
			goto out;
		}
		hbytes += next - pos;
		if (first) {
			/* before the first field: one mbox "From " line, and
			 * lines of blanks that some tools leave at the top */
			if (!seen_from && llen >= 5 &&
			    memcmp(line, "From ", 5) == 0) {
				seen_from = true;
				pos = next;
				continue;
			}
			if (llen > 0 && only_wsp(line, llen)) {
				junk++;
				pos = next;
				continue;
			}
		}
		/* A line of white space only ends the header too: RFC 5322
		 * would read it as folding, but in practice it is a separator
		 * with stray spaces, and reading it as folding would drop the
		 * body's lines as junk. */
		if (only_wsp(line, llen)) {
			if (first) {
				rc = MSG_NOT_A_MESSAGE;
				goto out;
			}
			blank = true;
			pos = next;
			break;
		}
		if (is_wsp(line[0])) {
			if (first) {
				rc = MSG_NOT_A_MESSAGE;
				goto out;
			}
			if (name == NULL) {
				junk++;
			} else {
				buf_putc(&value, '\n');
				append_header_bytes(&value, line, llen);
			}
			pos = next;
			continue;
		}
		nlen = field_name_len(line, llen, &colon);
		flush_field(m, &name, &value);
		if (nlen == 0) {
			if (first) {
				rc = MSG_NOT_A_MESSAGE;
				goto out;
			}
			junk++;
			pos = next;
			continue;
		}
		if (m->nfields >= max_fields) {
			rc = MSG_TOO_MANY_HEADERS;
			goto out;
		}
		name = xstrndup(line, nlen);
		buf_reset(&value);
		append_header_bytes(&value, line + colon + 1, llen - colon - 1);
		first = false;
		pos = next;
	}
	flush_field(m, &name, &value);
	if (first) {
		rc = MSG_NOT_A_MESSAGE;
		goto out;
	}
	m->had_crlf = crlf;
	if (blank) {
		set_body(m, data + pos, len - pos);
	} else {
		m->no_body = true;
		m->body = xstrdup("");
		m->body_len = 0;
	}
out:
	free(name);
	buf_free(&value);
	if (junk_r != NULL)
		*junk_r = junk;
	return rc;
}

void msg_free(struct msg *m)
{
	size_t i;

	for (i = 0; i < m->nfields; i++) {
		free(m->fields[i].name);
		free(m->fields[i].value);
	}
	free(m->fields);
	free(m->body);
	memset(m, 0, sizeof *m);
}

const char *msg_parse_result_str(enum msg_parse_result r)
{
	switch (r) {
	case MSG_OK:
		return "ok";
	case MSG_TOO_MANY_HEADERS:
		return "too many header fields";
	case MSG_HEADER_TOO_BIG:
		return "header section too big";
	case MSG_NOT_A_MESSAGE:
		return "not a message";
	}
	return "unknown parse result";
}

const struct msg_field *msg_field_cget(const struct msg *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->nfields; i++)
		if (!m->fields[i].deleted &&
		    strcasecmp(m->fields[i].name, name) == 0)
			return &m->fields[i];
	return NULL;
}

struct msg_field *msg_field_get(struct msg *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->nfields; i++)
		if (!m->fields[i].deleted &&
		    strcasecmp(m->fields[i].name, name) == 0)
			return &m->fields[i];
	return NULL;
}

/* Raw value with the line breaks of folding removed, trimmed. */
static char *unfold(const char *raw)
{
	size_t n = strlen(raw), i, o = 0, start;
	char *out = xmalloc(n + 1);

	for (i = 0; i < n; i++)
		if (raw[i] != '\n' && raw[i] != '\r')
			out[o++] = raw[i];
	while (o > 0 && is_wsp(out[o - 1]))
		o--;
	out[o] = '\0';
	for (start = 0; is_wsp(out[start]); start++)
		;
	if (start > 0)
		memmove(out, out + start, o - start + 1);
	return out;
}

char *msg_header_unfolded(const struct msg *m, const char *name)
{
	const struct msg_field *f = msg_field_cget(m, name);

	return f ? unfold(f->value) : NULL;
}

char *msg_header_decoded(const struct msg *m, const char *name)
{
	const struct msg_field *f = msg_field_cget(m, name);

	return f ? msg_decode_rfc2047(f->value) : NULL;
}

size_t msg_field_delete(struct msg *m, const char *name)
{
	size_t i, n = 0;

	for (i = 0; i < m->nfields; i++)
		if (!m->fields[i].deleted &&
		    strcasecmp(m->fields[i].name, name) == 0) {
			m->fields[i].deleted = true;
			n++;
		}
	return n;
}

/* Stored values keep the space that follows the colon, as parsed ones do. */
static char *stored_value(const char *value)
{
	return xasprintf(" %s", value);
}

void msg_field_add(struct msg *m, const char *name, const char *value)
{
	struct msg_field *f;

	fields_grow(m);
	f = &m->fields[m->nfields++];
	f->name = xstrdup(name);
	f->value = stored_value(value);
	f->deleted = false;
}

void msg_field_set(struct msg *m, const char *name, const char *value)
{
	struct msg_field *f = msg_field_get(m, name);
	size_t i;

	if (f == NULL) {
		msg_field_add(m, name, value);
		return;
	}
	free(f->value);
	f->value = stored_value(value);
	for (i = (size_t)(f - m->fields) + 1; i < m->nfields; i++)
		if (!m->fields[i].deleted &&
		    strcasecmp(m->fields[i].name, name) == 0)
			m->fields[i].deleted = true;
}

void msg_field_prepend(struct msg *m, const char *name, const char *value)
{
	fields_grow(m);
	memmove(m->fields + 1, m->fields, m->nfields * sizeof *m->fields);
	m->nfields++;
	m->fields[0].name = xstrdup(name);
	m->fields[0].value = stored_value(value);
	m->fields[0].deleted = false;
}

void msg_write(const struct msg *m, struct buf *out)
{
	size_t i;

	for (i = 0; i < m->nfields; i++) {
		const struct msg_field *f = &m->fields[i];

		if (f->deleted)
			continue;
		buf_puts(out, f->name);
		buf_putc(out, ':');
		buf_puts(out, f->value);
		buf_putc(out, '\n');
	}
	buf_putc(out, '\n');
	if (m->body != NULL)
		buf_append(out, m->body, m->body_len);
}

/* --- UTF-8 --- */

/* The length of the valid UTF-8 sequence at s, 0 if there is none. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t need, i;

	if (c < 0x80)
		return 1;
	if (c < 0xc2 || c > 0xf4)
		return 0;
	if (c < 0xe0) {
		need = 2;
	} else if (c < 0xf0) {
		need = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else {
		need = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	}
	if (n < need || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < need; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return need;
}

static bool utf8_valid(const char *s, size_t n)
{
	size_t i = 0, l;

	while (i < n) {
		l = utf8_len((const unsigned char *)s + i, n - i);
		if (l == 0)
			return false;
		i += l;
	}
	return true;
}

/* Appends s with every invalid UTF-8 byte replaced by U+FFFD. */
static void append_utf8_sane(struct buf *out, const char *s, size_t n)
{
	size_t i = 0, l;

	while (i < n) {
		l = utf8_len((const unsigned char *)s + i, n - i);
		if (l == 0) {
			buf_puts(out, replacement);
			i++;
		} else {
			buf_append(out, s + i, l);
			i += l;
		}
	}
}

/* --- RFC 2047 decoding --- */

static int b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Decodes base64 text (padding optional); -1 on a character outside the
 * alphabet or a dangling sextet. */
static int b64_decode(const char *s, size_t n, struct buf *out)
{
	unsigned int acc = 0;
	size_t i, bits = 0, count = 0;
	int v;

	while (n > 0 && s[n - 1] == '=')
		n--;
	for (i = 0; i < n; i++) {
		v = b64val(s[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (unsigned int)v;
		bits += 6;
		count++;
		if (bits >= 8) {
			bits -= 8;
			buf_putc(out, (char)((acc >> bits) & 0xff));
		}
	}
	return count % 4 == 1 ? -1 : 0;
}

static void q_decode(const char *s, size_t n, struct buf *out)
{
	size_t i;
	int h, l;

	for (i = 0; i < n; i++) {
		if (s[i] == '_') {
			buf_putc(out, ' ');
		} else if (s[i] == '=' && i + 2 < n &&
			   (h = util_hexval(s[i + 1])) >= 0 &&
			   (l = util_hexval(s[i + 2])) >= 0) {
			buf_putc(out, (char)(h * 16 + l));
			i += 2;
		} else {
			buf_putc(out, s[i]);
		}
	}
}

struct ew {
	char charset[CHARSET_MAX + 1];
	size_t end;           /* index just after "?=" */
};

/* Parses the syntax of an encoded word at s[i] ("=?cs?X?text?=") and its
 * transfer encoding into `bytes`. Returns false when it is not one or its
 * B or Q text does not decode. */
static bool ew_parse(const char *s, size_t n, size_t i, struct ew *w,
		     struct buf *bytes)
{
	size_t cs, cs_end, text, text_end;
	char enc;

	if (i + 2 > n || s[i] != '=' || s[i + 1] != '?')
		return false;
	cs = i + 2;
	for (cs_end = cs; cs_end < n && s[cs_end] != '?'; cs_end++)
		if (is_wsp(s[cs_end]))
			return false;
	if (cs_end == cs || cs_end >= n || cs_end + 2 >= n ||
	    s[cs_end + 2] != '?')
		return false;
	enc = s[cs_end + 1];
	if (enc != 'B' && enc != 'b' && enc != 'Q' && enc != 'q')
		return false;
	text = cs_end + 3;
	for (text_end = text; text_end < n && s[text_end] != '?'; text_end++)
		if (is_wsp(s[text_end]))
			return false;
	if (text_end + 1 >= n || s[text_end + 1] != '=')
		return false;
	/* RFC 2231 allows "charset*language" */
	{
		size_t l = cs_end - cs;
		const char *star = memchr(s + cs, '*', l);

		if (star != NULL)
			l = (size_t)(star - (s + cs));
		if (l == 0 || l > CHARSET_MAX)
			return false;
		memcpy(w->charset, s + cs, l);
		w->charset[l] = '\0';
	}
	w->end = text_end + 2;
	buf_reset(bytes);
	if (enc == 'B' || enc == 'b')
		return b64_decode(s + text, text_end - text, bytes) == 0;
	q_decode(s + text, text_end - text, bytes);
	return true;
}

static bool charset_is_utf8(const char *cs)
{
	return strcasecmp(cs, "utf-8") == 0 || strcasecmp(cs, "utf8") == 0 ||
	       strcasecmp(cs, "us-ascii") == 0 || strcasecmp(cs, "ascii") == 0;
}

/* Adjacent encoded words in one charset are converted together, so that a
 * character split across two words (a common mailer bug) survives. */
struct ew_run {
	struct buf bytes;
	char charset[CHARSET_MAX + 1];
	size_t raw_start, raw_end;   /* the words as written in the input */
	bool open;
};

static void append_decoded_text(struct buf *out, const char *s, size_t n)
{
	size_t i, start = out->len;

	buf_append(out, s, n);
	/* a decoded word must not smuggle line breaks or NULs into a field */
	for (i = start; i < out->len; i++) {
		unsigned char c = (unsigned char)out->data[i];

		if ((c < 32 && c != '\t') || c == 127)
			out->data[i] = ' ';
	}
}

static void ew_flush(struct ew_run *r, const char *raw, struct buf *out)
{
	char *conv = NULL;
	size_t conv_len = 0;

	if (!r->open)
		return;
	r->open = false;
	if (charset_is_utf8(r->charset)) {
		append_decoded_text(out, buf_cstr(&r->bytes), r->bytes.len);
		return;
	}
	if (charconv_buffer("utf-8", r->charset, buf_cstr(&r->bytes),
			    r->bytes.len, &conv, &conv_len) ==
	    MAIL_CHARCONV_NO_ERROR) {
		append_decoded_text(out, conv, conv_len);
		charconv_buffer_free(conv);
		return;
	}
	if (conv != NULL)
		charconv_buffer_free(conv);
	/* an unknown charset: usable when the bytes are UTF-8 (ASCII) anyway,
	 * else the words are kept as written */
	if (utf8_valid(buf_cstr(&r->bytes), r->bytes.len))
		append_decoded_text(out, buf_cstr(&r->bytes), r->bytes.len);
	else
		buf_append(out, raw + r->raw_start, r->raw_end - r->raw_start);
}

char *msg_decode_rfc2047(const char *raw)
{
	char *s = unfold(raw);
	size_t n = strlen(s), i = 0, ws_start = 0, ws_len = 0;
	struct buf out = BUF_INIT, bytes = BUF_INIT, clean = BUF_INIT;
	struct ew_run run = { BUF_INIT, "", 0, 0, false };
	bool after_ew = false;
	struct ew w;

	while (i < n) {
		if (s[i] == '=' && i + 1 < n && s[i + 1] == '?' &&
		    ew_parse(s, n, i, &w, &bytes)) {
			/* white space between two encoded words is dropped */
			if (run.open && after_ew &&
			    strcasecmp(run.charset, w.charset) == 0) {
				buf_append(&run.bytes, buf_cstr(&bytes),
					   bytes.len);
				run.raw_end = w.end;
			} else {
				ew_flush(&run, s, &out);
				if (!after_ew)
					buf_append(&out, s + ws_start, ws_len);
				buf_reset(&run.bytes);
				buf_append(&run.bytes, buf_cstr(&bytes),
					   bytes.len);
				memcpy(run.charset, w.charset,
				       sizeof run.charset);
				run.raw_start = i;
				run.raw_end = w.end;
				run.open = true;
			}
			ws_len = 0;
			after_ew = true;
			i = w.end;
			continue;
		}
		if (is_wsp(s[i])) {
			if (ws_len == 0)
				ws_start = i;
			ws_len++;
			i++;
			continue;
		}
		ew_flush(&run, s, &out);
		buf_append(&out, s + ws_start, ws_len);
		ws_len = 0;
		after_ew = false;
		buf_putc(&out, s[i]);
		i++;
	}
	ew_flush(&run, s, &out);
	free(s);
	buf_free(&run.bytes);
	buf_free(&bytes);

	append_utf8_sane(&clean, buf_cstr(&out), out.len);
	buf_free(&out);
	s = buf_steal(&clean, NULL);
	/* a decoded word may have ended in white space */
	n = strlen(s);
	while (n > 0 && is_wsp(s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* --- RFC 2047 encoding --- */

#define LINE_MAX_EW 76  /* RFC 2047: a line holding encoded words */
#define LINE_FOLD 78    /* RFC 5322: where plain text is folded */
#define EW_MAX 75       /* RFC 2047: longest encoded word */
#define EW_OVERHEAD 12  /* "=?UTF-8?B?" + "?=" */

static bool plain_ascii(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 32 || (unsigned char)s[i] > 126)
			return false;
		/* text that looks like an encoded word would be decoded by
		 * readers: it is encoded so that it reads as written */
		if (s[i] == '=' && i + 1 < n && s[i + 1] == '?')
			return false;
	}
	return true;
}

/* Folds printable ASCII before a space that starts a word, once a line
 * would pass 78 characters; returns the column where the text ends. */
static size_t fold_ascii(struct buf *out, const char *s, size_t n,
			 size_t col)
{
	size_t seg = 0, i;

	for (i = 1; i <= n; i++) {
		/* a segment ends before " x" (a fold point) or at the end */
		if (i < n && !(s[i] == ' ' && i + 1 < n && s[i + 1] != ' '))
			continue;
		if (seg > 0 && col + (i - seg) > LINE_FOLD) {
			buf_putc(out, '\n');
			col = 0;
		}
		buf_append(out, s + seg, i - seg);
		col += i - seg;
		seg = i;
	}
	return col;
}

static void b64_encode(struct buf *out, const unsigned char *s, size_t n)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		"0123456789+/";
	size_t i;
	unsigned int v;

	for (i = 0; i + 2 < n; i += 3) {
		v = (unsigned int)s[i] << 16 | (unsigned int)s[i + 1] << 8 |
		    s[i + 2];
		buf_putc(out, tab[(v >> 18) & 63]);
		buf_putc(out, tab[(v >> 12) & 63]);
		buf_putc(out, tab[(v >> 6) & 63]);
		buf_putc(out, tab[v & 63]);
	}
	if (i < n) {
		v = (unsigned int)s[i] << 16;
		if (i + 1 < n)
			v |= (unsigned int)s[i + 1] << 8;
		buf_putc(out, tab[(v >> 18) & 63]);
		buf_putc(out, tab[(v >> 12) & 63]);
		buf_putc(out, i + 1 < n ? tab[(v >> 6) & 63] : '=');
		buf_putc(out, '=');
	}
}

char *msg_encode_rfc2047(const char *utf8, size_t used)
{
	struct buf out = BUF_INIT, sane = BUF_INIT;
	const unsigned char *s;
	size_t n = strlen(utf8), i = 0, j, l, avail, max_raw, col = used;

	if (plain_ascii(utf8, n)) {
		fold_ascii(&out, utf8, n, used);
		return buf_steal(&out, NULL);
	}
	append_utf8_sane(&sane, utf8, n);
	s = (const unsigned char *)buf_cstr(&sane);
	n = sane.len;
	while (i < n) {
		avail = col < LINE_MAX_EW ? LINE_MAX_EW - col : 0;
		if (avail > EW_MAX)
			avail = EW_MAX;
		/* a long field name: the first word still gets a few chars */
		if (avail < EW_OVERHEAD + 8)
			avail = EW_OVERHEAD + 8;
		max_raw = (avail - EW_OVERHEAD) / 4 * 3;
		/* whole characters only, at least one per word */
		for (j = i; j < n; j += l) {
			l = utf8_len(s + j, n - j);
			if (l == 0)
				l = 1;
			if (j > i && j - i + l > max_raw)
				break;
		}
		buf_puts(&out, "=?UTF-8?B?");
		b64_encode(&out, s + i, j - i);
		buf_puts(&out, "?=");
		i = j;
		if (i < n) {
			buf_puts(&out, "\n ");
			col = 1;
		}
	}
	buf_free(&sane);
	return buf_steal(&out, NULL);
}

/* --- addresses --- */

/* An addr-spec as libetpan (or the fallback) found it, checked: a source
 * route is dropped, white space outside quotes removed, the domain
 * lower-cased. NULL when it does not look like an address a list could
 * answer to. */
static char *clean_addr(const char *spec)
{
	struct buf b = BUF_INIT;
	const char *p, *at;
	char *a, *q;
	bool quoted = false;

	if (spec == NULL || strlen(spec) > ID_MAX)
		return NULL;
	/* obsolete route "@a,@b:local@domain" */
	if (spec[0] == '@' && (p = strrchr(spec, ':')) != NULL)
		spec = p + 1;
	for (p = spec; *p; p++) {
		if (*p == '"')
			quoted = !quoted;
		if (!quoted && is_wsp(*p))
			continue;
		if ((unsigned char)*p < 32 ||
		    (!quoted && strchr("<>,;:()", *p) != NULL))
			break;
		buf_putc(&b, *p);
	}
	a = buf_steal(&b, NULL);
	at = strrchr(a, '@');
	if (*p != '\0' || at == NULL || at == a || at[1] == '\0') {
		free(a);
		return NULL;
	}
	for (q = a + (at - a); *q; q++)
		if (*q >= 'A' && *q <= 'Z')
			*q = (char)(*q - 'A' + 'a');
	return a;
}

/* For values libetpan rejects: the first <local@domain> written. */
static char *fallback_addr(const char *v)
{
	const char *lt = v, *gt;
	char *inner, *a;

	while ((lt = strchr(lt, '<')) != NULL) {
		gt = strchr(lt + 1, '>');
		if (gt == NULL)
			return NULL;
		inner = xstrndup(lt + 1, (size_t)(gt - lt - 1));
		a = clean_addr(inner);
		free(inner);
		if (a != NULL)
			return a;
		lt = gt + 1;
	}
	return NULL;
}

static struct mailimf_mailbox *first_mailbox(struct mailimf_address_list *al)
{
	clistiter *it, *jt;

	for (it = clist_begin(al->ad_list); it != NULL; it = clist_next(it)) {
		struct mailimf_address *a = clist_content(it);
		struct mailimf_group *g;

		if (a->ad_type == MAILIMF_ADDRESS_MAILBOX &&
		    a->ad_data.ad_mailbox != NULL)
			return a->ad_data.ad_mailbox;
		if (a->ad_type != MAILIMF_ADDRESS_GROUP)
			continue;
		g = a->ad_data.ad_group;
		if (g == NULL || g->grp_mb_list == NULL)
			continue;
		jt = clist_begin(g->grp_mb_list->mb_list);
		if (jt != NULL)
			return clist_content(jt);
	}
	return NULL;
}

/* A display name decoded to UTF-8; NULL when empty. libetpan hands some
 * quoted strings back with their quotes. */
static char *display_name(const char *raw)
{
	size_t n = strlen(raw), i;
	struct buf b = BUF_INIT;
	char *name;

	if (n >= 2 && raw[0] == '"' && raw[n - 1] == '"') {
		for (i = 1; i + 1 < n; i++) {
			if (raw[i] == '\\' && i + 2 < n)
				i++;
			buf_putc(&b, raw[i]);
		}
		name = msg_decode_rfc2047(buf_cstr(&b));
		buf_free(&b);
	} else {
		name = msg_decode_rfc2047(raw);
	}
	if (*name == '\0')
		xfree(&name);
	return name;
}

char *msg_first_address(const struct msg *m, const char *field,
			char **name_r)
{
	struct mailimf_address_list *al = NULL;
	struct mailimf_mailbox *mb;
	char *raw = msg_header_unfolded(m, field), *v, *comment = NULL;
	char *addr = NULL, *name = NULL, *pad;
	size_t idx = 0;

	if (name_r != NULL)
		*name_r = NULL;
	if (raw == NULL)
		return NULL;
	v = etpan_strip_comments(raw, &comment);
	pad = etpan_copy(v, strlen(v));
	if (mailimf_address_list_parse(pad, strlen(v), &idx, &al) ==
	    MAILIMF_NO_ERROR) {
		mb = first_mailbox(al);
		if (mb != NULL)
			addr = clean_addr(mb->mb_addr_spec);
		if (addr != NULL && mb->mb_display_name != NULL)
			name = display_name(mb->mb_display_name);
		mailimf_address_list_free(al);
	}
	free(pad);
	if (addr == NULL)
		addr = fallback_addr(v);
	if (addr != NULL && name == NULL && comment != NULL)
		name = display_name(comment);
	if (addr != NULL && name_r != NULL)
		*name_r = name;
	else
		free(name);
	free(comment);
	free(v);
	free(raw);
	return addr;
}

static size_t count_list(struct mailimf_address_list *al)
{
	clistiter *it;
	size_t n = 0;

	for (it = clist_begin(al->ad_list); it != NULL; it = clist_next(it)) {
		struct mailimf_address *a = clist_content(it);

		if (a->ad_type == MAILIMF_ADDRESS_MAILBOX)
			n++;
		else if (a->ad_type == MAILIMF_ADDRESS_GROUP &&
			 a->ad_data.ad_group != NULL &&
			 a->ad_data.ad_group->grp_mb_list != NULL)
			n += clist_count(
				a->ad_data.ad_group->grp_mb_list->mb_list);
	}
	return n;
}

/* '@' signs outside quoted strings: the count for what libetpan cannot
 * read, so that a limit on recipients still sees them. */
static size_t count_ats(const char *v)
{
	size_t n = 0;
	bool quoted = false;

	for (; *v; v++) {
		if (*v == '\\' && quoted && v[1] != '\0')
			v++;
		else if (*v == '"')
			quoted = !quoted;
		else if (*v == '@' && !quoted)
			n++;
	}
	return n;
}

size_t msg_count_addresses(const struct msg *m, const char *field)
{
	size_t i, n = 0;

	for (i = 0; i < m->nfields; i++) {
		const struct msg_field *f = &m->fields[i];
		struct mailimf_address_list *al = NULL;
		size_t idx = 0, len;
		char *raw, *v, *pad;

		if (f->deleted || strcasecmp(f->name, field) != 0)
			continue;
		raw = unfold(f->value);
		v = etpan_strip_comments(raw, NULL);
		len = strlen(v);
		pad = etpan_copy(v, len);
		if (mailimf_address_list_parse(pad, len, &idx, &al) ==
		    MAILIMF_NO_ERROR) {
			while (idx < len && (is_wsp(v[idx]) || v[idx] == ','))
				idx++;
			/* libetpan stops quietly at what it cannot read */
			n += idx == len ? count_list(al) : count_ats(v);
			mailimf_address_list_free(al);
		} else {
			n += count_ats(v);
		}
		free(pad);
		free(v);
		free(raw);
	}
	return n;
}

/* --- message-ids --- */

struct idlist {
	char **v;       /* NULL-terminated once anything was pushed */
	size_t n, cap;
};

static void idlist_push(struct idlist *l, char *id)
{
	if (l->n + 1 >= l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->v = xreallocarray(l->v, l->cap, sizeof *l->v);
	}
	l->v[l->n++] = id;
	l->v[l->n] = NULL;
}

static void idlist_clear(struct idlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

/* Hands over the first id, clearing the list. */
static char *idlist_take_first(struct idlist *l)
{
	char *id = NULL;

	if (l->n > 0) {
		id = l->v[0];
		l->v[0] = NULL;
	}
	idlist_clear(l);
	return id;
}

/* Skips a comment (nested) or quoted string starting at s[i]; returns the
 * index after it, or the end of the string when it is not closed. */
static size_t skip_delimited(const char *s, size_t i)
{
	int depth = 0;

	if (s[i] == '"') {
		for (i++; s[i] != '\0' && s[i] != '"'; i++)
			if (s[i] == '\\' && s[i + 1] != '\0')
				i++;
		return s[i] == '"' ? i + 1 : i;
	}
	for (; s[i] != '\0'; i++) {
		if (s[i] == '\\' && s[i + 1] != '\0')
			i++;
		else if (s[i] == '(')
			depth++;
		else if (s[i] == ')' && --depth == 0)
			return i + 1;
	}
	return i;
}

/* Adds every <id> in the raw value, at most `max` of them (0: all):
 * comments, quoted strings and other junk between ids are skipped, white
 * space inside an id (broken folding) is removed. */
static void ids_scan(const char *raw, struct idlist *l, size_t max)
{
	char *v = unfold(raw);
	struct buf id = BUF_INIT;
	size_t i = 0, j, found = 0;

	while (v[i] != '\0' && (max == 0 || found < max)) {
		if (v[i] == '(' || v[i] == '"') {
			i = skip_delimited(v, i);
			continue;
		}
		if (v[i] != '<') {
			i++;
			continue;
		}
		buf_reset(&id);
		for (j = i + 1; v[j] != '\0' && v[j] != '>' && v[j] != '<';
		     j++)
			if (!is_wsp(v[j]))
				buf_putc(&id, v[j]);
		if (v[j] == '>' && id.len > 0 && id.len <= ID_MAX) {
			idlist_push(l, xstrdup(buf_cstr(&id)));
			found++;
		}
		i = v[j] == '>' ? j + 1 : j;
	}
	buf_free(&id);
	free(v);
}

static void field_ids(const struct msg *m, const char *name,
		      struct idlist *l, size_t max)
{
	size_t i;

	for (i = 0; i < m->nfields; i++)
		if (!m->fields[i].deleted &&
		    strcasecmp(m->fields[i].name, name) == 0)
			ids_scan(m->fields[i].value, l, max);
}

char *msg_message_id(const struct msg *m)
{
	const struct msg_field *f = msg_field_cget(m, "Message-ID");
	struct idlist l = { NULL, 0, 0 };
	char *v;

	if (f == NULL)
		return NULL;
	ids_scan(f->value, &l, 1);
	if (l.n > 0)
		return idlist_take_first(&l);
	/* some mailers leave out the angle brackets */
	v = unfold(f->value);
	if (*v != '\0' && strlen(v) <= ID_MAX &&
	    strpbrk(v, " \t<>()\"") == NULL)
		return v;
	free(v);
	return NULL;
}

char *msg_content_id(const struct msg *m)
{
	static const char *const trace[] = {
		"Received", "Return-Path", "Delivered-To", "X-Original-To",
		NULL
	};
	unsigned char digest[HASH_LEN];
	char hex[33];
	struct hash_ctx x;
	size_t i, k;

	hash_init(&x);
	for (i = 0; i < m->nfields; i++) {
		const struct msg_field *f = &m->fields[i];

		if (f->deleted)
			continue;
		for (k = 0; trace[k] != NULL; k++)
			if (strcasecmp(f->name, trace[k]) == 0)
				break;
		if (trace[k] != NULL)
			continue;
		hash_update(&x, f->name, strlen(f->name));
		hash_update(&x, ":", 1);
		hash_update(&x, f->value, strlen(f->value));
		hash_update(&x, "\n", 1);
	}
	hash_update(&x, "\n", 1);
	if (m->body != NULL)
		hash_update(&x, m->body, m->body_len);
	hash_final(&x, digest);
	hash_hex(digest, 16, hex);
	return xstrdup(hex);
}

char *msg_in_reply_to(const struct msg *m)
{
	struct idlist l = { NULL, 0, 0 };

	/* the first id, as in jwz's threading: what follows is often an
	 * address or a grandparent */
	field_ids(m, "In-Reply-To", &l, 1);
	return idlist_take_first(&l);
}

char **msg_references(const struct msg *m)
{
	struct idlist l = { NULL, 0, 0 };
	size_t i, j, o, drop;

	field_ids(m, "References", &l, 0);
	/* the parent, when References left it out, comes last */
	field_ids(m, "In-Reply-To", &l, 0);
	if (l.n > REFS_MAX) {
		/* keep the root and the newest; bounding first keeps the
		 * duplicate check below cheap on a hostile header */
		drop = l.n - REFS_MAX;
		for (i = 1; i <= drop; i++)
			free(l.v[i]);
		memmove(l.v + 1, l.v + 1 + drop,
			(l.n - drop) * sizeof *l.v);
		l.n -= drop;
	}
	for (i = 0, o = 0; i < l.n; i++) {
		for (j = 0; j < o; j++)
			if (strcmp(l.v[j], l.v[i]) == 0)
				break;
		if (j < o)
			free(l.v[i]);
		else
			l.v[o++] = l.v[i];
	}
	l.n = o;
	if (l.v == NULL)
		l.v = xcalloc(1, sizeof *l.v);
	l.v[l.n] = NULL;
	return l.v;
}

bool msg_date(const struct msg *m, time_t *t_r)
{
	char *raw = msg_header_unfolded(m, "Date"), *v = NULL;
	struct mailimf_date_time *dt = NULL;
	size_t idx = 0, n = 0;
	bool ok = false;

	if (raw != NULL)
		v = etpan_value(raw, &n);
	if (v != NULL &&
	    mailimf_date_time_parse(v, n, &idx, &dt) == MAILIMF_NO_ERROR) {
		struct tm tm = { 0 };
		long zone = dt->dt_zone;   /* e.g. +0130 as 130 */
		time_t parsed;

		tm.tm_year = dt->dt_year - 1900;
		tm.tm_mon = dt->dt_month - 1;
		tm.tm_mday = dt->dt_day;
		tm.tm_hour = dt->dt_hour;
		tm.tm_min = dt->dt_min;
		tm.tm_sec = dt->dt_sec;
		parsed = timegm(&tm);
		if (parsed != (time_t)-1 && dt->dt_year >= 1970 &&
		    dt->dt_year < 10000) {
			long off = (zone / 100) * 3600 + (zone % 100) * 60;

			*t_r = parsed - off;
			ok = true;
		}
		mailimf_date_time_free(dt);
	}
	free(v);
	free(raw);
	return ok;
}

void msg_idlist_free(char ***ids)
{
	size_t i;

	if (*ids == NULL)
		return;
	for (i = 0; (*ids)[i] != NULL; i++)
		free((*ids)[i]);
	xfree(ids);
}

/* --- SMTP --- */

bool msg_to_smtp_data(const char *data, size_t len, struct buf *out)
{
	size_t i = 0, run;
	bool bol = true, eightbit = false;

	if (len == 0)
		return false;
	buf_reserve(out, len + len / 32 + 8);
	while (i < len) {
		if (bol && data[i] == '.')
			buf_putc(out, '.');
		for (run = i; run < len && data[run] != '\n' &&
		     data[run] != '\r'; run++)
			eightbit |= (unsigned char)data[run] >= 0x80;
		buf_append(out, data + i, run - i);
		i = run;
		bol = false;
		if (i < len) {
			if (data[i] == '\r' && i + 1 < len &&
			    data[i + 1] == '\n')
				i++;
			i++;
			buf_append(out, "\r\n", 2);
			bol = true;
		}
	}
	if (len > 0 && !bol)
		buf_append(out, "\r\n", 2);
	return eightbit;
}
