/* meeting - a list's meetings: invitations, answers, reminders, minutes */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "pipeline/meeting.h"
#include "pipeline/archive.h"
#include "pipeline/incoming.h"
#include "pipeline/notice.h"
#include "pipeline/post.h"
#include "base/addr.h"
#include "base/buf.h"
#include "base/conf.h"
#include "base/log.h"
#include "base/template.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "mail/calendar.h"
#include "mail/compose.h"
#include "mail/msg.h"
#include "mail/reply.h"
#include "mail/request.h"
#include "mail/oneclick.h"
#include "mail/rewrite.h"
#include "mail/robot.h"
#include "store/store.h"
#include "store/store_meetings.h"
#include "store/store_subs.h"

/* Bounds on what a leader sets. */
#define TITLE_MAX 200
#define TEXT_MAX 300            /* where, url */
#define AGENDA_MAX 4000
#define DURATION_MAX (7L * 86400L)
#define CAPACITY_MAX 1000000L
#define COUNT_MAX 1000
/* Former members an update or cancellation reaches besides the members. */
#define OUTSIDERS_MAX 10000
/* Lines of answers listed in a headcount. */
#define ATTENDEES_MAX 5000

/* ---- what a leader asks for ---- */

void meeting_spec_init(struct meeting_spec *sp)
{
	memset(sp, 0, sizeof *sp);
	sp->capacity = -1;
}

void meeting_spec_clear(struct meeting_spec *sp)
{
	xfree(&sp->title);
	xfree(&sp->when);
	xfree(&sp->timezone);
	xfree(&sp->where);
	xfree(&sp->url);
	xfree(&sp->agenda);
	xfree(&sp->repeat);
	xfree(&sp->rrule);
	meeting_spec_init(sp);
}

static void set_text(char **dst, const char *v)
{
	free(*dst);
	*dst = xstrdup(v);
}

/* Text without control bytes (but newlines where allowed). */
static bool clean(const char *v, bool lines)
{
	for (; *v != '\0'; v++) {
		unsigned char ch = (unsigned char)*v;

		if (ch == 127 || (ch < 32 && ch != '\t' &&
				  !(lines && ch == '\n')))
			return false;
	}
	return true;
}

static bool url_ok(const char *v)
{
	const char *p;

	if (strcmp(v, "-") == 0)
		return true;
	if (strncasecmp(v, "https://", 8) != 0 &&
	    strncasecmp(v, "http://", 7) != 0)
		return false;
	for (p = v; *p != '\0'; p++)
		if ((unsigned char)*p <= 32 || (unsigned char)*p >= 127 ||
		    *p == '"' || *p == '<' || *p == '>')
			return false;
	return true;
}

/* Whether k is one of the names (NULL-terminated). */
static bool named(const char *k, const char *const *names)
{
	for (; *names != NULL; names++)
		if (strcmp(k, *names) == 0)
			return true;
	return false;
}

/* The settings that are numbers (duration, capacity): 0 set, -1 refused
 * (*problem_r, the answer line that says why), 1 when k is none of them. */
static int set_number(struct meeting_spec *sp, const char *k, const char *v,
		      const char **problem_r)
{
	static const char *const duration[] = { "duration", "length", NULL };
	static const char *const capacity[] = {
		"capacity", "places", "seats", NULL
	};
	char *end = NULL;
	long n;

	if (named(k, duration)) {
		n = conf_parse_duration(v);
		if (n < 60 || n > DURATION_MAX) {
			*problem_r = "meeting-bad-duration";
			return -1;
		}
		sp->duration = n;
		return 0;
	}
	if (!named(k, capacity))
		return 1;
	n = strtol(v, &end, 10);
	if (v[0] == '\0' || *end != '\0' || n < 0 || n > CAPACITY_MAX) {
		*problem_r = "meeting-bad-capacity";
		return -1;
	}
	sp->capacity = n;
	return 0;
}

/* The settings that are text: 0 set, -1 refused (*problem_r), 1 when k
 * is none of them. */
static int set_words(struct meeting_spec *sp, const char *k, const char *v,
		     const char **problem_r)
{
	static const char *const title[] = { "title", "what", "subject", NULL };
	static const char *const when[] = { "when", "date", "start", NULL };
	static const char *const zone[] = { "timezone", "tz", "zone", NULL };
	static const char *const where[] = {
		"where", "location", "place", NULL
	};
	static const char *const url[] = { "url", "link", NULL };
	static const char *const agenda[] = { "agenda", "description", NULL };
	static const char *const repeat[] = {
		"repeat", "repeats", "recurrence", NULL
	};
	char **dst;
	bool ok;

	if (named(k, title)) {
		dst = &sp->title;
		ok = v[0] != '\0' && strlen(v) <= TITLE_MAX && clean(v, false);
		*problem_r = "meeting-bad-title";
	} else if (named(k, when)) {
		dst = &sp->when;
		ok = true;
	} else if (named(k, zone)) {
		dst = &sp->timezone;
		ok = calendar_zone_known(v);
		*problem_r = "meeting-bad-timezone";
	} else if (named(k, where)) {
		dst = &sp->where;
		ok = strlen(v) <= TEXT_MAX && clean(v, false);
		*problem_r = "meeting-bad-where";
	} else if (named(k, url)) {
		dst = &sp->url;
		ok = strlen(v) <= TEXT_MAX && url_ok(v);
		*problem_r = "meeting-bad-url";
	} else if (named(k, agenda)) {
		dst = &sp->agenda;
		ok = strlen(v) <= AGENDA_MAX && clean(v, true);
		*problem_r = "meeting-bad-agenda";
	} else if (named(k, repeat)) {
		dst = &sp->repeat;
		ok = v[0] != '\0' && strlen(v) <= 100 && clean(v, false);
		*problem_r = "meeting-bad-repeat";
	} else {
		return 1;
	}
	if (!ok)
		return -1;
	set_text(dst, v);
	return 0;
}

int meeting_spec_set(struct meeting_spec *sp, const char *key,
		     const char *value, const char **problem_r)
{
	char *v = util_trim(xstrdup(value != NULL ? value : ""));
	char *k = util_lower(util_trim(xstrdup(key)));
	const char *problem = NULL;
	int rc = set_number(sp, k, v, &problem);

	if (rc == 1)
		rc = set_words(sp, k, v, &problem);
	if (rc < 0)
		*problem_r = problem;
	if (rc == 0)
		sp->given++;
	free(v);
	free(k);
	return rc;
}

/* "key: value" on one line: the key is letters only, at most 16. */
static bool key_line(const char *line, char key[20], const char **value_r)
{
	size_t i = 0;

	while (*line == ' ' || *line == '\t')
		line++;
	while (i < 16 && ((line[i] >= 'a' && line[i] <= 'z') ||
			  (line[i] >= 'A' && line[i] <= 'Z')))
		i++;
	if (i == 0 || line[i] != ':')
		return false;
	memcpy(key, line, i);
	key[i] = '\0';
	*value_r = line + i + 1;
	return true;
}

int meeting_spec_read(struct meeting_spec *sp, const char *text,
		      const char **problem_r)
{
	char *copy = xstrdup(text != NULL ? text : ""), *line, *next;
	struct buf agenda = BUF_INIT;
	bool in_agenda = false;
	int rc = 0;

	for (line = copy; line != NULL && rc == 0; line = next) {
		char key[20];
		const char *value;
		int r;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (line[0] == '>' || strcmp(line, "-- ") == 0 ||
		    strcmp(line, "--") == 0)
			break;
		if (key_line(line, key, &value)) {
			r = meeting_spec_set(sp, key, value, problem_r);
			if (r < 0) {
				rc = -1;
				break;
			}
			if (r == 0) {
				in_agenda = strcasecmp(key, "agenda") == 0 ||
					    strcasecmp(key, "description") == 0;
				if (in_agenda) {
					buf_reset(&agenda);
					buf_puts(&agenda, sp->agenda);
				}
				continue;
			}
		}
		if (in_agenda && util_trim(line)[0] != '\0') {
			/* The agenda goes on below its line. */
			if (agenda.len > 0)
				buf_putc(&agenda, '\n');
			buf_puts(&agenda, util_trim(line));
			if (meeting_spec_set(sp, "agenda", buf_cstr(&agenda),
					     problem_r) < 0)
				rc = -1;
			else
				sp->given--;   /* the same setting */
		} else if (util_trim(line)[0] == '\0') {
			in_agenda = false;
		}
	}
	buf_free(&agenda);
	free(copy);
	return rc;
}

