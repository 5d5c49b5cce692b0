/* test-msg - parsing with limits, fields, RFC 2047, addresses, ids, SMTP */
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
#include "mail/msg.h"
#include "base/xalloc.h"

static const struct msg_limits limits = { 64 * 1024, 100 };

/* Parses an exact-size copy, so that the sanitizers see any over-read. */
static enum msg_parse_result parse_n(struct msg *m, const char *data,
				     size_t len, const struct msg_limits *l,
				     size_t *junk_r)
{
	char *copy = xmalloc(len ? len : 1);
	enum msg_parse_result r;

	memcpy(copy, data, len);
	memset(m, 0, sizeof *m);
	r = msg_parse(m, copy, len, l, junk_r);
	free(copy);
	return r;
}

static enum msg_parse_result parse(struct msg *m, const char *s)
{
	return parse_n(m, s, strlen(s), &limits, NULL);
}

static char *written(const struct msg *m)
{
	struct buf b = BUF_INIT;

	msg_write(m, &b);
	return buf_steal(&b, NULL);
}

static bool utf8_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int n, i;

	while (*p) {
		n = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 :
		    (*p & 0xf0) == 0xe0 ? 3 : (*p & 0xf8) == 0xf0 ? 4 : 0;
		if (n == 0 || (n == 2 && *p < 0xc2))
			return false;
		for (i = 1; i < n; i++)
			if ((p[i] & 0xc0) != 0x80)
				return false;
		p += n;
	}
	return true;
}

/* --- parsing --- */

static const char sample[] =
	"From alice@example.org Sat Nov 21 09:12:44 2026\n"
	"Received: from a.example.org\n"
	"\tby b.example.org; Sat, 21 Nov 2026 09:12:44 +0100\n"
	"From: Alice Example <alice@example.org>\n"
	"To: makers@lists.example.org\n"
	"Subject: Saturday\n"
	"  soldering workshop\n"
	"Message-ID: <workshop-1@example.org>\n"
	"\n"
	"Hello makers,\n"
	"\n"
	"bring kits.\n";

static void test_parse_basic(void **state)
{
	struct msg m;
	size_t junk = 99;
	char *v;

	(void)state;
	assert_int_equal(parse_n(&m, sample, strlen(sample), &limits, &junk),
			 MSG_OK);
	assert_int_equal(junk, 0);
	assert_int_equal(m.nfields, 5);
	assert_string_equal(m.fields[0].name, "Received");
	assert_string_equal(m.fields[0].value,
			    " from a.example.org\n"
			    "\tby b.example.org; Sat, 21 Nov 2026 09:12:44 +0100");
	assert_string_equal(m.fields[3].name, "Subject");
	assert_string_equal(m.fields[3].value,
			    " Saturday\n  soldering workshop");
	assert_string_equal(m.body, "Hello makers,\n\nbring kits.\n");
	assert_int_equal(m.body_len, strlen(m.body));
	assert_false(m.had_crlf);
	assert_false(m.no_body);

	v = msg_header_unfolded(&m, "subject");
	assert_string_equal(v, "Saturday  soldering workshop");
	free(v);
	assert_null(msg_header_unfolded(&m, "Cc"));
	assert_non_null(msg_field_get(&m, "MESSAGE-id"));
	assert_null(msg_field_cget(&m, "Message"));
	msg_free(&m);
	assert_null(m.fields);
	assert_null(m.body);
}

/* The same message with every line-end style gives the same fields and
 * body, and CRLF is noticed. */
static void test_parse_line_ends(void **state)
{
	static const char *const inputs[] = {
		"Subject: a\n b\nTo: x@y\n\nl1\nl2\n",
		"Subject: a\r\n b\r\nTo: x@y\r\n\r\nl1\r\nl2\r\n",
		"Subject: a\r b\rTo: x@y\r\rl1\rl2\r",
		"Subject: a\r\n b\nTo: x@y\r\r\nl1\rl2\r\n",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof inputs / sizeof *inputs; i++) {
		struct msg m;

		assert_int_equal(parse(&m, inputs[i]), MSG_OK);
		assert_int_equal(m.nfields, 2);
		assert_string_equal(m.fields[0].value, " a\n b");
		assert_string_equal(m.fields[1].value, " x@y");
		assert_string_equal(m.body, "l1\nl2\n");
		assert_int_equal(m.had_crlf, strstr(inputs[i], "\r\n") != NULL);
		msg_free(&m);
	}
}

/* Every prefix of a message parses without reading past it, and what it
 * gives is consistent with the whole: the fields read so far (values
 * being prefixes of the full ones) and the body read so far. */
