/* calendar - iCalendar for meetings, built and parsed with libical */
#include "autoconf.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <libical/ical.h>

#include "mail/calendar.h"
#include "base/buf.h"
#include "base/dl.h"
#include "base/util.h"
#include "base/xalloc.h"

#define PRODID "-//convene//convene " PACKAGE_VERSION "//EN"
/* Content lines are folded at this many octets (RFC 5545 3.1). */
#define FOLD_AT 75
/* Occurrences looked at to find the next one of a series. */
#define OCCURRENCES_MAX 100000
/* Components and properties a calendar we parse may hold. */
#define PARTS_MAX 2000
#define YEAR_SECONDS (366L * 86400L)

/* libical and what it brings (ICU, the C++ library) are loaded when a
 * calendar is first read or made, not at every start of the program: a
 * `convene receive` per message would pay for them (about 1.3 ms) and
 * most messages carry no calendar. */
#define ICAL_SONAME "libical.so.3"
/* Each function with its name for dlsym. */
#define ICAL_FNS(X) \
	X(icalcomponent_add_component, "icalcomponent_add_component") \
	X(icalcomponent_add_property, "icalcomponent_add_property") \
	X(icalcomponent_as_ical_string_r, "icalcomponent_as_ical_string_r") \
	X(icalcomponent_count_components, "icalcomponent_count_components") \
	X(icalcomponent_count_properties, "icalcomponent_count_properties") \
	X(icalcomponent_free, "icalcomponent_free") \
	X(icalcomponent_get_dtstart, "icalcomponent_get_dtstart") \
	X(icalcomponent_get_first_component, "icalcomponent_get_first_component") \
	X(icalcomponent_get_first_property, "icalcomponent_get_first_property") \
	X(icalcomponent_get_next_component, "icalcomponent_get_next_component") \
	X(icalcomponent_get_sequence, "icalcomponent_get_sequence") \
	X(icalcomponent_get_timezone, "icalcomponent_get_timezone") \
	X(icalcomponent_get_uid, "icalcomponent_get_uid") \
	X(icalcomponent_isa, "icalcomponent_isa") \
	X(icalcomponent_new, "icalcomponent_new") \
	X(icalcomponent_new_clone, "icalcomponent_new_clone") \
	X(icalcomponent_remove_component, "icalcomponent_remove_component") \
	X(icaldurationtype_as_int, "icaldurationtype_as_int") \
	X(icalerror_clear_errno, "icalerror_clear_errno") \
	X(icalerror_set_errors_are_fatal, "icalerror_set_errors_are_fatal") \
	X(icalmemory_free_ring, "icalmemory_free_ring") \
	X(icalparameter_get_partstat, "icalparameter_get_partstat") \
	X(icalparameter_get_tzid, "icalparameter_get_tzid") \
	X(icalparameter_new_cn, "icalparameter_new_cn") \
	X(icalparameter_new_partstat, "icalparameter_new_partstat") \
	X(icalparameter_new_role, "icalparameter_new_role") \
	X(icalparameter_new_rsvp, "icalparameter_new_rsvp") \
	X(icalparameter_new_tzid, "icalparameter_new_tzid") \
	X(icalparser_parse_string, "icalparser_parse_string") \
	X(icalproperty_add_parameter, "icalproperty_add_parameter") \
	X(icalproperty_get_attendee, "icalproperty_get_attendee") \
	X(icalproperty_get_description, "icalproperty_get_description") \
	X(icalproperty_get_dtend, "icalproperty_get_dtend") \
	X(icalproperty_get_dtstart, "icalproperty_get_dtstart") \
	X(icalproperty_get_duration, "icalproperty_get_duration") \
	X(icalproperty_get_first_parameter, "icalproperty_get_first_parameter") \
	X(icalproperty_get_location, "icalproperty_get_location") \
	X(icalproperty_get_method, "icalproperty_get_method") \
	X(icalproperty_get_rrule, "icalproperty_get_rrule") \
	X(icalproperty_get_summary, "icalproperty_get_summary") \
	X(icalproperty_get_tzoffsetfrom, "icalproperty_get_tzoffsetfrom") \
	X(icalproperty_get_url, "icalproperty_get_url") \
	X(icalproperty_isa, "icalproperty_isa") \
	X(icalproperty_new_attendee, "icalproperty_new_attendee") \
	X(icalproperty_new_calscale, "icalproperty_new_calscale") \
	X(icalproperty_new_description, "icalproperty_new_description") \
	X(icalproperty_new_dtend, "icalproperty_new_dtend") \
	X(icalproperty_new_dtstamp, "icalproperty_new_dtstamp") \
	X(icalproperty_new_dtstart, "icalproperty_new_dtstart") \
	X(icalproperty_new_location, "icalproperty_new_location") \
	X(icalproperty_new_method, "icalproperty_new_method") \
	X(icalproperty_new_organizer, "icalproperty_new_organizer") \
	X(icalproperty_new_prodid, "icalproperty_new_prodid") \
	X(icalproperty_new_rrule, "icalproperty_new_rrule") \
	X(icalproperty_new_sequence, "icalproperty_new_sequence") \
	X(icalproperty_new_status, "icalproperty_new_status") \
	X(icalproperty_new_summary, "icalproperty_new_summary") \
	X(icalproperty_new_transp, "icalproperty_new_transp") \
	X(icalproperty_new_tzid, "icalproperty_new_tzid") \
	X(icalproperty_new_tzname, "icalproperty_new_tzname") \
	X(icalproperty_new_tzoffsetfrom, "icalproperty_new_tzoffsetfrom") \
	X(icalproperty_new_tzoffsetto, "icalproperty_new_tzoffsetto") \
	X(icalproperty_new_uid, "icalproperty_new_uid") \
	X(icalproperty_new_url, "icalproperty_new_url") \
	X(icalproperty_new_version, "icalproperty_new_version") \
	X(icalproperty_set_rrule, "icalproperty_set_rrule") \
	X(icalrecur_iterator_free, "icalrecur_iterator_free") \
	X(icalrecur_iterator_new, "icalrecur_iterator_new") \
	X(icalrecur_iterator_next, "icalrecur_iterator_next") \
	X(icalrecurrencetype_as_string_r, "icalrecurrencetype_as_string_r") \
	X(icalrecurrencetype_from_string, "icalrecurrencetype_from_string") \
	X(icaltime_as_timet, "icaltime_as_timet") \
	X(icaltime_as_timet_with_zone, "icaltime_as_timet_with_zone") \
	X(icaltime_days_in_month, "icaltime_days_in_month") \
	X(icaltime_from_timet_with_zone, "icaltime_from_timet_with_zone") \
	X(icaltime_is_null_time, "icaltime_is_null_time") \
	X(icaltime_is_utc, "icaltime_is_utc") \
	X(icaltime_is_valid_time, "icaltime_is_valid_time") \
	X(icaltime_null_time, "icaltime_null_time") \
	X(icaltimezone_free_builtin_timezones, "icaltimezone_free_builtin_timezones") \
	X(icaltimezone_get_builtin_timezone, "icaltimezone_get_builtin_timezone") \
	X(icaltimezone_get_component, "icaltimezone_get_component") \
	X(icaltimezone_get_tznames, "icaltimezone_get_tznames") \
	X(icaltimezone_get_utc_timezone, "icaltimezone_get_utc_timezone")

