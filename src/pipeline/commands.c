/* commands - NAME-request, NAME-subscribe, NAME-unsubscribe */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "pipeline/commands.h"
#include "base/addr.h"
#include "base/buf.h"
#include "base/conf.h"
#include "pipeline/incoming.h"
#include "base/log.h"
#include "mail/msg.h"
#include "mail/reply.h"
#include "mail/request.h"
#include "mail/robot.h"
#include "pipeline/meeting.h"
#include "pipeline/notice.h"
#include "pipeline/poll.h"
#include "pipeline/report.h"
#include "pipeline/retrieve.h"
#include "store/store.h"
#include "store/store_subs.h"
#include "base/template.h"
#include "base/util.h"
#include "base/xalloc.h"

/* `who` lists at most this many addresses. */
#define WHO_MAX 5000

/* ---- template variables ---- */

/* Every name a subscription template may use is always set ("" unless
 * given), so that any of them renders in any template. */
static const char *const extra_names[] = {
	"address", "name", "mode", "token", "confirm_address", "expires",
	"request_id", "results", "count", "members", "policy", "subscription",
	"reason", "sender",
	/* of the report's acts and polls (report.c, poll.c) */
	"id", "subject", "date", "query", "poll_id", "question", "closes",
	"vote_address",
	/* of meetings (the answers to leaders' meeting commands) */
	"meeting_id", "title", "when", "duration", "where", "url", "agenda",
	"capacity", "repeat", "rsvp_address", "organizer", "going", "waiting",
	"maybe", "declined", "unanswered", "attendees", "position", "lead",
	NULL
};

static void tv_init(struct notice_vars *t, const struct conf *c,
		    const struct conf_list *l)
{
	size_t i;

	notice_vars_init(t, c, l);
	for (i = 0; extra_names[i] != NULL; i++)
		notice_vars_set(t, extra_names[i], "");
	notice_vars_set(t, "policy", conf_policy_name(l->policy));
	notice_vars_set(t, "subscription",
			conf_subscription_name(l->subscription));
}

static void format_time(time_t when, char *dst, size_t size)
{
	struct tm tm;

	gmtime_r(&when, &tm);
	if (strftime(dst, size, "%a, %d %b %Y %H:%M UTC", &tm) == 0)
		snprintf(dst, size, "%lld", (long long)when);
}

/* ---- what convene sends ---- */

struct ctx {
	struct store *s;
	const struct conf *c;
	const struct conf_list *l;
	const char *in_reply_to;   /* Message-ID answered, or NULL */
	const struct incoming *in; /* the mail answered; NULL for the CLI */
	bool broken;               /* a template could not be rendered */
};

/* An address that may go into a header and an envelope as it is. */
static bool sendable(const char *a)
{
	const char *p, *at;

	if (a == NULL || (at = strrchr(a, '@')) == NULL ||
	    strlen(a) > ADDR_MAX)
		return false;
	/* never an address literal: see notice.h */
	if (at[1] == '[')
		return false;
	for (p = a; *p; p++)
		if ((unsigned char)*p <= 32 || (unsigned char)*p >= 127 ||
		    strchr("<>,;\\", *p) != NULL)
			return false;
	return true;
}

/* Queues template `name` to rcpt (never to a robot: see notice.h).
 * Returns -1 for a store failure, and for a template that cannot be
 * rendered (this one, or one that went into t: x->broken): the caller rolls
 * back, so the message stays with the MTA until the admin fixes the
 * template, and nothing is lost. */
static int send_tpl_parts(struct ctx *x, const char *name, const char *rcpt,
			  const char *reply_to, const char *auto_submitted,
			  const struct notice_vars *t,
			  const struct compose_part *parts, size_t nparts)
{
	char *from = xasprintf("%s-request@%s", x->l->name, x->c->domain);
	struct notice how = {
		.from = from, .to = rcpt, .reply_to = reply_to,
		.in_reply_to = x->in_reply_to,
		.auto_submitted = auto_submitted,
		.answers = x->in != NULL ? &x->in->m : NULL,
		.answers_sender = x->in != NULL ? x->in->sender : NULL,
		.parts = parts, .nparts = nparts,
	};
	int rc = -1;

	if (!x->broken)
		rc = notice_send(x->s, x->c, x->l, name, t, &how, &rcpt, 1);
	free(from);
	return rc;
}

static int send_tpl(struct ctx *x, const char *name, const char *rcpt,
		    const char *reply_to, const char *auto_submitted,
		    const struct notice_vars *t)
{
	return send_tpl_parts(x, name, rcpt, reply_to, auto_submitted, t,
			      NULL, 0);
}

/* The one rate limit (notice_rate_take): 1 when rcpt may get one more
 * message now (and it is counted), 0 when not, -1 for a store failure. */
static int rate_ok(struct ctx *x, const char *rcpt)
{
	bool allowed;

	if (notice_rate_take(x->s, x->c, x->l, rcpt, &allowed) < 0)
		return -1;
	return allowed ? 1 : 0;
}

/* The body of a message template (its header lines dropped), newly
 * allocated; NULL (logged, x->broken set) when it cannot be rendered. */
