#!/usr/bin/env python3
"""community.py - a year of a community, made up, for the report tests

  community.py OUTDIR

writes OUTDIR/year.mbox (every post with its date), OUTDIR/members.txt
("DATE ADDRESS" a line: who joined when) and OUTDIR/expected.json (what a
report at the final time must say). Deterministic: the same files every
time.

The story: from START the community has one new thread a day, and most get
answers: bob answers most questions, carol the laser-cutter ones; every
9th thread gets no answer, every 13th only its asker's own follow-up, every
11th an answer after 60 hours. On day DROP activity falls to a thread every
3 days (a fifth of what it was). Newcomers join in the last weeks: two never
write, one writes once. The final report is at FINAL."""
import json
import os
import sys
from datetime import datetime, timedelta, timezone

START = datetime(2025, 1, 6, 0, 0, tzinfo=timezone.utc)   # a Monday
DROP = 300                                                  # day of the fall
FINAL = START + timedelta(days=DROP + 10, hours=9)
MEMBERS = ["m%02d@example.org" % i for i in range(24)]
HELPER, EXPERT = "bob@example.org", "carol@example.org"
TOPICS = ["laser cutter focus", "soldering iron tips", "3D printer bed",
          "workshop opening hours", "sewing machine tension"]

posts = []      # (date, mid, sender, subject, parent mid or None, body)


def post(date, mid, sender, subject, parent=None, body=None):
    posts.append((date, mid, sender, subject, parent,
                  body or "About %s.\n" % subject))


def thread(day, k, when, asker, topic, replies):
    """A thread on `topic` started at `when`; replies: (hours, sender)."""
    mid = "d%d-%d@example.org" % (day, k)
    subject = "Q%d-%d: %s" % (day, k, topic)
    post(when, mid, asker, subject,
         body="How do I get the %s right? Day %d.\n" % (topic, day))
    for i, (hours, sender) in enumerate(replies):
        post(when + timedelta(hours=hours), "r%d-%d-%d@example.org" %
             (day, k, i), sender, "Re: " + subject, mid,
             "Try this with the %s.\n" % topic)
    return subject


def year():
    for day in range(0, DROP + 10):
        base = START + timedelta(days=day, hours=10)
        if base > FINAL - timedelta(hours=40):
            break
        asker = MEMBERS[day % len(MEMBERS)]
        topic = TOPICS[day % len(TOPICS)]
        if day >= DROP:
            if day % 3 == 0:
                replies = [(4, HELPER)] if day % 6 == 0 else []
                thread(day, 0, base, asker, topic, replies)
            continue
        if day % 9 == 4:
            replies = []
        elif day % 13 == 6:
            replies = [(5, asker)]
        elif day % 11 == 7:
            replies = [(60, MEMBERS[5])]
        elif topic.startswith("laser"):
            replies = [(3, EXPERT), (6, asker)]
        else:
            replies = [(2, HELPER), (7, MEMBERS[(day + 7) % len(MEMBERS)])]
        thread(day, 0, base, asker, topic, replies)
    # Near the end: one too young to count, one answered late.
    thread(900, 0, FINAL - timedelta(hours=30), MEMBERS[3],
           "workshop opening hours", [])
    thread(901, 0, FINAL - timedelta(hours=60), MEMBERS[4],
           "soldering iron tips", [(55, MEMBERS[6])])
    # A newcomer who wrote once (answered), then nothing.
    thread(902, 0, FINAL - timedelta(days=12), "n3@example.org",
           "sewing machine tension", [(3, HELPER)])


def expected():
    by_mid = {p[1]: p for p in posts}
    roots = [p for p in posts if p[4] is None]
    window = (FINAL - timedelta(weeks=12), FINAL - timedelta(hours=48))
    unanswered, answered = [], []
    for r in roots:
        others = [p for p in posts if p[4] == r[1] and p[2] != r[2]]
        if not window[0] <= r[0] < window[1]:
            continue
        (answered if others else unanswered).append(r[3])
    period = FINAL - timedelta(days=28)
    answers = {}
    for p in posts:
        if p[4] and period <= p[0] < FINAL and by_mid[p[4]][2] != p[2]:
            answers[p[2]] = answers.get(p[2], 0) + 1
    top = max(sorted(answers), key=lambda a: answers[a])
    return {
        "drop": (START + timedelta(days=DROP)).strftime("%Y-%m-%d"),
        "final": FINAL.strftime("%Y-%m-%d %H:%M:%S"),
        "unanswered": sorted(unanswered), "answered": sorted(answered),
        "top_helper": top, "top_helper_answers": answers[top],
        "silent": ["n1@example.org", "n2@example.org"],
        "once": ["n3@example.org"], "old_silent": "n0@example.org",
        "laser_expert": EXPERT,
    }


def mbox(path):
    with open(path, "w") as f:
        for date, mid, sender, subject, parent, body in sorted(posts):
            f.write("From %s %s\n" % (sender, date.strftime(
                "%a %b %d %H:%M:%S %Y")))
            f.write("From: %s <%s>\n" % (sender.split("@")[0].capitalize(),
                                         sender))
            f.write("To: makers@lists.example.org\n")
            f.write("Subject: %s\n" % subject)
            f.write("Date: %s\n" % date.strftime("%a, %d %b %Y %H:%M:%S +0000"))
            f.write("Message-ID: <%s>\n" % mid)
            if parent:
                f.write("In-Reply-To: <%s>\nReferences: <%s>\n" %
                        (parent, parent))
            f.write("\n%s\n" % body)


def members(path):
    old = (START - timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")
    rows = [(old, a) for a in MEMBERS + [HELPER, EXPERT]]
    rows.append(((FINAL - timedelta(days=40)).strftime("%Y-%m-%d %H:%M:%S"),
                 "n0@example.org"))
    for days, a in ((20, "n1@example.org"), (10, "n2@example.org"),
                    (15, "n3@example.org")):
        rows.append(((FINAL - timedelta(days=days)).strftime(
            "%Y-%m-%d %H:%M:%S"), a))
    with open(path, "w") as f:
        for when, a in rows:
            f.write("%s %s\n" % (when, a))


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    year()
    mbox(os.path.join(out, "year.mbox"))
    members(os.path.join(out, "members.txt"))
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected(), f, indent=1)


main()
