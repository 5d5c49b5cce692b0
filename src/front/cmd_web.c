/* cmd_web - convene web: the HTTP glue (libmicrohttpd) around
 * pipeline/web.h, which decides every answer */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <microhttpd.h>

#include "base/buf.h"
#include "base/conf.h"
#include "base/dl.h"
#include "base/log.h"
#include "base/privs.h"
#include "base/status.h"
#include "base/xalloc.h"
#include "front/front.h"
#include "pipeline/web.h"
#include "store/store.h"

/* The pages load nothing but their stylesheet; forms post to the site. */
#define CSP "default-src 'none'; style-src 'self'; img-src 'self'; " \
	    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

/* libmicrohttpd (and GnuTLS, which it needs) is loaded when the server
 * starts, not linked: every other command, `convene receive` once per
 * message among them, would load it at its start and never serve a page.
 * MHD_SONAME comes from configure. */
#define MHD_FNS(X) \
	X(MHD_add_response_header) \
	X(MHD_create_response_from_buffer) \
	X(MHD_create_response_from_fd64) \
	X(MHD_destroy_response) \
	X(MHD_lookup_connection_value) \
	X(MHD_queue_response) \
	X(MHD_start_daemon) \
	X(MHD_stop_daemon)

static struct {
#define DECLARE(f) __typeof__(f) *f;
	MHD_FNS(DECLARE)
#undef DECLARE
} mf;

/* Loads the library once; false after saying why on standard error. */
static bool mhd_load(void)
{
	static const struct dl_fn fns[] = {
#define ENTRY(f) DL_FN(mf, f),
		MHD_FNS(ENTRY)
#undef ENTRY
	};
	static bool loaded;
	char *err = NULL;

	if (loaded)
		return true;
	if (dl_load(MHD_SONAME, fns, sizeof fns / sizeof fns[0], &err) < 0) {
		fprintf(stderr, "convene: web: %s\n", err);
		free(err);
		return false;
	}
	loaded = true;
	return true;
}

struct server {
	const char *config;
	struct conf *c;
	struct store *s;        /* used by the daemon's one thread only */
	struct MHD_Daemon *d;
};

/* One request's body, as it arrives. */
struct upload {
	struct buf body;
	bool too_big;
};

static struct MHD_Response *make_response(const struct web_response *rp)
{
	struct MHD_Response *r;
	struct stat sb;
	int fd;

	if (rp->file == NULL)
		return mf.MHD_create_response_from_buffer(
			rp->body.len, rp->body.data ? rp->body.data : "",
			MHD_RESPMEM_MUST_COPY);
	fd = open(rp->file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &sb) < 0) {
		close(fd);
		return NULL;
	}
	r = mf.MHD_create_response_from_fd64((uint64_t)sb.st_size, fd);
	if (r == NULL)
		close(fd);
	return r;
}

static enum MHD_Result answer(struct MHD_Connection *conn,
			      const struct web_response *rp)
{
	struct MHD_Response *r = make_response(rp);
	enum MHD_Result ret;
	int status = rp->status;

	if (r == NULL) {
		r = mf.MHD_create_response_from_buffer(0, (void *)"",
						    MHD_RESPMEM_PERSISTENT);
		status = MHD_HTTP_NOT_FOUND;
		if (r == NULL)
			return MHD_NO;
	}
	mf.MHD_add_response_header(r, "Content-Type", rp->content_type);
	mf.MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	mf.MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	mf.MHD_add_response_header(r, "Content-Security-Policy", CSP);
	mf.MHD_add_response_header(r, "Cache-Control",
				rp->no_store ? "no-store" : "max-age=60");
	if (rp->location != NULL)
		mf.MHD_add_response_header(r, "Location", rp->location);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		mf.MHD_add_response_header(r, "Allow", rp->post_only_get ?
					"GET, HEAD" : "GET, HEAD, POST");
	ret = mf.MHD_queue_response(conn, (unsigned int)status, r);
	mf.MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct server *sv = cls;
	struct upload *up = *con_cls;
	struct web_request rq = { 0 };
	struct web_response rp = { 0 };
	enum MHD_Result ret;

	(void)version;
	if (up == NULL) {
		*con_cls = xcalloc(1, sizeof *up);
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		if (up->body.len + *upload_data_size > WEB_BODY_MAX)
			up->too_big = true;
		else
			buf_append(&up->body, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (up->too_big) {
		rp.status = MHD_HTTP_CONTENT_TOO_LARGE;
		rp.content_type = "text/plain; charset=utf-8";
		rp.no_store = true;
		return answer(conn, &rp);
	}
	rq.method = method;
	rq.path = url;
	rq.query = mf.MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND,
					       "q");
	rq.body = buf_cstr(&up->body);
	rq.body_len = up->body.len;
	rq.content_type = mf.MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						      "Content-Type");
	web_handle(sv->s, sv->c, &rq, &rp);
	ret = answer(conn, &rp);
	web_response_free(&rp);
	return ret;
}

