/* test-mta - the MTA wiring: what is printed, and the check against what
 * postconf/postmap and exim -bP/-bt/-bh report (here: canned answers) */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/conf.h"
#include "base/mta.h"
#include "base/xalloc.h"

/* A fake MTA: answers by the command line, joined with spaces. */
struct answer {
	const char *cmdline;    /* exact, or a prefix ending in '*' */
	int status;
	const char *out;
};

struct fake {
	const struct answer *a;
	bool no_tools;          /* nothing is installed */
	struct buf log;         /* every command line run, one a line */
	struct buf input;       /* the last standard input given */
};

static int fake_run(void *ctx, char *const argv[], const char *input,
		    struct buf *out, int *exit_r)
{
	struct fake *f = ctx;
	struct buf line = BUF_INIT;
	size_t i;

	if (f->no_tools)
		return -1;
	for (i = 0; argv[i] != NULL; i++)
		buf_printf(&line, "%s%s", i ? " " : "", argv[i]);
	buf_printf(&f->log, "%s\n", buf_cstr(&line));
	buf_reset(&f->input);
	if (input != NULL)
		buf_puts(&f->input, input);
	for (i = 0; f->a[i].cmdline != NULL; i++) {
		const char *c = f->a[i].cmdline;
		size_t n = strlen(c);

		if ((c[n - 1] == '*' &&
		     strncmp(buf_cstr(&line), c, n - 1) == 0) ||
		    strcmp(buf_cstr(&line), c) == 0) {
			buf_puts(out, f->a[i].out);
			*exit_r = f->a[i].status;
			buf_free(&line);
			return 0;
		}
	}
	/* Unknown: like a tool that has nothing to say. */
	if (strncmp(buf_cstr(&line), "exim4 ", 6) == 0) {
		buf_free(&line);
		return -1;      /* Debian's name missing: try "exim" */
	}
	*exit_r = 1;
	buf_free(&line);
	return 0;
}

static struct conf conf_with_list(void)
{
	static struct conf_list l = { .name = "makers" };
	struct conf c;

	memset(&c, 0, sizeof c);
	c.domain = "lists.example.org";
	c.lists = &l;
	c.nlists = 1;
	return c;
}

static void wiring(struct mta_wiring *w, enum mta_kind k, const char *config)
{
	struct conf c = conf_with_list();
	char *err = NULL;

	assert_int_equal(mta_wiring_init(w, k, &c, "/usr/bin/convene", config,
					 "convene", &err), 0);
}

#define ARGV "/usr/bin/convene receive --recipient ${recipient}"
#define MASTER_OK \
	"smtp       inet  n       -       y       -       -       smtpd\n" \
	"convene    unix  -       n       n       -       -       pipe " \
	"flags=DRhu user=convene argv=" ARGV "\n"
#define NOMINAL(master, relay, tmaps, tstatus, tlookup, limit) \
	{ "postconf -M", 0, master }, \
	{ "postconf -xh relay_domains", 0, relay }, \
	{ "postconf -xh transport_maps", 0, tmaps }, \
	{ "postmap -q lists.example.org inline:{ lists.example.org=convene: }", \
	  tstatus, tlookup }, \
	{ "postconf -n", 0, "compatibility_level = 3.6\n" limit }

static int check(const struct mta_wiring *w, const struct answer *a,
		 const char *mta_config, struct buf *report,
		 struct fake *f_r)
{
	struct fake f = { .a = a };
	char *err = NULL;
	int n;

	n = mta_check(w, mta_config, fake_run, &f, report, &err);
	if (n < 0) {
		buf_printf(report, "error: %s\n", err);
		free(err);
	}
	if (f_r != NULL) {
		*f_r = f;
	} else {
		buf_free(&f.log);
		buf_free(&f.input);
	}
	return n;
}

