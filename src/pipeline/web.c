/* web - what convene web answers: pages, search, one-click unsubscribe */
#include "autoconf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "pipeline/web.h"
#include "pipeline/archive.h"
#include "pipeline/commands.h"
#include "pipeline/render.h"
#include "base/buf.h"
#include "base/conf.h"
#include "base/html.h"
#include "base/log.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "mail/oneclick.h"
#include "store/store.h"
#include "store/store_guard.h"
#include "store/store_web.h"

_Static_assert(ONECLICK_KEY_LEN == STORE_SECRET_LEN,
	       "the one-click key is a secret");

/* A segment of a page's path: a name of letters, digits, '.', '-', '_'
 * that does not begin with '.'. */
#define SEGMENT_MAX 128

static const char *const html_type = "text/html; charset=utf-8";

void web_response_free(struct web_response *rp)
{
	buf_free(&rp->body);
	xfree(&rp->file);
	xfree(&rp->location);
}

/* A short page: section `section` of web.html in the plain frame. */
static void notice(struct web_response *rp, const struct conf *c,
		   const struct conf_list *l, int status, const char *title,
		   const char *section, const struct html_var *v, size_t n)
{
	char *err = NULL;

	rp->status = status;
	rp->content_type = html_type;
	buf_reset(&rp->body);
	if (render_notice(c, l, title, section, v, n, &rp->body,
			  &err) < 0) {
		/* a broken template: the status says enough */
		log_error("web: %s", err);
		free(err);
		buf_reset(&rp->body);
		rp->content_type = "text/plain; charset=utf-8";
	}
}

static void not_found(struct web_response *rp, const struct conf *c)
{
	notice(rp, c, NULL, 404, "error-title", "not-found", NULL, 0);
}

static void busy(struct web_response *rp, const struct conf *c,
		 const char *what)
{
	log_error("web: %s", what);
	notice(rp, c, NULL, 503, "error-title", "unsubscribe-later", NULL,
	       0);
	rp->no_store = true;
}

/* ---- forms ---- */

/* %-decodes n bytes of a urlencoded key or value ('+' is a space). */
static char *form_decode(const char *s, size_t n)
{
	struct buf b = BUF_INIT;
	size_t i;

	buf_append(&b, "", 0);
	for (i = 0; i < n; i++) {
		if (s[i] == '+') {
			buf_putc(&b, ' ');
		} else if (s[i] == '%' && i + 2 < n &&
			   util_hexval(s[i + 1]) >= 0 &&
			   util_hexval(s[i + 2]) >= 0) {
			buf_putc(&b, (char)(util_hexval(s[i + 1]) * 16 +
					    util_hexval(s[i + 2])));
			i += 2;
		} else {
			buf_putc(&b, s[i]);
		}
	}
	return buf_steal(&b, NULL);
}

static char *urlencoded_value(const char *body, size_t len,
			      const char *name)
{
	const char *p = body, *end = body + len;

	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *fe = amp != NULL ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(fe - p));
		char *k = form_decode(p, (size_t)((eq ? eq : fe) - p));
		bool hit = strcmp(k, name) == 0;

		free(k);
		if (hit)
			return eq != NULL ? form_decode(eq + 1,
						(size_t)(fe - eq - 1)) :
			       xstrdup("");
		p = fe + 1;
	}
	return NULL;
}

/* The value of parameter `param` of a header value (such as boundary of
 * a Content-Type), quoted or not; newly allocated or NULL. */
static char *header_param(const char *value, const char *param)
{
	size_t k = strlen(param);
	const char *p = value;

	while ((p = strchr(p, ';')) != NULL) {
		p++;
		p += strspn(p, " \t");
		if (strncasecmp(p, param, k) != 0 || p[k] != '=')
			continue;
		p += k + 1;
		if (*p == '"') {
			const char *q = strchr(p + 1, '"');

			return q != NULL ? xstrndup(p + 1, (size_t)(q - p - 1))
					 : NULL;
		}
		return xstrndup(p, strcspn(p, "; \t\r\n"));
	}
	return NULL;
}

