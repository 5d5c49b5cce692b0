/* moderation - held posts: notices to leaders, decisions by reply */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "pipeline/moderation.h"
#include "base/buf.h"
#include "base/conf.h"
#include "pipeline/incoming.h"
#include "base/log.h"
#include "mail/reply.h"
#include "mail/robot.h"
#include "pipeline/notice.h"
#include "pipeline/post.h"
#include "store/store.h"
#include "store/store_holds.h"
#include "base/template.h"
#include "base/util.h"
#include "base/xalloc.h"

/* One "awaits moderation" or "rejected" notice per address and list in
 * this time: a flood of posts must not become a flood of answers. */
#define POSTER_NOTICE_INTERVAL 86400L
/* One forgery warning per hold in this time. */
#define FORGED_NOTICE_INTERVAL 3600L
/* Holds expired per list and worker pass. */
#define EXPIRE_BATCH 100
/* The excerpt of a held post in the notice. */
#define EXCERPT_LINES 12
#define EXCERPT_BYTES 800

static const char *const decision_names[] = {
	"approve", "reject", "discard", "ban", "always"
};

const char *moderation_decision_name(enum moderation_decision d)
{
	return (unsigned)d < 5 ? decision_names[d] : "unknown";
}

bool moderation_decision_parse(const char *word, enum moderation_decision *d_r)
{
	size_t i;

	for (i = 0; i < 5; i++) {
		if (strcasecmp(word, decision_names[i]) == 0) {
			*d_r = (enum moderation_decision)i;
			return true;
		}
	}
	return false;
}

/* The state a decision leaves a hold in. */
static const char *decision_state(enum moderation_decision d)
{
	switch (d) {
	case MOD_APPROVE:
	case MOD_ALWAYS:
		return "approved";
	case MOD_REJECT:
	case MOD_BAN:
		return "rejected";
	case MOD_DISCARD:
		return "discarded";
	}
	return "discarded";
}

/* Tells `rcpt` with template `name`, from the owners. `answers` is the
 * message the notice answers, when it answers one (the robot check). */
static int tell(struct store *s, const struct conf *c,
		const struct conf_list *l, const char *name,
		const struct notice_vars *v, const char *rcpt,
		const struct incoming *answers)
{
	struct notice how = {
		.to = rcpt,
		.answers = answers != NULL ? &answers->m : NULL,
		.answers_sender = answers != NULL ? answers->sender : NULL,
		/* a poster is whoever the From of a post says: the one rate
		 * limit stops a flood of forged posts becoming a flood of
		 * notices to them; a leader deciding was chosen */
		.limited = answers != NULL &&
			   !conf_list_is_leader(l, rcpt) &&
			   !conf_list_is_council(l, rcpt),
	};

	return notice_send(s, c, l, name, v, &how, &rcpt, 1);
}

/* Tells the poster of `in` with template `name` unless a robot sent it or
 * the poster had such a notice lately. 0 or -1 (store). */
static int tell_poster(struct store *s, struct incoming *in,
		       const char *name, const struct notice_vars *v)
{
	const struct conf_list *l = in->list;
	bool due;

	if (robot_reason(&in->m, in->sender) != NULL)
		return 0;
	if (store_holds_notice_due(s, l->name, in->sender, name, util_now(),
				   POSTER_NOTICE_INTERVAL, &due) < 0)
		return -1;
	if (!due)
		return 0;
	return tell(s, in->c, l, name, v, in->sender, in);
}

/* The notice to the leaders (and council) about a new hold, with the post
 * attached. It comes from a confirm address too, so that a client that
 * answers From rather than Reply-To still reaches moderation (the token is
 * then found in the Subject). */
static int notice_leaders(struct store *s, struct incoming *in,
			  const struct notice_vars *v, const char *confirm)
{
	const struct conf *c = in->c;
	const struct conf_list *l = in->list;
	char *from = xasprintf("%s-confirm+moderation@%s", l->name, c->domain);
	char *owner = xasprintf("%s-owner@%s", l->name, c->domain);
	struct notice how = {
		.from = from, .to = owner, .reply_to = confirm,
		.attach = in->raw, .attach_len = in->len,
	};
	const char **mods;
	size_t n;
	int rc;

	mods = conf_list_roles(l, CONF_LEADERS | CONF_COUNCIL, &n);
	rc = notice_send(s, c, l, "hold-notice", v, &how, mods, n);
	free(mods);
	free(from);
	free(owner);
	return rc;
}

