/* fuzz-message - the message parser with the list rewrite: header parse,
 * the MIME walk, addresses, ids, content rules, the rewrite and footer */
#include "autoconf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/conf.h"
#include "mail/content.h"
#include "mail/mime.h"
#include "mail/msg.h"
#include "mail/rewrite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *strip_v[] = { "application/x-msdownload", "image/*", NULL };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct mime_limits lim = { .max_depth = 20, .max_parts = 500,
					 .max_header_bytes = 65536,
					 .max_headers = 200 };
	struct msg_limits ml = { 65536, 200 };
	struct rewrite_params p = {
		.list_name = "makers", .domain = "lists.example.org",
		.description = "Makers", .subject_prefix = "[makers] ",
		.reply_to = REPLYTO_LIST, .from_munging = FROMMUNGE_ALWAYS,
		.archive_url = "https://lists.example.org/makers/",
		.unsubscribe_url = "https://lists.example.org/u",
		.footer = "-- \nCaf\xc3\xa9 makers\n",
	};
	struct conf_list l = { 0 };
	struct mime_tree t = { 0 };
	struct msg m = { 0 };
	struct buf out = BUF_INIT;
	const char *err = NULL;
	char *removed = NULL, *s, *name = NULL, **refs;

	(void)mime_walk((const char *)data, size, &lim, &t);
	mime_tree_free(&t);
	if (msg_parse(&m, (const char *)data, size, &ml, NULL) != MSG_OK) {
		msg_free(&m);
		return 0;
	}
	s = msg_first_address(&m, "From", &name);
	free(s);
	free(name);
	(void)msg_count_addresses(&m, "To");
	(void)msg_count_addresses(&m, "Cc");
	s = msg_message_id(&m);
	free(s);
	s = msg_in_reply_to(&m);
	free(s);
	refs = msg_references(&m);
	msg_idlist_free(&refs);
	s = msg_header_decoded(&m, "Subject");
	free(s);
	l.content_strip.v = strip_v;
	l.content_strip.n = 2;
	l.drop_html_alternative = true;
	(void)content_filter(&m, &l, &lim, &removed);
	free(removed);
	(void)rewrite_post(&m, &p, &err);
	msg_write(&m, &out);
	buf_free(&out);
	msg_free(&m);
	return 0;
}
