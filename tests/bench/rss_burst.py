#!/usr/bin/env python3
"""Workers' RSS after a burst of renders, with and without the module's
malloc settings (docs/memory.md, "Allocator hygiene").

    BUBBLE_MODULE=/abs/ngx_http_bubble_module.so BUBBLE_ROOT=/repo \\
        tests/bench/rss_burst.py [RENDERS]

For "bubble_malloc_tuning on" (mallopt M_MMAP_THRESHOLD 8 MiB,
M_TRIM_THRESHOLD 4 MiB, M_ARENA_MAX 1, malloc_trim(0) when a worker goes
idle) and "off" (glibc's defaults), each with renders inline and in a
thread pool (2 threads a worker): starts nginx with 2 workers, renders W1
until the RSS is steady (the baseline), then RENDERS (150) W1 charts on
2 to 16 MiB canvases (724^2 to 2048^2 px) over 4 connections, and reads
the workers' RSS and RssAnon right after the burst and 2 s later.
Python 3 stdlib; no cgroup needed.
"""

import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

NGINX = os.environ.get("BUBBLE_NGINX", "/usr/sbin/nginx")
SIDES = (724, 1024, 1448, 2048)        # 2, 4, 8, 16 MiB of ARGB32

CONF = """
load_module {module};
daemon on;
worker_processes 2;
pid {dir}/nginx.pid;
error_log {dir}/error.log notice;
thread_pool bubble threads=2;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    client_body_buffer_size 64k;
    bubble_zone bubble:1m;
    bubble_memory_limit off;
    bubble_malloc_tuning {tuning};
    server {{
        listen 127.0.0.1:{port};
        location /chart {{ bubble; bubble_thread_pool {pool}; }}
    }}
}}
"""


def mib(kb):
    return "%.1f" % (kb / 1024.0)


def read_pid(path, timeout=10):
    """the master's pid: an nginx that daemonizes may return before it
    has written the file (musl's nginx often does)"""
    deadline = time.time() + timeout
    while True:
        try:
            text = open(path).read().strip()
            if text:
                return int(text)
        except OSError:
            pass
        if time.time() > deadline:
            raise SystemExit("%s: no pid after %d s" % (path, timeout))
        time.sleep(0.02)


def workers(master):
    pids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                st = open("/proc/%s/stat" % d).read()
            except OSError:
                continue
            if int(st.rsplit(")", 1)[1].split()[1]) == master:
                pids.append(int(d))
    return pids


def rss(pids):
    """kB: VmRSS and RssAnon summed over pids"""
    total = anon = 0
    for p in pids:
        st = open("/proc/%d/status" % p).read()
        total += int(re.search(r"^VmRSS:\s+(\d+)", st, re.M).group(1))
        anon += int(re.search(r"^RssAnon:\s+(\d+)", st, re.M).group(1))
    return total, anon


def render(port, body):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    c.request("POST", "/chart.png", body,
              {"Content-Type": "application/json"})
    r = c.getresponse()
    r.read()
    c.close()
    return r.status


def run(module, w1, tuning, pool, renders):
    d = tempfile.mkdtemp(prefix="bubble-rss-", dir="/var/tmp")
    os.chmod(d, 0o755)
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with open(os.path.join(d, "nginx.conf"), "w") as f:
        f.write(CONF.format(module=module, dir=d, port=port, tuning=tuning,
                            pool="bubble" if pool else "off"))
    subprocess.run([NGINX, "-p", d + "/", "-c", "nginx.conf", "-e",
                    d + "/error.log"], check=True)
    try:
        master = read_pid(d + "/nginx.pid")
        deadline = time.time() + 10
        while len(workers(master)) < 2 and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        pids = workers(master)

        spec = json.loads(w1)
        bodies = []
        for i in range(renders):
            spec["width"] = spec["height"] = SIDES[i % len(SIDES)]
            bodies.append(json.dumps(spec))

        with ThreadPoolExecutor(4) as ex:
            # baseline: W1 until the RSS stops growing
            prev = 0
            for _ in range(8):
                list(ex.map(lambda _: render(port, w1), range(16)))
                time.sleep(1)
                base = rss(pids)
                if base[0] <= prev * 1.01:
                    break
                prev = base[0]

            t0 = time.time()
            statuses = list(ex.map(lambda b: render(port, b), bodies))
            secs = time.time() - t0

        after = rss(pids)
        time.sleep(2)
        idle = rss(pids)
        ok = sum(1 for st in statuses if st == 200)
        return base, after, idle, ok, secs
    finally:
        subprocess.run(["kill", "-TERM", open(d + "/nginx.pid").read()
                        .strip()], check=False)
        time.sleep(0.5)
        shutil.rmtree(d, ignore_errors=True)


def main():
    module = os.environ.get("BUBBLE_MODULE")
    root = os.environ.get("BUBBLE_ROOT",
                          os.path.join(os.path.dirname(__file__), "..", ".."))
    renders = int(sys.argv[1]) if len(sys.argv) > 1 else 150
    if not module or not os.path.exists(module):
        print("BUBBLE_MODULE: the absolute path of the built module")
        return 2
    w1 = open(os.path.join(root, "tests", "bench", "workloads",
                           "w1-standard.json")).read()

    print("%d W1 renders on %s px canvases, 4 connections, 2 workers; "
          "MiB summed over the workers" % (renders,
                                           "/".join("%d^2" % s
                                                    for s in SIDES)))
    print()
    print("| bubble_malloc_tuning | renders | RSS before | RSS after | "
          "RSS 2 s idle | RssAnon before | RssAnon after | "
          "RssAnon 2 s idle | s |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for tuning in ("off", "on"):
        for pool in (False, True):
            base, after, idle, ok, secs = run(module, w1, tuning, pool,
                                              renders)
            print("| %s | %s | %s | %s | %s | %s | %s | %s | %.1f |" % (
                tuning, "thread pool" if pool else "inline",
                mib(base[0]), mib(after[0]), mib(idle[0]),
                mib(base[1]), mib(after[1]), mib(idle[1]), secs))
            if ok != renders:
                print("  (%d of %d renders failed)" % (renders - ok, renders))
    return 0


if __name__ == "__main__":
    sys.exit(main())
