/* rewrite - turns an accepted post into the message members receive */
#include "autoconf.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>


#include "base/buf.h"
#include "base/conf.h"
#include "mail/msg.h"
#include "mail/rewrite.h"
#include "mail/mime.h"
#include "base/xalloc.h"

/* "convene-" and 24 hex digits: 96 random bits. */
#define BOUNDARY_RANDOM 12
#define BOUNDARY_TRIES 8
#define QP_LINE 76

/* Fields a post loses: trace and delivery fields that would leak or
 * mislead, approval passwords, and the list fields we write ourselves. */
static const char *const removed_fields[] = {
	"Bcc", "Return-Receipt-To", "Disposition-Notification-To",
	"Approved", "Approve", "X-Approved", "X-Original-To", "Delivered-To",
	"Return-Path", "Precedence", "X-Loop", NULL
};

/* Reply markers of the leading run, compared case-insensitively: English,
 * German, Scandinavian, Dutch, Polish, Italian, Finnish, Portuguese,
 * Turkish, Chinese. "Fwd:" is content and stays. */
static const char *const reply_words[] = {
	"re", "aw", "sv", "antw", "odp", "rif", "vs", "res", "ynt",
	"\xe5\x9b\x9e\xe5\xa4\x8d", "\xe7\xad\x94\xe5\xa4\x8d", NULL
};

void rewrite_params_from_conf(struct rewrite_params *p, const struct conf *c,
			      const struct conf_list *l, const char *footer)
{
	memset(p, 0, sizeof *p);
	p->list_name = l->name;
	p->domain = c->domain;
	p->description = l->description;
	p->subject_prefix = l->subject_prefix;
	p->reply_to = (int)l->reply_to;
	p->reply_to_address = l->reply_to_address;
	p->from_munging = (int)l->from_munging;
	p->dmarc_strict = false;
	p->archive_url = l->archive_url;
	p->unsubscribe_url = l->unsubscribe_url;
	p->footer = footer;
	p->message_id_domain = c->domain;
}

/* --- small helpers --- */

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

static bool all_ascii(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return false;
	return true;
}

static bool printable_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 32 || (unsigned char)*s > 126)
			return false;
	return true;
}

/* Fills dst with random bytes: getrandom, or, should the kernel refuse,
 * a mix of time, pid and a counter (uniqueness is all callers need, and
 * boundaries are checked against the body anyway). */
static void random_bytes(unsigned char *dst, size_t n)
{
	static unsigned int counter;
	size_t got = 0, i;
	ssize_t r;
	uint64_t x;

	while (got < n) {
		r = getrandom(dst + got, n - got, 0);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	if (got == n)
		return;
	x = (uint64_t)time(NULL) * 6364136223846793005ULL ^
	    (uint64_t)getpid() << 32 ^ (uint64_t)++counter;
	for (i = got; i < n; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		dst[i] = (unsigned char)(x >> 56);
	}
}

static void random_hex(char *dst, size_t nbytes)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[32];
	size_t i;

	if (nbytes > sizeof raw)
		nbytes = sizeof raw;
	random_bytes(raw, nbytes);
	for (i = 0; i < nbytes; i++) {
		dst[2 * i] = hex[raw[i] >> 4];
		dst[2 * i + 1] = hex[raw[i] & 15];
	}
	dst[2 * nbytes] = '\0';
}

/* A display phrase for `text`: a quoted string when it is printable ASCII,
 * else RFC 2047 words (which must not be quoted). */
static char *phrase(const char *text, size_t used)
{
	struct buf b = BUF_INIT;
	const char *p;

	if (!printable_ascii(text) || strstr(text, "=?") != NULL)
		return msg_encode_rfc2047(text, used);
	buf_putc(&b, '"');
	for (p = text; *p; p++) {
		if (*p == '"' || *p == '\\')
			buf_putc(&b, '\\');
		buf_putc(&b, *p);
	}
	buf_putc(&b, '"');
	return buf_steal(&b, NULL);
}

