/* dl - libraries loaded when first used */
#include "autoconf.h"

#include <dlfcn.h>

#include "base/dl.h"
#include "base/xalloc.h"

int dl_load(const char *soname, const struct dl_fn *fns, size_t n,
	    char **error_r)
{
	void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	size_t i;

	if (h == NULL) {
		const char *why = dlerror();

		*error_r = xasprintf("cannot load %s: %s", soname,
				     why != NULL ? why : "?");
		return -1;
	}
	for (i = 0; i < n; i++) {
		*fns[i].addr = dlsym(h, fns[i].name);
		if (*fns[i].addr == NULL) {
			*error_r = xasprintf("%s has no %s", soname,
					     fns[i].name);
			return -1;
		}
	}
	return 0;
}
