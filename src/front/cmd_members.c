/* cmd_members - membership of one list from the command line */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/addr.h"
#include "mail/mailbox.h"
#include "pipeline/bounce.h"
#include "pipeline/commands.h"
#include "base/conf.h"
#include "front/front.h"
#include "pipeline/members.h"
#include "base/status.h"
#include "store/store.h"
#include "store/store_subs.h"
#include "base/xalloc.h"

static const char usage_text[] =
	"usage: convene members LIST list\n"
	"       convene members LIST add [--quiet|--invite] ADDR...  "
	"(\"Name <addr>\" allowed)\n"
	"       convene members LIST remove [--quiet] ADDR...\n"
	"       convene members LIST set ADDR MODE    (immediate, digest, "
	"digest-plain, nomail)\n"
	"       convene members LIST import FILE [--skip-bad]\n"
	"       convene members LIST export           (CSV on standard "
	"output)\n"
	"       convene members LIST pending [approve ID|reject ID]\n"
	"       convene members LIST enable ADDR      (after bounces)\n";

static int print_member(const struct store_member *m, void *ctx)
{
	char since[16] = "-";
	struct tm tm;
	size_t *n = ctx;

	if (m->subscribed_at > 0 && gmtime_r(&m->subscribed_at, &tm) != NULL)
		strftime(since, sizeof since, "%Y-%m-%d", &tm);
	printf("%-40s %-12s %-8s %6.2f  %-10s  %s\n", m->address,
	       store_mode_name(m->mode), store_member_status_name(m->status),
	       m->bounce_score, since, m->name ? m->name : "");
	(*n)++;
	return 0;
}

static enum status do_list(struct store *s, const struct conf_list *l)
{
	size_t n = 0;

	printf("%-40s %-12s %-8s %6s  %-10s  %s\n", "ADDRESS", "MODE",
	       "STATUS", "BOUNCE", "SINCE", "NAME");
	if (store_member_foreach(s, l->name, print_member, &n) < 0)
		return front_store_failed(s);
	front_counted(n, "member", "members");
	return ST_OK;
}

/* add and remove: every argument is checked before anything changes, and
 * all of them change in one transaction. */
