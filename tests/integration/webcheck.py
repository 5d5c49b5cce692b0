#!/usr/bin/env python3
"""webcheck.py DIR... - every page of a rendered web archive holds only the
markup of convene's templates: the elements and attributes web.html uses,
links that are relative, http(s) or mailto, no script, no event handler.
A message whose text or subject smuggled markup onto a page fails here.
Prints one line per problem (file: what) and a summary; exits 1 when there
is a problem.
"""
import html.parser
import os
import re
import sys

# What templates/en/web.html writes, and nothing more.
ELEMENTS = {
    "html", "head", "meta", "title", "link", "body", "header", "p", "a",
    "span", "nav", "form", "input", "button", "main", "footer", "h1",
    "h2", "table", "thead", "tbody", "tr", "th", "td", "ul", "ol", "li",
    "time", "section", "div", "article", "pre", "details", "summary",
    "dl", "dt", "dd", "q",
}
ATTRIBUTES = {
    "lang", "charset", "name", "content", "rel", "href", "type", "title",
    "class", "method", "action", "role", "value", "maxlength",
    "placeholder", "aria-label", "datetime", "id", "data-bytes",
    "http-equiv",
}
SAFE_URL = re.compile(r"^(https?://[^\s\"'<>]+|mailto:[^\s\"'<>]+|"
                      r"[A-Za-z0-9._/#-]*)$")


class Page(html.parser.HTMLParser):
    def __init__(self, name, problems):
        super().__init__(convert_charrefs=True)
        self.name = name
        self.problems = problems

    def problem(self, what):
        self.problems.append("%s: %s" % (self.name, what))

    def handle_starttag(self, tag, attrs):
        if tag not in ELEMENTS:
            self.problem("element <%s>" % tag)
        for k, v in attrs:
            if k not in ATTRIBUTES:
                self.problem("attribute %s on <%s>" % (k, tag))
            if k in ("href", "action", "src") and v is not None and \
               not SAFE_URL.match(v):
                self.problem("%s=%r" % (k, v[:80]))
            if k == "content" and dict(attrs).get("http-equiv") and \
               not re.match(r"^0; url=[0-9]+\.html$", v or ""):
                self.problem("meta refresh %r" % (v or "")[:80])

    handle_startendtag = handle_starttag


def main(dirs):
    problems = []
    pages = 0
    for top in dirs:
        for root, _, files in os.walk(top):
            for f in files:
                if not f.endswith(".html"):
                    continue
                path = os.path.join(root, f)
                with open(path, "rb") as fh:
                    text = fh.read().decode("utf-8", errors="strict")
                p = Page(os.path.relpath(path, top), problems)
                p.feed(text)
                p.close()
                pages += 1
    for line in problems[:50]:
        print(line)
    print("# %d pages, %d problems" % (pages, len(problems)))
    return 1 if problems or pages == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
