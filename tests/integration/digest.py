#!/usr/bin/env python3
"""digest.py - reads a digest convene sent, the way a reader's tools would.

Usage: digest.py mime|plain|toc|parts FILE

FILE is a message (an outbox file: its X-Convene-Envelope-* lines at the top
are skipped). Prints one line per post, "Message-ID<TAB>From<TAB>Date", in
the digest's order:
  mime   the message/rfc822 parts of the multipart/digest (RFC 2046 5.1.5),
         after checking the layout: multipart/mixed whose first part is the
         text/plain table of contents and whose second is the digest;
  plain  the posts of an RFC 1153 digest, burst at its separators (a line of
         70 hyphens after the preamble, lines of 30 hyphens between posts,
         the "End of" trailer), with RFC 934 quoting ("- ") undone;
  toc    prints the table of contents (the MIME digest's first part, or the
         plain digest's preamble) instead;
  parts  for a plain digest, prints each post's text (headers and body),
         posts separated by a line "=====".
Exits 1 (with the reason on stderr) when the digest is not laid out so.
"""
import email
import sys
from email import policy


def load(path):
    with open(path, 'rb') as f:
        raw = f.read()
    lines = raw.split(b'\n')
    while lines and lines[0].startswith(b'X-Convene-Envelope-'):
        lines.pop(0)
    return email.message_from_bytes(b'\n'.join(lines), policy=policy.default)


def fail(why):
    print('digest.py: ' + why, file=sys.stderr)
    sys.exit(1)


def row(m):
    return '\t'.join(str(m.get(h, '')) for h in ('Message-ID', 'From', 'Date'))


def mime(m):
    if m.get_content_type() != 'multipart/mixed':
        fail('not multipart/mixed: ' + m.get_content_type())
    parts = list(m.iter_parts())
    if len(parts) < 2 or parts[0].get_content_type() != 'text/plain':
        fail('the first part is not the text/plain table of contents')
    if parts[1].get_content_type() != 'multipart/digest':
        fail('the second part is not multipart/digest')
    out = []
    for p in parts[1].iter_parts():
        if p.get_content_type() != 'message/rfc822':
            fail('a digest part is ' + p.get_content_type())
        out.append(p.get_content())
    return parts[0].get_content(), out


def plain(m):
    if m.get_content_type() != 'text/plain':
        fail('not text/plain: ' + m.get_content_type())
    text = m.get_content()
    lines = text.split('\n')
    try:
        start = lines.index('-' * 70)
    except ValueError:
        fail('no line of 70 hyphens after the preamble')
    preamble = '\n'.join(lines[:start])
    posts, cur, i = [], [], start + 1
    end = None
    while i < len(lines):
        ln = lines[i]
        if ln == '-' * 30 and i > 0 and lines[i - 1] == '' and \
                i + 1 < len(lines) and lines[i + 1] == '':
            posts.append(cur)
            cur = []
            i += 2
            if i < len(lines) and lines[i].startswith('End of '):
                end = lines[i]
                if i + 1 >= len(lines) or \
                        lines[i + 1] != '*' * len(lines[i]):
                    fail('the trailer is not underlined with stars')
                break
            continue
        cur.append(ln[2:] if ln.startswith('- ') else ln)
        i += 1
    if end is None:
        fail('no "End of" trailer after a separator')
    msgs = []
    for p in posts:
        while p and p[0] == '':
            p.pop(0)
        while p and p[-1] == '':
            p.pop()
        body = '\n'.join(p) + '\n'
        msgs.append((email.message_from_string(body, policy=policy.default),
                     body))
    return preamble, msgs


def main():
    if len(sys.argv) != 3:
        fail(__doc__)
    what, path = sys.argv[1], sys.argv[2]
    m = load(path)
    if m.get_content_type() == 'multipart/mixed':
        toc, msgs = mime(m)
        if what == 'plain':
            fail('a MIME digest, not a plain one')
        bodies = None
    else:
        toc, pairs = plain(m)
        if what == 'mime':
            fail('a plain digest, not a MIME one')
        msgs = [p[0] for p in pairs]
        bodies = [p[1] for p in pairs]
    if what == 'toc':
        sys.stdout.write(toc)
    elif what == 'parts':
        if bodies is None:
            fail('parts is for plain digests')
        sys.stdout.write('=====\n'.join(bodies))
    else:
        for x in msgs:
            print(row(x))


if __name__ == '__main__':
    main()
