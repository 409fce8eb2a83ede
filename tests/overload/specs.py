#!/usr/bin/env python3
"""Specs of issue 16's overload cases (python3 stdlib).

    specs.py DIR      writes DIR/heavy.json, DIR/arabic.json and
                      DIR/arabic.url (the compact URL path of arabic.json)

heavy.json   20000 rows on 3000 x 3000: the render 24 clients abandon
             (t/024_cancel.t, run.py); about a second of drawing
arabic.json  64 colour categories of long Arabic text, 20 KB each, in a
             legend at the bottom (1.3 MB of JSON): its compact URL is 5.8
             KB (arabic.url), and it renders in over a second of text
             shaping (t/024_time.t, tests/bench/calibrate_estimate.sh)
facets.json  the same labels as facet_wrap strips (64 panels)
"""

import base64
import json
import os
import random
import sys
import zlib


def heavy(n=20000, side=3000):
    rng = random.Random(16)
    return {"width": side, "height": side, "title": "abandoned",
            "data": {"x": [round(rng.random(), 4) for _ in range(n)],
                     "y": [round(rng.random(), 4) for _ in range(n)],
                     "size": [round(rng.random(), 3) for _ in range(n)]}}


ARABIC = "نص عربي طويل جدا للاختبار "


def arabic(categories=64, length=20000, legend="bottom"):
    """a colour legend of CATEGORIES keys whose labels are LENGTH bytes"""
    words = ARABIC.encode()
    labels = []
    for i in range(categories):
        head = ("فئة %d " % i).encode()
        body = (words * (length // len(words) + 1))[:length - len(head)]
        # whole characters: Arabic letters are 2 bytes, spaces 1
        labels.append((head + body).decode("utf-8", "ignore"))
    spec = {"width": 800, "height": 600,
            "title": "64 categories of long Arabic text",
            "data": {"x": list(range(categories)),
                     "y": list(range(categories)),
                     "color": labels}}
    if legend:
        spec["legend"] = {"position": legend}
    return spec


def facets(categories=64, length=20000):
    """the labels of arabic() as facet strips, no legend"""
    spec = arabic(categories, length, legend="none")
    spec["facet"] = {"wrap": "color"}
    return spec


def compact(spec, base="/chart", fmt="png"):
    """tools/bubble-url's compact URL path"""
    body = json.dumps(spec, separators=(",", ":"),
                      ensure_ascii=False).encode()
    comp = zlib.compressobj(9, zlib.DEFLATED, -15, 9)
    blob = comp.compress(body) + comp.flush()
    return "%s/%s.%s" % (base, base64.urlsafe_b64encode(blob).rstrip(b"=")
                         .decode("ascii"), fmt)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "heavy.json"), "w") as f:
        json.dump(heavy(), f)
    a = arabic()
    with open(os.path.join(out, "arabic.json"), "w", encoding="utf-8") as f:
        json.dump(a, f, ensure_ascii=False)
    with open(os.path.join(out, "arabic.url"), "w") as f:
        f.write(compact(a) + "\n")
    with open(os.path.join(out, "facets.json"), "w", encoding="utf-8") as f:
        json.dump(facets(), f, ensure_ascii=False)


if __name__ == "__main__":
    main()
