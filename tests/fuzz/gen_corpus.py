#!/usr/bin/env python3
"""Write the fuzzers' seed corpora (tests/fuzz/corpus/{spec,render}/).

    python3 tests/fuzz/gen_corpus.py      # from the repository root

spec/: the bench specs (tests/bench/workloads), examples/*.json, small hand-written
specs touching every field, and malformed ones (each a different way to be
wrong).  render/: the same charts shrunk to the render target's caps
(<= 256k pixels, <= 2000 points, <= 8 KiB where possible) so that an
execution stays in milliseconds.  Re-running rewrites the files; names are
stable.
"""

import glob
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "fuzz", "corpus")


def write(kind, name, data):
    d = os.path.join(OUT, kind)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def shrink(spec, rows):
    """The chart at <= 480x360 (172800 px), scale 1, at most `rows` rows."""
    s = dict(spec)
    w, h = s.get("width", 800), s.get("height", 600)
    k = min(1.0, 480.0 / w, 360.0 / h)
    s["width"], s["height"] = max(16, int(w * k)), max(16, int(h * k))
    s.pop("scale", None)
    data = s.get("data")
    if isinstance(data, list):
        s["data"] = data[:rows]
    elif isinstance(data, dict):
        s["data"] = {c: v[:rows] for c, v in data.items()}
    return s


def compact(spec):
    return json.dumps(spec, separators=(",", ":"), ensure_ascii=False)


