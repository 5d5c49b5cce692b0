/* receive - classify one message, decide, commit the outcome */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "pipeline/receive.h"
#include "pipeline/incoming.h"
#include "pipeline/bounce.h"
#include "pipeline/commands.h"
#include "pipeline/moderation.h"
#include "pipeline/notice.h"
#include "base/addr.h"
#include "base/buf.h"
#include "base/conf.h"
#include "mail/content.h"
#include "mail/dmarc.h"
#include "base/log.h"
#include "mail/msg.h"
#include "mail/rewrite.h"
#include "base/rx.h"
#include "store/store.h"
#include "store/store_holds.h"
#include "base/template.h"
#include "base/util.h"
#include "base/xalloc.h"

const char *receive_outcome_name(enum receive_outcome o)
{
	switch (o) {
	case RECEIVED_ACCEPTED:  return "accepted";
	case RECEIVED_HELD:      return "held";
	case RECEIVED_DROPPED:   return "dropped";
	case RECEIVED_KEPT:      return "kept";
	case RECEIVED_FORWARDED: return "forwarded";
	case RECEIVED_REFUSED:   return "refused";
	}
	return "unknown";
}

static bool list_known(const char *name, void *ctx)
{
	return conf_find_list(ctx, name) != NULL;
}

/* The Date field as a time, or the time of arrival. */
static time_t message_date(const struct msg *m)
{
	time_t t;

	return msg_date(m, &t) ? t : util_now();
}

void incoming_free(struct incoming *in)
{
	msg_free(&in->m);
	addr_route_free(&in->route);
	free(in->message_id);
	free(in->sender);
	free(in->sender_name);
	free(in->subject);
}

/* Message-ID (synthesised when absent), sender, subject and the log
 * forms of a parsed message. */
static void incoming_identify(struct incoming *in)
{
	const struct conf *c = in->c;
	char *from;

	in->message_id = msg_message_id(&in->m);
	if (in->message_id == NULL || *in->message_id == '\0') {
		char token[33];

		free(in->message_id);
		if (util_token(token) < 0)
			log_fatal("getrandom failed");
		in->message_id = xasprintf("convene.%s@%s", token, c->domain);
		from = xasprintf("<%s>", in->message_id);
		msg_field_set(&in->m, "Message-ID", from);
		free(from);
	}
	from = msg_first_address(&in->m, "From", &in->sender_name);
	if (from == NULL) {
		free(in->sender_name);
		in->sender_name = NULL;
		from = msg_first_address(&in->m, "Sender", &in->sender_name);
	}
	if (from != NULL) {
		in->sender = addr_normalize(from, c->local_part_case_sensitive);
		if (in->sender == NULL)
			in->sender = util_lower(xstrdup(from));
		free(from);
	}
	in->subject = msg_header_decoded(&in->m, "Subject");
	log_sanitize(in->logid, sizeof in->logid, in->message_id,
		     strlen(in->message_id));
	if (in->sender != NULL)
		log_sanitize(in->logfrom, sizeof in->logfrom, in->sender,
			     strlen(in->sender));
}

int incoming_init(struct incoming *in, const struct conf *c,
		  const struct conf_list *l, const char *raw, size_t len)
{
	struct msg_limits limits = {
		.max_header_bytes = (size_t)c->limits.max_header_kb * 1024,
		.max_headers = (size_t)c->limits.max_headers,
	};

	memset(in, 0, sizeof *in);
	in->c = c;
	in->list = l;
	in->raw = raw;
	in->len = len;
	in->route.list = xstrdup(l->name);
	in->route.kind = ADDR_POST;
	if (msg_parse(&in->m, raw, len, &limits, NULL) != MSG_OK) {
		incoming_free(in);
		return -1;
	}
	incoming_identify(in);
	return 0;
}

