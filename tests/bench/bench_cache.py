#!/usr/bin/env python3
"""make bench-cache: a cached chart URL against the same bytes as a file.

One nginx (one worker) serves W1 two ways:

  cached  GET /chart/<compact W1>.png  from bubble_cache_zone (a HIT)
  static  GET /static/w1.png           the same PNG bytes from disk,
                                       sendfile on (as Debian's nginx.conf)
  copy    GET /copy/w1.png             the same file, sendfile off (nginx's
                                       built-in default): for reference

and wrk drives each in turn with the same threads, connections and
duration; the rounds alternate (cached, static, cached, static, ...) so
that the noise of a shared machine falls on both.  Prints every run's
requests/s, the medians and their ratio (the target is >= 0.8), and
checks that the cached runs rendered nothing (bubble_status "renders")
and that every cached answer was the file's bytes.

  tests/bench/bench_cache.py --module ABS.so [--seconds 5] [--rounds 3]
      [--connections 8] [--threads 1] [--strict]

--strict exits 1 when the ratio misses the target (the numbers of a
noisy 2-core machine are not a CI gate by default).
"""

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SHARED = os.environ.get("BUBBLE_SHARED", os.path.join(ROOT, "..", "shared"))
NGINX = os.environ.get("BUBBLE_NGINX", "/usr/sbin/nginx")
TARGET = 0.8

CONF = """
load_module {module};
daemon on;
master_process on;
worker_processes 1;
error_log {dir}/error.log notice;
pid {dir}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    bubble_zone bubble:1m;
    bubble_cache_zone charts:64m;
    keepalive_requests 1000000;
    server {{
        listen 127.0.0.1:{port};
        location /chart {{ bubble; bubble_cache_header on; }}
        location /static/ {{ root {dir}/www; sendfile on; tcp_nopush on; }}
        location /copy/ {{ alias {dir}/www/static/; sendfile off; }}
        location = /status {{ bubble_status; }}
    }}
}}
"""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def get(url):
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.status, dict(r.headers), r.read()


def wrk(url, args):
    out = subprocess.run(
        ["wrk", "-t%d" % args.threads, "-c%d" % args.connections,
         "-d%ds" % args.seconds, "--latency", url],
        check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors or "Socket errors" in out:
        sys.exit("wrk reported errors:\n" + out)
    return rps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--module", required=True)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--strict", action="store_true")
    args = ap.parse_args()

    if shutil.which("wrk") is None:
        sys.exit("bench_cache: wrk is missing: run 'make bench-deps'")

    spec = os.path.join(SHARED, "bench", "w1-standard.json")
    path = subprocess.run(
        [sys.executable, os.path.join(ROOT, "tools", "bubble-url"),
         "--base", "/chart", spec],
        check=True, capture_output=True, text=True).stdout.strip()

    tmp = tempfile.mkdtemp(prefix="bench-cache-")
    os.chmod(tmp, 0o755)
    os.makedirs(os.path.join(tmp, "www", "static"))
    port = free_port()
    with open(os.path.join(tmp, "nginx.conf"), "w") as f:
        f.write(CONF.format(module=args.module, dir=tmp, port=port))

    subprocess.run([NGINX, "-p", tmp + "/", "-c", "nginx.conf",
                    "-e", tmp + "/error.log"], check=True)
    base = "http://127.0.0.1:%d" % port
    try:
        for _ in range(100):
            try:
                get(base + "/status?format=json")
                break
            except OSError:
                time.sleep(0.05)

        # the first GET renders and stores; its bytes become the file
        st, h, png = get(base + path)
        assert st == 200 and h.get("X-Bubble-Cache") == "MISS", h
        with open(os.path.join(tmp, "www", "static", "w1.png"), "wb") as f:
            f.write(png)

        st, h, again = get(base + path)
        assert h.get("X-Bubble-Cache") == "HIT" and again == png, h
        st, h, static = get(base + "/static/w1.png")
        assert static == png

        print("W1: %d-byte PNG, a %d-byte URL; wrk -t%d -c%d -d%ds, "
              "%d rounds, 1 nginx worker, %d CPUs"
              % (len(png), len(path), args.threads, args.connections,
                 args.seconds, args.rounds, os.cpu_count()))

        before = json.loads(get(base + "/status?format=json")[2])

        runs = {"cached": [], "static": [], "copy": []}
        for i in range(args.rounds):
            for name, url in (("cached", base + path),
                              ("static", base + "/static/w1.png"),
                              ("copy", base + "/copy/w1.png")):
                rps = wrk(url, args)
                runs[name].append(rps)
                print("round %d  %-6s  %9.0f req/s" % (i + 1, name, rps),
                      flush=True)

        after = json.loads(get(base + "/status?format=json")[2])
    finally:
        subprocess.run([NGINX, "-p", tmp + "/", "-c", "nginx.conf",
                        "-e", tmp + "/error.log", "-s", "stop"])
        time.sleep(0.3)
        shutil.rmtree(tmp, ignore_errors=True)

    cached = statistics.median(runs["cached"])
    static = statistics.median(runs["static"])
    copy = statistics.median(runs["copy"])
    ratio = cached / static
    rendered = after["renders"] - before["renders"]
    hits = after["cache"]["hits"] - before["cache"]["hits"]

    print("cached GET of W1 (median): %9.0f req/s" % cached)
    print("static file    (median):   %9.0f req/s" % static)
    print("ratio cached/static:       %9.2f  (target >= %.1f: %s)"
          % (ratio, TARGET, "met" if ratio >= TARGET else "NOT met"))
    paired = statistics.median(c / s for c, s in zip(runs["cached"],
                                                     runs["static"]))
    print("ratio, median of rounds:   %9.2f  (each cached run over the "
          "static run after it)" % paired)
    print("static, sendfile off:      %9.0f req/s  (cached/that: %.2f)"
          % (copy, cached / copy))
    print("renders during the runs: %d; cache hits: %d" % (rendered, hits))

    if rendered != 0:
        sys.exit("bench_cache: the cached runs rendered")
    if args.strict and ratio < TARGET:
        sys.exit(1)


if __name__ == "__main__":
    main()
