/* etpan - the one door to libetpan's parsers */
#include "autoconf.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "mail/etpan.h"
#include "base/buf.h"
#include "base/xalloc.h"

char *etpan_copy(const char *s, size_t n)
{
	char *p = xmalloc(n + ETPAN_PAD);

	if (n > 0)
		memcpy(p, s, n);
	memset(p + n, 0, ETPAN_PAD);
	return p;
}

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

static bool addr_special(char c)
{
	return c == '\0' || is_wsp(c) || strchr("@.<>,:;\"()[]\\", c) != NULL;
}

char *etpan_strip_comments(const char *v, char **comment_r)
{
	struct buf out = BUF_INIT, com = BUF_INIT;
	size_t i = 0, start, depth;
	bool first = true;

	while (v[i] != '\0') {
		if (v[i] == '"') {
			start = i++;
			while (v[i] != '\0' && v[i] != '"')
				i += (v[i] == '\\' && v[i + 1] != '\0') ? 2 : 1;
			if (v[i] == '"')
				i++;
			buf_append(&out, v + start, i - start);
			continue;
		}
		if (v[i] != '(') {
			buf_putc(&out, v[i++]);
			continue;
		}
		depth = 0;
		start = i;
		for (; v[i] != '\0'; i++) {
			if (v[i] == '\\' && v[i + 1] != '\0')
				i++;
			else if (v[i] == '(')
				depth++;
			else if (v[i] == ')' && --depth == 0)
				break;
		}
		if (first) {
			size_t j;

			for (j = start + 1; j < i; j++) {
				if (v[j] == '\\' && j + 1 < i)
					j++;
				buf_putc(&com, v[j]);
			}
			first = false;
		}
		if (v[i] == ')')
			i++;
		/* a comment between two words still separates them */
		if (out.len > 0 && !addr_special(out.data[out.len - 1]) &&
		    !addr_special(v[i]))
			buf_putc(&out, ' ');
	}
	if (comment_r != NULL)
		*comment_r = com.len > 0 ? buf_steal(&com, NULL) : NULL;
	buf_free(&com);
	return buf_steal(&out, NULL);
}

char *etpan_value(const char *v, size_t *len_r)
{
	char *s = etpan_strip_comments(v, NULL), *p, *b;
	size_t n;

	for (b = s; is_wsp(*b) || *b == '\r' || *b == '\n'; b++)
		;
	n = strlen(b);
	while (n > 0 && (is_wsp(b[n - 1]) || b[n - 1] == '\r' ||
			 b[n - 1] == '\n'))
		n--;
	p = etpan_copy(b, n);
	free(s);
	*len_r = n;
	return p;
}

size_t etpan_comment_depth(const char *s, size_t n)
{
	size_t i, depth = 0, max = 0;
	bool quoted = false;

	for (i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n)
			i++;
		else if (quoted)
			quoted = s[i] != '"';
		else if (s[i] == '"' && depth == 0)
			quoted = true;
		else if (s[i] == '(' && ++depth > max)
			max = depth;
		else if (s[i] == ')' && depth > 0)
			depth--;
	}
	return max;
}
