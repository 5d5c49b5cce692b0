/* mime - the one MIME walk: a message's structure, found in one pass with
 * the configured limits, before libetpan sees any of it
 *
 * The walk reads the bytes once, line by line, keeping a stack of the open
 * multipart boundaries: its time is linear in the input (times the nesting
 * depth for lines that start with "--"), it never recurses, and it stops at
 * the first limit passed. It checks what would make libetpan's parsers
 * recurse without bound: nested multiparts and message/rfc822 parts (the
 * MIME depth), the number of parts, and parentheses (comments) nested in
 * structured header fields. Content-Type, Content-Transfer-Encoding and
 * Content-Disposition values are read through libetpan only after that,
 * comments removed, on padded copies (etpan.h). Knows no database. */
#ifndef CONVENE_MIME_H
#define CONVENE_MIME_H

#include <stdbool.h>
#include <stddef.h>

struct buf;
struct conf;

struct mime_limits {
	size_t max_depth;        /* nesting: a part inside a multipart or an
				    attached message is one deeper than it;
				    also the deepest nesting of comments in a
				    structured header field */
	size_t max_parts;        /* parts: the message itself, every multipart
				    and every part inside one, attached
				    messages included */
	size_t max_header_bytes; /* the header block of any one part */
	size_t max_headers;      /* the fields of any one part */
};

/* The configuration's limits (limits.max_mime_depth, max_mime_parts,
 * max_header_kb, max_headers). */
void mime_limits_from_conf(struct mime_limits *lim, const struct conf *c);

/* The limits used where none are given: depth 50, 10,000 parts, 512 KB and
 * 1,000 fields per header (the configuration's defaults). */
extern const struct mime_limits mime_default_limits;

enum mime_result {
	MIME_OK = 0,
	MIME_TOO_DEEP,           /* parts nested deeper than max_depth */
	MIME_TOO_MANY_PARTS,     /* more than max_parts parts */
	MIME_NESTED_COMMENTS,    /* comments nested deeper than max_depth */
	MIME_HEADER_TOO_BIG,     /* a part's header over its limits */
};

enum mime_encoding {
	MIME_ENC_7BIT,           /* also when none is given */
	MIME_ENC_8BIT,
	MIME_ENC_BINARY,
	MIME_ENC_QP,
	MIME_ENC_BASE64,
	MIME_ENC_OTHER,          /* unknown or unreadable: taken as is */
};

#define MIME_NONE ((size_t)-1)

struct mime_param {
	char *name;              /* lower case */
	char *value;
};

/* A content type read from a Content-Type value. */
struct mime_ctype {
	char type[64];           /* lower case; "text" when absent */
	char subtype[64];        /* lower case; "plain" when absent */
	struct mime_param *params;
	size_t nparams;
	bool parsed;             /* false: absent or unreadable (defaults) */
};

/* One part. Offsets are into the bytes walked. */
struct mime_part {
	size_t parent;           /* index of the enclosing part; MIME_NONE for
				    the message itself (part 0) */
	size_t depth;            /* 0 for the message */
	size_t delim;            /* where the delimiter line before it begins
				    (a part of a multipart); else = start */
	size_t start;            /* where its header begins */
	size_t body;             /* where its body begins */
	size_t end;              /* where it ends: the line break before the
				    next delimiter belongs to the delimiter */
	size_t close;            /* multipart: where its close delimiter line
				    begins; MIME_NONE when it has none */
	size_t nchildren;
	size_t first_child;      /* MIME_NONE when none */
	size_t last_child;
	size_t next_sibling;     /* the next part of the same parent */
	struct mime_ctype ct;
	enum mime_encoding encoding;
	bool attachment;         /* Content-Disposition: attachment */
	bool in_message;         /* inside an attached message (a
				    message/rfc822 part below the top) */
	char *filename;          /* Content-Disposition's filename, or NULL */
};

struct mime_tree {
	struct mime_part *v;     /* in the order they begin (a parent comes
				    before its children) */
	size_t n, cap;
};

/* Walks len bytes of a whole message (header and body; LF or CRLF line
 * ends). *t (zero-initialised by the caller, freed with mime_tree_free)
 * gets the parts found, also when a limit stops the walk early (then the
 * parts still open end where it stopped). lim NULL: mime_default_limits.
 * Returns MIME_OK or the limit that stopped it. */
enum mime_result mime_walk(const char *data, size_t len,
			   const struct mime_limits *lim, struct mime_tree *t);

/* Walks a body whose header was already read: content_type and
 * transfer_encoding are the raw values of those fields (NULL when absent).
 * Part 0 is the body itself (start = body = 0). */
enum mime_result mime_walk_body(const char *body, size_t len,
				const char *content_type,
				const char *transfer_encoding,
				const struct mime_limits *lim,
				struct mime_tree *t);

void mime_tree_free(struct mime_tree *t);

/* What a result means, for log lines. */
const char *mime_result_str(enum mime_result r);

/* Reads a Content-Type value (NULL: absent) into *ct (free with
 * mime_ctype_free). Comments are removed first; an unreadable value gives
 * text/plain with parsed false. */
void mime_ctype_parse(const char *value, struct mime_ctype *ct);
void mime_ctype_free(struct mime_ctype *ct);
/* A parameter's value (name case-insensitive), or NULL. Borrowed. */
const char *mime_ctype_param(const struct mime_ctype *ct, const char *name);
/* Reads a Content-Transfer-Encoding value (NULL: absent, 7bit). */
enum mime_encoding mime_encoding_parse(const char *value);

/* The body of a leaf part with its transfer encoding undone (base64 and
 * quoted-printable; others as they are), appended to out. */
void mime_part_decode(const char *data, const struct mime_part *p,
		      struct buf *out);

/* Converts n bytes in charset (NULL, "us-ascii" or "utf-8": none) to UTF-8,
 * appended to out; bytes of an unknown charset are appended as they are. */
void mime_to_utf8(const char *s, size_t n, const char *charset,
		  struct buf *out);

#endif
