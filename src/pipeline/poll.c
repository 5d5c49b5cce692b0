/* poll - polls by reply */
#include "autoconf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "pipeline/poll.h"
#include "base/buf.h"
#include "base/conf.h"
#include "base/log.h"
#include "base/schedule.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "mail/compose.h"
#include "mail/msg.h"
#include "mail/oneclick.h"
#include "mail/rewrite.h"
#include "mail/robot.h"
#include "pipeline/notice.h"
#include "store/store.h"
#include "store/store_polls.h"

/* A question or an option is at most this long. */
#define TEXT_MAX 200
/* Polls closed in one pass, at most. */
#define CLOSE_PER_PASS 20

void poll_spec_clear(struct poll_spec *sp)
{
	size_t i;

	free(sp->question);
	for (i = 0; i < sp->noptions; i++)
		free(sp->options[i]);
	memset(sp, 0, sizeof *sp);
}

/* "key: value": the key is letters only, at most 16, lower-cased into
 * key[]; *value_r the value trimmed. */
static bool key_line(char *line, char key[20], char **value_r)
{
	size_t i = 0;

	while (*line == ' ' || *line == '\t')
		line++;
	while (i < 16 && ((line[i] >= 'a' && line[i] <= 'z') ||
			  (line[i] >= 'A' && line[i] <= 'Z'))) {
		key[i] = (char)(line[i] | 0x20);
		i++;
	}
	if (i == 0 || line[i] != ':')
		return false;
	key[i] = '\0';
	*value_r = util_trim(line + i + 1);
	return true;
}

/* Text for a poll: control bytes made spaces, at most TEXT_MAX bytes on
 * a character boundary. Newly allocated. */
static char *clean(const char *v)
{
	char *t = xstrdup(v);
	size_t i, n = strlen(t);

	for (i = 0; i < n; i++)
		if ((unsigned char)t[i] < 32 || t[i] == 127)
			t[i] = ' ';
	if (n > TEXT_MAX) {
		n = TEXT_MAX;
		while (n > 0 && ((unsigned char)t[n] & 0xc0) == 0x80)
			n--;
		t[n] = '\0';
	}
	return t;
}

static int set_closes(struct poll_spec *sp, const char *v, const char *tz,
		      time_t now)
{
	long d = conf_parse_duration(v);
	time_t t;

	if (d > 0)
		t = now + d;
	else if (schedule_parse_local(v, tz, &t) < 0)
		return -1;
	if (t <= now || t > now + POLL_OPEN_MAX)
		return -1;
	sp->closes_at = t;
	return 0;
}

static int spec_line(struct poll_spec *sp, const char *key, const char *v,
		     const char *tz, time_t now, const char **problem_r)
{
	if (strcmp(key, "question") == 0) {
		free(sp->question);
		sp->question = *v ? clean(v) : NULL;
	} else if (strcmp(key, "option") == 0 || strcmp(key, "choice") == 0) {
		if (*v == '\0')
			return 0;
		if (sp->noptions == STORE_POLL_OPTIONS_MAX) {
			*problem_r = "poll-options";
			return -1;
		}
		sp->options[sp->noptions++] = clean(v);
	} else if (strcmp(key, "closes") == 0) {
		if (set_closes(sp, v, tz, now) < 0) {
			*problem_r = "poll-closes";
			return -1;
		}
	} else if (strcmp(key, "results") == 0) {
		sp->to_list = strcasecmp(v, "list") == 0;
	}
	return 0;
}

int poll_spec_read(const char *text, const char *tz, time_t now,
		   struct poll_spec *sp, const char **problem_r)
{
	char *copy = xstrdup(text != NULL ? text : ""), *line, *next, *v;
	char key[20];
	int rc = 0;

	memset(sp, 0, sizeof *sp);
	for (line = copy; line != NULL && rc == 0; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		line[strcspn(line, "\r")] = '\0';
		if (line[0] == '>' || strcmp(line, "-- ") == 0 ||
		    strcmp(line, "--") == 0)
			break;
		if (key_line(line, key, &v))
			rc = spec_line(sp, key, v, tz, now, problem_r);
	}
	free(copy);
	if (rc == 0 && sp->question == NULL) {
		*problem_r = "poll-no-question";
		rc = -1;
	} else if (rc == 0 && sp->noptions < 2) {
		*problem_r = "poll-options";
		rc = -1;
	} else if (rc == 0 && sp->closes_at == 0) {
		*problem_r = "poll-closes";
		rc = -1;
	}
	if (rc < 0)
		poll_spec_clear(sp);
	return rc;
}

