/* test-transport - the maildir, sendmail, SMTP and LMTP transports, the last
 * two against a real Postfix smtp-sink on 127.0.0.1 (and a scripted server
 * for the replies smtp-sink cannot give) */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "delivery/transport.h"
#include "base/buf.h"
#include "base/conf.h"
#include "base/util.h"
#include "base/xalloc.h"

#define DOMAIN "lists.example.org"
#define FROM "makers-bounces@lists.example.org"

struct fx {
	char dir[64];           /* scratch folder, removed by the teardown */
	struct conf c;
	char *argv_store[3];    /* outbound.sendmail_argv */
	struct transport *t;
	pid_t sink;             /* the smtp-sink, 0 when none runs */
	int port;
	char *sink_dir, *dump, *vlog, *sock;
	int nfds;               /* descriptors open before the test */
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

/* Open descriptors, to catch a transport that leaks one. */
static int count_fds(void)
{
	int fd, n = 0;

	for (fd = 0; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			n++;
	return n;
}

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof *f);

	snprintf(f->dir, sizeof f->dir, "/tmp/convene-transport.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	/* smtp-sink runs as nobody and must reach its folder in here. */
	chmod(f->dir, 0755);
	f->c.domain = DOMAIN;
	f->c.outbound.timeout_s = 10;
	f->c.outbound.max_rcpt_per_txn = 500;
	f->c.outbound.connections = 1;
	f->nfds = count_fds();
	*state = f;
	return 0;
}

static void sink_stop(struct fx *f)
{
	if (f->sink > 0) {
		kill(f->sink, SIGTERM);
		waitpid(f->sink, NULL, 0);
		f->sink = 0;
	}
}

static int teardown(void **state)
{
	struct fx *f = *state;
	int leaked;

	transport_close(&f->t);
	sink_stop(f);
	leaked = count_fds() - f->nfds;
	nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f->c.outbound.path);
	free(f->sink_dir);
	free(f->dump);
	free(f->vlog);
	free(f->sock);
	free(f);
	if (leaked != 0)
		fprintf(stderr, "%d descriptor(s) left open\n", leaked);
	return leaked != 0;
}

static char *slurp(const char *path)
{
	struct buf b = BUF_INIT;

	if (util_read_file(path, 64 << 20, &b) < 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b, NULL);
}

static size_t count_lines_with(const char *text, const char *needle)
{
	size_t n = 0;
	const char *p = text;

	while (p != NULL && (p = strstr(p, needle)) != NULL) {
		n++;
		p += strlen(needle);
	}
	return n;
}

static struct transport *open_ok(struct fx *f)
{
	char *err = NULL;
	struct transport *t = transport_open(&f->c, &err);

	if (t == NULL)
		fail_msg("transport_open: %s", err ? err : "?");
	return t;
}

/* Sends msg from FROM to the n addresses; codes_r gets each code. */
static enum transport_result send_to(struct fx *f, const char *from,
				     const char *const *addrs, size_t n,
				     const char *msg, int *codes_r,
				     char **err_r)
{
	struct transport_rcpt *r = xcalloc(n ? n : 1, sizeof *r);
	enum transport_result res;
	size_t i;

	for (i = 0; i < n; i++) {
		r[i].addr = addrs[i];
		r[i].code = -1;
	}
	*err_r = NULL;
	res = transport_send(f->t, from, r, n, msg, strlen(msg), err_r);
	for (i = 0; i < n; i++)
		codes_r[i] = r[i].code;
	free(r);
	return res;
}

/* ---- maildir ---- */

static const char *const MSG =
	"From: Alice <alice@example.org>\n"
	"To: makers@lists.example.org\n"
	"Subject: Saturday soldering\n"
	"Message-ID: <m1@example.org>\n"
	"\n"
	"Bring a soldering iron.\n"
	".\n"
	"..two dots\n"
	"-- \n"
	"Alice\n";

static void maildir_conf(struct fx *f, const char *sub)
{
	f->c.outbound.transport = TRANSPORT_MAILDIR;
	free(f->c.outbound.path);
	f->c.outbound.path = xasprintf("%s/%s", f->dir, sub);
}

/* The names in DIR (not . and ..), sorted; count in *n_r. */
static char **list_dir(const char *dir, size_t *n_r)
{
	char *cmd = xasprintf("ls -1 '%s' 2>/dev/null", dir);
	FILE *p = popen(cmd, "r");
	char **v = NULL, line[512];
	size_t n = 0;

	free(cmd);
	assert_non_null(p);
	while (fgets(line, sizeof line, p) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		v = xreallocarray(v, n + 1, sizeof *v);
		v[n++] = xstrdup(line);
	}
	pclose(p);
	*n_r = n;
	return v;
}

