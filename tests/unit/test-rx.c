/* test-rx - the PCRE2 wrapper: matches, errors, limits, invalid UTF-8 */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/rx.h"

static struct rx *must_compile(const char *pattern)
{
	char *err = NULL;
	size_t off = 0;
	struct rx *rx = rx_compile(pattern, &err, &off);

	if (rx == NULL)
		fail_msg("pattern %s: %s at %zu", pattern, err, off);
	return rx;
}

static int match(const char *pattern, const char *subject)
{
	struct rx *rx = must_compile(pattern);
	int r = rx_match(rx, subject, strlen(subject));

	rx_free(&rx);
	assert_null(rx);
	return r;
}

static void test_match(void **state)
{
	assert_int_equal(match("viagra", "buy viagra now"), 1);
	assert_int_equal(match("(?i)\\bviagra\\b", "Buy VIAGRA now"), 1);
	assert_int_equal(match("@spam\\.example$", "joe@spam.example"), 1);
	assert_int_equal(match("^$", ""), 1);
	/* UTF mode: one character, not two bytes. */
	assert_int_equal(match("^Zo.$", "Zo\xc3\xab"), 1);
	/* Length, not NUL, bounds the subject. */
	{
		struct rx *rx = must_compile("b");

		assert_int_equal(rx_match(rx, "ab", 1), 0);
		assert_int_equal(rx_match(rx, "a\0b", 3), 1);
		rx_free(&rx);
	}
}

static void test_no_match(void **state)
{
	assert_int_equal(match("viagra", "a civil message"), 0);
	assert_int_equal(match("(?-i)Viagra", "viagra"), 0);
	assert_int_equal(match("^a", "ba"), 0);
}

static void test_invalid_pattern(void **state)
{
	char *err = NULL;
	size_t off = 99;
	struct rx *rx = rx_compile("(unclosed", &err, &off);

	assert_null(rx);
	assert_non_null(err);
	assert_non_null(strstr(err, "missing closing parenthesis"));
	assert_int_equal(off, 9);
	free(err);

	err = NULL;
	rx = rx_compile("a{2,1}", &err, &off);
	assert_null(rx);
	assert_non_null(err);
	free(err);

	/* The pattern itself must be UTF-8. */
	err = NULL;
	rx = rx_compile("\xff", &err, &off);
	assert_null(rx);
	assert_non_null(err);
	free(err);

	/* Error pointers are optional. */
	assert_null(rx_compile("[", NULL, NULL));
	rx_free(&rx);
	rx_free(NULL);
}

static void test_backtracking_limit(void **state)
{
	size_t n = 1024 * 1024;
	char *s = malloc(n + 2);
	struct rx *rx = must_compile("(a+)+$");
	struct timespec t0, t1;
	double secs;

	assert_non_null(s);
	memset(s, 'a', n);
	s[n] = 'b';
	s[n + 1] = '\0';
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(rx_match(rx, s, n + 1), -1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	/* Generous for sanitizer builds; without a limit this takes ages. */
	assert_true(secs < 10.0);

	/* A short subject stays well inside the limits. */
	assert_int_equal(rx_match(rx, "aaaa", 4), 1);
	assert_int_equal(rx_match(rx, "aaab", 4), 0);
	rx_free(&rx);
	free(s);
}

static void test_set_limits(void **state)
{
	struct rx *rx = must_compile("^(?:a|b)+z");
	const char *s = "abababababababababababababz";

	assert_int_equal(rx_match(rx, s, strlen(s)), 1);
	rx_set_limits(5, 1000);
	assert_int_equal(rx_match(rx, s, strlen(s)), -1);
	rx_set_limits(1000000, 2);
	assert_int_equal(rx_match(rx, s, strlen(s)), -1);
	rx_set_limits(1000000, 1000);
	assert_int_equal(rx_match(rx, s, strlen(s)), 1);
	rx_free(&rx);
}

static void test_invalid_utf8_subject(void **state)
{
	struct rx *rx = must_compile("viagra");
	const char bad[] = "\xff\xfe buy viagra \xc3(";
	const char bad2[] = "\xc0\xaf nothing here \xed\xa0\x80";

	/* Invalid bytes never match but do not stop the match either. */
	assert_int_equal(rx_match(rx, bad, sizeof bad - 1), 1);
	assert_int_equal(rx_match(rx, bad2, sizeof bad2 - 1), 0);
	rx_free(&rx);
	rx = must_compile("^.*$");
	assert_true(rx_match(rx, bad, sizeof bad - 1) >= 0);
	rx_free(&rx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_no_match),
		cmocka_unit_test(test_invalid_pattern),
		cmocka_unit_test(test_backtracking_limit),
		cmocka_unit_test(test_set_limits),
		cmocka_unit_test(test_invalid_utf8_subject),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
