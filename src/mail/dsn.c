/* dsn - what a message arriving at a bounce address reports */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mail/dsn.h"
#include "base/addr.h"
#include "base/buf.h"
#include "mail/mime.h"
#include "mail/msg.h"
#include "base/util.h"
#include "base/xalloc.h"

const struct dsn_limits dsn_default_limits = {
	.max_bytes = 10 * 1024 * 1024,
	.max_depth = 20,
	.max_parts = 1000,
	.max_rcpts = 100,
	.max_header_bytes = 512 * 1024,
	.max_headers = 1000,
};

/* Text gathered from the MIME parts while walking. */
struct walk {
	const struct dsn_limits *lim;
	size_t parts;
	struct buf status;      /* message/delivery-status bodies */
	struct buf text;        /* text/plain bodies (not of returned mail) */
	struct buf html;        /* text/html bodies, tags removed */
	bool feedback;          /* a message/feedback-report part */
	bool report;            /* multipart/report; delivery-status */
};

const char *dsn_kind_name(enum dsn_kind k)
{
	switch (k) {
	case DSN_NONE:      return "none";
	case DSN_BOUNCE:    return "bounce";
	case DSN_AUTOREPLY: return "autoreply";
	case DSN_FEEDBACK:  return "feedback";
	}
	return "none";
}

const char *dsn_severity_name(enum dsn_severity s)
{
	return s == DSN_SOFT ? "soft" : "hard";
}

void dsn_report_free(struct dsn_report *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		free(r->v[i].address);
		free(r->v[i].original);
	}
	xfree(&r->v);
	r->n = 0;
}

/* ---- small text helpers ---- */

static bool ci_has(const char *hay, size_t n, const char *needle)
{
	size_t k = strlen(needle), i;

	if (k == 0 || n < k)
		return k == 0;
	for (i = 0; i + k <= n; i++) {
		if (strncasecmp(hay + i, needle, k) == 0)
			return true;
	}
	return false;
}

static bool ci_has_any(const char *hay, size_t n, const char *const *needles)
{
	size_t i;

	for (i = 0; needles[i] != NULL; i++) {
		if (ci_has(hay, n, needles[i]))
			return true;
	}
	return false;
}

static bool is_local_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || strchr(".!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static bool is_domain_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '-';
}

/* The address around the '@' at s[at] of s[0..n): newly allocated and
 * normalised, or NULL. *start_r and *end_r get its extent. In running text
 * a domain needs a dot; where the report's structure says that an address
 * stands (`structured`: Final-Recipient, X-Failed-Recipients, a line that
 * starts "<addr>") a dotless one (erin@localhost) counts too, as convene
 * accepts such members. */
static char *address_at_in(const char *s, size_t n, size_t at,
			   size_t *start_r, size_t *end_r, bool structured)
{
	size_t b = at, e = at + 1;
	char *raw, *a;

	while (b > 0 && is_local_char(s[b - 1]) && at - b < ADDR_LOCAL_MAX)
		b--;
	while (b < at && (s[b] == '.' || s[b] == '='))
		b++;
	while (e < n && is_domain_char(s[e]) && e - at < 256)
		e++;
	while (e > at + 1 && (s[e - 1] == '.' || s[e - 1] == '-'))
		e--;
	if (b == at || e == at + 1 ||
	    (!structured && memchr(s + at + 1, '.', e - at - 1) == NULL))
		return NULL;
	raw = xstrndup(s + b, e - b);
	a = addr_normalize(raw, true);
	free(raw);
	if (start_r != NULL)
		*start_r = b;
	if (end_r != NULL)
		*end_r = e;
	return a;
}

/* The first address in s[0..n), or NULL (`structured` as above). */
static char *first_address_in(const char *s, size_t n, size_t *end_r,
			      bool structured)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '@') {
			size_t e;
			char *a = address_at_in(s, n, i, NULL, &e, structured);

			if (a != NULL) {
				if (end_r != NULL)
					*end_r = e;
				return a;
			}
		}
	}
	return NULL;
}

static char *first_address(const char *s, size_t n, size_t *end_r)
{
	return first_address_in(s, n, end_r, false);
}

/* ---- the report under construction ---- */

struct found {
	struct dsn_report *r;
	const struct dsn_limits *lim;
	const char *const *exclude;   /* addresses never reported */
};