int moderation_hold(struct store *s, struct incoming *in, int64_t message,
		    const char *reason, int64_t *hold_r)
{
	const struct conf *c = in->c;
	const struct conf_list *l = in->list;
	char token[33], *confirm;
	struct notice_vars v;
	int64_t hold;
	time_t now = util_now();
	int rc;

	if (util_token(token) < 0)
		log_fatal("getrandom failed");
	if (store_hold_add(s, l->name, message, in->sender, in->subject,
			   in->message_id, reason, &hold) < 0 ||
	    store_holds_set_token(s, hold, token) < 0 ||
	    store_event_add(s, l->name, "post.held", in->sender, hold,
			    reason) < 0)
		return -1;

	confirm = xasprintf("%s-confirm+%s@%s", l->name, token, c->domain);
	notice_vars_init(&v, c, l);
	notice_vars_oneline(&v, "sender", in->sender);
	notice_vars_oneline(&v, "sender_name", in->sender_name);
	notice_vars_oneline(&v, "subject", in->subject);
	notice_vars_oneline(&v, "message_id", in->message_id);
	notice_vars_set(&v, "reason", reason);
	notice_vars_set(&v, "token", token);
	notice_vars_set(&v, "confirm_address", confirm);
	notice_vars_own(&v, "hold_id", xasprintf("%lld", (long long)hold));
	notice_vars_time(&v, "held_at", now);
	notice_vars_time(&v, "expires", now + l->hold_expiry_s);
	notice_vars_own(&v, "excerpt", in->text != NULL ?
			reply_excerpt(in->text, EXCERPT_LINES,
				      EXCERPT_BYTES) :
			xstrdup(""));
	rc = notice_leaders(s, in, &v, confirm);
	if (rc == 0)
		rc = tell_poster(s, in, "hold-pending", &v);
	notice_vars_free(&v);
	free(confirm);
	if (rc < 0)
		return -1;
	log_info("list=%s message-id=<%s> from=<%s>: held as %lld: %s",
		 l->name, in->logid, in->logfrom, (long long)hold, reason);
	*hold_r = hold;
	return 0;
}

int moderation_reject(struct store *s, struct incoming *in,
		      const char *reason)
{
	const struct conf_list *l = in->list;
	struct notice_vars v;
	int rc;

	notice_vars_init(&v, in->c, l);
	notice_vars_oneline(&v, "sender", in->sender);
	notice_vars_oneline(&v, "subject", in->subject);
	notice_vars_oneline(&v, "message_id", in->message_id);
	notice_vars_set(&v, "reason", reason);
	rc = store_event_add(s, l->name, "post.rejected", in->sender, 0,
			     reason);
	if (rc == 0)
		rc = tell_poster(s, in, "post-rejected", &v);
	notice_vars_free(&v);
	if (rc < 0)
		return -1;
	log_info("list=%s message-id=<%s> from=<%s>: dropped: rejected: %s",
		 l->name, in->logid, in->logfrom, reason);
	return 0;
}

/* Sends the held post to the members through the accept path, once. */
static int approve_hold(struct store *s, const struct conf *c,
			const struct conf_list *l, const struct store_hold *h)
{
	struct incoming post;
	char *raw = NULL;
	size_t len = 0;
	int64_t archive, job;
	bool dup = false;
	int rc;

	if (store_message_get(s, h->message, &raw, &len) < 0)
		return -1;
	if (incoming_init(&post, c, l, raw, len) < 0) {
		log_error("list=%s hold=%lld: the stored post no longer "
			  "parses; not sent", l->name, (long long)h->id);
		free(raw);
		return 0;
	}
	rc = store_archive_has(s, l->name, post.message_id, &dup);
	if (rc == 0 && !dup)
		rc = post_accept(s, &post, h->message, &archive, &job);
	if (rc == 0 && !dup)
		log_info("list=%s message-id=<%s> from=<%s>: approved hold "
			 "%lld: archived as %lld, queued as job %lld",
			 l->name, post.logid, post.logfrom, (long long)h->id,
			 (long long)archive, (long long)job);
	incoming_free(&post);
	free(raw);
	return rc;
}

/* Tells the poster of held post h with template `name`, unless a robot
 * sent the post (it is read again for the check). 0 or -1 (store). */