enum status incoming_store_failure(struct store *s, struct incoming *in,
				   const char *what)
{
	log_error("list=%s message-id=<%s>: %s: %s; left with the MTA to retry",
		  in->list->name, in->logid, what, store_error(s));
	store_rollback(s);
	return ST_TEMPFAIL;
}

/* Does the message already carry our own marks? */
static bool is_loop(struct incoming *in)
{
	const struct conf *c = in->c;
	char *listid = msg_header_unfolded(&in->m, "List-Id");
	char *mark = xasprintf("<%s.%s>", in->list->name, c->domain);
	char *addr = xasprintf("%s@%s", in->list->name, c->domain);
	bool loop = false;
	size_t i;

	if (listid != NULL && strcasestr(listid, mark) != NULL)
		loop = true;
	for (i = 0; !loop && i < in->m.nfields; i++) {
		struct msg_field *f = &in->m.fields[i];
		char *v;

		if (f->deleted || strcasecmp(f->name, "X-Loop") != 0)
			continue;
		v = util_trim(xstrdup(f->value));
		if (strcasestr(v, addr) != NULL)
			loop = true;
		free(v);
	}
	free(listid);
	free(mark);
	free(addr);
	return loop;
}

/* Sender bans (global and list): 1 when banned. */
static bool is_banned(const struct incoming *in)
{
	const struct conf *c = in->c;
	const struct conf_list *l = in->list;
	size_t i;

	if (in->sender == NULL)
		return false;
	for (i = 0; i < c->bans.n; i++)
		if (rx_match(c->ban_rx[i], in->sender, strlen(in->sender)) == 1)
			return true;
	for (i = 0; i < l->bans.n; i++)
		if (rx_match(l->ban_rx[i], in->sender, strlen(in->sender)) == 1)
			return true;
	return false;
}

/* The first filter that matches, or NULL. */
static const struct conf_filter *match_filter(struct incoming *in)
{
	const struct conf_list *l = in->list;
	size_t i;

	for (i = 0; i < l->nfilters; i++) {
		const struct conf_filter *f = &l->filters[i];
		int r;

		if (f->header != NULL) {
			char *v = msg_header_decoded(&in->m, f->header);

			if (v == NULL)
				continue;
			r = rx_match(f->rx, v, strlen(v));
			free(v);
		} else {
			r = rx_match(f->rx, in->m.body, in->m.body_len);
		}
		if (r < 0)
			log_warn("list=%s message-id=<%s>: filter at line %d "
				 "hit its match limit; treated as no match",
				 l->name, in->logid, f->line);
		if (r == 1)
			return f;
	}
	return NULL;
}

enum decision { DECIDE_ACCEPT, DECIDE_HOLD, DECIDE_DROP, DECIDE_REJECT };

