/* test-reply - a reply's text and first word, tokens, HTML, excerpts */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/msg.h"
#include "mail/reply.h"

/* The first word of text, or "" when none; the rest into rest[]. */
static char *first(const char *text, char rest[256])
{
	char *w = NULL, *r = NULL;

	rest[0] = '\0';
	if (!reply_first_word(text, &w, &r))
		return strdup("");
	snprintf(rest, 256, "%s", r);
	free(r);
	return w;
}

static void expect_word(const char *text, const char *word, const char *rest)
{
	char got_rest[256];
	char *w = first(text, got_rest);

	assert_string_equal(w, word);
	if (rest != NULL)
		assert_string_equal(got_rest, rest);
	free(w);
}

static void test_first_word_plain(void **state)
{
	expect_word("approve\n", "approve", "");
	expect_word("  Approve.\n", "approve", "");
	expect_word("*Reject*: spam please\n", "reject", "spam please");
	expect_word("reject spam please  \r\n", "reject", "spam please");
	expect_word("\n\n\tdiscard\n", "discard", "");
	expect_word("", "", NULL);
	expect_word("> approve\n>\n", "", NULL);
}

static void test_first_word_top_posted(void **state)
{
	/* Gmail */
	expect_word("Approve\n\nOn Sat, Nov 21, 2026 at 1:00 PM <x@y> wrote:\n"
		    "\n> reject REASON\n", "approve", "");
	/* Outlook */
	expect_word("ban\n\n________________________________\nFrom: x\n"
		    "Sent: today\n\napprove\n", "ban", "");
	expect_word("-----Original Message-----\nFrom: x\n\napprove\n", "",
		    NULL);
}

static void test_first_word_bottom_posted(void **state)
{
	/* an attribution wrapped over two lines, then the quote */
	expect_word("On Sat, Nov 21, 2026 at 1:00 PM Makers owner <\n"
		    "makers-owner@lists.example.org> wrote:\n\n> approve\n"
		    ">\n\nreject off topic\n\n--\nAlice\n", "reject",
		    "off topic");
	/* Apple Mail quotes the attribution */
	expect_word("\n> On 21 Nov 2026, at 13:00, x wrote:\n> \n> discard\n\n"
		    "Always\n", "always", "");
	/* Outlook's header block without a rule stops the scan */
	expect_word("From: Owner <o@x>\nSent: Saturday\nSubject: y\n\n"
		    "approve\n", "", NULL);
}

static void test_html_to_text(void **state)
{
	const char *html = "<html><head><style>p{x}</style></head><body>"
			   "<div dir=\"ltr\"><b>Approve</b></div><br>"
			   "<div>On Sat someone wrote:<br></div>"
			   "<blockquote>reject &amp; more<br>line</blockquote>"
			   "</body></html>";
	char *t = reply_html_to_text(html, strlen(html));
	char rest[256];
	char *w;

	assert_non_null(strstr(t, "Approve\n"));
	assert_null(strstr(t, "p{x}"));
	assert_non_null(strstr(t, "> reject & more\n> line\n"));
	w = first(t, rest);
	assert_string_equal(w, "approve");
	free(w);
	free(t);
	/* unterminated tags and comments end the text without overrun */
	t = reply_html_to_text("approve <b", 10);
	assert_string_equal(t, "approve\n");
	free(t);
	t = reply_html_to_text("<!-- x", 6);
	assert_string_equal(t, "");
	free(t);
}

static void test_find_token(void **state)
{
	char tok[33];

	assert_true(reply_find_token("Re: [makers] held post "
				     "0123456789ABCDEF0123456789abcdef: hi",
				     tok));
	assert_string_equal(tok, "0123456789abcdef0123456789abcdef");
	/* a longer hex run is not a token; a shorter neither */
	assert_false(reply_find_token("0123456789abcdef0123456789abcdef0",
				      tok));
	assert_false(reply_find_token("deadbeef", tok));
	assert_false(reply_find_token(NULL, tok));
	assert_false(reply_find_token("", tok));
}

static void test_text_of_message(void **state)
{
	static const char qp[] =
		"From: a@b\nSubject: x\nMIME-Version: 1.0\n"
		"Content-Type: multipart/alternative; boundary=\"b\"\n\n"
		"--b\nContent-Type: text/plain; charset=iso-8859-1\n"
		"Content-Transfer-Encoding: quoted-printable\n\n"
		"appro=\nve caf=E9\n--b\nContent-Type: text/html\n\n"
		"<p>discard</p>\n--b--\n";
	static const char html_only[] =
		"From: a@b\nSubject: x\nMIME-Version: 1.0\n"
		"Content-Type: text/html; charset=utf-8\n"
		"Content-Transfer-Encoding: base64\n\n"
		"PGRpdj5yZWplY3Qgbm88L2Rpdj4K\n";
	static const char attached[] =
		"From: a@b\nSubject: x\nMIME-Version: 1.0\n"
		"Content-Type: multipart/mixed; boundary=\"b\"\n\n"
		"--b\nContent-Type: message/rfc822\n\n"
		"Subject: inner\n\ninner text\n--b--\n";
	char *t;

	t = reply_text(qp, strlen(qp), NULL);
	assert_non_null(t);
	assert_string_equal(t, "approve caf\xc3\xa9");
	free(t);
	t = reply_text(html_only, strlen(html_only), NULL);
	assert_non_null(t);
	assert_string_equal(t, "reject no\n");
	free(t);
	t = reply_text(attached, strlen(attached), NULL);
	assert_null(t);
}

