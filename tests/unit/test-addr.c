/* test-addr - address validation, normalisation, mailbox lines, routes */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/addr.h"
#include "base/buf.h"
#include "mail/mailbox.h"

static void test_valid(void **state)
{
	static const char *const good[] = {
		"a@b.c",
		"alice@example.org",
		"Alice.Example@Example.ORG",
		"first.last+tag@sub.example.co.uk",
		"!#$%&'*+-/=?^_`{|}~@example.org",
		"user@localhost",
		"x@a-b.example",
		"x@1.example",
		"\"john doe\"@example.org",
		"\"a\\\"b\"@example.org",
		"\"weird..dots.\"@example.org",
		"\"\"@example.org",
		"a@[192.0.2.1]",
		"a@[IPv6:2001:db8::1]",
		"a@[ipv6:::1]",
		/* 64-byte local part, 63-byte label */
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"@bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
		".example",
		NULL
	};
	static const char *const bad[] = {
		"",
		"@",
		"a",
		"a@",
		"@b.c",
		"a@@b.c",
		"a@b@c.d",
		"a b@c.d",
		"a@b c.d",
		" a@b.c",
		"a@b.c ",
		"a\t@b.c",
		"a\r\n@b.c",
		"a@b.c\n",
		"a\x01@b.c",
		"a\x7f@b.c",
		".a@b.c",
		"a.@b.c",
		"a..b@c.d",
		"a@b..c",
		"a@.b.c",
		"a@b.c.",
		"a@-b.c",
		"a@b-.c",
		"a@b_c.d",
		"a@b.c:25",
		"a(comment)@b.c",
		"<a@b.c>",
		"Alice <a@b.c>",
		"a,b@c.d",
		"a@b,c.d",
		"\"unterminated@b.c",
		"\"a\"b@c.d",
		"\"a\r\"@b.c",
		"a\"b\"@c.d",
		"a@[192.0.2.300]",
		"a@[192.0.2.1",
		"a@[IPv6:zz::1]",
		"a@[2001:db8::1]",
		"a@[]",
		"z\xc3\xab@example.org",
		/* 65-byte local part */
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"@b.c",
		/* 64-byte label */
		"a@bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
		".example",
		NULL
	};
	size_t i;

	for (i = 0; good[i] != NULL; i++) {
		if (!addr_valid(good[i]))
			fail_msg("should be valid: %s", good[i]);
	}
	for (i = 0; bad[i] != NULL; i++) {
		if (addr_valid(bad[i]))
			fail_msg("should be invalid: %s", bad[i]);
	}
	assert_false(addr_valid(NULL));
}

/* 254 bytes in all is the most; 255 is too long. */
static void test_valid_total_length(void **state)
{
	struct buf b = BUF_INIT;

	buf_puts(&b, "user@");
	while (b.len < ADDR_MAX - 4)
		buf_puts(&b, "aaaaaaaaa.");
	buf_truncate(&b, ADDR_MAX - 4);
	buf_puts(&b, "b.cd");
	assert_int_equal(b.len, ADDR_MAX);
	assert_true(addr_valid(b.data));
	buf_truncate(&b, b.len - 2);
	buf_puts(&b, "cde");
	assert_int_equal(b.len, ADDR_MAX + 1);
	assert_false(addr_valid(b.data));
	buf_free(&b);
}

static void check_norm(const char *in, bool cs, const char *want)
{
	char *out = addr_normalize(in, cs);

	if (want == NULL) {
		if (out != NULL)
			fail_msg("%s: expected NULL, got %s",
				 in != NULL ? in : "(null)", out);
		return;
	}
	if (out == NULL)
		fail_msg("%s: expected %s, got NULL", in, want);
	assert_string_equal(out, want);
	free(out);
}

static void test_normalize(void **state)
{
	check_norm("Alice@Example.ORG", false, "alice@example.org");
	check_norm("Alice@Example.ORG", true, "Alice@example.org");
	check_norm("a@b.c", false, "a@b.c");
	check_norm("\"john\"@Example.org", false, "john@example.org");
	check_norm("\"John.Doe\"@x.org", true, "John.Doe@x.org");
	check_norm("\"John Doe\"@X.org", true, "\"John Doe\"@x.org");
	check_norm("\"a\\\"b\"@x.org", false, "\"a\\\"b\"@x.org");
	check_norm("a@[IPv6:2001:DB8::1]", false, "a@[ipv6:2001:db8::1]");
	check_norm("not an address", false, NULL);
	check_norm("", false, NULL);
	check_norm(NULL, false, NULL);
}