static int tell_held_poster(struct store *s, const struct conf *c,
			    const struct conf_list *l,
			    const struct store_hold *h, const char *name,
			    const struct notice_vars *v)
{
	struct incoming post;
	char *raw = NULL;
	size_t len = 0;
	int rc;

	if (h->sender == NULL)
		return 0;
	if (store_message_get(s, h->message, &raw, &len) < 0)
		return -1;
	if (incoming_init(&post, c, l, raw, len) < 0) {
		log_error("list=%s hold=%lld: the stored post no longer "
			  "parses; %s not sent", l->name, (long long)h->id,
			  name);
		free(raw);
		return 0;
	}
	rc = tell(s, c, l, name, v, h->sender, &post);
	incoming_free(&post);
	free(raw);
	return rc;
}

/* Applies decision d to hold h for actor, inside an open transaction.
 * *late_r when someone decided first (nothing changed). 0 or -1. */
static int decide(struct store *s, const struct conf *c,
		  const struct conf_list *l, const struct store_hold *h,
		  enum moderation_decision d, const char *reason,
		  const char *actor, bool *late_r)
{
	char *kind = xasprintf("hold.%s", moderation_decision_name(d));
	bool changed, added, found;
	struct notice_vars v;
	int rc;

	*late_r = false;
	rc = store_holds_decide(s, h->id, decision_state(d), actor,
				util_now(), &changed);
	if (rc == 0 && !changed) {
		*late_r = true;
		free(kind);
		return 0;
	}
	if (rc == 0)
		rc = store_event_add(s, l->name, kind, actor, h->id,
				     reason != NULL && *reason != '\0' ?
				     reason : h->message_id);
	free(kind);
	if (rc < 0)
		return -1;
	switch (d) {
	case MOD_ALWAYS:
		if (h->sender != NULL &&
		    (store_holds_unmoderate(s, l->name, h->sender,
					    &found) < 0 ||
		     store_holds_allow_add(s, l->name, h->sender, actor) < 0))
			return -1;
		/* fall through */
	case MOD_APPROVE:
		return approve_hold(s, c, l, h);
	case MOD_BAN:
		if (h->sender != NULL &&
		    store_holds_ban_add(s, l->name, h->sender, actor,
					&added) < 0)
			return -1;
		return 0;
	case MOD_REJECT:
		if (h->sender == NULL)
			return 0;
		notice_vars_init(&v, c, l);
		notice_vars_oneline(&v, "sender", h->sender);
		notice_vars_oneline(&v, "subject", h->subject);
		notice_vars_oneline(&v, "message_id", h->message_id);
		notice_vars_set(&v, "reason", reason);
		rc = tell_held_poster(s, c, l, h, "hold-rejected", &v);
		notice_vars_free(&v);
		return rc;
	case MOD_DISCARD:
		return 0;
	}
	return 0;
}

/* The vars of a notice about hold h. */
static void hold_vars(struct notice_vars *v, const struct conf *c,
		      const struct conf_list *l, const struct store_hold *h)
{
	notice_vars_init(v, c, l);
	notice_vars_oneline(v, "sender", h->sender);
	notice_vars_oneline(v, "subject", h->subject);
	notice_vars_oneline(v, "message_id", h->message_id);
	notice_vars_own(v, "hold_id", xasprintf("%lld", (long long)h->id));
	notice_vars_time(v, "held_at", h->held_at);
}

/* The hold a reply names: the token of the address, else one in the
 * Subject. */
static int find_hold(struct store *s, struct incoming *in,
		     struct store_hold *h, bool *found_r)
{
	const char *ext = in->route.extension;
	char tok[33];

	*found_r = false;
	if (ext != NULL && strlen(ext) == 32 && reply_find_token(ext, tok) &&
	    store_holds_by_token(s, in->list->name, tok, h, found_r) < 0)
		return -1;
	if (!*found_r && reply_find_token(in->subject, tok) &&
	    store_holds_by_token(s, in->list->name, tok, h, found_r) < 0)
		return -1;
	return 0;
}

/* A reply from someone who may not decide: nothing changes, the leaders
 * hear of it (once an hour per hold). */
