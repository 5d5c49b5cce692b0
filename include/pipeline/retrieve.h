/* retrieve - the archive by mail at NAME-request: index, thread, get,
 * search and faq for those who may read it (archive.access), and the
 * leaders' curation (faq ID [title], resolved ID, tag ID WORD, or the same
 * words in a reply to a list post)
 *
 * Each command adds its lines to the one answer that commands.c sends
 * (rate-limited like every answer), and thread and get add the messages,
 * as they were received, for attaching as message/rfc822 parts: at most
 * archive.answer_kb in all, with a line naming what was left out. A
 * non-member (on a public archive) gets copies whose headers carry no
 * address. Every text comes from the archive-lines template. */
#ifndef CONVENE_RETRIEVE_H
#define CONVENE_RETRIEVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mail/request.h"

struct buf;
struct compose_part;
struct conf;
struct conf_list;
struct msg;
struct store;

/* get takes at most this many ids. */
#define RETRIEVE_GET_MAX 20
/* index shows 10 threads unless told, at most this many. */
#define RETRIEVE_INDEX_MAX 50

struct retrieve {
	struct store *s;
	const struct conf *c;
	const struct conf_list *l;
	const char *sender;         /* who asked, normalised */
	int64_t replied;            /* the list post the mail answers (its
				       In-Reply-To), 0: none */
	struct buf *out;            /* the answer's text */
	struct compose_part *parts; /* messages to attach (owned) */
	size_t nparts, bytes;
	int reader;                 /* may read: -1 not yet known, 0, 1 */
	bool member;                /* a member or an officer */
	bool broken;                /* a line of archive-lines could not be
				       rendered: the answer must not leave */
};

/* Starts r for one command mail; out is where its lines go. */
void retrieve_init(struct retrieve *r, struct store *s, const struct conf *c,
		   const struct conf_list *l, const char *sender,
		   int64_t replied, struct buf *out);
void retrieve_free(struct retrieve *r);

/* Whether v is one of the archive's verbs (index, thread, get, search,
 * faq, resolved, tag). */
bool retrieve_verb(enum request_verb v);

/* Runs one archive command, part of the caller's transaction. Returns 0,
 * or -1 with the store's error. */
int retrieve_run(struct retrieve *r, const struct request_cmd *cmd);

/* Appends line `key` of the archive-lines template to out, with the
 * list's placeholders and those given as NULL-terminated name, value pairs
 * (every other archive placeholder is ""). Values are made one line. */
void retrieve_line(const struct conf *c, const struct conf_list *l,
		   struct buf *out, const char *key, ...);

/* The archive id of the post of l that message m answers (its
 * In-Reply-To, else its last reference, archived in l); 0 when none. */
int retrieve_replied(struct store *s, const struct conf_list *l,
		     const struct msg *m, int64_t *id_r);

#endif