static void free_list(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void test_maildir_writes_one_file(void **state)
{
	struct fx *f = *state;
	const char *to[] = { "bob@example.net", "bad\r\nRCPT TO:<x@y>",
			     "carol@example.com" };
	int codes[3];
	char *err, *path, *got, *want, *d;
	size_t n;
	char **names;
	struct stat st;

	maildir_conf(f, "spool/outbox");   /* parents are made too */
	f->t = open_ok(f);
	assert_int_equal(send_to(f, FROM, to, 3, MSG, codes, &err),
			 TRANSPORT_OK);
	assert_null(err);
	assert_int_equal(codes[0], 250);
	assert_int_equal(codes[1], 553);   /* cannot go into an envelope */
	assert_int_equal(codes[2], 250);

	static const char *const sub[] = { "tmp", "new", "cur" };
	for (size_t i = 0; i < 3; i++) {
		d = xasprintf("%s/%s", f->c.outbound.path, sub[i]);
		assert_int_equal(stat(d, &st), 0);
		assert_true(S_ISDIR(st.st_mode));
		assert_int_equal(st.st_mode & 0777, 0750);
		free(d);
	}
	assert_int_equal(stat(f->c.outbound.path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0750);

	d = xasprintf("%s/tmp", f->c.outbound.path);
	names = list_dir(d, &n);
	assert_int_equal(n, 0);
	free_list(names, n);
	free(d);

	d = xasprintf("%s/new", f->c.outbound.path);
	names = list_dir(d, &n);
	assert_int_equal(n, 1);
	/* time.pid_counter.random.host */
	assert_non_null(strchr(names[0], '_'));
	assert_true(count_lines_with(names[0], ".") >= 3);
	assert_null(strchr(names[0], '/'));
	assert_null(strchr(names[0], ':'));
	path = xasprintf("%s/%s", d, names[0]);
	got = slurp(path);
	want = xasprintf("X-Convene-Envelope-From: <%s>\n"
			 "X-Convene-Envelope-To: <bob@example.net>\n"
			 "X-Convene-Envelope-To: <carol@example.com>\n%s",
			 FROM, MSG);
	assert_string_equal(got, want);
	free(got);
	free(want);
	free(path);
	free_list(names, n);
	free(d);
}

static void test_maildir_unique_names_and_null_sender(void **state)
{
	struct fx *f = *state;
	const char *to[] = { "bob@example.net" };
	int codes[1], i;
	char *err, *d, *got, *path;
	size_t n;
	char **names;

	maildir_conf(f, "outbox");
	f->t = open_ok(f);
	for (i = 0; i < 5; i++)
		assert_int_equal(send_to(f, i == 0 ? "" : FROM, to, 1, "x\n",
					 codes, &err), TRANSPORT_OK);
	d = xasprintf("%s/new", f->c.outbound.path);
	names = list_dir(d, &n);
	assert_int_equal(n, 5);
	for (i = 0; i < 5; i++) {
		path = xasprintf("%s/%s", d, names[i]);
		got = slurp(path);
		if (strncmp(got, "X-Convene-Envelope-From: <>\n", 28) == 0)
			assert_string_equal(got + 28, "X-Convene-Envelope-To: "
					    "<bob@example.net>\nx\n");
		free(got);
		free(path);
	}
	free_list(names, n);
	free(d);
}

static void test_maildir_unusable_outbox(void **state)
{
	struct fx *f = *state;
	const char *to[] = { "bob@example.net" };
	int codes[1];
	char *err, *file;

	/* The outbox would be inside a regular file. */
	file = xasprintf("%s/plainfile", f->dir);
	assert_int_equal(util_mkdirs(f->dir), 0);
	fclose(fopen(file, "w"));
	maildir_conf(f, "plainfile/outbox");
	f->t = open_ok(f);   /* nothing is touched yet */
	assert_int_equal(send_to(f, FROM, to, 1, MSG, codes, &err),
			 TRANSPORT_TEMPFAIL);
	assert_non_null(err);
	assert_non_null(strstr(err, f->c.outbound.path));
	assert_non_null(strstr(err, strerror(ENOTDIR)));
	free(err);
	free(file);
}

static void test_maildir_rename_fails_tmp_cleaned(void **state)
{
	struct fx *f = *state;
	const char *to[] = { "bob@example.net" };
	int codes[1];
	char *err, *newdir, *tmpdir;
	size_t n;
	char **names;

	maildir_conf(f, "outbox");
	f->t = open_ok(f);
	assert_int_equal(send_to(f, FROM, to, 1, MSG, codes, &err),
			 TRANSPORT_OK);
	/* new/ is replaced by a file: the rename fails after the write. */
	newdir = xasprintf("%s/new", f->c.outbound.path);
	tmpdir = xasprintf("%s/tmp", f->c.outbound.path);
	nftw(newdir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	fclose(fopen(newdir, "w"));
	assert_int_equal(send_to(f, FROM, to, 1, MSG, codes, &err),
			 TRANSPORT_TEMPFAIL);
	assert_non_null(err);
	assert_non_null(strstr(err, "/new"));
	assert_non_null(strstr(err, strerror(ENOTDIR)));
	free(err);
	names = list_dir(tmpdir, &n);
	assert_int_equal(n, 0);   /* the tmp file was removed */
	free_list(names, n);

	/* Mended: the next transaction goes through. */
	unlink(newdir);
	assert_int_equal(send_to(f, FROM, to, 1, MSG, codes, &err),
			 TRANSPORT_OK);
	assert_int_equal(codes[0], 250);
	free(newdir);
	free(tmpdir);
}

static void test_maildir_unwritable_when_not_root(void **state)
{
	struct fx *f = *state;
	const char *to[] = { "bob@example.net" };
	int codes[1];
	char *err, *tmpdir;

	if (geteuid() == 0)
		skip();   /* root writes anyway; the other tests cover it */
	maildir_conf(f, "outbox");
	f->t = open_ok(f);
	assert_int_equal(send_to(f, FROM, to, 1, MSG, codes, &err),
			 TRANSPORT_OK);
	tmpdir = xasprintf("%s/tmp", f->c.outbound.path);
	chmod(tmpdir, 0500);
	assert_int_equal(send_to(f, FROM, to, 1, MSG, codes, &err),
			 TRANSPORT_TEMPFAIL);
	assert_non_null(strstr(err, strerror(EACCES)));
	free(err);
	chmod(tmpdir, 0750);
	free(tmpdir);
}

static void test_bad_settings_and_sender(void **state)
{
	struct fx *f = *state;
	const char *to[] = { "bob@example.net" };
	int codes[1];
	char *err = NULL;

	f->c.outbound.transport = TRANSPORT_MAILDIR;
	f->c.outbound.path = xstrdup("relative/outbox");
	assert_null(transport_open(&f->c, &err));
	assert_non_null(err);
	free(err);
	f->c.outbound.transport = TRANSPORT_SMTP;
	f->c.outbound.host = NULL;
	assert_null(transport_open(&f->c, &err));
	assert_non_null(strstr(err, "host"));
	free(err);
	f->c.outbound.transport = (enum conf_transport)42;
	assert_null(transport_open(&f->c, &err));
	free(err);

	maildir_conf(f, "outbox");
	f->t = open_ok(f);
	assert_int_equal(send_to(f, "a@b>\r\nRCPT TO:<c@d", to, 1, MSG, codes,
				 &err), TRANSPORT_PERMFAIL);
	assert_non_null(err);
	assert_null(strchr(err, '\r'));
	free(err);
}

/* ---- sendmail ---- */

static const char FAKE_SENDMAIL[] =
	"#!/bin/sh\n"
	"# a stand-in for sendmail: records its arguments and input\n"
	"out=$(dirname \"$0\")\n"
	"printf '%s\\n' \"$@\" >\"$out/args\"\n"
	"case \"$FAKE_SENDMAIL_MODE\" in\n"
	"noread) exit 0 ;;\n"
	"tempfail) cat >/dev/null; echo 'queue file write error' >&2;"
	" exit 75 ;;\n"
	"nouser) cat >/dev/null; printf 'no such user\\001\\n' >&2;"
	" exit 67 ;;\n"
	"signal) cat >/dev/null; kill -9 $$ ;;\n"
	"hang) exec sleep 5 ;;\n"
	"esac\n"
	"cat >\"$out/msg\"\n";

static void sendmail_conf(struct fx *f)
{
	char *prog = xasprintf("%s/fake-sendmail", f->dir);
	FILE *fp = fopen(prog, "w");

	assert_non_null(fp);
	fputs(FAKE_SENDMAIL, fp);
	fclose(fp);
	chmod(prog, 0755);
	f->argv_store[0] = prog;
	f->argv_store[1] = "-i";
	f->argv_store[2] = NULL;
	f->c.outbound.transport = TRANSPORT_SENDMAIL;
	f->c.outbound.sendmail_argv.v = f->argv_store;
	f->c.outbound.sendmail_argv.n = 2;
}

static void sendmail_done(struct fx *f)
{
	free(f->argv_store[0]);
	f->argv_store[0] = NULL;
	unsetenv("FAKE_SENDMAIL_MODE");
}

static void test_sendmail(void **state)
{
	struct fx *f = *state;
	const char *to[] = { "bob@example.net", "-oQ/tmp@evil",
			     "carol@example.com" };
	int codes[3];
	char *err, *p, *got, *big;
	long long t0;

	sendmail_conf(f);
	f->t = open_ok(f);

	unsetenv("FAKE_SENDMAIL_MODE");
	assert_int_equal(send_to(f, FROM, to, 3, MSG, codes, &err),
			 TRANSPORT_OK);
	assert_int_equal(codes[0], 250);
	assert_int_equal(codes[1], 250);
	assert_int_equal(codes[2], 250);
	p = xasprintf("%s/args", f->dir);
	got = slurp(p);
	assert_string_equal(got, "-i\n-f\n" FROM "\n--\nbob@example.net\n"
			    "-oQ/tmp@evil\ncarol@example.com\n");
	free(got);
	free(p);
	p = xasprintf("%s/msg", f->dir);
	got = slurp(p);
	assert_string_equal(got, MSG);   /* as given: LF, no dot-stuffing */
	free(got);
	free(p);

	/* The null sender. */
	assert_int_equal(send_to(f, "", to, 1, MSG, codes, &err),
			 TRANSPORT_OK);
	p = xasprintf("%s/args", f->dir);
	got = slurp(p);
	assert_string_equal(got, "-i\n-f\n<>\n--\nbob@example.net\n");
	free(got);
	free(p);

	setenv("FAKE_SENDMAIL_MODE", "tempfail", 1);
	assert_int_equal(send_to(f, FROM, to, 1, MSG, codes, &err),
			 TRANSPORT_TEMPFAIL);
	assert_non_null(strstr(err, "status 75"));
	assert_non_null(strstr(err, "queue file write error"));
	free(err);

	setenv("FAKE_SENDMAIL_MODE", "nouser", 1);
	assert_int_equal(send_to(f, FROM, to, 1, MSG, codes, &err),
			 TRANSPORT_PERMFAIL);
	assert_non_null(strstr(err, "status 67"));
	assert_non_null(strstr(err, "no such user?"));   /* sanitised */
	free(err);

	setenv("FAKE_SENDMAIL_MODE", "signal", 1);
	assert_int_equal(send_to(f, FROM, to, 1, MSG, codes, &err),
			 TRANSPORT_TEMPFAIL);
	assert_non_null(strstr(err, "signal 9"));
	free(err);

	/* Exits without reading a message larger than any socket buffer. */
	setenv("FAKE_SENDMAIL_MODE", "noread", 1);
	big = xmalloc(8 << 20);
	memset(big, 'a', 8 << 20);
	big[(8 << 20) - 1] = '\0';
	assert_int_equal(send_to(f, FROM, to, 1, big, codes, &err),
			 TRANSPORT_TEMPFAIL);
	assert_non_null(strstr(err, "before reading"));
	free(err);
	free(big);

	f->c.outbound.timeout_s = 1;
	transport_close(&f->t);
	f->t = open_ok(f);
	setenv("FAKE_SENDMAIL_MODE", "hang", 1);
	t0 = now_ms();
	assert_int_equal(send_to(f, FROM, to, 1, MSG, codes, &err),
			 TRANSPORT_TEMPFAIL);
	assert_true(now_ms() - t0 < 4000);
	assert_non_null(strstr(err, "timed out"));
	free(err);
	sendmail_done(f);

	/* A program that is not there. */
	transport_close(&f->t);
	f->argv_store[0] = xasprintf("%s/no-such-sendmail", f->dir);
	f->t = open_ok(f);
	assert_int_equal(send_to(f, FROM, to, 1, MSG, codes, &err),
			 TRANSPORT_TEMPFAIL);
	assert_non_null(strstr(err, "no-such-sendmail"));
	free(err);
	sendmail_done(f);
}

/* ---- smtp-sink ---- */

static int free_port(void)
{
	struct sockaddr_in in = { .sin_family = AF_INET };
	socklen_t len = sizeof in;
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&in, sizeof in), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&in, &len), 0);
	port = ntohs(in.sin_port);
	close(fd);
	return port;
}

