#!/usr/bin/env python3
"""Overload without starvation: the figures of issue 16 (make overload).

    BUBBLE_MODULE=/abs/ngx_http_bubble_module.so BUBBLE_ROOT=/repo \\
        tests/overload/run.py [--seconds 10] [--connections 16] [--rounds 1]

nginx with the module in a 128 MiB memory cgroup (a child of this
process's own, as tests/oom/run_oom_test.py makes it; v1 or v2), 2
workers, a render thread pool of 2 threads each, bubble_zone 1m and
bubble_memory_limit auto (85%): the admission queue at its defaults
(bubble_queue 64, bubble_queue_timeout 5s).  In one run, phase after
phase, from outside the cgroup, over keep-alive connections:

  w1 alone      CONNECTIONS clients POST W1 back to back
  big alone     CONNECTIONS clients POST W1 at 4096 x 4096 (~69 MiB)
  mixed         both at once (2 x CONNECTIONS), the same clients
  mixed, polite the same, but a client told 503 waits Retry-After

Clients of the first three phases ignore Retry-After: after a 503 they
send again at once.  For each phase it prints each kind's served rate
(200s a second), refusals, response times (P50/P99), the admission
queue's waits (P50/P99, from bubble_queue_wait_seconds), and the share
of the workers' CPU spent on refusals (refusals x the CPU of one, as
measured in a phase of refusals alone, over the workers' CPU).  Then 24
clients POST a heavy chart (20000 rows on 3000 x 3000) and close after
0.2 s: a small chart sent right after, how many renders ran, and how long
after the last one ended the zone's reservations were back at 0.  Last,
OOM kills in the cgroup over the whole run.

Checks (exit 1 if one fails):
  - no OOM kill;
  - in the mixed phase each kind is served at >= 35% of its rate alone;
  - every 200 is a complete PNG of the right size, every 503 says
    "overloaded" with Retry-After;
  - after the abandoned renders: the small chart in < 1 s, reservations
    at 0 within 1 s of the last render.

Prints SKIP and exits 0 without root or a writable memory cgroup.  Python
3 stdlib; it imports tests/oom/run_oom_test.py for the cgroup and the PNG
check.
"""

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "oom"))
sys.path.insert(0, HERE)

import run_oom_test as oom          # noqa: E402  Cgroup, png_ok, ...
import specs                        # noqa: E402  heavy()

LIMIT = oom.LIMIT                   # 128 MiB
WORKERS = 2
BIG = 4096                          # px, the big chart's side
SHARE_MIN = 0.35                    # of a kind's rate alone, when mixed
ABANDON = 24                        # clients that leave
ABANDON_AFTER = 0.2                 # s

NGINX = os.environ.get("BUBBLE_NGINX", "/usr/sbin/nginx")


def log(msg=""):
    print(msg, flush=True)


CONF = """
load_module {module};

daemon on;
master_process on;
worker_processes {workers};
pid {dir}/nginx.pid;
error_log {dir}/error.log notice;

thread_pool bubble threads=2 max_queue=512;

events {{
    worker_connections 1024;
}}

http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;

    client_body_buffer_size 1m;
    keepalive_requests 100000;

    bubble_zone bubble:1m;
    bubble_memory_limit auto;

    server {{
        listen 127.0.0.1:{port};

        location /chart {{
            bubble;
            bubble_thread_pool bubble;
            bubble_max_body_size 2m;
            error_log {dir}/error.log crit;
        }}

        location = /status {{
            bubble_status;
        }}
    }}
}}
"""


