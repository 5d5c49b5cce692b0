/* conf - the libconfig file: load, validate, and the typed settings */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/stat.h>

#include <libconfig.h>

#include "base/conf.h"
#include "base/addr.h"
#include "base/buf.h"
#include "base/log.h"
#include "base/rx.h"
#include "base/xalloc.h"

#ifndef SYSCONFDIR
#error "SYSCONFDIR must be defined (-DSYSCONFDIR=...)"
#endif
#ifndef PKGDATADIR
#error "PKGDATADIR must be defined (-DPKGDATADIR=...)"
#endif
#ifndef LOCALSTATEDIR
#error "LOCALSTATEDIR must be defined (-DLOCALSTATEDIR=...)"
#endif

/* A list name must leave room for "-unsubscribe" in a 64-byte local part. */
#define LIST_NAME_MAX (ADDR_LOCAL_MAX - 12)
/* Values quoted back in a problem are cut to this many bytes. */
#define SHOW_MAX 100
#define KB_MAX 1048576L         /* 1 GB, far from overflowing size_t */

/* Everything validation needs while it walks the file. */
struct loader {
	struct conf *c;
	struct conf_problems *problems;
	const char *ctx;        /* e.g. "outbound.", "list \"makers\": " */
};

static const char *const top_keys[] = {
	"domain", "database", "templates", "language", "busy_timeout_ms",
	"local_part_case_sensitive", "bans", "outbound", "limits", "lists", "bounces",
	"confirm_expiry", "answer_rate_limit", "lmtp", "web",
	NULL
};
static const char *const lmtp_keys[] = {
	"listen", "max_sessions", "timeout", "max_recipients", "socket_mode",
	NULL
};
static const char *const web_keys[] = {
	"url", "dir", "listen", NULL
};
static const char *const outbound_keys[] = {
	"transport", "host", "port", "path", "sendmail", "max_rcpt_per_txn",
	"connections", "verp", "starttls", "auth_user", "auth_password",
	"helo", "timeout", "retry_schedule", "relays", "relay_skip", NULL
};
static const char *const relay_keys[] = {
	"host", "port", "weight", NULL
};
static const char *const limits_keys[] = {
	"max_message_kb", "max_header_kb", "max_headers", "max_mime_depth",
	"max_mime_parts", NULL
};
static const char *const list_keys[] = {
	"name", "description", "policy", "subscription", "sponsors",
	"leaders", "council", "subject_prefix", "reply_to", "from_munging",
	"max_message_kb", "archive_url", "unsubscribe_url", "footer",
	"allow_who", "digest", "meetings", "filters", "bans", "bounces",
	"council_may_approve", "hold_expiry", "max_message_action",
	"announce_action", "max_recipients", "content", "archive", "report",
	NULL
};
static const char *const report_keys[] = {
	"schedule", "nudge", "timezone", "to", "unanswered_after", "weeks",
	NULL
};
static const char *const archive_keys[] = {
	"access", "url", "answer_kb", "results", "hide_addresses", NULL
};
static const char *const archive_access_names[] = {
	"members", "public", "private", NULL
};
static const char *const content_keys[] = {
	"strip", "pass", "drop_html_alternative", NULL
};
static const char *const digest_keys[] = {
	"schedule", "max_messages", "max_kb", "timezone", NULL
};
static const char *const meetings_keys[] = {
	"reminders", "timezone", "summary", "council_may_schedule", NULL
};
static const char *const filter_keys[] = {
	"header", "match", "action", "reason", NULL
};
static const char *const bounces_keys[] = {
	"threshold", "soft_weight", "decay_after", "probes", "probe_interval",
	NULL
};

/* Enum spellings, in the order of the enums in conf.h. */
static const char *const policy_names[] = {
	"open", "members", "moderated", "announce", NULL
};
static const char *const subscription_names[] = {
	"confirm", "approve", "closed", NULL
};
static const char *const from_munging_names[] = {
	"none", "dmarc", "always", NULL
};
static const char *const transport_names[] = {
	"maildir", "smtp", "lmtp", "sendmail", NULL
};
static const char *const verp_names[] = {
	"off", "xverp", "per-recipient", NULL
};
static const char *const action_names[] = {
	"accept", "hold", "reject", "discard", NULL
};
static const char *const hold_action_names[] = { "hold", "reject", NULL };

static const char *const default_sendmail[] = {
	"/usr/sbin/sendmail", "-i", NULL
};
static const char *const default_retry[] = {
	"1m", "5m", "30m", "2h", "6h", "12h", "24h", NULL
};
static const char *const default_reminders[] = { "24h", "1h", NULL };

/* Problems */

static void add_problem(struct conf_problems *p, const char *file, int line,
			char *message)
{
	p->v = xreallocarray(p->v, p->n + 1, sizeof *p->v);
	p->v[p->n].file = xstrdup(file);
	p->v[p->n].line = line;
	p->v[p->n].message = message;
	p->n++;
}

/* The file a setting came from: included files are named relative to the
 * include folder, which is the config file's folder. */
static char *source_file(const struct loader *ld, const config_setting_t *s)
{
	const char *f = s != NULL ? config_setting_source_file(s) : NULL;

	if (f == NULL || strcmp(f, ld->c->file) == 0 || f[0] == '/')
		return xstrdup(f != NULL ? f : ld->c->file);
	return xasprintf("%s/%s", ld->c->dir, f);
}

static void problem(struct loader *ld, const config_setting_t *s,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void problem(struct loader *ld, const config_setting_t *s,
		    const char *fmt, ...)
{
	va_list ap;
	char *msg, *file;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	file = source_file(ld, s);
	add_problem(ld->problems, file,
		    s != NULL ? (int)config_setting_source_line(s) : 0, msg);
	free(file);
}

/* A value quoted back to the admin: bounded, no control bytes. */
static const char *show(char dst[SHOW_MAX + 4], const char *s)
{
	return log_sanitize(dst, SHOW_MAX + 4, s, strlen(s));
}

static const char *type_name(const config_setting_t *s)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_GROUP:  return "a group";
	case CONFIG_TYPE_INT:    return "an integer";
	case CONFIG_TYPE_INT64:  return "an integer";
	case CONFIG_TYPE_FLOAT:  return "a floating-point number";
	case CONFIG_TYPE_STRING: return "a string";
	case CONFIG_TYPE_BOOL:   return "a boolean";
	case CONFIG_TYPE_ARRAY:  return "an array";
	case CONFIG_TYPE_LIST:   return "a list";
	}
	return "nothing";
}

static void wrong_type(struct loader *ld, const config_setting_t *s,
		       const char *key, const char *expected)
{
	problem(ld, s, "%s%s must be %s, not %s", ld->ctx, key, expected,
		type_name(s));
}

static void check_keys(struct loader *ld, const config_setting_t *g,
		       const char *const *keys)
{
	int i, n = config_setting_length(g);

	for (i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(g, i);
		const char *name = config_setting_name(s);
		size_t k;

		if (name == NULL)
			continue;
		for (k = 0; keys[k] != NULL; k++) {
			if (strcmp(keys[k], name) == 0)
				break;
		}
		if (keys[k] == NULL)
			problem(ld, s, "%sunknown setting \"%s\"", ld->ctx,
				name);
	}
}

/* Small checks on values */

/* No control bytes: the value may end up in a header line. */
static bool text_ok(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 32 || *s == 127)
			return false;
	}
	return true;
}

static bool url_ok(const char *s)
{
	size_t n;

	if (strncmp(s, "https://", 8) == 0)
		n = 8;
	else if (strncmp(s, "http://", 7) == 0)
		n = 7;
	else
		return false;
	if (s[n] == '\0')
		return false;
	for (s += n; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		/* It goes between <> in List-* fields. */
		if (c <= 32 || c >= 127 || c == '<' || c == '>' || c == '"')
			return false;
	}
	return true;
}

/* A domain name, or with `literal` also an address literal "[192.0.2.1]". */
static bool domain_ok(const char *s, bool literal)
{
	char *a;
	bool ok;

	if (s[0] == '\0' || (s[0] == '[' && !literal))
		return false;
	a = xasprintf("postmaster@%s", s);
	ok = addr_valid(a);
	free(a);
	return ok;
}

/* Why a list name is not usable as a local part, or NULL when it is. */
static const char *list_name_problem(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0)
		return "is empty";
	if (n > LIST_NAME_MAX)
		return "is too long";
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c >= 'A' && c <= 'Z')
			return "must be lower case";
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return "may only hold letters, digits, '.', '_' and '-'";
	}
	if (s[0] == '.' || s[n - 1] == '.' || strstr(s, "..") != NULL)
		return "may not begin or end with '.' or hold \"..\"";
	return NULL;
}

