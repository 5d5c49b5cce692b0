/* mta - how the MTA hands list mail to convene: the wiring to paste into
 * Postfix or Exim for the config in force, and a check of the MTA's own
 * config (through postconf/postmap, or exim -bP/-bt/-bh) that names what is
 * missing. Two wirings: a pipe to `convene receive`, or LMTP to where
 * `convene lmtp` listens (mta_wiring_lmtp). */
#ifndef CONVENE_MTA_H
#define CONVENE_MTA_H

#include <stdbool.h>
#include <stddef.h>

struct buf;
struct conf;
struct conf_listen;

enum mta_kind { MTA_POSTFIX, MTA_EXIM };

struct mta_wiring {
	enum mta_kind kind;
	char *domain;       /* the lists' domain */
	char *command;      /* "/usr/bin/convene [-c FILE] receive" */
	char *user;         /* the user the MTA runs it as */
	char *probe;        /* an address that must reach convene (the first
			       list's posting address) */
	/* Over LMTP (mta_wiring_lmtp): the Unix socket, or the loopback host
	 * and port, that `convene lmtp` listens on. */
	bool lmtp;
	char *socket;
	char *host;
	int port;
};

/* The wiring of this install: `program` is the convene binary (absolute),
 * `config` the config file to name with -c (absolute; NULL when it is the
 * compiled-in default), `user` the user the MTA runs convene as. Returns 0,
 * or -1 with *error_r (newly allocated) when a path or name cannot be put
 * into the MTA's config (white space, control characters). Free with
 * mta_wiring_deinit. */
int mta_wiring_init(struct mta_wiring *w, enum mta_kind kind,
		    const struct conf *c, const char *program,
		    const char *config, const char *user, char **error_r);
void mta_wiring_deinit(struct mta_wiring *w);

/* Makes w the LMTP wiring: the MTA hands list mail to where `convene lmtp`
 * listens (c->lmtp.listen; `listen` overrides it when not NULL, as
 * `convene lmtp --listen` would). Postfix names a socket under its queue
 * folder (/var/spool/postfix) relative to it, as its chrooted lmtp(8)
 * needs. Returns 0, or -1 with *error_r (newly allocated) when the path
 * cannot go into the MTA's config. */
int mta_wiring_lmtp(struct mta_wiring *w, const struct conf *c,
		    const struct conf_listen *listen, char **error_r);

/* Appends the text to paste (comments say where each part goes). */
void mta_print(const struct mta_wiring *w, struct buf *out);

/* How the check runs the MTA's tools: argv[0] is the tool's name
 * ("postconf", "postmap", "exim4"); the function finds and runs it with
 * `input` on its standard input (may be NULL), puts its standard output
 * into out and its exit status into *exit_r. Returns -1 when the tool is
 * not there or cannot be run. */
typedef int mta_run_fn(void *ctx, char *const argv[], const char *input,
		       struct buf *out, int *exit_r);

/* Compares the wiring with the MTA's config: Postfix's config folder, or
 * Exim's config file, `mta_config` (NULL: the MTA's default). Appends one
 * line per part to `report` ("ok: ..." or "missing: ..."). Returns the
 * number of parts missing, or -1 with *error_r (newly allocated) when the
 * MTA's tools could not be run at all. */
int mta_check(const struct mta_wiring *w, const char *mta_config,
	      mta_run_fn *run, void *ctx, struct buf *report,
	      char **error_r);

#endif
