/* fuzz-request - the commands of a mail to NAME-request: the first line of
 * the input is the Subject, the rest the text */
#include "autoconf.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mail/request.h"
#include "base/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nl = memchr(data, '\n', size);
	size_t slen = nl != NULL ? (size_t)(nl - (const char *)data) : size;
	char *subject = xstrndup((const char *)data, slen);
	size_t tlen = nl != NULL ? size - slen - 1 : 0;
	/* the text as reply_text hands it over: NUL-terminated, exact size */
	char *text = malloc(tlen + 1);
	struct request_cmds cmds = { NULL, 0 };

	if (tlen > 0)
		memcpy(text, nl + 1, tlen);
	text[tlen] = '\0';
	request_parse(subject, text, tlen, &cmds);
	request_cmds_free(&cmds);
	request_parse(NULL, text, tlen, &cmds);
	request_cmds_free(&cmds);
	(void)request_token_ok(subject);
	free(text);
	free(subject);
	return 0;
}
