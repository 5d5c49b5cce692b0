/* test-rewrite - subject, list fields, Reply-To/From policy, footer MIME */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libetpan/libetpan.h>

#include "base/buf.h"
#include "base/conf.h"
#include "mail/msg.h"
#include "mail/rewrite.h"
#include "base/xalloc.h"

#define FOOTER_ASCII "-- \nmakers mailing list: makers@lists.example.org\n" \
	"To unsubscribe, write to makers-unsubscribe@lists.example.org\n"
#define FOOTER_UTF8 "-- \nCaf\xc3\xa9 makers \xe2\x9c\x94 = list\n" \
	"To unsubscribe, write to makers-unsubscribe@lists.example.org\n"

static const struct rewrite_params base = {
	.list_name = "makers",
	.domain = "lists.example.org",
	.description = "Makers of Example City",
	.subject_prefix = "[makers] ",
	.reply_to = REPLYTO_NONE,
	.reply_to_address = NULL,
	.from_munging = FROMMUNGE_NONE,
	.dmarc_strict = false,
	.archive_url = NULL,
	.unsubscribe_url = NULL,
	.footer = NULL,
	.message_id_domain = "lists.example.org",
};

static void parse(struct msg *m, const char *s)
{
	memset(m, 0, sizeof *m);
	assert_int_equal(msg_parse(m, s, strlen(s), NULL, NULL), MSG_OK);
}

static char *written(const struct msg *m)
{
	struct buf b = BUF_INIT;

	msg_write(m, &b);
	return buf_steal(&b, NULL);
}

static size_t count_str(const char *hay, const char *needle)
{
	size_t n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

static void assert_header(const struct msg *m, const char *name,
			  const char *value)
{
	char *v = msg_header_unfolded(m, name);

	if (value == NULL) {
		assert_null(v);
		return;
	}
	assert_non_null(v);
	assert_string_equal(v, value);
	free(v);
}

/* --- subject --- */

static void test_subject_table(void **state)
{
	static const struct {
		const char *in, *prefix, *out;
	} cases[] = {
		{ "hello", "[makers] ", "[makers] hello" },
		{ "[makers] hello", "[makers] ", "[makers] hello" },
		{ "Re: hello", "[makers] ", "[makers] Re: hello" },
		{ "Re: [makers] hello", "[makers] ", "[makers] Re: hello" },
		{ "Re: [makers] Re: [makers] hello", "[makers] ",
		  "[makers] Re: hello" },
		{ "RE: hello", "[makers] ", "[makers] Re: hello" },
		{ "re : hello", "[makers] ", "[makers] Re: hello" },
		{ "Aw: hello", "[makers] ", "[makers] Re: hello" },
		{ "AW: [makers] hello", "[makers] ", "[makers] Re: hello" },
		{ "Sv: SV: hello", "[makers] ", "[makers] Re: hello" },
		{ "Re[2]: hello", "[makers] ", "[makers] Re: hello" },
		{ "Antw: Re(3): hello", "[makers] ", "[makers] Re: hello" },
		{ "Re:Re:hello", "[makers] ", "[makers] Re: hello" },
		{ "[MAKERS] hello", "[makers] ", "[makers] hello" },
		{ "[makers]hello", "[makers] ", "[makers] hello" },
		{ "[makers] [makers] hello", "[makers] ", "[makers] hello" },
		{ "  Re:   hello  ", "[makers] ", "[makers] Re: hello" },
		{ "", "[makers] ", "[makers]" },
		{ "Re:", "[makers] ", "[makers] Re:" },
		{ "Re: [makers]", "[makers] ", "[makers] Re:" },
		{ "Fwd: hello", "[makers] ", "[makers] Fwd: hello" },
		{ "Re: Fwd: [makers] hello", "[makers] ",
		  "[makers] Re: Fwd: [makers] hello" },
		{ "Review: the plan", "[makers] ", "[makers] Review: the plan" },
		{ "Re hello", "[makers] ", "[makers] Re hello" },
		{ "[other] hello", "[makers] ", "[makers] [other] hello" },
		{ "Re: caf\xc3\xa9", "[makers] ", "[makers] Re: caf\xc3\xa9" },
		{ "\xe5\x9b\x9e\xe5\xa4\x8d\xef\xbc\x9ahello", "[makers] ",
		  "[makers] Re: hello" },
		/* the trailing space of the prefix is optional */
		{ "Re: [makers]hello", "[makers]", "[makers] Re: hello" },
		/* a word prefix does not eat a longer word */
		{ "MAKERSPACE news", "MAKERS", "MAKERS MAKERSPACE news" },
		{ "makers news", "MAKERS", "MAKERS news" },
		/* no prefix: unchanged */
		{ "Re: [makers] Re: hello", "", "Re: [makers] Re: hello" },
		{ "Re: [makers] Re: hello", NULL, "Re: [makers] Re: hello" },
	};
	size_t i;
	char *s;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof *cases; i++) {
		s = rewrite_subject(cases[i].in, cases[i].prefix);
		if (strcmp(s, cases[i].out) != 0)
			print_error("case %zu: [%s] -> [%s], want [%s]\n", i,
				    cases[i].in, s, cases[i].out);
		assert_string_equal(s, cases[i].out);
		/* applying it again changes nothing */
		if (cases[i].prefix != NULL && *cases[i].prefix != '\0') {
			char *again = rewrite_subject(s, cases[i].prefix);

			assert_string_equal(again, s);
			free(again);
		}
		free(s);
	}
	s = rewrite_subject(NULL, "[makers] ");
	assert_string_equal(s, "[makers]");
	free(s);
}

/* The Subject field through rewrite_post: decoded, rewritten, encoded once,
 * and a reply to the result does not pile up the prefix. */