/* A configured URL goes into a field only when it cannot break it. */
static bool url_ok(const char *url)
{
	return url != NULL && *url != '\0' && printable_ascii(url) &&
	       strpbrk(url, "<> ") == NULL;
}

/* --- subject --- */

/* The length of a reply marker ("Re:", "RE :", "Re[2]:", "Aw:"...) at s,
 * or 0. */
static size_t match_reply(const char *s)
{
	size_t i, j, l;

	for (i = 0; reply_words[i] != NULL; i++) {
		l = strlen(reply_words[i]);
		if (strncasecmp(s, reply_words[i], l) != 0)
			continue;
		j = l;
		if (s[j] == '[' || s[j] == '(') {
			char close = s[j] == '[' ? ']' : ')';
			size_t d = j + 1;

			while (s[d] >= '0' && s[d] <= '9')
				d++;
			if (d == j + 1 || s[d] != close)
				continue;
			j = d + 1;
		}
		while (is_wsp(s[j]))
			j++;
		if (s[j] == ':')
			return j + 1;
		/* the full-width colon of CJK mailers */
		if (strncmp(s + j, "\xef\xbc\x9a", 3) == 0)
			return j + 3;
	}
	return 0;
}

/* The length of the prefix (trimmed, case-insensitive) at s, or 0. */
static size_t match_prefix(const char *s, const char *prefix, size_t plen)
{
	if (plen == 0 || strncasecmp(s, prefix, plen) != 0)
		return 0;
	/* "MAKERS" must not match the start of "MAKERSPACE" */
	if (is_alnum(prefix[plen - 1]) && is_alnum(s[plen]))
		return 0;
	return plen;
}

char *rewrite_subject(const char *decoded, const char *prefix)
{
	const char *s = decoded ? decoded : "";
	char *ptrim, *out;
	size_t plen, k, rlen;
	bool reply = false;

	if (prefix == NULL || *prefix == '\0')
		return xstrdup(s);
	ptrim = xstrdup(prefix);
	plen = strlen(ptrim);
	while (plen > 0 && is_wsp(ptrim[plen - 1]))
		ptrim[--plen] = '\0';
	for (;;) {
		while (is_wsp(*s))
			s++;
		if ((k = match_prefix(s, ptrim, plen)) > 0) {
			s += k;
			continue;
		}
		if ((k = match_reply(s)) > 0) {
			reply = true;
			s += k;
			continue;
		}
		break;
	}
	rlen = strlen(s);
	while (rlen > 0 && is_wsp(s[rlen - 1]))
		rlen--;
	if (plen == 0)
		out = xasprintf("%s%.*s", reply ? "Re: " : "", (int)rlen, s);
	else if (rlen == 0)
		out = xasprintf("%s%s", ptrim, reply ? " Re:" : "");
	else
		out = xasprintf("%s %s%.*s", ptrim, reply ? "Re: " : "",
				(int)rlen, s);
	free(ptrim);
	return out;
}

/* --- list fields --- */

char *rewrite_list_id(const char *name, const char *domain,
		      const char *description)
{
	char *ph, *out;

	if (description == NULL || *description == '\0')
		return xasprintf("<%s.%s>", name, domain);
	ph = phrase(description, strlen("List-Id: "));
	out = xasprintf("%s <%s.%s>", ph, name, domain);
	free(ph);
	return out;
}

