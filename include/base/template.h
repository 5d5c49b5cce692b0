/* template - the prose convene writes, from files with named placeholders
 *
 * A template is a UTF-8 text file TEMPLATES/LANG/NAME.txt, overridden for one
 * list by TEMPLATES/LANG/LIST/NAME.txt. Placeholders are written {{name}};
 * names are lower-case letters, digits and '_'. */
#ifndef CONVENE_TEMPLATE_H
#define CONVENE_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

struct buf;
struct conf;
struct conf_list;

struct template_var {
	const char *name;
	const char *value;
};

/* The placeholders every template may use for a list: list, list_address,
 * request_address, owner_address, subscribe_address, unsubscribe_address,
 * description, domain, archive_url, digest_schedule, digest_timezone.
 * Filled into vars (at least TEMPLATE_LIST_VARS entries); returns how many.
 * The strings live in `storage`, which the caller frees with
 * template_vars_free. */
#define TEMPLATE_LIST_VARS 11
size_t template_list_vars(const struct conf *c, const struct conf_list *l,
			  struct template_var *vars, char ***storage);
void template_vars_free(char ***storage);

/* Every placeholder name a template may use (the list placeholders above and
 * those the pipeline fills for notices, answers and reports); NULL-ended.
 * `convene check` reports any other name. */
extern const char *const template_known[];

/* Renders template `name` for list l (l may be NULL: no per-list override).
 * Returns 0 and *out_r (newly allocated) or -1 with *error_r (newly
 * allocated): missing file, unknown placeholder, unterminated "{{". */
int template_render(const struct conf *c, const struct conf_list *l,
		    const char *name, const struct template_var *vars,
		    size_t nvars, char **out_r, char **error_r);

/* Renders a message template for sending: as template_render, but in the
 * body (after the header lines and the first blank line) each paragraph of
 * running text (lines that start with neither white space nor ">", with no
 * run of two spaces, and not "-- ") is joined and wrapped anew at `width`
 * characters once its placeholders are filled, so that no filled line is
 * broken in odd places. Other lines, and lines where a value brought line
 * breaks of its own, are kept as they are. Same results and errors as
 * template_render. */
#define TEMPLATE_WIDTH 72
int template_render_message(const struct conf *c, const struct conf_list *l,
			    const char *name, const struct template_var *vars,
			    size_t nvars, size_t width, char **out_r,
			    char **error_r);

/* Appends len bytes of text to out as one paragraph: words (split at
 * white space) wrapped at `width` characters, a word longer than that on a
 * line of its own, and a final line break. */
struct buf;
void template_wrap(const char *text, size_t len, size_t width,
		   struct buf *out);

/* Every template convene renders (a module that renders a new one adds
 * it here, so that `convene check` tries it), NULL-ended. `message`: a
 * whole message, whose header lines must hold a Subject. */
struct template_use {
	const char *name;
	bool message;
};
extern const struct template_use template_uses[];

/* Whether the name (len bytes, without ".txt") is in template_uses. */
bool template_is_used(const char *name, size_t len);

/* Renders every template list l can use (the footer only when l has one,
 * content-removed only when it has content rules), with every known
 * placeholder filled, and calls report(problem, ctx) for each that cannot
 * be rendered (missing or unreadable file, unknown placeholder, a message
 * without a Subject line), naming the template, the list and the file.
 * Returns the number of problems. */
size_t template_check_list(const struct conf *c, const struct conf_list *l,
			   void (*report)(const char *problem, void *ctx),
			   void *ctx);

/* A keyed-lines template: lines "key: text" (key of lower-case letters,
 * digits and '-'; the one space after the colon is not part of the text),
 * for messages put together from pieces; other lines are comments. Read
 * once, rendered a line at a time. */
struct template_lines;
/* Reads template `name` for list l (per-list override as template_render).
 * Returns 0 and *t_r (free with template_lines_close), or -1 with *error_r
 * (newly allocated). */
int template_lines_open(const struct conf *c, const struct conf_list *l,
			const char *name, struct template_lines **t_r,
			char **error_r);
/* Appends the text of line `key`, placeholders filled from vars, to out
 * (no newline). Returns 0, or -1 with *error_r (newly allocated) when the
 * template has no such line or a placeholder is unknown (out may then hold
 * part of the line). */
int template_lines_render(const struct template_lines *t, const char *key,
			  const struct template_var *vars, size_t nvars,
			  struct buf *out, char **error_r);
void template_lines_close(struct template_lines **t);
/* Frees what a template read whole holds besides itself (template_lines,
 * html_template): its path, its bytes and the index into them (each may
 * be NULL). */
void template_parts_free(char *path, char *data, void *index);

/* The path of the template file `file` (a name with its extension, such
 * as "web.html") for list l: TEMPLATES/LANG/LIST/file when that exists,
 * else TEMPLATES/LANG/file. Newly allocated. */
char *template_file(const struct conf *c, const struct conf_list *l,
		    const char *file);

/* Checks one template file: every placeholder must be among `known`.
 * Returns 0, or -1 with *error_r naming the file and line. */
int template_check_file(const char *path, const char *const *known,
			size_t nknown, char **error_r);

#endif