int poll_choice(const struct store_poll *p, const char *words)
{
	char w[64];
	size_t i, n = 0, k;
	int found = 0;

	while (*words == ' ' || *words == '\t')
		words++;
	for (i = 0; i < p->noptions; i++) {
		size_t len = strlen(p->options[i]);

		if (strncasecmp(words, p->options[i], len) == 0 &&
		    strspn(words + len, " .!\t") == strlen(words + len))
			return (int)i + 1;
	}
	while (n < sizeof w - 1 && words[n] != '\0' &&
	       strchr(" \t.,;:!?)\"'", words[n]) == NULL) {
		w[n] = words[n];
		n++;
	}
	w[n] = '\0';
	if (n == 0)
		return 0;
	if (strspn(w, "0123456789") == n) {
		k = n <= 3 ? (size_t)atoi(w) : 0;
		return k >= 1 && k <= p->noptions ? (int)k : 0;
	}
	for (i = 0; i < p->noptions; i++) {
		const char *o = p->options[i];

		/* a word of the option, whole */
		while (*o != '\0') {
			size_t wl = strcspn(o, " ,;:/()-");

			if (wl == n && strncasecmp(o, w, n) == 0) {
				if (found != 0 && found != (int)i + 1)
					return 0;
				found = (int)i + 1;
				break;
			}
			o += wl;
			o += strspn(o, " ,;:/()-");
		}
	}
	return found;
}

/* ---- messages ---- */

static void fmt_local(const struct conf_list *l, time_t t, char dst[64])
{
	struct tm tm;

	schedule_localtime(l->report_timezone, t, &tm);
	if (strftime(dst, 64, "%Y-%m-%d %H:%M", &tm) == 0)
		snprintf(dst, 64, "?");
	else
		snprintf(dst + strlen(dst), 64 - strlen(dst), " %s",
			 l->report_timezone);
}

/* The placeholders of poll p: poll_id, question, options, closes,
 * vote_address, count (its options). */
static void poll_vars(struct notice_vars *v, const struct conf *c,
		      const struct conf_list *l, const struct store_poll *p)
{
	struct buf opts = BUF_INIT;
	char closes[64];
	size_t i;

	notice_vars_init(v, c, l);
	for (i = 0; i < p->noptions; i++)
		buf_printf(&opts, "  %zu. %s\n", i + 1, p->options[i]);
	fmt_local(l, p->closes_at, closes);
	notice_vars_own(v, "poll_id", xasprintf("%lld", (long long)p->id));
	notice_vars_set(v, "question", p->question);
	notice_vars_own(v, "options", buf_steal(&opts, NULL));
	notice_vars_own(v, "closes", xstrdup(closes));
	notice_vars_own(v, "vote_address", xasprintf("%s-vote+%lld@%s",
		l->name, (long long)p->id, c->domain));
	notice_vars_own(v, "count", xasprintf("%zu", p->noptions));
	notice_vars_set(v, "sender", p->created_by);
	/* set by the lines that use them */
	notice_vars_set(v, "number", "");
	notice_vars_set(v, "title", "");
	notice_vars_set(v, "status", "");
	notice_vars_set(v, "total", "");
	notice_vars_set(v, "changes", "");
	notice_vars_set(v, "results", "");
}

/* Template `name` with v to every member who gets mail, as list mail
 * (its header fields and Subject prefix), Reply-To reply_to. *broken_r
 * when it cannot be written (nothing queued, 0 returned). */
