/* robot - the one RFC 3834 check: mail that must never be answered */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mail/robot.h"
#include "mail/msg.h"

/* RFC 3834: any keyword but "no" (parameters and comments may follow
 * it). */
static bool auto_submitted(const struct msg *m)
{
	char *v = msg_header_unfolded(m, "Auto-Submitted");
	bool yes = v != NULL && !(strncasecmp(v, "no", 2) == 0 &&
				  strchr(" \t;(", v[2]) != NULL);

	free(v);
	return yes;
}

static bool bulk_precedence(const struct msg *m)
{
	static const char *const words[] = {
		"bulk", "junk", "list", "auto_reply", NULL
	};
	char *v = msg_header_unfolded(m, "Precedence");
	bool yes = false;
	size_t i;

	for (i = 0; v != NULL && words[i] != NULL; i++)
		yes |= strcasecmp(v, words[i]) == 0;
	free(v);
	return yes;
}

static bool autoreply_field(const struct msg *m)
{
	static const char *const fields[] = {
		"X-Autoreply", "X-Autorespond", "X-Auto-Response", NULL
	};
	size_t i;

	for (i = 0; fields[i] != NULL; i++)
		if (msg_field_cget(m, fields[i]) != NULL)
			return true;
	return false;
}

static bool null_return_path(const struct msg *m)
{
	char *v = msg_header_unfolded(m, "Return-Path");
	bool yes = v != NULL && (strncasecmp(v, "<mailer-daemon", 14) == 0 ||
				 strncasecmp(v, "mailer-daemon", 13) == 0 ||
				 strspn(v, "<> \t") == strlen(v));

	free(v);
	return yes;
}

static bool is_report(const struct msg *m)
{
	char *v = msg_header_unfolded(m, "Content-Type");
	bool yes = v != NULL && strncasecmp(v, "multipart/report", 16) == 0;

	free(v);
	return yes;
}

const char *robot_reason(const struct msg *m, const char *sender)
{
	if (sender == NULL || *sender == '\0')
		return "no sender address";
	if (strncasecmp(sender, "mailer-daemon@", 14) == 0)
		return "bounce (from MAILER-DAEMON)";
	if (auto_submitted(m))
		return "Auto-Submitted";
	if (bulk_precedence(m))
		return "Precedence: bulk, junk, list or auto_reply";
	if (msg_field_cget(m, "List-Id") != NULL)
		return "mail from a mailing list (List-Id)";
	if (autoreply_field(m))
		return "auto-responder";
	if (null_return_path(m))
		return "bounce (empty or MAILER-DAEMON envelope sender)";
	if (is_report(m))
		return "bounce or receipt (multipart/report)";
	return NULL;
}
