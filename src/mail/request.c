/* request - the commands of a mail to NAME-request */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mail/request.h"
#include "base/buf.h"
#include "base/xalloc.h"

#define WORD_MAX 64
#define ANSWER_LINE_MAX 80

static const struct {
	const char *word;
	enum request_verb verb;
} verbs[] = {
	{ "help", REQ_HELP },
	{ "subscribe", REQ_SUBSCRIBE }, { "sub", REQ_SUBSCRIBE },
	{ "join", REQ_SUBSCRIBE },
	{ "unsubscribe", REQ_UNSUBSCRIBE }, { "unsub", REQ_UNSUBSCRIBE },
	{ "leave", REQ_UNSUBSCRIBE }, { "signoff", REQ_UNSUBSCRIBE },
	{ "set", REQ_SET },
	{ "who", REQ_WHO },
	{ "confirm", REQ_CONFIRM },
	{ "info", REQ_INFO },
	{ "index", REQ_INDEX },
	{ "thread", REQ_THREAD },
	{ "get", REQ_GET },
	{ "search", REQ_SEARCH }, { "find", REQ_SEARCH },
	{ "faq", REQ_FAQ },
	{ "resolved", REQ_RESOLVED },
	{ "tag", REQ_TAG },
	{ "remind", REQ_REMIND },
	{ "welcome", REQ_WELCOME },
	{ "thank", REQ_THANK },
	{ "experts", REQ_EXPERTS },
	{ "poll", REQ_POLL },
	{ "meeting", REQ_MEETING },
	{ "minutes", REQ_MINUTES },
	{ "rsvps", REQ_RSVPS },
};

static const char *const modes[] = {
	"immediate", "digest", "digest-plain", "nomail", NULL
};

/* Subject prefixes that replies and forwards add. */
static const char *const subject_prefixes[] = {
	"re:", "fwd:", "fw:", "aw:", "wg:", "sv:", "vs:", "antw:", "tr:",
	"ref:", NULL
};

const char *request_verb_name(enum request_verb v)
{
	switch (v) {
	case REQ_HELP:        return "help";
	case REQ_SUBSCRIBE:   return "subscribe";
	case REQ_UNSUBSCRIBE: return "unsubscribe";
	case REQ_SET:         return "set";
	case REQ_WHO:         return "who";
	case REQ_CONFIRM:     return "confirm";
	case REQ_INFO:        return "info";
	case REQ_INDEX:       return "index";
	case REQ_THREAD:      return "thread";
	case REQ_GET:         return "get";
	case REQ_SEARCH:      return "search";
	case REQ_FAQ:         return "faq";
	case REQ_RESOLVED:    return "resolved";
	case REQ_TAG:         return "tag";
	case REQ_REMIND:      return "remind";
	case REQ_WELCOME:     return "welcome";
	case REQ_THANK:       return "thank";
	case REQ_EXPERTS:     return "experts";
	case REQ_POLL:        return "poll";
	case REQ_MEETING:     return "meeting";
	case REQ_MINUTES:     return "minutes";
	case REQ_RSVPS:       return "rsvps";
	case REQ_BAD:         return "bad";
	}
	return "bad";
}

bool request_token_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return i == 32;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' ||
	       c == '\f' || c == '\v';
}

/* Splits line[0..n) into up to max words, each lower-cased into words[i]
 * (WORD_MAX bytes; longer words are cut and marked by a trailing '\x01' so
 * that they never match). Returns the number of words, counting past max. */
static size_t split_words(const char *line, size_t n,
			  char words[][WORD_MAX], size_t max)
{
	size_t i = 0, count = 0;

	while (i < n) {
		size_t k = 0;

		while (i < n && is_space(line[i]))
			i++;
		if (i == n)
			break;
		while (i < n && !is_space(line[i])) {
			if (count < max) {
				char c = line[i];

				if (c >= 'A' && c <= 'Z')
					c = (char)(c - 'A' + 'a');
				if (k < WORD_MAX - 2)
					words[count][k++] = c;
				else
					words[count][WORD_MAX - 2] = '\x01';
			}
			i++;
		}
		if (count < max)
			words[count][k < WORD_MAX - 1 ? k : WORD_MAX - 1] =
				'\0';
		count++;
	}
	return count;
}

/* Trailing punctuation a person may add: "help.", "subscribe!" */
static void strip_punct(char *w)
{
	size_t n = strlen(w);

	while (n > 0 && strchr(".,;:!?)\"'", w[n - 1]) != NULL)
		w[--n] = '\0';
}

