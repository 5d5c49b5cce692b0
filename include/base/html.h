/* html - HTML output: text escaped, links found, pages from templates
 *
 * Everything that comes from mail (subjects, names, bodies, file names)
 * goes onto a page through html_escape and nothing else: it can never be
 * markup there. The markup of a page comes from a template file whose
 * sections convene fills: a placeholder {{name}} gets a text value escaped
 * and only a value convene itself put together from other sections
 * (marked `markup`) as it is. So no markup is written in C, and no text
 * from mail reaches a page unescaped. Knows no mail and no database. */
#ifndef CONVENE_HTML_H
#define CONVENE_HTML_H

#include <stdbool.h>
#include <stddef.h>

struct buf;

/* Appends len bytes of text to out, safe as HTML text and inside a quoted
 * attribute value: & < > " ' as character references; bytes that are not
 * UTF-8 as U+FFFD; CR left out; other control characters but LF and TAB
 * as U+FFFD; the non-characters U+FFFE/U+FFFF too. */
void html_escape(struct buf *out, const char *text, size_t len);
/* The same for a NUL-terminated string (NULL: nothing). */
void html_escape_str(struct buf *out, const char *text);

/* The length of the http:// or https:// URL that starts at text (len bytes
 * available), 0 when there is none: the scheme in any case, then at least
 * one host byte, then the bytes URLs are made of (RFC 3986 unreserved,
 * reserved and '%'), without trailing punctuation (. , ; : ! ? ' and a ')'
 * or ']' without its opening one). Nothing else is ever linked. */
size_t html_url_len(const char *text, size_t len);

/* A template file of sections: a line "@@ NAME" (NAME of a-z, 0-9 and '-';
 * the rest of the line is a comment) starts section NAME, which runs to
 * the next such line; text before the first is a comment. Placeholders
 * are written {{name}} as in base/template.h. */
struct html_template;

struct html_var {
	const char *name;
	const char *value;      /* NULL: "" */
	bool markup;            /* put together by convene from sections:
				   goes in as it is; otherwise escaped */
};

/* Reads the template at path (at most 1 MB). Returns 0 and *t_r (free
 * with html_template_close), or -1 with *error_r (newly allocated):
 * unreadable, a section named twice, a malformed placeholder. */
int html_template_open(const char *path, struct html_template **t_r,
		       char **error_r);
void html_template_close(struct html_template **t);

/* Appends section `section` to out with its placeholders filled from
 * vars. Returns 0, or -1 with *error_r (newly allocated) when there is no
 * such section or it names a placeholder vars lack (out may then hold a
 * part of it). */
int html_render(const struct html_template *t, const char *section,
		const struct html_var *vars, size_t nvars, struct buf *out,
		char **error_r);

/* Checks a template: every section in `sections` (NULL-ended) is there
 * and every placeholder in the file is in `known` (NULL-ended). Returns
 * 0, or -1 with *error_r (newly allocated) naming the first problem with
 * the file and line. */
int html_template_check(const struct html_template *t,
			const char *const *sections,
			const char *const *known, char **error_r);

#endif
