/* web - what `convene web` answers: the archive's pages, its search, and
 * one-click unsubscribe (RFC 8058)
 *
 *   GET /                     web.dir/index.html (the public lists)
 *   GET /NAME/...             a page of NAME's archive from web.dir/NAME
 *                             (index.html for a folder), when its archive
 *                             is public; a members-only or private
 *                             archive gets a page saying how members read
 *                             it (by mail): convene has no logins
 *   GET /NAME/search?q=WORDS  the archive's search (pipeline/search.h)
 *   GET /u/TOKEN              a page with one button that unsubscribes
 *   POST /u/TOKEN             with List-Unsubscribe=One-Click in the body
 *                             (urlencoded or multipart/form-data):
 *                             unsubscribes the member the token names, at
 *                             once (goodbye template)
 * HEAD as GET. Anything else is not found (404) or not allowed (405).
 *
 * A token (mail/oneclick.h) names one membership; a forged one, or one
 * whose member has left (it was used), changes nothing and gets a page
 * that says the link does not work. Nothing from the request reaches a
 * page unescaped or a file path unchecked. Knows no HTTP library: the
 * front hands requests in and sends the responses out. */
#ifndef CONVENE_WEB_H
#define CONVENE_WEB_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"

struct conf;
struct store;

/* A POST body is read up to this many bytes. */
#define WEB_BODY_MAX 8192

struct web_request {
	const char *method;        /* "GET", "HEAD", "POST", ... */
	const char *path;          /* the URL's path, %-decoded, from '/' */
	const char *query;         /* the q argument, decoded; NULL: none */
	const char *body;          /* POST: the body (body_len bytes) */
	size_t body_len;
	const char *content_type;  /* of the body; NULL: none */
};

struct web_response {
	int status;                /* 200, 303, 400, 403, 404, 405, 503 */
	const char *content_type;  /* static text */
	struct buf body;           /* the page, unless file is set */
	char *file;                /* send this file as the body (a page of
				      web.dir, checked), or NULL */
	char *location;            /* 303: where to (relative) */
	bool no_store;             /* not to be cached (tokens, searches) */
	bool post_only_get;        /* 405: Allow GET, HEAD (else also POST) */
};

/* Answers rq into *rp (zeroed by the caller; web_response_free after).
 * Always gives an answer: a store that is busy gives 503 and a page
 * saying to try again, and the failure is logged. */
void web_handle(struct store *s, const struct conf *c,
		const struct web_request *rq, struct web_response *rp);
void web_response_free(struct web_response *rp);

/* The value of field `name` in a form body (application/
 * x-www-form-urlencoded or multipart/form-data, as content_type says),
 * newly allocated; NULL when it has no such field. */
char *web_form_value(const char *body, size_t len, const char *content_type,
		     const char *name);

#endif