int meeting_spec_ics(struct meeting_spec *sp, const char *text, size_t len,
		     const char *default_tz, const char **problem_r)
{
	struct calendar_parsed e;
	const char *error = NULL;

	if (calendar_parse_event(text, len, default_tz, &e, &error) < 0) {
		log_info("meeting: the .ics was not read: %s", error);
		*problem_r = "meeting-bad-ics";
		return -1;
	}
	if (e.summary != NULL &&
	    meeting_spec_set(sp, "title", e.summary, problem_r) < 0)
		goto fail;
	if (e.location != NULL &&
	    meeting_spec_set(sp, "where", e.location, problem_r) < 0)
		goto fail;
	if (e.url != NULL && meeting_spec_set(sp, "url", e.url, problem_r) < 0)
		goto fail;
	if (e.description != NULL &&
	    meeting_spec_set(sp, "agenda", e.description, problem_r) < 0)
		goto fail;
	if (e.tzid != NULL)
		set_text(&sp->timezone, e.tzid);
	if (e.duration > 0) {
		if (e.duration > DURATION_MAX) {
			*problem_r = "meeting-ics-too-long";
			goto fail;
		}
		sp->duration = e.duration;
	}
	sp->start = e.start;
	if (e.rrule != NULL)
		set_text(&sp->rrule, e.rrule);
	sp->given++;
	calendar_parsed_clear(&e);
	return 0;
fail:
	calendar_parsed_clear(&e);
	return -1;
}

/* ---- from a request to a meeting ---- */

/* The frequency of a repeat's words w[0..n): "daily", "weekly",
 * "biweekly", "monthly", "every [N] days|weeks|months". *i_r is the
 * first word after it. -1 when the words say none. */
static int repeat_freq(char *const *w, size_t n, size_t *i_r,
		       const char **freq_r, long *interval_r)
{
	const char *freq = NULL;
	size_t i = 1;

	*interval_r = 1;
	if (strcmp(w[0], "every") == 0 && n >= 2) {
		char *end;
		long interval = strtol(w[1], &end, 10);

		if (*end == '\0') {
			if (interval < 1 || interval > 99 || n < 3)
				return -1;
			*interval_r = interval;
			i = 2;
		}
		if (strncmp(w[i], "day", 3) == 0)
			freq = "DAILY";
		else if (strncmp(w[i], "week", 4) == 0)
			freq = "WEEKLY";
		else if (strncmp(w[i], "month", 5) == 0)
			freq = "MONTHLY";
		i++;
	} else if (strcmp(w[0], "daily") == 0) {
		freq = "DAILY";
	} else if (strcmp(w[0], "weekly") == 0) {
		freq = "WEEKLY";
	} else if (strcmp(w[0], "biweekly") == 0 ||
		   strcmp(w[0], "fortnightly") == 0) {
		freq = "WEEKLY";
		*interval_r = 2;
	} else if (strcmp(w[0], "monthly") == 0) {
		freq = "MONTHLY";
	}
	*i_r = i;
	*freq_r = freq;
	return freq != NULL ? 0 : -1;
}

/* The end of a repeat, words w[i..n): "N times" or "until YYYY-MM-DD"
 * (the end of that day in zone tz), added to r; nothing. -1 when the
 * words are something else. */
static int repeat_end(char *const *w, size_t n, size_t i, const char *tz,
		      struct buf *r)
{
	if (i == n)
		return 0;
	if (i + 2 == n && strcmp(w[i + 1], "times") == 0) {
		char *end;
		long count = strtol(w[i], &end, 10);

		if (*end != '\0' || count < 1 || count > COUNT_MAX)
			return -1;
		buf_printf(r, ";COUNT=%ld", count);
		return 0;
	}
	if (i + 2 == n && strcmp(w[i], "until") == 0) {
		int y, mo, d;
		char tail;
		time_t until;
		struct tm tm;

		if (sscanf(w[i + 1], "%4d-%2d-%2d%c", &y, &mo, &d, &tail) != 3 ||
		    calendar_local_to_utc(tz, y, mo, d, 23, 59, &until) < 0)
			return -1;
		until += 59;
		gmtime_r(&until, &tm);
		buf_printf(r, ";UNTIL=%04d%02d%02dT%02d%02d%02dZ",
			   tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			   tm.tm_hour, tm.tm_min, tm.tm_sec);
		return 0;
	}
	return -1;
}

/* "weekly 10 times", "every 2 weeks until 2031-06-30", "none" as an
 * RRULE in zone tz (*rrule_r NULL for none). -1 with *problem_r. */
static int repeat_rule(const char *repeat, const char *tz, char **rrule_r,
		       const char **problem_r)
{
	static const char *const none[] = {
		"none", "no", "once", "never", NULL
	};
	char *copy = util_lower(xstrdup(repeat)), *w[8], *save = NULL, *t;
	const char *freq = NULL;
	struct buf r = BUF_INIT;
	size_t n = 0, i = 0;
	long interval = 1;

	*rrule_r = NULL;
	for (t = strtok_r(copy, " \t,", &save); t != NULL && n < 8;
	     t = strtok_r(NULL, " \t,", &save))
		w[n++] = t;
	if (n == 1 && named(w[0], none)) {
		free(copy);
		return 0;
	}
	if (n == 0 || repeat_freq(w, n, &i, &freq, &interval) < 0)
		goto bad;
	buf_printf(&r, "FREQ=%s", freq);
	if (interval > 1)
		buf_printf(&r, ";INTERVAL=%ld", interval);
	if (repeat_end(w, n, i, tz, &r) < 0)
		goto bad;
	free(copy);
	*rrule_r = buf_steal(&r, NULL);
	return 0;
bad:
	buf_free(&r);
	free(copy);
	*problem_r = "meeting-bad-repeat";
	return -1;
}

/* "YYYY-MM-DD HH:MM" (or with a 'T') in zone tz. */
static int parse_when(const char *when, const char *tz, time_t *t_r)
{
	int y, mo, d, h, mi, used = 0;
	char sep;

	if (sscanf(when, "%4d-%2d-%2d%c%2d:%2d%n", &y, &mo, &d, &sep, &h, &mi,
		   &used) != 6 || (sep != ' ' && sep != 'T' && sep != 't'))
		return -1;
	while (when[used] == ' ')
		used++;
	if (when[used] != '\0')
		return -1;
	return calendar_local_to_utc(tz, y, mo, d, h, mi, t_r);
}

/* Sets the fields of m that sp gives (a new meeting: all that it needs).
 * 1 with *problem_r (an answer line) when the request cannot be met. */
