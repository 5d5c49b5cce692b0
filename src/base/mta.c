/* mta - the wiring to paste into Postfix or Exim, and its check */
#include "autoconf.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/mta.h"
#include "base/buf.h"
#include "base/conf.h"
#include "base/xalloc.h"

/* The names the wiring gives its parts. */
#define PF_SERVICE "convene"
#define PF_FLAGS "DRhu"
#define EXIM_ROUTER "convene_router"
#define EXIM_TRANSPORT "convene_transport"
#define EXIM_LMTP "convene_lmtp"
/* Where Postfix keeps its queue, unless postconf says otherwise: a socket
 * below it is named relative to it (lmtp(8) may run chrooted there). */
#define PF_QUEUE_DEFAULT "/var/spool/postfix"

/* Most output kept from one tool run. */
#define TOOL_OUT_MAX (1024 * 1024)

/* Something that goes into an MTA config line as one word. */
static bool word_ok(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s <= 32 || *s == 127)
			return false;
	}
	return true;
}

int mta_wiring_init(struct mta_wiring *w, enum mta_kind kind,
		    const struct conf *c, const char *program,
		    const char *config, const char *user, char **error_r)
{
	memset(w, 0, sizeof *w);
	if (!word_ok(program) || (config != NULL && !word_ok(config))) {
		*error_r = xasprintf("the path %s holds white space or control "
				     "characters: the MTA would split it",
				     word_ok(program) ? config : program);
		return -1;
	}
	if (!word_ok(user) || strchr(user, ':') != NULL) {
		*error_r = xasprintf("not a user name: %s", user);
		return -1;
	}
	w->kind = kind;
	w->domain = xstrdup(c->domain);
	w->command = config != NULL ?
		     xasprintf("%s -c %s receive", program, config) :
		     xasprintf("%s receive", program);
	w->user = xstrdup(user);
	w->probe = xasprintf("%s@%s", c->nlists > 0 ? c->lists[0].name :
				      "postmaster", c->domain);
	return 0;
}

void mta_wiring_deinit(struct mta_wiring *w)
{
	free(w->domain);
	free(w->command);
	free(w->user);
	free(w->probe);
	free(w->socket);
	free(w->host);
	memset(w, 0, sizeof *w);
}

int mta_wiring_lmtp(struct mta_wiring *w, const struct conf *c,
		    const struct conf_listen *listen, char **error_r)
{
	const struct conf_listen *l = listen != NULL ? listen :
				      &c->lmtp.listen;

	if (l->path != NULL && !word_ok(l->path)) {
		*error_r = xasprintf("the socket path %s holds white space or "
				     "control characters: the MTA would split "
				     "it", l->path);
		return -1;
	}
	w->lmtp = true;
	free(w->socket);
	free(w->host);
	w->socket = l->path != NULL ? xstrdup(l->path) : NULL;
	w->host = l->host != NULL ? xstrdup(l->host) : NULL;
	w->port = l->port;
	return 0;
}

/* Postfix's next hop for the LMTP wiring, with a socket below `queue`
 * named relative to it; newly allocated. */
static char *pf_lmtp_target(const struct mta_wiring *w, const char *queue)
{
	size_t n = strlen(queue);

	if (w->socket == NULL)
		return xasprintf(strchr(w->host, ':') != NULL ?
				 "lmtp:inet:[%s]:%d" : "lmtp:inet:%s:%d",
				 w->host, w->port);
	if (strncmp(w->socket, queue, n) == 0 && w->socket[n] == '/')
		return xasprintf("lmtp:unix:%s", w->socket + n + 1);
	return xasprintf("lmtp:unix:%s", w->socket);
}

/* The next hop the transport map must give: "convene:" (the pipe) or the
 * LMTP one. */
static char *pf_target(const struct mta_wiring *w, const char *queue)
{
	return w->lmtp ? pf_lmtp_target(w, queue) :
			 xasprintf("%s:", PF_SERVICE);
}

/* ---- what to paste ---- */

