/* hash - SHA-256 (FIPS 180-4) and HMAC-SHA-256 (RFC 2104) */
#include "autoconf.h"

#include <string.h>

#include "base/hash.h"

static const uint32_t k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b,
	0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01,
	0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7,
	0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
	0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152,
	0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
	0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
	0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08,
	0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f,
	0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t ror(uint32_t x, unsigned n)
{
	return (x >> n) | (x << (32 - n));
}

static void compress(uint32_t h[8], const unsigned char *p)
{
	uint32_t w[64], a, b, c, d, e, f, g, hh, t1, t2;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
	for (i = 16; i < 64; i++) {
		uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^
			      (w[i - 15] >> 3);
		uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^
			      (w[i - 2] >> 10);

		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = h[0]; b = h[1]; c = h[2]; d = h[3];
	e = h[4]; f = h[5]; g = h[6]; hh = h[7];
	for (i = 0; i < 64; i++) {
		t1 = hh + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) +
		     ((e & f) ^ (~e & g)) + k[i] + w[i];
		t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) +
		     ((a & b) ^ (a & c) ^ (b & c));
		hh = g; g = f; f = e; e = d + t1;
		d = c; c = b; b = a; a = t1 + t2;
	}
	h[0] += a; h[1] += b; h[2] += c; h[3] += d;
	h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}

void hash_init(struct hash_ctx *x)
{
	static const uint32_t iv[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	};

	memcpy(x->h, iv, sizeof iv);
	x->bytes = 0;
	x->fill = 0;
}

void hash_update(struct hash_ctx *x, const void *data, size_t len)
{
	const unsigned char *p = data;

	x->bytes += len;
	if (x->fill > 0) {
		size_t take = 64 - x->fill < len ? 64 - x->fill : len;

		memcpy(x->block + x->fill, p, take);
		x->fill += take;
		p += take;
		len -= take;
		if (x->fill < 64)
			return;
		compress(x->h, x->block);
		x->fill = 0;
	}
	for (; len >= 64; p += 64, len -= 64)
		compress(x->h, p);
	if (len > 0) {
		memcpy(x->block, p, len);
		x->fill = len;
	}
}

void hash_final(struct hash_ctx *x, unsigned char out[HASH_LEN])
{
	uint64_t bits = x->bytes * 8;
	unsigned char pad[72] = { 0x80 };
	size_t padlen = x->fill < 56 ? 56 - x->fill : 120 - x->fill;
	int i;

	for (i = 0; i < 8; i++)
		pad[padlen + (size_t)i] = (unsigned char)(bits >> (56 - 8 * i));
	hash_update(x, pad, padlen + 8);
	for (i = 0; i < 8; i++) {
		out[4 * i] = (unsigned char)(x->h[i] >> 24);
		out[4 * i + 1] = (unsigned char)(x->h[i] >> 16);
		out[4 * i + 2] = (unsigned char)(x->h[i] >> 8);
		out[4 * i + 3] = (unsigned char)x->h[i];
	}
	memset(x, 0, sizeof *x);
}

void hash_sha256(const void *data, size_t len, unsigned char out[HASH_LEN])
{
	struct hash_ctx x;

	hash_init(&x);
	hash_update(&x, data, len);
	hash_final(&x, out);
}

void hash_hmac(const void *key, size_t keylen, const void *data, size_t len,
	       unsigned char out[HASH_LEN])
{
	unsigned char k0[64] = { 0 }, ipad[64], opad[64], inner[HASH_LEN];
	struct hash_ctx x;
	size_t i;

	if (keylen > 64)
		hash_sha256(key, keylen, k0);
	else if (keylen > 0)
		memcpy(k0, key, keylen);
	for (i = 0; i < 64; i++) {
		ipad[i] = k0[i] ^ 0x36;
		opad[i] = k0[i] ^ 0x5c;
	}
	hash_init(&x);
	hash_update(&x, ipad, 64);
	hash_update(&x, data, len);
	hash_final(&x, inner);
	hash_init(&x);
	hash_update(&x, opad, 64);
	hash_update(&x, inner, HASH_LEN);
	hash_final(&x, out);
	memset(k0, 0, sizeof k0);
	memset(ipad, 0, sizeof ipad);
	memset(opad, 0, sizeof opad);
}

void hash_hex(const unsigned char *digest, size_t n, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		hex[2 * i] = digits[digest[i] >> 4];
		hex[2 * i + 1] = digits[digest[i] & 15];
	}
	hex[2 * n] = '\0';
}

int hash_equal(const void *a, const void *b, size_t n)
{
	const unsigned char *p = a, *q = b;
	unsigned char d = 0;
	size_t i;

	for (i = 0; i < n; i++)
		d |= p[i] ^ q[i];
	return d == 0;
}
