/* members - membership from the admin's side: CSV export and import */
#include "autoconf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/members.h"
#include "base/addr.h"
#include "base/buf.h"
#include "mail/mailbox.h"
#include "store/store.h"
#include "base/util.h"
#include "base/xalloc.h"

#define IMPORT_MAX (256L * 1024 * 1024)
#define CSV_MAX_FIELDS 16

/* One CSV field, quoted when it needs to be (RFC 4180). */
static void csv_field(FILE *out, const char *v)
{
	const char *p;

	if (v == NULL)
		return;
	if (strpbrk(v, ",\"\r\n") == NULL) {
		fputs(v, out);
		return;
	}
	fputc('"', out);
	for (p = v; *p; p++) {
		if (*p == '"')
			fputc('"', out);
		fputc(*p, out);
	}
	fputc('"', out);
}

static int export_one(const struct store_member *m, void *ctx)
{
	FILE *out = ctx;

	csv_field(out, m->address);
	fputc(',', out);
	csv_field(out, m->name);
	fprintf(out, ",%s,%s,%d,%.2f,%lld\n", store_mode_name(m->mode),
		store_member_status_name(m->status), m->moderated ? 1 : 0,
		m->bounce_score, (long long)m->subscribed_at);
	return 0;
}

int members_export(struct store *s, const char *list, FILE *out)
{
	fputs(MEMBERS_CSV_HEADER "\n", out);
	return store_member_foreach(s, list, export_one, out);
}

/* Splits one CSV record in place. Returns the number of fields, or -1 for
 * an unterminated quote. */
static int csv_split(char *line, char **fields, int max)
{
	int n = 0;
	char *r = line, *w;

	for (;;) {
		if (n == max)
			return n;
		fields[n++] = w = r;
		if (*r == '"') {
			r++;
			for (;;) {
				if (*r == '\0')
					return -1;
				if (*r == '"' && r[1] == '"') {
					*w++ = '"';
					r += 2;
				} else if (*r == '"') {
					r++;
					break;
				} else {
					*w++ = *r++;
				}
			}
			while (*r != ',' && *r != '\0')
				r++;
		} else {
			while (*r != ',' && *r != '\0')
				*w++ = *r++;
		}
		if (*r == '\0') {
			*w = '\0';
			return n;
		}
		r++;
		*w = '\0';
	}
}

struct entry {
	char *address, *name;
	enum store_mode mode;
};

static int column(char **fields, int n, const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (util_streq_ci(util_trim(fields[i]), name))
			return i;
	return -1;
}

/* An import being read: where, how, what so far. */
struct import {
	const char *path;
	FILE *err;
	bool case_sensitive_local;
	struct members_import_report *r;
	bool csv;
	int col_addr, col_name, col_mode;
	struct entry *v;
	size_t n, cap;
};

/* Whether line is the CSV header row (its columns are then noted). */
static bool header_row(struct import *im, const char *line)
{
	char *fields[CSV_MAX_FIELDS], *copy = xstrdup(line);
	int nf = csv_split(copy, fields, CSV_MAX_FIELDS);

	im->col_addr = nf > 0 ? column(fields, nf, "address") : -1;
	if (im->col_addr >= 0) {
		im->csv = true;
		im->col_name = column(fields, nf, "name");
		im->col_mode = column(fields, nf, "mode");
	}
	free(copy);
	return im->csv;
}

/* One CSV record into e; -1 (told, counted) when it is bad. */
static int csv_record(struct import *im, char *line, size_t lineno,
		      struct entry *e)
{
	char *fields[CSV_MAX_FIELDS];
	int nf = csv_split(line, fields, CSV_MAX_FIELDS);
	const char *bad = NULL, *what = "";

