/* test-html - escaping, links and section templates of base/html */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/html.h"

static char *esc(const char *s, size_t n)
{
	struct buf b = BUF_INIT;

	buf_append(&b, "", 0);
	html_escape(&b, s, n);
	return buf_steal(&b, NULL);
}

static void expect_esc(const char *in, size_t n, const char *out)
{
	char *got = esc(in, n);

	assert_string_equal(got, out);
	free(got);
}

static void test_escape(void **state)
{
	(void)state;
	expect_esc("plain text", 10, "plain text");
	expect_esc("<script>alert('x')</script>", 27,
		   "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
	expect_esc("a & b \"q\"", 9, "a &amp; b &quot;q&quot;");
	expect_esc("&lt;", 4, "&amp;lt;");
	/* line ends: LF and TAB stay, CR goes */
	expect_esc("a\r\nb\tc", 6, "a\nb\tc");
	/* control bytes, NUL included, become U+FFFD */
	expect_esc("a\0b\x1b[31m", 8, "a\xef\xbf\xbd" "b\xef\xbf\xbd[31m");
	/* UTF-8 stays; what is not UTF-8 becomes U+FFFD */
	expect_esc("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14,
		   "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	expect_esc("\xff\xfe", 2, "\xef\xbf\xbd\xef\xbf\xbd");
	expect_esc("\xc3", 1, "\xef\xbf\xbd");             /* cut short */
	expect_esc("\xc0\xbc", 2, "\xef\xbf\xbd\xef\xbf\xbd"); /* overlong < */
	expect_esc("\xed\xa0\x80", 3,                      /* a surrogate */
		   "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	expect_esc("\xf4\x90\x80\x80", 4,                  /* past U+10FFFF */
		   "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	/* C1 controls and non-characters */
	expect_esc("\xc2\x85x", 3, "\xef\xbf\xbdx");
	expect_esc("\xef\xbf\xbe", 3, "\xef\xbf\xbd");
}

/* Every byte string of length 1 to 3: the output is valid UTF-8 with no
 * '<', '>', '"' or '\'' and no '&' that does not start one of our
 * references. */
static void test_escape_all_short(void **state)
{
	unsigned char in[3];
	unsigned a, b, c, len;

	(void)state;
	for (len = 1; len <= 2; len++)
		for (a = 0; a < 256; a++)
			for (b = 0; b < (len > 1 ? 256u : 1u); b++)
				for (c = 0; c < 1; c++) {
					char *out, *p;

					in[0] = (unsigned char)a;
					in[1] = (unsigned char)b;
					in[2] = (unsigned char)c;
					out = esc((const char *)in, len);
					assert_null(strpbrk(out, "<>\"'\r"));
					for (p = strchr(out, '&'); p != NULL;
					     p = strchr(p + 1, '&'))
						assert_true(
							strncmp(p, "&amp;", 5) == 0 ||
							strncmp(p, "&lt;", 4) == 0 ||
							strncmp(p, "&gt;", 4) == 0 ||
							strncmp(p, "&quot;", 6) == 0 ||
							strncmp(p, "&#39;", 5) == 0);
					free(out);
				}
}

static size_t url(const char *s)
{
	return html_url_len(s, strlen(s));
}

static void test_url_len(void **state)
{
	(void)state;
	assert_int_equal(url("https://example.org/a"), 21);
	assert_int_equal(url("HTTP://example.org"), 18);
	assert_int_equal(url("https://example.org/rota."), 24);
	assert_int_equal(url("https://example.org/x, and"), 21);
	assert_int_equal(url("(see https://example.org/x)") , 0);
	assert_int_equal(url("https://example.org/x)"), 21);
	assert_int_equal(url("https://en.wikipedia.org/wiki/A_(b)"), 35);
	assert_int_equal(url("https://example.org/a\"onmouseover=x"), 21);
	assert_int_equal(url("https://example.org/<script>"), 20);
	assert_int_equal(url("https://example.org/a b"), 21);
	/* only http and https, with a host */
	assert_int_equal(url("javascript:alert(1)"), 0);
	assert_int_equal(url("data:text/html,<script>"), 0);
	assert_int_equal(url("ftp://example.org/"), 0);
	assert_int_equal(url("https://"), 0);
	assert_int_equal(url("https:///x"), 0);
	assert_int_equal(url("https://."), 0);
	assert_int_equal(url("http:/x"), 0);
}

static char *write_template(const char *text)
{
	char path[] = "/tmp/test-html.XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return strdup(path);
}

static void test_template(void **state)
{
	char *path = write_template(
		"a comment, not a section\n"
		"@@ page  the rest is a comment\n"
		"<p title=\"{{title}}\">{{body}}</p>\n"
		"@@ empty\n"
		"@@ last\n"
		"{{x}}");
	struct html_template *t = NULL;
	struct html_var v[] = {
		{ "title", "<\"x\">", false },
		{ "body", "<b>ours</b>", true },
		{ "x", NULL, false },
	};
	static const char *const sections[] = { "page", "empty", NULL };
	static const char *const missing[] = { "page", "nosuch", NULL };
	static const char *const known[] = { "title", "body", "x", NULL };
	static const char *const too_few[] = { "title", NULL };
	struct buf out = BUF_INIT;
	char *err = NULL;

	(void)state;
	assert_int_equal(html_template_open(path, &t, &err), 0);
	assert_int_equal(html_render(t, "page", v, 3, &out, &err), 0);
	/* text escaped, convene's markup as it is */
	assert_string_equal(buf_cstr(&out),
			    "<p title=\"&lt;&quot;x&quot;&gt;\"><b>ours</b></p>\n");
	buf_reset(&out);
	assert_int_equal(html_render(t, "empty", v, 3, &out, &err), 0);
	assert_int_equal(out.len, 0);
	assert_int_equal(html_render(t, "last", v, 3, &out, &err), 0);
	assert_int_equal(out.len, 0);
	/* a placeholder without its value, a section that is not there */
	assert_int_equal(html_render(t, "page", v, 1, &out, &err), -1);
	assert_non_null(strstr(err, "{{body}}"));
	free(err);
	err = NULL;
	assert_int_equal(html_render(t, "nosuch", v, 3, &out, &err), -1);
	free(err);
	err = NULL;
	/* the check */
	assert_int_equal(html_template_check(t, sections, known, &err), 0);
	assert_int_equal(html_template_check(t, missing, known, &err), -1);
	assert_non_null(strstr(err, "nosuch"));
	free(err);
	err = NULL;
	assert_int_equal(html_template_check(t, sections, too_few, &err), -1);
	assert_non_null(strstr(err, ":3:"));
	free(err);
	html_template_close(&t);
	assert_null(t);
	unlink(path);
	free(path);
	buf_free(&out);

	/* malformed: a section twice, an open placeholder */
	path = write_template("@@ a\nx\n@@ a\ny\n");
	assert_int_equal(html_template_open(path, &t, &err), -1);
	assert_non_null(strstr(err, "twice"));
	free(err);
	unlink(path);
	free(path);
	path = write_template("@@ a\n{{open\n");
	assert_int_equal(html_template_open(path, &t, &err), -1);
	free(err);
	unlink(path);
	free(path);
	assert_int_equal(html_template_open("/nonexistent/t", &t, &err), -1);
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_escape_all_short),
		cmocka_unit_test(test_url_len),
		cmocka_unit_test(test_template),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
