/* bounce - NAME-bounces: delivery reports, scores, probes */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "pipeline/bounce.h"
#include "base/addr.h"
#include "base/buf.h"
#include "base/conf.h"
#include "mail/dsn.h"
#include "mail/verp.h"
#include "pipeline/notice.h"
#include "pipeline/incoming.h"
#include "base/log.h"
#include "store/store.h"
#include "store/store_bounces.h"
#include "store/store_guard.h"
#include "base/template.h"
#include "base/util.h"
#include "base/xalloc.h"

#define DUE_BATCH 100     /* probes handled per list and pass */

_Static_assert(VERP_KEY_LEN == STORE_SECRET_LEN, "the VERP key is a secret");

/* ---- notices ---- */

/* Renders template `name` for l with the list's placeholders and extra, and
 * queues it to the n rcpts with the envelope sender env_from (NULL: the
 * list's bounce address). 0, or -1: a store failure (a template problem is
 * logged and the notice skipped, so that bounce handling goes on). */
static int notice(struct store *s, const struct conf *c,
		  const struct conf_list *l, const char *name,
		  const struct template_var *extra, size_t nextra,
		  const char *const *rcpts, size_t n, const char *reply_to,
		  const char *env_from)
{
	struct notice how = { .reply_to = reply_to, .env_from = env_from };
	struct notice_vars v;
	size_t i;
	int rc;

	notice_vars_init(&v, c, l);
	for (i = 0; i < nextra; i++)
		notice_vars_set(&v, extra[i].name, extra[i].value);
	rc = notice_send(s, c, l, name, &v, &how, rcpts, n);
	notice_vars_free(&v);
	return rc;
}

/* The probe to a disabled member: Reply-To NAME-confirm+TOKEN, sent with
 * the member's tagged VERP return path so that its own bounce names the
 * member. */
static int send_probe(struct store *s, const struct conf *c,
		      const struct conf_list *l, const char *address,
		      const char *token, int count, double score,
		      const char *reason)
{
	unsigned char key[VERP_KEY_LEN];
	char *confirm, *verp;
	char countv[16], scorev[32];
	struct template_var extra[6];
	const char *rcpts[1] = { address };
	int rc;

	if (store_secret(s, "verp", key) < 0)
		return -1;
	confirm = xasprintf("%s-confirm+%s@%s", l->name, token, c->domain);
	verp = verp_encode_tagged(l->name, address, c->domain, key,
				  util_now());
	snprintf(countv, sizeof countv, "%d", count);
	snprintf(scorev, sizeof scorev, "%.2f", score);
	extra[0] = (struct template_var){ "address", address };
	extra[1] = (struct template_var){ "token", token };
	extra[2] = (struct template_var){ "confirm_address", confirm };
	extra[3] = (struct template_var){ "count", countv };
	extra[4] = (struct template_var){ "score", scorev };
	extra[5] = (struct template_var){ "reason", reason ? reason : "" };
	rc = notice(s, c, l, "bounce-probe", extra, 6, rcpts, 1, confirm,
		    verp);
	free(confirm);
	free(verp);
	return rc;
}

/* A notice to the leaders about one member. */
static int tell_leaders(struct store *s, const struct conf *c,
			const struct conf_list *l, const char *name,
			const char *address, double score, int probes,
			const char *reason)
{
	char countv[16], scorev[32];
	struct template_var extra[4];

	snprintf(countv, sizeof countv, "%d", probes);
	snprintf(scorev, sizeof scorev, "%.2f", score);
	extra[0] = (struct template_var){ "address", address };
	extra[1] = (struct template_var){ "count", countv };
	extra[2] = (struct template_var){ "score", scorev };
	extra[3] = (struct template_var){ "reason", reason ? reason : "" };
	return notice(s, c, l, name, extra, 4,
		      (const char *const *)l->leaders.v, l->leaders.n, NULL,
		      NULL);
}

/* ---- scoring ---- */

/* Member `address` of l reached the threshold with `score`: disabled, its
 * first probe sent and the leaders told, in the caller's transaction.
 * 0 or -1 (store failure). */