static int apply_spec(const struct conf_list *l, const struct meeting_spec *sp,
		      struct store_meeting *m, bool is_new,
		      const char **problem_r)
{
	const char *tz;
	char *rrule = NULL;
	time_t start = m->starts_at;

	tz = sp->timezone != NULL ? sp->timezone :
	     is_new ? l->meeting_timezone : m->timezone;
	if (!calendar_zone_known(tz)) {
		*problem_r = "meeting-bad-timezone";
		return 1;
	}
	if (sp->when != NULL) {
		if (parse_when(sp->when, tz, &start) < 0) {
			*problem_r = "meeting-bad-when";
			return 1;
		}
	} else if (sp->start != 0) {
		start = sp->start;
	} else if (is_new) {
		*problem_r = "meeting-no-when";
		return 1;
	}
	if ((is_new || start != m->starts_at) && start <= util_now()) {
		*problem_r = "meeting-past";
		return 1;
	}
	if (is_new && sp->title == NULL) {
		*problem_r = "meeting-no-title";
		return 1;
	}
	if (sp->rrule != NULL) {
		if (!calendar_rrule_ok(sp->rrule)) {
			*problem_r = "meeting-bad-ics";
			return 1;
		}
		rrule = xstrdup(sp->rrule);
	} else if (sp->repeat != NULL &&
		   repeat_rule(sp->repeat, tz, &rrule, problem_r) < 0) {
		return 1;
	}
	if (sp->rrule != NULL || sp->repeat != NULL) {
		free(m->rrule);
		m->rrule = rrule;
	}
	if (tz != m->timezone)
		set_text(&m->timezone, tz);
	m->starts_at = start;
	if (sp->title != NULL)
		set_text(&m->title, sp->title);
	if (sp->duration > 0)
		m->duration = sp->duration;
	else if (is_new)
		m->duration = 3600;
	if (sp->where != NULL) {
		xfree(&m->location);
		if (strcmp(sp->where, "-") != 0)
			m->location = xstrdup(sp->where);
	}
	if (sp->url != NULL) {
		xfree(&m->url);
		if (strcmp(sp->url, "-") != 0)
			m->url = xstrdup(sp->url);
	}
	if (sp->agenda != NULL) {
		xfree(&m->agenda);
		if (strcmp(sp->agenda, "-") != 0)
			m->agenda = xstrdup(sp->agenda);
	}
	if (sp->capacity >= 0)
		m->capacity = sp->capacity;
	return 0;
}

/* ---- what convene writes about a meeting ---- */

static char *rsvp_address(const struct conf *c, const struct store_meeting *m)
{
	return xasprintf("%s-rsvp+%lld@%s", m->list, (long long)m->id,
			 c->domain);
}

/* "1h30m" */
static char *duration_text(long d)
{
	long h = d / 3600, mi = (d % 3600) / 60;

	if (h > 0 && mi > 0)
		return xasprintf("%ldh%ldm", h, mi);
	if (h > 0)
		return xasprintf("%ldh", h);
	return xasprintf("%ldm", mi);
}

/* Every placeholder of a meeting's templates, set for m (and "" for the
 * headcount, answer and notice values until the caller sets them). */
static void meeting_vars(struct notice_vars *v, const struct conf *c,
			 const struct store_meeting *m)
{
	char when[160];

	notice_vars_own(v, "meeting_id", xasprintf("%lld", (long long)m->id));
	notice_vars_oneline(v, "title", m->title);
	if (calendar_format_local(m->starts_at, m->timezone, when,
				  sizeof when) < 0)
		snprintf(when, sizeof when, "%lld", (long long)m->starts_at);
	notice_vars_own(v, "when", xstrdup(when));
	notice_vars_own(v, "duration", duration_text(m->duration));
	notice_vars_oneline(v, "where", m->location ? m->location : "-");
	notice_vars_oneline(v, "url", m->url ? m->url : "-");
	notice_vars_set(v, "agenda", m->agenda ? m->agenda : "");
	notice_vars_own(v, "capacity", m->capacity > 0 ?
			xasprintf("%ld", m->capacity) : xstrdup("-"));
	notice_vars_set(v, "repeat", m->rrule ? m->rrule : "-");
	notice_vars_own(v, "rsvp_address", rsvp_address(c, m));
	notice_vars_set(v, "organizer", m->organizer);
	notice_vars_set(v, "going", "");
	notice_vars_set(v, "waiting", "");
	notice_vars_set(v, "maybe", "");
	notice_vars_set(v, "declined", "");
	notice_vars_set(v, "unanswered", "");
	notice_vars_set(v, "attendees", "");
	notice_vars_set(v, "position", "");
	notice_vars_set(v, "lead", "");
}

enum inv { INV_INVITE, INV_UPDATE, INV_CANCEL };

static const char *const inv_templates[] = {
	"meeting-invite", "meeting-update", "meeting-cancel"
};

/* The message about m of kind `kind`, To: `to`; the calendar names
 * `attendee` (NULL: the archive's copy, which asks nobody: PUBLISH). With
 * the list's header fields (List-Unsubscribe with `token`, the marker of
 * each member's one-click token, when not NULL), Reply-To the meeting's
 * answer address. */
static int inv_message(const struct conf *c, const struct conf_list *l,
		       const struct store_meeting *m, enum inv kind,
		       const char *to, const char *attendee, const char *token,
		       const char *message_id, struct buf *out,
		       char **error_r)
{
	struct msg_limits limits = {
		.max_header_bytes = (size_t)c->limits.max_header_kb * 1024,
		.max_headers = (size_t)c->limits.max_headers,
	};
	char *rsvp = rsvp_address(c, m);
	struct calendar_event e = {
		.method = kind == INV_CANCEL ? CALENDAR_CANCEL :
			  attendee != NULL ? CALENDAR_REQUEST :
			  CALENDAR_PUBLISH,
		.uid = m->uid, .sequence = m->sequence, .dtstamp = util_now(),
		.start = m->starts_at, .duration = m->duration,
		.tzid = m->timezone, .rrule = m->rrule, .summary = m->title,
		.location = m->location, .description = m->agenda,
		.url = m->url, .organizer = rsvp,
		.organizer_name = l->description && l->description[0] ?
				  l->description : l->name,
		.attendee = attendee,
	};
	struct buf cal = BUF_INIT, raw = BUF_INIT;
	struct compose how = { 0 };
	struct notice_vars v;
	struct rewrite_params p;
	struct msg msg = { 0 };
	const char *rerr = NULL;
	int rc = -1;

	notice_vars_init(&v, c, l);
	meeting_vars(&v, c, m);
	if (calendar_build(&e, &cal, error_r) < 0)
		goto out;
	how.from = rsvp;
	how.to = to;
	how.reply_to = rsvp;
	how.in_reply_to = kind == INV_INVITE ? NULL : m->message_id;
	how.message_id = message_id;
	how.calendar = cal.data;
	how.calendar_method = calendar_method_name(e.method);
	if (compose_from_template(c, l, inv_templates[kind], v.v, v.n, &how,
				  &raw, error_r) < 0)
		goto out;
	if (msg_parse(&msg, raw.data, raw.len, &limits, NULL) != MSG_OK) {
		*error_r = xstrdup("the invitation has too large a header");
		goto out;
	}
	/* The list's header fields and Subject prefix; replies go to the
	 * answer address, not to the list. */
	rewrite_params_from_conf(&p, c, l, NULL);
	p.reply_to = REPLYTO_NONE;
	p.from_munging = FROMMUNGE_NONE;
	p.unsubscribe_token = token;
	if (rewrite_post(&msg, &p, &rerr) < 0)
		log_warn("list=%s meeting=%lld: %s", l->name,
			 (long long)m->id, rerr);
	msg_write(&msg, out);
	rc = 0;
out:
	msg_free(&msg);
	buf_free(&cal);
	buf_free(&raw);
	notice_vars_free(&v);
	free(rsvp);
	return rc;
}

/* The archive's copy arch of an invitation, update or cancellation,
 * threaded and indexed like a post: the invitation starts the meeting's
 * thread, the rest reply to it. 0 with *archive_r, 1 when the copy does
 * not parse (*problem_r), -1 on a store failure. */
static int inv_archive(struct store *s, const struct conf *c,
		       const struct conf_list *l, const struct store_meeting *m,
		       const struct buf *arch, const char *mid,
		       const char *actor, const char *subject,
		       int64_t *archive_r, const char **problem_r)
{
	struct archive_post ap;
	struct msg am = { 0 };
	struct msg_limits limits;
	int64_t message;
	int rc = -1;

	incoming_limits(c, &limits);
	if (msg_parse(&am, arch->data, arch->len, &limits, NULL) != MSG_OK) {
		log_error("list=%s meeting=%lld: the archive's copy does not "
			  "parse", l->name, (long long)m->id);
		*problem_r = "meeting-not-written";
		msg_free(&am);
		return 1;
	}
	if (store_message_add(s, arch->data, arch->len, &message) == 0) {
		ap = (struct archive_post){
			.c = c, .list = l->name, .message = message,
			.raw = arch->data, .len = arch->len, .m = &am,
			.message_id = mid, .sender = actor, .subject = subject,
		};
		rc = archive_post(s, &ap, archive_r, NULL);
	}
	msg_free(&am);
	return rc < 0 ? -1 : 0;
}

