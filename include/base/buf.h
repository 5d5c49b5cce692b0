/* buf - length-carrying growable byte buffer, always NUL-terminated */
#ifndef CONVENE_BUF_H
#define CONVENE_BUF_H

#include <stddef.h>
#include <stdbool.h>

struct buf {
	char *data;   /* NUL-terminated when non-NULL; may contain NULs */
	size_t len;
	size_t cap;
};

#define BUF_INIT { NULL, 0, 0 }

void buf_init(struct buf *b);
void buf_reserve(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *data, size_t len);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void buf_truncate(struct buf *b, size_t len);
void buf_reset(struct buf *b);
/* Hands the data to the caller (who frees it) and empties the buffer.
 * Never returns NULL. */
char *buf_steal(struct buf *b, size_t *len_r);
void buf_free(struct buf *b);
/* A NUL-terminated view (empty string for an unused buffer). */
const char *buf_cstr(const struct buf *b);

#endif
