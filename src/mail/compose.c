/* compose - messages convene writes itself: notices, answers, confirmations */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "mail/compose.h"
#include "base/buf.h"
#include "base/conf.h"
#include "base/log.h"
#include "mail/msg.h"
#include "base/template.h"
#include "base/util.h"
#include "base/xalloc.h"

/* Quoted-printable for UTF-8 text with LF line ends: readable for ASCII,
 * safe for any byte, lines at most 76 characters. */
static void qp_encode(const char *s, struct buf *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t col = 0;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		bool lit;

		if (c == '\n') {
			/* Trailing white space must be encoded. */
			if (out->len > 0 && (out->data[out->len - 1] == ' ' ||
					     out->data[out->len - 1] == '\t')) {
				char ws = out->data[out->len - 1];

				buf_truncate(out, out->len - 1);
				buf_printf(out, "=%c%c", hex[(unsigned char)ws >> 4],
					   hex[ws & 0xf]);
			}
			buf_putc(out, '\n');
			col = 0;
			continue;
		}
		lit = (c >= 33 && c <= 126 && c != '=') || c == ' ' ||
		      c == '\t';
		if (col + (lit ? 1 : 3) > 75) {
			buf_puts(out, "=\n");
			col = 0;
		}
		if (lit) {
			buf_putc(out, (char)c);
			col++;
		} else {
			buf_putc(out, '=');
			buf_putc(out, hex[c >> 4]);
			buf_putc(out, hex[c & 0xf]);
			col += 3;
		}
	}
	if (col > 0)
		buf_putc(out, '\n');
}

void compose_qp(const char *text, struct buf *out)
{
	qp_encode(text, out);
}

static void put_field(struct buf *out, const char *name, const char *value)
{
	char *enc = msg_encode_rfc2047(value, strlen(name) + 2);

	buf_printf(out, "%s: %s\n", name, enc);
	free(enc);
}

/* One message/rfc822 part; 8bit when its bytes are not all ASCII
 * (RFC 2046 5.2.1 allows 7bit, 8bit or binary only). */
static void attach_part(struct buf *out, const char *boundary,
			const char *data, size_t len)
{
	size_t i;
	bool eight = false;

	for (i = 0; i < len && !eight; i++)
		eight = (unsigned char)data[i] >= 0x80;
	buf_printf(out, "\n--%s\nContent-Type: message/rfc822\n"
		   "Content-Disposition: attachment\n%s\n", boundary,
		   eight ? "Content-Transfer-Encoding: 8bit\n" : "");
	buf_append(out, data, len);
	if (len > 0 && data[len - 1] != '\n')
		buf_putc(out, '\n');
}

static void base64_encode(const char *data, size_t len, struct buf *out)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		"0123456789+/";
	const unsigned char *p = (const unsigned char *)data;
	size_t i, col = 0;

	for (i = 0; i < len; i += 3) {
		unsigned long v = (unsigned long)p[i] << 16;
		size_t k = len - i;

		if (k > 1)
			v |= (unsigned long)p[i + 1] << 8;
		if (k > 2)
			v |= p[i + 2];
		buf_putc(out, b64[(v >> 18) & 63]);
		buf_putc(out, b64[(v >> 12) & 63]);
		buf_putc(out, k > 1 ? b64[(v >> 6) & 63] : '=');
		buf_putc(out, k > 2 ? b64[v & 63] : '=');
		col += 4;
		if (col == 76) {
			buf_putc(out, '\n');
			col = 0;
		}
	}
	if (col > 0)
		buf_putc(out, '\n');
}

/* The body as text and HTML with its images: multipart/alternative of
 * text/plain and multipart/related (text/html, the images). */
static void alternative(const struct compose *how, const char *token,
			const char *body, struct buf *out)
{
	char alt[64], rel[64];
	size_t i;

	snprintf(alt, sizeof alt, "=_convene_a_%s", token);
	snprintf(rel, sizeof rel, "=_convene_r_%s", token);
	buf_printf(out, "Content-Type: multipart/alternative; "
		   "boundary=\"%s\"\n\n", alt);
	buf_printf(out, "--%s\nContent-Type: text/plain; charset=utf-8\n"
		   "Content-Transfer-Encoding: quoted-printable\n\n", alt);
	qp_encode(body, out);
	buf_printf(out, "\n--%s\nContent-Type: multipart/related; "
		   "boundary=\"%s\"; type=\"text/html\"\n\n", alt, rel);
	buf_printf(out, "--%s\nContent-Type: text/html; charset=utf-8\n"
		   "Content-Transfer-Encoding: quoted-printable\n\n", rel);
	qp_encode(how->html, out);
	for (i = 0; i < how->nimages; i++) {
		const struct compose_image *im = &how->images[i];

		buf_printf(out, "\n--%s\nContent-Type: %s\n"
			   "Content-Transfer-Encoding: base64\n"
			   "Content-ID: <%s>\n"
			   "Content-Disposition: inline\n\n", rel, im->type,
			   im->cid);
		base64_encode(im->data, im->len, out);
	}
	buf_printf(out, "\n--%s--\n\n--%s--\n", rel, alt);
}

static bool is_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 128)
			return false;
	return true;
}

/* The body of an iMIP message: the text and the calendar as alternatives
 * (what Outlook, Gmail, Apple Mail and Thunderbird show as an invitation
 * with Accept and Decline). */
