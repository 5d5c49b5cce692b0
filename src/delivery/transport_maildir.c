/* transport_maildir - the local transports (maildir outbox, sendmail) and the
 * dispatch behind transport.h */
#include "autoconf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "delivery/transport.h"
#include "transport_int.h"
#include "base/buf.h"
#include "base/conf.h"
#include "base/log.h"
#include "base/util.h"
#include "base/xalloc.h"

extern char **environ;

/* Longest envelope address we hand on. Above RFC 5321's 256 on purpose: a
 * VERP-encoded sender can be longer, and Postfix takes it; the bound keeps
 * every SMTP command line far below 1000 bytes. */
#define ENVELOPE_ADDR_MAX 900

/* How much of a sendmail program's output goes into an error message. */
#define SENDMAIL_OUTPUT_MAX 512

/* ---- the dispatch ---- */

/* One transport kind. `send` gets an envelope the dispatch has checked:
 * rcpts[i].code is 0 for each recipient to deliver, and already set (553)
 * for an address that cannot be put into an envelope; at least one is 0. */
struct transport_ops {
	const char *name;
	void *(*open)(const struct conf *c, struct relays *shared,
		      char **error_r);
	enum transport_result (*send)(void *impl, const char *env_from,
				      struct transport_rcpt *rcpts, size_t n,
				      const char *data, size_t len,
				      char **error_r);
	void (*close)(void *impl);
};

struct transport {
	const struct transport_ops *ops;
	void *impl;
};

static void *maildir_open(const struct conf *c, struct relays *shared,
			  char **error_r);
static enum transport_result maildir_send(void *impl, const char *env_from,
					  struct transport_rcpt *rcpts,
					  size_t n, const char *data,
					  size_t len, char **error_r);
static void maildir_close(void *impl);
static void *sendmail_open(const struct conf *c, struct relays *shared,
			   char **error_r);
static enum transport_result sendmail_send(void *impl, const char *env_from,
					   struct transport_rcpt *rcpts,
					   size_t n, const char *data,
					   size_t len, char **error_r);
static void sendmail_close(void *impl);

static const struct transport_ops transport_ops[] = {
	[TRANSPORT_MAILDIR] = { "maildir", maildir_open, maildir_send,
				maildir_close },
	[TRANSPORT_SMTP] = { "smtp", transport_smtp_open, transport_smtp_send,
			     transport_smtp_close },
	[TRANSPORT_LMTP] = { "lmtp", transport_smtp_open, transport_smtp_send,
			     transport_smtp_close },
	[TRANSPORT_SENDMAIL] = { "sendmail", sendmail_open, sendmail_send,
				 sendmail_close },
};

/* An address goes into an SMTP command, an argv and a header line as it is:
 * no control bytes (CR LF above all) and no angle brackets. */
static bool envelope_addr_ok(const char *a, bool empty_ok)
{
	const unsigned char *p = (const unsigned char *)a;
	size_t len = strlen(a);

	if (len == 0)
		return empty_ok;
	if (len > ENVELOPE_ADDR_MAX)
		return false;
	for (; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f || *p == '<' || *p == '>')
			return false;
	return true;
}

struct transport *transport_open(const struct conf *c, char **error_r)
{
	return transport_open_relays(c, NULL, error_r);
}

struct transport *transport_open_relays(const struct conf *c,
					struct relays *relays, char **error_r)
{
	unsigned k = (unsigned)c->outbound.transport;
	struct transport *t;
	void *impl;

	*error_r = NULL;
	if (k >= sizeof transport_ops / sizeof transport_ops[0] ||
	    transport_ops[k].open == NULL) {
		*error_r = xasprintf("outbound.transport: unknown transport %u",
				     k);
		return NULL;
	}
	impl = transport_ops[k].open(c, relays, error_r);
	if (impl == NULL)
		return NULL;
	t = xmalloc(sizeof *t);
	t->ops = &transport_ops[k];
	t->impl = impl;
	return t;
}