def main():
    sources = []
    for p in sorted(glob.glob(os.path.join(ROOT, "tests", "bench", "workloads",
                                           "*.json"))):
        sources.append(("bench-" + os.path.basename(p), p))
    for p in sorted(glob.glob(os.path.join(ROOT, "examples", "*.json"))):
        sources.append(("example-" + os.path.basename(p), p))

    for name, p in sources:
        raw = open(p, "rb").read()
        write("spec", name, raw)
        spec = json.loads(raw)
        small = compact(shrink(spec, 40))
        if len(small.encode()) > 8192:
            small = compact(shrink(spec, 12))
        write("render", name, small)

    rows = [{"x": 1, "y": 2, "size": 3, "color": "a", "label": "p",
             "tooltip": "t"},
            {"x": 2, "y": 3, "size": 1, "color": "b", "label": "q",
             "tooltip": "u"},
            {"x": 3, "y": 1, "size": None, "color": None, "label": None,
             "tooltip": None}]
    cols = {"x": [1, 2, 3], "y": [2, 3, 1], "size": [3, 1, 2],
            "color": [0.1, 0.5, 0.9]}

    hand = {
        "minimal-rows": {"data": [{"x": 1, "y": 2}]},
        "minimal-cols": {"data": {"x": [1], "y": [2]}},
        "every-field": {
            "width": 320, "height": 240, "scale": 1.5, "format": "svg",
            "title": "T & <t>", "subtitle": "s", "caption": "c",
            "theme": "dark", "background": "#102030",
            "font": {"family": "DejaVu Sans", "size": 9},
            "data": rows,
            "mapping": {"x": "x", "y": "y", "size": "size",
                        "color": "color", "label": "label",
                        "tooltip": "tooltip"},
            "x": {"title": "X", "scale": "log10", "limits": [0.5, 4],
                  "breaks": [1, 2, 3], "labels": ["one", "two", "three"],
                  "reverse": True},
            "y": {"title": "Y", "scale": "sqrt", "labels": "%.1f%%"},
            "size": {"title": "S", "type": "radius", "range": [2, 12],
                     "limits": [0, 5], "breaks": [1, 2, 4]},
            "color": {"title": "C", "type": "categorical",
                      "palette": ["red", "#0f0", "#0000ff80"],
                      "limits": ["b", "a"]},
            "alpha": 0.4, "stroke": {"color": "black", "width": 0.5},
            "legend": {"position": "bottom"}},
        "continuous-color": {
            "width": 300, "height": 200, "data": cols,
            "color": {"type": "continuous", "palette": "magma",
                      "limits": [0, 1]},
            "legend": {"position": "left"}, "theme": "classic"},
        "pdf-minimal-theme": {"width": 200, "height": 160, "format": "pdf",
                              "theme": "minimal", "data": cols},
        "colour-mapping": {"width": 200, "height": 160,
                           "mapping": {"colour": "color", "size": None},
                           "data": rows, "color": {"value": "steelblue"},
                           "legend": {"position": "top"}},
        "log-dropped": {"width": 200, "height": 160,
                        "x": {"scale": "log10"},
                        "data": {"x": [-1, 0, 1, 10, None],
                                 "y": [1, 2, 3, 4, 5]}},
        "one-point": {"width": 64, "height": 64, "data": [{"x": 0, "y": 0}]},
        "same-values": {"width": 200, "height": 150,
                        "data": {"x": [5, 5, 5], "y": [1e-300, 1e-300, 1e-300],
                                 "size": [0, 0, 0]}},
        "huge-values": {"width": 200, "height": 150,
                        "data": {"x": [-1.7e308, 1.7e308],
                                 "y": [1e-308, -1e-308],
                                 "size": [1e300, 1e-300]}},
        "unicode": {"width": 240, "height": 180,
                    "title": "\u00e9\u4e2d\u6587\U0001f600 \u200f\u05d0",
                    "data": [{"x": 1, "y": 1, "label": "\u0627\u0644"},
                             {"x": 2, "y": 2, "label": "\U0001f4a5"}]},
        "escapes": {"width": 240, "height": 180,
                    "title": "</text><script>alert(1)</script> & < > \" '",
                    "data": [{"x": 1, "y": 1,
                              "tooltip": "]]><!ENTITY x SYSTEM \"f\">"}]},
        "many-breaks": {"width": 200, "height": 150,
                        "x": {"breaks": list(range(0, 40)),
                              "labels": "%.0f"},
                        "data": {"x": [0, 39], "y": [0, 1]}},
    }
    for name, spec in hand.items():
        text = compact(spec)
        write("spec", "hand-" + name + ".json", text)
        write("render", "hand-" + name + ".json", text)

    bad = {
        "empty": "",
        "bom": "\ufeff" + compact(hand["minimal-rows"]),
        "truncated": compact(hand["every-field"])[:200],
        "trailing": compact(hand["minimal-rows"]) + " x",
        "nan": '{"data":[{"x":NaN,"y":2}]}',
        "infinity": '{"data":[{"x":Infinity,"y":2}]}',
        "overflow": '{"data":[{"x":1e400,"y":2}]}',
        "dup-key": '{"width":100,"width":200,"data":[{"x":1,"y":2}]}',
        "dup-data": '{"data":[{"x":1,"y":2}],"data":[]}',
        "dup-cell": '{"data":[{"x":1,"x":2,"y":2}]}',
        "deep": '{"title":' + "[" * 64 + "]" * 64 + "}",
        "lone-high": '{"title":"\\ud800","data":[{"x":1,"y":2}]}',
        "lone-low": '{"title":"\\udc00x","data":[{"x":1,"y":2}]}',
        "nul-key": '{"width\\u0000":100,"data":[{"x":1,"y":2}]}',
        "nul-enum": '{"format":"svg\\u0000x","data":[{"x":1,"y":2}]}',
        "mixed-col": '{"data":{"x":[1,"a"],"y":[1,2]}}',
        "unequal": '{"data":{"x":[1,2,3],"y":[1,2]}}',
        "missing-col": '{"mapping":{"x":"nope"},"data":[{"x":1,"y":2}]}',
        "bool-cell": '{"data":[{"x":true,"y":2}]}',
        "nested-cell": '{"data":[{"x":[1],"y":2}]}',
        "row-not-object": '{"data":[1,2]}',
        "col-not-array": '{"data":{"x":1}}',
        "top-array": "[1,2,3]",
        "comment": '/*c*/{"data":[{"x":1,"y":2}]}',
        "fraction-width": '{"width":100.5,"data":[{"x":1,"y":2}]}',
        "zero-scale": '{"scale":0,"data":[{"x":1,"y":2}]}',
        "long-number": '{"data":[{"x":' + "1" * 80 + ',"y":2}]}',
        "bad-format": '{"x":{"labels":"%s%n"},"data":[{"x":1,"y":2}]}',
        "format-cut": '{"x":{"labels":"%.0f' + "\\u20ac" * 10 + '"},'
                      '"data":[{"x":10,"y":2},{"x":100,"y":3}]}',
        "palette-cut": '{"color":{"palette":"' + "a" * 63 + '\\u00e9"},'
                       '"data":[{"x":1,"y":2}]}',
        "member-cut": '{"' + "k" * 63 + '\\u00e9":1,"data":[{"x":1,"y":2}]}',
        "bad-colour": '{"background":"#12345","data":[{"x":1,"y":2}]}',
    }
    def sized(text):
        """Small enough to render: bad inputs must get past the pixel cap."""
        if isinstance(text, bytes):
            return text.replace(b"{", b'{"width":200,"height":150,', 1)
        return text.replace("{", '{"width":200,"height":150,', 1)

    for name, text in bad.items():
        write("spec", "bad-" + name + ".json", text)
        write("render", "bad-" + name + ".json", sized(text))
    # raw bytes that are not UTF-8
    for name, raw in {
        "utf8-ff": b'{"title":"\xff\xfe","data":[{"x":1,"y":2}]}',
        "utf8-overlong": b'{"title":"\xc0\xbc","data":[{"x":1,"y":2}]}',
        "utf8-surrogate": b'{"title":"\xed\xa0\x80","data":[{"x":1,"y":2}]}',
        "utf8-key": b'{"\xc3":1,"data":[{"x":1,"y":2}]}',
        "utf8-cell": b'{"data":[{"x":1,"y":2,"label":"\xe2\x82"}]}',
    }.items():
        write("spec", "bad-" + name + ".json", raw)
        write("render", "bad-" + name + ".json", sized(raw))
    return 0


if __name__ == "__main__":
    sys.exit(main())
