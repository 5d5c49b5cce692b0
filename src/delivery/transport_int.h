/* transport_int - what the transport files share; not for use outside them
 *
 * The dispatch behind transport.h (transport_maildir.c) calls the network
 * transports (SMTP and LMTP, transport_smtp.c) through these. */
#ifndef CONVENE_TRANSPORT_INT_H
#define CONVENE_TRANSPORT_INT_H

#include <stddef.h>

#include "delivery/transport.h"

struct conf;
struct relays;

/* An SMTP or LMTP transport for c->outbound (with the relay set `shared`,
 * or NULL for the one host configured); nothing is connected yet. NULL
 * with *error_r (newly allocated) on a bad setting. */
void *transport_smtp_open(const struct conf *c, struct relays *shared,
			  char **error_r);
/* As transport_send (transport.h), for an envelope the dispatch checked. */
enum transport_result transport_smtp_send(void *impl, const char *env_from,
					  struct transport_rcpt *rcpts,
					  size_t n, const char *data,
					  size_t len, char **error_r);
void transport_smtp_close(void *impl);

#endif