/* Sends the invitation, update or cancellation of m to everyone invited
 * (every member who gets mail, each copy naming its member, and the
 * former members who answered yes or maybe) and archives it in the
 * meeting's thread. *archive_r is its archive row. 1 with *problem_r when
 * it cannot be written; -1 on a store failure. */
static int inv_send(struct store *s, const struct conf *c,
		    const struct conf_list *l, const struct store_meeting *m,
		    enum inv kind, const char *actor, int64_t *archive_r,
		    const char **problem_r)
{
	char token[33], oneclick[ONECLICK_MARKER_MAX], *marker, *mid;
	char *list_addr, *env_from;
	char *subject = NULL, *err = NULL, **outsiders = NULL;
	struct buf data = BUF_INIT, arch = BUF_INIT;
	struct notice_vars v;
	struct store_job_new j = { 0 };
	size_t nout = 0;
	int rc = 1;

	if (util_token(token) < 0)
		log_fatal("getrandom failed");
	/* The marker is what delivery replaces with each member's address:
	 * address-shaped, so that it fits where an address goes. */
	marker = xasprintf("rcpt.%s@convene.invalid", token);
	mid = kind == INV_INVITE ? xstrdup(m->message_id) :
	      xasprintf("meeting.%s@%s", token, c->domain);
	list_addr = xasprintf("%s@%s", l->name, c->domain);
	env_from = xasprintf("%s-bounces@%s", l->name, c->domain);
	notice_vars_init(&v, c, l);
	meeting_vars(&v, c, m);
	/* Each member's copy carries their own one-click token, as list
	 * mail does (Delivery puts it where this marker stands). */
	if (!oneclick_marker(l, oneclick))
		oneclick[0] = '\0';
	if (inv_message(c, l, m, kind, marker, marker,
			oneclick[0] != '\0' ? oneclick : NULL, mid, &data,
			&err) < 0 ||
	    inv_message(c, l, m, kind, list_addr, NULL, NULL, mid, &arch,
			&err) < 0 ||
	    compose_subject(c, l, inv_templates[kind], v.v, v.n, &subject,
			    &err) < 0) {
		log_error("list=%s meeting=%lld: not sent: %s", l->name,
			  (long long)m->id, err);
		*problem_r = "meeting-not-written";
		goto out;
	}
	rc = inv_archive(s, c, l, m, &arch, mid, actor, subject, archive_r,
			 problem_r);
	if (rc != 0)
		goto out;
	rc = -1;
	if (kind != INV_INVITE &&
	    store_rsvp_outsiders(s, m->id, l->name, OUTSIDERS_MAX, &outsiders,
				 &nout) < 0)
		goto out;
	j.list = l->name;
	j.kind = JOB_POST;
	j.audience = AUDIENCE_MAIL;
	j.archive = *archive_r;
	j.env_from = env_from;
	j.data = data.data;
	j.len = data.len;
	j.personal = marker;
	j.token_marker = oneclick[0] != '\0' ? oneclick : NULL;
	j.rcpts = (const char *const *)outsiders;
	j.n = nout;
	if (store_job_queue(s, &j, NULL) < 0)
		goto out;
	rc = 0;
out:
	store_strv_free(&outsiders, nout);
	notice_vars_free(&v);
	buf_free(&data);
	buf_free(&arch);
	free(subject);
	free(err);
	free(marker);
	free(mid);
	free(list_addr);
	free(env_from);
	return rc;
}

/* ---- schedule, update, cancel ---- */

/* Writes m (a new one is added) and sends its message of `kind` to
 * everyone invited, in a savepoint: when the message cannot be written
 * (1, with *problem_r), nothing of the step stays. -1 on a store
 * failure. */
static int write_and_send(struct store *s, const struct conf *c,
			  const struct conf_list *l, struct store_meeting *m,
			  enum inv kind, const char *actor,
			  const char **problem_r)
{
	int64_t archive = 0;
	int rc;

	if (store_savepoint(s) < 0)
		return -1;
	rc = kind == INV_INVITE ? store_meeting_add(s, m, NULL) :
	     store_meeting_save(s, m);
	if (rc == 0)
		rc = inv_send(s, c, l, m, kind, actor, &archive, problem_r);
	if (rc == 0 && kind == INV_INVITE) {
		/* The invitation is the root of the meeting's thread. */
		m->archive = archive;
		rc = store_meeting_save(s, m);
	}
	if (rc > 0)
		return store_rollback_savepoint(s) ? 1 : -1;
	if (rc < 0)
		return -1;
	return store_release(s);
}

int meeting_schedule(struct store *s, const struct conf *c,
		     const struct conf_list *l, const struct meeting_spec *sp,
		     const char *organizer, int64_t *id_r,
		     const char **problem_r)
{
	struct store_meeting m = { 0 };
	char token[33];
	int rc;

	*id_r = 0;
	m.list = xstrdup(l->name);
	m.organizer = xstrdup(organizer);
	m.state = MEETING_SCHEDULED;
	rc = apply_spec(l, sp, &m, true, problem_r);
	if (rc != 0)
		goto out;
	if (util_token(token) < 0)
		log_fatal("getrandom failed");
	m.uid = xasprintf("meeting-%s@%s", token, c->domain);
	m.message_id = xasprintf("meeting.%s@%s", token, c->domain);
	rc = write_and_send(s, c, l, &m, INV_INVITE, organizer, problem_r);
	if (rc != 0)
		goto out;
	if (store_event_add(s, l->name, "meeting.scheduled", organizer, m.id,
			    m.title) < 0) {
		rc = -1;
		goto out;
	}
	*id_r = m.id;
	log_info("list=%s meeting=%lld: scheduled by <%s>", l->name,
		 (long long)m.id, organizer);
out:
	store_meeting_clear(&m);
	return rc;
}

/* Meeting id of list l when it is still scheduled; 1 with *problem_r
 * when not. */
static int get_open(struct store *s, const struct conf_list *l, int64_t id,
		    struct store_meeting *m, const char **problem_r)
{
	bool found;

	if (store_meeting_get(s, id, m, &found) < 0)
		return -1;
	if (!found || strcmp(m->list, l->name) != 0) {
		if (found)
			store_meeting_clear(m);
		*problem_r = "meeting-unknown";
		return 1;
	}
	if (m->state == MEETING_CANCELLED) {
		store_meeting_clear(m);
		*problem_r = "meeting-is-cancelled";
		return 1;
	}
	return 0;
}

/* Who may lead meetings of l. */
static bool may_lead(const struct conf_list *l, const char *addr)
{
	return addr != NULL && (conf_list_is_leader(l, addr) ||
				(l->council_may_schedule &&
				 conf_list_is_council(l, addr)));
}

static int send_moved_up(struct store *s, const struct conf *c,
			 const struct conf_list *l,
			 const struct store_meeting *m, const char *address);

/* Moves the wait list up while there are places. */
static int promote(struct store *s, const struct conf *c,
		   const struct conf_list *l, const struct store_meeting *m)
{
	for (;;) {
		struct store_rsvp_counts n;
		char *next = NULL;
		int rc;

		if (store_rsvp_counts(s, m->id, &n) < 0)
			return -1;
		if (n.waiting == 0 ||
		    (m->capacity > 0 && n.going >= m->capacity))
			return 0;
		if (store_rsvp_first_waiting(s, m->id, &next) < 0)
			return -1;
		if (next == NULL)
			return 0;
		rc = store_rsvp_set(s, m->id, next, RSVP_GOING, "wait list",
				    NULL, util_now());
		if (rc == 0)
			rc = send_moved_up(s, c, l, m, next);
		if (rc == 0)
			rc = store_event_add(s, l->name, "meeting.moved_up",
					     next, m->id, NULL);
		if (rc == 0)
			log_info("list=%s meeting=%lld: <%s> moved up from "
				 "the wait list", l->name, (long long)m->id,
				 next);
		free(next);
		if (rc < 0)
			return -1;
	}
}

