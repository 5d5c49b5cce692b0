/* test-oneclick - one-click unsubscribe tokens (mail/oneclick) and the
 * forms that carry List-Unsubscribe=One-Click (pipeline/web) */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "mail/oneclick.h"
#include "pipeline/web.h"

static const unsigned char key[ONECLICK_KEY_LEN] = "0123456789abcdef0123456789abcde";
static const unsigned char other_key[ONECLICK_KEY_LEN] = "another key, 32 bytes long ....";

static void test_token(void **state)
{
	char *t = oneclick_token(key, "makers", "bob@example.net", 42, 7);
	char *again = oneclick_token(key, "makers", "bob@example.net", 42, 7);
	int64_t id = 0;

	(void)state;
	/* "42-" and 32 hex digits, the same every time */
	assert_int_equal(strlen(t), 3 + 32);
	assert_memory_equal(t, "42-", 3);
	assert_string_equal(t, again);
	assert_int_equal(oneclick_parse(t, &id), 0);
	assert_int_equal(id, 42);
	assert_true(oneclick_check(key, t, "makers", "bob@example.net", 42, 7));
	/* another membership, or another key: no */
	assert_false(oneclick_check(key, t, "other", "bob@example.net", 42, 7));
	assert_false(oneclick_check(key, t, "makers", "carol@example.com", 42,
				    7));
	assert_false(oneclick_check(key, t, "makers", "bob@example.net", 43, 7));
	/* the same address joined again: a new salt, the old token is dead */
	assert_false(oneclick_check(key, t, "makers", "bob@example.net", 42, 8));
	assert_false(oneclick_check(other_key, t, "makers", "bob@example.net",
				    42, 7));
	/* any one digit changed */
	for (size_t i = 3; i < strlen(t); i++) {
		char saved = t[i];

		t[i] = saved == '0' ? '1' : '0';
		assert_false(oneclick_check(key, t, "makers",
					    "bob@example.net", 42, 7));
		t[i] = saved;
	}
	/* the list and address do not run together */
	free(again);
	again = oneclick_token(key, "mak", "ersbob@example.net", 42, 7);
	assert_string_not_equal(t, again);
	free(again);
	free(t);
}

static void test_parse(void **state)
{
	static const char *const bad[] = {
		"", "-", "42", "42-", "x-0123456789abcdef0123456789abcdef",
		"042-0123456789abcdef0123456789abcdef",
		"42-0123456789ABCDEF0123456789ABCDEF",
		"42-0123456789abcdef0123456789abcde",
		"42-0123456789abcdef0123456789abcdef0",
		"42-0123456789abcdef0123456789abcdeg",
		"1234567890123456789-0123456789abcdef0123456789abcdef",
		"-42-0123456789abcdef0123456789abcdef",
		"../makers/index.html", NULL
	};
	int64_t id;
	size_t i;

	(void)state;
	for (i = 0; bad[i] != NULL; i++)
		assert_int_equal(oneclick_parse(bad[i], &id), -1);
	assert_int_equal(oneclick_parse(NULL, &id), -1);
	assert_int_equal(oneclick_parse("7-0123456789abcdef0123456789abcdef",
					&id), 0);
	assert_int_equal(id, 7);
}

static void expect_form(const char *body, const char *type,
			const char *want)
{
	char *v = web_form_value(body, strlen(body), type, "List-Unsubscribe");

	if (want == NULL) {
		assert_null(v);
		return;
	}
	assert_non_null(v);
	assert_string_equal(v, want);
	free(v);
}

static void test_form(void **state)
{
	static const char urlenc[] = "application/x-www-form-urlencoded";

	(void)state;
	/* RFC 8058's body, and what browsers send */
	expect_form("List-Unsubscribe=One-Click", urlenc, "One-Click");
	expect_form("List-Unsubscribe=One-Click", NULL, "One-Click");
	expect_form("a=1&List-Unsubscribe=One-Click&b=2", urlenc, "One-Click");
	expect_form("List%2DUnsubscribe=One%2dClick", urlenc, "One-Click");
	expect_form("List-Unsubscribe=One+Click", urlenc, "One Click");
	expect_form("List-Unsubscribe", urlenc, "");
	expect_form("list-unsubscribe=One-Click", urlenc, NULL);
	expect_form("List-Unsubscribe=%", urlenc, "%");
	expect_form("", urlenc, NULL);
	expect_form("List-Unsubscribe=One-Click", "text/plain", NULL);
	/* multipart/form-data, CRLF or LF, quoted boundary or not */
	expect_form("--b\r\nContent-Disposition: form-data; "
		    "name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--b--\r\n",
		    "multipart/form-data; boundary=b", "One-Click");
	expect_form("--xy z\nContent-Disposition: form-data; name=\"other\"\n\n"
		    "1\n--xy z\nContent-Disposition: form-data; "
		    "name=\"List-Unsubscribe\"\n\nOne-Click\n--xy z--\n",
		    "multipart/form-data; charset=utf-8; boundary=\"xy z\"",
		    "One-Click");
	expect_form("--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n"
		    "List-Unsubscribe=One-Click\r\n--b--\r\n",
		    "multipart/form-data; boundary=b", NULL);
	expect_form("--b\r\nContent-Disposition: form-data; "
		    "name=\"List-Unsubscribe\"\r\n\r\nOne-Click",
		    "multipart/form-data; boundary=b", NULL);
	expect_form("anything", "multipart/form-data", NULL);
	assert_null(web_form_value(NULL, 0, urlenc, "List-Unsubscribe"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_form),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
