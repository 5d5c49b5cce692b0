/* test-conf - loading and validating the configuration file */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/conf.h"
#include "base/rx.h"
#include "base/xalloc.h"

static char tmpdir[] = "/tmp/convene-test-conf.XXXXXX";

static int remove_one(const char *path, const struct stat *st, int flag,
		      struct FTW *ftw)
{
	return remove(path);
}

static int setup(void **state)
{
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	return nftw(tmpdir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Writes `text` to tmpdir/name; returns the path (caller frees). */
static char *write_file(const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	return path;
}

static void print_problems(const struct conf_problems *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		print_message("  %s:%d: %s\n", p->v[i].file, p->v[i].line,
			      p->v[i].message);
}

static struct conf *load_path_ok(const char *path)
{
	struct conf *c = NULL;
	struct conf_problems p = { 0 };
	bool unreadable = true;

	if (conf_load(path, &c, &p, &unreadable) != 0) {
		print_problems(&p);
		conf_problems_free(&p);
		fail_msg("%s does not validate", path);
	}
	assert_false(unreadable);
	assert_int_equal(p.n, 0);
	assert_non_null(c);
	conf_problems_free(&p);
	return c;
}

static struct conf *load_ok(const char *text)
{
	char *path = write_file("ok.conf", text);
	struct conf *c = load_path_ok(path);

	free(path);
	return c;
}

/* Loads text that must fail; returns its problems. */
static struct conf_problems load_bad(const char *text)
{
	char *path = write_file("bad.conf", text);
	struct conf *c = (struct conf *)1;
	struct conf_problems p = { 0 };
	bool unreadable = true;

	assert_int_equal(conf_load(path, &c, &p, &unreadable), -1);
	assert_null(c);
	assert_false(unreadable);
	assert_true(p.n > 0);
	free(path);
	return p;
}

/* Whether a problem at `line` mentions `what` (and names bad.conf). */
static bool has(const struct conf_problems *p, int line, const char *what)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		const char *f = p->v[i].file;
		size_t n = strlen(f);

		if (p->v[i].line == line && strstr(p->v[i].message, what) &&
		    n >= 8 && strcmp(f + n - 8, "bad.conf") == 0)
			return true;
	}
	return false;
}

static void expect(const struct conf_problems *p, int line, const char *what)
{
	if (!has(p, line, what)) {
		print_problems(p);
		fail_msg("no problem at line %d mentioning \"%s\"", line,
			 what);
	}
}

/* A config with one problem: checks it is the only one, at its line. */
static void expect_one(const char *text, int line, const char *what)
{
	struct conf_problems p = load_bad(text);

	expect(&p, line, what);
	if (p.n != 1) {
		print_problems(&p);
		fail_msg("expected one problem, got %zu", p.n);
	}
	conf_problems_free(&p);
}

#define HEAD "domain = \"lists.example.org\";\n"
#define LIST_OPEN "lists = ( { name = \"makers\"; " \
	"leaders = [ \"alice@example.org\" ];\n"
#define LIST_CLOSE "} );\n"

static void test_example_validates(void **state)
{
	const char *top = getenv("top_srcdir");
	char *path = xasprintf("%s/etc/convene.conf",
			       top != NULL && *top != '\0' ? top : ".");
	struct conf *c = load_path_ok(path);
	const struct conf_list *l;

	assert_string_equal(c->domain, "lists.example.org");
	assert_int_equal(c->nlists, 2);
	l = conf_find_list(c, "makers");
	assert_non_null(l);
	assert_int_equal(l->nfilters, 2);
	assert_non_null(l->filters[0].rx);
	assert_null(l->filters[1].header);
	assert_int_equal(l->bans.n, 1);
	assert_non_null(l->ban_rx[0]);
	l = conf_find_list(c, "announce");
	assert_non_null(l);
	assert_int_equal(l->policy, POLICY_ANNOUNCE);
	assert_int_equal(l->reply_to, REPLYTO_ADDRESS);
	assert_string_equal(l->reply_to_address, "info@example.org");
	assert_int_equal(l->council.n, 0);
	assert_non_null(l->council.v);
	assert_null(l->council.v[0]);
	conf_free(&c);
	assert_null(c);
	free(path);
}

