/* template - the prose convene writes, from files with named placeholders */
#include "autoconf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/template.h"
#include "base/buf.h"
#include "base/conf.h"
#include "base/util.h"
#include "base/xalloc.h"

#define TEMPLATE_MAX (256 * 1024)

const char *const template_known[] = {
	/* of the list */
	"list", "list_address", "request_address", "owner_address",
	"subscribe_address", "unsubscribe_address", "description", "domain",
	"archive_url", "digest_schedule", "digest_timezone",
	/* of the message or person concerned */
	"sender", "sender_name", "subject", "message_id", "excerpt", "reason",
	"address", "name", "mode", "status",
	/* of a confirmation or decision */
	"token", "confirm_address", "expires", "command", "commands",
	"results", "decision", "decider", "decided_at", "hold_id", "count",
	"members", "score", "held_at",
	/* of content rules: the parts removed from a post */
	"removed",
	/* of subscription requests (commands) */
	"request_id", "policy", "subscription",
	/* of digests: the issue, its table of contents, its messages */
	"volume", "issue", "date", "toc", "unanswered", "faq", "number",
	"senders", "attachment",
	/* of the archive (archive-lines) */
	"id", "thread_id", "replies", "indent", "query", "matches",
	"total", "title", "tag", "ids", "limit", "kb",
	/* of health reports, nudges and their acts (report-lines) */
	"weeks", "figures", "spark", "values", "last", "mean", "slope",
	"recent", "base", "percent", "after", "age", "median", "answered",
	"joined", "left", "removed", "other",
	/* of polls */
	"poll_id", "question", "options", "closes", "vote_address",
	"changes",
	/* of meetings */
	"meeting_id", "when", "duration", "where", "url", "agenda",
	"capacity", "repeat", "rsvp_address", "organizer", "going", "waiting",
	"maybe", "declined", "attendees", "position", "lead",
	"problem",
	NULL
};

const struct template_use template_uses[] = {
	/* parts of other messages */
	{ "footer", false }, { "content-removed", false },
	{ "answer-lines", false }, { "archive-lines", false },
	/* answers and confirmations (NAME-request and the shortcuts) */
	{ "help", true }, { "answer", true }, { "closed", true },
	{ "confirm-subscribe", true }, { "confirm-unsubscribe", true },
	{ "confirm-set", true },
	{ "invite", true }, { "welcome", true }, { "goodbye", true },
	{ "approval-notice", true }, { "subscription-rejected", true },
	/* moderation */
	{ "hold-notice", true }, { "hold-pending", true },
	{ "hold-rejected", true }, { "hold-decided", true },
	{ "hold-late", true }, { "hold-forged", true },
	{ "hold-expired", true }, { "hold-unclear", true },
	{ "post-rejected", true },
	/* bounces */
	{ "bounce-probe", true }, { "bounce-disabled", true },
	{ "bounce-removed", true },
	/* digests */
	{ "digest", true }, { "digest-lines", false },
	/* health reports, nudges, acting on them, polls */
	{ "report", true }, { "report-html", false },
	{ "report-lines", false }, { "report-nudge", true },
	{ "report-remind", true }, { "report-welcome", true },
	{ "report-thank", true },
	{ "poll", true }, { "poll-voted", true }, { "poll-unclear", true },
	{ "poll-results", true }, { "poll-lines", false },
	/* meetings */
	{ "meeting-invite", true }, { "meeting-update", true },
	{ "meeting-cancel", true }, { "meeting-reminder", true },
	{ "meeting-summary", true }, { "meeting-rsvp-going", true },
	{ "meeting-rsvp-waiting", true }, { "meeting-rsvp-maybe", true },
	{ "meeting-rsvp-declined", true }, { "meeting-moved-up", true },
	{ "meeting-minutes", true },
	{ NULL, false }
};

size_t template_list_vars(const struct conf *c, const struct conf_list *l,
			  struct template_var *vars, char ***storage)
{
	char **s = xcalloc(7, sizeof *s);
	size_t n = 0;

	s[0] = xasprintf("%s@%s", l->name, c->domain);
	s[1] = xasprintf("%s-request@%s", l->name, c->domain);
	s[2] = xasprintf("%s-owner@%s", l->name, c->domain);
	s[3] = xasprintf("%s-subscribe@%s", l->name, c->domain);
	s[4] = xasprintf("%s-unsubscribe@%s", l->name, c->domain);
	vars[n++] = (struct template_var){ "list", l->name };
	vars[n++] = (struct template_var){ "list_address", s[0] };
	vars[n++] = (struct template_var){ "request_address", s[1] };
	vars[n++] = (struct template_var){ "owner_address", s[2] };
	vars[n++] = (struct template_var){ "subscribe_address", s[3] };
	vars[n++] = (struct template_var){ "unsubscribe_address", s[4] };
	vars[n++] = (struct template_var){ "description",
		l->description ? l->description : "" };
	vars[n++] = (struct template_var){ "domain", c->domain };
	vars[n++] = (struct template_var){ "archive_url",
		l->archive_url ? l->archive_url : "" };
	vars[n++] = (struct template_var){ "digest_schedule",
		l->digest_schedule ? l->digest_schedule : "" };
	vars[n++] = (struct template_var){ "digest_timezone",
		l->digest_timezone ? l->digest_timezone : "UTC" };
	*storage = s;
	return n;
}

