/* cmd_members - membership of one list from the command line */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "conf.h"
#include "front.h"
#include "members.h"
#include "status.h"
#include "store.h"
#include "xalloc.h"

static const char usage_text[] =
	"usage: convene members LIST list\n"
	"       convene members LIST add ADDR...      (\"Name <addr>\" allowed)\n"
	"       convene members LIST remove ADDR...\n"
	"       convene members LIST set ADDR MODE    (immediate, digest, "
	"digest-plain, nomail)\n"
	"       convene members LIST import FILE [--skip-bad]\n"
	"       convene members LIST export           (CSV on standard "
	"output)\n";

static int print_member(const struct store_member *m, void *ctx)
{
	size_t *n = ctx;

	printf("%-40s %-12s %-8s %s\n", m->address, store_mode_name(m->mode),
	       store_member_status_name(m->status), m->name ? m->name : "");
	(*n)++;
	return 0;
}

static enum status do_list(struct store *s, const struct conf_list *l)
{
	size_t n = 0;

	if (store_member_foreach(s, l->name, print_member, &n) < 0) {
		fprintf(stderr, "convene: %s\n", store_error(s));
		return ST_TEMPFAIL;
	}
	fprintf(stderr, "%zu member%s\n", n, n == 1 ? "" : "s");
	return ST_OK;
}

/* add and remove: every argument is checked before anything changes. */
static enum status do_add_remove(struct store *s, const struct conf *c,
				 const struct conf_list *l, bool add,
				 int argc, char **argv)
{
	char **addrs = xcalloc((size_t)argc + 1, sizeof *addrs);
	char **names = xcalloc((size_t)argc + 1, sizeof *names);
	enum status st = ST_OK;
	int i;

	if (argc == 0) {
		fputs(usage_text, stderr);
		st = ST_USAGE;
	}
	for (i = 0; i < argc; i++) {
		if (addr_parse_mailbox(argv[i], c->local_part_case_sensitive,
				       &addrs[i], &names[i]) < 0) {
			fprintf(stderr, "convene: not a valid address: %s\n",
				argv[i]);
			st = ST_USAGE;
		}
	}
	if (st != ST_OK)
		goto out;
	if (store_begin(s) < 0)
		goto fail;
	for (i = 0; i < argc; i++) {
		bool changed;

		if (add) {
			if (store_member_add(s, l->name, addrs[i], names[i],
					     MODE_IMMEDIATE, &changed) < 0)
				goto fail;
			printf("%s: %s\n", addrs[i],
			       changed ? "added" : "already a member");
		} else {
			if (store_member_remove(s, l->name, addrs[i],
						&changed) < 0)
				goto fail;
			printf("%s: %s\n", addrs[i],
			       changed ? "removed" : "not a member");
		}
	}
	if (store_commit(s) < 0)
		goto fail;
	goto out;
fail:
	fprintf(stderr, "convene: %s\n", store_error(s));
	store_rollback(s);
	st = ST_TEMPFAIL;
out:
	for (i = 0; i < argc; i++) {
		free(addrs[i]);
		free(names[i]);
	}
	free(addrs);
	free(names);
	return st;
}

static enum status do_set(struct store *s, const struct conf *c,
			  const struct conf_list *l, int argc, char **argv)
{
	enum store_mode mode;
	char *addr = NULL, *name = NULL;
	bool found;
	enum status st = ST_OK;

	if (argc != 2) {
		fputs(usage_text, stderr);
		return ST_USAGE;
	}
	if (store_mode_parse(argv[1], &mode) < 0) {
		fprintf(stderr, "convene: unknown mode: %s\n", argv[1]);
		return ST_USAGE;
	}
	if (addr_parse_mailbox(argv[0], c->local_part_case_sensitive, &addr,
			       &name) < 0) {
		fprintf(stderr, "convene: not a valid address: %s\n", argv[0]);
		return ST_USAGE;
	}
	if (store_member_set_mode(s, l->name, addr, mode, &found) < 0) {
		fprintf(stderr, "convene: %s\n", store_error(s));
		st = ST_TEMPFAIL;
	} else if (!found) {
		fprintf(stderr, "convene: %s is not a member of %s\n", addr,
			l->name);
		st = ST_NOUSER;
	} else {
		printf("%s: %s\n", addr, store_mode_name(mode));
	}
	free(addr);
	free(name);
	return st;
}

static enum status do_import(struct store *s, const struct conf *c,
			     const struct conf_list *l, int argc, char **argv)
{
	struct members_import_report r;
	const char *file = NULL;
	bool skip_bad = false;
	int i;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--skip-bad") == 0)
			skip_bad = true;
		else if (file == NULL)
			file = argv[i];
		else
			file = NULL, i = argc;
	}
	if (file == NULL) {
		fputs(usage_text, stderr);
		return ST_USAGE;
	}
	if (members_import(s, l->name, file, c->local_part_case_sensitive,
			   skip_bad, &r, stderr) < 0)
		return ST_DATAERR;
	printf("%zu added, %zu already members, %zu bad lines skipped\n",
	       r.added, r.existing, r.bad);
	return ST_OK;
}

int cmd_members(int argc, char **argv, const char *config)
{
	const struct conf_list *l;
	struct conf *c;
	struct store *s;
	const char *verb;
	enum status st;

	if (argc < 3) {
		fputs(usage_text, stderr);
		return status_to_exit(ST_USAGE);
	}
	verb = argv[2];
	c = front_load_conf(config);
	if (c == NULL)
		return status_to_exit(ST_CONFIG);
	l = conf_find_list(c, argv[1]);
	if (l == NULL) {
		fprintf(stderr, "convene: no such list: %s\n", argv[1]);
		conf_free(&c);
		return status_to_exit(ST_NOUSER);
	}
	s = front_open_store(c);
	if (s == NULL) {
		conf_free(&c);
		return status_to_exit(ST_TEMPFAIL);
	}
	if (strcmp(verb, "list") == 0 && argc == 3) {
		st = do_list(s, l);
	} else if (strcmp(verb, "add") == 0 || strcmp(verb, "remove") == 0) {
		st = do_add_remove(s, c, l, verb[0] == 'a', argc - 3, argv + 3);
	} else if (strcmp(verb, "set") == 0) {
		st = do_set(s, c, l, argc - 3, argv + 3);
	} else if (strcmp(verb, "import") == 0) {
		st = do_import(s, c, l, argc - 3, argv + 3);
	} else if (strcmp(verb, "export") == 0 && argc == 3) {
		st = members_export(s, l->name, stdout) < 0 ? ST_TEMPFAIL :
		     ST_OK;
		if (st != ST_OK)
			fprintf(stderr, "convene: %s\n", store_error(s));
	} else {
		fputs(usage_text, stderr);
		st = ST_USAGE;
	}
	store_close(&s);
	conf_free(&c);
	return status_to_exit(st);
}
