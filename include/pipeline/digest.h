/* digest - periodic digests: MIME (RFC 2046 multipart/digest) and plain
 * text (RFC 1153)
 *
 * Every accepted post (approved held posts too) waits, as the part digest
 * members will see, for its list's next issue. An issue goes out when the
 * list's digest.schedule comes due or when what waits reaches
 * digest.max_messages or digest.max_kb, whichever first; an empty period
 * sends nothing. The worker assembles an issue and commits, in one
 * transaction: the number (Vol N, Issue M in the Subject), its
 * posts taken out of the waiting ones, and one delivery job per format
 * whose recipients are the list's members in that mode (digest: a
 * multipart/digest of message/rfc822 parts after a text/plain table of
 * contents; digest-plain: the RFC 1153 layout). The delivery engine then
 * sends each job as it sends posts, so a crash at any point sends each
 * issue once to each member (duplicates only within one transaction).
 *
 * A member who switched modes during the period gets what their modes
 * say, post by post: a post accepted while they were in digest mode comes
 * in the digest, one accepted while they were immediate came alone. When
 * that is only some of the posts, they get an issue of their own
 * with just those.
 *
 * The table of contents groups the posts by thread with counts and
 * senders; threads of the period without a reply are listed as needing an
 * answer, and the entries leaders added to the archive's FAQ since the
 * last issue as new in the FAQ. Prose comes from the templates digest (Subject and masthead) and
 * digest-lines (the pieces). */
#ifndef CONVENE_DIGEST_H
#define CONVENE_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct buf;
struct conf;
struct conf_list;
struct msg;
struct rewrite_params;
struct store;

/* The part a digest holds for an accepted post: m (content rules applied,
 * not yet rewritten for immediate delivery) with rewrite_digest_part and
 * p's From policy, written into out. m is not changed. */
void digest_part(const struct msg *m, const struct rewrite_params *p,
		 struct buf *out);

/* Adds an accepted post (archived as `archive`, its digest part from
 * digest_part) to list's next issue, inside the caller's transaction.
 * *seq_r is the post's sequence number: its immediate delivery job reaches
 * the members who were in immediate mode at that point. 0, or -1 (the
 * store's error). */
int digest_add_post(struct store *s, const struct conf_list *l,
		    int64_t archive, const struct buf *part, int64_t *seq_r);

/* What an issue was. */
struct digest_issued {
	int64_t volume, number;
	size_t messages;
	int64_t jobs[2];        /* digest, digest-plain; 0 when nobody */
	size_t personal;        /* own issues of members who switched */
};

/* The timed part, for the worker's every pass: for each list, an issue
 * when its schedule is due (now) or what waits is full; nothing for an
 * empty period. One transaction per issue. *issued_r (may be NULL) counts
 * the issues. Returns 0, or -1 after logging a failure (the issue waits
 * for the next pass). */
int digest_pass(const struct conf *c, struct store *s, time_t now,
		size_t *issued_r);

/* Assembles and queues an issue of list l now with what waits, whatever
 * the schedule (the next scheduled one still comes at its time). Commits.
 * *issued_r false when nothing waits (nothing changed). Returns 0, or -1
 * with *error_r (newly allocated; the store's error: check
 * store_transient). */
int digest_send_now(const struct conf *c, const struct conf_list *l,
		    struct store *s, struct digest_issued *info,
		    bool *issued_r, char **error_r);

/* The next issue of list l as digest-plain members would get it now, into
 * out (the whole message); *count_r is how many posts wait (0: out is left
 * empty). Changes nothing. 0, or -1 with *error_r (newly allocated). */
int digest_preview(const struct conf *c, const struct conf_list *l,
		   struct store *s, struct buf *out, size_t *count_r,
		   char **error_r);

#endif