void template_vars_free(char ***storage)
{
	size_t i;

	if (*storage == NULL)
		return;
	for (i = 0; (*storage)[i] != NULL; i++)
		free((*storage)[i]);
	xfree(storage);
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/* Walks text; for each placeholder calls fn(name, len). Literal text goes to
 * out when out is non-NULL. Returns 0, or -1 with *error_r. */
static int expand(const char *text, size_t len, const char *where,
		  int (*fn)(const char *name, size_t nlen, void *ctx,
			    struct buf *out),
		  void *ctx, struct buf *out, char **error_r)
{
	size_t i = 0, line = 1, j;

	while (i < len) {
		if (text[i] == '{' && i + 1 < len && text[i + 1] == '{') {
			j = i + 2;
			while (j < len && name_char(text[j]))
				j++;
			if (j + 1 >= len || text[j] != '}' ||
			    text[j + 1] != '}' || j == i + 2) {
				*error_r = xasprintf("%s:%zu: unterminated or "
						     "malformed placeholder",
						     where, line);
				return -1;
			}
			if (fn(text + i + 2, j - i - 2, ctx, out) < 0) {
				*error_r = xasprintf("%s:%zu: unknown "
						     "placeholder {{%.*s}}",
						     where, line,
						     (int)(j - i - 2),
						     text + i + 2);
				return -1;
			}
			i = j + 2;
			continue;
		}
		if (text[i] == '\n')
			line++;
		if (out != NULL)
			buf_putc(out, text[i]);
		i++;
	}
	return 0;
}

struct render_ctx {
	const struct template_var *vars;
	size_t nvars;
};

static int render_var(const char *name, size_t nlen, void *ctx,
		      struct buf *out)
{
	const struct render_ctx *r = ctx;
	size_t i;

	for (i = 0; i < r->nvars; i++) {
		if (strlen(r->vars[i].name) == nlen &&
		    memcmp(r->vars[i].name, name, nlen) == 0) {
			buf_puts(out, r->vars[i].value ? r->vars[i].value : "");
			return 0;
		}
	}
	return -1;
}

/* Reads template `name` of list l (its own copy first) into text, and
 * fills it into out. 0, or -1 with *error_r. */
static int load(const struct conf *c, const struct conf_list *l,
		const char *name, const struct render_ctx *ctx,
		struct buf *text, struct buf *out, char **error_r)
{
	char *path = NULL;
	const char *lang = c->language ? c->language : "en";
	int rc = -1;

	if (l != NULL) {
		path = xasprintf("%s/%s/%s/%s.txt", c->templates, lang,
				 l->name, name);
		if (access(path, F_OK) < 0)
			xfree(&path);
	}
	if (path == NULL)
		path = xasprintf("%s/%s/%s.txt", c->templates, lang, name);
	if (util_read_file(path, TEMPLATE_MAX, text) < 0)
		*error_r = xasprintf("template %s: %s", path, strerror(errno));
	else
		rc = expand(text->data, text->len, path, render_var,
			    (void *)ctx, out, error_r);
	free(path);
	return rc;
}

int template_render(const struct conf *c, const struct conf_list *l,
		    const char *name, const struct template_var *vars,
		    size_t nvars, char **out_r, char **error_r)
{
	struct buf text = BUF_INIT, out = BUF_INIT;
	struct render_ctx ctx = { vars, nvars };

	if (load(c, l, name, &ctx, &text, &out, error_r) < 0) {
		buf_free(&text);
		buf_free(&out);
		return -1;
	}
	buf_free(&text);
	*out_r = buf_steal(&out, NULL);
	return 0;
}

/* Characters (not bytes) of UTF-8 text. */
static size_t width_of(const char *s, size_t n)
{
	size_t i, w = 0;

	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			w++;
	return w;
}

void template_wrap(const char *text, size_t len, size_t width,
		   struct buf *out)
{
	size_t i = 0, col = 0;

	while (i < len) {
		size_t start, n, w;

		while (i < len && (text[i] == ' ' || text[i] == '\t' ||
				   text[i] == '\n'))
			i++;
		if (i == len)
			break;
		start = i;
		while (i < len && text[i] != ' ' && text[i] != '\t' &&
		       text[i] != '\n')
			i++;
		n = i - start;
		w = width_of(text + start, n);
		if (col > 0 && col + 1 + w > width) {
			buf_putc(out, '\n');
			col = 0;
		} else if (col > 0) {
			buf_putc(out, ' ');
			col++;
		}
		buf_append(out, text + start, n);
		col += w;
	}
	buf_putc(out, '\n');
}

/* A line of running text in a template, which a message may wrap anew:
 * not indented, not quoted, not the signature mark, no column layout (a
 * run of two spaces). */
static bool prose_line(const char *line, size_t n)
{
	if (n == 0 || line[0] == ' ' || line[0] == '\t' || line[0] == '>')
		return false;
	if (n == 3 && memcmp(line, "-- ", 3) == 0)
		return false;
	return memmem(line, n, "  ", 2) == NULL;
}

int template_render_message(const struct conf *c, const struct conf_list *l,
			    const char *name, const struct template_var *vars,
			    size_t nvars, size_t width, char **out_r,
			    char **error_r)
{
	struct buf text = BUF_INIT, scratch = BUF_INIT, out = BUF_INIT;
	struct buf para = BUF_INIT;
	struct render_ctx ctx = { vars, nvars };
	const char *p, *end;
	bool body = false;
	size_t nlines = 0;

	/* Rendering the whole text first reports any problem with its
	 * line; the lines below can then no longer fail. */
	if (load(c, l, name, &ctx, &text, &scratch, error_r) < 0) {
		buf_free(&text);
		buf_free(&scratch);
		return -1;
	}
	p = text.data != NULL ? text.data : "";
	end = p + text.len;
	while (p < end || nlines > 0) {
		const char *nl = p < end ? memchr(p, '\n', (size_t)(end - p))
					 : NULL;
		size_t n = p < end ? (nl ? (size_t)(nl - p) :
					   (size_t)(end - p)) : 0;
		bool prose = body && p < end && prose_line(p, n);
		char *dummy = NULL;

		if (p < end) {
			buf_reset(&scratch);
			(void)expand(p, n, name, render_var, &ctx, &scratch,
				     &dummy);
			free(dummy);
			/* A value with line breaks of its own (a list of
			 * results, an excerpt) is kept as it is. */
			if (memchr(buf_cstr(&scratch), '\n', scratch.len))
				prose = false;
		}

		/* A paragraph of prose ends: out it goes, wrapped. */
		if (!prose && nlines > 0) {
			template_wrap(para.data, para.len, width, &out);
			buf_reset(&para);
			nlines = 0;
		}
		if (p >= end)
			break;
		if (prose) {
			buf_append(&para, scratch.data, scratch.len);
			buf_putc(&para, ' ');
			nlines++;
		} else {
			buf_append(&out, scratch.data, scratch.len);
			if (nl != NULL)
				buf_putc(&out, '\n');
		}
		if (!body && n == 0)
			body = true;    /* the header lines end here */
		p = nl != NULL ? nl + 1 : end;
	}
	buf_free(&text);
	buf_free(&scratch);
	buf_free(&para);
	*out_r = buf_steal(&out, NULL);
	return 0;
}

bool template_is_used(const char *name, size_t len)
{
	size_t i;

	for (i = 0; template_uses[i].name != NULL; i++)
		if (strlen(template_uses[i].name) == len &&
		    strncmp(template_uses[i].name, name, len) == 0)
			return true;
	return false;
}

/* Whether the header lines of a rendered message (up to the first blank
 * line) hold a Subject. */
static bool has_subject(const char *text)
{
	const char *line = text;

	while (*line != '\0' && *line != '\n') {
		const char *next = strchr(line, '\n');

		if (strncasecmp(line, "Subject:", 8) == 0)
			return true;
		if (next == NULL)
			break;
		line = next + 1;
	}
	return false;
}

size_t template_check_list(const struct conf *c, const struct conf_list *l,
			   void (*report)(const char *problem, void *ctx),
			   void *ctx)
{
	struct template_var vars[128];
	size_t n = 0, i, bad = 0;
	bool content = l->content_strip.n > 0 || l->content_pass.n > 0 ||
		       l->drop_html_alternative;

	/* Every placeholder a template may use, with a made-up value: the
	 * renderer then fails only on names it does not know. */
	for (i = 0; template_known[i] != NULL &&
		    n < sizeof vars / sizeof vars[0]; i++)
		vars[n++] = (struct template_var){ template_known[i],
						   "example" };
	for (i = 0; template_uses[i].name != NULL; i++) {
		const struct template_use *u = &template_uses[i];
		char *text = NULL, *err = NULL, *problem = NULL;

		if ((strcmp(u->name, "footer") == 0 && !l->footer) ||
		    (strcmp(u->name, "content-removed") == 0 && !content))
			continue;
		if (template_render(c, l, u->name, vars, n, &text, &err) < 0)
			problem = xasprintf("list %s: template %s cannot be "
					    "used: %s", l->name, u->name, err);
		else if (u->message && !has_subject(text))
			problem = xasprintf("list %s: template %s cannot be "
					    "used: no Subject line before the "
					    "first blank line", l->name,
					    u->name);
		if (problem != NULL) {
			report(problem, ctx);
			bad++;
		}
		free(problem);
		free(err);
		free(text);
	}
	return bad;
}

char *template_file(const struct conf *c, const struct conf_list *l,
		    const char *file)
{
	const char *lang = c->language ? c->language : "en";
	char *path;

	if (l != NULL) {
		path = xasprintf("%s/%s/%s/%s", c->templates, lang, l->name,
				 file);
		if (access(path, F_OK) == 0)
			return path;
		free(path);
	}
	return xasprintf("%s/%s/%s", c->templates, lang, file);
}

/* The path of template `name` for list l: the list's own when it exists.
 * Newly allocated. */
static char *template_path(const struct conf *c, const struct conf_list *l,
			   const char *name)
{
	char *file = xasprintf("%s.txt", name), *path;

	path = template_file(c, l, file);
	free(file);
	return path;
}

struct template_line {
	const char *key, *text;
	size_t klen, tlen, line;
};

struct template_lines {
	char *path;
	char *data;
	struct template_line *v;
	size_t n;
};

static bool key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

int template_lines_open(const struct conf *c, const struct conf_list *l,
			const char *name, struct template_lines **t_r,
			char **error_r)
{
	struct template_lines *t = xcalloc(1, sizeof *t);
	struct buf text = BUF_INIT;
	size_t cap = 0, lineno = 0;
	char *p, *next;

	t->path = template_path(c, l, name);
	if (util_read_file(t->path, TEMPLATE_MAX, &text) < 0) {
		*error_r = xasprintf("template %s: %s", t->path,
				     strerror(errno));
		buf_free(&text);
		template_lines_close(&t);
		return -1;
	}
	t->data = buf_steal(&text, NULL);
	for (p = t->data; p != NULL && *p != '\0'; p = next) {
		char *q = p;

		lineno++;
		next = strchr(p, '\n');
		if (next != NULL)
			*next++ = '\0';
		while (key_char(*q))
			q++;
		if (q == p || *q != ':')
			continue;
		if (t->n == cap) {
			cap = cap ? cap * 2 : 16;
			t->v = xreallocarray(t->v, cap, sizeof *t->v);
		}
		t->v[t->n].key = p;
		t->v[t->n].klen = (size_t)(q - p);
		q++;
		if (*q == ' ')
			q++;
		t->v[t->n].text = q;
		t->v[t->n].tlen = strlen(q);
		t->v[t->n].line = lineno;
		t->n++;
	}
	*t_r = t;
	return 0;
}

int template_lines_render(const struct template_lines *t, const char *key,
			  const struct template_var *vars, size_t nvars,
			  struct buf *out, char **error_r)
{
	struct render_ctx ctx = { vars, nvars };
	size_t i, k = strlen(key);

	for (i = 0; i < t->n; i++) {
		const struct template_line *ln = &t->v[i];
		char *where;
		int rc;

		if (ln->klen != k || memcmp(ln->key, key, k) != 0)
			continue;
		where = xasprintf("%s (line %zu)", t->path, ln->line);
		rc = expand(ln->text, ln->tlen, where, render_var, &ctx, out,
			    error_r);
		free(where);
		return rc;
	}
	*error_r = xasprintf("template %s has no line \"%s:\"", t->path, key);
	return -1;
}

void template_parts_free(char *path, char *data, void *index)
{
	free(path);
	free(data);
	free(index);
}

void template_lines_close(struct template_lines **tp)
{
	if (*tp != NULL)
		template_parts_free((*tp)->path, (*tp)->data, (*tp)->v);
	xfree(tp);
}

struct check_ctx {
	const char *const *known;
	size_t nknown;
};

static int check_var(const char *name, size_t nlen, void *ctx,
		     struct buf *out)
{
	const struct check_ctx *k = ctx;
	size_t i;

	for (i = 0; i < k->nknown; i++)
		if (strlen(k->known[i]) == nlen &&
		    memcmp(k->known[i], name, nlen) == 0)
			return 0;
	return -1;
}

int template_check_file(const char *path, const char *const *known,
			size_t nknown, char **error_r)
{
	struct buf text = BUF_INIT;
	struct check_ctx ctx = { known, nknown };
	int ret;

	if (util_read_file(path, TEMPLATE_MAX, &text) < 0) {
		*error_r = xasprintf("%s: %s", path, strerror(errno));
		buf_free(&text);
		return -1;
	}
	ret = expand(text.data, text.len, path, check_var, &ctx, NULL,
		     error_r);
	buf_free(&text);
	return ret;
}