static int disable(struct store *s, const struct conf *c,
		   const struct conf_list *l, const char *address,
		   enum dsn_severity sev, const char *status, double score,
		   const char *detail, time_t now)
{
	const struct conf_bounces *cb = &l->bounces;
	char safe[160], token[33], last[64];

	if (util_token(token) < 0)
		log_fatal("getrandom failed");
	/* What the last bounce said, never empty: "5.1.1, hard" or "hard"
	 * (a report without a status code). */
	snprintf(last, sizeof last, "%s%s%s", status, status[0] ? ", " : "",
		 dsn_severity_name(sev));
	if (store_bounce_disable(s, l->name, address, token, now,
				 now + cb->probe_interval_s) < 0 ||
	    store_event_add(s, l->name, "bounce.disabled", address, 0,
			    detail) < 0 ||
	    send_probe(s, c, l, address, token, 1, score, last) < 0 ||
	    tell_leaders(s, c, l, "bounce-disabled", address, score, 1,
			 last) < 0)
		return -1;
	log_sanitize(safe, sizeof safe, address, strlen(address));
	log_info("list=%s: <%s> disabled at bounce score %.2f; probe 1 of "
		 "%ld sent", l->name, safe, score, cb->probes);
	return 0;
}

/* One bounce for member `address` of l, part of the caller's transaction.
 * 0 or -1 (store failure). */
static int score(struct store *s, const struct conf *c,
		 const struct conf_list *l, const char *logid,
		 const char *address, enum dsn_severity sev,
		 const char *status, time_t now)
{
	const struct conf_bounces *cb = &l->bounces;
	struct store_member mem = { 0 };
	struct store_bounce_info info;
	int64_t day = (int64_t)(now / 86400);
	double weight = sev == DSN_HARD ? 1.0 : cb->soft_weight;
	double add, dayweight, score;
	char safe[160], detail[96];
	bool found, known;
	int rc = -1;

	log_sanitize(safe, sizeof safe, address, strlen(address));
	if (store_member_get(s, l->name, address, &mem, &found) < 0)
		return -1;
	if (!found)
		return 0;
	if (mem.status != MEMBER_ACTIVE) {
		/* Already disabled (probes are on their way) or pending. */
		rc = store_bounce_event_add(s, l->name, address,
					    dsn_severity_name(sev), status, 0,
					    now);
		log_info("list=%s message-id=<%s>: %s bounce for %s member "
			 "<%s>: recorded, not scored", l->name, logid,
			 dsn_severity_name(sev),
			 store_member_status_name(mem.status), safe);
		goto out;
	}
	if (store_bounce_info_get(s, l->name, address, &info, &known) < 0)
		goto out;
	score = mem.bounce_score;
	if (known && info.last_bounce_at > 0 &&
	    now - info.last_bounce_at >= cb->decay_after_s) {
		score = 0;
		info.last_day = -1;
	}
	/* At most one score a day: the day's worst bounce counts. */
	if (info.last_day == day) {
		add = weight > info.last_weight ? weight - info.last_weight : 0;
		dayweight = weight > info.last_weight ? weight :
			    info.last_weight;
	} else {
		add = weight;
		dayweight = weight;
	}
	score += add;
	snprintf(detail, sizeof detail, "%s %s +%.2f = %.2f",
		 dsn_severity_name(sev), status[0] ? status : "-", add, score);
	if (store_bounce_scored(s, l->name, address, score, day, dayweight,
				now) < 0 ||
	    store_bounce_event_add(s, l->name, address,
				   dsn_severity_name(sev), status, add,
				   now) < 0 ||
	    store_event_add(s, l->name, "bounce.scored", address, 0,
			    detail) < 0)
		goto out;
	log_info("list=%s message-id=<%s>: bounce for <%s>: %s", l->name,
		 logid, safe, detail);
	rc = 0;
	if (score + 1e-9 >= cb->threshold)
		rc = disable(s, c, l, address, sev, status, score, detail, now);
out:
	store_member_clear(&mem);
	return rc;
}

static int score_member(struct store *s, struct incoming *in,
			const char *address, enum dsn_severity sev,
			const char *status)
{
	return score(s, in->c, in->list, in->logid, address, sev, status,
		     util_now());
}

/* One batch of the failures Delivery recorded, in one transaction. *n_r
 * counts them. 0 or -1 (store). */
