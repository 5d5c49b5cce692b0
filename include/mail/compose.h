/* compose - messages convene writes itself: notices, answers, confirmations
 *
 * A template file for a message starts with header lines (at least
 * "Subject: ..."), then a blank line, then the body; both may use the
 * template's placeholders. The result is a complete RFC 5322 message with
 * Date, Message-ID, MIME headers and Auto-Submitted, ready for a JOB_DIRECT
 * delivery job. */
#ifndef CONVENE_COMPOSE_H
#define CONVENE_COMPOSE_H

#include <stddef.h>

struct buf;
struct conf;
struct conf_list;
struct template_var;

/* An image shown in the HTML part, referred to there as "cid:CID". */
struct compose_image {
	const char *cid;           /* its Content-ID without brackets */
	const char *type;          /* e.g. "image/png" */
	const char *data;
	size_t len;
};

/* A message attached as message/rfc822. */
struct compose_part {
	const char *data;
	size_t len;
};

struct compose {
	const char *from;          /* header value, e.g. "makers-request@x" */
	const char *to;            /* header value */
	const char *reply_to;      /* may be NULL */
	const char *in_reply_to;   /* a Message-ID without brackets, or NULL */
	const char *auto_submitted;/* "auto-replied" (answers) or
				      "auto-generated" (notices); NULL: the
				      latter */
	const char *attach;        /* a message to attach as message/rfc822,
				      or NULL */
	size_t attach_len;
	const struct compose_part *parts;  /* more messages attached after
					      it, in order (may be NULL) */
	size_t nparts;
	/* An HTML version of the body (UTF-8, LF line ends): the body is
	 * then a multipart/alternative of the text and a multipart/related
	 * of this HTML and the images (base64). Not with attach or parts. */
	const char *html;
	const struct compose_image *images;
	size_t nimages;
	const char *message_id;    /* without brackets; NULL: a new one */
	/* iCalendar text (LF line ends) sent beside the text as an iMIP
	 * message (RFC 6047): the body is then a multipart/alternative of the
	 * text and a text/calendar part with this METHOD ("REQUEST",
	 * "CANCEL", "PUBLISH"), unencoded so that its lines stay as they
	 * are (7bit, or 8bit when it is not ASCII). Not with attach. */
	const char *calendar;
	const char *calendar_method;
};

/* Renders template `name` for list l with vars and builds the message into
 * out. Returns 0, or -1 with *error_r (newly allocated). */
int compose_from_template(const struct conf *c, const struct conf_list *l,
			  const char *name, const struct template_var *vars,
			  size_t nvars, const struct compose *how,
			  struct buf *out, char **error_r);

/* The Subject a message template renders to (its "Subject:" header
 * line, trimmed): 0 and *subject_r (newly allocated), or -1 with *error_r
 * (newly allocated). */
int compose_subject(const struct conf *c, const struct conf_list *l,
		    const char *name, const struct template_var *vars,
		    size_t nvars, char **subject_r, char **error_r);

/* Builds a message from a subject and a body (both UTF-8). */
void compose_message(const struct conf *c, const struct compose *how,
		     const char *subject, const char *body, struct buf *out);

/* Appends UTF-8 text (LF line ends) as quoted-printable: readable for ASCII,
 * safe for any byte, lines at most 76 characters. */
void compose_qp(const char *text, struct buf *out);

#endif
