/* thread - threads that hold up on real mail
 *
 * Jamie Zawinski's algorithm, kept up in the store one message at a time:
 * every Message-ID a post names in References and In-Reply-To gets a node,
 * archived or not (a "ghost" stands for a missing message), linked to the
 * one before it unless that would make a loop; a post's parent is its
 * In-Reply-To, else its last reference. A reply from a client that sends
 * neither ("Re: subject", nothing else) joins the thread with that base
 * subject nearest in time; an original that arrives after such replies
 * takes them in. When a late message joins two threads, the merged thread
 * keeps the older thread's id; a message that names another parent than
 * the one its replies presumed moves with its replies.
 *
 * Thread ids are stable: a thread's id is the archive id of a message in it
 * (the one that started it), so "thread N" with the id of any message that
 * ever started a thread finds where that message is now. */
#ifndef CONVENE_THREAD_H
#define CONVENE_THREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct store;

/* A reply without references joins a thread by subject only when the
 * thread has a message within this many seconds of it. */
#define THREAD_SUBJECT_WINDOW (60 * 86400L)

/* The subject a thread is matched by: leading reply and forward markers
 * ("Re:", "RE :", "Aw:", "Sv:", "Fwd:", "Re[2]:"...) and bracketed tags
 * ("[makers]", "[PATCH 1/2]") removed, ASCII lower-cased, runs of white
 * space made one space, trimmed. *reply_r (may be NULL) tells whether a
 * reply marker (not a forward) was among what was removed. Newly
 * allocated, never NULL (subject NULL gives ""). */
char *thread_base_subject(const char *subject, bool *reply_r);

/* What threading needs of an archived post. */
struct thread_post {
	const char *list;
	int64_t archive;                  /* its archive row */
	const char *message_id;
	const char *in_reply_to;          /* first id of In-Reply-To, or NULL */
	const char *const *references;    /* References then In-Reply-To ids,
					     oldest first, NULL-terminated
					     (msg_references); may be NULL */
	const char *subject;              /* decoded; may be NULL */
	time_t date;
};

/* Links archived post p into the thread tree, part of the caller's
 * transaction: its node, ghosts for what it names, the links, the subject
 * fallback, thread ids (merges and moves included), archive.parent and
 * archive.thread of whatever changed, and the threads' counts. *thread_r
 * is the post's thread. Returns 0, or -1 with the store's error. */
int thread_link(struct store *s, const struct thread_post *p,
		int64_t *thread_r);

/* The thread named by a person's `id` in list: a thread id, or the id of
 * any archived message (then its thread). *found_r false when neither. */
int thread_resolve(struct store *s, const char *list, int64_t id,
		   int64_t *thread_r, bool *found_r);

/* One entry of a thread in reading order. */
struct thread_entry {
	int64_t archive;      /* 0: a ghost (a message the archive lacks) */
	int64_t parent;       /* archive id of the nearest archived ancestor,
				 0: none */
	int depth;            /* 0 for a root */
	char *message_id;
	char *sender, *sender_name, *subject;   /* NULL for a ghost */
	time_t date;
};

/* The messages of thread `thread` in reading order: depth first, replies
 * after their parent, siblings by date. With `ghosts` the missing messages
 * are listed too (archive 0), else their replies move up. Free with
 * thread_entries_free. */
int thread_list(struct store *s, int64_t thread, bool ghosts,
		struct thread_entry **v_r, size_t *n_r);
void thread_entries_free(struct thread_entry **v, size_t n);

#endif
