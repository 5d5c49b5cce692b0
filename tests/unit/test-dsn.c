/* test-dsn - the bounce parser on small fixtures, and VERP */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/verp.h"
#include "base/buf.h"
#include "mail/dsn.h"
#include "base/util.h"
#include "base/xalloc.h"

static void load(const char *name, struct buf *b)
{
	const char *top = getenv("top_srcdir");
	char *path = xasprintf("%s/tests/fixtures/bounces/%s",
			       top != NULL && *top != '\0' ? top : ".", name);

	buf_init(b);
	if (util_read_file(path, 1 << 20, b) < 0)
		fail_msg("cannot read %s", path);
	free(path);
}

static void parse_file(const char *name, struct dsn_report *r)
{
	struct buf b;

	load(name, &b);
	dsn_parse(b.data, b.len, NULL, r);
	buf_free(&b);
}

/* One recipient, this address and severity. */
static void expect_one(const char *file, const char *addr,
		       enum dsn_severity sev, const char *status)
{
	struct dsn_report r;

	parse_file(file, &r);
	assert_int_equal(r.kind, DSN_BOUNCE);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.v[0].address, addr);
	assert_int_equal(r.v[0].severity, sev);
	assert_string_equal(r.v[0].status, status);
	dsn_report_free(&r);
}

static void test_postfix_dsn(void **state)
{
	struct dsn_report r;

	expect_one("postfix-dsn.eml", "bob@example.net", DSN_HARD, "5.1.1");
	parse_file("postfix-dsn.eml", &r);
	assert_true(r.structured);
	assert_string_equal(r.v[0].original, "bob@example.net");
	dsn_report_free(&r);
}

static void test_delay_is_soft(void **state)
{
	expect_one("delay-dsn.eml", "bob@example.net", DSN_SOFT, "4.4.1");
}

static void test_exim(void **state)
{
	expect_one("exim.eml", "carol@example.com", DSN_HARD, "");
}

static void test_qmail(void **state)
{
	expect_one("qmail.eml", "dave@example.com", DSN_HARD, "5.1.1");
}

static void test_exchange(void **state)
{
	expect_one("exchange.eml", "erin@corp.example.com", DSN_HARD, "5.1.1");
}

static void test_autoreply_and_feedback(void **state)
{
	struct dsn_report r;

	parse_file("autoreply.eml", &r);
	assert_int_equal(r.kind, DSN_AUTOREPLY);
	assert_int_equal(r.n, 0);
	dsn_report_free(&r);
	parse_file("feedback.eml", &r);
	assert_int_equal(r.kind, DSN_FEEDBACK);
	assert_int_equal(r.n, 0);
	dsn_report_free(&r);
}

static void test_plain_mail_is_none(void **state)
{
	static const char m[] = "From: a@example.org\nTo: b@example.org\n"
		"Subject: hello\nMessage-ID: <x@y>\n\nJust a note to "
		"c@example.org.\n";
	struct dsn_report r;

	dsn_parse(m, sizeof m - 1, NULL, &r);
	assert_int_equal(r.kind, DSN_NONE);
	dsn_report_free(&r);
}

static void test_success_dsn_is_none(void **state)
{
	static const char m[] = "From: MAILER-DAEMON@x.example\n"
		"Subject: Successful Mail Delivery Report\n"
		"Content-Type: multipart/report; report-type=delivery-status;"
		" boundary=\"b\"\n\n--b\nContent-Type: text/plain\n\nDelivered."
		"\n\n--b\nContent-Type: message/delivery-status\n\n"
		"Reporting-MTA: dns; x.example\n\nFinal-Recipient: rfc822; "
		"ok@example.org\nAction: delivered\nStatus: 2.0.0\n\n--b--\n";
	struct dsn_report r;

	dsn_parse(m, sizeof m - 1, NULL, &r);
	assert_int_equal(r.kind, DSN_NONE);
	assert_int_equal(r.n, 0);
	dsn_report_free(&r);
}

/* Every prefix of every fixture parses without a crash (the sanitizer
 * build makes this a memory check), with CRLF line ends too. */