static char *multipart_value(const char *body, size_t len,
			     const char *content_type, const char *name)
{
	char *bnd = header_param(content_type, "boundary"), *delim, *want;
	const char *p, *end = body + len;
	char *value = NULL;
	size_t dl;

	if (bnd == NULL || *bnd == '\0') {
		free(bnd);
		return NULL;
	}
	delim = xasprintf("--%s", bnd);
	dl = strlen(delim);
	want = xasprintf("name=\"%s\"", name);
	p = memmem(body, len, delim, dl);
	while (p != NULL && value == NULL) {
		const char *part = p + dl, *next, *hdr_end, *data, *q;
		size_t skip;

		if (end - part >= 2 && part[0] == '-' && part[1] == '-')
			break;
		next = memmem(part, (size_t)(end - part), delim, dl);
		if (next == NULL)
			break;
		hdr_end = memmem(part, (size_t)(next - part), "\r\n\r\n", 4);
		skip = 4;
		if (hdr_end == NULL) {
			hdr_end = memmem(part, (size_t)(next - part), "\n\n",
					 2);
			skip = 2;
		}
		if (hdr_end != NULL &&
		    memmem(part, (size_t)(hdr_end - part), want,
			   strlen(want)) != NULL) {
			data = hdr_end + skip;
			q = next;
			/* the line break before a delimiter is the
			 * delimiter's */
			if (q > data && q[-1] == '\n')
				q--;
			if (q > data && q[-1] == '\r')
				q--;
			value = xstrndup(data, (size_t)(q - data));
		}
		p = next;
	}
	free(bnd);
	free(delim);
	free(want);
	return value;
}

char *web_form_value(const char *body, size_t len, const char *content_type,
		     const char *name)
{
	if (body == NULL)
		return NULL;
	if (content_type != NULL &&
	    strncasecmp(content_type, "multipart/form-data", 19) == 0)
		return multipart_value(body, len, content_type, name);
	if (content_type == NULL ||
	    strncasecmp(content_type, "application/x-www-form-urlencoded",
			33) == 0)
		return urlencoded_value(body, len, name);
	return NULL;
}

/* ---- one-click unsubscribe ---- */

/* The list and address that token names, when it is good: 0 with *l_r
 * NULL when it is not (forged, or its member left); -1 on a store
 * failure. */
static int token_member(struct store *s, const struct conf *c,
			const char *token, const struct conf_list **l_r,
			char **address_r)
{
	unsigned char key[ONECLICK_KEY_LEN];
	char *list = NULL, *address = NULL;
	int64_t id, salt;
	bool found;

	*l_r = NULL;
	*address_r = NULL;
	if (oneclick_parse(token, &id) < 0)
		return 0;
	if (store_web_member_by_id(s, id, &list, &address, &salt,
				   &found) < 0 ||
	    store_secret(s, "oneclick", key) < 0)
		return -1;
	if (found && oneclick_check(key, token, list, address, id, salt)) {
		*l_r = conf_find_list(c, list);
		if (*l_r != NULL) {
			*address_r = address;
			address = NULL;
		}
	}
	explicit_bzero(key, sizeof key);
	free(list);
	free(address);
	return 0;
}

static void unsubscribe(struct store *s, const struct conf *c,
			const struct web_request *rq, const char *token,
			struct web_response *rp)
{
	const struct conf_list *l;
	char *address = NULL, *oneclick = NULL;
	bool get = strcmp(rq->method, "GET") == 0 ||
		   strcmp(rq->method, "HEAD") == 0;
	bool post = strcmp(rq->method, "POST") == 0;
	enum commands_result res;

	rp->no_store = true;
	if (!get && !post) {
		rp->status = 405;
		rp->content_type = "text/plain; charset=utf-8";
		return;
	}
	if (post) {
		/* RFC 8058: the body says List-Unsubscribe=One-Click */
		oneclick = web_form_value(rq->body, rq->body_len,
					  rq->content_type,
					  "List-Unsubscribe");
		if (oneclick == NULL || strcmp(oneclick, "One-Click") != 0) {
			free(oneclick);
			notice(rp, c, NULL, 400, "error-title", "bad-request",
			       NULL, 0);
			rp->no_store = true;
			return;
		}
		free(oneclick);
	}
	if (token_member(s, c, token, &l, &address) < 0) {
		busy(rp, c, store_error(s));
		return;
	}
	if (l == NULL) {
		if (post)
			log_info("web: a one-click unsubscribe with a token "
				 "that is not good: nothing done");
		notice(rp, c, NULL, 404, "unsubscribe-title",
		       "unsubscribe-invalid", NULL, 0);
		rp->no_store = true;
		return;
	}
	if (post) {
		if (store_begin(s) < 0 ||
		    commands_admin_remove(s, c, l, address, false, "one-click",
					  &res) < 0 ||
		    store_commit(s) < 0) {
			store_rollback(s);
			busy(rp, c, store_error(s));
			free(address);
			return;
		}
		log_info("list=%s: a member left by one-click unsubscribe",
			 l->name);
	}
	{
		struct html_var v[] = { { "address", address, false } };

		notice(rp, c, l, 200, "unsubscribe-title",
		       post ? "unsubscribe-done" : "unsubscribe-ask", v, 1);
	}
	rp->no_store = true;
	free(address);
}

/* ---- pages ---- */

static bool segment_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > SEGMENT_MAX || s[0] == '.')
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '-' ||
		      c == '_'))
			return false;
	}
	return true;
}

