/* etpan - the one door to libetpan's parsers
 *
 * libetpan's parsers read a byte or two past the end of the buffer they are
 * given (mailmime_part_parse does), and recurse once per nested comment in a
 * structured header field. Everything that hands bytes to libetpan goes
 * through here: a copy with NUL bytes after it, and header values with their
 * comments removed first (iteratively, so that no depth of parentheses
 * reaches libetpan's recursion). */
#ifndef CONVENE_ETPAN_H
#define CONVENE_ETPAN_H

#include <stddef.h>

/* NUL bytes after every copy handed to libetpan. */
#define ETPAN_PAD 8

/* A copy of s[0..n) followed by ETPAN_PAD NUL bytes; never NULL. The
 * caller frees it. */
char *etpan_copy(const char *s, size_t n);

/* The value with its comments removed (outside quoted strings); a comment
 * between two words leaves a space. An unclosed comment runs to the end.
 * The text of the first comment goes to *comment_r when comment_r is not
 * NULL (newly allocated; NULL when there is none): old mailers put a
 * display name there ("a@b (Name)"). Newly allocated, never NULL; linear
 * in the length of v. */
char *etpan_strip_comments(const char *v, char **comment_r);

/* The deepest nesting of comments (parentheses outside quoted strings) in
 * s[0..n). Values nested deeper than ETPAN_COMMENT_MAX are not handed to
 * libetpan where the comments must stay. */
#define ETPAN_COMMENT_MAX 50
size_t etpan_comment_depth(const char *s, size_t n);

/* A header value ready for libetpan: comments and surrounding white space
 * removed, padded as etpan_copy does. *len_r is its length without the padding. Newly
 * allocated. */
char *etpan_value(const char *v, size_t *len_r);

#endif
