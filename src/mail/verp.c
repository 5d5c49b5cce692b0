/* verp - the member an envelope sender names: LIST-bounces+ENCODED@DOMAIN */
#include "autoconf.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/verp.h"
#include "base/addr.h"
#include "base/buf.h"
#include "base/hash.h"
#include "base/util.h"
#include "base/xalloc.h"

static bool verp_plain(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_' ||
	       c == '+';
}

/* The local part of a valid address as its bytes: a quoted one unquoted. */
static char *local_bytes(const char *addr, const char *at)
{
	struct buf b = BUF_INIT;
	const char *p = addr;

	if (*p != '"')
		return xstrndup(addr, (size_t)(at - addr));
	for (p++; p < at && *p != '"'; p++) {
		if (*p == '\\' && p + 1 < at)
			p++;
		buf_putc(&b, *p);
	}
	buf_putc(&b, '\0');
	return buf_steal(&b, NULL);
}

char *verp_encode(const char *list, const char *member, const char *domain)
{
	static const char hex[] = "0123456789ABCDEF";
	struct buf b = BUF_INIT;
	const char *at;
	char *local, *dom, *p;

	if (list == NULL || member == NULL || domain == NULL ||
	    !addr_valid(member))
		return NULL;
	at = strrchr(member, '@');
	if (at == NULL || at[1] == '[')
		return NULL;
	local = local_bytes(member, at);
	buf_printf(&b, "%s-bounces+", list);
	for (p = local; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (verp_plain((char)c)) {
			buf_putc(&b, (char)c);
		} else {
			buf_putc(&b, '=');
			buf_putc(&b, hex[c >> 4]);
			buf_putc(&b, hex[c & 0xf]);
		}
	}
	dom = util_lower(xstrdup(at + 1));
	buf_printf(&b, "=%s@%s", dom, domain);
	free(dom);
	free(local);
	util_lower(strrchr(b.data, '@'));
	return buf_steal(&b, NULL);
}

/* Whether the local part needs quoting (not a dot-atom). */
static bool needs_quotes(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || s[0] == '.' || s[n - 1] == '.' ||
	    strstr(s, "..") != NULL)
		return true;
	for (; *s != '\0'; s++) {
		char c = *s;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') ||
		      strchr(".!#$%&'*+-/=?^_`{|}~", c) != NULL))
			return true;
	}
	return false;
}

int verp_decode(const char *encoded, bool case_sensitive, char **member_r)
{
	struct buf local = BUF_INIT, full = BUF_INIT;
	char *e, *sep, *p;
	int rc = -1;

	*member_r = NULL;
	if (encoded == NULL || strlen(encoded) > 2 * ADDR_MAX)
		return -1;
	e = util_trim(xstrdup(encoded));
	/* Quotes or brackets some MTAs leave around a local part. */
	while (*e != '\0' && (e[0] == '"' || e[0] == '<' || e[0] == '\'')) {
		memmove(e, e + 1, strlen(e));
		util_trim(e);
	}
	p = e + strlen(e);
	while (p > e && (p[-1] == '"' || p[-1] == '>' || p[-1] == '\''))
		*--p = '\0';
	sep = strrchr(e, '=');
	if (sep == NULL || sep == e || sep[1] == '\0')
		goto out;
	*sep = '\0';
	for (p = e; *p != '\0'; p++) {
		if (*p == '=') {
			int hi = util_hexval(p[1]);
			int lo = hi >= 0 ? util_hexval(p[2]) : -1;

			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				goto out;
			buf_putc(&local, (char)(hi * 16 + lo));
			p += 2;
		} else {
			buf_putc(&local, *p);
		}
	}
	buf_putc(&local, '\0');
	if (needs_quotes(local.data)) {
		buf_putc(&full, '"');
		for (p = local.data; *p != '\0'; p++) {
			if (*p == '"' || *p == '\\')
				buf_putc(&full, '\\');
			buf_putc(&full, *p);
		}
		buf_putc(&full, '"');
	} else {
		buf_puts(&full, local.data);
	}
	buf_printf(&full, "@%s", sep + 1);
	*member_r = addr_normalize(buf_cstr(&full), case_sensitive);
	rc = *member_r != NULL ? 0 : -1;
out:
	buf_free(&local);
	buf_free(&full);
	free(e);
	return rc;
}