static void test_prefixes(void **state)
{
	static const char *const files[] = {
		"postfix-dsn.eml", "delay-dsn.eml", "exim.eml", "qmail.eml",
		"exchange.eml", "autoreply.eml", "feedback.eml", NULL
	};
	size_t i, k;

	for (i = 0; files[i] != NULL; i++) {
		struct buf b, crlf = BUF_INIT;

		load(files[i], &b);
		for (k = 0; k < b.len; k++) {
			if (b.data[k] == '\n')
				buf_putc(&crlf, '\r');
			buf_putc(&crlf, b.data[k]);
		}
		for (k = 0; k <= b.len; k++) {
			struct dsn_report r;
			char *copy = xstrndup(b.data, k);

			dsn_parse(copy, k, NULL, &r);
			dsn_report_free(&r);
			free(copy);
		}
		{
			struct dsn_report r;

			dsn_parse(crlf.data, crlf.len, NULL, &r);
			assert_int_not_equal(r.kind, DSN_NONE);
			dsn_report_free(&r);
		}
		buf_free(&crlf);
		buf_free(&b);
	}
}

static void test_limits(void **state)
{
	struct dsn_limits lim = dsn_default_limits;
	struct buf b = BUF_INIT;
	struct dsn_report r;
	size_t i;

	/* 200 recipients, at most 5 reported. */
	buf_puts(&b, "From: MAILER-DAEMON@x.example\nSubject: Undelivered\n"
		 "Content-Type: multipart/report; report-type=delivery-status;"
		 " boundary=\"b\"\n\n--b\nContent-Type: message/delivery-status"
		 "\n\n");
	for (i = 0; i < 200; i++)
		buf_printf(&b, "Final-Recipient: rfc822; u%zu@example.org\n"
			   "Action: failed\nStatus: 5.1.1\n\n", i);
	buf_puts(&b, "--b--\n");
	lim.max_rcpts = 5;
	dsn_parse(b.data, b.len, &lim, &r);
	assert_int_equal(r.kind, DSN_BOUNCE);
	assert_int_equal(r.n, 5);
	dsn_report_free(&r);
	/* Deep nesting stops at the depth limit. */
	buf_reset(&b);
	buf_puts(&b, "From: MAILER-DAEMON@x.example\nSubject: x\n");
	for (i = 0; i < 60; i++)
		buf_printf(&b, "Content-Type: multipart/mixed; boundary=\"b%zu\""
			   "\n\n--b%zu\n", i, i);
	buf_puts(&b, "Content-Type: text/plain\n\n<z@example.org>: gone\n");
	dsn_parse(b.data, b.len, NULL, &r);
	dsn_report_free(&r);
	buf_free(&b);
}

static void test_verp(void **state)
{
	static const char *const members[] = {
		"bob@example.net", "first.last+tag@example.org",
		"a=b@example.org", "x=3D@example.org", "\"john doe\"@example.org",
		"o'brien@example.ie", NULL
	};
	char *enc, *dec;
	size_t i;

	enc = verp_encode("makers", "bob@Example.NET", "lists.example.org");
	assert_string_equal(enc, "makers-bounces+bob=example.net@"
			    "lists.example.org");
	free(enc);
	for (i = 0; members[i] != NULL; i++) {
		char *ext;

		enc = verp_encode("makers", members[i], "lists.example.org");
		assert_non_null(enc);
		ext = xstrndup(enc + strlen("makers-bounces+"),
			       strcspn(enc + strlen("makers-bounces+"), "@"));
		assert_int_equal(verp_decode(ext, true, &dec), 0);
		assert_string_equal(dec, members[i]);
		free(dec);
		/* An MTA that upper-cases the local part. */
		util_lower(ext);
		assert_int_equal(verp_decode(ext, false, &dec), 0);
		free(dec);
		free(ext);
		free(enc);
	}
	assert_int_equal(verp_decode("BOB=EXAMPLE.NET", false, &dec), 0);
	assert_string_equal(dec, "bob@example.net");
	free(dec);
	assert_int_equal(verp_decode("\"bob=example.net\"", false, &dec), 0);
	assert_string_equal(dec, "bob@example.net");
	free(dec);
	assert_int_equal(verp_decode("a=3db=example.org", false, &dec), 0);
	assert_string_equal(dec, "a=b@example.org");
	free(dec);
	assert_int_equal(verp_decode("nobody", false, &dec), -1);
	assert_int_equal(verp_decode("=example.org", false, &dec), -1);
	assert_int_equal(verp_decode("a=zz=example.org", false, &dec), -1);
	assert_int_equal(verp_decode("a=00=example.org", false, &dec), -1);
	assert_null(verp_encode("makers", "a@[192.0.2.1]", "lists.example.org"));
	assert_null(verp_encode("makers", "not an address", "lists.example.org"));
}

/* The extension of a bounce address (what follows "LIST-bounces+"). */
static char *extension_of(const char *addr)
{
	const char *p = strchr(addr, '+') + 1;

	return xstrndup(p, strcspn(p, "@"));
}