/* A meeting's id: 1 to 18 digits. */
static bool is_number(const char *w)
{
	size_t n = strspn(w, "0123456789");

	return n > 0 && n <= 18 && w[n] == '\0';
}

static bool is_mode(const char *w)
{
	size_t i;

	for (i = 0; modes[i] != NULL; i++)
		if (strcmp(w, modes[i]) == 0)
			return true;
	return false;
}

/* The token in a word: its run of hex digits ("<tok>", "tok:" and
 * "makers-confirm+tok@x" all work), when it is exactly 32 long. */
static char *token_in(const char *w)
{
	const char *p = w;

	while (*p != '\0') {
		size_t k = strspn(p, "0123456789abcdef");

		if (k == 32)
			return xstrndup(p, 32);
		p += k > 0 ? k : 1;
	}
	return NULL;
}

static char *answer_line(const char *line, size_t n)
{
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < n && b.len < ANSWER_LINE_MAX; i++) {
		unsigned char c = (unsigned char)line[i];

		buf_putc(&b, c >= 32 && c < 127 ? (char)c : '?');
	}
	return buf_steal(&b, NULL);
}

/* The rest of the line after its first word: trimmed, control bytes made
 * spaces, cut at REQUEST_ARG_MAX (*cut_r); NULL when empty. */
static char *rest_of_line(const char *line, size_t n, bool *cut_r)
{
	struct buf b = BUF_INIT;
	size_t i = 0;

	*cut_r = false;
	while (i < n && is_space(line[i]))
		i++;
	while (i < n && !is_space(line[i]))
		i++;
	while (i < n && is_space(line[i]))
		i++;
	while (n > i && is_space(line[n - 1]))
		n--;
	if (i == n)
		return NULL;
	if (n - i > REQUEST_ARG_MAX) {
		*cut_r = true;
		n = i + REQUEST_ARG_MAX;
	}
	for (; i < n; i++) {
		unsigned char c = (unsigned char)line[i];

		buf_putc(&b, c < 32 || c == 127 ? ' ' : (char)c);
	}
	return buf_steal(&b, NULL);
}

static bool all_digits(const char *w)
{
	return *w != '\0' && strspn(w, "0123456789") == strlen(w) &&
	       strlen(w) <= 18;
}

/* The archive verbs. Returns false when the line is prose, not a
 * command (only in the body). */
static bool parse_archive(const char *line, size_t n, bool lenient,
			  char words[][WORD_MAX], size_t nw,
			  struct request_cmd *cmd)
{
	bool cut;
	char *rest = rest_of_line(line, n, &cut);
	size_t i;

	cmd->arg_cut = cut;
	switch (cmd->verb) {
	case REQ_INDEX:
		/* "index", "index 20"; in the body "index of ..." is
		 * prose */
		if (nw > 1 && all_digits(words[1]) && (nw == 2 || lenient)) {
			cmd->arg = xstrdup(words[1]);
		} else if (nw > 1 && !lenient) {
			free(rest);
			return false;
		}
		free(rest);
		return true;
	case REQ_THREAD:
		if (nw > 1 && all_digits(words[1]) && (nw == 2 || lenient))
			cmd->arg = xstrdup(words[1]);
		else if (!lenient && nw > 2)
			break;          /* prose */
		else
			cmd->verb = REQ_BAD;
		free(rest);
		return cmd->verb == REQ_BAD || cmd->arg != NULL;
	case REQ_GET:
		if (rest != NULL) {
			char *p;

			for (p = rest; *p; p++)
				if (*p == ',')
					*p = ' ';
			for (i = 0; rest[i] != '\0'; i++)
				if (!is_space(rest[i]) &&
				    (rest[i] < '0' || rest[i] > '9'))
					break;
			if (rest[i] == '\0') {
				cmd->arg = rest;
				return true;
			}
		}
		free(rest);
		if (!lenient && nw > 2)
			return false;
		cmd->verb = REQ_BAD;
		return true;
	case REQ_SEARCH:
		if (rest == NULL) {
			cmd->verb = REQ_BAD;
			return true;
		}
		cmd->arg = rest;
		return true;
	case REQ_FAQ:
	case REQ_TAG:
		if (cmd->verb == REQ_TAG && rest == NULL)
			cmd->verb = REQ_BAD;
		cmd->arg = rest;
		return true;
	case REQ_RESOLVED:
		if (nw > 1 && all_digits(words[1]) && (nw == 2 || lenient)) {
			cmd->arg = xstrdup(words[1]);
		} else if (nw > 1 && !lenient) {
			free(rest);
			return false;
		}
		free(rest);
		return true;
	default:
		break;
	}
	free(rest);
	return false;
}