static void test_defaults(void **state)
{
	struct conf *c = load_ok(HEAD
		"lists = ( { name = \"makers\"; "
		"leaders = [ \"Alice@Example.ORG\" ]; } );\n");
	const struct conf_list *l = &c->lists[0];
	char *want;

	assert_string_equal(c->dir, tmpdir);
	want = xasprintf("%s/ok.conf", tmpdir);
	assert_string_equal(c->file, want);
	free(want);
	want = xasprintf("%s/convene.db", tmpdir);
	assert_string_equal(c->database, want);
	free(want);
	assert_string_equal(c->templates, PKGDATADIR "/templates");
	assert_string_equal(c->language, "en");
	assert_int_equal(c->busy_timeout_ms, 5000);
	assert_false(c->local_part_case_sensitive);
	assert_int_equal(c->bans.n, 0);

	assert_int_equal(c->outbound.transport, TRANSPORT_MAILDIR);
	assert_string_equal(c->outbound.host, "127.0.0.1");
	assert_int_equal(c->outbound.port, 25);
	want = xasprintf("%s/outbox", tmpdir);
	assert_string_equal(c->outbound.path, want);
	free(want);
	assert_int_equal(c->outbound.sendmail_argv.n, 2);
	assert_string_equal(c->outbound.sendmail_argv.v[0],
			    "/usr/sbin/sendmail");
	assert_string_equal(c->outbound.sendmail_argv.v[1], "-i");
	assert_null(c->outbound.sendmail_argv.v[2]);
	assert_int_equal(c->outbound.max_rcpt_per_txn, 500);
	assert_int_equal(c->outbound.connections, 4);
	assert_int_equal(c->outbound.verp, VERP_OFF);
	assert_false(c->outbound.starttls);
	assert_null(c->outbound.auth_user);
	assert_null(c->outbound.auth_password);
	assert_string_equal(c->outbound.helo, "lists.example.org");
	assert_int_equal(c->outbound.timeout_s, 60);
	assert_int_equal(c->outbound.retry_schedule.n, 7);
	assert_string_equal(c->outbound.retry_schedule.v[0], "1m");
	assert_string_equal(c->outbound.retry_schedule.v[6], "24h");

	assert_int_equal(c->limits.max_message_kb, 10240);
	assert_int_equal(c->limits.max_header_kb, 512);
	assert_int_equal(c->limits.max_headers, 1000);
	assert_int_equal(c->limits.max_mime_depth, 50);
	assert_int_equal(c->limits.max_mime_parts, 10000);

	assert_int_equal(c->nlists, 1);
	assert_string_equal(l->name, "makers");
	assert_string_equal(l->description, "");
	assert_int_equal(l->policy, POLICY_MEMBERS);
	assert_int_equal(l->subscription, SUB_CONFIRM);
	assert_int_equal(l->sponsors.n, 0);
	assert_int_equal(l->leaders.n, 1);
	assert_string_equal(l->leaders.v[0], "alice@example.org");
	assert_int_equal(l->council.n, 0);
	assert_string_equal(l->subject_prefix, "[makers] ");
	assert_int_equal(l->reply_to, REPLYTO_NONE);
	assert_null(l->reply_to_address);
	assert_int_equal(l->from_munging, FROMMUNGE_NONE);
	assert_int_equal(l->max_message_kb, 0);
	assert_null(l->archive_url);
	assert_null(l->unsubscribe_url);
	assert_true(l->footer);
	assert_false(l->allow_who);
	/* digests are always on */
	assert_string_equal(l->digest_schedule, "daily 07:00");
	assert_int_equal(l->digest_when.weekday, -1);
	assert_int_equal(l->digest_when.hour, 7);
	assert_int_equal(l->digest_when.minute, 0);
	assert_string_equal(l->digest_timezone, "UTC");
	assert_int_equal(l->digest_max_messages, 50);
	assert_int_equal(l->digest_max_kb, 200);
	assert_int_equal(l->meeting_reminders.n, 2);
	assert_string_equal(l->meeting_timezone, "UTC");
	assert_int_equal(l->nfilters, 0);
	assert_int_equal(l->bans.n, 0);
	assert_int_equal(l->line, 2);
	conf_free(&c);
}

static void test_lmtp_defaults(void **state)
{
	struct conf *c = load_ok(HEAD
		"outbound = { transport = \"lmtp\"; helo = \"mx.example.org\";"
		" };\n");

	assert_int_equal(c->outbound.transport, TRANSPORT_LMTP);
	assert_int_equal(c->outbound.port, 24);
	assert_null(c->outbound.path);
	assert_string_equal(c->outbound.helo, "mx.example.org");
	assert_int_equal(c->nlists, 0);
	conf_free(&c);
}

static void test_values(void **state)
{
	struct conf *c = load_ok("domain = \"Lists.Example.ORG\";\n"
		"busy_timeout_ms = 100L;\n"
		"local_part_case_sensitive = true;\n"
		"language = \"de\";\n"
		"bans = [ \"@spam\\\\.example$\", \"^x@\" ];\n"
		"outbound = { transport = \"smtp\"; host = \"mx.example.net\";"
		" port = 2525; verp = \"per-recipient\"; starttls = true;\n"
		"  auth_user = \"u\"; auth_password = \"p\"; timeout = \"2m\";"
		" retry_schedule = [ \"10s\", \"1h30m\" ];\n"
		"  sendmail = [ \"/usr/lib/sendmail\", \"-i\", \"-odq\" ]; "
		"connections = 1; max_rcpt_per_txn = 1; };\n"
		"limits = { max_message_kb = 1; max_header_kb = 2; "
		"max_headers = 3; max_mime_depth = 4; max_mime_parts = 5; };\n"
		"lists = ( { name = \"ma_k.er-s\"; description = \"D\";\n"
		"  policy = \"open\"; subscription = \"closed\";\n"
		"  sponsors = ( \"Dana@Example.org\" ); leaders = [ \"A@x.org\","
		" \"b@x.org\" ]; council = [ \"c@x.org\" ];\n"
		"  subject_prefix = \"\"; reply_to = \"sender\"; "
		"from_munging = \"always\"; max_message_kb = 64;\n"
		"  archive_url = \"https://x.org/a\"; "
		"unsubscribe_url = \"http://x.org/u?id=1\";\n"
		"  footer = false; allow_who = true;\n"
		"  digest = { schedule = \"weekly mon 07:00\"; "
		"max_messages = 10; max_kb = 64; timezone = \"UTC\"; };\n"
		"  meetings = { reminders = [ \"1d\" ]; timezone = "
		"\"America/New_York\"; };\n"
		"  filters = ( { header = \"X-Spam\"; match = \"yes\"; "
		"action = \"reject\"; reason = \"spam\"; },\n"
		"              { match = \"x\"; action = \"accept\"; } );\n"
		"  bans = [ \"a\" ]; } );\n");
	const struct conf_list *l = &c->lists[0];

	assert_string_equal(c->domain, "lists.example.org");
	assert_int_equal(c->busy_timeout_ms, 100);
	assert_true(c->local_part_case_sensitive);
	assert_string_equal(c->language, "de");
	assert_int_equal(c->bans.n, 2);
	assert_int_equal(rx_match(c->ban_rx[0], "joe@spam.example", 16), 1);
	assert_int_equal(rx_match(c->ban_rx[1], "joe@spam.example", 16), 0);
	assert_int_equal(c->outbound.transport, TRANSPORT_SMTP);
	assert_string_equal(c->outbound.host, "mx.example.net");
	assert_int_equal(c->outbound.port, 2525);
	assert_null(c->outbound.path);
	assert_int_equal(c->outbound.verp, VERP_PER_RECIPIENT);
	assert_true(c->outbound.starttls);
	assert_string_equal(c->outbound.auth_user, "u");
	assert_string_equal(c->outbound.auth_password, "p");
	assert_int_equal(c->outbound.timeout_s, 120);
	assert_int_equal(c->outbound.retry_schedule.n, 2);
	assert_int_equal(c->outbound.sendmail_argv.n, 3);
	assert_int_equal(c->outbound.connections, 1);
	assert_int_equal(c->outbound.max_rcpt_per_txn, 1);
	assert_int_equal(c->limits.max_message_kb, 1);
	assert_int_equal(c->limits.max_mime_parts, 5);
	assert_string_equal(l->name, "ma_k.er-s");
	assert_int_equal(l->policy, POLICY_OPEN);
	assert_int_equal(l->subscription, SUB_CLOSED);
	/* Local parts keep their case when told so. */
	assert_string_equal(l->sponsors.v[0], "Dana@example.org");
	assert_int_equal(l->leaders.n, 2);
	assert_string_equal(l->subject_prefix, "");
	assert_int_equal(l->reply_to, REPLYTO_SENDER);
	assert_int_equal(l->from_munging, FROMMUNGE_ALWAYS);
	assert_int_equal(l->max_message_kb, 64);
	assert_string_equal(l->archive_url, "https://x.org/a");
	assert_string_equal(l->unsubscribe_url, "http://x.org/u?id=1");
	assert_false(l->footer);
	assert_true(l->allow_who);
	assert_string_equal(l->digest_schedule, "weekly mon 07:00");
	assert_int_equal(l->digest_when.weekday, 1);
	assert_int_equal(l->digest_when.hour, 7);
	assert_int_equal(l->digest_max_messages, 10);
	assert_int_equal(l->digest_max_kb, 64);
	assert_int_equal(l->meeting_reminders.n, 1);
	assert_string_equal(l->meeting_timezone, "America/New_York");
	assert_int_equal(l->nfilters, 2);
	assert_string_equal(l->filters[0].header, "X-Spam");
	assert_int_equal(l->filters[0].action, FILTER_REJECT);
	assert_string_equal(l->filters[0].reason, "spam");
	assert_int_equal(l->filters[0].line, 18);
	assert_null(l->filters[1].header);
	assert_null(l->filters[1].reason);
	assert_int_equal(l->filters[1].action, FILTER_ACCEPT);
	assert_int_equal(l->filters[1].line, 19);

	/* Look-ups and roles, case-insensitive. */
	assert_ptr_equal(conf_find_list(c, "MA_K.ER-S"), l);
	assert_null(conf_find_list(c, "nosuch"));
	assert_null(conf_find_list(c, NULL));
	assert_true(conf_list_is_leader(l, "a@X.ORG"));
	assert_false(conf_list_is_leader(l, "c@x.org"));
	assert_true(conf_list_is_council(l, "c@x.org"));
	assert_true(conf_list_is_sponsor(l, "dana@example.org"));
	assert_false(conf_list_is_sponsor(l, NULL));
	conf_free(&c);
}

