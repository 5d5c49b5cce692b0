/* cmd_digest - the next digest of a list: preview it, or send it now */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/conf.h"
#include "front/front.h"
#include "pipeline/digest.h"
#include "base/status.h"
#include "store/store.h"

static const char usage_text[] =
	"usage: convene digest LIST preview\n"
	"       convene digest LIST send\n";

static enum status do_preview(struct store *s, const struct conf *c,
			      const struct conf_list *l)
{
	struct buf out = BUF_INIT;
	size_t n;
	char *err = NULL;

	if (digest_preview(c, l, s, &out, &n, &err) < 0) {
		fprintf(stderr, "convene: %s\n", err);
		free(err);
		buf_free(&out);
		return store_transient(s) ? ST_TEMPFAIL : ST_SOFTWARE;
	}
	if (n == 0)
		printf("%s: no posts wait for the next digest\n", l->name);
	else
		fwrite(out.data, 1, out.len, stdout);
	buf_free(&out);
	return ST_OK;
}

static enum status do_send(struct store *s, const struct conf *c,
			   const struct conf_list *l)
{
	struct digest_issued d;
	bool issued;
	char *err = NULL;

	if (digest_send_now(c, l, s, &d, &issued, &err) < 0) {
		fprintf(stderr, "convene: %s\n", err);
		free(err);
		return store_transient(s) ? ST_TEMPFAIL : ST_SOFTWARE;
	}
	if (!issued) {
		printf("%s: no posts wait for the next digest; nothing sent\n",
		       l->name);
		return ST_OK;
	}
	printf("%s: Vol %lld, Issue %lld queued with %zu post(s): job %lld "
	       "(digest), job %lld (digest-plain), %zu own issue(s)\n",
	       l->name, (long long)d.volume, (long long)d.number, d.messages,
	       (long long)d.jobs[0], (long long)d.jobs[1], d.personal);
	return ST_OK;
}

int cmd_digest(int argc, char **argv, const char *config)
{
	struct conf *c = NULL;
	struct store *s = NULL;
	const struct conf_list *l;
	enum status st;

	if (argc != 3 || (strcmp(argv[2], "preview") != 0 &&
			  strcmp(argv[2], "send") != 0)) {
		fputs(usage_text, stderr);
		return status_to_exit(ST_USAGE);
	}
	st = front_open_list(config, argv[1], &c, &l, &s);
	if (st != ST_OK)
		return status_to_exit(st);
	if (strcmp(argv[2], "preview") == 0)
		st = do_preview(s, c, l);
	else
		st = do_send(s, c, l);
	store_close(&s);
	conf_free(&c);
	return status_to_exit(st);
}