static void print_postfix_lmtp(const struct mta_wiring *w, struct buf *b)
{
	char *target = pf_lmtp_target(w, PF_QUEUE_DEFAULT);

	buf_printf(b, "# Postfix: mail for %s goes to convene over LMTP, to "
		   "`convene lmtp`\n# listening on %s%s.\n"
		   "# Check it with: convene mta postfix --lmtp --check\n\n",
		   w->domain, w->socket != NULL ? "unix:" : "",
		   w->socket != NULL ? w->socket : target + 10);
	buf_printf(b, "# /etc/postfix/main.cf: add these settings (where "
		   "relay_domains or\n# transport_maps already have a "
		   "value, add to it). The inline table\n# needs Postfix 3.0 "
		   "or later.\n"
		   "relay_domains = %s\n"
		   "transport_maps = inline:{ %s=%s }\n\n", w->domain,
		   w->domain, target);
	if (w->socket != NULL && strncmp(target, "lmtp:unix:/", 11) == 0)
		buf_printf(b, "# Where Postfix's lmtp(8) runs chrooted (Debian: "
			   "a y in the chroot column\n# of its line in "
			   "master.cf) it cannot reach %s:\n# have convene "
			   "listen below %s instead, in convene.conf:\n"
			   "#   lmtp = { listen = \"unix:%s/private/"
			   "convene-lmtp\"; };\n# and print this again.\n\n",
			   w->socket, PF_QUEUE_DEFAULT, PF_QUEUE_DEFAULT);
	buf_printf(b, "# Then: postfix reload\n");
	free(target);
}

static void print_postfix(const struct mta_wiring *w, struct buf *b)
{
	if (w->lmtp) {
		print_postfix_lmtp(w, b);
		return;
	}
	buf_printf(b, "# Postfix: mail for %s goes to convene through pipe(8).\n"
		   "# Check it with: convene mta postfix --check\n\n",
		   w->domain);
	buf_printf(b, "# /etc/postfix/master.cf: add this service.\n"
		   "%-9s unix  -       n       n       -       -       pipe\n"
		   "  flags=%s user=%s argv=%s --recipient ${recipient}\n\n",
		   PF_SERVICE, PF_FLAGS, w->user, w->command);
	buf_printf(b, "# /etc/postfix/main.cf: add these settings (where "
		   "relay_domains or\n# transport_maps already have a "
		   "value, add to it). The inline table\n# needs Postfix 3.0 "
		   "or later.\n"
		   "relay_domains = %s\n"
		   "transport_maps = inline:{ %s=%s: }\n"
		   "%s_destination_recipient_limit = 1\n\n"
		   "# Then: postfix reload\n",
		   w->domain, w->domain, PF_SERVICE, PF_SERVICE);
}

static void print_exim_lmtp(const struct mta_wiring *w, struct buf *b)
{
	buf_printf(b, "# Transports (Debian's split config:\n"
		   "# /etc/exim4/conf.d/transport/30_convene).\n%s:\n",
		   EXIM_LMTP);
	if (w->socket != NULL)
		buf_printf(b, "  driver = lmtp\n"
			   "  socket = %s\n"
			   "  batch_max = 50\n\n", w->socket);
	else
		buf_printf(b, "  driver = smtp\n"
			   "  protocol = lmtp\n"
			   "  hosts = %s\n"
			   "  port = %d\n"
			   "  hosts_override\n"
			   "  allow_localhost\n\n", w->host, w->port);
}

