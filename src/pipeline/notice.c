/* notice - template -> compose -> queue, the one way convene sends mail */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pipeline/notice.h"
#include "base/addr.h"
#include "base/buf.h"
#include "base/conf.h"
#include "base/log.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "mail/compose.h"
#include "mail/robot.h"
#include "store/store.h"
#include "store/store_subs.h"

void notice_vars_init(struct notice_vars *v, const struct conf *c,
		      const struct conf_list *l)
{
	memset(v, 0, sizeof *v);
	v->n = template_list_vars(c, l, v->v, &v->storage);
}

void notice_vars_set(struct notice_vars *v, const char *name,
		     const char *value)
{
	size_t i;

	if (value == NULL)
		value = "";
	for (i = 0; i < v->n; i++) {
		if (strcmp(v->v[i].name, name) == 0) {
			v->v[i].value = value;
			return;
		}
	}
	if (v->n < NOTICE_VARS_MAX)
		v->v[v->n++] = (struct template_var){ name, value };
	else
		log_error("notice: placeholder %s dropped: more than %d",
			  name, NOTICE_VARS_MAX);
}

void notice_vars_own(struct notice_vars *v, const char *name, char *value)
{
	if (value == NULL) {
		notice_vars_set(v, name, "");
		return;
	}
	if (v->nowned == NOTICE_VARS_MAX) {
		log_error("notice: placeholder %s dropped: more than %d",
			  name, NOTICE_VARS_MAX);
		free(value);
		return;
	}
	v->owned[v->nowned++] = value;
	notice_vars_set(v, name, value);
}

void notice_vars_oneline(struct notice_vars *v, const char *name,
			 const char *value)
{
	char *t = xstrdup(value != NULL ? value : "");
	size_t i, n = strlen(t);

	for (i = 0; i < n; i++)
		if ((unsigned char)t[i] < 32 || t[i] == 127)
			t[i] = ' ';
	if (n > 200) {
		n = 200;
		while (n > 0 && ((unsigned char)t[n] & 0xc0) == 0x80)
			n--;
		t[n] = '\0';
	}
	notice_vars_own(v, name, t);
}

void notice_vars_time(struct notice_vars *v, const char *name, time_t t)
{
	char b[64];
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(b, sizeof b, "%Y-%m-%d %H:%M UTC", &tm) == 0)
		snprintf(b, sizeof b, "?");
	notice_vars_own(v, name, xstrdup(b));
}

void notice_vars_free(struct notice_vars *v)
{
	size_t i;

	for (i = 0; i < v->nowned; i++)
		free(v->owned[i]);
	v->nowned = 0;
	v->n = 0;
	template_vars_free(&v->storage);
}

/* v's placeholders, and every other name a template may use set to "":
 * a file of lines is rendered whole, so a line for another caller must
 * not keep this one from rendering. Newly allocated; *n_r entries. */
static struct template_var *all_vars(const struct notice_vars *v,
				     size_t *n_r)
{
	struct template_var *all;
	size_t nk = 0, n = v->n, i, j;

	while (template_known[nk] != NULL)
		nk++;
	all = xcalloc(v->n + nk, sizeof *all);
	memcpy(all, v->v, v->n * sizeof *all);
	for (i = 0; i < nk; i++) {
		for (j = 0; j < v->n; j++)
			if (strcmp(v->v[j].name, template_known[i]) == 0)
				break;
		if (j == v->n)
			all[n++] = (struct template_var){ template_known[i],
							  "" };
	}
	*n_r = n;
	return all;
}

int notice_line(const struct conf *c, const struct conf_list *l,
		 const char *name, const char *key,
		 const struct notice_vars *v, struct buf *out)
{
	char *text = NULL, *err = NULL, *line, *next;
	size_t k = strlen(key), nall;
	struct template_var *all = all_vars(v, &nall);
	int rc;

	rc = template_render(c, l, name, all, nall, &text, &err);
	free(all);
	if (rc < 0) {
		log_error("list=%s: %s", l->name, err);
		free(err);
		buf_printf(out, "[%s]\n", key);
		return -1;
	}
	for (line = text; line != NULL; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (strncmp(line, key, k) == 0 && line[k] == ':') {
			const char *t = line + k + 1;
			size_t n;

			/* One space after the colon; more is indentation. */
			if (*t == ' ')
				t++;
			n = strlen(t);
			while (n > 0 && (t[n - 1] == ' ' || t[n - 1] == '\t'))
				n--;
			buf_append(out, t, n);
			buf_putc(out, '\n');
			free(text);
			return 0;
		}
	}
	log_error("list=%s: template %s has no line \"%s:\"", l->name, name,
		  key);
	buf_printf(out, "[%s]\n", key);
	free(text);
	return -1;
}

int notice_line_wrapped(const struct conf *c, const struct conf_list *l,
			const char *name, const char *key,
			const struct notice_vars *v, struct buf *out)
{
	struct buf line = BUF_INIT;
	int rc = notice_line(c, l, name, key, v, &line);

	if (line.len > 0 && line.data[0] != ' ' && line.data[0] != '\t')
		template_wrap(line.data, line.len, TEMPLATE_WIDTH, out);
	else
		buf_append(out, line.data, line.len);
	buf_free(&line);
	return rc;
}

