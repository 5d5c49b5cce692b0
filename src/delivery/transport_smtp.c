/* transport_smtp - SMTP and LMTP to the next hop over libetpan's session
 *
 * libetpan gives us the stream (timeouts, TLS), the greeting, STARTTLS, SASL
 * and QUIT. The transaction itself (EHLO with our own name, MAIL with XVERP
 * and SIZE, PIPELINING, the message in one write) is written here on that
 * same stream: libetpan's EHLO always sends gethostname(), its commands wait
 * for each reply, and mailsmtp_data_message() adds an empty line to a
 * message that ends in a line end. */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <libetpan/libetpan.h>

#include "delivery/transport.h"
#include "transport_int.h"
#include "delivery/relays.h"
#include "base/buf.h"
#include "base/conf.h"
#include "base/dl.h"
#include "base/log.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "mail/msg.h"

/* libetpan's session side (the stream, STARTTLS over GnuTLS, SASL) comes
 * from its shared library, loaded at the first connection. Linked into the
 * program it would bring GnuTLS, Cyrus SASL, Berkeley DB and the libraries
 * they need into every start (about 1.5 ms each), `convene receive` among
 * them, which never connects; the parser is linked from libetpan's static
 * archive when there is one (configure). ETPAN_SONAME comes from
 * configure. */
#define ETPAN_FNS(X) \
	X(mailesmtp_auth_sasl) \
	X(mailsmtp_connect) \
	X(mailsmtp_free) \
	X(mailsmtp_new) \
	X(mailsmtp_quit) \
	X(mailsmtp_set_timeout) \
	X(mailsmtp_socket_starttls) \
	X(mailsmtp_strerror) \
	X(mailstream_close) \
	X(mailstream_flush) \
	X(mailstream_read_line_remove_eol) \
	X(mailstream_socket_open_timeout) \
	X(mailstream_write)

static struct {
#define DECLARE(f) __typeof__(f) *f;
	ETPAN_FNS(DECLARE)
#undef DECLARE
} ef;
static char *ef_error;          /* why it could not be loaded, or NULL */
static pthread_once_t ef_once = PTHREAD_ONCE_INIT;

static void ef_load(void)
{
	static const struct dl_fn fns[] = {
#define ENTRY(f) DL_FN(ef, f),
		ETPAN_FNS(ENTRY)
#undef ENTRY
	};

	(void)dl_load(ETPAN_SONAME, fns, sizeof fns / sizeof fns[0],
		      &ef_error);
}

/* Commands sent before reading their replies, at most: well below what the
 * socket buffers hold, so that neither side can block the other
 * (RFC 2920 section 3.1). */
#define PIPELINE_MAX 100

/* Bounds on a reply from the server: the text kept for messages, and the
 * number of lines read before we call it broken. */
#define REPLY_TEXT_MAX 1024
#define REPLY_LINES_MAX 1000

struct smtp {
	/* Settings (copies: the transport outlives a reloaded conf). */
	bool lmtp;
	char *host;             /* NULL for LMTP over a unix socket */
	char *sock_path;        /* LMTP: the unix socket, or NULL */
	int port;
	char *peer;             /* "host:port" or "unix:path", for messages */
	char *helo;
	bool starttls, xverp;
	char *auth_user, *auth_password;
	long timeout_s;

	/* The session, NULL while there is none. */
	mailsmtp *session;
	int fd;
	bool reused;            /* a transaction ran on it: RSET first */
	bool tls;
	bool local_peer;        /* loopback or a unix socket */
	bool pipelining, ext_starttls, ext_xverp, ext_size, ext_8bitmime;
	struct buf auth_mechs;  /* " PLAIN LOGIN " as offered */
	bool warned_xverp;

	struct buf out;         /* commands on their way out */
	struct buf wire;        /* the message as sent: CRLF, dot-stuffed */
	struct buf reply;       /* the last reply, lines joined with '\n' */
	int code;               /* its code; 0 when the session broke */
	bool broke;             /* the last transaction lost its session */
	bool peer_failed;       /* the last send could not open a session or
				   lost it: refused, timed out, dropped */
};

/* What the dispatch holds: one peer (host:port or a socket), or one per
 * relay of outbound.relays with the set that chooses among them. */
struct smtp_set {
	struct smtp **peer;
	size_t n;
	struct relays *relays;  /* NULL with one peer */
	bool own_relays;        /* made here (no shared set was given) */
};

/* ---- SIGPIPE: libetpan writes with send(fd, ..., 0) ---- */

/* A write to a connection the server closed raises SIGPIPE in the writing
 * thread. Block it around our I/O and discard what it left pending, so the
 * transport works whatever the process does with the signal. */
struct sigpipe_guard {
	sigset_t old;
	bool was_pending;
};

static void sigpipe_block(struct sigpipe_guard *g)
{
	sigset_t pipe_set, pending;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigemptyset(&pending);
	sigpending(&pending);
	g->was_pending = sigismember(&pending, SIGPIPE) == 1;
	pthread_sigmask(SIG_BLOCK, &pipe_set, &g->old);
}

