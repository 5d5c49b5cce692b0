/* xalloc - allocation that never returns NULL (out of memory is fatal) */
#ifndef CONVENE_XALLOC_H
#define CONVENE_XALLOC_H

#include <stddef.h>
#include <stdarg.h>

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
/* Grow an array of n elements of size `size` (overflow-checked). */
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Returns a newly allocated formatted string; the caller frees it. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* Frees *pp and clears it. */
#define xfree(pp) do { free(*(pp)); *(pp) = NULL; } while (0)

/* Raw unbounded string functions are banned: use buf or snprintf. */
#ifndef CONVENE_ALLOW_BANNED
#undef strcpy
#define strcpy(a, b) CONVENE_BANNED_strcpy
#undef strcat
#define strcat(a, b) CONVENE_BANNED_strcat
#undef sprintf
#define sprintf(...) CONVENE_BANNED_sprintf
#undef vsprintf
#define vsprintf(...) CONVENE_BANNED_vsprintf
#endif

#endif
