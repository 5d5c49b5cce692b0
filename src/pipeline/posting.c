/* posting - the posting policy: what becomes of a post to NAME@ */
#include "autoconf.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pipeline/posting.h"
#include "base/conf.h"
#include "base/log.h"
#include "base/rx.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "mail/msg.h"
#include "pipeline/incoming.h"
#include "store/store.h"
#include "store/store_holds.h"

const char *posting_decision_name(enum posting_decision d)
{
	switch (d) {
	case POSTING_ACCEPT: return "accept";
	case POSTING_HOLD:   return "hold";
	case POSTING_DROP:   return "drop";
	case POSTING_REJECT: return "reject";
	}
	return "unknown";
}

/* Does the message already carry our own marks? */
static bool is_loop(const struct incoming *in)
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
static const struct conf_filter *match_filter(const struct incoming *in)
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

/* What the sender is to the list. */
struct standing {
	bool member, moderated, leader, sponsor, council, allowed;
};

static int standing_of(struct store *s, const struct incoming *in,
		       struct standing *st)
{
	const struct conf_list *l = in->list;
	struct store_member mem = { 0 };

	memset(st, 0, sizeof *st);
	st->leader = conf_list_is_leader(l, in->sender);
	st->sponsor = conf_list_is_sponsor(l, in->sender);
	st->council = conf_list_is_council(l, in->sender);
	if (store_member_get(s, l->name, in->sender, &mem, &st->member) < 0)
		return -1;
	st->moderated = st->member && mem.moderated;
	store_member_clear(&mem);
	return store_holds_allowed(s, l->name, in->sender, &st->allowed);
}

/* The filter's action as a decision. */
static enum posting_decision filter_decision(const struct conf_filter *f)
{
	switch (f->action) {
	case FILTER_DISCARD:
		return POSTING_DROP;
	case FILTER_REJECT:
		return POSTING_REJECT;
	case FILTER_HOLD:
		return POSTING_HOLD;
	case FILTER_ACCEPT:
		return POSTING_ACCEPT;
	}
	return POSTING_HOLD;
}

/* The list's policy for a sender of this standing. */
static enum posting_decision by_policy(const struct conf_list *l,
				       const struct standing *st,
				       const char **reason_r)
{
	switch (l->policy) {
	case POLICY_OPEN:
		return POSTING_ACCEPT;
	case POLICY_MEMBERS:
		if (st->member || st->leader || st->sponsor || st->council)
			return POSTING_ACCEPT;
		*reason_r = "post from a non-member";
		return POSTING_HOLD;
	case POLICY_MODERATED:
		if (st->leader)
			return POSTING_ACCEPT;
		*reason_r = "every post to this list is moderated";
		return POSTING_HOLD;
	case POLICY_ANNOUNCE:
		if (st->leader || st->sponsor)
			return POSTING_ACCEPT;
		*reason_r = "only leaders and sponsors post to this list";
		return l->announce_action == HOLDACT_REJECT ?
		       POSTING_REJECT : POSTING_HOLD;
	}
	return POSTING_HOLD;
}

/* The decisions that come before the sender's standing: loops, bans,
 * filters, no sender, size. *decided_r (with *d_r and *reason_r) when one
 * of them decided. 0, or -1 on a store failure. */
static int decide_early(struct store *s, const struct incoming *in,
			enum posting_decision *d_r, const char **reason_r,
			bool *decided_r)
{
	const struct conf_list *l = in->list;
	const struct conf_filter *f;
	bool banned = false;

	*decided_r = true;
	*d_r = POSTING_DROP;
	if (is_loop(in)) {
		*reason_r = "mail loop (our own List-Id or X-Loop)";
		return 0;
	}
	if (is_banned(in)) {
		*reason_r = "sender is banned";
		return 0;
	}
	if (in->sender != NULL &&
	    store_holds_banned(s, l->name, in->sender, &banned) < 0)
		return -1;
	if (banned) {
		*reason_r = "sender is banned by a leader";
		return 0;
	}
	f = match_filter(in);
	if (f != NULL) {
		*reason_r = f->reason ? f->reason : "matched a filter";
		*d_r = filter_decision(f);
		return 0;
	}
	*d_r = POSTING_HOLD;
	if (in->sender == NULL) {
		*reason_r = "no sender address in From";
		return 0;
	}
	if (l->max_message_kb > 0 && in->len > (size_t)l->max_message_kb * 1024) {
		*reason_r = "message over the list's size limit";
		*d_r = l->max_message_action == HOLDACT_REJECT ?
		       POSTING_REJECT : POSTING_HOLD;
		return 0;
	}
	*decided_r = false;
	return 0;
}

int posting_decide(struct store *s, const struct incoming *in,
		   enum posting_decision *d_r, const char **reason_r)
{
	const struct conf_list *l = in->list;
	struct standing st;
	size_t rcpts;
	bool decided;

	*reason_r = NULL;
	if (decide_early(s, in, d_r, reason_r, &decided) < 0)
		return -1;
	if (decided)
		return 0;
	if (standing_of(s, in, &st) < 0)
		return -1;
	*d_r = POSTING_HOLD;
	rcpts = msg_count_addresses(&in->m, "To") +
		msg_count_addresses(&in->m, "Cc");
	if (l->max_recipients > 0 && rcpts > (size_t)l->max_recipients &&
	    !st.leader) {
		*reason_r = "too many recipients in To and Cc";
		return 0;
	}
	if (st.moderated && !st.leader && !st.allowed) {
		*reason_r = "sender is moderated";
		return 0;
	}
	/* A leader answered "always": no longer moderated. */
	if (st.allowed && l->policy != POLICY_OPEN) {
		*d_r = POSTING_ACCEPT;
		return 0;
	}
	*d_r = by_policy(l, &st, reason_r);
	return 0;
}
