#!/usr/bin/env python3
"""Synthetic specs for tests/bench/calibrate_estimate.sh (python3 stdlib).

gen_specs.py DIR writes into DIR:
  s50k.json    50000 rows (bubble_max_points' default): continuous colour,
               a label and a tooltip a row, the densest chart allowed
  s50k-plain   the same without labels and tooltips
  cjk.json     2000 rows with CJK titles and labels (Noto CJK glyphs)
  dense-*.json 4096 x 4096 canvases full of overlapping bubbles with
               continuous colour, the PNGs that compress worst: 30000
               bubbles up to 20 px (dense-20), 30000 up to 60 px, 50000 up
               to 40 px with an outline, 5000 up to 100 px
"""

import json
import os
import random
import sys

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
random.seed(7)

n = 50000
rows = {
    "x": [round(random.gauss(0, 1), 4) for _ in range(n)],
    "y": [round(random.gauss(0, 1), 4) for _ in range(n)],
    "size": [round(random.random() * 100, 3) for _ in range(n)],
    "color": [round(random.random(), 4) for _ in range(n)],
}
full = dict(rows, label=["row %05d" % i for i in range(n)],
            tooltip=["tooltip for row %05d with some text" % i
                     for i in range(n)])

with open(os.path.join(out, "s50k.json"), "w") as f:
    json.dump({"width": 1600, "height": 1200,
               "title": "50k rows, labels and tooltips", "data": full}, f)

with open(os.path.join(out, "s50k-plain.json"), "w") as f:
    json.dump({"width": 1600, "height": 1200, "title": "50k rows",
               "data": rows}, f)

m = 2000
names = ["東京", "北京", "서울", "大阪", "上海", "香港", "台北", "부산"]
with open(os.path.join(out, "cjk.json"), "w", encoding="utf-8") as f:
    json.dump({"width": 800, "height": 600,
               "title": "人口と所得 — 日本語のタイトル",
               "subtitle": "中文副标题 한국어",
               "data": {"x": [random.random() for _ in range(m)],
                        "y": [random.random() for _ in range(m)],
                        "size": [random.random() for _ in range(m)],
                        "color": [random.choice(names) for _ in range(m)],
                        "label": [random.choice(names) + str(i)
                                  for i in range(m)]}},
              f, ensure_ascii=False)

for name, n, rmax, extra in [
        ("dense-20", 30000, 20, {}),
        ("dense-60", 30000, 60, {}),
        ("dense-40-stroke", 50000, 40, {"stroke": {"color": "black",
                                                   "width": 1}}),
        ("dense-100", 5000, 100, {})]:
    spec = {"width": 4096, "height": 4096, "size": {"range": [1, rmax]},
            "data": {"x": [round(random.random(), 4) for _ in range(n)],
                     "y": [round(random.random(), 4) for _ in range(n)],
                     "size": [round(random.random(), 3) for _ in range(n)],
                     "color": [round(random.random(), 4)
                               for _ in range(n)]}}
    spec.update(extra)
    with open(os.path.join(out, name + ".json"), "w") as f:
        json.dump(spec, f)
