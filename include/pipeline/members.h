/* members - membership from the admin's side: CSV export and import */
#ifndef CONVENE_MEMBERS_H
#define CONVENE_MEMBERS_H

#include <stdbool.h>
#include <stdio.h>

struct store;

/* The CSV header row written by export and understood by import. */
#define MEMBERS_CSV_HEADER \
	"address,name,mode,status,moderated,bounce_score,subscribed_at"

/* Writes the list's members as CSV (header row first) to out. 0 or -1 (the
 * store's error). */
int members_export(struct store *s, const char *list, FILE *out);

struct members_import_report {
	size_t lines;      /* records read (header and blank lines excluded) */
	size_t added;
	size_t existing;   /* already members */
	size_t bad;        /* lines with errors */
};

/* Imports `path`: either the CSV that export writes (recognised by its header
 * row; columns other than address are optional) or plain text, one address a
 * line ("Name <addr>" allowed, '#' comments). Every bad line is reported to
 * err with its line number. When a line is bad and `skip_bad` is false,
 * nothing is imported and -1 is returned. All additions happen in one
 * transaction. Returns 0 or -1. */
int members_import(struct store *s, const char *list, const char *path,
		   bool case_sensitive_local, bool skip_bad,
		   struct members_import_report *r, FILE *err);

#endif
