/* archive - posts archived, threaded and indexed; import, export, curation */
#include "autoconf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pipeline/archive.h"
#include "pipeline/search.h"
#include "pipeline/thread.h"
#include "base/addr.h"
#include "base/buf.h"
#include "base/conf.h"
#include "base/log.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "mail/mbox.h"
#include "mail/mime.h"
#include "mail/msg.h"
#include "mail/reply.h"
#include "store/store.h"
#include "store/store_web.h"

/* An import commits after this many messages. */
#define IMPORT_BATCH 500
/* Messages read per page when walking an archive. */
#define PAGE 200
/* A folder holds at most this many files we look at. */
#define DIR_MAX 1000000
/* archive_catch_up threads and indexes at most this many posts a
 * transaction: a few tens of milliseconds of the write lock. */
#define CATCH_UP_BATCH 100
/* A FAQ title is cut at this many bytes. */
#define TITLE_MAX 200
#define TAG_MAX 32

/* ---- one post ---- */

/* Threads and indexes archived message `id`. */
static int link_and_index(struct store *s, const struct archive_post *p,
			  int64_t id, time_t date, int64_t *thread_r)
{
	char *in_reply_to = msg_in_reply_to(p->m);
	char **refs = msg_references(p->m);
	struct mime_limits lim;
	char *text = NULL;
	struct thread_post tp = {
		.list = p->list, .archive = id, .message_id = p->message_id,
		.in_reply_to = in_reply_to,
		.references = (const char *const *)refs,
		.subject = p->subject, .date = date,
	};
	int rc;

	/* A text past the MIME limits is not indexed; its post is. */
	if (!p->text_read) {
		mime_limits_from_conf(&lim, p->c);
		text = reply_text(p->raw, p->len, &lim);
	}
	rc = thread_link(s, &tp, thread_r);

	if (rc == 0)
		rc = search_index(s, id, p->subject, p->sender, p->sender_name,
				  p->text_read ? p->text : text);
	free(text);
	free(in_reply_to);
	msg_idlist_free(&refs);
	return rc;
}

int archive_post(struct store *s, const struct archive_post *p,
		 int64_t *id_r, int64_t *thread_r)
{
	char *in_reply_to = msg_in_reply_to(p->m);
	char **refs = msg_references(p->m);
	time_t date;
	struct store_post row;
	int64_t id = 0, thread = 0;
	int rc;

	if (!msg_date(p->m, &date))
		date = util_now();
	row = (struct store_post){
		.list = p->list, .message = p->message,
		.message_id = p->message_id, .date = date,
		.sender = p->sender, .sender_name = p->sender_name,
		.subject = p->subject, .in_reply_to = in_reply_to,
		.references = (const char *const *)refs,
	};
	/* What is queued before goes first: threads come out as they would
	 * have in archive order. */
	if (!p->later)
		rc = archive_index_pending(s, p->c, SIZE_MAX, NULL);
	else
		rc = 0;
	if (rc == 0)
		rc = store_archive_add(s, &row, &id);
	free(in_reply_to);
	msg_idlist_free(&refs);
	if (rc == 0)
		rc = p->later ? store_pending_add(s, id)
			      : link_and_index(s, p, id, date, &thread);
	if (id_r != NULL)
		*id_r = id;
	if (thread_r != NULL)
		*thread_r = thread;
	return rc;
}

/* ---- import ---- */

struct importer {
	struct store *s;
	const struct conf *c;
	const struct conf_list *l;
	struct archive_import_stats *st;
	size_t in_batch;
	char *error;
	bool transient;
};

static void fnv(uint64_t *h1, uint64_t *h2, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\r')
			continue;
		*h1 = (*h1 ^ c) * 0x100000001b3ULL;
		*h2 = (*h2 ^ c) * 0x100000001b3ULL + 0x9e3779b97f4a7c15ULL;
	}
	*h1 = (*h1 ^ 0xff) * 0x100000001b3ULL;
}

/* A Message-ID for a message without one, the same for the same message
 * wherever it comes from: two FNV-1a hashes of its From, Date and Subject
 * and its body, CR left out. (What mbox writers add, Status or
 * Content-Length, must not make another id.) */
static char *stable_id(const struct msg *m, const char *domain)
{
	static const char *const fields[] = { "From", "Date", "Subject" };
	uint64_t h1 = 0xcbf29ce484222325ULL, h2 = 0x84222325cbf29ce4ULL;
	size_t i;

	for (i = 0; i < 3; i++) {
		char *v = msg_header_unfolded(m, fields[i]);

		if (v != NULL)
			fnv(&h1, &h2, v, strlen(v));
		free(v);
	}
	fnv(&h1, &h2, m->body != NULL ? m->body : "", m->body_len);
	return xasprintf("import.%016llx%016llx@%s", (unsigned long long)h1,
			 (unsigned long long)h2, domain);
}

