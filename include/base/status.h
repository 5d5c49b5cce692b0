/* status - the one map from internal outcomes to process exit codes */
#ifndef CONVENE_STATUS_H
#define CONVENE_STATUS_H

enum status {
	ST_OK = 0,        /* done (including a deliberate, logged drop) */
	ST_TEMPFAIL,      /* transient: database busy, disk full, config unreadable */
	ST_NOUSER,        /* no such list or address */
	ST_DATAERR,       /* the input itself is unacceptable (e.g. over the size bound) */
	ST_USAGE,         /* bad command line */
	ST_CONFIG,        /* invalid configuration (admin commands) */
	ST_SOFTWARE,      /* internal error */
};

/* sysexits.h value for `st`: 0, 75, 67, 65, 64, 78, 70. */
int status_to_exit(enum status st);
const char *status_name(enum status st);

#endif