static void test_postfix_print(void **state)
{
	struct mta_wiring w;
	struct buf b = BUF_INIT;
	char *err = NULL;
	struct conf c = conf_with_list();

	wiring(&w, MTA_POSTFIX, NULL);
	mta_print(&w, &b);
	assert_non_null(strstr(buf_cstr(&b),
		"\nconvene   unix  -       n       n       -       -       pipe\n"
		"  flags=DRhu user=convene argv=" ARGV "\n"));
	assert_non_null(strstr(buf_cstr(&b),
		"\nrelay_domains = lists.example.org\n"
		"transport_maps = inline:{ lists.example.org=convene: }\n"
		"convene_destination_recipient_limit = 1\n"));
	mta_wiring_deinit(&w);
	buf_free(&b);

	/* A config that is not the default is named with -c; the user is
	 * the one asked for. */
	assert_int_equal(mta_wiring_init(&w, MTA_POSTFIX, &c,
					 "/opt/cv/bin/convene",
					 "/srv/lists/convene.conf", "lists",
					 &err), 0);
	mta_print(&w, &b);
	assert_non_null(strstr(buf_cstr(&b), "  flags=DRhu user=lists "
		"argv=/opt/cv/bin/convene -c /srv/lists/convene.conf receive "
		"--recipient ${recipient}\n"));
	mta_wiring_deinit(&w);
	buf_free(&b);

	/* What the MTA would split is refused. */
	assert_int_equal(mta_wiring_init(&w, MTA_POSTFIX, &c,
					 "/usr/bin/convene", "/my lists/c.conf",
					 "convene", &err), -1);
	assert_non_null(strstr(err, "/my lists/c.conf"));
	free(err);
	assert_int_equal(mta_wiring_init(&w, MTA_EXIM, &c, "/usr/bin/convene",
					 NULL, "a b", &err), -1);
	assert_non_null(strstr(err, "not a user name"));
	free(err);
}

static void test_exim_print(void **state)
{
	struct mta_wiring w;
	struct buf b = BUF_INIT;

	wiring(&w, MTA_EXIM, "/etc/lists.conf");
	mta_print(&w, &b);
	assert_non_null(strstr(buf_cstr(&b),
		"\nconvene_router:\n  driver = accept\n"
		"  domains = lists.example.org\n"
		"  transport = convene_transport\n"));
	assert_non_null(strstr(buf_cstr(&b),
		"\nconvene_transport:\n  driver = pipe\n"
		"  command = /usr/bin/convene -c /etc/lists.conf receive\n"
		"  user = convene\n  return_path_add\n  return_fail_output\n"
		"  log_output\n  message_prefix =\n  message_suffix =\n"));
	assert_non_null(strstr(buf_cstr(&b), "dc_relay_domains"));
	mta_wiring_deinit(&w);
	buf_free(&b);
}

static void test_postfix_all_there(void **state)
{
	const struct answer a[] = {
		NOMINAL(MASTER_OK, "other.example, lists.example.org",
			"inline:{ lists.example.org=convene: }", 0, "convene:",
			"convene_destination_recipient_limit = 1\n"),
		{ NULL, 0, NULL },
	};
	struct mta_wiring w;
	struct buf r = BUF_INIT;

	wiring(&w, MTA_POSTFIX, NULL);
	assert_int_equal(check(&w, a, NULL, &r, NULL), 0);
	assert_null(strstr(buf_cstr(&r), "missing"));
	assert_non_null(strstr(buf_cstr(&r), "ok: master.cf: service convene "
			       "runs " ARGV "\n"));
	assert_non_null(strstr(buf_cstr(&r), "ok: main.cf: relay_domains has "
			       "lists.example.org\n"));
	assert_non_null(strstr(buf_cstr(&r), "ok: main.cf: transport_maps "
			       "sends lists.example.org to convene:\n"));
	assert_non_null(strstr(buf_cstr(&r), "ok: main.cf: "
			       "convene_destination_recipient_limit = 1\n"));
	mta_wiring_deinit(&w);
	buf_free(&r);
}

/* Tables: relay_domains and transport_maps may be files an admin keeps;
 * the first transport table that knows the domain decides. postconf and
 * postmap get -c with a config folder. */