static void cmd_free(struct request_cmd *c)
{
	xfree(&c->arg);
	xfree(&c->line);
}

enum line_kind { LINE_JUNK, LINE_COMMAND, LINE_END };

/* One line. `lenient` (the Subject): words after a verb that takes no
 * argument, or after "subscribe", are prose and ignored. */
static enum line_kind parse_line(const char *line, size_t n, bool lenient,
				 struct request_cmd *cmd)
{
	char words[3][WORD_MAX];
	size_t nw, i;
	enum request_verb verb;
	bool found = false;

	/* Only "search" may be longer: its answer says it is too long. */
	if (n > REQUEST_MAX_LINE &&
	    !(n > 7 && strncasecmp(line, "search", 6) == 0 &&
	      is_space(line[6])))
		return LINE_JUNK;
	nw = split_words(line, n, words, 3);
	if (nw == 0)
		return LINE_JUNK;
	strip_punct(words[0]);
	if (strcmp(words[0], "end") == 0 || strcmp(words[0], "stop") == 0 ||
	    strcmp(words[0], "quit") == 0 || strcmp(words[0], "thanks") == 0)
		return nw == 1 ? LINE_END : LINE_JUNK;
	for (i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
		if (strcmp(words[0], verbs[i].word) == 0) {
			verb = verbs[i].verb;
			found = true;
			break;
		}
	}
	if (!found)
		return LINE_JUNK;
	memset(cmd, 0, sizeof *cmd);
	cmd->verb = verb;
	if (nw > 1)
		strip_punct(words[1]);
	switch (verb) {
	case REQ_SUBSCRIBE:
		if (nw == 1)
			break;
		if (is_mode(words[1]))
			cmd->arg = xstrdup(words[1]);
		else if (!lenient)
			cmd->verb = REQ_BAD;
		break;
	case REQ_SET:
		/* "set digest", also "set mode digest" */
		if (nw > 2 && strcmp(words[1], "mode") == 0) {
			strip_punct(words[2]);
			memmove(words[1], words[2], WORD_MAX);
		}
		if (nw > 1 && is_mode(words[1]))
			cmd->arg = xstrdup(words[1]);
		else
			cmd->verb = REQ_BAD;
		break;
	case REQ_CONFIRM:
		cmd->arg = nw > 1 ? token_in(words[1]) : NULL;
		if (cmd->arg == NULL)
			cmd->verb = REQ_BAD;
		break;
	case REQ_INDEX:
	case REQ_THREAD:
	case REQ_GET:
	case REQ_SEARCH:
	case REQ_FAQ:
	case REQ_RESOLVED:
	case REQ_TAG:
		if (!parse_archive(line, n, lenient, words, nw, cmd)) {
			cmd_free(cmd);
			return LINE_JUNK;
		}
		break;
	case REQ_REMIND:
		/* "remind 812"; in the body "remind me ..." is prose */
		if (nw > 1 && all_digits(words[1]) && (nw == 2 || lenient))
			cmd->arg = xstrdup(words[1]);
		else if (nw > 1)
			return LINE_JUNK;
		else
			cmd->verb = REQ_BAD;
		break;
	case REQ_MEETING:
		/* "meeting", "meeting update 3", "meeting cancel 3"; in the
		 * body other words after it are prose. */
		if (nw > 1 && (strcmp(words[1], "update") == 0 ||
			       strcmp(words[1], "cancel") == 0)) {
			if (nw > 2)
				strip_punct(words[2]);
			if (nw < 3 || !is_number(words[2]))
				cmd->verb = REQ_BAD;
			else
				cmd->arg = xasprintf("%s %s", words[1],
						     words[2]);
		} else if (nw > 1 && !lenient) {
			return LINE_JUNK;
		}
		break;
	case REQ_MINUTES:
	case REQ_RSVPS:
		if (nw > 1 && is_number(words[1]))
			cmd->arg = xstrdup(words[1]);
		else if (verb == REQ_MINUTES && !lenient && nw > 1)
			return LINE_JUNK;
		else
			cmd->verb = REQ_BAD;
		break;
	case REQ_WELCOME:
	case REQ_THANK:
		/* "welcome m17", "thank bob@example.org" */
		if (nw > 1 && (nw == 2 || lenient) && words[1][0] != '\0' &&
		    words[1][strlen(words[1]) - 1] != '\x01' &&
		    (strchr(words[1], '@') != NULL ||
		     (words[1][0] == 'm' && all_digits(words[1] + 1))))
			cmd->arg = xstrdup(words[1]);
		else if (nw > 1)
			return LINE_JUNK;
		else
			cmd->verb = REQ_BAD;
		break;
	case REQ_EXPERTS: {
		bool cut;

		cmd->arg = rest_of_line(line, n, &cut);
		cmd->arg_cut = cut;
		if (cmd->arg == NULL)
			cmd->verb = REQ_BAD;
		break;
	}
	case REQ_POLL:
		/* "poll" alone; in the body "poll results were..." is
		 * prose */
		if (!lenient && nw > 1)
			return LINE_JUNK;
		break;
	default:
		/* help, unsubscribe, who, info: nothing to read. In the body
		 * a long line after the verb is prose, not a command. */
		if (!lenient && nw > 2)
			return LINE_JUNK;
		break;
	}
	cmd->line = answer_line(line, n);
	return LINE_COMMAND;
}


