/* store_guard - the VERP tag key, and whom a list sent to lately */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sqlite3.h>

#include "store/store.h"
#include "store_int.h"
#include "store/store_guard.h"
#include "base/log.h"
#include "base/util.h"

/* Schema step: the secrets table, and indexes for the duplicate checks and
 * the delivery records that bounce reports are held against. */
const char *const store_schema_guard[] = {
	"CREATE TABLE secrets ("
	"  name TEXT PRIMARY KEY,"
	"  value BLOB NOT NULL,"
	"  created_at INTEGER NOT NULL)",
	"CREATE INDEX holds_by_message_id ON holds (list, message_id)",
	"CREATE INDEX jobs_by_list ON jobs (list, created_at)",
	"CREATE INDEX job_rcpts_by_address ON job_rcpts (address, job)",
};
const size_t store_schema_guard_n =
	sizeof store_schema_guard / sizeof store_schema_guard[0];

static int secret_get(struct store *s, const char *name,
		      unsigned char out[STORE_SECRET_LEN], bool *found_r)
{
	static const char sql[] = "SELECT value FROM secrets WHERE name = ?";
	struct store_rows r;
	sqlite3_stmt *st = store_rows_prep(&r, s, sql, "read secret");

	*found_r = false;
	store_bind(st, STORE_T(name));
	if (store_rows_valid(&r) &&
	    sqlite3_column_bytes(st, 0) == STORE_SECRET_LEN) {
		memcpy(out, sqlite3_column_blob(st, 0), STORE_SECRET_LEN);
		*found_r = true;
	}
	return store_rows_end(&r);
}

int store_secret(struct store *s, const char *name,
		 unsigned char out[STORE_SECRET_LEN])
{
	static const char sql[] =
		"INSERT OR IGNORE INTO secrets (name, value, created_at)"
		" VALUES (?, ?, ?)";
	unsigned char fresh[STORE_SECRET_LEN];
	sqlite3_stmt *st;
	bool found;

	if (secret_get(s, name, out, &found) < 0)
		return -1;
	if (found)
		return 0;
	if (getrandom(fresh, sizeof fresh, 0) != (ssize_t)sizeof fresh)
		log_fatal("getrandom failed");
	st = store_prep(s, sql);
	if (st == NULL)
		return -1;
	store_bind_text(st, 1, name);
	sqlite3_bind_blob(st, 2, fresh, sizeof fresh, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)util_now());
	memset(fresh, 0, sizeof fresh);
	if (store_step_done(s, st, "keep secret") < 0)
		return -1;
	/* another process may have made it first: theirs is the one */
	if (secret_get(s, name, out, &found) < 0)
		return -1;
	if (!found) {
		store_set_err(s, SQLITE_ERROR, "secret not kept");
		return -1;
	}
	return 0;
}

int store_sent_since(struct store *s, const char *list, const char *address,
		     time_t since, bool *sent_r)
{
	static const char sql[] =
		"SELECT EXISTS (SELECT 1 FROM members m JOIN jobs j"
		"  ON j.list = m.list"
		"  WHERE m.list = ?1 AND m.address = ?2 AND j.kind = 'post'"
		"  AND j.created_at >= ?3 AND m.subscribed_at <= j.created_at"
		"  AND (j.audience = m.mode OR"
		"       (j.audience = 'mail' AND m.mode <> 'nomail'))"
		"  AND (j.members_done = 1 OR j.cursor >= m.id OR EXISTS"
		"   (SELECT 1 FROM job_ranges g WHERE g.job = j.id"
		"    AND m.id > g.after_id AND m.id <= g.last_id)))"
		" OR EXISTS (SELECT 1 FROM job_rcpts r JOIN jobs j"
		"  ON j.id = r.job WHERE r.address = ?2 AND j.list = ?1"
		"  AND j.created_at >= ?3 AND r.state <> 'queued')";
	int64_t n;

	*sent_r = false;
	if (store_count(s, sql, "sent lately", &n, STORE_T(list),
			STORE_T(address), STORE_I(since)) < 0)
		return -1;
	*sent_r = n != 0;
	return 0;
}
