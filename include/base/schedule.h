/* schedule - "daily 07:00" and "weekly mon 07:00" in a time zone
 *
 * The grammar of the config's schedules (digests, reports) and the next time
 * one comes due. Time zones are names of the system's tz database
 * (Europe/Berlin); the conversions set TZ for the process while they run,
 * so call them from the thread that owns the process (the worker's main
 * loop, a command), not from delivery sessions. */
#ifndef CONVENE_SCHEDULE_H
#define CONVENE_SCHEDULE_H

#include <stdbool.h>
#include <time.h>

struct schedule {
	int weekday;    /* -1: every day; else 0 (Sunday) to 6 (Saturday) */
	int hour, minute;
};

/* Parses "daily HH:MM" or "weekly DAY HH:MM" (DAY: mon, tue, wed, thu, fri,
 * sat, sun, or the full English name; case-insensitive; H may be one
 * digit). Returns 0, or -1 when s is not such a schedule. */
int schedule_parse(const char *s, struct schedule *out);

/* Whether tz names a zone the system knows ("UTC" always does). */
bool schedule_zone_known(const char *tz);

/* The first time strictly after `after` that the schedule names, in zone
 * tz. A local time that does not exist (a DST gap) counts as the first
 * time after the gap. */
time_t schedule_next(const struct schedule *sc, const char *tz, time_t after);

/* Reads "YYYY-MM-DD HH:MM" (or with a 'T') as a local time of zone tz.
 * Returns 0 and *t_r, or -1 when s is not such a time. */
int schedule_parse_local(const char *s, const char *tz, time_t *t_r);

/* The broken-down local time of t in zone tz. */
void schedule_localtime(const char *tz, time_t t, struct tm *tm);

#endif
