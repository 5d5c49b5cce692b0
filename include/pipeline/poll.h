/* poll - polls by reply
 *
 * A leader writes "poll" to NAME-request with the poll's settings on the
 * lines below it, one "key: value" a line:
 *   question: Where shall we meet in June?
 *   option: The workshop           (2 to 20 of them, numbered in order)
 *   option: The café
 *   closes: 2026-06-01 18:00       (in report.timezone), or a time from
 *                                  now: 3d, 48h
 *   results: list                  (or "leaders", the default: who gets
 *                                  the results at the close)
 * Every member who gets mail receives the poll with Reply-To
 * NAME-vote+ID@; a member votes by replying with an option's number or a
 * word of it (the first words they write). One vote per member: a new
 * vote replaces the earlier one. At the closing time the worker closes it
 * and sends the results to the leaders (and the list when asked);
 * `convene poll LIST list|results ID|close ID` does the same by hand. */
#ifndef CONVENE_POLL_H
#define CONVENE_POLL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "base/status.h"
#include "pipeline/incoming.h"
#include "store/store_polls.h"

struct buf;
struct conf;
struct conf_list;
struct store;

/* A poll closes at most this long after it opens. */
#define POLL_OPEN_MAX (90 * 86400L)

/* The settings of a poll as a leader wrote them. */
struct poll_spec {
	char *question;
	char *options[STORE_POLL_OPTIONS_MAX];
	size_t noptions;
	time_t closes_at;
	bool to_list;
};
void poll_spec_clear(struct poll_spec *sp);

/* Reads the settings from text (the lines after the "poll" command; stops
 * at a signature or quoted text), closing times in zone tz relative to
 * now. Returns 0, or -1 with *problem_r: the key of the answer line that
 * says what is wrong ("poll-no-question", "poll-options",
 * "poll-closes"). */
int poll_spec_read(const char *text, const char *tz, time_t now,
		   struct poll_spec *sp, const char **problem_r);

/* Which option (1..n) a voter's words choose: a number, the whole text of
 * an option, or a word that starts exactly one option (case-insensitive);
 * 0 when none or several. */
int poll_choice(const struct store_poll *p, const char *words);

/* "poll" at NAME-request, part of the caller's transaction: a leader's
 * poll is stored and sent to the members; the answer's line goes to out
 * (answer-lines). *broken_r when a line or message could not be
 * rendered. 0, or -1 with the store's error. */
int poll_command(struct store *s, struct incoming *in, struct buf *out,
		 bool *broken_r);

/* A vote at NAME-vote+ID, part of the caller's transaction: recorded when
 * it comes from a member and the poll is open, and confirmed to the voter.
 * ST_OK, or ST_TEMPFAIL after a store failure. */
enum status poll_vote_handle(struct store *s, struct incoming *in,
			     enum incoming_outcome *outcome_r);

/* The results of poll p as answer text (poll-lines) into out. */
int poll_results_text(struct store *s, const struct conf *c,
		      const struct conf_list *l, const struct store_poll *p,
		      struct buf *out);

/* Closes poll `id` of l now and sends its results, in a transaction of
 * its own. *closed_r false when it was not open (or not l's). 0, or -1
 * with the store's error. */
int poll_close(struct store *s, const struct conf *c,
	       const struct conf_list *l, int64_t id, bool *closed_r);

/* The timed pass: closes the polls whose time came. 0, or -1 (logged). */
int poll_pass(const struct conf *c, struct store *s, time_t now);

#endif