static struct {
#define DECLARE(f, name) __typeof__(f) *f;
	ICAL_FNS(DECLARE)
#undef DECLARE
} ic;
static bool ic_loaded;
static pthread_once_t ic_once = PTHREAD_ONCE_INIT;

static void ic_load(void)
{
	static const struct dl_fn fns[] = {
#define ENTRY(f, name) DL_FN(ic, f),
		ICAL_FNS(ENTRY)
#undef ENTRY
	};
	char *err = NULL;
	int rc = dl_load(ICAL_SONAME, fns, sizeof fns / sizeof fns[0], &err);

	/* The entry points say "cannot be read: ICAL_SONAME" without it. */
	free(err);
	if (rc < 0)
		return;
	/* libical's default is to abort on errors: input is hostile, and
	 * its errors are return values here. */
	ic.icalerror_set_errors_are_fatal(0);
	ic_loaded = true;
}

/* Whether libical is there (loaded now if it was not). Every entry point
 * asks before it calls libical. */
static bool init(void)
{
	pthread_once(&ic_once, ic_load);
	return ic_loaded;
}

void calendar_cleanup(void)
{
	if (!ic_loaded)
		return;
	ic.icaltimezone_free_builtin_timezones();
	ic.icalmemory_free_ring();
}

const char *calendar_method_name(enum calendar_method m)
{
	switch (m) {
	case CALENDAR_REQUEST: return "REQUEST";
	case CALENDAR_CANCEL:  return "CANCEL";
	case CALENDAR_REPLY:   return "REPLY";
	case CALENDAR_PUBLISH: return "PUBLISH";
	case CALENDAR_NONE:    break;
	}
	return "NONE";
}

/* A tz database name as it may be looked up: "Region/City", letters,
 * digits, '-', '_', '+', '/', never "..", never absolute. */
static bool tz_name_ok(const char *s)
{
	const char *p;

	if (s == NULL || s[0] == '\0' || s[0] == '/' || strlen(s) > 64 ||
	    strstr(s, "..") != NULL)
		return false;
	for (p = s; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("-_+/", *p) != NULL))
			return false;
	return true;
}

static bool is_utc_name(const char *tzid)
{
	return strcmp(tzid, "UTC") == 0 || strcmp(tzid, "Etc/UTC") == 0 ||
	       strcmp(tzid, "GMT") == 0 || strcmp(tzid, "Z") == 0;
}

static icaltimezone *zone_get(const char *tzid)
{
	if (!init() || tzid == NULL)
		return NULL;
	if (is_utc_name(tzid))
		return ic.icaltimezone_get_utc_timezone();
	if (!tz_name_ok(tzid))
		return NULL;
	return ic.icaltimezone_get_builtin_timezone(tzid);
}

bool calendar_zone_known(const char *tzid)
{
	return zone_get(tzid) != NULL;
}

/* The offset of zone from UTC at t, in seconds. */
static long offset_at(icaltimezone *zone, time_t t)
{
	struct icaltimetype lt = ic.icaltime_from_timet_with_zone(t, 0, zone);

	lt.zone = NULL;
	/* The local fields read as if they were UTC, less the instant. */
	return (long)(ic.icaltime_as_timet(lt) - t);
}