static char *template_body(struct ctx *x, const char *name,
			   const struct notice_vars *t)
{
	char *text = NULL, *err = NULL, *p, *body;

	if (template_render_message(x->c, x->l, name, t->v, t->n,
				    TEMPLATE_WIDTH, &text, &err) < 0) {
		log_error("list=%s: %s", x->l->name, err);
		free(err);
		x->broken = true;
		return NULL;
	}
	p = strstr(text, "\n\n");
	body = xstrdup(p != NULL ? p + 2 : text);
	free(text);
	return body;
}

/* Appends phrase `key` of the answer-lines template (a line "key: text")
 * to out; sets x->broken when it cannot. */
static void phrase(struct ctx *x, const char *key, const struct notice_vars *t,
		   struct buf *out)
{
	if (notice_line_wrapped(x->c, x->l, "answer-lines", key, t, out) < 0)
		x->broken = true;
}

/* ---- requests ---- */

/* Starts a request and sends its confirmation (subscribe, unsubscribe,
 * invite, set) to the address concerned. *sent_r: whether it went out (the
 * rate limit, when `limited`, may stop it: then nothing is recorded). */
static int start_request(struct ctx *x, enum store_sub_kind kind,
			 const char *address, const char *name,
			 enum store_mode mode, bool limited, bool *sent_r,
			 struct notice_vars *t)
{
	static const char *const templates[] = {
		"confirm-subscribe", "confirm-unsubscribe", "invite",
		"confirm-set"
	};
	char token[33], expires[64], *reply_to;
	time_t until = util_now() + x->c->confirm_expiry_s;
	int64_t id;
	int r;

	*sent_r = false;
	if (limited) {
		r = rate_ok(x, address);
		if (r <= 0)
			return r;
	}
	if (util_token(token) < 0)
		log_fatal("getrandom failed");
	if (store_sub_request_add(x->s, x->l->name, kind, address, name, mode,
				  token, until, &id) < 0)
		return -1;
	reply_to = xasprintf("%s-confirm+%s@%s", x->l->name, token,
			     x->c->domain);
	format_time(until, expires, sizeof expires);
	notice_vars_set(t, "token", token);
	notice_vars_set(t, "confirm_address", reply_to);
	/* t outlives this frame: it takes a copy. */
	notice_vars_own(t, "expires", xstrdup(expires));
	notice_vars_set(t, "address", address);
	notice_vars_set(t, "mode", store_mode_name(mode));
	r = send_tpl(x, templates[kind], address, reply_to, "auto-replied", t);
	if (r == 0)
		r = store_event_add(x->s, x->l->name, "subscription.requested",
				    address, id, store_sub_kind_name(kind));
	/* The token must not outlive this function in t. */
	notice_vars_set(t, "token", "");
	notice_vars_set(t, "confirm_address", "");
	free(reply_to);
	*sent_r = r == 0;
	return r;
}

/* A confirmed subscription on a list that approves: a new token (the
 * person's is used up) and a notice to the deciders. */
static int ask_approval(struct ctx *x, const struct store_sub_request *r)
{
	char token[33], id[32], *reply_to, *from;
	const char **rcpts;
	struct notice_vars t;
	struct notice how = { 0 };
	size_t n;
	int rc = 0;

	if (util_token(token) < 0)
		log_fatal("getrandom failed");
	if (store_sub_request_set_state(x->s, r->id, SUBREQ_APPROVE, token,
					util_now() + x->c->confirm_expiry_s,
					NULL) < 0)
		return -1;
	reply_to = xasprintf("%s-confirm+%s@%s", x->l->name, token,
			     x->c->domain);
	from = xasprintf("%s-owner@%s", x->l->name, x->c->domain);
	snprintf(id, sizeof id, "%lld", (long long)r->id);
	tv_init(&t, x->c, x->l);
	notice_vars_set(&t, "address", r->address);
	notice_vars_set(&t, "name", r->name);
	notice_vars_set(&t, "mode", store_mode_name(r->mode));
	notice_vars_set(&t, "token", token);
	notice_vars_set(&t, "confirm_address", reply_to);
	notice_vars_set(&t, "request_id", id);
	how.from = from;
	how.to = from;
	how.reply_to = reply_to;
	rcpts = conf_list_roles(x->l, CONF_LEADERS | CONF_COUNCIL, &n);
	rc = notice_send(x->s, x->c, x->l, "approval-notice", &t, &how, rcpts,
			 n);
	free(rcpts);
	free(reply_to);
	free(from);
	notice_vars_free(&t);
	return rc;
}

/* Adds the member of a confirmed (or approved) request and welcomes them.
 * *added_r false when they were a member already. */
static int admit(struct ctx *x, const struct store_sub_request *r,
		 const char *decider, bool *added_r)
{
	struct notice_vars t;
	int rc;

	if (store_member_add(x->s, x->l->name, r->address, r->name, r->mode,
			     added_r) < 0 ||
	    store_sub_request_set_state(x->s, r->id, SUBREQ_DONE, NULL, 0,
					decider) < 0)
		return -1;
	if (!*added_r)
		return 0;
	tv_init(&t, x->c, x->l);
	notice_vars_set(&t, "address", r->address);
	notice_vars_set(&t, "name", r->name);
	notice_vars_set(&t, "mode", store_mode_name(r->mode));
	rc = send_tpl(x, "welcome", r->address, NULL, "auto-generated", &t);
	notice_vars_free(&t);
	if (rc == 0)
		rc = store_event_add(x->s, x->l->name, "member.subscribed",
				     r->address, r->id, decider);
	return rc;
}