static void add_list_fields(struct msg *m, const struct rewrite_params *p)
{
	const char *n = p->list_name, *d = p->domain;
	char *v;
	size_t i;

	/* any List-* field, not only RFC 2369's: ours replace them all */
	for (i = 0; i < m->nfields; i++)
		if (strncasecmp(m->fields[i].name, "List-", 5) == 0)
			m->fields[i].deleted = true;

	v = rewrite_list_id(n, d, p->description);
	msg_field_add(m, "List-Id", v);
	free(v);
	v = xasprintf("<mailto:%s@%s>", n, d);
	msg_field_add(m, "List-Post", v);
	free(v);
	v = xasprintf("<mailto:%s-request@%s?subject=help>", n, d);
	msg_field_add(m, "List-Help", v);
	free(v);
	v = xasprintf("<mailto:%s-subscribe@%s>", n, d);
	msg_field_add(m, "List-Subscribe", v);
	free(v);
	/* RFC 8058: the member's own URL first (the token goes where the
	 * marker is), folded before the mailto alternative. */
	if (url_ok(p->unsubscribe_url) && url_ok(p->unsubscribe_token)) {
		v = xasprintf("<%s%s>,\n <mailto:%s-unsubscribe@%s>",
			      p->unsubscribe_url, p->unsubscribe_token, n, d);
		msg_field_add(m, "List-Unsubscribe", v);
		msg_field_add(m, "List-Unsubscribe-Post",
			      "List-Unsubscribe=One-Click");
	} else {
		v = xasprintf("<mailto:%s-unsubscribe@%s>", n, d);
		msg_field_add(m, "List-Unsubscribe", v);
	}
	free(v);
	if (url_ok(p->archive_url)) {
		v = xasprintf("<%s>", p->archive_url);
		msg_field_add(m, "List-Archive", v);
		free(v);
	}
	/* A poster's own Archived-At names another archive: ours replaces
	 * it, or it goes. */
	msg_field_delete(m, "Archived-At");
	if (url_ok(p->archived_at)) {
		v = xasprintf("<%s>", p->archived_at);
		msg_field_add(m, "Archived-At", v);
		free(v);
	}
	v = xasprintf("<mailto:%s-owner@%s>", n, d);
	msg_field_add(m, "List-Owner", v);
	free(v);
	msg_field_add(m, "Precedence", "list");
	v = xasprintf("%s@%s", n, d);
	msg_field_add(m, "X-Loop", v);
	free(v);
}

/* --- Reply-To and From --- */

/* Reply-To policy:
 *  - REPLYTO_NONE and REPLYTO_SENDER leave the field as the poster wrote it
 *    (with none, replies go to From, that is the sender);
 *  - REPLYTO_LIST sets it to the posting address, REPLYTO_ADDRESS to the
 *    configured one (left alone when none is configured).
 * From munging (always, or for DMARC when the From domain's policy is
 * strict): From becomes "Name via LIST" <LIST@DOMAIN>. So that a reply
 * still reaches the author, the original From goes to Reply-To when the
 * policy is NONE or SENDER and the poster set no Reply-To; with LIST or
 * ADDRESS the policy's Reply-To wins and Cc is not touched. A From without
 * a usable address is left alone: no receiver can align it anyway. */
static void apply_reply_to(struct msg *m, const struct rewrite_params *p)
{
	char *v;

	switch (p->reply_to) {
	case REPLYTO_LIST:
		v = xasprintf("%s@%s", p->list_name, p->domain);
		msg_field_set(m, "Reply-To", v);
		free(v);
		break;
	case REPLYTO_ADDRESS:
		if (p->reply_to_address != NULL &&
		    *p->reply_to_address != '\0' &&
		    printable_ascii(p->reply_to_address))
			msg_field_set(m, "Reply-To", p->reply_to_address);
		break;
	default:
		break;
	}
}

static void munge_from(struct msg *m, const struct rewrite_params *p)
{
	char *name = NULL, *addr, *orig, *text, *ph, *v;
	bool munge = p->from_munging == FROMMUNGE_ALWAYS ||
		     (p->from_munging == FROMMUNGE_DMARC && p->dmarc_strict);

	if (!munge)
		return;
	addr = msg_first_address(m, "From", &name);
	if (addr == NULL) {
		free(name);
		return;
	}
	orig = msg_header_unfolded(m, "From");
	text = xasprintf("%s via %s", name ? name : addr, p->list_name);
	ph = phrase(text, strlen("From: "));
	v = xasprintf("%s <%s@%s>", ph, p->list_name, p->domain);
	msg_field_set(m, "From", v);
	if ((p->reply_to == REPLYTO_NONE || p->reply_to == REPLYTO_SENDER) &&
	    msg_field_get(m, "Reply-To") == NULL)
		msg_field_set(m, "Reply-To", orig);
	free(v);
	free(ph);
	free(text);
	free(orig);
	free(addr);
	free(name);
}