static bool excluded(const struct found *f, const char *a)
{
	size_t i;
	const char *at = strchr(a, '@');
	size_t ll = at != NULL ? (size_t)(at - a) : 0;

	if ((ll == 10 && strncasecmp(a, "postmaster", 10) == 0) ||
	    (ll == 13 && strncasecmp(a, "mailer-daemon", 13) == 0) ||
	    (ll == 12 && strncasecmp(a, "mailerdaemon", 12) == 0))
		return true;
	for (i = 0; f->exclude[i] != NULL; i++) {
		if (strcasecmp(f->exclude[i], a) == 0)
			return true;
	}
	return false;
}

static bool already(const struct dsn_report *r, const char *a)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		if (strcasecmp(r->v[i].address, a) == 0)
			return true;
	}
	return false;
}

/* Adds a recipient (takes address and original). */
static void add_rcpt(struct found *f, char *address, char *original,
		     enum dsn_severity sev, const char *status)
{
	struct dsn_report *r = f->r;
	struct dsn_rcpt *x;

	if (address == NULL || r->n >= f->lim->max_rcpts ||
	    already(r, address)) {
		free(address);
		free(original);
		return;
	}
	r->v = xreallocarray(r->v, r->n + 1, sizeof *r->v);
	x = &r->v[r->n++];
	memset(x, 0, sizeof *x);
	x->address = address;
	x->original = original;
	x->severity = sev;
	snprintf(x->status, sizeof x->status, "%s", status);
}

/* An RFC 3463 status "c.s.d" at s (class 2, 4 or 5) into dst. */
static bool status_code(const char *s, size_t n, char dst[16])
{
	size_t i = 0, dots = 0, digits = 0;

	if (n == 0 || (s[0] != '2' && s[0] != '4' && s[0] != '5'))
		return false;
	for (i = 1; i < n && i < 12; i++) {
		if (s[i] == '.') {
			if (digits == 0 && i > 1)
				return false;
			dots++;
			digits = 0;
			if (dots > 2)
				break;
		} else if (s[i] >= '0' && s[i] <= '9') {
			digits++;
			if (digits > 3)
				return false;
		} else {
			break;
		}
	}
	if (dots != 2 || digits == 0 || s[1] != '.')
		return false;
	snprintf(dst, 16, "%.*s", (int)i, s);
	return true;
}

/* The first enhanced status code in s[0..n) that stands alone. */
static bool find_status(const char *s, size_t n, char dst[16])
{
	size_t i;

	for (i = 0; i < n; i++) {
		if ((i > 0 && ((s[i - 1] >= '0' && s[i - 1] <= '9') ||
			       s[i - 1] == '.')) ||
		    (s[i] != '4' && s[i] != '5'))
			continue;
		if (status_code(s + i, n - i, dst)) {
			size_t k = strlen(dst);

			if (i + k < n && ((s[i + k] >= '0' && s[i + k] <= '9') ||
					  s[i + k] == '.'))
				continue;
			return true;
		}
	}
	return false;
}

/* ---- RFC 3464 delivery-status fields ---- */

struct ds_rcpt {
	char *final, *original, *action, *status;
	bool any;
};

static void ds_clear(struct ds_rcpt *d)
{
	xfree(&d->final);
	xfree(&d->original);
	xfree(&d->action);
	xfree(&d->status);
	d->any = false;
}

/* The address of "rfc822; a@b" (or of a value without the type). */
static char *ds_address(const char *v)
{
	const char *semi = strchr(v, ';');
	const char *p = semi != NULL ? semi + 1 : v;

	return first_address_in(p, strlen(p), NULL, true);
}

/* Ends one per-recipient block: 1 when it was a failure. */
static int ds_flush(struct found *f, struct ds_rcpt *d, bool *success_r)
{
	char *addr = NULL, *orig = NULL, st[16] = "";
	enum dsn_severity sev = DSN_HARD;
	bool failed = false, delayed = false;
	int added = 0;

	if (!d->any || (d->final == NULL && d->original == NULL)) {
		ds_clear(d);
		return 0;
	}
	if (d->status != NULL)
		(void)status_code(d->status, strlen(d->status), st);
	if (d->action != NULL) {
		if (ci_has(d->action, strlen(d->action), "fail"))
			failed = true;
		else if (ci_has(d->action, strlen(d->action), "delay"))
			delayed = true;
		else if (ci_has_any(d->action, strlen(d->action),
				    (const char *const[]){ "deliver", "relay",
				    "expand", NULL })) {
			*success_r = true;
			ds_clear(d);
			return 0;
		}
	}
	if (st[0] == '2' && !failed && !delayed) {
		*success_r = true;
		ds_clear(d);
		return 0;
	}
	if (st[0] == '4' || delayed)
		sev = DSN_SOFT;
	if (d->final != NULL)
		addr = ds_address(d->final);
	if (d->original != NULL)
		orig = ds_address(d->original);
	if (addr == NULL && orig != NULL) {
		addr = orig;
		orig = NULL;
	}
	if (addr != NULL) {
		add_rcpt(f, addr, orig, sev, st);
		added = 1;
	} else {
		free(addr);
		free(orig);
	}
	ds_clear(d);
	return added;
}

