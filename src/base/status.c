/* status - the one map from internal outcomes to exit codes (sysexits.h) */
#include "autoconf.h"

#include <sysexits.h>

#include "base/status.h"

int status_to_exit(enum status st)
{
	switch (st) {
	case ST_OK:       return EX_OK;
	case ST_TEMPFAIL: return EX_TEMPFAIL;
	case ST_NOUSER:   return EX_NOUSER;
	case ST_DATAERR:  return EX_DATAERR;
	case ST_USAGE:    return EX_USAGE;
	case ST_CONFIG:   return EX_CONFIG;
	case ST_SOFTWARE: return EX_SOFTWARE;
	case ST_TOOBIG:   return EX_DATAERR;
	case ST_NOSPACE:  return EX_TEMPFAIL;
	}
	return EX_SOFTWARE;
}

const char *status_name(enum status st)
{
	switch (st) {
	case ST_OK:       return "ok";
	case ST_TEMPFAIL: return "temporary failure";
	case ST_NOUSER:   return "no such list";
	case ST_DATAERR:  return "unacceptable input";
	case ST_USAGE:    return "usage";
	case ST_CONFIG:   return "configuration error";
	case ST_SOFTWARE: return "internal error";
	case ST_TOOBIG:   return "message too large";
	case ST_NOSPACE:  return "disk full";
	}
	return "unknown";
}

void status_to_reply(enum status st, struct status_reply *r)
{
	switch (st) {
	case ST_OK:
		*r = (struct status_reply){ 250, "2.0.0", "ok" };
		return;
	case ST_NOUSER:
		*r = (struct status_reply){ 550, "5.1.1", "no such list" };
		return;
	case ST_TOOBIG:
		*r = (struct status_reply){ 552, "5.3.4",
					    "message too large" };
		return;
	case ST_DATAERR:
		*r = (struct status_reply){ 554, "5.6.0",
					    "not a message convene can "
					    "accept" };
		return;
	case ST_NOSPACE:
		*r = (struct status_reply){ 452, "4.3.1",
					    "disk full, try again later" };
		return;
	case ST_TEMPFAIL:
	case ST_USAGE:
	case ST_CONFIG:
	case ST_SOFTWARE:
		break;
	}
	*r = (struct status_reply){ 451, "4.3.0",
				    "temporary failure, try again later" };
}