static void check_prefixes(const char *full, size_t len, size_t body_at,
			   const char *expected_body)
{
	struct msg whole, m;
	size_t k, i;

	assert_int_equal(parse_n(&whole, full, len, &limits, NULL), MSG_OK);
	for (k = 0; k <= len; k++) {
		enum msg_parse_result r = parse_n(&m, full, k, &limits, NULL);

		if (r == MSG_NOT_A_MESSAGE) {
			/* only before the first field is complete enough */
			assert_true(k < 60);
			msg_free(&m);
			continue;
		}
		assert_int_equal(r, MSG_OK);
		assert_true(m.nfields <= whole.nfields);
		for (i = 0; i < m.nfields; i++) {
			assert_string_equal(m.fields[i].name,
					    whole.fields[i].name);
			assert_true(strncmp(m.fields[i].value,
					    whole.fields[i].value,
					    strlen(m.fields[i].value)) == 0);
		}
		if (k >= body_at) {
			assert_false(m.no_body);
			assert_int_equal(m.nfields, whole.nfields);
			assert_true(m.body_len <= whole.body_len);
			assert_memory_equal(m.body, expected_body, m.body_len);
		} else {
			assert_int_equal(m.body_len, 0);
		}
		/* what is written parses back to the same */
		{
			char *w = written(&m);
			struct msg again;

			assert_int_equal(parse(&again, w), MSG_OK);
			assert_int_equal(again.nfields, m.nfields);
			for (i = 0; i < m.nfields; i++)
				assert_string_equal(again.fields[i].value,
						    m.fields[i].value);
			free(w);
			msg_free(&again);
		}
		msg_free(&m);
	}
	msg_free(&whole);
}

static void test_parse_every_prefix(void **state)
{
	const char *lf = strstr(sample, "\n\nHello") + 2;
	static const char crlf[] =
		"From: Alice <alice@example.org>\r\n"
		"Subject: one\r\n two\r\n"
		"X-Junk-Follows: yes\r\n"
		"this line is junk\r\n"
		"To: b@example.org\r\n"
		"\r\n"
		"body\r\n.dot\r\n";

	(void)state;
	check_prefixes(sample, strlen(sample), (size_t)(lf - sample),
		       "Hello makers,\n\nbring kits.\n");
	check_prefixes(crlf, strlen(crlf),
		       (size_t)(strstr(crlf, "\r\n\r\n") + 4 - crlf),
		       "body\n.dot\n");
}

/* CRLF and bare CR to LF, as the parser does to a body. */
static size_t lf_only(const char *in, size_t n, char *out)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		out[o++] = in[i] == '\r' ? '\n' : in[i];
		if (in[i] == '\r' && i + 1 < n && in[i + 1] == '\n')
			i++;
	}
	return o;
}

/* A NUL byte at every position: in the header it becomes a space (or
 * makes its line junk when it breaks a field name), in the body it stays;
 * the rest of the message is not disturbed. */
static void test_parse_nul_everywhere(void **state)
{
	static const char msg[] =
		"Subject: =?UTF-8?Q?caf=C3=A9?=\r\n"
		"To: a@b.example,\r\n\tc@d.example\r\n"
		"\r\n"
		"x\ry\r\n";
	size_t len = strlen(msg), body_at = strstr(msg, "\r\n\r\n") + 4 - msg;
	size_t k, hlen, elen;
	char expected[16];

	(void)state;
	for (k = 0; k <= len; k++) {
		struct buf b = BUF_INIT, w = BUF_INIT;
		struct msg m;
		enum msg_parse_result r;
		const char *sep;

		buf_append(&b, msg, k);
		buf_putc(&b, '\0');
		buf_append(&b, msg + k, len - k);
		r = parse_n(&m, b.data, b.len, &limits, NULL);
		if (k <= strlen("Subject")) {
			/* the first line is no longer a field */
			assert_int_equal(r, MSG_NOT_A_MESSAGE);
			msg_free(&m);
			buf_free(&b);
			continue;
		}
		assert_int_equal(r, MSG_OK);
		assert_true(m.nfields >= 1 && m.nfields <= 2);
		msg_write(&m, &w);
		sep = memmem(w.data, w.len, "\n\n", 2);
		assert_non_null(sep);
		hlen = (size_t)(sep - w.data);
		assert_null(memchr(w.data, '\0', hlen));
		if (k >= body_at) {
			elen = lf_only(b.data + body_at, b.len - body_at,
				       expected);
		} else if (k == body_at - 2) {
			/* "\0\r\n": the separator became a junk line, and so
			 * did the body's lines */
			assert_true(m.no_body);
			elen = 0;
		} else if (k == body_at - 1) {
			/* "\r\0\n": a bare CR ends the header, the NUL line
			 * starts the body */
			memcpy(expected, "\0\nx\ny\n", 6);
			elen = 6;
		} else {
			memcpy(expected, "x\ny\n", 4);
			elen = 4;
		}
		assert_int_equal(m.body_len, elen);
		assert_memory_equal(m.body, expected, elen);
		msg_free(&m);
		buf_free(&b);
		buf_free(&w);
	}
}