static void print_exim(const struct mta_wiring *w, struct buf *b)
{
	if (w->lmtp)
		buf_printf(b, "# Exim: mail for %s goes to convene over LMTP, to "
			   "`convene lmtp`.\n"
			   "# Check it with: convene mta exim --lmtp --check\n\n",
			   w->domain);
	else
		buf_printf(b, "# Exim: mail for %s goes to convene through a "
			   "pipe transport.\n"
			   "# Check it with: convene mta exim --check\n\n",
			   w->domain);
	buf_printf(b, "# Routers, before those that handle other domains "
		   "(Debian's split config:\n"
		   "# /etc/exim4/conf.d/router/150_convene).\n"
		   "%s:\n"
		   "  driver = accept\n"
		   "  domains = %s\n"
		   "  transport = %s\n\n",
		   EXIM_ROUTER, w->domain, w->lmtp ? EXIM_LMTP : EXIM_TRANSPORT);
	if (w->lmtp) {
		print_exim_lmtp(w, b);
		goto relay;
	}
	buf_printf(b, "# Transports (Debian's split config:\n"
		   "# /etc/exim4/conf.d/transport/30_convene).\n"
		   "%s:\n"
		   "  driver = pipe\n"
		   "  command = %s\n"
		   "  user = %s\n"
		   "  return_path_add\n"
		   "  return_fail_output\n"
		   "  log_output\n"
		   "  message_prefix =\n"
		   "  message_suffix =\n\n",
		   EXIM_TRANSPORT, w->command, w->user);
relay:
	buf_printf(b, "# Exim must also accept mail for %s from other hosts: "
		   "on Debian add it\n# to dc_relay_domains in "
		   "/etc/exim4/update-exim4.conf.conf (elsewhere to\n"
		   "# relay_to_domains). Then: update-exim4.conf and restart "
		   "exim4.\n", w->domain);
}

void mta_print(const struct mta_wiring *w, struct buf *out)
{
	if (w->kind == MTA_POSTFIX)
		print_postfix(w, out);
	else
		print_exim(w, out);
}

/* ---- small parsing helpers ---- */

struct strv {
	char **v;
	size_t n;
};

static void strv_add(struct strv *s, const char *p, size_t len)
{
	s->v = xreallocarray(s->v, s->n + 1, sizeof *s->v);
	s->v[s->n++] = xstrndup(p, len);
}

static void strv_clear(struct strv *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

/* Splits a Postfix list ("a, b c" or "inline:{ a=b, c=d }, hash:/x") into
 * its elements: separators are commas and white space outside braces. */
static void split_postfix_list(const char *v, struct strv *out)
{
	const char *p = v, *start = NULL;
	int depth = 0;

	for (;; p++) {
		bool sep = *p == '\0' ||
			   (depth == 0 && (*p == ',' || isspace((unsigned char)*p)));

		if (*p == '{')
			depth++;
		else if (*p == '}' && depth > 0)
			depth--;
		if (sep) {
			if (start != NULL)
				strv_add(out, start, (size_t)(p - start));
			start = NULL;
			if (*p == '\0')
				break;
		} else if (start == NULL) {
			start = p;
		}
	}
}

/* The value of "name = value" in `text` (one setting a line, as postconf
 * and exim -bP print them), newly allocated; NULL when absent. A line that
 * is only "name" (an Exim option that is on) gives "". */
static char *setting(const char *text, const char *name)
{
	size_t n = strlen(name);
	const char *p = text;

	while (p != NULL && *p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);

		if (len >= n && strncmp(p, name, n) == 0) {
			const char *q = p + n, *end = p + len;

			if (q == end)
				return xstrdup("");
			while (q < end && (*q == ' ' || *q == '\t'))
				q++;
			if (q < end && *q == '=') {
				q++;
				while (q < end && (*q == ' ' || *q == '\t'))
					q++;
				while (end > q && isspace((unsigned char)end[-1]))
					end--;
				return xstrndup(q, (size_t)(end - q));
			}
		}
		p = nl != NULL ? nl + 1 : NULL;
	}
	return NULL;
}

static void trim_end(struct buf *b)
{
	while (b->len > 0 && isspace((unsigned char)b->data[b->len - 1]))
		buf_truncate(b, b->len - 1);
}

/* One tool run; its output in *out (reset first). Returns the exit status,
 * or -1 when the tool could not be run. */
static int tool(mta_run_fn *run, void *ctx, struct buf *out,
		const char *input, const char *const *argv)
{
	int status = -1;

	buf_reset(out);
	if (run(ctx, (char *const *)argv, input, out, &status) < 0)
		return -1;
	return status;
}

struct checker {
	mta_run_fn *run;
	void *ctx;
	const char *config;     /* -c DIR / -C FILE, or NULL */
	struct buf *report;
	int missing;
};