static void sigpipe_restore(struct sigpipe_guard *g)
{
	sigset_t pipe_set, pending;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigemptyset(&pending);
	if (!g->was_pending && sigpending(&pending) == 0 &&
	    sigismember(&pending, SIGPIPE) == 1) {
		struct timespec zero = { 0, 0 };

		while (sigtimedwait(&pipe_set, NULL, &zero) < 0 &&
		       errno == EINTR)
			;
	}
	pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

/* ---- small helpers ---- */

static const char *proto(const struct smtp *s)
{
	return s->lmtp ? "lmtp" : "smtp";
}

/* "PROTO PEER: WHAT: REPLY" with the server's text made safe. */
static char *reply_error(const struct smtp *s, const char *what)
{
	char text[REPLY_TEXT_MAX + 8];
	char *flat;
	size_t i;

	if (s->code == 0 || s->reply.len == 0)
		return xasprintf("%s %s: %s: connection lost or timed out",
				 proto(s), s->peer, what);
	flat = xstrndup(s->reply.data, s->reply.len);
	for (i = 0; i < s->reply.len; i++)
		if (flat[i] == '\n')
			flat[i] = ' ';
	log_sanitize(text, sizeof text, flat, s->reply.len);
	free(flat);
	return xasprintf("%s %s: %s: %s", proto(s), s->peer, what, text);
}

/* libetpan's record of the last reply it read (greeting, AUTH, STARTTLS):
 * the texts of its lines, each ending in '\n'. */
static char *etpan_reply(const struct smtp *s)
{
	const char *resp = s->session->response;
	char text[REPLY_TEXT_MAX + 8];
	char *flat;
	size_t len, i;

	if (resp == NULL || s->session->response_code <= 0)
		return xstrdup("no reply (connection closed or timed out)");
	len = strlen(resp);
	while (len > 0 && resp[len - 1] == '\n')
		len--;
	flat = xstrndup(resp, len);
	for (i = 0; i < len; i++)
		if (flat[i] == '\n')
			flat[i] = ' ';
	log_sanitize(text, sizeof text, flat, len);
	free(flat);
	return xasprintf("%d %s", s->session->response_code, text);
}

static bool text_ok(const char *p)
{
	for (; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return false;
	return true;
}

/* ---- open and close ---- */

/* One peer: `host`:`port`, or the LMTP socket of outbound.path when host
 * is NULL and there is one. */
static struct smtp *smtp_new(const struct conf *c, const char *host, int port,
			     char **error_r)
{
	const struct conf_outbound *o = &c->outbound;
	const char *helo = o->helo != NULL ? o->helo : c->domain;
	struct smtp *s;

	if (helo == NULL || helo[0] == '\0' || !text_ok(helo)) {
		*error_r = xstrdup("outbound.helo: need a host name to "
				   "introduce ourselves (or set domain)");
		return NULL;
	}
	if (o->auth_user != NULL && o->auth_password == NULL) {
		*error_r = xstrdup("outbound.auth_user needs "
				   "outbound.auth_password");
		return NULL;
	}
	s = xcalloc(1, sizeof *s);
	s->lmtp = o->transport == TRANSPORT_LMTP;
	s->port = port > 0 ? port : s->lmtp ? 24 : 25;
	if (host == NULL && s->lmtp && o->path != NULL && o->path[0] != '\0') {
		struct sockaddr_un un;

		s->sock_path = xstrdup(o->path);
		s->peer = xasprintf("unix:%s", o->path);
		if (strlen(o->path) >= sizeof un.sun_path) {
			*error_r = xasprintf("outbound.path: socket path too "
					     "long: %s", o->path);
			goto fail;
		}
	} else {
		if (host == NULL)
			host = o->host;
		if (host == NULL || host[0] == '\0' || !text_ok(host)) {
			*error_r = xstrdup("outbound.host: need the relay's "
					   "host name or address");
			goto fail;
		}
		if (s->port > 65535) {
			*error_r = xasprintf("outbound.port: %d is not a port",
					     s->port);
			goto fail;
		}
		s->host = xstrdup(host);
		s->peer = strchr(host, ':') != NULL ?
			  xasprintf("[%s]:%d", host, s->port) :
			  xasprintf("%s:%d", host, s->port);
	}
	s->helo = xstrdup(helo);
	s->starttls = o->starttls;
	s->xverp = o->verp == VERP_XVERP;
	if (o->auth_user != NULL) {
		s->auth_user = xstrdup(o->auth_user);
		s->auth_password = xstrdup(o->auth_password);
	}
	s->timeout_s = o->timeout_s > 0 ? o->timeout_s : 60;
	if (s->timeout_s > 3600)
		s->timeout_s = 3600;
	s->fd = -1;
	return s;

fail:
	free(s->sock_path);
	free(s->peer);
	free(s);
	return NULL;
}

/* Ends the session: politely (QUIT) when it is in order, else just closes. */
static void session_drop(struct smtp *s, bool quit)
{
	if (s->session == NULL)
		return;
	if (quit)
		ef.mailsmtp_quit(s->session);
	if (s->session->stream != NULL) {
		ef.mailstream_close(s->session->stream);
		s->session->stream = NULL;
	}
	ef.mailsmtp_free(s->session);
	s->session = NULL;
	s->fd = -1;
	s->reused = false;
	s->tls = false;
}

static void smtp_free(struct smtp *s)
{
	struct sigpipe_guard g;

	sigpipe_block(&g);
	session_drop(s, true);
	sigpipe_restore(&g);
	free(s->host);
	free(s->sock_path);
	free(s->peer);
	free(s->helo);
	free(s->auth_user);
	if (s->auth_password != NULL) {
		explicit_bzero(s->auth_password, strlen(s->auth_password));
		free(s->auth_password);
	}
	buf_free(&s->auth_mechs);
	buf_free(&s->out);
	buf_free(&s->wire);
	buf_free(&s->reply);
	free(s);
}

void *transport_smtp_open(const struct conf *c, struct relays *shared,
			  char **error_r)
{
	const struct conf_outbound *o = &c->outbound;
	struct smtp_set *set = xcalloc(1, sizeof *set);
	size_t i;

	if (o->nrelays == 0) {
		set->n = 1;
		set->peer = xcalloc(1, sizeof *set->peer);
		set->peer[0] = smtp_new(c, NULL, o->port, error_r);
		if (set->peer[0] == NULL)
			goto fail;
		return set;
	}
	set->relays = shared;
	if (set->relays == NULL) {
		set->relays = relays_new(c);
		set->own_relays = true;
	}
	set->n = relays_count(set->relays);
	set->peer = xcalloc(set->n, sizeof *set->peer);
	for (i = 0; i < set->n; i++) {
		set->peer[i] = smtp_new(c, o->relays[i].host,
					o->relays[i].port, error_r);
		if (set->peer[i] == NULL)
			goto fail;
	}
	return set;
fail:
	transport_smtp_close(set);
	return NULL;
}

void transport_smtp_close(void *impl)
{
	struct smtp_set *set = impl;
	size_t i;

	for (i = 0; i < set->n; i++)
		if (set->peer[i] != NULL)
			smtp_free(set->peer[i]);
	free(set->peer);
	if (set->own_relays)
		relays_free(&set->relays);
	free(set);
}

/* ---- the wire ---- */

/* Writes len bytes in one go: libetpan copies up to 8 KB into its buffer
 * and writes a larger block directly, so either way one flush sends it. */
static int send_bytes(struct smtp *s, const char *data, size_t len)
{
	mailstream *st = s->session->stream;

	if (len > 0 && (ef.mailstream_write(st, data, len) < 0 ||
			ef.mailstream_flush(st) < 0))
		return -1;
	return 0;
}

static int send_out(struct smtp *s)
{
	int rc = send_bytes(s, s->out.data, s->out.len);

	buf_reset(&s->out);
	return rc;
}

/* Reads one (possibly multi-line) reply into s->reply and s->code. Returns
 * the code, or 0 when the session broke (closed, timed out, or not
 * speaking SMTP). */
static int read_reply(struct smtp *s)
{
	int lines = 0;

	buf_reset(&s->reply);
	s->code = 0;
	for (;;) {
		char *line = ef.mailstream_read_line_remove_eol(
			s->session->stream, s->session->line_buffer);
		size_t len;
		int code;

		/* At the end of the stream libetpan returns "" rather than
		 * NULL: that fails the checks below too. */
		if (line == NULL)
			return s->code = 0;
		len = strlen(line);
		if (len < 3 || line[0] < '1' || line[0] > '5' ||
		    line[1] < '0' || line[1] > '9' ||
		    line[2] < '0' || line[2] > '9' ||
		    (len > 3 && line[3] != ' ' && line[3] != '-') ||
		    ++lines > REPLY_LINES_MAX)
			return s->code = 0;
		code = (line[0] - '0') * 100 + (line[1] - '0') * 10 +
		       (line[2] - '0');
		if (s->reply.len < REPLY_TEXT_MAX) {
			size_t room = REPLY_TEXT_MAX - s->reply.len;

			if (s->reply.len > 0)
				buf_putc(&s->reply, '\n');
			buf_append(&s->reply, line, len < room ? len : room);
		}
		if (len == 3 || line[3] == ' ') {
			s->code = code;
			return code;
		}
	}
}

/* ---- connecting ---- */

static bool sockaddr_is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_UNIX)
		return true;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 =
			(const struct sockaddr_in6 *)sa;

		return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) ||
		       (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) &&
			in6->sin6_addr.s6_addr[12] == 127);
	}
	return false;
}

