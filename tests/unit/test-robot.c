/* test-robot - the one RFC 3834 check: who is never answered */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/msg.h"
#include "mail/robot.h"
#include "base/xalloc.h"

static const char *no_answer(const char *headers)
{
	static char why[128];
	struct msg m = { 0 };
	struct msg_limits lim = { 65536, 100 };
	char *raw = xasprintf("From: x@example.org\n%s\n\nbody\n", headers);
	const char *r;

	assert_int_equal(msg_parse(&m, raw, strlen(raw), &lim, NULL), MSG_OK);
	r = robot_reason(&m, "x@example.org");
	snprintf(why, sizeof why, "%s", r ? r : "");
	msg_free(&m);
	free(raw);
	return r ? why : NULL;
}

static void test_no_answer(void **state)
{
	static const char *const never[] = {
		"Auto-Submitted: auto-replied",
		"Auto-Submitted: auto-generated",
		"Auto-Submitted: auto-notified; owner-email=x@y",
		"Auto-Submitted: nope",
		"Precedence: bulk", "Precedence: JUNK", "Precedence: list",
		"List-Id: <x.example.org>",
		"Return-Path: <>", "Return-Path: <MAILER-DAEMON@mx.example>",
		"X-Autoreply: yes", "X-Autorespond: yes",
		"X-Auto-Response: yes", "Precedence: auto_reply",
		"Return-Path: <MAILER-DAEMON>", "Return-Path: < >",
		"Auto-Submitted:\tauto-replied",
		"Content-Type: multipart/report; report-type=disposition-notification",
		"Content-Type: multipart/report; report-type=delivery-status",
		NULL
	};
	static const char *const fine[] = {
		"Subject: hello", "Auto-Submitted: no",
		"Auto-Submitted: no (a person)", "Precedence: first-class",
		"Return-Path: <x@example.org>", NULL
	};
	struct msg m = { 0 };
	struct msg_limits lim = { 65536, 100 };
	static const char raw[] = "From: MAILER-DAEMON@mx.example\n\nx\n";
	size_t i;

	for (i = 0; never[i] != NULL; i++)
		if (no_answer(never[i]) == NULL)
			fail_msg("answered: %s", never[i]);
	for (i = 0; fine[i] != NULL; i++)
		if (no_answer(fine[i]) != NULL)
			fail_msg("not answered: %s", fine[i]);
	assert_int_equal(msg_parse(&m, raw, sizeof raw - 1, &lim, NULL),
			 MSG_OK);
	assert_non_null(robot_reason(&m, "mailer-daemon@mx.example"));
	/* No sender address at all: nobody to answer. */
	assert_non_null(robot_reason(&m, NULL));
	assert_non_null(robot_reason(&m, ""));
	msg_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_answer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