static void test_subject_encoded(void **state)
{
	static const struct {
		const char *raw, *decoded;
	} cases[] = {
		{ "=?UTF-8?Q?Re:_[makers]_caf=C3=A9?=",
		  "[makers] Re: caf\xc3\xa9" },
		{ "=?ISO-8859-1?Q?Re=3A_=5Bmakers=5D_caf=E9?=",
		  "[makers] Re: caf\xc3\xa9" },
		{ "Re: =?UTF-8?Q?[makers]?= =?UTF-8?Q?_Re:_hello?=",
		  "[makers] Re: hello" },
		{ "=?UTF-8?B?UmU6IFttYWtlcnNdIFJlOiBbbWFrZXJzXSBTYXR1cmRheSBzb2xk"
		  "ZXJpbmcgd29ya3Nob3Ag4pyU?=",
		  "[makers] Re: Saturday soldering workshop \xe2\x9c\x94" },
	};
	size_t i;
	int round;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct buf in = BUF_INIT;
		char *raw = xstrdup(cases[i].raw);

		for (round = 0; round < 3; round++) {
			struct msg m;
			const char *err = NULL;
			char *dec;

			buf_reset(&in);
			buf_printf(&in, "From: a@example.org\nSubject: %s%s\n"
				   "Message-ID: <x@y>\n\nbody\n",
				   round ? "Re: " : "", raw);
			parse(&m, in.data);
			assert_int_equal(rewrite_post(&m, &base, &err), 0);
			dec = msg_header_decoded(&m, "Subject");
			assert_string_equal(dec, cases[i].decoded);
			assert_int_equal(count_str(dec, "[makers]"), 1);
			free(dec);
			free(raw);
			raw = msg_header_unfolded(&m, "Subject");
			/* encoded once: the raw text holds no prefix when the
			 * subject needed encoding */
			if (strstr(cases[i].decoded, "\xc3") != NULL ||
			    strstr(cases[i].decoded, "\xe2") != NULL)
				assert_null(strstr(raw, "[makers]"));
			else
				assert_string_equal(raw, cases[i].decoded);
			msg_free(&m);
		}
		free(raw);
		buf_free(&in);
	}
}

static void test_subject_kept(void **state)
{
	struct msg m;
	struct rewrite_params p = base;
	const char *err;

	(void)state;
	/* unchanged by the rule: its bytes (and charset) stay */
	parse(&m, "Subject: =?ISO-8859-1?Q?[makers]_caf=E9?=\n\nx\n");
	assert_int_equal(rewrite_post(&m, &p, &err), 0);
	assert_header(&m, "Subject", "=?ISO-8859-1?Q?[makers]_caf=E9?=");
	msg_free(&m);

	/* no prefix: untouched, even with reply markers */
	p.subject_prefix = "";
	parse(&m, "Subject: Re: RE: hi\n\nx\n");
	assert_int_equal(rewrite_post(&m, &p, &err), 0);
	assert_header(&m, "Subject", "Re: RE: hi");
	msg_free(&m);
	p.subject_prefix = NULL;
	parse(&m, "To: a@b\n\nx\n");
	assert_int_equal(rewrite_post(&m, &p, &err), 0);
	assert_null(msg_field_get(&m, "Subject"));
	msg_free(&m);

	/* a missing Subject gets the prefix */
	parse(&m, "To: a@b\n\nx\n");
	assert_int_equal(rewrite_post(&m, &base, &err), 0);
	assert_header(&m, "Subject", "[makers]");
	msg_free(&m);
}

/* --- list fields --- */

static void test_list_id(void **state)
{
	char *v, *d;

	(void)state;
	v = rewrite_list_id("makers", "lists.example.org",
			    "Makers of Example City");
	assert_string_equal(v, "\"Makers of Example City\" "
			    "<makers.lists.example.org>");
	free(v);
	v = rewrite_list_id("makers", "lists.example.org", "");
	assert_string_equal(v, "<makers.lists.example.org>");
	free(v);
	v = rewrite_list_id("makers", "lists.example.org", NULL);
	assert_string_equal(v, "<makers.lists.example.org>");
	free(v);
	v = rewrite_list_id("makers", "lists.example.org", "The \"best\" \\ list");
	assert_string_equal(v, "\"The \\\"best\\\" \\\\ list\" "
			    "<makers.lists.example.org>");
	free(v);

	/* non-ASCII: RFC 2047 words (never quoted), then the id */
	v = rewrite_list_id("makers", "lists.example.org",
			    "Caf\xc3\xa9 makers");
	assert_true(strncmp(v, "=?UTF-8?B?", 10) == 0);
	assert_null(strchr(v, '"'));
	assert_non_null(strstr(v, "?= <makers.lists.example.org>"));
	{
		struct msg m = { 0 };
		struct mailimf_mailbox *mb = NULL;
		size_t idx = 0;

		/* the phrase decodes back */
		assert_int_equal(mailimf_mailbox_parse(v, strlen(v), &idx, &mb),
				 MAILIMF_NO_ERROR);
		assert_string_equal(mb->mb_addr_spec,
				    "makers.lists.example.org");
		d = msg_decode_rfc2047(mb->mb_display_name);
		assert_string_equal(d, "Caf\xc3\xa9 makers");
		free(d);
		mailimf_mailbox_free(mb);
		msg_free(&m);
	}
	free(v);
}

static const char post[] =
	"Return-Path: <alice@example.org>\n"
	"Delivered-To: makers@lists.example.org\n"
	"X-Original-To: makers@lists.example.org\n"
	"Received: from mx.example.org\n"
	"From: Alice Example <alice@example.org>\n"
	"To: makers@lists.example.org\n"
	"Cc: carol@example.com\n"
	"Bcc: secret-friend@example.net\n"
	"BCC: another@example.net\n"
	"Disposition-Notification-To: alice@example.org\n"
	"Return-Receipt-To: alice@example.org\n"
	"Approved: letmein\n"
	"X-Approved: letmein\n"
	"List-Id: Other list <other.example.net>\n"
	"List-Post: <mailto:other@example.net>\n"
	"List-Help: <mailto:other-request@example.net>\n"
	"List-Subscribe: <mailto:other-subscribe@example.net>\n"
	"List-Unsubscribe: <mailto:other-unsubscribe@example.net>\n"
	"List-Unsubscribe-Post: List-Unsubscribe=One-Click\n"
	"List-Archive: <https://other.example.net/>\n"
	"List-Owner: <mailto:other-owner@example.net>\n"
	"List-Software: other 1.0\n"
	"Precedence: bulk\n"
	"X-Loop: other@example.net\n"
	"Subject: Saturday\n"
	"Message-ID: <workshop-1@example.org>\n"
	"MIME-Version: 1.0\n"
	"Content-Type: text/plain; charset=utf-8\n"
	"\n"
	"Hello makers.\n";