static void test_parse_not_a_message(void **state)
{
	static const char *const bad[] = {
		"",
		"\n",
		"\r\n",
		"hello there\nSubject: x\n\n",
		"From alice Sat Nov 21\n",
		"From alice Sat Nov 21\n\nbody\n",
		" continuation first: x\n",
		":no name\n",
		"Sub ject: x\n",
		"\x80\x81: x\n",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct msg m;

		assert_int_equal(parse(&m, bad[i]), MSG_NOT_A_MESSAGE);
		msg_free(&m);
	}
}

static void test_parse_mbox_from_and_blanks(void **state)
{
	struct msg m;
	size_t junk;
	const char *in = "   \n\t\nFrom x@y Sat Nov 21 2026\r\nSubject: s\n\nb";

	(void)state;
	assert_int_equal(parse_n(&m, in, strlen(in), &limits, &junk), MSG_OK);
	assert_int_equal(junk, 2);
	assert_int_equal(m.nfields, 1);
	assert_string_equal(m.fields[0].name, "Subject");
	assert_string_equal(m.body, "b");
	msg_free(&m);

	/* a later "From " line is junk, not a field */
	assert_int_equal(parse_n(&m, "Subject: s\nFrom x y\n\n", 21, &limits,
				 &junk), MSG_OK);
	assert_int_equal(m.nfields, 1);
	assert_int_equal(junk, 1);
	msg_free(&m);
}

static void test_parse_junk(void **state)
{
	struct msg m;
	size_t junk;
	const char *in = "Subject: s\n"
			 "no colon here\n"
			 " continuation of junk\n"
			 "X-A : spaced colon\n"
			 "Bad Name: x\n"
			 "To: t@example.org\n"
			 "\n"
			 "body\n";

	(void)state;
	assert_int_equal(parse_n(&m, in, strlen(in), &limits, &junk), MSG_OK);
	assert_int_equal(junk, 3);
	assert_int_equal(m.nfields, 3);
	assert_string_equal(m.fields[0].value, " s");
	assert_string_equal(m.fields[1].name, "X-A");
	assert_string_equal(m.fields[1].value, " spaced colon");
	assert_string_equal(m.fields[2].name, "To");
	assert_string_equal(m.body, "body\n");
	msg_free(&m);

	/* NULL junk_r is fine */
	assert_int_equal(parse_n(&m, in, strlen(in), &limits, NULL), MSG_OK);
	msg_free(&m);
}

static void test_parse_no_body(void **state)
{
	struct msg m;
	char *w;

	(void)state;
	assert_int_equal(parse(&m, "Subject: s\nTo: t@x"), MSG_OK);
	assert_true(m.no_body);
	assert_int_equal(m.body_len, 0);
	assert_string_equal(m.body, "");
	assert_string_equal(m.fields[1].value, " t@x");
	w = written(&m);
	assert_string_equal(w, "Subject: s\nTo: t@x\n\n");
	free(w);
	msg_free(&m);

	/* a blank line and nothing after it: an empty body, not none */
	assert_int_equal(parse(&m, "Subject: s\n\n"), MSG_OK);
	assert_false(m.no_body);
	assert_int_equal(m.body_len, 0);
	msg_free(&m);

	/* an empty value */
	assert_int_equal(parse(&m, "Subject:\n\n"), MSG_OK);
	assert_string_equal(m.fields[0].value, "");
	msg_free(&m);
}

static void test_parse_blank_with_spaces(void **state)
{
	struct msg m;

	(void)state;
	/* a separator line holding spaces does not swallow the body */
	assert_int_equal(parse(&m, "Subject: s\n  \nbody line\n"), MSG_OK);
	assert_int_equal(m.nfields, 1);
	assert_string_equal(m.fields[0].value, " s");
	assert_string_equal(m.body, "body line\n");
	msg_free(&m);
}

