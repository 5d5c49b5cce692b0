/* cmd_report - a list's health report on the command line, or sent now */
#include "autoconf.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/conf.h"
#include "base/status.h"
#include "base/util.h"
#include "front/front.h"
#include "pipeline/report.h"
#include "store/store.h"

static const char usage_text[] =
	"usage: convene report LIST [--weeks N] [--html FILE] [--chart FILE] "
	"[--send]\n";

struct opts {
	long weeks;
	const char *html, *chart;
	bool send;
};

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "weeks", required_argument, NULL, 'w' },
		{ "html", required_argument, NULL, 'H' },
		{ "chart", required_argument, NULL, 'C' },
		{ "send", no_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int opt;

	memset(o, 0, sizeof *o);
	optind = 0;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'w':
			o->weeks = strtol(optarg, &end, 10);
			if (*end != '\0' || o->weeks < 1 || o->weeks > 104)
				return -1;
			break;
		case 'H':
			o->html = optarg;
			break;
		case 'C':
			o->chart = optarg;
			break;
		case 's':
			o->send = true;
			break;
		default:
			return -1;
		}
	}
	return optind == argc - 1 ? 0 : -1;
}

static int write_file(const char *path, const struct buf *b)
{
	FILE *f = fopen(path, "w");
	int rc = 0;

	if (f == NULL || fwrite(b->data, 1, b->len, f) != b->len)
		rc = -1;
	if (f != NULL && fclose(f) != 0)
		rc = -1;
	if (rc < 0)
		perror(path);
	return rc;
}

static enum status show(struct store *s, const struct conf *c,
			const struct conf_list *l, const struct opts *o)
{
	struct report_out out;
	char *err = NULL;
	bool html = o->html != NULL || o->chart != NULL;

	if (report_build(s, c, l, util_now(), (size_t)o->weeks, html, &out,
			 &err) < 0) {
		fprintf(stderr, "convene: %s\n", err);
		free(err);
		return store_transient(s) ? ST_TEMPFAIL : ST_SOFTWARE;
	}
	fwrite(out.text.data, 1, out.text.len, stdout);
	if ((o->html != NULL && write_file(o->html, &out.html) < 0) ||
	    (o->chart != NULL && write_file(o->chart, &out.png) < 0)) {
		report_out_free(&out);
		return ST_TEMPFAIL;
	}
	report_out_free(&out);
	return ST_OK;
}

int cmd_report(int argc, char **argv, const char *config)
{
	struct conf *c = NULL;
	struct store *s = NULL;
	const struct conf_list *l;
	struct opts o;
	enum status st;
	char *err = NULL;

	if (parse(argc, argv, &o) < 0) {
		fputs(usage_text, stderr);
		return status_to_exit(ST_USAGE);
	}
	st = front_open_list(config, argv[optind], &c, &l, &s);
	if (st != ST_OK)
		return status_to_exit(st);
	if (!o.send) {
		st = show(s, c, l, &o);
	} else if (report_send(s, c, l, util_now(), &err) < 0) {
		fprintf(stderr, "convene: %s\n", err);
		free(err);
		st = store_transient(s) ? ST_TEMPFAIL : ST_SOFTWARE;
	} else {
		printf("%s: health report queued\n", l->name);
	}
	store_close(&s);
	conf_free(&c);
	return status_to_exit(st);
}
