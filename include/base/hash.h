/* hash - SHA-256 (FIPS 180-4) and HMAC-SHA-256 (RFC 2104), for keyed tags
 * and for ids derived from content */
#ifndef CONVENE_HASH_H
#define CONVENE_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_LEN 32

struct hash_ctx {
	uint32_t h[8];
	uint64_t bytes;          /* hashed so far */
	unsigned char block[64];
	size_t fill;             /* bytes waiting in block */
};

void hash_init(struct hash_ctx *x);
void hash_update(struct hash_ctx *x, const void *data, size_t len);
/* Writes the digest and clears the context. */
void hash_final(struct hash_ctx *x, unsigned char out[HASH_LEN]);
/* SHA-256 of data in one call. */
void hash_sha256(const void *data, size_t len, unsigned char out[HASH_LEN]);

/* HMAC-SHA-256 of data under key. */
void hash_hmac(const void *key, size_t keylen, const void *data, size_t len,
	       unsigned char out[HASH_LEN]);

/* The first n bytes of a digest as 2n lower-case hex digits into hex
 * (which holds 2n + 1 bytes). */
void hash_hex(const unsigned char *digest, size_t n, char *hex);

/* Whether a and b (n bytes each) are equal, in time that does not depend
 * on where they differ. */
int hash_equal(const void *a, const void *b, size_t n);

#endif