/* Letters, digits, '-' and '_': it names a folder under templates/. */
static bool language_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 32)
		return false;
	for (; *s != '\0'; s++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return false;
	}
	return true;
}

/* Region/City names as in the tz database, or "UTC". */
static bool timezone_ok(const char *s)
{
	if (s[0] == '\0' || s[0] == '/' || strstr(s, "..") != NULL ||
	    strlen(s) > 64)
		return false;
	for (; *s != '\0'; s++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr("-_+/", *s) != NULL))
			return false;
	}
	return true;
}

/* A field name (RFC 5322 ftext). */
static bool header_name_ok(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s <= 32 || (unsigned char)*s >= 127 ||
		    *s == ':')
			return false;
	}
	return true;
}

static char *resolve(const struct conf *c, const char *path)
{
	if (path[0] == '/')
		return xstrdup(path);
	return xasprintf("%s/%s", c->dir, path);
}

/* String vectors */

static void strv_push(struct conf_strv *v, char *s)
{
	v->v = xreallocarray(v->v, v->n + 2, sizeof *v->v);
	v->v[v->n++] = s;
	v->v[v->n] = NULL;
}

static void strv_set_default(struct conf_strv *v, const char *const *def)
{
	size_t i;

	/* Always NULL-terminated, even when empty. */
	v->v = xcalloc(1, sizeof *v->v);
	v->n = 0;
	for (i = 0; def != NULL && def[i] != NULL; i++)
		strv_push(v, xstrdup(def[i]));
}

static void strv_free(struct conf_strv *v)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		free(v->v[i]);
	xfree(&v->v);
	v->n = 0;
}

static bool strv_has_ci(const struct conf_strv *v, const char *s)
{
	size_t i;

	if (s == NULL)
		return false;
	for (i = 0; i < v->n; i++) {
		if (strcasecmp(v->v[i], s) == 0)
			return true;
	}
	return false;
}

/* The setting `key` of group g (which may be NULL: an absent group). */
static const config_setting_t *member(const config_setting_t *g,
				      const char *key)
{
	return g != NULL ? config_setting_get_member(g, key) : NULL;
}

/* Typed look-ups: each reports a wrong type or value and falls back to the
 * default, so that validation goes on and finds every problem. */

static const char *lookup_string(struct loader *ld, const config_setting_t *g,
				 const char *key,
				 const config_setting_t **s_r)
{
	const config_setting_t *s = member(g, key);

	if (s_r != NULL)
		*s_r = s;
	if (s == NULL)
		return NULL;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		wrong_type(ld, s, key, "a string");
		return NULL;
	}
	return config_setting_get_string(s);
}

/* A string that may go into a header: no control bytes. Newly allocated
 * (a copy of `def` when absent; NULL when absent and `def` is NULL). */
static char *get_text(struct loader *ld, const config_setting_t *g,
		      const char *key, const char *def)
{
	const config_setting_t *s;
	const char *v = lookup_string(ld, g, key, &s);

	if (v != NULL && !text_ok(v)) {
		problem(ld, s, "%s%s must not contain control characters",
			ld->ctx, key);
		v = NULL;
	}
	if (v == NULL)
		v = def;
	return v != NULL ? xstrdup(v) : NULL;
}

static long get_int(struct loader *ld, const config_setting_t *g,
		    const char *key, long def, long min, long max)
{
	const config_setting_t *s = member(g, key);
	long long v;

	if (s == NULL)
		return def;
	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64) {
		wrong_type(ld, s, key, "an integer");
		return def;
	}
	v = config_setting_get_int64(s);
	if (v < min || v > max) {
		problem(ld, s, "%s%s: %lld is out of range (%ld to %ld)",
			ld->ctx, key, v, min, max);
		return def;
	}
	return (long)v;
}

static bool get_bool(struct loader *ld, const config_setting_t *g,
		     const char *key, bool def)
{
	const config_setting_t *s = member(g, key);

	if (s == NULL)
		return def;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		wrong_type(ld, s, key, "a boolean (true or false)");
		return def;
	}
	return config_setting_get_bool(s) != 0;
}

static void invalid_enum(struct loader *ld, const config_setting_t *s,
			 const char *key, const char *v,
			 const char *const *names, const char *extra)
{
	struct buf b = BUF_INIT;
	char tmp[SHOW_MAX + 4];
	size_t i;

	for (i = 0; names[i] != NULL; i++) {
		if (i > 0)
			buf_puts(&b, names[i + 1] == NULL && extra == NULL ?
				 " or " : ", ");
		buf_puts(&b, names[i]);
	}
	if (extra != NULL) {
		buf_puts(&b, " or ");
		buf_puts(&b, extra);
	}
	problem(ld, s, "%s%s: invalid value \"%s\" (expected %s)", ld->ctx,
		key, show(tmp, v), buf_cstr(&b));
	buf_free(&b);
}

static int find_name(const char *const *names, const char *v)
{
	int i;

	for (i = 0; names[i] != NULL; i++) {
		if (strcmp(names[i], v) == 0)
			return i;
	}
	return -1;
}

static int get_enum(struct loader *ld, const config_setting_t *g,
		    const char *key, const char *const *names, int def)
{
	const config_setting_t *s;
	const char *v = lookup_string(ld, g, key, &s);
	int i;

	if (v == NULL)
		return def;
	i = find_name(names, v);
	if (i < 0) {
		invalid_enum(ld, s, key, v, names, NULL);
		return def;
	}
	return i;
}

/* The group `key` of g, or NULL when absent or of the wrong type. */
static const config_setting_t *get_group(struct loader *ld,
					 const config_setting_t *g,
					 const char *key)
{
	const config_setting_t *s = member(g, key);

	if (s != NULL && config_setting_type(s) != CONFIG_TYPE_GROUP) {
		wrong_type(ld, s, key, "a group { ... }");
		return NULL;
	}
	return s;
}

/* What to do with one element of a string array: returns the value to
 * keep (newly allocated) or NULL after reporting the problem. */
typedef char *elem_fn(struct loader *ld, const config_setting_t *e,
		      const char *key, const char *v);

static char *elem_copy(struct loader *ld, const config_setting_t *e,
		       const char *key, const char *v)
{
	return xstrdup(v);
}

static char *elem_argv(struct loader *ld, const config_setting_t *e,
		       const char *key, const char *v)
{
	if (*v == '\0') {
		problem(ld, e, "%s%s: empty argument", ld->ctx, key);
		return NULL;
	}
	return xstrdup(v);
}

static char *elem_address(struct loader *ld, const config_setting_t *e,
			  const char *key, const char *v)
{
	char tmp[SHOW_MAX + 4];
	char *a = addr_normalize(v, ld->c->local_part_case_sensitive);

	if (a == NULL)
		problem(ld, e, "%s%s: \"%s\" is not a valid address",
			ld->ctx, key, show(tmp, v));
	return a;
}

static char *elem_duration(struct loader *ld, const config_setting_t *e,
			   const char *key, const char *v)
{
	char tmp[SHOW_MAX + 4];

	if (conf_parse_duration(v) <= 0) {
		problem(ld, e, "%s%s: \"%s\" is not a valid duration "
			"(like 90s, 5m, 2h, 1d or 1w)", ld->ctx, key,
			show(tmp, v));
		return NULL;
	}
	return xstrdup(v);
}

/* An array (or list) of strings into `out`, each passed through `fn`;
 * `def` when absent. Returns the setting, or NULL when absent. */
static const config_setting_t *get_strv(struct loader *ld,
					const config_setting_t *g,
					const char *key,
					const char *const *def, elem_fn *fn,
					struct conf_strv *out)
{
	const config_setting_t *s = member(g, key);
	int i, n;

	strv_set_default(out, s == NULL ? def : NULL);
	if (s == NULL)
		return NULL;
	if (config_setting_type(s) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(s) != CONFIG_TYPE_LIST) {
		wrong_type(ld, s, key, "an array of strings [ \"...\", ... ]");
		return s;
	}
	n = config_setting_length(s);
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		char *v;

		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			problem(ld, e, "%s%s: element %d must be a string, "
				"not %s", ld->ctx, key, i + 1, type_name(e));
			continue;
		}
		v = fn(ld, e, key, config_setting_get_string(e));
		if (v != NULL)
			strv_push(out, v);
	}
	return s;
}

