/* oneclick - the token of a one-click unsubscribe URL */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/oneclick.h"
#include "base/buf.h"
#include "base/conf.h"
#include "base/hash.h"
#include "base/util.h"
#include "base/xalloc.h"

#define TAG_BYTES 16

static void make_tag(const unsigned char key[ONECLICK_KEY_LEN],
		     const char *list, const char *address, int64_t id,
		     int64_t salt, char hex[2 * TAG_BYTES + 1])
{
	struct buf in = BUF_INIT;
	unsigned char mac[HASH_LEN];

	/* NUL-separated: no two memberships give the same input */
	buf_puts(&in, "convene one-click");
	buf_putc(&in, '\0');
	buf_puts(&in, list);
	buf_putc(&in, '\0');
	buf_puts(&in, address);
	buf_putc(&in, '\0');
	buf_printf(&in, "%lld", (long long)id);
	buf_putc(&in, '\0');
	buf_printf(&in, "%lld", (long long)salt);
	hash_hmac(key, ONECLICK_KEY_LEN, in.data, in.len, mac);
	hash_hex(mac, TAG_BYTES, hex);
	buf_free(&in);
}

char *oneclick_token(const unsigned char key[ONECLICK_KEY_LEN],
		     const char *list, const char *address, int64_t id,
		     int64_t salt)
{
	char hex[2 * TAG_BYTES + 1];

	make_tag(key, list, address, id, salt, hex);
	return xasprintf("%lld-%s", (long long)id, hex);
}

int oneclick_parse(const char *token, int64_t *id_r)
{
	const char *dash;
	size_t nd, i;
	int64_t id = 0;

	if (token == NULL || strlen(token) > ONECLICK_TOKEN_MAX)
		return -1;
	dash = strchr(token, '-');
	if (dash == NULL)
		return -1;
	nd = (size_t)(dash - token);
	if (nd == 0 || nd > 18 || token[0] == '0')
		return -1;
	for (i = 0; i < nd; i++) {
		if (token[i] < '0' || token[i] > '9')
			return -1;
		id = id * 10 + (token[i] - '0');
	}
	if (strlen(dash + 1) != 2 * TAG_BYTES ||
	    strspn(dash + 1, "0123456789abcdef") != 2 * TAG_BYTES)
		return -1;
	*id_r = id;
	return 0;
}

bool oneclick_check(const unsigned char key[ONECLICK_KEY_LEN],
		    const char *token, const char *list, const char *address,
		    int64_t id, int64_t salt)
{
	char hex[2 * TAG_BYTES + 1];
	int64_t named;

	if (oneclick_parse(token, &named) < 0 || named != id)
		return false;
	make_tag(key, list, address, id, salt, hex);
	return hash_equal(strchr(token, '-') + 1, hex, 2 * TAG_BYTES) != 0;
}

bool oneclick_marker(const struct conf_list *l, char m[ONECLICK_MARKER_MAX])
{
	char tok[33];

	m[0] = '\0';
	if (l->unsubscribe_url == NULL || util_token(tok) < 0)
		return false;
	snprintf(m, ONECLICK_MARKER_MAX, "CONVENE-ONECLICK-%s", tok);
	return true;
}
