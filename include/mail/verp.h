/* verp - VERP: the return path that names the member a message went to,
 * so that a bounce says whom it is about */
#ifndef CONVENE_VERP_H
#define CONVENE_VERP_H

#include <stdbool.h>
#include <time.h>

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

/* Keyed tags, so that a return path cannot be forged (as BATV and SRS do):
 * LIST-bounces+TAG.ENCODED@DOMAIN, TAG being 20 hex digits: the day it was
 * made (4) and 64 bits of HMAC-SHA-256 (16) over the list, the member
 * (lower-cased) and that day, under a key of VERP_KEY_LEN secret bytes
 * that the caller keeps (store_secret). A tag is good for VERP_TAG_DAYS
 * days. */
#define VERP_KEY_LEN 32
#define VERP_TAG_DAYS 14

enum verp_tag {
	VERP_UNTAGGED,   /* the plain form, or a tag that is not one */
	VERP_TAG_GOOD,   /* made with the key, for this list and member, lately */
	VERP_TAG_BAD,    /* a tag that is wrong, or too old */
};

/* verp_encode with a tag made at `now`. Newly allocated; NULL as
 * verp_encode. */
char *verp_encode_tagged(const char *list, const char *member,
			 const char *domain,
			 const unsigned char key[VERP_KEY_LEN], time_t now);

/* Reads the extension of a bounce address of `list`, tagged or not: 0 and
 * *member_r (newly allocated, as verp_decode gives it) with *tag_r saying
 * what the tag was worth at `now`; -1 when it names no member. */
int verp_check(const char *encoded, bool case_sensitive, const char *list,
	       const unsigned char key[VERP_KEY_LEN], time_t now,
	       char **member_r, enum verp_tag *tag_r);

#endif
