/* post - the accept path of a post: footer and header rewrite, archive,
 * one delivery job to the members, an event */
#ifndef CONVENE_POST_H
#define CONVENE_POST_H

#include <stdint.h>

struct incoming;
struct store;

/* Accepts post `in` (its raw bytes already stored as `message`): applies
 * the content rules, adds the footer, rewrites the header for the list,
 * archives it with its thread links, queues one delivery job to the
 * members and records a post.accepted event. Part of the caller's
 * transaction. Returns 0 with the archive row and job, or -1 on a store
 * failure (the store's error says why). A footer or content rule that
 * cannot be applied is logged and the post goes out without it. */
int post_accept(struct store *s, struct incoming *in, int64_t message,
		int64_t *archive_r, int64_t *job_r);

#endif
