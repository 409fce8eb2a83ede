#!/usr/bin/env python3
"""The same charts from images with different libraries: what changes
between Debian 12 (cairo 1.16, pango 1.50, harfbuzz 6.0, freetype 2.12)
and Debian 13 (cairo 1.18, pango 1.56, harfbuzz 10, freetype 2.13).

    tests/image/compare_renderers.py bookworm trixie [official]

Every example is rendered as SVG and PNG by each image
(localhost/ngx-bubble:test-VARIANT), one container at a time:

  - SVG: byte for byte the same from every image (the layout, which
    pango's text metrics decide, does not move; check_image.py also
    holds each to t/golden/);
  - PNG: the same size; images with the same libraries (trixie and
    official: Debian 13's, under nginx 1.26.3 and 1.30.4) give the same
    bytes; between Debian 12 and 13 the glyphs are rasterised
    differently, so the test allows a tolerance, at most 5% of the pixels
    of a chart may differ (measured: 1.5-3.2%, every one of them in the
    text; bubbles, grid and axes are identical), and prints the figures
    chart by chart.

Prints "renderers: N passed, N failed" last.
"""

import os
import struct
import sys
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import imagelib as il  # noqa: E402

PNG_TOLERANCE = 0.05        # of a chart's pixels


def decode(b):
    """(width, height, bytes per pixel, pixels) of an 8-bit PNG."""
    pos, idat = 8, b""
    w = h = ctype = None
    while pos < len(b):
        n, typ = struct.unpack(">I4s", b[pos:pos + 8])
        data = b[pos + 8:pos + 8 + n]
        pos += 12 + n
        if typ == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", data[:10])
            assert depth == 8, "8-bit PNGs only"
        elif typ == b"IDAT":
            idat += data
    bpp = {0: 1, 2: 3, 4: 2, 6: 4}[ctype]
    raw = zlib.decompress(idat)
    stride = w * bpp
    out = bytearray()
    prev = bytearray(stride)
    i = 0
    for _ in range(h):
        f = raw[i]
        line = bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        if f == 2:
            line = bytearray((x + y) & 255 for x, y in zip(line, prev))
        elif f:
            for x in range(stride):
                a = line[x - bpp] if x >= bpp else 0
                c = prev[x - bpp] if x >= bpp else 0
                up = prev[x]
                if f == 1:
                    line[x] = (line[x] + a) & 255
                elif f == 3:
                    line[x] = (line[x] + (a + up) // 2) & 255
                elif f == 4:
                    p = a + up - c
                    pa, pb, pc = abs(p - a), abs(p - up), abs(p - c)
                    pr = a if pa <= pb and pa <= pc else up if pb <= pc else c
                    line[x] = (line[x] + pr) & 255
        out += line
        prev = line
    return w, h, bpp, bytes(out)


def pixel_diff(a, b):
    """(share of pixels that differ, largest channel difference)."""
    w, h, bpp, pa = decode(a)
    w2, h2, bpp2, pb = decode(b)
    if (w, h, bpp) != (w2, h2, bpp2):
        return 1.0, 255
    differ, most = 0, 0
    for i in range(0, len(pa), bpp):
        if pa[i:i + bpp] != pb[i:i + bpp]:
            differ += 1
            most = max(most, max(abs(x - y) for x, y in
                                 zip(pa[i:i + bpp], pb[i:i + bpp])))
    return differ / float(w * h), most


def main():
    variants = sys.argv[1:] or ["bookworm", "trixie"]
    t = il.Checks("renderers")
    out = {}
    t0 = time.time()
    try:
        ns = il.Netns("bimg-cmp-%d" % os.getpid())
        for v in variants:
            c = il.Container("bimg-cmp-" + v, "localhost/ngx-bubble:test-" + v,
                             ns, memory="512m")
            if not t.ok(il.wait_http(8080, "/ready", timeout=30)[0] == 200,
                        "%s ready" % v):
                continue
            for path in il.examples():
                name = os.path.basename(path)[:-5]
                with open(path, "rb") as fh:
                    body = fh.read()
                for fmt in ("svg", "png"):
                    st, _, b = il.request(8080, "POST", "/chart." + fmt, body)
                    out[(v, name, fmt)] = b if st == 200 else None
            c.remove()
    finally:
        il.cleanup()

    names = [os.path.basename(p)[:-5] for p in il.examples()]
    base = variants[0]
    for v in variants[1:]:
        same_svg = [n for n in names if out.get((v, n, "svg"))
                    and out.get((v, n, "svg")) == out.get((base, n, "svg"))]
        t.ok(len(same_svg) == len(names), "SVG of %s = SVG of %s for every "
             "example (%d of %d)" % (v, base, len(same_svg), len(names)),
             "differ: %s" % sorted(set(names) - set(same_svg)))
    # the same libraries: the same bytes
    if "trixie" in variants and "official" in variants:
        same = [n for n in names
                if out.get(("official", n, "png"))
                and out.get(("official", n, "png"))
                == out.get(("trixie", n, "png"))]
        t.ok(len(same) == len(names), "PNG of official (nginx 1.30.4) = PNG "
             "of trixie (nginx 1.26.3), Debian 13's libraries both: %d of %d"
             % (len(same), len(names)))
    if "bookworm" in variants and "trixie" in variants:
        worst, rows = 0.0, []
        for n in names:
            a, b = out.get(("bookworm", n, "png")), out.get(("trixie", n,
                                                              "png"))
            if not a or not b:
                rows.append((n, 1.0, 255))
                continue
            share, most = pixel_diff(a, b)
            rows.append((n, share, most))
            worst = max(worst, share)
        for n, share, most in rows:
            il.log("#   %-24s %5.2f%% of pixels differ (largest channel "
                   "difference %d)" % (n, 100 * share, most))
        t.ok(worst <= PNG_TOLERANCE, "PNG of Debian 13 vs Debian 12: at "
             "most %.0f%% of a chart's pixels differ (worst %.2f%%)"
             % (100 * PNG_TOLERANCE, 100 * worst))
    il.log("# renderers compared in %.1f s" % (time.time() - t0))
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
