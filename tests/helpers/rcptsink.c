/* rcptsink - a small SMTP sink that answers RCPT per address, for the tests
 *
 * usage: rcptsink [-x] [-s SOFTFILE] [-h HARDFILE] [-b N -B DIR] -D DUMPFILE
 *                 HOST:PORT
 *
 * Postfix's smtp-sink can turn down every RCPT, but not some addresses and
 * not others; this server can. It listens on HOST:PORT (a loopback address)
 * and serves each connection in a forked child. RCPT TO an address listed in
 * SOFTFILE (one a line) gets "451", one in HARDFILE gets "550", any other
 * "250". It offers PIPELINING (it answers commands in order, as they come),
 * and with -x Postfix's XVERP (the MAIL line's parameters are dumped).
 * Each finished transaction (after the final ".") is appended to DUMPFILE in
 * smtp-sink's dump format, restricted to what the tests read:
 *   X-Mail-Args: <sender>
 *   X-Rcpt-Args: <rcpt>        (one line per ACCEPTED recipient)
 *   (an empty line)
 * with one write(2) per transaction on an O_APPEND descriptor, so that the
 * children never interleave. Runs until SIGTERM; a child ends with its
 * session, or when the parent dies.
 *
 * With -b N -B DIR, the first N transactions to reach the end of their data
 * are answered only once all N are there at the same time (each leaves a
 * file in DIR): a client that runs fewer than N transactions side by side
 * gets "451" for them after 20 s instead. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_LEN 4096

/* A sorted list of addresses. */
struct addrs {
	char **v;
	size_t n;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int load_addrs(const char *path, struct addrs *a)
{
	char line[LINE_MAX_LEN];
	size_t cap = 0;
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		perror(path);
		return -1;
	}
	while (fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0')
			continue;
		if (a->n == cap) {
			cap = cap ? cap * 2 : 64;
			a->v = realloc(a->v, cap * sizeof *a->v);
			if (a->v == NULL) {
				fclose(f);
				return -1;
			}
		}
		a->v[a->n] = strdup(line);
		if (a->v[a->n] == NULL) {
			fclose(f);
			return -1;
		}
		a->n++;
	}
	fclose(f);
	if (a->n > 0)
		qsort(a->v, a->n, sizeof *a->v, cmp_str);
	return 0;
}

static int listed(const struct addrs *a, const char *addr)
{
	return a->n > 0 &&
	       bsearch(&addr, a->v, a->n, sizeof *a->v, cmp_str) != NULL;
}

/* ---- one session ---- */

struct conn {
	int fd;
	char in[LINE_MAX_LEN * 2];
	size_t have, pos;
};

/* Reads one line (without its CRLF) into line; 0 on end of input. Overlong
 * lines are cut. */
static int read_line(struct conn *c, char *line, size_t size)
{
	size_t n = 0;

	for (;;) {
		if (c->pos == c->have) {
			ssize_t r = read(c->fd, c->in, sizeof c->in);

			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				return 0;
			c->have = (size_t)r;
			c->pos = 0;
		}
		while (c->pos < c->have) {
			char ch = c->in[c->pos++];

			if (ch == '\n') {
				if (n > 0 && line[n - 1] == '\r')
					n--;
				line[n] = '\0';
				return 1;
			}
			if (n + 1 < size)
				line[n++] = ch;
		}
	}
}

static void reply(int fd, const char *text)
{
	size_t len = strlen(text), off = 0;

	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		off += (size_t)w;
	}
}

/* The transaction being built: the dump record, grown as RCPTs arrive. */
struct record {
	char *text;
	size_t len, cap;
	int mail;              /* MAIL was accepted */
	size_t rcpts;          /* recipients accepted */
};

static void record_add(struct record *r, const char *a, const char *b)
{
	size_t need = strlen(a) + strlen(b) + 2;

	if (r->len + need + 1 > r->cap) {
		r->cap = (r->len + need + 1) * 2;
		r->text = realloc(r->text, r->cap);
		if (r->text == NULL)
			exit(1);
	}
	r->len += (size_t)sprintf(r->text + r->len, "%s%s\n", a, b);
}

static void record_reset(struct record *r)
{
	r->len = 0;
	r->mail = 0;
	r->rcpts = 0;
}

/* The address inside <...> of "TO:<addr> ARGS", copied to out. */
static void angle_addr(const char *arg, char *out, size_t size)
{
	const char *lt = strchr(arg, '<'), *gt;
	size_t n;

	out[0] = '\0';
	if (lt == NULL || (gt = strchr(lt, '>')) == NULL)
		return;
	n = (size_t)(gt - lt - 1);
	if (n >= size)
		n = size - 1;
	memcpy(out, lt + 1, n);
	out[n] = '\0';
}

static int offer_xverp;

static int barrier_n;
static const char *barrier_dir;

/* The barrier of -b N -B DIR: 1 when this transaction may be answered (it
 * is not among the first N, or all N arrived), 0 after the time limit. */
static int barrier(void)
{
	char path[4096];
	int i, mine = 0, tries;

	if (barrier_n <= 0 || barrier_dir == NULL)
		return 1;
	for (i = 1; i <= barrier_n && !mine; i++) {
		int f;

		snprintf(path, sizeof path, "%s/a%d", barrier_dir, i);
		f = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (f >= 0) {
			close(f);
			mine = i;
		}
	}
	if (!mine)
		return 1;
	for (tries = 0; tries < 2000; tries++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		snprintf(path, sizeof path, "%s/a%d", barrier_dir, barrier_n);
		if (access(path, F_OK) == 0)
			return 1;
		nanosleep(&ts, NULL);
	}
	return 0;
}

