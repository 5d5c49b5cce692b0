/* lockdb - holds a write lock on a SQLite database for some seconds
 *
 * usage: lockdb DB SECONDS READYFILE
 * Takes BEGIN EXCLUSIVE, creates READYFILE, sleeps, rolls back. Used by the
 * tests to keep the database locked past convene's busy timeout. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sqlite3.h>

int main(int argc, char **argv)
{
	sqlite3 *db;
	FILE *f;

	if (argc != 4) {
		fprintf(stderr, "usage: lockdb DB SECONDS READYFILE\n");
		return 2;
	}
	if (sqlite3_open(argv[1], &db) != SQLITE_OK ||
	    sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "lockdb: %s\n", sqlite3_errmsg(db));
		return 1;
	}
	f = fopen(argv[3], "w");
	if (f == NULL)
		return 1;
	fclose(f);
	sleep((unsigned)atoi(argv[2]));
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(db);
	return 0;
}
