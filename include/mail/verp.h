/* verp - VERP: the return path that names the member a message went to,
 * so that a bounce says whom it is about */
#ifndef CONVENE_VERP_H
#define CONVENE_VERP_H

#include <stdbool.h>

/* The return path for `member` of list `list` at the lists' domain:
 * LIST-bounces+ENCODED@DOMAIN, ENCODED being the member's local part, '=',
 * its domain ("bob=example.net"). In the local part every byte other than
 * a letter, digit, '.', '-', '_' or '+' (so '=' itself too, and the
 * characters of a quoted local part) is written "=XX" with two hex digits:
 * the domain never holds '=', so the last '=' always starts it, and the
 * encoding is unambiguous. Newly allocated; NULL when member is not a
 * valid address or its domain is an address literal. */
char *verp_encode(const char *list, const char *member, const char *domain);

/* Decodes ENCODED (the extension of a bounce address, as addr_route gives
 * it) back into the member address, normalised as addr_normalize does with
 * case_sensitive. Tolerates what MTAs do to local parts: a changed case
 * (hex digits in either case, domain lower-cased), surrounding quotes or
 * angle brackets, white space. Returns 0 and *member_r (newly allocated),
 * or -1 when it is not an encoded address. */
int verp_decode(const char *encoded, bool case_sensitive, char **member_r);

#endif
