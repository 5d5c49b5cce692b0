/* receive - classify one message, hand it to its module, commit */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pipeline/receive.h"
#include "base/addr.h"
#include "base/buf.h"
#include "base/conf.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "mail/mime.h"
#include "mail/msg.h"
#include "mail/reply.h"
#include "pipeline/bounce.h"
#include "pipeline/commands.h"
#include "pipeline/meeting.h"
#include "pipeline/moderation.h"
#include "pipeline/notice.h"
#include "pipeline/poll.h"
#include "pipeline/post.h"
#include "pipeline/posting.h"
#include "store/store.h"
#include "store/store_holds.h"

static bool list_known(const char *name, void *ctx)
{
	return conf_find_list(ctx, name) != NULL;
}

/* A post to NAME@: the posting policy decides; accepted posts are archived
 * and queued, held ones go to moderation. */
static enum status handle_post(struct store *s, struct incoming *in,
			       enum incoming_outcome *outcome_r)
{
	const struct conf_list *l = in->list;
	const char *reason = NULL;
	enum posting_decision d;
	int64_t message, archive, job, hold;
	enum status st;
	bool dup;

	/* A message the MTA hands over twice (it never saw our exit status)
	 * is archived once, and held once. */
	if (store_archive_has(s, l->name, in->message_id, &dup) < 0)
		return incoming_store_failure(s, in, "duplicate check");
	*outcome_r = INCOMING_DROPPED;
	if (dup) {
		log_info("list=%s message-id=<%s> from=<%s>: dropped: "
			 "duplicate of an archived post", l->name, in->logid,
			 in->logfrom);
		return ST_OK;
	}
	if (store_holds_has(s, l->name, in->message_id, &dup) < 0)
		return incoming_store_failure(s, in, "duplicate check");
	if (dup) {
		log_info("list=%s message-id=<%s> from=<%s>: dropped: "
			 "duplicate of a held post", l->name, in->logid,
			 in->logfrom);
		return ST_OK;
	}
	/* A leader's "minutes" in a meeting's thread. */
	if (meeting_minutes_post(s, in, &st, outcome_r))
		return st;
	if (posting_decide(s, in, &d, &reason) < 0)
		return incoming_store_failure(s, in, "posting policy");
	switch (d) {
	case POSTING_REJECT:
		if (moderation_reject(s, in, reason) < 0)
			return incoming_store_failure(s, in, "reject");
		return ST_OK;
	case POSTING_DROP:
		if (store_event_add(s, l->name, "post.dropped", in->sender, 0,
				    reason) < 0)
			return incoming_store_failure(s, in, "log event");
		log_info("list=%s message-id=<%s> from=<%s>: dropped: %s",
			 l->name, in->logid, in->logfrom, reason);
		return ST_OK;
	case POSTING_HOLD:
	case POSTING_ACCEPT:
		break;
	}
	if (store_message_add(s, in->raw, in->len, &message) < 0)
		return incoming_store_failure(s, in, "store message");
	if (d == POSTING_HOLD) {
		if (moderation_hold(s, in, message, reason, &hold) < 0)
			return incoming_store_failure(s, in, "hold");
		*outcome_r = INCOMING_HELD;
		return ST_OK;
	}
	if (post_accept(s, in, message, &archive, &job) < 0)
		return incoming_store_failure(s, in, "archive and queue");
	log_info("list=%s message-id=<%s> from=<%s>: accepted: archived as "
		 "%lld, queued as job %lld", l->name, in->logid, in->logfrom,
		 (long long)archive, (long long)job);
	*outcome_r = INCOMING_ACCEPTED;
	return ST_OK;
}

/* Whether the message already went through NAME-owner@ (our X-Loop). */
static bool owner_loop(const struct incoming *in, const char *owner)
{
	size_t i;

	for (i = 0; i < in->m.nfields; i++) {
		const struct msg_field *f = &in->m.fields[i];

		if (!f->deleted && strcasecmp(f->name, "X-Loop") == 0 &&
		    strcasestr(f->value, owner) != NULL)
			return true;
	}
	return false;
}