static void ok(struct checker *k, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void missing(struct checker *k, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void say(struct checker *k, const char *label, const char *fmt,
		va_list ap) __attribute__((format(printf, 3, 0)));

static void say(struct checker *k, const char *label, const char *fmt,
		va_list ap)
{
	char *line = xvasprintf(fmt, ap);

	buf_printf(k->report, "%s: %s\n", label, line);
	free(line);
}

static void ok(struct checker *k, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(k, "ok", fmt, ap);
	va_end(ap);
}

static void missing(struct checker *k, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(k, "missing", fmt, ap);
	va_end(ap);
	k->missing++;
}

/* ---- Postfix ---- */

/* argv for a Postfix tool, with -c when a config folder was named. */
static void pf_argv(const struct checker *k, const char **argv,
		    const char *prog, const char *a1, const char *a2,
		    const char *a3)
{
	size_t i = 0;

	argv[i++] = prog;
	if (k->config != NULL) {
		argv[i++] = "-c";
		argv[i++] = k->config;
	}
	argv[i++] = a1;
	argv[i++] = a2;
	argv[i++] = a3;
	argv[i] = NULL;
}

/* What `table` gives for `key` (postmap -q), newly allocated, or NULL. */
static char *pf_lookup(struct checker *k, const char *table, const char *key)
{
	const char *argv[8];
	struct buf out = BUF_INIT;
	char *v = NULL;

	pf_argv(k, argv, "postmap", "-q", key, table);
	if (tool(k->run, k->ctx, &out, NULL, argv) == 0) {
		trim_end(&out);
		v = xstrdup(buf_cstr(&out));
	}
	buf_free(&out);
	return v;
}

/* A main.cf list setting with $names expanded (postconf -xh NAME). */
static int pf_list(struct checker *k, const char *name, struct strv *out)
{
	const char *argv[8];
	struct buf b = BUF_INIT;
	int rc;

	pf_argv(k, argv, "postconf", "-xh", name, NULL);
	rc = tool(k->run, k->ctx, &b, NULL, argv);
	if (rc == 0)
		split_postfix_list(buf_cstr(&b), out);
	buf_free(&b);
	return rc;
}

/* The master.cf service, from `postconf -M`: its fields and arguments. */
static void pf_check_master(struct checker *k, const struct mta_wiring *w,
			    const char *services)
{
	const char *p = services;
	char *want_argv = xasprintf("%s --recipient ${recipient}", w->command);

	while (p != NULL && *p != '\0') {
		const char *nl = strchr(p, '\n');
		char *line = xstrndup(p, nl != NULL ? (size_t)(nl - p) :
					 strlen(p));
		struct strv f = { 0 };
		const char *argv_at;
		size_t i;

		split_postfix_list(line, &f);
		if (f.n < 8 || strcmp(f.v[0], PF_SERVICE) != 0 ||
		    strcmp(f.v[1], "unix") != 0) {
			strv_clear(&f);
			free(line);
			p = nl != NULL ? nl + 1 : NULL;
			continue;
		}
		/* Found: name type private unpriv chroot wakeup maxproc
		 * command args... */
		if (strcmp(f.v[7], "pipe") != 0)
			missing(k, "master.cf: service %s runs %s, not pipe",
				PF_SERVICE, f.v[7]);
		if (strcmp(f.v[3], "n") != 0)
			missing(k, "master.cf: service %s must not be "
				"unprivileged (4th column n, not %s)",
				PF_SERVICE, f.v[3]);
		if (strcmp(f.v[4], "n") != 0)
			missing(k, "master.cf: service %s must not run "
				"chrooted (5th column n, not %s)", PF_SERVICE,
				f.v[4]);
		for (i = 8; i < f.n; i++) {
			if (strncmp(f.v[i], "flags=", 6) == 0) {
				const char *fl;

				for (fl = PF_FLAGS; *fl != '\0'; fl++)
					if (strchr(f.v[i] + 6, *fl) == NULL)
						missing(k, "master.cf: service "
							"%s: flags lack %c",
							PF_SERVICE, *fl);
				break;
			}
		}
		if (i == f.n)
			missing(k, "master.cf: service %s: no flags=%s",
				PF_SERVICE, PF_FLAGS);
		for (i = 8; i < f.n; i++)
			if (strncmp(f.v[i], "user=", 5) == 0)
				break;
		if (i == f.n || strcmp(f.v[i] + 5, w->user) != 0)
			missing(k, "master.cf: service %s: user=%s (not %s)",
				PF_SERVICE, w->user,
				i == f.n ? "unset" : f.v[i]);
		argv_at = strstr(line, " argv=");
		if (argv_at == NULL || strcmp(argv_at + 6, want_argv) != 0)
			missing(k, "master.cf: service %s: argv=%s", PF_SERVICE,
				want_argv);
		else
			ok(k, "master.cf: service %s runs %s", PF_SERVICE,
			   want_argv);
		strv_clear(&f);
		free(line);
		free(want_argv);
		return;
	}
	missing(k, "master.cf: no service \"%s unix ... pipe\"", PF_SERVICE);
	free(want_argv);
}

/* The lmtp(8) service that will speak to `convene lmtp`: whether there is
 * one, and whether it runs chrooted (*chroot_r). */
static void pf_check_lmtp_service(struct checker *k, const char *services,
				  bool *chroot_r)
{
	const char *p = services;

	*chroot_r = false;
	while (p != NULL && *p != '\0') {
		const char *nl = strchr(p, '\n');
		char *line = xstrndup(p, nl != NULL ? (size_t)(nl - p) :
					 strlen(p));
		struct strv f = { 0 };

		split_postfix_list(line, &f);
		free(line);
		p = nl != NULL ? nl + 1 : NULL;
		if (f.n < 8 || strcmp(f.v[0], "lmtp") != 0 ||
		    strcmp(f.v[1], "unix") != 0 || strcmp(f.v[7], "lmtp") != 0) {
			strv_clear(&f);
			continue;
		}
		*chroot_r = strcmp(f.v[4], "y") == 0;
		ok(k, "master.cf: service lmtp runs lmtp(8)%s",
		   *chroot_r ? ", chrooted" : "");
		strv_clear(&f);
		return;
	}
	missing(k, "master.cf: no service \"lmtp unix - - n - - lmtp\"");
}

/* Postfix's queue folder (postconf -xh queue_directory). */
static char *pf_queue(struct checker *k)
{
	const char *argv[8];
	struct buf b = BUF_INIT;
	char *q;

	pf_argv(k, argv, "postconf", "-xh", "queue_directory", NULL);
	if (tool(k->run, k->ctx, &b, NULL, argv) == 0) {
		trim_end(&b);
		if (b.len > 1 && b.data[0] == '/') {
			q = xstrdup(buf_cstr(&b));
			buf_free(&b);
			return q;
		}
	}
	buf_free(&b);
	return xstrdup(PF_QUEUE_DEFAULT);
}

/* The master.cf part: the pipe service, or for LMTP the lmtp(8) service,
 * and where transport_maps must send the domain: *target_r, and
 * *abs_target_r (or NULL) another form that works too. */
static void pf_check_services(struct checker *k, const struct mta_wiring *w,
			      const char *services, char **target_r,
			      char **abs_target_r)
{
	char *queue = NULL;
	bool chroot = false;

	*abs_target_r = NULL;
	if (!w->lmtp) {
		pf_check_master(k, w, services);
		*target_r = pf_target(w, PF_QUEUE_DEFAULT);
		return;
	}
	pf_check_lmtp_service(k, services, &chroot);
	queue = pf_queue(k);
	*target_r = pf_target(w, queue);
	if (w->socket != NULL && strncmp(*target_r, "lmtp:unix:/", 11) == 0) {
		if (chroot)
			missing(k, "lmtp(8) runs chrooted in %s and cannot "
				"reach %s: have convene listen below it "
				"(lmtp = { listen = \"unix:%s/private/"
				"convene-lmtp\"; })", queue, w->socket, queue);
	} else if (w->socket != NULL && !chroot) {
		/* Unchrooted, the absolute path works as well. */
		*abs_target_r = xasprintf("lmtp:unix:%s", w->socket);
	}
	free(queue);
}

/* relay_domains: the domain itself, or a table that has it. 0, or -1
 * with *error_r when postconf cannot be run. */
static int pf_check_relay(struct checker *k, const struct mta_wiring *w,
			  char **error_r)
{
	struct strv list = { 0 };
	bool found = false;
	char *v;
	size_t i;

	if (pf_list(k, "relay_domains", &list) != 0) {
		*error_r = xstrdup("cannot run postconf -xh relay_domains");
		return -1;
	}
	for (i = 0; i < list.n && !found; i++) {
		if (strcasecmp(list.v[i], w->domain) == 0) {
			found = true;
		} else if (strchr(list.v[i], ':') != NULL) {
			v = pf_lookup(k, list.v[i], w->domain);
			found = v != NULL;
			free(v);
		}
	}
	if (found)
		ok(k, "main.cf: relay_domains has %s", w->domain);
	else
		missing(k, "main.cf: relay_domains = %s", w->domain);
	strv_clear(&list);
	return 0;
}

/* transport_maps: the first table that knows the domain decides; it must
 * send it to target (for LMTP exactly target or abs_target, for the pipe
 * the service whatever its next hop). 0, or -1 with *error_r when
 * postconf cannot be run. */
static int pf_check_transport(struct checker *k, const struct mta_wiring *w,
			      const char *target, const char *abs_target,
			      char **error_r)
{
	struct strv list = { 0 };
	char *v = NULL;
	size_t i;

	if (pf_list(k, "transport_maps", &list) != 0) {
		*error_r = xstrdup("cannot run postconf -xh transport_maps");
		return -1;
	}
	for (i = 0; i < list.n && v == NULL; i++)
		v = pf_lookup(k, list.v[i], w->domain);
	if (v != NULL && (w->lmtp ? strcmp(v, target) == 0 ||
			  (abs_target != NULL && strcmp(v, abs_target) == 0) :
			  strncmp(v, target, strlen(target)) == 0))
		ok(k, "main.cf: transport_maps sends %s to %s", w->domain, v);
	else if (v != NULL)
		missing(k, "main.cf: transport_maps sends %s to %s, not to "
			"%s (transport_maps = inline:{ %s=%s })", w->domain,
			v, target, w->domain, target);
	else
		missing(k, "main.cf: transport_maps = inline:{ %s=%s }",
			w->domain, target);
	free(v);
	strv_clear(&list);
	return 0;
}

static int pf_check(struct checker *k, const struct mta_wiring *w,
		    char **error_r)
{
	const char *argv[8];
	struct buf out = BUF_INIT;
	char *v, *limit_name, *target, *abs_target;
	int rc;

	pf_argv(k, argv, "postconf", "-M", NULL, NULL);
	rc = tool(k->run, k->ctx, &out, NULL, argv);
	if (rc != 0) {
		*error_r = xasprintf("cannot run postconf -M%s (is Postfix "
				     "installed?)", rc > 0 ? ": it failed" : "");
		buf_free(&out);
		return -1;
	}
	pf_check_services(k, w, buf_cstr(&out), &target, &abs_target);
	rc = pf_check_relay(k, w, error_r);
	if (rc == 0)
		rc = pf_check_transport(k, w, target, abs_target, error_r);
	free(target);
	free(abs_target);
	if (rc < 0 || w->lmtp) {
		buf_free(&out);
		return rc < 0 ? -1 : k->missing;
	}

	/* One recipient per run: receive takes one --recipient. */
	pf_argv(k, argv, "postconf", "-n", NULL, NULL);
	if (tool(k->run, k->ctx, &out, NULL, argv) != 0) {
		*error_r = xstrdup("cannot run postconf -n");
		buf_free(&out);
		return -1;
	}
	limit_name = xasprintf("%s_destination_recipient_limit", PF_SERVICE);
	v = setting(buf_cstr(&out), limit_name);
	if (v != NULL && strcmp(v, "1") == 0)
		ok(k, "main.cf: %s = 1", limit_name);
	else
		missing(k, "main.cf: %s = 1%s%s%s", limit_name,
			v != NULL ? " (not " : "", v != NULL ? v : "",
			v != NULL ? ")" : "");
	free(v);
	free(limit_name);
	buf_free(&out);
	return k->missing;
}

/* ---- Exim ---- */

/* Runs exim (exim4 on Debian, else exim) with -C when a config was named.
 * Returns the exit status, or -1 when neither could be run. */
static int exim(struct checker *k, struct buf *out, const char *input,
		const char *a1, const char *a2, const char *a3)
{
	static const char *const names[] = { "exim4", "exim", NULL };
	const char *argv[8];
	size_t n, i;
	int rc = -1;

	for (n = 0; names[n] != NULL && rc < 0; n++) {
		i = 0;
		argv[i++] = names[n];
		if (k->config != NULL) {
			argv[i++] = "-C";
			argv[i++] = k->config;
		}
		argv[i++] = a1;
		argv[i++] = a2;
		argv[i++] = a3;
		argv[i] = NULL;
		rc = tool(k->run, k->ctx, out, input, argv);
	}
	return rc;
}

/* `want` for option `name` of a router or transport (from exim -bP). */
static void exim_expect(struct checker *k, const char *what, const char *opts,
			const char *name, const char *want)
{
	char *v = setting(opts, name);

	if (v == NULL || strcmp(v, want) != 0) {
		if (*want == '\0')
			missing(k, "%s: %s%s", what, name,
				strcmp(name, "message_prefix") == 0 ||
				strcmp(name, "message_suffix") == 0 ? " =" :
				"");
		else
			missing(k, "%s: %s = %s", what, name, want);
	}
	free(v);
}

/* The n-th SMTP reply's code in an exim -bh transcript (0: greeting). */
static int nth_reply(const char *text, int n)
{
	const char *p = text;
	int seen = 0;

	while (p != NULL && *p != '\0') {
		const char *nl = strchr(p, '\n');

		if (isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1]) &&
		    isdigit((unsigned char)p[2]) && (p[3] == ' ' || p[3] == '\r' ||
						     p[3] == '\n' || p[3] == '\0')) {
			if (seen == n)
				return atoi(p);
			seen++;
		}
		p = nl != NULL ? nl + 1 : NULL;
	}
	return 0;
}