static void check_parse(const char *in, const char *want_addr,
			const char *want_name)
{
	char *a = NULL, *n = NULL;
	int r = mailbox_parse(in, false, &a, &n);

	if (want_addr == NULL) {
		if (r != -1)
			fail_msg("[%s]: expected -1, got %s", in, a);
		assert_null(a);
		assert_null(n);
		return;
	}
	if (r != 0)
		fail_msg("[%s]: expected %s, got -1", in, want_addr);
	assert_string_equal(a, want_addr);
	if (want_name == NULL) {
		if (n != NULL)
			fail_msg("[%s]: expected no name, got [%s]", in, n);
	} else {
		if (n == NULL)
			fail_msg("[%s]: expected name [%s]", in, want_name);
		assert_string_equal(n, want_name);
	}
	free(a);
	free(n);
}

static void test_parse_mailbox(void **state)
{
	check_parse("Alice Example <Alice@Example.ORG>", "alice@example.org",
		    "Alice Example");
	check_parse("\"Doe, John\" <j@x.org>", "j@x.org", "Doe, John");
	check_parse("Doe, John <j@x.org>", "j@x.org", "Doe, John");
	check_parse("<a@b.c>", "a@b.c", NULL);
	check_parse("a@b.c", "a@b.c", NULL);
	check_parse("  a@b.c \r\n", "a@b.c", NULL);
	check_parse("< a@b.c >", "a@b.c", NULL);
	check_parse("\"\" <a@b.c>", "a@b.c", NULL);
	check_parse("\"Q \\\"x\\\" y\" <q@x.org>", "q@x.org", "Q \"x\" y");
	check_parse("=?UTF-8?Q?Zo=C3=AB?= <z@x.org>", "z@x.org",
		    "Zo\xc3\xab");
	check_parse("=?iso-8859-1?q?J=F6rg?= <j@x.org>", "j@x.org",
		    "J\xc3\xb6rg");
	check_parse("Zo\xc3\xab <z@x.org>", "z@x.org", "Zo\xc3\xab");
	check_parse("a@b.c (Alice)", "a@b.c", "Alice");
	check_parse("\"<tricky>\" <t@x.org>", "t@x.org", "<tricky>");
	check_parse("Name <a@[192.0.2.1]>", "a@[192.0.2.1]", "Name");
	check_parse("\"john doe\"@x.org", "\"john doe\"@x.org", NULL);

	check_parse("", NULL, NULL);
	check_parse("   ", NULL, NULL);
	check_parse("<>", NULL, NULL);
	check_parse("foo", NULL, NULL);
	check_parse("a b@c.d", NULL, NULL);
	check_parse("Alice <a@b.c", NULL, NULL);
	check_parse("Alice a@b.c>", NULL, NULL);
	check_parse("a@b.c, c@d.e", NULL, NULL);
	check_parse("<a@b.c>, <c@d.e>", NULL, NULL);
	check_parse("<a@b.c> trailing", NULL, NULL);
	check_parse("Alice <a@@b.c>", NULL, NULL);
	check_parse("Alice <a@b.c>\nBcc: x@y.z", NULL, NULL);
	check_parse("a.@b.c", NULL, NULL);
	assert_int_equal(mailbox_parse(NULL, false, &(char *){ NULL },
				       NULL), -1);
}

static void test_parse_mailbox_case(void **state)
{
	char *a = NULL, *n = NULL;

	assert_int_equal(mailbox_parse("Bob <Bob@Example.ORG>", true, &a,
				       &n), 0);
	assert_string_equal(a, "Bob@example.org");
	assert_string_equal(n, "Bob");
	free(a);
	free(n);
	/* The name is optional for the caller. */
	assert_int_equal(mailbox_parse("Bob <b@x.org>", false, &a, NULL),
			 0);
	assert_string_equal(a, "b@x.org");
	free(a);
}

/* An encoded name cannot smuggle a line break into a header. */
static void test_parse_mailbox_name_controls(void **state)
{
	check_parse("=?UTF-8?Q?Eve=0D=0ABcc:_x@y.z?= <e@x.org>", "e@x.org",
		    "Eve  Bcc: x@y.z");
}

/* Every prefix of a good line parses or fails cleanly. */
static void test_parse_mailbox_prefixes(void **state)
{
	const char *line = "\"Doe, John\" (the =?UTF-8?Q?b=C3=B8ss?=) "
			   "<John.Doe@Example.ORG>";
	size_t i, len = strlen(line);

	for (i = 0; i <= len; i++) {
		char *s = strndup(line, i), *a = NULL, *n = NULL;
		int r = mailbox_parse(s, false, &a, &n);

		if (i == len) {
			assert_int_equal(r, 0);
			assert_string_equal(a, "john.doe@example.org");
		} else if (r == 0) {
			assert_non_null(a);
		}
		free(a);
		free(n);
		free(s);
	}
}

/* Known lists for routing. */
static bool known(const char *name, void *ctx)
{
	const char *const *names = ctx;
	size_t i;

	for (i = 0; names[i] != NULL; i++) {
		if (strcmp(names[i], name) == 0)
			return true;
	}
	return false;
}

