/* dmarc - the sender domain's DMARC policy, for From munging */
#include "autoconf.h"

#include <arpa/nameser.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mail/dmarc.h"
#include "base/buf.h"
#include "base/xalloc.h"

/* The value of tag `name` in a tag list "k=v; k=v", or NULL (newly
 * allocated, trimmed). */
static char *tag_value(const char *txt, const char *name)
{
	size_t nlen = strlen(name);
	const char *p = txt;

	while (*p) {
		const char *end, *eq, *v;

		while (*p == ' ' || *p == '\t' || *p == ';')
			p++;
		end = strchr(p, ';');
		if (end == NULL)
			end = p + strlen(p);
		eq = memchr(p, '=', (size_t)(end - p));
		if (eq != NULL) {
			const char *k = p, *kend = eq;

			while (kend > k && (kend[-1] == ' ' || kend[-1] == '\t'))
				kend--;
			if ((size_t)(kend - k) == nlen &&
			    strncasecmp(k, name, nlen) == 0) {
				size_t vlen;

				v = eq + 1;
				while (v < end && (*v == ' ' || *v == '\t'))
					v++;
				vlen = (size_t)(end - v);
				while (vlen > 0 && (v[vlen - 1] == ' ' ||
						    v[vlen - 1] == '\t'))
					vlen--;
				return xstrndup(v, vlen);
			}
		}
		p = end;
	}
	return NULL;
}

enum dmarc_policy dmarc_parse(const char *txt, int subdomain)
{
	enum dmarc_policy pol = DMARC_NONE_FOUND;
	char *v, *p = NULL;

	while (*txt == ' ' || *txt == '\t')
		txt++;
	if (strncasecmp(txt, "v=DMARC1", 8) != 0 ||
	    (txt[8] != ';' && txt[8] != ' ' && txt[8] != '\0'))
		return DMARC_NONE_FOUND;
	v = tag_value(txt, "v");
	if (v == NULL || strcasecmp(v, "DMARC1") != 0) {
		free(v);
		return DMARC_NONE_FOUND;
	}
	free(v);
	if (subdomain)
		p = tag_value(txt, "sp");
	if (p == NULL)
		p = tag_value(txt, "p");
	if (p == NULL)
		return DMARC_NONE_FOUND;
	if (strcasecmp(p, "reject") == 0)
		pol = DMARC_P_REJECT;
	else if (strcasecmp(p, "quarantine") == 0)
		pol = DMARC_P_QUARANTINE;
	else if (strcasecmp(p, "none") == 0)
		pol = DMARC_P_NONE;
	free(p);
	return pol;
}

static enum dmarc_policy query(res_state rs, const char *domain, int sub)
{
	unsigned char answer[4096];
	char *name = xasprintf("_dmarc.%s", domain);
	enum dmarc_policy pol = DMARC_NONE_FOUND;
	ns_msg msg;
	int len, i, n;

	len = res_nquery(rs, name, ns_c_in, ns_t_txt, answer, sizeof answer);
	free(name);
	if (len < 0 || ns_initparse(answer, len, &msg) < 0)
		return DMARC_NONE_FOUND;
	n = ns_msg_count(msg, ns_s_an);
	for (i = 0; i < n && pol == DMARC_NONE_FOUND; i++) {
		ns_rr rr;
		const unsigned char *rd, *end;
		struct buf txt = BUF_INIT;

		if (ns_parserr(&msg, ns_s_an, i, &rr) < 0 ||
		    ns_rr_type(rr) != ns_t_txt)
			continue;
		rd = ns_rr_rdata(rr);
		end = rd + ns_rr_rdlen(rr);
		/* A TXT record is a run of length-prefixed strings. */
		while (rd < end) {
			size_t l = *rd++;

			if (l > (size_t)(end - rd))
				break;
			buf_append(&txt, rd, l);
			rd += l;
		}
		if (memchr(buf_cstr(&txt), '\0', txt.len) == NULL)
			pol = dmarc_parse(buf_cstr(&txt), sub);
		buf_free(&txt);
	}
	return pol;
}

enum dmarc_policy dmarc_lookup(const char *domain)
{
	struct __res_state rs;
	enum dmarc_policy pol;
	const char *org = NULL, *p;
	int dots = 0;

	memset(&rs, 0, sizeof rs);
	if (res_ninit(&rs) < 0)
		return DMARC_NONE_FOUND;
	rs.retrans = 2;
	rs.retry = 1;
	pol = query(&rs, domain, 0);
	if (pol == DMARC_NONE_FOUND) {
		for (p = domain + strlen(domain); p > domain; p--) {
			if (p[-1] == '.' && ++dots == 2) {
				org = p;
				break;
			}
		}
		if (org != NULL)
			pol = query(&rs, org, 1);
	}
	res_nclose(&rs);
	return pol;
}