int calendar_local_to_utc(const char *tzid, int year, int month, int day,
			  int hour, int minute, time_t *t_r)
{
	icaltimezone *zone = zone_get(tzid);
	struct icaltimetype tt, back;

	if (zone == NULL || year < 1970 || year > 9999 || month < 1 ||
	    month > 12 || day < 1 ||
	    day > ic.icaltime_days_in_month(month, year) ||
	    hour < 0 || hour > 23 || minute < 0 || minute > 59)
		return -1;
	tt = ic.icaltime_null_time();
	tt.year = year;
	tt.month = month;
	tt.day = day;
	tt.hour = hour;
	tt.minute = minute;
	tt.is_date = 0;
	*t_r = ic.icaltime_as_timet_with_zone(tt, zone);
	back = ic.icaltime_from_timet_with_zone(*t_r, 0, zone);
	if (back.hour != hour || back.minute != minute) {
		/* A time skipped by the change to summer time (02:30 on
		 * that night): read in the offset before the change, so
		 * that it comes out as the hour after (03:30), as
		 * calendars do. */
		struct icaltimetype f = tt;

		f.zone = NULL;
		*t_r = ic.icaltime_as_timet(f) - offset_at(zone, *t_r - 86400);
	}
	return 0;
}

int calendar_format_local(time_t t, const char *tzid, char *dst, size_t size)
{
	icaltimezone *zone = zone_get(tzid);
	struct icaltimetype lt;
	long off;
	int n;

	if (zone == NULL || zone == ic.icaltimezone_get_utc_timezone()) {
		struct tm tm;

		gmtime_r(&t, &tm);
		n = snprintf(dst, size, "%04d-%02d-%02d %02d:%02d UTC",
			     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			     tm.tm_hour, tm.tm_min);
		return zone == NULL || n < 0 || (size_t)n >= size ? -1 : 0;
	}
	lt = ic.icaltime_from_timet_with_zone(t, 0, zone);
	off = offset_at(zone, t);
	n = snprintf(dst, size, "%04d-%02d-%02d %02d:%02d %s (UTC%c%02ld:%02ld)",
		     lt.year, lt.month, lt.day, lt.hour, lt.minute, tzid,
		     off < 0 ? '-' : '+', labs(off) / 3600,
		     (labs(off) % 3600) / 60);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

bool calendar_rrule_ok(const char *rrule)
{
	struct icalrecurrencetype r;

	if (!init() || rrule == NULL || strlen(rrule) > 512 ||
	    strpbrk(rrule, "\r\n") != NULL)
		return false;
	r = ic.icalrecurrencetype_from_string(rrule);
	ic.icalerror_clear_errno();
	return r.freq != ICAL_NO_RECURRENCE;
}

/* The instant an UNTIL stands for: UTC as written, a local time in zone,
 * a date the end of that day in zone. */
static time_t until_instant(struct icaltimetype u, icaltimezone *zone)
{
	if (u.is_date) {
		u.is_date = 0;
		u.hour = 23;
		u.minute = 59;
		u.second = 59;
	}
	if (ic.icaltime_is_utc(u))
		return ic.icaltime_as_timet(u);
	u.zone = NULL;
	return ic.icaltime_as_timet_with_zone(u, zone);
}

int calendar_next_occurrence(time_t start, const char *tzid,
			     const char *rrule, time_t after, time_t *next_r,
			     bool *found_r)
{
	icaltimezone *zone = zone_get(tzid);
	struct icalrecurrencetype r;
	icalrecur_iterator *it;
	struct icaltimetype dt, occ;
	time_t until = 0;
	size_t i;

	*found_r = false;
	if (zone == NULL)
		return -1;
	if (rrule == NULL) {
		*found_r = start >= after;
		*next_r = start;
		return 0;
	}
	if (!calendar_rrule_ok(rrule))
		return -1;
	r = ic.icalrecurrencetype_from_string(rrule);
	/* libical 3.0 compares UNTIL with the occurrences' local time:
	 * the series ends here instead, at the instant UNTIL names. */
	if (!ic.icaltime_is_null_time(r.until)) {
		until = until_instant(r.until, zone);
		r.until = ic.icaltime_null_time();
	}
	dt = ic.icaltime_from_timet_with_zone(start, 0, zone);
	it = ic.icalrecur_iterator_new(r, dt);
	if (it == NULL) {
		ic.icalerror_clear_errno();
		return -1;
	}
	for (i = 0; i < OCCURRENCES_MAX; i++) {
		time_t t;

		occ = ic.icalrecur_iterator_next(it);
		if (ic.icaltime_is_null_time(occ))
			break;
		t = ic.icaltime_as_timet_with_zone(occ, zone);
		if (until != 0 && t > until)
			break;
		if (t >= after) {
			*next_r = t;
			*found_r = true;
			break;
		}
	}
	ic.icalrecur_iterator_free(it);
	return 0;
}

/* ---- building ---- */

/* An observance's first transition as an instant (its DTSTART is local
 * time before the change, in the TZOFFSETFROM offset). */
static time_t observance_start(icalcomponent *sub)
{
	icalproperty *p = ic.icalcomponent_get_first_property(
		sub, ICAL_TZOFFSETFROM_PROPERTY);
	struct icaltimetype dt = ic.icalcomponent_get_dtstart(sub);

	dt.zone = NULL;
	return ic.icaltime_as_timet(dt) -
	       (p != NULL ? ic.icalproperty_get_tzoffsetfrom(p) : 0);
}

/* Among the zone's yearly observances of one kind, the rule in force
 * around `at`: the latest begun by then that does not end more than a
 * year before (libical splits a rule at 2037, so a rule ending just
 * before `at` may go on in the next), else the first to begin within a
 * year after. NULL when the zone has none (no daylight saving time). */
static icalcomponent *rule_at(icalcomponent *full, icalcomponent_kind kind,
			      time_t at)
{
	icalcomponent *sub, *best = NULL, *next = NULL;
	time_t best_start = 0, next_start = 0;

	for (sub = ic.icalcomponent_get_first_component(full, kind); sub != NULL;
	     sub = ic.icalcomponent_get_next_component(full, kind)) {
		icalproperty *rp = ic.icalcomponent_get_first_property(
			sub, ICAL_RRULE_PROPERTY);
		struct icalrecurrencetype r;
		time_t s;

		if (rp == NULL)
			continue;
		r = ic.icalproperty_get_rrule(rp);
		if (r.freq != ICAL_YEARLY_RECURRENCE)
			continue;
		if (!ic.icaltime_is_null_time(r.until) &&
		    ic.icaltime_as_timet(r.until) < at - YEAR_SECONDS)
			continue;
		s = observance_start(sub);
		if (s <= at) {
			if (best == NULL || s > best_start) {
				best = sub;
				best_start = s;
			}
		} else if (s <= at + YEAR_SECONDS &&
			   (next == NULL || s < next_start)) {
			next = sub;
			next_start = s;
		}
	}
	return best != NULL ? best : next;
}

/* A copy of a yearly observance without its UNTIL. */
static icalcomponent *open_rule(icalcomponent *sub)
{
	icalcomponent *copy = ic.icalcomponent_new_clone(sub);
	icalproperty *rp = ic.icalcomponent_get_first_property(
		copy, ICAL_RRULE_PROPERTY);
	struct icalrecurrencetype r = ic.icalproperty_get_rrule(rp);

	r.until = ic.icaltime_null_time();
	r.count = 0;
	ic.icalproperty_set_rrule(rp, r);
	return copy;
}

/* The VTIMEZONE of zone `tzid` as in force at `at` (see calendar.h). */
static icalcomponent *vtimezone_at(icaltimezone *zone, const char *tzid,
				   time_t at)
{
	icalcomponent *full = ic.icaltimezone_get_component(zone);
	icalcomponent *vtz = ic.icalcomponent_new(ICAL_VTIMEZONE_COMPONENT);
	icalcomponent *std = NULL, *dst = NULL;

	ic.icalcomponent_add_property(vtz, ic.icalproperty_new_tzid(tzid));
	if (full != NULL) {
		std = rule_at(full, ICAL_XSTANDARD_COMPONENT, at);
		dst = rule_at(full, ICAL_XDAYLIGHT_COMPONENT, at);
	}
	if (std != NULL && dst != NULL) {
		ic.icalcomponent_add_component(vtz, open_rule(std));
		ic.icalcomponent_add_component(vtz, open_rule(dst));
	} else {
		/* No daylight saving time around `at`: one fixed offset. */
		icalcomponent *fixed = ic.icalcomponent_new(
			ICAL_XSTANDARD_COMPONENT);
		struct icaltimetype epoch = ic.icaltime_null_time();
		const char *names = ic.icaltimezone_get_tznames(zone);
		long off = offset_at(zone, at);

		epoch.year = 1970;
		epoch.month = 1;
		epoch.day = 1;
		epoch.is_date = 0;
		if (names != NULL && names[0] != '\0' &&
		    strchr(names, '/') == NULL)
			ic.icalcomponent_add_property(fixed,
				ic.icalproperty_new_tzname(names));
		ic.icalcomponent_add_property(fixed,
			ic.icalproperty_new_tzoffsetfrom((int)off));
		ic.icalcomponent_add_property(fixed,
			ic.icalproperty_new_tzoffsetto((int)off));
		ic.icalcomponent_add_property(fixed,
			ic.icalproperty_new_dtstart(epoch));
		ic.icalcomponent_add_component(vtz, fixed);
	}
	return vtz;
}

/* A date-time property of the event in its zone: "PROP;TZID=zone:local"
 * (or UTC with "Z"). */
static icalproperty *zoned(icalproperty *(*make)(struct icaltimetype),
			   time_t t, icaltimezone *zone, const char *tzid)
{
	icalproperty *p;
	struct icaltimetype tt;

	if (zone == ic.icaltimezone_get_utc_timezone())
		return make(ic.icaltime_from_timet_with_zone(t, 0, zone));
	tt = ic.icaltime_from_timet_with_zone(t, 0, zone);
	tt.zone = NULL;
	p = make(tt);
	ic.icalproperty_add_parameter(p, ic.icalparameter_new_tzid(tzid));
	return p;
}

/* Text for a parameter value: no quotes, no control bytes. */
static char *param_text(const char *s)
{
	char *t = xstrdup(s), *p;

	for (p = t; *p != '\0'; p++)
		if ((unsigned char)*p < 32 || *p == '"' || *p == 127)
			*p = ' ';
	return t;
}

/* Appends `line` (one unfolded content line) folded at FOLD_AT octets,
 * never inside a UTF-8 character. */
static void fold(struct buf *out, const char *line, size_t n)
{
	size_t col = 0, i = 0;

	while (i < n) {
		size_t k = 1;

		while (i + k < n && ((unsigned char)line[i + k] & 0xc0) == 0x80)
			k++;
		if (col + k > FOLD_AT) {
			buf_puts(out, "\n ");
			col = 1;
		}
		buf_append(out, line + i, k);
		col += k;
		i += k;
	}
	buf_putc(out, '\n');
}

/* One content line of libical's text (unfolded in `logical`, as written
 * in `physical`) into out: the attendee's line folded again so that
 * "mailto:ADDRESS" stands on a line of its own, any other as it was. */
static void put_line(struct buf *out, struct buf *logical,
		     struct buf *physical, const char *want,
		     const char *attendee)
{
	const char *l = buf_cstr(logical), *hit;

	if (logical->len == 0)
		return;
	hit = want != NULL ? strstr(l, want) : NULL;
	if (hit != NULL && strncmp(l, "ATTENDEE", 8) == 0 &&
	    hit[strlen(want)] == '\0') {
		fold(out, l, (size_t)(hit - l) + 1);
		buf_truncate(out, out->len - 1);
		buf_printf(out, "\n mailto:%s\n", attendee);
	} else {
		buf_append(out, physical->data, physical->len);
	}
	buf_reset(logical);
	buf_reset(physical);
}

/* Copies libical's text (CRLF lines, folded) into out with LF line ends. */
static void finish_text(const char *ical, const char *attendee,
			struct buf *out)
{
	struct buf logical = BUF_INIT, physical = BUF_INIT;
	char *want = attendee != NULL ? xasprintf(":mailto:%s", attendee) :
		     NULL;
	const char *p = ical;

	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p), m = n;

		if (m > 0 && p[m - 1] == '\r')
			m--;
		if (m > 0 && (p[0] == ' ' || p[0] == '\t')) {
			buf_append(&logical, p + 1, m - 1);
		} else {
			put_line(out, &logical, &physical, want, attendee);
			buf_append(&logical, p, m);
		}
		if (m > 0) {
			buf_append(&physical, p, m);
			buf_putc(&physical, '\n');
		}
		p += n + (nl != NULL ? 1 : 0);
	}
	put_line(out, &logical, &physical, want, attendee);
	buf_free(&logical);
	buf_free(&physical);
	free(want);
}

