/* mbox - mailbox files: reading mbox (mboxrd, and mboxo as well as it can
 * be read), writing mboxrd
 *
 * Parsing only: no database. The input is hostile; the reader is bounded
 * by the size of its input and never copies more than one message. */
#ifndef CONVENE_MBOX_H
#define CONVENE_MBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct buf;

/* Reads the messages of an mbox held in memory (the caller keeps data). */
struct mbox_reader {
	const char *data;
	size_t len, pos;
};

/* Whether data looks like an mbox: it starts with a "From " line. */
bool mbox_looks_like(const char *data, size_t len);

void mbox_reader_init(struct mbox_reader *r, const char *data, size_t len);

/* The next message into msg (reset first): the bytes between its "From "
 * separator line and the next one, without the separator and without the
 * one blank line that ends each entry, with mboxrd quoting undone (">From "
 * loses one '>', at any depth). A separator is a "From " line that starts
 * the file, or follows a blank line and carries a time (hh:mm), or has the
 * full asctime form anywhere. Line ends are kept as they are (LF or CRLF).
 * Returns false at the end. */
bool mbox_next(struct mbox_reader *r, struct buf *msg);

/* Appends one mboxrd entry to out: "From SENDER DATE" (asctime, UTC;
 * sender "MAILER-DAEMON" when NULL or unusable), the message with every
 * line that matches ">*From " quoted with one more '>', CRLF turned into
 * LF, a final newline, and the blank line that ends the entry. */
void mbox_write(struct buf *out, const char *sender, time_t date,
		const char *raw, size_t len);

#endif