/* Owner mail goes to the sponsors and leaders as it is, with a loop mark. */
static enum status handle_owner(struct store *s, struct incoming *in,
				enum incoming_outcome *outcome_r)
{
	const struct conf *c = in->c;
	const struct conf_list *l = in->list;
	char *owner = xasprintf("%s-owner@%s", l->name, c->domain);
	const char **rcpts = NULL;
	size_t n = 0;
	struct buf out = BUF_INIT;
	enum status st = ST_OK;

	*outcome_r = INCOMING_DROPPED;
	if (owner_loop(in, owner)) {
		log_info("list=%s message-id=<%s> from=<%s>: dropped: owner "
			 "mail loop", l->name, in->logid, in->logfrom);
		goto out;
	}
	rcpts = conf_list_roles(l, CONF_SPONSORS | CONF_LEADERS, &n);
	msg_field_prepend(&in->m, "X-Loop", owner);
	msg_write(&in->m, &out);
	if (notice_queue(s, c, l, NULL, rcpts, n, out.data, out.len) < 0 ||
	    store_event_add(s, l->name, "owner.forwarded", in->sender, 0,
			    in->message_id) < 0) {
		st = incoming_store_failure(s, in, "queue owner mail");
		goto out;
	}
	log_info("list=%s message-id=<%s> from=<%s>: forwarded to %zu "
		 "owner%s", l->name, in->logid, in->logfrom, n,
		 n == 1 ? "" : "s");
	*outcome_r = INCOMING_FORWARDED;
out:
	buf_free(&out);
	free(rcpts);
	free(owner);
	return st;
}

/* A reply to NAME-confirm+TOKEN: the token says what it confirms. */
static enum status handle_confirm(struct store *s, struct incoming *in,
				  enum incoming_outcome *outcome_r)
{
	enum status st;
	bool mine = false;

	st = moderation_confirm(s, in, &mine, outcome_r);
	if (st == ST_OK && !mine)
		st = commands_confirm(s, in, &mine, outcome_r);
	if (st == ST_OK && !mine)
		st = bounce_confirm(s, in, &mine, outcome_r);
	if (st != ST_OK || mine)
		return st;
	log_info("list=%s message-id=<%s> from=<%s>: dropped: unknown or "
		 "used confirmation token", in->list->name, in->logid,
		 in->logfrom);
	*outcome_r = INCOMING_DROPPED;
	return ST_OK;
}

enum status receive_stage(struct store *s, struct incoming *in,
			  enum incoming_outcome *outcome_r)
{
	*outcome_r = INCOMING_REFUSED;
	switch (in->route.kind) {
	case ADDR_POST:
		return handle_post(s, in, outcome_r);
	case ADDR_OWNER:
		return handle_owner(s, in, outcome_r);
	case ADDR_CONFIRM:
		return handle_confirm(s, in, outcome_r);
	case ADDR_BOUNCES:
		return bounce_handle(s, in, outcome_r);
	case ADDR_REQUEST:
	case ADDR_SUBSCRIBE:
	case ADDR_UNSUBSCRIBE:
		return commands_handle(s, in, outcome_r);
	case ADDR_VOTE:
		return poll_vote_handle(s, in, outcome_r);
	case ADDR_RSVP:
		return meeting_rsvp_handle(s, in, outcome_r);
	}
	return ST_SOFTWARE;
}

/* The address the MTA delivered to, when it did not say on the command line:
 * Delivered-To (Postfix, Exim) or X-Original-To. */
static char *recipient_from_headers(const struct msg *m)
{
	static const char *const names[] = { "Delivered-To", "X-Original-To" };
	size_t i;

	for (i = 0; i < 2; i++) {
		char *v = msg_header_unfolded(m, names[i]);

		if (v != NULL && *v != '\0')
			return v;
		free(v);
	}
	return NULL;
}

/* The one MIME walk, before anything else reads the message: past a limit
 * it is refused the same way at every address. Then what the person wrote
 * is read, before any transaction opens (a parse inside one would keep
 * every other receive waiting). */
static enum status read_structure(const struct conf *c, struct incoming *in)
{
	struct mime_limits lim;
	struct mime_tree tree = { 0 };
	enum mime_result mr;

