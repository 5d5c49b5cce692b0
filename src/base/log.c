/* log - syslog (facility mail) plus optional stderr and test copy */
#include "autoconf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"

static bool log_stderr = true;
static bool fatal_tempfail;
static bool syslog_opened;
static FILE *log_copy;
static const char *log_ident = "convene";

void log_open(const char *ident, bool to_stderr)
{
	const char *copy = getenv("CONVENE_LOG_FILE");

	log_ident = ident;
	log_stderr = to_stderr;
	openlog(ident, LOG_PID, LOG_MAIL);
	syslog_opened = true;
	if (copy != NULL && *copy != '\0' && log_copy == NULL)
		log_copy = fopen(copy, "a");
}

void log_close(void)
{
	if (syslog_opened)
		closelog();
	syslog_opened = false;
	if (log_copy != NULL)
		fclose(log_copy);
	log_copy = NULL;
}

void log_fatal_tempfail(bool on)
{
	fatal_tempfail = on;
}

static void log_v(int prio, const char *label, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void log_v(int prio, const char *label, const char *fmt, va_list ap)
{
	char line[2048];

	vsnprintf(line, sizeof line, fmt, ap);
	if (syslog_opened)
		syslog(prio, "%s", line);
	if (log_stderr)
		fprintf(stderr, "%s: %s%s\n", log_ident, label, line);
	if (log_copy != NULL) {
		fprintf(log_copy, "%s[%ld]: %s%s\n", log_ident, (long)getpid(),
			label, line);
		fflush(log_copy);
	}
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_v(LOG_INFO, "", fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_v(LOG_WARNING, "warning: ", fmt, ap);
	va_end(ap);
}

void log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_v(LOG_ERR, "error: ", fmt, ap);
	va_end(ap);
}

void log_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_v(LOG_CRIT, "fatal: ", fmt, ap);
	va_end(ap);
	exit(fatal_tempfail ? EX_TEMPFAIL : EX_SOFTWARE);
}

char *log_sanitize(char *dst, size_t dstsize, const char *src, size_t srclen)
{
	size_t i, o = 0;

	if (dstsize == 0)
		return dst;
	for (i = 0; i < srclen && o + 1 < dstsize; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[o++] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
	}
	if (i < srclen && dstsize > 4) {
		o = o > dstsize - 4 ? dstsize - 4 : o;
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
	return dst;
}
