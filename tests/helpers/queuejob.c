/* queuejob - queues one delivery job straight into a database, so that the
 * delivery engine can be tested on jobs the pipeline writes (such as
 * per-recipient content) without going through a feature
 *
 * usage: queuejob DB LIST immediate|mail MARKER FILE [RCPT...]
 *
 * Queues FILE's bytes as a JOB_POST of LIST to the members of the audience
 * (and the explicit RCPTs), from LIST-bounces@lists.example.org; MARKER is
 * the per-recipient marker, "-" for none. Prints the job id. */
#include "autoconf.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/util.h"
#include "store/store.h"

int main(int argc, char **argv)
{
	struct store_job_new j = { 0 };
	struct buf data = BUF_INIT;
	struct store *s;
	char *err = NULL, env_from[300];
	bool transient;
	int64_t id;

	if (argc < 6) {
		fprintf(stderr, "usage: queuejob DB LIST immediate|mail "
			"MARKER FILE [RCPT...]\n");
		return 2;
	}
	if (util_read_file(argv[5], 64 * 1024 * 1024, &data) < 0) {
		perror(argv[5]);
		return 1;
	}
	s = store_open(argv[1], 5000, &err, &transient);
	if (s == NULL) {
		fprintf(stderr, "queuejob: %s\n", err);
		free(err);
		buf_free(&data);
		return 1;
	}
	snprintf(env_from, sizeof env_from, "%s-bounces@lists.example.org",
		 argv[2]);
	j.list = argv[2];
	j.kind = JOB_POST;
	j.audience = strcmp(argv[3], "mail") == 0 ? AUDIENCE_MAIL :
		     AUDIENCE_IMMEDIATE;
	j.env_from = env_from;
	j.data = data.data;
	j.len = data.len;
	j.personal = strcmp(argv[4], "-") == 0 ? NULL : argv[4];
	j.rcpts = (const char *const *)argv + 6;
	j.n = (size_t)(argc - 6);
	if (store_begin(s) < 0 || store_job_queue(s, &j, &id) < 0 ||
	    store_commit(s) < 0) {
		fprintf(stderr, "queuejob: %s\n", store_error(s));
		store_close(&s);
		buf_free(&data);
		return 1;
	}
	printf("%lld\n", (long long)id);
	store_close(&s);
	buf_free(&data);
	return 0;
}
