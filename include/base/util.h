/* util - small system helpers: time, randomness, bounded reads, paths */
#ifndef CONVENE_UTIL_H
#define CONVENE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct buf;

/* Seconds since the epoch; $CONVENE_NOW (an integer) overrides it, so that
 * tests can move time forward. */
time_t util_now(void);

/* Fills `len` bytes from getrandom(2). Returns 0 or -1 (errno set). */
int util_random(void *dst, size_t len);
/* A token of 128 random bits as 32 lower-case hex digits into dst[33].
 * Returns 0 or -1. */
int util_token(char dst[33]);
/* Constant-time comparison of two NUL-terminated strings. */
bool util_token_equal(const char *a, const char *b);

enum util_read_result { UTIL_READ_OK, UTIL_READ_TOO_BIG, UTIL_READ_ERROR };
/* Reads all of fd into out, stopping with UTIL_READ_TOO_BIG once more than
 * `max` bytes arrived (the rest is not read). */
enum util_read_result util_read_fd(int fd, size_t max, struct buf *out);
/* Reads a whole file (at most max bytes). Returns 0 or -1 (errno set;
 * EFBIG when over max). */
int util_read_file(const char *path, size_t max, struct buf *out);

/* Creates a folder and its parents (mode 0750); 0 or -1 (errno set). */
int util_mkdirs(const char *path);
/* path if absolute, else dir/path; newly allocated. */
char *util_path_join(const char *dir, const char *path);

/* Lower-cases ASCII letters in place; returns s. */
char *util_lower(char *s);
/* Trims ASCII white space at both ends in place; returns s. */
char *util_trim(char *s);
bool util_streq_ci(const char *a, const char *b);
/* The value of one hexadecimal digit (either case), or -1. */
int util_hexval(char c);
/* The id written in s as 1 to 18 decimal digits and nothing else (the
 * "+ID" of an address extension); 0 when s is NULL or is not such. */
int64_t util_digits_id(const char *s);

/* The program `name` as an absolute path: a name with a '/' as it is, else
 * found in $PATH (absolute entries only), then in /usr/sbin,
 * /usr/local/sbin and /sbin (where MTA tools live, often outside a user's
 * PATH). Newly allocated, or NULL when there is none. */
char *util_find_program(const char *name);

/* Runs argv[0] (an absolute path; no shell) with argv and this process's
 * environment, writes `input` (may be NULL) to its standard input, and
 * collects up to about `max` bytes of its standard output into out and of
 * its standard error into err (either may be NULL: discarded). Sets
 * *exit_r to its exit status (128 + N when killed by signal N). Returns 0,
 * or -1 with errno when it could not be started. SIGPIPE is ignored while
 * it runs (process-wide: for the command line, not for threads). */
int util_run(char *const argv[], const char *input, size_t max,
	     struct buf *out, struct buf *err, int *exit_r);

#endif