static int forged(struct store *s, struct incoming *in,
		  const struct store_hold *h)
{
	const struct conf *c = in->c;
	const struct conf_list *l = in->list;
	char *key = xasprintf("hold:%lld", (long long)h->id);
	char *owner = xasprintf("%s-owner@%s", l->name, c->domain);
	struct notice_vars v;
	bool due;
	int rc;

	rc = store_event_add(s, l->name, "hold.forged", in->sender, h->id,
			     in->message_id);
	if (rc == 0)
		rc = store_holds_notice_due(s, l->name, key, "hold-forged",
					    util_now(), FORGED_NOTICE_INTERVAL,
					    &due);
	if (rc == 0 && due) {
		hold_vars(&v, c, l, h);
		notice_vars_oneline(&v, "decider", in->sender);
		rc = notice_send(s, c, l, "hold-forged", &v,
				 &(struct notice){ .to = owner },
				 (const char *const *)l->leaders.v,
				 l->leaders.n);
		notice_vars_free(&v);
	}
	free(key);
	free(owner);
	log_warn("list=%s message-id=<%s> from=<%s>: a reply with the token "
		 "of hold %lld from someone who may not decide; ignored",
		 l->name, in->logid, in->logfrom, (long long)h->id);
	return rc;
}

/* Answers the decider with template name. */
static int tell_decider(struct store *s, struct incoming *in,
			const char *name, const struct notice_vars *v)
{
	return tell(s, in->c, in->list, name, v, in->sender, in);
}

/* Tells the decider of a reply to hold h what came of it: decided now
 * (d, reason `rest`), decided before (late, or not held any more), or no
 * decision named (`word`). 0 or -1 (store). */
static int answer_decider(struct store *s, struct incoming *in,
			  const struct store_hold *h, struct notice_vars *v,
			  bool known, bool late, enum moderation_decision d,
			  const char *word, const char *rest)
{
	const struct conf_list *l = in->list;
	char safe[160];
	int rc;

	if (strcmp(h->state, "held") != 0 || late) {
		notice_vars_oneline(v, "decider", h->decided_by);
		notice_vars_time(v, "decided_at", h->decided_at);
		notice_vars_set(v, "decision", h->state);
		rc = store_event_add(s, l->name, "hold.late", in->sender,
				     h->id, h->state);
		if (rc == 0)
			rc = tell_decider(s, in, "hold-late", v);
		log_info("list=%s message-id=<%s> from=<%s>: hold %lld was "
			 "already %s by %s", l->name, in->logid, in->logfrom,
			 (long long)h->id, h->state,
			 h->decided_by ? h->decided_by : "?");
		return rc;
	}
	if (!known) {
		notice_vars_oneline(v, "decision", word);
		log_info("list=%s message-id=<%s> from=<%s>: reply to hold "
			 "%lld names no decision", l->name, in->logid,
			 in->logfrom, (long long)h->id);
		return tell_decider(s, in, "hold-unclear", v);
	}
	notice_vars_set(v, "decision", moderation_decision_name(d));
	notice_vars_set(v, "reason", rest);
	log_info("list=%s message-id=<%s> from=<%s>: hold %lld: %s%s%s",
		 l->name, in->logid, in->logfrom, (long long)h->id,
		 moderation_decision_name(d), *rest ? ": " : "",
		 log_sanitize(safe, sizeof safe, rest, strlen(rest)));
	return tell_decider(s, in, "hold-decided", v);
}

/* A reply to hold h from someone who may decide: the first non-quoted
 * word decides while the hold waits; the decider is answered either way.
 * *decided_r when this reply decided. 0 or -1 (store). */
static int leader_reply(struct store *s, struct incoming *in,
			struct store_hold *h, bool *decided_r)
{
	const struct conf_list *l = in->list;
	enum moderation_decision d = MOD_APPROVE;
	char *word = NULL, *rest = NULL;
	bool known = false, late = false, found;
	struct notice_vars v;
	int rc = 0;

	*decided_r = false;
	if (in->text != NULL && reply_first_word(in->text, &word, &rest))
		known = moderation_decision_parse(word, &d);
	hold_vars(&v, in->c, l, h);
	if (strcmp(h->state, "held") == 0 && known) {
		rc = decide(s, in->c, l, h, d, rest, in->sender, &late);
		if (rc == 0 && late) {
			/* Decided between our read and our write. */
			int64_t id = h->id;

			store_hold_clear(h);
			rc = store_holds_get(s, l->name, id, h, &found);
		}
		*decided_r = rc == 0 && !late;
	}
	if (rc == 0)
		rc = answer_decider(s, in, h, &v, known, late, d, word, rest);
	notice_vars_free(&v);
	free(word);
	free(rest);
	return rc;
}