static bool can_connect(struct fx *f)
{
	int fd;
	bool ok;

	if (f->sock != NULL) {
		struct sockaddr_un un = { .sun_family = AF_UNIX };

		snprintf(un.sun_path, sizeof un.sun_path, "%s", f->sock);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		ok = connect(fd, (struct sockaddr *)&un, sizeof un) == 0;
	} else {
		struct sockaddr_in in = { .sin_family = AF_INET,
					  .sin_port = htons((uint16_t)f->port) };

		in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		fd = socket(AF_INET, SOCK_STREAM, 0);
		ok = connect(fd, (struct sockaddr *)&in, sizeof in) == 0;
	}
	close(fd);
	return ok;
}

/* Starts smtp-sink with the extra options (NULL-terminated), on f->port
 * (a free one when 0) or, with `unix_socket`, on a socket in its folder. */
static void sink_start(struct fx *f, const char *const *opts,
		       bool unix_socket)
{
	const char *bin = getenv("SMTP_SINK");
	const char *skip_env = getenv("CONVENE_SKIP_SMTP");
	const char *argv[32];
	char *listen_on;
	size_t k = 0;
	long long deadline;
	int status;

	if (skip_env != NULL && strcmp(skip_env, "1") == 0)
		skip();
	if (bin == NULL || bin[0] == '\0')
		bin = "/usr/sbin/smtp-sink";
	if (access(bin, X_OK) < 0)
		fail_msg("smtp-sink not found at %s: install Postfix, point "
			 "SMTP_SINK at it, or set CONVENE_SKIP_SMTP=1 to skip "
			 "the SMTP tests", bin);
	if (f->sink_dir == NULL) {
		f->sink_dir = xasprintf("%s/sink", f->dir);
		assert_int_equal(mkdir(f->sink_dir, 0777), 0);
		chmod(f->sink_dir, 0777);   /* for nobody */
		f->dump = xasprintf("%s/dump", f->sink_dir);
		f->vlog = xasprintf("%s/verbose.log", f->sink_dir);
	}
	if (unix_socket) {
		free(f->sock);
		f->sock = xasprintf("%s/lmtp.sock", f->sink_dir);
		listen_on = xasprintf("unix:%s", f->sock);
	} else {
		if (f->port == 0)
			f->port = free_port();
		listen_on = xasprintf("127.0.0.1:%d", f->port);
	}
	argv[k++] = bin;
	argv[k++] = "-v";   /* the conversation, for counting commands */
	if (geteuid() == 0) {
		argv[k++] = "-u";
		argv[k++] = "nobody";
	}
	for (; opts != NULL && *opts != NULL && k < 24; opts++)
		argv[k++] = *opts;
	argv[k++] = "-D";
	argv[k++] = f->dump;
	argv[k++] = listen_on;
	argv[k++] = "100";
	argv[k] = NULL;

	f->sink = fork();
	assert_true(f->sink >= 0);
	if (f->sink == 0) {
		int fd = open(f->vlog, O_WRONLY | O_CREAT | O_APPEND, 0644);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	free(listen_on);
	deadline = now_ms() + 5000;
	while (!can_connect(f)) {
		if (waitpid(f->sink, &status, WNOHANG) == f->sink) {
			char *log = slurp(f->vlog);

			f->sink = 0;
			fail_msg("smtp-sink exited at once: %s",
				 log ? log : "(no output)");
		}
		if (now_ms() > deadline)
			fail_msg("smtp-sink did not start listening");
		sleep_ms(20);
	}
}

static void smtp_conf(struct fx *f, enum conf_transport k)
{
	f->c.outbound.transport = k;
	f->c.outbound.host = "127.0.0.1";
	f->c.outbound.port = f->port;
}

/* The dump once it holds n transactions (smtp-sink writes it as it goes). */
static char *dump_wait(struct fx *f, size_t n)
{
	long long deadline = now_ms() + 3000;
	char *d;

	for (;;) {
		d = slurp(f->dump);
		if (d != NULL && count_lines_with(d, "X-Client-Addr: ") >= n &&
		    strlen(d) >= 2 && strcmp(d + strlen(d) - 2, "\n\n") == 0)
			return d;
		if (now_ms() > deadline)
			fail_msg("the sink's dump does not hold %zu "
				 "transaction(s): %s", n, d ? d : "(none)");
		free(d);
		sleep_ms(20);
	}
}

/* Transaction i (from 0) of the dump, newly allocated. */
static char *dump_record(const char *d, size_t i)
{
	const char *p = d, *end;

	for (;;) {
		p = strstr(p, "X-Client-Addr: ");
		assert_non_null(p);
		if (p == d || p[-1] == '\n') {
			if (i == 0)
				break;
			i--;
		}
		p++;
	}
	end = strstr(p + 1, "\nX-Client-Addr: ");
	if (end != NULL)
		end++;
	return end != NULL ? xstrndup(p, (size_t)(end - p)) : xstrdup(p);
}

/* The value of the first `name: ` line of a record (newly allocated). */
static char *rec_field(const char *rec, const char *name)
{
	char *key = xasprintf("%s: ", name);
	const char *p = strstr(rec, key), *e;
	char *v;

	assert_non_null(p);
	p += strlen(key);
	e = strchr(p, '\n');
	v = xstrndup(p, (size_t)(e - p));
	free(key);
	return v;
}

/* The X-Rcpt-Args values joined with ' '. */
static char *rec_rcpts(const char *rec)
{
	struct buf b = BUF_INIT;
	const char *p = rec;

	while ((p = strstr(p, "X-Rcpt-Args: ")) != NULL) {
		const char *e;

		p += strlen("X-Rcpt-Args: ");
		e = strchr(p, '\n');
		if (b.len > 0)
			buf_putc(&b, ' ');
		buf_append(&b, p, (size_t)(e - p));
	}
	return buf_steal(&b, NULL);
}

/* What followed smtp-sink's three-line Received header: the message as it
 * arrived, plus the empty line that ends each dumped transaction. */
static const char *rec_body(const char *rec)
{
	const char *p = strstr(rec, "\nReceived: from ");
	int i;

	assert_non_null(p);
	p++;
	for (i = 0; i < 3; i++) {
		p = strchr(p, '\n');
		assert_non_null(p);
		p++;
	}
	return p;
}

static void assert_body(const char *rec, const char *msg)
{
	char *want = xasprintf("%s\n", msg);

	assert_string_equal(rec_body(rec), want);
	free(want);
}

/* smtp-sink's verbose log once `needle` occurs in it `n` times. */
static char *vlog_wait(struct fx *f, const char *needle, size_t n)
{
	long long deadline = now_ms() + 3000;
	char *v;

	for (;;) {
		v = slurp(f->vlog);
		if (v != NULL && count_lines_with(v, needle) >= n)
			return v;
		if (now_ms() > deadline)
			fail_msg("smtp-sink's log lacks %zu x '%s': %s", n,
				 needle, v ? v : "(none)");
		free(v);
		sleep_ms(20);
	}
}

static void test_smtp_three_recipients(void **state)
{
	struct fx *f = *state;
	const char *to[] = { "alice@example.org", "bob@example.net",
			     "carol@example.com" };
	int codes[3];
	char *err, *d, *rec, *v;

	sink_start(f, NULL, false);
	smtp_conf(f, TRANSPORT_SMTP);
	f->t = open_ok(f);
	assert_int_equal(send_to(f, FROM, to, 3, MSG, codes, &err),
			 TRANSPORT_OK);
	assert_null(err);
	assert_int_equal(codes[0], 250);
	assert_int_equal(codes[1], 250);
	assert_int_equal(codes[2], 250);
	d = dump_wait(f, 1);
	rec = dump_record(d, 0);
	v = rec_field(rec, "X-Client-Proto");
	assert_string_equal(v, "ESMTP");
	free(v);
	v = rec_field(rec, "X-Helo-Args");
	assert_string_equal(v, DOMAIN);   /* no helo set: the domain */
	free(v);
	v = rec_field(rec, "X-Mail-Args");
	assert_string_equal(v, "<" FROM ">");
	free(v);
	v = rec_rcpts(rec);
	assert_string_equal(v, "<alice@example.org> <bob@example.net> "
			    "<carol@example.com>");
	free(v);
	/* Headers and body exactly, dots unstuffed, no line added. */
	assert_body(rec, MSG);
	free(rec);
	free(d);
}

static void test_smtp_two_transactions_one_session(void **state)
{
	struct fx *f = *state;
	const char *to1[] = { "alice@example.org", "bob@example.net" };
	const char *to2[] = { "carol@example.com" };
	const char *msg2 = "Subject: second\n\nsecond body\n";
	int codes[2];
	char *err, *d, *rec, *v;

	sink_start(f, NULL, false);
	smtp_conf(f, TRANSPORT_SMTP);
	f->c.outbound.helo = "mx.convene.test";
	f->t = open_ok(f);
	assert_int_equal(send_to(f, FROM, to1, 2, MSG, codes, &err),
			 TRANSPORT_OK);
	assert_int_equal(send_to(f, "", to2, 1, msg2, codes, &err),
			 TRANSPORT_OK);
	assert_int_equal(codes[0], 250);
	d = dump_wait(f, 2);
	rec = dump_record(d, 1);
	v = rec_field(rec, "X-Mail-Args");
	assert_string_equal(v, "<>");
	free(v);
	v = rec_rcpts(rec);
	assert_string_equal(v, "<carol@example.com>");
	free(v);
	v = rec_field(rec, "X-Helo-Args");
	assert_string_equal(v, "mx.convene.test");
	free(v);
	assert_body(rec, msg2);
	free(rec);
	free(d);

	transport_close(&f->t);
	/* One session: one EHLO, RSET before the second MAIL, one QUIT. */
	v = vlog_wait(f, ": QUIT", 1);
	assert_int_equal(count_lines_with(v, ": EHLO "), 1);
	assert_int_equal(count_lines_with(v, ": RSET"), 1);
	assert_int_equal(count_lines_with(v, ": MAIL FROM:"), 2);
	assert_int_equal(count_lines_with(v, ": QUIT"), 1);
	free(v);
}

static void test_smtp_dot_stuffing_round_trip(void **state)
{
	struct fx *f = *state;
	const char *to[] = { "alice@example.org" };
	const char *msg = "Subject: dots\n\n.\n..\n.leading dot\n"
			  "...three\nmid . dot\n.";
	int codes[1];
	char *err, *d, *rec;

	sink_start(f, NULL, false);
	smtp_conf(f, TRANSPORT_SMTP);
	f->t = open_ok(f);
	assert_int_equal(send_to(f, FROM, to, 1, msg, codes, &err),
			 TRANSPORT_OK);
	/* A last line without its LF gets one. */
	assert_int_equal(send_to(f, FROM, to, 1, "Subject: x\n\nend", codes,
				 &err), TRANSPORT_OK);
	d = dump_wait(f, 2);
	rec = dump_record(d, 0);
	assert_body(rec, "Subject: dots\n\n.\n..\n.leading dot\n...three\n"
			 "mid . dot\n.\n");
	free(rec);
	rec = dump_record(d, 1);
	assert_body(rec, "Subject: x\n\nend\n");
	free(rec);
	free(d);
}

static void test_smtp_big_8bit_message_and_many_rcpts(void **state)
{
	struct fx *f = *state;
	enum { NR = 250 };
	const char *to[NR];
	char *addrs[NR];
	int codes[NR], i;
	struct buf msg = BUF_INIT, want = BUF_INIT;
	char *err, *d, *rec, *v;

	sink_start(f, NULL, false);   /* first: it may skip the test */
	for (i = 0; i < NR; i++) {
		addrs[i] = xasprintf("user%06d@example.org", i);
		to[i] = addrs[i];
	}
	buf_puts(&msg, "Subject: gro\xc3\x9f\n\n");
	for (i = 0; msg.len < (1 << 20); i++)
		buf_printf(&msg, "%sline %d of a long message\n",
			   i % 7 == 0 ? "." : "", i);
	smtp_conf(f, TRANSPORT_SMTP);
	f->t = open_ok(f);
	assert_int_equal(send_to(f, FROM, to, NR, msg.data, codes, &err),
			 TRANSPORT_OK);
	for (i = 0; i < NR; i++)
		assert_int_equal(codes[i], 250);
	d = dump_wait(f, 1);
	rec = dump_record(d, 0);
	v = rec_field(rec, "X-Mail-Args");
	assert_string_equal(v, "<" FROM "> BODY=8BITMIME");
	free(v);
	v = rec_rcpts(rec);
	for (i = 0; i < NR; i++)
		buf_printf(&want, "%s<%s>", i ? " " : "", to[i]);
	assert_string_equal(v, want.data);
	free(v);
	assert_body(rec, msg.data);
	free(rec);
	free(d);
	for (i = 0; i < NR; i++)
		free(addrs[i]);
	buf_free(&msg);
	buf_free(&want);
}

static void test_smtp_without_pipelining_or_esmtp(void **state)
{
	struct fx *f = *state;
	const char *opts_p[] = { "-p", NULL };
	const char *opts_e[] = { "-e", NULL };
	const char *to[] = { "alice@example.org", "bob@example.net" };
	int codes[2];
	char *err, *d, *rec, *v;

	sink_start(f, opts_p, false);
	smtp_conf(f, TRANSPORT_SMTP);
	f->t = open_ok(f);
	assert_int_equal(send_to(f, FROM, to, 2, MSG, codes, &err),
			 TRANSPORT_OK);
	assert_int_equal(send_to(f, FROM, to, 1, MSG, codes, &err),
			 TRANSPORT_OK);
	d = dump_wait(f, 2);
	rec = dump_record(d, 0);
	assert_body(rec, MSG);
	free(rec);
	free(d);
	transport_close(&f->t);
	sink_stop(f);
	unlink(f->dump);

	/* No ESMTP at all: EHLO is refused, HELO does it. */
	sink_start(f, opts_e, false);
	f->t = open_ok(f);
	assert_int_equal(send_to(f, FROM, to, 2, MSG, codes, &err),
			 TRANSPORT_OK);
	d = dump_wait(f, 1);
	rec = dump_record(d, 0);
	v = rec_field(rec, "X-Client-Proto");
	assert_string_equal(v, "SMTP");
	free(v);
	v = rec_field(rec, "X-Helo-Args");
	assert_string_equal(v, DOMAIN);
	free(v);
	assert_body(rec, MSG);
	free(rec);
	free(d);
}

static void test_smtp_rcpt_soft_rejected(void **state)
{
	struct fx *f = *state;
	const char *opts[] = { "-r", "RCPT", NULL };
	const char *to[] = { "alice@example.org", "bob@example.net" };
	int codes[2];
	char *err, *d, *v;

	sink_start(f, opts, false);
	smtp_conf(f, TRANSPORT_SMTP);
	f->t = open_ok(f);
	assert_int_equal(send_to(f, FROM, to, 2, MSG, codes, &err),
			 TRANSPORT_OK);
	assert_null(err);
	assert_int_equal(codes[0], 450);
	assert_int_equal(codes[1], 450);
	/* The session stays usable. */
	assert_int_equal(send_to(f, FROM, to, 1, MSG, codes, &err),
			 TRANSPORT_OK);
	assert_int_equal(codes[0], 450);
	transport_close(&f->t);
	v = vlog_wait(f, ": QUIT", 1);
	assert_int_equal(count_lines_with(v, ": DATA"), 0);
	assert_int_equal(count_lines_with(v, ": EHLO "), 1);
	free(v);
	d = slurp(f->dump);
	assert_true(d == NULL || count_lines_with(d, "X-Client-Addr:") == 0);
	free(d);
}

static void test_smtp_mail_rejected(void **state)
{
	struct fx *f = *state;
	const char *soft[] = { "-r", "MAIL", NULL };
	const char *hard[] = { "-f", "MAIL", NULL };
	const char *to[] = { "alice@example.org" };
	int codes[1];
	char *err;

	sink_start(f, soft, false);
	smtp_conf(f, TRANSPORT_SMTP);
	f->t = open_ok(f);
	assert_int_equal(send_to(f, FROM, to, 1, MSG, codes, &err),
			 TRANSPORT_TEMPFAIL);
	assert_non_null(err);
	assert_non_null(strstr(err, "MAIL FROM"));
	assert_non_null(strstr(err, "450 4.3.0 Error: command failed"));
	assert_non_null(strstr(err, "127.0.0.1:"));
	free(err);
	transport_close(&f->t);
	sink_stop(f);

	sink_start(f, hard, false);
	f->t = open_ok(f);
	assert_int_equal(send_to(f, FROM, to, 1, MSG, codes, &err),
			 TRANSPORT_PERMFAIL);
	assert_non_null(strstr(err, "500 5.3.0 Error: command failed"));
	free(err);
}

static void test_smtp_data_rejected(void **state)
{
	struct fx *f = *state;
	const char *soft[] = { "-r", ".", NULL };
	const char *hard[] = { "-f", "DATA", NULL };
	const char *to[] = { "alice@example.org" };
	int codes[1];
	char *err;

	sink_start(f, soft, false);
	smtp_conf(f, TRANSPORT_SMTP);
	f->t = open_ok(f);
	assert_int_equal(send_to(f, FROM, to, 1, MSG, codes, &err),
			 TRANSPORT_TEMPFAIL);
	assert_non_null(strstr(err, "end of data"));
	assert_non_null(strstr(err, "450"));
	free(err);
	transport_close(&f->t);
	sink_stop(f);

	sink_start(f, hard, false);
	f->t = open_ok(f);
	assert_int_equal(send_to(f, FROM, to, 1, MSG, codes, &err),
			 TRANSPORT_PERMFAIL);
	assert_non_null(strstr(err, "DATA"));
	assert_non_null(strstr(err, "500"));
	free(err);
}

static void test_smtp_421_and_dropped(void **state)
{
	struct fx *f = *state;
	const char *q421[] = { "-Q", "MAIL", NULL };
	const char *drop[] = { "-q", "RCPT", NULL };
	const char *to[] = { "alice@example.org" };
	int codes[1];
	char *err;

	sink_start(f, q421, false);
	smtp_conf(f, TRANSPORT_SMTP);
	f->t = open_ok(f);
	assert_int_equal(send_to(f, FROM, to, 1, MSG, codes, &err),
			 TRANSPORT_TEMPFAIL);
	assert_non_null(strstr(err, "421"));
	free(err);
	/* And again, on a new session. */
	assert_int_equal(send_to(f, FROM, to, 1, MSG, codes, &err),
			 TRANSPORT_TEMPFAIL);
	free(err);
	transport_close(&f->t);
	sink_stop(f);

	sink_start(f, drop, false);
	f->t = open_ok(f);
	assert_int_equal(send_to(f, FROM, to, 1, MSG, codes, &err),
			 TRANSPORT_TEMPFAIL);
	assert_non_null(strstr(err, "connection lost"));
	free(err);
}

static void test_smtp_greeting_refused(void **state)
{
	struct fx *f = *state;
	const char *opts[] = { "-f", "CONNECT", NULL };
	const char *to[] = { "alice@example.org" };
	int codes[1];
	char *err;

	sink_start(f, opts, false);
	smtp_conf(f, TRANSPORT_SMTP);
	f->t = open_ok(f);
	/* Whatever the code, a relay that will not talk is not the
	 * recipients' fault. */
	assert_int_equal(send_to(f, FROM, to, 1, MSG, codes, &err),
			 TRANSPORT_TEMPFAIL);
	if (strstr(err, "greeting: 5") == NULL)
		fail_msg("error: %s", err);
	free(err);
}

static void test_smtp_connection_refused(void **state)
{
	struct fx *f = *state;
	const char *to[] = { "alice@example.org" };
	int codes[1];
	char *err;

	f->port = free_port();   /* nobody listens there */
	smtp_conf(f, TRANSPORT_SMTP);
	f->t = open_ok(f);
	assert_int_equal(send_to(f, FROM, to, 1, MSG, codes, &err),
			 TRANSPORT_TEMPFAIL);
	assert_non_null(err);
	assert_non_null(strstr(err, strerror(ECONNREFUSED)));
	free(err);
}

static void test_smtp_timeout(void **state)
{
	struct fx *f = *state;
	/* -p: smtp-sink answers pipelined commands out of order under -W. */
	const char *opts[] = { "-p", "-W", "MAIL:4", NULL };
	const char *to[] = { "alice@example.org" };
	int codes[1];
	char *err;
	long long t0;

	sink_start(f, opts, false);
	smtp_conf(f, TRANSPORT_SMTP);
	f->c.outbound.timeout_s = 1;
	f->t = open_ok(f);
	t0 = now_ms();
	assert_int_equal(send_to(f, FROM, to, 1, MSG, codes, &err),
			 TRANSPORT_TEMPFAIL);
	assert_true(now_ms() - t0 < 3500);
	if (strstr(err, "timed out") == NULL)
		fail_msg("error: %s", err);
	free(err);
}

static void test_smtp_reconnects(void **state)
{
	struct fx *f = *state;
	const char *to[] = { "alice@example.org" };
	int codes[1];
	char *err, *d, *v;

	sink_start(f, NULL, false);
	smtp_conf(f, TRANSPORT_SMTP);
	f->t = open_ok(f);
	assert_int_equal(send_to(f, FROM, to, 1, MSG, codes, &err),
			 TRANSPORT_OK);
	d = dump_wait(f, 1);
	free(d);
	/* The relay restarts: the idle session is gone. */
	sink_stop(f);
	sink_start(f, NULL, false);
	assert_int_equal(send_to(f, FROM, to, 1, MSG, codes, &err),
			 TRANSPORT_OK);
	assert_null(err);
	assert_int_equal(codes[0], 250);
	d = dump_wait(f, 2);
	free(d);
	transport_close(&f->t);
	v = vlog_wait(f, ": QUIT", 1);
	assert_int_equal(count_lines_with(v, ": EHLO "), 2);
	free(v);
}

static void test_smtp_starttls_required_not_offered(void **state)
{
	struct fx *f = *state;
	const char *to[] = { "alice@example.org" };
	int codes[1];
	char *err;

	sink_start(f, NULL, false);
	smtp_conf(f, TRANSPORT_SMTP);
	f->c.outbound.starttls = true;
	f->t = open_ok(f);
	assert_int_equal(send_to(f, FROM, to, 1, MSG, codes, &err),
			 TRANSPORT_TEMPFAIL);
	assert_non_null(strstr(err, "STARTTLS"));
	free(err);
}

static void test_smtp_auth(void **state)
{
	struct fx *f = *state;
	const char *to[] = { "alice@example.org" };
	int codes[1];
	char *err, *v, *d;

	/* smtp-sink offers AUTH PLAIN LOGIN and takes any credentials. */
	sink_start(f, NULL, false);
	smtp_conf(f, TRANSPORT_SMTP);
	f->c.outbound.auth_user = "convene";
	f->c.outbound.auth_password = "s3cret";
	f->t = open_ok(f);
	if (send_to(f, FROM, to, 1, MSG, codes, &err) != TRANSPORT_OK) {
		if (err != NULL && strstr(err, "without SASL") != NULL) {
			free(err);
			skip();
		}
		fail_msg("AUTH: %s", err ? err : "?");
	}
	d = dump_wait(f, 1);
	free(d);
	transport_close(&f->t);
	v = vlog_wait(f, ": QUIT", 1);
	assert_int_equal(count_lines_with(v, ": AUTH PLAIN"), 1);
	free(v);
}

static void test_lmtp_tcp_and_unix(void **state)
{
	struct fx *f = *state;
	const char *opts[] = { "-L", NULL };
	const char *to[] = { "alice@example.org", "bob@example.net" };
	int codes[2];
	char *err, *d, *rec, *v;

	sink_start(f, opts, false);
	smtp_conf(f, TRANSPORT_LMTP);
	f->t = open_ok(f);
	assert_int_equal(send_to(f, FROM, to, 2, MSG, codes, &err),
			 TRANSPORT_OK);
	assert_int_equal(codes[0], 250);
	assert_int_equal(codes[1], 250);
	assert_int_equal(send_to(f, FROM, to, 2, MSG, codes, &err),
			 TRANSPORT_OK);
	d = dump_wait(f, 2);
	rec = dump_record(d, 0);
	v = rec_field(rec, "X-Client-Proto");
	assert_string_equal(v, "LMTP");
	free(v);
	assert_body(rec, MSG);
	free(rec);
	free(d);
	transport_close(&f->t);
	sink_stop(f);
	unlink(f->dump);

	sink_start(f, opts, true);
	f->c.outbound.path = xstrdup(f->sock);
	f->t = open_ok(f);
	assert_int_equal(send_to(f, FROM, to, 2, MSG, codes, &err),
			 TRANSPORT_OK);
	assert_int_equal(codes[0], 250);
	assert_int_equal(codes[1], 250);
	d = dump_wait(f, 1);
	rec = dump_record(d, 0);
	assert_body(rec, MSG);
	free(rec);
	free(d);
}

/* ---- a scripted server, for replies smtp-sink does not give ---- */

struct fake {
	int lfd, port;
	bool lmtp;
	bool lax;               /* says 354 to DATA even with no recipient */
	pthread_t th;
	struct buf log;         /* the commands it got, one a line */
};

static void fake_say(int fd, const char *s)
{
	size_t off = 0, len = strlen(s);

	while (off < len) {
		ssize_t w = write(fd, s + off, len - off);

		if (w <= 0)
			return;
		off += (size_t)w;
	}
}

static void *fake_main(void *p)
{
	struct fake *k = p;
	int fd = accept(k->lfd, NULL, NULL);
	FILE *in;
	char *line = NULL, *ok[16];
	size_t cap = 0, nok = 0, i;

	if (fd < 0)
		return NULL;
	in = fdopen(dup(fd), "r");
	fake_say(fd, "220 fake ESMTP\r\n");
	while (getline(&line, &cap, in) > 0) {
		line[strcspn(line, "\r\n")] = '\0';
		buf_printf(&k->log, "%s\n", line);
		if (strncmp(line, "EHLO", 4) == 0 ||
		    strncmp(line, "LHLO", 4) == 0) {
			fake_say(fd, "250-fake\r\n250-PIPELINING\r\n"
				     "250 8BITMIME\r\n");
		} else if (strncmp(line, "MAIL", 4) == 0) {
			fake_say(fd, strstr(line, "<ctl@") != NULL ?
				 "451 4.3.0 bad\001\033[31m thing\r\n" :
				 "250 2.1.0 Ok\r\n");
		} else if (strncmp(line, "RCPT", 4) == 0) {
			if (strstr(line, "<rej4-") != NULL) {
				fake_say(fd, "450 4.1.1 later\r\n");
			} else if (strstr(line, "<rej5-") != NULL) {
				fake_say(fd, "550 5.1.1 no such user\r\n");
			} else {
				if (nok < 16)
					ok[nok++] = xstrdup(line);
				fake_say(fd, "250 2.1.5 Ok\r\n");
			}
		} else if (strcmp(line, "DATA") == 0) {
			if (nok == 0 && !k->lax) {
				fake_say(fd, "554 5.5.1 no recipients\r\n");
				continue;
			}
			fake_say(fd, "354 go ahead\r\n");
			while (getline(&line, &cap, in) > 0 &&
			       strcmp(line, ".\r\n") != 0)
				;
			buf_puts(&k->log, "(message)\n");
			for (i = 0; i < (k->lmtp ? nok : 1); i++)
				fake_say(fd, k->lmtp &&
					 strstr(ok[i], "<full-") != NULL ?
					 "452 4.2.2 mailbox full\r\n" :
					 "250 2.0.0 delivered\r\n");
			for (i = 0; i < nok; i++)
				free(ok[i]);
			nok = 0;
		} else if (strcmp(line, "RSET") == 0) {
			for (i = 0; i < nok; i++)
				free(ok[i]);
			nok = 0;
			fake_say(fd, "250 2.0.0 Ok\r\n");
		} else if (strcmp(line, "QUIT") == 0) {
			fake_say(fd, "221 bye\r\n");
			break;
		} else {
			fake_say(fd, "502 5.5.2 what?\r\n");
		}
	}
	for (i = 0; i < nok; i++)
		free(ok[i]);
	free(line);
	fclose(in);
	close(fd);
	return NULL;
}

static void fake_start(struct fake *k, bool lmtp, bool lax)
{
	struct sockaddr_in in = { .sin_family = AF_INET };
	socklen_t len = sizeof in;

	memset(k, 0, sizeof *k);
	k->lmtp = lmtp;
	k->lax = lax;
	in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	k->lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(k->lfd, (struct sockaddr *)&in, sizeof in), 0);
	assert_int_equal(getsockname(k->lfd, (struct sockaddr *)&in, &len),
			 0);
	assert_int_equal(listen(k->lfd, 4), 0);
	k->port = ntohs(in.sin_port);
	assert_int_equal(pthread_create(&k->th, NULL, fake_main, k), 0);
}