enum transport_result transport_send(struct transport *t, const char *env_from,
				     struct transport_rcpt *rcpts, size_t n,
				     const char *data, size_t len,
				     char **error_r)
{
	size_t i, todo = 0;

	*error_r = NULL;
	if (!envelope_addr_ok(env_from, true)) {
		char s[128];

		*error_r = xasprintf("%s: unusable envelope sender <%s>",
				     t->ops->name,
				     log_sanitize(s, sizeof s, env_from,
						  strlen(env_from)));
		return TRANSPORT_PERMFAIL;
	}
	for (i = 0; i < n; i++) {
		if (envelope_addr_ok(rcpts[i].addr, false)) {
			rcpts[i].code = 0;
			todo++;
		} else {
			rcpts[i].code = 553;
		}
	}
	if (todo == 0)
		return TRANSPORT_OK;
	return t->ops->send(t->impl, env_from, rcpts, n, data, len, error_r);
}

void transport_close(struct transport **tp)
{
	struct transport *t = *tp;

	if (t == NULL)
		return;
	t->ops->close(t->impl);
	free(t);
	*tp = NULL;
}

/* ---- maildir: one file per transaction in OUTBOX/new ---- */

struct maildir {
	char *path;             /* OUTBOX */
	char *tmp, *new;        /* OUTBOX/tmp, OUTBOX/new */
	char *host;             /* this host's name, made safe for file names */
	bool ready;             /* the folders were there at the last look */
};

static atomic_ulong maildir_counter;

/* The host name as maildir wants it: '/' and ':' written as octal escapes,
 * anything odd replaced. */
static char *maildir_hostname(void)
{
	char h[256];
	struct buf b = BUF_INIT;
	const char *p;

	if (gethostname(h, sizeof h) < 0 || h[0] == '\0')
		snprintf(h, sizeof h, "localhost");
	h[sizeof h - 1] = '\0';
	for (p = h; *p != '\0'; p++) {
		if (*p == '/')
			buf_puts(&b, "\\057");
		else if (*p == ':')
			buf_puts(&b, "\\072");
		else if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			buf_putc(&b, '_');
		else
			buf_putc(&b, *p);
	}
	return buf_steal(&b, NULL);
}

static void *maildir_open(const struct conf *c, struct relays *shared,
			  char **error_r)
{
	const char *path = c->outbound.path;
	struct maildir *m;

	if (path == NULL || path[0] != '/') {
		*error_r = xstrdup("outbound.path: the maildir transport needs "
				   "an absolute outbox folder");
		return NULL;
	}
	m = xcalloc(1, sizeof *m);
	m->path = xstrdup(path);
	m->tmp = xasprintf("%s/tmp", path);
	m->new = xasprintf("%s/new", path);
	m->host = maildir_hostname();
	return m;
}

static void maildir_close(void *impl)
{
	struct maildir *m = impl;

	free(m->path);
	free(m->tmp);
	free(m->new);
	free(m->host);
	free(m);
}

/* A file in OUTBOX/tmp older than this is a leftover, whoever wrote it
 * (the maildir convention). */
#define TMP_STALE_S (36 * 3600)

/* Removes what killed deliveries left in OUTBOX/tmp: files of this host
 * whose writer (the pid in the name) is gone, and any file older than
 * TMP_STALE_S. A file being written by a live process stays. */
static void sweep_tmp(const struct maildir *m)
{
	DIR *dir = opendir(m->tmp);
	struct dirent *de;
	time_t now = time(NULL);
	size_t hlen = strlen(m->host);

	if (dir == NULL)
		return;
	while ((de = readdir(dir)) != NULL) {
		const char *name = de->d_name, *p;
		char *path;
		struct stat st;
		bool dead = false;
		long pid;

		if (name[0] == '.')
			continue;
		path = xasprintf("%s/%s", m->tmp, name);
		/* SECONDS.PID_COUNTER.RANDOM.HOST */
		p = strchr(name, '.');
		if (p != NULL && strlen(name) > hlen &&
		    strcmp(name + strlen(name) - hlen, m->host) == 0) {
			char *end;

			pid = strtol(p + 1, &end, 10);
			dead = *end == '_' && pid > 0 &&
			       kill((pid_t)pid, 0) < 0 && errno == ESRCH;
		}
		if (dead || (lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
			     now - st.st_mtime > TMP_STALE_S)) {
			if (unlink(path) == 0)
				log_info("maildir: removed %s, left by a "
					 "delivery that did not finish", path);
		}
		free(path);
	}
	closedir(dir);
}