static void test_postfix_tables(void **state)
{
	const struct answer a[] = {
		{ "postconf -c /pf -M", 0, MASTER_OK },
		{ "postconf -c /pf -xh relay_domains", 0,
		  "hash:/etc/postfix/relay" },
		{ "postmap -c /pf -q lists.example.org hash:/etc/postfix/relay",
		  0, "OK\n" },
		{ "postconf -c /pf -xh transport_maps", 0,
		  "hash:/etc/postfix/empty, hash:/etc/postfix/transport" },
		{ "postmap -c /pf -q lists.example.org hash:/etc/postfix/empty",
		  1, "" },
		{ "postmap -c /pf -q lists.example.org "
		  "hash:/etc/postfix/transport", 0, "convene:\n" },
		{ "postconf -c /pf -n", 0,
		  "convene_destination_recipient_limit = 1\n" },
		{ NULL, 0, NULL },
	};
	struct mta_wiring w;
	struct buf r = BUF_INIT;

	wiring(&w, MTA_POSTFIX, NULL);
	assert_int_equal(check(&w, a, "/pf", &r, NULL), 0);
	mta_wiring_deinit(&w);
	buf_free(&r);
}

/* Each part missing is named, once. */
static void test_postfix_missing(void **state)
{
	const struct answer none[] = {
		NOMINAL("smtp inet n - y - - smtpd\n", "", "", 1, "", ""),
		{ NULL, 0, NULL },
	};
	const struct answer wrong[] = {
		NOMINAL("convene unix - - y - - pipe flags=Rq user=nobody "
			"argv=/usr/local/bin/convene receive\n",
			"lists.example.org",
			"hash:/etc/postfix/transport", 1, "",
			"convene_destination_recipient_limit = 5\n"),
		{ "postmap -q lists.example.org hash:/etc/postfix/transport",
		  0, "listpipe:\n" },
		{ NULL, 0, NULL },
	};
	struct mta_wiring w;
	struct buf r = BUF_INIT;

	wiring(&w, MTA_POSTFIX, NULL);
	assert_int_equal(check(&w, none, NULL, &r, NULL), 4);
	assert_non_null(strstr(buf_cstr(&r), "missing: master.cf: no service "
			       "\"convene unix ... pipe\"\n"));
	assert_non_null(strstr(buf_cstr(&r), "missing: main.cf: relay_domains "
			       "= lists.example.org\n"));
	assert_non_null(strstr(buf_cstr(&r), "missing: main.cf: transport_maps"
			       " = inline:{ lists.example.org=convene: }\n"));
	assert_non_null(strstr(buf_cstr(&r), "missing: main.cf: "
			       "convene_destination_recipient_limit = 1\n"));
	buf_reset(&r);

	assert_int_equal(check(&w, wrong, NULL, &r, NULL), 9);
	assert_non_null(strstr(buf_cstr(&r), "must not be unprivileged"));
	assert_non_null(strstr(buf_cstr(&r), "must not run chrooted"));
	assert_non_null(strstr(buf_cstr(&r), "flags lack D\n"));
	assert_non_null(strstr(buf_cstr(&r), "flags lack h\n"));
	assert_non_null(strstr(buf_cstr(&r), "flags lack u\n"));
	assert_null(strstr(buf_cstr(&r), "flags lack R"));
	assert_non_null(strstr(buf_cstr(&r), "user=convene (not user=nobody)"));
	assert_non_null(strstr(buf_cstr(&r), "missing: master.cf: service "
			       "convene: argv=" ARGV "\n"));
	assert_non_null(strstr(buf_cstr(&r), "sends lists.example.org to "
			       "listpipe:, not to convene:"));
	assert_non_null(strstr(buf_cstr(&r), "recipient_limit = 1 (not 5)"));
	mta_wiring_deinit(&w);
	buf_free(&r);
}

static void test_postfix_not_installed(void **state)
{
	struct mta_wiring w;
	struct buf r = BUF_INIT;
	struct fake f = { .no_tools = true };
	char *err = NULL;

	wiring(&w, MTA_POSTFIX, NULL);
	assert_int_equal(mta_check(&w, NULL, fake_run, &f, &r, &err), -1);
	assert_non_null(strstr(err, "cannot run postconf -M"));
	free(err);
	mta_wiring_deinit(&w);
	buf_free(&r);
}

