/* cmd_queue - the delivery queue: progress, retries, flushing */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/conf.h"
#include "delivery/deliver.h"
#include "front/front.h"
#include "base/status.h"
#include "store/store.h"
#include "base/util.h"

static const char usage_text[] =
	"usage: convene queue list\n"
	"       convene queue retry [JOB]   (waiting jobs and recipients are "
	"due now)\n"
	"       convene queue flush         (retry, then deliver now)\n";

static int print_job(const struct store_job_info *j, void *ctx)
{
	char when[32] = "-", total[24] = "?", worker[320] = "";
	struct tm tm;
	size_t *n = ctx;

	if (j->next_attempt > 0 && gmtime_r(&j->next_attempt, &tm) != NULL)
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (j->total >= 0)
		snprintf(total, sizeof total, "%lld", (long long)j->total);
	if (j->claim_pid > 0)
		snprintf(worker, sizeof worker, "  [worker pid %lld on %s]",
			 (long long)j->claim_pid,
			 j->claim_host ? j->claim_host : "?");
	printf("%6lld %-16s %9lld/%-9s %7lld %6lld %3d %s%s%s%s\n",
	       (long long)j->id, j->list, (long long)j->sent, total,
	       (long long)j->waiting,
	       (long long)j->failed, j->attempts, when, worker,
	       j->last_error ? "  " : "", j->last_error ? j->last_error : "");
	(*n)++;
	return 0;
}

static enum status do_list(struct store *s)
{
	size_t n = 0;

	printf("%6s %-16s %19s %7s %6s %3s %s\n", "JOB", "LIST", "SENT/TOTAL",
	       "WAITING", "FAILED", "TRY", "NEXT ATTEMPT");
	if (store_job_foreach(s, print_job, &n) < 0) {
		fprintf(stderr, "convene: %s\n", store_error(s));
		return ST_TEMPFAIL;
	}
	fprintf(stderr, "%zu job%s in the queue\n", n, n == 1 ? "" : "s");
	return ST_OK;
}

static enum status do_retry(struct store *s, int64_t job)
{
	int64_t n;

	if (store_job_retry_now(s, job, util_now(), &n) < 0) {
		fprintf(stderr, "convene: %s\n", store_error(s));
		return ST_TEMPFAIL;
	}
	printf("%lld waiting item%s due now\n", (long long)n, n == 1 ? "" : "s");
	return ST_OK;
}

static enum status do_flush(const struct conf *c, struct store *s)
{
	struct deliver_stats stats = { 0 };
	struct deliver *d;
	char *err = NULL;
	enum status st;

	st = do_retry(s, 0);
	if (st != ST_OK)
		return st;
	d = deliver_open(c, &err);
	if (d == NULL) {
		fprintf(stderr, "convene: %s\n", err);
		free(err);
		return ST_TEMPFAIL;
	}
	if (deliver_pass(d, s, true, &stats) < 0)
		st = ST_TEMPFAIL;
	deliver_close(&d);
	printf("%llu delivered, %llu deferred, %llu failed\n",
	       (unsigned long long)stats.delivered,
	       (unsigned long long)stats.deferred,
	       (unsigned long long)stats.failed);
	front_print_busy(&stats);
	return st;
}

int cmd_queue(int argc, char **argv, const char *config)
{
	struct conf *c;
	struct store *s;
	enum status st;
	int64_t job = 0;

	if (argc < 2 || (strcmp(argv[1], "list") != 0 &&
			 strcmp(argv[1], "retry") != 0 &&
			 strcmp(argv[1], "flush") != 0) ||
	    argc > (strcmp(argv[1], "retry") == 0 ? 3 : 2)) {
		fputs(usage_text, stderr);
		return status_to_exit(ST_USAGE);
	}
	if (argc == 3) {
		char *end;

		job = strtoll(argv[2], &end, 10);
		if (*end != '\0' || job <= 0) {
			fputs(usage_text, stderr);
			return status_to_exit(ST_USAGE);
		}
	}
	c = front_load_conf(config);
	if (c == NULL)
		return status_to_exit(ST_CONFIG);
	s = front_open_store(c);
	if (s == NULL) {
		conf_free(&c);
		return status_to_exit(ST_TEMPFAIL);
	}
	if (strcmp(argv[1], "list") == 0)
		st = do_list(s);
	else if (strcmp(argv[1], "retry") == 0)
		st = do_retry(s, job);
	else
		st = do_flush(c, s);
	store_close(&s);
	conf_free(&c);
	return status_to_exit(st);
}
