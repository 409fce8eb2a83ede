#!/usr/bin/env python3
"""A/B of module builds: W1 PNG through nginx, run alternately.

    tests/bench/module_ab.py A.so B.so [...] [--rounds 3] [--seconds 10]
                             [--spec FILE] [--format png|svg] [--conns 8]

Each round starts nginx (bench.py's config: 2 workers, thread pool, no
response cache) on every build in turn, warms it up for 3 s and drives it
with wrk -t2 for --seconds (W1 PNG over 8 connections unless told); it
prints the 200s a second, the workers' CPU ms and minor page faults per
request (/proc/PID/stat), then the median of each build.
Alternating rounds spread the machine's noise over all builds.  Used for the
M_TRIM_THRESHOLD figures in docs/memory.md.
"""

import argparse
import os
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402

W1 = os.path.join(HERE, "workloads", "w1-standard.json")


def minor_faults(pids):
    total = 0
    for pid in pids:
        with open("/proc/%d/stat" % pid) as f:
            total += int(f.read().rsplit(")", 1)[1].split()[7])
    return total


def one_run(module, seconds, a):
    """req/s, page faults a request and CPU ms a request of one build."""
    ngx = bench.Nginx(module)
    try:
        url = ngx.url("/chart." + a.format)
        workers = bench.children(ngx.master)
        bench.wrk(url, a.spec, 3, a.conns)              # warm-up
        faults = minor_faults(workers)
        ticks = bench.cpu_ticks(workers)
        r = bench.wrk(url, a.spec, seconds, a.conns)
        faults = minor_faults(workers) - faults
        ticks = bench.cpu_ticks(workers) - ticks
        n = r["requests"]
        return (r["statuses"].get("200", 0) / (r["duration_us"] / 1e6),
                faults / max(n, 1), ticks * 1000.0 / bench.CLK_TCK / max(n, 1))
    finally:
        ngx.stop()
        time.sleep(1)
        shutil.rmtree(ngx.prefix, ignore_errors=True)


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