static void ds_set(char **dst, const char *v, size_t n)
{
	free(*dst);
	*dst = xstrndup(v, n);
	util_trim(*dst);
}

/* Reads delivery-status text (and DSN fields quoted in prose). Returns the
 * number of failed recipients found. */
static size_t ds_parse(struct found *f, const char *s, size_t n,
		       bool *success_r)
{
	struct ds_rcpt d = { 0 };
	size_t pos = 0, added = 0;

	while (pos < n) {
		const char *line = s + pos, *nl = memchr(line, '\n', n - pos);
		size_t len = nl != NULL ? (size_t)(nl - line) : n - pos;
		const char *v;
		size_t vl;

		pos += len + (nl != NULL);
		while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' '))
			len--;
		if (len == 0) {
			if (d.final != NULL || d.original != NULL)
				added += (size_t)ds_flush(f, &d, success_r);
			continue;
		}
		while (len > 0 && (*line == ' ' || *line == '\t') &&
		       d.final == NULL && d.original == NULL)
			line++, len--;
		v = memchr(line, ':', len);
		if (v == NULL)
			continue;
		vl = len - (size_t)(v - line) - 1;
		v++;
#define FIELD(name) ((size_t)(v - 1 - line) == sizeof name - 1 && \
		     strncasecmp(line, name, sizeof name - 1) == 0)
		if (FIELD("Final-Recipient") || FIELD("X-Actual-Recipient")) {
			if (FIELD("X-Actual-Recipient")) {
				if (d.final == NULL)
					ds_set(&d.final, v, vl);
				continue;
			}
			if (d.final != NULL)
				added += (size_t)ds_flush(f, &d, success_r);
			ds_set(&d.final, v, vl);
			d.any = true;
		} else if (FIELD("Original-Recipient")) {
			if (d.original != NULL || d.action != NULL)
				added += (size_t)ds_flush(f, &d, success_r);
			ds_set(&d.original, v, vl);
			d.any = true;
		} else if (FIELD("Action")) {
			ds_set(&d.action, v, vl);
		} else if (FIELD("Status")) {
			ds_set(&d.status, v, vl);
		}
#undef FIELD
	}
	added += (size_t)ds_flush(f, &d, success_r);
	return added;
}

/* ---- the MIME walk ---- */

/* Appends a leaf part's body, transfer-decoded, to out. */
static void part_body(const char *data, const struct mime_part *p,
		      struct buf *out)
{
	mime_part_decode(data, p, out);
	buf_putc(out, '\n');
}

/* HTML to text, roughly: tags become spaces (line breaks for block tags),
 * &lt; &gt; &amp; &#64; decoded. Enough to find addresses. */
static void html_to_text(const char *s, size_t n, struct buf *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '<') {
			const char *gt = memchr(s + i, '>', n - i);
			bool block;

			if (gt == NULL)
				break;
			block = ci_has(s + i, (size_t)(gt - (s + i)), "br") ||
				ci_has(s + i, (size_t)(gt - (s + i)), "p") ||
				ci_has(s + i, (size_t)(gt - (s + i)), "div") ||
				ci_has(s + i, (size_t)(gt - (s + i)), "tr") ||
				ci_has(s + i, (size_t)(gt - (s + i)), "li");
			buf_putc(out, block ? '\n' : ' ');
			i = (size_t)(gt - s);
		} else if (s[i] == '&') {
			static const struct { const char *e; char c; } ents[] = {
				{ "&lt;", '<' }, { "&gt;", '>' },
				{ "&amp;", '&' }, { "&#64;", '@' },
				{ "&nbsp;", ' ' }, { "&quot;", '"' },
			};
			size_t k;

			for (k = 0; k < sizeof ents / sizeof ents[0]; k++) {
				size_t el = strlen(ents[k].e);

				if (n - i >= el &&
				    strncasecmp(s + i, ents[k].e, el) == 0) {
					buf_putc(out, ents[k].c);
					i += el - 1;
					break;
				}
			}
			if (k == sizeof ents / sizeof ents[0])
				buf_putc(out, '&');
		} else {
			buf_putc(out, s[i]);
		}
	}
	buf_putc(out, '\n');
}

