/* mbox - reading mbox files, writing mboxrd */
#include "autoconf.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mail/mbox.h"
#include "base/buf.h"

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The line at p (n bytes, no terminator) holds "d:dd" somewhere. */
static bool has_time(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i + 3 < n; i++)
		if (is_digit(p[i]) && p[i + 1] == ':' && is_digit(p[i + 2]) &&
		    is_digit(p[i + 3]))
			return true;
	return false;
}

/* "Www Mmm " somewhere after the sender, then a time: the form every
 * mbox writer uses ("From a@b Thu Jan  1 00:00:00 1970"). */
static bool has_asctime(const char *p, size_t n)
{
	static const char days[] = "MonTueWedThuFriSatSun";
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	size_t i, d, m;

	for (i = 5; i + 8 <= n; i++) {
		if (p[i - 1] != ' ' || p[i + 3] != ' ' || p[i + 7] != ' ')
			continue;
		for (d = 0; d < 7; d++)
			if (memcmp(p + i, days + 3 * d, 3) == 0)
				break;
		for (m = 0; m < 12; m++)
			if (memcmp(p + i + 4, months + 3 * m, 3) == 0)
				break;
		if (d < 7 && m < 12 && has_time(p + i, n - i))
			return true;
	}
	return false;
}

bool mbox_looks_like(const char *data, size_t len)
{
	return len >= 5 && memcmp(data, "From ", 5) == 0;
}

void mbox_reader_init(struct mbox_reader *r, const char *data, size_t len)
{
	r->data = data;
	r->len = len;
	r->pos = 0;
}

/* The end of the line at pos (the index of its LF, or len), and its length
 * without CR. */
static size_t line_at(const struct mbox_reader *r, size_t pos, size_t *n_r)
{
	const char *nl = memchr(r->data + pos, '\n', r->len - pos);
	size_t end = nl != NULL ? (size_t)(nl - r->data) : r->len;
	size_t n = end - pos;

	if (n > 0 && r->data[pos + n - 1] == '\r')
		n--;
	*n_r = n;
	return end;
}

static bool is_separator(const struct mbox_reader *r, size_t pos,
			 bool after_blank)
{
	size_t n;

	if (r->len - pos < 5 || memcmp(r->data + pos, "From ", 5) != 0)
		return false;
	line_at(r, pos, &n);
	if (pos == 0)
		return true;
	return (after_blank && has_time(r->data + pos, n)) ||
	       has_asctime(r->data + pos, n);
}

bool mbox_next(struct mbox_reader *r, struct buf *msg)
{
	size_t pos = r->pos, n, end;
	bool blank = false, first = true;

	buf_reset(msg);
	buf_append(msg, "", 0);
	if (pos >= r->len)
		return false;
	/* Skip the separator (and anything before a first one). */
	while (pos < r->len) {
		bool from = r->len - pos >= 5 &&
			    memcmp(r->data + pos, "From ", 5) == 0;

		end = line_at(r, pos, &n);
		pos = end < r->len ? end + 1 : r->len;
		if (from)
			break;
	}
	while (pos < r->len) {
		const char *l = r->data + pos;
		size_t q;

		if (!first && is_separator(r, pos, blank))
			break;
		first = false;
		end = line_at(r, pos, &n);
		blank = n == 0;
		/* >From, >>From ... lose one '>'. */
		for (q = 0; q < n && l[q] == '>'; q++)
			;
		if (q > 0 && n - q >= 5 && memcmp(l + q, "From ", 5) == 0)
			l++;
		buf_append(msg, l, (size_t)(r->data + end - l));
		if (end < r->len)
			buf_putc(msg, '\n');
		pos = end < r->len ? end + 1 : r->len;
	}
	r->pos = pos;
	/* The blank line that ends the entry is the separator's, not the
	 * message's. */
	if (msg->len >= 2 && msg->data[msg->len - 1] == '\n' &&
	    msg->data[msg->len - 2] == '\n')
		buf_truncate(msg, msg->len - 1);
	else if (msg->len >= 4 && memcmp(msg->data + msg->len - 4, "\r\n\r\n",
					 4) == 0)
		buf_truncate(msg, msg->len - 2);
	return true;
}

/* A sender that goes on the From_ line as one word. */
static bool sender_ok(const char *s)
{
	const char *p;

	if (s == NULL || *s == '\0' || strlen(s) > 254)
		return false;
	for (p = s; *p; p++)
		if ((unsigned char)*p <= 32 || (unsigned char)*p >= 127)
			return false;
	return true;
}

void mbox_write(struct buf *out, const char *sender, time_t date,
		const char *raw, size_t len)
{
	char when[64];
	struct tm tm;
	size_t pos = 0;

	if (gmtime_r(&date, &tm) == NULL ||
	    strftime(when, sizeof when, "%a %b %e %H:%M:%S %Y", &tm) == 0)
		snprintf(when, sizeof when, "Thu Jan  1 00:00:00 1970");
	buf_printf(out, "From %s %s\n", sender_ok(sender) ? sender :
		   "MAILER-DAEMON", when);
	/* A leading From_ line of the stored bytes is not the message's. */
	if (len >= 5 && memcmp(raw, "From ", 5) == 0) {
		const char *nl = memchr(raw, '\n', len);

		pos = nl != NULL ? (size_t)(nl - raw) + 1 : len;
	}
	while (pos < len) {
		const char *l = raw + pos, *nl = memchr(l, '\n', len - pos);
		size_t n = nl != NULL ? (size_t)(nl - l) : len - pos, q;

		for (q = 0; q < n && l[q] == '>'; q++)
			;
		if (n - q >= 5 && memcmp(l + q, "From ", 5) == 0)
			buf_putc(out, '>');
		buf_append(out, l, n > 0 && l[n - 1] == '\r' ? n - 1 : n);
		buf_putc(out, '\n');
		pos += n + (nl != NULL ? 1 : 0);
	}
	buf_putc(out, '\n');
}