static void test_verp_tags(void **state)
{
	static const char *const members[] = {
		"bob@example.net", "first.last+tag@example.org",
		"\"john doe\"@example.org", "0123456789abcdef0123.x@example.org",
		NULL
	};
	unsigned char key[VERP_KEY_LEN], other[VERP_KEY_LEN];
	const time_t now = 1741000000;
	enum verp_tag tag;
	char *enc, *ext, *dec, *bad;
	size_t i;

	memset(key, 7, sizeof key);
	memset(other, 8, sizeof other);
	for (i = 0; members[i] != NULL; i++) {
		enc = verp_encode_tagged("makers", members[i],
					 "lists.example.org", key, now);
		assert_non_null(enc);
		ext = extension_of(enc);
		/* TAG (20 hex digits) '.' ENCODED */
		assert_int_equal(strspn(ext, "0123456789abcdef"), 20);
		assert_int_equal(ext[20], '.');
		assert_int_equal(verp_check(ext, true, "makers", key, now, &dec,
					    &tag), 0);
		assert_int_equal(tag, VERP_TAG_GOOD);
		assert_string_equal(dec, members[i]);
		free(dec);
		/* good for VERP_TAG_DAYS days, not a day more */
		assert_int_equal(verp_check(ext, true, "makers", key,
					    now + VERP_TAG_DAYS * 86400, &dec,
					    &tag), 0);
		assert_int_equal(tag, VERP_TAG_GOOD);
		free(dec);
		assert_int_equal(verp_check(ext, true, "makers", key,
					    now + (VERP_TAG_DAYS + 1) * 86400,
					    &dec, &tag), 0);
		assert_int_equal(tag, VERP_TAG_BAD);
		free(dec);
		/* nor from the future, another key, another list */
		assert_int_equal(verp_check(ext, true, "makers", key,
					    now - 2 * 86400, &dec, &tag), 0);
		assert_int_equal(tag, VERP_TAG_BAD);
		free(dec);
		assert_int_equal(verp_check(ext, true, "makers", other, now,
					    &dec, &tag), 0);
		assert_int_equal(tag, VERP_TAG_BAD);
		free(dec);
		assert_int_equal(verp_check(ext, true, "crafts", key, now,
					    &dec, &tag), 0);
		assert_int_equal(tag, VERP_TAG_BAD);
		free(dec);
		/* an MTA that upper-cases local parts */
		for (dec = ext; *dec != '\0'; dec++)
			if (*dec >= 'a' && *dec <= 'z')
				*dec = (char)(*dec - 'a' + 'A');
		assert_int_equal(verp_check(ext, false, "makers", key, now,
					    &dec, &tag), 0);
		assert_int_equal(tag, VERP_TAG_GOOD);
		free(dec);
		free(ext);
		free(enc);
	}
	/* a tag moved to another member */
	enc = verp_encode_tagged("makers", "bob@example.net",
				 "lists.example.org", key, now);
	ext = extension_of(enc);
	bad = xasprintf("%.20s.carol=example.com", ext);
	assert_int_equal(verp_check(bad, false, "makers", key, now, &dec,
				    &tag), 0);
	assert_int_equal(tag, VERP_TAG_BAD);
	assert_string_equal(dec, "carol@example.com");
	free(dec);
	free(bad);
	free(ext);
	free(enc);
	/* the plain form reads as untagged; a local part that only looks
	 * tagged too */
	assert_int_equal(verp_check("bob=example.net", false, "makers", key,
				    now, &dec, &tag), 0);
	assert_int_equal(tag, VERP_UNTAGGED);
	assert_string_equal(dec, "bob@example.net");
	free(dec);
	assert_int_equal(verp_check("0123456789abcdef0123=example.org", false,
				    "makers", key, now, &dec, &tag), 0);
	assert_int_equal(tag, VERP_UNTAGGED);
	free(dec);
	assert_int_equal(verp_check("nobody", false, "makers", key, now, &dec,
				    &tag), -1);
	assert_null(dec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_postfix_dsn),
		cmocka_unit_test(test_delay_is_soft),
		cmocka_unit_test(test_exim),
		cmocka_unit_test(test_qmail),
		cmocka_unit_test(test_exchange),
		cmocka_unit_test(test_autoreply_and_feedback),
		cmocka_unit_test(test_plain_mail_is_none),
		cmocka_unit_test(test_success_dsn_is_none),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_verp),
		cmocka_unit_test(test_verp_tags),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