/* connect() within the timeout on a non-blocking socket. 0 or -1 (errno). */
static int connect_timeout(int fd, const struct sockaddr *sa, socklen_t salen,
			   long timeout_s)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int err = 0, r;
	socklen_t elen = sizeof err;

	if (connect(fd, sa, salen) == 0)
		return 0;
	if (errno != EINPROGRESS && errno != EINTR)
		return -1;
	do
		r = poll(&p, 1, (int)(timeout_s * 1000));
	while (r < 0 && errno == EINTR);
	if (r == 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	if (r < 0)
		return -1;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
		return -1;
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}

/* The socket is ready for libetpan: blocking (its writes treat EAGAIN as an
 * error) but with a send timeout, so that a stalled server cannot hold a
 * long write forever; no Nagle delay before the server's reply. */
static int socket_ready(struct smtp *s, int fd)
{
	struct timeval tv = { .tv_sec = s->timeout_s };
	int one = 1;

	if (!s->sock_path)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	return fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
}

/* Opens the connection. Returns the fd, or -1 with *error_r. */
static int dial(struct smtp *s, char **error_r)
{
	int fd = -1, e = 0;

	if (s->sock_path != NULL) {
		struct sockaddr_un un = { .sun_family = AF_UNIX };

		snprintf(un.sun_path, sizeof un.sun_path, "%s", s->sock_path);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
			    0);
		if (fd < 0 || connect_timeout(fd, (struct sockaddr *)&un,
					      sizeof un, s->timeout_s) < 0) {
			e = errno;
			if (fd >= 0)
				close(fd);
			fd = -1;
		}
		s->local_peer = true;
	} else {
		struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
					  .ai_flags = AI_NUMERICSERV };
		struct addrinfo *res = NULL, *ai;
		char port[16];
		int rc;

		snprintf(port, sizeof port, "%d", s->port);
		rc = getaddrinfo(s->host, port, &hints, &res);
		if (rc != 0) {
			const char *why = rc == EAI_SYSTEM ? strerror(errno) :
							     gai_strerror(rc);

			*error_r = xasprintf("%s %s: cannot resolve: %s",
					     proto(s), s->peer, why);
			return -1;
		}
		e = EHOSTUNREACH;
		for (ai = res; ai != NULL; ai = ai->ai_next) {
			fd = socket(ai->ai_family, ai->ai_socktype |
				    SOCK_CLOEXEC | SOCK_NONBLOCK,
				    ai->ai_protocol);
			if (fd < 0) {
				e = errno;
				continue;
			}
			if (connect_timeout(fd, ai->ai_addr, ai->ai_addrlen,
					    s->timeout_s) == 0) {
				s->local_peer = sockaddr_is_loopback(
					ai->ai_addr);
				break;
			}
			e = errno;
			close(fd);
			fd = -1;
		}
		freeaddrinfo(res);
	}
	if (fd < 0) {
		*error_r = xasprintf("%s %s: cannot connect: %s", proto(s),
				     s->peer, strerror(e));
		return -1;
	}
	/* libetpan waits with select(): a descriptor past FD_SETSIZE would
	 * abort the process (its cancel pipe takes two more). */
	if (fd >= FD_SETSIZE - 8) {
		close(fd);
		*error_r = xasprintf("%s %s: too many open files for "
				     "libetpan (descriptor %d)", proto(s),
				     s->peer, fd);
		return -1;
	}
	if (socket_ready(s, fd) < 0) {
		e = errno;
		close(fd);
		*error_r = xasprintf("%s %s: %s", proto(s), s->peer,
				     strerror(e));
		return -1;
	}
	return fd;
}