#define EXIM_ROUTER_OK "address_data = \ndomains = lists.example.org\n" \
	"driver = accept\nno_unseen\ntransport = convene_transport\n"
#define EXIM_TRANSPORT_OK "driver = pipe\ngroup = nogroup\n" \
	"return_path_add\nuser = convene\ncommand = /usr/bin/convene " \
	"receive\nno_log_fail_output\nlog_output\nmax_output = 20K\n" \
	"message_prefix = \nmessage_suffix = \nreturn_fail_output\n"
#define EXIM_BT_OK "makers@lists.example.org\n  router = convene_router, " \
	"transport = convene_transport\n"
#define EXIM_BH(rcpt) "\n**** SMTP testing session\n" \
	"220 mx ESMTP Exim 4.96\nLOG: something\n250-mx Hello\n" \
	"250-SIZE 52428800\n250 HELP\n250 OK\n" rcpt "\n221 mx closing\n"

static void test_exim(void **state)
{
	const struct answer good[] = {
		{ "exim -C /e.conf -bV", 0, "Exim version 4.96\n" },
		{ "exim -C /e.conf -bP router convene_router", 0,
		  EXIM_ROUTER_OK },
		{ "exim -C /e.conf -bP transport convene_transport", 0,
		  EXIM_TRANSPORT_OK },
		{ "exim -C /e.conf -bt makers@lists.example.org", 0,
		  EXIM_BT_OK },
		{ "exim -C /e.conf -bh 192.0.2.1", 0,
		  EXIM_BH("250 Accepted") },
		{ NULL, 0, NULL },
	};
	const struct answer bad[] = {
		{ "exim4 -bV", 0, "Exim version 4.96\n" },
		{ "exim4 -bP router convene_router", 1,
		  "router convene_router not found\n" },
		{ "exim4 -bP transport convene_transport", 0,
		  "driver = pipe\nuser = nobody\ncommand = /usr/bin/convene "
		  "receive --recipient $local_part@$domain\n"
		  "message_prefix = From ${sender_address}\n"
		  "no_log_output\nmessage_suffix = \n" },
		{ "exim4 -bt makers@lists.example.org", 0,
		  "makers@lists.example.org\n  router = dnslookup, "
		  "transport = remote_smtp\n" },
		{ "exim4 -bh 192.0.2.1", 0,
		  EXIM_BH("550 relay not permitted") },
		{ NULL, 0, NULL },
	};
	struct mta_wiring w;
	struct buf r = BUF_INIT;
	struct fake f;

	wiring(&w, MTA_EXIM, NULL);
	assert_int_equal(check(&w, good, "/e.conf", &r, &f), 0);
	assert_non_null(strstr(buf_cstr(&r), "ok: router convene_router and "
			       "transport convene_transport run "
			       "/usr/bin/convene receive as convene\n"));
	assert_non_null(strstr(buf_cstr(&r), "ok: Exim accepts mail for "
			       "lists.example.org from other hosts\n"));
	/* exim4 (Debian's name) was tried first, then exim. */
	assert_non_null(strstr(buf_cstr(&f.log),
			       "exim4 -C /e.conf -bV\n"
			       "exim -C /e.conf -bV\n"));
	/* The test session: a bounce (null sender) to a list address. */
	assert_string_equal(buf_cstr(&f.input),
			    "EHLO mta-check.invalid\r\nMAIL FROM:<>\r\n"
			    "RCPT TO:<makers@lists.example.org>\r\nQUIT\r\n");
	buf_free(&f.log);
	buf_free(&f.input);
	buf_reset(&r);

	assert_int_equal(check(&w, bad, NULL, &r, NULL), 9);
	assert_non_null(strstr(buf_cstr(&r), "missing: router convene_router "
			       "(driver = accept, domains = lists.example.org, "
			       "transport = convene_transport)\n"));
	assert_non_null(strstr(buf_cstr(&r), "missing: transport "
			       "convene_transport: command = /usr/bin/convene "
			       "receive\n"));
	assert_non_null(strstr(buf_cstr(&r), "transport convene_transport: "
			       "user = convene\n"));
	assert_non_null(strstr(buf_cstr(&r), "transport convene_transport: "
			       "return_path_add\n"));
	assert_non_null(strstr(buf_cstr(&r), "transport convene_transport: "
			       "log_output\n"));
	assert_non_null(strstr(buf_cstr(&r), "transport convene_transport: "
			       "message_prefix =\n"));
	assert_null(strstr(buf_cstr(&r), "message_suffix"));
	assert_non_null(strstr(buf_cstr(&r), "exim -bt makers@lists.example.org"
			       " does not reach convene_router"));
	assert_non_null(strstr(buf_cstr(&r), "(550): add lists.example.org to "
			       "relay_to_domains"));
	buf_reset(&r);

	/* A config Exim cannot load, and no Exim at all: errors. */
	{
		const struct answer broken[] = {
			{ "exim4 -bV", 1, "" },
			{ NULL, 0, NULL },
		};
		struct fake nothing = { .no_tools = true };
		char *err = NULL;

		assert_int_equal(check(&w, broken, NULL, &r, NULL), -1);
		assert_non_null(strstr(buf_cstr(&r), "error: exim -bV fails"));
		assert_int_equal(mta_check(&w, NULL, fake_run, &nothing, &r,
					   &err), -1);
		assert_non_null(strstr(err, "cannot run exim4 or exim"));
		free(err);
	}
	mta_wiring_deinit(&w);
	buf_free(&r);
}

