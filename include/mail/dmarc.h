/* dmarc - the sender domain's DMARC policy, for From munging */
#ifndef CONVENE_DMARC_H
#define CONVENE_DMARC_H

enum dmarc_policy {
	DMARC_NONE_FOUND,   /* no record, or it could not be read */
	DMARC_P_NONE,
	DMARC_P_QUARANTINE,
	DMARC_P_REJECT,
};

/* Parses one TXT record's text: it must start with "v=DMARC1"; the p= tag
 * gives the policy (sp= is used instead when `subdomain` is set and present).
 * Returns the policy, DMARC_NONE_FOUND when it is not a DMARC record. */
enum dmarc_policy dmarc_parse(const char *txt, int subdomain);

/* Looks up _dmarc.DOMAIN (and, when absent, the organizational domain taken
 * as the last two labels) over DNS with a short timeout. Any failure is
 * DMARC_NONE_FOUND: From munging is a courtesy, never a reason to fail. */
enum dmarc_policy dmarc_lookup(const char *domain);

#endif