static void test_relative_paths(void **state)
{
	char *sub = xasprintf("%s/etc", tmpdir), *want, cwd[PATH_MAX];
	struct conf *c;

	assert_int_equal(mkdir(sub, 0700), 0);
	free(write_file("etc/rel.conf", HEAD
		"database = \"data/convene.db\";\n"
		"templates = \"../templates\";\n"
		"outbound = { path = \"/var/spool/convene/outbox\"; };\n"));
	assert_non_null(getcwd(cwd, sizeof cwd));
	assert_int_equal(chdir(tmpdir), 0);
	c = load_path_ok("etc/rel.conf");
	assert_int_equal(chdir(cwd), 0);

	assert_string_equal(c->file, "etc/rel.conf");
	assert_string_equal(c->dir, sub);
	want = xasprintf("%s/data/convene.db", sub);
	assert_string_equal(c->database, want);
	free(want);
	want = xasprintf("%s/../templates", sub);
	assert_string_equal(c->templates, want);
	free(want);
	assert_string_equal(c->outbound.path, "/var/spool/convene/outbox");
	conf_free(&c);

	/* A relative outbound.path is taken from the file's folder too. */
	free(write_file("etc/rel2.conf", HEAD
		"database = \"/var/lib/convene/convene.db\";\n"
		"outbound = { transport = \"lmtp\"; path = \"lmtp.sock\"; };\n"));
	want = xasprintf("%s/rel2.conf", sub);
	c = load_path_ok(want);
	free(want);
	assert_string_equal(c->database, "/var/lib/convene/convene.db");
	want = xasprintf("%s/lmtp.sock", sub);
	assert_string_equal(c->outbound.path, want);
	free(want);
	conf_free(&c);
	free(sub);
}

static void test_include(void **state)
{
	struct conf_problems p;
	char *path;
	size_t i;
	bool found = false;

	/* Includes are found next to the config file, whatever the cwd. */
	free(write_file("lists.inc", "lists = ( { name = \"inc\";\n"
			"  leaders = [ \"bad address\" ]; } );\n"));
	p = load_bad(HEAD "@include \"lists.inc\"\n");
	path = xasprintf("%s/lists.inc", tmpdir);
	for (i = 0; i < p.n; i++) {
		if (strcmp(p.v[i].file, path) == 0 && p.v[i].line == 2 &&
		    strstr(p.v[i].message, "bad address") != NULL)
			found = true;
	}
	if (!found) {
		print_problems(&p);
		fail_msg("no problem in %s at line 2", path);
	}
	free(path);
	conf_problems_free(&p);
	assert_null(p.v);
	assert_int_equal(p.n, 0);
}