static const char *const lists[] = {
	"makers", "foo", "foo-request", "a.b", "x-owner", NULL
};

static void check_route(const char *rcpt, const char *list,
			enum addr_kind kind, const char *ext)
{
	struct addr_route r;
	int ret = addr_route(rcpt, "Lists.Example.ORG", known,
			     (void *)lists, &r);

	if (list == NULL) {
		if (ret != -1)
			fail_msg("%s: expected -1, got %s/%s", rcpt, r.list,
				 addr_kind_name(r.kind));
		assert_null(r.list);
		assert_null(r.extension);
		addr_route_free(&r);
		return;
	}
	if (ret != 0)
		fail_msg("%s: expected %s/%s, got -1", rcpt, list,
			 addr_kind_name(kind));
	assert_string_equal(r.list, list);
	if (r.kind != kind)
		fail_msg("%s: expected %s, got %s", rcpt, addr_kind_name(kind),
			 addr_kind_name(r.kind));
	if (ext == NULL)
		assert_null(r.extension);
	else
		assert_string_equal(r.extension, ext);
	addr_route_free(&r);
	assert_null(r.list);
}

static void test_route(void **state)
{
	const char *d = "@lists.example.org";
	struct { const char *local; const char *list; enum addr_kind kind;
		 const char *ext; } t[] = {
		{ "makers", "makers", ADDR_POST, NULL },
		{ "Makers", "makers", ADDR_POST, NULL },
		{ "makers-request", "makers", ADDR_REQUEST, NULL },
		{ "MAKERS-REQUEST", "makers", ADDR_REQUEST, NULL },
		{ "makers-subscribe", "makers", ADDR_SUBSCRIBE, NULL },
		{ "makers-unsubscribe", "makers", ADDR_UNSUBSCRIBE, NULL },
		{ "makers-owner", "makers", ADDR_OWNER, NULL },
		{ "makers-confirm+0123abcd", "makers", ADDR_CONFIRM,
		  "0123abcd" },
		{ "Makers-Confirm+AbC", "makers", ADDR_CONFIRM, "AbC" },
		{ "makers-bounces", "makers", ADDR_BOUNCES, NULL },
		{ "makers-bounces+", "makers", ADDR_BOUNCES, NULL },
		{ "makers-bounces+alice=example.org", "makers",
		  ADDR_BOUNCES, "alice=example.org" },
		{ "makers-bounces+a+b", "makers", ADDR_BOUNCES, "a+b" },
		{ "makers-rsvp+12", "makers", ADDR_RSVP, "12" },
		{ "Makers-RSVP+7", "makers", ADDR_RSVP, "7" },
		{ "foo-request-rsvp+3", "foo-request", ADDR_RSVP, "3" },
		{ "a.b", "a.b", ADDR_POST, NULL },
		{ "a.b-owner", "a.b", ADDR_OWNER, NULL },
		/* The longest known name wins. */
		{ "foo", "foo", ADDR_POST, NULL },
		{ "foo-request", "foo-request", ADDR_POST, NULL },
		{ "foo-request-request", "foo-request", ADDR_REQUEST, NULL },
		{ "foo-request-confirm+t", "foo-request", ADDR_CONFIRM, "t" },
		{ "foo-owner", "foo", ADDR_OWNER, NULL },
		{ "x-owner", "x-owner", ADDR_POST, NULL },
		{ "x-owner-owner", "x-owner", ADDR_OWNER, NULL },
		/* Not ours. */
		{ "makers-confirm", NULL, ADDR_POST, NULL },
		{ "makers-confirm+", NULL, ADDR_POST, NULL },
		{ "makers-confirm-token", NULL, ADDR_POST, NULL },
		{ "makers-rsvp", NULL, ADDR_POST, NULL },
		{ "makers-rsvp+", NULL, ADDR_POST, NULL },
		{ "makers+tag", NULL, ADDR_POST, NULL },
		{ "makers-request+x", NULL, ADDR_POST, NULL },
		{ "makers-help", NULL, ADDR_POST, NULL },
		{ "nosuch", NULL, ADDR_POST, NULL },
		{ "nosuch-request", NULL, ADDR_POST, NULL },
		{ "-request", NULL, ADDR_POST, NULL },
		{ "x", NULL, ADDR_POST, NULL },
		{ "", NULL, ADDR_POST, NULL },
	};
	size_t i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		char rcpt[300];

		snprintf(rcpt, sizeof rcpt, "%s%s", t[i].local, d);
		check_route(rcpt, t[i].list, t[i].kind, t[i].ext);
	}
}

