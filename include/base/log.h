/* log - syslog (facility mail) for decisions, stderr for the CLI */
#ifndef CONVENE_LOG_H
#define CONVENE_LOG_H

#include <stdbool.h>
#include <stddef.h>

/* Opens syslog with `ident`. With `to_stderr`, every line is also written to
 * standard error. The environment variable CONVENE_LOG_FILE, when set, names a
 * file that receives a copy of every line (used by the tests). */
void log_open(const char *ident, bool to_stderr);
void log_close(void);

void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A broken environment or a programmer's bug: logs and exits EX_SOFTWARE
 * (or EX_TEMPFAIL when `log_fatal_tempfail(true)` was called, as in receive,
 * so that the MTA keeps the message). */
void log_fatal(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));
void log_fatal_tempfail(bool on);

/* Copies untrusted text into dst (size dstsize) for a log line: control bytes
 * and non-ASCII become '?', the result is cut at max bytes with "..." marking
 * the cut. Returns dst. */
char *log_sanitize(char *dst, size_t dstsize, const char *src, size_t srclen);

#endif
