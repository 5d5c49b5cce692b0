/* test-dmarc - DMARC record parsing */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "mail/dmarc.h"

static void test_parse(void **state)
{
	assert_int_equal(dmarc_parse("v=DMARC1; p=reject", 0), DMARC_P_REJECT);
	assert_int_equal(dmarc_parse("v=DMARC1;p=quarantine;pct=100", 0),
			 DMARC_P_QUARANTINE);
	assert_int_equal(dmarc_parse("v=DMARC1; p=none; rua=mailto:x@y", 0),
			 DMARC_P_NONE);
	assert_int_equal(dmarc_parse(" v=DMARC1 ; P=Reject ", 0),
			 DMARC_P_REJECT);
	/* sp= applies to subdomains only. */
	assert_int_equal(dmarc_parse("v=DMARC1; p=none; sp=reject", 1),
			 DMARC_P_REJECT);
	assert_int_equal(dmarc_parse("v=DMARC1; p=none; sp=reject", 0),
			 DMARC_P_NONE);
	assert_int_equal(dmarc_parse("v=DMARC1; p=quarantine", 1),
			 DMARC_P_QUARANTINE);
	/* Not DMARC records. */
	assert_int_equal(dmarc_parse("v=spf1 -all", 0), DMARC_NONE_FOUND);
	assert_int_equal(dmarc_parse("v=DMARC10; p=reject", 0),
			 DMARC_NONE_FOUND);
	assert_int_equal(dmarc_parse("p=reject; v=DMARC1", 0),
			 DMARC_NONE_FOUND);
	assert_int_equal(dmarc_parse("v=DMARC1", 0), DMARC_NONE_FOUND);
	assert_int_equal(dmarc_parse("v=DMARC1; p=bogus", 0),
			 DMARC_NONE_FOUND);
	assert_int_equal(dmarc_parse("", 0), DMARC_NONE_FOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
