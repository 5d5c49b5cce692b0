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
	}
	return "unknown";
}