static void test_unknown_keys(void **state)
{
	struct conf_problems p = load_bad(HEAD
		"colour = \"blue\";\n"                                  /* 2 */
		"outbound = { transprot = \"smtp\"; };\n"               /* 3 */
		"limits = { max_message_mb = 1; };\n"                   /* 4 */
		"lists = ( { name = \"makers\";\n"                      /* 5 */
		"  leaders = [ \"alice@example.org\" ];\n"              /* 6 */
		"  polcy = \"open\";\n"                                 /* 7 */
		"  digest = { when = \"daily\"; };\n"                   /* 8 */
		"  meetings = { tz = \"UTC\"; };\n"                     /* 9 */
		"  filters = ( { match = \"x\"; action = \"hold\"; "
		"why = \"?\"; } );\n"                                   /* 10 */
		"} );\n");

	expect(&p, 2, "colour");
	expect(&p, 3, "transprot");
	expect(&p, 4, "max_message_mb");
	expect(&p, 7, "polcy");
	expect(&p, 8, "when");
	expect(&p, 9, "tz");
	expect(&p, 10, "why");
	assert_int_equal(p.n, 7);
	conf_problems_free(&p);
}

static void test_wrong_types(void **state)
{
	struct conf_problems p = load_bad(HEAD
		"busy_timeout_ms = \"5000\";\n"                         /* 2 */
		"database = 5;\n"                                       /* 3 */
		"local_part_case_sensitive = 1;\n"                      /* 4 */
		"outbound = { transport = \"smtp\"; port = \"twenty-five\"; "
		"connections = 2.5; };\n"                               /* 5 */
		"limits = \"none\";\n"                                  /* 6 */
		"bans = \"x\";\n"                                       /* 7 */
		"lists = ( { name = \"makers\";\n"                      /* 8 */
		"  leaders = \"alice@example.org\";\n"                  /* 9 */
		"  footer = \"yes\"; digest = [ 1 ];\n"                 /* 10 */
		"  sponsors = [ 1, 2 ];\n"                              /* 11 */
		"  filters = { match = \"x\"; };\n"                     /* 12 */
		"}, \"stray\" );\n");                                   /* 13 */

	expect(&p, 2, "busy_timeout_ms must be an integer");
	expect(&p, 3, "database must be a string");
	expect(&p, 4, "local_part_case_sensitive must be a boolean");
	expect(&p, 5, "port must be an integer, not a string");
	expect(&p, 5, "connections must be an integer");
	expect(&p, 6, "limits must be a group");
	expect(&p, 7, "bans must be an array");
	expect(&p, 9, "leaders must be an array");
	expect(&p, 10, "footer must be a boolean");
	expect(&p, 10, "digest must be a group");
	expect(&p, 11, "sponsors: element 1 must be a string");
	expect(&p, 11, "sponsors: element 2 must be a string");
	expect(&p, 12, "filters must be a list");
	expect(&p, 13, "element 2 must be a group");
	assert_int_equal(p.n, 14);
	conf_problems_free(&p);
}

static void test_int64_accepted(void **state)
{
	struct conf *c = load_ok(HEAD "busy_timeout_ms = 7000L;\n"
				 "limits = { max_headers = 20L; };\n");

	assert_int_equal(c->busy_timeout_ms, 7000);
	assert_int_equal(c->limits.max_headers, 20);
	conf_free(&c);
	expect_one(HEAD "busy_timeout_ms = 9000000000L;\n", 2,
		   "out of range");
}

static void test_enums(void **state)
{
	struct conf_problems p = load_bad(HEAD
		"outbound = { transport = \"carrier-pigeon\";\n"        /* 2 */
		"  verp = \"yes\"; };\n"                                /* 3 */
		LIST_OPEN                                               /* 4 */
		"  policy = \"closed\"; subscription = \"open\";\n"     /* 5 */
		"  from_munging = \"DMARC\"; reply_to = \"nobody\";\n"  /* 6 */
		"  filters = ( { match = \"x\"; action = \"drop\"; } );\n" /* 7 */
		LIST_CLOSE);

	expect(&p, 2, "transport: invalid value \"carrier-pigeon\" "
	       "(expected maildir, smtp, lmtp or sendmail)");
	expect(&p, 3, "verp: invalid value \"yes\"");
	expect(&p, 5, "policy: invalid value \"closed\" (expected open, "
	       "members, moderated or announce)");
	expect(&p, 5, "subscription: invalid value \"open\"");
	expect(&p, 6, "from_munging: invalid value \"DMARC\"");
	expect(&p, 6, "reply_to: invalid value \"nobody\" (expected none, "
	       "list, sender or an address)");
	expect(&p, 7, "action: invalid value \"drop\"");
	assert_int_equal(p.n, 7);
	conf_problems_free(&p);
}

/* The archive group, its defaults, and archive_url as its older spelling. */
static void test_archive(void **state)
{
	struct conf *c = load_ok(HEAD LIST_OPEN LIST_CLOSE);
	struct conf_problems p;

	assert_int_equal(c->lists[0].archive_access, ARCHIVE_MEMBERS);
	assert_int_equal(c->lists[0].archive_answer_kb, 1024);
	assert_int_equal(c->lists[0].archive_results, 10);
	assert_null(c->lists[0].archive_url);
	conf_free(&c);
	c = load_ok(HEAD LIST_OPEN
		    "  archive = { access = \"public\"; url = "
		    "\"https://x.org/a/\"; answer_kb = 64; results = 3; };\n"
		    LIST_CLOSE);
	assert_int_equal(c->lists[0].archive_access, ARCHIVE_PUBLIC);
	assert_string_equal(c->lists[0].archive_url, "https://x.org/a/");
	assert_int_equal(c->lists[0].archive_answer_kb, 64);
	assert_int_equal(c->lists[0].archive_results, 3);
	conf_free(&c);
	p = load_bad(HEAD LIST_OPEN                                /* 2 */
		     "  archive_url = \"https://x.org/old\";\n"     /* 3 */
		     "  archive = { access = \"everyone\";\n"       /* 4 */
		     "    url = \"https://x.org/new\";\n"           /* 5 */
		     "    results = 500; colour = 1; };\n"           /* 6 */
		     LIST_CLOSE);
	expect(&p, 4, "archive.access: invalid value \"everyone\" (expected "
	       "members, public or private)");
	expect(&p, 5, "archive.url: archive_url is set too (line 3)");
	expect(&p, 6, "archive.results: 500 is out of range (1 to 50)");
	expect(&p, 6, "colour");
	assert_int_equal(p.n, 4);
	conf_problems_free(&p);
}