	if (nf < 0 || im->col_addr >= nf) {
		bad = "malformed CSV record";
	} else {
		e->address = addr_normalize(util_trim(fields[im->col_addr]),
					    im->case_sensitive_local);
		if (e->address == NULL) {
			bad = "not a valid address: ";
			what = fields[im->col_addr];
		} else if (im->col_name >= 0 && im->col_name < nf &&
			   *util_trim(fields[im->col_name]) != '\0') {
			e->name = xstrdup(fields[im->col_name]);
		}
	}
	if (bad == NULL && im->col_mode >= 0 && im->col_mode < nf &&
	    *util_trim(fields[im->col_mode]) != '\0' &&
	    store_mode_parse(fields[im->col_mode], &e->mode) < 0) {
		bad = "unknown mode: ";
		what = fields[im->col_mode];
	}
	if (bad == NULL)
		return 0;
	fprintf(im->err, "%s:%zu: %s%s\n", im->path, lineno, bad, what);
	im->r->bad++;
	xfree(&e->address);
	xfree(&e->name);
	return -1;
}

/* One line of the file (NUL-terminated, trimmed, not blank). */
static void import_line(struct import *im, char *line, size_t lineno)
{
	struct entry e = { NULL, NULL, MODE_IMMEDIATE };

	if ((lineno == 1 || (!im->csv && im->r->lines == 0)) &&
	    header_row(im, line))
		return;
	im->r->lines++;
	if (im->csv) {
		if (csv_record(im, line, lineno, &e) < 0)
			return;
	} else if (mailbox_parse(line, im->case_sensitive_local, &e.address,
				 &e.name) < 0) {
		fprintf(im->err, "%s:%zu: not a valid address: %s\n",
			im->path, lineno, line);
		im->r->bad++;
		return;
	}
	if (im->n == im->cap) {
		im->cap = im->cap ? im->cap * 2 : 64;
		im->v = xreallocarray(im->v, im->cap, sizeof *im->v);
	}
	im->v[im->n++] = e;
}

/* Adds the entries read, in one transaction. 0 or -1 (told). */
static int import_add(struct store *s, const char *list, struct import *im)
{
	size_t i;

	if (store_begin(s) < 0)
		goto fail;
	for (i = 0; i < im->n; i++) {
		bool added;

		if (store_member_add(s, list, im->v[i].address,
				     im->v[i].name, im->v[i].mode,
				     &added) < 0)
			goto fail;
		if (added)
			im->r->added++;
		else
			im->r->existing++;
	}
	if (store_commit(s) < 0)
		goto fail;
	return 0;
fail:
	store_rollback(s);
	fprintf(im->err, "%s: %s\n", im->path, store_error(s));
	im->r->added = im->r->existing = 0;
	return -1;
}

int members_import(struct store *s, const char *list, const char *path,
		   bool case_sensitive_local, bool skip_bad,
		   struct members_import_report *r, FILE *err)
{
	struct import im = {
		.path = path, .err = err, .r = r,
		.case_sensitive_local = case_sensitive_local,
		.col_addr = -1, .col_name = -1, .col_mode = -1,
	};
	struct buf text = BUF_INIT;
	size_t lineno = 0, i;
	char *line, *next;
	int ret = -1;

	memset(r, 0, sizeof *r);
	if (util_read_file(path, IMPORT_MAX, &text) < 0) {
		fprintf(err, "%s: %s\n", path, strerror(errno));
		goto out;
	}
	if (memchr(text.data ? text.data : "", '\0', text.len) != NULL) {
		fprintf(err, "%s: not a text file\n", path);
		goto out;
	}
	for (line = text.data; line != NULL; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		lineno++;
		util_trim(line);
		if (*line != '\0' && *line != '#')
			import_line(&im, line, lineno);
	}
	if (r->bad > 0 && !skip_bad)
		fprintf(err, "%s: %zu bad line%s: nothing imported (use "
			"--skip-bad to import the rest)\n", path, r->bad,
			r->bad == 1 ? "" : "s");
	else
		ret = import_add(s, list, &im);
out:
	for (i = 0; i < im.n; i++) {
		free(im.v[i].address);
		free(im.v[i].name);
	}
	free(im.v);
	buf_free(&text);
	return ret;
}