static void test_parse_nul(void **state)
{
	static const char in[] = "Subject: a\0b\nX-\0Bad: y\nTo: t\n\nx\0y\r\nz";
	struct msg m;
	size_t junk;

	(void)state;
	assert_int_equal(parse_n(&m, in, sizeof in - 1, &limits, &junk),
			 MSG_OK);
	assert_int_equal(m.nfields, 2);
	assert_string_equal(m.fields[0].value, " a b");
	assert_int_equal(junk, 1);
	assert_int_equal(m.body_len, 5);
	assert_memory_equal(m.body, "x\0y\nz", 6);
	msg_free(&m);
}

static void test_parse_8bit_header(void **state)
{
	struct msg m;
	char *d;

	(void)state;
	assert_int_equal(parse(&m, "Subject: caf\xc3\xa9 \xff\n\n"), MSG_OK);
	assert_string_equal(m.fields[0].value, " caf\xc3\xa9 \xff");
	d = msg_header_decoded(&m, "Subject");
	assert_string_equal(d, "caf\xc3\xa9 \xef\xbf\xbd");
	free(d);
	msg_free(&m);
}

static void test_parse_limits(void **state)
{
	struct msg_limits l = { 0, 10 };
	struct buf b = BUF_INIT;
	struct msg m;
	int i;

	(void)state;
	for (i = 0; i < 10; i++)
		buf_printf(&b, "X-H%d: v\n", i);
	buf_puts(&b, "\nbody\n");
	assert_int_equal(parse_n(&m, b.data, b.len, &l, NULL), MSG_OK);
	assert_int_equal(m.nfields, 10);
	msg_free(&m);

	buf_reset(&b);
	for (i = 0; i < 11; i++)
		buf_printf(&b, "X-H%d: v\n", i);
	buf_puts(&b, "\nbody\n");
	assert_int_equal(parse_n(&m, b.data, b.len, &l, NULL),
			 MSG_TOO_MANY_HEADERS);
	msg_free(&m);

	/* continuation lines are not fields */
	buf_reset(&b);
	buf_puts(&b, "To: a\n");
	for (i = 0; i < 50; i++)
		buf_puts(&b, " b\n");
	assert_int_equal(parse_n(&m, b.data, b.len, &l, NULL), MSG_OK);
	msg_free(&m);

	/* the byte limit counts the header section (with the blank line
	 * that ends it), not the body */
	l.max_headers = 0;
	l.max_header_bytes = 21;
	assert_int_equal(parse_n(&m, "Subject: 0123456789\n\nbody body body",
				 35, &l, NULL), MSG_OK);
	msg_free(&m);
	assert_int_equal(parse_n(&m, "Subject: 0123456789A\n\n", 22, &l,
				 NULL), MSG_HEADER_TOO_BIG);
	msg_free(&m);

	/* a 200 KB field: stopped by the limit, or read whole without one */
	buf_reset(&b);
	buf_puts(&b, "Subject: ");
	for (i = 0; i < 200 * 1024; i++)
		buf_putc(&b, (char)('a' + i % 26));
	buf_puts(&b, "\nTo: t@example.org\n\nbody\n");
	l.max_header_bytes = 64 * 1024;
	assert_int_equal(parse_n(&m, b.data, b.len, &l, NULL),
			 MSG_HEADER_TOO_BIG);
	msg_free(&m);
	l.max_header_bytes = 0;
	assert_int_equal(parse_n(&m, b.data, b.len, &l, NULL), MSG_OK);
	assert_int_equal(strlen(m.fields[0].value), 200 * 1024 + 1);
	assert_string_equal(m.body, "body\n");
	msg_free(&m);
	/* NULL limits: the defaults (512 KB) */
	assert_int_equal(parse_n(&m, b.data, b.len, NULL, NULL), MSG_OK);
	msg_free(&m);
	buf_free(&b);

	assert_string_equal(msg_parse_result_str(MSG_TOO_MANY_HEADERS),
			    "too many header fields");
	assert_string_equal(msg_parse_result_str(MSG_OK), "ok");
}

/* --- fields --- */

static void test_fields_edit(void **state)
{
	struct msg m;
	char *w;

	(void)state;
	assert_int_equal(parse(&m, "Received: r1\nTo: a@x\nCc: c@x\n"
			       "to: b@x\n\nbody\n"), MSG_OK);
	assert_int_equal(msg_field_delete(&m, "TO"), 2);
	assert_int_equal(msg_field_delete(&m, "To"), 0);
	assert_null(msg_field_get(&m, "To"));
	msg_field_add(&m, "To", "new@x");
	msg_field_set(&m, "Cc", "d@x");
	msg_field_set(&m, "Subject", "added");
	msg_field_prepend(&m, "Return-Path", "<r@x>");
	w = written(&m);
	assert_string_equal(w, "Return-Path: <r@x>\n"
			    "Received: r1\n"
			    "Cc: d@x\n"
			    "To: new@x\n"
			    "Subject: added\n"
			    "\nbody\n");
	free(w);
	assert_string_equal(msg_field_get(&m, "to")->value, " new@x");
	msg_free(&m);

	/* set replaces the first and deletes the others */
	assert_int_equal(parse(&m, "A: 1\nB: x\nA: 2\nA: 3\n\n"), MSG_OK);
	msg_field_set(&m, "a", "9");
	w = written(&m);
	assert_string_equal(w, "A: 9\nB: x\n\n");
	free(w);
	msg_free(&m);
}