/* Line ends and NULs in a text part: CR LF and a lone CR end a line, a NUL
 * is a space, and everything else is copied as it is (in runs). */
static void test_text_line_ends(void **state)
{
	static const char msg[] =
		"From: a@b\nContent-Type: text/plain\n\n"
		"one\r\ntwo\rthree\0four\r\n\r\nfive\r";
	char *t;

	(void)state;
	t = reply_text(msg, sizeof msg - 1, NULL);
	assert_non_null(t);
	assert_string_equal(t, "one\ntwo\nthree four\n\nfive\n");
	free(t);
}

/* Every prefix of a reply is handled without a crash or an overrun. */
static void test_every_split(void **state)
{
	static const char msg[] =
		"From: a@b\nMIME-Version: 1.0\n"
		"Content-Type: multipart/alternative; boundary=\"b\"\n\n"
		"--b\nContent-Type: text/html; charset=utf-8\n"
		"Content-Transfer-Encoding: base64\n\n"
		"PGRpdj5yZWplY3Qgbm88L2Rpdj4K\n--b--\n";
	size_t n;

	for (n = 0; n <= sizeof msg - 1; n++) {
		char *copy = malloc(n + 1);
		char *t, *w = NULL, *r = NULL;

		memcpy(copy, msg, n);
		copy[n] = '\0';
		t = reply_text(copy, n, NULL);
		if (t != NULL && reply_first_word(t, &w, &r)) {
			free(w);
			free(r);
		}
		free(t);
		t = reply_html_to_text(copy, n);
		free(t);
		free(copy);
	}
}

static void test_excerpt(void **state)
{
	char *e = reply_excerpt("one\n\ntwo\nthree\nfour\n", 2, 100);

	assert_string_equal(e, "one\n\ntwo\n...\n");
	free(e);
	e = reply_excerpt("caf\xc3\xa9 au lait\n", 10, 4);
	assert_string_equal(e, "caf\n...\n");
	free(e);
	e = reply_excerpt("short\n", 10, 100);
	assert_string_equal(e, "short\n");
	free(e);
}

/* The command line above a leader's text goes; any other body stays. */
static char *stripped(const char *raw, bool *did)
{
	struct msg m = { 0 };
	char *out;

	assert_int_equal(msg_parse(&m, raw, strlen(raw), NULL, NULL), MSG_OK);
	*did = reply_strip_command(&m, "minutes");
	out = strdup(m.body);
	msg_free(&m);
	return out;
}

static void test_strip_command(void **state)
{
	bool did;
	char *b;

	b = stripped("From: a@x\n\n\nMinutes:\n\n  We met.\nBye\n", &did);
	assert_true(did);
	assert_string_equal(b, "  We met.\nBye\n");
	free(b);
	b = stripped("From: a@x\n\nminutes 3\nWe met.\n", &did);
	assert_true(did);
	assert_string_equal(b, "We met.\n");
	free(b);
	b = stripped("From: a@x\n\nminutes", &did);
	assert_true(did);
	assert_string_equal(b, "");
	free(b);
	b = stripped("From: a@x\n\nminutesXYZ\nWe met.\n", &did);
	assert_false(did);
	free(b);
	b = stripped("From: a@x\n\nWe met.\nminutes\n", &did);
	assert_false(did);
	assert_string_equal(b, "We met.\nminutes\n");
	free(b);
	/* Encoded or multipart bodies are left as they are. */
	b = stripped("From: a@x\nContent-Transfer-Encoding: base64\n\n"
		     "bWludXRlcwo=\n", &did);
	assert_false(did);
	free(b);
	b = stripped("From: a@x\nContent-Type: multipart/mixed; boundary=b\n\n"
		     "--b\n\nminutes\n--b--\n", &did);
	assert_false(did);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_word_plain),
		cmocka_unit_test(test_first_word_top_posted),
		cmocka_unit_test(test_first_word_bottom_posted),
		cmocka_unit_test(test_html_to_text),
		cmocka_unit_test(test_find_token),
		cmocka_unit_test(test_text_of_message),
		cmocka_unit_test(test_text_line_ends),
		cmocka_unit_test(test_every_split),
		cmocka_unit_test(test_excerpt),
		cmocka_unit_test(test_strip_command),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