/* ---- keyed tags ---- */

#define TAG_HEX 20      /* 4 hex digits of the day, 16 of the MAC */

/* The tag of member on list for `day` (its low 16 bits) into tag. */
static void make_tag(const char *list, const char *member, unsigned day,
		     const unsigned char key[VERP_KEY_LEN],
		     char tag[TAG_HEX + 1])
{
	unsigned char mac[HASH_LEN];
	struct buf in = BUF_INIT;
	char *who = util_lower(xstrdup(member));

	snprintf(tag, TAG_HEX + 1, "%04x", day & 0xffff);
	buf_printf(&in, "convene-verp\n%s\n%s\n%s", list, who, tag);
	hash_hmac(key, VERP_KEY_LEN, in.data, in.len, mac);
	hash_hex(mac, (TAG_HEX - 4) / 2, tag + 4);
	buf_free(&in);
	free(who);
}

char *verp_encode_tagged(const char *list, const char *member,
			 const char *domain,
			 const unsigned char key[VERP_KEY_LEN], time_t now)
{
	char *plain = verp_encode(list, member, domain), *norm, *out, *plus;
	char tag[TAG_HEX + 1];

	if (plain == NULL)
		return NULL;
	norm = addr_normalize(member, true);
	make_tag(list, norm != NULL ? norm : member,
		 (unsigned)(now / 86400), key, tag);
	plus = strchr(plain, '+');
	out = xasprintf("%.*s%s.%s", (int)(plus + 1 - plain), plain, tag,
			plus + 1);
	free(norm);
	free(plain);
	return out;
}

static bool all_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (util_hexval(s[i]) < 0)
			return false;
	return true;
}

int verp_check(const char *encoded, bool case_sensitive, const char *list,
	       const unsigned char key[VERP_KEY_LEN], time_t now,
	       char **member_r, enum verp_tag *tag_r)
{
	char given[TAG_HEX + 1], want[TAG_HEX + 1], *e;
	unsigned day, today = (unsigned)(now / 86400) & 0xffff;
	size_t i;

	*tag_r = VERP_UNTAGGED;
	*member_r = NULL;
	if (encoded == NULL)
		return -1;
	e = util_trim(xstrdup(encoded));
	while (*e == '"' || *e == '<' || *e == '\'')
		memmove(e, e + 1, strlen(e));
	if (strlen(e) > TAG_HEX + 1 && e[TAG_HEX] == '.' &&
	    all_hex(e, TAG_HEX) &&
	    verp_decode(e + TAG_HEX + 1, case_sensitive, member_r) == 0) {
		for (i = 0; i < TAG_HEX; i++)
			given[i] = (char)(e[i] >= 'A' && e[i] <= 'F' ?
					  e[i] - 'A' + 'a' : e[i]);
		given[TAG_HEX] = '\0';
		day = (unsigned)(util_hexval(given[0]) << 12 |
				 util_hexval(given[1]) << 8 |
				 util_hexval(given[2]) << 4 |
				 util_hexval(given[3]));
		make_tag(list, *member_r, day, key, want);
		*tag_r = ((today - day) & 0xffff) <= VERP_TAG_DAYS &&
			 hash_equal(given, want, TAG_HEX) ?
			 VERP_TAG_GOOD : VERP_TAG_BAD;
		free(e);
		return 0;
	}
	free(e);
	/* the plain form (also a local part that only looks tagged) */
	return verp_decode(encoded, case_sensitive, member_r);
}