/* Meeting id updated by sp, or cancelled when sp is NULL: a new sequence
 * written and sent to every member, then (an update) the wait list moved
 * up, then the event recorded. 0, 1 with *problem_r (nothing sent), or
 * -1. */
static int change(struct store *s, const struct conf *c,
		  const struct conf_list *l, int64_t id,
		  const struct meeting_spec *sp, const char *actor,
		  const char **problem_r)
{
	struct store_meeting m = { 0 };
	enum inv kind = sp != NULL ? INV_UPDATE : INV_CANCEL;
	int rc;

	rc = get_open(s, l, id, &m, problem_r);
	if (rc != 0)
		return rc;
	if (sp == NULL) {
		m.state = MEETING_CANCELLED;
	} else if (sp->given == 0) {
		*problem_r = "meeting-no-change";
		rc = 1;
	} else {
		rc = apply_spec(l, sp, &m, false, problem_r);
	}
	if (rc != 0)
		goto out;
	m.sequence++;
	m.invited_at = util_now();
	rc = write_and_send(s, c, l, &m, kind, actor, problem_r);
	if (rc != 0)
		goto out;
	rc = -1;
	if ((kind == INV_UPDATE && promote(s, c, l, &m) < 0) ||
	    store_event_add(s, l->name, kind == INV_UPDATE ?
			    "meeting.updated" : "meeting.cancelled", actor,
			    m.id, NULL) < 0)
		goto out;
	if (kind == INV_UPDATE)
		log_info("list=%s meeting=%lld: updated by <%s> (sequence "
			 "%d)", l->name, (long long)m.id, actor, m.sequence);
	else
		log_info("list=%s meeting=%lld: cancelled by <%s>", l->name,
			 (long long)m.id, actor);
	rc = 0;
out:
	store_meeting_clear(&m);
	return rc;
}

int meeting_update(struct store *s, const struct conf *c,
		   const struct conf_list *l, int64_t id,
		   const struct meeting_spec *sp, const char *actor,
		   const char **problem_r)
{
	return change(s, c, l, id, sp, actor, problem_r);
}

int meeting_cancel(struct store *s, const struct conf *c,
		   const struct conf_list *l, int64_t id, const char *actor,
		   const char **problem_r)
{
	return change(s, c, l, id, NULL, actor, problem_r);
}

/* ---- headcount ---- */

int meeting_headcount(struct store *s, const struct conf_list *l,
		      const struct store_meeting *m,
		      struct meeting_headcount *h)
{
	struct store_rsvp_counts n;

	memset(h, 0, sizeof *h);
	if (store_rsvp_counts(s, m->id, &n) < 0 ||
	    store_rsvp_unanswered(s, m->id, l->name, &h->unanswered) < 0)
		return -1;
	h->going = n.going;
	h->waiting = n.waiting;
	h->maybe = n.maybe;
	h->declined = n.declined;
	return 0;
}

struct attendee_list {
	struct buf *out;
	size_t n;
};

static int attendee_line(const struct store_rsvp_row *r, void *ctx)
{
	struct attendee_list *a = ctx;

	if (a->n++ >= ATTENDEES_MAX)
		return 0;
	if (r->rsvp == RSVP_WAITING)
		buf_printf(a->out, "  %-9s %s (%lld)\n", store_rsvp_name(r->rsvp),
			   r->address, (long long)r->position);
	else
		buf_printf(a->out, "  %-9s %s\n", store_rsvp_name(r->rsvp),
			   r->address);
	return 0;
}

/* The headcount placeholders of m in v, and the answers listed in out. */
static int headcount_vars(struct store *s, const struct conf_list *l,
			  const struct store_meeting *m,
			  struct notice_vars *v, struct buf *out)
{
	struct meeting_headcount h;
	struct attendee_list a = { out, 0 };

	if (meeting_headcount(s, l, m, &h) < 0 ||
	    store_rsvp_foreach(s, m->id, attendee_line, &a) < 0)
		return -1;
	notice_vars_own(v, "going", xasprintf("%lld", (long long)h.going));
	notice_vars_own(v, "waiting", xasprintf("%lld", (long long)h.waiting));
	notice_vars_own(v, "maybe", xasprintf("%lld", (long long)h.maybe));
	notice_vars_own(v, "declined",
			xasprintf("%lld", (long long)h.declined));
	notice_vars_own(v, "unanswered",
			xasprintf("%lld", (long long)h.unanswered));
	return 0;
}

/* ---- answers ---- */

enum answer { ANSWER_NONE, ANSWER_YES, ANSWER_NO, ANSWER_MAYBE };

static enum answer answer_word(const char *w)
{
	static const char *const yes[] = {
		"yes", "y", "accept", "accepted", "attending", "going", "ok",
		NULL
	};
	static const char *const no[] = {
		"no", "n", "decline", "declined", "cancel", NULL
	};
	static const char *const maybe[] = {
		"maybe", "tentative", "perhaps", NULL
	};
	size_t i;

	for (i = 0; yes[i] != NULL; i++)
		if (strcmp(w, yes[i]) == 0)
			return ANSWER_YES;
	for (i = 0; no[i] != NULL; i++)
		if (strcmp(w, no[i]) == 0)
			return ANSWER_NO;
	for (i = 0; maybe[i] != NULL; i++)
		if (strcmp(w, maybe[i]) == 0)
			return ANSWER_MAYBE;
	return ANSWER_NONE;
}

/* Records address's answer to m; the wait list moves when a place frees.
 * *rsvp_r is what was recorded. */
static int record_answer(struct store *s, const struct conf *c,
			 const struct conf_list *l,
			 const struct store_meeting *m, const char *address,
			 enum answer a, const char *via,
			 const char *message_id, enum store_rsvp *rsvp_r)
{
	enum store_rsvp old, now = RSVP_DECLINED;

	if (store_rsvp_get(s, m->id, address, &old) < 0)
		return -1;
	if (a == ANSWER_YES) {
		if (old == RSVP_GOING || old == RSVP_WAITING) {
			now = old;
		} else {
			struct store_rsvp_counts n;

			if (store_rsvp_counts(s, m->id, &n) < 0)
				return -1;
			now = m->capacity == 0 || n.going < m->capacity ?
			      RSVP_GOING : RSVP_WAITING;
		}
	} else if (a == ANSWER_MAYBE) {
		now = RSVP_MAYBE;
	}
	if (store_rsvp_set(s, m->id, address, now, via, message_id,
			   util_now()) < 0)
		return -1;
	if (old == RSVP_GOING && now != RSVP_GOING &&
	    promote(s, c, l, m) < 0)
		return -1;
	*rsvp_r = now;
	return 0;
}

/* The answer rate limit (shared with command answers): 1 when one more
 * message may go to rcpt now, 0 when not, -1 on a store failure. */
static int rate_ok(struct store *s, const struct conf *c, const char *rcpt)
{
	bool allowed;

	if (store_sub_rate_take(s, rcpt, util_now(), c->answer_rate_window_s,
				c->answer_rate_max, &allowed) < 0)
		return -1;
	return allowed ? 1 : 0;
}

/* A message about m to one address, from the answer address. */
static int tell(struct store *s, const struct conf *c,
		const struct conf_list *l, const struct store_meeting *m,
		const char *tpl, struct notice_vars *v, const char *rcpt,
		const struct incoming *answers)
{
	char *rsvp = rsvp_address(c, m);
	struct notice how = {
		.from = rsvp, .reply_to = rsvp,
		.in_reply_to = answers != NULL ? answers->message_id : NULL,
		.auto_submitted = answers != NULL ? "auto-replied" : NULL,
		.answers = answers != NULL ? &answers->m : NULL,
		.answers_sender = answers != NULL ? answers->sender : NULL,
	};
	int rc;

	rc = notice_send(s, c, l, tpl, v, &how, &rcpt, 1);
	free(rsvp);
	return rc;
}

