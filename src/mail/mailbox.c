/* mailbox - one mailbox as people write it: "Name <addr>", with libetpan */
#include "autoconf.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <libetpan/libetpan.h>

#include "mail/mailbox.h"
#include "mail/etpan.h"
#include "base/addr.h"
#include "base/buf.h"
#include "base/xalloc.h"

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* A display name as the user typed it, when libetpan could not read it:
 * outer quotes removed and quoted pairs undone. */
static char *phrase_unquote(const char *s, size_t len)
{
	struct buf b = BUF_INIT;
	size_t i;

	if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
		for (i = 1; i + 1 < len; i++) {
			if (s[i] == '\\' && i + 2 < len)
				i++;
			buf_putc(&b, s[i]);
		}
	} else {
		buf_append(&b, s, len);
	}
	return buf_steal(&b, NULL);
}

/* Decodes RFC 2047 encoded words to UTF-8 and turns control bytes into
 * spaces, so that a name can never break a header line it goes into.
 * Takes ownership of `name`; returns NULL for an empty name. */
static char *name_finish(char *name)
{
	char *decoded = NULL;
	size_t idx = 0, i, start, end;

	if (strstr(name, "=?") != NULL) {
		char *pad = etpan_copy(name, strlen(name));

		if (mailmime_encoded_phrase_parse("utf-8", pad, strlen(name),
						  &idx, "utf-8", &decoded) ==
		    MAILIMF_NO_ERROR && decoded != NULL) {
			free(name);
			name = xstrdup(decoded);
			free(decoded);
		}
		free(pad);
	}
	for (i = 0; name[i] != '\0'; i++) {
		if ((unsigned char)name[i] < 32 || name[i] == 127)
			name[i] = ' ';
	}
	for (start = 0; name[start] == ' '; start++)
		;
	for (end = strlen(name); end > start && name[end - 1] == ' '; end--)
		;
	if (end == start) {
		free(name);
		return NULL;
	}
	memmove(name, name + start, end - start);
	name[end - start] = '\0';
	return name;
}

/* The display name libetpan reads from the whole line, or NULL when it reads
 * the line differently (then the caller unquotes the text itself). */
static char *etpan_name(const char *line, size_t len)
{
	struct mailimf_mailbox *mb = NULL;
	size_t idx = 0;
	char *name = NULL, *pad;
	int rc;

	/* libetpan recurses once per nested comment */
	if (etpan_comment_depth(line, len) > ETPAN_COMMENT_MAX)
		return NULL;
	pad = etpan_copy(line, len);
	rc = mailimf_mailbox_parse(pad, len, &idx, &mb);
	free(pad);
	if (rc != MAILIMF_NO_ERROR)
		return NULL;
	while (idx < len && is_wsp(line[idx]))
		idx++;
	if (idx == len && mb->mb_display_name != NULL)
		name = xstrdup(mb->mb_display_name);
	mailimf_mailbox_free(mb);
	return name;
}

/* Finds "<...>" at the end of the line, outside quotes and comments.
 * Returns the offset of '<', or -1 when there is none. */
static long angle_start(const char *s, size_t len)
{
	size_t i;
	bool quoted = false;
	int comment = 0;

	if (len == 0 || s[len - 1] != '>')
		return -1;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (quoted) {
			if (c == '\\' && i + 1 < len)
				i++;
			else if (c == '"')
				quoted = false;
		} else if (comment > 0) {
			if (c == '\\' && i + 1 < len)
				i++;
			else if (c == '(')
				comment++;
			else if (c == ')')
				comment--;
		} else if (c == '"') {
			quoted = true;
		} else if (c == '(') {
			comment++;
		} else if (c == '<') {
			return (long)i;
		}
	}
	return -1;
}

int mailbox_parse(const char *s, bool case_sensitive_local,
		  char **addr_r, char **name_r)
{
	const char *line, *spec;
	size_t len, speclen, i;
	long lt;
	char *raw, *name = NULL;

	*addr_r = NULL;
	if (name_r != NULL)
		*name_r = NULL;
	if (s == NULL)
		return -1;
	line = s;
	len = strlen(s);
	while (len > 0 && is_wsp(line[0]))
		line++, len--;
	while (len > 0 && is_wsp(line[len - 1]))
		len--;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if ((c < 32 && c != '\t') || c == 127)
			return -1;
	}
	lt = angle_start(line, len);
	if (lt >= 0) {
		spec = line + lt + 1;
		speclen = len - (size_t)lt - 2;
		while (speclen > 0 && is_wsp(spec[0]))
			spec++, speclen--;
		while (speclen > 0 && is_wsp(spec[speclen - 1]))
			speclen--;
		if (lt > 0) {
			name = etpan_name(line, len);
			if (name == NULL) {
				size_t n = (size_t)lt;

				while (n > 0 && is_wsp(line[n - 1]))
					n--;
				name = phrase_unquote(line, n);
			}
		}
	} else {
		/* A bare addr-spec, perhaps with an old-style "(Name)". */
		spec = line;
		speclen = len;
		if (len > 0 && line[len - 1] == ')') {
			const char *open = memchr(line, '(', len);

			if (open != NULL) {
				speclen = (size_t)(open - line);
				while (speclen > 0 && is_wsp(spec[speclen - 1]))
					speclen--;
				name = xstrndup(open + 1,
						(size_t)(line + len - open) - 2);
			}
		}
	}
	raw = xstrndup(spec, speclen);
	*addr_r = addr_normalize(raw, case_sensitive_local);
	free(raw);
	if (*addr_r == NULL) {
		free(name);
		return -1;
	}
	if (name != NULL)
		name = name_finish(name);
	if (name_r != NULL)
		*name_r = name;
	else
		free(name);
	return 0;
}