static bool same_cmd(const struct request_cmd *a, const struct request_cmd *b)
{
	if (a->verb != b->verb)
		return false;
	if (a->verb == REQ_BAD)
		return strcmp(a->line, b->line) == 0;
	if (a->arg == NULL || b->arg == NULL)
		return a->arg == b->arg;
	return strcmp(a->arg, b->arg) == 0;
}

static void push(struct request_cmds *out, struct request_cmd *c)
{
	size_t i;

	for (i = 0; i < out->n; i++) {
		if (same_cmd(&out->v[i], c)) {
			cmd_free(c);
			return;
		}
	}
	if (out->n == REQUEST_MAX_COMMANDS) {
		cmd_free(c);
		return;
	}
	out->v = xreallocarray(out->v, out->n + 1, sizeof *out->v);
	out->v[out->n++] = *c;
}

/* "poll", "meeting" and "minutes": what follows belongs to them. */
static bool ends_commands(const struct request_cmd *c)
{
	return c->verb == REQ_POLL || c->verb == REQ_MEETING ||
	       c->verb == REQ_MINUTES;
}

/* The Subject less its reply and forward prefixes. */
static const char *subject_text(const char *s)
{
	bool again = true;
	size_t i;

	while (again) {
		again = false;
		while (is_space(*s))
			s++;
		for (i = 0; subject_prefixes[i] != NULL; i++) {
			size_t k = strlen(subject_prefixes[i]);

			if (strncasecmp(s, subject_prefixes[i], k) == 0) {
				s += k;
				again = true;
				break;
			}
		}
	}
	return s;
}

static bool stop_line(const char *l, size_t n)
{
	static const char original[] = "-----Original Message-----";
	size_t i;

	/* "-- " is the signature mark; "--" is what trimming mailers
	 * leave of it. */
	if ((n == 3 && memcmp(l, "-- ", 3) == 0) ||
	    (n == 2 && memcmp(l, "--", 2) == 0))
		return true;
	if (n > 0 && l[0] == '>')
		return true;
	if (n >= 5 && strspn(l, "_") == n)
		return true;
	for (i = 0; i < n && is_space(l[i]); i++)
		;
	if (n - i >= sizeof original - 1 &&
	    strncasecmp(l + i, original, sizeof original - 1) == 0)
		return true;
	return false;
}

void request_parse(const char *subject, const char *text, size_t len,
		   struct request_cmds *out)
{
	struct request_cmd cmd;
	size_t pos = 0, junk = 0;

	out->v = NULL;
	out->n = 0;
	if (subject != NULL) {
		const char *s = subject_text(subject);

		if (parse_line(s, strlen(s), true, &cmd) == LINE_COMMAND) {
			bool last = ends_commands(&cmd);

			push(out, &cmd);
			if (last)
				return;
		}
	}
	while (pos < len && junk < REQUEST_MAX_JUNK) {
		const char *l = text + pos, *nl = memchr(l, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - l) : len - pos, t = n, b = 0;

		pos += n + (nl ? 1 : 0);
		while (t > 0 && (l[t - 1] == '\r'))
			t--;
		if (stop_line(l, t))
			break;
		while (b < t && is_space(l[b]))
			b++;
		while (t > b && is_space(l[t - 1]))
			t--;
		if (t == b)
			continue;
		switch (parse_line(l + b, t - b, false, &cmd)) {
		case LINE_COMMAND:
			if (ends_commands(&cmd)) {
				push(out, &cmd);
				return;
			}
			push(out, &cmd);
			break;
		case LINE_END:
			return;
		case LINE_JUNK:
			junk++;
			break;
		}
	}
}

void request_cmds_free(struct request_cmds *cmds)
{
	size_t i;

	for (i = 0; i < cmds->n; i++)
		cmd_free(&cmds->v[i]);
	xfree(&cmds->v);
	cmds->n = 0;
}
