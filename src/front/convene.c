/* convene - the one binary: git-style subcommands over one library */
#include "autoconf.h"

#include <errno.h>
#include <stdint.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "base/conf.h"
#include "delivery/deliver.h"
#include "front/front.h"
#include "mail/calendar.h"
#include "pipeline/archive.h"
#include "base/log.h"
#include "store/store.h"
#include "base/xalloc.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv, const char *config);
	const char *usage;
} commands[] = {
	{ "receive", cmd_receive, "receive [--recipient ADDR]" },
	{ "lmtp", cmd_lmtp, "lmtp [--listen unix:PATH|HOST:PORT] [--user USER]" },
	{ "run", cmd_run, "run [--once] [--user USER]" },
	{ "check", cmd_check, "check" },
	{ "lists", cmd_lists, "lists" },
	{ "members", cmd_members,
	  "members LIST list\n"
	  "members LIST add [--quiet|--invite] ADDR...\n"
	  "members LIST remove [--quiet] ADDR...\n"
	  "members LIST set ADDR MODE\n"
	  "members LIST import FILE [--skip-bad]\n"
	  "members LIST export\n"
	  "members LIST enable ADDR\n"
	  "members LIST pending [approve ID|reject ID]" },
	{ "held", cmd_held,
	  "held LIST list|show ID|approve ID|reject ID [REASON]|discard ID" },
	{ "digest", cmd_digest, "digest LIST preview\ndigest LIST send" },
	{ "meeting", cmd_meeting,
	  "meeting LIST schedule KEY=VALUE... [--ics FILE] [--organizer ADDR]\n"
	  "meeting LIST update ID KEY=VALUE... [--ics FILE]\n"
	  "meeting LIST cancel ID\n"
	  "meeting LIST list\n"
	  "meeting LIST rsvps ID" },
	{ "queue", cmd_queue, "queue list\nqueue retry [JOB]\nqueue flush" },
	{ "archive", cmd_archive,
	  "archive LIST search QUERY...\n"
	  "archive LIST show ID\n"
	  "archive LIST thread ID\n"
	  "archive LIST index [N]\n"
	  "archive LIST faq\n"
	  "archive LIST export [--mbox FILE]\n"
	  "archive LIST import FILE|DIR\n"
	  "archive LIST rebuild\n"
	  "archive LIST faq ID [TITLE]|resolved ID|tag ID WORD\n"
	  "archive LIST render [DIR]" },
	{ "mta", cmd_mta,
	  "mta postfix|exim [--lmtp] [--check] [--user USER] "
	  "[--mta-config PATH]" },
	{ "report", cmd_report,
	  "report LIST [--weeks N] [--html FILE] [--chart FILE] [--send]" },
	{ "poll", cmd_poll, "poll LIST list|results ID|close ID" },
	{ "web", cmd_web, "web [--listen HOST:PORT] [--user USER]" },
};

/* Every line of the usage text, one "convene ..." a line (README.md's
 * "Command line" shows the same lines). */
static void usage(FILE *out)
{
	size_t i;

	fprintf(out, "usage: convene [-c FILE] COMMAND [ARGS]\n\ncommands:\n");
	for (i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		const char *p = commands[i].usage;

		while (*p != '\0') {
			size_t n = strcspn(p, "\n");

			fprintf(out, "  convene %.*s\n", (int)n, p);
			p += n + (p[n] == '\n');
		}
	}
	fprintf(out, "  convene --version\n  convene --help\n");
	fprintf(out, "\nThe config file is -c FILE, else $CONVENE_CONFIG, else "
		"%s.\n", conf_default_path(NULL));
}

void front_time(time_t t, char dst[32])
{
	struct tm tm;

	if (t <= 0 || gmtime_r(&t, &tm) == NULL ||
	    strftime(dst, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(dst, 32, "-");
}

const char *front_safe(char *dst, size_t n, const char *s)
{
	return s != NULL ? log_sanitize(dst, n, s, strlen(s)) : "";
}

int front_parse_id(const char *s, int64_t *id_r)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s || v <= 0)
		return -1;
	*id_r = v;
	return 0;
}