static int to_members(struct store *s, const struct conf *c,
		      const struct conf_list *l, const char *name,
		      const struct notice_vars *v, const char *reply_to,
		      bool *broken_r)
{
	char *from = xasprintf("%s-owner@%s", l->name, c->domain);
	char *list = xasprintf("%s@%s", l->name, c->domain);
	char *env = xasprintf("%s-bounces@%s", l->name, c->domain);
	struct compose how = { .from = from, .to = list,
			       .reply_to = reply_to };
	struct msg_limits lim = {
		.max_header_bytes = (size_t)c->limits.max_header_kb * 1024,
		.max_headers = (size_t)c->limits.max_headers,
	};
	struct buf raw = BUF_INIT, data = BUF_INIT;
	struct rewrite_params p;
	struct msg m = { 0 };
	const char *rerr = NULL;
	char *err = NULL;
	int rc = 0;

	if (compose_from_template(c, l, name, v->v, v->n, &how, &raw,
				  &err) < 0 ||
	    msg_parse(&m, raw.data, raw.len, &lim, NULL) != MSG_OK) {
		log_error("list=%s: %s not sent: %s", l->name, name,
			  err != NULL ? err : "its header is too big");
		*broken_r = true;
	} else {
		struct store_job_new j = {
			.list = l->name, .kind = JOB_POST,
			.audience = AUDIENCE_MAIL, .env_from = env,
		};
		char marker[ONECLICK_MARKER_MAX];

		if (oneclick_marker(l, marker))
			j.token_marker = marker;
		rewrite_params_from_conf(&p, c, l, NULL);
		p.reply_to = reply_to != NULL ? REPLYTO_NONE : REPLYTO_LIST;
		p.from_munging = FROMMUNGE_NONE;
		p.unsubscribe_token = j.token_marker;
		(void)rewrite_post(&m, &p, &rerr);
		msg_write(&m, &data);
		j.data = data.data;
		j.len = data.len;
		rc = store_job_queue(s, &j, NULL);
	}
	free(err);
	msg_free(&m);
	buf_free(&raw);
	buf_free(&data);
	free(from);
	free(list);
	free(env);
	return rc;
}

/* Appends answer line `key` of answer-lines with v to out. */
static void answer(const struct conf *c, const struct conf_list *l,
		   const char *key, struct notice_vars *v, struct buf *out,
		   bool *broken_r)
{
	/* Every name of answer-lines (commands.c sets the same). */
	static const char *const names[] = {
		"address", "name", "mode", "token", "confirm_address",
		"expires", "request_id", "results", "members", "policy",
		"subscription", "reason", "id", "subject", "date", "query",
		"poll_id", "question", "closes", "vote_address", "count",
		"sender", "meeting_id", "title", "when", "rsvp_address",
		"capacity", "going", "waiting", "maybe", "declined",
		"unanswered", "problem", NULL
	};
	size_t i, k;

	for (i = 0; names[i] != NULL; i++) {
		for (k = 0; k < v->n && strcmp(v->v[k].name, names[i]) != 0;
		     k++)
			;
		if (k == v->n)
			notice_vars_set(v, names[i], "");
	}
	if (notice_line_wrapped(c, l, "answer-lines", key, v, out) < 0)
		*broken_r = true;
}

int poll_command(struct store *s, struct incoming *in, struct buf *out,
		 bool *broken_r)
{
	const struct conf *c = in->c;
	const struct conf_list *l = in->list;
	struct store_poll p = { 0 };
	struct poll_spec sp;
	struct notice_vars v;
	const char *problem = NULL;
	char *vote;
	size_t i;
	int rc = 0;

	if (!conf_list_is_leader(l, in->sender)) {
		notice_vars_init(&v, c, l);
		answer(c, l, "poll-leaders-only", &v, out, broken_r);
		notice_vars_free(&v);
		return 0;
	}
	if (poll_spec_read(in->text, l->report_timezone, util_now(), &sp,
			   &problem) < 0) {
		notice_vars_init(&v, c, l);
		answer(c, l, problem, &v, out, broken_r);
		notice_vars_free(&v);
		return 0;
	}
	p.list = (char *)l->name;
	p.question = sp.question;
	for (i = 0; i < sp.noptions; i++)
		p.options[i] = sp.options[i];
	p.noptions = sp.noptions;
	p.created_by = in->sender;
	p.created_at = util_now();
	p.closes_at = sp.closes_at;
	p.to_list = sp.to_list;
	rc = store_poll_add(s, &p, &p.id);
	poll_vars(&v, c, l, &p);
	vote = xasprintf("%s-vote+%lld@%s", l->name, (long long)p.id,
			 c->domain);
	if (rc == 0)
		rc = to_members(s, c, l, "poll", &v, vote, broken_r);
	if (rc == 0)
		rc = store_event_add(s, l->name, "poll.opened", in->sender,
				     p.id, NULL);
	if (rc == 0)
		answer(c, l, "poll-opened", &v, out, broken_r);
	notice_vars_free(&v);
	poll_spec_clear(&sp);
	free(vote);
	return rc;
}

/* ---- votes at NAME-vote+ID ---- */

/* The first line the voter wrote (not quoted, not empty); "" if none.
 * Newly allocated. */