static void add_message_id(struct msg *m, const struct rewrite_params *p)
{
	char *id = msg_message_id(m), hex[17], *v;
	const char *dom = p->message_id_domain ? p->message_id_domain :
			  p->domain;

	if (id != NULL && *id != '\0') {
		free(id);
		return;
	}
	free(id);
	random_hex(hex, 8);
	v = xasprintf("<convene.%lld.%ld.%s@%s>", (long long)time(NULL),
		      (long)getpid(), hex, dom);
	msg_field_set(m, "Message-ID", v);
	free(v);
}

static void rewrite_subject_field(struct msg *m, const char *prefix)
{
	char *old, *new, *enc;

	if (prefix == NULL || *prefix == '\0')
		return;
	old = msg_header_decoded(m, "Subject");
	new = rewrite_subject(old, prefix);
	/* an unchanged subject keeps its bytes (and original charset) */
	if (old == NULL || strcmp(old, new) != 0) {
		enc = msg_encode_rfc2047(new, strlen("Subject: "));
		msg_field_set(m, "Subject", enc);
		free(enc);
	}
	free(old);
	free(new);
}

int rewrite_post(struct msg *m, const struct rewrite_params *p,
		 const char **error_r)
{
	size_t i;

	for (i = 0; removed_fields[i] != NULL; i++)
		msg_field_delete(m, removed_fields[i]);
	rewrite_subject_field(m, p->subject_prefix);
	add_list_fields(m, p);
	apply_reply_to(m, p);
	munge_from(m, p);
	add_message_id(m, p);
	if (p->footer != NULL && *p->footer != '\0')
		return rewrite_footer(m, p->footer, error_r);
	return 0;
}

/* Trace and authentication fields a digest's part does without: they
 * describe the post's way to the list, not the post. */
static const char *const part_removed_fields[] = {
	"Received", "Received-SPF", "Authentication-Results",
	"ARC-Seal", "ARC-Message-Signature", "ARC-Authentication-Results",
	"DKIM-Signature", "X-Google-DKIM-Signature", NULL
};

void rewrite_digest_part(struct msg *m, const struct rewrite_params *p)
{
	size_t i;

	for (i = 0; removed_fields[i] != NULL; i++)
		msg_field_delete(m, removed_fields[i]);
	for (i = 0; part_removed_fields[i] != NULL; i++)
		msg_field_delete(m, part_removed_fields[i]);
	for (i = 0; i < m->nfields; i++)
		if (strncasecmp(m->fields[i].name, "List-", 5) == 0)
			m->fields[i].deleted = true;
	apply_reply_to(m, p);
	munge_from(m, p);
	add_message_id(m, p);
}

/* --- footer --- */

static bool charset_is_utf8(const char *cs)
{
	return strcasecmp(cs, "utf-8") == 0 || strcasecmp(cs, "utf8") == 0;
}

/* Whether ASCII text appended to a part in this charset reads as ASCII. */
static bool charset_ascii_compatible(const char *cs)
{
	static const char *const wide[] = {
		"utf-16", "utf16", "utf-32", "utf32", "utf-7", "utf7",
		"ucs-2", "ucs2", "ucs-4", "ucs4", NULL
	};
	size_t i;

	for (i = 0; wide[i] != NULL; i++)
		if (strncasecmp(cs, wide[i], strlen(wide[i])) == 0)
			return false;
	return true;
}

/* Appends quoted-printable text: '=', controls and 8-bit bytes encoded,
 * white space at a line end encoded, soft breaks keeping lines <= 76. */