static void on_done(void *cls, struct MHD_Connection *conn, void **con_cls,
		    enum MHD_RequestTerminationCode toe)
{
	struct upload *up = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (up != NULL) {
		buf_free(&up->body);
		free(up);
		*con_cls = NULL;
	}
}

static void server_stop(struct server *sv)
{
	if (sv->d != NULL)
		mf.MHD_stop_daemon(sv->d);
	sv->d = NULL;
	store_close(&sv->s);
	conf_free(&sv->c);
}

/* Loads the config and opens the store. */
static enum status server_load(struct server *sv)
{
	sv->c = front_load_conf(sv->config);
	if (sv->c == NULL)
		return ST_CONFIG;
	sv->s = front_open_store(sv->c);
	return sv->s != NULL ? ST_OK : ST_TEMPFAIL;
}

/* Starts listening on host:port (NULL: web.listen). */
static enum status server_listen(struct server *sv, const char *host,
				 int port)
{
	struct addrinfo hints = { 0 }, *ai = NULL;
	char portstr[16];
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD |
			     MHD_USE_ERROR_LOG;
	int rc;

	if (!mhd_load())
		return ST_TEMPFAIL;
	if (host == NULL) {
		host = sv->c->web.listen_host;
		port = sv->c->web.listen_port;
	}
	snprintf(portstr, sizeof portstr, "%d", port);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	rc = getaddrinfo(host, portstr, &hints, &ai);
	if (rc != 0) {
		fprintf(stderr, "convene: web: %s: %s\n", host,
			gai_strerror(rc));
		return ST_USAGE;
	}
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	sv->d = mf.MHD_start_daemon(flags, (uint16_t)port, NULL, NULL,
				 on_request, sv,
				 MHD_OPTION_SOCK_ADDR, ai->ai_addr,
				 MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL,
				 MHD_OPTION_CONNECTION_LIMIT, 256u,
				 MHD_OPTION_CONNECTION_TIMEOUT, 30u,
				 MHD_OPTION_END);
	freeaddrinfo(ai);
	if (sv->d == NULL) {
		fprintf(stderr, "convene: web: cannot listen on %s:%d\n",
			host, port);
		return ST_TEMPFAIL;
	}
	log_info("web: listening on %s:%d", host, port);
	return ST_OK;
}

/* SIGHUP: a new config and store; when they cannot be had, or the new
 * address cannot be listened on, the old ones go on serving. (The daemon
 * is handed sv itself, which stays where it is.) */
static enum status server_reload(struct server *sv, const char *host,
				 int port)
{
	struct server fresh = { .config = sv->config };
	struct conf *old_c = sv->c;
	struct store *old_s = sv->s;

	if (server_load(&fresh) != ST_OK) {
		server_stop(&fresh);
		log_error("web: reload failed: keeping the old configuration");
		return ST_OK;
	}
	mf.MHD_stop_daemon(sv->d);
	sv->d = NULL;
	sv->c = fresh.c;
	sv->s = fresh.s;
	if (server_listen(sv, host, port) == ST_OK) {
		store_close(&old_s);
		conf_free(&old_c);
		log_info("web: configuration reloaded");
		return ST_OK;
	}
	server_stop(sv);
	sv->c = old_c;
	sv->s = old_s;
	log_error("web: reload failed: keeping the old configuration");
	return server_listen(sv, host, port);
}

int cmd_web(int argc, char **argv, const char *config)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "user", required_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 },
	};
	struct server sv = { .config = config };
	const char *user = NULL;
	char *host = NULL, *err = NULL;
	int port = 0, opt, sig;
	sigset_t set;
	enum status st;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "l:u:", longopts, NULL)) != -1) {
		if (opt == 'l' && host == NULL &&
		    conf_parse_hostport(optarg, &host, &port) == 0)
			continue;
		if (opt == 'u') {
			user = optarg;
			continue;
		}
		fprintf(stderr, "usage: convene web [--listen HOST:PORT] "
			"[--user USER]\n");
		free(host);
		return status_to_exit(ST_USAGE);
	}
	if (optind != argc) {
		fprintf(stderr, "usage: convene web [--listen HOST:PORT] "
			"[--user USER]\n");
		free(host);
		return status_to_exit(ST_USAGE);
	}
	if (user != NULL && privs_drop(user, &err) < 0) {
		fprintf(stderr, "convene: %s\n", err);
		free(err);
		free(host);
		return status_to_exit(ST_SOFTWARE);
	}
	if (geteuid() == 0) {
		fprintf(stderr, "convene: web does not run as root: give "
			"--user USER\n");
		free(host);
		return status_to_exit(ST_USAGE);
	}
	/* The daemon's thread inherits this mask: the signals come here. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	st = server_load(&sv);
	if (st == ST_OK)
		st = server_listen(&sv, host, port);
	if (st != ST_OK) {
		server_stop(&sv);
		free(host);
		return status_to_exit(st);
	}
	while (sigwait(&set, &sig) == 0 && sig == SIGHUP)
		if (server_reload(&sv, host, port) != ST_OK)
			break;
	log_info("web: stopped");
	server_stop(&sv);
	free(host);
	return status_to_exit(ST_OK);
}