static void test_post_fields(void **state)
{
	static const char *const gone[] = {
		"Return-Path", "Delivered-To", "X-Original-To", "Bcc",
		"Disposition-Notification-To", "Return-Receipt-To", "Approved",
		"X-Approved", "List-Software", "List-Archive",
		"List-Unsubscribe-Post", NULL
	};
	static const char *const once[] = {
		"List-Id", "List-Post", "List-Help", "List-Subscribe",
		"List-Unsubscribe", "List-Owner", "Precedence", "X-Loop", NULL
	};
	struct msg m;
	const char *err = NULL;
	char *w;
	size_t i;

	(void)state;
	parse(&m, post);
	assert_int_equal(rewrite_post(&m, &base, &err), 0);
	for (i = 0; gone[i] != NULL; i++)
		assert_null(msg_field_get(&m, gone[i]));
	assert_header(&m, "List-Id",
		      "\"Makers of Example City\" <makers.lists.example.org>");
	assert_header(&m, "List-Post", "<mailto:makers@lists.example.org>");
	assert_header(&m, "List-Help",
		      "<mailto:makers-request@lists.example.org?subject=help>");
	assert_header(&m, "List-Subscribe",
		      "<mailto:makers-subscribe@lists.example.org>");
	assert_header(&m, "List-Unsubscribe",
		      "<mailto:makers-unsubscribe@lists.example.org>");
	assert_header(&m, "List-Owner",
		      "<mailto:makers-owner@lists.example.org>");
	assert_header(&m, "Precedence", "list");
	assert_header(&m, "X-Loop", "makers@lists.example.org");
	/* what is kept */
	assert_header(&m, "Received", "from mx.example.org");
	assert_header(&m, "From", "Alice Example <alice@example.org>");
	assert_header(&m, "To", "makers@lists.example.org");
	assert_header(&m, "Cc", "carol@example.com");
	assert_header(&m, "Message-ID", "<workshop-1@example.org>");
	assert_header(&m, "Subject", "[makers] Saturday");
	assert_null(msg_field_get(&m, "Reply-To"));
	assert_string_equal(m.body, "Hello makers.\n");

	w = written(&m);
	for (i = 0; once[i] != NULL; i++) {
		char *line = xasprintf("\n%s: ", once[i]);

		assert_int_equal(count_str(w, line), 1);
		free(line);
	}
	assert_null(strstr(w, "secret-friend"));
	assert_null(strstr(w, "letmein"));
	assert_null(strstr(w, "other"));
	free(w);
	msg_free(&m);
}

static void test_post_urls(void **state)
{
	struct rewrite_params p = base;
	struct msg m;
	const char *err;

	(void)state;
	p.archive_url = "https://lists.example.org/makers/";
	p.unsubscribe_url = "https://lists.example.org/u/";
	p.unsubscribe_token = "CONVENE-ONECLICK-0123";
	p.description = "";
	parse(&m, post);
	assert_int_equal(rewrite_post(&m, &p, &err), 0);
	assert_header(&m, "List-Id", "<makers.lists.example.org>");
	/* RFC 8058: the member's URL (the token goes where the marker is)
	 * first, then the mailto alternative */
	assert_header(&m, "List-Unsubscribe",
		      "<https://lists.example.org/u/CONVENE-ONECLICK-0123>, "
		      "<mailto:makers-unsubscribe@lists.example.org>");
	assert_header(&m, "List-Unsubscribe-Post",
		      "List-Unsubscribe=One-Click");
	assert_header(&m, "List-Archive", "<https://lists.example.org/makers/>");
	msg_free(&m);

	/* a URL without a token marker would be the same for everybody:
	 * no one-click URL then */
	p.unsubscribe_token = NULL;
	parse(&m, post);
	assert_int_equal(rewrite_post(&m, &p, &err), 0);
	assert_null(msg_field_get(&m, "List-Unsubscribe-Post"));
	assert_header(&m, "List-Unsubscribe",
		      "<mailto:makers-unsubscribe@lists.example.org>");
	msg_free(&m);
	p.unsubscribe_token = "CONVENE-ONECLICK-0123";

	/* a URL that would break the field is left out */
	p.archive_url = "https://x/\r\nX-Evil:y";
	p.unsubscribe_url = "";
	parse(&m, post);
	assert_int_equal(rewrite_post(&m, &p, &err), 0);
	assert_null(msg_field_get(&m, "List-Archive"));
	assert_null(msg_field_get(&m, "List-Unsubscribe-Post"));
	assert_header(&m, "List-Unsubscribe",
		      "<mailto:makers-unsubscribe@lists.example.org>");
	msg_free(&m);
}

static void test_post_message_id(void **state)
{
	struct msg m;
	const char *err;
	char *id, *p;

	(void)state;
	parse(&m, "From: a@example.org\nSubject: s\n\nx\n");
	assert_int_equal(rewrite_post(&m, &base, &err), 0);
	id = msg_message_id(&m);
	assert_non_null(id);
	/* convene.TIME.PID.RANDOMHEX@domain */
	assert_true(strncmp(id, "convene.", 8) == 0);
	p = id + 8;
	assert_true(*p >= '0' && *p <= '9');
	p += strspn(p, "0123456789");
	assert_true(*p++ == '.');
	assert_true(*p >= '0' && *p <= '9');
	p += strspn(p, "0123456789");
	assert_true(*p++ == '.');
	assert_int_equal(strspn(p, "0123456789abcdef"), 16);
	assert_string_equal(p + 16, "@lists.example.org");
	free(id);
	msg_free(&m);

	/* two posts get different ids */
	{
		struct msg a, b;
		char *ia, *ib;

		parse(&a, "Subject: s\n\nx\n");
		parse(&b, "Subject: s\n\nx\n");
		assert_int_equal(rewrite_post(&a, &base, &err), 0);
		assert_int_equal(rewrite_post(&b, &base, &err), 0);
		ia = msg_message_id(&a);
		ib = msg_message_id(&b);
		assert_string_not_equal(ia, ib);
		free(ia);
		free(ib);
		msg_free(&a);
		msg_free(&b);
	}
}

/* --- Reply-To and From --- */

