/* content - a list's MIME content rules: parts to strip or pass, the HTML
 * alternative to drop */
#ifndef CONVENE_CONTENT_H
#define CONVENE_CONTENT_H

#include <stdbool.h>
#include <stddef.h>

struct msg;
struct conf_list;
struct mime_limits;

/* Whether a MIME type ("type/subtype", lower or upper case) matches one of
 * the patterns ("type/subtype", or "type/" and a star for any subtype). */
bool content_type_matches(const char *type, const char *const *patterns,
			  size_t n);

/* Applies l's content rules to the body of m in place: leaf parts whose type
 * is in content.strip (or, when content.pass is set, not in it) are removed,
 * and with content.drop_html_alternative the text/html part of a
 * multipart/alternative that has another part. Signed and encrypted parts
 * are left whole, and so are attached messages. The structure comes from
 * the one MIME walk (mime.h) with limits lim (NULL: its defaults). A
 * multipart left with no part gets an empty text/plain one. *removed_r is
 * one line per removed part ("type/subtype name"), newly allocated, or NULL
 * when nothing was removed (m unchanged). Returns 0, or -1 when the body
 * cannot be handled (a multipart without its boundary or its close
 * delimiter, or past a limit): m unchanged. */
int content_filter(struct msg *m, const struct conf_list *l,
		   const struct mime_limits *lim, char **removed_r);

#endif
