/* store_guard - what tells mail convene sent from forged mail: the secret
 * key of the VERP tags (made once, kept in the database) and the delivery
 * records that show whom a list sent to lately
 *
 * Same conventions as store.h: 0 or -1 with the store's error. */
#ifndef CONVENE_STORE_GUARD_H
#define CONVENE_STORE_GUARD_H

#include <stdbool.h>
#include <time.h>

struct store;

#define STORE_SECRET_LEN 32

/* The secret called `name`: 32 bytes from getrandom, made and kept the
 * first time anyone asks for it, the same ever after (also when two
 * processes ask at once). Written into out. */
int store_secret(struct store *s, const char *name,
		 unsigned char out[STORE_SECRET_LEN]);

/* Whether `list` sent mail to `address` (exactly as stored) since `since`:
 * a post whose member stream reached the member (a member then, in a mode
 * that job's audience takes, its cursor or a range past them), or a job
 * that named the address among its recipients and tried it. */
int store_sent_since(struct store *s, const char *list, const char *address,
		     time_t since, bool *sent_r);

#endif