static void put_calendar(const struct compose *how, const char *body,
			 const char *token, struct buf *out)
{
	char boundary[64];
	size_t n = strlen(how->calendar);

	snprintf(boundary, sizeof boundary, "=_convene_%s", token);
	buf_printf(out, "Content-Type: multipart/alternative; "
		   "boundary=\"%s\"\n\n", boundary);
	buf_printf(out, "--%s\nContent-Type: text/plain; charset=utf-8\n"
		   "Content-Transfer-Encoding: quoted-printable\n\n", boundary);
	qp_encode(body, out);
	buf_printf(out, "\n--%s\nContent-Type: text/calendar; charset=utf-8; "
		   "method=%s\nContent-Transfer-Encoding: %s\n\n", boundary,
		   how->calendar_method ? how->calendar_method : "PUBLISH",
		   is_ascii(how->calendar) ? "7bit" : "8bit");
	buf_append(out, how->calendar, n);
	if (n > 0 && how->calendar[n - 1] != '\n')
		buf_putc(out, '\n');
	buf_printf(out, "\n--%s--\n", boundary);
}

void compose_message(const struct conf *c, const struct compose *how,
		     const char *subject, const char *body, struct buf *out)
{
	char date[64], token[33], boundary[64];
	time_t now = util_now();
	struct tm tm;
	size_t i;

	gmtime_r(&now, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
	if (util_token(token) < 0)
		log_fatal("getrandom failed");
	buf_printf(out, "Date: %s\n", date);
	buf_printf(out, "From: %s\n", how->from);
	buf_printf(out, "To: %s\n", how->to);
	if (how->reply_to != NULL)
		buf_printf(out, "Reply-To: %s\n", how->reply_to);
	put_field(out, "Subject", subject);
	if (how->message_id != NULL)
		buf_printf(out, "Message-ID: <%s>\n", how->message_id);
	else
		buf_printf(out, "Message-ID: <convene.%s@%s>\n", token,
			   c->domain);
	if (how->in_reply_to != NULL) {
		buf_printf(out, "In-Reply-To: <%s>\n", how->in_reply_to);
		buf_printf(out, "References: <%s>\n", how->in_reply_to);
	}
	buf_printf(out, "Auto-Submitted: %s\n",
		   how->auto_submitted ? how->auto_submitted :
		   "auto-generated");
	buf_puts(out, "Precedence: bulk\nMIME-Version: 1.0\n");
	if (how->calendar != NULL) {
		put_calendar(how, body, token, out);
		return;
	}
	if (how->html != NULL) {
		alternative(how, token, body, out);
		return;
	}
	if (how->attach == NULL && how->nparts == 0) {
		buf_puts(out, "Content-Type: text/plain; charset=utf-8\n"
			 "Content-Transfer-Encoding: quoted-printable\n\n");
		qp_encode(body, out);
		return;
	}
	snprintf(boundary, sizeof boundary, "=_convene_%s", token);
	buf_printf(out, "Content-Type: multipart/mixed; boundary=\"%s\"\n\n",
		   boundary);
	buf_printf(out, "--%s\nContent-Type: text/plain; charset=utf-8\n"
		   "Content-Transfer-Encoding: quoted-printable\n\n", boundary);
	qp_encode(body, out);
	if (how->attach != NULL)
		attach_part(out, boundary, how->attach, how->attach_len);
	for (i = 0; i < how->nparts; i++)
		attach_part(out, boundary, how->parts[i].data,
			    how->parts[i].len);
	buf_printf(out, "\n--%s--\n", boundary);
}

/* The header lines of a rendered template (text, cut up in place) up to
 * the first blank line: the last Subject into *subject_r (newly allocated)
 * and where the body starts into *body_r. -1 with *error_r when there is
 * no Subject line. */
static int template_subject(const char *name, char *text, char **subject_r,
			    const char **body_r, char **error_r)
{
	char *subject = NULL, *line, *next;

	for (line = text; line != NULL && *line != '\n' && *line != '\0';
	     line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (strncasecmp(line, "Subject:", 8) == 0) {
			free(subject);
			subject = util_trim(xstrdup(line + 8));
		}
	}
	if (subject == NULL) {
		*error_r = xasprintf("template %s has no Subject line", name);
		return -1;
	}
	*subject_r = subject;
	*body_r = line == NULL ? "" : (*line == '\n' ? line + 1 : line);
	return 0;
}

int compose_subject(const struct conf *c, const struct conf_list *l,
		    const char *name, const struct template_var *vars,
		    size_t nvars, char **subject_r, char **error_r)
{
	char *text = NULL;
	const char *body;
	int rc;

	if (template_render(c, l, name, vars, nvars, &text, error_r) < 0)
		return -1;
	rc = template_subject(name, text, subject_r, &body, error_r);
	free(text);
	return rc;
}

int compose_from_template(const struct conf *c, const struct conf_list *l,
			  const char *name, const struct template_var *vars,
			  size_t nvars, const struct compose *how,
			  struct buf *out, char **error_r)
{
	char *text = NULL, *subject = NULL;
	const char *p;

	if (template_render_message(c, l, name, vars, nvars, TEMPLATE_WIDTH,
				    &text, error_r) < 0)
		return -1;
	/* Header lines up to the first blank line; only Subject is used. */
	if (template_subject(name, text, &subject, &p, error_r) < 0) {
		free(text);
		return -1;
	}
	compose_message(c, how, subject, p, out);
	free(subject);
	free(text);
	return 0;
}