/* The event's ORGANIZER (with its name) and ATTENDEE (asked to answer
 * in a REQUEST). */
static void add_people(icalcomponent *ev, const struct calendar_event *e)
{
	char *mailto = xasprintf("mailto:%s", e->organizer);
	icalproperty *p = ic.icalproperty_new_organizer(mailto);

	free(mailto);
	if (e->organizer_name != NULL && e->organizer_name[0] != '\0') {
		char *cn = param_text(e->organizer_name);

		ic.icalproperty_add_parameter(p, ic.icalparameter_new_cn(cn));
		free(cn);
	}
	ic.icalcomponent_add_property(ev, p);
	if (e->attendee == NULL)
		return;
	mailto = xasprintf("mailto:%s", e->attendee);
	p = ic.icalproperty_new_attendee(mailto);
	free(mailto);
	ic.icalproperty_add_parameter(p, ic.icalparameter_new_role(
		ICAL_ROLE_REQPARTICIPANT));
	if (e->method == CALENDAR_REQUEST) {
		ic.icalproperty_add_parameter(p, ic.icalparameter_new_partstat(
			ICAL_PARTSTAT_NEEDSACTION));
		ic.icalproperty_add_parameter(p, ic.icalparameter_new_rsvp(
			ICAL_RSVP_TRUE));
	}
	ic.icalcomponent_add_property(ev, p);
}