static struct rx *compile(struct loader *ld, const config_setting_t *s,
			  const char *key, const char *pattern)
{
	struct rx *rx;
	char *err = NULL;
	char tmp[SHOW_MAX + 4];
	size_t off = 0;

	rx = rx_compile(pattern, &err, &off);
	if (rx == NULL) {
		problem(ld, s, "%s%s: invalid regular expression \"%s\": %s "
			"at offset %zu", ld->ctx, key, show(tmp, pattern),
			err != NULL ? err : "error", off);
		free(err);
	}
	return rx;
}

/* An array of patterns: sources into `out`, compiled into *rx_r. */
static void get_regexes(struct loader *ld, const config_setting_t *g,
			const char *key, struct conf_strv *out,
			struct rx ***rx_r)
{
	const config_setting_t *s;
	size_t i;
	int k = 0;

	s = get_strv(ld, g, key, NULL, elem_copy, out);
	*rx_r = xcalloc(out->n + 1, sizeof **rx_r);
	for (i = 0; i < out->n; i++) {
		const config_setting_t *e;

		/* Find the element a source came from, for its line. */
		for (;;) {
			e = config_setting_get_elem(s, (unsigned)k++);
			if (e == NULL ||
			    config_setting_type(e) == CONFIG_TYPE_STRING)
				break;
		}
		(*rx_r)[i] = compile(ld, e != NULL ? e : s, key, out->v[i]);
	}
}

static long get_duration(struct loader *ld, const config_setting_t *g,
			 const char *key, long def)
{
	const config_setting_t *s = member(g, key);
	char tmp[SHOW_MAX + 4];
	long long v;
	long d;

	if (s == NULL)
		return def;
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		v = config_setting_get_int64(s);
		if (v > 0 && v <= LONG_MAX)
			return (long)v;
		problem(ld, s, "%s%s: %lld is not a positive number of "
			"seconds", ld->ctx, key, v);
		return def;
	case CONFIG_TYPE_STRING:
		d = conf_parse_duration(config_setting_get_string(s));
		if (d > 0)
			return d;
		problem(ld, s, "%s%s: \"%s\" is not a valid duration "
			"(like 90s, 5m, 2h, 1d or 1w)", ld->ctx, key,
			show(tmp, config_setting_get_string(s)));
		return def;
	default:
		wrong_type(ld, s, key, "a duration string like \"60s\"");
		return def;
	}
}

/* A rate "N/DURATION" like "5/1h": at most N in any DURATION. */
static void get_rate(struct loader *ld, const config_setting_t *g,
		     const char *key, long def_max, long def_window,
		     long *max_r, long *window_r)
{
	const config_setting_t *s = member(g, key);
	char tmp[SHOW_MAX + 4];
	const char *v, *slash;
	char *end = NULL;
	long n, w;

	*max_r = def_max;
	*window_r = def_window;
	if (s == NULL)
		return;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		wrong_type(ld, s, key, "a rate string like \"5/1h\"");
		return;
	}
	v = config_setting_get_string(s);
	slash = strchr(v, '/');
	n = slash != NULL && v[0] >= '0' && v[0] <= '9' ?
	    strtol(v, &end, 10) : -1;
	w = slash != NULL ? conf_parse_duration(slash + 1) : -1;
	if (n < 1 || n > 1000000 || end != slash || w <= 0) {
		problem(ld, s, "%s%s: \"%s\" is not a rate like \"5/1h\" "
			"(1 to 1000000 per duration)", ld->ctx, key,
			show(tmp, v));
		return;
	}
	*max_r = n;
	*window_r = w;
}

/* Sections */

/* outbound.relays = ( { host; port; weight; }, ... ): smtp and lmtp only,
 * instead of host and port. */
static void load_relays(struct loader *ld, const config_setting_t *g)
{
	struct conf_outbound *o = &ld->c->outbound;
	const config_setting_t *s = member(g, "relays");
	int i, n;

	o->relay_skip_s = get_duration(ld, g, "relay_skip", 60);
	if (s == NULL)
		return;
	if (config_setting_type(s) != CONFIG_TYPE_LIST) {
		wrong_type(ld, s, "relays", "a list ( { host = ...; }, ... )");
		return;
	}
	n = config_setting_length(s);
	if (n == 0 || n > 64) {
		problem(ld, s, "outbound.relays: from 1 to 64 relays, not %d",
			n);
		return;
	}
	if (o->transport != TRANSPORT_SMTP && o->transport != TRANSPORT_LMTP)
		problem(ld, s, "outbound.relays goes with transport \"smtp\" "
			"or \"lmtp\"");
	if (member(g, "host") != NULL || member(g, "port") != NULL)
		problem(ld, s, "outbound.relays replaces outbound.host and "
			"outbound.port: set one or the other");
	if (o->transport == TRANSPORT_LMTP && o->path != NULL)
		problem(ld, s, "outbound.relays cannot go with an LMTP socket "
			"(outbound.path)");
	o->relays = xcalloc((size_t)n, sizeof *o->relays);
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		struct conf_relay *r;
		char *ctx;
		size_t k;

		if (config_setting_type(e) != CONFIG_TYPE_GROUP) {
			problem(ld, e, "outbound.relays: element %d must be a "
				"group { ... }, not %s", i + 1, type_name(e));
			continue;
		}
		ctx = xasprintf("outbound.relays %d: ", i + 1);
		ld->ctx = ctx;
		check_keys(ld, e, relay_keys);
		r = &o->relays[o->nrelays];
		r->line = (int)config_setting_source_line(e);
		r->host = get_text(ld, e, "host", NULL);
		if (r->host == NULL && member(e, "host") == NULL)
			problem(ld, e, "%shost is required", ctx);
		else if (r->host != NULL &&
			 (r->host[0] == '\0' || strchr(r->host, ' ') != NULL))
			problem(ld, member(e, "host"), "%shost must be a host "
				"name or address", ctx);
		r->port = (int)get_int(ld, e, "port",
				       o->transport == TRANSPORT_LMTP ? 24 : 25,
				       1, 65535);
		r->weight = get_int(ld, e, "weight", 1, 1, 1000);
		for (k = 0; r->host != NULL && k < o->nrelays; k++) {
			if (o->relays[k].host != NULL &&
			    strcasecmp(o->relays[k].host, r->host) == 0 &&
			    o->relays[k].port == r->port)
				problem(ld, e, "%s%s port %d is listed twice",
					ctx, r->host, r->port);
		}
		o->nrelays++;
		ld->ctx = "outbound.";
		free(ctx);
	}
}

static void load_outbound(struct loader *ld, const config_setting_t *g)
{
	struct conf *c = ld->c;
	struct conf_outbound *o = &c->outbound;
	const config_setting_t *s, *user_s, *pass_s;
	const char *v, *user, *pass;

	ld->ctx = "outbound.";
	if (g != NULL)
		check_keys(ld, g, outbound_keys);
	o->transport = (enum conf_transport)get_enum(ld, g, "transport",
						     transport_names,
						     TRANSPORT_MAILDIR);
	o->host = get_text(ld, g, "host", "127.0.0.1");
	s = member(g, "host");
	if (o->host[0] == '\0' || strchr(o->host, ' ') != NULL)
		problem(ld, s, "outbound.host must be a host name or address");
	o->port = (int)get_int(ld, g, "port",
			       o->transport == TRANSPORT_LMTP ? 24 : 25,
			       1, 65535);
	v = lookup_string(ld, g, "path", &s);
	if (v != NULL && v[0] == '\0') {
		problem(ld, s, "outbound.path must not be empty");
		v = NULL;
	}
	if (v == NULL && o->transport == TRANSPORT_MAILDIR)
		v = "outbox";
	o->path = v != NULL ? resolve(c, v) : NULL;

	s = get_strv(ld, g, "sendmail", default_sendmail, elem_argv,
		     &o->sendmail_argv);
	if (s != NULL && o->sendmail_argv.n == 0 &&
	    config_setting_length(s) == 0)
		problem(ld, s, "outbound.sendmail must name a program");
	else if (o->sendmail_argv.n > 0 && o->sendmail_argv.v[0][0] != '/')
		problem(ld, s, "outbound.sendmail: the program must be an "
			"absolute path (no shell, no PATH search)");

	o->max_rcpt_per_txn = get_int(ld, g, "max_rcpt_per_txn", 500, 1,
				      100000);
	o->connections = get_int(ld, g, "connections", 4, 1, 1000);
	o->verp = (enum conf_verp)get_enum(ld, g, "verp", verp_names,
					   VERP_OFF);
	o->starttls = get_bool(ld, g, "starttls", false);

	user = lookup_string(ld, g, "auth_user", &user_s);
	pass = lookup_string(ld, g, "auth_password", &pass_s);
	if ((user_s != NULL) != (pass_s != NULL))
		problem(ld, user_s != NULL ? user_s : pass_s,
			"outbound.auth_user and outbound.auth_password go "
			"together: set both or neither");
	o->auth_user = user != NULL ? xstrdup(user) : NULL;
	o->auth_password = pass != NULL ? xstrdup(pass) : NULL;

	o->helo = get_text(ld, g, "helo", c->domain);
	s = member(g, "helo");
	if (s != NULL && o->helo != NULL && !domain_ok(o->helo, true) &&
	    config_setting_type(s) == CONFIG_TYPE_STRING)
		problem(ld, s, "outbound.helo must be a host name");

	o->timeout_s = get_duration(ld, g, "timeout", 60);
	s = get_strv(ld, g, "retry_schedule", default_retry, elem_duration,
		     &o->retry_schedule);
	if (s != NULL && config_setting_length(s) == 0)
		problem(ld, s, "outbound.retry_schedule must not be empty");
	load_relays(ld, g);
}