static void fake_stop(struct fake *k)
{
	pthread_join(k->th, NULL);
	close(k->lfd);
	buf_free(&k->log);
}

static void test_pipelined_all_rejected(void **state)
{
	struct fx *f = *state;
	struct fake k;
	const char *to[] = { "rej4-a@example.org", "rej5-b@example.org" };
	const char *to2[] = { "ok@example.org" };
	int codes[2];
	char *err;

	fake_start(&k, false, false);
	f->port = k.port;
	smtp_conf(f, TRANSPORT_SMTP);
	f->t = open_ok(f);
	assert_int_equal(send_to(f, FROM, to, 2, MSG, codes, &err),
			 TRANSPORT_OK);
	assert_null(err);
	assert_int_equal(codes[0], 450);
	assert_int_equal(codes[1], 550);
	assert_int_equal(send_to(f, FROM, to2, 1, MSG, codes, &err),
			 TRANSPORT_OK);
	assert_int_equal(codes[0], 250);
	transport_close(&f->t);
	/* DATA went with the recipients and was turned down; no message. */
	assert_non_null(strstr(k.log.data, "RCPT TO:<rej5-b@example.org>\n"
			       "DATA\nRSET\nMAIL FROM:"));
	assert_int_equal(count_lines_with(k.log.data, "(message)"), 1);
	fake_stop(&k);
}