enum status moderation_confirm(struct store *s, struct incoming *in,
			       bool *mine_r, enum incoming_outcome *outcome_r)
{
	const struct conf_list *l = in->list;
	struct store_hold h = { 0 };
	bool found, decided = false;
	int rc;

	*mine_r = false;
	if (find_hold(s, in, &h, &found) < 0)
		return incoming_store_failure(s, in, "find hold");
	if (!found)
		return ST_OK;
	*mine_r = true;
	*outcome_r = INCOMING_DROPPED;
	if (robot_reason(&in->m, in->sender) != NULL) {
		log_info("list=%s message-id=<%s> from=<%s>: dropped: an "
			 "automatic reply to hold %lld", l->name, in->logid,
			 in->logfrom, (long long)h.id);
		store_hold_clear(&h);
		return ST_OK;
	}
	if (conf_list_is_leader(l, in->sender) ||
	    (l->council_may_approve && conf_list_is_council(l, in->sender)))
		rc = leader_reply(s, in, &h, &decided);
	else
		rc = forged(s, in, &h);
	store_hold_clear(&h);
	if (rc < 0)
		return incoming_store_failure(s, in, "moderation decision");
	if (decided)
		*outcome_r = INCOMING_ACCEPTED;
	return ST_OK;
}

enum status moderation_decide(struct store *s, const struct conf *c,
			      const struct conf_list *l, int64_t id,
			      enum moderation_decision d, const char *reason,
			      const char *actor,
			      enum moderation_result *result_r, char **by_r,
			      time_t *at_r)
{
	struct store_hold h = { 0 };
	bool found, late = false;

	*result_r = MODR_NOT_FOUND;
	*by_r = NULL;
	*at_r = 0;
	if (store_begin(s) < 0)
		return ST_TEMPFAIL;
	if (store_holds_get(s, l->name, id, &h, &found) < 0)
		goto fail;
	if (!found) {
		store_rollback(s);
		return ST_OK;
	}
	if (strcmp(h.state, "held") == 0 &&
	    decide(s, c, l, &h, d, reason, actor, &late) < 0)
		goto fail;
	if (strcmp(h.state, "held") != 0 || late) {
		store_rollback(s);
		*result_r = MODR_DECIDED;
		*by_r = xstrdup(h.decided_by ? h.decided_by : h.state);
		*at_r = h.decided_at;
		store_hold_clear(&h);
		return ST_OK;
	}
	if (store_commit(s) < 0)
		goto fail;
	log_info("list=%s hold=%lld: %s by %s", l->name, (long long)id,
		 moderation_decision_name(d), actor);
	*result_r = MODR_DONE;
	store_hold_clear(&h);
	return ST_OK;
fail:
	store_rollback(s);
	store_hold_clear(&h);
	return ST_TEMPFAIL;
}

/* Expires hold id of l in its own transaction. */
static int expire_one(struct store *s, const struct conf *c,
		      const struct conf_list *l, int64_t id, bool *done_r)
{
	struct store_hold h = { 0 };
	struct notice_vars v;
	bool found, changed = false;
	int rc;

	*done_r = false;
	if (store_begin(s) < 0)
		return -1;
	rc = store_holds_get(s, l->name, id, &h, &found);
	if (rc == 0 && found)
		rc = store_holds_decide(s, id, "expired", "expiry", util_now(),
					&changed);
	if (rc == 0 && changed)
		rc = store_event_add(s, l->name, "hold.expired", NULL, id,
				     h.message_id);
	if (rc == 0 && changed && h.sender != NULL) {
		hold_vars(&v, c, l, &h);
		notice_vars_time(&v, "expires", util_now());
		rc = tell_held_poster(s, c, l, &h, "hold-expired", &v);
		notice_vars_free(&v);
	}
	store_hold_clear(&h);
	if (rc < 0 || store_commit(s) < 0) {
		store_rollback(s);
		return -1;
	}
	if (changed)
		log_info("list=%s hold=%lld: expired", l->name, (long long)id);
	*done_r = changed;
	return 0;
}

int moderation_expire(struct store *s, const struct conf *c, size_t *n_r)
{
	time_t now = util_now();
	size_t i, k;

	*n_r = 0;
	for (i = 0; i < c->nlists; i++) {
		const struct conf_list *l = &c->lists[i];
		int64_t *ids;
		size_t n;

		if (store_holds_due(s, l->name, now - l->hold_expiry_s,
				    EXPIRE_BATCH, &ids, &n) < 0)
			return -1;
		for (k = 0; k < n; k++) {
			bool done;

			if (expire_one(s, c, l, ids[k], &done) < 0) {
				free(ids);
				return -1;
			}
			*n_r += done;
		}
		free(ids);
	}
	return 0;
}
