/* rewrite - turns an accepted post into the message members receive */
#ifndef CONVENE_REWRITE_H
#define CONVENE_REWRITE_H

#include <stdbool.h>
#include <stddef.h>

struct msg;
struct conf;
struct conf_list;

/* The parts of a rewrite that depend on the list (all strings borrowed). */
struct rewrite_params {
	const char *list_name;      /* "makers" */
	const char *domain;         /* "lists.example.org" */
	const char *description;    /* may be NULL or "" */
	const char *subject_prefix; /* "[makers] ", or "" / NULL for none */
	int reply_to;               /* enum conf_reply_to */
	const char *reply_to_address;
	int from_munging;           /* enum conf_from_munging (DMARC treated as
				       none unless dmarc_strict is set) */
	bool dmarc_strict;          /* the From domain publishes p=reject/quarantine */
	const char *archive_url;    /* may be NULL */
	const char *archived_at;    /* this post's URL (RFC 5064), or NULL */
	const char *unsubscribe_url;/* one-click URL without its token; may
				       be NULL */
	const char *unsubscribe_token; /* what stands for each member's
				       token in it (the job's token
				       marker); without it no one-click
				       URL is written */
	const char *footer;         /* rendered footer text (UTF-8), or NULL */
	const char *message_id_domain; /* used when a Message-ID must be added */
};

/* Fills params from a list and the global config. */
void rewrite_params_from_conf(struct rewrite_params *p, const struct conf *c,
			      const struct conf_list *l, const char *footer);

/* Applies every rule, in place:
 *  - removes Bcc, Return-Receipt-To, Disposition-Notification-To, Approved,
 *    X-Original-To, Delivered-To, Return-Path, and any List-* / Precedence /
 *    X-Loop fields already present (ours replace them);
 *  - the Subject prefix, never piled up (see rewrite_subject);
 *  - List-Id, List-Post, List-Help, List-Subscribe, List-Unsubscribe,
 *    List-Archive, List-Owner (RFC 2919/2369); with an unsubscribe URL
 *    and token marker, List-Unsubscribe names <URL+marker> first and
 *    List-Unsubscribe-Post (RFC 8058) is added; Archived-At (RFC 5064)
 *    when archived_at is set, Precedence: list, X-Loop;
 *  - the Reply-To and From policy;
 *  - a Message-ID when the post had none;
 *  - the footer, keeping MIME valid (see rewrite_footer).
 * Returns 0, or -1 with *error_r (static string) when the footer could not be
 * added (the post is still rewritten otherwise). */
int rewrite_post(struct msg *m, const struct rewrite_params *p,
		 const char **error_r);

/* Turns an accepted post (content rules already applied) into the part a
 * digest holds: the post's own header fields stay (From, Date, Subject,
 * Message-ID...), with the Reply-To and From policies of rewrite_post
 * applied the same way, a Message-ID added when there was none, and the
 * fields rewrite_post
 * removes, trace and authentication fields (Received, DKIM-Signature,
 * ARC-*, Authentication-Results) and List-* fields removed. No prefix, no
 * list fields, no footer: the digest has its own. In place. */
void rewrite_digest_part(struct msg *m, const struct rewrite_params *p);

/* The new Subject text (UTF-8, decoded) for an original decoded subject:
 * reply markers (Re:, RE:, Aw:, Sv:, Fwd: is kept) and copies of the prefix
 * anywhere in the leading run are removed, and the result is
 * PREFIX + ("Re: " when it was a reply) + rest. Newly allocated. */
char *rewrite_subject(const char *decoded, const char *prefix);

/* Adds the footer text to the body of m, keeping MIME valid:
 *  - text/plain single part in 7bit/8bit/binary (or no Content-Type): the text
 *    is appended (charset taken into account: a non-UTF-8 charset gets an
 *    ASCII-only footer or the part is wrapped);
 *  - quoted-printable text/plain: appended encoded;
 *  - multipart/mixed: a new text/plain; charset=utf-8 part is inserted before
 *    the closing boundary;
 *  - anything else (base64 text, HTML, multipart/alternative, signed,
 *    encrypted...): the message is wrapped into a multipart/mixed whose first
 *    part is the original content and second the footer.
 * Returns 0 or -1 (*error_r set) when the body cannot be handled (e.g. a
 * multipart without its boundary), leaving m unchanged. */
int rewrite_footer(struct msg *m, const char *footer, const char **error_r);

/* Makes m a copy for a reader who may not see addresses (a non-member
 * reading a public archive): only Date, Subject, Message-ID, In-Reply-To,
 * References, MIME-Version and the Content-* fields stay, and From becomes
 * its display name (else its local part) with the address
 * "hidden@hidden.invalid". The body is left as written. */
void rewrite_public_copy(struct msg *m);

/* "description" <name.domain> style List-Id value. Newly allocated. */
char *rewrite_list_id(const char *name, const char *domain,
		      const char *description);

#endif