static void load_limits(struct loader *ld, const config_setting_t *g)
{
	struct conf_limits *l = &ld->c->limits;

	ld->ctx = "limits.";
	if (g != NULL)
		check_keys(ld, g, limits_keys);
	l->max_message_kb = get_int(ld, g, "max_message_kb", 10240, 1, KB_MAX);
	l->max_header_kb = get_int(ld, g, "max_header_kb", 512, 1, KB_MAX);
	l->max_headers = get_int(ld, g, "max_headers", 1000, 1, 1000000);
	l->max_mime_depth = get_int(ld, g, "max_mime_depth", 50, 1, 1000);
	l->max_mime_parts = get_int(ld, g, "max_mime_parts", 10000, 1,
				    1000000);
}

static bool loopback_host(const char *h, size_t n)
{
	char tmp[64];
	unsigned a, b, c, d;
	char extra;

	if (n == 0 || n >= sizeof tmp)
		return false;
	memcpy(tmp, h, n);
	tmp[n] = '\0';
	if (strcmp(tmp, "localhost") == 0 || strcmp(tmp, "[::1]") == 0)
		return true;
	return sscanf(tmp, "%u.%u.%u.%u%c", &a, &b, &c, &d, &extra) == 4 &&
	       a == 127 && b < 256 && c < 256 && d < 256;
}

int conf_parse_listen(const char *spec, const char *dir,
		      struct conf_listen *l, const char **error_r)
{
	const char *colon;
	char *end = NULL;
	long port;

	memset(l, 0, sizeof *l);
	if (strncmp(spec, "unix:", 5) == 0) {
		const char *path = spec + 5;

		if (*path == '\0') {
			*error_r = "unix: needs a path";
			return -1;
		}
		l->path = path[0] == '/' || dir == NULL ? xstrdup(path) :
			  xasprintf("%s/%s", dir, path);
		if (strlen(l->path) >= 108) {
			*error_r = "the socket's path is too long (at most "
				   "107 bytes)";
			conf_listen_free(l);
			return -1;
		}
		return 0;
	}
	colon = strrchr(spec, ':');
	if (colon == NULL || colon[1] < '0' || colon[1] > '9') {
		*error_r = "not unix:PATH or HOST:PORT";
		return -1;
	}
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port < 1 || port > 65535) {
		*error_r = "the port must be 1 to 65535";
		return -1;
	}
	if (!loopback_host(spec, (size_t)(colon - spec))) {
		*error_r = "LMTP has no authentication: listen on a Unix "
			   "socket or a loopback address (127.0.0.1, [::1], "
			   "localhost) only";
		return -1;
	}
	if (spec[0] == '[')
		l->host = xstrndup(spec + 1, (size_t)(colon - spec) - 2);
	else
		l->host = xstrndup(spec, (size_t)(colon - spec));
	l->port = (int)port;
	return 0;
}

void conf_listen_free(struct conf_listen *l)
{
	xfree(&l->path);
	xfree(&l->host);
}

static void load_lmtp(struct loader *ld, const config_setting_t *g)
{
	struct conf *c = ld->c;
	struct conf_lmtp *m = &c->lmtp;
	const config_setting_t *s;
	char tmp[SHOW_MAX + 4];
	const char *v, *err = NULL;
	char *end = NULL;
	long mode;

	ld->ctx = "lmtp.";
	if (g != NULL)
		check_keys(ld, g, lmtp_keys);
	v = lookup_string(ld, g, "listen", &s);
	if (v != NULL && conf_parse_listen(v, c->dir, &m->listen, &err) < 0) {
		problem(ld, s, "lmtp.listen: \"%s\": %s", show(tmp, v), err);
		v = NULL;
	}
	if (v == NULL && conf_parse_listen("unix:" LOCALSTATEDIR
					   "/run/convene/lmtp.sock", NULL,
					   &m->listen, &err) < 0)
		log_fatal("the default LMTP socket: %s", err);
	m->max_sessions = get_int(ld, g, "max_sessions", 32, 1, 10000);
	m->timeout_s = get_duration(ld, g, "timeout", 300);
	m->max_recipients = get_int(ld, g, "max_recipients", 1000, 1, 100000);
	m->socket_mode = 0666;
	v = lookup_string(ld, g, "socket_mode", &s);
	if (v != NULL) {
		mode = v[0] == '0' ? strtol(v, &end, 8) : -1;
		if (mode < 0 || mode > 0777 || end == NULL || *end != '\0')
			problem(ld, s, "lmtp.socket_mode: \"%s\" is not an "
				"octal mode like \"0660\"", show(tmp, v));
		else
			m->socket_mode = (unsigned)mode;
	}
}

static double get_number(struct loader *ld, const config_setting_t *g,
			 const char *key, double def, double min, double max)
{
	const config_setting_t *s = member(g, key);
	double v;

	if (s == NULL)
		return def;
	if (config_setting_type(s) == CONFIG_TYPE_FLOAT)
		v = config_setting_get_float(s);
	else if (config_setting_type(s) == CONFIG_TYPE_INT ||
		 config_setting_type(s) == CONFIG_TYPE_INT64)
		v = (double)config_setting_get_int64(s);
	else {
		wrong_type(ld, s, key, "a number");
		return def;
	}
	if (!(v >= min && v <= max)) {
		problem(ld, s, "%s%s: %g is out of range (%g to %g)", ld->ctx,
			key, v, min, max);
		return def;
	}
	return v;
}

/* bounces = { ... }: at the top level (def NULL) the defaults, in a list
 * the list's own, starting from the top level's. */
static void load_bounces(struct loader *ld, const config_setting_t *g,
			 struct conf_bounces *b, const struct conf_bounces *def,
			 const char *ctx)
{
	static const struct conf_bounces builtin = {
		.threshold = 3.0, .soft_weight = 0.25,
		.decay_after_s = 7 * 86400L, .probes = 3,
		.probe_interval_s = 3 * 86400L,
	};
	const char *saved = ld->ctx;

	*b = def != NULL ? *def : builtin;
	if (g == NULL)
		return;
	ld->ctx = ctx;
	check_keys(ld, g, bounces_keys);
	b->threshold = get_number(ld, g, "threshold", b->threshold, 0.1,
				  1000.0);
	b->soft_weight = get_number(ld, g, "soft_weight", b->soft_weight, 0.0,
				    1.0);
	b->decay_after_s = get_duration(ld, g, "decay_after",
					b->decay_after_s);
	b->probes = get_int(ld, g, "probes", b->probes, 1, 100);
	b->probe_interval_s = get_duration(ld, g, "probe_interval",
					   b->probe_interval_s);
	ld->ctx = saved;
}

static void load_filter(struct loader *ld, const config_setting_t *g,
			struct conf_filter *f)
{
	const config_setting_t *s;
	const char *v;
	char tmp[SHOW_MAX + 4];

	f->line = (int)config_setting_source_line(g);
	check_keys(ld, g, filter_keys);
	v = lookup_string(ld, g, "header", &s);
	if (v != NULL && !header_name_ok(v))
		problem(ld, s, "%sheader: \"%s\" is not a header field name",
			ld->ctx, show(tmp, v));
	f->header = v != NULL ? xstrdup(v) : NULL;

	v = lookup_string(ld, g, "match", &s);
	if (s == NULL)
		problem(ld, g, "%smatch is required", ld->ctx);
	if (v != NULL) {
		f->match = xstrdup(v);
		f->rx = compile(ld, s, "match", v);
	}

	v = lookup_string(ld, g, "action", &s);
	if (s == NULL)
		problem(ld, g, "%saction is required (accept, hold, reject "
			"or discard)", ld->ctx);
	if (v != NULL) {
		int i = find_name(action_names, v);

		if (i < 0)
			invalid_enum(ld, s, "action", v, action_names, NULL);
		else
			f->action = (enum conf_filter_action)i;
	}
	f->reason = get_text(ld, g, "reason", NULL);
}

