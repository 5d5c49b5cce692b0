/* cmd_check - validates the configuration, the templates and the database */
#include "autoconf.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/conf.h"
#include "front/front.h"
#include "mail/calendar.h"
#include "base/status.h"
#include "store/store.h"
#include "base/template.h"
#include "pipeline/render.h"
#include "base/xalloc.h"

static size_t nknown(void)
{
	size_t n = 0;

	while (template_known[n] != NULL)
		n++;
	return n;
}

/* Checks every *.txt in dir; returns the number of problems. */
static int check_templates_in(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int bad = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		char *path, *err = NULL;

		if (len < 5 || strcmp(e->d_name + len - 4, ".txt") != 0)
			continue;
		path = xasprintf("%s/%s", dir, e->d_name);
		if (!template_is_used(e->d_name, len - 4)) {
			fprintf(stderr, "%s: not a template convene uses (a "
				"misspelt name?)\n", path);
			bad++;
		} else if (template_check_file(path, template_known, nknown(),
					       &err) < 0) {
			fprintf(stderr, "%s\n", err);
			free(err);
			bad++;
		}
		free(path);
	}
	closedir(d);
	return bad;
}

static void report(const char *problem, void *ctx)
{
	(void)ctx;
	fprintf(stderr, "%s\n", problem);
}

int cmd_check(int argc, char **argv, const char *config)
{
	struct conf *c = front_load_conf(config);
	struct store *s;
	char *dir;
	int bad = 0, version = 0;
	size_t i;

	if (c == NULL)
		return status_to_exit(ST_CONFIG);
	dir = xasprintf("%s/%s", c->templates, c->language);
	bad += check_templates_in(dir);
	for (i = 0; i < c->nlists; i++) {
		char *ldir = xasprintf("%s/%s", dir, c->lists[i].name);

		bad += check_templates_in(ldir);
		free(ldir);
		bad += (int)template_check_list(c, &c->lists[i], report, NULL);
		/* web.html and web-feed.xml make the pages (web.dir) and
		 * convene web's own (one-click unsubscribe at web.url) */
		if (c->web.dir != NULL || c->web.url != NULL)
			bad += (int)render_check_templates(c, &c->lists[i],
							   report, NULL);
	}
	free(dir);
	/* The meeting zones must be known to the tz database (libical). */
	for (i = 0; i < c->nlists; i++) {
		if (!calendar_zone_known(c->lists[i].meeting_timezone)) {
			fprintf(stderr, "%s:%d: lists.%s.meetings.timezone: "
				"unknown time zone \"%s\"\n", c->file,
				c->lists[i].line, c->lists[i].name,
				c->lists[i].meeting_timezone);
			bad++;
		}
	}
	s = front_open_store(c);
	if (s == NULL || store_schema_version(s, &version) < 0)
		bad++;
	store_close(&s);
	if (bad == 0)
		printf("%s: ok (%zu list%s, schema version %d, templates "
		       "%s/%s)\n", c->file, c->nlists,
		       c->nlists == 1 ? "" : "s", version, c->templates,
		       c->language);
	conf_free(&c);
	return status_to_exit(bad ? ST_CONFIG : ST_OK);
}