static void test_route_forms(void **state)
{
	check_route("<makers@lists.example.org>", "makers", ADDR_POST, NULL);
	check_route(" makers@LISTS.example.org\n", "makers", ADDR_POST, NULL);
	check_route("<makers-confirm+t1@lists.example.org>", "makers",
		    ADDR_CONFIRM, "t1");
	/* Foreign domains and junk. */
	check_route("makers@example.org", NULL, 0, NULL);
	check_route("makers@lists.example.org.evil", NULL, 0, NULL);
	check_route("makers@sub.lists.example.org", NULL, 0, NULL);
	check_route("makers@lists.example.or", NULL, 0, NULL);
	check_route("makers", NULL, 0, NULL);
	check_route("@lists.example.org", NULL, 0, NULL);
	check_route("mak ers@lists.example.org", NULL, 0, NULL);
	check_route("<makers@lists.example.org", NULL, 0, NULL);
	check_route("\"makers\"@lists.example.org", NULL, 0, NULL);
	check_route("makers@evil@lists.example.org", NULL, 0, NULL);
	check_route(NULL, NULL, 0, NULL);
}

static void test_route_long(void **state)
{
	struct buf b = BUF_INIT;
	char *ext;

	buf_puts(&b, "makers-bounces+");
	while (b.len < 600)
		buf_putc(&b, 'x');
	buf_puts(&b, "@lists.example.org");
	check_route(b.data, NULL, 0, NULL);

	/* Whatever follows the domain is looked at, however long the line. */
	buf_reset(&b);
	buf_puts(&b, "          makers-bounces+");
	while (b.len < 10 + 486)
		buf_putc(&b, 'x');
	ext = strdup(b.data + 25);
	buf_puts(&b, "@lists.example.org");
	check_route(b.data, "makers", ADDR_BOUNCES, ext);
	buf_puts(&b, "JUNK");
	check_route(b.data, NULL, 0, NULL);
	buf_free(&b);
	free(ext);
}

static void test_kind_names(void **state)
{
	assert_string_equal(addr_kind_name(ADDR_POST), "post");
	assert_string_equal(addr_kind_name(ADDR_REQUEST), "request");
	assert_string_equal(addr_kind_name(ADDR_SUBSCRIBE), "subscribe");
	assert_string_equal(addr_kind_name(ADDR_UNSUBSCRIBE), "unsubscribe");
	assert_string_equal(addr_kind_name(ADDR_OWNER), "owner");
	assert_string_equal(addr_kind_name(ADDR_CONFIRM), "confirm");
	assert_string_equal(addr_kind_name(ADDR_BOUNCES), "bounces");
}

/* Deeply nested comments in a member line (an import file, the command
 * line) never reach libetpan's recursion. */
static void test_mailbox_deep_comments(void **state)
{
	size_t n = 200000, i;
	char *line = malloc(n + 32), *a = NULL, *name = NULL;

	assert_non_null(line);
	memcpy(line, "Bob ", 4);
	for (i = 0; i < n; i++)
		line[4 + i] = '(';
	memcpy(line + 4 + n, " <bob@example.org>", 19);
	(void)mailbox_parse(line, false, &a, &name);
	free(a);
	free(name);
	free(line);
}

static void test_rate_key(void **state)
{
	static const char *const same[] = {
		"victim@example.org", "Victim@Example.ORG",
		"victim+a@example.org", "victim+lists+x@example.org",
		"victim@example.org.", "VICTIM+B@example.org..", NULL
	};
	char *k;
	size_t i;

	for (i = 0; same[i] != NULL; i++) {
		k = addr_rate_key(same[i]);
		assert_string_equal(k, "victim@example.org");
		free(k);
	}
	k = addr_rate_key("victim@[192.0.2.1]");
	assert_string_equal(k, "victim@[]");
	free(k);
	k = addr_rate_key("victim@[IPv6:2001:db8::1]");
	assert_string_equal(k, "victim@[]");
	free(k);
	/* a local part that begins with '+' keeps it; other people stay
	 * other people */
	k = addr_rate_key("+victim@example.org");
	assert_string_equal(k, "+victim@example.org");
	free(k);
	k = addr_rate_key("other@example.org");
	assert_string_equal(k, "other@example.org");
	free(k);
	k = addr_rate_key("no-at-sign");
	assert_string_equal(k, "no-at-sign");
	free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_valid_total_length),
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_parse_mailbox),
		cmocka_unit_test(test_parse_mailbox_case),
		cmocka_unit_test(test_parse_mailbox_name_controls),
		cmocka_unit_test(test_parse_mailbox_prefixes),
		cmocka_unit_test(test_route),
		cmocka_unit_test(test_route_forms),
		cmocka_unit_test(test_route_long),
		cmocka_unit_test(test_kind_names),
		cmocka_unit_test(test_rate_key),
		cmocka_unit_test(test_mailbox_deep_comments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