static bool keyword(const char *line, const char *kw, const char **rest_r)
{
	size_t n = strlen(kw);

	if (strncasecmp(line, kw, n) != 0 ||
	    (line[n] != '\0' && line[n] != ' ' && line[n] != '='))
		return false;
	if (rest_r != NULL)
		*rest_r = line + n;
	return true;
}

/* Reads the extensions from the EHLO/LHLO reply in s->reply. */
static void parse_ehlo(struct smtp *s)
{
	const char *p = s->reply.data;
	bool first = true;

	s->pipelining = s->ext_starttls = s->ext_xverp = false;
	s->ext_size = s->ext_8bitmime = false;
	buf_reset(&s->auth_mechs);
	s->session->esmtp = MAILSMTP_ESMTP;
	s->session->auth = MAILSMTP_AUTH_CHECKED;
	while (p != NULL && *p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		char *line = xstrndup(p, len);
		const char *kw = len > 4 ? line + 4 : "", *rest;

		if (first) {
			first = false;
		} else if (keyword(kw, "PIPELINING", NULL)) {
			s->pipelining = true;
			s->session->esmtp |= MAILSMTP_ESMTP_PIPELINING;
		} else if (keyword(kw, "STARTTLS", NULL)) {
			s->ext_starttls = true;
			/* mailsmtp_socket_starttls() looks for this flag. */
			s->session->esmtp |= MAILSMTP_ESMTP_STARTTLS;
		} else if (keyword(kw, "XVERP", NULL)) {
			s->ext_xverp = true;
		} else if (keyword(kw, "SIZE", NULL)) {
			s->ext_size = true;
			s->session->esmtp |= MAILSMTP_ESMTP_SIZE;
		} else if (keyword(kw, "8BITMIME", NULL)) {
			s->ext_8bitmime = true;
			s->session->esmtp |= MAILSMTP_ESMTP_8BITMIME;
		} else if (keyword(kw, "AUTH", &rest) && *rest != '\0') {
			buf_printf(&s->auth_mechs, " %s ", rest + 1);
		}
		free(line);
		p = nl != NULL ? nl + 1 : NULL;
	}
}