static void test_lax_server_354_to_nobody(void **state)
{
	struct fx *f = *state;
	struct fake k;
	const char *to[] = { "rej5-a@example.org" };
	const char *to2[] = { "ok@example.org" };
	int codes[1];
	char *err;

	fake_start(&k, false, true);
	f->port = k.port;
	smtp_conf(f, TRANSPORT_SMTP);
	f->t = open_ok(f);
	assert_int_equal(send_to(f, FROM, to, 1, MSG, codes, &err),
			 TRANSPORT_OK);
	assert_int_equal(codes[0], 550);
	/* The empty message closed the DATA phase: the session goes on. */
	assert_int_equal(send_to(f, FROM, to2, 1, MSG, codes, &err),
			 TRANSPORT_OK);
	assert_int_equal(codes[0], 250);
	transport_close(&f->t);
	assert_non_null(strstr(k.log.data, "RCPT TO:<rej5-a@example.org>\n"
			       "DATA\n(message)\nRSET\nMAIL FROM:"));
	fake_stop(&k);
}

static void test_lmtp_per_recipient_replies(void **state)
{
	struct fx *f = *state;
	struct fake k;
	const char *to[] = { "a@example.org", "full-b@example.org",
			     "rej5-c@example.org", "d@example.org" };
	int codes[4];
	char *err;

	fake_start(&k, true, false);
	f->port = k.port;
	smtp_conf(f, TRANSPORT_LMTP);
	f->t = open_ok(f);
	assert_int_equal(send_to(f, FROM, to, 4, MSG, codes, &err),
			 TRANSPORT_OK);
	assert_int_equal(codes[0], 250);
	assert_int_equal(codes[1], 452);
	assert_int_equal(codes[2], 550);
	assert_int_equal(codes[3], 250);
	transport_close(&f->t);
	assert_non_null(strstr(k.log.data, "LHLO " DOMAIN "\n"));
	fake_stop(&k);
}

