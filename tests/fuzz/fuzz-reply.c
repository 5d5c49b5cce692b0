/* fuzz-reply - the text a person wrote: the MIME walk to the text part,
 * transfer and charset decoding, HTML to text, the first word, a token */
#include "autoconf.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "mail/mime.h"
#include "mail/reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct mime_limits lim = { .max_depth = 20, .max_parts = 500,
					 .max_header_bytes = 65536,
					 .max_headers = 200 };
	char *text = reply_text((const char *)data, size, &lim);
	char *word = NULL, *rest = NULL, *e, tok[33];

	if (text != NULL) {
		if (reply_first_word(text, &word, &rest)) {
			free(word);
			free(rest);
		}
		(void)reply_find_token(text, tok);
		e = reply_excerpt(text, 12, 800);
		free(e);
		free(text);
	}
	text = reply_html_to_text((const char *)data, size);
	free(text);
	return 0;
}