/* The LMTP wiring: w made from a listener address. */
static void lmtp_wiring(struct mta_wiring *w, enum mta_kind k,
			const char *listen)
{
	struct conf c = conf_with_list();
	struct conf_listen l;
	const char *lerr = NULL;
	char *err = NULL;

	wiring(w, k, NULL);
	assert_int_equal(conf_parse_listen(listen, "/etc/convene", &l, &lerr),
			 0);
	assert_int_equal(mta_wiring_lmtp(w, &c, &l, &err), 0);
	conf_listen_free(&l);
}

static void test_lmtp_print(void **state)
{
	struct mta_wiring w;
	struct buf b = BUF_INIT;

	/* A socket below Postfix's queue folder is named relative to it. */
	lmtp_wiring(&w, MTA_POSTFIX,
		    "unix:/var/spool/postfix/private/convene-lmtp");
	mta_print(&w, &b);
	assert_non_null(strstr(buf_cstr(&b),
		"\nrelay_domains = lists.example.org\n"
		"transport_maps = inline:{ lists.example.org="
		"lmtp:unix:private/convene-lmtp }\n"));
	assert_null(strstr(buf_cstr(&b), "pipe"));
	assert_null(strstr(buf_cstr(&b), "recipient_limit"));
	assert_null(strstr(buf_cstr(&b), "chrooted"));
	mta_wiring_deinit(&w);
	buf_free(&b);

	/* Elsewhere: the whole path, and what to do where lmtp(8) is
	 * chrooted. */
	lmtp_wiring(&w, MTA_POSTFIX, "unix:/run/convene/lmtp.sock");
	mta_print(&w, &b);
	assert_non_null(strstr(buf_cstr(&b), "transport_maps = inline:{ "
		"lists.example.org=lmtp:unix:/run/convene/lmtp.sock }\n"));
	assert_non_null(strstr(buf_cstr(&b), "#   lmtp = { listen = \"unix:"
		"/var/spool/postfix/private/convene-lmtp\"; };\n"));
	mta_wiring_deinit(&w);
	buf_free(&b);

	lmtp_wiring(&w, MTA_POSTFIX, "127.0.0.1:8024");
	mta_print(&w, &b);
	assert_non_null(strstr(buf_cstr(&b), "inline:{ lists.example.org="
			       "lmtp:inet:127.0.0.1:8024 }\n"));
	mta_wiring_deinit(&w);
	buf_free(&b);

	lmtp_wiring(&w, MTA_EXIM, "unix:lmtp.sock");
	mta_print(&w, &b);
	assert_non_null(strstr(buf_cstr(&b), "  transport = convene_lmtp\n"));
	assert_non_null(strstr(buf_cstr(&b), "\nconvene_lmtp:\n"
		"  driver = lmtp\n  socket = /etc/convene/lmtp.sock\n"
		"  batch_max = 50\n"));
	assert_null(strstr(buf_cstr(&b), "pipe"));
	mta_wiring_deinit(&w);
	buf_free(&b);

	lmtp_wiring(&w, MTA_EXIM, "[::1]:8024");
	mta_print(&w, &b);
	assert_non_null(strstr(buf_cstr(&b), "\nconvene_lmtp:\n"
		"  driver = smtp\n  protocol = lmtp\n  hosts = ::1\n"
		"  port = 8024\n  hosts_override\n  allow_localhost\n"));
	mta_wiring_deinit(&w);
	buf_free(&b);
}