static void test_reply_text_sanitised(void **state)
{
	struct fx *f = *state;
	struct fake k;
	const char *to[] = { "a@example.org" };
	int codes[1];
	char *err, *p;

	fake_start(&k, false, false);
	f->port = k.port;
	smtp_conf(f, TRANSPORT_SMTP);
	f->t = open_ok(f);
	assert_int_equal(send_to(f, "ctl@example.org", to, 1, MSG, codes,
				 &err), TRANSPORT_TEMPFAIL);
	assert_non_null(strstr(err, "451 4.3.0 bad??[31m thing"));
	for (p = err; *p != '\0'; p++)
		assert_true((unsigned char)*p >= 0x20);
	free(err);
	transport_close(&f->t);
	fake_stop(&k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_maildir_writes_one_file),
		T(test_maildir_unique_names_and_null_sender),
		T(test_maildir_unusable_outbox),
		T(test_maildir_rename_fails_tmp_cleaned),
		T(test_maildir_unwritable_when_not_root),
		T(test_bad_settings_and_sender),
		T(test_sendmail),
		T(test_smtp_three_recipients),
		T(test_smtp_two_transactions_one_session),
		T(test_smtp_dot_stuffing_round_trip),
		T(test_smtp_big_8bit_message_and_many_rcpts),
		T(test_smtp_without_pipelining_or_esmtp),
		T(test_smtp_rcpt_soft_rejected),
		T(test_smtp_mail_rejected),
		T(test_smtp_data_rejected),
		T(test_smtp_421_and_dropped),
		T(test_smtp_greeting_refused),
		T(test_smtp_connection_refused),
		T(test_smtp_timeout),
		T(test_smtp_reconnects),
		T(test_smtp_starttls_required_not_offered),
		T(test_smtp_auth),
		T(test_lmtp_tcp_and_unix),
		T(test_pipelined_all_rejected),
		T(test_lax_server_354_to_nobody),
		T(test_lmtp_per_recipient_replies),
		T(test_reply_text_sanitised),
#undef T
	};

	umask(022);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