static int part(struct ctx *x, const struct store_sub_request *r,
		bool *removed_r)
{
	struct notice_vars t;
	int rc;

	if (store_member_remove(x->s, x->l->name, r->address, removed_r) < 0 ||
	    store_sub_request_set_state(x->s, r->id, SUBREQ_DONE, NULL, 0,
					r->address) < 0)
		return -1;
	if (!*removed_r)
		return 0;
	tv_init(&t, x->c, x->l);
	notice_vars_set(&t, "address", r->address);
	notice_vars_set(&t, "name", r->name);
	rc = send_tpl(x, "goodbye", r->address, NULL, "auto-generated", &t);
	notice_vars_free(&t);
	if (rc == 0)
		rc = store_event_add(x->s, x->l->name, "member.unsubscribed",
				     r->address, r->id, NULL);
	return rc;
}

/* A confirmed change of delivery mode. *set_r false when the address is
 * not a member (any more). */
static int set_mode(struct ctx *x, const struct store_sub_request *r,
		    bool *set_r)
{
	if (store_member_set_mode(x->s, x->l->name, r->address, r->mode,
				  set_r) < 0 ||
	    store_sub_request_set_state(x->s, r->id, SUBREQ_DONE, NULL, 0,
					r->address) < 0)
		return -1;
	if (!*set_r)
		return 0;
	return store_event_add(x->s, x->l->name, "member.mode", r->address,
			       r->id, store_mode_name(r->mode));
}

/* What confirming a request did, for the answer. */
enum confirmed {
	CONF_SUBSCRIBED,      /* welcome sent to the address */
	CONF_UNSUBSCRIBED,    /* goodbye sent */
	CONF_MODE_SET,
	CONF_ALREADY,
	CONF_NOT_MEMBER,
	CONF_AWAITING,        /* now waits for a leader */
	CONF_EXPIRED,
	CONF_CLOSED,
};

/* The person's side of a request (state confirm), token already checked. */
static int confirm_request(struct ctx *x, const struct store_sub_request *r,
			   enum confirmed *what_r)
{
	bool changed;

	if (util_now() >= r->expires_at) {
		*what_r = CONF_EXPIRED;
		return store_sub_request_set_state(x->s, r->id, SUBREQ_EXPIRED,
						   NULL, 0, NULL);
	}
	switch (r->kind) {
	case SUBREQ_SUBSCRIBE:
		if (x->l->subscription == SUB_CLOSED) {
			*what_r = CONF_CLOSED;
			return store_sub_request_set_state(
				x->s, r->id, SUBREQ_REJECTED, NULL, 0, NULL);
		}
		if (x->l->subscription == SUB_APPROVE) {
			struct store_member m = { 0 };
			bool found;

			if (store_member_get(x->s, x->l->name, r->address, &m,
					     &found) < 0)
				return -1;
			store_member_clear(&m);
			if (found) {
				*what_r = CONF_ALREADY;
				return store_sub_request_set_state(
					x->s, r->id, SUBREQ_DONE, NULL, 0,
					NULL);
			}
			*what_r = CONF_AWAITING;
			return ask_approval(x, r);
		}
		/* fall through */
	case SUBREQ_INVITE:
		if (admit(x, r, r->address, &changed) < 0)
			return -1;
		*what_r = changed ? CONF_SUBSCRIBED : CONF_ALREADY;
		return 0;
	case SUBREQ_UNSUBSCRIBE:
		if (part(x, r, &changed) < 0)
			return -1;
		*what_r = changed ? CONF_UNSUBSCRIBED : CONF_NOT_MEMBER;
		return 0;
	case SUBREQ_SET:
		if (set_mode(x, r, &changed) < 0)
			return -1;
		*what_r = changed ? CONF_MODE_SET : CONF_NOT_MEMBER;
		return 0;
	}
	return 0;
}

static const char *confirmed_phrase(enum confirmed w)
{
	switch (w) {
	case CONF_SUBSCRIBED:   return "subscribed";
	case CONF_UNSUBSCRIBED: return "unsubscribed";
	case CONF_MODE_SET:     return "mode-set";
	case CONF_ALREADY:      return "already-member";
	case CONF_NOT_MEMBER:   return "not-member";
	case CONF_AWAITING:     return "awaiting-approval";
	case CONF_EXPIRED:      return "expired";
	case CONF_CLOSED:       return "closed";
	}
	return "unknown-token";
}

const char *commands_result_name(enum commands_result r)
{
	switch (r) {
	case COMMANDS_ADDED:           return "added";
	case COMMANDS_INVITED:         return "invited";
	case COMMANDS_REMOVED:         return "removed";
	case COMMANDS_APPROVED:        return "approved";
	case COMMANDS_REJECTED:        return "rejected";
	case COMMANDS_ALREADY_MEMBER:  return "already a member";
	case COMMANDS_NOT_MEMBER:      return "not a member";
	case COMMANDS_NO_SUCH_REQUEST: return "no such request";
	case COMMANDS_ALREADY_DECIDED: return "already decided";
	case COMMANDS_UNCONFIRMED:
		return "waiting for the person's confirmation";
	}
	return "unknown";
}