/* --- RFC 2047 --- */

static void test_decode(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		/* RFC 2047 section 8 */
		{ "(=?ISO-8859-1?Q?a?=)", "(a)" },
		{ "(=?ISO-8859-1?Q?a?= b)", "(a b)" },
		{ "(=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)", "(ab)" },
		{ "(=?ISO-8859-1?Q?a?=  =?ISO-8859-1?Q?b?=)", "(ab)" },
		{ "(=?ISO-8859-1?Q?a?=\n    =?ISO-8859-1?Q?b?=)", "(ab)" },
		{ "(=?ISO-8859-1?Q?a_b?=)", "(a b)" },
		{ "(=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=)", "(a b)" },
		/* charsets and encodings */
		{ " =?UTF-8?Q?Re:_[makers]_caf=C3=A9?=", "Re: [makers] caf\xc3\xa9" },
		{ "=?utf-8?b?Y2Fmw6k=?=", "caf\xc3\xa9" },
		{ "=?UTF-8?B?Y2Fmw6k?=", "caf\xc3\xa9" },
		{ "=?ISO-8859-1?Q?Andr=E9?= Pirard", "Andr\xc3\xa9 Pirard" },
		{ "=?iso-8859-15?q?=A4?=", "\xe2\x82\xac" },
		{ "=?UTF-8*en?Q?lang?=", "lang" },
		{ "=?Shift_JIS?B?gqA=?=", "\xe3\x81\x82" },
		{ "plain text", "plain text" },
		{ "  trimmed  ", "trimmed" },
		{ "", "" },
		/* a character split across two words */
		{ "=?UTF-8?B?w6g=?= =?UTF-8?B?w6k=?=", "\xc3\xa8\xc3\xa9" },
		{ "=?UTF-8?Q?=C3?= =?UTF-8?Q?=A9?=", "\xc3\xa9" },
		{ "=?Shift_JIS?B?gg==?= =?shift_jis?B?oA==?=", "\xe3\x81\x82" },
		/* invalid UTF-8 replaced */
		{ "=?UTF-8?Q?caf=E9?=", "caf\xef\xbf\xbd" },
		{ "raw \xe9t\xe9", "raw \xef\xbf\xbdt\xef\xbf\xbd" },
		{ "=?UTF-8?Q?=ED=A0=80?=", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
		/* overlong forms and code points past U+10FFFF */
		{ "=?UTF-8?Q?=C0=AF?=", "\xef\xbf\xbd\xef\xbf\xbd" },
		{ "=?UTF-8?Q?=E0=80=AF?=", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
		{ "=?UTF-8?Q?=F0=80=80=AF?=",
		  "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
		{ "=?UTF-8?Q?=F4=90=80=80?=",
		  "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
		{ "=?UTF-8?Q?=F4=8F=BF=BF_=E0=A0=80?=",
		  "\xf4\x8f\xbf\xbf \xe0\xa0\x80" },
		/* undecodable words are kept as written */
		{ "=?UTF-8?B?!!!!?=", "=?UTF-8?B?!!!!?=" },
		{ "=?UTF-8?X?abc?=", "=?UTF-8?X?abc?=" },
		{ "=?UTF-8?Q?a_b", "=?UTF-8?Q?a_b" },
		{ "=?no-such-charset?Q?caf=E9?=", "=?no-such-charset?Q?caf=E9?=" },
		{ "=?no-such-charset?Q?ascii?=", "ascii" },
		{ "=??Q?x?=", "=??Q?x?=" },
		/* text around words, and words glued to text */
		{ "Re:=?UTF-8?Q?x?=", "Re:x" },
		{ "a =?UTF-8?Q?b?= c", "a b c" },
		{ "=?UTF-8?Q?b?= =?UTF-8?B?!?= c", "b =?UTF-8?B?!?= c" },
		/* no line breaks or NULs smuggled in */
		{ "=?UTF-8?Q?a=0D=0Ab=00c?=", "a  b c" },
		{ "=?UTF-8?Q?tab=09?=x", "tab\tx" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof *cases; i++) {
		char *d = msg_decode_rfc2047(cases[i].in);

		if (strcmp(d, cases[i].out) != 0)
			print_error("case %zu: [%s] -> [%s], want [%s]\n", i,
				    cases[i].in, d, cases[i].out);
		assert_string_equal(d, cases[i].out);
		assert_true(utf8_ok(d));
		free(d);
	}
}

/* Each encoded word decodes alone to whole characters, and every line is
 * at most 76 characters. */
static void check_encoded(const char *enc, size_t used, const char *orig)
{
	const char *line = enc, *nl, *w;
	size_t len, first = used;
	char *dec = msg_decode_rfc2047(enc);

	assert_string_equal(dec, orig);
	free(dec);
	for (;;) {
		nl = strchr(line, '\n');
		len = nl ? (size_t)(nl - line) : strlen(line);
		assert_true(first + len <= 76);
		first = 0;
		if (nl == NULL)
			break;
		assert_true(nl[1] == ' ');
		line = nl + 1;
	}
	for (w = strstr(enc, "=?UTF-8?B?"); w != NULL;
	     w = strstr(w + 1, "=?UTF-8?B?")) {
		const char *end = strstr(w, "?=");
		char *word = xstrndup(w, (size_t)(end + 2 - w));
		char *d = msg_decode_rfc2047(word);

		assert_true(end - w + 2 <= 75);
		assert_null(strstr(d, "\xef\xbf\xbd"));
		free(d);
		free(word);
	}
}

static void test_encode(void **state)
{
	static const char *const texts[] = {
		"caf\xc3\xa9",
		"[makers] Re: caf\xc3\xa9 au lait",
		"\xe2\x9c\x94\xe2\x9c\x94\xe2\x9c\x94\xe2\x9c\x94\xe2\x9c\x94"
		"\xe2\x9c\x94\xe2\x9c\x94\xe2\x9c\x94\xe2\x9c\x94\xe2\x9c\x94"
		"\xe2\x9c\x94\xe2\x9c\x94\xe2\x9c\x94\xe2\x9c\x94\xe2\x9c\x94"
		"\xe2\x9c\x94\xe2\x9c\x94\xe2\x9c\x94\xe2\x9c\x94\xe2\x9c\x94"
		"\xe2\x9c\x94\xe2\x9c\x94\xe2\x9c\x94\xe2\x9c\x94\xe2\x9c\x94"
		"\xe2\x9c\x94\xe2\x9c\x94\xe2\x9c\x94\xe2\x9c\x94\xe2\x9c\x94",
		"\xf0\x9f\x98\x80 emoji \xf0\x9f\x98\x80 and a long tail of text "
		"that goes on and on \xf0\x9f\x98\x80\xf0\x9f\x98\x80 past the line",
		"tab\tin text",
		"=?UTF-8?Q?looks_encoded?=",
	};
	size_t i, used;
	char *e;

	(void)state;
	for (i = 0; i < sizeof texts / sizeof *texts; i++) {
		for (used = 0; used <= 40; used += 10) {
			e = msg_encode_rfc2047(texts[i], used);
			assert_non_null(strstr(e, "=?UTF-8?B?"));
			check_encoded(e, used, texts[i]);
			free(e);
		}
	}

	/* printable ASCII is returned as written */
	e = msg_encode_rfc2047("[makers] Re: hello", 9);
	assert_string_equal(e, "[makers] Re: hello");
	free(e);
	e = msg_encode_rfc2047("", 9);
	assert_string_equal(e, "");
	free(e);
	/* and folded at a space when long */
	e = msg_encode_rfc2047("aaaaaaaaaa bbbbbbbbbb cccccccccc dddddddddd "
			       "eeeeeeeeee ffffffffff gggggggggg hhhhhhhhhh", 9);
	assert_string_equal(e, "aaaaaaaaaa bbbbbbbbbb cccccccccc dddddddddd "
			    "eeeeeeeeee ffffffffff\n gggggggggg hhhhhhhhhh");
	free(e);

	/* invalid UTF-8 input is encoded as U+FFFD */
	e = msg_encode_rfc2047("a\xff", 0);
	assert_string_equal(e, "=?UTF-8?B?Ye+/vQ==?=");
	free(e);
}

/* --- addresses --- */

static void test_first_address(void **state)
{
	static const struct {
		const char *value, *addr, *name;
	} cases[] = {
		{ "Alice Example <alice@Example.ORG>", "alice@example.org",
		  "Alice Example" },
		{ "\"Bob B.\" <Bob@Example.NET>", "Bob@example.net", "Bob B." },
		{ "=?UTF-8?Q?Carol_C=C3=B6der?= <carol@example.com>",
		  "carol@example.com", "Carol C\xc3\xb6""der" },
		{ "\"=?UTF-8?Q?Caf=C3=A9?=\" <a@b.example>", "a@b.example",
		  "Caf\xc3\xa9" },
		{ "plain@example.org", "plain@example.org", NULL },
		{ "plain@example.org (Old Style)", "plain@example.org",
		  "Old Style" },
		{ "a@x.example, b@y.example", "a@x.example", NULL },
		{ "Friends: f1@x.example, f2@x.example;", "f1@x.example", NULL },
		{ "Pete(A wonderful \\) chap) <pete(his account)@silly.test(his "
		  "host)>", "pete@silly.test", "Pete" },
		/* libetpan cannot read a route: the fallback finds the
		 * address, not the name */
		{ "Mary <@route.example:mary@example.net>", "mary@example.net",
		  NULL },
		{ "\"a\\\"b\" <x@y.example>", "x@y.example", "a\"b" },
		{ "Hans M\xc3\xbcller <h@x.de>", "h@x.de", "Hans M\xc3\xbcller" },
		{ "broken <<x@y>> junk", NULL, NULL },
		{ "no address", NULL, NULL },
		{ "<>", NULL, NULL },
		{ "undisclosed-recipients:;", NULL, NULL },
		{ "", NULL, NULL },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct msg m = { 0 };
		char *name = (char *)"unset", *a;

		msg_field_add(&m, "From", cases[i].value);
		m.body = xstrdup("");
		a = msg_first_address(&m, "from", &name);
		if (cases[i].addr == NULL) {
			assert_null(a);
			assert_null(name);
		} else {
			assert_non_null(a);
			assert_string_equal(a, cases[i].addr);
			if (cases[i].name == NULL)
				assert_null(name);
			else
				assert_string_equal(name, cases[i].name);
		}
		free(a);
		free(name);
		/* name_r is optional */
		a = msg_first_address(&m, "From", NULL);
		free(a);
		msg_free(&m);
	}
}

static void test_first_address_absent(void **state)
{
	struct msg m;
	char *name = (char *)"unset";

	(void)state;
	assert_int_equal(parse(&m, "To: a@b.example\n\n"), MSG_OK);
	assert_null(msg_first_address(&m, "From", &name));
	assert_null(name);
	msg_free(&m);
}

static void test_count_addresses(void **state)
{
	struct msg m;

	(void)state;
	assert_int_equal(parse(&m,
			       "To: a@x.example, \"B, b\" <b@x.example>,\n"
			       " Group: g1@x.example, g2@x.example;\n"
			       "Cc: undisclosed-recipients:;\n"
			       "to: c@x.example\n"
			       "Bcc: d@x, , e@x\n"
			       "\n"), MSG_OK);
	assert_int_equal(msg_count_addresses(&m, "To"), 5);
	assert_int_equal(msg_count_addresses(&m, "Cc"), 0);
	/* libetpan stops at the empty element: counted by '@' */
	assert_int_equal(msg_count_addresses(&m, "Bcc"), 2);
	assert_int_equal(msg_count_addresses(&m, "Reply-To"), 0);
	msg_free(&m);
}

/* --- message-ids --- */

static void test_message_ids(void **state)
{
	struct msg m;
	char *id, **refs;

	(void)state;
	assert_int_equal(parse(&m,
			       "Message-ID:  <abc@example.org> (comment)\n"
			       "In-Reply-To: \"Joe's <message>\" of today\n"
			       " <parent@example.org> <other@example.org>\n"
			       "References: <root@example.org>\n"
			       "  junk <mid@example\n .org> ,, (a <comment@x>)\n"
			       "  <parent@example.org> <root@example.org> <>\n"
			       "\n"), MSG_OK);
	id = msg_message_id(&m);
	assert_string_equal(id, "abc@example.org");
	free(id);
	id = msg_in_reply_to(&m);
	assert_string_equal(id, "parent@example.org");
	free(id);
	refs = msg_references(&m);
	assert_string_equal(refs[0], "root@example.org");
	assert_string_equal(refs[1], "mid@example.org");
	assert_string_equal(refs[2], "parent@example.org");
	/* In-Reply-To's other id, not in References, comes last */
	assert_string_equal(refs[3], "other@example.org");
	assert_null(refs[4]);
	msg_idlist_free(&refs);
	assert_null(refs);
	msg_free(&m);

	/* none at all */
	assert_int_equal(parse(&m, "Subject: x\n\n"), MSG_OK);
	assert_null(msg_message_id(&m));
	assert_null(msg_in_reply_to(&m));
	refs = msg_references(&m);
	assert_non_null(refs);
	assert_null(refs[0]);
	msg_idlist_free(&refs);
	msg_free(&m);

	/* In-Reply-To alone gives the parent; a bare id is taken */
	assert_int_equal(parse(&m, "Message-ID: bare@example.org\n"
			       "In-Reply-To: <p@example.org>\n\n"), MSG_OK);
	id = msg_message_id(&m);
	assert_string_equal(id, "bare@example.org");
	free(id);
	refs = msg_references(&m);
	assert_string_equal(refs[0], "p@example.org");
	assert_null(refs[1]);
	msg_idlist_free(&refs);
	msg_free(&m);

	/* an unusable Message-ID */
	assert_int_equal(parse(&m, "Message-ID: two words\n\n"), MSG_OK);
	assert_null(msg_message_id(&m));
	msg_free(&m);
}

static void test_references_bounded(void **state)
{
	struct buf b = BUF_INIT;
	struct msg m;
	char **refs;
	size_t n;
	int i;

	(void)state;
	buf_puts(&b, "References:");
	for (i = 0; i < 3000; i++)
		buf_printf(&b, " <id%d@x>\n", i);
	buf_puts(&b, "\n");
	assert_int_equal(parse_n(&m, b.data, b.len, NULL, NULL), MSG_OK);
	refs = msg_references(&m);
	for (n = 0; refs[n] != NULL; n++)
		;
	assert_int_equal(n, 500);
	assert_string_equal(refs[0], "id0@x");
	assert_string_equal(refs[1], "id2501@x");
	assert_string_equal(refs[n - 1], "id2999@x");
	msg_idlist_free(&refs);
	msg_free(&m);
	buf_free(&b);
}

/* --- SMTP --- */

static void test_smtp_data(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "a\nb\n", "a\r\nb\r\n" },
		{ "a\r\nb\r\n", "a\r\nb\r\n" },
		{ "a\rb\r", "a\r\nb\r\n" },
		{ "a\r\r\nb", "a\r\n\r\nb\r\n" },
		{ ".\n", "..\r\n" },
		{ ".dot\nx.\n..two\n", "..dot\r\nx.\r\n...two\r\n" },
		{ "x\n.\r\n.", "x\r\n..\r\n..\r\n" },
		{ "no end", "no end\r\n" },
		{ "", "" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct buf b = BUF_INIT;

		msg_to_smtp_data(cases[i].in, strlen(cases[i].in), &b);
		assert_string_equal(buf_cstr(&b), cases[i].out);
		buf_free(&b);
	}
	{
		/* NUL bytes pass through */
		struct buf b = BUF_INIT;

		assert_false(msg_to_smtp_data("a\0b\n", 4, &b));
		assert_int_equal(b.len, 5);
		assert_memory_equal(b.data, "a\0b\r\n", 5);
		buf_free(&b);
	}
	{
		/* It says whether the message needs 8BITMIME, wherever the
		 * 8-bit byte is. */
		struct buf b = BUF_INIT;

		assert_false(msg_to_smtp_data("Subject: x\n\nplain\n", 19,
					      &b));
		buf_reset(&b);
		assert_true(msg_to_smtp_data("a\n.\nZo\xc3\xab\n", 9, &b));
		assert_string_equal(buf_cstr(&b), "a\r\n..\r\nZo\xc3\xab\r\n");
		buf_reset(&b);
		assert_true(msg_to_smtp_data("\xff", 1, &b));
		assert_false(msg_to_smtp_data("", 0, &b));
		buf_free(&b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_basic),
		cmocka_unit_test(test_parse_line_ends),
		cmocka_unit_test(test_parse_every_prefix),
		cmocka_unit_test(test_parse_nul_everywhere),
		cmocka_unit_test(test_parse_not_a_message),
		cmocka_unit_test(test_parse_mbox_from_and_blanks),
		cmocka_unit_test(test_parse_junk),
		cmocka_unit_test(test_parse_no_body),
		cmocka_unit_test(test_parse_blank_with_spaces),
		cmocka_unit_test(test_parse_nul),
		cmocka_unit_test(test_parse_8bit_header),
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_fields_edit),
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_first_address),
		cmocka_unit_test(test_first_address_absent),
		cmocka_unit_test(test_count_addresses),
		cmocka_unit_test(test_message_ids),
		cmocka_unit_test(test_references_bounded),
		cmocka_unit_test(test_smtp_data),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
