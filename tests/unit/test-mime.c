/* test-mime - the one MIME walk: structure, limits, line ends, splits */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "mail/mime.h"
#include "mail/reply.h"
#include "base/xalloc.h"

static const char nested[] =
	"From: a@example.org\n"
	"Subject: nested\n"
	"MIME-Version: 1.0\n"
	"Content-Type: multipart/mixed; boundary=\"outer\"\n"
	"\n"
	"preamble\n"
	"--outer\n"
	"Content-Type: multipart/alternative; boundary=inner\n"
	"\n"
	"--inner\n"
	"Content-Type: text/plain; charset=utf-8\n"
	"\n"
	"plain text\n"
	"--inner\n"
	"Content-Type: text/html\n"
	"\n"
	"<p>html</p>\n"
	"--inner--\n"
	"--outer\n"
	"Content-Type: message/rfc822\n"
	"Content-Disposition: attachment; filename=\"fwd.eml\"\n"
	"\n"
	"From: b@example.org\n"
	"Subject: inner message\n"
	"\n"
	"inner body\n"
	"--outer\n"
	"Content-Type: application/octet-stream; name=x.bin\n"
	"Content-Transfer-Encoding: base64\n"
	"\n"
	"aGVsbG8=\n"
	"--outer--\n"
	"epilogue\n";

static char *span(const char *d, size_t a, size_t b)
{
	return xstrndup(d + a, b - a);
}

static void check_nested(const char *d, size_t len)
{
	struct mime_tree t = { 0 };
	char *s;

	assert_int_equal(mime_walk(d, len, NULL, &t), MIME_OK);
	assert_int_equal(t.n, 7);
	assert_string_equal(t.v[0].ct.type, "multipart");
	assert_string_equal(t.v[0].ct.subtype, "mixed");
	assert_int_equal(t.v[0].nchildren, 3);
	assert_int_equal(t.v[0].depth, 0);
	assert_true(t.v[0].close != MIME_NONE);
	assert_string_equal(t.v[1].ct.subtype, "alternative");
	assert_int_equal(t.v[1].depth, 1);
	assert_int_equal(t.v[2].depth, 2);
	assert_string_equal(t.v[2].ct.subtype, "plain");
	assert_string_equal(mime_ctype_param(&t.v[2].ct, "charset"), "utf-8");
	s = span(d, t.v[2].body, t.v[2].end);
	assert_string_equal(s, "plain text");
	free(s);
	assert_string_equal(t.v[3].ct.subtype, "html");
	assert_int_equal(t.v[3].parent, 1);
	/* the attached message and its own body */
	assert_string_equal(t.v[4].ct.type, "message");
	assert_true(t.v[4].attachment);
	assert_string_equal(t.v[4].filename, "fwd.eml");
	assert_false(t.v[4].in_message);
	assert_int_equal(t.v[5].parent, 4);
	assert_int_equal(t.v[5].depth, 2);
	assert_true(t.v[5].in_message);
	s = span(d, t.v[5].body, t.v[5].end);
	assert_string_equal(s, "inner body");
	free(s);
	assert_int_equal(t.v[6].encoding, MIME_ENC_BASE64);
	assert_string_equal(mime_ctype_param(&t.v[6].ct, "name"), "x.bin");
	{
		struct buf b = BUF_INIT;

		mime_part_decode(d, &t.v[6], &b);
		assert_string_equal(buf_cstr(&b), "hello");
		buf_free(&b);
	}
	/* siblings in order */
	assert_int_equal(t.v[0].first_child, 1);
	assert_int_equal(t.v[1].next_sibling, 4);
	assert_int_equal(t.v[4].next_sibling, 6);
	assert_int_equal(t.v[6].next_sibling, MIME_NONE);
	assert_int_equal(t.v[0].end, len);
	assert_memory_equal(d + t.v[0].close, "--outer--", 9);
	mime_tree_free(&t);
}