static enum transport_result hello(struct smtp *s, char **error_r)
{
	int code;

	buf_printf(&s->out, "%s %s\r\n", s->lmtp ? "LHLO" : "EHLO", s->helo);
	code = send_out(s) < 0 ? 0 : read_reply(s);
	if (code >= 200 && code < 300) {
		parse_ehlo(s);
		return TRANSPORT_OK;
	}
	/* An old server: no ESMTP, so no extensions either. */
	if (!s->lmtp && code >= 500) {
		buf_printf(&s->out, "HELO %s\r\n", s->helo);
		code = send_out(s) < 0 ? 0 : read_reply(s);
		if (code >= 200 && code < 300) {
			buf_reset(&s->reply);
			parse_ehlo(s);
			s->session->esmtp = 0;
			return TRANSPORT_OK;
		}
	}
	*error_r = reply_error(s, s->lmtp ? "LHLO" : "EHLO/HELO");
	return TRANSPORT_TEMPFAIL;
}

static bool mech_offered(const struct smtp *s, const char *mech)
{
	char *w = xasprintf(" %s ", mech);
	bool yes = s->auth_mechs.data != NULL &&
		   strcasestr(s->auth_mechs.data, w) != NULL;

	free(w);
	return yes;
}

static enum transport_result authenticate(struct smtp *s, char **error_r)
{
	/* A password in the clear only over TLS or to this machine. */
	static const char *const clear[] = { "PLAIN", "LOGIN", "CRAM-MD5",
					     NULL };
	static const char *const hashed[] = { "CRAM-MD5", NULL };
	const char *const *m = s->tls || s->local_peer ? clear : hashed;
	int r;

	for (; *m != NULL; m++)
		if (mech_offered(s, *m))
			break;
	if (*m == NULL) {
		*error_r = xasprintf("%s %s: no AUTH mechanism we can use%s "
				     "(offered:%s)", proto(s), s->peer,
				     s->tls ? "" : " without TLS",
				     s->auth_mechs.len ? s->auth_mechs.data
						       : " none");
		return TRANSPORT_TEMPFAIL;
	}
	/* libetpan asks the SASL library for the mechanism before it sends
	 * anything: when that fails no reply is read, and the last one on
	 * record is the greeting's. */
	s->session->response_code = 0;
	r = ef.mailesmtp_auth_sasl(s->session, *m,
				s->host != NULL ? s->host : "localhost",
				NULL, NULL, s->auth_user, s->auth_user,
				s->auth_password, NULL);
	if (r == MAILSMTP_NO_ERROR)
		return TRANSPORT_OK;
	if (r == MAILSMTP_ERROR_NOT_IMPLEMENTED) {
		*error_r = xasprintf("%s %s: cannot AUTH: libetpan was built "
				     "without SASL support", proto(s), s->peer);
	} else if (r == MAILSMTP_ERROR_AUTH_LOGIN &&
		   s->session->response_code == 0) {
		*error_r = xasprintf("%s %s: cannot AUTH %s: no SASL mechanism "
				     "%s was available to the client (on "
				     "Debian: install libsasl2-modules)",
				     proto(s), s->peer, *m, *m);
	} else {
		char *reply = etpan_reply(s);

		*error_r = xasprintf("%s %s: AUTH %s as %s failed: %s",
				     proto(s), s->peer, *m, s->auth_user,
				     reply);
		free(reply);
	}
	return TRANSPORT_TEMPFAIL;
}

/* Connects, reads the greeting, says hello, and does STARTTLS and AUTH as
 * configured. On failure there is no session and *error_r says why. */
static enum transport_result session_open(struct smtp *s, char **error_r)
{
	mailstream *stream;
	enum transport_result res;
	int fd, r;

