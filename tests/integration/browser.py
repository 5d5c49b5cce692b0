#!/usr/bin/env python3
"""browser.py - headless Chromium driven over the DevTools protocol, for
the web archive's tests: what people see, and what they do with it.

Chromium is started with --remote-debugging-pipe (commands on its fd 3,
answers on its fd 4, each a JSON text ended by a NUL byte), so no port and
no websocket library are needed. Every command prints JSON on stdout.

  browser.py dom URL                  the DOM after load (outerHTML)
  browser.py probe URL                facts about the page (see PROBE)
  browser.py eval URL EXPRESSION      the value of a JavaScript expression
                                      on the page (returned by value)
  browser.py search URL WORDS         types WORDS into the search box of
                                      the page at URL, clicks its button
                                      with the mouse, and reports the page
                                      that comes back
  browser.py click URL SELECTOR       clicks (with the mouse) the element
                                      SELECTOR of the page, reports the
                                      page that comes back
  browser.py screenshot URL FILE      a PNG of the page (1100 px wide)
  browser.py batch FILE DIR           one browser for many pages: FILE has
                                      one JSON array a line, [NAME, "dom"|
                                      "probe"|"eval", URL, EXPRESSION?];
                                      the answer to each goes to DIR/NAME.json

Environment: CHROMIUM (default /usr/bin/chromium), BROWSER_TIMEOUT
(seconds, default 60).
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import shutil
import base64

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
TIMEOUT = float(os.environ.get("BROWSER_TIMEOUT", "60"))

# What a test wants to know about a page: no script ran (a script from a
# message would set window.pwned or a data-pwned attribute, or change the
# title), what elements and links there are, and the text.
PROBE = r"""
(() => {
  const q = s => Array.from(document.querySelectorAll(s));
  const attrs = [];
  for (const el of q('*'))
    for (const a of el.getAttributeNames())
      if (/^on/i.test(a)) attrs.push(el.tagName + ' ' + a);
  return {
    title: document.title,
    url: location.href,
    pwned: typeof window.pwned !== 'undefined' ||
           q('[data-pwned]').length > 0,
    scripts: q('script').length,
    iframes: q('iframe, object, embed, frame').length,
    images: q('img').length,
    forms: q('form').map(f => f.getAttribute('action')),
    event_attributes: attrs,
    links: q('a[href]').map(a => a.getAttribute('href')),
    bad_links: q('a[href]').map(a => a.href).filter(
        h => !/^(https?|file|mailto):/i.test(h)),
    h1: q('h1').map(e => e.textContent.trim()),
    text: document.body ? document.body.innerText : '',
    pre_max: Math.max(0, ...q('pre').map(p => p.textContent.length)),
  };
})()
"""


class Browser:
    def __init__(self):
        self.profile = tempfile.mkdtemp(prefix="convene-chromium.")
        cmd_r, self.cmd_w = os.pipe()
        self.res_r, res_w = os.pipe()

        def fds():
            # dup2 onto itself keeps close-on-exec: clear it for both
            os.dup2(cmd_r, 3)
            os.dup2(res_w, 4)
            os.set_inheritable(3, True)
            os.set_inheritable(4, True)

        args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--user-data-dir=" + self.profile,
                "--remote-debugging-pipe", "--window-size=1100,1400",
                "about:blank"]
        self.proc = subprocess.Popen(args, preexec_fn=fds, pass_fds=(),
                                     stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL,
                                     close_fds=False)
        os.close(cmd_r)
        os.close(res_w)
        self.buf = b""
        self.next_id = 0
        self.events = []
        self.session = None
        targets = self.call("Target.getTargets")["targetInfos"]
        page = [t for t in targets if t["type"] == "page"]
        if page:
            tid = page[0]["targetId"]
        else:
            tid = self.call("Target.createTarget",
                            {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget",
                                 {"targetId": tid,
                                  "flatten": True})["sessionId"]
        self.call("Page.enable")
        self.call("Runtime.enable")

    def close(self):
        try:
            self.proc.terminate()
            self.proc.wait(10)
        except Exception:
            self.proc.kill()
        shutil.rmtree(self.profile, ignore_errors=True)

    def _read(self, deadline):
        while b"\0" not in self.buf:
            if time.time() > deadline:
                raise TimeoutError("chromium did not answer")
            chunk = os.read(self.res_r, 1 << 16)
            if not chunk:
                raise EOFError("chromium went away")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, params=None, session=True):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method,
               "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self.cmd_w, json.dumps(msg).encode() + b"\0")
        deadline = time.time() + TIMEOUT
        while True:
            m = self._read(deadline)
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError(method + ": " + str(m["error"]))
                return m.get("result", {})
            self.events.append(m)

    def wait_event(self, name, deadline):
        while True:
            for i, m in enumerate(self.events):
                if m.get("method") == name:
                    del self.events[i]
                    return m
            self.events.append(self._read(deadline))

    def navigate(self, url):
        self.events.clear()
        self.call("Page.navigate", {"url": url})
        self.wait_event("Page.loadEventFired", time.time() + TIMEOUT)

    def eval(self, expr):
        r = self.call("Runtime.evaluate", {"expression": expr,
                                           "returnByValue": True})
        if "exceptionDetails" in r:
            raise RuntimeError(str(r["exceptionDetails"]))
        return r["result"].get("value")

    def mouse_click(self, selector):
        box = self.eval("(() => { const e = document.querySelector(%s);"
                        " if (!e) return null; e.scrollIntoView();"
                        " const r = e.getBoundingClientRect();"
                        " return [r.x + r.width / 2, r.y + r.height / 2];"
                        " })()" % json.dumps(selector))
        if box is None:
            raise RuntimeError("no element " + selector)
        self.events.clear()
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent",
                      {"type": kind, "x": box[0], "y": box[1],
                       "button": "left", "clickCount": 1})
        self.wait_event("Page.loadEventFired", time.time() + TIMEOUT)

    def type_into(self, selector, text):
        self.eval("document.querySelector(%s).focus()" % json.dumps(selector))
        self.call("Input.insertText", {"text": text})


def look(b, what, url, args):
    b.navigate(url)
    if what == "dom":
        return {"dom": b.eval("document.documentElement.outerHTML")}
    if what == "probe":
        return b.eval(PROBE)
    if what == "eval":
        return b.eval(args[0])
    raise ValueError("unknown command " + what)


def batch(path, outdir):
    b = Browser()
    try:
        with open(path) as f:
            for line in f:
                if not line.strip():
                    continue
                req = json.loads(line)
                out = look(b, req[1], req[2], req[3:])
                with open(os.path.join(outdir, req[0] + ".json"), "w") as o:
                    json.dump(out, o)
                    o.write("\n")
    finally:
        b.close()
    return 0


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    if argv[1] == "batch":
        return batch(argv[2], argv[3])
    b = Browser()
    try:
        what, url = argv[1], argv[2]
        b.navigate(url)
        if what == "dom":
            out = {"dom": b.eval("document.documentElement.outerHTML")}
        elif what == "probe":
            out = b.eval(PROBE)
        elif what == "eval":
            out = b.eval(argv[3])
        elif what == "search":
            b.type_into("input[name=q]", argv[3])
            b.mouse_click("form.search button")
            out = b.eval(PROBE)
        elif what == "click":
            b.mouse_click(argv[3])
            out = b.eval(PROBE)
        elif what == "screenshot":
            r = b.call("Page.captureScreenshot",
                       {"format": "png", "captureBeyondViewport": True})
            with open(argv[3], "wb") as f:
                f.write(base64.b64decode(r["data"]))
            out = {"file": argv[3]}
        else:
            print(__doc__, file=sys.stderr)
            return 2
        json.dump(out, sys.stdout)
        print()
        return 0
    finally:
        b.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
