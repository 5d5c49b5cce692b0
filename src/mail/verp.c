/* verp - the member an envelope sender names: LIST-bounces+ENCODED@DOMAIN */
#include "autoconf.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "mail/verp.h"
#include "base/addr.h"
#include "base/buf.h"
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

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
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
			int hi = hexval(p[1]), lo = hi >= 0 ? hexval(p[2]) : -1;

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