	pthread_once(&ef_once, ef_load);
	if (ef_error != NULL) {
		*error_r = xasprintf("%s %s: %s", proto(s), s->peer, ef_error);
		return TRANSPORT_TEMPFAIL;
	}
	fd = dial(s, error_r);
	if (fd < 0)
		return TRANSPORT_TEMPFAIL;
	stream = ef.mailstream_socket_open_timeout(fd, s->timeout_s);
	if (stream == NULL)
		log_fatal("out of memory");
	s->session = ef.mailsmtp_new(0, NULL);
	if (s->session == NULL)
		log_fatal("out of memory");
	/* For the TLS layer; the plain stream got its timeout above (libetpan's
	 * own connect would leave it at the 300 s default). */
	ef.mailsmtp_set_timeout(s->session, s->timeout_s);
	s->fd = fd;
	r = ef.mailsmtp_connect(s->session, stream);
	if (r != MAILSMTP_NO_ERROR) {
		/* libetpan closed the stream; the reply is still there. */
		char *reply = etpan_reply(s);

		*error_r = xasprintf("%s %s: greeting: %s", proto(s), s->peer,
				     reply);
		free(reply);
		session_drop(s, false);
		return TRANSPORT_TEMPFAIL;
	}
	res = hello(s, error_r);
	if (res == TRANSPORT_OK && s->starttls) {
		if (!s->ext_starttls) {
			*error_r = xasprintf("%s %s: STARTTLS is required but "
					     "not offered", proto(s), s->peer);
			res = TRANSPORT_TEMPFAIL;
		} else if ((r = ef.mailsmtp_socket_starttls(s->session)) !=
			   MAILSMTP_NO_ERROR) {
			char *reply = etpan_reply(s);

			*error_r = xasprintf("%s %s: STARTTLS failed: %s (%s)",
					     proto(s), s->peer,
					     ef.mailsmtp_strerror(r), reply);
			free(reply);
			res = TRANSPORT_TEMPFAIL;
		} else {
			s->tls = true;
			res = hello(s, error_r);
		}
	}
	if (res == TRANSPORT_OK && s->auth_user != NULL)
		res = authenticate(s, error_r);
	if (res != TRANSPORT_OK) {
		session_drop(s, s->code != 0);
		return res;
	}
	if (s->xverp && !s->ext_xverp && !s->warned_xverp) {
		log_warn("%s %s does not offer XVERP: sending without it",
			 proto(s), s->peer);
		s->warned_xverp = true;
	}
	return TRANSPORT_OK;
}

/* An idle session may have been closed by the server (often with a 421
 * first): anything to read now means it is no longer usable. */
static bool session_idle_ok(struct smtp *s)
{
	struct pollfd p = { .fd = s->fd, .events = POLLIN };

	if (s->session->stream->read_buffer_len > 0)
		return false;
	/* Under TLS the socket can hold records for the TLS layer alone
	 * (TLS 1.3 session tickets): there, a dead session shows on RSET,
	 * and the transaction is retried on a new one. */
	if (s->tls)
		return true;
	return poll(&p, 1, 0) == 0;
}

/* ---- the transaction ---- */

/* Whether a sender is VERP-encoded already (a probe's names its member):
 * XVERP would append the recipient a second time. Bounce addresses of
 * lists have no '+' of their own (list names cannot hold one). */
static bool names_recipient(const char *env_from)
{
	const char *at = strrchr(env_from, '@');

	return memchr(env_from, '+', at != NULL ? (size_t)(at - env_from) :
			strlen(env_from)) != NULL;
}

enum step { STEP_RSET, STEP_MAIL, STEP_RCPT, STEP_DATA };

struct txn {
	struct transport_rcpt *rcpts;
	enum step pend[PIPELINE_MAX];
	size_t pend_rcpt[PIPELINE_MAX];
	size_t npend;
	bool broken;            /* the session is gone */
	bool mail_answered;     /* MAIL got a reply (nothing to retry after) */
	bool mail_ok;
	bool data_go;           /* DATA got 354 */
	size_t accepted;
	int fail_code;          /* the reply that failed the transaction */
	const char *fail_what;
	char *fail_text;
};

static void txn_fail(struct smtp *s, struct txn *x, const char *what)
{
	if (x->fail_text != NULL)
		return;
	x->fail_code = s->code;
	x->fail_what = what;
	x->fail_text = reply_error(s, what);
}

/* Sends what is queued and reads a reply for each pending command. */
static void txn_sync(struct smtp *s, struct txn *x)
{
	size_t k;

	if (send_out(s) < 0) {
		x->broken = true;
		s->code = 0;
		txn_fail(s, x, "sending commands");
	}
	for (k = 0; k < x->npend && !x->broken; k++) {
		int code = read_reply(s);
		bool ok = code >= 200 && code < 300;

		if (code == 0 || code == 421) {
			/* 421: the server is closing the session. */
			x->broken = true;
			if (x->pend[k] == STEP_MAIL)
				x->mail_answered = code != 0;
			txn_fail(s, x, x->pend[k] == STEP_RSET ? "RSET" :
				       x->pend[k] == STEP_MAIL ? "MAIL FROM" :
				       x->pend[k] == STEP_RCPT ? "RCPT TO" :
								 "DATA");
			break;
		}
		switch (x->pend[k]) {
		case STEP_RSET:
			if (!ok) {
				x->broken = true;
				txn_fail(s, x, "RSET");
			}
			break;
		case STEP_MAIL:
			x->mail_answered = true;
			x->mail_ok = ok;
			if (!ok)
				txn_fail(s, x, "MAIL FROM");
			break;
		case STEP_RCPT:
			if (x->mail_ok) {
				x->rcpts[x->pend_rcpt[k]].code = code;
				if (ok)
					x->accepted++;
			}
			break;
		case STEP_DATA:
			if (code == 354)
				x->data_go = true;
			else if (x->mail_ok && x->accepted > 0)
				txn_fail(s, x, "DATA");
			break;
		}
	}
	x->npend = 0;
}

/* Queues a command; without PIPELINING (or at a sync point, or with a full
 * pipeline) sends and reads at once. */