/* The list of groups `key` in g ("key = ( { ... }, ... )"): its length
 * and the list in *s_r, or -1 when it is absent or no list (told). */
static int group_list(struct loader *ld, const config_setting_t *g,
		      const char *key, const config_setting_t **s_r)
{
	const config_setting_t *s = member(g, key);

	*s_r = s;
	if (s == NULL)
		return -1;
	if (config_setting_type(s) != CONFIG_TYPE_LIST) {
		wrong_type(ld, s, key, "a list ( { ... }, ... )");
		return -1;
	}
	return config_setting_length(s);
}

/* Element i of the list of groups s, or NULL when it is no group (told,
 * after the context prefix). */
static const config_setting_t *group_at(struct loader *ld,
					const config_setting_t *s, int i,
					const char *prefix)
{
	const config_setting_t *g = config_setting_get_elem(s, i);

	if (config_setting_type(g) == CONFIG_TYPE_GROUP)
		return g;
	problem(ld, g, "%s%s: element %d must be a group { ... }, not %s",
		prefix, config_setting_name(s), i + 1, type_name(g));
	return NULL;
}

static void load_filters(struct loader *ld, const config_setting_t *lg,
			 struct conf_list *l, const char *listctx)
{
	const config_setting_t *s;
	int i, n = group_list(ld, lg, "filters", &s);

	if (n < 0)
		return;
	l->filters = xcalloc((size_t)n, sizeof *l->filters);
	for (i = 0; i < n; i++) {
		const config_setting_t *g = group_at(ld, s, i, listctx);
		char *ctx;

		if (g == NULL)
			continue;
		ctx = xasprintf("%sfilter %d: ", listctx, i + 1);
		ld->ctx = ctx;
		load_filter(ld, g, &l->filters[l->nfilters++]);
		ld->ctx = listctx;
		free(ctx);
	}
}

/* A MIME type pattern: "type/subtype", or "type/" and a star for any
 * subtype; token characters only. */
static char *elem_mimetype(struct loader *ld, const config_setting_t *e,
			   const char *key, const char *v)
{
	char tmp[SHOW_MAX + 4];
	const char *slash = strchr(v, '/');
	size_t i;
	bool ok = slash != NULL && slash != v && slash[1] != '\0' &&
		  strchr(slash + 1, '/') == NULL &&
		  (strcmp(slash + 1, "*") == 0 ||
		   strchr(slash + 1, '*') == NULL);

	for (i = 0; ok && v[i] != '\0'; i++) {
		unsigned char ch = (unsigned char)v[i];

		if (ch <= 32 || ch >= 127 || strchr("()<>@,;:\\\"[]?=", ch))
			ok = false;
	}
	if (!ok) {
		problem(ld, e, "%s%s: \"%s\" is not a MIME type like "
			"\"application/x-msdownload\" or \"image/*\"", ld->ctx,
			key, show(tmp, v));
		return NULL;
	}
	return xstrdup(v);
}

static void load_content(struct loader *ld, const config_setting_t *lg,
			 struct conf_list *l, const char *listctx)
{
	const config_setting_t *g = get_group(ld, lg, "content");
	char *ctx = xasprintf("%scontent.", listctx);

	ld->ctx = ctx;
	if (g != NULL)
		check_keys(ld, g, content_keys);
	get_strv(ld, g, "strip", NULL, elem_mimetype, &l->content_strip);
	get_strv(ld, g, "pass", NULL, elem_mimetype, &l->content_pass);
	l->drop_html_alternative = get_bool(ld, g, "drop_html_alternative",
					    false);
	ld->ctx = listctx;
	free(ctx);
}

/* The group's timezone (default UTC): a tz database name, and with `known`
 * one this system has. */
static char *get_timezone(struct loader *ld, const config_setting_t *g,
			  bool known)
{
	char *v = get_text(ld, g, "timezone", "UTC");
	const config_setting_t *s = member(g, "timezone");
	char tmp[SHOW_MAX + 4];

	if (s != NULL && (!timezone_ok(v) ||
			  (known && !schedule_zone_known(v))))
		problem(ld, s, known ? "%stimezone: \"%s\" is not a time zone "
			"this system knows (a name like Europe/Berlin)" :
			"%stimezone: \"%s\" is not a time zone name like "
			"Europe/Berlin", ld->ctx, show(tmp, v));
	return v;
}

static void load_digest(struct loader *ld, const config_setting_t *lg,
			struct conf_list *l, const char *listctx)
{
	const config_setting_t *g = get_group(ld, lg, "digest");
	const config_setting_t *s;
	char *ctx = xasprintf("%sdigest.", listctx);
	char tmp[SHOW_MAX + 4];

	ld->ctx = ctx;
	if (g != NULL)
		check_keys(ld, g, digest_keys);
	/* Digests are always on: a member who chooses one gets it. */
	l->digest_schedule = get_text(ld, g, "schedule", "daily 07:00");
	if (schedule_parse(l->digest_schedule, &l->digest_when) < 0) {
		s = member(g, "schedule");
		problem(ld, s, "%sschedule: \"%s\" is not \"daily HH:MM\" or "
			"\"weekly DAY HH:MM\"", ld->ctx,
			show(tmp, l->digest_schedule));
		(void)schedule_parse("daily 07:00", &l->digest_when);
	}
	l->digest_timezone = get_timezone(ld, g, true);
	l->digest_max_messages = get_int(ld, g, "max_messages", 50, 1,
					 100000);
	l->digest_max_kb = get_int(ld, g, "max_kb", 200, 1, 10240);
	ld->ctx = listctx;
	free(ctx);
}

static char *get_url(struct loader *ld, const config_setting_t *lg,
		     const char *key);

/* The archive group; archive_url at the list's level is the older
 * spelling of archive.url. */
static void load_archive(struct loader *ld, const config_setting_t *lg,
			 struct conf_list *l, const char *listctx)
{
	const config_setting_t *g = get_group(ld, lg, "archive");
	const config_setting_t *old = member(lg, "archive_url");
	char *ctx = xasprintf("%sarchive.", listctx);

	ld->ctx = listctx;
	l->archive_url = get_url(ld, lg, "archive_url");
	ld->ctx = ctx;
	if (g != NULL)
		check_keys(ld, g, archive_keys);
	if (member(g, "url") != NULL) {
		if (old != NULL)
			problem(ld, member(g, "url"), "%surl: archive_url is "
				"set too (line %d); keep one", ld->ctx,
				(int)config_setting_source_line(old));
		free(l->archive_url);
		l->archive_url = get_url(ld, g, "url");
	}
	l->archive_access = (enum conf_archive_access)get_enum(
		ld, g, "access", archive_access_names, ARCHIVE_MEMBERS);
	l->archive_answer_kb = get_int(ld, g, "answer_kb", 1024, 16, 102400);
	l->archive_results = get_int(ld, g, "results", 10, 1, 50);
	l->archive_hide_addresses = get_bool(ld, g, "hide_addresses", true);
	/* A public list's pages are where convene web serves them. */
	if (l->archive_url == NULL && ld->c->web.url != NULL &&
	    l->archive_access == ARCHIVE_PUBLIC && l->name != NULL)
		l->archive_url = xasprintf("%s%s/", ld->c->web.url, l->name);
	ld->ctx = listctx;
	free(ctx);
}

static void load_meetings(struct loader *ld, const config_setting_t *lg,
			  struct conf_list *l, const char *listctx)
{
	const config_setting_t *g = get_group(ld, lg, "meetings");
	char *ctx = xasprintf("%smeetings.", listctx);

	ld->ctx = ctx;
	if (g != NULL)
		check_keys(ld, g, meetings_keys);
	get_strv(ld, g, "reminders", default_reminders, elem_duration,
		 &l->meeting_reminders);
	l->meeting_summary_s = get_duration(ld, g, "summary", 86400L);
	l->council_may_schedule = get_bool(ld, g, "council_may_schedule",
					   false);
	l->meeting_timezone = get_timezone(ld, g, false);
	ld->ctx = listctx;
	free(ctx);
}

/* "daily HH:MM", "weekly DAY HH:MM" or "off" (*on_r false). */
static char *get_schedule(struct loader *ld, const config_setting_t *g,
			  const char *key, const char *def,
			  struct schedule *when, bool *on_r)
{
	char *v = get_text(ld, g, key, def);
	char tmp[SHOW_MAX + 4];

