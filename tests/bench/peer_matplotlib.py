#!/usr/bin/python3
"""Peer benchmark: the same spec drawn by matplotlib, in one warm process.

    /usr/bin/python3 tests/bench/peer_matplotlib.py SPEC.json SECONDS [OUT.png]

Each iteration does what one ngx_bubble request does: parse the JSON spec,
build the figure (scatter with alpha, size as area, colour by category or
viridis, labels, log10 x when asked, titles, legends) and write a PNG of
width*scale x height*scale pixels (Agg, 96*scale dpi).  matplotlib has no
overlap check for text, so it labels the 60 largest bubbles, about as many
as ngx_bubble places on W1.  The first render is a warm-up and is not
counted.  Prints one line:

    peer=matplotlib spec=... charts=N ms_median=.. ms_mean=.. cpu_ms=..
      charts_per_s=..
"""

import io
import json
import os
import statistics
import sys
import time

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

LABELS = 60


def columns(data):
    if isinstance(data, dict):
        return data
    cols = {}
    for row in data:
        for k, v in row.items():
            cols.setdefault(k, []).append(v)
    return cols


def render(text, out):
    spec = json.loads(text)
    cols = columns(spec["data"])
    m = spec.get("mapping", {})

    def col(aes):
        name = m.get(aes, aes)
        return name, cols.get(name)

    _, x = col("x")
    _, y = col("y")
    _, size = col("size")
    _, colour = col("color")
    _, label = col("label")

    w = spec.get("width", 640)
    h = spec.get("height", 480)
    scale = spec.get("scale", 1)
    dpi = 96 * scale

    fig, ax = plt.subplots(figsize=(w / 96, h / 96), dpi=dpi)

    rmax = max((spec.get("size") or {}).get("range", [1, 6]))
    if size:
        smax = max(size)
        area = [(rmax * 72 / 96) ** 2 * 3.14159 * s / smax for s in size]
    else:
        area = 20

    if colour and isinstance(colour[0], str):
        cats = sorted(set(colour))
        for i, c in enumerate(cats):
            idx = [k for k, v in enumerate(colour) if v == c]
            ax.scatter([x[k] for k in idx], [y[k] for k in idx],
                       s=[area[k] for k in idx] if size else area,
                       alpha=0.7, label=c, color="C%d" % i,
                       edgecolors="none")
        ax.legend(title=(spec.get("color") or {}).get("title"),
                  loc="center left", bbox_to_anchor=(1.0, 0.5),
                  frameon=False)
    elif colour:
        sc = ax.scatter(x, y, s=area, c=colour, cmap="viridis", alpha=0.7,
                        edgecolors="none")
        fig.colorbar(sc, ax=ax)
    else:
        ax.scatter(x, y, s=area, alpha=0.7, edgecolors="none")

    if label:
        order = sorted(range(len(label)), key=lambda k: -(size[k] if size
                                                            else 0))
        for k in order[:LABELS]:
            ax.annotate(label[k], (x[k], y[k]), fontsize=8,
                        xytext=(0, 6), textcoords="offset points",
                        ha="center")

    if (spec.get("x") or {}).get("scale") == "log10":
        ax.set_xscale("log")
    ax.set_xlabel((spec.get("x") or {}).get("title", m.get("x", "x")))
    ax.set_ylabel((spec.get("y") or {}).get("title", m.get("y", "y")))
    ax.grid(True, color="white")
    ax.set_facecolor("#ebebeb")
    if spec.get("title"):
        fig.suptitle(spec["title"], x=0.02, ha="left")
    if spec.get("subtitle"):
        ax.set_title(spec["subtitle"], loc="left", fontsize=10)
    if spec.get("caption"):
        fig.text(0.98, 0.01, spec["caption"], ha="right", fontsize=8)

    fig.tight_layout()
    fig.savefig(out, format="png", dpi=dpi)
    plt.close(fig)


def main():
    if len(sys.argv) < 3:
        sys.stderr.write(__doc__)
        return 2

    path = sys.argv[1]
    seconds = float(sys.argv[2])
    out_path = sys.argv[3] if len(sys.argv) > 3 else None

    with open(path) as f:
        text = f.read()

    def once():
        buf = io.BytesIO()
        render(text, buf)
        return buf.getvalue()

    png = once()  # warm-up: font cache, imports
    if out_path:
        with open(out_path, "wb") as f:
            f.write(png)

    ms = []
    cpu0 = time.process_time()
    start = time.monotonic()
    while True:
        t0 = time.monotonic()
        once()
        t1 = time.monotonic()
        ms.append((t1 - t0) * 1000)
        if t1 - start >= seconds and len(ms) >= 3:
            break
    cpu = (time.process_time() - cpu0) * 1000 / len(ms)
    elapsed = time.monotonic() - start

    print("peer=matplotlib spec=%s charts=%d ms_median=%.1f ms_mean=%.1f "
          "cpu_ms=%.1f charts_per_s=%.2f"
          % (os.path.basename(path), len(ms), statistics.median(ms),
             statistics.mean(ms), cpu, len(ms) / elapsed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