static void test_reply_to(void **state)
{
	static const char *with = "From: Alice <alice@example.org>\n"
				  "Reply-To: alice-home@example.org\n"
				  "Subject: s\n\nx\n";
	static const char *without = "From: Alice <alice@example.org>\n"
				     "Subject: s\n\nx\n";
	struct rewrite_params p = base;
	struct msg m;
	const char *err;

	(void)state;
	p.reply_to = REPLYTO_NONE;
	parse(&m, with);
	assert_int_equal(rewrite_post(&m, &p, &err), 0);
	assert_header(&m, "Reply-To", "alice-home@example.org");
	msg_free(&m);
	parse(&m, without);
	assert_int_equal(rewrite_post(&m, &p, &err), 0);
	assert_header(&m, "Reply-To", NULL);
	msg_free(&m);

	p.reply_to = REPLYTO_SENDER;
	parse(&m, with);
	assert_int_equal(rewrite_post(&m, &p, &err), 0);
	assert_header(&m, "Reply-To", "alice-home@example.org");
	msg_free(&m);

	p.reply_to = REPLYTO_LIST;
	parse(&m, with);
	assert_int_equal(rewrite_post(&m, &p, &err), 0);
	assert_header(&m, "Reply-To", "makers@lists.example.org");
	assert_int_equal(msg_field_delete(&m, "Reply-To"), 1);
	msg_free(&m);

	p.reply_to = REPLYTO_ADDRESS;
	p.reply_to_address = "leaders@example.org";
	parse(&m, without);
	assert_int_equal(rewrite_post(&m, &p, &err), 0);
	assert_header(&m, "Reply-To", "leaders@example.org");
	msg_free(&m);
}

static void test_from_munging(void **state)
{
	struct rewrite_params p = base;
	struct msg m;
	const char *err;
	char *name, *addr;

	(void)state;
	/* none, and DMARC without a strict policy: untouched */
	p.from_munging = FROMMUNGE_DMARC;
	parse(&m, "From: Alice Example <alice@example.org>\n\nx\n");
	assert_int_equal(rewrite_post(&m, &p, &err), 0);
	assert_header(&m, "From", "Alice Example <alice@example.org>");
	assert_header(&m, "Reply-To", NULL);
	msg_free(&m);

	/* DMARC with a strict policy */
	p.dmarc_strict = true;
	parse(&m, "From: Alice Example <alice@example.org>\n\nx\n");
	assert_int_equal(rewrite_post(&m, &p, &err), 0);
	assert_header(&m, "From",
		      "\"Alice Example via makers\" <makers@lists.example.org>");
	assert_header(&m, "Reply-To", "Alice Example <alice@example.org>");
	msg_free(&m);

	/* always; no display name; the poster's Reply-To wins */
	p.from_munging = FROMMUNGE_ALWAYS;
	p.dmarc_strict = false;
	parse(&m, "From: alice@example.org\nReply-To: home@example.org\n\nx\n");
	assert_int_equal(rewrite_post(&m, &p, &err), 0);
	assert_header(&m, "From", "\"alice@example.org via makers\" "
		      "<makers@lists.example.org>");
	assert_header(&m, "Reply-To", "home@example.org");
	msg_free(&m);

	/* a non-ASCII name is encoded and reads back */
	parse(&m, "From: =?UTF-8?Q?Carol_C=C3=B6der?= <carol@example.com>\n"
		  "\nx\n");
	assert_int_equal(rewrite_post(&m, &p, &err), 0);
	addr = msg_first_address(&m, "From", &name);
	assert_string_equal(addr, "makers@lists.example.org");
	assert_string_equal(name, "Carol C\xc3\xb6""der via makers");
	free(addr);
	free(name);
	addr = msg_first_address(&m, "Reply-To", NULL);
	assert_string_equal(addr, "carol@example.com");
	free(addr);
	msg_free(&m);

	/* quotes in a name are escaped */
	parse(&m, "From: \"Bob \\\"the builder\\\"\" <bob@example.net>\n\nx\n");
	assert_int_equal(rewrite_post(&m, &p, &err), 0);
	assert_header(&m, "From", "\"Bob \\\"the builder\\\" via makers\" "
		      "<makers@lists.example.org>");
	msg_free(&m);

	/* with reply_to = list, Reply-To is the list's */
	p.reply_to = REPLYTO_LIST;
	parse(&m, "From: Alice <alice@example.org>\n\nx\n");
	assert_int_equal(rewrite_post(&m, &p, &err), 0);
	assert_header(&m, "From",
		      "\"Alice via makers\" <makers@lists.example.org>");
	assert_header(&m, "Reply-To", "makers@lists.example.org");
	msg_free(&m);

	/* a From without an address is left alone */
	parse(&m, "From: nobody\n\nx\n");
	assert_int_equal(rewrite_post(&m, &p, &err), 0);
	assert_header(&m, "From", "nobody");
	msg_free(&m);
}

/* --- footer: every result re-read by libetpan's MIME parser --- */

struct mime_view {
	int type;              /* the body's libetpan mm_type */
	char subtype[32];      /* of the top-level body */
	int nparts;            /* direct parts of a top-level multipart */
	int nparts_all;        /* single parts anywhere */
	int found;             /* parts whose decoded text holds the needle */
	int found_extra;       /* same, second needle */
};

static int part_encoding(struct mailmime *mm)
{
	clistiter *it;

	if (mm->mm_mime_fields == NULL)
		return MAILMIME_MECHANISM_8BIT;
	for (it = clist_begin(mm->mm_mime_fields->fld_list); it != NULL;
	     it = clist_next(it)) {
		struct mailmime_field *f = clist_content(it);

		if (f->fld_type == MAILMIME_FIELD_TRANSFER_ENCODING)
			return f->fld_data.fld_encoding->enc_type;
	}
	return MAILMIME_MECHANISM_8BIT;
}

static bool decoded_has(struct mailmime *mm, const char *needle)
{
	struct mailmime_data *d = mm->mm_data.mm_single;
	char *res;
	size_t len, idx = 0, i, o = 0;
	bool found;

	if (d == NULL || needle == NULL)
		return false;
	assert_int_equal(mailmime_part_parse(d->dt_data.dt_text.dt_data,
					     d->dt_data.dt_text.dt_length, &idx,
					     part_encoding(mm), &res, &len),
			 MAILIMF_NO_ERROR);
	/* libetpan hands text back with CRLF */
	for (i = 0; i < len; i++)
		if (!(res[i] == '\r' && i + 1 < len && res[i + 1] == '\n'))
			res[o++] = res[i];
	found = memmem(res, o, needle, strlen(needle)) != NULL;
	mailmime_decoded_part_free(res);
	return found;
}

