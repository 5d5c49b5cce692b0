/* footer - the list's footer, for posts and digests */
#include "autoconf.h"

#include <stdlib.h>

#include "pipeline/footer.h"
#include "base/conf.h"
#include "base/log.h"
#include "base/template.h"

char *footer_render(const struct conf *c, const struct conf_list *l)
{
	struct template_var vars[TEMPLATE_LIST_VARS];
	char **storage = NULL, *out = NULL, *err = NULL;
	size_t n;

	if (!l->footer)
		return NULL;
	n = template_list_vars(c, l, vars, &storage);
	if (template_render(c, l, "footer", vars, n, &out, &err) < 0) {
		log_warn("list=%s: footer not added: %s", l->name, err);
		free(err);
		out = NULL;
	}
	template_vars_free(&storage);
	return out;
}
