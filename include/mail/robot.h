/* robot - the one RFC 3834 check: mail that must never be answered */
#ifndef CONVENE_ROBOT_H
#define CONVENE_ROBOT_H

struct msg;

/* Why message m (from `sender`, its From or Sender address as receive
 * read it; may be NULL) must never be answered or acted on as a person's
 * mail, as static text; NULL when a person may have written it. A robot
 * is: no sender address; a MAILER-DAEMON sender; Auto-Submitted other than
 * "no" (RFC 3834); Precedence bulk, junk, list or auto_reply; a List-Id
 * (mail from a list); X-Autoreply, X-Autorespond or X-Auto-Response; an
 * empty or MAILER-DAEMON Return-Path; a multipart/report (a bounce or a
 * receipt). Every answer and every notice to the sender of a message goes
 * through this check. */
const char *robot_reason(const struct msg *m, const char *sender);

#endif