static void test_structure(void **state)
{
	struct buf crlf = BUF_INIT, cr = BUF_INIT;
	size_t i;

	check_nested(nested, sizeof nested - 1);
	for (i = 0; nested[i] != '\0'; i++) {
		if (nested[i] == '\n') {
			buf_append(&crlf, "\r\n", 2);
			buf_putc(&cr, '\r');
		} else {
			buf_putc(&crlf, nested[i]);
			buf_putc(&cr, nested[i]);
		}
	}
	check_nested(crlf.data, crlf.len);
	check_nested(cr.data, cr.len);
	buf_free(&crlf);
	buf_free(&cr);
}

/* A message `levels` deep: multiparts, or attached messages. */
static char *deep(size_t levels, bool rfc822, size_t *len_r)
{
	struct buf b = BUF_INIT;
	size_t i;

	buf_puts(&b, "From: a@example.org\nSubject: deep\n");
	for (i = 0; i < levels; i++) {
		if (rfc822)
			buf_puts(&b, "Content-Type: message/rfc822\n\n");
		else
			buf_printf(&b, "Content-Type: multipart/mixed; "
				   "boundary=\"b%zu\"\n\n--b%zu\n", i, i);
	}
	buf_puts(&b, "Content-Type: text/plain\n\nhello\n");
	for (i = levels; !rfc822 && i-- > 0;)
		buf_printf(&b, "--b%zu--\n", i);
	return buf_steal(&b, len_r);
}

static enum mime_result walk_with(const char *d, size_t len, size_t depth,
				  size_t parts, size_t *n_r)
{
	struct mime_limits lim = mime_default_limits;
	struct mime_tree t = { 0 };
	enum mime_result r;

	lim.max_depth = depth;
	lim.max_parts = parts;
	r = mime_walk(d, len, &lim, &t);
	if (n_r != NULL)
		*n_r = t.n;
	mime_tree_free(&t);
	return r;
}

static void test_depth(void **state)
{
	size_t len, n;
	char *d;

	/* 10 levels of multipart put the text at depth 10 */
	d = deep(10, false, &len);
	assert_int_equal(walk_with(d, len, 10, 1000, &n), MIME_OK);
	assert_int_equal(n, 11);
	assert_int_equal(walk_with(d, len, 9, 1000, NULL), MIME_TOO_DEEP);
	free(d);
	d = deep(10, true, &len);
	assert_int_equal(walk_with(d, len, 10, 1000, NULL), MIME_OK);
	assert_int_equal(walk_with(d, len, 9, 1000, NULL), MIME_TOO_DEEP);
	free(d);
	/* what crashed libetpan: 30,000 attached messages, 20,000
	 * multiparts; the walk stops at the limit */
	d = deep(30000, true, &len);
	assert_int_equal(walk_with(d, len, 50, 10000, &n), MIME_TOO_DEEP);
	assert_int_equal(n, 51);
	assert_null(reply_text(d, len, NULL));
	free(d);
	d = deep(20000, false, &len);
	assert_int_equal(walk_with(d, len, 50, 10000, NULL), MIME_TOO_DEEP);
	free(d);
}

static void test_parts(void **state)
{
	struct buf b = BUF_INIT;
	size_t i, n;

	buf_puts(&b, "Content-Type: multipart/mixed; boundary=b\n\n");
	for (i = 0; i < 99; i++)
		buf_puts(&b, "--b\n\nx\n");
	buf_puts(&b, "--b--\n");
	/* the message and its 99 parts */
	assert_int_equal(walk_with(b.data, b.len, 50, 100, &n), MIME_OK);
	assert_int_equal(n, 100);
	assert_int_equal(walk_with(b.data, b.len, 50, 99, NULL),
			 MIME_TOO_MANY_PARTS);
	buf_free(&b);
}