/* What the parts of the report hold. The returned message (an attached
 * message/rfc822 or message/global) is not looked into. */
static void walk(struct walk *w, const char *data, const struct mime_tree *t)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		const struct mime_part *p = &t->v[i];
		char type[130];

		if (p->in_message)
			continue;
		snprintf(type, sizeof type, "%s/%s", p->ct.type, p->ct.subtype);
		if (strcmp(type, "multipart/report") == 0) {
			const char *rt = mime_ctype_param(&p->ct,
							  "report-type");

			if (rt != NULL && strcasecmp(rt, "feedback-report") == 0)
				w->feedback = true;
			else if (rt != NULL && ci_has(rt, strlen(rt),
						      "delivery-status"))
				w->report = true;
		}
		if (p->nchildren > 0 || strcmp(p->ct.type, "multipart") == 0)
			continue;
		if (strcmp(type, "message/delivery-status") == 0 ||
		    strcmp(type, "message/global-delivery-status") == 0) {
			part_body(data, p, &w->status);
		} else if (strcmp(type, "message/feedback-report") == 0) {
			w->feedback = true;
		} else if (strcmp(type, "text/plain") == 0 ||
			   strncmp(type, "text/x-", 7) == 0 ||
			   strcmp(type, "text/enriched") == 0) {
			part_body(data, p, &w->text);
		} else if (strcmp(type, "text/html") == 0) {
			struct buf h = BUF_INIT;

			part_body(data, p, &h);
			html_to_text(h.data != NULL ? h.data : "", h.len,
				     &w->html);
			buf_free(&h);
		}
	}
}

/* ---- free-text bounces ---- */

/* Lines that begin the returned message (or its headers) in prose bounces:
 * nothing after them names the failed recipient. */
static const char *const cut_marks[] = {
	"this is a copy of the message", "original message follows",
	"original message --", "below this line is a copy",
	"returned mail follows", "unsent message below",
	"message headers follow", "original message headers",
	"headers of the original message", "header of the original message",
	"the original message is following", "original message header",
	"forwarded message", "returned message follows",
	"copy of the original message", "original message is attached",
	"-- original message", "content-type: message/rfc822",
	"included below", "partial message follows", "message text follows",
	NULL
};

/* Where the prose ends: the first cut mark or a header of the returned
 * message at the start of a line. */
static size_t cut_point(const char *s, size_t n)
{
	size_t pos = 0;

	while (pos < n) {
		const char *line = s + pos, *nl = memchr(line, '\n', n - pos);
		size_t len = nl != NULL ? (size_t)(nl - line) : n - pos;

		if (ci_has_any(line, len, cut_marks))
			return pos;
		if (pos > 0 && ((len > 9 && strncasecmp(line, "Received:", 9) ==
				 0) || (len > 12 && strncasecmp(line,
				 "Return-Path:", 12) == 0) ||
				(len > 11 && strncasecmp(line, "Message-ID:",
				 11) == 0)))
			return pos;
		pos += len + (nl != NULL);
	}
	return n;
}

/* Skips an SMTP reply code and an enhanced status at the start of a line
 * ("550 5.1.1 <a@b>... User unknown", "550-5.1.1 ..."). */
static size_t skip_codes(const char *s, size_t n)
{
	size_t i = 0;
	char st[16];

	if (n >= 4 && (s[0] == '4' || s[0] == '5') && s[1] >= '0' &&
	    s[1] <= '9' && s[2] >= '0' && s[2] <= '9' &&
	    (s[3] == ' ' || s[3] == '-'))
		i = 4;
	if (status_code(s + i, n - i, st))
		i += strlen(st);
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i;
}

/* Addresses that begin a line of the prose: "<a@b>:" (Postfix, qmail),
 * "  a@b" (Exim, Gmail), "a@b on 1/2/2010" (Exchange), "<a@b>... User
 * unknown" (Sendmail). Returns how many were found. */
