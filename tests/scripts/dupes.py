#!/usr/bin/env python3
"""dupes.py - names the pairs of places inside one floor that repeat code

Usage: dupes.py [-n MIN] DIR...

Each DIR (src/, include/) holds one folder per floor (base, mail, store,
pipeline, delivery, front); files are compared only with files of the same
floor, across the DIRs. A line counts when it holds code: comments, blank
lines, lines of lone punctuation and #include lines are passed over, white
space is folded. Two lines are alike when they have the same shape: the
same keywords, punctuation, strings and called functions, whatever the
names of variables and fields and whatever the numbers (so a copy with
its names changed is still a copy; two queries with other SQL are not).
Prints FILE:FIRST-LAST ~ FILE:FIRST-LAST: N lines for each run of MIN
(default 11) or more alike lines that stands in two places, and exits 1
when there is any, 0 otherwise.
"""
import os
import re
import sys

FLOORS = ("base", "mail", "store", "pipeline", "delivery", "front")
KEYWORDS = set("""auto break case char const continue default do double else
enum extern float for goto if inline int long register restrict return short
signed sizeof static struct switch typedef union unsigned void volatile while
bool true false NULL _Bool""".split())
TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|[A-Za-z_]\w*'
                   r'|\d[\w.]*|->|\+\+|--|<<=|>>=|[-+*/%&|^!<>=]=|&&|\|\||'
                   r'<<|>>|\S')
PUNCT_ONLY = re.compile(r'^[{}();,\s]*$')


def strip_comments(text):
    """The text with comments blanked out (newlines kept) and strings kept."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def shape(line):
    """The line's shape, or None when it does not count."""
    s = line.strip()
    if not s or PUNCT_ONLY.match(s) or s.startswith("#include"):
        return None
    toks = TOKEN.findall(s)
    out = []
    for k, t in enumerate(toks):
        nxt = toks[k + 1] if k + 1 < len(toks) else ""
        if t[0] in "\"'":
            out.append(t)
        elif t[0].isdigit():
            out.append("N")
        elif t[0].isalpha() or t[0] == "_":
            if t in KEYWORDS or nxt == "(" or t.isupper():
                out.append(t)
            else:
                out.append("I")
        else:
            out.append(t)
    return " ".join(out)


def read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        text = strip_comments(f.read())
    lines = []
    for no, line in enumerate(text.split("\n"), 1):
        sh = shape(line)
        if sh is not None:
            lines.append((sh, no))
    return lines


def runs(files, minimum):
    """Maximal runs of at least `minimum` alike lines in two places."""
    index = {}
    for fi, (_, lines) in enumerate(files):
        for i in range(len(lines) - minimum + 1):
            key = tuple(sh for sh, _ in lines[i:i + minimum])
            index.setdefault(key, []).append((fi, i))
    seen = set()
    found = []
    for places in index.values():
        if len(places) < 2:
            continue
        for a in range(len(places)):
            for b in range(a + 1, len(places)):
                (fa, ia), (fb, ib) = places[a], places[b]
                if fa == fb and abs(ia - ib) < minimum:
                    continue        # a run overlapping itself
                # Back to where the run begins, on the same diagonal.
                while (ia > 0 and ib > 0 and
                       files[fa][1][ia - 1][0] == files[fb][1][ib - 1][0]):
                    ia, ib = ia - 1, ib - 1
                if (fa, ia, fb, ib) in seen:
                    continue
                seen.add((fa, ia, fb, ib))
                la, lb = files[fa][1], files[fb][1]
                n = 0
                while (ia + n < len(la) and ib + n < len(lb) and
                       la[ia + n][0] == lb[ib + n][0]):
                    n += 1
                found.append((files[fa][0], la[ia][1], la[ia + n - 1][1],
                              files[fb][0], lb[ib][1], lb[ib + n - 1][1], n))
    return sorted(found)


def main(argv):
    minimum = 11
    if len(argv) >= 2 and argv[0] == "-n":
        minimum = int(argv[1])
        argv = argv[2:]
    if not argv:
        sys.stderr.write("usage: dupes.py [-n MIN] DIR...\n")
        return 2
    by_floor = {}
    for d in argv:
        for root, _, names in os.walk(d):
            rel = os.path.relpath(root, d).split(os.sep)
            if rel[0] not in FLOORS:
                continue
            for name in sorted(names):
                if name.endswith((".c", ".h")):
                    path = os.path.join(root, name)
                    by_floor.setdefault(rel[0], []).append(
                        (path, read(path)))
    bad = 0
    for floor in FLOORS:
        files = sorted(by_floor.get(floor, []))
        for fa, a0, a1, fb, b0, b1, n in runs(files, minimum):
            print("%s:%d-%d ~ %s:%d-%d: %d lines" % (fa, a0, a1, fb, b0,
                                                     b1, n))
            bad = 1
    return bad


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