static void qp_append(struct buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, col = 0, tl;
	char tok[3];

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		bool eol = i + 1 == n || s[i + 1] == '\n';

		if (c == '\n') {
			buf_putc(out, '\n');
			col = 0;
			continue;
		}
		if ((c >= 33 && c <= 126 && c != '=') ||
		    (is_wsp((char)c) && !eol)) {
			tok[0] = (char)c;
			tl = 1;
		} else {
			tok[0] = '=';
			tok[1] = hex[c >> 4];
			tok[2] = hex[c & 15];
			tl = 3;
		}
		/* room for the token and, unless the line ends after it, a
		 * soft break's '=' */
		if (col + tl > (eol ? QP_LINE : QP_LINE - 1)) {
			buf_append(out, "=\n", 2);
			col = 0;
		}
		buf_append(out, tok, tl);
		col += tl;
	}
	if (n > 0 && s[n - 1] != '\n')
		buf_putc(out, '\n');
}

/* The footer as a body part: 7bit when ASCII, else quoted-printable so
 * that it suits any transport. The part ends with an empty line, since the
 * line break before a delimiter belongs to the delimiter. */
static void footer_part(struct buf *b, const char *bnd, const char *footer)
{
	size_t n = strlen(footer);
	bool ascii = all_ascii(footer, n);

	buf_printf(b, "--%s\n", bnd);
	buf_printf(b, "Content-Type: text/plain; charset=\"utf-8\"\n"
		   "Content-Transfer-Encoding: %s\n"
		   "Content-Disposition: inline\n\n",
		   ascii ? "7bit" : "quoted-printable");
	if (ascii) {
		buf_append(b, footer, n);
		if (n > 0 && footer[n - 1] != '\n')
			buf_putc(b, '\n');
	} else {
		qp_append(b, footer, n);
	}
	buf_putc(b, '\n');
}

static void body_replace(struct msg *m, struct buf *b)
{
	free(m->body);
	m->body = buf_steal(b, &m->body_len);
	m->no_body = false;
}

/* The body with a final line break, ready for text to be appended. */
static void body_copy_eol(const struct msg *m, struct buf *b)
{
	buf_append(b, m->body ? m->body : "", m->body_len);
	if (m->body_len > 0 && m->body[m->body_len - 1] != '\n')
		buf_putc(b, '\n');
}

static void append_plain(struct msg *m, const char *footer)
{
	struct buf b = BUF_INIT;
	size_t n = strlen(footer);

	body_copy_eol(m, &b);
	buf_append(&b, footer, n);
	if (n > 0 && footer[n - 1] != '\n')
		buf_putc(&b, '\n');
	body_replace(m, &b);
}

static void append_qp(struct msg *m, const char *footer)
{
	struct buf b = BUF_INIT;

	body_copy_eol(m, &b);
	/* a soft break on the last line would join it to the footer */
	if (b.len >= 2 && b.data[b.len - 2] == '=')
		buf_putc(&b, '\n');
	qp_append(&b, footer, strlen(footer));
	body_replace(m, &b);
}

/* Whether the line "--bnd--" (closing) or "--bnd" (any delimiter) starts
 * at line; only transport padding may follow. */
static bool is_delimiter(const char *line, size_t len, const char *bnd,
			 size_t blen, bool closing)
{
	size_t i;

	if (len < blen + 2 || line[0] != '-' || line[1] != '-' ||
	    memcmp(line + 2, bnd, blen) != 0)
		return false;
	i = blen + 2;
	if (closing) {
		if (len < i + 2 || line[i] != '-' || line[i + 1] != '-')
			return false;
		i += 2;
	}
	for (; i < len; i++)
		if (!is_wsp(line[i]))
			return false;
	return true;
}

/* Inserts the footer part before the closing delimiter of the
 * multipart/mixed body, or, when a truncated body has none, appends the
 * part and a closing delimiter. */