static void serve(int fd, int dump, const struct addrs *soft,
		  const struct addrs *hard)
{
	struct conn c = { .fd = fd };
	struct record r = { 0 };
	char line[LINE_MAX_LEN], addr[LINE_MAX_LEN], out[LINE_MAX_LEN + 64];

	reply(fd, "220 rcptsink ESMTP\r\n");
	while (read_line(&c, line, sizeof line)) {
		if (strncasecmp(line, "EHLO", 4) == 0) {
			reply(fd, offer_xverp ?
				  "250-rcptsink\r\n250-PIPELINING\r\n"
				  "250-XVERP\r\n250 8BITMIME\r\n" :
				  "250-rcptsink\r\n250-PIPELINING\r\n"
				  "250 8BITMIME\r\n");
		} else if (strncasecmp(line, "HELO", 4) == 0 ||
			   strncasecmp(line, "NOOP", 4) == 0) {
			reply(fd, "250 2.0.0 ok\r\n");
		} else if (strncasecmp(line, "RSET", 4) == 0) {
			record_reset(&r);
			reply(fd, "250 2.0.0 ok\r\n");
		} else if (strncasecmp(line, "MAIL FROM:", 10) == 0) {
			record_reset(&r);
			record_add(&r, "X-Mail-Args: ", line + 10);
			r.mail = 1;
			reply(fd, "250 2.1.0 ok\r\n");
		} else if (strncasecmp(line, "RCPT TO:", 8) == 0) {
			angle_addr(line + 8, addr, sizeof addr);
			if (!r.mail) {
				reply(fd, "503 5.5.1 need MAIL first\r\n");
			} else if (listed(soft, addr)) {
				snprintf(out, sizeof out, "451 4.2.0 <%s>: "
					 "try again later\r\n", addr);
				reply(fd, out);
			} else if (listed(hard, addr)) {
				snprintf(out, sizeof out, "550 5.1.1 <%s>: "
					 "no such user\r\n", addr);
				reply(fd, out);
			} else {
				record_add(&r, "X-Rcpt-Args: ", line + 8);
				r.rcpts++;
				reply(fd, "250 2.1.5 ok\r\n");
			}
		} else if (strncasecmp(line, "DATA", 4) == 0) {
			if (!r.mail || r.rcpts == 0) {
				reply(fd, "554 5.5.1 no valid recipients\r\n");
				continue;
			}
			reply(fd, "354 go ahead\r\n");
			while (read_line(&c, line, sizeof line) &&
			       strcmp(line, ".") != 0)
				;
			if (!barrier()) {
				record_reset(&r);
				reply(fd, "451 4.4.0 too few transactions "
					  "side by side\r\n");
				continue;
			}
			record_add(&r, "", "");
			if (write(dump, r.text, r.len) != (ssize_t)r.len)
				exit(1);
			record_reset(&r);
			reply(fd, "250 2.0.0 queued\r\n");
		} else if (strncasecmp(line, "QUIT", 4) == 0) {
			reply(fd, "221 2.0.0 bye\r\n");
			break;
		} else {
			reply(fd, "502 5.5.2 unknown command\r\n");
		}
	}
	free(r.text);
}

/* ---- the listener ---- */

static void usage(void)
{
	fprintf(stderr, "usage: rcptsink [-x] [-s SOFTFILE] [-h HARDFILE] "
		"[-b N -B DIR] -D DUMPFILE HOST:PORT\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct addrs soft = { 0 }, hard = { 0 };
	struct sockaddr_in sin = { .sin_family = AF_INET };
	const char *dump_path = NULL;
	char host[64], *colon;
	int opt, lfd, dump, one = 1;

	while ((opt = getopt(argc, argv, "xs:h:D:b:B:")) != -1) {
		if (opt == 'b') {
			barrier_n = atoi(optarg);
			continue;
		}
		if (opt == 'B') {
			barrier_dir = optarg;
			continue;
		}
		if (opt == 's' && load_addrs(optarg, &soft) == 0)
			continue;
		if (opt == 'h' && load_addrs(optarg, &hard) == 0)
			continue;
		if (opt == 'D') {
			dump_path = optarg;
			continue;
		}
		if (opt == 'x') {
			offer_xverp = 1;
			continue;
		}
		usage();
	}
	if (optind + 1 != argc || dump_path == NULL)
		usage();
	snprintf(host, sizeof host, "%s", argv[optind]);
	colon = strrchr(host, ':');
	if (colon == NULL)
		usage();
	*colon = '\0';
	sin.sin_port = htons((unsigned short)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1)
		usage();

	dump = open(dump_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (dump < 0) {
		perror(dump_path);
		return 1;
	}
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(lfd, (struct sockaddr *)&sin, sizeof sin) < 0 ||
	    listen(lfd, 64) < 0) {
		perror("rcptsink: listen");
		return 1;
	}
	signal(SIGCHLD, SIG_IGN);      /* children are reaped by the kernel */
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		pid_t pid;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			perror("rcptsink: accept");
			return 1;
		}
		pid = fork();
		if (pid == 0) {
			close(lfd);
			prctl(PR_SET_PDEATHSIG, SIGTERM);
			serve(fd, dump, &soft, &hard);
			close(fd);
			_exit(0);
		}
		close(fd);
	}
}