	*on_r = strcmp(v, "off") != 0;
	if (*on_r && schedule_parse(v, when) < 0) {
		problem(ld, member(g, key), "%s%s: \"%s\" is not \"daily "
			"HH:MM\", \"weekly DAY HH:MM\" or \"off\"", ld->ctx,
			key, show(tmp, v));
		(void)schedule_parse(def, when);
	}
	return v;
}

/* report.to: "sponsors", "leaders", "council" or addresses. */
static char *elem_report_to(struct loader *ld, const config_setting_t *e,
			    const char *key, const char *v)
{
	if (strcmp(v, "sponsors") == 0 || strcmp(v, "leaders") == 0 ||
	    strcmp(v, "council") == 0)
		return xstrdup(v);
	return elem_address(ld, e, key, v);
}

static void load_report(struct loader *ld, const config_setting_t *lg,
			struct conf_list *l, const char *listctx)
{
	static const char *const def_to[] = {
		"sponsors", "leaders", "council", NULL
	};
	const config_setting_t *g = get_group(ld, lg, "report");
	struct conf_strv to = { 0 };
	char *ctx = xasprintf("%sreport.", listctx);
	size_t i;

	ld->ctx = ctx;
	l->report_on = g != NULL;
	if (g != NULL)
		check_keys(ld, g, report_keys);
	l->report_schedule = get_schedule(ld, g, "schedule", "weekly mon 08:00",
					  &l->report_when,
					  &l->report_scheduled);
	l->report_nudge = get_schedule(ld, g, "nudge", "daily 08:00",
				       &l->nudge_when, &l->nudge_scheduled);
	l->report_timezone = get_timezone(ld, g, true);
	get_strv(ld, g, "to", def_to, elem_report_to, &to);
	for (i = 0; i < to.n; i++) {
		if (strcmp(to.v[i], "sponsors") == 0)
			l->report_roles |= CONF_SPONSORS;
		else if (strcmp(to.v[i], "leaders") == 0)
			l->report_roles |= CONF_LEADERS;
		else if (strcmp(to.v[i], "council") == 0)
			l->report_roles |= CONF_COUNCIL;
		else
			strv_push(&l->report_to, xstrdup(to.v[i]));
	}
	strv_free(&to);
	l->report_unanswered_s = get_duration(ld, g, "unanswered_after",
					      48 * 3600L);
	l->report_weeks = get_int(ld, g, "weeks", 12, 4, 104);
	ld->ctx = listctx;
	free(ctx);
}

static void load_reply_to(struct loader *ld, const config_setting_t *lg,
			  struct conf_list *l)
{
	static const char *const names[] = { "none", "list", "sender", NULL };
	const config_setting_t *s;
	const char *v = lookup_string(ld, lg, "reply_to", &s);
	int i;

	l->reply_to = REPLYTO_NONE;
	if (v == NULL)
		return;
	i = find_name(names, v);
	if (i >= 0) {
		l->reply_to = (enum conf_reply_to)i;
		return;
	}
	l->reply_to_address = addr_normalize(v,
					     ld->c->local_part_case_sensitive);
	if (l->reply_to_address != NULL)
		l->reply_to = REPLYTO_ADDRESS;
	else
		invalid_enum(ld, s, "reply_to", v, names, "an address");
}

static char *get_url(struct loader *ld, const config_setting_t *lg,
		     const char *key)
{
	const config_setting_t *s;
	const char *v = lookup_string(ld, lg, key, &s);
	char tmp[SHOW_MAX + 4];

	if (v == NULL)
		return NULL;
	if (!url_ok(v)) {
		problem(ld, s, "%s%s: \"%s\" is not an http:// or https:// URL",
			ld->ctx, key, show(tmp, v));
		return NULL;
	}
	return xstrdup(v);
}

static void load_list(struct loader *ld, const config_setting_t *lg,
		      struct conf_list *l, size_t index)
{
	struct conf *c = ld->c;
	const config_setting_t *s;
	const char *name, *why;
	char *ctx, *def;
	char tmp[SHOW_MAX + 4];
	size_t i;

	l->line = (int)config_setting_source_line(lg);
	name = lookup_string(ld, lg, "name", &s);
	if (name != NULL) {
		ctx = xasprintf("list \"%s\": ", show(tmp, name));
	} else {
		ctx = xasprintf("lists[%zu]: ", index);
		if (s == NULL)
			problem(ld, lg, "%sname is required", ctx);
	}
	ld->ctx = ctx;
	check_keys(ld, lg, list_keys);
	if (name != NULL) {
		why = list_name_problem(name);
		if (why != NULL)
			problem(ld, s, "%sthe list name %s", ctx, why);
		for (i = 0; i < c->nlists; i++) {
			if (c->lists[i].name != NULL &&
			    strcasecmp(c->lists[i].name, name) == 0)
				problem(ld, s, "duplicate list name \"%s\" "
					"(first at line %d)", show(tmp, name),
					c->lists[i].line);
		}
		l->name = xstrdup(name);
	}

	l->description = get_text(ld, lg, "description", "");
	l->policy = (enum conf_policy)get_enum(ld, lg, "policy", policy_names,
					       POLICY_MEMBERS);
	l->subscription = (enum conf_subscription)get_enum(
		ld, lg, "subscription", subscription_names, SUB_CONFIRM);
	get_strv(ld, lg, "sponsors", NULL, elem_address, &l->sponsors);
	s = get_strv(ld, lg, "leaders", NULL, elem_address, &l->leaders);
	if (s == NULL || (config_setting_length(s) == 0 &&
			  config_setting_is_aggregate(s)))
		problem(ld, lg, "%sa list needs at least one address in "
			"leaders", ctx);
	get_strv(ld, lg, "council", NULL, elem_address, &l->council);

	def = xasprintf("[%s] ", name != NULL ? name : "");
	l->subject_prefix = get_text(ld, lg, "subject_prefix", def);
	free(def);
	load_reply_to(ld, lg, l);
	l->from_munging = (enum conf_from_munging)get_enum(
		ld, lg, "from_munging", from_munging_names, FROMMUNGE_NONE);
	l->max_message_kb = get_int(ld, lg, "max_message_kb", 0, 0, KB_MAX);
	load_archive(ld, lg, l, ctx);
	l->unsubscribe_url = get_url(ld, lg, "unsubscribe_url");
	if (l->unsubscribe_url == NULL && c->web.url != NULL)
		l->unsubscribe_url = xasprintf("%su/", c->web.url);
	l->footer = get_bool(ld, lg, "footer", true);
	l->allow_who = get_bool(ld, lg, "allow_who", false);
	load_digest(ld, lg, l, ctx);
	load_meetings(ld, lg, l, ctx);
	load_report(ld, lg, l, ctx);
	load_filters(ld, lg, l, ctx);
	get_regexes(ld, lg, "bans", &l->bans, &l->ban_rx);
	def = xasprintf("%sbounces.", ctx);
	load_bounces(ld, get_group(ld, lg, "bounces"), &l->bounces,
		     &c->bounces, def);
	free(def);
	l->council_may_approve = get_bool(ld, lg, "council_may_approve",
					  false);
	l->hold_expiry_s = get_duration(ld, lg, "hold_expiry", 14 * 86400L);
	l->max_message_action = (enum conf_hold_action)get_enum(
		ld, lg, "max_message_action", hold_action_names, HOLDACT_HOLD);
	l->announce_action = (enum conf_hold_action)get_enum(
		ld, lg, "announce_action", hold_action_names, HOLDACT_HOLD);
	l->max_recipients = get_int(ld, lg, "max_recipients", 10, 0, 100000);
	load_content(ld, lg, l, ctx);
	ld->ctx = "";
	free(ctx);
}

int conf_parse_hostport(const char *s, char **host_r, int *port_r)
{
	const char *colon, *h = s, *he;
	char *end;
	long port;

	if (s == NULL)
		return -1;
	if (*s == '[') {
		he = strchr(s, ']');
		if (he == NULL || he[1] != ':')
			return -1;
		h = s + 1;
		colon = he + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL || memchr(s, ':', (size_t)(colon - s)))
			return -1;
		he = colon;
	}
	if (he == h || colon[1] < '0' || colon[1] > '9')
		return -1;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno != 0 || *end != '\0' || port < 1 || port > 65535)
		return -1;
	for (const char *p = h; p < he; p++)
		if ((unsigned char)*p <= 32 || *p == '/' || *p == '[')
			return -1;
	*host_r = xstrndup(h, (size_t)(he - h));
	*port_r = (int)port;
	return 0;
}

