/* oneclick - the token of a one-click unsubscribe URL (RFC 8058): it names
 * one membership and cannot be made without the key
 *
 * A token is "ID-TAG": ID the member's row (decimal), TAG 32 hex digits,
 * 128 bits of HMAC-SHA-256 over the list, the address, the row and the
 * membership's salt (store_web.h), under a key of ONECLICK_KEY_LEN secret
 * bytes the caller keeps (store_secret "oneclick"), as VERP tags are made
 * (verp.h). The salt changes when the address leaves and joins again, so a
 * used token never works again. Knows no database. */
#ifndef CONVENE_ONECLICK_H
#define CONVENE_ONECLICK_H

#include <stdbool.h>
#include <stdint.h>

struct conf_list;

#define ONECLICK_KEY_LEN 32
/* "ID-TAG" is at most this long (an int64 and 32 hex digits). */
#define ONECLICK_TOKEN_MAX (19 + 1 + 32)

/* The token of a membership; newly allocated. */
char *oneclick_token(const unsigned char key[ONECLICK_KEY_LEN],
		     const char *list, const char *address, int64_t id,
		     int64_t salt);

/* The member row a token names: 0 and *id_r, or -1 when `token` is not
 * shaped like one (what a forger can send is refused here). */
int oneclick_parse(const char *token, int64_t *id_r);

/* Whether `token` is that membership's, compared in constant time. */
bool oneclick_check(const unsigned char key[ONECLICK_KEY_LEN],
		    const char *token, const char *list, const char *address,
		    int64_t id, int64_t salt);

/* The marker that stands for each member's token in list mail: a random
 * word, so that no post holds it, which Delivery replaces
 * (store_job_new.token_marker). Into m; false (m "") when l has no
 * one-click URL (conf_list.unsubscribe_url) or no random bytes could be
 * had. */
#define ONECLICK_MARKER_MAX 64
bool oneclick_marker(const struct conf_list *l, char m[ONECLICK_MARKER_MAX]);

#endif
