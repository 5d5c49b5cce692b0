/* util - small system helpers: time, randomness, bounded reads, paths */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"
#include "base/buf.h"
#include "base/xalloc.h"

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
