/* faults - an LD_PRELOAD shim that makes one call of write, fsync, rename
 * or open fail, for the fault-injection tests (t315)
 *
 * Environment:
 *   FAULT_CALL   the family: write (write, pwrite, pwrite64, writev,
 *                pwritev), fsync (fsync, fdatasync), rename (rename,
 *                renameat, renameat2) or open (open, open64, openat,
 *                openat64, creat)
 *   FAULT_AT     the number of the call of that family that fails (1 is
 *                the first); 0 or unset: none fails, the calls are counted
 *   FAULT_ERRNO  ENOSPC (the default) or EIO
 *   FAULT_STICKY 1: every call of the family from FAULT_AT on fails (a
 *                disk that stays full)
 *   FAULT_PATH   only calls on paths that begin with this count (for an
 *                fd, the path /proc/self/fd names): the test's folder
 *   FAULT_DELAY_US every call of the family that counts first sleeps
 *                this many microseconds: a slow disk, so that a kill
 *                lands while work is in flight (t320)
 *   FAULT_REPORT a file to which, at exit, "FAMILY N" is appended: how
 *                many calls of the family there were, and "hit" when one
 *                was made to fail
 * Calls that do not count pass through untouched. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static const char *family;
static long fail_at, calls, delay_us;
static int fail_errno = ENOSPC;
static bool sticky, hit, ready;
static const char *prefix;
static size_t prefix_len;

static void setup(void)
{
	const char *v;

	if (ready)
		return;
	ready = true;
	family = getenv("FAULT_CALL");
	v = getenv("FAULT_AT");
	fail_at = v != NULL ? atol(v) : 0;
	v = getenv("FAULT_ERRNO");
	if (v != NULL && strcmp(v, "EIO") == 0)
		fail_errno = EIO;
	v = getenv("FAULT_STICKY");
	sticky = v != NULL && strcmp(v, "1") == 0;
	v = getenv("FAULT_DELAY_US");
	delay_us = v != NULL ? atol(v) : 0;
	prefix = getenv("FAULT_PATH");
	prefix_len = prefix != NULL ? strlen(prefix) : 0;
}

__attribute__((destructor)) static void report(void)
{
	const char *file = getenv("FAULT_REPORT");
	FILE *f;

	setup();
	if (file == NULL || family == NULL)
		return;
	f = fopen(file, "a");
	if (f == NULL)
		return;
	fprintf(f, "%s %ld%s\n", family, calls, hit ? " hit" : "");
	fclose(f);
}

static bool path_counts(const char *path)
{
	char abs[4096];

	if (prefix == NULL)
		return true;
	if (path == NULL)
		return false;
	if (path[0] != '/') {
		char cwd[2048];
		int n;

		if (getcwd(cwd, sizeof cwd) == NULL)
			return false;
		n = snprintf(abs, sizeof abs, "%s/%s", cwd, path);
		if (n < 0 || (size_t)n >= sizeof abs)
			return false;
		path = abs;
	}
	return strncmp(path, prefix, prefix_len) == 0;
}

static bool fd_counts(int fd)
{
	char link[64], path[4096];
	ssize_t n;

	if (prefix == NULL)
		return true;
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof path - 1);
	if (n < 0)
		return false;
	path[n] = '\0';
	return strncmp(path, prefix, prefix_len) == 0;
}

/* Whether this call (of family fam, counting per `counts`) fails now. */
static bool fail_now(const char *fam, bool counts)
{
	int saved = errno;
	long n;

	setup();
	errno = saved;

	if (family == NULL || strcmp(family, fam) != 0 || !counts)
		return false;
	/* the delivery sessions are threads */
	n = __atomic_add_fetch(&calls, 1, __ATOMIC_SEQ_CST);
	if (delay_us > 0) {
		usleep((useconds_t)delay_us);
		errno = saved;
	}
	if (fail_at <= 0)
		return false;
	if (n == fail_at || (sticky && n > fail_at)) {
		hit = true;
		errno = fail_errno;
		return true;
	}
	return false;
}

#define NEXT(name) \
	static __typeof__(name) *next_##name; \
	if (next_##name == NULL) \
		next_##name = (__typeof__(name) *)dlsym(RTLD_NEXT, #name)

ssize_t write(int fd, const void *buf, size_t n)
{
	NEXT(write);
	if (fail_now("write", fd_counts(fd)))
		return -1;
	return next_write(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	NEXT(pwrite);
	if (fail_now("write", fd_counts(fd)))
		return -1;
	return next_pwrite(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
	NEXT(pwrite64);
	if (fail_now("write", fd_counts(fd)))
		return -1;
	return next_pwrite64(fd, buf, n, off);
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	NEXT(writev);
	if (fail_now("write", fd_counts(fd)))
		return -1;
	return next_writev(fd, iov, cnt);
}

ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	NEXT(pwritev);
	if (fail_now("write", fd_counts(fd)))
		return -1;
	return next_pwritev(fd, iov, cnt, off);
}

int fsync(int fd)
{
	NEXT(fsync);
	if (fail_now("fsync", fd_counts(fd)))
		return -1;
	return next_fsync(fd);
}

int fdatasync(int fd)
{
	NEXT(fdatasync);
	if (fail_now("fsync", fd_counts(fd)))
		return -1;
	return next_fdatasync(fd);
}

int rename(const char *from, const char *to)
{
	NEXT(rename);
	if (fail_now("rename", path_counts(from)))
		return -1;
	return next_rename(from, to);
}

int renameat(int d1, const char *from, int d2, const char *to)
{
	NEXT(renameat);
	if (fail_now("rename", path_counts(from)))
		return -1;
	return next_renameat(d1, from, d2, to);
}

int renameat2(int d1, const char *from, int d2, const char *to,
	      unsigned flags)
{
	NEXT(renameat2);
	if (fail_now("rename", path_counts(from)))
		return -1;
	return next_renameat2(d1, from, d2, to, flags);
}

/* The mode argument of open, when O_CREAT or O_TMPFILE asks for one. */
#define OPEN_MODE(flags, mode) \
	do { \
		mode = 0; \
		if ((flags) & (O_CREAT | O_TMPFILE)) { \
			va_list ap; \
			va_start(ap, flags); \
			mode = va_arg(ap, mode_t); \
			va_end(ap); \
		} \
	} while (0)

int open(const char *path, int flags, ...)
{
	mode_t mode;

	OPEN_MODE(flags, mode);
	NEXT(open);
	if (fail_now("open", path_counts(path)))
		return -1;
	return next_open(path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
	mode_t mode;

	OPEN_MODE(flags, mode);
	NEXT(open64);
	if (fail_now("open", path_counts(path)))
		return -1;
	return next_open64(path, flags, mode);
}

int openat(int dir, const char *path, int flags, ...)
{
	mode_t mode;

	OPEN_MODE(flags, mode);
	NEXT(openat);
	if (fail_now("open", path_counts(path)))
		return -1;
	return next_openat(dir, path, flags, mode);
}

int openat64(int dir, const char *path, int flags, ...)
{
	mode_t mode;

	OPEN_MODE(flags, mode);
	NEXT(openat64);
	if (fail_now("open", path_counts(path)))
		return -1;
	return next_openat64(dir, path, flags, mode);
}

int creat(const char *path, mode_t mode)
{
	NEXT(creat);
	if (fail_now("open", path_counts(path)))
		return -1;
	return next_creat(path, mode);
}
