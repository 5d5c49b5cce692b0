/* addr - pure address syntax: validation, normalisation, the list's
 * sub-addresses (no libetpan: mail/mailbox.h reads "Name <addr>" lines) */
#ifndef CONVENE_ADDR_H
#define CONVENE_ADDR_H

#include <stdbool.h>
#include <stddef.h>

#define ADDR_MAX 254     /* RFC 5321 path limit less the brackets */
#define ADDR_LOCAL_MAX 64

/* true when `s` is a plausible RFC 5321 mailbox local@domain: dot-atom or
 * quoted local part of at most 64 bytes, a domain of labels (or an address
 * literal), at most 254 bytes in all. */
bool addr_valid(const char *s);

/* Normalises an address for comparison and storage: the domain lower-cased,
 * the local part too unless `case_sensitive_local`. Newly allocated; NULL if
 * the address is not valid. */
char *addr_normalize(const char *s, bool case_sensitive_local);

/* The key under which mail to an address is counted for the rate limit:
 * the variants that reach one mailbox count as one address. Lower-cased,
 * the local part cut at its first '+' (a "+tag"), the domain without
 * trailing dots, and any address literal ("[192.0.2.1]", "[IPv6:...]")
 * as the one domain "[]". Newly allocated; never NULL (a string without
 * '@' is its own key, lower-cased). */
char *addr_rate_key(const char *s);

/* What a recipient address of the list domain is for. */
enum addr_kind {
	ADDR_POST,
	ADDR_REQUEST,
	ADDR_SUBSCRIBE,
	ADDR_UNSUBSCRIBE,
	ADDR_OWNER,
	ADDR_CONFIRM,       /* NAME-confirm+TOKEN */
	ADDR_BOUNCES,       /* NAME-bounces or NAME-bounces+ENCODED */
	ADDR_VOTE,          /* NAME-vote+ID: votes in poll ID */
	ADDR_RSVP,          /* NAME-rsvp+ID: answers to meeting ID */
};

struct addr_route {
	char *list;         /* list name as written in the address, lower case */
	enum addr_kind kind;
	char *extension;    /* TOKEN or ENCODED, or NULL */
};

/* Splits a recipient local@domain into list name, kind and extension. The
 * domain must equal `domain` (case-insensitive). `known` tells whether a list
 * name exists (the longest known name wins, so "foo-request" is the request
 * address of "foo" unless a list "foo-request" exists). Returns 0 on success,
 * -1 when the address is not of the domain or names no known list. */
int addr_route(const char *recipient, const char *domain,
	       bool (*known)(const char *name, void *ctx), void *ctx,
	       struct addr_route *route_r);
void addr_route_free(struct addr_route *r);
const char *addr_kind_name(enum addr_kind k);

#endif
