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
	ST_TOOBIG,        /* over the size bound (exits like ST_DATAERR) */
	ST_NOSPACE,       /* disk full (transient: exits like ST_TEMPFAIL) */
};

/* sysexits.h value for `st`: 0, 75, 67, 65, 64, 78, 70. */
int status_to_exit(enum status st);
const char *status_name(enum status st);

/* What an LMTP (or SMTP) server answers for `st`, the same decision as the
 * exit code: reply code, enhanced status code (RFC 3463) and a short text,
 * all static. ST_OK 250 2.0.0; ST_NOUSER 550 5.1.1; ST_TOOBIG 552 5.3.4;
 * ST_DATAERR 554 5.6.0; ST_NOSPACE 452 4.3.1; anything else 451 4.3.0 (the
 * sender keeps the message and retries). */
struct status_reply {
	int code;
	const char *enhanced;
	const char *text;
};
void status_to_reply(enum status st, struct status_reply *r);

#endif
