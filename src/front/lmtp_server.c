/* lmtp_server - the LMTP listener's glue: sessions, the protocol, limits */
#include "autoconf.h"

#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "front/lmtp_server.h"
#include "base/buf.h"
#include "base/conf.h"
#include "base/log.h"
#include "base/status.h"
#include "base/xalloc.h"
#include "front/front.h"
#include "pipeline/intake.h"
#include "pipeline/receive.h"

/* A command line longer than this (RFC 5321 asks for 512) ends the
 * session. */
#define CMD_LINE_MAX 2048
#define READ_CHUNK 65536
/* Bad commands in a row before the session is ended. */
#define MAX_ERRORS 20
/* A session thread with no connection for this long ends. */
#define THREAD_IDLE_S 30

/* A config shared by the sessions that started under it. */
struct confref {
	struct conf *c;
	size_t refs;
};

struct server {
	struct lmtp_server_args *a;
	int stop_pipe[2];           /* readable once the server stops */
	pthread_mutex_t mu;
	pthread_cond_t idle_cv;
	struct confref *cur;
	size_t sessions;            /* connections accepted and not ended */
	/* Session threads: each serves one connection after another; a new
	 * connection goes to an idle one (conn_cv) before a thread is made. */
	pthread_cond_t conn_cv;
	int *conns;                 /* handed over, not yet taken */
	size_t nconns, capconns;
	size_t idle, threads;
	bool ending;                /* idle threads end */
	char name[256];
};

struct session {
	struct server *sv;
	int fd;
	struct confref *cr;
	const struct conf *c;
	char *in;
	size_t inlen, inpos;
	struct buf out;
	bool lhlo;
	char *from;                 /* NULL: no MAIL yet; "" the null sender */
	char **rcpts;
	size_t nrcpts;
	int errors;
	char peer[64];
};

enum rd { RD_OK, RD_EOF, RD_TIMEOUT, RD_STOP, RD_LONG, RD_ERROR };

/* ---- configs ---- */

static struct confref *conf_get(struct server *sv)
{
	struct confref *r;

	pthread_mutex_lock(&sv->mu);
	r = sv->cur;
	r->refs++;
	pthread_mutex_unlock(&sv->mu);
	return r;
}

static void conf_put(struct server *sv, struct confref *r)
{
	bool last;

	pthread_mutex_lock(&sv->mu);
	last = --r->refs == 0;
	pthread_mutex_unlock(&sv->mu);
	if (last) {
		conf_free(&r->c);
		free(r);
	}
}

/* ---- input and output ---- */

static void reply(struct session *ss, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void reply(struct session *ss, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof line - 3)
		n = (int)(sizeof line - 3);
	buf_append(&ss->out, line, (size_t)n);
	buf_append(&ss->out, "\r\n", 2);
}

/* Waits for fd to be ready for `events`, or the server to stop, for at
 * most the session time-out. */
static enum rd wait_fd(struct session *ss, short events)
{
	struct pollfd p[2] = {
		{ .fd = ss->fd, .events = events },
		{ .fd = ss->sv->stop_pipe[0], .events = POLLIN },
	};
	long ms = ss->c->lmtp.timeout_s * 1000L;
	int n;

