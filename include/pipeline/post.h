/* post - the accept path of a post: archive, footer and header rewrite,
 * one delivery job to the members in immediate mode, its place in the next
 * digest, an event */
#ifndef CONVENE_POST_H
#define CONVENE_POST_H

#include <stdint.h>

struct incoming;
struct store;

/* Accepts post `in` (its raw bytes already stored as `message`): archives
 * it as received (pipeline/archive: threaded and indexed), applies the
 * content rules, adds the footer, rewrites the header for the list
 * (Archived-At too when the archive has a URL, and List-Unsubscribe with
 * each member's one-click URL when the list has one: see oneclick_marker
 * in mail/oneclick.h), queues one delivery job to
 * the members in immediate mode as of this post, adds it to the list's next
 * digest (see digest.h) and records a post.accepted event. Part of the caller's
 * transaction. Returns 0 with the archive row and job, or -1 on a store
 * failure (the store's error says why). A footer or content rule that
 * cannot be applied is logged and the post goes out without it. */
int post_accept(struct store *s, struct incoming *in, int64_t message,
		int64_t *archive_r, int64_t *job_r);

#endif
