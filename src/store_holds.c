/* store_holds - held posts, tokens, moderation decisions */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "store.h"
#include "store_int.h"
#include "xalloc.h"

/* The schema step for held posts, tokens, moderation decisions (see migrations in store.c). */
const char *const store_schema_moderation[] = {
	"SELECT 1",
};
const size_t store_schema_moderation_n =
	sizeof store_schema_moderation / sizeof store_schema_moderation[0];