enum status commands_result_status(enum commands_result r)
{
	switch (r) {
	case COMMANDS_ADDED:
	case COMMANDS_INVITED:
	case COMMANDS_REMOVED:
	case COMMANDS_APPROVED:
	case COMMANDS_REJECTED:
	case COMMANDS_ALREADY_MEMBER:
	case COMMANDS_NOT_MEMBER:
		return ST_OK;
	case COMMANDS_NO_SUCH_REQUEST:
		return ST_NOUSER;
	case COMMANDS_ALREADY_DECIDED:
	case COMMANDS_UNCONFIRMED:
		return ST_DATAERR;
	}
	return ST_SOFTWARE;
}

/* Rejects request r (state confirm or approve) for decider; only a person
 * who confirmed is told: a request nobody confirmed may be forged. */
static int reject_request(struct ctx *x, const struct store_sub_request *r,
			  const char *decider)
{
	struct notice_vars t;
	int rc;

	rc = store_sub_request_set_state(x->s, r->id, SUBREQ_REJECTED, NULL,
					 0, decider);
	if (rc == 0 && r->kind == SUBREQ_SUBSCRIBE &&
	    r->state == SUBREQ_APPROVE) {
		tv_init(&t, x->c, x->l);
		notice_vars_set(&t, "address", r->address);
		notice_vars_set(&t, "name", r->name);
		rc = send_tpl(x, "subscription-rejected", r->address, NULL,
			      "auto-generated", &t);
		notice_vars_free(&t);
	}
	if (rc == 0)
		rc = store_event_add(x->s, x->l->name, "subscription.rejected",
				     r->address, r->id, decider);
	return rc;
}

int commands_decide(struct store *s, const struct conf *c,
		    const struct conf_list *l, int64_t id, bool approve,
		    const char *decider, enum commands_result *result_r)
{
	struct ctx x = { s, c, l, NULL, NULL, false };
	struct store_sub_request r = { 0 };
	bool found, added;
	int rc = 0;

	if (store_sub_request_get(s, l->name, id, &r, &found) < 0)
		return -1;
	if (!found) {
		*result_r = COMMANDS_NO_SUCH_REQUEST;
		return 0;
	}
	if (r.state != SUBREQ_CONFIRM && r.state != SUBREQ_APPROVE) {
		*result_r = COMMANDS_ALREADY_DECIDED;
	} else if (approve && r.state == SUBREQ_CONFIRM) {
		*result_r = COMMANDS_UNCONFIRMED;
	} else if (approve) {
		rc = admit(&x, &r, decider, &added);
		*result_r = added ? COMMANDS_APPROVED :
			    COMMANDS_ALREADY_MEMBER;
	} else {
		rc = reject_request(&x, &r, decider);
		*result_r = COMMANDS_REJECTED;
	}
	store_sub_request_clear(&r);
	return rc;
}

int commands_admin_add(struct store *s, const struct conf *c,
		       const struct conf_list *l, const char *address,
		       const char *name, enum commands_add_how how,
		       enum commands_result *result_r)
{
	struct ctx x = { s, c, l, NULL, NULL, false };
	struct store_member m = { 0 };
	bool found, sent;
	struct notice_vars t;
	int rc;

	if (how == COMMANDS_ADD_INVITE) {
		if (store_member_get(s, l->name, address, &m, &found) < 0)
			return -1;
		store_member_clear(&m);
		if (found) {
			*result_r = COMMANDS_ALREADY_MEMBER;
			return 0;
		}
		tv_init(&t, c, l);
		notice_vars_set(&t, "name", name);
		rc = start_request(&x, SUBREQ_INVITE, address, name,
				   MODE_IMMEDIATE, false, &sent, &t);
		notice_vars_free(&t);
		*result_r = COMMANDS_INVITED;
		return rc;
	}
	if (store_member_add(s, l->name, address, name, MODE_IMMEDIATE,
			     &found) < 0)
		return -1;
	*result_r = found ? COMMANDS_ADDED : COMMANDS_ALREADY_MEMBER;
	if (found && store_event_add(s, l->name, "member.added", address, 0,
				     NULL) < 0)
		return -1;
	if (!found || how == COMMANDS_ADD_QUIET)
		return 0;
	tv_init(&t, c, l);
	notice_vars_set(&t, "address", address);
	notice_vars_set(&t, "name", name);
	notice_vars_set(&t, "mode", store_mode_name(MODE_IMMEDIATE));
	rc = send_tpl(&x, "welcome", address, NULL, "auto-generated", &t);
	notice_vars_free(&t);
	return rc;
}

int commands_admin_remove(struct store *s, const struct conf *c,
			  const struct conf_list *l, const char *address,
			  bool quiet, const char *actor,
			  enum commands_result *result_r)
{
	struct ctx x = { s, c, l, NULL, NULL, false };
	struct store_member m = { 0 };
	bool found, removed;
	struct notice_vars t;
	int rc = 0;