/* The web group: its defaults, and what it gives the lists. */
static void test_web(void **state)
{
	struct conf *c = load_ok(HEAD LIST_OPEN LIST_CLOSE);
	struct conf_problems p;
	char *want;

	assert_null(c->web.url);
	assert_null(c->web.dir);
	assert_string_equal(c->web.listen_host, "127.0.0.1");
	assert_int_equal(c->web.listen_port, 8080);
	assert_true(c->lists[0].archive_hide_addresses);
	assert_null(c->lists[0].unsubscribe_url);
	conf_free(&c);
	c = load_ok(HEAD "web = { url = \"https://x.org/lists\"; dir = \"w\";"
		    " listen = \"[::1]:8081\"; };\n"
		    "lists = ( { name = \"pub\"; leaders = [ \"a@x.org\" ];"
		    " archive = { access = \"public\"; hide_addresses = false;"
		    " }; },\n"
		    " { name = \"own\"; leaders = [ \"a@x.org\" ];"
		    " archive = { access = \"public\"; url = \"https://a.org/\";"
		    " }; unsubscribe_url = \"https://b.org/out/\"; },\n"
		    " { name = \"inner\"; leaders = [ \"a@x.org\" ]; } );\n");
	/* a '/' at the end; dir from the config's folder */
	assert_string_equal(c->web.url, "https://x.org/lists/");
	want = xasprintf("%s/w", tmpdir);
	assert_string_equal(c->web.dir, want);
	free(want);
	assert_string_equal(c->web.listen_host, "::1");
	assert_int_equal(c->web.listen_port, 8081);
	/* a public list is at web.url/NAME/, one-click at web.url/u/ */
	assert_string_equal(c->lists[0].archive_url, "https://x.org/lists/pub/");
	assert_string_equal(c->lists[0].unsubscribe_url,
			    "https://x.org/lists/u/");
	assert_false(c->lists[0].archive_hide_addresses);
	/* a list's own settings win */
	assert_string_equal(c->lists[1].archive_url, "https://a.org/");
	assert_string_equal(c->lists[1].unsubscribe_url, "https://b.org/out/");
	/* a members-only archive has no web address; one-click it has */
	assert_null(c->lists[2].archive_url);
	assert_string_equal(c->lists[2].unsubscribe_url,
			    "https://x.org/lists/u/");
	conf_free(&c);
	p = load_bad(HEAD                                            /* 1 */
		     "web = { url = \"ftp://x.org/\";\n"             /* 2 */
		     "  listen = \"localhost\"; dir = \"\";\n"        /* 3 */
		     "  colour = 1; };\n"                            /* 4 */
		     LIST_OPEN                                       /* 5 */
		     "  archive = { hide_addresses = \"yes\"; };\n"  /* 6 */
		     LIST_CLOSE);
	expect(&p, 2, "web.url: \"ftp://x.org/\" is not an http:// or "
	       "https:// URL");
	expect(&p, 3, "web.listen: \"localhost\" is not HOST:PORT");
	expect(&p, 3, "web.dir must not be empty");
	expect(&p, 4, "colour");
	expect(&p, 6, "hide_addresses");
	assert_int_equal(p.n, 5);
	conf_problems_free(&p);
	p = load_bad(HEAD "web = { url = \"https://x.org/?a=1\"; "
		     "listen = \"127.0.0.1:0\"; };\n" LIST_OPEN LIST_CLOSE);
	expect(&p, 2, "web.url: the address of convene web takes no query");
	expect(&p, 2, "web.listen: \"127.0.0.1:0\" is not HOST:PORT");
	assert_int_equal(p.n, 2);
	conf_problems_free(&p);
}

static void test_listen(void **state)
{
	static const char *const bad[] = {
		"", "8080", ":8080", "host:", "host:0", "host:65536",
		"host:80x", "::1:8080", "[::1]8080", "[::1:8080", "a b:1",
		"[]:1", NULL
	};
	char *host = NULL;
	int port = 0;
	size_t i;

	(void)state;
	for (i = 0; bad[i] != NULL; i++)
		assert_int_equal(conf_parse_hostport(bad[i], &host, &port), -1);
	assert_int_equal(conf_parse_hostport("127.0.0.1:8080", &host, &port), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 8080);
	free(host);
	assert_int_equal(conf_parse_hostport("[::1]:443", &host, &port), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 443);
	free(host);
	assert_int_equal(conf_parse_hostport("localhost:1", &host, &port), 0);
	assert_string_equal(host, "localhost");
	free(host);
}

static void test_regexes(void **state)
{
	struct conf_problems p = load_bad(HEAD
		"bans = [ \"ok\", \"a{2,1}\" ];\n"                      /* 2 */
		LIST_OPEN                                               /* 3 */
		"  filters = ( { header = \"Subject\";\n"               /* 4 */
		"    match = \"(unclosed\"; action = \"discard\"; } );\n" /* 5 */
		"  bans = [\n"                                          /* 6 */
		"    \"[z-a]\" ];\n"                                    /* 7 */
		LIST_CLOSE);

	expect(&p, 2, "bans: invalid regular expression \"a{2,1}\"");
	expect(&p, 5, "match: invalid regular expression \"(unclosed\": "
	       "missing closing parenthesis at offset 9");
	expect(&p, 7, "bans: invalid regular expression \"[z-a]\"");
	assert_int_equal(p.n, 3);
	conf_problems_free(&p);
}