static void walk(struct mailmime *mm, const char *needle, const char *extra,
		 struct mime_view *v)
{
	clistiter *it;

	switch (mm->mm_type) {
	case MAILMIME_SINGLE:
		v->nparts_all++;
		v->found += decoded_has(mm, needle);
		v->found_extra += decoded_has(mm, extra);
		break;
	case MAILMIME_MULTIPLE:
		for (it = clist_begin(mm->mm_data.mm_multipart.mm_mp_list);
		     it != NULL; it = clist_next(it))
			walk(clist_content(it), needle, extra, v);
		break;
	case MAILMIME_MESSAGE:
		if (mm->mm_data.mm_message.mm_msg_mime != NULL)
			walk(mm->mm_data.mm_message.mm_msg_mime, needle, extra,
			     v);
		break;
	}
}

/* Parses the written message with libetpan and looks for the footer (and
 * the original text, `extra`) in the decoded parts. */
static struct mime_view view(const struct msg *m, const char *needle,
			     const char *extra)
{
	struct mime_view v = { 0, "", 0, 0, 0, 0 };
	struct mailmime *mm = NULL, *body;
	char *w = written(m);
	size_t idx = 0;

	assert_int_equal(mailmime_parse(w, strlen(w), &idx, &mm),
			 MAILIMF_NO_ERROR);
	assert_int_equal(mm->mm_type, MAILMIME_MESSAGE);
	body = mm->mm_data.mm_message.mm_msg_mime;
	assert_non_null(body);
	v.type = body->mm_type;
	if (body->mm_content_type != NULL)
		snprintf(v.subtype, sizeof v.subtype, "%s",
			 body->mm_content_type->ct_subtype);
	if (body->mm_type == MAILMIME_MULTIPLE)
		v.nparts = clist_count(body->mm_data.mm_multipart.mm_mp_list);
	walk(body, needle, extra, &v);
	mailmime_free(mm);
	free(w);
	return v;
}

static void footer_ok(struct msg *m, const char *footer)
{
	const char *err = NULL;

	assert_int_equal(rewrite_footer(m, footer, &err), 0);
	assert_null(err);
}

static void test_footer_plain(void **state)
{
	struct mime_view v;
	struct msg m;

	(void)state;
	/* no Content-Type, ASCII footer: appended after a line break */
	parse(&m, "Subject: s\n\nno final newline");
	footer_ok(&m, FOOTER_ASCII);
	assert_string_equal(m.body, "no final newline\n" FOOTER_ASCII);
	v = view(&m, FOOTER_ASCII, "no final newline");
	assert_int_equal(v.type, MAILMIME_SINGLE);
	assert_int_equal(v.found, 1);
	assert_int_equal(v.found_extra, 1);
	msg_free(&m);

	/* utf-8, 8bit: non-ASCII footer appended as is */
	parse(&m, "Content-Type: text/plain; charset=UTF-8\n"
		  "Content-Transfer-Encoding: 8bit\n\nCaf\xc3\xa9\n");
	footer_ok(&m, FOOTER_UTF8);
	assert_string_equal(m.body, "Caf\xc3\xa9\n" FOOTER_UTF8);
	assert_header(&m, "Content-Transfer-Encoding", "8bit");
	v = view(&m, FOOTER_UTF8, "Caf\xc3\xa9\n");
	assert_int_equal(v.type, MAILMIME_SINGLE);
	assert_int_equal(v.found, 1);
	msg_free(&m);

	/* utf-8 declared 7bit (or not declared): becomes 8bit */
	parse(&m, "Content-Type: text/plain; charset=\"utf-8\"; format=flowed"
		  "\n\nhi\n");
	footer_ok(&m, FOOTER_UTF8);
	assert_header(&m, "Content-Transfer-Encoding", "8bit");
	assert_string_equal(m.body, "hi\n" FOOTER_UTF8);
	msg_free(&m);

	/* iso-8859-1 with an ASCII footer: appended, bytes kept */
	parse(&m, "Content-Type: text/plain; charset=iso-8859-1\n"
		  "Content-Transfer-Encoding: 8bit\n\ncaf\xe9\n");
	footer_ok(&m, FOOTER_ASCII);
	assert_string_equal(m.body, "caf\xe9\n" FOOTER_ASCII);
	assert_int_equal(view(&m, FOOTER_ASCII, NULL).found, 1);
	msg_free(&m);

	/* binary is appended too */
	parse(&m, "Content-Type: text/plain\nContent-Transfer-Encoding: binary"
		  "\n\nx\n");
	footer_ok(&m, FOOTER_ASCII);
	assert_string_equal(m.body, "x\n" FOOTER_ASCII);
	msg_free(&m);

	/* a message without a body gets one */
	parse(&m, "Subject: s\nTo: t@example.org");
	assert_true(m.no_body);
	footer_ok(&m, FOOTER_ASCII);
	assert_false(m.no_body);
	assert_string_equal(m.body, FOOTER_ASCII);
	assert_int_equal(view(&m, FOOTER_ASCII, NULL).found, 1);
	msg_free(&m);
}

/* Checks a wrapped message: multipart/mixed at the top with the original
 * content fields moved into the first part, the original bytes intact. */
