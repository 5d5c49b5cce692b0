/* search - the archive's search: what a person types, parsed into a query
 * that is safe to hand to SQLite's FTS5, run over the index, results
 * grouped by thread
 *
 * Nothing a person types reaches FTS5 as written: every word goes out as a
 * quoted FTS5 string, so that operators (NEAR, AND, ^, *, parentheses,
 * column filters) in the input are plain words. What the parser refuses is
 * an error key for the answer (search_error_key), never an SQL error. */
#ifndef CONVENE_SEARCH_H
#define CONVENE_SEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct buf;
struct store;

/* A query is at most this long (bytes) and has at most this many terms. */
#define SEARCH_QUERY_MAX 256
#define SEARCH_TERMS_MAX 16
/* Results by mail or on the command line, at most. */
#define SEARCH_RESULTS_MAX 50

enum search_error {
	SEARCH_OK = 0,
	SEARCH_EMPTY,            /* nothing to search for */
	SEARCH_TOO_LONG,         /* over SEARCH_QUERY_MAX */
	SEARCH_TOO_MANY,         /* over SEARCH_TERMS_MAX */
	SEARCH_UNCLOSED_QUOTE,   /* a '"' without its pair */
	SEARCH_BAD_DATE,         /* after:, before:, date: not a date */
	SEARCH_ONLY_NOT,         /* only excluded words */
};

/* The key of an error's line in the archive-lines template, e.g.
 * "search-too-long". */
const char *search_error_key(enum search_error e);

/* A parsed query. */
struct search_query {
	char *match;    /* FTS5 expression; NULL when only filters were given */
	time_t after;   /* dates [after, before); 0: unbounded */
	time_t before;
	char *tag;      /* tag:WORD, or NULL */
	char *shown;    /* the query as understood, for answers (ASCII-safe
			   UTF-8, one line) */
};

/* Parses what a person typed (len bytes of UTF-8; invalid bytes are word
 * separators). The grammar, terms separated by white space:
 *   word          matches the word (stemmed: "thread" finds "threads")
 *   word*         words starting with it (at least two letters before *)
 *   "a phrase"    the words in that order
 *   -word         messages without it (at least one other term needed)
 *   from:X        X (a word, address or "phrase") in the sender
 *   subject:X     X in the subject
 *   after:DATE    on or after DATE; before:DATE before DATE;
 *   date:DATE     in DATE; date:D1..D2 from D1 to the end of D2
 *                 (DATE is YYYY, YYYY-MM or YYYY-MM-DD, UTC)
 *   tag:WORD      messages a leader tagged WORD
 * Punctuation inside words separates them; words of punctuation alone are
 * dropped. Returns SEARCH_OK and fills *q (free with search_query_free), or
 * the error (q left empty). */
enum search_error search_parse(const char *text, size_t len,
			       struct search_query *q);
void search_query_free(struct search_query *q);

/* Splits the text of a message for the index: lines quoted with '>' (after
 * optional white space) go to quoted, the rest to body. */
void search_split_text(const char *text, struct buf *body,
		       struct buf *quoted);

/* Indexes archived message `archive`: subject, sender (address and name),
 * and its text (reply_text: the first text part, HTML as text), quoted
 * lines apart so that they weigh less. Part of the caller's transaction.
 * 0, or -1 with the store's error. */
int search_index(struct store *s, int64_t archive, const char *subject,
		 const char *sender, const char *sender_name,
		 const char *text);

/* One thread found. */
struct search_hit {
	int64_t thread;
	int64_t archive;      /* its best matching message */
	int64_t matches;      /* its messages that matched */
	int64_t messages;     /* its messages */
	time_t date;          /* of the best message */
	char *subject;        /* of the thread */
	char *sender_name;    /* of the best message: its display name, else
				 the local part of the address (never the
				 whole address) */
	char *excerpt;        /* one line around what matched; addresses in
				 it shortened to "local@..." */
};
struct search_result {
	struct search_hit *v;
	size_t n;
	int64_t threads;      /* matching threads in all */
	int64_t messages;     /* matching messages in all */
};

/* Runs q over list's archive: the best `limit` threads (at most
 * SEARCH_RESULTS_MAX). 0, or -1 with the store's error. Free r with
 * search_result_free. */
int search_run(struct store *s, const char *list,
	       const struct search_query *q, size_t limit,
	       struct search_result *r);
void search_result_free(struct search_result *r);

/* A display form of a sender that never shows the whole address: the
 * name when there is one, else the local part and "@...". Newly
 * allocated. */
char *search_sender_display(const char *address, const char *name);
/* text with every address in it shortened to "local@..." and control
 * bytes made spaces; newly allocated. */
char *search_hide_addresses(const char *text);

#endif
