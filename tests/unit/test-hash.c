/* test-hash - SHA-256 and HMAC-SHA-256 against the published vectors */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "base/hash.h"

static void hex_of(const void *data, size_t len, char out[65])
{
	unsigned char d[HASH_LEN];

	hash_sha256(data, len, d);
	hash_hex(d, HASH_LEN, out);
}

/* FIPS 180-4 examples (NIST CSRC "SHA256.pdf") */
static void test_sha256(void **state)
{
	static const char two_blocks[] =
		"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	static char million[1000000];
	char hex[65];

	hex_of("", 0, hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb924"
				 "27ae41e4649b934ca495991b7852b855");
	hex_of("abc", 3, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
				 "b00361a396177a9cb410ff61f20015ad");
	hex_of(two_blocks, sizeof two_blocks - 1, hex);
	assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039"
				 "a33ce45964ff2167f6ecedd419db06c1");
	memset(million, 'a', sizeof million);
	hex_of(million, sizeof million, hex);
	assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67"
				 "f1809a48a497200e046d39ccc7112cd0");
}

/* The same digest however the input is split between updates. */
static void test_every_split(void **state)
{
	static const char msg[] =
		"From: a@example.org\nSubject: split\n\n0123456789abcdef"
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789";
	unsigned char whole[HASH_LEN], part[HASH_LEN];
	size_t n = sizeof msg - 1, i;

	hash_sha256(msg, n, whole);
	for (i = 0; i <= n; i++) {
		struct hash_ctx x;

		hash_init(&x);
		hash_update(&x, msg, i);
		hash_update(&x, msg + i, n - i);
		hash_final(&x, part);
		assert_memory_equal(whole, part, HASH_LEN);
	}
}

/* RFC 4231 test cases 1, 2 and 6 */
static void test_hmac(void **state)
{
	unsigned char key[131], d[HASH_LEN];
	char hex[65];

	memset(key, 0x0b, 20);
	hash_hmac(key, 20, "Hi There", 8, d);
	hash_hex(d, HASH_LEN, hex);
	assert_string_equal(hex, "b0344c61d8db38535ca8afceaf0bf12b"
				 "881dc200c9833da726e9376c2e32cff7");
	hash_hmac("Jefe", 4, "what do ya want for nothing?", 28, d);
	hash_hex(d, HASH_LEN, hex);
	assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c7"
				 "5a003f089d2739839dec58b964ec3843");
	memset(key, 0xaa, sizeof key);
	hash_hmac(key, sizeof key,
		  "Test Using Larger Than Block-Size Key - Hash Key First", 54,
		  d);
	hash_hex(d, HASH_LEN, hex);
	assert_string_equal(hex, "60e431591ee0b67f0d8a26aacbf5b77f"
				 "8e0bc6213728c5140546040f0ee37f54");
	hash_hex(d, 4, hex);
	assert_string_equal(hex, "60e43159");
	assert_true(hash_equal("abcd", "abcd", 4));
	assert_false(hash_equal("abcd", "abce", 4));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_every_split),
		cmocka_unit_test(test_hmac),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