static void test_filter_required(void **state)
{
	struct conf_problems p = load_bad(HEAD LIST_OPEN
		"  filters = (\n"                                       /* 3 */
		"    { action = \"hold\"; },\n"                         /* 4 */
		"    { match = \"x\"; },\n"                             /* 5 */
		"    { header = \"Bad Header:\"; match = \"x\"; "
		"action = \"hold\"; } );\n"                             /* 6 */
		LIST_CLOSE);

	expect(&p, 4, "match is required");
	expect(&p, 5, "action is required");
	expect(&p, 6, "is not a header field name");
	assert_int_equal(p.n, 3);
	conf_problems_free(&p);
}

static void test_lists(void **state)
{
	struct conf_problems p = load_bad(HEAD
		"lists = (\n"                                           /* 2 */
		"  { name = \"makers\"; leaders = [ \"a@example.org\" ]; },\n"
		"  { name = \"Makers\"; leaders = [ \"not an address\" ]; },\n"
		"  { name = \"quiet\"; },\n"                            /* 5 */
		"  { name = \"empty\"; leaders = [ ]; },\n"             /* 6 */
		"  { leaders = [ \"a@example.org\" ]; },\n"             /* 7 */
		"  { name = \"a+b\"; leaders = [ \"a@example.org\" ]; },\n"
		"  { name = \".dot\"; leaders = [ \"a@example.org\" ]; },\n"
		"  { name = \"\"; leaders = [ \"a@example.org\" ]; },\n" /* 10 */
		"  { name = \"ok\"; leaders = [ \"a@example.org\" ];\n" /* 11 */
		"    sponsors = [ \"x@y\", \"@example.org\" ];\n"       /* 12 */
		"    council = [ \"c @example.org\" ];\n"               /* 13 */
		"    reply_to = \"<r@example.org>\";\n"                 /* 14 */
		"    archive_url = \"ftp://example.org/\";\n"           /* 15 */
		"    unsubscribe_url = \"https://example.org/u x\";\n"  /* 16 */
		"    subject_prefix = \"[ok]\\n\";\n"                   /* 17 */
		"    max_message_kb = -1;\n"                            /* 18 */
		"    meetings = { timezone = \"../../etc/passwd\"; };\n" /* 19 */
		"    digest = { schedule = \"hourly\"; max_kb = 0;\n"   /* 20 */
		"      timezone = \"Mars/Olympus_Mons\"; };\n"          /* 21 */
		"  }\n"
		");\n");

	expect(&p, 4, "duplicate list name \"Makers\" (first at line 3)");
	expect(&p, 4, "must be lower case");
	expect(&p, 4, "\"not an address\" is not a valid address");
	expect(&p, 5, "list \"quiet\": a list needs at least one address in "
	       "leaders");
	expect(&p, 6, "list \"empty\": a list needs at least one address");
	expect(&p, 7, "lists[4]: name is required");
	expect(&p, 8, "list \"a+b\": the list name may only hold");
	expect(&p, 9, "list \".dot\": the list name may not begin");
	expect(&p, 10, "the list name is empty");
	expect(&p, 12, "\"@example.org\" is not a valid address");
	expect(&p, 13, "council: \"c @example.org\" is not a valid address");
	expect(&p, 14, "reply_to: invalid value \"<r@example.org>\"");
	expect(&p, 15, "archive_url: \"ftp://example.org/\" is not an");
	expect(&p, 16, "unsubscribe_url");
	expect(&p, 17, "subject_prefix must not contain control characters");
	expect(&p, 18, "max_message_kb: -1 is out of range");
	expect(&p, 19, "timezone");
	expect(&p, 20, "schedule: \"hourly\" is not \"daily HH:MM\" or "
	       "\"weekly DAY HH:MM\"");
	expect(&p, 20, "max_kb: 0 is out of range");
	expect(&p, 21, "timezone: \"Mars/Olympus_Mons\" is not a time zone");
	assert_int_equal(p.n, 20);
	conf_problems_free(&p);
}

static void test_outbound_problems(void **state)
{
	struct conf_problems p = load_bad(HEAD
		"outbound = {\n"                                        /* 2 */
		"  port = 70000;\n"                                     /* 3 */
		"  max_rcpt_per_txn = 0;\n"                             /* 4 */
		"  connections = 0;\n"                                  /* 5 */
		"  auth_user = \"u\";\n"                                /* 6 */
		"  timeout = \"soon\";\n"                               /* 7 */
		"  retry_schedule = [ \"1m\",\n"                        /* 8 */
		"    \"5x\", \"-1s\" ];\n"                              /* 9 */
		"  sendmail = [ \"sendmail\", \"-i\" ];\n"              /* 10 */
		"  host = \"\";\n"                                      /* 11 */
		"};\n");

	expect(&p, 3, "port: 70000 is out of range (1 to 65535)");
	expect(&p, 4, "max_rcpt_per_txn: 0 is out of range");
	expect(&p, 5, "connections: 0 is out of range");
	expect(&p, 6, "auth_user and outbound.auth_password go together");
	expect(&p, 7, "timeout: \"soon\" is not a valid duration");
	expect(&p, 9, "retry_schedule: \"5x\" is not a valid duration");
	expect(&p, 9, "retry_schedule: \"-1s\" is not a valid duration");
	expect(&p, 10, "absolute path");
	expect(&p, 11, "outbound.host");
	assert_int_equal(p.n, 9);
	conf_problems_free(&p);

	expect_one(HEAD "outbound = { port = -1; };\n", 2, "out of range");
	expect_one(HEAD "outbound = { timeout = 0; };\n", 2,
		   "not a positive number of seconds");
	expect_one(HEAD "outbound = { retry_schedule = [ ]; };\n", 2,
		   "must not be empty");
	expect_one(HEAD "outbound = { auth_password = \"p\"; };\n", 2,
		   "set both or neither");
	expect_one(HEAD LIST_OPEN "meetings = { reminders = [ \"1h\", "
		   "\"later\" ]; };\n" LIST_CLOSE, 3, "\"later\"");
}

