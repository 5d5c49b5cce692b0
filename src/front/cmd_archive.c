/* cmd_archive - a list's archive from the command line: read, search,
 * export, import, rebuild, curate */
#include "autoconf.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/conf.h"
#include "base/log.h"
#include "base/status.h"
#include "base/xalloc.h"
#include "front/front.h"
#include "pipeline/archive.h"
#include "pipeline/render.h"
#include "pipeline/retrieve.h"
#include "pipeline/search.h"
#include "pipeline/thread.h"
#include "store/store.h"
#include "store/store_archive.h"

static const char usage_text[] =
	"usage: convene archive LIST search QUERY...\n"
	"       convene archive LIST show ID\n"
	"       convene archive LIST thread ID\n"
	"       convene archive LIST index [N]\n"
	"       convene archive LIST faq\n"
	"       convene archive LIST export [--mbox FILE]\n"
	"       convene archive LIST import FILE|DIR\n"
	"       convene archive LIST rebuild\n"
	"       convene archive LIST render [DIR]\n"
	"       convene archive LIST faq ID [TITLE]|resolved ID|tag ID WORD\n";

static enum status do_search(struct store *s, const struct conf *c,
			     const struct conf_list *l, int argc, char **argv)
{
	struct buf q = BUF_INIT, why = BUF_INIT;
	struct search_query sq;
	struct search_result r;
	enum search_error e;
	int i;
	size_t k;

	for (i = 0; i < argc; i++)
		buf_printf(&q, "%s%s", i > 0 ? " " : "", argv[i]);
	e = search_parse(buf_cstr(&q), q.len, &sq);
	buf_free(&q);
	if (e != SEARCH_OK) {
		char max[24];

		snprintf(max, sizeof max, "%d", SEARCH_QUERY_MAX);
		retrieve_line(c, l, &why, search_error_key(e), "limit", max,
			      NULL);
		fprintf(stderr, "convene: %s", buf_cstr(&why));
		buf_free(&why);
		return ST_USAGE;
	}
	if (search_run(s, l->name, &sq, SEARCH_RESULTS_MAX, &r) < 0) {
		search_query_free(&sq);
		return front_store_failed(s);
	}
	printf("thread\tmessage\tdate\tmatches\tmessages\tfrom\tsubject\t"
	       "excerpt\n");
	for (k = 0; k < r.n; k++) {
		char date[32], a[160], b[200], d[240];

		front_time(r.v[k].date, date);
		printf("%lld\t%lld\t%s\t%lld\t%lld\t%s\t%s\t%s\n",
		       (long long)r.v[k].thread, (long long)r.v[k].archive, date,
		       (long long)r.v[k].matches, (long long)r.v[k].messages,
		       front_safe(a, sizeof a, r.v[k].sender_name),
		       front_safe(b, sizeof b, r.v[k].subject),
		       front_safe(d, sizeof d, r.v[k].excerpt));
	}
	fprintf(stderr, "%lld threads (%lld messages) match %s\n",
		(long long)r.threads, (long long)r.messages, sq.shown);
	search_result_free(&r);
	search_query_free(&sq);
	return ST_OK;
}

static enum status do_show(struct store *s, const struct conf_list *l,
			   int64_t id)
{
	struct store_archived a = { 0 };
	char date[32], b[400], *raw = NULL, *tags = NULL;
	size_t len = 0;
	bool found;

	if (store_archive_get(s, id, &a, &found) < 0)
		return front_store_failed(s);
	if (!found || a.list == NULL || strcmp(a.list, l->name) != 0) {
		store_archived_clear(&a);
		fprintf(stderr, "convene: no message %lld in the archive of "
			"%s\n", (long long)id, l->name);
		return ST_NOUSER;
	}
	if (store_message_get(s, a.message, &raw, &len) < 0 ||
	    store_tags_get(s, id, &tags) < 0) {
		store_archived_clear(&a);
		free(raw);
		return front_store_failed(s);
	}
	front_time(a.date, date);
	printf("id: %lld\nthread: %lld\nparent: %lld\ndate: %s\n",
	       (long long)a.id, (long long)a.thread, (long long)a.parent,
	       date);
	printf("message_id: %s\n", front_safe(b, sizeof b, a.message_id));
	printf("sender: %s\n", front_safe(b, sizeof b, a.sender));
	printf("subject: %s\n", front_safe(b, sizeof b, a.subject));
	printf("tags: %s\n\n", tags);
	fwrite(raw, 1, len, stdout);
	free(raw);
	free(tags);
	store_archived_clear(&a);
	return ST_OK;
}

