/* store_subs - subscription requests, confirmations, rate limits */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "store.h"
#include "store_int.h"
#include "xalloc.h"

/* The schema step for subscription requests, confirmations, rate limits (see migrations in store.c). */
const char *const store_schema_subscriptions[] = {
	"SELECT 1",
};
const size_t store_schema_subscriptions_n =
	sizeof store_schema_subscriptions / sizeof store_schema_subscriptions[0];