static const char *type_of(const char *path)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{ ".html", "text/html; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" },
		{ ".atom", "application/atom+xml; charset=utf-8" },
	};
	size_t n = strlen(path), i;

	for (i = 0; i < sizeof types / sizeof types[0]; i++) {
		size_t k = strlen(types[i].ext);

		if (n > k && strcmp(path + n - k, types[i].ext) == 0)
			return types[i].type;
	}
	return NULL;
}

/* A file under web.dir: rel is checked segment by segment ("" and a
 * trailing '/' mean index.html). */
static void page_file(const struct conf *c, const char *list,
		      const char *rel, struct web_response *rp)
{
	struct buf path = BUF_INIT;
	const char *p = rel, *type;
	struct stat sb;

	if (c->web.dir == NULL) {
		not_found(rp, c);
		return;
	}
	buf_printf(&path, "%s", c->web.dir);
	if (list != NULL)
		buf_printf(&path, "/%s", list);
	while (*p != '\0') {
		const char *slash = strchr(p, '/');
		size_t n = slash != NULL ? (size_t)(slash - p) : strlen(p);

		if (!segment_ok(p, n)) {
			buf_free(&path);
			not_found(rp, c);
			return;
		}
		buf_putc(&path, '/');
		buf_append(&path, p, n);
		p += n;
		if (*p == '/')
			p++;
	}
	if (*rel == '\0' || rel[strlen(rel) - 1] == '/')
		buf_puts(&path, "/index.html");
	type = type_of(buf_cstr(&path));
	if (type == NULL || stat(buf_cstr(&path), &sb) < 0 ||
	    !S_ISREG(sb.st_mode)) {
		buf_free(&path);
		not_found(rp, c);
		return;
	}
	rp->status = 200;
	rp->content_type = type;
	rp->file = buf_steal(&path, NULL);
}

static void search(struct store *s, const struct conf *c,
		   const struct conf_list *l, const char *query,
		   struct web_response *rp)
{
	char *err = NULL;
	bool transient;

	rp->no_store = true;
	/* Posts accepted a moment ago are found too (a busy database: what
	 * is indexed). */
	if (archive_catch_up(s, c, SIZE_MAX, NULL) < 0)
		log_warn("web: threading: %s", store_error(s));
	if (render_search(s, c, l, query, &rp->body, &err, &transient) < 0) {
		if (transient) {
			busy(rp, c, err);
		} else {
			log_error("web: %s", err);
			rp->status = 500;
			rp->content_type = "text/plain; charset=utf-8";
			buf_reset(&rp->body);
		}
		free(err);
		return;
	}
	rp->status = 200;
	rp->content_type = html_type;
}

void web_handle(struct store *s, const struct conf *c,
		const struct web_request *rq, struct web_response *rp)
{
	const char *path = rq->path, *rest, *slash;
	const struct conf_list *l;
	char name[SEGMENT_MAX + 1];
	bool get = strcmp(rq->method, "GET") == 0 ||
		   strcmp(rq->method, "HEAD") == 0;
	size_t n;

	rp->status = 500;
	rp->content_type = html_type;
	if (path == NULL || path[0] != '/' || strlen(path) > 4096) {
		notice(rp, c, NULL, 400, "error-title", "bad-request", NULL,
		       0);
		return;
	}
	if (strncmp(path, "/u/", 3) == 0) {
		unsubscribe(s, c, rq, path + 3, rp);
		return;
	}
	if (!get) {
		rp->status = 405;
		rp->post_only_get = true;
		rp->content_type = "text/plain; charset=utf-8";
		return;
	}
	if (strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0) {
		page_file(c, NULL, "", rp);
		return;
	}
	slash = strchr(path + 1, '/');
	n = slash != NULL ? (size_t)(slash - path - 1) : strlen(path + 1);
	if (!segment_ok(path + 1, n) || n >= sizeof name) {
		not_found(rp, c);
		return;
	}
	memcpy(name, path + 1, n);
	name[n] = '\0';
	l = conf_find_list(c, name);
	if (l == NULL || strcmp(l->name, name) != 0) {
		not_found(rp, c);
		return;
	}
	if (slash == NULL) {
		/* "/NAME" is the folder "/NAME/": relative, for a proxy
		 * that serves it under a prefix */
		rp->status = 303;
		rp->location = xasprintf("%s/", name);
		rp->content_type = "text/plain; charset=utf-8";
		return;
	}
	if (l->archive_access != ARCHIVE_PUBLIC) {
		notice(rp, c, l, 403, "error-title", "members-only", NULL, 0);
		return;
	}
	rest = slash + 1;
	if (strcmp(rest, "search") == 0)
		search(s, c, l, rq->query, rp);
	else
		page_file(c, l->name, rest, rp);
}