static enum status do_add_remove(struct store *s, const struct conf *c,
				 const struct conf_list *l, bool add,
				 int argc, char **argv)
{
	char **addrs, **names;
	enum commands_add_how how = COMMANDS_ADD_WELCOME;
	enum commands_result result;
	enum status st = ST_OK;
	bool quiet = false;
	int i, rc;

	/* --quiet (no welcome or goodbye); add: --invite (the person
	 * confirms). */
	while (argc > 0 && strncmp(argv[0], "--", 2) == 0) {
		if (strcmp(argv[0], "--quiet") == 0) {
			how = COMMANDS_ADD_QUIET;
			quiet = true;
		} else if (add && strcmp(argv[0], "--invite") == 0) {
			how = COMMANDS_ADD_INVITE;
		} else {
			fprintf(stderr, "convene: unknown option: %s\n",
				argv[0]);
			return ST_USAGE;
		}
		argc--;
		argv++;
	}
	addrs = xcalloc((size_t)argc + 1, sizeof *addrs);
	names = xcalloc((size_t)argc + 1, sizeof *names);
	if (argc == 0) {
		fputs(usage_text, stderr);
		st = ST_USAGE;
	}
	for (i = 0; i < argc; i++) {
		if (mailbox_parse(argv[i], c->local_part_case_sensitive,
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
		rc = add ? commands_admin_add(s, c, l, addrs[i], names[i], how,
					      &result) :
		     commands_admin_remove(s, c, l, addrs[i], quiet, "admin",
					   &result);
		if (rc < 0)
			goto fail;
		printf("%s: %s\n", addrs[i], commands_result_name(result));
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
	if (mailbox_parse(argv[0], c->local_part_case_sensitive, &addr,
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

static int print_request(const struct store_sub_request *r, void *ctx)
{
	size_t *n = ctx;
	char when[32];
	struct tm tm;

	gmtime_r(&r->expires_at, &tm);
	strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
	printf("%-6lld %-11s %-8s %-40s %-12s %s UTC\n", (long long)r->id,
	       store_sub_kind_name(r->kind), store_sub_state_name(r->state),
	       r->address, store_mode_name(r->mode), when);
	(*n)++;
	return 0;
}

/* pending: requests waiting for the person or for a leader; approve and
 * reject decide one. */
static enum status do_pending(struct store *s, const struct conf *c,
			      const struct conf_list *l, int argc, char **argv)
{
	enum commands_result result;
	char *end;
	long long id;
	size_t n = 0;

	if (argc == 0) {
		if (commands_expire(s, l) < 0) {
			fprintf(stderr, "convene: %s\n", store_error(s));
			return ST_TEMPFAIL;
		}
		printf("%-6s %-11s %-8s %-40s %-12s %s\n", "id", "kind",
		       "waiting", "address", "mode", "expires");
		if (store_sub_request_foreach(s, l->name, print_request,
					      &n) < 0) {
			fprintf(stderr, "convene: %s\n", store_error(s));
			return ST_TEMPFAIL;
		}
		fprintf(stderr, "%zu pending request%s\n", n,
			n == 1 ? "" : "s");
		return ST_OK;
	}
	if (argc != 2 || (strcmp(argv[0], "approve") != 0 &&
			  strcmp(argv[0], "reject") != 0)) {
		fputs(usage_text, stderr);
		return ST_USAGE;
	}
	id = strtoll(argv[1], &end, 10);
	if (*argv[1] == '\0' || *end != '\0' || id <= 0) {
		fprintf(stderr, "convene: not a request id: %s\n", argv[1]);
		return ST_USAGE;
	}
	if (store_begin(s) < 0 ||
	    commands_decide(s, c, l, (int64_t)id, argv[0][0] == 'a',
			    "admin", &result) < 0 ||
	    store_commit(s) < 0) {
		store_rollback(s);
		fprintf(stderr, "convene: %s\n", store_error(s));
		return ST_TEMPFAIL;
	}
	printf("%lld: %s\n", id, commands_result_name(result));
	return commands_result_status(result);
}

/* enable: delivery back on for a member disabled after bounces. */
static enum status do_enable(struct store *s, const struct conf *c,
			     const struct conf_list *l, int argc, char **argv)
{
	char *addr = NULL, *name = NULL;
	bool found = false;
	enum status st = ST_OK;

	if (argc != 1) {
		fputs(usage_text, stderr);
		return ST_USAGE;
	}
	if (mailbox_parse(argv[0], c->local_part_case_sensitive, &addr,
			  &name) < 0) {
		fprintf(stderr, "convene: not a valid address: %s\n", argv[0]);
		return ST_USAGE;
	}
	if (store_begin(s) < 0 ||
	    bounce_enable(s, l, addr, "by hand", &found) < 0 ||
	    store_commit(s) < 0) {
		fprintf(stderr, "convene: %s\n", store_error(s));
		store_rollback(s);
		st = ST_TEMPFAIL;
	} else if (!found) {
		fprintf(stderr, "convene: %s is not a member of %s\n", addr,
			l->name);
		st = ST_NOUSER;
	} else {
		printf("%s: enabled\n", addr);
	}
	free(addr);
	free(name);
	return st;
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
	st = front_open_list(config, argv[1], &c, &l, &s);
	if (st != ST_OK)
		return status_to_exit(st);
	if (strcmp(verb, "list") == 0 && argc == 3) {
		st = do_list(s, l);
	} else if (strcmp(verb, "add") == 0 || strcmp(verb, "remove") == 0) {
		st = do_add_remove(s, c, l, verb[0] == 'a', argc - 3, argv + 3);
	} else if (strcmp(verb, "set") == 0) {
		st = do_set(s, c, l, argc - 3, argv + 3);
	} else if (strcmp(verb, "enable") == 0) {
		st = do_enable(s, c, l, argc - 3, argv + 3);
	} else if (strcmp(verb, "pending") == 0) {
		st = do_pending(s, c, l, argc - 3, argv + 3);
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