/* Creates OUTBOX and its tmp, new and cur folders where missing. */
static int maildir_prepare(struct maildir *m, char **error_r)
{
	static const char *const sub[] = { "tmp", "new", "cur" };
	size_t i;

	for (i = 0; i < sizeof sub / sizeof sub[0]; i++) {
		char *dir = xasprintf("%s/%s", m->path, sub[i]);
		int rc = util_mkdirs(dir);
		int e = errno;

		if (rc == 0 && access(dir, W_OK | X_OK) < 0) {
			rc = -1;
			e = errno;
		}
		if (rc < 0) {
			*error_r = xasprintf("maildir: cannot use %s: %s", dir,
					     strerror(e));
			free(dir);
			return -1;
		}
		free(dir);
	}
	sweep_tmp(m);
	m->ready = true;
	return 0;
}

static int write_all(int fd, struct iovec *iov, int iovcnt)
{
	while (iovcnt > 0) {
		ssize_t w = writev(fd, iov, iovcnt);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		while (iovcnt > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			iovcnt--;
		}
		if (iovcnt > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc, e;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	e = errno;
	close(fd);
	errno = e;
	return rc;
}

/* A file name no other writer uses: time, pid, a counter, randomness, the
 * host. Newly allocated. */
static char *unique_name(const struct maildir *m)
{
	struct timespec now;
	uint64_t rnd;

	clock_gettime(CLOCK_REALTIME, &now);
	if (util_random(&rnd, sizeof rnd) < 0)
		rnd = (uint64_t)now.tv_nsec * 0x9e3779b97f4a7c15u;
	return xasprintf("%lld.%ld_%lu.%016" PRIx64 ".%s",
			 (long long)now.tv_sec, (long)getpid(),
			 atomic_fetch_add(&maildir_counter, 1) + 1, rnd,
			 m->host);
}

/* Writes env then data to the new file `path`, synced and closed; removes
 * it again on failure. 0, or -1 with errno. */
static int write_new(const char *path, const struct buf *env,
		     const char *data, size_t len)
{
	struct iovec iov[2];
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	int e;

	if (fd < 0)
		return -1;   /* nothing of ours to remove (EEXIST: not ours) */
	iov[0].iov_base = env->data;
	iov[0].iov_len = env->len;
	iov[1].iov_base = (void *)data;
	iov[1].iov_len = len;
	if (write_all(fd, iov, 2) < 0 || fsync(fd) < 0) {
		e = errno;
		close(fd);
		unlink(path);
		errno = e;
		return -1;
	}
	if (close(fd) < 0) {
		e = errno;
		unlink(path);
		errno = e;
		return -1;
	}
	return 0;
}

static enum transport_result maildir_send(void *impl, const char *env_from,
					  struct transport_rcpt *rcpts,
					  size_t n, const char *data,
					  size_t len, char **error_r)
{
	struct maildir *m = impl;
	struct buf env = BUF_INIT;
	char *name, *tmp, *dst;
	const char *failed = NULL;     /* the path an I/O error was about */
	int e = 0;
	size_t i;

	if (!m->ready && maildir_prepare(m, error_r) < 0)
		return TRANSPORT_TEMPFAIL;
	buf_printf(&env, "%s: <%s>\n", TRANSPORT_MAILDIR_FROM, env_from);
	for (i = 0; i < n; i++)
		if (rcpts[i].code == 0)
			buf_printf(&env, "%s: <%s>\n", TRANSPORT_MAILDIR_TO,
				   rcpts[i].addr);
	name = unique_name(m);
	tmp = xasprintf("%s/%s", m->tmp, name);
	dst = xasprintf("%s/%s", m->new, name);
	if (write_new(tmp, &env, data, len) < 0) {
		e = errno;
		failed = tmp;
	} else if (rename(tmp, dst) < 0) {
		e = errno;
		failed = dst;
		unlink(tmp);
	} else if (fsync_dir(m->new) < 0) {
		/* Not durable: take it back, so that a retry cannot make a
		 * second copy of a transaction we report as not done. */
		e = errno;
		failed = m->new;
		unlink(dst);
	}
	if (failed == NULL) {
		for (i = 0; i < n; i++)
			if (rcpts[i].code == 0)
				rcpts[i].code = 250;
	} else {
		*error_r = xasprintf("maildir: %s: %s", failed, strerror(e));
		/* Look at the folders again next time: someone may have
		 * removed or replaced them. */
		m->ready = false;
	}
	buf_free(&env);
	free(name);
	free(tmp);
	free(dst);
	return failed == NULL ? TRANSPORT_OK : TRANSPORT_TEMPFAIL;
}

/* ---- sendmail: a sendmail-compatible program, by argv, never a shell ---- */

struct sendmail {
	char **argv;            /* NULL-terminated copy of outbound.sendmail */
	size_t argc;
	long timeout_s;
};

static void *sendmail_open(const struct conf *c, struct relays *shared,
			   char **error_r)
{
	const struct conf_strv *v = &c->outbound.sendmail_argv;
	struct sendmail *s;
	size_t i;

	if (v->n == 0 || v->v == NULL || v->v[0] == NULL ||
	    v->v[0][0] != '/') {
		*error_r = xstrdup("outbound.sendmail: the program must be "
				   "given as an absolute path");
		return NULL;
	}
	s = xcalloc(1, sizeof *s);
	s->argc = v->n;
	s->argv = xcalloc(v->n + 1, sizeof *s->argv);
	for (i = 0; i < v->n; i++)
		s->argv[i] = xstrdup(v->v[i]);
	s->timeout_s = c->outbound.timeout_s > 0 ? c->outbound.timeout_s : 60;
	if (s->timeout_s > 3600)
		s->timeout_s = 3600;
	return s;
}

static void sendmail_close(void *impl)
{
	struct sendmail *s = impl;
	size_t i;

	for (i = 0; i < s->argc; i++)
		free(s->argv[i]);
	free(s->argv);
	free(s);
}

static long long monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Starts argv with stdin reading from *in_r and stdout and stderr writing to
 * *out_r (both ours to close, non-blocking). Returns the pid, or -1 with
 * errno set. */
static pid_t sendmail_spawn(char *const *argv, int *in_r, int *out_r)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	int in[2] = { -1, -1 }, out[2] = { -1, -1 };
	pid_t pid = -1;
	int rc;

	/* Sockets rather than pipes: send(MSG_NOSIGNAL) cannot raise SIGPIPE
	 * when the program exits without reading. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) < 0)
		return -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, out) < 0) {
		rc = errno;
		goto close_in;
	}
	shutdown(in[0], SHUT_RD);
	shutdown(out[0], SHUT_WR);

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[1], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, out[1], 2);
	posix_spawnattr_init(&attr);
	/* The child starts clean: no blocked signals and the default action
	 * for all (the daemon ignores SIGPIPE, which exec would keep). */
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
					POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawn(&pid, argv[0], &fa, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	close(in[1]);
	close(out[1]);
	if (rc != 0) {
		close(out[0]);
		close(in[0]);
		errno = rc;
		return -1;
	}
	fcntl(in[0], F_SETFL, fcntl(in[0], F_GETFL) | O_NONBLOCK);
	fcntl(out[0], F_SETFL, fcntl(out[0], F_GETFL) | O_NONBLOCK);
	*in_r = in[0];
	*out_r = out[0];
	return pid;

close_in:
	close(in[0]);
	close(in[1]);
	errno = rc;
	return -1;
}

/* Keeps the start of the program's output, for the error message. */
static void keep_output(struct buf *output, const char *p, size_t n)
{
	size_t room = 0;

	if (output->len < SENDMAIL_OUTPUT_MAX)
		room = SENDMAIL_OUTPUT_MAX - output->len;
	buf_append(output, p, n < room ? n : room);
}

/* Feeds data to the program and collects its output until it has read
 * everything and closed its output, or the deadline passes. Returns 0, or -1
 * on a timeout. Sets *unread_r when the program stopped reading early. */
static int sendmail_talk(int in, int out, const char *data, size_t len,
			 long long deadline, struct buf *output,
			 bool *unread_r)
{
	size_t off = 0;
	char rb[512];

	*unread_r = false;
	if (len == 0) {
		close(in);
		in = -1;
	}
	while (in >= 0 || out >= 0) {
		struct pollfd p[2];
		long long left = deadline - monotonic_ms();
		int np = 0, pin = -1, pout = -1, r;

		if (left <= 0)
			break;
		if (out >= 0) {
			p[np].fd = out;
			p[np].events = POLLIN;
			pout = np++;
		}
		if (in >= 0) {
			p[np].fd = in;
			p[np].events = POLLOUT;
			pin = np++;
		}
		r = poll(p, (nfds_t)np, left > 1000000 ? 1000000 : (int)left);
		if (r < 0 && errno != EINTR)
			break;
		if (r <= 0)
			continue;
		if (pin >= 0 && p[pin].revents != 0) {
			ssize_t w = send(in, data + off, len - off,
					 MSG_NOSIGNAL);

			if (w < 0 && errno != EAGAIN && errno != EINTR) {
				*unread_r = true;
				close(in);
				in = -1;
			} else if (w > 0) {
				off += (size_t)w;
				if (off == len) {
					close(in);
					in = -1;
				}
			}
		}
		if (pout >= 0 && p[pout].revents != 0) {
			ssize_t rd = read(out, rb, sizeof rb);

			if (rd > 0) {
				keep_output(output, rb, (size_t)rd);
			} else if (rd == 0 ||
				   (errno != EAGAIN && errno != EINTR)) {
				close(out);
				out = -1;
			}
		}
	}
	if (in < 0 && out < 0)
		return 0;
	if (in >= 0) {
		*unread_r = true;
		close(in);
	}
	if (out >= 0)
		close(out);
	return -1;
}

/* Waits for pid until the deadline, then kills it. Returns its status, or
 * -1 when it had to be killed. */
static int sendmail_wait(pid_t pid, long long deadline)
{
	long sleep_us = 200;
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR)
			return -1;
		if (monotonic_ms() >= deadline)
			break;
		{
			struct timespec ts = { 0, sleep_us * 1000 };

			nanosleep(&ts, NULL);
		}
		if (sleep_us < 50000)
			sleep_us *= 2;
	}
	kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return -1;
}

