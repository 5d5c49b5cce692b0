/* msg - one RFC 5322 message held in memory, parsed with limits
 *
 * The message is kept as bytes with LF line ends (CRLF and bare CR are
 * normalised to LF when parsing). The header section is split into fields
 * that keep their raw bytes (folding included), so that a rewrite changes only
 * what it means to change. Parsing knows no database. */
#ifndef CONVENE_MSG_H
#define CONVENE_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct buf;

struct msg_limits {
	size_t max_header_bytes;   /* whole header section */
	size_t max_headers;        /* number of fields */
};

struct msg_field {
	char *name;     /* as written (without the colon), NUL-terminated */
	char *value;    /* raw value after the colon: folding and leading space
			   kept, final LF removed; NUL-terminated */
	bool deleted;   /* removed by a rewrite */
};

struct msg {
	struct msg_field *fields;
	size_t nfields, capfields;
	char *body;     /* bytes after the blank line (LF ends), NUL-terminated */
	size_t body_len;
	bool had_crlf;  /* the input used CRLF line ends */
	bool no_body;   /* the input had no blank line separating a body */
};

enum msg_parse_result {
	MSG_OK = 0,
	MSG_TOO_MANY_HEADERS,
	MSG_HEADER_TOO_BIG,
	MSG_NOT_A_MESSAGE,       /* nothing that looks like a header field */
};

/* Parses `len` bytes of `data` into *m (which the caller zero-initialises and
 * later frees with msg_free). A leading mbox "From " line is skipped. Lines in
 * the header section that are neither fields nor continuations are dropped
 * (and counted in *junk_r if non-NULL). NUL bytes in the header section become
 * spaces. Returns MSG_OK or the limit that stopped it. */
enum msg_parse_result msg_parse(struct msg *m, const char *data, size_t len,
				const struct msg_limits *limits, size_t *junk_r);
void msg_free(struct msg *m);
const char *msg_parse_result_str(enum msg_parse_result r);

/* The first (not deleted) field named `name` (case-insensitive), or NULL. */
struct msg_field *msg_field_get(struct msg *m, const char *name);
const struct msg_field *msg_field_cget(const struct msg *m, const char *name);
/* Its raw value with folding undone and surrounding white space trimmed,
 * newly allocated; NULL when there is no such field. */
char *msg_header_unfolded(const struct msg *m, const char *name);
/* Its value decoded from RFC 2047 to UTF-8 (invalid UTF-8 replaced), newly
 * allocated; NULL when there is no such field. */
char *msg_header_decoded(const struct msg *m, const char *name);
/* Marks every field named `name` deleted; returns how many. */
size_t msg_field_delete(struct msg *m, const char *name);
/* Appends a field; `value` is used as written after "Name: " (the caller
 * folds long values). */
void msg_field_add(struct msg *m, const char *name, const char *value);
/* Replaces the value of the first field named `name` (adding one when
 * absent) and deletes any others of that name. */
void msg_field_set(struct msg *m, const char *name, const char *value);
/* Inserts a field at the top of the header (as trace fields are). */
void msg_field_prepend(struct msg *m, const char *name, const char *value);

/* Serialises the message (header fields not deleted, blank line, body) with
 * LF line ends into `out`. */
void msg_write(const struct msg *m, struct buf *out);

/* Decodes an RFC 2047 header value (raw, possibly folded) to UTF-8, newly
 * allocated; never NULL. Undecodable words are kept as written. */
char *msg_decode_rfc2047(const char *raw);
/* Encodes UTF-8 text for a header field: returned as is when it is printable
 * ASCII, else as RFC 2047 "=?UTF-8?B?...?=" words of at most 75 bytes,
 * folded with "\n " between words. `used` is the length of "Name: " already
 * on the first line. Newly allocated. */
char *msg_encode_rfc2047(const char *utf8, size_t used);

/* Reads the addr-spec of the first mailbox of the named address field
 * (From, Sender, Reply-To, To...), lower-cased in the domain; NULL when absent
 * or unparseable. The display name, decoded to UTF-8, goes to *name_r when
 * non-NULL (NULL if none). Uses libetpan's RFC 5322 parser. */
char *msg_first_address(const struct msg *m, const char *field, char **name_r);
/* Counts the addresses in the named address fields (e.g. "To", "Cc"). */
size_t msg_count_addresses(const struct msg *m, const char *field);

/* The Message-ID without angle brackets, or NULL. */
char *msg_message_id(const struct msg *m);
/* An id for a message that has none, derived from its content: 32 hex
 * digits of SHA-256 over its header fields (without the trace fields an MTA
 * adds on each delivery: Received, Return-Path, Delivered-To,
 * X-Original-To) and its body. The same message handed over again gets the
 * same id. Newly allocated. */
char *msg_content_id(const struct msg *m);
/* The message-ids listed in In-Reply-To and References, in order (oldest
 * first), without brackets; NULL-terminated array freed with msg_idlist_free. */
char **msg_references(const struct msg *m);
char *msg_in_reply_to(const struct msg *m);
void msg_idlist_free(char ***ids);

/* The Date field as a time: true with *t_r, false (t_r untouched) when it
 * is absent, unparseable or before 1970. */
bool msg_date(const struct msg *m, time_t *t_r);

/* Appends data as SMTP DATA to `out`: LF (and a bare CR, so that nothing
 * in the body can look like the end of data to a lax server) becomes CRLF,
 * a line starting with '.' gets another, the last line is ended; no final
 * "." line is added. Returns whether any byte has the 8th bit set (the
 * message needs 8BITMIME). */
bool msg_to_smtp_data(const char *data, size_t len, struct buf *out);

#endif