	mime_limits_from_conf(&lim, c);
	mr = mime_walk(in->raw, in->len, &lim, &tree);
	mime_tree_free(&tree);
	if (mr != MIME_OK) {
		log_info("list=%s: refused: %s", in->list->name,
			 mime_result_str(mr));
		return ST_DATAERR;
	}
	incoming_identify(in);
	in->text = reply_text(in->raw, in->len, &lim);
	in->text_of = in->raw;
	/* A meeting's .ics, or a calendar's answer to an invitation. */
	if (in->route.kind == ADDR_REQUEST || in->route.kind == ADDR_RSVP)
		in->calendar = reply_calendar(in->raw, in->len, &lim);
	return ST_OK;
}

static void log_unknown(const char *recipient)
{
	char safe[160];

	log_info("recipient=<%s>: refused: no such list",
		 log_sanitize(safe, sizeof safe, recipient, strlen(recipient)));
}

enum status receive_recipient(const struct conf *c, const char *recipient)
{
	struct addr_route route;

	if (addr_route(recipient, c->domain, list_known, (void *)c,
		       &route) < 0) {
		log_unknown(recipient);
		return ST_NOUSER;
	}
	addr_route_free(&route);
	return ST_OK;
}

enum status receive_prepare(const struct conf *c, const char *recipient,
			    const char *raw, size_t len, struct incoming *in)
{
	struct msg_limits limits;
	enum msg_parse_result pr;
	char *rcpt = NULL;
	enum status st = ST_OK;

	memset(in, 0, sizeof *in);
	in->c = c;
	in->raw = raw;
	in->len = len;
	incoming_limits(c, &limits);
	pr = msg_parse(&in->m, raw, len, &limits, NULL);
	if (recipient == NULL && pr == MSG_OK)
		recipient = rcpt = recipient_from_headers(&in->m);
	if (recipient == NULL) {
		/* A wiring mistake, not a wrong address: the MTA keeps the
		 * mail until the wiring is fixed. */
		log_error("no recipient: give --recipient or a Delivered-To "
			  "field; left with the MTA to retry");
		st = ST_TEMPFAIL;
	} else if (addr_route(recipient, c->domain, list_known, (void *)c,
			      &in->route) < 0) {
		log_unknown(recipient);
		st = ST_NOUSER;
	} else {
		in->list = conf_find_list(c, in->route.list);
		if (pr != MSG_OK) {
			log_info("list=%s: refused: %s", in->list->name,
				 msg_parse_result_str(pr));
			st = ST_DATAERR;
		} else {
			st = read_structure(c, in);
		}
	}
	free(rcpt);
	if (st != ST_OK)
		incoming_free(in);
	return st;
}

enum status receive_message(const struct conf *c, const char *recipient,
			    const char *raw, size_t len,
			    enum incoming_outcome *outcome_r)
{
	struct incoming in;
	struct store *s;
	char *err = NULL;
	bool transient;
	enum status st;

	*outcome_r = INCOMING_REFUSED;
	st = receive_prepare(c, recipient, raw, len, &in);
	if (st != ST_OK)
		return st;
	s = store_open(c->database, c->busy_timeout_ms, &err, &transient);
	if (s == NULL) {
		log_error("list=%s message-id=<%s>: %s; left with the MTA to "
			  "retry", in.list->name, in.logid, err);
		free(err);
		incoming_free(&in);
		return ST_TEMPFAIL;
	}
	/* One message and out: the worker checkpoints (store.h). */
	if (store_leave_checkpoints(s) < 0 || store_begin(s) < 0)
		st = incoming_store_failure(s, &in, "begin");
	else
		st = receive_stage(s, &in, outcome_r);
	if (st == ST_OK && store_commit(s) < 0)
		st = incoming_store_failure(s, &in, "commit");
	else if (st == ST_OK && store_wal_tidy(s) < 0)
		log_warn("checkpoint: %s", store_error(s));
	if (st != ST_OK) {
		store_rollback(s);
		store_forget_failed_commit(s);
		*outcome_r = INCOMING_REFUSED;
		store_close(&s);
	} else {
		/* The process ends now: the exit closes the connection. */
		store_close_at_exit(&s);
	}
	incoming_free(&in);
	return st;
}