int calendar_build(const struct calendar_event *e, struct buf *out,
		   char **error_r)
{
	icaltimezone *zone = zone_get(e->tzid), *utc;
	icalcomponent *cal, *ev;
	char *text;
	bool cancel = e->method == CALENDAR_CANCEL;

	if (zone == NULL) {
		*error_r = xasprintf("unknown time zone \"%s\"",
				     e->tzid ? e->tzid : "");
		return -1;
	}
	if (e->uid == NULL || e->summary == NULL || e->organizer == NULL ||
	    e->duration <= 0 ||
	    (e->method != CALENDAR_REQUEST && e->method != CALENDAR_PUBLISH &&
	     !cancel)) {
		*error_r = xstrdup("incomplete event");
		return -1;
	}
	if (e->rrule != NULL && !calendar_rrule_ok(e->rrule)) {
		*error_r = xasprintf("not a repeat rule: %s", e->rrule);
		return -1;
	}
	utc = ic.icaltimezone_get_utc_timezone();
	cal = ic.icalcomponent_new(ICAL_VCALENDAR_COMPONENT);
	ic.icalcomponent_add_property(cal, ic.icalproperty_new_prodid(PRODID));
	ic.icalcomponent_add_property(cal, ic.icalproperty_new_version("2.0"));
	ic.icalcomponent_add_property(cal,
				      ic.icalproperty_new_calscale("GREGORIAN"));
	ic.icalcomponent_add_property(cal, ic.icalproperty_new_method(
		cancel ? ICAL_METHOD_CANCEL :
		e->method == CALENDAR_PUBLISH ? ICAL_METHOD_PUBLISH :
		ICAL_METHOD_REQUEST));
	if (zone != utc)
		ic.icalcomponent_add_component(cal, vtimezone_at(zone, e->tzid,
							      e->start));
	ev = ic.icalcomponent_new(ICAL_VEVENT_COMPONENT);
	ic.icalcomponent_add_property(ev, ic.icalproperty_new_uid(e->uid));
	ic.icalcomponent_add_property(ev, ic.icalproperty_new_dtstamp(
		ic.icaltime_from_timet_with_zone(e->dtstamp, 0, utc)));
	ic.icalcomponent_add_property(ev,
				      ic.icalproperty_new_sequence(e->sequence));
	ic.icalcomponent_add_property(ev, zoned(ic.icalproperty_new_dtstart,
					     e->start, zone, e->tzid));
	ic.icalcomponent_add_property(ev, zoned(ic.icalproperty_new_dtend,
					     e->start + e->duration, zone,
					     e->tzid));
	if (e->rrule != NULL)
		ic.icalcomponent_add_property(ev, ic.icalproperty_new_rrule(
			ic.icalrecurrencetype_from_string(e->rrule)));
	ic.icalcomponent_add_property(ev,
				      ic.icalproperty_new_summary(e->summary));
	if (e->location != NULL && e->location[0] != '\0')
		ic.icalcomponent_add_property(ev, ic.icalproperty_new_location(
			e->location));
	if (e->description != NULL && e->description[0] != '\0')
		ic.icalcomponent_add_property(ev, ic.icalproperty_new_description(
			e->description));
	if (e->url != NULL && e->url[0] != '\0')
		ic.icalcomponent_add_property(ev,
					      ic.icalproperty_new_url(e->url));
	add_people(ev, e);
	ic.icalcomponent_add_property(ev, ic.icalproperty_new_status(
		cancel ? ICAL_STATUS_CANCELLED : ICAL_STATUS_CONFIRMED));
	ic.icalcomponent_add_property(ev, ic.icalproperty_new_transp(
		ICAL_TRANSP_OPAQUE));
	ic.icalcomponent_add_component(cal, ev);
	text = ic.icalcomponent_as_ical_string_r(cal);
	ic.icalcomponent_free(cal);
	ic.icalerror_clear_errno();
	if (text == NULL) {
		*error_r = xstrdup("libical could not write the event");
		return -1;
	}
	finish_text(text, e->attendee, out);
	free(text);
	return 0;
}