static int send_moved_up(struct store *s, const struct conf *c,
			 const struct conf_list *l,
			 const struct store_meeting *m, const char *address)
{
	struct notice_vars v;
	int rc;

	notice_vars_init(&v, c, l);
	meeting_vars(&v, c, m);
	notice_vars_set(&v, "address", address);
	rc = tell(s, c, l, m, "meeting-moved-up", &v, address, NULL);
	notice_vars_free(&v);
	return rc;
}

/* Tells the member what was recorded. */
static int confirm_answer(struct store *s, struct incoming *in,
			  const struct store_meeting *m, enum store_rsvp r)
{
	static const char *const tpl[] = {
		NULL, "meeting-rsvp-going", "meeting-rsvp-waiting",
		"meeting-rsvp-maybe", "meeting-rsvp-declined"
	};
	struct notice_vars v;
	int64_t pos = 0;
	int rc;

	rc = rate_ok(s, in->c, in->sender);
	if (rc <= 0)
		return rc;
	if (r == RSVP_WAITING &&
	    store_rsvp_position(s, m->id, in->sender, &pos) < 0)
		return -1;
	notice_vars_init(&v, in->c, in->list);
	meeting_vars(&v, in->c, m);
	notice_vars_set(&v, "address", in->sender);
	notice_vars_own(&v, "position", xasprintf("%lld", (long long)pos));
	rc = tell(s, in->c, in->list, m, tpl[r], &v, in->sender, in);
	notice_vars_free(&v);
	return rc;
}

/* ---- minutes ---- */

/* Sends in (a leader's mail) to the list as the minutes of m, archived in
 * the meeting's thread: the Subject from template meeting-minutes, the
 * thread's fields, the "minutes" line above the text removed. 0 (with
 * *archive_r), 1 when there is nothing but the command, 2 when this
 * message was archived already, -1 on a store failure. */
static int minutes_send(struct store *s, struct incoming *in,
			struct store_meeting *m, int64_t *archive_r)
{
	const struct conf *c = in->c;
	const struct conf_list *l = in->list;
	struct incoming mc;
	struct notice_vars v;
	struct buf raw = BUF_INIT;
	char *subject = NULL, *err = NULL, *enc, *ref, *text, *to;
	int64_t message, job;
	bool dup;
	int rc = -1;

	if (store_archive_has(s, l->name, in->message_id, &dup) < 0)
		return -1;
	if (dup)
		return 2;
	/* A copy to rewrite: in itself is still answered (and checked for
	 * robots) as it came. */
	if (incoming_init(&mc, c, l, in->raw, in->len) < 0)
		return 1;
	reply_strip_command(&mc.m, "minutes");
	text = util_trim(xstrndup(mc.m.body ? mc.m.body : "", mc.m.body_len));
	if (text[0] == '\0') {
		free(text);
		incoming_free(&mc);
		return 1;
	}
	free(text);
	notice_vars_init(&v, c, l);
	meeting_vars(&v, c, m);
	if (compose_subject(c, l, "meeting-minutes", v.v, v.n, &subject,
			    &err) < 0) {
		log_error("list=%s: %s", l->name, err);
		free(err);
		subject = xstrdup(m->title);
	}
	notice_vars_free(&v);
	enc = msg_encode_rfc2047(subject, 9);
	msg_field_set(&mc.m, "Subject", enc);
	free(enc);
	free(mc.subject);
	mc.subject = subject;
	ref = xasprintf("<%s>", m->message_id);
	msg_field_set(&mc.m, "In-Reply-To", ref);
	msg_field_set(&mc.m, "References", ref);
	free(ref);
	to = xasprintf("%s@%s", l->name, c->domain);
	msg_field_set(&mc.m, "To", to);
	free(to);
	msg_field_delete(&mc.m, "Cc");
	msg_write(&mc.m, &raw);
	/* From here on the minutes are these bytes (archived as they go). */
	mc.raw = raw.data;
	mc.len = raw.len;
	if (store_message_add(s, raw.data, raw.len, &message) < 0 ||
	    post_accept(s, &mc, message, archive_r, &job) < 0)
		goto out;
	m->minutes = *archive_r;
	if (store_meeting_save(s, m) < 0 ||
	    store_event_add(s, l->name, "meeting.minutes", in->sender, m->id,
			    in->message_id) < 0)
		goto out;
	rc = 0;
out:
	buf_free(&raw);
	incoming_free(&mc);
	return rc;
}

/* The minutes of m from in, part of the caller's transaction. */
static enum status minutes_commit(struct store *s, struct incoming *in,
				  struct store_meeting *m,
				  enum incoming_outcome *outcome_r)
{
	int64_t archive = 0;
	int rc = minutes_send(s, in, m, &archive);

	if (rc < 0)
		return incoming_store_failure(s, in, "minutes");
	if (rc > 0) {
		log_info("list=%s message-id=<%s> from=<%s>: dropped: %s",
			 in->list->name, in->logid, in->logfrom,
			 rc == 1 ? "minutes without text" :
			 "minutes archived already");
		*outcome_r = INCOMING_DROPPED;
		return ST_OK;
	}
	log_info("list=%s message-id=<%s> from=<%s>: minutes of meeting %lld: "
		 "archived as %lld, sent to the list", in->list->name,
		 in->logid, in->logfrom, (long long)m->id, (long long)archive);
	*outcome_r = INCOMING_ACCEPTED;
	return ST_OK;
}

/* The first word of what the sender wrote (lower case), or NULL. */
static char *first_word(const struct incoming *in)
{
	char *word = NULL, *rest = NULL;

	if (in->text != NULL && reply_first_word(in->text, &word, &rest))
		free(rest);
	return word;
}

int meeting_minutes_post(struct store *s, struct incoming *in,
			 enum status *st_r, enum incoming_outcome *outcome_r)
{
	struct store_meeting m = { 0 };
	char **refs, *irt, *word;
	bool found = false;
	size_t i;

	if (!may_lead(in->list, in->sender) ||
	    robot_reason(&in->m, in->sender) != NULL)
		return 0;
	irt = msg_in_reply_to(&in->m);
	refs = msg_references(&in->m);
	if (irt == NULL && (refs == NULL || refs[0] == NULL)) {
		free(irt);
		msg_idlist_free(&refs);
		return 0;
	}
	word = first_word(in);
	if (word == NULL || strcmp(word, "minutes") != 0) {
		free(word);
		free(irt);
		msg_idlist_free(&refs);
		return 0;
	}
	free(word);
	/* The thread tree as of every post accepted before. */
	if (archive_index_pending(s, in->c, SIZE_MAX, NULL) < 0)
		goto fail;
	if (irt != NULL &&
	    store_meeting_by_thread(s, in->list->name, irt, &m, &found) < 0)
		goto fail;
	for (i = 0; !found && refs != NULL && refs[i] != NULL; i++)
		if (store_meeting_by_thread(s, in->list->name, refs[i], &m,
					    &found) < 0)
			goto fail;
	free(irt);
	msg_idlist_free(&refs);
	if (!found)
		return 0;
	*st_r = minutes_commit(s, in, &m, outcome_r);
	store_meeting_clear(&m);
	return 1;
fail:
	free(irt);
	msg_idlist_free(&refs);
	*st_r = incoming_store_failure(s, in, "meeting of a thread");
	return 1;
}

/* ---- NAME-rsvp+ID ---- */

/* Why nothing changes (logged; nothing was written). */
static enum status drop(struct incoming *in, int64_t id, const char *why)
{
	log_info("list=%s message-id=<%s> from=<%s>: meeting %lld: dropped: "
		 "%s", in->list->name, in->logid, in->logfrom, (long long)id,
		 why);
	return ST_OK;
}

/* Whether m still takes answers: not cancelled, and an occurrence not yet
 * over. */