	if (store_member_get(s, l->name, address, &m, &found) < 0)
		return -1;
	if (found && store_member_remove(s, l->name, address, &removed) < 0)
		rc = -1;
	*result_r = found ? COMMANDS_REMOVED : COMMANDS_NOT_MEMBER;
	if (rc == 0 && found)
		rc = store_event_add(s, l->name, "member.removed", address, 0,
				     actor);
	if (rc == 0 && found && !quiet) {
		tv_init(&t, c, l);
		notice_vars_set(&t, "address", address);
		notice_vars_set(&t, "name", m.name);
		rc = send_tpl(&x, "goodbye", address, NULL, "auto-generated",
			      &t);
		notice_vars_free(&t);
	}
	store_member_clear(&m);
	return rc;
}

int commands_expire(struct store *s, const struct conf_list *l)
{
	if (store_begin(s) < 0 ||
	    store_sub_request_expire(s, l->name, util_now(), NULL) < 0 ||
	    store_commit(s) < 0) {
		store_rollback(s);
		return -1;
	}
	return 0;
}

/* ---- confirmations by reply ---- */

/* A leader's reply to an approval notice: the first word decides. */
static enum status leader_reply(struct ctx *x, struct incoming *in,
				const struct store_sub_request *r,
				enum incoming_outcome *outcome_r)
{
	const struct conf_list *l = x->l;
	char *word = NULL, *rest = NULL;
	enum commands_result result;
	bool decided = false;
	int rc = 0;

	if (in->sender == NULL || !(conf_list_is_leader(l, in->sender) ||
				    conf_list_is_council(l, in->sender))) {
		log_info("list=%s message-id=<%s> from=<%s>: dropped: reply "
			 "to approval notice %lld not from a leader",
			 l->name, in->logid, in->logfrom, (long long)r->id);
		return ST_OK;
	}
	if (util_now() >= r->expires_at) {
		if (store_sub_request_set_state(x->s, r->id, SUBREQ_EXPIRED,
						NULL, 0, NULL) < 0)
			return incoming_store_failure(x->s, in, "expire");
		log_info("list=%s message-id=<%s> from=<%s>: dropped: request "
			 "%lld expired before a leader decided", l->name,
			 in->logid, in->logfrom, (long long)r->id);
		return ST_OK;
	}
	if (in->text != NULL)
		reply_first_word(in->text, &word, &rest);
	if (word != NULL && (strcmp(word, "approve") == 0 ||
			     strcmp(word, "reject") == 0)) {
		decided = true;
		rc = commands_decide(x->s, x->c, l, r->id, word[0] == 'a',
				     in->sender, &result);
	}
	free(word);
	free(rest);
	if (rc < 0)
		return incoming_store_failure(x->s, in, "decide request");
	if (!decided) {
		log_info("list=%s message-id=<%s> from=<%s>: dropped: no "
			 "approve or reject in the reply to request %lld",
			 l->name, in->logid, in->logfrom, (long long)r->id);
		return ST_OK;
	}
	*outcome_r = INCOMING_ACCEPTED;
	log_info("list=%s message-id=<%s> from=<%s>: request %lld of <%s>: "
		 "%s", l->name, in->logid, in->logfrom, (long long)r->id,
		 r->address, commands_result_name(result));
	return ST_OK;
}

/* Tells r's address what confirming did, when no welcome or goodbye
 * already did. */
static int tell_confirmed(struct ctx *x, const struct store_sub_request *r,
			  enum confirmed what)
{
	struct notice_vars t;
	struct buf results = BUF_INIT;
	int rc;

	if (what == CONF_SUBSCRIBED || what == CONF_UNSUBSCRIBED)
		return 0;
	rc = rate_ok(x, r->address);
	if (rc <= 0)
		return rc;
	tv_init(&t, x->c, x->l);
	notice_vars_set(&t, "address", r->address);
	notice_vars_set(&t, "mode", store_mode_name(r->mode));
	phrase(x, confirmed_phrase(what), &t, &results);
	notice_vars_set(&t, "results", buf_cstr(&results));
	rc = send_tpl(x, "answer", r->address, NULL, "auto-replied", &t);
	notice_vars_free(&t);
	buf_free(&results);
	return rc;
}

/* The request a confirm token names, when it is a waiting request of in's
 * list. 0 (with *found_r) or -1 (store). */
static int find_request(struct store *s, const struct incoming *in,
			struct store_sub_request *r, bool *found_r)
{
	char *token;
	int rc = 0;

	*found_r = false;
	if (in->route.extension == NULL)
		return 0;
	token = util_lower(xstrdup(in->route.extension));
	if (request_token_ok(token))
		rc = store_sub_request_find(s, token, r, found_r);
	free(token);
	if (rc == 0 && *found_r && strcmp(r->list, in->list->name) != 0) {
		/* Another list's: not ours, and nothing changes. */
		log_info("list=%s message-id=<%s> from=<%s>: token of another "
			 "list's request", in->list->name, in->logid,
			 in->logfrom);
		store_sub_request_clear(r);
		*found_r = false;
	}
	return rc;
}

