#!/usr/bin/env python3
"""report.py - reads a health report the way a mail client does

  report.py parts MESSAGE DIR   the text part, the HTML part and the images
                                of MESSAGE into DIR (text.txt, report.html
                                with cid: links made file names, and each
                                image under its Content-ID); prints one line
                                "TYPE CONTENT-ID BYTES" a part
  report.py png FILE            decodes a PNG whole (chunks and their CRCs,
                                the zlib stream, every row's filter) and
                                prints "WIDTH HEIGHT COLOURS", COLOURS the
                                number of distinct pixel values"""
import email
import os
import struct
import sys
import zlib
from email import policy


def parts(path, out):
    with open(path, "rb") as f:
        raw = b"".join(l for l in f if not l.startswith(b"X-Convene-"))
    m = email.message_from_bytes(raw, policy=policy.default)
    os.makedirs(out, exist_ok=True)
    html, cids = None, {}
    for p in m.walk():
        t = p.get_content_type()
        cid = (p.get("Content-ID") or "").strip("<>")
        if p.is_multipart():
            print(t, "-", 0)
            continue
        data = p.get_payload(decode=True)
        print(t, cid or "-", len(data))
        if t == "text/plain":
            open(os.path.join(out, "text.txt"), "wb").write(data)
        elif t == "text/html":
            html = data.decode("utf-8")
        elif t.startswith("image/"):
            name = cid.replace("@", "_") + ".png"
            open(os.path.join(out, name), "wb").write(data)
            cids[cid] = name
    if html is not None:
        for cid, name in cids.items():
            html = html.replace("cid:" + cid, name)
        open(os.path.join(out, "report.html"), "w").write(html)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def png(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG signature"
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        n, = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        crc, = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])
        assert zlib.crc32(kind + body) == crc, "bad CRC in %r" % kind
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
        if kind == b"IEND":
            break
    w, h, depth, ctype, _, _, interlace = ihdr
    assert depth == 8 and ctype in (2, 6) and interlace == 0, ihdr
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride = w * bpp
    assert len(raw) == h * (stride + 1), "wrong amount of pixel data"
    prev, colours = bytearray(stride), set()
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(
            raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            line[i] = (line[i] + (0, a, b, (a + b) // 2, paeth(a, b, c))[f]) & 255
        for i in range(0, stride, bpp):
            colours.add(bytes(line[i:i + 3]))
        prev = line
    print(w, h, len(colours))


if sys.argv[1] == "parts":
    parts(sys.argv[2], sys.argv[3])
else:
    png(sys.argv[2])