static size_t prose_lines(struct found *f, const char *s, size_t n,
			  enum dsn_severity sev, const char *st)
{
	size_t pos = 0, added = 0;

	while (pos < n) {
		const char *line = s + pos, *nl = memchr(line, '\n', n - pos);
		size_t len = nl != NULL ? (size_t)(nl - line) : n - pos;
		size_t i = 0, start, end;
		const char *at;
		bool bracket;
		char *a;

		pos += len + (nl != NULL);
		while (i < len && (line[i] == ' ' || line[i] == '\t' ||
				   line[i] == '*' || line[i] == '-' ||
				   line[i] == '>' || line[i] == '\r'))
			i++;
		i += skip_codes(line + i, len - i);
		if (len - i > 8 && strncasecmp(line + i, "RCPT TO:", 8) == 0)
			i += 8;
		while (i < len && line[i] == ' ')
			i++;
		bracket = i < len && line[i] == '<';
		if (bracket)
			i++;
		while (i < len && line[i] == '"')
			i++;
		at = memchr(line + i, '@', len - i);
		if (at == NULL || (size_t)(at - line) > i + ADDR_LOCAL_MAX)
			continue;
		a = address_at_in(line, len, (size_t)(at - line), &start, &end,
				  bracket);
		if (a == NULL || start != i) {
			free(a);
			continue;
		}
		if (end < len && line[end] == '"')
			end++;
		if (bracket) {
			if (end >= len || line[end] != '>') {
				free(a);
				continue;
			}
			end++;
		} else if (end < len && !(line[end] == ':' ||
			   line[end] == ',' || line[end] == ';' ||
			   line[end] == '\r' ||
			   (len - end >= 3 && strncmp(line + end, "...", 3) == 0) ||
			   (len - end >= 2 && strncmp(line + end, " (", 2) == 0) ||
			   (len - end >= 4 && strncmp(line + end, " on ", 4) ==
			    0) || strspn(line + end, " \t\r") == len - end)) {
			free(a);
			continue;
		}
		if (excluded(f, a)) {
			free(a);
			continue;
		}
		add_rcpt(f, a, NULL, sev, st);
		added++;
	}
	return added;
}

/* Phrases after which prose bounces name the recipient on the same or one
 * of the next lines. */
static const char *const rcpt_phrases[] = {
	"rcpt to:", "could not be delivered to", "couldn't be delivered to",
	"following recipient", "following address", "delivery to ",
	"undeliverable to", "failed to deliver to", "recipient:",
	"recipient address:", "was not delivered to", "could not deliver",
	"unable to deliver", "user unknown", "unknown user", "not delivered to",
	"recipients failed", "original-recipient", "final-recipient",
	"no such user", "mailbox", "address rejected", "wasn't delivered to",
	"for <", "to <", "to: ", "user ", "address", "recipient",
	NULL
};

static size_t prose_phrases(struct found *f, const char *s, size_t n,
			    enum dsn_severity sev, const char *st)
{
	size_t k;

	for (k = 0; rcpt_phrases[k] != NULL; k++) {
		size_t pl = strlen(rcpt_phrases[k]), i;

		for (i = 0; i + pl <= n; i++) {
			size_t window, e, from;
			char *a;

			if (strncasecmp(s + i, rcpt_phrases[k], pl) != 0)
				continue;
			/* The rest of this line and the next two. */
			from = i + pl;
			window = from;
			for (e = 0; e < 3 && window < n; e++) {
				const char *nl = memchr(s + window, '\n',
							n - window);

				window = nl != NULL ? (size_t)(nl - s) + 1 : n;
			}
			a = first_address(s + from, window - from, NULL);
			if (a != NULL && !excluded(f, a)) {
				add_rcpt(f, a, NULL, sev, st);
				return 1;
			}
			free(a);
		}
	}
	return 0;
}

static const char *const soft_words[] = {
	"delay", "will retry", "will be retried", "still trying",
	"not yet been delivered", "temporar", "will keep trying",
	"try again later", "warning: could not send", "retry time",
	"is being retried", NULL
};

/* How serious a prose bounce is: the first enhanced status code decides,
 * then words. */
static enum dsn_severity prose_severity(const char *subject, const char *s,
					size_t n, char st[16])
{
	st[0] = '\0';
	if (find_status(s, n, st))
		return st[0] == '4' ? DSN_SOFT : DSN_HARD;
	if (ci_has(s, n, "permanent") || ci_has(s, n, "fatal"))
		return DSN_HARD;
	if ((subject != NULL && ci_has_any(subject, strlen(subject),
					   soft_words)) ||
	    ci_has_any(s, n, soft_words))
		return DSN_SOFT;
	return DSN_HARD;
}

