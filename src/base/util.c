/* util - small system helpers: time, randomness, bounded reads, paths */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/util.h"
#include "base/buf.h"
#include "base/xalloc.h"

extern char **environ;

time_t util_now(void)
{
	const char *fake = getenv("CONVENE_NOW");
	char *end;
	long long v;

	if (fake != NULL && *fake != '\0') {
		errno = 0;
		v = strtoll(fake, &end, 10);
		if (errno == 0 && *end == '\0' && v > 0)
			return (time_t)v;
	}
	return time(NULL);
}

int util_random(void *dst, size_t len)
{
	unsigned char *p = dst;
	ssize_t n;

	while (len > 0) {
		n = getrandom(p, len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int util_token(char dst[33])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[16];
	size_t i;

	if (util_random(raw, sizeof raw) < 0)
		return -1;
	for (i = 0; i < sizeof raw; i++) {
		dst[2 * i] = hex[raw[i] >> 4];
		dst[2 * i + 1] = hex[raw[i] & 0xf];
	}
	dst[32] = '\0';
	return 0;
}

bool util_token_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i;
	unsigned char diff = la != lb;

	/* Walk the expected length whatever the other one is. */
	for (i = 0; i < la; i++)
		diff |= (unsigned char)a[i] ^ (unsigned char)(i < lb ? b[i] : 0);
	return diff == 0;
}

enum util_read_result util_read_fd(int fd, size_t max, struct buf *out)
{
	ssize_t n;

	for (;;) {
		buf_reserve(out, 65536);
		n = read(fd, out->data + out->len, 65536);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return UTIL_READ_ERROR;
		}
		if (n == 0)
			break;
		out->len += (size_t)n;
		out->data[out->len] = '\0';
		if (out->len > max)
			return UTIL_READ_TOO_BIG;
	}
	return UTIL_READ_OK;
}

int util_read_file(const char *path, size_t max, struct buf *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	enum util_read_result r;
	int saved;

	if (fd < 0)
		return -1;
	r = util_read_fd(fd, max, out);
	saved = errno;
	close(fd);
	if (r == UTIL_READ_TOO_BIG) {
		errno = EFBIG;
		return -1;
	}
	errno = saved;
	return r == UTIL_READ_OK ? 0 : -1;
}

int util_mkdirs(const char *path)
{
	char *p = xstrdup(path), *s;
	int ret = 0;

	for (s = p + 1; ; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;

			*s = '\0';
			if (mkdir(p, 0750) < 0 && errno != EEXIST) {
				ret = -1;
				break;
			}
			*s = c;
			if (c == '\0')
				break;
		}
	}
	free(p);
	return ret;
}

char *util_path_join(const char *dir, const char *path)
{
	if (path[0] == '/' || dir == NULL || *dir == '\0')
		return xstrdup(path);
	return xasprintf("%s/%s", dir, path);
}

char *util_lower(char *s)
{
	char *p;

	for (p = s; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return s;
}

char *util_trim(char *s)
{
	size_t len = strlen(s), start = 0;

	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' ||
			   s[len - 1] == '\r' || s[len - 1] == '\n'))
		len--;
	s[len] = '\0';
	while (s[start] == ' ' || s[start] == '\t')
		start++;
	if (start)
		memmove(s, s + start, len - start + 1);
	return s;
}

