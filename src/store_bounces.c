/* store_bounces - bounce reports, scores, probes */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "store.h"
#include "store_int.h"
#include "xalloc.h"

/* The schema step for bounce reports, scores, probes (see migrations in store.c). */
const char *const store_schema_bounces[] = {
	"SELECT 1",
};
const size_t store_schema_bounces_n =
	sizeof store_schema_bounces / sizeof store_schema_bounces[0];