static enum status do_thread(struct store *s, const struct conf_list *l,
			     int64_t id)
{
	struct thread_entry *v = NULL;
	int64_t thread;
	size_t n = 0, i;
	bool found;

	if (thread_resolve(s, l->name, id, &thread, &found) < 0)
		return front_store_failed(s);
	if (!found) {
		fprintf(stderr, "convene: no thread or message %lld in the "
			"archive of %s\n", (long long)id, l->name);
		return ST_NOUSER;
	}
	if (thread_list(s, thread, false, &v, &n) < 0)
		return front_store_failed(s);
	printf("id\tparent\tdepth\tdate\tsender\tsubject\n");
	for (i = 0; i < n; i++) {
		char date[32], a[160], b[200];

		front_time(v[i].date, date);
		printf("%lld\t%lld\t%d\t%s\t%s\t%s\n", (long long)v[i].archive,
		       (long long)v[i].parent, v[i].depth, date,
		       front_safe(a, sizeof a, v[i].sender),
		       front_safe(b, sizeof b, v[i].subject));
	}
	fprintf(stderr, "thread %lld: ", (long long)thread);
	front_counted(n, "message", "messages");
	thread_entries_free(&v, n);
	return ST_OK;
}

static enum status do_index(struct store *s, const struct conf_list *l,
			    size_t limit)
{
	struct store_thread *v = NULL;
	size_t n = 0, i;

	if (archive_latest(s, l, limit, &v, &n) < 0)
		return front_store_failed(s);
	printf("thread\tlast\tmessages\tresolved\tsubject\n");
	for (i = 0; i < n; i++) {
		char date[32], b[200];

		front_time(v[i].last_date, date);
		printf("%lld\t%s\t%lld\t%s\t%s\n", (long long)v[i].id, date,
		       (long long)v[i].messages,
		       v[i].resolved_at != 0 ? "yes" : "no",
		       front_safe(b, sizeof b, v[i].subject));
	}
	store_threads_free(&v, n);
	return ST_OK;
}

static enum status do_faq(struct store *s, const struct conf_list *l)
{
	struct store_faq *v = NULL;
	size_t n = 0, i;

	if (archive_faq(s, l, 0, &v, &n) < 0)
		return front_store_failed(s);
	printf("message\tthread\tadded\tadded_by\ttitle\n");
	for (i = 0; i < n; i++) {
		char date[32], a[160], b[200];

		front_time(v[i].added_at, date);
		printf("%lld\t%lld\t%s\t%s\t%s\n", (long long)v[i].archive,
		       (long long)v[i].thread, date,
		       front_safe(a, sizeof a, v[i].added_by),
		       front_safe(b, sizeof b, v[i].title ? v[i].title :
			    v[i].subject));
	}
	store_faq_free(&v, n);
	return ST_OK;
}

static enum status do_export(struct store *s, const struct conf_list *l,
			     const char *path)
{
	FILE *out = stdout;
	size_t n = 0;
	int rc;

	if (path != NULL && (out = fopen(path, "w")) == NULL) {
		fprintf(stderr, "convene: %s: %s\n", path, strerror(errno));
		return ST_TEMPFAIL;
	}
	errno = 0;
	rc = archive_export(s, l, out, &n);
	if (out != stdout && fclose(out) != 0)
		rc = -1;
	if (rc < 0) {
		if (errno != 0)
			fprintf(stderr, "convene: export: %s\n",
				strerror(errno));
		else
			return front_store_failed(s);
		return ST_TEMPFAIL;
	}
	front_counted(n, "message exported", "messages exported");
	return ST_OK;
}

static enum status do_import(struct store *s, const struct conf *c,
			     const struct conf_list *l, const char *path)
{
	struct archive_import_stats st;
	char *err = NULL;
	bool transient;

	if (archive_import(s, c, l, path, &st, &err, &transient) < 0) {
		fprintf(stderr, "convene: import: %s\n", err);
		free(err);
		return transient ? ST_TEMPFAIL : ST_DATAERR;
	}
	printf("imported %zu, already archived %zu, not messages %zu, "
	       "too big %zu\n", st.added, st.duplicates, st.unreadable,
	       st.too_big);
	return ST_OK;
}

/* Who the CLI's curation is recorded as. */
static char *actor(void)
{
	struct passwd *pw = getpwuid(getuid());

	return xasprintf("cli:%s", pw != NULL ? pw->pw_name : "unknown");
}

static enum status do_curate(struct store *s, const struct conf_list *l,
			     enum archive_curation what, int64_t id,
			     const char *arg)
{
	static const char *const names[] = { "faq", "resolved", "tag" };
	enum archive_curated res;
	char *who = actor();
	int rc;

	rc = store_begin(s);
	if (rc == 0)
		rc = archive_curate(s, l, what, id, arg, who, &res);
	if (rc == 0)
		rc = store_commit(s);
	free(who);
	if (rc < 0) {
		store_rollback(s);
		return front_store_failed(s);
	}
	switch (res) {
	case CURATED:
		printf("%s %lld: done\n", names[what], (long long)id);
		return ST_OK;
	case CURATED_ALREADY:
		printf("%s %lld: already so\n", names[what], (long long)id);
		return ST_OK;
	case CURATED_NOT_FOUND:
		fprintf(stderr, "convene: no message %lld in the archive of "
			"%s\n", (long long)id, l->name);
		return ST_NOUSER;
	case CURATED_BAD_TAG:
		fprintf(stderr, "convene: a tag is 1 to 32 of a-z 0-9 - _\n");
		return ST_USAGE;
	}
	return ST_OK;
}

