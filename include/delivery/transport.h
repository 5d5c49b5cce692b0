/* transport - hands one SMTP transaction (envelope + message) to the next hop
 *
 * Delivery decides nothing: it gives a transport an envelope sender, a batch
 * of recipients and the message bytes, and gets back what happened to each
 * recipient. */
#ifndef CONVENE_TRANSPORT_H
#define CONVENE_TRANSPORT_H

#include <stddef.h>

struct conf;
struct conf_outbound;
struct transport;

enum transport_result {
	TRANSPORT_OK = 0,     /* the transaction ran; see per-recipient codes */
	TRANSPORT_TEMPFAIL,   /* the whole transaction failed transiently
				 (connection refused or lost, 4xx on MAIL or DATA):
				 nobody got it, try again later */
	TRANSPORT_PERMFAIL,   /* the whole transaction was refused for good
				 (5xx on MAIL or DATA) */
};

/* Per-recipient outcome, filled by transport_send for TRANSPORT_OK:
 * code is the SMTP reply to RCPT (or to DATA for LMTP, per recipient);
 * 2xx delivered, 4xx retry that recipient later, 5xx failed for good. */
struct transport_rcpt {
	const char *addr;     /* borrowed */
	int code;
};

/* Creates the transport configured in c->outbound (nothing is connected
 * yet). Returns NULL with *error_r (newly allocated) on a bad setting. */
struct transport *transport_open(const struct conf *c, char **error_r);

/* The same, for one of several sessions that share `relays` (from
 * relays_new; NULL when outbound.relays is not set): they take turns over
 * the relays and skip the same ones. `relays` must outlive the transport. */
struct relays;
struct transport *transport_open_relays(const struct conf *c,
					struct relays *relays, char **error_r);

/* Sends `data` (len bytes, LF line ends: the transport converts to CRLF and
 * dot-stuffs where the protocol needs it) from env_from to rcpts[0..n-1].
 * Reuses an open session (RSET between transactions) and reconnects when it
 * was lost. On a failure result *error_r gets a newly allocated description
 * (with the server's reply where there was one). */
enum transport_result transport_send(struct transport *t, const char *env_from,
				     struct transport_rcpt *rcpts, size_t n,
				     const char *data, size_t len,
				     char **error_r);

/* QUITs any open session and frees t; clears *t. */
void transport_close(struct transport **t);

/* For tests and the outbox reader: the maildir transport writes each
 * transaction as one file in OUTBOX/new/ that starts with
 *   X-Convene-Envelope-From: <sender>
 *   X-Convene-Envelope-To: <rcpt>        (one line per recipient)
 * followed by the message as sent. */
#define TRANSPORT_MAILDIR_FROM "X-Convene-Envelope-From"
#define TRANSPORT_MAILDIR_TO "X-Convene-Envelope-To"

#endif