/* The LMTP transport's options (from exim -bP; NULL: no such transport). */
static void exim_check_lmtp(struct checker *k, const struct mta_wiring *w,
			    const char *opts)
{
	const char *t = "transport " EXIM_LMTP;
	int before = k->missing;
	char port[16];

	if (opts == NULL) {
		if (w->socket != NULL)
			missing(k, "transport %s (driver = lmtp, socket = %s)",
				EXIM_LMTP, w->socket);
		else
			missing(k, "transport %s (driver = smtp, protocol = "
				"lmtp, hosts = %s, port = %d)", EXIM_LMTP,
				w->host, w->port);
		return;
	}
	if (w->socket != NULL) {
		exim_expect(k, t, opts, "driver", "lmtp");
		exim_expect(k, t, opts, "socket", w->socket);
	} else {
		snprintf(port, sizeof port, "%d", w->port);
		exim_expect(k, t, opts, "driver", "smtp");
		exim_expect(k, t, opts, "protocol", "lmtp");
		exim_expect(k, t, opts, "hosts", w->host);
		exim_expect(k, t, opts, "port", port);
		exim_expect(k, t, opts, "allow_localhost", "");
	}
	if (k->missing == before)
		ok(k, "router %s and transport %s speak LMTP to %s%s%s",
		   EXIM_ROUTER, EXIM_LMTP, w->socket != NULL ? w->socket :
		   w->host, w->socket != NULL ? "" : ":",
		   w->socket != NULL ? "" : port);
}