static void test_comments(void **state)
{
	struct buf b = BUF_INIT;
	size_t i;

	/* 200,000 '(' in Cc: what overflowed libetpan's stack */
	buf_puts(&b, "From: a@example.org\nCc: ");
	for (i = 0; i < 200000; i++)
		buf_putc(&b, '(');
	buf_puts(&b, "\n\nbody\n");
	assert_int_equal(walk_with(b.data, b.len, 50, 100, NULL),
			 MIME_NESTED_COMMENTS);
	assert_null(reply_text(b.data, b.len, NULL));
	buf_reset(&b);
	/* 50 deep is allowed at depth 50, also folded over lines */
	buf_puts(&b, "From: a@example.org\nTo: ");
	for (i = 0; i < 25; i++)
		buf_putc(&b, '(');
	buf_puts(&b, "\n ");
	for (i = 0; i < 25; i++)
		buf_putc(&b, '(');
	buf_puts(&b, "x");
	for (i = 0; i < 50; i++)
		buf_putc(&b, ')');
	buf_puts(&b, " b@example.org\n\nbody\n");
	assert_int_equal(walk_with(b.data, b.len, 50, 100, NULL), MIME_OK);
	assert_int_equal(walk_with(b.data, b.len, 49, 100, NULL),
			 MIME_NESTED_COMMENTS);
	buf_reset(&b);
	/* parentheses in a quoted string or an unstructured field are
	 * text, not comments */
	buf_puts(&b, "From: \"");
	for (i = 0; i < 100; i++)
		buf_putc(&b, '(');
	buf_puts(&b, "\" <a@example.org>\nSubject: ");
	for (i = 0; i < 100; i++)
		buf_putc(&b, '(');
	buf_puts(&b, "\n\nbody\n");
	assert_int_equal(walk_with(b.data, b.len, 50, 100, NULL), MIME_OK);
	buf_free(&b);
}

static void test_digest_and_body(void **state)
{
	static const char body[] =
		"--d\n\nFrom: x@example.org\nSubject: one\n\nfirst\n"
		"--d\nContent-Type: text/plain\n\nsecond\n--d--\n";
	struct mime_tree t = { 0 };

	assert_int_equal(mime_walk_body(body, sizeof body - 1,
					" multipart/digest; boundary=d", NULL,
					NULL, &t), MIME_OK);
	assert_int_equal(t.n, 4);
	/* a part of a digest without a Content-Type is a message */
	assert_string_equal(t.v[1].ct.type, "message");
	assert_string_equal(t.v[1].ct.subtype, "rfc822");
	assert_true(t.v[2].in_message);
	assert_string_equal(t.v[3].ct.subtype, "plain");
	assert_false(t.v[3].in_message);
	mime_tree_free(&t);
}

/* A quoted-printable body ending in "=4": libetpan reads past the end of
 * its buffer; the walk hands it a padded copy. Each buffer is exactly the
 * size of the message, so that AddressSanitizer sees any read past it. */
static void test_padded(void **state)
{
	static const char msg[] =
		"From: a@example.org\nContent-Type: text/plain\n"
		"Content-Transfer-Encoding: quoted-printable\n\napprove=4";
	size_t n = sizeof msg - 1, k;

	for (k = n - 12; k <= n; k++) {
		char *copy = xmalloc(k);
		char *t;

		memcpy(copy, msg, k);
		t = reply_text(copy, k, NULL);
		free(t);
		free(copy);
	}
}

/* Every prefix of the message walks without a crash or an overrun. */
static void test_every_split(void **state)
{
	size_t n;

	for (n = 0; n <= sizeof nested - 1; n++) {
		char *copy = xmalloc(n ? n : 1);
		struct mime_tree t = { 0 };
		struct buf b = BUF_INIT;
		size_t i;

		memcpy(copy, nested, n);
		(void)mime_walk(copy, n, NULL, &t);
		for (i = 0; i < t.n; i++) {
			assert_true(t.v[i].start <= t.v[i].body);
			assert_true(t.v[i].body <= t.v[i].end);
			assert_true(t.v[i].end <= n);
			mime_part_decode(copy, &t.v[i], &b);
		}
		buf_free(&b);
		mime_tree_free(&t);
		free(copy);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_structure),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_parts),
		cmocka_unit_test(test_comments),
		cmocka_unit_test(test_digest_and_body),
		cmocka_unit_test(test_padded),
		cmocka_unit_test(test_every_split),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
