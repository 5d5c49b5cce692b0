#!/usr/bin/env python3
"""links.py - how much of a real list archive's References graph convene's
threading found.

usage: links.py DB LIST MAILDIR...

For every message of the folders (files; duplicates by Message-ID count
once) the References graph gives one reply link: its parent is the first id
of In-Reply-To, else the last of References (as convene and JWZ take it),
when that message is in the archive too. A link is found when convene's
archive.parent of the reply is that parent. Links whose parent is missing
from the archive are counted apart: there convene's parent should be the
nearest ancestor named in References that is present (through a ghost).
Replies that name no parent and got one anyway came by subject.
"""
import email
import email.policy
import os
import re
import sqlite3
import sys

ID = re.compile(r'<([^<>\s]+)>')


def ids(value):
    return ID.findall(value or '')


def usable(i):
    at = i.find('@')
    return at > 0 and at < len(i) - 1


def main():
    db, lst, folders = sys.argv[1], sys.argv[2], sys.argv[3:]
    msgs = {}
    for folder in folders:
        for name in sorted(os.listdir(folder)):
            path = os.path.join(folder, name)
            if not os.path.isfile(path):
                continue
            with open(path, 'rb') as f:
                m = email.message_from_binary_file(
                    f, policy=email.policy.compat32)
            mid = ids(m['Message-ID'])
            if not mid or mid[0] in msgs:
                continue
            irt = [i for i in ids(m['In-Reply-To']) if usable(i)]
            refs = [i for i in ids(m['References']) if usable(i)]
            msgs[mid[0]] = (irt[:1], refs)
    con = sqlite3.connect(db)
    rows = con.execute('SELECT id, message_id, parent FROM archive '
                       'WHERE list = ?', (lst,)).fetchall()
    aid = {mid: i for i, mid, _ in rows}
    parent = {mid: p for _, mid, p in rows}
    direct = direct_found = bridged = bridged_found = 0
    no_refs = by_subject = 0
    missed = []
    for mid, (irt, refs) in msgs.items():
        if mid not in aid:
            continue
        want = irt[0] if irt else (refs[-1] if refs else None)
        if want is None or want == mid:
            no_refs += 1
            if parent[mid]:
                by_subject += 1
            continue
        if want in aid:
            direct += 1
            if parent[mid] == aid[want]:
                direct_found += 1
            else:
                missed.append(mid)
            continue
        # The parent is missing: the nearest ancestor present.
        chain = [r for r in refs if r != want and r != mid]
        near = next((r for r in reversed(chain) if r in aid), None)
        if near is None:
            continue
        bridged += 1
        if parent[mid] == aid[near]:
            bridged_found += 1
    print('messages %d, reply links to a message in the archive %d, '
          'found %d (%.1f%%)' % (len(msgs), direct, direct_found,
                                 100.0 * direct_found / max(direct, 1)))
    print('replies whose parent is missing but an ancestor is there %d, '
          'linked to it through a ghost %d (%.1f%%)' %
          (bridged, bridged_found, 100.0 * bridged_found / max(bridged, 1)))
    print('messages naming no parent %d, of them joined by subject %d' %
          (no_refs, by_subject))
    for mid in missed[:10]:
        print('  not found: <%s>' % mid)


if __name__ == '__main__':
    main()