static enum transport_result sendmail_send(void *impl, const char *env_from,
					   struct transport_rcpt *rcpts,
					   size_t n, const char *data,
					   size_t len, char **error_r)
{
	struct sendmail *s = impl;
	struct buf output = BUF_INIT;
	char out_s[SENDMAIL_OUTPUT_MAX + 8];
	const char **argv;
	long long deadline;
	enum transport_result res;
	bool unread, timed_out;
	int in = -1, out = -1, status;
	size_t i, k = 0;
	pid_t pid;

	argv = xcalloc(s->argc + 3 + n + 1, sizeof *argv);
	for (i = 0; i < s->argc; i++)
		argv[k++] = s->argv[i];
	argv[k++] = "-f";
	argv[k++] = env_from[0] != '\0' ? env_from : "<>";
	argv[k++] = "--";
	for (i = 0; i < n; i++)
		if (rcpts[i].code == 0)
			argv[k++] = rcpts[i].addr;
	argv[k] = NULL;

	pid = sendmail_spawn((char *const *)argv, &in, &out);
	free(argv);
	if (pid < 0) {
		*error_r = xasprintf("sendmail: cannot run %s: %s", s->argv[0],
				     strerror(errno));
		return TRANSPORT_TEMPFAIL;
	}
	deadline = monotonic_ms() + (long long)s->timeout_s * 1000;
	timed_out = sendmail_talk(in, out, data, len, deadline, &output,
				  &unread) < 0;
	status = sendmail_wait(pid, deadline);
	log_sanitize(out_s, sizeof out_s, output.data ? output.data : "",
		     output.len);
	buf_free(&output);

	if (timed_out || status < 0) {
		*error_r = xasprintf("sendmail: %s timed out after %lds%s%s",
				     s->argv[0], s->timeout_s,
				     out_s[0] ? ": " : "", out_s);
		return TRANSPORT_TEMPFAIL;
	}
	if (WIFSIGNALED(status)) {
		*error_r = xasprintf("sendmail: %s killed by signal %d%s%s",
				     s->argv[0], WTERMSIG(status),
				     out_s[0] ? ": " : "", out_s);
		return TRANSPORT_TEMPFAIL;
	}
	if (WEXITSTATUS(status) == 0 && !unread) {
		for (i = 0; i < n; i++)
			if (rcpts[i].code == 0)
				rcpts[i].code = 250;
		return TRANSPORT_OK;
	}
	if (WEXITSTATUS(status) == 0) {
		*error_r = xasprintf("sendmail: %s exited before reading the "
				     "whole message", s->argv[0]);
		return TRANSPORT_TEMPFAIL;
	}
	/* As Postfix maps sysexits: only these two are transient. */
	res = WEXITSTATUS(status) == EX_TEMPFAIL ||
	      WEXITSTATUS(status) == EX_OSERR ? TRANSPORT_TEMPFAIL :
						 TRANSPORT_PERMFAIL;
	*error_r = xasprintf("sendmail: %s exited with status %d%s%s",
			     s->argv[0], WEXITSTATUS(status),
			     out_s[0] ? ": " : "", out_s);
	return res;
}
