/* test-relays - the choice among several relays: weights, skipping, return */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "base/conf.h"
#include "delivery/relays.h"

static struct conf_relay three[] = {
	{ .host = "10.0.0.1", .port = 25, .weight = 1 },
	{ .host = "10.0.0.2", .port = 2525, .weight = 3 },
	{ .host = "::1", .port = 25, .weight = 2 },
};

static struct relays *make(size_t n, long skip)
{
	static struct conf c;

	memset(&c, 0, sizeof c);
	c.outbound.transport = TRANSPORT_SMTP;
	c.outbound.relays = three;
	c.outbound.nrelays = n;
	c.outbound.relay_skip_s = skip;
	return relays_new(&c);
}

static void test_none(void **state)
{
	struct relays *r = make(0, 60);

	assert_null(r);
	assert_int_equal(relays_count(r), 0);
	relays_free(&r);
}

static void test_names(void **state)
{
	struct relays *r = make(3, 60);

	assert_int_equal(relays_count(r), 3);
	assert_string_equal(relays_name(r, 0), "10.0.0.1:25");
	assert_string_equal(relays_name(r, 1), "10.0.0.2:2525");
	assert_string_equal(relays_name(r, 2), "[::1]:25");
	relays_free(&r);
	assert_null(r);
}

/* Weights 1 and 3: one in four to the first, spread evenly. */
static void test_weights(void **state)
{
	struct relays *r = make(2, 60);
	int count[2] = { 0, 0 };
	int i;

	for (i = 0; i < 400; i++) {
		int k = relays_pick(r, 1000, 0);

		assert_true(k == 0 || k == 1);
		count[k]++;
		/* Every window of four holds exactly one of the first. */
		if (i % 4 == 3) {
			assert_int_equal(count[0], (i + 1) / 4);
			assert_int_equal(count[1], 3 * (i + 1) / 4);
		}
	}
	assert_int_equal(count[0], 100);
	assert_int_equal(count[1], 300);
	relays_free(&r);

	/* 1:3:2 over 600 picks. */
	r = make(3, 60);
	memset(count, 0, sizeof count);
	{
		int c3[3] = { 0, 0, 0 };

		for (i = 0; i < 600; i++)
			c3[relays_pick(r, 1000, 0)]++;
		assert_int_equal(c3[0], 100);
		assert_int_equal(c3[1], 300);
		assert_int_equal(c3[2], 200);
	}
	relays_free(&r);
}

/* A relay that failed is skipped for relay_skip seconds; its share goes to
 * the others; then it is back in the turn. */
static void test_skip_and_return(void **state)
{
	struct relays *r = make(2, 30);
	int count[2] = { 0, 0 };
	int i;

	assert_true(relays_failed(r, 1, 1000));
	/* Told once: a second failure while skipped is no news. */
	assert_false(relays_failed(r, 1, 1001));
	assert_int_equal(relays_skipped_for(r, 1, 1001), 30);
	assert_int_equal(relays_skipped_for(r, 0, 1001), 0);
	for (i = 0; i < 100; i++)
		assert_int_equal(relays_pick(r, 1020, 0), 0);
	/* Skip until 1031 (the second failure at 1001 renewed it). */
	assert_int_equal(relays_pick(r, 1030, 0), 0);
	for (i = 0; i < 400; i++)
		count[relays_pick(r, 1031, 0)]++;
	assert_int_equal(count[0], 100);
	assert_int_equal(count[1], 300);
	/* It worked: told once that it is back. */
	assert_true(relays_ok(r, 1));
	assert_false(relays_ok(r, 1));
	assert_false(relays_ok(r, 0));
	relays_free(&r);
}

/* Every relay skipped, or every one tried: no pick. */
static void test_none_left(void **state)
{
	struct relays *r = make(2, 60);

	assert_int_equal(relays_pick(r, 5, 1ULL << 1), 0);
	assert_int_equal(relays_pick(r, 5, 1ULL << 0), 1);
	assert_int_equal(relays_pick(r, 5, 3), -1);
	relays_failed(r, 0, 5);
	assert_int_equal(relays_pick(r, 6, 1ULL << 1), -1);
	relays_failed(r, 1, 5);
	assert_int_equal(relays_pick(r, 6, 0), -1);
	assert_int_equal(relays_pick(r, 64, 0), -1);
	assert_true(relays_pick(r, 65, 0) >= 0);
	relays_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_none),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_weights),
		cmocka_unit_test(test_skip_and_return),
		cmocka_unit_test(test_none_left),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
