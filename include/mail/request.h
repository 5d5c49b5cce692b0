/* request - the commands of a mail to NAME-request (the text they are read
 * from comes from reply_text)
 *
 * Parsing only: no database, no config. Every input is hostile; every
 * function here is bounded by the limits below. */
#ifndef CONVENE_REQUEST_H
#define CONVENE_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

/* At most this many commands are taken from one message. */
#define REQUEST_MAX_COMMANDS 20
/* Reading stops after this many lines that are not commands (a greeting,
 * a quoted-reply header, a signature without "-- "). */
#define REQUEST_MAX_JUNK 5
/* Lines longer than this are never commands. */
#define REQUEST_MAX_LINE 200

enum request_verb {
	REQ_HELP,
	REQ_SUBSCRIBE,     /* arg: a mode, or NULL */
	REQ_UNSUBSCRIBE,
	REQ_SET,           /* arg: a mode */
	REQ_WHO,
	REQ_CONFIRM,       /* arg: the token (32 lower-case hex digits) */
	REQ_INFO,
	/* the archive: arg is the rest of the line as written (see
	 * struct request_cmd) */
	REQ_INDEX,         /* arg: a count, or NULL */
	REQ_THREAD,        /* arg: an id */
	REQ_GET,           /* arg: ids separated by spaces */
	REQ_SEARCH,        /* arg: the words */
	REQ_FAQ,           /* arg: NULL (show the FAQ), or [ID] [title] */
	REQ_RESOLVED,      /* arg: an id, or NULL */
	REQ_TAG,           /* arg: [ID] WORD */
	/* the health report: leaders act on it; anyone who reads the
	 * archive asks for experts */
	REQ_REMIND,        /* arg: a thread's number */
	REQ_WELCOME,       /* arg: an address or a member's id (m17) */
	REQ_THANK,         /* arg: an address or a member's id (m17) */
	REQ_EXPERTS,       /* arg: the words */
	/* leaders: a poll. "poll" ends the commands: the lines after it are
	 * its settings */
	REQ_POLL,          /* arg: NULL */
	/* leaders: meetings. "meeting" and "minutes" end the commands: the
	 * lines after them are theirs (the meeting's settings, the
	 * minutes). */
	REQ_MEETING,       /* arg: NULL (schedule), "update ID", "cancel ID" */
	REQ_MINUTES,       /* arg: the meeting's id */
	REQ_RSVPS,         /* arg: the meeting's id */
	REQ_BAD,           /* a known verb with a bad or missing argument */
};

/* The archive verbs' argument is at most this long; a longer one is cut
 * and marked (arg_cut). A "search" line may be longer than
 * REQUEST_MAX_LINE, so that a query that is too long gets an answer that
 * says so. */
#define REQUEST_ARG_MAX 1024

struct request_cmd {
	enum request_verb verb;
	char *arg;         /* see the verbs; NULL when none. For the archive
			      verbs: the rest of the line after the verb,
			      trimmed, case kept, control bytes made spaces */
	char *line;        /* the line as written: ASCII, control bytes
			      replaced, at most 80 bytes (for answers) */
	bool arg_cut;      /* arg was longer than REQUEST_ARG_MAX */
};

struct request_cmds {
	struct request_cmd *v;
	size_t n;
};

/* The name a verb is written with ("subscribe", ...). */
const char *request_verb_name(enum request_verb v);

/* Reads the commands of a message: the Subject first (after any "Re:",
 * "Fwd:", "AW:" ... prefixes; may be NULL), then the body text, one command
 * a line. The body stops at a signature line "-- ", at quoted text (a line
 * starting with ">"), at "-----Original Message-----" or a line of
 * underscores (Outlook), at "end", and after REQUEST_MAX_JUNK lines that are
 * not commands. A "poll", "meeting" or "minutes" command is the last: the
 * text after it is its own (in the Subject, the whole body is). A command
 * repeated (say in the Subject and the body) counts once. Fills *out (free
 * with request_cmds_free); never fails. */
void request_parse(const char *subject, const char *text, size_t len,
		   struct request_cmds *out);
void request_cmds_free(struct request_cmds *cmds);

/* true when s is a token as util_token writes it: 32 lower-case hex
 * digits. */
bool request_token_ok(const char *s);

#endif