/* The transport the router names: the pipe running receive, or the lmtp
 * transport to `convene lmtp`. out is scratch space. */
static void exim_check_transport(struct checker *k,
				 const struct mta_wiring *w, struct buf *out)
{
	const char *transport = w->lmtp ? EXIM_LMTP : EXIM_TRANSPORT;
	const char *t = "transport " EXIM_TRANSPORT;
	int rc = exim(k, out, NULL, "-bP", "transport", transport);
	char *v = rc == 0 ? setting(buf_cstr(out), "driver") : NULL;

	if (w->lmtp) {
		exim_check_lmtp(k, w, v != NULL ? buf_cstr(out) : NULL);
	} else if (v == NULL) {
		missing(k, "transport %s (driver = pipe, command = %s)",
			EXIM_TRANSPORT, w->command);
	} else {
		exim_expect(k, t, buf_cstr(out), "driver", "pipe");
		exim_expect(k, t, buf_cstr(out), "command", w->command);
		exim_expect(k, t, buf_cstr(out), "user", w->user);
		exim_expect(k, t, buf_cstr(out), "return_path_add", "");
		exim_expect(k, t, buf_cstr(out), "return_fail_output", "");
		exim_expect(k, t, buf_cstr(out), "log_output", "");
		exim_expect(k, t, buf_cstr(out), "message_prefix", "");
		exim_expect(k, t, buf_cstr(out), "message_suffix", "");
	}
	free(v);
	if (k->missing == 0 && !w->lmtp)
		ok(k, "router %s and transport %s run %s as %s", EXIM_ROUTER,
		   EXIM_TRANSPORT, w->command, w->user);
}