static bool open_for_answers(const struct store_meeting *m)
{
	time_t next;
	bool found = false;

	if (m->state != MEETING_SCHEDULED)
		return false;
	if (calendar_next_occurrence(m->starts_at, m->timezone, m->rrule,
				     util_now() - m->duration, &next,
				     &found) < 0)
		return false;
	return found;
}

/* The answer a calendar's REPLY gives, when it is this member's answer to
 * this meeting; ANSWER_NONE (and *why_r) when not. */
static enum answer calendar_answer(const struct incoming *in,
				   const struct store_meeting *m,
				   const char *cal, const char **why_r)
{
	struct calendar_reply r;
	const char *err = NULL;
	char *who = NULL;
	enum answer a = ANSWER_NONE;

	if (calendar_parse_reply(cal, strlen(cal), &r, &err) < 0) {
		*why_r = err;
		return ANSWER_NONE;
	}
	if (r.method != CALENDAR_REPLY)
		*why_r = "a calendar that is not a REPLY";
	else if (strcmp(r.uid, m->uid) != 0)
		*why_r = "a reply to another meeting (UID)";
	else if ((who = addr_normalize(r.attendee,
				       in->c->local_part_case_sensitive)) ==
		 NULL || !util_streq_ci(who, in->sender))
		*why_r = "a reply for another attendee than the sender";
	else if (r.partstat == CALENDAR_ACCEPTED)
		a = ANSWER_YES;
	else if (r.partstat == CALENDAR_DECLINED)
		a = ANSWER_NO;
	else if (r.partstat == CALENDAR_TENTATIVE)
		a = ANSWER_MAYBE;
	else
		*why_r = "a reply without ACCEPTED, DECLINED or TENTATIVE";
	free(who);
	calendar_reply_clear(&r);
	return a;
}

/* The answer in a mail to NAME-rsvp+ID: a calendar's REPLY (which
 * counts even when marked automatic: a program writes it), else the
 * first word of what a person wrote (*word_r, read here unless given;
 * the caller frees it). ANSWER_NONE with *why_r when there is none. */
static enum answer read_answer(const struct incoming *in,
			       const struct store_meeting *m,
			       const char *robot, char **word_r,
			       const char **via_r, const char **why_r)
{
	enum answer a;

	if (in->calendar != NULL) {
		*via_r = "calendar";
		return calendar_answer(in, m, in->calendar, why_r);
	}
	*via_r = "mail";
	if (robot != NULL) {
		*why_r = robot;
		return ANSWER_NONE;
	}
	if (*word_r == NULL)
		*word_r = first_word(in);
	a = *word_r != NULL ? answer_word(*word_r) : ANSWER_NONE;
	if (a == ANSWER_NONE)
		*why_r = "no yes, no or maybe";
	return a;
}

/* Records a member's answer a to m, tells them and notes the event. */
static enum status take_answer(struct store *s, struct incoming *in,
			       const struct store_meeting *m, enum answer a,
			       const char *via,
			       enum incoming_outcome *outcome_r)
{
	enum store_rsvp r = RSVP_NONE;

	if (record_answer(s, in->c, in->list, m, in->sender, a, via,
			  in->message_id, &r) < 0 ||
	    confirm_answer(s, in, m, r) < 0 ||
	    store_event_add(s, in->list->name, "meeting.rsvp", in->sender,
			    m->id, store_rsvp_name(r)) < 0)
		return incoming_store_failure(s, in, "record answer");
	log_info("list=%s message-id=<%s> from=<%s>: meeting %lld: %s (by %s)",
		 in->list->name, in->logid, in->logfrom, (long long)m->id,
		 store_rsvp_name(r), via);
	*outcome_r = INCOMING_ACCEPTED;
	return ST_OK;
}

enum status meeting_rsvp_handle(struct store *s, struct incoming *in,
				enum incoming_outcome *outcome_r)
{
	const struct conf_list *l = in->list;
	struct store_meeting m = { 0 };
	struct store_member mem = { 0 };
	int64_t id = util_digits_id(in->route.extension);
	const char *robot = robot_reason(&in->m, in->sender), *why = NULL;
	const char *via = "mail";
	char *word = NULL;
	enum answer a;
	enum status st = ST_OK;
	bool found = false, member = false, again = false;

	*outcome_r = INCOMING_DROPPED;
	if (id != 0 && store_meeting_get(s, id, &m, &found) < 0)
		return incoming_store_failure(s, in, "read meeting");
	if (!found || strcmp(m.list, l->name) != 0) {
		store_meeting_clear(&m);
		return drop(in, id, "no such meeting on this list");
	}
	/* A leader's reply to the invitation may bring the minutes. */
	if (robot == NULL && may_lead(l, in->sender)) {
		word = first_word(in);
		if (word != NULL && strcmp(word, "minutes") == 0) {
			free(word);
			st = minutes_commit(s, in, &m, outcome_r);
			store_meeting_clear(&m);
			return st;
		}
	}
	a = read_answer(in, &m, robot, &word, &via, &why);
	free(word);
	if (in->sender == NULL ||
	    store_member_get(s, l->name, in->sender, &mem, &member) < 0) {
		store_meeting_clear(&m);
		if (in->sender == NULL)
			return drop(in, id, "no sender");
		return incoming_store_failure(s, in, "membership lookup");
	}
	store_member_clear(&mem);
	if (member && a != ANSWER_NONE &&
	    store_rsvp_seen(s, m.id, in->sender, in->message_id, &again) < 0) {
		store_meeting_clear(&m);
		return incoming_store_failure(s, in, "read answer");
	}
	if (!member) {
		st = drop(in, id, "not a member of the list");
	} else if (!open_for_answers(&m)) {
		st = drop(in, id, m.state == MEETING_CANCELLED ?
			  "the meeting was cancelled" : "the meeting is over");
	} else if (a == ANSWER_NONE) {
		st = drop(in, id, why);
	} else if (again) {
		/* The MTA handed the same mail over again (it never saw our
		 * exit status): counted and confirmed once already. */
		st = drop(in, id, "this answer was counted already");
	} else {
		st = take_answer(s, in, &m, a, via, outcome_r);
	}
	store_meeting_clear(&m);
	return st;
}

/* ---- commands to NAME-request ---- */

/* The settings of a leader's mail: an attached .ics, then key lines. */
static int spec_from_mail(const struct incoming *in, struct meeting_spec *sp,
			  const char **problem_r)
{
	if (in->calendar != NULL &&
	    meeting_spec_ics(sp, in->calendar, strlen(in->calendar),
			     in->list->meeting_timezone, problem_r) < 0)
		return -1;
	return meeting_spec_read(sp, in->text, problem_r);
}

/* "minutes ID": the rest of in is the minutes of meeting id. 0 (*why_r,
 * an answer line, set when nothing was sent), -1 on a store failure. */
static int command_minutes(struct store *s, struct incoming *in, int64_t id,
			   const char **why_r)
{
	struct store_meeting m = { 0 };
	int64_t archive;
	int rc = get_open(s, in->list, id, &m, why_r);

	if (rc != 0)
		return rc;
	rc = minutes_send(s, in, &m, &archive);
	if (rc == 1)
		*why_r = "minutes-empty";
	else if (rc == 2)
		*why_r = "minutes-already";
	store_meeting_clear(&m);
	return rc < 0 ? -1 : 0;
}

/* Whether meeting id is one of list l's: 0 (*why_r, an answer line, set
 * when not), -1 on a store failure. */
static int meeting_of_list(struct store *s, const struct conf_list *l,
			   int64_t id, const char **why_r)
{
	struct store_meeting m = { 0 };
	bool found = false;

	if (store_meeting_get(s, id, &m, &found) < 0)
		return -1;
	if (!found || strcmp(m.list, l->name) != 0)
		*why_r = "meeting-unknown";
	if (found)
		store_meeting_clear(&m);
	return 0;
}