static void txn_push(struct smtp *s, struct txn *x, enum step st, size_t i)
{
	x->pend[x->npend] = st;
	x->pend_rcpt[x->npend] = i;
	x->npend++;
	if (!s->pipelining || st == STEP_DATA || x->npend == PIPELINE_MAX)
		txn_sync(s, x);
}

static enum transport_result code_result(int code)
{
	return code >= 500 && code < 600 ? TRANSPORT_PERMFAIL :
					   TRANSPORT_TEMPFAIL;
}

/* Sends RSET (on a reused session), MAIL, RCPT and DATA, pipelined where
 * the server allows, and reads their replies into x. */
static void txn_envelope(struct smtp *s, struct txn *x, const char *env_from,
			 struct transport_rcpt *rcpts, size_t n, bool eightbit)
{
	size_t i;

	if (s->reused) {
		buf_puts(&s->out, "RSET\r\n");
		txn_push(s, x, STEP_RSET, 0);
	}
	s->reused = true;
	if (!x->broken) {
		buf_printf(&s->out, "MAIL FROM:<%s>", env_from);
		if (s->xverp && s->ext_xverp && env_from[0] != '\0' &&
		    !names_recipient(env_from))
			buf_puts(&s->out, " XVERP");
		if (s->ext_size)
			buf_printf(&s->out, " SIZE=%zu", s->wire.len);
		if (eightbit && s->ext_8bitmime)
			buf_puts(&s->out, " BODY=8BITMIME");
		buf_puts(&s->out, "\r\n");
		txn_push(s, x, STEP_MAIL, 0);
	}
	for (i = 0; i < n && !x->broken; i++) {
		if (rcpts[i].code != 0)
			continue;
		if (!s->pipelining && !x->mail_ok)
			break;
		buf_printf(&s->out, "RCPT TO:<%s>\r\n", rcpts[i].addr);
		txn_push(s, x, STEP_RCPT, i);
	}
	/* With PIPELINING, DATA goes with the recipients and the server turns
	 * it down when none was accepted (RFC 2920); without, we ask only
	 * when there is someone to send to. */
	if (!x->broken && (s->pipelining || (x->mail_ok && x->accepted > 0))) {
		buf_puts(&s->out, "DATA\r\n");
		txn_push(s, x, STEP_DATA, 0);
	}
	if (x->npend > 0 && !x->broken)
		txn_sync(s, x);
	if (!x->broken && x->data_go && (!x->mail_ok || x->accepted == 0)) {
		/* Only a server that ignores RFC 2920 says 354 here; an
		 * empty message to nobody ends it. */
		buf_puts(&s->out, ".\r\n");
		if (send_out(s) < 0 || read_reply(s) == 0)
			x->broken = true;
		x->data_go = false;
	}
}

/* After the server said 354: the message, then its reply (SMTP) or one
 * reply per accepted recipient (LMTP) into rcpts. */
static enum transport_result txn_data(struct smtp *s, struct txn *x,
				      struct transport_rcpt *rcpts, size_t n)
{
	enum transport_result res = TRANSPORT_OK;
	size_t i;

	/* The whole message in one write: no Nagle stall before the dot. */
	if (send_bytes(s, s->wire.data, s->wire.len) < 0) {
		x->broken = true;
		s->code = 0;
		txn_fail(s, x, "sending the message");
		return TRANSPORT_TEMPFAIL;
	}
	if (!s->lmtp) {
		int code = read_reply(s);

		if (code == 0 || code == 421)
			x->broken = true;
		if (code < 200 || code >= 300) {
			txn_fail(s, x, "end of data");
			res = code_result(code);
		}
		return res;
	}
	/* LMTP: one reply per accepted recipient, in order. A recipient whose
	 * reply never came is retried. */
	for (i = 0; i < n; i++) {
		int code;

		if (rcpts[i].code < 200 || rcpts[i].code >= 300)
			continue;
		code = x->broken ? 0 : read_reply(s);
		if (code == 0 || code == 421) {
			if (!x->broken)
				log_warn("%s %s: session lost while reading "
					 "the replies to the message",
					 proto(s), s->peer);
			x->broken = true;
			code = 451;
		}
		rcpts[i].code = code;
	}
	return res;
}

/* Runs one transaction on the open session. *retry_r is set when the
 * session turned out to be dead before the server took anything, so that
 * the caller can try again on a new one. */
static enum transport_result txn_run(struct smtp *s, const char *env_from,
				     struct transport_rcpt *rcpts, size_t n,
				     bool eightbit, char **error_r,
				     bool *retry_r)
{
	struct txn x = { .rcpts = rcpts };
	enum transport_result res = TRANSPORT_OK;

	*retry_r = false;
	txn_envelope(s, &x, env_from, rcpts, n, eightbit);
	if (x.broken) {
		*retry_r = !x.mail_answered;
		res = TRANSPORT_TEMPFAIL;
	} else if (!x.mail_ok || (x.accepted > 0 && !x.data_go)) {
		res = code_result(x.fail_code);
	} else if (x.accepted > 0) {
		res = txn_data(s, &x, rcpts, n);
	}
	/* else nobody was accepted: the caller has each recipient's reply */
	if (res != TRANSPORT_OK && x.fail_text != NULL) {
		*error_r = x.fail_text;
		x.fail_text = NULL;
	} else if (res != TRANSPORT_OK) {
		*error_r = reply_error(s, "transaction");
	}
	free(x.fail_text);
	s->broke = x.broken;
	if (x.broken)
		session_drop(s, false);
	return res;
}

