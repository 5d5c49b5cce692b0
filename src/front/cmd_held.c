/* cmd_held - held posts from the command line: list, show, decide */
#include "autoconf.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/conf.h"
#include "front/front.h"
#include "base/log.h"
#include "pipeline/moderation.h"
#include "base/status.h"
#include "store/store.h"
#include "store/store_holds.h"
#include "base/xalloc.h"

static const char usage_text[] =
	"usage: convene held LIST list\n"
	"       convene held LIST show ID\n"
	"       convene held LIST approve ID\n"
	"       convene held LIST reject ID [REASON]\n"
	"       convene held LIST discard ID\n";

static int print_hold(const struct store_hold *h, void *ctx)
{
	char when[32], a[160], b[160], c[160];
	size_t *n = ctx;

	front_time(h->held_at, when);
	printf("%lld\t%s\t%s\t%s\t%s\n", (long long)h->id, when,
	       front_safe(a, sizeof a, h->sender),
	       front_safe(b, sizeof b, h->reason),
	       front_safe(c, sizeof c, h->subject));
	(*n)++;
	return 0;
}

static enum status do_list(struct store *s, const struct conf_list *l)
{
	size_t n = 0;

	printf("id\theld_at\tsender\treason\tsubject\n");
	if (store_holds_foreach(s, l->name, print_hold, &n) < 0)
		return front_store_failed(s);
	front_counted(n, "held post", "held posts");
	return ST_OK;
}

static enum status do_show(struct store *s, const struct conf_list *l,
			   int64_t id)
{
	struct store_hold h = { 0 };
	char when[32], decided[32], a[160];
	char *raw = NULL;
	size_t len = 0;
	bool found;

	if (store_holds_get(s, l->name, id, &h, &found) < 0) {
		fprintf(stderr, "convene: %s\n", store_error(s));
		return ST_TEMPFAIL;
	}
	if (!found) {
		fprintf(stderr, "convene: no hold %lld in %s\n", (long long)id,
			l->name);
		return ST_NOUSER;
	}
	front_time(h.held_at, when);
	front_time(h.decided_at, decided);
	printf("id: %lld\nstate: %s\nheld_at: %s\n", (long long)h.id, h.state,
	       when);
	printf("sender: %s\n", front_safe(a, sizeof a, h.sender));
	printf("subject: %s\n", front_safe(a, sizeof a, h.subject));
	printf("message_id: %s\n", front_safe(a, sizeof a, h.message_id));
	printf("reason: %s\n", front_safe(a, sizeof a, h.reason));
	if (h.decided_at > 0)
		printf("decided_by: %s\ndecided_at: %s\n",
		       front_safe(a, sizeof a, h.decided_by), decided);
	if (store_message_get(s, h.message, &raw, &len) < 0) {
		fprintf(stderr, "convene: %s\n", store_error(s));
		store_hold_clear(&h);
		return ST_TEMPFAIL;
	}
	printf("\n");
	fwrite(raw, 1, len, stdout);
	free(raw);
	store_hold_clear(&h);
	return ST_OK;
}

static enum status do_decide(struct store *s, const struct conf *c,
			     const struct conf_list *l, int64_t id,
			     enum moderation_decision d, const char *reason)
{
	enum moderation_result res;
	char *who = front_actor(), *by = NULL, when[32];
	time_t at;
	enum status st;

	st = moderation_decide(s, c, l, id, d, reason, who, &res, &by, &at);
	free(who);
	if (st != ST_OK) {
		fprintf(stderr, "convene: %s\n", store_error(s));
		return st;
	}
	switch (res) {
	case MODR_DONE:
		printf("hold %lld: %s\n", (long long)id,
		       moderation_decision_name(d));
		break;
	case MODR_NOT_FOUND:
		fprintf(stderr, "convene: no hold %lld in %s\n", (long long)id,
			l->name);
		st = ST_NOUSER;
		break;
	case MODR_DECIDED:
		front_time(at, when);
		fprintf(stderr, "convene: hold %lld was already decided by %s "
			"at %s\n", (long long)id, by, when);
		st = ST_USAGE;
		break;
	}
	free(by);
	return st;
}

int cmd_held(int argc, char **argv, const char *config)
{
	struct conf *c = NULL;
	struct store *s = NULL;
	const struct conf_list *l;
	const char *verb;
	enum moderation_decision d;
	enum status st = ST_USAGE;
	int64_t id = 0;

	if (argc < 3 || (strcmp(argv[2], "list") != 0 && argc < 4) ||
	    (argc >= 4 && strcmp(argv[2], "list") != 0 &&
	     front_parse_id(argv[3], &id) < 0)) {
		fputs(usage_text, stderr);
		return status_to_exit(ST_USAGE);
	}
	verb = argv[2];
	st = front_open_list(config, argv[1], &c, &l, &s);
	if (st != ST_OK)
		return status_to_exit(st);
	if (strcmp(verb, "list") == 0 && argc == 3)
		st = do_list(s, l);
	else if (strcmp(verb, "show") == 0 && argc == 4)
		st = do_show(s, l, id);
	else if (strcmp(verb, "reject") == 0 && argc <= 5)
		st = do_decide(s, c, l, id, MOD_REJECT,
			       argc == 5 ? argv[4] : "");
	else if ((strcmp(verb, "approve") == 0 ||
		  strcmp(verb, "discard") == 0) && argc == 4 &&
		 moderation_decision_parse(verb, &d))
		st = do_decide(s, c, l, id, d, "");
	else {
		fputs(usage_text, stderr);
		st = ST_USAGE;
	}
	store_close(&s);
	conf_free(&c);
	return status_to_exit(st);
}
