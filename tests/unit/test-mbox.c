/* test-mbox - reading mbox files and writing mboxrd, round trip */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "mail/mbox.h"
#include "base/buf.h"

static size_t split(const char *data, char out[][256], size_t max)
{
	struct mbox_reader r;
	struct buf m = BUF_INIT;
	size_t n = 0;

	mbox_reader_init(&r, data, strlen(data));
	while (mbox_next(&r, &m)) {
		assert_true(n < max);
		assert_true(m.len < 256);
		memcpy(out[n], m.data, m.len);
		out[n][m.len] = '\0';
		n++;
	}
	buf_free(&m);
	return n;
}

static void test_read(void **state)
{
	char out[8][256];
	const char *mbox =
		"From alice@example.org Thu Feb  1 10:00:00 2024\n"
		"Subject: one\n\nbody\n>From the start\n>>From deeper\n"
		"From here on, a line of text\n\n"
		"From bob@example.net Thu Feb  1 11:00:00 2024\n"
		"Subject: two\n\nsecond\n\n"
		"From nobody Mon Sep 17 00:00:00 2001\n"
		"Subject: three\n\nno blank line before the next\n"
		"From x@y Fri Feb  2 12:00:00 2024\n"
		"Subject: four\n\nlast, no newline";

	(void)state;
	assert_true(mbox_looks_like(mbox, strlen(mbox)));
	assert_false(mbox_looks_like("Subject: x\n", 11));
	assert_int_equal(split(mbox, out, 8), 4);
	/* ">From" loses one '>'; a "From " line without a time after a
	 * body line is text. */
	assert_string_equal(out[0], "Subject: one\n\nbody\nFrom the start\n"
			    ">From deeper\nFrom here on, a line of text\n");
	assert_string_equal(out[1], "Subject: two\n\nsecond\n");
	assert_string_equal(out[2], "Subject: three\n\nno blank line before "
			    "the next\n");
	assert_string_equal(out[3], "Subject: four\n\nlast, no newline");
}

static void test_read_crlf(void **state)
{
	char out[4][256];
	const char *mbox =
		"From a@b Thu Feb  1 10:00 MET 2024\r\n"
		"Subject: one\r\n\r\nbody\r\n\r\n"
		"From a@b Thu Feb  1 11:00 MET 2024\r\n"
		"Subject: two\r\n\r\nbody\r\n";

	(void)state;
	assert_int_equal(split(mbox, out, 4), 2);
	assert_string_equal(out[0], "Subject: one\r\n\r\nbody\r\n");
	assert_string_equal(out[1], "Subject: two\r\n\r\nbody\r\n");
}

static void test_write_round_trip(void **state)
{
	const char *msgs[] = {
		"Subject: a\n\nFrom the start\n>From quoted\n\n",
		"Subject: b\r\n\r\nCRLF body\r\n",
		"From old@x Thu Jan  1 00:00:00 1970\nSubject: c\n\nx\n",
	};
	const char *want[] = {
		"Subject: a\n\nFrom the start\n>From quoted\n\n",
		"Subject: b\n\nCRLF body\n",
		"Subject: c\n\nx\n",
	};
	char out[4][256];
	struct buf b = BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++)
		mbox_write(&b, i == 1 ? "bad sender" : "a@b", 1706781600,
			   msgs[i], strlen(msgs[i]));
	assert_non_null(strstr(b.data, "From a@b Thu Feb  1 10:00:00 2024\n"
			       "Subject: a\n\n>From the start\n>>From "
			       "quoted\n"));
	assert_non_null(strstr(b.data, "From MAILER-DAEMON Thu Feb  1"));
	assert_int_equal(split(b.data, out, 4), 3);
	for (i = 0; i < 3; i++)
		assert_string_equal(out[i], want[i]);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read),
		cmocka_unit_test(test_read_crlf),
		cmocka_unit_test(test_write_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
