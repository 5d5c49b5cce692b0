/* addr - addresses: validation, normalisation, the list's sub-addresses */
#include "autoconf.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/addr.h"
#include "base/buf.h"
#include "base/util.h"
#include "base/xalloc.h"

/* A recipient longer than this is not ours: VERP-encoded bounce addresses
 * may exceed RFC 5321's 64-byte local part, so routing allows some room. */
#define ROUTE_MAX 512
#define DOMAIN_LABEL_MAX 63

static bool is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* RFC 5322 atext. */
static bool is_atext(unsigned char c)
{
	return is_alpha(c) || is_digit(c) || (c != '\0' &&
		strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* RFC 5321 qtextSMTP: printable ASCII and space, less '"' and '\'. */
static bool is_qtext(unsigned char c)
{
	return c >= 32 && c <= 126 && c != '"' && c != '\\';
}

static char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Whether s[0..len) is a dot-atom: atext runs joined by single dots. */
static bool dot_atom_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || s[0] == '.' || s[len - 1] == '.')
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (s[i + 1] == '.')
				return false;
		} else if (!is_atext((unsigned char)s[i])) {
			return false;
		}
	}
	return true;
}

/* Scans a quoted string starting at s[0] == '"'; returns the length
 * including both quotes, or 0 when it is not well formed. */
static size_t quoted_len(const char *s)
{
	size_t i = 1;

	for (;;) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"')
			return i + 1;
		if (c == '\\') {
			c = (unsigned char)s[i + 1];
			if (c < 32 || c > 126)
				return 0;
			i += 2;
		} else if (is_qtext(c)) {
			i++;
		} else {
			return 0;
		}
	}
}

static bool domain_name_ok(const char *s, size_t len)
{
	size_t i, label = 0;

	if (len == 0)
		return false;
	for (i = 0; i <= len; i++) {
		unsigned char c = i < len ? (unsigned char)s[i] : '.';

		if (c == '.') {
			if (label == 0 || label > DOMAIN_LABEL_MAX ||
			    s[i - 1] == '-')
				return false;
			label = 0;
		} else if (is_alpha(c) || is_digit(c) || c == '-') {
			if (label == 0 && c == '-')
				return false;
			label++;
		} else {
			return false;
		}
	}
	return true;
}

/* "[192.0.2.1]" or "[IPv6:2001:db8::1]". */
static bool domain_literal_ok(const char *s, size_t len)
{
	char tmp[64];
	unsigned char bin[sizeof(struct in6_addr)];
	size_t n;

	if (len < 3 || s[0] != '[' || s[len - 1] != ']')
		return false;
	s++;
	n = len - 2;
	if (n >= sizeof tmp)
		return false;
	if (n > 5 && strncasecmp(s, "IPv6:", 5) == 0) {
		memcpy(tmp, s + 5, n - 5);
		tmp[n - 5] = '\0';
		return inet_pton(AF_INET6, tmp, bin) == 1;
	}
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	return inet_pton(AF_INET, tmp, bin) == 1;
}

/* Where the local part of `s` ends (the '@'), or NULL if it is malformed. */
static const char *local_end(const char *s)
{
	size_t n;

	if (s[0] == '"') {
		n = quoted_len(s);
		if (n == 0 || s[n] != '@')
			return NULL;
		return s + n;
	}
	n = strcspn(s, "@");
	if (s[n] != '@' || !dot_atom_ok(s, n))
		return NULL;
	return s + n;
}

bool addr_valid(const char *s)
{
	const char *at, *dom;
	size_t len;

	if (s == NULL)
		return false;
	len = strnlen(s, ADDR_MAX + 1);
	if (len > ADDR_MAX)
		return false;
	at = local_end(s);
	if (at == NULL || at == s || (size_t)(at - s) > ADDR_LOCAL_MAX)
		return false;
	dom = at + 1;
	len = strlen(dom);
	if (dom[0] == '[')
		return domain_literal_ok(dom, len);
	return domain_name_ok(dom, len);
}

char *addr_normalize(const char *s, bool case_sensitive_local)
{
	const char *at;
	struct buf b = BUF_INIT;
	size_t i, n;

	if (!addr_valid(s))
		return NULL;
	at = local_end(s);
	if (s[0] == '"') {
		/* "john"@x and john@x are one mailbox: drop needless quotes
		 * (RFC 5321 4.1.2), keep the others as written. */
		struct buf inner = BUF_INIT;

		for (i = 1; s + i < at - 1; i++) {
			if (s[i] == '\\')
				i++;
			buf_putc(&inner, s[i]);
		}
		if (dot_atom_ok(buf_cstr(&inner), inner.len))
			buf_append(&b, inner.data, inner.len);
		else
			buf_append(&b, s, (size_t)(at - s));
		buf_free(&inner);
	} else {
		buf_append(&b, s, (size_t)(at - s));
	}
	if (!case_sensitive_local) {
		for (i = 0; i < b.len; i++)
			b.data[i] = lower(b.data[i]);
	}
	n = b.len;
	buf_puts(&b, at);
	for (i = n; i < b.len; i++)
		b.data[i] = lower(b.data[i]);
	return buf_steal(&b, NULL);
}