bool util_streq_ci(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

int util_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int64_t util_digits_id(const char *s)
{
	size_t n;

	if (s == NULL)
		return 0;
	n = strspn(s, "0123456789");
	if (n == 0 || n > 18 || s[n] != '\0')
		return 0;
	return strtoll(s, NULL, 10);
}

char *util_find_program(const char *name)
{
	static const char *const extra[] = { "/usr/sbin", "/usr/local/sbin",
					     "/sbin", NULL };
	const char *path = getenv("PATH");
	char *copy, *dir, *save = NULL, *found = NULL;
	size_t i;

	if (strchr(name, '/') != NULL)
		return access(name, X_OK) == 0 ? xstrdup(name) : NULL;
	copy = xstrdup(path != NULL ? path : "/usr/bin:/bin");
	for (dir = strtok_r(copy, ":", &save); dir != NULL && found == NULL;
	     dir = strtok_r(NULL, ":", &save)) {
		char *p;

		if (dir[0] != '/')
			continue;   /* never the working directory */
		p = xasprintf("%s/%s", dir, name);
		if (access(p, X_OK) == 0)
			found = p;
		else
			free(p);
	}
	free(copy);
	for (i = 0; found == NULL && extra[i] != NULL; i++) {
		char *p = xasprintf("%s/%s", extra[i], name);

		if (access(p, X_OK) == 0)
			found = p;
		else
			free(p);
	}
	return found;
}

/* Feeds input to a child's standard input (*in_fd, closed and set to -1
 * when all is written or the child stops reading) while reading its output
 * and error into out and err (up to about max bytes each; either may be
 * NULL), until both are closed. */
static void pump(int *in_fd, const char *input, size_t in_len, int o_fd,
		 int e_fd, size_t max, struct buf *out, struct buf *err)
{
	bool open[2] = { true, true };
	size_t in_off = 0;
	struct pollfd p[3];

	while (open[0] || open[1]) {
		int k;

		p[0] = (struct pollfd){ .fd = open[0] ? o_fd : -1,
					.events = POLLIN };
		p[1] = (struct pollfd){ .fd = open[1] ? e_fd : -1,
					.events = POLLIN };
		p[2] = (struct pollfd){ .fd = *in_fd, .events = POLLOUT };
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (*in_fd >= 0 && (p[2].revents & (POLLOUT | POLLERR))) {
			ssize_t w = write(*in_fd, input + in_off,
					  in_len - in_off);

			if (w > 0)
				in_off += (size_t)w;
			if (w < 0 || in_off >= in_len) {
				close(*in_fd);
				*in_fd = -1;
			}
		}
		for (k = 0; k < 2; k++) {
			struct buf *b = k == 0 ? out : err;
			char chunk[4096];
			ssize_t r;

			if (!(p[k].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			r = read(p[k].fd, chunk, sizeof chunk);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				open[k] = false;
			else if (b != NULL && b->len < max)
				buf_append(b, chunk, (size_t)r);
		}
	}
}

int util_run(char *const argv[], const char *input, size_t max,
	     struct buf *out, struct buf *err, int *exit_r)
{
	int in[2] = { -1, -1 }, o[2] = { -1, -1 }, e[2] = { -1, -1 };
	posix_spawn_file_actions_t fa;
	size_t in_len = input != NULL ? strlen(input) : 0;
	struct sigaction ign, old;
	pid_t pid;
	int status, rc, saved;

	/* A program that exits without reading its input must not kill us
	 * with SIGPIPE. */
	memset(&ign, 0, sizeof ign);
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	sigaction(SIGPIPE, &ign, &old);
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(o, O_CLOEXEC) < 0 ||
	    pipe2(e, O_CLOEXEC) < 0)
		goto fail;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, o[1], 1);
	posix_spawn_file_actions_adddup2(&fa, e[1], 2);
	rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		errno = rc;
		goto fail;
	}
	close(in[0]);
	close(o[1]);
	close(e[1]);
	in[0] = o[1] = e[1] = -1;
	if (in_len == 0) {
		close(in[1]);
		in[1] = -1;
	}
	pump(&in[1], input, in_len, o[0], e[0], max, out, err);
	if (in[1] >= 0)
		close(in[1]);
	close(o[0]);
	close(e[0]);
	sigaction(SIGPIPE, &old, NULL);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	*exit_r = WIFEXITED(status) ? WEXITSTATUS(status) :
		  128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	return 0;
fail:
	saved = errno;
	sigaction(SIGPIPE, &old, NULL);
	for (rc = 0; rc < 2; rc++) {
		if (in[rc] >= 0)
			close(in[rc]);
		if (o[rc] >= 0)
			close(o[rc]);
		if (e[rc] >= 0)
			close(e[rc]);
	}
	errno = saved;
	return -1;
}