static void check_wrapped(struct msg *m, const char *orig_body,
			  const char *footer, const char *orig_text,
			  int inner_parts)
{
	struct mime_view v;
	char *ct = msg_header_unfolded(m, "Content-Type"), *w;
	const struct msg_field *f;
	size_t i, nct = 0, nver = 0;

	assert_non_null(ct);
	assert_true(strncmp(ct, "multipart/mixed; boundary=\"convene-", 35) == 0);
	/* the boundary is nowhere in the original body */
	{
		const char *b = ct + 27;
		char *bnd = xstrndup(b, strcspn(b, "\""));

		assert_null(strstr(orig_body, bnd));
		free(bnd);
	}
	free(ct);
	for (i = 0; i < m->nfields; i++) {
		f = &m->fields[i];
		if (f->deleted)
			continue;
		nct += strcasecmp(f->name, "Content-Type") == 0;
		nver += strcasecmp(f->name, "MIME-Version") == 0;
		assert_true(strncasecmp(f->name, "Content-", 8) != 0 ||
			    strcasecmp(f->name, "Content-Type") == 0 ||
			    strcasecmp(f->name, "Content-Transfer-Encoding") ==
				    0);
	}
	assert_int_equal(nct, 1);
	assert_int_equal(nver, 1);
	/* the original body bytes, untouched */
	w = written(m);
	assert_non_null(strstr(w, orig_body));
	free(w);

	v = view(m, footer, orig_text);
	assert_int_equal(v.type, MAILMIME_MULTIPLE);
	assert_string_equal(v.subtype, "mixed");
	assert_int_equal(v.nparts, 2);
	assert_int_equal(v.nparts_all, inner_parts + 1);
	assert_int_equal(v.found, 1);
	if (orig_text != NULL)
		assert_int_equal(v.found_extra, 1);
}

static void test_footer_wrap(void **state)
{
	static const char b64_body[] = "VGhlIGtleSBpcyB1bmRlciB0aGUgbWF0Lgo=\n";
	static const char html_body[] = "<p>The <b>key</b></p>\n";
	static const char alt_body[] =
		"--alt-7\nContent-Type: text/plain; charset=utf-8\n\n"
		"The back room.\n\n--alt-7\nContent-Type: text/html\n\n"
		"<p>The back room.</p>\n\n--alt-7--\n";
	static const char signed_body[] =
		"--sig\nContent-Type: text/plain\n\nSigned text.\n"
		"--sig\nContent-Type: application/pgp-signature\n\n"
		"-----BEGIN PGP SIGNATURE-----\nabc\n"
		"-----END PGP SIGNATURE-----\n--sig--\n";
	static const char rfc822_body[] =
		"From: inner@example.org\nSubject: inner\n\nInner text.\n";
	struct buf in = BUF_INIT;
	struct msg m;
	char *part;

	(void)state;
	/* base64 text */
	buf_printf(&in, "Subject: s\nMIME-Version: 1.0\nContent-Type: "
		   "text/plain; charset=utf-8\nContent-Transfer-Encoding: "
		   "base64\n\n%s", b64_body);
	parse(&m, in.data);
	footer_ok(&m, FOOTER_ASCII);
	check_wrapped(&m, b64_body, FOOTER_ASCII, "The key is under the mat.",
		      1);
	/* the content fields went into the first part */
	part = written(&m);
	assert_non_null(strstr(part, "\nMIME-Version: 1.0\nContent-Type: "
				     "text/plain; charset=utf-8\n"
				     "Content-Transfer-Encoding: base64\n\n"
				     "VGhl"));
	free(part);
	assert_null(msg_field_get(&m, "Content-Transfer-Encoding"));
	msg_free(&m);

	/* text/html */
	buf_reset(&in);
	buf_printf(&in, "Content-Type: text/html; charset=utf-8\n\n%s",
		   html_body);
	parse(&m, in.data);
	footer_ok(&m, FOOTER_UTF8);
	check_wrapped(&m, html_body, FOOTER_UTF8, "<b>key</b>", 1);
	msg_free(&m);

	/* multipart/alternative */
	buf_reset(&in);
	buf_printf(&in, "MIME-Version: 1.0\nContent-Type: multipart/"
		   "alternative; boundary=\"alt-7\"\n\n%s", alt_body);
	parse(&m, in.data);
	footer_ok(&m, FOOTER_ASCII);
	check_wrapped(&m, alt_body, FOOTER_ASCII, "<p>The back room.</p>", 2);
	msg_free(&m);

	/* multipart/signed: the signed bytes stay exactly as they were */
	buf_reset(&in);
	buf_printf(&in, "MIME-Version: 1.0\nContent-Type: multipart/signed; "
		   "protocol=\"application/pgp-signature\"; micalg=pgp-sha256;"
		   "\n boundary=\"sig\"\n\n%s", signed_body);
	parse(&m, in.data);
	footer_ok(&m, FOOTER_UTF8);
	check_wrapped(&m, signed_body, FOOTER_UTF8, "Signed text.", 2);
	part = written(&m);
	assert_non_null(strstr(part, "Content-Type: multipart/signed; protocol="
				     "\"application/pgp-signature\"; micalg="
				     "pgp-sha256;\n boundary=\"sig\"\n\n--sig\n"));
	free(part);
	msg_free(&m);

	/* message/rfc822 at the top */
	buf_reset(&in);
	buf_printf(&in, "Content-Type: message/rfc822\n\n%s", rfc822_body);
	parse(&m, in.data);
	footer_ok(&m, FOOTER_ASCII);
	check_wrapped(&m, rfc822_body, FOOTER_ASCII, "Inner text.", 1);
	msg_free(&m);

	/* application/pdf */
	buf_reset(&in);
	buf_printf(&in, "Content-Type: application/pdf\n"
		   "Content-Transfer-Encoding: base64\n\n%s", b64_body);
	parse(&m, in.data);
	footer_ok(&m, FOOTER_ASCII);
	check_wrapped(&m, b64_body, FOOTER_ASCII, NULL, 1);
	msg_free(&m);

	/* us-ascii (or no charset) and a non-ASCII footer */
	parse(&m, "Subject: s\n\nplain ascii\n");
	footer_ok(&m, FOOTER_UTF8);
	check_wrapped(&m, "plain ascii\n", FOOTER_UTF8, "plain ascii", 1);
	part = written(&m);
	/* the default, written out, for the part that had no fields */
	assert_non_null(strstr(part, "\nContent-Type: text/plain; "
				     "charset=us-ascii\n\nplain ascii\n"));
	free(part);
	msg_free(&m);

	/* latin-1 and a non-ASCII footer */
	parse(&m, "Content-Type: text/plain; charset=iso-8859-1\n"
		  "Content-Transfer-Encoding: 8bit\n\ncaf\xe9\n");
	footer_ok(&m, FOOTER_UTF8);
	check_wrapped(&m, "caf\xe9\n", FOOTER_UTF8, "caf\xe9", 1);
	/* 8-bit data inside: the multipart says 8bit */
	assert_header(&m, "Content-Transfer-Encoding", "8bit");
	msg_free(&m);

	/* utf-16 takes no ASCII either */
	parse(&m, "Content-Type: text/plain; charset=utf-16le\n\nx\n");
	footer_ok(&m, FOOTER_ASCII);
	check_wrapped(&m, "x\n", FOOTER_ASCII, NULL, 1);
	msg_free(&m);

	/* an empty body */
	parse(&m, "Content-Type: text/html\n\n");
	footer_ok(&m, FOOTER_ASCII);
	check_wrapped(&m, "", FOOTER_ASCII, NULL, 1);
	msg_free(&m);

	/* a Content-Type libetpan cannot read */
	parse(&m, "Content-Type: text/\n\nodd\n");
	footer_ok(&m, FOOTER_ASCII);
	check_wrapped(&m, "odd\n", FOOTER_ASCII, NULL, 1);
	msg_free(&m);

	/* a multipart/mixed in base64 (invalid) is wrapped, not entered */
	parse(&m, "Content-Type: multipart/mixed; boundary=b\n"
		  "Content-Transfer-Encoding: base64\n\nLS1iLS0K\n");
	footer_ok(&m, FOOTER_ASCII);
	check_wrapped(&m, "LS1iLS0K\n", FOOTER_ASCII, NULL, 1);
	msg_free(&m);
	buf_free(&in);
}