static int score_failures(const struct conf *c, struct store *s, size_t *n_r)
{
	struct store_failure *v = NULL;
	size_t n = 0, i;
	char status[16];

	*n_r = 0;
	if (store_begin(s) < 0)
		return -1;
	if (store_failures_next(s, DUE_BATCH, &v, &n) < 0)
		goto fail;
	for (i = 0; i < n; i++) {
		const struct conf_list *l = conf_find_list(c, v[i].list);

		snprintf(status, sizeof status, "%d", v[i].code);
		if (l != NULL && v[i].code >= 500 && v[i].code <= 599 &&
		    score(s, c, l, "-", v[i].address, DSN_HARD, status,
			  v[i].at) < 0)
			goto fail;
		if (store_failure_forget(s, v[i].id) < 0)
			goto fail;
	}
	if (store_commit(s) < 0)
		goto fail;
	store_failures_free(&v, n);
	*n_r = n;
	return 0;
fail:
	store_failures_free(&v, n);
	store_rollback(s);
	return -1;
}

int bounce_score_failures(const struct conf *c, struct store *s)
{
	size_t n;

	do {
		if (score_failures(c, s, &n) < 0) {
			log_error("scoring delivery failures: %s; retried next "
				  "pass", store_error(s));
			return -1;
		}
	} while (n == DUE_BATCH);
	return 0;
}

/* The member a report address names: exact, else ignoring case. */
static int member_of(struct store *s, struct incoming *in, const char *a,
		     char **member_r)
{
	char *norm;
	int rc;

	*member_r = NULL;
	if (a == NULL)
		return 0;
	norm = addr_normalize(a, in->c->local_part_case_sensitive);
	if (norm == NULL)
		return 0;
	rc = store_bounce_find_member(s, in->list->name, norm, member_r);
	free(norm);
	return rc;
}

static bool in_strv(char *const *v, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(v[i], s) == 0)
			return true;
	}
	return false;
}

/* The members a report names, with what it says of each. */
struct named {
	char **members;
	enum dsn_severity *sevs;
	const char **stats;     /* borrowed from the report */
	size_t n;
};

static void named_add(struct named *nm, char *member, enum dsn_severity sev,
		      const char *status)
{
	nm->members[nm->n] = member;
	nm->sevs[nm->n] = sev;
	nm->stats[nm->n++] = status;
}

static void named_free(struct named *nm)
{
	size_t i;

	for (i = 0; i < nm->n; i++)
		free(nm->members[i]);
	free(nm->members);
	free(nm->sevs);
	free(nm->stats);
}

/* Collects the members report rep names: the one the VERP address `verp`
 * names (we sent to it; the report's recipient may be where it forwards),
 * else those of the report's recipients. 0 or -1 (store). */
static int named_collect(struct store *s, struct incoming *in,
			 const struct dsn_report *rep, const char *verp,
			 struct named *nm)
{
	char *m;
	size_t i;

	nm->members = xcalloc(rep->n + 1, sizeof *nm->members);
	nm->sevs = xcalloc(rep->n + 1, sizeof *nm->sevs);
	nm->stats = xcalloc(rep->n + 1, sizeof *nm->stats);
	nm->n = 0;
	if (verp != NULL) {
		enum dsn_severity sev = DSN_HARD;
		const char *status = "";

		if (member_of(s, in, verp, &m) < 0)
			return -1;
		for (i = 0; m != NULL && i < rep->n; i++) {
			if (i == 0 || strcasecmp(rep->v[i].address, m) == 0) {
				sev = rep->v[i].severity;
				status = rep->v[i].status;
			}
		}
		if (m != NULL)
			named_add(nm, m, sev, status);
		return 0;
	}
	for (i = 0; i < rep->n; i++) {
		if (member_of(s, in, rep->v[i].address, &m) < 0)
			return -1;
		if (m == NULL && member_of(s, in, rep->v[i].original, &m) < 0)
			return -1;
		if (m == NULL || in_strv(nm->members, nm->n, m))
			free(m);
		else
			named_add(nm, m, rep->v[i].severity, rep->v[i].status);
	}
	return 0;
}

/* Whether a report for member is believed: with a good VERP tag, or when
 * the list sent the member something lately (the delivery records say so):
 * a forged report for someone the list never wrote to counts for nothing.
 * -1 on a store failure. */
static int believed(struct store *s, struct incoming *in, const char *member,
		    enum verp_tag tag, bool has_verp, bool *yes_r)
{
	time_t since = util_now() - (time_t)VERP_TAG_DAYS * 86400;
	char safe[160];

