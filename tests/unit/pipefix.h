/* pipefix - a real list for the Pipeline and Delivery unit tests: a config
 * file, a SQLite database on disk and a maildir outbox in a temp folder */
#ifndef CONVENE_TEST_PIPEFIX_H
#define CONVENE_TEST_PIPEFIX_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "pipeline/incoming.h"

struct conf;
struct conf_list;
struct store;

struct pipefix {
	char dir[64];
	struct conf *c;
	const struct conf_list *l;   /* the list "makers" */
	struct store *s;
};

/* A list makers@lists.example.org (leaders alice@example.org and
 * erin@example.org, council carol@example.com, sponsor dana@example.org)
 * with `list_settings` added to its group and `top_settings` at the top
 * level (either may be NULL). Fails the test when anything is wrong. */
void pipefix_open(struct pipefix *f, const char *list_settings,
		  const char *top_settings);
void pipefix_close(struct pipefix *f);

/* Adds members (quietly), NULL-terminated. */
void pipefix_members(struct pipefix *f, ...);

/* One message from `from` (a header value) with extra header lines
 * `headers` (NULL: none; each ending in \n) into a newly allocated raw
 * message with Message-ID <id@example.net>. */
char *pipefix_msg(const char *id, const char *from, const char *headers,
		  const char *body);

/* receive_prepare + receive_stage in one transaction that the fixture
 * commits: what the pipe front does. Returns the status; *outcome_r. */
enum status pipefix_receive(struct pipefix *f, const char *recipient,
			    const char *raw, enum incoming_outcome *outcome_r);

/* An integer the SQL (a query of one row and column) gives, read with a
 * connection of its own. */
int64_t pipefix_sql(struct pipefix *f, const char *sql);
/* The same for text (newly allocated; NULL for no row or a NULL). */
char *pipefix_sql_text(struct pipefix *f, const char *sql);

/* Pretends the time is t (CONVENE_NOW); 0: the real time again. */
void pipefix_now(time_t t);

#endif
