/* notice - the one way convene sends mail it writes itself or passes on:
 * a template rendered with the list's placeholders and the caller's,
 * composed into a message (mail/compose.h), and queued as a direct
 * delivery job, inside the caller's transaction. Every notice, answer,
 * confirmation, probe and owner forward goes through here. */
#ifndef CONVENE_NOTICE_H
#define CONVENE_NOTICE_H

#include <stddef.h>
#include <time.h>

#include "base/template.h"

struct buf;
struct compose_image;
struct compose_part;
struct conf;
struct conf_list;
struct msg;
struct store;

/* The placeholders of one notice: the list's (template_list_vars), then
 * those the caller sets. At most NOTICE_VARS_MAX in all (more are ignored:
 * a programmer's error that the unit tests catch). */
#define NOTICE_VARS_MAX (TEMPLATE_LIST_VARS + 48)

struct notice_vars {
	struct template_var v[NOTICE_VARS_MAX];
	size_t n;
	char **storage;                 /* the list's values */
	char *owned[NOTICE_VARS_MAX];   /* values notice_vars_own took */
	size_t nowned;
};

/* Fills v with the placeholders of list l. Free with notice_vars_free. */
void notice_vars_init(struct notice_vars *v, const struct conf *c,
		      const struct conf_list *l);
/* Sets placeholder `name` to value (NULL: ""), replacing an earlier value
 * of that name. Both strings are borrowed: they must outlive v's use. */
void notice_vars_set(struct notice_vars *v, const char *name,
		     const char *value);
/* The same, but v takes `value` (newly allocated; NULL: "") and frees it. */
void notice_vars_own(struct notice_vars *v, const char *name, char *value);
/* Untrusted text for a one-line place (a Subject, a list line), owned by
 * v: control bytes become spaces, cut at 200 bytes on a character
 * boundary. */
void notice_vars_oneline(struct notice_vars *v, const char *name,
			 const char *value);
/* A time as "YYYY-MM-DD HH:MM UTC", owned by v. */
void notice_vars_time(struct notice_vars *v, const char *name, time_t t);
void notice_vars_free(struct notice_vars *v);

/* How a notice is sent; every field may be left 0. */
struct notice {
	const char *from;           /* header From; NULL: LIST-owner@DOMAIN */
	const char *to;             /* header To; NULL: the recipients */
	const char *reply_to;
	const char *in_reply_to;    /* Message-ID answered (no brackets) */
	const char *auto_submitted; /* NULL: "auto-generated" */
	const char *env_from;       /* envelope; NULL: LIST-bounces@DOMAIN */
	const char *attach;         /* a message attached as message/rfc822 */
	size_t attach_len;
	const struct compose_part *parts;   /* more attached messages */
	size_t nparts;
	/* An HTML version with its images (see struct compose). */
	const char *html;
	const struct compose_image *images;
	size_t nimages;
	/* The message this notice answers and its sender, when it answers
	 * one: nothing is sent when robot_reason() says a robot wrote it. */
	const struct msg *answers;
	const char *answers_sender;
	/* The recipients are addresses convene did not choose (a poster, the
	 * sender of a command): each goes through the one answer rate limit
	 * (notice_rate_take) and is left out past it, and so is one that is
	 * not a valid address or has an address literal for its domain. */
	bool limited;
};

/* Appends the line "key: text" of template `name` (rendered with v, and
 * every other placeholder name set to "") to
 * out as "text" and a newline (the one space after the colon dropped;
 * more spaces indent the line). Returns 0, or -1 (logged, "[key]"
 * appended) when the template cannot be rendered or has no such line: the
 * caller decides whether the answer may leave like that. */
int notice_line(const struct conf *c, const struct conf_list *l,
		 const char *name, const char *key,
		 const struct notice_vars *v, struct buf *out);
/* The same for text that goes into a message: a line of running text (not
 * indented) is wrapped at TEMPLATE_WIDTH now that its placeholders are
 * filled, as template_render_message does; an indented line is kept. */
int notice_line_wrapped(const struct conf *c, const struct conf_list *l,
			const char *name, const char *key,
			const struct notice_vars *v, struct buf *out);

/* Renders template `name` with v, composes it as `how` says and queues it
 * to rcpts[0..n-1] as a direct job of l, part of the caller's transaction.
 * Nothing is sent (and 0 returned) when n is 0 or when the message answered
 * is a robot's; with how->limited, a recipient past the rate limit is left
 * out. Returns -1 on a store failure (the store's error says why)
 * and when the template cannot be rendered (logged): the caller rolls back,
 * so that the mail that caused the notice stays with the MTA (or the
 * worker's job waits) until the admin fixes the template. */
int notice_send(struct store *s, const struct conf *c,
		const struct conf_list *l, const char *name,
		const struct notice_vars *v, const struct notice *how,
		const char *const *rcpts, size_t n);

/* The one rate limit on mail to addresses convene did not choose: at most
 * answer_rate_limit's N messages to an address in its window, counted
 * over every list, the variants of an address that reach one mailbox
 * counting as one (addr_rate_key). *allowed_r true: one more may go now
 * (and is counted); false: none (logged). Part of the caller's
 * transaction. 0, or -1 on a store failure. */
int notice_rate_take(struct store *s, const struct conf *c,
		     const struct conf_list *l, const char *address,
		     bool *allowed_r);

/* Queues len bytes of a whole message (LF line ends) to rcpts[0..n-1] as a
 * direct job of l from env_from (NULL: LIST-bounces@DOMAIN), part of the
 * caller's transaction. 0, or -1 on a store failure. */
int notice_queue(struct store *s, const struct conf *c,
		 const struct conf_list *l, const char *env_from,
		 const char *const *rcpts, size_t n, const char *data,
		 size_t len);

#endif