/* The posting policy. *reason_r is static text for the log and the hold. */
static enum decision decide_post(struct store *s, struct incoming *in,
				 const char **reason_r, enum status *st_r)
{
	const struct conf_list *l = in->list;
	struct store_member mem = { 0 };
	const struct conf_filter *f;
	bool member = false, leader, sponsor, council, banned = false;
	bool allowed = false;
	size_t rcpts;

	*st_r = ST_OK;
	if (is_loop(in)) {
		*reason_r = "mail loop (our own List-Id or X-Loop)";
		return DECIDE_DROP;
	}
	if (is_banned(in)) {
		*reason_r = "sender is banned";
		return DECIDE_DROP;
	}
	if (in->sender != NULL &&
	    store_holds_banned(s, l->name, in->sender, &banned) < 0) {
		*st_r = incoming_store_failure(s, in, "ban lookup");
		return DECIDE_DROP;
	}
	if (banned) {
		*reason_r = "sender is banned by a leader";
		return DECIDE_DROP;
	}
	f = match_filter(in);
	if (f != NULL) {
		*reason_r = f->reason ? f->reason : "matched a filter";
		switch (f->action) {
		case FILTER_DISCARD:
			return DECIDE_DROP;
		case FILTER_REJECT:
			return DECIDE_REJECT;
		case FILTER_HOLD:
			return DECIDE_HOLD;
		case FILTER_ACCEPT:
			return DECIDE_ACCEPT;
		}
	}
	if (in->sender == NULL) {
		*reason_r = "no sender address in From";
		return DECIDE_HOLD;
	}
	if (l->max_message_kb > 0 && in->len > (size_t)l->max_message_kb * 1024) {
		*reason_r = "message over the list's size limit";
		return l->max_message_action == HOLDACT_REJECT ?
		       DECIDE_REJECT : DECIDE_HOLD;
	}
	leader = conf_list_is_leader(l, in->sender);
	sponsor = conf_list_is_sponsor(l, in->sender);
	council = conf_list_is_council(l, in->sender);
	if (store_member_get(s, l->name, in->sender, &mem, &member) < 0) {
		*st_r = incoming_store_failure(s, in, "membership lookup");
		return DECIDE_DROP;
	}
	if (store_holds_allowed(s, l->name, in->sender, &allowed) < 0) {
		store_member_clear(&mem);
		*st_r = incoming_store_failure(s, in, "allow list lookup");
		return DECIDE_DROP;
	}
	rcpts = msg_count_addresses(&in->m, "To") +
		msg_count_addresses(&in->m, "Cc");
	if (l->max_recipients > 0 && rcpts > (size_t)l->max_recipients &&
	    !leader) {
		store_member_clear(&mem);
		*reason_r = "too many recipients in To and Cc";
		return DECIDE_HOLD;
	}
	if (member && mem.moderated && !leader && !allowed) {
		store_member_clear(&mem);
		*reason_r = "sender is moderated";
		return DECIDE_HOLD;
	}
	store_member_clear(&mem);
	/* A leader answered "always": no longer moderated. */
	if (allowed && l->policy != POLICY_OPEN)
		return DECIDE_ACCEPT;
	switch (l->policy) {
	case POLICY_OPEN:
		return DECIDE_ACCEPT;
	case POLICY_MEMBERS:
		if (member || leader || sponsor || council)
			return DECIDE_ACCEPT;
		*reason_r = "post from a non-member";
		return DECIDE_HOLD;
	case POLICY_MODERATED:
		if (leader)
			return DECIDE_ACCEPT;
		*reason_r = "every post to this list is moderated";
		return DECIDE_HOLD;
	case POLICY_ANNOUNCE:
		if (leader || sponsor)
			return DECIDE_ACCEPT;
		*reason_r = "only leaders and sponsors post to this list";
		return l->announce_action == HOLDACT_REJECT ?
		       DECIDE_REJECT : DECIDE_HOLD;
	}
	return DECIDE_HOLD;
}

static char *render_footer(const struct conf *c, const struct conf_list *l)
{
	struct template_var vars[TEMPLATE_LIST_VARS];
	char **storage = NULL, *out = NULL, *err = NULL;
	size_t n;

	if (!l->footer)
		return NULL;
	n = template_list_vars(c, l, vars, &storage);
	if (template_render(c, l, "footer", vars, n, &out, &err) < 0) {
		log_warn("list=%s: footer not added: %s", l->name, err);
		free(err);
		out = NULL;
	}
	template_vars_free(&storage);
	return out;
}

/* The footer with the content-removed note under it (either may be
 * missing); newly allocated or NULL. Takes footer. */
static char *footer_with_removed(const struct conf *c,
				 const struct conf_list *l, char *footer,
				 const char *removed)
{
	struct template_var vars[TEMPLATE_LIST_VARS + 1];
	char **storage = NULL, *note = NULL, *err = NULL, *both;
	size_t n;

	n = template_list_vars(c, l, vars, &storage);
	vars[n++] = (struct template_var){ "removed", removed };
	if (template_render(c, l, "content-removed", vars, n, &note,
			    &err) < 0) {
		log_warn("list=%s: content note not added: %s", l->name, err);
		free(err);
	}
	template_vars_free(&storage);
	if (note == NULL)
		return footer;
	if (footer == NULL)
		return note;
	both = xasprintf("%s\n%s", footer, note);
	free(footer);
	free(note);
	return both;
}

