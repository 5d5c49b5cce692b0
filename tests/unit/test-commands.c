/* test-commands - the command parser (request) */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "mail/msg.h"
#include "mail/request.h"
#include "base/xalloc.h"

#define TOK "0123456789abcdef0123456789abcdef"

/* The commands as "verb[:arg]" joined by '|'. */
static char *show(const struct request_cmds *c)
{
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < c->n; i++) {
		if (i > 0)
			buf_putc(&b, '|');
		buf_puts(&b, request_verb_name(c->v[i].verb));
		if (c->v[i].arg != NULL)
			buf_printf(&b, ":%s", c->v[i].arg);
	}
	return buf_steal(&b, NULL);
}

/* Parses from an exact-size heap copy, so that a read past the end is
 * caught by the sanitizers. */
static char *parse(const char *subject, const char *body, size_t len)
{
	struct request_cmds c;
	char *copy = xmalloc(len + 1), *s;

	memcpy(copy, body, len);
	copy[len] = '\0';
	request_parse(subject, copy, len, &c);
	s = show(&c);
	request_cmds_free(&c);
	free(copy);
	return s;
}

static const struct {
	const char *subject, *body, *want;
} table[] = {
	{ NULL, "help\n", "help" },
	{ "subscribe", "", "subscribe" },
	{ "Re: Fwd: AW: subscribe", "", "subscribe" },
	{ "Subscribe to your list please", "", "subscribe" },
	{ "subscribe digest", "", "subscribe:digest" },
	{ NULL, "subscribe weekly\n", "bad" },
	{ NULL, "SUBSCRIBE Digest-Plain\n", "subscribe:digest-plain" },
	{ NULL, "subscribe nomail.\n", "subscribe:nomail" },
	{ NULL, "unsubscribe\n", "unsubscribe" },
	{ NULL, "set digest\nset mode nomail\nset\nset weekly\n",
	  "set:digest|set:nomail|bad|bad" },
	{ NULL, "who\ninfo\nhelp\n", "who|info|help" },
	{ "Re: confirm " TOK ": joining makers", "", "confirm:" TOK },
	{ NULL, "confirm <" TOK ">\n", "confirm:" TOK },
	{ NULL, "confirm makers-confirm+" TOK "@lists.example.org\n",
	  "confirm:" TOK },
	{ NULL, "confirm 0123\n", "bad" },
	{ NULL, "confirm " TOK "00\n", "bad" },
	{ NULL, "confirm\n", "bad" },
	/* several a message, repeats once, stops */
	{ "help", "help\nwho\nwho\n", "help|who" },
	{ NULL, "  help  \n\n\twho\t\n", "help|who" },
	{ NULL, "help\n-- \nwho\n", "help" },
	{ NULL, "help\n--\nwho\n", "help" },
	{ NULL, "help\n> who\nwho\n", "help" },
	{ NULL, "help\nend\nwho\n", "help" },
	{ NULL, "help\n________________________________\nFrom: x\nwho\n",
	  "help" },
	{ NULL, "help\n-----Original Message-----\nwho\n", "help" },
	/* prose is not a command, and enough of it ends the reading */
	{ NULL, "Hi,\nplease\nhelp\n", "help" },
	{ NULL, "a\nb\nc\nd\ne\nhelp\n", "" },
	{ NULL, "a\nb\nc\nd\nhelp\n", "help" },
	{ NULL, "help me with this list please\n", "" },
	{ NULL, "who are\n", "who" },
	{ NULL, "Subscribe!\n", "subscribe" },
	{ "hello", "I would like to join\n", "" },
	/* Gmail-style reply: the attribution line is junk, quotes stop */
	{ "Re: help", "set digest\n\nOn Tue, 14 Nov 2023, x wrote:\n> who\n",
	  "help|set:digest" },
	{ NULL, "help\r\nwho\r\n", "help|who" },
	/* meetings: "meeting" and "minutes" take the lines after them */
	{ "meeting", "title: help\nwho: everyone\n", "meeting" },
	{ NULL, "meeting\ntitle: Workshop\ninfo: x\n", "meeting" },
	{ NULL, "help\nmeeting\nwho: all\n", "help|meeting" },
	{ NULL, "meeting update 3\nwhere: Room 2\n", "meeting:update 3" },
	{ "Meeting cancel 12", "", "meeting:cancel 12" },
	{ NULL, "meeting cancel\n", "bad" },
	{ NULL, "meeting update x\n", "bad" },
	{ NULL, "the meeting was great\nhelp\n", "help" },
	{ NULL, "meeting about soldering\nhelp\n", "help" },
	{ "Re: minutes 7", "We met.\nwho came: 12\n", "minutes:7" },
	{ NULL, "minutes 7\nhelp\n", "minutes:7" },
	{ NULL, "minutes of the board\nhelp\n", "help" },
	{ NULL, "minutes\n", "bad" },
	{ NULL, "rsvps 4\nhelp\n", "rsvps:4|help" },
	{ NULL, "rsvps\n", "bad" },
	{ NULL, "rsvps 1234567890123456789\n", "bad" },
	{ NULL, "", "" },
	{ "", "\n\n\n", "" },
};

