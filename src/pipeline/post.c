/* post - the accept path of a post */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pipeline/post.h"
#include "pipeline/footer.h"
#include "pipeline/archive.h"
#include "base/buf.h"
#include "base/conf.h"
#include "base/log.h"
#include "base/template.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "mail/content.h"
#include "mail/dmarc.h"
#include "mail/mime.h"
#include "mail/oneclick.h"
#include "mail/msg.h"
#include "mail/rewrite.h"
#include "pipeline/digest.h"
#include "pipeline/incoming.h"
#include "store/store.h"

/* The footer with the content-removed note under it (either may be
 * missing); newly allocated or NULL. Takes footer. */
static char *footer_with_removed(const struct conf *c,
				 const struct conf_list *l, char *footer,
				 const char *removed)
{
	struct template_var vars[TEMPLATE_LIST_VARS + 1];
	char **storage = NULL, *note = NULL, *err = NULL, *both;
	size_t n;

	n = template_list_vars(c, l, vars, &storage);
	vars[n++] = (struct template_var){ "removed", removed };
	if (template_render(c, l, "content-removed", vars, n, &note,
			    &err) < 0) {
		log_warn("list=%s: content note not added: %s", l->name, err);
		free(err);
	}
	template_vars_free(&storage);
	if (note == NULL)
		return footer;
	if (footer == NULL)
		return note;
	both = xasprintf("%s\n%s", footer, note);
	free(footer);
	free(note);
	return both;
}

/* The post as the members get it, into out: content rules, footer (with
 * a note of what the rules removed), header rewrite (Archived-At names
 * archived_at, may be NULL); and as digest members get it, into part:
 * content rules and the same From and Reply-To policy. What cannot be
 * applied is logged and left out. */
static void for_members(struct incoming *in, const char *archived_at,
			const char *marker, struct buf *out,
			struct buf *part)
{
	const struct conf *c = in->c;
	const struct conf_list *l = in->list;
	struct rewrite_params p;
	char *footer = footer_render(c, l), *removed = NULL;
	const char *err = NULL;
	struct mime_limits lim;

	mime_limits_from_conf(&lim, c);
	if (content_filter(&in->m, l, &lim, &removed) < 0)
		log_warn("list=%s message-id=<%s>: content rules not applied: "
			 "a multipart without its boundary", l->name,
			 in->logid);
	if (removed != NULL) {
		size_t nparts = 0;
		const char *q;

		for (q = removed; *q != '\0'; q++)
			nparts += *q == '\n';
		log_info("list=%s message-id=<%s>: content rules removed %zu "
			 "part(s)", l->name, in->logid, nparts);
		footer = footer_with_removed(c, l, footer, removed);
		free(removed);
	}
	rewrite_params_from_conf(&p, c, l, footer);
	p.archived_at = archived_at;
	p.unsubscribe_token = marker;
	if (l->from_munging == FROMMUNGE_DMARC && in->sender != NULL) {
		const char *at = strrchr(in->sender, '@');
		enum dmarc_policy pol = at ? dmarc_lookup(at + 1) :
					DMARC_NONE_FOUND;

		p.dmarc_strict = pol == DMARC_P_REJECT ||
				 pol == DMARC_P_QUARANTINE;
	}
	digest_part(&in->m, &p, part);
	if (rewrite_post(&in->m, &p, &err) < 0)
		log_warn("list=%s message-id=<%s>: footer not added: %s",
			 l->name, in->logid, err);
	free(footer);
	msg_write(&in->m, out);
}

int post_accept(struct store *s, struct incoming *in, int64_t message,
		int64_t *archive_r, int64_t *job_r)
{
	const struct conf *c = in->c;
	const struct conf_list *l = in->list;
	struct buf out = BUF_INIT, part = BUF_INIT;
	char *env_from, *archived_at, marker[ONECLICK_MARKER_MAX];
	int64_t archive = 0, job = 0, seq = 0;
	bool oneclick = oneclick_marker(l, marker);
	/* Archived as received, before the rewrite: its archive id goes into
	 * Archived-At. It is threaded and indexed a moment later, with the
	 * posts that came in meanwhile (archive_catch_up), not in the
	 * transaction that accepts it: that would double the pages it
	 * writes. */
	struct archive_post ap = {
		.c = c, .list = l->name, .message = message, .raw = in->raw,
		.len = in->len, .m = &in->m, .message_id = in->message_id,
		.sender = in->sender, .sender_name = in->sender_name,
		.subject = in->subject,
		/* Read by receive before the transaction (unless the bytes
		 * are new since, or were never read). */
		.text_read = in->text_of != NULL && in->text_of == in->raw,
		.text = in->text,
		.later = true,
	};
	int rc;

	*archive_r = *job_r = 0;
	if (archive_post(s, &ap, &archive, NULL) < 0)
		return -1;
	archived_at = archive_message_url(l, archive);
	for_members(in, archived_at, oneclick ? marker : NULL, &out, &part);
	free(archived_at);
	env_from = xasprintf("%s-bounces@%s", l->name, c->domain);
	rc = digest_add_post(s, l, archive, &part, &seq);
	if (rc == 0) {
		/* To the members in immediate mode as of this post. */
		struct store_job_new j = {
			.list = l->name, .kind = JOB_POST,
			.audience = AUDIENCE_IMMEDIATE, .seq_from = seq,
			.seq_to = seq, .archive = archive,
			.env_from = env_from, .data = out.data, .len = out.len,
			.token_marker = oneclick ? marker : NULL,
		};

		rc = store_job_queue(s, &j, &job);
	}
	if (rc == 0)
		rc = store_event_add(s, l->name, "post.accepted", in->sender,
				     archive, in->message_id);
	free(env_from);
	buf_free(&out);
	buf_free(&part);
	*archive_r = archive;
	*job_r = job;
	return rc;
}