int receive_accept(struct store *s, struct incoming *in, int64_t message,
		   int64_t *archive_r, int64_t *job_r)
{
	const struct conf *c = in->c;
	const struct conf_list *l = in->list;
	struct rewrite_params p;
	struct buf out = BUF_INIT;
	char *footer = render_footer(c, l), *in_reply_to, *env_from;
	char *removed = NULL;
	char **refs;
	const char *err = NULL;
	int64_t archive = 0, job = 0;
	struct store_post post;
	int rc;

	if (content_filter(&in->m, l, c->limits.max_mime_depth,
			   &removed) < 0)
		log_warn("list=%s message-id=<%s>: content rules not applied: "
			 "a multipart without its boundary", l->name,
			 in->logid);
	if (removed != NULL) {
		size_t nparts = 0;
		const char *q;

		for (q = removed; *q != '\0'; q++)
			nparts += *q == '\n';
		log_info("list=%s message-id=<%s>: content rules removed %zu "
			 "part(s)", l->name, in->logid, nparts);
		footer = footer_with_removed(c, l, footer, removed);
		free(removed);
	}
	rewrite_params_from_conf(&p, c, l, footer);
	if (l->from_munging == FROMMUNGE_DMARC && in->sender != NULL) {
		const char *at = strrchr(in->sender, '@');
		enum dmarc_policy pol = at ? dmarc_lookup(at + 1) :
					DMARC_NONE_FOUND;

		p.dmarc_strict = pol == DMARC_P_REJECT ||
				 pol == DMARC_P_QUARANTINE;
	}
	if (rewrite_post(&in->m, &p, &err) < 0)
		log_warn("list=%s message-id=<%s>: footer not added: %s",
			 l->name, in->logid, err);
	free(footer);
	msg_write(&in->m, &out);

	in_reply_to = msg_in_reply_to(&in->m);
	refs = msg_references(&in->m);
	post = (struct store_post){
		.list = l->name, .message = message,
		.message_id = in->message_id, .date = message_date(&in->m),
		.sender = in->sender, .sender_name = in->sender_name,
		.subject = in->subject, .in_reply_to = in_reply_to,
		.references = (const char *const *)refs,
	};
	env_from = xasprintf("%s-bounces@%s", l->name, c->domain);
	rc = store_archive_add(s, &post, &archive);
	if (rc == 0)
		rc = store_job_add(s, l->name, JOB_POST, archive, env_from,
				   out.data, out.len, NULL, 0, &job);
	if (rc == 0)
		rc = store_event_add(s, l->name, "post.accepted", in->sender,
				     archive, in->message_id);
	free(env_from);
	free(in_reply_to);
	msg_idlist_free(&refs);
	buf_free(&out);
	*archive_r = archive;
	*job_r = job;
	return rc;
}

static enum status accept_post(struct store *s, struct incoming *in,
			       int64_t message)
{
	const struct conf_list *l = in->list;
	int64_t archive, job;

	if (receive_accept(s, in, message, &archive, &job) < 0)
		return incoming_store_failure(s, in, "archive and queue");
	if (store_commit(s) < 0)
		return incoming_store_failure(s, in, "commit");
	log_info("list=%s message-id=<%s> from=<%s>: accepted: archived as "
		 "%lld, queued as job %lld", l->name, in->logid, in->logfrom,
		 (long long)archive, (long long)job);
	return ST_OK;
}

static enum status handle_post(struct store *s, struct incoming *in,
			       enum receive_outcome *outcome_r)
{
	const char *reason = NULL;
	enum decision d;
	enum status st = ST_OK;
	int64_t message;
	bool dup;

