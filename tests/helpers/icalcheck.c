/* icalcheck - reads an iCalendar text with libical, the way a C calendar
 * program does, and prints what it says, for the tests
 *
 * usage: icalcheck < FILE.ics
 *
 * Uses libical directly (not convene's code): the zone of DTSTART/DTEND is
 * found through the VTIMEZONE of the text itself, the times are printed
 * in UTC, and a repeating event's first occurrences are expanded with
 * libical's recurrence iterator in that zone. One "key=value" a line:
 *   method uid sequence status summary tzid dtstart dtend rrule organizer
 *   attendee (one line each) occurrence (one line each, at most 10)
 * Exits 1 when libical cannot parse it or it has no VEVENT. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <libical/ical.h>

static void put_utc(const char *key, time_t t)
{
	char b[32];
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("%s=%s\n", key, b);
}

/* A DTSTART/DTEND as an instant, its zone from the calendar's VTIMEZONE. */
static time_t instant(icalcomponent *cal, icalproperty *p, const char **tzid_r)
{
	struct icaltimetype t = icalproperty_isa(p) == ICAL_DTEND_PROPERTY ?
				icalproperty_get_dtend(p) :
				icalproperty_get_dtstart(p);
	icalparameter *tzp = icalproperty_get_first_parameter(
		p, ICAL_TZID_PARAMETER);
	icaltimezone *zone = NULL;

	*tzid_r = NULL;
	if (icaltime_is_utc(t))
		return icaltime_as_timet(t);
	if (tzp != NULL) {
		*tzid_r = icalparameter_get_tzid(tzp);
		zone = icalcomponent_get_timezone(cal, *tzid_r);
		if (zone == NULL) {
			fprintf(stderr, "icalcheck: no VTIMEZONE for %s\n",
				*tzid_r);
			exit(1);
		}
	}
	t.zone = NULL;
	return icaltime_as_timet_with_zone(t, zone);
}

int main(void)
{
	static char text[1 << 20];
	size_t n = fread(text, 1, sizeof text - 1, stdin);
	icalcomponent *cal, *ev;
	icalproperty *p;
	const char *tzid = NULL, *tzid2;
	time_t start;

	text[n] = '\0';
	icalerror_set_errors_are_fatal(0);
	cal = icalparser_parse_string(text);
	if (cal == NULL || icalcomponent_isa(cal) != ICAL_VCALENDAR_COMPONENT) {
		fprintf(stderr, "icalcheck: not a VCALENDAR\n");
		return 1;
	}
	if (icalcomponent_count_errors(cal) > 0) {
		fprintf(stderr, "icalcheck: libical reports %d error(s)\n",
			icalcomponent_count_errors(cal));
		return 1;
	}
	ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
	if (ev == NULL) {
		fprintf(stderr, "icalcheck: no VEVENT\n");
		return 1;
	}
	printf("method=%s\n", icalproperty_method_to_string(
		icalcomponent_get_method(cal)));
	printf("uid=%s\n", icalcomponent_get_uid(ev));
	printf("sequence=%d\n", icalcomponent_get_sequence(ev));
	printf("status=%s\n", icalproperty_status_to_string(
		icalcomponent_get_status(ev)));
	printf("summary=%s\n", icalcomponent_get_summary(ev));
	p = icalcomponent_get_first_property(ev, ICAL_DTSTART_PROPERTY);
	start = instant(cal, p, &tzid);
	printf("tzid=%s\n", tzid ? tzid : "");
	put_utc("dtstart", start);
	p = icalcomponent_get_first_property(ev, ICAL_DTEND_PROPERTY);
	if (p != NULL)
		put_utc("dtend", instant(cal, p, &tzid2));
	p = icalcomponent_get_first_property(ev, ICAL_RRULE_PROPERTY);
	if (p != NULL) {
		struct icalrecurrencetype r = icalproperty_get_rrule(p);
		icaltimezone *zone = tzid ? icalcomponent_get_timezone(cal, tzid) :
				     icaltimezone_get_utc_timezone();
		struct icaltimetype dt = icaltime_from_timet_with_zone(start, 0,
								       zone);
		icalrecur_iterator *it = icalrecur_iterator_new(r, dt);
		int i;

		printf("rrule=%s\n", icalrecurrencetype_as_string(&r));
		for (i = 0; it != NULL && i < 10; i++) {
			struct icaltimetype o = icalrecur_iterator_next(it);

			if (icaltime_is_null_time(o))
				break;
			o.zone = NULL;
			put_utc("occurrence", icaltime_as_timet_with_zone(o, zone));
		}
		icalrecur_iterator_free(it);
	}
	p = icalcomponent_get_first_property(ev, ICAL_ORGANIZER_PROPERTY);
	if (p != NULL)
		printf("organizer=%s\n", icalproperty_get_organizer(p));
	for (p = icalcomponent_get_first_property(ev, ICAL_ATTENDEE_PROPERTY);
	     p != NULL;
	     p = icalcomponent_get_next_property(ev, ICAL_ATTENDEE_PROPERTY))
		printf("attendee=%s\n", icalproperty_get_attendee(p));
	icalcomponent_free(cal);
	icaltimezone_free_builtin_timezones();
	icalmemory_free_ring();
	return 0;
}
