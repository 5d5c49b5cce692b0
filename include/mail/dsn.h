/* dsn - what a message arriving at a bounce address reports
 *
 * Reads RFC 3464 delivery status notifications (multipart/report;
 * report-type=delivery-status, also message/global-delivery-status) and
 * the common free-text bounce formats (Postfix, Exim, qmail, Sendmail,
 * Exchange, Gmail, Yahoo, "could not be delivered to" prose), and tells
 * auto-replies (RFC 3834, vacation notices) and ARF feedback reports apart
 * from bounces. Pure parsing: no database, no configuration. The MIME
 * structure comes from the one MIME walk (mime.h) with the limits given. */
#ifndef CONVENE_DSN_H
#define CONVENE_DSN_H

#include <stdbool.h>
#include <stddef.h>

enum dsn_kind {
	DSN_NONE,        /* not a report of a failed delivery (also success
			    DSNs: Action delivered, relayed, expanded) */
	DSN_BOUNCE,      /* a failure or delay report; see the recipients */
	DSN_AUTOREPLY,   /* out-of-office, vacation, other auto-replies */
	DSN_FEEDBACK,    /* an ARF feedback (abuse) report */
};

enum dsn_severity {
	DSN_HARD,        /* 5.x.x, or a permanent failure in prose */
	DSN_SOFT,        /* 4.x.x, Action: delayed, "will keep trying" */
};

struct dsn_rcpt {
	char *address;   /* Final-Recipient (or the address the prose names),
			    domain lower-cased */
	char *original;  /* Original-Recipient, or NULL */
	enum dsn_severity severity;
	char status[16]; /* "5.1.1", or "" when none was given */
};

struct dsn_report {
	enum dsn_kind kind;
	bool structured; /* the recipients came from a delivery-status part */
	struct dsn_rcpt *v;
	size_t n;
};

struct dsn_limits {
	size_t max_bytes;   /* larger input is read only this far */
	size_t max_depth;   /* MIME nesting walked */
	size_t max_parts;   /* MIME parts walked */
	size_t max_rcpts;   /* recipients reported */
	size_t max_header_bytes; /* a header block */
	size_t max_headers;      /* fields in a header block */
};

/* The limits used when NULL is given: 10 MB, depth 20, 1000 parts, 100
 * recipients, 512 KB and 1,000 fields per header. */
extern const struct dsn_limits dsn_default_limits;

/* Reads the message raw[0..len) (any line ends) into *r, which the caller
 * frees with dsn_report_free. Never fails: input that cannot be parsed
 * gives DSN_NONE. A DSN_BOUNCE report may have no recipient (it looks like
 * a bounce but names nobody). */
void dsn_parse(const char *raw, size_t len, const struct dsn_limits *limits,
	       struct dsn_report *r);
void dsn_report_free(struct dsn_report *r);

const char *dsn_kind_name(enum dsn_kind k);
const char *dsn_severity_name(enum dsn_severity s);

#endif