	if (store_begin(s) < 0)
		return incoming_store_failure(s, in, "begin");
	/* A message the MTA hands over twice (it never saw our exit status)
	 * is archived once. */
	if (store_archive_has(s, in->list->name, in->message_id, &dup) < 0)
		return incoming_store_failure(s, in, "duplicate check");
	if (dup) {
		store_rollback(s);
		log_info("list=%s message-id=<%s> from=<%s>: dropped: "
			 "duplicate of an archived post", in->list->name,
			 in->logid, in->logfrom);
		*outcome_r = RECEIVED_DROPPED;
		return ST_OK;
	}
	d = decide_post(s, in, &reason, &st);
	if (st != ST_OK)
		return st;
	if (d == DECIDE_REJECT) {
		*outcome_r = RECEIVED_DROPPED;
		return moderation_reject(s, in, reason);
	}
	if (d == DECIDE_DROP) {
		if (store_event_add(s, in->list->name, "post.dropped",
				    in->sender, 0, reason) < 0)
			return incoming_store_failure(s, in, "log event");
		if (store_commit(s) < 0)
			return incoming_store_failure(s, in, "commit");
		log_info("list=%s message-id=<%s> from=<%s>: dropped: %s",
			 in->list->name, in->logid, in->logfrom, reason);
		*outcome_r = RECEIVED_DROPPED;
		return ST_OK;
	}
	if (store_message_add(s, in->raw, in->len, &message) < 0)
		return incoming_store_failure(s, in, "store message");
	if (d == DECIDE_HOLD) {
		*outcome_r = RECEIVED_HELD;
		return moderation_hold(s, in, message, reason);
	}
	*outcome_r = RECEIVED_ACCEPTED;
	return accept_post(s, in, message);
}

/* Owner mail goes to the sponsors and leaders as it is, with a loop mark. */
static enum status handle_owner(struct store *s, struct incoming *in,
				enum receive_outcome *outcome_r)
{
	const struct conf *c = in->c;
	const struct conf_list *l = in->list;
	char *owner = xasprintf("%s-owner@%s", l->name, c->domain);
	const char **rcpts;
	size_t n = 0, i;
	struct buf out = BUF_INIT;
	bool loop = false;
	enum status st = ST_OK;

	for (i = 0; i < in->m.nfields; i++) {
		struct msg_field *f = &in->m.fields[i];

		if (!f->deleted && strcasecmp(f->name, "X-Loop") == 0 &&
		    strcasestr(f->value, owner) != NULL)
			loop = true;
	}
	rcpts = conf_list_roles(l, CONF_SPONSORS | CONF_LEADERS, &n);
	if (loop) {
		log_info("list=%s message-id=<%s> from=<%s>: dropped: owner "
			 "mail loop", l->name, in->logid, in->logfrom);
		*outcome_r = RECEIVED_DROPPED;
		goto out;
	}
	msg_field_prepend(&in->m, "X-Loop", owner);
	msg_write(&in->m, &out);
	if (store_begin(s) < 0 ||
	    notice_queue(s, c, l, NULL, rcpts, n, out.data, out.len) < 0 ||
	    store_event_add(s, l->name, "owner.forwarded", in->sender, 0,
			    in->message_id) < 0 ||
	    store_commit(s) < 0) {
		st = incoming_store_failure(s, in, "queue owner mail");
		goto out;
	}
	log_info("list=%s message-id=<%s> from=<%s>: forwarded to %zu "
		 "owners", l->name, in->logid, in->logfrom, n);
	*outcome_r = RECEIVED_FORWARDED;
out:
	buf_free(&out);
	free(rcpts);
	free(owner);
	return st;
}

enum status incoming_keep(struct store *s, struct incoming *in,
			  enum receive_outcome *outcome_r)
{
	const char *kind = addr_kind_name(in->route.kind);
	int64_t message;