int meeting_command(struct store *s, struct incoming *in,
		    const struct request_cmd *cmd, struct notice_vars *v,
		    const char **phrase_r, struct buf *more)
{
	const struct conf *c = in->c;
	const struct conf_list *l = in->list;
	struct meeting_spec sp;
	struct store_meeting m = { 0 };
	const char *why = NULL;
	int64_t id = 0;
	bool found = false;
	int rc = 0;

	if (!may_lead(l, in->sender)) {
		*phrase_r = "meeting-not-leader";
		return 0;
	}
	meeting_spec_init(&sp);
	if (cmd->verb == REQ_MEETING && cmd->arg == NULL) {
		*phrase_r = "meeting-scheduled";
		if (spec_from_mail(in, &sp, &why) == 0)
			rc = meeting_schedule(s, c, l, &sp, in->sender, &id,
					      &why);
	} else if (cmd->verb == REQ_MEETING &&
		   strncmp(cmd->arg, "update ", 7) == 0) {
		*phrase_r = "meeting-updated";
		id = strtoll(cmd->arg + 7, NULL, 10);
		if (spec_from_mail(in, &sp, &why) == 0)
			rc = meeting_update(s, c, l, id, &sp, in->sender, &why);
	} else if (cmd->verb == REQ_MEETING) {
		*phrase_r = "meeting-cancelled";
		id = strtoll(cmd->arg + 7, NULL, 10);
		rc = meeting_cancel(s, c, l, id, in->sender, &why);
	} else if (cmd->verb == REQ_MINUTES) {
		*phrase_r = "minutes-sent";
		id = strtoll(cmd->arg, NULL, 10);
		rc = command_minutes(s, in, id, &why);
	} else {
		*phrase_r = "rsvps";
		id = strtoll(cmd->arg, NULL, 10);
		rc = meeting_of_list(s, l, id, &why);
	}
	meeting_spec_clear(&sp);
	if (rc < 0)
		return -1;
	if (why != NULL) {
		/* The answer line that says why nothing was done. */
		*phrase_r = why;
		notice_vars_own(v, "meeting_id", xasprintf("%lld",
							   (long long)id));
		return 0;
	}
	/* What the answer says about the meeting as it is now. */
	if (store_meeting_get(s, id, &m, &found) < 0)
		return -1;
	if (found) {
		meeting_vars(v, c, &m);
		if (strcmp(*phrase_r, "rsvps") == 0)
			rc = headcount_vars(s, l, &m, v, more);
		store_meeting_clear(&m);
	}
	return rc;
}

int meeting_problem_text(const struct conf *c, const struct conf_list *l,
			 const char *problem, int64_t id, struct buf *out)
{
	struct notice_vars v;
	int rc;

	notice_vars_init(&v, c, l);
	notice_vars_own(&v, "meeting_id", xasprintf("%lld", (long long)id));
	rc = notice_line(c, l, "answer-lines", problem, &v, out);
	notice_vars_free(&v);
	return rc;
}

/* ---- on the clock ---- */

struct pass {
	const struct conf *c;
	struct store *s;
	time_t now;
	int rc;
};

static int send_reminder(struct store *s, const struct conf *c,
			 const struct conf_list *l,
			 const struct store_meeting *m, long lead)
{
	char *rsvp = rsvp_address(c, m), *env_from, *err = NULL;
	struct compose how = {
		.from = rsvp, .to = "undisclosed-recipients:;",
		.reply_to = rsvp, .in_reply_to = m->message_id,
	};
	struct notice_vars v;
	struct buf out = BUF_INIT;
	struct store_job_new j = { 0 };
	int64_t job = 0, n = 0;
	int rc = 0;

	env_from = xasprintf("%s-bounces@%s", l->name, c->domain);
	notice_vars_init(&v, c, l);
	meeting_vars(&v, c, m);
	notice_vars_own(&v, "lead", duration_text(lead));
	if (compose_from_template(c, l, "meeting-reminder", v.v, v.n, &how,
				  &out, &err) < 0) {
		log_error("list=%s meeting=%lld: reminder not sent: %s",
			  l->name, (long long)m->id, err);
		free(err);
		goto out;
	}
	j.list = l->name;
	j.env_from = env_from;
	j.data = out.data;
	j.len = out.len;
	rc = store_meeting_queue_reminder(s, m->id, &j, &job, &n);
	if (rc == 0)
		log_info("list=%s meeting=%lld: reminder (%ld s before) to %lld "
			 "members as job %lld", l->name, (long long)m->id, lead,
			 (long long)n, (long long)job);
out:
	buf_free(&out);
	notice_vars_free(&v);
	free(env_from);
	free(rsvp);
	return rc;
}

static int send_summary(struct store *s, const struct conf *c,
			const struct conf_list *l,
			const struct store_meeting *m)
{
	struct notice_vars v;
	struct buf who = BUF_INIT;
	struct notice how = { 0 };
	const char **leaders;
	size_t n;
	int rc;

	notice_vars_init(&v, c, l);
	meeting_vars(&v, c, m);
	rc = headcount_vars(s, l, m, &v, &who);
	if (rc == 0) {
		notice_vars_set(&v, "attendees", buf_cstr(&who));
		leaders = conf_list_roles(l, CONF_LEADERS, &n);
		rc = notice_send(s, c, l, "meeting-summary", &v, &how,
				 leaders, n);
		free(leaders);
	}
	buf_free(&who);
	notice_vars_free(&v);
	return rc;
}

/* The reminders and summary due for m's next occurrence. */
static int pass_meeting(struct pass *p, const struct conf_list *l,
			const struct store_meeting *m)
{
	const struct conf_strv *leads = &l->meeting_reminders;
	time_t occ;
	long send_lead = -1;
	bool found, taken;
	size_t i;

	if (calendar_next_occurrence(m->starts_at, m->timezone, m->rrule,
				     p->now + 1, &occ, &found) < 0 || !found)
		return 0;
	/* Of the reminders due, only the latest goes out. */
	for (i = 0; i < leads->n; i++) {
		long lead = conf_parse_duration(leads->v[i]);

		if (lead > 0 && occ - lead <= p->now &&
		    (send_lead < 0 || lead < send_lead))
			send_lead = lead;
	}
	if (send_lead < 0 && (l->meeting_summary_s <= 0 ||
			      occ - l->meeting_summary_s > p->now))
		return 0;
	if (store_begin(p->s) < 0)
		return -1;
	for (i = 0; i < leads->n; i++) {
		long lead = conf_parse_duration(leads->v[i]);
		bool sent;

		if (lead <= 0 || occ - lead > p->now)
			continue;
		/* A reminder whose time came before the invitation (or the
		 * last update) went out is not sent. */
		sent = lead == send_lead && occ - lead >= m->invited_at;
		if (store_meeting_notice_take(p->s, m->id, occ, "reminder",
					      lead, sent, p->now, &taken) < 0)
			goto fail;
		if (taken && sent && send_reminder(p->s, p->c, l, m, lead) < 0)
			goto fail;
	}
	if (l->meeting_summary_s > 0 &&
	    occ - l->meeting_summary_s <= p->now) {
		bool sent = occ - l->meeting_summary_s >= m->invited_at;

		if (store_meeting_notice_take(p->s, m->id, occ, "summary",
					      l->meeting_summary_s, sent,
					      p->now, &taken) < 0)
			goto fail;
		if (taken && sent && send_summary(p->s, p->c, l, m) < 0)
			goto fail;
	}
	return store_commit(p->s);
fail:
	store_rollback(p->s);
	return -1;
}

static int pass_one(const struct store_meeting *m, void *ctx)
{
	struct pass *p = ctx;
	const struct conf_list *l = conf_find_list(p->c, m->list);

	if (l == NULL)
		return 0;
	if (pass_meeting(p, l, m) < 0) {
		log_error("list=%s meeting=%lld: reminders: %s", m->list,
			  (long long)m->id, store_error(p->s));
		p->rc = -1;
	}
	return 0;
}

int meeting_timed_pass(const struct conf *c, struct store *s)
{
	struct pass p = { c, s, util_now(), 0 };

	if (store_meeting_foreach(s, NULL, true, pass_one, &p) < 0) {
		log_error("meetings: %s", store_error(s));
		return -1;
	}
	return p.rc;
}