/* ---- parsing ---- */

/* Parses text into a VCALENDAR (or a bare VEVENT); NULL when it is not
 * iCalendar or holds more than PARTS_MAX components. */
static icalcomponent *parse(const char *text, size_t len,
			    const char **error_r)
{
	icalcomponent *c, *sub;
	char *z;

	if (!init()) {
		*error_r = "the calendar cannot be read: " ICAL_SONAME
			   " cannot be loaded";
		return NULL;
	}
	if (len > CALENDAR_MAX) {
		*error_r = "the calendar is too large";
		return NULL;
	}
	z = xstrndup(text, len);
	c = ic.icalparser_parse_string(z);
	free(z);
	ic.icalerror_clear_errno();
	if (c == NULL) {
		*error_r = "not iCalendar";
		return NULL;
	}
	if (ic.icalcomponent_isa(c) == ICAL_XROOT_COMPONENT) {
		/* Several calendars: the first. */
		sub = ic.icalcomponent_get_first_component(
			c, ICAL_VCALENDAR_COMPONENT);
		if (sub != NULL) {
			ic.icalcomponent_remove_component(c, sub);
			ic.icalcomponent_free(c);
			c = sub;
		}
	}
	if (ic.icalcomponent_count_components(c, ICAL_ANY_COMPONENT) >
	    PARTS_MAX ||
	    ic.icalcomponent_count_properties(c, ICAL_ANY_PROPERTY) > PARTS_MAX) {
		ic.icalcomponent_free(c);
		*error_r = "the calendar has too many parts";
		return NULL;
	}
	return c;
}

static icalcomponent *first_event(icalcomponent *c)
{
	if (ic.icalcomponent_isa(c) == ICAL_VEVENT_COMPONENT)
		return c;
	return ic.icalcomponent_get_first_component(c, ICAL_VEVENT_COMPONENT);
}

static enum calendar_method method_of(icalcomponent *c)
{
	icalproperty *p;

	if (ic.icalcomponent_isa(c) != ICAL_VCALENDAR_COMPONENT)
		return CALENDAR_NONE;
	p = ic.icalcomponent_get_first_property(c, ICAL_METHOD_PROPERTY);
	if (p == NULL)
		return CALENDAR_NONE;
	switch (ic.icalproperty_get_method(p)) {
	case ICAL_METHOD_REQUEST: return CALENDAR_REQUEST;
	case ICAL_METHOD_CANCEL:  return CALENDAR_CANCEL;
	case ICAL_METHOD_REPLY:   return CALENDAR_REPLY;
	case ICAL_METHOD_PUBLISH: return CALENDAR_PUBLISH;
	default:                  return CALENDAR_NONE;
	}
}