	do {
		n = poll(p, 2, ms > INT32_MAX ? INT32_MAX : (int)ms);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return RD_ERROR;
	if (n == 0)
		return RD_TIMEOUT;
	if (p[0].revents != 0)
		return RD_OK;
	return RD_STOP;
}

static int flush_out(struct session *ss)
{
	size_t off = 0;

	while (off < ss->out.len) {
		ssize_t w = send(ss->fd, ss->out.data + off, ss->out.len - off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w > 0) {
			off += (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/* A client that stops reading is timed out too (a
			 * stop does not cut a reply short). */
			if (wait_fd(ss, POLLOUT) == RD_OK)
				continue;
		}
		buf_reset(&ss->out);
		return -1;
	}
	buf_reset(&ss->out);
	return 0;
}

/* More input. Replies are sent first when all input was used, so that a
 * client that pipelines gets them in one go. */
static enum rd fill(struct session *ss)
{
	ssize_t n;
	enum rd r;

	if (ss->out.len > 0 && flush_out(ss) < 0)
		return RD_ERROR;
	r = wait_fd(ss, POLLIN);
	if (r != RD_OK)
		return r;
	do {
		n = recv(ss->fd, ss->in, READ_CHUNK, 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return RD_ERROR;
	if (n == 0)
		return RD_EOF;
	ss->inlen = (size_t)n;
	ss->inpos = 0;
	return RD_OK;
}

/* One command line without its CRLF (or LF) into line[max]. */
static enum rd read_cmd(struct session *ss, char *line, size_t max,
			size_t *len_r)
{
	size_t len = 0;

	for (;;) {
		enum rd r;

		while (ss->inpos < ss->inlen) {
			char ch = ss->in[ss->inpos++];

			if (ch == '\n') {
				if (len > 0 && line[len - 1] == '\r')
					len--;
				line[len] = '\0';
				*len_r = len;
				return RD_OK;
			}
			if (len + 1 >= max)
				return RD_LONG;
			line[len++] = ch;
		}
		r = fill(ss);
		if (r != RD_OK)
			return r;
	}
}

enum run { RUN_NONE, RUN_TAKEN, RUN_CUT };

/* Within a line of DATA, the bytes up to its end go as they came: in one
 * append, counted in *seen as read_data counts each byte, and past `limit`
 * dropped (*toobig_r); RUN_CUT once more than `cap` came. RUN_NONE when
 * the next byte ends the line (or there is none). */
static enum run take_run(struct session *ss, struct buf *data, size_t limit,
			 size_t cap, size_t *seen, bool *toobig_r)
{
	const char *p = ss->in + ss->inpos, *q = p;
	const char *end = ss->in + ss->inlen;
	size_t n;

	while (q < end && *q != '\r' && *q != '\n')
		q++;
	if (q == p)
		return RUN_NONE;
	n = (size_t)(q - p);
	ss->inpos += n;
	*seen += n;
	if (!*toobig_r && data->len + n > limit)
		*toobig_r = true;
	if (!*toobig_r)
		buf_append(data, p, n);
	else if (*seen > cap)
		return RUN_CUT;
	return RUN_TAKEN;
}

/* The message up to the line with a single dot, dot-unstuffed, with LF
 * line ends, appended to data while it stays within `limit` bytes; past
 * that it is counted and dropped (*toobig_r), and reading stops once
 * `cap` bytes came (*cut_r): the client is cut off. */
static enum rd read_data(struct session *ss, struct buf *data, size_t limit,
			 size_t cap, bool *toobig_r, bool *cut_r)
{
	enum { BOL, MID, DOT, DOTCR, CR } state = BOL;
	size_t seen = 0;

	*toobig_r = *cut_r = false;
	for (;;) {
		enum rd r;

		while (ss->inpos < ss->inlen) {
			char ch;
			char o[2];
			size_t no = 0;

			if (state == MID) {
				enum run run = take_run(ss, data, limit, cap,
							&seen, toobig_r);

				if (run == RUN_CUT) {
					*cut_r = true;
					return RD_OK;
				}
				if (run == RUN_TAKEN)
					continue;
			}
			ch = ss->in[ss->inpos++];
			switch (state) {
			case DOT:
				if (ch == '\r') {
					state = DOTCR;
					continue;
				}
				if (ch == '\n')
					return RD_OK;
				/* A stuffed dot: it goes. */
				state = MID;
				break;
			case DOTCR:
				if (ch == '\n')
					return RD_OK;
				o[no++] = '\r';
				state = MID;
				break;
			case CR:
				/* CRLF is LF; a bare CR stays. */
				if (ch != '\n')
					o[no++] = '\r';
				state = MID;
				break;
			case BOL:
				if (ch == '.') {
					state = DOT;
					continue;
				}
				break;
			case MID:
				break;
			}
			if (ch == '\r') {
				state = CR;
			} else {
				o[no++] = ch;
				state = ch == '\n' ? BOL : MID;
			}
			if (no == 0)
				continue;
			seen += no;
			if (!*toobig_r && data->len + no > limit)
				*toobig_r = true;
			if (!*toobig_r)
				buf_append(data, o, no);
			else if (seen > cap) {
				*cut_r = true;
				return RD_OK;
			}
		}
		r = fill(ss);
		if (r != RD_OK)
			return r;
	}
}

/* ---- the protocol ---- */

static void txn_reset(struct session *ss)
{
	size_t i;

	xfree(&ss->from);
	for (i = 0; i < ss->nrcpts; i++)
		free(ss->rcpts[i]);
	xfree(&ss->rcpts);
	ss->nrcpts = 0;
}

/* The verb of a command line and what follows it. */
static bool verb(const char *line, const char *v, const char **rest_r)
{
	size_t n = strlen(v);

	if (strncasecmp(line, v, n) != 0 ||
	    (line[n] != '\0' && line[n] != ' '))
		return false;
	*rest_r = line + n + (line[n] == ' ');
	return true;
}

/* The path of "FROM:<addr> params" or "TO:<addr> params": newly allocated
 * address (may be empty) and the parameters after it, or NULL when the
 * syntax is wrong or the address has control bytes. */
static char *path_arg(const char *rest, const char *prefix,
		      const char **params_r)
{
	size_t n = strlen(prefix);
	const char *p, *end;

	if (strncasecmp(rest, prefix, n) != 0)
		return NULL;
	p = rest + n;
	while (*p == ' ')
		p++;
	if (*p != '<')
		return NULL;
	end = strchr(p, '>');
	if (end == NULL || end - p - 1 > 512)
		return NULL;
	for (const char *q = p + 1; q < end; q++)
		if ((unsigned char)*q < 0x21 || *q == 0x7f)
			return NULL;
	*params_r = end + 1;
	return xstrndup(p + 1, (size_t)(end - p - 1));
}

static size_t max_bytes(const struct conf *c)
{
	return (size_t)c->limits.max_message_kb * 1024;
}

static void cmd_lhlo(struct session *ss, const char *rest)
{
	if (*rest == '\0') {
		reply(ss, "501 5.5.4 LHLO needs a host name");
		return;
	}
	txn_reset(ss);
	ss->lhlo = true;
	reply(ss, "250-%s", ss->sv->name);
	reply(ss, "250-PIPELINING");
	reply(ss, "250-ENHANCEDSTATUSCODES");
	reply(ss, "250-8BITMIME");
	reply(ss, "250 SIZE %zu", max_bytes(ss->c));
}

static void cmd_mail(struct session *ss, const char *rest)
{
	const char *params, *size;
	char *from;

	if (!ss->lhlo) {
		reply(ss, "503 5.5.1 LHLO first");
		return;
	}
	if (ss->from != NULL) {
		reply(ss, "503 5.5.1 nested MAIL command");
		return;
	}
	from = path_arg(rest, "FROM:", &params);
	if (from == NULL) {
		reply(ss, "501 5.5.4 syntax: MAIL FROM:<address>");
		return;
	}
	size = strcasestr(params, "SIZE=");
	if (size != NULL && strtoull(size + 5, NULL, 10) > max_bytes(ss->c)) {
		free(from);
		reply(ss, "552 5.3.4 message too large (limit %zu bytes)",
		      max_bytes(ss->c));
		return;
	}
	ss->from = from;
	reply(ss, "250 2.1.0 ok");
}

static void cmd_rcpt(struct session *ss, const char *rest)
{
	const char *params;
	char *to;

	if (ss->from == NULL) {
		reply(ss, "503 5.5.1 MAIL first");
		return;
	}
	to = path_arg(rest, "TO:", &params);
	if (to == NULL || *to == '\0') {
		free(to);
		reply(ss, "501 5.5.4 syntax: RCPT TO:<address>");
		return;
	}
	if (ss->nrcpts >= (size_t)ss->c->lmtp.max_recipients) {
		free(to);
		reply(ss, "452 4.5.3 too many recipients");
		return;
	}
	if (receive_recipient(ss->c, to) != ST_OK) {
		struct status_reply r;

		status_to_reply(ST_NOUSER, &r);
		reply(ss, "%d %s <%s> %s", r.code, r.enhanced, to, r.text);
		free(to);
		return;
	}
	ss->rcpts = xreallocarray(ss->rcpts, ss->nrcpts + 1,
				  sizeof *ss->rcpts);
	ss->rcpts[ss->nrcpts++] = to;
	reply(ss, "250 2.1.5 ok");
}

/* DATA: the message, then one answer per recipient, each once the outcome
 * is on disk. Returns false when the session must end. */
static bool cmd_data(struct session *ss)
{
	struct buf data = BUF_INIT;
	size_t limit = max_bytes(ss->c), i, n = ss->nrcpts;
	bool toobig, cut;
	enum rd r;

	if (ss->from == NULL || n == 0) {
		reply(ss, "503 5.5.1 no valid recipients");
		return true;
	}
	reply(ss, "354 end with <CRLF>.<CRLF>");
	/* What an MTA's local delivery adds: the envelope sender, which tells
	 * a bounce (<>) from a message. */
	buf_printf(&data, "Return-Path: <%s>\n", ss->from);
	limit += data.len;
	/* A client that goes on past the limit is read to its end for as
	 * much again, so that it gets a clean 552, and cut off after. */
	r = read_data(ss, &data, limit, 2 * limit, &toobig, &cut);
	if (r != RD_OK) {
		buf_free(&data);
		if (r == RD_TIMEOUT)
			reply(ss, "421 4.4.2 time-out while reading the "
			      "message");
		else if (r == RD_STOP)
			reply(ss, "421 4.3.2 shutting down");
		return false;
	}
	if (toobig) {
		struct status_reply rp;

		status_to_reply(ST_TOOBIG, &rp);
		log_info("client=%s: refused: message over %ld KB", ss->peer,
			 ss->c->limits.max_message_kb);
		for (i = 0; i < n; i++)
			reply(ss, "%d %s <%s> %s", rp.code, rp.enhanced,
			      ss->rcpts[i], rp.text);
		buf_free(&data);
		txn_reset(ss);
		return !cut;
	}
	{
		struct intake_msg m = {
			.raw = buf_cstr(&data), .len = data.len,
			.rcpts = (const char *const *)ss->rcpts, .n = n,
		};

		m.status = xcalloc(n, sizeof *m.status);
		m.outcome = xcalloc(n, sizeof *m.outcome);
		intake_submit(ss->sv->a->ik, ss->c, &m);
		for (i = 0; i < n; i++) {
			struct status_reply rp;

			status_to_reply(m.status[i], &rp);
			if (m.status[i] == ST_OK)
				reply(ss, "%d %s <%s> %s: Message-ID <%s>",
				      rp.code, rp.enhanced, ss->rcpts[i],
				      incoming_outcome_name(m.outcome[i]),
				      m.logid);
			else
				reply(ss, "%d %s <%s> %s", rp.code,
				      rp.enhanced, ss->rcpts[i], rp.text);
		}
		free(m.status);
		free(m.outcome);
	}
	buf_free(&data);
	txn_reset(ss);
	return true;
}

/* One command; false when the session ends. */
static bool command(struct session *ss, const char *line)
{
	const char *rest;

	if (verb(line, "LHLO", &rest)) {
		cmd_lhlo(ss, rest);
	} else if (verb(line, "MAIL", &rest)) {
		cmd_mail(ss, rest);
	} else if (verb(line, "RCPT", &rest)) {
		cmd_rcpt(ss, rest);
	} else if (verb(line, "DATA", &rest)) {
		return cmd_data(ss);
	} else if (verb(line, "RSET", &rest)) {
		txn_reset(ss);
		reply(ss, "250 2.0.0 ok");
	} else if (verb(line, "NOOP", &rest)) {
		reply(ss, "250 2.0.0 ok");
	} else if (verb(line, "QUIT", &rest)) {
		reply(ss, "221 2.0.0 bye");
		return false;
	} else if (verb(line, "HELO", &rest) || verb(line, "EHLO", &rest)) {
		reply(ss, "500 5.5.1 this is LMTP: LHLO, not HELO or EHLO");
		ss->errors++;
	} else {
		reply(ss, "502 5.5.2 unknown command");
		ss->errors++;
	}
	if (ss->errors >= MAX_ERRORS) {
		reply(ss, "421 4.7.0 too many errors");
		return false;
	}
	return true;
}

static void session_run(struct session *ss)
{
	char line[CMD_LINE_MAX];

	reply(ss, "220 %s LMTP convene", ss->sv->name);
	for (;;) {
		size_t len;
		enum rd r = read_cmd(ss, line, sizeof line, &len);

		if (r == RD_LONG) {
			reply(ss, "500 5.5.2 line too long");
			log_info("client=%s: cut off: command line over %d "
				 "bytes", ss->peer, CMD_LINE_MAX);
			break;
		}
		if (r == RD_TIMEOUT) {
			reply(ss, "421 4.4.2 time-out");
			log_info("client=%s: cut off: idle for %lds", ss->peer,
				 ss->c->lmtp.timeout_s);
			break;
		}
		if (r == RD_STOP) {
			reply(ss, "421 4.3.2 shutting down");
			break;
		}
		if (r != RD_OK)
			break;
		if (!command(ss, line))
			break;
	}
	(void)flush_out(ss);
}

static void peer_name(int fd, char *out, size_t size);

/* One connection, from its greeting to its end. */
static void serve(struct server *sv, int fd, char *in)
{
	struct session *ss = xcalloc(1, sizeof *ss);

	ss->sv = sv;
	ss->fd = fd;
	ss->in = in;
	peer_name(fd, ss->peer, sizeof ss->peer);
	ss->cr = conf_get(sv);
	ss->c = ss->cr->c;
	session_run(ss);
	txn_reset(ss);
	buf_free(&ss->out);
	close(fd);
	conf_put(sv, ss->cr);
	free(ss);
}

/* The next connection handed over (sv->mu held), waiting for one at most
 * THREAD_IDLE_S; -1 when the thread is to end (it is counted out). */
static int next_conn(struct server *sv)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += THREAD_IDLE_S;
	sv->idle++;
	while (sv->nconns == 0 && !sv->ending)
		if (pthread_cond_timedwait(&sv->conn_cv, &sv->mu,
					   &until) != 0)
			break;
	sv->idle--;
	if (sv->nconns == 0) {
		sv->threads--;
		pthread_cond_broadcast(&sv->idle_cv);
		return -1;
	}
	return sv->conns[--sv->nconns];
}

struct start {
	struct server *sv;
	int fd;
};

/* A session thread: the connection it was made for, then the next ones
 * handed over while it is idle (no thread made and ended per connection,
 * as an MTA that opens a connection per message would have it). */
static void *session_main(void *arg)
{
	struct start *st = arg;
	struct server *sv = st->sv;
	int fd = st->fd;
	char *in = xmalloc(READ_CHUNK);

	free(st);
	while (fd >= 0) {
		serve(sv, fd, in);
		pthread_mutex_lock(&sv->mu);
		sv->sessions--;
		pthread_cond_broadcast(&sv->idle_cv);
		fd = next_conn(sv);
		pthread_mutex_unlock(&sv->mu);
	}
	free(in);
	return NULL;
}

/* ---- the listener ---- */

static void peer_name(int fd, char *out, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	char host[INET6_ADDRSTRLEN] = "?";

	snprintf(out, size, "local");
	if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0)
		return;
	if (ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr,
			  host, sizeof host);
	else if (ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr,
			  host, sizeof host);
	else
		return;
	snprintf(out, size, "%s", host);
}

static void start_session(struct server *sv, int fd)
{
	struct start *st;
	pthread_attr_t attr;
	pthread_t t;

	pthread_mutex_lock(&sv->mu);
	sv->sessions++;
	if (sv->idle > sv->nconns) {
		sv->conns = xreallocarray(sv->conns, sv->nconns + 1,
					  sizeof *sv->conns);
		sv->conns[sv->nconns++] = fd;
		pthread_cond_signal(&sv->conn_cv);
		pthread_mutex_unlock(&sv->mu);
		return;
	}
	sv->threads++;
	pthread_mutex_unlock(&sv->mu);
	st = xmalloc(sizeof *st);
	st->sv = sv;
	st->fd = fd;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, session_main, st) != 0) {
		log_error("lmtp: cannot start a session thread");
		close(fd);
		free(st);
		pthread_mutex_lock(&sv->mu);
		sv->sessions--;
		sv->threads--;
		pthread_cond_broadcast(&sv->idle_cv);
		pthread_mutex_unlock(&sv->mu);
	}
	pthread_attr_destroy(&attr);
}

