/* cmd_lists - the configured lists with their member counts */
#include "autoconf.h"

#include <stdio.h>

#include "base/conf.h"
#include "front/front.h"
#include "base/status.h"
#include "store/store.h"

int cmd_lists(int argc, char **argv, const char *config)
{
	struct conf *c = front_load_conf(config);
	struct store *s;
	size_t i;
	int ret = ST_OK;

	if (c == NULL)
		return status_to_exit(ST_CONFIG);
	s = front_open_store(c);
	if (s == NULL) {
		conf_free(&c);
		return status_to_exit(ST_TEMPFAIL);
	}
	printf("%-20s %-36s %-9s %8s %5s\n", "LIST", "ADDRESS", "POLICY",
	       "MEMBERS", "HELD");
	for (i = 0; i < c->nlists; i++) {
		const struct conf_list *l = &c->lists[i];
		int64_t members = 0, held = 0;
		char addr[300];

		if (store_member_count(s, l->name, &members) < 0 ||
		    store_hold_count(s, l->name, &held) < 0) {
			fprintf(stderr, "convene: %s\n", store_error(s));
			ret = ST_TEMPFAIL;
			break;
		}
		snprintf(addr, sizeof addr, "%s@%s", l->name, c->domain);
		printf("%-20s %-36s %-9s %8lld %5lld\n", l->name, addr,
		       conf_policy_name(l->policy), (long long)members,
		       (long long)held);
	}
	store_close(&s);
	conf_free(&c);
	return status_to_exit(ret);
}