char *front_actor(void)
{
	struct passwd *pw = getpwuid(getuid());

	return xasprintf("cli:%s", pw != NULL ? pw->pw_name : "unknown");
}

struct conf *front_load_conf(const char *config)
{
	struct conf *c = NULL;
	struct conf_problems problems = { 0 };
	bool unreadable = false;
	const char *path = conf_default_path(config);
	size_t i;

	if (conf_load(path, &c, &problems, &unreadable) == 0)
		return c;
	for (i = 0; i < problems.n; i++)
		fprintf(stderr, "%s:%d: %s\n", problems.v[i].file,
			problems.v[i].line, problems.v[i].message);
	if (problems.n == 0)
		fprintf(stderr, "%s: cannot load the configuration\n", path);
	conf_problems_free(&problems);
	return NULL;
}

struct store *front_open_store(const struct conf *c)
{
	char *err = NULL;
	bool transient;
	struct store *s = store_open(c->database, c->busy_timeout_ms, &err,
				     &transient);

	if (s == NULL) {
		fprintf(stderr, "convene: %s\n", err);
		free(err);
		return NULL;
	}
	/* What the commands read (threads, the index) includes every post
	 * accepted so far; when that cannot be done now (a busy database),
	 * they read what is there. */
	if (archive_catch_up(s, c, SIZE_MAX, NULL) < 0)
		log_warn("threading: %s", store_error(s));
	return s;
}

enum status front_store_failed(const struct store *s)
{
	fprintf(stderr, "convene: %s\n", store_error(s));
	return ST_TEMPFAIL;
}

void front_counted(size_t n, const char *one, const char *many)
{
	fprintf(stderr, "%zu %s\n", n, n == 1 ? one : many);
}

void front_print_busy(const struct deliver_stats *stats)
{
	if (stats->jobs_busy == 0)
		return;
	printf("%llu job%s left to the worker that is delivering %s "
	       "(pid %lld)\n", (unsigned long long)stats->jobs_busy,
	       stats->jobs_busy == 1 ? "" : "s",
	       stats->jobs_busy == 1 ? "it" : "them",
	       (long long)stats->busy_pid);
}

enum status front_open_list(const char *config, const char *name,
			    struct conf **c_r, const struct conf_list **l_r,
			    struct store **s_r)
{
	*c_r = front_load_conf(config);
	if (*c_r == NULL)
		return ST_CONFIG;
	*l_r = conf_find_list(*c_r, name);
	if (*l_r == NULL) {
		fprintf(stderr, "convene: no such list: %s\n", name);
		conf_free(c_r);
		return ST_NOUSER;
	}
	*s_r = front_open_store(*c_r);
	if (*s_r == NULL) {
		conf_free(c_r);
		return ST_TEMPFAIL;
	}
	return ST_OK;
}

int main(int argc, char **argv)
{
	const char *config = NULL;
	size_t i;
	int opt;

	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};

	/* Options before the subcommand only; the rest are the command's. */
	while ((opt = getopt_long(argc, argv, "+c:hV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config = optarg;
			break;
		case 'h':
			usage(stdout);
			return EX_OK;
		case 'V':
			printf("%s %s\n", PACKAGE_NAME, PACKAGE_VERSION);
			return EX_OK;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EX_USAGE;
	}
	for (i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		if (strcmp(argv[optind], commands[i].name) == 0) {
			int ret;

			log_open("convene", true);
			optind++;
			/* The command parses its own options from argv[0]. */
			ret = commands[i].fn(argc - optind + 1,
					     argv + optind - 1, config);
			/* What libical keeps for the process (its zones). */
			calendar_cleanup();
			log_close();
			return ret;
		}
	}
	fprintf(stderr, "convene: unknown command '%s'\n", argv[optind]);
	usage(stderr);
	return EX_USAGE;
}