static char *first_words(const char *text)
{
	const char *p = text != NULL ? text : "";

	while (*p != '\0') {
		size_t n = strcspn(p, "\n");
		char *line = util_trim(xstrndup(p, n));

		bool quoted = *line == '>';

		if (*line != '\0' && !quoted)
			return line;
		free(line);
		if (quoted)
			break;
		p += n + (p[n] == '\n');
	}
	return xstrdup("");
}

static enum status drop(struct incoming *in, int64_t id, const char *why)
{
	log_info("list=%s message-id=<%s> from=<%s>: poll %lld: vote "
		 "dropped: %s", in->list->name, in->logid, in->logfrom,
		 (long long)id, why);
	return ST_OK;
}

/* Tells the voter what was counted (poll-voted) or that nothing was
 * (poll-unclear): rate-limited, never to a robot. */
static int tell_voter(struct store *s, struct incoming *in,
		      const struct store_poll *p, int option, bool changed)
{
	const struct conf *c = in->c;
	const struct conf_list *l = in->list;
	char *from = xasprintf("%s-owner@%s", l->name, c->domain);
	char *vote = xasprintf("%s-vote+%lld@%s", l->name, (long long)p->id,
			       c->domain);
	struct notice how = {
		.from = from, .reply_to = vote, .answers = &in->m,
		.answers_sender = in->sender, .auto_submitted = "auto-replied",
		.in_reply_to = in->message_id, .limited = true,
	};
	struct notice_vars v;
	const char *rcpt = in->sender;
	int rc;

	poll_vars(&v, c, l, p);
	notice_vars_own(&v, "number", xasprintf("%d", option));
	notice_vars_set(&v, "title", option > 0 ? p->options[option - 1] :
			"");
	notice_vars_set(&v, "status", changed ? "changed" : "new");
	rc = notice_send(s, c, l, option > 0 ? "poll-voted" : "poll-unclear",
			 &v, &how, &rcpt, 1);
	notice_vars_free(&v);
	free(from);
	free(vote);
	return rc;
}

static enum status record(struct store *s, struct incoming *in,
			  const struct store_poll *p,
			  enum incoming_outcome *outcome_r)
{
	char *words = first_words(in->text);
	int option = poll_choice(p, words);
	bool changed = false;
	char detail[32];

	free(words);
	snprintf(detail, sizeof detail, "%d", option);
	if (option > 0 && (store_poll_vote(s, p->id, in->sender, option,
					   util_now(), &changed) < 0 ||
			   store_event_add(s, in->list->name, "poll.vote",
					   in->sender, p->id, detail) < 0))
		return incoming_store_failure(s, in, "record vote");
	if (tell_voter(s, in, p, option, changed) < 0)
		return incoming_store_failure(s, in, "confirm vote");
	log_info("list=%s message-id=<%s> from=<%s>: poll %lld: %s", in->list->name,
		 in->logid, in->logfrom, (long long)p->id,
		 option == 0 ? "no option recognised" :
		 changed ? "vote changed" : "vote counted");
	*outcome_r = option > 0 ? INCOMING_ACCEPTED : INCOMING_DROPPED;
	return ST_OK;
}

enum status poll_vote_handle(struct store *s, struct incoming *in,
			     enum incoming_outcome *outcome_r)
{
	const struct conf_list *l = in->list;
	struct store_poll p = { 0 };
	struct store_member m = { 0 };
	int64_t id = util_digits_id(in->route.extension);
	const char *robot = robot_reason(&in->m, in->sender);
	bool found = false, member = false;
	enum status st;

	*outcome_r = INCOMING_DROPPED;
	if (id != 0 && store_poll_get(s, id, &p, &found) < 0)
		return incoming_store_failure(s, in, "read poll");
	if (!found || strcmp(p.list, l->name) != 0)
		st = drop(in, id, "no such poll on this list");
	else if (robot != NULL)
		st = drop(in, id, robot);
	else if (p.closed || p.closes_at <= util_now())
		st = drop(in, id, "the poll is closed");
	else if (in->sender == NULL)
		st = drop(in, id, "no sender");
	else if (store_member_get(s, l->name, in->sender, &m, &member) < 0)
		st = incoming_store_failure(s, in, "membership lookup");
	else if (!member || m.status == MEMBER_PENDING)
		st = drop(in, id, "not a member of the list");
	else
		st = record(s, in, &p, outcome_r);
	store_member_clear(&m);
	store_poll_clear(&p);
	return st;
}

/* ---- results ---- */