/* One transaction to one peer. Sets s->peer_failed when no session could
 * be had or the session was lost. */
static enum transport_result smtp_send(struct smtp *s, const char *env_from,
				       struct transport_rcpt *rcpts, size_t n,
				       const char *data, size_t len,
				       char **error_r)
{
	struct sigpipe_guard g;
	enum transport_result res;
	bool eightbit, retry, was_open;
	int attempt;

	s->peer_failed = false;
	/* The data as it goes on the wire (CRLF, dot-stuffed) and the
	 * final dot line. */
	buf_reset(&s->wire);
	eightbit = msg_to_smtp_data(data, len, &s->wire);
	buf_append(&s->wire, ".\r\n", 3);
	sigpipe_block(&g);
	for (attempt = 0;; attempt++) {
		if (s->session != NULL && !session_idle_ok(s))
			session_drop(s, false);
		was_open = s->session != NULL;
		if (!was_open) {
			res = session_open(s, error_r);
			if (res != TRANSPORT_OK) {
				s->peer_failed = true;
				break;
			}
		}
		res = txn_run(s, env_from, rcpts, n, eightbit, error_r, &retry);
		s->peer_failed = s->broke;
		/* A reused session that died while idle: once more, afresh. */
		if (res == TRANSPORT_TEMPFAIL && retry && was_open &&
		    attempt == 0) {
			free(*error_r);
			*error_r = NULL;
			continue;
		}
		break;
	}
	sigpipe_restore(&g);
	/* Do not keep a large message's buffer between transactions. */
	if (s->wire.cap > 1024 * 1024)
		buf_free(&s->wire);
	return res;
}

/* With several relays: the transaction goes to the relay whose turn it is;
 * when that relay refuses, times out or drops the session before the
 * transaction is done, it is skipped for a while and the whole transaction
 * goes to the next relay (the dropped one may have taken the message just
 * before it went: those recipients can get it twice, nobody gets it never).
 * Only when every relay is being skipped does the transaction fail
 * transiently, and the job waits for its retry. A relay that answers, even
 * with 4xx or 5xx, has done its part: its answer stands. */
static enum transport_result relays_send(struct smtp_set *set,
					 const char *env_from,
					 struct transport_rcpt *rcpts,
					 size_t n, const char *data,
					 size_t len, char **error_r)
{
	unsigned long long tried = 0;
	enum transport_result res = TRANSPORT_TEMPFAIL;
	int *codes = xcalloc(n ? n : 1, sizeof *codes);
	char *last_error = NULL;
	size_t k;
	int i;

	/* The dispatch has set the codes of unusable addresses already. */
	for (k = 0; k < n; k++)
		codes[k] = rcpts[k].code;
	while ((i = relays_pick(set->relays, util_now(), tried)) >= 0) {
		struct smtp *s = set->peer[i];
		char *err = NULL;

		tried |= 1ULL << i;
		for (k = 0; k < n; k++)
			rcpts[k].code = codes[k];
		res = smtp_send(s, env_from, rcpts, n, data, len, &err);
		if (!s->peer_failed) {
			if (relays_ok(set->relays, (size_t)i))
				log_info("relay %s: back in use",
					 relays_name(set->relays, (size_t)i));
			free(last_error);
			*error_r = err;
			free(codes);
			return res;
		}
		if (relays_failed(set->relays, (size_t)i, util_now()))
			log_warn("relay %s: skipped for %lds: %s",
				 relays_name(set->relays, (size_t)i),
				 relays_skipped_for(set->relays, (size_t)i,
						    util_now()),
				 err != NULL ? err : "session lost");
		if (res != TRANSPORT_TEMPFAIL) {
			/* The answers came before the session was lost (LMTP
			 * replies after DATA): they stand, and the missing
			 * ones are retried later. */
			free(last_error);
			*error_r = err;
			free(codes);
			return res;
		}
		free(last_error);
		last_error = err;
	}
	for (k = 0; k < n; k++)
		rcpts[k].code = codes[k];
	free(codes);
	*error_r = xasprintf("no relay to take it (every relay is being "
			     "skipped)%s%s", last_error != NULL ? ": " : "",
			     last_error != NULL ? last_error : "");
	free(last_error);
	return TRANSPORT_TEMPFAIL;
}

enum transport_result transport_smtp_send(void *impl, const char *env_from,
					  struct transport_rcpt *rcpts,
					  size_t n, const char *data,
					  size_t len, char **error_r)
{
	struct smtp_set *set = impl;

	if (set->relays == NULL)
		return smtp_send(set->peer[0], env_from, rcpts, n, data, len,
				 error_r);
	return relays_send(set, env_from, rcpts, n, data, len, error_r);
}