static void insert_part(struct msg *m, const char *bnd, const char *footer)
{
	struct buf b = BUF_INIT;
	size_t blen = strlen(bnd), pos = 0, eol, at = m->body_len;
	bool found = false;

	while (pos < m->body_len) {
		const char *nl = memchr(m->body + pos, '\n',
					m->body_len - pos);

		eol = nl ? (size_t)(nl - m->body) : m->body_len;
		if (is_delimiter(m->body + pos, eol - pos, bnd, blen, true)) {
			at = pos;
			found = true;
			break;
		}
		pos = eol + 1;
	}
	if (found) {
		buf_append(&b, m->body, at);
		footer_part(&b, bnd, footer);
		buf_append(&b, m->body + at, m->body_len - at);
	} else {
		body_copy_eol(m, &b);
		footer_part(&b, bnd, footer);
		buf_printf(&b, "--%s--\n", bnd);
	}
	body_replace(m, &b);
}

static int new_boundary(const struct msg *m, const char *footer,
			char *dst, size_t size)
{
	char hex[2 * BOUNDARY_RANDOM + 1];
	int i;

	for (i = 0; i < BOUNDARY_TRIES; i++) {
		random_hex(hex, BOUNDARY_RANDOM);
		snprintf(dst, size, "convene-%s", hex);
		if ((m->body == NULL ||
		     memmem(m->body, m->body_len, dst, strlen(dst)) == NULL) &&
		    strstr(footer, dst) == NULL)
			return 0;
	}
	return -1;
}

/* Makes the message a multipart/mixed: the first part is the original
 * content with every Content-* field (and MIME-Version), the second the
 * footer. The original body bytes are kept as they are. */
static int wrap(struct msg *m, const char *footer, const char **error_r)
{
	struct buf b = BUF_INIT;
	char bnd[64], *v;
	bool typed = false;
	size_t i;

	if (new_boundary(m, footer, bnd, sizeof bnd) < 0) {
		*error_r = "no unique MIME boundary could be made";
		return -1;
	}
	buf_printf(&b, "--%s\n", bnd);
	for (i = 0; i < m->nfields; i++) {
		struct msg_field *f = &m->fields[i];

		if (f->deleted || (strncasecmp(f->name, "Content-", 8) != 0 &&
				   strcasecmp(f->name, "MIME-Version") != 0))
			continue;
		if (strcasecmp(f->name, "Content-Type") == 0)
			typed = true;
		buf_printf(&b, "%s:%s\n", f->name, f->value);
		f->deleted = true;
	}
	/* RFC 2045's default, written out: some parsers (libetpan) misread
	 * a part without any header field when its body is empty */
	if (!typed)
		buf_puts(&b, "Content-Type: text/plain; charset=us-ascii\n");
	buf_putc(&b, '\n');
	buf_append(&b, m->body ? m->body : "", m->body_len);
	buf_putc(&b, '\n');
	footer_part(&b, bnd, footer);
	buf_printf(&b, "--%s--\n", bnd);
	body_replace(m, &b);

	msg_field_add(m, "MIME-Version", "1.0");
	v = xasprintf("multipart/mixed; boundary=\"%s\"", bnd);
	msg_field_add(m, "Content-Type", v);
	free(v);
	/* 8-bit data anywhere in a multipart makes the whole 8bit */
	if (!all_ascii(m->body, m->body_len))
		msg_field_add(m, "Content-Transfer-Encoding", "8bit");
	return 0;
}

enum body_kind { KIND_PLAIN, KIND_QP, KIND_MIXED, KIND_WRAP, KIND_BROKEN };

/* Decides how the footer goes in; *boundary_r (for KIND_MIXED) is newly
 * allocated. */
