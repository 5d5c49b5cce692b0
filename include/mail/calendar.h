/* calendar - iCalendar (RFC 5545) for meetings, built and parsed with
 * libical: the invitations, updates and cancellations convene sends (iMIP,
 * RFC 6047), the replies calendars send back, the .ics a leader attaches,
 * and times in a time zone of the tz database.
 *
 * Time zones: an event's DTSTART and DTEND are written in its zone (TZID
 * is the tz name, "Europe/Berlin") with a VTIMEZONE that holds only the
 * zone's rules in force at the event: one STANDARD and one DAYLIGHT
 * observance with a yearly RRULE and no UNTIL (a zone without daylight
 * saving time gets one fixed STANDARD). libical's own VTIMEZONE carries
 * the zone's whole history with UNTIL in UTC, as RFC 5545 (3.3.10) asks;
 * python-dateutil, under Debian 12's python3-icalendar, refuses an UNTIL
 * in UTC beside the local DTSTART of an observance, and Outlook, Google
 * and Apple Calendar write the same short form. "UTC" writes UTC times
 * and no VTIMEZONE.
 *
 * Everything parsed here is hostile: inputs longer than CALENDAR_MAX are
 * refused before libical sees them. Knows no database. */
#ifndef CONVENE_CALENDAR_H
#define CONVENE_CALENDAR_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct buf;

/* The largest calendar text parsed. */
#define CALENDAR_MAX (256 * 1024)

enum calendar_method {
	CALENDAR_REQUEST,   /* an invitation or an update */
	CALENDAR_CANCEL,
	CALENDAR_REPLY,
	CALENDAR_PUBLISH,
	CALENDAR_NONE,      /* no METHOD, or another one */
};
const char *calendar_method_name(enum calendar_method m);

/* One meeting as convene writes it. Strings are UTF-8 and borrowed; those
 * marked optional may be NULL. */
struct calendar_event {
	enum calendar_method method;   /* REQUEST, CANCEL, or PUBLISH (the
					  event without asking anyone) */
	const char *uid;
	int sequence;
	time_t dtstamp;
	time_t start;             /* first occurrence, seconds since the epoch */
	long duration;            /* seconds, > 0 */
	const char *tzid;         /* tz name, or "UTC" */
	const char *rrule;        /* RECUR value ("FREQ=WEEKLY;COUNT=4"),
				     optional */
	const char *summary;
	const char *location, *description, *url;   /* optional */
	const char *organizer;    /* address */
	const char *organizer_name;  /* optional */
	/* The attendee's address: a member's, or the marker that delivery
	 * replaces with each member's (its line is folded so that the
	 * address starts a line of its own: any address fits without
	 * folding again). Optional. */
	const char *attendee;
};

/* Writes e as a VCALENDAR (with METHOD, the VTIMEZONE described above and
 * one VEVENT; STATUS:CANCELLED for CANCEL) into out, with LF line ends
 * (delivery sends CRLF). Returns 0, or -1 with *error_r (newly allocated)
 * for an unknown zone, a bad RRULE or a missing field. */
int calendar_build(const struct calendar_event *e, struct buf *out,
		   char **error_r);

enum calendar_partstat {
	CALENDAR_ACCEPTED,
	CALENDAR_DECLINED,
	CALENDAR_TENTATIVE,
	CALENDAR_OTHER,     /* NEEDS-ACTION, DELEGATED, none... */
};

/* What a calendar's answer says (all newly allocated). */
struct calendar_reply {
	enum calendar_method method;
	char *uid;
	int sequence;
	char *attendee;     /* the address, "mailto:" removed, lower case */
	enum calendar_partstat partstat;
};

/* Reads the first VEVENT of a calendar text (a REPLY is expected; the
 * caller checks method). A reply must name exactly one ATTENDEE. Returns
 * 0, or -1 with *error_r (static text) when it is not iCalendar, has no
 * VEVENT, UID or ATTENDEE, or names several attendees. Free r with
 * calendar_reply_clear. */
int calendar_parse_reply(const char *text, size_t len,
			 struct calendar_reply *r, const char **error_r);
void calendar_reply_clear(struct calendar_reply *r);

/* A meeting read from an .ics a leader sent (all newly allocated or NULL). */
struct calendar_parsed {
	char *summary, *location, *description, *url;
	time_t start;
	long duration;      /* 0 when the event gives none */
	char *tzid;         /* the tz name of DTSTART's zone when the tz
			       database knows it, else NULL */
	char *rrule;        /* with UNTIL in UTC; NULL when none */
};

/* Reads the first VEVENT of an .ics: DTSTART with its TZID (resolved by
 * the file's VTIMEZONE, else by the tz name), floating times taken in
 * default_tz; DTEND or DURATION; RRULE. Returns 0, or -1 with *error_r
 * (static text): not iCalendar, no VEVENT, no DTSTART, a date without a
 * time, an unknown zone. Free e with calendar_parsed_clear. */
int calendar_parse_event(const char *text, size_t len,
			 const char *default_tz, struct calendar_parsed *e,
			 const char **error_r);
void calendar_parsed_clear(struct calendar_parsed *e);

/* Whether the tz database (through libical) knows zone tzid; "UTC" is
 * always known. */
bool calendar_zone_known(const char *tzid);

/* The time of a local date and time in zone tzid. A time skipped by the
 * change to summer time is read in the offset before the change (02:30
 * becomes 03:30 summer time); a time that happens twice, at the change
 * back, is taken in standard time (the second). Returns 0, or -1 for an
 * unknown zone or an impossible date. */
int calendar_local_to_utc(const char *tzid, int year, int month, int day,
			  int hour, int minute, time_t *t_r);

/* t as people read it in zone tzid: "2031-03-27 19:00 Europe/Berlin
 * (UTC+01:00)" into dst (size bytes). Returns 0, or -1 for an unknown
 * zone (dst then holds the UTC time). */
int calendar_format_local(time_t t, const char *tzid, char *dst,
			  size_t size);

/* Whether rrule is a RECUR value libical accepts. */
bool calendar_rrule_ok(const char *rrule);

/* The start of the first occurrence at or after `after` of a meeting that
 * starts at `start` in zone tzid and repeats by rrule (NULL: once).
 * *found_r false when there is none (the series ended). Returns 0, or -1
 * for an unknown zone or a bad rule. */
int calendar_next_occurrence(time_t start, const char *tzid,
			     const char *rrule, time_t after, time_t *next_r,
			     bool *found_r);

/* Frees what libical keeps for the life of the process (its zone cache),
 * so that a leak checker sees nothing; call once at exit. */
void calendar_cleanup(void);

#endif