class Nginx:
    def __init__(self, cg, module):
        self.cg = cg
        self.dir = tempfile.mkdtemp(prefix="bubble-overload-",
                                    dir="/var/tmp")
        os.chmod(self.dir, 0o755)
        self.port = oom.free_port()
        oom.write(os.path.join(self.dir, "nginx.conf"),
                  CONF.format(module=module, workers=WORKERS, dir=self.dir,
                              port=self.port))
        cmd = "%s%s -p %s/ -c nginx.conf -e %s/error.log" % (
            cg.enter_cmd(), NGINX, self.dir, self.dir)
        r = subprocess.run(["sh", "-c", cmd], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("nginx did not start: %s%s" % (r.stdout,
                                                               r.stderr))
        deadline = time.time() + 15
        while time.time() < deadline:
            st = self.status()
            if st and len(st.get("workers", [])) >= WORKERS:
                return
            time.sleep(0.1)
        raise RuntimeError("nginx is not up:\n" + self.error_log())

    def error_log(self):
        try:
            return oom.read(os.path.join(self.dir, "error.log"))
        except OSError:
            return ""

    def get(self, path):
        try:
            s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
            s.sendall(b"GET " + path.encode() + b" HTTP/1.0\r\nHost: x\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            s.close()
            return data.split(b"\r\n\r\n", 1)[1]
        except (OSError, IndexError):
            return None

    def status(self):
        try:
            return json.loads(self.get("/status?format=json"))
        except (TypeError, ValueError):
            return None

    def metrics(self):
        """{'name{labels}': value} of the Prometheus text"""
        out = {}
        for line in (self.get("/status") or b"").decode().splitlines():
            m = re.match(r"^([a-z_]+(?:\{[^}]*\})?) (\S+)$", line)
            if m:
                out[m.group(1)] = float(m.group(2))
        return out

    def cpu(self):
        """seconds of CPU (user + system) of the workers so far"""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in self.cg.pids():
            try:
                f = oom.read("/proc/%d/stat" % pid)
            except OSError:
                continue
            fields = f.rsplit(")", 1)[1].split()
            # a worker: its parent is in the cgroup too (the master)
            if int(fields[1]) in self.cg.pids():
                total += (int(fields[11]) + int(fields[12])) / tick
        return total

    def stop(self):
        self.cg.kill_all()


# --------------------------------------------------------------------------
# clients


class Kind:
    def __init__(self, name, request, dims):
        self.name = name
        self.request = request
        self.dims = dims
        self.reset()

    def reset(self):
        self.sent = self.ok = self.refused = self.bad_png = 0
        self.bad_503 = self.errors = 0
        self.other = {}
        self.latency = []


async def client(kind, port, deadline, polite):
    reader = writer = None
    while time.monotonic() < deadline:
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1",
                                                               port)
            kind.sent += 1
            t0 = time.monotonic()
            writer.write(kind.request)
            await writer.drain()
            status, headers, body = await asyncio.wait_for(
                oom.read_response(reader), timeout=60)
        except (OSError, EOFError, asyncio.IncompleteReadError,
                asyncio.LimitOverrunError, asyncio.TimeoutError,
                ValueError):
            kind.errors += 1
            if writer:
                writer.close()
            reader = writer = None
            await asyncio.sleep(0.05)
            continue
        kind.latency.append(time.monotonic() - t0)
        if status == 200:
            if oom.png_ok(body, *kind.dims):
                kind.ok += 1
            else:
                kind.bad_png += 1
        elif status == 503:
            try:
                err = json.loads(body).get("error")
            except ValueError:
                err = None
            retry = headers.get("retry-after", "")
            if re.fullmatch(r"\d+", retry) and err == "overloaded":
                kind.refused += 1
                if polite:
                    await asyncio.sleep(min(int(retry), 5))
            else:
                kind.bad_503 += 1
        else:
            kind.other[status] = kind.other.get(status, 0) + 1
        if headers.get("connection", "").lower() == "close":
            writer.close()
            reader = writer = None
    if writer:
        writer.close()


def flood(ngx, kinds, seconds, connections, polite=False):
    async def run():
        deadline = time.monotonic() + seconds
        tasks = [client(k, ngx.port, deadline, polite)
                 for k in kinds for _ in range(connections)]
        await asyncio.gather(*tasks)

    for k in kinds:
        k.reset()
    m0 = ngx.metrics()
    c0 = ngx.cpu()
    t0 = time.monotonic()
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(run())
    finally:
        loop.close()
    took = time.monotonic() - t0
    return took, m0, ngx.metrics(), ngx.cpu() - c0


def pct(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, int(p * len(v)))]


def hist_pct(m0, m1, name, p):
    """the P-th percentile of a histogram's new observations: the upper
    bound of the bucket it falls in (its bounds are 5 ms to 10 s)"""
    buckets = []
    for k, v in m1.items():
        mm = re.match(r"^%s_bucket\{le=\"([^\"]+)\"\}$" % name, k)
        if mm:
            le = float("inf") if mm.group(1) == "+Inf" else float(mm.group(1))
            buckets.append((le, v - m0.get(k, 0)))
    buckets.sort()
    if not buckets or buckets[-1][1] == 0:
        return None, 0
    total = buckets[-1][1]
    for le, n in buckets:
        if n >= p * total:
            return le, int(total)
    return float("inf"), int(total)


def refusals(m0, m1):
    return sum(m1[k] - m0.get(k, 0) for k in m1
               if k.startswith("bubble_refusals_total{"))


# --------------------------------------------------------------------------
# abandoned renders


