/* cmd_receive - the MTA's entry point: one message on standard input */
#include "autoconf.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/conf.h"
#include "front/front.h"
#include "base/log.h"
#include "pipeline/receive.h"
#include "base/status.h"
#include "base/util.h"
#include "base/xalloc.h"

/* A wall-clock bound for one message. On it receive exits 75 itself: Exim
 * bounces the mail of a program that a signal ended, Postfix defers it. */
#define RECEIVE_ALARM_S 600

static int alarm_exit;

static void on_alarm(int sig)
{
	static const char msg[] = "convene: time limit reached; message left "
				  "with the MTA\n";
	ssize_t ignored = write(STDERR_FILENO, msg, sizeof msg - 1);

	(void)sig;
	(void)ignored;
	/* Nothing was committed: SQLite drops an unfinished transaction. */
	_exit(alarm_exit);
}

/* The address the MTA delivered to, from the environment of its pipe:
 * RECIPIENT (Exim's pipe transport, Postfix's local(8), qmail, Courier),
 * else LOCAL_PART and DOMAIN (Exim). Newly allocated, or NULL. */
static char *recipient_from_env(void)
{
	const char *r = getenv("RECIPIENT");
	const char *lp = getenv("LOCAL_PART"), *dom = getenv("DOMAIN");

	if (r != NULL && *r != '\0')
		return xstrdup(r);
	if (lp != NULL && *lp != '\0' && dom != NULL && *dom != '\0')
		return xasprintf("%s@%s", lp, dom);
	return NULL;
}

/* The config, or NULL after logging why (the message stays with the
 * MTA). */
static struct conf *load_conf(const char *config)
{
	struct conf *c = NULL;
	struct conf_problems problems = { 0 };
	bool unreadable;
	size_t i;

	if (conf_load(conf_default_path(config), &c, &problems,
		      &unreadable) == 0)
		return c;
	for (i = 0; i < problems.n; i++)
		log_error("%s:%d: %s", problems.v[i].file, problems.v[i].line,
			  problems.v[i].message);
	fprintf(stderr, "convene: configuration %s is %s; message left with "
		"the MTA\n", conf_default_path(config),
		unreadable ? "unreadable" : "invalid");
	conf_problems_free(&problems);
	return NULL;
}

/* Reads the message on standard input and hands it to receive. */
static enum status receive_stdin(const struct conf *c, const char *recipient)
{
	struct buf in = BUF_INIT;
	enum incoming_outcome outcome;
	size_t max = (size_t)c->limits.max_message_kb * 1024;
	enum util_read_result rr = util_read_fd(STDIN_FILENO, max, &in);
	enum status st;

	if (rr == UTIL_READ_ERROR) {
		log_error("reading the message: %m");
		st = ST_TEMPFAIL;
	} else if (rr == UTIL_READ_TOO_BIG) {
		log_info("recipient=<%s>: refused: message over %ld KB",
			 recipient ? recipient : "?", c->limits.max_message_kb);
		fprintf(stderr, "convene: message too large (limit %ld KB)\n",
			c->limits.max_message_kb);
		st = ST_TOOBIG;
	} else {
		st = receive_message(c, recipient, buf_cstr(&in), in.len,
				     &outcome);
		if (st == ST_NOUSER)
			fprintf(stderr, "convene: no such list\n");
		else if (st == ST_DATAERR)
			fprintf(stderr, "convene: not a message convene can "
				"accept\n");
		else if (st == ST_TEMPFAIL)
			fprintf(stderr, "convene: temporary failure; try "
				"again later\n");
	}
	buf_free(&in);
	return st;
}

int cmd_receive(int argc, char **argv, const char *config)
{
	static const struct option longopts[] = {
		{ "recipient", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	const char *recipient = NULL;
	char *env_recipient = NULL;
	struct sigaction sa;
	struct conf *c;
	enum status st = ST_TEMPFAIL;
	int opt;

	/* Anything unexpected from here on must leave the message with the
	 * MTA: fatal errors exit EX_TEMPFAIL. */
	log_open("convene", false);
	log_fatal_tempfail(true);
	alarm_exit = status_to_exit(ST_TEMPFAIL);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	alarm(RECEIVE_ALARM_S);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "r:", longopts, NULL)) != -1) {
		if (opt == 'r') {
			recipient = optarg;
		} else {
			fprintf(stderr, "usage: convene receive "
				"[--recipient ADDR]\n");
			/* A wiring mistake: let the MTA keep the mail. */
			return status_to_exit(ST_TEMPFAIL);
		}
	}
	if (recipient == NULL)
		recipient = env_recipient = recipient_from_env();
	c = load_conf(config);
	if (c != NULL)
		st = receive_stdin(c, recipient);
	conf_free(&c);
	free(env_recipient);
	return status_to_exit(st);
}
