/* cmd_meeting - convene meeting LIST schedule|update|cancel|list|rsvps */
#include "autoconf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/conf.h"
#include "base/status.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "front/front.h"
#include "mail/calendar.h"
#include "pipeline/meeting.h"
#include "store/store.h"
#include "store/store_meetings.h"

static const char usage_text[] =
	"usage: convene meeting LIST schedule KEY=VALUE... [--ics FILE] "
	"[--organizer ADDR]\n"
	"       convene meeting LIST update ID KEY=VALUE... [--ics FILE]\n"
	"       convene meeting LIST cancel ID\n"
	"       convene meeting LIST list\n"
	"       convene meeting LIST rsvps ID\n"
	"keys: title, when (YYYY-MM-DD HH:MM), duration, timezone, where, "
	"url,\n"
	"      agenda, capacity, repeat\n";

/* Prints the answer line of problem on standard error. */
static void tell_problem(const struct conf *c, const struct conf_list *l,
			 const char *what, const char *problem, int64_t id)
{
	struct buf text = BUF_INIT;

	meeting_problem_text(c, l, problem, id, &text);
	fprintf(stderr, "convene: %s: %.*s", what, (int)text.len,
		text.data != NULL ? text.data : "");
	buf_free(&text);
}

/* KEY=VALUE arguments and --ics FILE into sp; --organizer into *org_r. */
static enum status read_spec(const struct conf *c,
			     const struct conf_list *l, int argc,
			     char **argv, struct meeting_spec *sp,
			     const char **org_r)
{
	const char *problem = NULL;
	int i;

	for (i = 0; i < argc; i++) {
		char *eq = strchr(argv[i], '=');

		if (strcmp(argv[i], "--ics") == 0 && i + 1 < argc) {
			struct buf ics = BUF_INIT;

			if (util_read_file(argv[++i], 1024 * 1024, &ics) < 0) {
				fprintf(stderr, "convene: %s: %s\n", argv[i],
					strerror(errno));
				return ST_USAGE;
			}
			if (meeting_spec_ics(sp, ics.data, ics.len,
					     l->meeting_timezone,
					     &problem) < 0) {
				tell_problem(c, l, argv[i], problem, 0);
				buf_free(&ics);
				return ST_DATAERR;
			}
			buf_free(&ics);
		} else if (strcmp(argv[i], "--organizer") == 0 &&
			   i + 1 < argc && org_r != NULL) {
			*org_r = argv[++i];
		} else if (eq != NULL && eq != argv[i]) {
			char *key = xstrndup(argv[i], (size_t)(eq - argv[i]));
			int r = meeting_spec_set(sp, key, eq + 1, &problem);

			if (r > 0)
				fprintf(stderr, "convene: no setting %s\n%s",
					key, usage_text);
			else if (r < 0)
				tell_problem(c, l, key, problem, 0);
			free(key);
			if (r != 0)
				return r > 0 ? ST_USAGE : ST_DATAERR;
		} else {
			fputs(usage_text, stderr);
			return ST_USAGE;
		}
	}
	return ST_OK;
}

/* Runs one change in its own transaction and says what happened. */
static enum status change(struct store *s, const struct conf *c,
			  const struct conf_list *l, const char *verb,
			  int64_t id, const struct meeting_spec *sp,
			  const char *who)
{
	const char *problem = NULL;
	int rc;

	if (store_begin(s) < 0) {
		fprintf(stderr, "convene: %s\n", store_error(s));
		return ST_TEMPFAIL;
	}
	if (strcmp(verb, "schedule") == 0)
		rc = meeting_schedule(s, c, l, sp, who, &id, &problem);
	else if (strcmp(verb, "update") == 0)
		rc = meeting_update(s, c, l, id, sp, who, &problem);
	else
		rc = meeting_cancel(s, c, l, id, who, &problem);
	if (rc == 0 && store_commit(s) < 0)
		rc = -1;
	if (rc < 0) {
		store_rollback(s);
		fprintf(stderr, "convene: %s\n", store_error(s));
		return ST_TEMPFAIL;
	}
	if (rc > 0) {
		store_rollback(s);
		tell_problem(c, l, verb, problem, id);
		return ST_DATAERR;
	}
	printf("meeting %lld: %s\n", (long long)id,
	       strcmp(verb, "schedule") == 0 ? "scheduled, invitations queued" :
	       strcmp(verb, "update") == 0 ? "updated, the update queued" :
	       "cancelled, the cancellation queued");
	return ST_OK;
}

static void when_text(const struct store_meeting *m, char *dst, size_t n)
{
	if (calendar_format_local(m->starts_at, m->timezone, dst, n) < 0)
		snprintf(dst, n, "%lld", (long long)m->starts_at);
}

struct listing {
	struct store *s;
	const struct conf_list *l;
	int rc;
};

