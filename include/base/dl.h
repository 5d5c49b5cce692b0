/* dl - libraries loaded when first used (dlopen), not linked
 *
 * A program that runs once per message (convene receive) would load a
 * linked library, and the libraries it needs, at every start and never
 * call it: cairo (the report's chart), libical (meetings), libetpan's
 * session side with GnuTLS (the SMTP transport), libmicrohttpd (convene
 * web) are loaded by the code that calls them, through a table of the
 * functions it uses. */
#ifndef CONVENE_DL_H
#define CONVENE_DL_H

#include <stddef.h>

/* One function of the library: its name, and the pointer (in the caller's
 * table of typed function pointers) that receives its address. */
struct dl_fn {
	const char *name;
	void **addr;
};

/* An entry for function f of table t: DL_FN(cf, cairo_arc). */
#define DL_FN(t, f) { #f, (void **)&(t).f }

/* Loads the library `soname` (its own symbols kept local) and the address
 * of each of the n functions. Returns 0, or -1 with *error_r (newly
 * allocated): "cannot load SONAME: why" or "SONAME has no FUNCTION".
 * Callers run it once (pthread_once or a flag); a library that loaded
 * stays loaded. */
int dl_load(const char *soname, const struct dl_fn *fns, size_t n,
	    char **error_r);

#endif
