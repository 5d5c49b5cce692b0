/* render - the web archive: a list's archive as static HTML pages
 *
 * Pages of list NAME go into DIR/NAME/ (DIR is web.dir unless told):
 *   index.html       the latest threads and the months
 *   YYYY-MM.html     a month's messages, by thread, replies nested
 *   thread/T.html    a thread: every message, replies nested, quoted
 *                    text folded
 *   msg/ID.html      one message: headers, text, attachments (type and
 *                    size); archive_message_url gives its URL
 *   faq.html         the FAQ the leaders curate
 *   feed.atom        an Atom feed of the newest threads
 *   style.css        the stylesheet (template web.css)
 * and DIR/index.html names the lists. Every page comes from the sections
 * of template web.html (feed: web-feed.xml) for the list, filled through
 * base/html.h: text from mail is escaped, http(s) URLs in it become links
 * (template section "link"), nothing else. With archive.hide_addresses
 * (the default) addresses in what a page shows become "local@...".
 *
 * Every page is written to a temporary file in its folder and renamed
 * over the old one, so a reader sees the old page or the new one.
 *
 * The worker keeps the pages of every public list up to date in
 * web.dir: a new post writes its own page and renders its thread's, its
 * month's, the index and the feed again, and nothing else (work in
 * proportion to the thread, not the archive); curation renders what it
 * changed (the FAQ page; a resolved thread's page and the index; a tagged
 * message's page and its thread's); a thread merged into another leaves a
 * page that sends readers on. Lists
 * whose archive is not public get no pages there.
 *
 * Functions return 0, or -1 with *error_r (newly allocated) and
 * *transient_r (the store was busy or a file could not be written: worth
 * trying again). */
#ifndef CONVENE_RENDER_H
#define CONVENE_RENDER_H

#include <stdbool.h>
#include <stddef.h>

struct buf;
struct conf;
struct conf_list;
struct store;

/* What one render wrote. */
struct render_stats {
	size_t messages;        /* message pages */
	size_t threads;         /* thread pages */
	size_t months;          /* month pages */
	size_t moved;           /* pages of threads merged into others */
	size_t other;           /* index, FAQ, feed, style, lists page */
};

/* Renders every page of l into dir/NAME/ (dir NULL: web.dir, and then
 * the worker's later passes go on from here), whatever its access: the
 * admin asked. */
int render_all(struct store *s, const struct conf *c,
	       const struct conf_list *l, const char *dir,
	       struct render_stats *st, char **error_r, bool *transient_r);

/* Brings l's pages in web.dir up to date with what was archived and
 * curated since the last render (render_all when there was none, or
 * after `archive rebuild`). Nothing when web.dir is unset or l's archive
 * is not public. */
int render_update(struct store *s, const struct conf *c,
		  const struct conf_list *l, struct render_stats *st,
		  char **error_r, bool *transient_r);

/* The worker's step: render_update for every list, then the lists page;
 * failures are logged. Returns 0, or -1 when a list's pages could not be
 * brought up to date (the next pass tries again). */
int render_pass(const struct conf *c, struct store *s);

/* Writes dir/index.html, the page that names the public lists, when its
 * content changed. */
int render_lists_page(const struct conf *c, const char *dir,
		      char **error_r);

/* The page of a search of l's archive for `query` (NULL: none yet), as
 * convene web answers it: the results (at most SEARCH_RESULTS_MAX
 * threads), or why the query was not understood, appended to out. */
int render_search(struct store *s, const struct conf *c,
		  const struct conf_list *l, const char *query,
		  struct buf *out, char **error_r, bool *transient_r);

/* A short page of convene web: section `section` of web.html (with l's
 * placeholders when l is not NULL, and vars) in the plain frame, titled
 * with section `title_section`; appended to out. */
struct html_var;
int render_notice(const struct conf *c, const struct conf_list *l,
		  const char *title_section, const char *section,
		  const struct html_var *vars, size_t nvars, struct buf *out,
		  char **error_r);

/* The template files the web archive uses, and a check of them for
 * `convene check`: every section convene renders is there and every
 * placeholder is one it fills. Returns the number of problems, each told
 * through report(problem, ctx). */
size_t render_check_templates(const struct conf *c, const struct conf_list *l,
			      void (*report)(const char *problem, void *ctx),
			      void *ctx);

#endif