static int list_one(const struct store_meeting *m, void *ctx)
{
	struct listing *x = ctx;
	struct meeting_headcount h;
	char when[160];

	if (meeting_headcount(x->s, x->l, m, &h) < 0) {
		x->rc = -1;
		return 1;
	}
	when_text(m, when, sizeof when);
	printf("%lld\t%s\t%s\t%lld\t%lld\t%ld\t%s\n", (long long)m->id,
	       store_meeting_state_name(m->state), when, (long long)h.going,
	       (long long)h.waiting, m->capacity, m->title);
	return 0;
}

static int rsvp_row(const struct store_rsvp_row *r, void *ctx)
{
	char at[32];
	struct tm tm;

	gmtime_r(&r->answered_at, &tm);
	strftime(at, sizeof at, "%Y-%m-%d %H:%M UTC", &tm);
	printf("%s\t%s\t%lld\t%s\t%s\n", r->address, store_rsvp_name(r->rsvp),
	       (long long)r->position, at, r->via ? r->via : "");
	return 0;
}

static enum status show_rsvps(struct store *s, const struct conf_list *l,
			      int64_t id)
{
	struct store_meeting m = { 0 };
	struct meeting_headcount h;
	char when[160];
	bool found;

	if (store_meeting_get(s, id, &m, &found) < 0)
		goto fail;
	if (!found || strcmp(m.list, l->name) != 0) {
		fprintf(stderr, "convene: no meeting %lld in %s\n",
			(long long)id, l->name);
		if (found)
			store_meeting_clear(&m);
		return ST_NOUSER;
	}
	if (meeting_headcount(s, l, &m, &h) < 0)
		goto fail;
	when_text(&m, when, sizeof when);
	printf("meeting: %lld\ntitle: %s\nwhen: %s\nstate: %s\ncapacity: %ld\n"
	       "going: %lld\nwaiting: %lld\nmaybe: %lld\ndeclined: %lld\n"
	       "unanswered: %lld\n\naddress\tanswer\tposition\tanswered_at\t"
	       "via\n", (long long)m.id, m.title, when,
	       store_meeting_state_name(m.state), m.capacity,
	       (long long)h.going, (long long)h.waiting, (long long)h.maybe,
	       (long long)h.declined, (long long)h.unanswered);
	store_meeting_clear(&m);
	if (store_rsvp_foreach(s, id, rsvp_row, NULL) < 0)
		goto fail;
	return ST_OK;
fail:
	store_meeting_clear(&m);
	fprintf(stderr, "convene: %s\n", store_error(s));
	return ST_TEMPFAIL;
}

int cmd_meeting(int argc, char **argv, const char *config)
{
	struct conf *c = NULL;
	struct store *s = NULL;
	const struct conf_list *l;
	struct meeting_spec sp;
	const char *verb, *organizer = NULL;
	enum status st;
	int64_t id = 0;
	bool with_id;

	if (argc < 3) {
		fputs(usage_text, stderr);
		return status_to_exit(ST_USAGE);
	}
	verb = argv[2];
	with_id = strcmp(verb, "update") == 0 || strcmp(verb, "cancel") == 0 ||
		  strcmp(verb, "rsvps") == 0;
	if ((with_id && (argc < 4 || front_parse_id(argv[3], &id) < 0)) ||
	    (!with_id && strcmp(verb, "schedule") != 0 &&
	     strcmp(verb, "list") != 0) ||
	    ((strcmp(verb, "list") == 0 && argc != 3) ||
	     (strcmp(verb, "cancel") == 0 && argc != 4) ||
	     (strcmp(verb, "rsvps") == 0 && argc != 4))) {
		fputs(usage_text, stderr);
		return status_to_exit(ST_USAGE);
	}
	st = front_open_list(config, argv[1], &c, &l, &s);
	if (st != ST_OK)
		return status_to_exit(st);
	meeting_spec_init(&sp);
	if (strcmp(verb, "list") == 0) {
		struct listing x = { s, l, 0 };

		printf("id\tstate\twhen\tgoing\twaiting\tcapacity\ttitle\n");
		if (store_meeting_foreach(s, l->name, false, list_one, &x) < 0 ||
		    x.rc < 0) {
			fprintf(stderr, "convene: %s\n", store_error(s));
			st = ST_TEMPFAIL;
		}
	} else if (strcmp(verb, "rsvps") == 0) {
		st = show_rsvps(s, l, id);
	} else if (strcmp(verb, "cancel") == 0) {
		char *who = front_actor();

		st = change(s, c, l, verb, id, &sp, who);
		free(who);
	} else {
		int skip = strcmp(verb, "schedule") == 0 ? 3 : 4;

		st = read_spec(c, l, argc - skip, argv + skip, &sp,
			       strcmp(verb, "schedule") == 0 ? &organizer :
			       NULL);
		if (st == ST_OK) {
			char *who = organizer != NULL ? xstrdup(organizer) :
				    strcmp(verb, "schedule") == 0 &&
				    l->leaders.n > 0 ? xstrdup(l->leaders.v[0]) :
				    front_actor();

			st = change(s, c, l, verb, id, &sp, who);
			free(who);
		}
	}
	meeting_spec_clear(&sp);
	store_close(&s);
	conf_free(&c);
	return status_to_exit(st);
}
