/* cmd_mta - prints (or checks) the MTA wiring for the config in force */
#include "autoconf.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/conf.h"
#include "base/mta.h"
#include "base/status.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "front/front.h"

#ifndef BINDIR
#error "BINDIR must be defined (-DBINDIR=...)"
#endif

static const char usage_line[] =
	"usage: convene mta postfix|exim [--check] [--user USER] "
	"[--mta-config PATH]\n";

/* Runs an MTA tool found in PATH or the sbin folders; its errors are not
 * shown (postmap -q complains about tables it cannot open). */
static int run_tool(void *ctx, char *const argv[], const char *input,
		    struct buf *out, int *exit_r)
{
	char *path = util_find_program(argv[0]);
	char **v;
	size_t n = 0;
	int rc;

	if (path == NULL)
		return -1;
	while (argv[n] != NULL)
		n++;
	v = xcalloc(n + 1, sizeof *v);
	memcpy(v, argv, n * sizeof *v);
	v[0] = path;
	rc = util_run(v, input, 1024 * 1024, out, NULL, exit_r);
	free(v);
	free(path);
	return rc;
}

/* The binary the MTA should run: this one. */
static char *this_program(void)
{
	char buf[PATH_MAX];

	if (realpath("/proc/self/exe", buf) != NULL)
		return xstrdup(buf);
	return xstrdup(BINDIR "/convene");
}

/* The config to name with -c: NULL when it is the compiled-in default. */
static char *config_to_name(const struct conf *c)
{
	char file[PATH_MAX], def[PATH_MAX];

	if (realpath(c->file, file) == NULL)
		return xstrdup(c->file);
	if (realpath(SYSCONFDIR "/convene/convene.conf", def) != NULL &&
	    strcmp(file, def) == 0)
		return NULL;
	return xstrdup(file);
}

int cmd_mta(int argc, char **argv, const char *config)
{
	static const struct option longopts[] = {
		{ "check", no_argument, NULL, 'k' },
		{ "user", required_argument, NULL, 'u' },
		{ "mta-config", required_argument, NULL, 'C' },
		{ "lmtp", no_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	const char *user = "convene", *mta_config = NULL;
	bool check = false;
	struct mta_wiring w;
	enum mta_kind kind;
	struct conf *c;
	struct buf out = BUF_INIT;
	char *program, *cfg, *err = NULL;
	int opt, n;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "ku:C:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'k':
			check = true;
			break;
		case 'u':
			user = optarg;
			break;
		case 'C':
			mta_config = optarg;
			break;
		case 'l':
			fprintf(stderr, "convene mta: --lmtp needs `convene "
				"lmtp`, which this version does not have "
				"yet; the pipe wiring works today\n");
			return status_to_exit(ST_USAGE);
		default:
			fputs(usage_line, stderr);
			return status_to_exit(ST_USAGE);
		}
	}
	if (optind != argc - 1) {
		fputs(usage_line, stderr);
		return status_to_exit(ST_USAGE);
	}
	if (strcmp(argv[optind], "postfix") == 0) {
		kind = MTA_POSTFIX;
	} else if (strcmp(argv[optind], "exim") == 0) {
		kind = MTA_EXIM;
	} else {
		fputs(usage_line, stderr);
		return status_to_exit(ST_USAGE);
	}
	c = front_load_conf(config);
	if (c == NULL)
		return status_to_exit(ST_CONFIG);
	program = this_program();
	cfg = config_to_name(c);
	if (mta_wiring_init(&w, kind, c, program, cfg, user, &err) < 0) {
		fprintf(stderr, "convene mta: %s\n", err);
		free(err);
		free(program);
		free(cfg);
		conf_free(&c);
		return status_to_exit(ST_USAGE);
	}
	free(program);
	free(cfg);
	conf_free(&c);
	if (!check) {
		mta_print(&w, &out);
		fputs(buf_cstr(&out), stdout);
		buf_free(&out);
		mta_wiring_deinit(&w);
		return status_to_exit(ST_OK);
	}
	n = mta_check(&w, mta_config, run_tool, NULL, &out, &err);
	fputs(buf_cstr(&out), stdout);
	if (n < 0) {
		fprintf(stderr, "convene mta: %s\n", err);
		free(err);
	} else if (n == 0) {
		printf("The %s wiring is all there.\n",
		       kind == MTA_POSTFIX ? "Postfix" : "Exim");
	} else {
		printf("%d part%s of the wiring %s missing: `convene mta "
		       "%s` prints it.\n", n, n == 1 ? "" : "s",
		       n == 1 ? "is" : "are",
		       kind == MTA_POSTFIX ? "postfix" : "exim");
	}
	buf_free(&out);
	mta_wiring_deinit(&w);
	return status_to_exit(n == 0 ? ST_OK : ST_CONFIG);
}
