/* rx - the one PCRE2 wrapper: compile once, match with limits */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "base/rx.h"
#include "base/xalloc.h"
#include "base/log.h"

/* Before 10.34 PCRE2 could not match invalid UTF-8 subjects at all; there a
 * bad subject makes rx_match return -1 instead. */
#ifndef PCRE2_MATCH_INVALID_UTF
#define PCRE2_MATCH_INVALID_UTF 0
#endif

struct rx {
	pcre2_code *code;
};

/* Process-wide, so that every pattern (filters, bans) has the same bound. */
static uint32_t rx_match_limit = 1000000;
static uint32_t rx_depth_limit = 1000;

static char *error_string(int code)
{
	PCRE2_UCHAR msg[256];
	int n = pcre2_get_error_message(code, msg, sizeof msg);

	if (n < 0)
		return xasprintf("PCRE2 error %d", code);
	return xstrdup((const char *)msg);
}

struct rx *rx_compile(const char *pattern, char **error_r, size_t *offset_r)
{
	struct rx *rx;
	pcre2_code *code;
	PCRE2_SIZE offset = 0;
	int err = 0;

	if (error_r != NULL)
		*error_r = NULL;
	if (offset_r != NULL)
		*offset_r = 0;
	/* No \C: it can split a UTF-8 character and read past the subject. */
	code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
			     PCRE2_UTF | PCRE2_MATCH_INVALID_UTF |
			     PCRE2_NEVER_BACKSLASH_C,
			     &err, &offset, NULL);
	if (code == NULL) {
		if (error_r != NULL)
			*error_r = error_string(err);
		if (offset_r != NULL)
			*offset_r = (size_t)offset;
		return NULL;
	}
	rx = xmalloc(sizeof *rx);
	rx->code = code;
	return rx;
}

void rx_free(struct rx **rx)
{
	if (rx == NULL || *rx == NULL)
		return;
	pcre2_code_free((*rx)->code);
	xfree(rx);
}

void rx_set_limits(unsigned match_limit, unsigned depth_limit)
{
	rx_match_limit = match_limit;
	rx_depth_limit = depth_limit;
}

int rx_match(const struct rx *rx, const char *subject, size_t len)
{
	pcre2_match_context *mctx;
	pcre2_match_data *md;
	int rc;

	/* Made per call: a few small allocations next to the match itself,
	 * and nothing shared between threads or left behind. */
	mctx = pcre2_match_context_create(NULL);
	md = pcre2_match_data_create(1, NULL);
	if (mctx == NULL || md == NULL)
		log_fatal("out of memory creating a PCRE2 match context");
	pcre2_set_match_limit(mctx, rx_match_limit);
	pcre2_set_depth_limit(mctx, rx_depth_limit);
	rc = pcre2_match(rx->code, (PCRE2_SPTR)(subject != NULL ? subject : ""),
			 subject != NULL ? len : 0, 0, 0, md, mctx);
	pcre2_match_data_free(md);
	pcre2_match_context_free(mctx);
	/* 0 means the ovector was too small: still a match. */
	if (rc >= 0)
		return 1;
	if (rc == PCRE2_ERROR_NOMATCH || rc == PCRE2_ERROR_PARTIAL)
		return 0;
	return -1;
}
