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
	"usage: convene mta postfix|exim [--lmtp] [--check] [--user USER] "
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

struct mta_args {
	const char *user, *mta_config;
	bool check, lmtp;
	enum mta_kind kind;
};

/* The command line; ST_OK or ST_USAGE (told). */
static enum status parse_args(int argc, char **argv, struct mta_args *a)
{
	static const struct option longopts[] = {
		{ "check", no_argument, NULL, 'k' },
		{ "user", required_argument, NULL, 'u' },
		{ "mta-config", required_argument, NULL, 'C' },
		{ "lmtp", no_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "ku:C:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'k':
			a->check = true;
			break;
		case 'u':
			a->user = optarg;
			break;
		case 'C':
			a->mta_config = optarg;
			break;
		case 'l':
			a->lmtp = true;
			break;
		default:
			fputs(usage_line, stderr);
			return ST_USAGE;
		}
	}
	if (optind == argc - 1 && strcmp(argv[optind], "postfix") == 0) {
		a->kind = MTA_POSTFIX;
	} else if (optind == argc - 1 && strcmp(argv[optind], "exim") == 0) {
		a->kind = MTA_EXIM;
	} else {
		fputs(usage_line, stderr);
		return ST_USAGE;
	}
	return ST_OK;
}

/* --check: what the MTA's config lacks. */
static enum status check_wiring(const struct mta_wiring *w,
				const struct mta_args *a)
{
	struct buf out = BUF_INIT;
	char *err = NULL;
	int n = mta_check(w, a->mta_config, run_tool, NULL, &out, &err);

	fputs(buf_cstr(&out), stdout);
	if (n < 0) {
		fprintf(stderr, "convene mta: %s\n", err);
		free(err);
	} else if (n == 0) {
		printf("The %s wiring is all there.\n",
		       a->kind == MTA_POSTFIX ? "Postfix" : "Exim");
	} else {
		printf("%d part%s of the wiring %s missing: `convene mta "
		       "%s` prints it.\n", n, n == 1 ? "" : "s",
		       n == 1 ? "is" : "are",
		       a->kind == MTA_POSTFIX ? "postfix" : "exim");
	}
	buf_free(&out);
	return n == 0 ? ST_OK : ST_CONFIG;
}

int cmd_mta(int argc, char **argv, const char *config)
{
	struct mta_args a = { .user = "convene" };
	struct mta_wiring w;
	struct conf *c;
	struct buf out = BUF_INIT;
	char *program, *cfg, *err = NULL;
	enum status st = parse_args(argc, argv, &a);
	int rc;

	if (st != ST_OK)
		return status_to_exit(st);
	c = front_load_conf(config);
	if (c == NULL)
		return status_to_exit(ST_CONFIG);
	program = this_program();
	cfg = config_to_name(c);
	rc = mta_wiring_init(&w, a.kind, c, program, cfg, a.user, &err);
	if (rc == 0 && a.lmtp && mta_wiring_lmtp(&w, c, NULL, &err) < 0) {
		mta_wiring_deinit(&w);
		rc = -1;
	}
	free(program);
	free(cfg);
	conf_free(&c);
	if (rc < 0) {
		fprintf(stderr, "convene mta: %s\n", err);
		free(err);
		return status_to_exit(ST_USAGE);
	}
	if (a.check) {
		st = check_wiring(&w, &a);
	} else {
		mta_print(&w, &out);
		fputs(buf_cstr(&out), stdout);
		buf_free(&out);
	}
	mta_wiring_deinit(&w);
	return status_to_exit(st);
}