def abandon(ngx, heavy, small):
    """ABANDON clients POST the heavy chart and close after ABANDON_AFTER
    s; then a small chart.  Returns the figures."""

    def renders_done(st):
        return sum(v.get("ok", 0) + v.get("error", 0)
                   for v in st.get("renders_total", {}).values())

    st0 = ngx.status()
    head = (b"POST /chart.png HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % len(heavy))
    socks = []
    for _ in range(ABANDON):
        s = socket.create_connection(("127.0.0.1", ngx.port))
        s.sendall(head + heavy)
        socks.append(s)
    time.sleep(ABANDON_AFTER)
    before = ngx.status()
    for s in socks:
        s.close()
    t_close = time.monotonic()

    t0 = time.monotonic()
    s = socket.create_connection(("127.0.0.1", ngx.port))
    s.sendall(b"POST /chart.png HTTP/1.0\r\nHost: x\r\n"
              b"Content-Type: application/json\r\n"
              b"Content-Length: %d\r\n\r\n" % len(small) + small)
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    small_s = time.monotonic() - t0
    small_status = int(data.split()[1]) if data else 0

    # the time renders last returned, then reservations back at 0
    done, t_done, t_zero = renders_done(ngx.status()), time.monotonic(), None
    deadline = time.monotonic() + 60
    st = ngx.status()
    while time.monotonic() < deadline:
        st = ngx.status() or st
        n = renders_done(st)
        if n != done:
            done, t_done, t_zero = n, time.monotonic(), None
        if st["reserved"] == 0 and st["in_flight"] == 0:
            if t_zero is None:
                t_zero = time.monotonic()
            if time.monotonic() - t_done > 1.5:
                break
        else:
            t_zero = None
        time.sleep(0.02)

    return {
        "admitted": before["in_flight"], "waiting": before["queue"]["waiting"],
        "thread_queued": before["thread_queue_depth"],
        "small_status": small_status, "small_s": small_s,
        "rendered": renders_done(st) - renders_done(st0) - 1,
        "cancelled": {k: st["cancelled"][k] - st0["cancelled"][k]
                      for k in st["cancelled"]},
        "zero_after_last": (t_zero - t_done) if t_zero else None,
        "since_close": (t_zero - t_close) if t_zero else None,
    }


# --------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=1,
                    help="alone, alone, mixed: this many times, averaged")
    args = ap.parse_args()

    module = os.environ.get("BUBBLE_MODULE")
    root = os.environ.get("BUBBLE_ROOT", os.path.join(HERE, "..", ".."))
    if not module or not os.path.isabs(module) or not os.path.exists(module):
        log("FAIL: BUBBLE_MODULE must be the absolute path of the built "
            "module (make overload sets it)")
        return 1

    version, parent = oom.check_cgroups()

    w1 = open(os.path.join(root, "tests", "bench", "workloads",
                           "w1-standard.json"), "rb").read()
    w2 = open(os.path.join(root, "tests", "bench", "workloads",
                           "w2-thumbnail.json"), "rb").read()
    spec = json.loads(w1)
    spec["width"] = spec["height"] = BIG
    big = json.dumps(spec).encode()
    heavy = json.dumps(specs.heavy()).encode()
    spec["width"], spec["height"] = 2 * BIG, 2 * BIG
    over = json.dumps(spec).encode()        # over the budget: 413 at once

    kw1 = Kind("w1", oom.post(w1), (800, 600))
    kbig = Kind("big", oom.post(big), (BIG, BIG))
    kover = Kind("over", oom.post(over), (0, 0))

    failures = []

    def check(ok, what):
        log("  %s %s" % ("ok  " if ok else "FAIL", what))
        if not ok:
            failures.append(what)

    cg = oom.Cgroup("bubble-overload-%d" % os.getpid())
    ngx = None

    def on_signal(signum, frame):
        if ngx:
            ngx.stop()
        cg.remove()
        log("interrupted")
        sys.exit(1)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    try:
        ngx = Nginx(cg, module)
        st = ngx.status()
        log("overload: cgroup v%d, limit %s, budget %s, %d workers x 2 "
            "threads, bubble_queue %d, %d connections a kind, %g s a phase"
            % (version, oom.mib(LIMIT), oom.mib(st["budget"]), WORKERS,
               st["queue"]["places"], args.connections, args.seconds))

        # warm-up: every thread draws text once
        flood(ngx, [kw1], 2, args.connections)

        # the CPU of one refusal: charts over the whole budget, 413 at once
        took, m0, m1, cpu = flood(ngx, [kover], 3, args.connections)
        ref = refusals(m0, m1)
        cpu_refusal = cpu / ref if ref else 0
        log("\nrefusals alone: %d in %.1f s, %.0f us of CPU each" % (
            ref, took, 1e6 * cpu_refusal))

        phases = []
        rate = {"w1": [], "big": []}
        mixed = {"w1": [], "big": []}

        def phase(title, kinds, polite=False):
            took, m0, m1, cpu = flood(ngx, kinds, args.seconds,
                                      args.connections, polite)
            ref = refusals(m0, m1)
            qp50, qn = hist_pct(m0, m1, "bubble_queue_wait_seconds", 0.5)
            qp99, _ = hist_pct(m0, m1, "bubble_queue_wait_seconds", 0.99)
            log("\n%s (%.1f s, workers' CPU %.1f s, %.0f%% on refusals)" % (
                title, took, cpu,
                100 * ref * cpu_refusal / cpu if cpu else 0))
            for k in kinds:
                log("  %-4s sent %6d  200 %5d (%6.1f/s)  503 %6d  "
                    "latency P50 %.3f s P99 %.3f s  bad PNG %d  bad 503 %d"
                    "  other %s  errors %d" % (
                        k.name, k.sent, k.ok, k.ok / took, k.refused,
                        pct(k.latency, 0.5), pct(k.latency, 0.99),
                        k.bad_png, k.bad_503, k.other or "{}", k.errors))
                check(k.bad_png == 0 and k.bad_503 == 0 and not k.other,
                      "%s: every 200 a complete PNG, every 503 "
                      "\"overloaded\" with Retry-After" % k.name)
            if qn:
                log("  queue waits: %d renders waited, P50 <= %s s, "
                    "P99 <= %s s (bubble_queue_wait_seconds' buckets)"
                    % (qn, qp50, qp99))
            else:
                log("  queue waits: none waited")
            return took, {k.name: k.ok / took for k in kinds}

        for rnd in range(args.rounds):
            _, r = phase("w1 alone (clients ignore Retry-After)", [kw1])
            rate["w1"].append(r["w1"])
            _, r = phase("big alone (clients ignore Retry-After)", [kbig])
            rate["big"].append(r["big"])
            _, r = phase("mixed (clients ignore Retry-After)", [kw1, kbig])
            mixed["w1"].append(r["w1"])
            mixed["big"].append(r["big"])

        phase("mixed (clients honour Retry-After)", [kw1, kbig],
              polite=True)

        log("\nserved when mixed, against alone (same run):")
        for name in ("w1", "big"):
            alone = sum(rate[name]) / len(rate[name])
            mix = sum(mixed[name]) / len(mixed[name])
            share = mix / alone if alone else 0
            check(share >= SHARE_MIN,
                  "%-3s %.1f/s mixed, %.1f/s alone: %.0f%% (>= %d%%)" % (
                      name, mix, alone, 100 * share, 100 * SHARE_MIN))

        # abandoned renders
        ngx.status()
        a = abandon(ngx, heavy, w2)
        log("\nabandoned: %d clients POST 20000 rows on 3000 x 3000 and "
            "close after %.1f s" % (ABANDON, ABANDON_AFTER))
        log("  at the close: %d admitted (%d in the threads' queues), %d "
            "waiting in the admission queue" % (
                a["admitted"], a["thread_queued"], a["waiting"]))
        log("  cancelled: %s; renders that ran: %d" % (a["cancelled"],
                                                        a["rendered"]))
        check(a["small_status"] == 200 and a["small_s"] < 1,
              "a small chart right after: %d in %.3f s (< 1 s)" % (
                  a["small_status"], a["small_s"]))
        zero = a["zero_after_last"]
        check(zero is not None and zero < 1,
              "reserved back to 0 %s after the last render returned "
              "(%s after the close)" % (
                  "%.0f ms" % (1000 * zero) if zero is not None else "never",
                  "%.2f s" % a["since_close"] if a["since_close"] else "-"))

        kills = cg.oom_kills()
        log("\ncgroup: peak usage %s (%.1f%% of the limit), OOM kills %d" % (
            oom.mib(cg.peak()), 100.0 * cg.peak() / LIMIT, kills))
        check(kills == 0, "no OOM kill")
        crashes = [l for l in ngx.error_log().splitlines()
                   if "exited on signal" in l]
        check(not crashes, "no worker died")

    finally:
        if ngx:
            ngx.stop()
        cg.remove()

    if failures:
        log("\noverload FAILED: " + "; ".join(failures))
        if ngx:
            log("  kept for a post-mortem: %s" % ngx.dir)
        return 1

    if ngx:
        shutil.rmtree(ngx.dir, ignore_errors=True)
    log("\noverload passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