static void test_footer_qp(void **state)
{
	struct mime_view v;
	struct msg m;
	const char *line, *nl;

	(void)state;
	parse(&m, "Content-Type: text/plain; charset=utf-8\n"
		  "Content-Transfer-Encoding: quoted-printable\n\n"
		  "Caf=C3=A9 after the workshop =3D tradition.\n");
	footer_ok(&m, FOOTER_UTF8);
	assert_string_equal(m.body,
			    "Caf=C3=A9 after the workshop =3D tradition.\n"
			    "--=20\n"
			    "Caf=C3=A9 makers =E2=9C=94 =3D list\n"
			    "To unsubscribe, write to "
			    "makers-unsubscribe@lists.example.org\n");
	v = view(&m, FOOTER_UTF8, "Caf\xc3\xa9 after the workshop = tradition.");
	assert_int_equal(v.type, MAILMIME_SINGLE);
	assert_int_equal(v.found, 1);
	assert_int_equal(v.found_extra, 1);
	msg_free(&m);

	/* a soft break on the last line does not join the footer to it;
	 * long footer lines get soft breaks of their own */
	parse(&m, "Content-Type: text/plain\n"
		  "Content-Transfer-Encoding: quoted-printable\n\n"
		  "last line=");
	footer_ok(&m, "-- \n" "0123456789012345678901234567890123456789"
		  "0123456789012345678901234567890123456789 end\n");
	v = view(&m, "last line\n-- \n0123456789012345678901234567890123456789"
		 "0123456789012345678901234567890123456789 end\n", NULL);
	assert_int_equal(v.found, 1);
	for (line = m.body; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		assert_non_null(nl);
		assert_true(nl - line <= 76);
	}
	msg_free(&m);

	/* latin-1 QP with a non-ASCII footer: wrapped */
	parse(&m, "Content-Type: text/plain; charset=iso-8859-1\n"
		  "Content-Transfer-Encoding: quoted-printable\n\ncaf=E9\n");
	footer_ok(&m, FOOTER_UTF8);
	check_wrapped(&m, "caf=E9\n", FOOTER_UTF8, "caf\xe9", 1);
	msg_free(&m);
}

static const char mixed[] =
	"MIME-Version: 1.0\n"
	"Content-Type: multipart/mixed; boundary=\"outer-boundary-42\"\n"
	"\n"
	"This is a multi-part message in MIME format.\n"
	"\n"
	"--outer-boundary-42\n"
	"Content-Type: text/plain; charset=utf-8\n"
	"\n"
	"The parts list is attached.\n"
	"\n"
	"--outer-boundary-42\n"
	"Content-Type: text/csv; name=\"parts.csv\"\n"
	"Content-Disposition: attachment; filename=\"parts.csv\"\n"
	"Content-Transfer-Encoding: base64\n"
	"\n"
	"cGFydCxxdHkKcmVzaXN0b3IsMTAK\n"
	"\n"
	"--outer-boundary-42--  \n"
	"epilogue\n";

static void test_footer_mixed(void **state)
{
	struct mime_view v;
	struct msg m;
	char *close, *foot;
	const char *at;

	(void)state;
	parse(&m, mixed);
	footer_ok(&m, FOOTER_UTF8);
	/* everything before the closing delimiter is as it was */
	at = strstr(mixed, "--outer-boundary-42--");
	assert_memory_equal(m.body, strstr(mixed, "\n\n") + 2,
			    (size_t)(at - (strstr(mixed, "\n\n") + 2)));
	assert_int_equal(count_str(m.body, "--outer-boundary-42--"), 1);
	close = strstr(m.body, "--outer-boundary-42--  \nepilogue\n");
	assert_non_null(close);
	assert_string_equal(close, "--outer-boundary-42--  \nepilogue\n");
	foot = strstr(m.body, "To unsubscribe");
	assert_non_null(foot);
	assert_true(foot < close);
	assert_non_null(strstr(m.body, "\n--outer-boundary-42\n"
				       "Content-Type: text/plain; "
				       "charset=\"utf-8\"\n"
				       "Content-Transfer-Encoding: "
				       "quoted-printable\n"
				       "Content-Disposition: inline\n\n"));
	assert_header(&m, "Content-Type",
		      "multipart/mixed; boundary=\"outer-boundary-42\"");
	v = view(&m, FOOTER_UTF8, "The parts list is attached.");
	assert_int_equal(v.type, MAILMIME_MULTIPLE);
	assert_string_equal(v.subtype, "mixed");
	assert_int_equal(v.nparts, 3);
	assert_int_equal(v.found, 1);
	assert_int_equal(v.found_extra, 1);
	msg_free(&m);

	/* an ASCII footer part is 7bit */
	parse(&m, mixed);
	footer_ok(&m, FOOTER_ASCII);
	assert_non_null(strstr(m.body, "Content-Transfer-Encoding: 7bit\n"
				       "Content-Disposition: inline\n\n"
				       FOOTER_ASCII));
	assert_int_equal(view(&m, FOOTER_ASCII, NULL).found, 1);
	msg_free(&m);
}

