/* schedule - "daily 07:00" and "weekly mon 07:00" in a time zone */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/schedule.h"
#include "base/xalloc.h"

static const char *const days[] = {
	"sunday", "monday", "tuesday", "wednesday", "thursday", "friday",
	"saturday"
};

/* "HH:MM" (or "H:MM") at s, the whole rest of s. */
static int parse_hhmm(const char *s, int *h_r, int *m_r)
{
	int h = 0, m, digits = 0;

	while (*s >= '0' && *s <= '9' && digits < 2) {
		h = h * 10 + (*s++ - '0');
		digits++;
	}
	if (digits == 0 || *s++ != ':')
		return -1;
	if (!(s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9') ||
	    s[2] != '\0')
		return -1;
	m = (s[0] - '0') * 10 + (s[1] - '0');
	if (h > 23 || m > 59)
		return -1;
	*h_r = h;
	*m_r = m;
	return 0;
}

int schedule_parse(const char *s, struct schedule *out)
{
	char word[16], day[16], hhmm[8], extra[2];
	int n, i;

	if (s == NULL || strlen(s) > 64)
		return -1;
	n = sscanf(s, "%15s %15s %7s %1s", word, day, hhmm, extra);
	if (n == 2 && strcasecmp(word, "daily") == 0) {
		out->weekday = -1;
		return parse_hhmm(day, &out->hour, &out->minute);
	}
	if (n != 3 || strcasecmp(word, "weekly") != 0)
		return -1;
	for (i = 0; i < 7; i++) {
		if (strcasecmp(day, days[i]) == 0 ||
		    (strlen(day) == 3 && strncasecmp(day, days[i], 3) == 0))
			break;
	}
	if (i == 7)
		return -1;
	out->weekday = i;
	return parse_hhmm(hhmm, &out->hour, &out->minute);
}

bool schedule_zone_known(const char *tz)
{
	const char *dir = getenv("TZDIR");
	char *path;
	bool ok;

	if (tz == NULL || *tz == '\0' || tz[0] == '/' || strstr(tz, "..") ||
	    strlen(tz) > 64)
		return false;
	if (strcmp(tz, "UTC") == 0)
		return true;
	path = xasprintf("%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo",
			 tz);
	ok = access(path, R_OK) == 0;
	free(path);
	return ok;
}

/* TZ set to tz for the conversions in between; the old value comes back. */
static char *tz_push(const char *tz)
{
	const char *old = getenv("TZ");
	char *saved = old ? xstrdup(old) : NULL;

	setenv("TZ", tz && *tz ? tz : "UTC", 1);
	tzset();
	return saved;
}

static void tz_pop(char *saved)
{
	if (saved != NULL)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	tzset();
	free(saved);
}

void schedule_localtime(const char *tz, time_t t, struct tm *tm)
{
	char *saved = tz_push(tz);

	localtime_r(&t, tm);
	tz_pop(saved);
}

time_t schedule_next(const struct schedule *sc, const char *tz, time_t after)
{
	char *saved = tz_push(tz);
	struct tm base, tm;
	time_t t = after + 86400;
	int k, first;

	localtime_r(&after, &base);
	first = sc->weekday < 0 ? 0 : (sc->weekday - base.tm_wday + 7) % 7;
	/* The same day (or weekday) first, then a day (or a week) later, and
	 * once more in case a DST change moved the first one back. */
	for (k = 0; k < 3; k++) {
		tm = base;
		tm.tm_mday += first + k * (sc->weekday < 0 ? 1 : 7);
		tm.tm_hour = sc->hour;
		tm.tm_min = sc->minute;
		tm.tm_sec = 0;
		tm.tm_isdst = -1;
		t = mktime(&tm);
		if (t != (time_t)-1 && t > after)
			break;
	}
	tz_pop(saved);
	return t;
}

int schedule_parse_local(const char *s, const char *tz, time_t *t_r)
{
	int y, mo, d, h, mi, used = 0;
	char sep, *saved;
	struct tm tm = { 0 };
	time_t t;

	if (sscanf(s, "%4d-%2d-%2d%c%2d:%2d%n", &y, &mo, &d, &sep, &h, &mi,
		   &used) != 6 || (sep != ' ' && sep != 'T') ||
	    s[used + strspn(s + used, " ")] != '\0' || mo < 1 || mo > 12 ||
	    d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 ||
	    y < 1970 || y > 9999)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_isdst = -1;
	saved = tz_push(tz);
	t = mktime(&tm);
	tz_pop(saved);
	if (t == (time_t)-1)
		return -1;
	*t_r = t;
	return 0;
}
