#!/usr/bin/env python3
"""lmtpclient - an LMTP client for the tests, well behaved or not.

usage: lmtpclient.py ADDR MODE [options]
  ADDR   unix:PATH or HOST:PORT
  send   [--from ADDR] --rcpt ADDR... [--lhlo NAME] FILE
         one transaction; prints "CMD [RCPT] REPLY" for each reply
         (DOT lines: one per recipient the server accepted)
  flood  --rcpt ADDR --size BYTES
         sends a message of BYTES (80-byte lines) while reading replies;
         prints the replies, "sent=N" (bytes of message sent) and
         "closed=1" when the server closed the connection
  longline --size BYTES
         sends a command line of BYTES without its end; prints the replies
         and closed=0|1
  stall  sends "MAIL FROM:<a" and nothing more; prints the reply that
         comes (or "none" after --wait seconds) and closed=0|1
  hold   connects, prints the greeting, keeps the session open (a NOOP
         every half second) until its standard input ends
Exit status 0, or 2 when the connection failed.
"""
import argparse
import socket
import sys
import threading
import time


def connect(addr, timeout=60):
    if addr.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        target = addr[5:]
    else:
        host, port = addr.rsplit(":", 1)
        host = host.strip("[]")
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM)
        target = (host, int(port))
    s.settimeout(timeout)
    s.connect(target)
    return s


class Reader:
    def __init__(self, s):
        self.f = s.makefile("rb")

    def reply(self):
        """One reply (possibly multi-line): its last line, or None at EOF."""
        while True:
            line = self.f.readline()
            if not line:
                return None
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            if len(text) < 4 or text[3] != "-":
                return text


def send(s, text):
    s.sendall(text.encode("utf-8", "surrogateescape") + b"\r\n")


def mode_send(a):
    s = connect(a.addr)
    r = Reader(s)
    print("GREETING", r.reply())
    send(s, "LHLO " + a.lhlo)
    print("LHLO", r.reply())
    send(s, "MAIL FROM:<%s>" % a.sender)
    print("MAIL", r.reply())
    ok = []
    for rcpt in a.rcpt:
        send(s, "RCPT TO:<%s>" % rcpt)
        rep = r.reply()
        print("RCPT <%s> %s" % (rcpt, rep))
        if rep and rep.startswith("2"):
            ok.append(rcpt)
    send(s, "DATA")
    rep = r.reply()
    print("DATA", rep)
    if rep and rep.startswith("354"):
        with open(a.file, "rb") as f:
            body = f.read()
        out = bytearray()
        for line in body.split(b"\n"):
            if line.startswith(b"."):
                line = b"." + line
            out += line.rstrip(b"\r") + b"\r\n"
        if body.endswith(b"\n"):
            out = out[:-2]
        out += b".\r\n"
        s.sendall(bytes(out))
        for rcpt in ok:
            print("DOT <%s> %s" % (rcpt, r.reply()))
    send(s, "QUIT")
    print("QUIT", r.reply())
    s.close()


def reader_thread(r, replies, done):
    while True:
        try:
            rep = r.reply()
        except OSError:
            rep = None
        if rep is None:
            break
        replies.append(rep)
    done.set()


def mode_flood(a):
    s = connect(a.addr)
    r = Reader(s)
    greeting = r.reply()
    for cmd in ("LHLO flood.example", "MAIL FROM:<flood@example.net>",
                "RCPT TO:<%s>" % a.rcpt[0], "DATA"):
        send(s, cmd)
        r.reply()
    replies, done = [], threading.Event()
    t = threading.Thread(target=reader_thread, args=(r, replies, done),
                         daemon=True)
    t.start()
    line = b"X" * 78 + b"\r\n"
    chunk = b"Subject: flood\r\n\r\n" + line * 800
    sent = 0
    closed = 0
    try:
        while sent < a.size:
            s.sendall(chunk)
            sent += len(chunk)
        s.sendall(b".\r\n")
    except OSError:
        closed = 1
    done.wait(60)
    if done.is_set():
        closed = 1
    print("greeting", greeting)
    for rep in replies:
        print("reply", rep)
    print("sent=%d" % sent)
    print("closed=%d" % closed)


def mode_longline(a):
    s = connect(a.addr)
    r = Reader(s)
    print("GREETING", r.reply())
    replies, done = [], threading.Event()
    t = threading.Thread(target=reader_thread, args=(r, replies, done),
                         daemon=True)
    t.start()
    closed = 0
    try:
        s.sendall(b"MAIL FROM:<")
        sent = 0
        while sent < a.size:
            s.sendall(b"a" * 65536)
            sent += 65536
    except OSError:
        closed = 1
    done.wait(30)
    closed |= done.is_set()
    for rep in replies:
        print("reply", rep)
    print("closed=%d" % closed)


def mode_stall(a):
    s = connect(a.addr, timeout=a.wait)
    r = Reader(s)
    print("GREETING", r.reply())
    send(s, "LHLO stall.example")
    print("LHLO", r.reply())
    s.sendall(b"MAIL FROM:<a")
    try:
        rep = r.reply()
    except OSError:
        rep = "none"
    print("reply", rep)
    try:
        closed = 1 if r.reply() is None else 0
    except OSError:
        closed = 0
    print("closed=%d" % closed)


def mode_hold(a):
    s = connect(a.addr)
    r = Reader(s)
    print("GREETING", r.reply(), flush=True)
    ended = threading.Event()

    def watch():
        sys.stdin.read()
        ended.set()
    threading.Thread(target=watch, daemon=True).start()
    # NOOPs keep the session from the idle time-out.
    while not ended.wait(0.5):
        send(s, "NOOP")
        if r.reply() is None:
            break
    s.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("addr")
    p.add_argument("mode")
    p.add_argument("file", nargs="?")
    p.add_argument("--from", dest="sender", default="bob@example.net")
    p.add_argument("--rcpt", action="append", default=[])
    p.add_argument("--lhlo", default="client.example")
    p.add_argument("--size", type=int, default=0)
    p.add_argument("--wait", type=float, default=30)
    a = p.parse_intermixed_args()
    try:
        {"send": mode_send, "flood": mode_flood, "longline": mode_longline,
         "stall": mode_stall, "hold": mode_hold}[a.mode](a)
    except (ConnectionRefusedError, FileNotFoundError) as e:
        print("connect failed:", e)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