static enum body_kind classify(const struct msg *m, const char *footer,
			       char **boundary_r, enum mime_encoding *enc_r)
{
	struct mime_ctype ct;
	char *ctv = msg_header_unfolded(m, "Content-Type");
	char *ctev = msg_header_unfolded(m, "Content-Transfer-Encoding");
	enum body_kind kind = KIND_WRAP;
	enum mime_encoding enc = mime_encoding_parse(ctev);
	bool text_plain = false, multipart = false, mixed = false;
	bool plain_enc = enc == MIME_ENC_7BIT || enc == MIME_ENC_8BIT ||
			 enc == MIME_ENC_BINARY;
	const char *charset;

	*boundary_r = NULL;
	mime_ctype_parse(ctv, &ct);
	if (ctv == NULL) {
		text_plain = true;
	} else if (ct.parsed) {
		text_plain = strcmp(ct.type, "text") == 0 &&
			     strcmp(ct.subtype, "plain") == 0;
		multipart = strcmp(ct.type, "multipart") == 0;
		mixed = multipart && strcmp(ct.subtype, "mixed") == 0;
	}
	/* else: a Content-Type we cannot read is wrapped, whole */
	charset = mime_ctype_param(&ct, "charset");

	if (multipart) {
		const char *bnd = mime_ctype_param(&ct, "boundary");

		if (bnd == NULL || *bnd == '\0')
			kind = KIND_BROKEN;
		else if (mixed && plain_enc) {
			kind = KIND_MIXED;
			*boundary_r = xstrdup(bnd);
		}
	} else if (text_plain) {
		bool ascii = all_ascii(footer, strlen(footer));
		bool fits = charset == NULL ?
			    ascii :
			    charset_ascii_compatible(charset) &&
				    (ascii || charset_is_utf8(charset));

		if (fits && plain_enc)
			kind = KIND_PLAIN;
		else if (fits && enc == MIME_ENC_QP)
			kind = KIND_QP;
	}
	mime_ctype_free(&ct);
	free(ctv);
	free(ctev);
	*enc_r = enc;
	return kind;
}

int rewrite_footer(struct msg *m, const char *footer, const char **error_r)
{
	const char *dummy;
	char *bnd = NULL;
	enum mime_encoding enc;
	int rc = 0;

	if (error_r == NULL)
		error_r = &dummy;
	if (footer == NULL || *footer == '\0')
		return 0;
	switch (classify(m, footer, &bnd, &enc)) {
	case KIND_PLAIN:
		/* 8-bit text in a part declared (or defaulting to) 7bit would
		 * make it invalid */
		if (enc == MIME_ENC_7BIT &&
		    !all_ascii(footer, strlen(footer)))
			msg_field_set(m, "Content-Transfer-Encoding", "8bit");
		append_plain(m, footer);
		break;
	case KIND_QP:
		append_qp(m, footer);
		break;
	case KIND_MIXED:
		insert_part(m, bnd, footer);
		break;
	case KIND_WRAP:
		rc = wrap(m, footer, error_r);
		break;
	case KIND_BROKEN:
		*error_r = "multipart body without a boundary";
		rc = -1;
		break;
	}
	free(bnd);
	return rc;
}

void rewrite_public_copy(struct msg *m)
{
	static const char *const keep[] = {
		"Date", "Subject", "Message-ID", "In-Reply-To", "References",
		"MIME-Version", NULL
	};
	char *name = NULL, *addr = msg_first_address(m, "From", &name);
	char *ph, *from;
	size_t i, k;

	if (name == NULL || *name == '\0') {
		free(name);
		name = addr != NULL ? xstrndup(addr, strcspn(addr, "@")) :
		       xstrdup("?");
	}
	for (i = 0; i < m->nfields; i++) {
		bool stays = strncasecmp(m->fields[i].name, "Content-", 8) == 0;

		for (k = 0; !stays && keep[k] != NULL; k++)
			stays = strcasecmp(m->fields[i].name, keep[k]) == 0;
		if (!stays)
			m->fields[i].deleted = true;
	}
	ph = phrase(name, strlen("From: "));
	from = xasprintf("%s <hidden@hidden.invalid>", ph);
	msg_field_set(m, "From", from);
	free(from);
	free(ph);
	free(name);
	free(addr);
}