int poll_results_text(struct store *s, const struct conf *c,
		      const struct conf_list *l, const struct store_poll *p,
		      struct buf *out)
{
	int64_t counts[STORE_POLL_OPTIONS_MAX], voters, changes;
	struct notice_vars v;
	size_t i;

	if (store_poll_tally(s, p->id, counts, p->noptions, &voters,
			     &changes) < 0)
		return -1;
	poll_vars(&v, c, l, p);
	notice_vars_own(&v, "total", xasprintf("%lld", (long long)voters));
	notice_vars_own(&v, "changes", xasprintf("%lld", (long long)changes));
	notice_vars_set(&v, "status", p->closed ? "closed" : "open");
	notice_line(c, l, "poll-lines", "results", &v, out);
	for (i = 0; i < p->noptions; i++) {
		notice_vars_own(&v, "number", xasprintf("%zu", i + 1));
		notice_vars_set(&v, "title", p->options[i]);
		notice_vars_own(&v, "count", xasprintf("%lld",
						       (long long)counts[i]));
		notice_line(c, l, "poll-lines", "result-entry", &v, out);
	}
	notice_line(c, l, "poll-lines", "result-voters", &v, out);
	notice_vars_free(&v);
	return 0;
}

/* Closes p (open) and sends its results, part of the caller's
 * transaction. */
static int close_one(struct store *s, const struct conf *c,
		     const struct conf_list *l, struct store_poll *p,
		     bool *closed_r)
{
	struct buf results = BUF_INIT;
	struct notice_vars v;
	const char **rcpts;
	char *from = xasprintf("%s-owner@%s", l->name, c->domain);
	struct notice how = { .from = from };
	size_t n;
	bool broken = false;
	int rc;

	if (store_poll_close(s, p->id, util_now(), closed_r) < 0 ||
	    !*closed_r) {
		free(from);
		return *closed_r ? -1 : 0;
	}
	p->closed = true;
	if (poll_results_text(s, c, l, p, &results) < 0) {
		free(from);
		return -1;
	}
	poll_vars(&v, c, l, p);
	notice_vars_set(&v, "results", buf_cstr(&results));
	rcpts = conf_list_roles(l, CONF_LEADERS, &n);
	rc = notice_send(s, c, l, "poll-results", &v, &how, rcpts, n);
	if (rc == 0 && p->to_list)
		rc = to_members(s, c, l, "poll-results", &v, NULL, &broken);
	if (rc == 0 && broken)
		rc = -1;
	if (rc == 0)
		rc = store_event_add(s, l->name, "poll.closed", NULL, p->id,
				     NULL);
	free(rcpts);
	notice_vars_free(&v);
	buf_free(&results);
	free(from);
	return rc;
}

int poll_close(struct store *s, const struct conf *c,
	       const struct conf_list *l, int64_t id, bool *closed_r)
{
	struct store_poll p = { 0 };
	bool found;
	int rc;

	*closed_r = false;
	if (store_begin(s) < 0)
		return -1;
	rc = store_poll_get(s, id, &p, &found);
	if (rc == 0 && found && strcmp(p.list, l->name) == 0 && !p.closed)
		rc = close_one(s, c, l, &p, closed_r);
	if (rc == 0)
		rc = store_commit(s);
	if (rc < 0) {
		store_rollback(s);
		*closed_r = false;
	}
	store_poll_clear(&p);
	return rc;
}

int poll_pass(const struct conf *c, struct store *s, time_t now)
{
	int64_t *ids = NULL;
	size_t n = 0, i;
	int rc = 0;

	if (store_polls_due(s, now, CLOSE_PER_PASS, &ids, &n) < 0) {
		log_error("polls: %s; tried again next pass", store_error(s));
		return -1;
	}
	for (i = 0; i < n; i++) {
		struct store_poll p = { 0 };
		const struct conf_list *l;
		bool found, closed;

		if (store_poll_get(s, ids[i], &p, &found) < 0 || !found) {
			store_poll_clear(&p);
			continue;
		}
		l = conf_find_list(c, p.list);
		if (l != NULL && poll_close(s, c, l, p.id, &closed) < 0) {
			log_error("list=%s: poll %lld not closed: %s; tried "
				  "again next pass", l->name, (long long)p.id,
				  store_error(s));
			rc = -1;
		} else if (l != NULL && closed) {
			log_info("list=%s: poll %lld closed, results sent",
				 l->name, (long long)p.id);
		}
		store_poll_clear(&p);
	}
	free(ids);
	return rc;
}
