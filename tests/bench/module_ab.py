#!/usr/bin/env python3
"""A/B of module builds: W1 PNG through nginx, run alternately.

    tests/bench/module_ab.py A.so B.so [...] [--rounds 3] [--seconds 10]
                             [--spec FILE] [--format png|svg] [--conns 8]

Each round starts nginx (bench.py's config: 2 workers, thread pool, no
response cache) on every build in turn, warms it up for 3 s and drives it
with wrk -t2 for --seconds (W1 PNG over 8 connections unless told); it
prints req/s, the workers' CPU ms and minor page faults per request
(/proc/PID/stat), then the median req/s of each build.
Alternating rounds spread the machine's noise over all builds.  Used for the
M_TRIM_THRESHOLD figures in docs/memory.md.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402

W1 = os.path.join(HERE, "workloads", "w1-standard.json")
WRK_LUA = os.path.join(HERE, "wrk_bubble.lua")


def minor_faults(pids):
    total = 0
    for pid in pids:
        with open("/proc/%d/stat" % pid) as f:
            total += int(f.read().rsplit(")", 1)[1].split()[7])
    return total


def wrk(port, seconds, a):
    env = dict(os.environ, BUBBLE_SPEC=a.spec)
    out = subprocess.run(
        ["wrk", "-t2", "-c%d" % a.conns, "-d%ds" % seconds, "-s", WRK_LUA,
         "http://127.0.0.1:%d/chart.%s" % (port, a.format)],
        env=env, capture_output=True, text=True, check=True).stdout
    line = [l for l in out.splitlines() if l.startswith("BENCH ")][0]
    return json.loads(line[6:])["requests"], seconds


def one_run(module, seconds, a):
    d = tempfile.mkdtemp(prefix="bubble-ab-")
    port = bench.free_port()
    os.makedirs(d + "/logs")
    os.makedirs(d + "/tmp")
    with open(d + "/nginx.conf", "w") as f:
        f.write(bench.CONF.format(module=module, port=port, zone=bench.ZONE))
    subprocess.check_call(["nginx", "-p", d, "-c", "nginx.conf",
                           "-e", "logs/error.log"])
    try:
        time.sleep(1)
        with open(d + "/logs/nginx.pid") as f:
            workers = bench.children(int(f.read()))
        wrk(port, 3, a)
        before = minor_faults(workers)
        ticks = bench.cpu_ticks(workers)
        t0 = time.time()
        n, _ = wrk(port, seconds, a)
        elapsed = time.time() - t0
        faults = minor_faults(workers) - before
        cpu_ms = ((bench.cpu_ticks(workers) - ticks) * 1000.0
                  / bench.CLK_TCK / max(n, 1))
        return n / elapsed, faults / max(n, 1), cpu_ms
    finally:
        subprocess.call(["nginx", "-p", d, "-c", "nginx.conf", "-s", "stop"],
                        stderr=subprocess.DEVNULL)
        time.sleep(1)
        shutil.rmtree(d, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("modules", nargs="+")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--spec", default=W1)
    ap.add_argument("--format", default="png", choices=("png", "svg", "pdf"))
    ap.add_argument("--conns", type=int, default=8)
    a = ap.parse_args()

    rates = {m: [] for m in a.modules}
    for rnd in range(a.rounds):
        for m in a.modules:
            rps, fpr, cpu = one_run(os.path.abspath(m), a.seconds, a)
            rates[m].append(rps)
            print("round %d  %-32s %7.1f req/s  %6.2f CPU ms/req  %6.1f "
                  "page faults/req" % (rnd + 1, os.path.basename(m), rps,
                                       cpu, fpr), flush=True)
    for m in a.modules:
        v = sorted(rates[m])
        print("median     %-32s %7.1f req/s" % (os.path.basename(m),
                                                  v[len(v) // 2]))


if __name__ == "__main__":
    main()