	*yes_r = tag == VERP_TAG_GOOD;
	if (*yes_r)
		return 0;
	if (store_sent_since(s, in->list->name, member, since, yes_r) < 0)
		return -1;
	if (!*yes_r)
		log_info("list=%s message-id=<%s>: not counted: a report for "
			 "<%s> %s, and the list sent it nothing in the last "
			 "%d days", in->list->name, in->logid,
			 log_sanitize(safe, sizeof safe, member,
				      strlen(member)),
			 !has_verp ? "without a VERP tag" :
			 tag == VERP_TAG_BAD ? "with a wrong or old VERP tag" :
			 "to an untagged VERP address", VERP_TAG_DAYS);
	return 0;
}

/* Scores a delivery failure report for the members it names. */
static enum status score_report(struct store *s, struct incoming *in,
				const struct dsn_report *rep,
				enum incoming_outcome *outcome_r)
{
	const struct conf *c = in->c;
	unsigned char key[VERP_KEY_LEN];
	enum verp_tag tag = VERP_UNTAGGED;
	struct named nm = { 0 };
	char *verp = NULL, safe[160] = "(none named)";
	enum status st = ST_OK;
	size_t i, scored = 0;
	bool yes;

	if (store_secret(s, "verp", key) < 0)
		return incoming_store_failure(s, in, "VERP key");
	if (in->route.extension != NULL &&
	    verp_check(in->route.extension, c->local_part_case_sensitive,
		       in->list->name, key, util_now(), &verp, &tag) < 0)
		verp = NULL;
	if (named_collect(s, in, rep, verp, &nm) < 0)
		st = incoming_store_failure(s, in, "bounce");
	for (i = 0; st == ST_OK && i < nm.n; i++) {
		if (believed(s, in, nm.members[i], tag, verp != NULL,
			     &yes) < 0)
			st = incoming_store_failure(s, in, "delivery records");
		else if (!yes)
			continue;
		else if (score_member(s, in, nm.members[i], nm.sevs[i],
				      nm.stats[i]) < 0)
			st = incoming_store_failure(s, in, "bounce");
		else
			scored++;
	}
	if (st == ST_OK && nm.n == 0) {
		if (verp != NULL || rep->n > 0)
			log_sanitize(safe, sizeof safe,
				     verp != NULL ? verp : rep->v[0].address,
				     strlen(verp != NULL ? verp :
					    rep->v[0].address));
		log_info("list=%s message-id=<%s>: dropped: bounce for a "
			 "non-member <%s>", in->list->name, in->logid, safe);
	} else if (st == ST_OK && scored > 0) {
		*outcome_r = INCOMING_ACCEPTED;
	}
	named_free(&nm);
	free(verp);
	memset(key, 0, sizeof key);
	return st;
}

enum status bounce_handle(struct store *s, struct incoming *in,
			  enum incoming_outcome *outcome_r)
{
	const struct conf *c = in->c;
	const struct conf_list *l = in->list;
	struct dsn_limits lim = dsn_default_limits;
	struct dsn_report rep;
	enum status st = ST_OK;

	lim.max_bytes = (size_t)c->limits.max_message_kb * 1024;
	lim.max_depth = (size_t)c->limits.max_mime_depth;
	lim.max_parts = (size_t)c->limits.max_mime_parts;
	lim.max_header_bytes = (size_t)c->limits.max_header_kb * 1024;
	lim.max_headers = (size_t)c->limits.max_headers;
	dsn_parse(in->raw, in->len, &lim, &rep);
	*outcome_r = INCOMING_DROPPED;
	if (rep.kind == DSN_AUTOREPLY || rep.kind == DSN_FEEDBACK) {
		log_info("list=%s message-id=<%s> from=<%s>: dropped: %s at "
			 "the bounce address", l->name, in->logid, in->logfrom,
			 rep.kind == DSN_AUTOREPLY ? "auto-reply" :
			 "feedback report");
	} else if (rep.kind == DSN_NONE) {
		/* Not a report of a failure: kept for a human to read,
		 * never counted, never answered. */
		log_info("list=%s message-id=<%s> from=<%s>: not a delivery "
			 "failure report", l->name, in->logid, in->logfrom);
		st = incoming_keep(s, in, outcome_r);
	} else {
		st = score_report(s, in, &rep, outcome_r);
	}
	dsn_report_free(&rep);
	return st;
}

