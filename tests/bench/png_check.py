#!/usr/bin/env python3
"""Decode PNGs with Pillow and compare their pixels with a reference.

    png_check.py REFERENCE.png FILE.png...

Every FILE must decode (Pillow runs zlib and checks the CRCs of the chunks
it reads; img.load() decodes every row) and, converted to RGBA, be
pixel-identical to REFERENCE (cairo's own encoding of the same surface).
Prints one line per file and exits non-zero if any fails.
"""

import sys

from PIL import Image


def rgba(path):
    with Image.open(path) as img:
        img.load()
        return img.mode, img.size, img.convert("RGBA").tobytes()


def main():
    if len(sys.argv) < 3:
        sys.stderr.write(__doc__)
        return 2

    _, size, ref = rgba(sys.argv[1])
    failed = 0

    for path in sys.argv[2:]:
        try:
            mode, sz, px = rgba(path)
        except Exception as e:  # noqa: BLE001 - report any decoder error
            print("FAIL %s: %s" % (path, e))
            failed += 1
            continue

        if sz != size or px != ref:
            diff = sum(1 for a, b in zip(px, ref) if a != b)
            print("FAIL %s: %s %s, %d bytes differ" % (path, mode, sz, diff))
            failed += 1
        else:
            print("ok   %s: %s %dx%d, same pixels" % (path, mode, *sz))

    print("%d passed, %d failed" % (len(sys.argv) - 2 - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