static void test_relays(void **state)
{
	struct conf *c = load_ok(HEAD
		"outbound = { transport = \"smtp\"; relay_skip = \"2m\";\n"
		"  relays = ( { host = \"10.0.0.1\"; weight = 1; },\n"
		"             { host = \"mx2.example.org\"; port = 2525;"
		" weight = 3; } ); };\n");
	struct conf_problems p;

	assert_int_equal(c->outbound.nrelays, 2);
	assert_string_equal(c->outbound.relays[0].host, "10.0.0.1");
	assert_int_equal(c->outbound.relays[0].port, 25);
	assert_int_equal(c->outbound.relays[0].weight, 1);
	assert_string_equal(c->outbound.relays[1].host, "mx2.example.org");
	assert_int_equal(c->outbound.relays[1].port, 2525);
	assert_int_equal(c->outbound.relays[1].weight, 3);
	assert_int_equal(c->outbound.relay_skip_s, 120);
	conf_free(&c);

	/* Defaults: weight 1, port 24 for LMTP, a minute's skip. */
	c = load_ok(HEAD "outbound = { transport = \"lmtp\";\n"
		    "  relays = ( { host = \"a\"; } ); };\n");
	assert_int_equal(c->outbound.nrelays, 1);
	assert_int_equal(c->outbound.relays[0].port, 24);
	assert_int_equal(c->outbound.relays[0].weight, 1);
	assert_int_equal(c->outbound.relay_skip_s, 60);
	conf_free(&c);
	c = load_ok(HEAD);
	assert_int_equal(c->outbound.nrelays, 0);
	assert_null(c->outbound.relays);
	conf_free(&c);

	p = load_bad(HEAD
		"outbound = { transport = \"smtp\";\n"               /* 2 */
		"  relays = ( { host = \"a\"; weight = 0; },\n"      /* 3 */
		"    { port = 25; },\n"                                /* 4 */
		"    { host = \"b c\"; colour = 1; },\n"             /* 5 */
		"    { host = \"A\"; port = 25; },\n"                /* 6 */
		"    \"d\" );\n"                                     /* 7 */
		"};\n");
	expect(&p, 3, "outbound.relays 1: weight: 0 is out of range "
	       "(1 to 1000)");
	expect(&p, 4, "outbound.relays 2: host is required");
	expect(&p, 5, "outbound.relays 3: host must be a host name");
	expect(&p, 5, "outbound.relays 3: unknown setting \"colour\"");
	expect(&p, 6, "A port 25 is listed twice");
	expect(&p, 7, "element 5 must be a group");
	assert_int_equal(p.n, 6);
	conf_problems_free(&p);

	expect_one(HEAD "outbound = { relays = ( { host = \"a\"; } ); };\n",
		   2, "goes with transport \"smtp\" or \"lmtp\"");
	expect_one(HEAD "outbound = { transport = \"smtp\";\n"
		   " host = \"x\"; relays = ( { host = \"a\"; } ); };\n",
		   3, "replaces outbound.host and outbound.port");
	expect_one(HEAD "outbound = { transport = \"smtp\";\n"
		   " relays = ( ); };\n", 3, "from 1 to 64 relays");
	expect_one(HEAD "outbound = { transport = \"smtp\";\n"
		   " relays = { host = \"a\"; }; };\n", 3,
		   "relays must be a list");
	expect_one(HEAD "outbound = { transport = \"lmtp\"; path = \"s\";\n"
		   " relays = ( { host = \"a\"; } ); };\n", 3,
		   "cannot go with an LMTP socket");
	expect_one(HEAD "outbound = { transport = \"smtp\";\n"
		   " relays = ( { host = \"a\"; } ); relay_skip = \"x\"; };\n",
		   3, "relay_skip: \"x\" is not a valid duration");
}

static void test_limits_problems(void **state)
{
	struct conf_problems p = load_bad(HEAD
		"limits = { max_message_kb = 0;\n"                      /* 2 */
		"  max_header_kb = -5; max_headers = 0;\n"              /* 3 */
		"  max_mime_depth = 100000; max_mime_parts = 0; };\n"); /* 4 */

	expect(&p, 2, "limits.max_message_kb: 0 is out of range");
	expect(&p, 3, "limits.max_header_kb");
	expect(&p, 3, "limits.max_headers");
	expect(&p, 4, "limits.max_mime_depth");
	expect(&p, 4, "limits.max_mime_parts");
	assert_int_equal(p.n, 5);
	conf_problems_free(&p);
}

static void test_top_problems(void **state)
{
	struct conf *c;

	expect_one("database = \"x.db\";\n", 0, "domain is required");
	expect_one("domain = \"not a domain\";\n", 1, "not a domain name");
	expect_one("domain = \"[192.0.2.1]\";\n", 1, "not a domain name");
	expect_one(HEAD "language = \"../../etc\";\n", 2, "language");
	expect_one(HEAD "busy_timeout_ms = -1;\n", 2, "out of range");
	expect_one(HEAD "lists = { name = \"x\"; };\n", 2,
		   "lists must be a list");
	expect_one(HEAD "outbound = { helo = \"bad helo\"; };\n", 2,
		   "helo must be a host name");
	c = load_ok(HEAD "outbound = { helo = \"[192.0.2.1]\"; };\n");
	conf_free(&c);
}

/* The shape of the integration test's broken file, every problem at once. */
static void test_many_problems(void **state)
{
	size_t i;
	struct conf_problems p = load_bad(
		"domain = \"lists.example.org\";\n"
		"database = \"bad.db\";\n"
		"colour = \"blue\";\n"
		"outbound = { transport = \"smtp\"; port = \"twenty-five\"; };\n"
		"lists = (\n"
		"  { name = \"makers\"; leaders = [ \"alice@example.org\" ];\n"
		"    filters = ( { header = \"Subject\"; match = \"(unclosed\";"
		" action = \"discard\"; } ); },\n"
		"  { name = \"Makers\"; leaders = [ \"not an address\" ]; },\n"
		"  { name = \"quiet\"; }\n"
		");\n");

	expect(&p, 3, "colour");
	expect(&p, 4, "port");
	expect(&p, 7, "match");
	expect(&p, 8, "duplicate");
	expect(&p, 8, "not an address");
	expect(&p, 8, "lower case");
	expect(&p, 9, "leaders");
	assert_int_equal(p.n, 7);
	/* Reported in the order of the file. */
	for (i = 1; i < p.n; i++)
		assert_true(p.v[i - 1].line <= p.v[i].line);
	if (getenv("SHOW_PROBLEMS") != NULL)
		print_problems(&p);
	conf_problems_free(&p);
}