int notice_queue(struct store *s, const struct conf *c,
		 const struct conf_list *l, const char *env_from,
		 const char *const *rcpts, size_t n, const char *data,
		 size_t len)
{
	char *bounces = NULL;
	int rc;

	if (env_from == NULL)
		env_from = bounces = xasprintf("%s-bounces@%s", l->name,
					       c->domain);
	rc = store_job_add(s, l->name, JOB_DIRECT, 0, env_from, data, len,
			   rcpts, n, NULL);
	free(bounces);
	return rc;
}

static int notice_send_to(struct store *s, const struct conf *c,
			  const struct conf_list *l, const char *name,
			  const struct notice_vars *v, const struct notice *how,
			  const char *const *rcpts, size_t n);

int notice_rate_take(struct store *s, const struct conf *c,
		     const struct conf_list *l, const char *address,
		     bool *allowed_r)
{
	char *key = addr_rate_key(address), safe[160];
	int rc;

	rc = store_sub_rate_take(s, key, util_now(), c->answer_rate_window_s,
				 c->answer_rate_max, allowed_r);
	free(key);
	if (rc == 0 && !*allowed_r)
		log_info("list=%s: nothing sent to <%s>: over the answer rate "
			 "limit (%ld in %lds)", l->name,
			 log_sanitize(safe, sizeof safe, address,
				      strlen(address)),
			 c->answer_rate_max, c->answer_rate_window_s);
	return rc;
}

/* Whether mail may go to an address nobody chose: a valid one with a
 * domain name. An address literal ("[192.0.2.1]") is never answered: its
 * spellings would multiply a forger's quota, and no member reads list mail
 * there. */
static bool answerable(const struct conf_list *l, const char *name,
		       const char *rcpt)
{
	const char *at = strrchr(rcpt, '@');
	char safe[160];

	if (addr_valid(rcpt) && at != NULL && at[1] != '[')
		return true;
	log_info("list=%s: %s not sent to <%s>: not an address convene "
		 "answers", l->name, name,
		 log_sanitize(safe, sizeof safe, rcpt, strlen(rcpt)));
	return false;
}

int notice_send(struct store *s, const struct conf *c,
		const struct conf_list *l, const char *name,
		const struct notice_vars *v, const struct notice *how,
		const char *const *rcpts, size_t n)
{
	const char *robot;
	size_t i;
	int rc;

	if (n == 0)
		return 0;
	robot = how->answers != NULL ?
		robot_reason(how->answers, how->answers_sender) : NULL;
	if (robot != NULL) {
		log_info("list=%s: %s not sent: it would answer a robot (%s)",
			 l->name, name, robot);
		return 0;
	}
	if (how->limited) {
		const char **ok = xcalloc(n, sizeof *ok);
		size_t k = 0;
		bool allowed;

		for (i = 0; i < n; i++) {
			if (!answerable(l, name, rcpts[i]))
				continue;
			if (notice_rate_take(s, c, l, rcpts[i], &allowed) < 0) {
				free(ok);
				return -1;
			}
			if (allowed)
				ok[k++] = rcpts[i];
		}
		rc = k == 0 ? 0 : notice_send_to(s, c, l, name, v, how, ok, k);
		free(ok);
		return rc;
	}
	return notice_send_to(s, c, l, name, v, how, rcpts, n);
}

/* notice_send past the checks: render, compose, queue. */
static int notice_send_to(struct store *s, const struct conf *c,
			  const struct conf_list *l, const char *name,
			  const struct notice_vars *v, const struct notice *how,
			  const char *const *rcpts, size_t n)
{
	struct compose cm = {
		.from = how->from, .to = how->to, .reply_to = how->reply_to,
		.in_reply_to = how->in_reply_to,
		.auto_submitted = how->auto_submitted,
		.attach = how->attach, .attach_len = how->attach_len,
		.parts = how->parts, .nparts = how->nparts,
		.html = how->html, .images = how->images,
		.nimages = how->nimages,
	};
	struct buf to = BUF_INIT, out = BUF_INIT;
	char *owner = NULL, *err = NULL;
	size_t i;
	int rc = 0;

	if (cm.from == NULL)
		cm.from = owner = xasprintf("%s-owner@%s", l->name, c->domain);
	if (cm.to == NULL) {
		for (i = 0; i < n; i++)
			buf_printf(&to, "%s%s", i > 0 ? ", " : "", rcpts[i]);
		cm.to = buf_cstr(&to);
	}
	if (compose_from_template(c, l, name, v->v, v->n, &cm, &out,
				  &err) < 0) {
		/* Never lost: the caller rolls back, so the mail that
		 * caused the notice stays with the MTA, or the worker's job
		 * waits, until the admin fixes the template. */
		log_error("list=%s: notice %s not sent: %s; left to retry",
			  l->name, name, err);
		free(err);
		rc = -1;
	} else {
		rc = notice_queue(s, c, l, how->env_from, rcpts, n, out.data,
				  out.len);
	}
	buf_free(&to);
	buf_free(&out);
	free(owner);
	return rc;
}