static void test_table(void **state)
{
	size_t i;

	for (i = 0; i < sizeof table / sizeof table[0]; i++) {
		char *got = parse(table[i].subject, table[i].body,
				  strlen(table[i].body));

		if (strcmp(got, table[i].want) != 0)
			fail_msg("case %zu (%s / %s): want \"%s\", got \"%s\"",
				 i, table[i].subject ? table[i].subject : "-",
				 table[i].body, table[i].want, got);
		free(got);
	}
}

/* Cut the input at every byte: never a crash or an over-read, and a cut at
 * a line end gives the commands of the lines before it. */
static void test_every_cut(void **state)
{
	static const char body[] =
		"Hello there,\r\nsubscribe digest\r\nset nomail\n\n"
		"confirm " TOK "\nwho\ninfo\nhelp\n-- \nunsubscribe\n";
	char *full = parse(NULL, body, sizeof body - 1);
	size_t cut;

	assert_string_equal(full, "subscribe:digest|set:nomail|confirm:" TOK
			    "|who|info|help");
	for (cut = 0; cut <= sizeof body - 1; cut++) {
		char *got = parse(NULL, body, cut);

		if (cut == 0 || body[cut - 1] == '\n')
			assert_true(strncmp(full, got, strlen(got)) == 0);
		free(got);
	}
	free(full);
}

static void test_limits(void **state)
{
	struct buf b = BUF_INIT;
	struct request_cmds c;
	int i;

	for (i = 0; i < 30; i++)
		buf_printf(&b, "set %s\n", i % 2 ? "digest" : "nomail");
	for (i = 0; i < 30; i++)
		buf_printf(&b, "confirm %032x\n", i);
	request_parse(NULL, b.data, b.len, &c);
	assert_int_equal(c.n, REQUEST_MAX_COMMANDS);
	request_cmds_free(&c);
	buf_reset(&b);

	/* a line over the limit is not a command */
	buf_puts(&b, "help");
	for (i = 0; i < REQUEST_MAX_LINE; i++)
		buf_putc(&b, ' ');
	buf_puts(&b, "x\nwho\n");
	request_parse(NULL, b.data, b.len, &c);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.v[0].verb, REQ_WHO);
	request_cmds_free(&c);
	buf_free(&b);

	/* the line kept for the answer is printable and bounded */
	request_parse(NULL, "help \x01\x7f\xc3\xa9 x\n", 12, &c);
	assert_int_equal(c.n, 0);
	request_cmds_free(&c);
	request_parse("subscribe \x01\xff", "", 0, &c);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.v[0].line, "subscribe ??");
	request_cmds_free(&c);
}

static void test_token_ok(void **state)
{
	assert_true(request_token_ok(TOK));
	assert_false(request_token_ok(""));
	assert_false(request_token_ok("0123456789ABCDEF0123456789abcdef"));
	assert_false(request_token_ok(TOK "0"));
	assert_false(request_token_ok("0123456789abcdef0123456789abcde"));
	assert_false(request_token_ok("0123456789abcdef0123456789abcdeg"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_every_cut),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_token_ok),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
