/* reply - what a person wrote in a mail: its text, its first word, a token
 *
 * Used on hostile input (moderation replies, held posts): every function is
 * bounded in time and memory by the size of its input and knows no
 * database. */
#ifndef CONVENE_REPLY_H
#define CONVENE_REPLY_H

#include <stdbool.h>
#include <stddef.h>

/* Text is examined up to this many bytes: a decision is in the first lines. */
#define REPLY_TEXT_MAX (256 * 1024)

struct mime_limits;

/* The text of a message: its first text/plain part that is not an
 * attachment (else its first text/html part, tags stripped), transfer
 * encoding undone, converted to UTF-8, LF line ends, cut at REPLY_TEXT_MAX.
 * Parts inside an attached message are not looked at. The structure comes
 * from the one MIME walk (mime.h) with limits lim (NULL: its defaults).
 * Newly allocated; NULL when the message has no text part or passes a
 * limit. */
char *reply_text(const char *raw, size_t len, const struct mime_limits *lim);

/* The first calendar in a message (at its top level, not inside an
 * attached message): a text/calendar part (inline, as calendars answer,
 * or attached), an application/ics part, or an attachment named *.ics;
 * found by the one MIME walk with limits lim (NULL: its defaults);
 * transfer encoding undone, converted to UTF-8, LF line ends, cut at
 * REPLY_TEXT_MAX. Newly allocated; NULL when there is none or the walk
 * stops at a limit. */
char *reply_calendar(const char *raw, size_t len,
		     const struct mime_limits *lim);

/* When the body of m is one text part without a transfer encoding (no
 * Content-Type or text/plain; 7bit, 8bit or none) and its first line that
 * is not blank starts with the word `word` (any case), removes that line
 * and the blank lines after it: a command written above the text it
 * brings ("minutes" above the minutes). Returns whether it did. */
struct msg;
bool reply_strip_command(struct msg *m, const char *word);

/* HTML to plain text: tags removed, <br>, </p>, </div>, </li> and </tr> end
 * lines, the text inside <blockquote> gets "> " in front of each line,
 * <head>, <style> and <script> are dropped, the common entities are decoded.
 * Newly allocated. */
char *reply_html_to_text(const char *html, size_t len);

/* The first word of `text` that the person wrote above or below the quoted
 * matter: blank lines, lines quoted with '>', attribution lines ("On ...
 * wrote:", also when wrapped over two lines) are skipped; the scan stops at
 * the start of a quoted original ("-----Original Message-----", an
 * underscore rule, or a "From:" line followed by "Sent:" or "Date:").
 * The word is lower-cased with surrounding punctuation removed; *rest_r is
 * what follows it on its line, trimmed (may be ""). Both newly allocated.
 * Returns false (and sets nothing) when there is no such word. */
bool reply_first_word(const char *text, char **word_r, char **rest_r);

/* Finds a token (32 hex digits, not part of a longer hex run) in s and
 * copies it lower-cased into tok. Returns false when there is none. */
bool reply_find_token(const char *s, char tok[33]);

/* The first lines of text, for a notice: at most max_lines non-blank lines
 * and about max_bytes bytes (cut at a character boundary, "..." marking a
 * cut). Newly allocated. */
char *reply_excerpt(const char *text, size_t max_lines, size_t max_bytes);

#endif