#define LMTP_CHROOT "lmtp unix - - y - - lmtp\n"
#define LMTP_PLAIN "lmtp unix - - n - - lmtp\n"

static void test_lmtp_postfix_check(void **state)
{
	const struct answer chroot_ok[] = {
		{ "postconf -M", 0, "smtp inet n - y - - smtpd\n" LMTP_CHROOT },
		{ "postconf -xh queue_directory", 0, "/var/spool/postfix\n" },
		{ "postconf -xh relay_domains", 0, "lists.example.org" },
		{ "postconf -xh transport_maps", 0, "hash:/etc/postfix/t" },
		{ "postmap -q lists.example.org hash:/etc/postfix/t", 0,
		  "lmtp:unix:private/convene-lmtp\n" },
		{ NULL, 0, NULL },
	};
	const struct answer chroot_far[] = {
		{ "postconf -M", 0, LMTP_CHROOT },
		{ "postconf -xh queue_directory", 0, "/var/spool/postfix\n" },
		{ "postconf -xh relay_domains", 0, "lists.example.org" },
		{ "postconf -xh transport_maps", 0, "hash:/etc/postfix/t" },
		{ "postmap -q lists.example.org hash:/etc/postfix/t", 0,
		  "lmtp:unix:/run/convene/lmtp.sock\n" },
		{ NULL, 0, NULL },
	};
	const struct answer plain_abs[] = {
		{ "postconf -M", 0, LMTP_PLAIN },
		{ "postconf -xh queue_directory", 0, "/var/spool/postfix\n" },
		{ "postconf -xh relay_domains", 0, "lists.example.org" },
		{ "postconf -xh transport_maps", 0, "hash:/etc/postfix/t" },
		{ "postmap -q lists.example.org hash:/etc/postfix/t", 0,
		  "lmtp:unix:/run/convene/lmtp.sock\n" },
		{ NULL, 0, NULL },
	};
	const struct answer pipe_still[] = {
		{ "postconf -M", 0, "smtp inet n - y - - smtpd\n" },
		{ "postconf -xh relay_domains", 0, "" },
		{ "postconf -xh transport_maps", 0, "hash:/etc/postfix/t" },
		{ "postmap -q lists.example.org hash:/etc/postfix/t", 0,
		  "convene:\n" },
		{ NULL, 0, NULL },
	};
	struct mta_wiring w;
	struct buf r = BUF_INIT;

	lmtp_wiring(&w, MTA_POSTFIX,
		    "unix:/var/spool/postfix/private/convene-lmtp");
	assert_int_equal(check(&w, chroot_ok, NULL, &r, NULL), 0);
	assert_non_null(strstr(buf_cstr(&r), "ok: master.cf: service lmtp "
			       "runs lmtp(8), chrooted\n"));
	assert_non_null(strstr(buf_cstr(&r), "ok: main.cf: transport_maps "
			       "sends lists.example.org to "
			       "lmtp:unix:private/convene-lmtp\n"));
	assert_null(strstr(buf_cstr(&r), "recipient_limit"));
	mta_wiring_deinit(&w);
	buf_reset(&r);

	/* A chrooted lmtp(8) cannot reach a socket outside its queue. */
	lmtp_wiring(&w, MTA_POSTFIX, "unix:/run/convene/lmtp.sock");
	assert_int_equal(check(&w, chroot_far, NULL, &r, NULL), 1);
	assert_non_null(strstr(buf_cstr(&r), "missing: lmtp(8) runs chrooted "
			       "in /var/spool/postfix and cannot reach "
			       "/run/convene/lmtp.sock"));
	buf_reset(&r);
	/* Unchrooted it can. */
	assert_int_equal(check(&w, plain_abs, NULL, &r, NULL), 0);
	buf_reset(&r);
	/* Still wired to the pipe: each LMTP part is named. */
	assert_int_equal(check(&w, pipe_still, NULL, &r, NULL), 3);
	assert_non_null(strstr(buf_cstr(&r), "missing: master.cf: no service "
			       "\"lmtp unix - - n - - lmtp\"\n"));
	assert_non_null(strstr(buf_cstr(&r), "sends lists.example.org to "
			       "convene:, not to lmtp:unix:/run/convene/"
			       "lmtp.sock (transport_maps = inline:{ "
			       "lists.example.org=lmtp:unix:/run/convene/"
			       "lmtp.sock })\n"));
	mta_wiring_deinit(&w);
	buf_free(&r);
}