/* ---- the top-level header ---- */

static const char *const bounce_subjects[] = {
	"undeliver", "undelivered", "returned mail", "delivery status",
	"delivery fail", "failure notice", "mail delivery", "delivery has failed",
	"could not be delivered", "non-delivery", "nondeliver", "non delivery",
	"delayed mail", "could not send", "mail system error", "returned to sender",
	"delivery notification", "not delivered", "delivery problem",
	"failed delivery", "delivery report", "mail failure", "bounce",
	"rejected", "warning: message", "delivery error", "unable to deliver",
	"nicht zustellbar", "non remis", "message not delivered",
	"returned message", "failed mail", "mail could not", "mail error",
	"delivery final", "problem with your mail", NULL
};

static const char *const bounce_senders[] = {
	"mailer-daemon", "mailer_daemon", "mailerdaemon", "postmaster",
	"mail delivery", "mail administrator", "mailadmin", "mmdf",
	"deliver", "bounce", "smtp", "mail system", NULL
};

static const char *const autoreply_subjects[] = {
	"out of office", "out of the office", "auto reply", "auto-reply",
	"autoreply", "automatic reply", "auto response", "auto-response",
	"autoresponse", "automatische antwort", "abwesenheit", "vacation",
	"away from", "on leave", "r\xc3\xa9ponse automatique", "autosvar",
	"respuesta autom", "risposta automatica", NULL
};

static bool header_has(const struct msg *m, const char *name,
		       const char *needle)
{
	char *v = msg_header_unfolded(m, name);
	bool yes = v != NULL && (needle == NULL ||
				 ci_has(v, strlen(v), needle));

	free(v);
	return yes;
}

static bool looks_autoreply(const struct msg *m, const char *subject,
			    bool *strong_r)
{
	*strong_r = header_has(m, "X-Autoreply", NULL) ||
		    header_has(m, "X-Autorespond", NULL) ||
		    header_has(m, "X-Autoresponder", NULL) ||
		    header_has(m, "Precedence", "auto_reply") ||
		    header_has(m, "X-Auto-Response-Suppress", "oof") ||
		    (subject != NULL && ci_has_any(subject, strlen(subject),
						   autoreply_subjects));
	return *strong_r || header_has(m, "Auto-Submitted", "auto-replied");
}

/* Whether the header says "bounce". The empty Return-Path only counts
 * with `null_sender` (auto-replies are sent with one too). */
static bool looks_bounce(const struct msg *m, const char *subject,
			 const char *from, bool null_sender)
{
	char *rp;
	bool empty_rp = false;

	if (header_has(m, "X-Failed-Recipients", NULL))
		return true;
	rp = msg_header_unfolded(m, "Return-Path");
	if (rp != NULL && strcmp(rp, "<>") == 0)
		empty_rp = true;
	free(rp);
	if (empty_rp && null_sender)
		return true;
	if (subject != NULL && ci_has_any(subject, strlen(subject),
					  bounce_subjects))
		return true;
	if (from != NULL && ci_has_any(from, strlen(from), bounce_senders))
		return true;
	return false;
}

/* X-Failed-Recipients (Exim): a comma-separated list. */
static size_t failed_recipients(struct found *f, const struct msg *m,
				enum dsn_severity sev, const char *st)
{
	char *v = msg_header_unfolded(m, "X-Failed-Recipients");
	size_t i, n, added = 0;

	if (v == NULL)
		return 0;
	n = strlen(v);
	for (i = 0; i < n; i++) {
		size_t e;

		if (v[i] == '@') {
			char *a = address_at_in(v, n, i, NULL, &e, true);

			if (a != NULL && !excluded(f, a)) {
				add_rcpt(f, a, NULL, sev, st);
				added++;
			} else {
				free(a);
			}
		}
	}
	free(v);
	return added;
}

/* Amazon SES notifications: JSON with "bouncedRecipients" holding
 * "emailAddress" members. */