static void test_syntax_error(void **state)
{
	char *path = write_file("syntax.conf",
				"domain = \"x.example.org\"\nlists = (\n");
	struct conf *c = NULL;
	struct conf_problems p = { 0 };
	bool unreadable = true;

	assert_int_equal(conf_load(path, &c, &p, &unreadable), -1);
	assert_null(c);
	assert_false(unreadable);
	assert_int_equal(p.n, 1);
	assert_string_equal(p.v[0].file, path);
	assert_int_equal(p.v[0].line, 3);
	assert_non_null(strstr(p.v[0].message, "syntax error"));
	conf_problems_free(&p);
	free(path);

	/* A duplicate key is libconfig's parse error. */
	path = write_file("dup.conf", HEAD "\ndomain = \"y.example.org\";\n");
	assert_int_equal(conf_load(path, &c, &p, &unreadable), -1);
	assert_false(unreadable);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.v[0].line, 3);
	conf_problems_free(&p);
	free(path);

	/* A missing include is a problem of the file, not unreadable. */
	path = write_file("inc.conf", HEAD "@include \"nonexistent.inc\"\n");
	assert_int_equal(conf_load(path, &c, &p, &unreadable), -1);
	assert_false(unreadable);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.v[0].line, 2);
	conf_problems_free(&p);
	free(path);
}

static void test_unreadable(void **state)
{
	char *path = xasprintf("%s/does-not-exist.conf", tmpdir);
	struct conf *c = NULL;
	struct conf_problems p = { 0 };
	bool unreadable = false;

	assert_int_equal(conf_load(path, &c, &p, &unreadable), -1);
	assert_null(c);
	assert_true(unreadable);
	assert_int_equal(p.n, 1);
	assert_string_equal(p.v[0].file, path);
	assert_non_null(strstr(p.v[0].message, "No such file"));
	conf_problems_free(&p);
	free(path);

	/* A folder opens but cannot be read. */
	unreadable = false;
	assert_int_equal(conf_load(tmpdir, &c, &p, &unreadable), -1);
	assert_true(unreadable);
	conf_problems_free(&p);

	/* Without permission (root reads anything, so only as a user). */
	if (geteuid() != 0) {
		path = write_file("secret.conf", HEAD);
		assert_int_equal(chmod(path, 0), 0);
		unreadable = false;
		assert_int_equal(conf_load(path, &c, &p, &unreadable), -1);
		assert_true(unreadable);
		conf_problems_free(&p);
		free(path);
	}
}

static void test_durations(void **state)
{
	static const struct { const char *s; long v; } t[] = {
		{ "90s", 90 }, { "5m", 300 }, { "2h", 7200 },
		{ "5d", 432000 }, { "1w", 604800 }, { "60", 60 },
		{ "0", 0 }, { "0s", 0 }, { "1h30m", 5400 },
		{ "1d12h", 129600 }, { "007s", 7 },
		{ "", -1 }, { "s", -1 }, { "m5", -1 }, { "-5s", -1 },
		{ "5 s", -1 }, { " 5s", -1 }, { "5s ", -1 }, { "5S", -1 },
		{ "5y", -1 }, { "1.5h", -1 }, { "1h30", -1 }, { "5ss", -1 },
		{ "99999999999999999999", -1 },
		{ "9223372036854775807", 9223372036854775807L },
		{ "9223372036854775807s", 9223372036854775807L },
		{ "9223372036854775807m", -1 },
		{ "15250284452471w", 9223372036854460800L },
		{ "15250284452472w", -1 },
		{ "9223372036854775807s1s", -1 },
	};
	size_t i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		long v = conf_parse_duration(t[i].s);

		if (v != t[i].v)
			fail_msg("\"%s\": expected %ld, got %ld", t[i].s,
				 t[i].v, v);
	}
	assert_int_equal(conf_parse_duration(NULL), -1);
}

static void test_default_path(void **state)
{
	assert_string_equal(conf_default_path("/x/y.conf"), "/x/y.conf");
	assert_int_equal(setenv("CONVENE_CONFIG", "/env/convene.conf", 1), 0);
	assert_string_equal(conf_default_path(NULL), "/env/convene.conf");
	assert_string_equal(conf_default_path("/x/y.conf"), "/x/y.conf");
	assert_int_equal(unsetenv("CONVENE_CONFIG"), 0);
	assert_string_equal(conf_default_path(NULL),
			    SYSCONFDIR "/convene/convene.conf");
}

static void test_free_null(void **state)
{
	struct conf *c = NULL;
	struct conf_problems p = { 0 };

	conf_free(&c);
	conf_free(NULL);
	conf_problems_free(&p);
	conf_problems_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example_validates),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_lmtp_defaults),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_relative_paths),
		cmocka_unit_test(test_include),
		cmocka_unit_test(test_unknown_keys),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_int64_accepted),
		cmocka_unit_test(test_enums),
		cmocka_unit_test(test_archive),
		cmocka_unit_test(test_web),
		cmocka_unit_test(test_listen),
		cmocka_unit_test(test_regexes),
		cmocka_unit_test(test_filter_required),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_outbound_problems),
		cmocka_unit_test(test_relays),
		cmocka_unit_test(test_limits_problems),
		cmocka_unit_test(test_top_problems),
		cmocka_unit_test(test_many_problems),
		cmocka_unit_test(test_syntax_error),
		cmocka_unit_test(test_unreadable),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_default_path),
		cmocka_unit_test(test_free_null),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