static void test_lmtp_exim_check(void **state)
{
	const struct answer good[] = {
		{ "exim -bV", 0, "Exim version 4.96\n" },
		{ "exim -bP router convene_router", 0,
		  "driver = accept\ndomains = lists.example.org\n"
		  "transport = convene_lmtp\n" },
		{ "exim -bP transport convene_lmtp", 0,
		  "driver = lmtp\nsocket = /etc/convene/lmtp.sock\n"
		  "batch_max = 50\n" },
		{ "exim -bt makers@lists.example.org", 0,
		  "makers@lists.example.org\n  router = convene_router, "
		  "transport = convene_lmtp\n" },
		{ "exim -bh 192.0.2.1", 0, EXIM_BH("250 Accepted") },
		{ NULL, 0, NULL },
	};
	const struct answer pipe_still[] = {
		{ "exim -bV", 0, "Exim version 4.96\n" },
		{ "exim -bP router convene_router", 0, EXIM_ROUTER_OK },
		{ "exim -bt makers@lists.example.org", 0, EXIM_BT_OK },
		{ "exim -bh 192.0.2.1", 0, EXIM_BH("250 Accepted") },
		{ NULL, 0, NULL },
	};
	struct mta_wiring w;
	struct buf r = BUF_INIT;

	lmtp_wiring(&w, MTA_EXIM, "unix:lmtp.sock");
	assert_int_equal(check(&w, good, NULL, &r, NULL), 0);
	assert_non_null(strstr(buf_cstr(&r), "ok: router convene_router and "
			       "transport convene_lmtp speak LMTP to "
			       "/etc/convene/lmtp.sock\n"));
	buf_reset(&r);
	assert_int_equal(check(&w, pipe_still, NULL, &r, NULL), 3);
	assert_non_null(strstr(buf_cstr(&r), "missing: router convene_router: "
			       "transport = convene_lmtp\n"));
	assert_non_null(strstr(buf_cstr(&r), "missing: transport convene_lmtp "
			       "(driver = lmtp, socket = "
			       "/etc/convene/lmtp.sock)\n"));
	assert_non_null(strstr(buf_cstr(&r), "does not reach convene_router"));
	mta_wiring_deinit(&w);
	buf_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lmtp_print),
		cmocka_unit_test(test_lmtp_postfix_check),
		cmocka_unit_test(test_lmtp_exim_check),
		cmocka_unit_test(test_postfix_print),
		cmocka_unit_test(test_exim_print),
		cmocka_unit_test(test_postfix_all_there),
		cmocka_unit_test(test_postfix_tables),
		cmocka_unit_test(test_postfix_missing),
		cmocka_unit_test(test_postfix_not_installed),
		cmocka_unit_test(test_exim),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