/* ---- re-enabling ---- */

static bool token_shaped(const char *t)
{
	return strlen(t) == 32 &&
	       strspn(t, "0123456789abcdefABCDEF") == 32;
}

int bounce_enable(struct store *s, const struct conf_list *l,
		  const char *address, const char *why, bool *found_r)
{
	if (store_bounce_enable(s, l->name, address, found_r) < 0)
		return -1;
	if (!*found_r)
		return 0;
	return store_event_add(s, l->name, "bounce.enabled", address, 0, why);
}

enum status bounce_confirm(struct store *s, struct incoming *in,
			   bool *mine_r, enum incoming_outcome *outcome_r)
{
	const struct conf_list *l = in->list;
	char *token, *member = NULL, safe[160];
	bool found = false;
	int rc;

	*mine_r = false;
	if (in->route.extension == NULL || !token_shaped(in->route.extension))
		return ST_OK;
	token = util_lower(xstrdup(in->route.extension));
	rc = store_bounce_token_member(s, l->name, token, &member);
	free(token);
	if (rc < 0)
		return incoming_store_failure(s, in, "probe token");
	if (member == NULL)
		return ST_OK;
	*mine_r = true;
	if (bounce_enable(s, l, member, "probe answered", &found) < 0) {
		free(member);
		return incoming_store_failure(s, in, "re-enable");
	}
	log_info("list=%s message-id=<%s> from=<%s>: probe answered: <%s> "
		 "re-enabled", l->name, in->logid, in->logfrom,
		 log_sanitize(safe, sizeof safe, member, strlen(member)));
	*outcome_r = INCOMING_ACCEPTED;
	free(member);
	return ST_OK;
}

/* ---- the timed part ---- */

static int pass_list(const struct conf *c, struct store *s,
		     const struct conf_list *l, time_t now)
{
	const struct conf_bounces *cb = &l->bounces;
	struct store_bounce_due *due = NULL;
	size_t n = 0, i;
	int64_t decayed = 0;
	char safe[160];

	if (store_begin(s) < 0)
		return -1;
	if (store_bounce_decay(s, l->name, now - cb->decay_after_s,
			       &decayed) < 0 ||
	    store_bounce_due_list(s, l->name, now, DUE_BATCH, &due, &n) < 0)
		goto fail;
	for (i = 0; i < n; i++) {
		const char *a = due[i].address;
		bool removed;

		log_sanitize(safe, sizeof safe, a, strlen(a));
		if (due[i].probes >= cb->probes) {
			if (store_member_remove(s, l->name, a, &removed) < 0 ||
			    store_event_add(s, l->name, "bounce.removed", a, 0,
					    "probes unanswered") < 0 ||
			    tell_leaders(s, c, l, "bounce-removed", a,
					 due[i].score, due[i].probes,
					 NULL) < 0)
				goto fail;
			log_info("list=%s: <%s> removed: %d probes "
				 "unanswered", l->name, safe, due[i].probes);
			continue;
		}
		if (due[i].token == NULL)
			continue;
		if (send_probe(s, c, l, a, due[i].token, due[i].probes + 1,
			       due[i].score, NULL) < 0 ||
		    store_bounce_probe_sent(s, l->name, a,
					    now + cb->probe_interval_s) < 0)
			goto fail;
		log_info("list=%s: probe %d of %ld sent to <%s>", l->name,
			 due[i].probes + 1, cb->probes, safe);
	}
	if (store_commit(s) < 0)
		goto fail;
	if (decayed > 0)
		log_info("list=%s: %lld bounce scores reset after a quiet "
			 "period", l->name, (long long)decayed);
	store_bounce_due_free(&due, n);
	return 0;
fail:
	store_bounce_due_free(&due, n);
	store_rollback(s);
	return -1;
}

int bounce_pass(const struct conf *c, struct store *s)
{
	time_t now = util_now();
	size_t i;
	int rc = 0;

	for (i = 0; i < c->nlists; i++) {
		if (pass_list(c, s, &c->lists[i], now) < 0) {
			log_error("list=%s: bounce probes: %s; retried next "
				  "pass", c->lists[i].name, store_error(s));
			rc = -1;
		}
	}
	return rc;
}
