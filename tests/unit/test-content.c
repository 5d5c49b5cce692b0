/* test-content - MIME content rules: strip, pass, the HTML alternative */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/conf.h"
#include "mail/content.h"
#include "mail/msg.h"

static const char mixed[] =
	"From: a@b\nSubject: x\nMIME-Version: 1.0\n"
	"Content-Type: multipart/mixed; boundary=\"o\"\n\n"
	"preamble\n"
	"--o\nContent-Type: multipart/alternative; boundary=\"a\"\n\n"
	"--a\nContent-Type: text/plain\n\nplain text\n"
	"--a\nContent-Type: text/html\n\n<p>html text</p>\n"
	"--a--\n"
	"--o\nContent-Type: application/x-msdownload; name=\"x.exe\"\n\nMZ\n"
	"--o\nContent-Type: image/png\n\nPNG\n"
	"--o--\nepilogue\n";

static char *strip_v[] = { "application/x-msdownload", NULL };
static char *pass_v[] = { "text/*", NULL };

static void parse(struct msg *m, const char *s, size_t n)
{
	struct msg_limits lim = { 65536, 1000 };

	memset(m, 0, sizeof *m);
	assert_int_equal(msg_parse(m, s, n, &lim, NULL), MSG_OK);
}

static void test_type_matches(void **state)
{
	const char *const p[] = { "image/*", "application/x-dosexec" };

	assert_true(content_type_matches("image/png", p, 2));
	assert_true(content_type_matches("IMAGE/PNG", p, 2));
	assert_true(content_type_matches("application/x-dosexec", p, 2));
	assert_false(content_type_matches("application/pdf", p, 2));
	assert_false(content_type_matches("imagex/png", p, 2));
	assert_false(content_type_matches("text/plain", p, 0));
}

static void test_strip_and_drop_html(void **state)
{
	struct conf_list l = { 0 };
	struct msg m;
	char *removed = NULL;

	l.content_strip.v = strip_v;
	l.content_strip.n = 1;
	l.drop_html_alternative = true;
	parse(&m, mixed, sizeof mixed - 1);
	assert_int_equal(content_filter(&m, &l, NULL, &removed), 0);
	assert_non_null(removed);
	assert_string_equal(removed,
			    "text/html\napplication/x-msdownload x.exe\n");
	assert_non_null(strstr(m.body, "plain text"));
	assert_non_null(strstr(m.body, "PNG"));
	assert_null(strstr(m.body, "html text"));
	assert_null(strstr(m.body, "MZ"));
	assert_non_null(strstr(m.body, "preamble\n--o\n"));
	assert_non_null(strstr(m.body, "\n--o--\nepilogue\n"));
	free(removed);
	msg_free(&m);
}

static void test_pass_list(void **state)
{
	struct conf_list l = { 0 };
	struct msg m;
	char *removed = NULL;

	l.content_pass.v = pass_v;
	l.content_pass.n = 1;
	parse(&m, mixed, sizeof mixed - 1);
	assert_int_equal(content_filter(&m, &l, NULL, &removed), 0);
	assert_string_equal(removed,
			    "application/x-msdownload x.exe\nimage/png\n");
	assert_non_null(strstr(m.body, "html text"));
	free(removed);
	msg_free(&m);
}

static void test_nothing_to_do(void **state)
{
	struct conf_list l = { 0 };
	struct msg m;
	char *removed = NULL;

	parse(&m, mixed, sizeof mixed - 1);
	assert_int_equal(content_filter(&m, &l, NULL, &removed), 0);
	assert_null(removed);
	msg_free(&m);
	/* a single text part is never touched by drop_html_alternative */
	l.drop_html_alternative = true;
	parse(&m, "Subject: x\n\nhello\n", 18);
	assert_int_equal(content_filter(&m, &l, NULL, &removed), 0);
	assert_null(removed);
	assert_string_equal(m.body, "hello\n");
	msg_free(&m);
}

static void test_all_removed_stays_valid(void **state)
{
	static const char only_exe[] =
		"Subject: x\nContent-Type: multipart/mixed; boundary=\"o\"\n\n"
		"--o\nContent-Type: application/x-msdownload\n\nMZ\n--o--\n";
	struct conf_list l = { 0 };
	struct msg m;
	char *removed = NULL;

	l.content_strip.v = strip_v;
	l.content_strip.n = 1;
	parse(&m, only_exe, sizeof only_exe - 1);
	assert_int_equal(content_filter(&m, &l, NULL, &removed), 0);
	assert_non_null(strstr(m.body, "--o\nContent-Type: text/plain"));
	assert_null(strstr(m.body, "MZ"));
	free(removed);
	msg_free(&m);
}

/* Every prefix of the message: no crash, no overrun, a bad multipart is
 * left alone. */
static void test_every_split(void **state)
{
	struct conf_list l = { 0 };
	size_t n;

	l.content_strip.v = strip_v;
	l.content_strip.n = 1;
	l.drop_html_alternative = true;
	for (n = 20; n <= sizeof mixed - 1; n++) {
		struct msg_limits lim = { 65536, 1000 };
		struct msg m = { 0 };
		char *removed = NULL;

		if (msg_parse(&m, mixed, n, &lim, NULL) == MSG_OK)
			(void)content_filter(&m, &l, NULL, &removed);
		free(removed);
		msg_free(&m);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_type_matches),
		cmocka_unit_test(test_strip_and_drop_html),
		cmocka_unit_test(test_pass_list),
		cmocka_unit_test(test_nothing_to_do),
		cmocka_unit_test(test_all_removed_stays_valid),
		cmocka_unit_test(test_every_split),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