static void load_web(struct loader *ld, const config_setting_t *g)
{
	struct conf_web *w = &ld->c->web;
	const config_setting_t *s;
	const char *v;
	char tmp[SHOW_MAX + 4], *url;

	ld->ctx = "web.";
	if (g != NULL)
		check_keys(ld, g, web_keys);
	url = get_url(ld, g, "url");
	if (url != NULL && strpbrk(url, "?#") != NULL) {
		problem(ld, member(g, "url"), "web.url: the address of convene "
			"web takes no query (?) or fragment (#)");
		xfree(&url);
	}
	if (url != NULL) {
		size_t n = strlen(url);

		w->url = url[n - 1] == '/' ? url : xasprintf("%s/", url);
		if (w->url != url)
			free(url);
	}
	v = lookup_string(ld, g, "dir", &s);
	if (v != NULL && v[0] == '\0') {
		problem(ld, s, "web.dir must not be empty");
		v = NULL;
	}
	w->dir = v != NULL ? resolve(ld->c, v) : NULL;
	v = lookup_string(ld, g, "listen", &s);
	if (v == NULL) {
		w->listen_host = xstrdup("127.0.0.1");
		w->listen_port = 8080;
	} else if (conf_parse_hostport(v, &w->listen_host,
				     &w->listen_port) < 0) {
		problem(ld, s, "web.listen: \"%s\" is not HOST:PORT (such as "
			"127.0.0.1:8080 or [::1]:8080)", show(tmp, v));
		w->listen_host = xstrdup("127.0.0.1");
		w->listen_port = 8080;
	}
}

static void load_lists(struct loader *ld, const config_setting_t *root)
{
	struct conf *c = ld->c;
	const config_setting_t *s;
	int i, n = group_list(ld, root, "lists", &s);

	if (n < 0)
		return;
	c->lists = xcalloc((size_t)n, sizeof *c->lists);
	for (i = 0; i < n; i++) {
		const config_setting_t *g = group_at(ld, s, i, "");

		if (g == NULL)
			continue;
		/* Counted before it is filled, so conf_free sees it all. */
		c->nlists++;
		load_list(ld, g, &c->lists[c->nlists - 1], (size_t)i);
	}
}

static void load_top(struct loader *ld, const config_setting_t *root)
{
	struct conf *c = ld->c;
	const config_setting_t *s;
	const char *v;
	char tmp[SHOW_MAX + 4];
	size_t i;

	ld->ctx = "";
	check_keys(ld, root, top_keys);
	v = lookup_string(ld, root, "domain", &s);
	if (s == NULL)
		problem(ld, NULL, "domain is required (the lists' mail "
			"domain, e.g. \"lists.example.org\")");
	if (v != NULL) {
		if (!domain_ok(v, false))
			problem(ld, s, "domain: \"%s\" is not a domain name",
				show(tmp, v));
		c->domain = xstrdup(v);
		for (i = 0; c->domain[i] != '\0'; i++) {
			if (c->domain[i] >= 'A' && c->domain[i] <= 'Z')
				c->domain[i] = (char)(c->domain[i] - 'A' + 'a');
		}
	}

	v = lookup_string(ld, root, "database", &s);
	if (v != NULL && v[0] == '\0') {
		problem(ld, s, "database must not be empty");
		v = NULL;
	}
	c->database = resolve(c, v != NULL ? v : "convene.db");
	v = lookup_string(ld, root, "templates", &s);
	if (v != NULL && v[0] == '\0') {
		problem(ld, s, "templates must not be empty");
		v = NULL;
	}
	c->templates = resolve(c, v != NULL ? v : PKGDATADIR "/templates");
	v = lookup_string(ld, root, "language", &s);
	if (v != NULL && !language_ok(v)) {
		problem(ld, s, "language: \"%s\" is not a language tag like "
			"\"en\"", show(tmp, v));
		v = NULL;
	}
	c->language = xstrdup(v != NULL ? v : "en");
	c->busy_timeout_ms = get_int(ld, root, "busy_timeout_ms", 5000, 0,
				     INT_MAX);
	c->local_part_case_sensitive = get_bool(ld, root,
						"local_part_case_sensitive",
						false);
	c->confirm_expiry_s = get_duration(ld, root, "confirm_expiry",
					   3 * 86400L);
	get_rate(ld, root, "answer_rate_limit", 5, 3600,
		 &c->answer_rate_max, &c->answer_rate_window_s);
	get_regexes(ld, root, "bans", &c->bans, &c->ban_rx);
}

/* Rank of a problem's file: files in the order they first had a problem. */
static size_t file_rank(const struct conf_problems *p, size_t i)
{
	size_t j;

	for (j = 0; j < i; j++) {
		if (strcmp(p->v[j].file, p->v[i].file) == 0)
			return j;
	}
	return i;
}

/* Orders problems by file and line, as the admin reads the file; stable,
 * so problems of one line keep the order they were found in. */
static void sort_problems(struct conf_problems *p)
{
	size_t i, j, *rank = xcalloc(p->n, sizeof *rank);

	for (i = 0; i < p->n; i++)
		rank[i] = file_rank(p, i);
	for (i = 1; i < p->n; i++) {
		struct conf_problem v = p->v[i];
		size_t r = rank[i];

		for (j = i; j > 0 && (rank[j - 1] > r ||
		     (rank[j - 1] == r && p->v[j - 1].line > v.line)); j--) {
			p->v[j] = p->v[j - 1];
			rank[j] = rank[j - 1];
		}
		p->v[j] = v;
		rank[j] = r;
	}
	free(rank);
}

/* The config file's folder, absolute. */
static char *folder_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir, *real, *cwd;

	if (slash == NULL)
		dir = xstrdup(".");
	else if (slash == path)
		dir = xstrdup("/");
	else
		dir = xstrndup(path, (size_t)(slash - path));
	real = realpath(dir, NULL);
	if (real != NULL) {
		free(dir);
		dir = xstrdup(real);
		free(real);
		return dir;
	}
	if (dir[0] == '/')
		return dir;
	cwd = getcwd(NULL, 0);
	if (cwd == NULL)
		return dir;
	real = xasprintf("%s/%s", cwd, dir);
	free(cwd);
	free(dir);
	return real;
}

/* Whether the file can be opened and read (libconfig cannot tell a missing
 * file from a folder or a permission problem), and is a regular file: a
 * FIFO or a device would keep every receive waiting for a writer (so it is
 * opened without blocking, and refused). */
static int probe_readable(const char *path, int *errno_r)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	char c;

	if (fd < 0) {
		*errno_r = errno;
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		*errno_r = errno;
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		*errno_r = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		close(fd);
		return -1;
	}
	if (read(fd, &c, 1) < 0) {
		*errno_r = errno;
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* The files the config names with @include (libconfig opens them itself,
 * blocking): one that exists must be a regular file too. A path is taken
 * from the folder of the config, as libconfig takes it. 0, or -1 with
 * *bad_r (newly allocated) and *errno_r. */
static int probe_includes(const char *path, const char *dir, char **bad_r,
			  int *errno_r)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	struct stat st;
	int rc = 0;

	if (f == NULL)
		return 0;
	while (rc == 0 && fgets(line, sizeof line, f) != NULL) {
		char *p = line, *q, *inc;

		while (*p == ' ' || *p == '\t')
			p++;
		if (strncmp(p, "@include", 8) != 0)
			continue;
		p = strchr(p + 8, '"');
		q = p != NULL ? strchr(p + 1, '"') : NULL;
		if (q == NULL)
			continue;
		*q = '\0';
		inc = p[1] == '/' ? xstrdup(p + 1) :
		      xasprintf("%s/%s", dir, p + 1);
		/* a missing one is libconfig's to report, with its line */
		if (stat(inc, &st) == 0 && !S_ISREG(st.st_mode)) {
			*errno_r = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
			*bad_r = inc;
			rc = -1;
		} else {
			free(inc);
		}
	}
	fclose(f);
	return rc;
}

/* Why libconfig could not read path (I/O, or a syntax error with its file
 * and line), as a problem. */
static void read_problem(const config_t *cfg, const char *path,
			 const char *dir, struct conf_problems *problems,
			 bool *unreadable_r)
{
	const char *f;
	char *file;

	if (config_error_type(cfg) == CONFIG_ERR_FILE_IO) {
		if (unreadable_r != NULL)
			*unreadable_r = true;
		add_problem(problems, path, 0,
			    xstrdup("cannot read the configuration"));
		return;
	}
	f = config_error_file(cfg);
	file = f == NULL || strcmp(f, path) == 0 || f[0] == '/' ?
	       xstrdup(f != NULL ? f : path) : xasprintf("%s/%s", dir, f);
	add_problem(problems, file, config_error_line(cfg),
		    xasprintf("%s", config_error_text(cfg) ?
			      config_error_text(cfg) : "syntax error"));
	free(file);
}