static int import_fail(struct importer *im, const char *what)
{
	free(im->error);
	im->error = xasprintf("%s: %s", what, store_error(im->s));
	im->transient = store_transient(im->s);
	store_rollback(im->s);
	return -1;
}

/* Archives one message of an import (in the open transaction). */
static int import_one(struct importer *im, const char *raw, size_t len)
{
	const struct conf *c = im->c;
	struct msg_limits limits = {
		.max_header_bytes = (size_t)c->limits.max_header_kb * 1024,
		.max_headers = (size_t)c->limits.max_headers,
	};
	struct msg m = { 0 };
	struct archive_post p = { .c = c, .list = im->l->name, .raw = raw,
				  .len = len, .m = &m };
	char *mid = NULL, *from = NULL, *name = NULL, *sender = NULL;
	char *subject = NULL;
	bool dup;
	int rc = 0;

	if (len > (size_t)c->limits.max_message_kb * 1024) {
		im->st->too_big++;
		return 0;
	}
	if (msg_parse(&m, raw, len, &limits, NULL) != MSG_OK) {
		msg_free(&m);
		im->st->unreadable++;
		return 0;
	}
	mid = msg_message_id(&m);
	if (mid == NULL || *mid == '\0') {
		free(mid);
		mid = stable_id(&m, c->domain);
	}
	if (store_archive_has(im->s, im->l->name, mid, &dup) < 0) {
		rc = import_fail(im, "duplicate check");
		goto out;
	}
	if (dup) {
		im->st->duplicates++;
		goto out;
	}
	from = msg_first_address(&m, "From", &name);
	if (from == NULL) {
		free(name);
		name = NULL;
		from = msg_first_address(&m, "Sender", &name);
	}
	if (from != NULL) {
		sender = addr_normalize(from, c->local_part_case_sensitive);
		if (sender == NULL)
			sender = util_lower(xstrdup(from));
	}
	subject = msg_header_decoded(&m, "Subject");
	p.message_id = mid;
	p.sender = sender;
	p.sender_name = name;
	p.subject = subject;
	if (store_message_add(im->s, raw, len, &p.message) < 0 ||
	    archive_post(im->s, &p, NULL, NULL) < 0) {
		rc = import_fail(im, "archive");
		goto out;
	}
	im->st->added++;
	if (++im->in_batch >= IMPORT_BATCH) {
		im->in_batch = 0;
		if (store_commit(im->s) < 0 || store_begin(im->s) < 0)
			rc = import_fail(im, "commit");
	}
out:
	free(mid);
	free(from);
	free(name);
	free(sender);
	free(subject);
	msg_free(&m);
	return rc;
}

/* One file: an mbox, or one message. */
static int import_file(struct importer *im, const char *path)
{
	struct stat sb;
	struct mbox_reader r;
	struct buf one = BUF_INIT;
	void *map;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb) < 0) {
		free(im->error);
		im->error = xasprintf("%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(sb.st_mode) || sb.st_size == 0) {
		close(fd);
		if (S_ISREG(sb.st_mode))
			im->st->unreadable++;
		return 0;
	}
	map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		free(im->error);
		im->error = xasprintf("%s: %s", path, strerror(errno));
		return -1;
	}
	if (mbox_looks_like(map, (size_t)sb.st_size)) {
		mbox_reader_init(&r, map, (size_t)sb.st_size);
		while (rc == 0 && mbox_next(&r, &one))
			rc = import_one(im, one.data, one.len);
	} else {
		rc = import_one(im, map, (size_t)sb.st_size);
	}
	buf_free(&one);
	munmap(map, (size_t)sb.st_size);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The files of folder dir (not those starting with '.'), sorted; appended
 * to *v. */
static int list_dir(const char *dir, char ***v, size_t *n, char **error_r)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t start = *n;

	if (d == NULL) {
		*error_r = xasprintf("%s: %s", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL && *n < DIR_MAX) {
		if (e->d_name[0] == '.')
			continue;
		*v = xreallocarray(*v, *n + 1, sizeof **v);
		(*v)[(*n)++] = xasprintf("%s/%s", dir, e->d_name);
	}
	closedir(d);
	qsort(*v + start, *n - start, sizeof **v, cmp_str);
	return 0;
}

