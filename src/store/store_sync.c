/* store_sync - commits whose sync is done apart, by another thread */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sqlite3.h>

#include "store/store.h"
#include "store_int.h"
#include "base/xalloc.h"

struct store_syncer {
	int fd;                 /* the WAL file, opened for its syncs only */
};

/* Syncs the folder that holds path: the WAL file's entry, in case this
 * process made the file (SQLite would have synced the folder at its first
 * sync of it, which no commit of s makes any more). */
static int sync_folder(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash == NULL ? xstrdup(".") :
		xstrndup(path, slash == path ? 1 : (size_t)(slash - path));
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;

	free(dir);
	if (fd < 0)
		return -1;
	if (fsync(fd) < 0 && errno != EINVAL)
		rc = -1;
	close(fd);
	return rc;
}

struct store_syncer *store_syncer_open(struct store *s, char **error_r)
{
	const char *db = sqlite3_db_filename(s->db, "main");
	const char *wal = db != NULL && *db != '\0' ?
		sqlite3_filename_wal(db) : NULL;
	struct store_syncer *y;
	int fd;

	if (wal == NULL || *wal == '\0') {
		*error_r = xstrdup("the database has no WAL file");
		return NULL;
	}
	/* Commits of s write the WAL and do not wait for the disk; the WAL
	 * is still synced before each checkpoint copies it back, and its
	 * header when it starts afresh. */
	if (store_set_fast_commits(s) < 0) {
		*error_r = xstrdup(store_error(s));
		return NULL;
	}
	fd = open(wal, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || sync_folder(wal) < 0) {
		*error_r = xasprintf("%s: %s", wal, strerror(errno));
		if (fd >= 0)
			close(fd);
		(void)store_exec(s, "PRAGMA synchronous = FULL");
		return NULL;
	}
	y = xcalloc(1, sizeof *y);
	y->fd = fd;
	return y;
}

int store_syncer_sync(struct store_syncer *y, int *errno_r)
{
	/* On Linux a sync writes the file's data whichever descriptor asks,
	 * and reports a write-back failure to every descriptor open when it
	 * happened: the WAL's own descriptors are SQLite's, this one ours. */
	while (fdatasync(y->fd) < 0) {
		if (errno == EINTR)
			continue;
		*errno_r = errno;
		return -1;
	}
	return 0;
}

void store_syncer_close(struct store_syncer **yp)
{
	struct store_syncer *y = *yp;

	if (y == NULL)
		return;
	close(y->fd);
	free(y);
	*yp = NULL;
}