static bool ses_json(struct found *f, const char *s, size_t n)
{
	static const char key[] = "\"emailAddress\"";
	size_t i;
	bool permanent = ci_has(s, n, "\"bounceType\":\"Permanent\"");

	if (!ci_has(s, n, "\"notificationType\":\"Bounce\""))
		return false;
	for (i = 0; i + sizeof key - 1 < n; i++) {
		if (strncmp(s + i, key, sizeof key - 1) == 0) {
			size_t e, lim = i + 300 < n ? i + 300 : n;
			char *a = first_address(s + i + sizeof key - 1,
						lim - i - (sizeof key - 1),
						&e);

			add_rcpt(f, a, NULL, permanent ? DSN_HARD : DSN_SOFT,
				 "");
		}
	}
	return true;
}

/* ---- the whole ---- */

void dsn_parse(const char *raw, size_t len, const struct dsn_limits *limits,
	       struct dsn_report *r)
{
	const struct dsn_limits *lim = limits != NULL ? limits :
				       &dsn_default_limits;
	struct msg_limits ml = { .max_header_bytes = lim->max_header_bytes,
				 .max_headers = lim->max_headers };
	struct mime_limits mlim = { .max_depth = lim->max_depth,
				    .max_parts = lim->max_parts,
				    .max_header_bytes = lim->max_header_bytes,
				    .max_headers = lim->max_headers };
	struct msg m = { 0 };
	struct walk w = { .lim = lim };
	struct buf lf = BUF_INIT;
	struct mime_tree tree = { 0 };
	char *subject = NULL, *from = NULL, *fromfield = NULL;
	const char *exclude[2] = { NULL, NULL };
	struct found f = { .r = r, .lim = lim, .exclude = exclude };
	bool success = false, strong, autoreply;
	size_t cut;
	const char *text;
	size_t textlen;

	memset(r, 0, sizeof *r);
	if (len > lim->max_bytes)
		len = lim->max_bytes;
	if (msg_parse(&m, raw, len, &ml, NULL) != MSG_OK)
		goto out;
	subject = msg_header_decoded(&m, "Subject");
	fromfield = msg_header_unfolded(&m, "From");
	from = msg_first_address(&m, "From", NULL);
	/* The reporting daemon is never the failed recipient. */
	exclude[0] = from;
	msg_write(&m, &lf);
	/* A report past the MIME limits is read as far as the walk got. */
	(void)mime_walk(buf_cstr(&lf), lf.len, &mlim, &tree);
	walk(&w, buf_cstr(&lf), &tree);

	if (w.feedback) {
		r->kind = DSN_FEEDBACK;
		goto out;
	}
	/* RFC 3464 fields: from the delivery-status part, or quoted in the
	 * text by MTAs that send prose only. */
	if (w.status.len > 0 &&
	    ds_parse(&f, w.status.data, w.status.len, &success) > 0) {
		r->kind = DSN_BOUNCE;
		r->structured = true;
		goto out;
	}
	if (success && r->n == 0) {
		r->kind = DSN_NONE;
		goto out;
	}
	if (w.text.len > 0 && ses_json(&f, w.text.data, w.text.len)) {
		r->kind = DSN_BOUNCE;
		goto out;
	}
	autoreply = looks_autoreply(&m, subject, &strong);
	if (strong || (autoreply && !looks_bounce(&m, subject, fromfield, false) &&
		       !w.report)) {
		r->kind = DSN_AUTOREPLY;
		goto out;
	}
	if (!w.report && w.status.len == 0 &&
	    !looks_bounce(&m, subject, fromfield, true))
		goto out;
	r->kind = DSN_BOUNCE;
	text = w.text.len > 0 ? w.text.data : (w.html.len > 0 ? w.html.data :
					       "");
	textlen = w.text.len > 0 ? w.text.len : w.html.len;
	cut = cut_point(text, textlen);
	{
		char st[16];
		enum dsn_severity sev = prose_severity(subject, text, cut, st);

		if (failed_recipients(&f, &m, sev, st) > 0)
			goto out;
		if (ds_parse(&f, text, cut, &success) > 0)
			goto out;
		if (prose_lines(&f, text, cut, sev, st) > 0)
			goto out;
		if (prose_phrases(&f, text, cut, sev, st) > 0)
			goto out;
		/* Some put the report after the returned headers. */
		(void)prose_phrases(&f, text, textlen, sev, st);
	}
out:
	mime_tree_free(&tree);
	buf_free(&lf);
	buf_free(&w.status);
	buf_free(&w.text);
	buf_free(&w.html);
	free(subject);
	free(from);
	free(fromfield);
	msg_free(&m);
}
