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

int members_import(struct store *s, const char *list, const char *path,
		   bool case_sensitive_local, bool skip_bad,
		   struct members_import_report *r, FILE *err)
{
	struct buf text = BUF_INIT;
	struct entry *v = NULL;
	size_t n = 0, cap = 0, lineno = 0, i;
	int col_addr = -1, col_name = -1, col_mode = -1;
	bool csv = false;
	char *line, *next;
	int ret = -1;

	memset(r, 0, sizeof *r);
	if (util_read_file(path, IMPORT_MAX, &text) < 0) {
		fprintf(err, "%s: %s\n", path, strerror(errno));
		buf_free(&text);
		return -1;
	}
	if (memchr(text.data ? text.data : "", '\0', text.len) != NULL) {
		fprintf(err, "%s: not a text file\n", path);
		buf_free(&text);
		return -1;
	}
	for (line = text.data; line != NULL; line = next) {
		char *fields[CSV_MAX_FIELDS], *addr = NULL, *name = NULL;
		enum store_mode mode = MODE_IMMEDIATE;
		int nf;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		lineno++;
		util_trim(line);
		if (*line == '\0' || *line == '#')
			continue;
		if (lineno == 1 || (!csv && r->lines == 0)) {
			char *copy = xstrdup(line);

			nf = csv_split(copy, fields, CSV_MAX_FIELDS);
			col_addr = nf > 0 ? column(fields, nf, "address") : -1;
			if (col_addr >= 0) {
				csv = true;
				col_name = column(fields, nf, "name");
				col_mode = column(fields, nf, "mode");
				free(copy);
				continue;
			}
			free(copy);
		}
		r->lines++;
		if (csv) {
			nf = csv_split(line, fields, CSV_MAX_FIELDS);
			if (nf < 0 || col_addr >= nf) {
				fprintf(err, "%s:%zu: malformed CSV record\n",
					path, lineno);
				r->bad++;
				continue;
			}
			addr = addr_normalize(util_trim(fields[col_addr]),
					      case_sensitive_local);
			if (addr == NULL) {
				fprintf(err, "%s:%zu: not a valid address: "
					"%s\n", path, lineno, fields[col_addr]);
				r->bad++;
				continue;
			}
			if (col_name >= 0 && col_name < nf &&
			    *util_trim(fields[col_name]) != '\0')
				name = xstrdup(fields[col_name]);
			if (col_mode >= 0 && col_mode < nf &&
			    *util_trim(fields[col_mode]) != '\0' &&
			    store_mode_parse(fields[col_mode], &mode) < 0) {
				fprintf(err, "%s:%zu: unknown mode: %s\n",
					path, lineno, fields[col_mode]);
				r->bad++;
				free(addr);
				free(name);
				continue;
			}
		} else if (mailbox_parse(line, case_sensitive_local,
					 &addr, &name) < 0) {
			fprintf(err, "%s:%zu: not a valid address: %s\n", path,
				lineno, line);
			r->bad++;
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			v = xreallocarray(v, cap, sizeof *v);
		}
		v[n++] = (struct entry){ addr, name, mode };
	}
	if (r->bad > 0 && !skip_bad) {
		fprintf(err, "%s: %zu bad line%s: nothing imported (use "
			"--skip-bad to import the rest)\n", path, r->bad,
			r->bad == 1 ? "" : "s");
		goto out;
	}
	if (store_begin(s) < 0)
		goto store_fail;
	for (i = 0; i < n; i++) {
		bool added;

		if (store_member_add(s, list, v[i].address, v[i].name,
				     v[i].mode, &added) < 0) {
			store_rollback(s);
			goto store_fail;
		}
		if (added)
			r->added++;
		else
			r->existing++;
	}
	if (store_commit(s) < 0) {
		store_rollback(s);
		goto store_fail;
	}
	ret = 0;
	goto out;
store_fail:
	fprintf(err, "%s: %s\n", path, store_error(s));
	r->added = r->existing = 0;
out:
	for (i = 0; i < n; i++) {
		free(v[i].address);
		free(v[i].name);
	}
	free(v);
	buf_free(&text);
	return ret;
}