/* Whether every session is taken. New connections then wait in the
 * listening socket's queue (as with Postfix's process limits) until one
 * ends, rather than being turned away. */
static bool full(struct server *sv, bool *said)
{
	bool f;

	pthread_mutex_lock(&sv->mu);
	f = sv->sessions >= (size_t)sv->cur->c->lmtp.max_sessions;
	pthread_mutex_unlock(&sv->mu);
	if (f && !*said)
		log_warn("lmtp: all %ld sessions busy: new connections wait",
			 sv->cur->c->lmtp.max_sessions);
	*said = f;
	return f;
}

static void reload(struct server *sv)
{
	struct conf *c = front_load_conf(sv->a->config_path);
	struct confref *r, *old;

	if (c == NULL) {
		log_error("lmtp: reload failed: keeping the old configuration");
		return;
	}
	r = xcalloc(1, sizeof *r);
	r->c = c;
	r->refs = 1;
	pthread_mutex_lock(&sv->mu);
	old = sv->cur;
	sv->cur = r;
	pthread_mutex_unlock(&sv->mu);
	conf_put(sv, old);
	log_info("lmtp: configuration reloaded");
}

int lmtp_server_run(struct lmtp_server_args *a)
{
	struct server sv = { .a = a };
	bool stop = false, said_full = false;
	int ret = 0;

	if (pipe(sv.stop_pipe) < 0) {
		conf_free(&a->c);
		return -1;
	}
	pthread_mutex_init(&sv.mu, NULL);
	pthread_cond_init(&sv.idle_cv, NULL);
	pthread_cond_init(&sv.conn_cv, NULL);
	sv.cur = xcalloc(1, sizeof *sv.cur);
	sv.cur->c = a->c;
	sv.cur->refs = 1;
	a->c = NULL;
	if (gethostname(sv.name, sizeof sv.name - 1) < 0 || sv.name[0] == '\0')
		snprintf(sv.name, sizeof sv.name, "%s", sv.cur->c->domain);
	while (!stop) {
		struct pollfd p[2] = {
			{ .fd = a->signal_fd, .events = POLLIN },
			{ .fd = a->listen_fd, .events = POLLIN },
		};
		bool busy = full(&sv, &said_full);
		/* While full, only signals are looked at, and the count again
		 * a tenth of a second later. */
		int n = poll(p, busy ? 1 : 2, busy ? 100 : -1), fd;

		if (n < 0 && errno != EINTR) {
			log_error("lmtp: poll: %m");
			ret = -1;
			break;
		}
		if (n > 0 && p[0].revents != 0) {
			struct signalfd_siginfo si;

			while (read(a->signal_fd, &si, sizeof si) ==
			       (ssize_t)sizeof si) {
				if (si.ssi_signo == SIGHUP)
					reload(&sv);
				else
					stop = true;
			}
		}
		if (stop || busy || n <= 0 || p[1].revents == 0)
			continue;
		fd = accept4(a->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EINTR && errno != EAGAIN &&
			    errno != ECONNABORTED)
				log_warn("lmtp: accept: %m");
			continue;
		}
		start_session(&sv, fd);
	}
	/* Every session sees the stop: an idle one is told 421, one whose
	 * message is being committed finishes. */
	(void)!write(sv.stop_pipe[1], "x", 1);
	pthread_mutex_lock(&sv.mu);
	while (sv.sessions > 0)
		pthread_cond_wait(&sv.idle_cv, &sv.mu);
	/* Every connection ended: the idle threads end too. */
	sv.ending = true;
	pthread_cond_broadcast(&sv.conn_cv);
	while (sv.threads > 0)
		pthread_cond_wait(&sv.idle_cv, &sv.mu);
	pthread_mutex_unlock(&sv.mu);
	free(sv.conns);
	conf_put(&sv, sv.cur);
	close(sv.stop_pipe[0]);
	close(sv.stop_pipe[1]);
	pthread_cond_destroy(&sv.idle_cv);
	pthread_cond_destroy(&sv.conn_cv);
	pthread_mutex_destroy(&sv.mu);
	return ret;
}