enum status commands_confirm(struct store *s, struct incoming *in,
			     bool *mine_r, enum incoming_outcome *outcome_r)
{
	struct ctx x = { s, in->c, in->list, NULL, in, false };
	struct store_sub_request r = { 0 };
	const char *why;
	enum confirmed what;
	enum status st = ST_OK;

	if (find_request(s, in, &r, mine_r) < 0)
		return incoming_store_failure(s, in, "find request");
	if (!*mine_r)
		return ST_OK;
	*outcome_r = INCOMING_DROPPED;
	why = robot_reason(&in->m, in->sender);
	if (why != NULL) {
		/* A vacation notice that comes back to the Reply-To must not
		 * confirm what someone else asked for. */
		log_info("list=%s message-id=<%s> from=<%s>: dropped: %s "
			 "does not confirm request %lld", in->list->name,
			 in->logid, in->logfrom, why, (long long)r.id);
	} else if (r.state == SUBREQ_APPROVE) {
		st = leader_reply(&x, in, &r, outcome_r);
	} else if (confirm_request(&x, &r, &what) < 0 ||
		   tell_confirmed(&x, &r, what) < 0) {
		st = incoming_store_failure(s, in, "confirm request");
	} else {
		log_info("list=%s message-id=<%s> from=<%s>: %s request %lld "
			 "of <%s> confirmed: %s", in->list->name, in->logid,
			 in->logfrom, store_sub_kind_name(r.kind),
			 (long long)r.id, r.address, confirmed_phrase(what));
		*outcome_r = INCOMING_ACCEPTED;
	}
	store_sub_request_clear(&r);
	return st;
}

/* ---- commands ---- */

struct run {
	struct ctx x;
	struct incoming *in;
	struct buf results;
	size_t done;          /* commands run */
	size_t told;          /* of them, those whose outcome already went to
				 the sender (a confirmation, a welcome) */
	bool closed;          /* a subscribe met a closed list */
	struct retrieve r;    /* the archive's commands */
};

static int is_member(struct run *u, enum store_mode *mode_r, bool *found_r)
{
	struct store_member m = { 0 };

	if (store_member_get(u->x.s, u->x.l->name, u->in->sender, &m,
			     found_r) < 0)
		return -1;
	if (*found_r && mode_r != NULL)
		*mode_r = m.mode;
	store_member_clear(&m);
	return 0;
}

struct who_ctx {
	struct buf *out;
	size_t n;
};

static int who_one(const struct store_member *m, void *ctx)
{
	struct who_ctx *w = ctx;

	if (w->n++ < WHO_MAX && m->status == MEMBER_ACTIVE)
		buf_printf(w->out, "  %s\n", m->address);
	return 0;
}

static int run_who(struct run *u, struct notice_vars *t)
{
	const struct conf_list *l = u->x.l;
	struct buf list = BUF_INIT;
	struct who_ctx w = { &list, 0 };
	char count[32];
	int64_t n = 0;
	bool member;

	if (!l->allow_who) {
		phrase(&u->x, "who-disabled", t, &u->results);
		return 0;
	}
	if (is_member(u, NULL, &member) < 0)
		return -1;
	if (!member && !conf_list_is_leader(l, u->in->sender) &&
	    !conf_list_is_sponsor(l, u->in->sender) &&
	    !conf_list_is_council(l, u->in->sender)) {
		phrase(&u->x, "who-members-only", t, &u->results);
		return 0;
	}
	if (store_member_count(u->x.s, l->name, &n) < 0 ||
	    store_member_foreach(u->x.s, l->name, who_one, &w) < 0) {
		buf_free(&list);
		return -1;
	}
	snprintf(count, sizeof count, "%lld", (long long)n);
	notice_vars_set(t, "count", count);
	phrase(&u->x, "who", t, &u->results);
	buf_append(&u->results, list.data ? list.data : "", list.len);
	notice_vars_set(t, "count", "");
	buf_free(&list);
	return 0;
}

static int run_subscribe(struct run *u, const struct request_cmd *cmd,
			 struct notice_vars *t)
{
	enum store_mode mode = MODE_IMMEDIATE, cur;
	bool member, sent;
	int rc;

	if (u->x.l->subscription == SUB_CLOSED) {
		u->closed = true;
		phrase(&u->x, "closed", t, &u->results);
		return 0;
	}
	if (cmd->arg != NULL && store_mode_parse(cmd->arg, &mode) < 0)
		mode = MODE_IMMEDIATE;
	if (is_member(u, &cur, &member) < 0)
		return -1;
	if (member) {
		notice_vars_set(t, "mode", store_mode_name(cur));
		phrase(&u->x, "already-member", t, &u->results);
		return 0;
	}
	rc = start_request(&u->x, SUBREQ_SUBSCRIBE, u->in->sender,
			   u->in->sender_name, mode, true, &sent, t);
	if (rc < 0)
		return -1;
	if (sent) {
		u->told++;
		phrase(&u->x, "confirm-sent", t, &u->results);
	}
	return 0;
}

static int run_unsubscribe(struct run *u, struct notice_vars *t)
{
	bool member, sent;

	if (is_member(u, NULL, &member) < 0)
		return -1;
	if (!member) {
		phrase(&u->x, "not-member", t, &u->results);
		return 0;
	}
	if (start_request(&u->x, SUBREQ_UNSUBSCRIBE, u->in->sender, NULL,
			  MODE_IMMEDIATE, true, &sent, t) < 0)
		return -1;
	if (sent) {
		u->told++;
		phrase(&u->x, "unsubscribe-confirm-sent", t, &u->results);
	}
	return 0;
}