/* The verbs that take one id (and maybe more words). */
static enum status run_id_verb(struct store *s, const struct conf_list *l,
			       const char *verb, int argc, char **argv)
{
	struct buf title = BUF_INIT;
	int64_t id;
	enum status st = ST_USAGE;
	int i;

	if (argc < 1 || front_parse_id(argv[0], &id) < 0)
		goto usage;
	if (strcmp(verb, "show") == 0 && argc == 1)
		return do_show(s, l, id);
	if (strcmp(verb, "thread") == 0 && argc == 1)
		return do_thread(s, l, id);
	if (strcmp(verb, "resolved") == 0 && argc == 1)
		return do_curate(s, l, CURATE_RESOLVED, id, NULL);
	if (strcmp(verb, "tag") == 0 && argc == 2)
		return do_curate(s, l, CURATE_TAG, id, argv[1]);
	if (strcmp(verb, "faq") == 0) {
		for (i = 1; i < argc; i++)
			buf_printf(&title, "%s%s", i > 1 ? " " : "", argv[i]);
		st = do_curate(s, l, CURATE_FAQ, id,
			       title.len > 0 ? buf_cstr(&title) : NULL);
		buf_free(&title);
		return st;
	}
usage:
	fputs(usage_text, stderr);
	return ST_USAGE;
}

static enum status do_render(struct store *s, const struct conf *c,
			     const struct conf_list *l, const char *dir)
{
	struct render_stats st;
	struct timespec t0, t1;
	char *err = NULL;
	bool transient;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (render_all(s, c, l, dir, &st, &err, &transient) < 0) {
		fprintf(stderr, "convene: %s\n", err);
		free(err);
		return transient ? ST_TEMPFAIL : ST_CONFIG;
	}
	if (dir == NULL &&
	    render_lists_page(c, c->web.dir, &err) < 0) {
		fprintf(stderr, "convene: %s\n", err);
		free(err);
		return ST_TEMPFAIL;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("rendered %zu messages, %zu threads, %zu months into %s/%s "
	       "in %.2f s\n", st.messages, st.threads, st.months,
	       dir != NULL ? dir : c->web.dir, l->name,
	       (double)(t1.tv_sec - t0.tv_sec) +
	       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	return ST_OK;
}

static enum status run(struct store *s, const struct conf *c,
		       const struct conf_list *l, int argc, char **argv)
{
	const char *verb = argv[0];
	size_t n = 0;

	if (strcmp(verb, "search") == 0 && argc >= 2)
		return do_search(s, c, l, argc - 1, argv + 1);
	if (strcmp(verb, "index") == 0 && argc <= 2) {
		int64_t limit = 20;

		if (argc == 2 && front_parse_id(argv[1], &limit) < 0)
			goto usage;
		return do_index(s, l, (size_t)limit);
	}
	if (strcmp(verb, "faq") == 0 && argc == 1)
		return do_faq(s, l);
	if (strcmp(verb, "export") == 0 && argc == 1)
		return do_export(s, l, NULL);
	if (strcmp(verb, "export") == 0 && argc == 3 &&
	    strcmp(argv[1], "--mbox") == 0)
		return do_export(s, l, argv[2]);
	if (strcmp(verb, "import") == 0 && argc == 2)
		return do_import(s, c, l, argv[1]);
	if (strcmp(verb, "rebuild") == 0 && argc == 1) {
		if (archive_rebuild(s, c, l, &n) < 0)
			return front_store_failed(s);
		printf("rebuilt threads and index of %zu message%s\n", n,
		       n == 1 ? "" : "s");
		return ST_OK;
	}
	if (strcmp(verb, "render") == 0 && argc <= 2)
		return do_render(s, c, l, argc == 2 ? argv[1] : NULL);
	if (strcmp(verb, "show") == 0 || strcmp(verb, "thread") == 0 ||
	    strcmp(verb, "faq") == 0 || strcmp(verb, "resolved") == 0 ||
	    strcmp(verb, "tag") == 0)
		return run_id_verb(s, l, verb, argc - 1, argv + 1);
usage:
	fputs(usage_text, stderr);
	return ST_USAGE;
}

int cmd_archive(int argc, char **argv, const char *config)
{
	struct conf *c = NULL;
	struct store *s = NULL;
	const struct conf_list *l;
	enum status st;

	if (argc < 3) {
		fputs(usage_text, stderr);
		return status_to_exit(ST_USAGE);
	}
	st = front_open_list(config, argv[1], &c, &l, &s);
	if (st != ST_OK)
		return status_to_exit(st);
	st = run(s, c, l, argc - 2, argv + 2);
	store_close(&s);
	conf_free(&c);
	return status_to_exit(st);
}