	if (store_begin(s) < 0 ||
	    store_message_add(s, in->raw, in->len, &message) < 0 ||
	    store_inbox_add(s, in->list->name, kind, in->route.extension,
			    message, in->sender) < 0 ||
	    store_commit(s) < 0)
		return incoming_store_failure(s, in, "keep");
	log_info("list=%s message-id=<%s> from=<%s>: kept for the %s "
		 "handler as message %lld", in->list->name, in->logid,
		 in->logfrom, kind, (long long)message);
	*outcome_r = RECEIVED_KEPT;
	return ST_OK;
}

/* A reply to NAME-confirm+TOKEN: the token says what it confirms. */
static enum status handle_confirm(struct store *s, struct incoming *in,
				  enum receive_outcome *outcome_r)
{
	enum status st = ST_OK;

	if (moderation_confirm(s, in, &st, outcome_r) ||
	    commands_confirm(s, in, &st, outcome_r) ||
	    bounce_confirm(s, in, &st, outcome_r))
		return st;
	log_info("list=%s message-id=<%s> from=<%s>: dropped: unknown or "
		 "used confirmation token", in->list->name, in->logid,
		 in->logfrom);
	*outcome_r = RECEIVED_DROPPED;
	return ST_OK;
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

enum status receive_message(const struct conf *c, const char *recipient,
			    const char *raw, size_t len,
			    enum receive_outcome *outcome_r)
{
	struct incoming in = { .c = c, .raw = raw, .len = len };
	struct msg_limits limits = {
		.max_header_bytes = (size_t)c->limits.max_header_kb * 1024,
		.max_headers = (size_t)c->limits.max_headers,
	};
	enum msg_parse_result pr;
	struct store *s = NULL;
	char *rcpt = NULL, *err = NULL;
	bool transient;
	enum status st = ST_SOFTWARE;

	*outcome_r = RECEIVED_REFUSED;
	pr = msg_parse(&in.m, raw, len, &limits, NULL);
	if (recipient == NULL && pr == MSG_OK)
		recipient = rcpt = recipient_from_headers(&in.m);
	if (recipient == NULL) {
		log_error("no recipient: give --recipient or a Delivered-To "
			  "field");
		st = ST_NOUSER;
		goto out;
	}
	if (addr_route(recipient, c->domain, list_known, (void *)c,
		       &in.route) < 0) {
		char safe[160];

		log_info("recipient=<%s>: refused: no such list",
			 log_sanitize(safe, sizeof safe, recipient,
				      strlen(recipient)));
		st = ST_NOUSER;
		goto out;
	}
	in.list = conf_find_list(c, in.route.list);
	if (pr != MSG_OK) {
		log_info("list=%s: refused: %s", in.list->name,
			 msg_parse_result_str(pr));
		st = ST_DATAERR;
		goto out;
	}

	incoming_identify(&in);

	s = store_open(c->database, c->busy_timeout_ms, &err, &transient);
	if (s == NULL) {
		log_error("list=%s message-id=<%s>: %s; left with the MTA to "
			  "retry", in.list->name, in.logid, err);
		st = ST_TEMPFAIL;
		goto out;
	}
	switch (in.route.kind) {
	case ADDR_POST:
		st = handle_post(s, &in, outcome_r);
		break;
	case ADDR_OWNER:
		st = handle_owner(s, &in, outcome_r);
		break;
	case ADDR_CONFIRM:
		st = handle_confirm(s, &in, outcome_r);
		break;
	case ADDR_BOUNCES:
		st = bounce_handle(s, &in, outcome_r);
		break;
	case ADDR_REQUEST:
	case ADDR_SUBSCRIBE:
	case ADDR_UNSUBSCRIBE:
		st = commands_handle(s, &in, outcome_r);
		break;
	}
out:
	if (st != ST_OK)
		*outcome_r = RECEIVED_REFUSED;
	store_close(&s);
	free(err);
	free(rcpt);
	incoming_free(&in);
	return st;
}