static int run_set(struct run *u, const struct request_cmd *cmd,
		   struct notice_vars *t)
{
	enum store_mode mode;
	bool member, sent;

	if (store_mode_parse(cmd->arg, &mode) < 0) {
		phrase(&u->x, "bad-command", t, &u->results);
		return 0;
	}
	if (is_member(u, NULL, &member) < 0)
		return -1;
	notice_vars_set(t, "mode", store_mode_name(mode));
	if (!member) {
		phrase(&u->x, "not-member", t, &u->results);
		return 0;
	}
	/* Confirmed as leaving is: a forged "set nomail" changes nothing
	 * unless the member answers. */
	if (start_request(&u->x, SUBREQ_SET, u->in->sender, NULL, mode, true,
			  &sent, t) < 0)
		return -1;
	if (sent) {
		u->told++;
		phrase(&u->x, "set-confirm-sent", t, &u->results);
	}
	return 0;
}

/* "confirm TOKEN" written to NAME-request. */
static int run_confirm(struct run *u, const struct request_cmd *cmd,
		       struct notice_vars *t)
{
	struct store_sub_request r = { 0 };
	enum confirmed what;
	bool found;
	int rc = 0;

	if (store_sub_request_find(u->x.s, cmd->arg, &r, &found) < 0)
		return -1;
	if (!found || strcmp(r.list, u->x.l->name) != 0 ||
	    r.state != SUBREQ_CONFIRM) {
		phrase(&u->x, "unknown-token", t, &u->results);
		store_sub_request_clear(&r);
		return 0;
	}
	rc = confirm_request(&u->x, &r, &what);
	if (rc == 0) {
		notice_vars_set(t, "address", r.address);
		notice_vars_set(t, "mode", store_mode_name(r.mode));
		phrase(&u->x, confirmed_phrase(what), t, &u->results);
		notice_vars_set(t, "address", u->in->sender);
		if ((what == CONF_SUBSCRIBED || what == CONF_UNSUBSCRIBED) &&
		    util_streq_ci(r.address, u->in->sender))
			u->told++;
	}
	store_sub_request_clear(&r);
	return rc;
}

static int run_help(struct run *u, struct notice_vars *t)
{
	char *body = template_body(&u->x, "help", t);

	if (body != NULL) {
		buf_puts(&u->results, body);
		free(body);
	}
	return 0;
}

/* meeting, minutes, rsvps: the meeting module acts and says what the
 * answer tells. */
static int run_meeting(struct run *u, const struct request_cmd *cmd,
		       struct notice_vars *t)
{
	const char *key = "bad-command";
	struct buf more = BUF_INIT;
	int rc = meeting_command(u->x.s, u->in, cmd, t, &key, &more);

	if (rc == 0) {
		phrase(&u->x, key, t, &u->results);
		buf_append(&u->results, more.data ? more.data : "", more.len);
	}
	buf_free(&more);
	return rc;
}

static int run_one(struct run *u, const struct request_cmd *cmd)
{
	struct notice_vars t;
	int rc = 0;

	tv_init(&t, u->x.c, u->x.l);
	notice_vars_set(&t, "address", u->in->sender);
	notice_vars_set(&t, "sender", u->in->sender);
	if (u->results.len > 0)
		buf_putc(&u->results, '\n');
	buf_printf(&u->results, "> %s\n", cmd->line);
	switch (cmd->verb) {
	case REQ_HELP:
		rc = run_help(u, &t);
		break;
	case REQ_INFO:
		phrase(&u->x, "info", &t, &u->results);
		break;
	case REQ_SUBSCRIBE:
		rc = run_subscribe(u, cmd, &t);
		break;
	case REQ_UNSUBSCRIBE:
		rc = run_unsubscribe(u, &t);
		break;
	case REQ_SET:
		rc = run_set(u, cmd, &t);
		break;
	case REQ_WHO:
		rc = run_who(u, &t);
		break;
	case REQ_CONFIRM:
		rc = run_confirm(u, cmd, &t);
		break;
	case REQ_INDEX:
	case REQ_THREAD:
	case REQ_GET:
	case REQ_SEARCH:
	case REQ_FAQ:
	case REQ_RESOLVED:
	case REQ_TAG:
		rc = retrieve_run(&u->r, cmd);
		if (u->r.broken)
			u->x.broken = true;
		break;
	case REQ_REMIND:
	case REQ_WELCOME:
	case REQ_THANK:
	case REQ_EXPERTS:
		rc = report_command(u->x.s, u->x.c, u->x.l, u->in->sender, cmd,
				    &u->results, &u->x.broken);
		break;
	case REQ_POLL:
		rc = poll_command(u->x.s, u->in, &u->results, &u->x.broken);
		break;
	case REQ_MEETING:
	case REQ_MINUTES:
	case REQ_RSVPS:
		rc = run_meeting(u, cmd, &t);
		break;
	case REQ_BAD:
		phrase(&u->x, "bad-command", &t, &u->results);
		break;
	}
	u->done++;
	notice_vars_free(&t);
	return rc;
}

