/* fuzz-dsn - what a message to a bounce address reports */
#include "autoconf.h"

#include <stddef.h>
#include <stdint.h>

#include "mail/dsn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dsn_limits lim = dsn_default_limits;
	struct dsn_report r;

	lim.max_parts = 500;
	dsn_parse((const char *)data, size, &lim, &r);
	dsn_report_free(&r);
	return 0;
}
