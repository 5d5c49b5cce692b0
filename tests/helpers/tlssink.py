#!/usr/bin/env python3
"""tlssink - a small SMTP server on 127.0.0.1 that offers STARTTLS (with
Python's ssl module, i.e. OpenSSL) and keeps each message it receives as a
file with the TLS version and cipher the session used, for the STARTTLS
test of the SMTP transport.

usage: tlssink.py CERT KEY OUTDIR PORTFILE
Writes the port it listens on to PORTFILE; each message to OUTDIR/msg-N
(first lines "X-TLS: VERSION CIPHER", "X-Mail: <from>", "X-Rcpt: <to>" per
recipient, then the message). A command other than EHLO, HELO, STARTTLS
or QUIT before TLS gets 530, as a server that requires TLS answers."""
import os
import socket
import ssl
import sys
import threading

cert, key, outdir, portfile = sys.argv[1:5]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
count = 0
lock = threading.Lock()


def session(conn):
    global count
    f = conn.makefile("rb")
    tls = None
    mail, rcpts = None, []

    def say(text):
        conn.sendall(text.encode() + b"\r\n")

    say("220 tlssink ESMTP")
    while True:
        line = f.readline()
        if not line:
            return
        cmd = line.decode("latin-1").rstrip("\r\n")
        verb = cmd.split(" ", 1)[0].upper()
        if verb in ("EHLO", "HELO"):
            if tls is None:
                say("250-tlssink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 STARTTLS")
            else:
                say("250-tlssink\r\n250-PIPELINING\r\n250 8BITMIME")
        elif verb == "STARTTLS" and tls is None:
            say("220 2.0.0 ready to start TLS")
            conn = ctx.wrap_socket(conn, server_side=True)
            tls = "%s %s" % (conn.version(), conn.cipher()[0])
            f = conn.makefile("rb")
        elif verb == "QUIT":
            say("221 2.0.0 bye")
            return
        elif tls is None:
            say("530 5.7.0 must issue a STARTTLS command first")
        elif verb == "MAIL":
            mail, rcpts = cmd[10:], []
            say("250 2.1.0 ok")
        elif verb == "RCPT":
            rcpts.append(cmd[8:])
            say("250 2.1.5 ok")
        elif verb == "DATA":
            say("354 go ahead")
            body = []
            while True:
                data = f.readline()
                if not data or data in (b".\r\n", b".\n"):
                    break
                body.append(data[1:] if data.startswith(b"..") else data)
            with lock:
                count += 1
                name = os.path.join(outdir, "msg-%d" % count)
            with open(name + ".tmp", "wb") as out:
                out.write(("X-TLS: %s\r\nX-Mail: %s\r\n" % (tls, mail)).encode())
                for r in rcpts:
                    out.write(("X-Rcpt: %s\r\n" % r).encode())
                out.writelines(body)
            os.rename(name + ".tmp", name)
            say("250 2.0.0 queued")
        elif verb in ("RSET", "NOOP"):
            say("250 2.0.0 ok")
        else:
            say("502 5.5.2 not implemented")


def serve(conn):
    try:
        session(conn)
    except (OSError, ssl.SSLError) as e:
        sys.stderr.write("tlssink: %s\n" % e)
    finally:
        conn.close()


srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(16)
with open(portfile + ".tmp", "w") as pf:
    pf.write("%d\n" % srv.getsockname()[1])
os.rename(portfile + ".tmp", portfile)
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