/* The one answer to a command message. */
static int answer(struct run *u, bool invalid)
{
	struct notice_vars t;
	char *help;
	int rc;

	if (!invalid && u->done > 0 && u->told == u->done)
		return 0;    /* the confirmation or welcome is the answer */
	rc = rate_ok(&u->x, u->in->sender);
	if (rc <= 0)
		return rc;
	tv_init(&t, u->x.c, u->x.l);
	notice_vars_set(&t, "address", u->in->sender);
	notice_vars_set(&t, "sender", u->in->sender);
	if (invalid) {
		phrase(&u->x, "invalid-address", &t, &u->results);
	} else if (u->done == 0) {
		phrase(&u->x, "none", &t, &u->results);
		help = template_body(&u->x, "help", &t);
		if (help != NULL) {
			buf_putc(&u->results, '\n');
			buf_puts(&u->results, help);
			free(help);
		}
	} else if (u->closed && u->done == 1) {
		rc = send_tpl(&u->x, "closed", u->in->sender, NULL,
			      "auto-replied", &t);
		notice_vars_free(&t);
		return rc;
	}
	notice_vars_set(&t, "results", buf_cstr(&u->results));
	/* Messages asked for from the archive go with the answer. */
	rc = send_tpl_parts(&u->x, "answer", u->in->sender, NULL,
			    "auto-replied", &t, u->r.parts, u->r.nparts);
	notice_vars_free(&t);
	return rc;
}

/* The Message-ID answered, when it is safe in a header. */
static const char *reply_id(const struct incoming *in)
{
	const char *p;

	if (in->message_id == NULL || strlen(in->message_id) > 250)
		return NULL;
	for (p = in->message_id; *p; p++)
		if ((unsigned char)*p <= 32 || (unsigned char)*p >= 127 ||
		    *p == '<' || *p == '>')
			return NULL;
	return in->message_id;
}

/* The commands of a message: the address it came to, or what its Subject
 * and text say. A reply to a list post (`replied`) carries the post's
 * Subject: its commands are its first words (a leader's curation). */
static void commands_of(const struct incoming *in, int64_t replied,
			struct request_cmds *cmds)
{
	cmds->v = NULL;
	cmds->n = 0;
	if (in->route.kind == ADDR_SUBSCRIBE ||
	    in->route.kind == ADDR_UNSUBSCRIBE) {
		bool sub = in->route.kind == ADDR_SUBSCRIBE;

		cmds->v = xcalloc(1, sizeof *cmds->v);
		cmds->v[0] = (struct request_cmd){
			sub ? REQ_SUBSCRIBE : REQ_UNSUBSCRIBE, NULL,
			xstrdup(sub ? "subscribe" : "unsubscribe"), false };
		cmds->n = 1;
		return;
	}
	request_parse(replied != 0 ? NULL : in->subject,
		      in->text ? in->text : "", in->text ? strlen(in->text) : 0,
		      cmds);
}

enum status commands_handle(struct store *s, struct incoming *in,
			    enum incoming_outcome *outcome_r)
{
	struct run u = { { s, in->c, in->list, reply_id(in), in, false }, in,
			 BUF_INIT, 0, 0, false, { 0 } };
	struct request_cmds cmds = { NULL, 0 };
	const char *why = robot_reason(&in->m, in->sender);
	int64_t replied = 0;
	bool invalid;
	size_t i, n;
	int rc;

	*outcome_r = INCOMING_DROPPED;
	if (why == NULL && !sendable(in->sender))
		why = "no usable sender address";
	if (why != NULL) {
		log_info("list=%s message-id=<%s> from=<%s>: dropped "
			 "unanswered: %s", in->list->name, in->logid,
			 in->logfrom, why);
		return ST_OK;
	}
	/* An invalid sender address runs nothing and is told so. */
	invalid = !addr_valid(in->sender);
	if (retrieve_replied(s, in->list, &in->m, &replied) < 0)
		return incoming_store_failure(s, in, "find post");
	if (!invalid)
		commands_of(in, replied, &cmds);
	retrieve_init(&u.r, s, in->c, in->list, in->sender, replied,
		      &u.results);
	rc = store_sub_request_expire(s, in->list->name, util_now(), NULL);
	for (i = 0; rc == 0 && i < cmds.n; i++)
		rc = run_one(&u, &cmds.v[i]);
	if (rc == 0)
		rc = answer(&u, invalid);
	if (rc == 0)
		rc = store_event_add(s, in->list->name, "commands", in->sender,
				     (int64_t)u.done, addr_kind_name(
					     in->route.kind));
	n = cmds.n;
	buf_free(&u.results);
	retrieve_free(&u.r);
	request_cmds_free(&cmds);
	if (rc < 0)
		return incoming_store_failure(s, in, "commands");
	log_info("list=%s message-id=<%s> from=<%s>: %zu command%s%s",
		 in->list->name, in->logid, in->logfrom, n, n == 1 ? "" : "s",
		 invalid ? " (sender address not valid: refused)" : "");
	*outcome_r = INCOMING_ACCEPTED;
	return ST_OK;
}
