/* rx - the one PCRE2 wrapper: compile once, match with limits */
#ifndef CONVENE_RX_H
#define CONVENE_RX_H

#include <stddef.h>

struct rx;

/* Compiles `pattern` (UTF mode, no JIT requirement). Returns NULL on a bad
 * pattern with *error_r (when error_r is not NULL; newly allocated, the
 * caller frees it) and *offset_r, the error's offset in the pattern. */
struct rx *rx_compile(const char *pattern, char **error_r, size_t *offset_r);
void rx_free(struct rx **rx);

/* 1 on match, 0 on no match, -1 when a limit (match or depth) was hit or the
 * subject is not valid UTF-8 and could not be matched; a limit hit counts as
 * no match for the caller to decide on. */
int rx_match(const struct rx *rx, const char *subject, size_t len);

/* The limits applied to every match (defaults: 1,000,000 and 1,000). */
void rx_set_limits(unsigned match_limit, unsigned depth_limit);

#endif