/* Parses text (parse), finds its first VEVENT and hands both to fn;
 * the calendar is freed and libical's error state cleared after. fn's
 * result, or -1 with *error_r when there is no calendar or no VEVENT. */
static int with_event(const char *text, size_t len,
		      int (*fn)(icalcomponent *c, icalcomponent *ev,
				void *ctx, const char **error_r),
		      void *ctx, const char **error_r)
{
	icalcomponent *c = parse(text, len, error_r), *ev;
	int rc = -1;

	if (c == NULL)
		return -1;
	ev = first_event(c);
	if (ev == NULL)
		*error_r = "no VEVENT";
	else
		rc = fn(c, ev, ctx, error_r);
	ic.icalcomponent_free(c);
	ic.icalerror_clear_errno();
	return rc;
}

/* A cal-address without its "mailto:" and surrounding space; newly
 * allocated, NULL when it is not a mailto: address. */
static char *address_of(const char *v)
{
	char *a;

	if (v == NULL)
		return NULL;
	while (*v == ' ' || *v == '\t')
		v++;
	if (strncasecmp(v, "mailto:", 7) != 0)
		return NULL;
	a = util_trim(xstrdup(v + 7));
	if (a[0] == '\0') {
		free(a);
		return NULL;
	}
	return a;
}

/* What calendar_parse_reply reads from the first VEVENT ev of c into
 * the calendar_reply ctx. 0, or -1 with *error_r. */
static int read_reply(icalcomponent *c, icalcomponent *ev, void *ctx,
		      const char **error_r)
{
	struct calendar_reply *r = ctx;
	icalproperty *p;
	icalparameter *ps;
	const char *uid;

	uid = ic.icalcomponent_get_uid(ev);
	if (uid == NULL || uid[0] == '\0') {
		*error_r = "no UID";
		return -1;
	}
	if (ic.icalcomponent_count_properties(ev, ICAL_ATTENDEE_PROPERTY) != 1) {
		*error_r = "a reply names exactly one ATTENDEE";
		return -1;
	}
	p = ic.icalcomponent_get_first_property(ev, ICAL_ATTENDEE_PROPERTY);
	r->attendee = address_of(ic.icalproperty_get_attendee(p));
	if (r->attendee == NULL) {
		*error_r = "the ATTENDEE is not a mailto: address";
		return -1;
	}
	r->method = method_of(c);
	r->uid = xstrdup(uid);
	r->sequence = ic.icalcomponent_get_sequence(ev);
	r->partstat = CALENDAR_OTHER;
	ps = ic.icalproperty_get_first_parameter(p, ICAL_PARTSTAT_PARAMETER);
	if (ps != NULL) {
		switch (ic.icalparameter_get_partstat(ps)) {
		case ICAL_PARTSTAT_ACCEPTED:
			r->partstat = CALENDAR_ACCEPTED;
			break;
		case ICAL_PARTSTAT_DECLINED:
			r->partstat = CALENDAR_DECLINED;
			break;
		case ICAL_PARTSTAT_TENTATIVE:
			r->partstat = CALENDAR_TENTATIVE;
			break;
		default:
			break;
		}
	}
	return 0;
}

int calendar_parse_reply(const char *text, size_t len,
			 struct calendar_reply *r, const char **error_r)
{
	memset(r, 0, sizeof *r);
	if (with_event(text, len, read_reply, r, error_r) < 0) {
		calendar_reply_clear(r);
		return -1;
	}
	return 0;
}

void calendar_reply_clear(struct calendar_reply *r)
{
	xfree(&r->uid);
	xfree(&r->attendee);
}

/* The tz name of a TZID as calendars write it: "Europe/Berlin", or with a
 * vendor prefix ("/freeassociation.sourceforge.net/Europe/Berlin"), when
 * the tz database knows it; NULL otherwise. */
static const char *known_name(const char *tzid)
{
	const char *p;

	if (tzid == NULL)
		return NULL;
	if (zone_get(tzid) != NULL)
		return tzid;
	/* Try the last two, then three, parts of a prefixed name. */
	for (p = tzid + strlen(tzid); p > tzid; p--) {
		if (p[-1] == '/' && strchr(p, '/') != NULL &&
		    zone_get(p) != NULL)
			return p;
	}
	return NULL;
}

/* The instant of a DTSTART or DTEND property; *tzid_r the tz name of its
 * zone when known. -1 (with *error_r) when it cannot be read. */