static int exim_check(struct checker *k, const struct mta_wiring *w,
		      char **error_r)
{
	const char *transport = w->lmtp ? EXIM_LMTP : EXIM_TRANSPORT;
	struct buf out = BUF_INIT;
	char *input, *v, *routed;
	int rc, code;

	rc = exim(k, &out, NULL, "-bV", NULL, NULL);
	if (rc != 0) {
		*error_r = xstrdup(rc < 0 ? "cannot run exim4 or exim (is Exim "
				   "installed?)" : "exim -bV fails: Exim's "
				   "configuration does not load");
		buf_free(&out);
		return -1;
	}
	rc = exim(k, &out, NULL, "-bP", "router", EXIM_ROUTER);
	v = rc == 0 ? setting(buf_cstr(&out), "driver") : NULL;
	if (v == NULL) {
		missing(k, "router %s (driver = accept, domains = %s, "
			"transport = %s)", EXIM_ROUTER, w->domain, transport);
	} else {
		exim_expect(k, "router " EXIM_ROUTER, buf_cstr(&out), "driver",
			    "accept");
		exim_expect(k, "router " EXIM_ROUTER, buf_cstr(&out),
			    "transport", transport);
	}
	free(v);

	exim_check_transport(k, w, &out);

	/* Where Exim routes a list address: no earlier router may take it. */
	rc = exim(k, &out, NULL, "-bt", w->probe, NULL);
	routed = xasprintf("router = %s, transport = %s", EXIM_ROUTER,
			   transport);
	if (rc == 0 && strstr(buf_cstr(&out), routed) != NULL) {
		ok(k, "exim -bt %s: router %s, transport %s", w->probe,
		   EXIM_ROUTER, transport);
	} else {
		trim_end(&out);
		missing(k, "exim -bt %s does not reach %s (put the router "
			"before those that handle other domains)", w->probe,
			EXIM_ROUTER);
	}
	free(routed);

	/* Whether Exim takes mail for the domain from another host: a test
	 * SMTP session (exim -bh) with a null sender, as a bounce comes. */
	input = xasprintf("EHLO mta-check.invalid\r\nMAIL FROM:<>\r\n"
			  "RCPT TO:<%s>\r\nQUIT\r\n", w->probe);
	rc = exim(k, &out, input, "-bh", "192.0.2.1", NULL);
	free(input);
	code = rc >= 0 ? nth_reply(buf_cstr(&out), 3) : 0;
	if (code >= 200 && code < 300)
		ok(k, "Exim accepts mail for %s from other hosts", w->domain);
	else
		missing(k, "Exim refuses RCPT TO:<%s> from other hosts (%d): "
			"add %s to relay_to_domains (Debian: dc_relay_domains)",
			w->probe, code, w->domain);
	buf_free(&out);
	return k->missing;
}

int mta_check(const struct mta_wiring *w, const char *mta_config,
	      mta_run_fn *run, void *ctx, struct buf *report,
	      char **error_r)
{
	struct checker k = { .run = run, .ctx = ctx, .config = mta_config,
			     .report = report };

	*error_r = NULL;
	return w->kind == MTA_POSTFIX ? pf_check(&k, w, error_r) :
					exim_check(&k, w, error_r);
}