static void test_footer_mixed_truncated(void **state)
{
	static const char trunc[] =
		"Content-Type: multipart/mixed; boundary=b1\n\n"
		"--b1\nContent-Type: text/plain\n\nfirst part, cut";
	struct mime_view v;
	struct msg m;

	(void)state;
	parse(&m, trunc);
	footer_ok(&m, FOOTER_ASCII);
	assert_string_equal(m.body,
			    "--b1\nContent-Type: text/plain\n\nfirst part, cut\n"
			    "--b1\nContent-Type: text/plain; charset=\"utf-8\"\n"
			    "Content-Transfer-Encoding: 7bit\n"
			    "Content-Disposition: inline\n\n"
			    FOOTER_ASCII "\n--b1--\n");
	v = view(&m, FOOTER_ASCII, "first part, cut");
	assert_int_equal(v.nparts, 2);
	assert_int_equal(v.found, 1);
	assert_int_equal(v.found_extra, 1);
	msg_free(&m);

	/* CRLF input: parsed to LF, the delimiter still found */
	parse(&m, "Content-Type: multipart/mixed; boundary=\"b2\"\r\n\r\n"
		  "--b2\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b2--\r\n");
	footer_ok(&m, FOOTER_ASCII);
	assert_int_equal(count_str(m.body, "--b2--"), 1);
	v = view(&m, FOOTER_ASCII, "hello");
	assert_int_equal(v.nparts, 2);
	assert_int_equal(v.found, 1);
	msg_free(&m);
}

static void test_footer_broken(void **state)
{
	static const char *const bad[] = {
		"Content-Type: multipart/mixed\n\n--x\n\nbody\n--x--\n",
		"Content-Type: multipart/alternative; boundary=\"\"\n\nbody\n",
		"Content-Type: multipart/signed; protocol=x\n\nbody\n",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct msg m;
		const char *err = NULL;
		char *before, *after;

		parse(&m, bad[i]);
		before = written(&m);
		assert_int_equal(rewrite_footer(&m, FOOTER_ASCII, &err), -1);
		assert_non_null(err);
		after = written(&m);
		assert_string_equal(before, after);
		free(before);
		free(after);
		msg_free(&m);
	}

	/* rewrite_post still rewrites, and reports the footer */
	{
		struct rewrite_params p = base;
		struct msg m;
		const char *err = NULL;

		p.footer = FOOTER_ASCII;
		parse(&m, bad[0]);
		assert_int_equal(rewrite_post(&m, &p, &err), -1);
		assert_non_null(err);
		assert_header(&m, "List-Id", "\"Makers of Example City\" "
			      "<makers.lists.example.org>");
		msg_free(&m);
	}
}

static void test_footer_none(void **state)
{
	struct msg m;
	const char *err = NULL;

	(void)state;
	parse(&m, "Content-Type: text/html\n\n<p>x</p>\n");
	assert_int_equal(rewrite_footer(&m, NULL, &err), 0);
	assert_int_equal(rewrite_footer(&m, "", &err), 0);
	assert_header(&m, "Content-Type", "text/html");
	assert_string_equal(m.body, "<p>x</p>\n");
	msg_free(&m);
}

/* rewrite_post with a footer on the post fixture: the whole thing. */
static void test_post_with_footer(void **state)
{
	struct rewrite_params p = base;
	struct msg m;
	const char *err = NULL;

	(void)state;
	p.footer = FOOTER_UTF8;
	parse(&m, post);
	assert_int_equal(rewrite_post(&m, &p, &err), 0);
	assert_string_equal(m.body, "Hello makers.\n" FOOTER_UTF8);
	assert_header(&m, "Content-Transfer-Encoding", "8bit");
	assert_int_equal(view(&m, FOOTER_UTF8, "Hello makers.").found, 1);
	msg_free(&m);
}

static void test_params_from_conf(void **state)
{
	char domain[] = "lists.example.org", name[] = "makers";
	char desc[] = "Makers", prefix[] = "[makers] ", rt[] = "x@example.org";
	char arch[] = "https://a/", unsub[] = "https://u/";
	struct conf c;
	struct conf_list l;
	struct rewrite_params p;

	(void)state;
	memset(&c, 0, sizeof c);
	memset(&l, 0, sizeof l);
	c.domain = domain;
	l.name = name;
	l.description = desc;
	l.subject_prefix = prefix;
	l.reply_to = REPLYTO_ADDRESS;
	l.reply_to_address = rt;
	l.from_munging = FROMMUNGE_DMARC;
	l.archive_url = arch;
	l.unsubscribe_url = unsub;
	memset(&p, 0xff, sizeof p);
	rewrite_params_from_conf(&p, &c, &l, "footer text");
	assert_ptr_equal(p.list_name, name);
	assert_ptr_equal(p.domain, domain);
	assert_ptr_equal(p.description, desc);
	assert_ptr_equal(p.subject_prefix, prefix);
	assert_int_equal(p.reply_to, REPLYTO_ADDRESS);
	assert_ptr_equal(p.reply_to_address, rt);
	assert_int_equal(p.from_munging, FROMMUNGE_DMARC);
	assert_false(p.dmarc_strict);
	assert_ptr_equal(p.archive_url, arch);
	assert_ptr_equal(p.unsubscribe_url, unsub);
	assert_string_equal(p.footer, "footer text");
	assert_ptr_equal(p.message_id_domain, domain);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_subject_table),
		cmocka_unit_test(test_subject_encoded),
		cmocka_unit_test(test_subject_kept),
		cmocka_unit_test(test_list_id),
		cmocka_unit_test(test_post_fields),
		cmocka_unit_test(test_post_urls),
		cmocka_unit_test(test_post_message_id),
		cmocka_unit_test(test_reply_to),
		cmocka_unit_test(test_from_munging),
		cmocka_unit_test(test_footer_plain),
		cmocka_unit_test(test_footer_wrap),
		cmocka_unit_test(test_footer_qp),
		cmocka_unit_test(test_footer_mixed),
		cmocka_unit_test(test_footer_mixed_truncated),
		cmocka_unit_test(test_footer_broken),
		cmocka_unit_test(test_footer_none),
		cmocka_unit_test(test_post_with_footer),
		cmocka_unit_test(test_params_from_conf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
