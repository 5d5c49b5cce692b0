/* lmtp_server - the LMTP listener's glue (RFC 2033): sessions and their
 * limits over a listening socket, each finished message handed to the
 * intake (pipeline/intake.h), which commits concurrent messages together
 * and answers per recipient. Nothing here decides about a message. */
#ifndef CONVENE_LMTP_SERVER_H
#define CONVENE_LMTP_SERVER_H

struct conf;
struct intake;

struct lmtp_server_args {
	int listen_fd;              /* listening, any address family */
	struct conf *c;             /* taken (freed when no session uses it) */
	const char *config_path;    /* read again on SIGHUP */
	struct intake *ik;          /* borrowed */
	int signal_fd;              /* a signalfd for SIGTERM, SIGINT (stop)
				       and SIGHUP (reload), blocked in every
				       thread */
};

/* Serves sessions until SIGTERM or SIGINT, reloading the config on SIGHUP
 * (new sessions use the new one; the database stays the one it opened).
 * At the end, idle sessions are told 421 and every session has ended
 * (messages being committed are committed). Returns 0, or -1 when the
 * listener failed. */
int lmtp_server_run(struct lmtp_server_args *a);

#endif