static bool is_dir(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

int archive_import(struct store *s, const struct conf *c,
		   const struct conf_list *l, const char *path,
		   struct archive_import_stats *st, char **error_r,
		   bool *transient_r)
{
	struct importer im = { s, c, l, st, 0, NULL, false };
	char **files = NULL, *cur, *new;
	size_t n = 0, i;
	int rc = 0;

	memset(st, 0, sizeof *st);
	*transient_r = false;
	*error_r = NULL;
	if (is_dir(path)) {
		cur = xasprintf("%s/cur", path);
		new = xasprintf("%s/new", path);
		if (is_dir(cur) || is_dir(new)) {
			/* A Maildir: cur/ and new/ */
			if (is_dir(cur))
				rc = list_dir(cur, &files, &n, error_r);
			if (rc == 0 && is_dir(new))
				rc = list_dir(new, &files, &n, error_r);
		} else {
			rc = list_dir(path, &files, &n, error_r);
		}
		free(cur);
		free(new);
	} else {
		files = xcalloc(1, sizeof *files);
		files[n++] = xstrdup(path);
	}
	if (rc == 0 && store_begin(s) < 0) {
		*error_r = xasprintf("begin: %s", store_error(s));
		*transient_r = store_transient(s);
		rc = -1;
	}
	for (i = 0; rc == 0 && i < n; i++)
		rc = import_file(&im, files[i]);
	if (rc == 0 && store_event_add(s, l->name, "archive.imported", NULL,
				       (int64_t)st->added, path) < 0)
		rc = import_fail(&im, "log event");
	if (rc == 0 && store_commit(s) < 0)
		rc = import_fail(&im, "commit");
	if (rc < 0) {
		store_rollback(s);
		if (*error_r == NULL)
			*error_r = im.error != NULL ? im.error :
				   xstrdup("import failed");
		else
			free(im.error);
		*transient_r = im.transient;
	}
	for (i = 0; i < n; i++)
		free(files[i]);
	free(files);
	return rc;
}

/* ---- walking the whole archive ---- */

/* Calls fn for each archived message of list in date order. */
static int each_message(struct store *s, const char *list,
			int (*fn)(struct store *s, const struct store_archive_ref
				  *ref, void *ctx), void *ctx)
{
	struct store_archive_ref *v = NULL;
	time_t after_date = -1;
	int64_t after_id = 0;
	size_t n, i;
	int rc = 0;

	/* Dates before 1970 are not archived (util_now stands in). */
	after_date = -1;
	do {
		if (store_archive_page(s, list, after_date, after_id, PAGE, &v,
				       &n) < 0)
			return -1;
		for (i = 0; rc == 0 && i < n; i++)
			rc = fn(s, &v[i], ctx);
		if (n > 0) {
			after_date = v[n - 1].date;
			after_id = v[n - 1].id;
		}
		free(v);
	} while (rc == 0 && n == PAGE);
	return rc;
}

struct exporter {
	FILE *out;
	size_t n;
	struct buf b;
};

static int export_one(struct store *s, const struct store_archive_ref *ref,
		      void *ctx)
{
	struct exporter *ex = ctx;
	struct store_archived a = { 0 };
	char *raw = NULL;
	size_t len = 0;
	bool found;

	if (store_archive_get(s, ref->id, &a, &found) < 0 ||
	    store_message_get(s, ref->message, &raw, &len) < 0) {
		store_archived_clear(&a);
		return -1;
	}
	buf_reset(&ex->b);
	mbox_write(&ex->b, a.sender, ref->date, raw, len);
	free(raw);
	store_archived_clear(&a);
	if (fwrite(ex->b.data, 1, ex->b.len, ex->out) != ex->b.len)
		return -1;
	ex->n++;
	return 0;
}

int archive_export(struct store *s, const struct conf_list *l, FILE *out,
		   size_t *n_r)
{
	struct exporter ex = { out, 0, BUF_INIT };
	int rc = each_message(s, l->name, export_one, &ex);

	buf_free(&ex.b);
	*n_r = ex.n;
	if (rc == 0 && fflush(out) != 0)
		rc = -1;
	return rc;
}

struct rebuilder {
	const struct conf *c;
	size_t n;
};

/* Threads and indexes archived message `id` from its stored bytes;
 * *done_r tells whether it parsed (one that no longer does, or is gone,
 * keeps its row unthreaded and unindexed). */
static int index_stored(struct store *s, const struct conf *c, int64_t id,
			bool *done_r)
{
	struct msg_limits limits = {
		.max_header_bytes = (size_t)c->limits.max_header_kb * 1024,
		.max_headers = (size_t)c->limits.max_headers,
	};
	struct store_archived a = { 0 };
	struct msg m = { 0 };
	struct archive_post p = { 0 };
	char *raw = NULL;
	size_t len = 0;
	int64_t thread;
	bool found;
	int rc = -1;

	*done_r = false;
	if (store_archive_get(s, id, &a, &found) < 0 ||
	    (found && store_message_get(s, a.message, &raw, &len) < 0))
		goto out;
	if (!found || msg_parse(&m, raw, len, &limits, NULL) != MSG_OK) {
		rc = 0;
		goto out;
	}
	p = (struct archive_post){
		.c = c, .list = a.list, .message = a.message, .raw = raw,
		.len = len,
		.m = &m, .message_id = a.message_id, .sender = a.sender,
		.sender_name = a.sender_name, .subject = a.subject,
	};
	rc = link_and_index(s, &p, a.id, a.date, &thread);
	*done_r = rc == 0;
out:
	msg_free(&m);
	free(raw);
	store_archived_clear(&a);
	return rc;
}

static int rebuild_one(struct store *s, const struct store_archive_ref *ref,
		       void *ctx)
{
	struct rebuilder *rb = ctx;
	bool done;
	int rc = index_stored(s, rb->c, ref->id, &done);

	if (done)
		rb->n++;
	return rc;
}

int archive_index_pending(struct store *s, const struct conf *c, size_t max,
			  size_t *n_r)
{
	size_t total = 0;
	int rc = 0;

	while (rc == 0 && total < max) {
		int64_t *ids = NULL;
		size_t n = 0, i;

		rc = store_pending_next(s, max - total < PAGE ? max - total
							     : PAGE, &ids, &n);
		for (i = 0; rc == 0 && i < n; i++) {
			bool done;

			rc = index_stored(s, c, ids[i], &done);
			if (rc == 0)
				rc = store_pending_remove(s, ids[i]);
		}
		free(ids);
		total += n;
		if (n == 0)
			break;
	}
	if (n_r != NULL)
		*n_r = total;
	return rc;
}

int archive_catch_up(struct store *s, const struct conf *c, size_t max,
		     size_t *n_r)
{
	int64_t waiting = 0;
	size_t n = 0, total = 0;

	if (n_r != NULL)
		*n_r = 0;
	/* A read first: nothing waiting takes no write lock. */
	if (store_pending_count(s, &waiting) < 0)
		return -1;
	while (waiting > 0 && total < max) {
		size_t batch = max - total < CATCH_UP_BATCH ? max - total
							    : CATCH_UP_BATCH;

		int rc;

		if (store_begin(s) < 0)
			return -1;
		/* One full-text segment for the batch, not one a post (the
		 * commit inserts the rows; a rollback drops them). */
		store_fts_defer(s, true);
		rc = archive_index_pending(s, c, batch, &n);
		store_fts_defer(s, false);
		if (rc < 0 || store_commit(s) < 0) {
			store_rollback(s);
			return -1;
		}
		total += n;
		if (n < batch)
			break;
	}
	if (n_r != NULL)
		*n_r = total;
	return 0;
}

int archive_rebuild(struct store *s, const struct conf *c,
		    const struct conf_list *l, size_t *n_r)
{
	struct rebuilder rb = { c, 0 };
	struct store_thread *old = NULL;
	size_t nold = 0, i;
	int rc;

	*n_r = 0;
	if (store_begin(s) < 0)
		return -1;
	/* What waits is threaded now: the rebuild below does it again, and
	 * nothing is left to be added twice. */
	rc = archive_index_pending(s, c, SIZE_MAX, NULL);
	/* Resolved threads stay resolved: their ids are message ids. */
	if (rc == 0)
		rc = store_threads_latest(s, l->name,
					  (size_t)STORE_TREE_MAX * 10, 0,
					  &old, &nold);
	if (rc == 0)
		rc = store_archive_reset(s, l->name);
	/* New thread ids: the web pages are rendered anew. */
	if (rc == 0)
		rc = store_web_forget(s, l->name);
	if (rc == 0)
		rc = each_message(s, l->name, rebuild_one, &rb);
	for (i = 0; rc == 0 && i < nold; i++) {
		int64_t t;
		bool found, changed;

		if (old[i].resolved_at == 0)
			continue;
		rc = thread_resolve(s, l->name, old[i].id, &t, &found);
		if (rc == 0 && found)
			rc = store_thread_resolve(s, t, old[i].resolved_by,
						  old[i].resolved_at,
						  &changed);
	}
	store_threads_free(&old, nold);
	if (rc == 0)
		rc = store_commit(s);
	if (rc < 0) {
		store_rollback(s);
		return -1;
	}
	*n_r = rb.n;
	return 0;
}

/* ---- reading ---- */

int archive_may_read(struct store *s, const struct conf_list *l,
		     const char *address, bool *ok_r, bool *member_r)
{
	struct store_member m = { 0 };
	bool officer, member = false;

	*ok_r = false;
	if (member_r != NULL)
		*member_r = false;
	if (address == NULL)
		return 0;
	officer = conf_list_is_leader(l, address) ||
		  conf_list_is_sponsor(l, address) ||
		  conf_list_is_council(l, address);
	if (!officer) {
		if (store_member_get(s, l->name, address, &m, &member) < 0)
			return -1;
		store_member_clear(&m);
	}
	if (member_r != NULL)
		*member_r = officer || member;
	switch (l->archive_access) {
	case ARCHIVE_PUBLIC:
		*ok_r = true;
		break;
	case ARCHIVE_MEMBERS:
		*ok_r = officer || member;
		break;
	case ARCHIVE_PRIVATE:
		*ok_r = officer;
		break;
	}
	return 0;
}

bool archive_may_curate(const struct conf_list *l, const char *address)
{
	return address != NULL && conf_list_is_leader(l, address);
}

int archive_latest(struct store *s, const struct conf_list *l, size_t limit,
		   struct store_thread **v_r, size_t *n_r)
{
	return store_threads_latest(s, l->name, limit, 0, v_r, n_r);
}

int archive_faq(struct store *s, const struct conf_list *l, time_t since,
		struct store_faq **v_r, size_t *n_r)
{
	return store_faq_list(s, l->name, since, 1000, v_r, n_r);
}

char *archive_message_url(const struct conf_list *l, int64_t id)
{
	size_t n;

	if (l->archive_url == NULL || *l->archive_url == '\0' || id <= 0)
		return NULL;
	n = strlen(l->archive_url);
	return xasprintf("%s%smsg/%lld.html", l->archive_url,
			 l->archive_url[n - 1] == '/' ? "" : "/",
			 (long long)id);
}

/* ---- curation ---- */

/* A FAQ title on one line: control bytes made spaces, cut at TITLE_MAX
 * bytes on a character boundary; NULL when empty. */
static char *clean_title(const char *t)
{
	struct buf b = BUF_INIT;
	const char *p;
	char *r;

	if (t == NULL)
		return NULL;
	for (p = t; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (b.len >= TITLE_MAX && (c & 0xc0) != 0x80)
			break;
		buf_putc(&b, c < 32 || c == 127 ? ' ' : (char)c);
	}
	r = util_trim(buf_steal(&b, NULL));
	if (*r == '\0') {
		free(r);
		return NULL;
	}
	return r;
}

static bool tag_ok(const char *t)
{
	size_t n = t != NULL ? strlen(t) : 0;

	return n >= 1 && n <= TAG_MAX &&
	       strspn(t, "abcdefghijklmnopqrstuvwxyz0123456789-_") == n;
}

int archive_curate(struct store *s, const struct conf_list *l,
		   enum archive_curation what, int64_t id, const char *arg,
		   const char *by, enum archive_curated *result_r)
{
	struct store_archived a = { 0 };
	char *text = NULL;
	const char *event = NULL;
	int64_t thread = 0, ref = id;
	bool found = false, changed = false;
	int rc = 0;

	*result_r = CURATED_NOT_FOUND;
	if (what == CURATE_RESOLVED) {
		if (thread_resolve(s, l->name, id, &thread, &found) < 0)
			return -1;
	} else {
		if (store_archive_get(s, id, &a, &found) < 0)
			return -1;
		found = found && a.list != NULL && strcmp(a.list, l->name) == 0;
		store_archived_clear(&a);
	}
	if (!found)
		return 0;
	switch (what) {
	case CURATE_FAQ:
		text = clean_title(arg);
		rc = store_faq_set(s, l->name, id, text, by, util_now(),
				   &changed);
		event = "archive.faq";
		break;
	case CURATE_RESOLVED:
		rc = store_thread_resolve(s, thread, by, util_now(), &changed);
		event = "archive.resolved";
		ref = thread;
		break;
	case CURATE_TAG:
		text = arg != NULL ? util_lower(xstrdup(arg)) : NULL;
		if (!tag_ok(text)) {
			free(text);
			*result_r = CURATED_BAD_TAG;
			return 0;
		}
		rc = store_tag_add(s, id, text, by, util_now(), &changed);
		event = "archive.tag";
		break;
	}
	if (rc == 0)
		rc = store_event_add(s, l->name, event, by, ref, text);
	free(text);
	*result_r = changed ? CURATED : CURATED_ALREADY;
	return rc;
}