static int instant(icalcomponent *root, icalproperty *p,
		   icaltimezone *deflt, time_t *t_r, const char **tzid_r,
		   const char **error_r)
{
	struct icaltimetype tt;
	icalparameter *tzp;
	icaltimezone *zone = NULL;
	const char *tzid = NULL;

	tt = ic.icalproperty_isa(p) == ICAL_DTEND_PROPERTY ?
	     ic.icalproperty_get_dtend(p) : ic.icalproperty_get_dtstart(p);
	if (ic.icaltime_is_null_time(tt) || !ic.icaltime_is_valid_time(tt)) {
		*error_r = "a time that cannot be read";
		return -1;
	}
	if (tt.is_date) {
		*error_r = "a date without a time of day";
		return -1;
	}
	tzp = ic.icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER);
	if (ic.icaltime_is_utc(tt)) {
		zone = ic.icaltimezone_get_utc_timezone();
	} else if (tzp != NULL) {
		tzid = ic.icalparameter_get_tzid(tzp);
		if (tzid != NULL && root != NULL)
			zone = ic.icalcomponent_get_timezone(root, tzid);
		if (zone == NULL && known_name(tzid) != NULL)
			zone = zone_get(known_name(tzid));
		if (zone == NULL) {
			*error_r = "an unknown time zone";
			return -1;
		}
	} else {
		zone = deflt;
	}
	tt.zone = NULL;
	*t_r = ic.icaltime_as_timet_with_zone(tt, zone);
	if (tzid_r != NULL)
		*tzid_r = known_name(tzid);
	return 0;
}

static char *text_prop(icalcomponent *ev, icalproperty_kind kind)
{
	icalproperty *p = ic.icalcomponent_get_first_property(ev, kind);
	const char *v = NULL;

	if (p == NULL)
		return NULL;
	switch (kind) {
	case ICAL_URL_PROPERTY:
		v = ic.icalproperty_get_url(p);
		break;
	case ICAL_SUMMARY_PROPERTY:
		v = ic.icalproperty_get_summary(p);
		break;
	case ICAL_LOCATION_PROPERTY:
		v = ic.icalproperty_get_location(p);
		break;
	case ICAL_DESCRIPTION_PROPERTY:
		v = ic.icalproperty_get_description(p);
		break;
	default:
		break;
	}
	return v != NULL && v[0] != '\0' ? xstrdup(v) : NULL;
}

struct event_ctx {
	const char *default_tz;
	struct calendar_parsed *e;
};

/* What calendar_parse_event reads from the first VEVENT ev of c into the
 * event_ctx's calendar_parsed. 0, or -1 with *error_r. */
static int read_event(icalcomponent *c, icalcomponent *ev, void *ctx,
		      const char **error_r)
{
	struct calendar_parsed *e = ((struct event_ctx *)ctx)->e;
	icaltimezone *deflt = zone_get(((struct event_ctx *)ctx)->default_tz);
	icalproperty *p;
	const char *tzid = NULL;
	time_t end;

	if (deflt == NULL)
		deflt = ic.icaltimezone_get_utc_timezone();
	p = ic.icalcomponent_get_first_property(ev, ICAL_DTSTART_PROPERTY);
	if (p == NULL) {
		*error_r = "no DTSTART";
		return -1;
	}
	if (instant(c, p, deflt, &e->start, &tzid, error_r) < 0)
		return -1;
	e->tzid = tzid != NULL ? xstrdup(tzid) : NULL;
	p = ic.icalcomponent_get_first_property(ev, ICAL_DTEND_PROPERTY);
	if (p != NULL) {
		if (instant(c, p, deflt, &end, NULL, error_r) < 0)
			return -1;
		e->duration = end > e->start ? (long)(end - e->start) : 0;
	} else if ((p = ic.icalcomponent_get_first_property(
			    ev, ICAL_DURATION_PROPERTY)) != NULL) {
		int d = ic.icaldurationtype_as_int(
			ic.icalproperty_get_duration(p));

		e->duration = d > 0 ? d : 0;
	}
	p = ic.icalcomponent_get_first_property(ev, ICAL_RRULE_PROPERTY);
	if (p != NULL) {
		struct icalrecurrencetype r = ic.icalproperty_get_rrule(p);

		if (r.freq == ICAL_NO_RECURRENCE) {
			*error_r = "a repeat rule that cannot be read";
			return -1;
		}
		if (!ic.icaltime_is_null_time(r.until) &&
		    !ic.icaltime_is_utc(r.until)) {
			/* UNTIL beside a zoned DTSTART must be UTC. */
			r.until = ic.icaltime_from_timet_with_zone(
				until_instant(r.until, e->tzid != NULL ?
					      zone_get(e->tzid) : deflt), 0,
				ic.icaltimezone_get_utc_timezone());
		}
		e->rrule = ic.icalrecurrencetype_as_string_r(&r);
	}
	e->summary = text_prop(ev, ICAL_SUMMARY_PROPERTY);
	e->location = text_prop(ev, ICAL_LOCATION_PROPERTY);
	e->description = text_prop(ev, ICAL_DESCRIPTION_PROPERTY);
	e->url = text_prop(ev, ICAL_URL_PROPERTY);
	return 0;
}

int calendar_parse_event(const char *text, size_t len,
			 const char *default_tz, struct calendar_parsed *e,
			 const char **error_r)
{
	struct event_ctx ctx = { default_tz, e };

	memset(e, 0, sizeof *e);
	if (with_event(text, len, read_event, &ctx, error_r) < 0) {
		calendar_parsed_clear(e);
		return -1;
	}
	return 0;
}

void calendar_parsed_clear(struct calendar_parsed *e)
{
	xfree(&e->summary);
	xfree(&e->location);
	xfree(&e->description);
	xfree(&e->url);
	xfree(&e->tzid);
	xfree(&e->rrule);
}
