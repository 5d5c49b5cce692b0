/* cmd_lmtp - the MTA's entry point over LMTP: convene lmtp */
#include "autoconf.h"

#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/conf.h"
#include "base/log.h"
#include "base/privs.h"
#include "base/status.h"
#include "base/xalloc.h"
#include "front/front.h"
#include "front/lmtp_server.h"
#include "pipeline/intake.h"

/* The first descriptor systemd passes (sd_listen_fds(3)). */
#define LISTEN_FDS_START 3

/* A listening socket systemd handed over (socket activation), or -1. */
static int activated_socket(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	int fd = -1;

	if (pid != NULL && fds != NULL && atol(pid) == (long)getpid() &&
	    atoi(fds) >= 1)
		fd = LISTEN_FDS_START;
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return fd;
}

/* Binds a Unix socket at path. A socket file left by a listener that died
 * is replaced; one that a live listener answers on is not. */
static int listen_unix(const char *path, unsigned mode)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct stat st;

	if (fd < 0)
		return -1;
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (probe >= 0 && connect(probe, (struct sockaddr *)&sa,
					  sizeof sa) == 0) {
			close(probe);
			close(fd);
			fprintf(stderr, "convene: another listener answers on "
				"%s\n", path);
			errno = EADDRINUSE;
			return -1;
		}
		if (probe >= 0)
			close(probe);
		unlink(path);
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    chmod(path, (mode_t)mode) < 0 || listen(fd, SOMAXCONN) < 0) {
		int e = errno;

		fprintf(stderr, "convene: cannot listen on unix:%s: %s\n",
			path, strerror(e));
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int listen_tcp(const char *host, int port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res = NULL, *ai;
	char service[16];
	int fd = -1, on = 1, rc;

	snprintf(service, sizeof service, "%d", port);
	rc = getaddrinfo(host, service, &hints, &res);
	if (rc != 0) {
		fprintf(stderr, "convene: %s: %s\n", host, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, SOMAXCONN) == 0)
			break;
		close(fd);
		fd = -1;
	}
	if (fd < 0)
		fprintf(stderr, "convene: cannot listen on %s:%d: %s\n", host,
			port, strerror(errno));
	freeaddrinfo(res);
	return fd;
}

/* The command line. ST_OK, or ST_USAGE (told). */
static enum status parse_args(int argc, char **argv, const char **listen_r,
			      const char **user_r)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "user", required_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "l:u:", longopts, NULL)) != -1) {
		if (opt == 'l') {
			*listen_r = optarg;
		} else if (opt == 'u') {
			*user_r = optarg;
		} else {
			fprintf(stderr, "usage: convene lmtp [--listen "
				"unix:PATH|HOST:PORT] [--user USER]\n");
			return ST_USAGE;
		}
	}
	if (*user_r == NULL && geteuid() == 0) {
		fprintf(stderr, "convene: the LMTP listener does not run as "
			"root: give --user USER\n");
		return ST_USAGE;
	}
	return ST_OK;
}

/* The socket to serve: the one systemd passed, else l's. *unlink_r when
 * it is a Unix socket made here (the listener removes it at the end). The
 * descriptor, or -1 (told). */
static int open_socket(const struct conf *c, const struct conf_listen *l,
		       bool *unlink_r)
{
	int fd = activated_socket();

	*unlink_r = false;
	if (fd >= 0)
		return fd;
	if (l->path == NULL)
		return listen_tcp(l->host, l->port);
	fd = listen_unix(l->path, c->lmtp.socket_mode);
	*unlink_r = fd >= 0;
	return fd;
}

/* Drops to user, the socket at path (or NULL) made over to it first, so
 * that it stays the listener's to remove. 0, or -1 (told). */
static int drop_to(const char *user, const char *path)
{
	struct passwd *pw = getpwnam(user);
	char *error = NULL;

	if (path != NULL && pw != NULL &&
	    chown(path, pw->pw_uid, pw->pw_gid) < 0)
		log_warn("lmtp: chown %s: %m", path);
	if (privs_drop(user, &error) < 0) {
		fprintf(stderr, "convene: %s\n", error);
		free(error);
		return -1;
	}
	return 0;
}

/* Signals go to the listener's loop only: blocked here, before any thread
 * starts, and read from the signalfd returned (or -1). */
static int signals_fd(void)
{
	sigset_t sigs;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	sigdelset(&sigs, SIGPIPE);
	return signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
}

/* The configured listen address, or --listen's (in *given). NULL (told)
 * when --listen does not parse. */
static const struct conf_listen *listen_address(const struct conf *c,
						const char *spec,
						struct conf_listen *given)
{
	const char *err = NULL;
	char *cwd;
	int r;

	if (spec == NULL)
		return &c->lmtp.listen;
	cwd = getcwd(NULL, 0);
	r = conf_parse_listen(spec, cwd, given, &err);
	free(cwd);
	if (r < 0) {
		fprintf(stderr, "convene: --listen %s: %s\n", spec, err);
		return NULL;
	}
	return given;
}

int cmd_lmtp(int argc, char **argv, const char *config)
{
	const char *listen_spec = NULL, *user = NULL;
	struct conf_listen given = { 0 };
	const struct conf_listen *l;
	struct lmtp_server_args a = { .config_path = config, .signal_fd = -1 };
	struct conf *c;
	struct intake *ik = NULL;
	char *error = NULL, *path = NULL;
	enum status st = parse_args(argc, argv, &listen_spec, &user);
	int fd = -1, ret;
	bool unlink_at_end = false;

	if (st != ST_OK)
		return status_to_exit(st);
	c = front_load_conf(config);
	if (c == NULL)
		return status_to_exit(ST_CONFIG);
	l = listen_address(c, listen_spec, &given);
	st = l == NULL ? ST_USAGE : ST_TEMPFAIL;
	if (l == NULL || (fd = open_socket(c, l, &unlink_at_end)) < 0)
		goto out;
	path = unlink_at_end ? xstrdup(l->path) : NULL;
	if (user != NULL && drop_to(user, path) < 0) {
		st = ST_SOFTWARE;
		goto out;
	}
	a.signal_fd = signals_fd();
	ik = a.signal_fd < 0 ? NULL : intake_open(c, &error);
	if (ik == NULL) {
		fprintf(stderr, "convene: %s\n",
			error != NULL ? error : "signalfd failed");
		free(error);
		goto out;
	}
	if (l->path != NULL)
		log_info("lmtp: listening on unix:%s", l->path);
	else
		log_info("lmtp: listening on %s:%d", l->host, l->port);
	a.listen_fd = fd;
	a.c = c;
	a.ik = ik;
	/* The server owns c from here (a reload replaces it). */
	c = NULL;
	ret = lmtp_server_run(&a);
	log_info("lmtp: stopped");
	st = ret < 0 ? ST_TEMPFAIL : ST_OK;
out:
	if (fd >= 0)
		close(fd);
	intake_close(&ik);
	if (path != NULL)
		unlink(path);
	free(path);
	if (a.signal_fd >= 0)
		close(a.signal_fd);
	conf_listen_free(&given);
	conf_free(&c);
	return status_to_exit(st);
}