int conf_load(const char *path, struct conf **conf_r,
	      struct conf_problems *problems, bool *unreadable_r)
{
	struct loader ld = { .problems = problems, .ctx = "" };
	struct conf *c;
	config_t cfg;
	config_setting_t *root;
	int err = 0;

	*conf_r = NULL;
	problems->v = NULL;
	problems->n = 0;
	if (unreadable_r != NULL)
		*unreadable_r = false;
	if (path == NULL || *path == '\0') {
		add_problem(problems, "(none)", 0,
			    xstrdup("no configuration file named"));
		return -1;
	}
	if (probe_readable(path, &err) < 0) {
		if (unreadable_r != NULL)
			*unreadable_r = true;
		add_problem(problems, path, 0,
			    xasprintf("cannot read the configuration: %s",
				      strerror(err)));
		return -1;
	}

	c = xcalloc(1, sizeof *c);
	c->file = xstrdup(path);
	c->dir = folder_of(path);
	{
		char *bad = NULL;

		if (probe_includes(path, c->dir, &bad, &err) < 0) {
			if (unreadable_r != NULL)
				*unreadable_r = true;
			add_problem(problems, path, 0,
				    xasprintf("cannot read %s: %s", bad,
					      strerror(err)));
			free(bad);
			conf_free(&c);
			return -1;
		}
	}
	ld.c = c;
	config_init(&cfg);
	config_set_include_dir(&cfg, c->dir);
	if (config_read_file(&cfg, path) != CONFIG_TRUE) {
		read_problem(&cfg, path, c->dir, problems, unreadable_r);
		config_destroy(&cfg);
		conf_free(&c);
		return -1;
	}

	root = config_root_setting(&cfg);
	load_top(&ld, root);
	ld.ctx = "";
	load_outbound(&ld, get_group(&ld, root, "outbound"));
	ld.ctx = "";
	load_lmtp(&ld, get_group(&ld, root, "lmtp"));
	ld.ctx = "";
	load_limits(&ld, get_group(&ld, root, "limits"));
	ld.ctx = "";
	load_bounces(&ld, get_group(&ld, root, "bounces"), &c->bounces, NULL,
		     "bounces.");
	ld.ctx = "";
	load_web(&ld, get_group(&ld, root, "web"));
	ld.ctx = "";
	load_lists(&ld, root);
	config_destroy(&cfg);
	if (problems->n > 0) {
		sort_problems(problems);
		conf_free(&c);
		return -1;
	}
	*conf_r = c;
	return 0;
}

static void filter_free(struct conf_filter *f)
{
	free(f->header);
	free(f->match);
	rx_free(&f->rx);
	free(f->reason);
}

static void regexes_free(struct conf_strv *src, struct rx ***rx)
{
	size_t i;

	if (*rx != NULL) {
		for (i = 0; i < src->n; i++)
			rx_free(&(*rx)[i]);
	}
	xfree(rx);
	strv_free(src);
}

static void list_free(struct conf_list *l)
{
	size_t i;

	free(l->name);
	free(l->description);
	strv_free(&l->sponsors);
	strv_free(&l->leaders);
	strv_free(&l->council);
	free(l->subject_prefix);
	free(l->reply_to_address);
	free(l->archive_url);
	free(l->unsubscribe_url);
	free(l->digest_schedule);
	free(l->digest_timezone);
	strv_free(&l->meeting_reminders);
	free(l->report_schedule);
	free(l->report_nudge);
	free(l->report_timezone);
	strv_free(&l->report_to);
	strv_free(&l->content_strip);
	strv_free(&l->content_pass);
	free(l->meeting_timezone);
	for (i = 0; i < l->nfilters; i++)
		filter_free(&l->filters[i]);
	free(l->filters);
	regexes_free(&l->bans, &l->ban_rx);
}

void conf_free(struct conf **conf)
{
	struct conf *c;
	size_t i;

	if (conf == NULL || *conf == NULL)
		return;
	c = *conf;
	free(c->file);
	free(c->dir);
	free(c->domain);
	free(c->database);
	free(c->templates);
	free(c->language);
	free(c->outbound.host);
	for (i = 0; i < c->outbound.nrelays; i++)
		free(c->outbound.relays[i].host);
	free(c->outbound.relays);
	free(c->outbound.path);
	strv_free(&c->outbound.sendmail_argv);
	free(c->outbound.auth_user);
	if (c->outbound.auth_password != NULL) {
		explicit_bzero(c->outbound.auth_password,
			       strlen(c->outbound.auth_password));
		free(c->outbound.auth_password);
	}
	free(c->outbound.helo);
	strv_free(&c->outbound.retry_schedule);
	conf_listen_free(&c->lmtp.listen);
	free(c->web.url);
	free(c->web.dir);
	free(c->web.listen_host);
	regexes_free(&c->bans, &c->ban_rx);
	for (i = 0; i < c->nlists; i++)
		list_free(&c->lists[i]);
	free(c->lists);
	xfree(conf);
}

void conf_problems_free(struct conf_problems *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n; i++) {
		free(p->v[i].file);
		free(p->v[i].message);
	}
	xfree(&p->v);
	p->n = 0;
}

const char *conf_default_path(const char *explicit_path)
{
	const char *env;

	if (explicit_path != NULL && *explicit_path != '\0')
		return explicit_path;
	env = getenv("CONVENE_CONFIG");
	if (env != NULL && *env != '\0')
		return env;
	return SYSCONFDIR "/convene/convene.conf";
}

const char *conf_policy_name(enum conf_policy p)
{
	return (unsigned)p < sizeof policy_names / sizeof policy_names[0] - 1 ?
	       policy_names[p] : "";
}

const char *conf_subscription_name(enum conf_subscription s)
{
	return (unsigned)s < sizeof subscription_names /
			     sizeof subscription_names[0] - 1 ?
	       subscription_names[s] : "";
}

const struct conf_list *conf_find_list(const struct conf *c, const char *name)
{
	size_t i;

	if (c == NULL || name == NULL)
		return NULL;
	for (i = 0; i < c->nlists; i++) {
		if (c->lists[i].name != NULL &&
		    strcasecmp(c->lists[i].name, name) == 0)
			return &c->lists[i];
	}
	return NULL;
}

bool conf_list_is_leader(const struct conf_list *l, const char *addr)
{
	return strv_has_ci(&l->leaders, addr);
}

bool conf_list_is_sponsor(const struct conf_list *l, const char *addr)
{
	return strv_has_ci(&l->sponsors, addr);
}

bool conf_list_is_council(const struct conf_list *l, const char *addr)
{
	return strv_has_ci(&l->council, addr);
}

long conf_parse_duration(const char *s)
{
	long total = 0, v, mult;
	const char *p = s;

	if (s == NULL || *s == '\0')
		return -1;
	while (*p != '\0') {
		if (*p < '0' || *p > '9')
			return -1;
		for (v = 0; *p >= '0' && *p <= '9'; p++) {
			if (v > (LONG_MAX - (*p - '0')) / 10)
				return -1;
			v = v * 10 + (*p - '0');
		}
		switch (*p) {
		case '\0':
			/* A bare number is seconds, but only on its own. */
			if (total != 0 || p != s + strspn(s, "0123456789"))
				return -1;
			return v;
		case 's': mult = 1; break;
		case 'm': mult = 60; break;
		case 'h': mult = 3600; break;
		case 'd': mult = 86400; break;
		case 'w': mult = 604800; break;
		default:
			return -1;
		}
		p++;
		if (v > (LONG_MAX - total) / mult)
			return -1;
		total += v * mult;
	}
	return total;
}

static void add_role(const char **v, size_t *n, const struct conf_strv *r)
{
	size_t i, k;

	for (i = 0; i < r->n; i++) {
		bool seen = false;

		for (k = 0; k < *n; k++)
			seen |= strcasecmp(v[k], r->v[i]) == 0;
		if (!seen)
			v[(*n)++] = r->v[i];
	}
}

const char **conf_list_roles(const struct conf_list *l, int roles,
			     size_t *n_r)
{
	const char **v = xcalloc(l->sponsors.n + l->leaders.n + l->council.n +
				 1, sizeof *v);
	size_t n = 0;

	if (roles & CONF_SPONSORS)
		add_role(v, &n, &l->sponsors);
	if (roles & CONF_LEADERS)
		add_role(v, &n, &l->leaders);
	if (roles & CONF_COUNCIL)
		add_role(v, &n, &l->council);
	*n_r = n;
	return v;
}
