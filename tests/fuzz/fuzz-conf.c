/* fuzz-conf - the config loader: the input is written to a file (the
 * loader reads a path) in a folder of its own, then loaded and freed */
#include "autoconf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/conf.h"
#include "base/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/tmp/convene-fuzz-conf.XXXXXX";
static char path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf_problems problems = { 0 };
	struct conf *c = NULL;
	bool unreadable;
	FILE *f;

	if (path[0] == '\0') {
		if (mkdtemp(dir) == NULL)
			abort();
		snprintf(path, sizeof path, "%s/convene.conf", dir);
		log_open("fuzz-conf", false);
	}
	f = fopen(path, "w");
	if (f == NULL)
		abort();
	if (size > 0 && fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);
	if (conf_load(path, &c, &problems, &unreadable) == 0)
		conf_free(&c);
	conf_problems_free(&problems);
	unlink(path);
	return 0;
}
