/* pipefix - a real list for the Pipeline and Delivery unit tests */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sqlite3.h>

#include "pipefix.h"
#include "base/conf.h"
#include "base/status.h"
#include "base/xalloc.h"
#include "pipeline/receive.h"
#include "store/store.h"

void pipefix_open(struct pipefix *f, const char *list_settings,
		  const char *top_settings)
{
	const char *top = getenv("top_srcdir");
	struct conf_problems problems = { 0 };
	char *path, *err = NULL;
	bool unreadable, transient;
	FILE *fp;
	size_t i;

	memset(f, 0, sizeof *f);
	snprintf(f->dir, sizeof f->dir, "/tmp/convene-unit.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	path = xasprintf("%s/convene.conf", f->dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fprintf(fp,
		"domain = \"lists.example.org\";\n"
		"database = \"convene.db\";\n"
		"templates = \"%s/templates\";\n"
		"%s\n"
		"%s\n"
		"lists = (\n"
		"  { name = \"makers\"; description = \"Makers\";\n"
		"    %s\n"
		"    leaders = [ \"alice@example.org\", \"erin@example.org\" ];\n"
		"    council = [ \"carol@example.com\" ];\n"
		"    sponsors = [ \"dana@example.org\" ];\n"
		"    %s\n"
		"  }\n"
		");\n", top != NULL ? top : "..",
		top_settings != NULL && strstr(top_settings, "outbound") ?
		"" : "outbound = { transport = \"maildir\"; path = \"outbox\"; };",
		top_settings ? top_settings : "",
		list_settings != NULL && strstr(list_settings, "policy") ?
		"" : "policy = \"members\";",
		list_settings ? list_settings : "");
	assert_int_equal(fclose(fp), 0);
	if (conf_load(path, &f->c, &problems, &unreadable) < 0) {
		for (i = 0; i < problems.n; i++)
			print_error("%s:%d: %s\n", problems.v[i].file,
				    problems.v[i].line, problems.v[i].message);
		fail_msg("the test's config does not load");
	}
	free(path);
	f->l = conf_find_list(f->c, "makers");
	assert_non_null(f->l);
	f->s = store_open(f->c->database, 5000, &err, &transient);
	if (f->s == NULL)
		fail_msg("store: %s", err);
}

void pipefix_close(struct pipefix *f)
{
	char *cmd = xasprintf("rm -rf '%s'", f->dir);

	store_close(&f->s);
	conf_free(&f->c);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	pipefix_now(0);
}

void pipefix_members(struct pipefix *f, ...)
{
	const char *a;
	va_list ap;
	bool added;

	va_start(ap, f);
	while ((a = va_arg(ap, const char *)) != NULL)
		assert_int_equal(store_member_add(f->s, "makers", a, NULL,
						  MODE_IMMEDIATE, &added), 0);
	va_end(ap);
}

char *pipefix_msg(const char *id, const char *from, const char *headers,
		  const char *body)
{
	return xasprintf("Date: Sat, 21 Nov 2026 12:00:00 +0000\n"
			 "From: %s\n"
			 "To: makers@lists.example.org\n"
			 "Subject: Test %s\n"
			 "Message-ID: <%s@example.net>\n"
			 "%s\n%s", from, id, id, headers ? headers : "",
			 body ? body : "Hello.\n");
}

enum status pipefix_receive(struct pipefix *f, const char *recipient,
			    const char *raw, enum incoming_outcome *outcome_r)
{
	struct incoming in;
	enum status st = receive_prepare(f->c, recipient, raw, strlen(raw),
					 &in);

	*outcome_r = INCOMING_REFUSED;
	if (st != ST_OK)
		return st;
	assert_int_equal(store_begin(f->s), 0);
	st = receive_stage(f->s, &in, outcome_r);
	if (st == ST_OK)
		assert_int_equal(store_commit(f->s), 0);
	else
		store_rollback(f->s);
	incoming_free(&in);
	return st;
}

static sqlite3_stmt *query(struct pipefix *f, sqlite3 **db, const char *sql)
{
	char *path = xasprintf("%s/convene.db", f->dir);
	sqlite3_stmt *st = NULL;

	assert_int_equal(sqlite3_open(path, db), SQLITE_OK);
	free(path);
	if (sqlite3_prepare_v2(*db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(*db));
	return st;
}

int64_t pipefix_sql(struct pipefix *f, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st = query(f, &db, sql);
	int64_t v = -1;

	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

char *pipefix_sql_text(struct pipefix *f, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st = query(f, &db, sql);
	char *v = NULL;

	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_text(st, 0) != NULL)
		v = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

void pipefix_now(time_t t)
{
	char v[32];

	if (t == 0) {
		unsetenv("CONVENE_NOW");
		return;
	}
	snprintf(v, sizeof v, "%lld", (long long)t);
	setenv("CONVENE_NOW", v, 1);
}
