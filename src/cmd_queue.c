/* cmd_queue - the delivery queue: jobs with their progress */
#include "autoconf.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "front.h"
#include "status.h"
#include "store.h"

static int print_job(const struct store_job_info *j, void *ctx)
{
	char when[32] = "-";
	struct tm tm;

	if (j->next_attempt > 0 && gmtime_r(&j->next_attempt, &tm) != NULL)
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("%6lld %-16s %9lld/%-9lld %7lld %6lld %3d %s%s%s\n",
	       (long long)j->id, j->list, (long long)j->sent,
	       (long long)j->total, (long long)j->waiting,
	       (long long)j->failed, j->attempts, when,
	       j->last_error ? "  " : "", j->last_error ? j->last_error : "");
	return 0;
}

int cmd_queue(int argc, char **argv, const char *config)
{
	struct conf *c;
	struct store *s;
	int ret = ST_OK;

	if (argc < 2 || strcmp(argv[1], "list") != 0) {
		fprintf(stderr, "usage: convene queue list\n");
		return status_to_exit(ST_USAGE);
	}
	c = front_load_conf(config);
	if (c == NULL)
		return status_to_exit(ST_CONFIG);
	s = front_open_store(c);
	if (s == NULL) {
		conf_free(&c);
		return status_to_exit(ST_TEMPFAIL);
	}
	printf("%6s %-16s %19s %7s %6s %3s %s\n", "JOB", "LIST", "SENT/TOTAL",
	       "WAITING", "FAILED", "TRY", "NEXT ATTEMPT");
	if (store_job_foreach(s, print_job, NULL) < 0) {
		fprintf(stderr, "convene: %s\n", store_error(s));
		ret = ST_TEMPFAIL;
	}
	store_close(&s);
	conf_free(&c);
	return status_to_exit(ret);
}