/* Sub-addresses without an extension, longest suffix first. */
static const struct {
	const char *suffix;
	enum addr_kind kind;
} suffixes[] = {
	{ "-unsubscribe", ADDR_UNSUBSCRIBE },
	{ "-subscribe", ADDR_SUBSCRIBE },
	{ "-request", ADDR_REQUEST },
	{ "-bounces", ADDR_BOUNCES },
	{ "-owner", ADDR_OWNER },
};

static bool ends_with(const char *s, size_t len, const char *suffix,
		      size_t *prefix_r)
{
	size_t n = strlen(suffix);

	if (len <= n || memcmp(s + len - n, suffix, n) != 0)
		return false;
	*prefix_r = len - n;
	return true;
}

static int route_set(struct addr_route *r, const char *name, size_t len,
		     enum addr_kind kind, const char *ext,
		     bool (*known)(const char *, void *), void *ctx)
{
	char *list = xstrndup(name, len);

	if (!known(list, ctx)) {
		free(list);
		return -1;
	}
	r->list = list;
	r->kind = kind;
	r->extension = ext != NULL && *ext != '\0' ? xstrdup(ext) : NULL;
	return 0;
}

int addr_route(const char *recipient, const char *domain,
	       bool (*known)(const char *name, void *ctx), void *ctx,
	       struct addr_route *route_r)
{
	const char *s, *at, *plus;
	char *local;
	size_t len, i, n, pre;
	int ret = -1;

	route_r->list = NULL;
	route_r->kind = ADDR_POST;
	route_r->extension = NULL;
	if (recipient == NULL || domain == NULL)
		return -1;
	s = recipient;
	len = strlen(s);
	while (len > 0 && is_wsp(*s))
		s++, len--;
	while (len > 0 && is_wsp(s[len - 1]))
		len--;
	if (len >= 2 && s[0] == '<' && s[len - 1] == '>')
		s++, len -= 2;
	if (len == 0 || len > ROUTE_MAX)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 32 || c >= 127 || c == '<' || c == '>' || c == '"')
			return -1;
	}
	at = memrchr(s, '@', len);
	if (at == NULL || at == s)
		return -1;
	n = (size_t)(s + len - (at + 1));
	if (n != strlen(domain) || strncasecmp(at + 1, domain, n) != 0)
		return -1;

	/* List names are lower case; the extension keeps its case, since a
	 * VERP-encoded address may need it. */
	local = xstrndup(s, (size_t)(at - s));
	plus = strchr(local, '+');
	len = plus != NULL ? (size_t)(plus - local) : strlen(local);
	for (i = 0; i < len; i++)
		local[i] = lower(local[i]);

	if (plus == NULL && known(local, ctx)) {
		route_r->list = local;
		return 0;
	}
	if (plus != NULL) {
		if (ends_with(local, len, "-confirm", &pre)) {
			if (plus[1] != '\0')
				ret = route_set(route_r, local, pre,
						ADDR_CONFIRM, plus + 1,
						known, ctx);
		} else if (ends_with(local, len, "-vote", &pre)) {
			if (plus[1] != '\0')
				ret = route_set(route_r, local, pre, ADDR_VOTE,
						plus + 1, known, ctx);
		} else if (ends_with(local, len, "-rsvp", &pre)) {
			if (plus[1] != '\0')
				ret = route_set(route_r, local, pre, ADDR_RSVP,
						plus + 1, known, ctx);
		} else if (ends_with(local, len, "-bounces", &pre)) {
			ret = route_set(route_r, local, pre, ADDR_BOUNCES,
					plus + 1, known, ctx);
		}
	} else {
		for (i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
			if (ends_with(local, len, suffixes[i].suffix, &pre)) {
				ret = route_set(route_r, local, pre,
						suffixes[i].kind, NULL,
						known, ctx);
				break;
			}
		}
	}
	free(local);
	return ret;
}

void addr_route_free(struct addr_route *r)
{
	if (r == NULL)
		return;
	xfree(&r->list);
	xfree(&r->extension);
}

const char *addr_kind_name(enum addr_kind k)
{
	switch (k) {
	case ADDR_POST:        return "post";
	case ADDR_REQUEST:     return "request";
	case ADDR_SUBSCRIBE:   return "subscribe";
	case ADDR_UNSUBSCRIBE: return "unsubscribe";
	case ADDR_OWNER:       return "owner";
	case ADDR_CONFIRM:     return "confirm";
	case ADDR_BOUNCES:     return "bounces";
	case ADDR_VOTE:        return "vote";
	case ADDR_RSVP:        return "rsvp";
	}
	return "unknown";
}

char *addr_rate_key(const char *s)
{
	const char *at = strrchr(s, '@');
	char *key, *plus, *dom;
	size_t n;

	if (at == NULL)
		return util_lower(xstrdup(s));
	key = util_lower(xstrdup(s));
	dom = key + (at - s) + 1;
	dom[-1] = '\0';
	/* "+tag" (not a local part that begins with '+') */
	plus = strchr(key + 1, '+');
	if (plus != NULL && plus < dom)
		*plus = '\0';
	n = strlen(dom);
	while (n > 0 && dom[n - 1] == '.')
		dom[--n] = '\0';
	if (dom[0] == '[')
		dom = "[]";
	plus = xasprintf("%s@%s", key, dom);
	free(key);
	return plus;
}
