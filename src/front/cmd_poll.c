/* cmd_poll - a list's polls: list them, their results, close one */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/conf.h"
#include "base/status.h"
#include "front/front.h"
#include "pipeline/poll.h"
#include "store/store.h"
#include "store/store_polls.h"

static const char usage_text[] =
	"usage: convene poll LIST list\n"
	"       convene poll LIST results ID\n"
	"       convene poll LIST close ID\n";

static void fmt_time(time_t t, char dst[32])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	if (strftime(dst, 32, "%Y-%m-%d %H:%M UTC", &tm) == 0)
		snprintf(dst, 32, "?");
}

static int list_one(const struct store_poll *p, void *ctx)
{
	char closes[32];

	fmt_time(p->closes_at, closes);
	printf("%lld,%s,%s,%zu,%s\n", (long long)p->id,
	       p->closed ? "closed" : "open", closes, p->noptions,
	       p->question);
	(*(size_t *)ctx)++;
	return 0;
}

static enum status do_list(struct store *s, const struct conf_list *l)
{
	size_t n = 0;

	printf("id,state,closes,options,question\n");
	if (store_poll_foreach(s, l->name, list_one, &n) < 0)
		return front_store_failed(s);
	front_counted(n, "poll", "polls");
	return ST_OK;
}

static enum status do_results(struct store *s, const struct conf *c,
			      const struct conf_list *l, int64_t id)
{
	struct store_poll p;
	struct buf out = BUF_INIT;
	bool found;

	if (store_poll_get(s, id, &p, &found) < 0)
		return front_store_failed(s);
	if (!found || strcmp(p.list, l->name) != 0) {
		fprintf(stderr, "convene: no poll %lld in %s\n",
			(long long)id, l->name);
		store_poll_clear(&p);
		return ST_NOUSER;
	}
	if (poll_results_text(s, c, l, &p, &out) < 0) {
		store_poll_clear(&p);
		buf_free(&out);
		return front_store_failed(s);
	}
	fwrite(out.data, 1, out.len, stdout);
	buf_free(&out);
	store_poll_clear(&p);
	return ST_OK;
}

static enum status do_close(struct store *s, const struct conf *c,
			    const struct conf_list *l, int64_t id)
{
	bool closed;

	if (poll_close(s, c, l, id, &closed) < 0)
		return front_store_failed(s);
	if (!closed) {
		fprintf(stderr, "convene: no open poll %lld in %s\n",
			(long long)id, l->name);
		return ST_NOUSER;
	}
	printf("%s: poll %lld closed, results sent\n", l->name,
	       (long long)id);
	return ST_OK;
}

int cmd_poll(int argc, char **argv, const char *config)
{
	struct conf *c = NULL;
	struct store *s = NULL;
	const struct conf_list *l;
	enum status st;
	int64_t id = 0;
	char *end = NULL;

	if (argc == 4)
		id = strtoll(argv[3], &end, 10);
	if (!((argc == 3 && strcmp(argv[2], "list") == 0) ||
	      (argc == 4 && (strcmp(argv[2], "results") == 0 ||
			     strcmp(argv[2], "close") == 0) &&
	       *end == '\0' && id > 0))) {
		fputs(usage_text, stderr);
		return status_to_exit(ST_USAGE);
	}
	st = front_open_list(config, argv[1], &c, &l, &s);
	if (st != ST_OK)
		return status_to_exit(st);
	if (argc == 3)
		st = do_list(s, l);
	else if (strcmp(argv[2], "results") == 0)
		st = do_results(s, c, l, id);
	else
		st = do_close(s, c, l, id);
	store_close(&s);
	conf_free(&c);
	return status_to_exit(st);
}
