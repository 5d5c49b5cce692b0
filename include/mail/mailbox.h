/* mailbox - one mailbox as people write it ("Name <addr>", "<addr>",
 * "addr (Name)"), read with libetpan's RFC 5322 parser */
#ifndef CONVENE_MAILBOX_H
#define CONVENE_MAILBOX_H

#include <stdbool.h>

/* Parses one line of user input ("Name <a@b>", "<a@b>", "a@b") into its
 * address (normalised as addr_normalize does) and display name (decoded
 * from RFC 2047 to UTF-8, control bytes made spaces; NULL when none; name_r
 * may be NULL). Both newly allocated. Returns -1 (nothing allocated) when
 * the line holds no single valid address. */
int mailbox_parse(const char *s, bool case_sensitive_local, char **addr_r,
		  char **name_r);

#endif
