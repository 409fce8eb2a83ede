#!/usr/bin/env python3
"""Soak test of ngx_bubble: a steady mixed load, RSS drift and errors.

    BUBBLE_MODULE=/abs/ngx_http_bubble_module.so \\
        tests/soak/soak.py --duration 30m [--report build/soak-report.md]
                                           (or: make soak DURATION=30m)

Starts Debian's nginx with the module in a temporary prefix on a free
127.0.0.1 port (2 workers, `thread_pool bubble threads=2`, bubble_zone,
`bubble_memory_limit auto 85%`, bubble_thread_pool, a bubble_status
location; `listen ... reuseport`, so the connections, and the load, are
spread over both workers), then:

  1. capacity: --capacity-seconds (10) of closed-loop requests of the mix
     below from --capacity-concurrency (4) keep-alive connections;
  2. the soak: an open-loop (paced) load at --load (0.5) of that capacity
     for DURATION seconds, from --clients (16) threads with one keep-alive
     http.client connection each; latency is counted from each request's
     scheduled time, so a stalled server cannot hide behind a slow client;
  3. every --interval (2) s: VmRSS, RssAnon, RssFile of the master and of
     each worker (/proc/PID/status), their CPU time, and the zone's JSON
     counters (bubble_status ?format=json);

The mix (per 100 requests): W1 PNG POST 25, W2 PNG POST 15, W2 PNG GET
(`?spec=`, percent-encoded) 15, W2 SVG POST 10, W2 SVG GET 10, W3 SVG POST
10, malformed JSON POST 5 and GET 2 (400), status scrapes 8 (text, JSON).

RSS drift.  The warm-up is the first 60 s of the soak (30 s for a soak of
less than 3 minutes; --warmup sets it: make soak-short takes 60 s, the
issue's "after the first minute").  At its end and at the end of the soak
the load is paused: once every request has finished, 2.5 s later (the
module trims the heap when a worker's last render ends, and on its 1 s
tick), three readings 0.5 s apart give each process's quiescent RSS (their
median).  Drift is final vs baseline of those quiescent figures, per
process and for the total; quiescent readings compare like with like, where
a reading under load holds whatever pixel buffers are live at that instant.
For information, the report adds the floor under load (the least sample of
each 30 s window after the warm-up, 10 s for a soak under 10 minutes) and
its slope, and per worker the mappings of /proc/PID/smaps whose Rss changed
most between the two pauses.

Errors: a status other than the one expected for the request kind (200,
or 400 for bad specs; a 503 with Retry-After is a refusal, counted apart,
not an error), a connection error or timeout, a body that does not check
(a PNG's signature, chunk CRCs, IHDR size and IEND; an SVG's root and end;
the JSON of a 400 or a scrape), a worker whose PID changed or a crash in
error.log ("exited on signal", [alert], [crit], [emerg]), zone reservations
not back at 0 at the end, and zone counters that do not match what the
client saw (renders by format, bad_input refusals).

PASS needs: total RSS drift <= --max-drift (2%), each worker's drift <=
--max-drift, 0 errors.  make soak-short allows 5% (tests/soak/soak.mk):
over its one minute after the warm-up, caches move a few hundred kB within
and between the workers of ~16 MiB each; the 30-minute soak holds 2%.  The
report (Markdown) is printed and written to --report; the samples go to
--samples (CSV).  Exit 0 on PASS, 1 on FAIL, 2 on a usage error, 3 when
the watchdog (DURATION + capacity + 180 s) stopped the run.  Python 3
standard library only; loopback only.
"""

import argparse
import http.client
import json
import math
import os
import queue
import random
import re
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import zlib

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
WORKLOADS = os.environ.get("BUBBLE_WORKLOADS",
                           os.path.join(ROOT, "tests", "bench", "workloads"))
NGINX = os.environ.get("BUBBLE_NGINX", "/usr/sbin/nginx")
WORKERS = 2
REQUEST_TIMEOUT = 15.0          # s, every request (connect, send, read)
WATCHDOG_MARGIN = 180           # s on top of DURATION + capacity
SETTLE = 2.5                    # s between the last response and a reading

CONF = """
load_module {module};

worker_processes  {workers};
error_log         logs/error.log warn;
pid               logs/nginx.pid;

thread_pool bubble threads=2 max_queue=256;

events {{
    worker_connections  1024;
}}

http {{
    access_log  off;

    client_body_temp_path  tmp/body;
    proxy_temp_path        tmp/proxy;
    fastcgi_temp_path      tmp/fastcgi;
    uwsgi_temp_path        tmp/uwsgi;
    scgi_temp_path         tmp/scgi;

    client_max_body_size    4m;
    client_body_buffer_size 256k;

    bubble_zone          bubble:32m;
    bubble_memory_limit  auto 85%;

    server {{
        # reuseport: one listening socket per worker, so the client's
        # connections are spread over both workers and both are soaked
        listen  127.0.0.1:{port} backlog=512 reuseport;

        location /chart {{
            bubble;
            bubble_thread_pool    bubble;
            bubble_max_body_size  4m;
            bubble_max_pixels     16m;
        }}

        location = /metrics {{
            bubble_status;
        }}
    }}
}}
"""

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def log(msg=""):
    print(msg, flush=True)


def parse_duration(text):
    """'1800', '120s', '30m', '2m' -> seconds (int)"""
    m = re.fullmatch(r"\s*(\d+)\s*([sm]?)\s*", str(text))
    if not m or int(m.group(1)) <= 0:
        raise argparse.ArgumentTypeError(
            "DURATION must be seconds or minutes: 120, 120s, 2m, 30m "
            "(got %r)" % text)
    n = int(m.group(1))
    return n * 60 if m.group(2) == "m" else n


def fmt_kb(kb):
    return "%.1f MiB" % (kb / 1024.0)


def pct(a, b):
    return 100.0 * (a - b) / b if b else float("nan")


def percentile(values, p):
    if not values:
        return float("nan")
    s = sorted(values)
    k = max(0, min(len(s) - 1, math.ceil(p / 100.0 * len(s)) - 1))
    return s[k]


# ---------------------------------------------------------------------------
# nginx and its processes

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == pid:
            out.append(int(d))
    return sorted(out)


def proc_status(pid):
    """VmRSS, RssAnon, RssFile, RssShmem in kB; None if the process is gone"""
    want = ("VmRSS", "RssAnon", "RssFile", "RssShmem")
    out = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                key, _, rest = line.partition(":")
                if key in want:
                    out[key] = int(rest.split()[0])
    except OSError:
        return None
    return out


def proc_cpu(pid):
    """utime + stime in seconds (render threads included)"""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def smaps(pid):
    """{mapping name: [Rss kB, Anonymous kB]} summed over /proc/PID/smaps"""
    out = {}
    cur = None
    try:
        with open("/proc/%d/smaps" % pid) as f:
            for line in f:
                first = line.split(None, 1)[0]
                if not first.endswith(":"):
                    # a mapping: "start-end perms offset dev inode [name]"
                    parts = line.split(None, 5)
                    name = parts[5].strip() if len(parts) > 5 else ""
                    # a file replaced on disk (a rebuilt module, an
                    # upgraded library) is the same mapping
                    if name.endswith(" (deleted)"):
                        name = name[:-len(" (deleted)")]
                    if not name:
                        name = "[anon]"
                    cur = out.setdefault(name, [0, 0])
                elif cur is not None and first == "Rss:":
                    cur[0] += int(line.split()[1])
                elif cur is not None and first == "Anonymous:":
                    cur[1] += int(line.split()[1])
    except OSError:
        return None
    return out


class Nginx:
    def __init__(self, module, workers=WORKERS):
        self.prefix = tempfile.mkdtemp(prefix="bubble-soak-")
        # workers run as nobody when the master is root
        os.chmod(self.prefix, 0o755)
        self.port = free_port()
        for d in ("logs", "tmp"):
            os.makedirs(os.path.join(self.prefix, d))
        with open(os.path.join(self.prefix, "nginx.conf"), "w") as f:
            f.write(CONF.format(module=module, port=self.port,
                                workers=workers))
        self.cmd = [NGINX, "-p", self.prefix, "-c", "nginx.conf",
                    "-e", "logs/error.log"]
        self.master = None
        self.stopped = False
        subprocess.run(self.cmd, check=True, timeout=30)
        pidfile = os.path.join(self.prefix, "logs", "nginx.pid")
        for _ in range(200):
            if os.path.exists(pidfile):
                break
            time.sleep(0.05)
        with open(pidfile) as f:
            self.master = int(f.read())
        for _ in range(200):
            if len(children(self.master)) >= workers:
                break
            time.sleep(0.05)
        self.initial_workers = children(self.master)
        self.wait_ready()

    def wait_ready(self):
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port,
                                               timeout=2)
                c.request("GET", "/metrics?format=json")
                r = c.getresponse()
                r.read()
                c.close()
                if r.status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("nginx does not answer on port %d" % self.port)

    def workers(self):
        return children(self.master)

    def stop(self):
        if self.master is None or self.stopped:
            return
        self.stopped = True
        subprocess.run(self.cmd + ["-s", "stop"], check=False, timeout=30,
                       stderr=subprocess.DEVNULL)
        for _ in range(100):
            if not os.path.exists("/proc/%d" % self.master):
                break
            time.sleep(0.05)
        else:
            for pid in [self.master] + children(self.master):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass

    def error_log(self):
        try:
            with open(os.path.join(self.prefix, "logs", "error.log"),
                      errors="replace") as f:
                return [line.rstrip() for line in f]
        except OSError:
            return []

    def cleanup(self, keep):
        if not keep:
            shutil.rmtree(self.prefix, ignore_errors=True)


# ---------------------------------------------------------------------------
# the requests and their checks

def check_png(body, width, height):
    if body[:8] != SIGNATURE:
        return "PNG: bad signature"
    pos = 8
    first = True
    while True:
        if pos + 8 > len(body):
            return "PNG: truncated at byte %d (no IEND)" % pos
        length, ctype = struct.unpack(">I4s", body[pos:pos + 8])
        end = pos + 8 + length + 4
        if end > len(body):
            return "PNG: chunk %r truncated" % ctype
        data = body[pos + 8:pos + 8 + length]
        crc = struct.unpack(">I", body[end - 4:end])[0]
        if zlib.crc32(ctype + data) & 0xffffffff != crc:
            return "PNG: bad CRC in chunk %r" % ctype
        if first:
            if ctype != b"IHDR" or length != 13:
                return "PNG: first chunk is %r, not IHDR" % ctype
            w, h = struct.unpack(">II", data[:8])
            if (w, h) != (width, height):
                return "PNG: %dx%d, expected %dx%d" % (w, h, width, height)
            first = False
        if ctype == b"IEND":
            if end != len(body):
                return "PNG: %d bytes after IEND" % (len(body) - end)
            return None
        pos = end


def check_svg(body):
    head = body[:200].lstrip()
    if not (head.startswith(b"<?xml") or head.startswith(b"<svg")):
        return "SVG: does not start with <?xml or <svg"
    if not body.rstrip().endswith(b"</svg>"):
        return "SVG: does not end with </svg>"
    return None


def check_error_json(body):
    try:
        doc = json.loads(body)
    except ValueError:
        return "400: body is not JSON"
    if not isinstance(doc, dict) or "error" not in doc:
        return "400: JSON without \"error\""
    return None


def check_status_json(body):
    try:
        doc = json.loads(body)
    except ValueError:
        return "status: body is not JSON"
    if not isinstance(doc, dict) or "workers" not in doc:
        return "status: JSON without \"workers\""
    return None


def check_status_text(body):
    if b"bubble_renders_total{" not in body:
        return "status: no bubble_renders_total in the text"
    return None


class Kind:
    def __init__(self, name, weight, method, path, body, expect, check,
                 ctype=None, fmt=None):
        self.name = name
        self.weight = weight
        self.method = method
        self.path = path
        self.body = body
        self.expect = expect          # the status expected
        self.check = check            # body -> error string or None
        self.ctype = ctype            # the Content-Type expected
        self.fmt = fmt                # png / svg: counted in renders_total


def spec_size(spec):
    doc = json.loads(spec)
    scale = doc.get("scale", 1)
    return int(doc["width"] * scale), int(doc["height"] * scale)


def make_mix():
    def load(name):
        with open(os.path.join(WORKLOADS, name), "rb") as f:
            return f.read()

    w1 = load("w1-standard.json")
    w2 = load("w2-thumbnail.json")
    w3 = load("w3-heavy.json")
    w1_size = spec_size(w1)
    w2_size = spec_size(w2)
    w2_q = urllib.parse.quote(w2.decode(), safe="")
    bad = b'{"width": 320, "height": 240, "data": {"x": [1, 2,'
    bad_q = urllib.parse.quote(bad.decode(), safe="")

    def png(size):
        return lambda b: check_png(b, *size)

    return [
        Kind("W1 png POST", 25, "POST", "/chart.png", w1, 200,
             png(w1_size), "image/png", "png"),
        Kind("W2 png POST", 15, "POST", "/chart.png", w2, 200,
             png(w2_size), "image/png", "png"),
        Kind("W2 png GET", 15, "GET", "/chart.png?spec=" + w2_q, None, 200,
             png(w2_size), "image/png", "png"),
        Kind("W2 svg POST", 10, "POST", "/chart.svg", w2, 200,
             check_svg, "image/svg+xml", "svg"),
        Kind("W2 svg GET", 10, "GET", "/chart.svg?spec=" + w2_q, None, 200,
             check_svg, "image/svg+xml", "svg"),
        Kind("W3 svg POST", 10, "POST", "/chart.svg", w3, 200,
             check_svg, "image/svg+xml", "svg"),
        Kind("bad POST", 5, "POST", "/chart.png", bad, 400,
             check_error_json),
        Kind("bad GET", 2, "GET", "/chart.svg?spec=" + bad_q, None, 400,
             check_error_json),
        Kind("status text", 4, "GET", "/metrics", None, 200,
             check_status_text),
        Kind("status json", 4, "GET", "/metrics?format=json", None, 200,
             check_status_json),
    ]


class Stats:
    """What the client saw: per kind, statuses, errors, latencies."""

    def __init__(self, kinds):
        self.lock = threading.Lock()
        self.kinds = kinds
        self.reset()

    def reset(self):
        with self.lock:
            self.by_kind = {k.name: {} for k in self.kinds}
            self.latency = {k.name: [] for k in self.kinds}   # scheduled
            self.service = {k.name: [] for k in self.kinds}   # sent->read
            self.errors = []                    # (t, kind, what)
            self.error_count = 0
            self.refusals = 0
            self.ok_by_fmt = {"png": 0, "svg": 0}
            self.bad = 0
            self.late = 0                       # sent > 1 s after schedule
            self.sent = 0

    def record(self, kind, label, lat, svc, error, late):
        with self.lock:
            d = self.by_kind[kind.name]
            d[label] = d.get(label, 0) + 1
            self.sent += 1
            if late:
                self.late += 1
            if lat is not None:
                self.latency[kind.name].append(lat)
                self.service[kind.name].append(svc)
            if label == "503":
                self.refusals += 1
            elif error:
                self.error_count += 1
                if len(self.errors) < 200:
                    self.errors.append((time.time(), kind.name, error))
            elif kind.fmt and label == "200":
                self.ok_by_fmt[kind.fmt] += 1
            elif kind.expect == 400 and label == "400":
                self.bad += 1


class Client:
    """One keep-alive http.client connection."""

    def __init__(self, port):
        self.port = port
        self.conn = None

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def do(self, kind):
        """-> (label, error or None); label: the status, or 'error'"""
        if self.conn is None:
            self.conn = http.client.HTTPConnection(
                "127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)
        headers = {"Host": "127.0.0.1"}
        if kind.body is not None:
            headers["Content-Type"] = "application/json"
        try:
            self.conn.request(kind.method, kind.path, body=kind.body,
                              headers=headers)
            r = self.conn.getresponse()
            body = r.read()
        except socket.timeout:
            self.close()
            return "timeout", "timeout after %.0f s" % REQUEST_TIMEOUT
        except (OSError, http.client.HTTPException) as e:
            self.close()
            return "connection", "%s: %s" % (type(e).__name__, e)
        if r.will_close:
            self.close()
        label = str(r.status)
        if r.status == 503:
            if r.getheader("Retry-After") is None:
                return "503-no-retry-after", "503 without Retry-After"
            return label, None
        if r.status != kind.expect:
            return label, "status %d, expected %d: %r" % (
                r.status, kind.expect, body[:120])
        if kind.ctype:
            ct = (r.getheader("Content-Type") or "").split(";")[0]
            if ct != kind.ctype:
                return label, "Content-Type %r, expected %r" % (
                    ct, kind.ctype)
        err = kind.check(body)
        return label, err


# ---------------------------------------------------------------------------
# load

def chooser(kinds, seed):
    rnd = random.Random(seed)
    weights = [k.weight for k in kinds]
    lock = threading.Lock()

    def choose():
        with lock:
            return rnd.choices(kinds, weights)[0]
    return choose


def closed_loop(port, kinds, seconds, concurrency, stats, seed=1):
    choose = chooser(kinds, seed)
    deadline = time.monotonic() + seconds
    t0 = time.monotonic()

    def run():
        c = Client(port)
        while time.monotonic() < deadline:
            kind = choose()
            s = time.monotonic()
            label, err = c.do(kind)
            lat = time.monotonic() - s
            stats.record(kind, label, lat, lat, err, False)
        c.close()

    threads = [threading.Thread(target=run, daemon=True)
               for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + REQUEST_TIMEOUT + 5)
    return stats.sent / (time.monotonic() - t0)


class OpenLoop:
    """Client threads fed by a pacer: requests at fixed intervals."""

    def __init__(self, port, kinds, nclients, stats, seed=2):
        self.port = port
        self.stats = stats
        self.choose = chooser(kinds, seed)
        self.q = queue.Queue()
        self.threads = [threading.Thread(target=self.client, daemon=True)
                        for _ in range(nclients)]
        for t in self.threads:
            t.start()

    def client(self):
        c = Client(self.port)
        while True:
            job = self.q.get()
            if job is None:
                c.close()
                self.q.task_done()
                return
            kind, scheduled = job
            start = time.monotonic()
            label, err = c.do(kind)
            end = time.monotonic()
            self.stats.record(kind, label, end - scheduled, end - start,
                              err, start - scheduled > 1.0)
            self.q.task_done()

    def run(self, rate, seconds, progress=None):
        """pace `rate` requests/s for `seconds`, then wait for them all"""
        t0 = time.monotonic()
        n = int(rate * seconds)
        next_progress = t0 + 30
        for i in range(n):
            at = t0 + i / rate
            now = time.monotonic()
            if at > now:
                time.sleep(at - now)
            self.q.put((self.choose(), at))
            if progress and time.monotonic() >= next_progress:
                progress()
                next_progress += 30
        drain_deadline = time.monotonic() + REQUEST_TIMEOUT + 10
        while self.q.unfinished_tasks and time.monotonic() < drain_deadline:
            time.sleep(0.05)
        return self.q.unfinished_tasks == 0

    def stop(self):
        for _ in self.threads:
            self.q.put(None)
        for t in self.threads:
            t.join(REQUEST_TIMEOUT + 5)


# ---------------------------------------------------------------------------
# sampling

def scrape(port):
    """the zone's JSON, or (None, error)"""
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        c.request("GET", "/metrics?format=json")
        r = c.getresponse()
        body = r.read()
        c.close()
    except (OSError, http.client.HTTPException) as e:
        return None, "scrape: %s: %s" % (type(e).__name__, e)
    if r.status != 200:
        return None, "scrape: status %d" % r.status
    try:
        return json.loads(body), None
    except ValueError:
        return None, "scrape: not JSON"


class Sampler(threading.Thread):
    """Every `interval` s: /proc/PID/status of each process, the zone."""

    def __init__(self, ngx, interval, t0):
        super().__init__(daemon=True)
        self.ngx = ngx
        self.interval = interval
        self.t0 = t0
        self.samples = []           # (t, phase, {pid: status+cpu}, zone)
        self.last_workers = ngx.initial_workers
        self.errors = []
        self.phase = "capacity"
        self.stop_event = threading.Event()
        self.lock = threading.Lock()

    def sample(self):
        t = time.monotonic() - self.t0
        pids = [self.ngx.master] + self.ngx.workers()
        procs = {}
        for pid in pids:
            st = proc_status(pid)
            if st is not None:
                st["cpu"] = proc_cpu(pid)
                procs[pid] = st
        workers = sorted(p for p in procs if p != self.ngx.master)
        if workers != self.last_workers:
            self.errors.append(
                "t=%.0fs: worker PIDs %s, were %s (a worker died)" % (
                    t, workers, self.last_workers))
            self.last_workers = workers
        zone, err = scrape(self.ngx.port)
        if err:
            self.errors.append("t=%.0fs: %s" % (t, err))
        with self.lock:
            self.samples.append((t, self.phase, procs, zone))

    def run(self):
        while not self.stop_event.wait(self.interval):
            self.sample()

    def finish(self):
        self.stop_event.set()
        self.join(10)


def quiescent(ngx, readings=3, gap=0.5):
    """{pid: status} median of a few readings, once the load has stopped"""
    time.sleep(SETTLE)
    pids = [ngx.master] + ngx.initial_workers
    got = {pid: [] for pid in pids}
    for i in range(readings):
        if i:
            time.sleep(gap)
        for pid in pids:
            st = proc_status(pid)
            if st is not None:
                got[pid].append(st)
    out = {}
    for pid, sts in got.items():
        if sts:
            out[pid] = {k: int(statistics.median(s[k] for s in sts))
                        for k in sts[0]}
    return out


# ---------------------------------------------------------------------------
# the report

def md_table(header, rows):
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join("---:" if i else "---"
                          for i in range(len(header))) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return out


def smaps_growth(before, after, top=6, min_kb=64):
    rows = []
    for name in set(before) | set(after):
        b = before.get(name, [0, 0])
        a = after.get(name, [0, 0])
        d = a[0] - b[0]
        if abs(d) >= min_kb:
            rows.append((d, name, b, a))
    rows.sort(key=lambda r: -abs(r[0]))
    return rows[:top]


def floors_of(points, t0, t1, window):
    """points [(t, kB)] -> {window index: min kB} over [t0, t1]"""
    wins = {}
    for t, v in points:
        k = int((t - t0) // window)
        # a last window shorter than half the others says little
        if t0 + k * window + window / 2 > t1 and k > 0:
            continue
        wins[k] = min(v, wins.get(k, v))
    return wins


def slope_of(wins, t0, window):
    """[(t, kB)], least-squares slope in kB/min"""
    floors = [(t0 + k * window, v) for k, v in sorted(wins.items())]
    if len(floors) < 2:
        return floors, float("nan")
    xs = [x for x, _ in floors]
    ys = [y for _, y in floors]
    mx, my = statistics.mean(xs), statistics.mean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    return floors, slope * 60


def main():
    ap = argparse.ArgumentParser(
        description="Soak ngx_bubble: steady mixed load, RSS drift, errors")
    ap.add_argument("--module", default=os.environ.get("BUBBLE_MODULE"),
                    help="absolute path of ngx_http_bubble_module.so "
                         "(default: $BUBBLE_MODULE)")
    ap.add_argument("--duration", type=parse_duration, default=1800,
                    help="seconds of soak: 1800, 120s, 2m, 30m "
                         "(default 1800)")
    ap.add_argument("--report", default=os.path.join(
        ROOT, "build", "soak-report.md"))
    ap.add_argument("--samples", default=None,
                    help="CSV of the samples (default: the report's name "
                         "with -samples.csv)")
    ap.add_argument("--load", type=float, default=0.5,
                    help="share of the measured capacity (default 0.5)")
    ap.add_argument("--capacity-seconds", type=float, default=10)
    ap.add_argument("--capacity-concurrency", type=int, default=4)
    ap.add_argument("--clients", type=int, default=16,
                    help="client threads of the open loop (default 16)")
    ap.add_argument("--interval", type=float, default=2.0,
                    help="seconds between samples (default 2)")
    ap.add_argument("--max-drift", type=float, default=2.0,
                    help="percent, total and per worker (default 2)")
    ap.add_argument("--warmup", type=float, default=None,
                    help="seconds before the baseline (default 60, or 30 "
                         "for a soak under 3 minutes)")
    ap.add_argument("--keep", action="store_true",
                    help="keep nginx's temporary prefix (logs)")
    args = ap.parse_args()

    if not args.module or not os.path.isabs(args.module) \
            or not os.path.exists(args.module):
        ap.error("--module (or BUBBLE_MODULE): the absolute path of the "
                 "built module (make build)")
    if not 0 < args.load <= 1:
        ap.error("--load must be in (0, 1]")
    duration = args.duration
    warmup = args.warmup if args.warmup is not None \
        else (60 if duration >= 180 else 30)
    if warmup >= duration:
        ap.error("DURATION must be longer than the warm-up (%d s)" % warmup)
    samples_path = args.samples or (
        os.path.splitext(args.report)[0] + "-samples.csv")

    ngx = None
    state = {"ngx": None}

    def emergency(why, code):
        log("soak: %s: stopping nginx" % why)
        try:
            if state["ngx"] is not None:
                state["ngx"].stop()
        finally:
            os._exit(code)

    budget = duration + args.capacity_seconds + WATCHDOG_MARGIN
    watchdog = threading.Timer(
        budget, emergency, ("watchdog: %.0f s exceeded" % budget, 3))
    watchdog.daemon = True
    watchdog.start()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda s, f: emergency("signal %d" % s, 128 + s))

    kinds = make_mix()
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    try:
        ngx = Nginx(args.module)
        state["ngx"] = ngx
        return run(args, ngx, kinds, duration, warmup, samples_path,
                   started)
    finally:
        if ngx is not None:
            ngx.stop()
            ngx.cleanup(args.keep)
        watchdog.cancel()


def run(args, ngx, kinds, duration, warmup, samples_path, started):
    t0 = time.monotonic()
    log("soak: nginx %s on 127.0.0.1:%d, master %d, workers %s" % (
        NGINX, ngx.port, ngx.master, ngx.initial_workers))
    log("soak: %d s (warm-up %d s), %.0f%% of capacity" % (
        duration, warmup, 100 * args.load))

    sampler = Sampler(ngx, args.interval, t0)
    sampler.sample()
    sampler.start()

    # 1. capacity
    cap_stats = Stats(kinds)
    capacity = closed_loop(ngx.port, kinds, args.capacity_seconds,
                           args.capacity_concurrency, cap_stats)
    # at least one request a second: a server too slow for that fails on
    # errors and latency rather than stalling the pacer
    rate = max(1.0, capacity * args.load)
    log("soak: capacity %.1f req/s (%d requests, %d errors, %d refusals "
        "in %.0f s at concurrency %d); soak at %.1f req/s" % (
            capacity, cap_stats.sent, cap_stats.error_count,
            cap_stats.refusals, args.capacity_seconds,
            args.capacity_concurrency, rate))

    # 2. the soak: warm-up, a pause, the rest, a pause
    stats = Stats(kinds)
    loop = OpenLoop(ngx.port, kinds, args.clients, stats)
    time.sleep(SETTLE)
    zone_start, err = scrape(ngx.port)
    errors = []
    if err:
        errors.append(err)

    def progress():
        t = time.monotonic() - t0
        last = sampler.samples[-1] if sampler.samples else None
        total = sum(p["VmRSS"] for p in last[2].values()) if last else 0
        log("soak: t=%4.0fs sent %d, errors %d, refusals %d, late %d, "
            "nginx RSS %s" % (t, stats.sent, stats.error_count,
                              stats.refusals, stats.late, fmt_kb(total)))

    sampler.phase = "warm-up"
    soak_t0 = time.monotonic()
    drained = loop.run(rate, warmup, progress)
    warm_end = time.monotonic() - t0
    sampler.phase = "pause"
    if not drained:
        errors.append("warm-up: requests still pending %.0f s after "
                      "the last was sent" % (REQUEST_TIMEOUT + 10))
    base = quiescent(ngx)
    base_smaps = {pid: smaps(pid) for pid in ngx.initial_workers}
    log("soak: baseline after the warm-up: %s" % ", ".join(
        "%d %s" % (pid, fmt_kb(st["VmRSS"])) for pid, st in base.items()))

    sampler.phase = "load"
    resume = time.monotonic() - t0
    drained = loop.run(rate, duration - warmup, progress)
    load_end = time.monotonic() - t0
    soak_seconds = time.monotonic() - soak_t0
    sampler.phase = "end"
    if not drained:
        errors.append("end: requests still pending %.0f s after the last "
                      "was sent" % (REQUEST_TIMEOUT + 10))
    final = quiescent(ngx)
    final_smaps = {pid: smaps(pid) for pid in ngx.initial_workers}
    zone_end, err = scrape(ngx.port)
    if err:
        errors.append(err)
    sampler.finish()
    sampler.sample()
    loop.stop()
    ngx.stop()
    time.sleep(0.2)

    # ---- errors
    log_lines = ngx.error_log()
    crash_re = re.compile(r"exited on signal|\[(alert|crit|emerg)\]")
    crashes = [l for l in log_lines if crash_re.search(l)]
    other_log = [l for l in log_lines if "[error]" in l]
    errors.extend("error.log: " + l for l in crashes)
    errors.extend("error.log: " + l for l in other_log)
    errors.extend(sampler.errors)
    for pid in [ngx.master] + ngx.initial_workers:
        if pid not in final:
            errors.append("process %d is gone at the end" % pid)

    counters = []
    if zone_start and zone_end:
        if zone_end.get("reserved") != 0:
            errors.append("zone: reserved %r at the end, not 0" %
                          zone_end.get("reserved"))
        if zone_end.get("in_flight") not in (0, None):
            errors.append("zone: in_flight %r at the end" %
                          zone_end.get("in_flight"))
        for w in zone_end.get("workers", []):
            if w.get("reserved") or w.get("renders") or w.get("queued"):
                errors.append("zone: worker %s holds reserved %s, renders "
                              "%s, queued %s at the end" % (
                                  w.get("pid"), w.get("reserved"),
                                  w.get("renders"), w.get("queued")))
        if zone_end.get("thread_queue_depth"):
            errors.append("zone: thread_queue_depth %r at the end" %
                          zone_end.get("thread_queue_depth"))

        def delta(*path):
            a, b = zone_start, zone_end
            for p in path:
                a, b = a[p], b[p]
            return b - a

        checks = [
            ("renders_total png ok", delta("renders_total", "png", "ok"),
             stats.ok_by_fmt["png"]),
            ("renders_total svg ok", delta("renders_total", "svg", "ok"),
             stats.ok_by_fmt["svg"]),
            ("renders_total png error",
             delta("renders_total", "png", "error"), 0),
            ("renders_total svg error",
             delta("renders_total", "svg", "error"), 0),
            ("refusals_total bad_input",
             delta("refusals_total", "bad_input"), stats.bad),
            ("refusals memory+working_set+queue",
             delta("refusals_total", "memory")
             + delta("refusals_total", "working_set")
             + delta("refusals_total", "queue"), stats.refusals),
            ("refusals_total limits", delta("refusals_total", "limits"), 0),
        ]
        for name, got, want in checks:
            counters.append((name, got, want))
            if got != want:
                errors.append("zone: %s went up by %d, the client saw %d"
                              % (name, got, want))
    else:
        errors.append("zone: no scrape at the start or the end")
    n_errors = stats.error_count + cap_stats.error_count + len(errors)
    errors.extend("capacity run: %s: %s" % (k, e)
                  for _, k, e in cap_stats.errors)
    errors.extend("%s: %s" % (k, e) for _, k, e in stats.errors)

    # ---- drift
    names = {ngx.master: "master"}
    for i, pid in enumerate(ngx.initial_workers):
        names[pid] = "worker %d" % (i + 1)
    procs = [ngx.master] + ngx.initial_workers
    after_warm = [s for s in sampler.samples
                  if s[0] >= resume and s[0] <= load_end]

    def series(pid, key="VmRSS"):
        return [s[2][pid][key] for s in after_warm if pid in s[2]]

    rows = []
    verdicts = []
    drift = {}
    for pid in procs:
        b = base.get(pid, {}).get("VmRSS")
        f = final.get(pid, {}).get("VmRSS")
        v = series(pid)
        d = pct(f, b) if b and f else float("nan")
        drift[pid] = d
        ba = base.get(pid, {}).get("RssAnon")
        fa = final.get(pid, {}).get("RssAnon")
        bf = base.get(pid, {}).get("RssFile")
        ff = final.get(pid, {}).get("RssFile")
        rows.append([names[pid], pid,
                     fmt_kb(b) if b else "-",
                     fmt_kb(min(v)) if v else "-",
                     fmt_kb(max(v)) if v else "-",
                     fmt_kb(f) if f else "-",
                     "%+.2f%%" % d if d == d else "gone",
                     "%s -> %s" % (fmt_kb(ba), fmt_kb(fa)) if ba else "-",
                     "%s -> %s" % (fmt_kb(bf), fmt_kb(ff)) if bf else "-"])
    tb = sum(base.get(p, {}).get("VmRSS", 0) for p in procs)
    tf = sum(final.get(p, {}).get("VmRSS", 0) for p in procs)
    tot_series = [sum(s[2][p]["VmRSS"] for p in procs if p in s[2])
                  for s in after_warm]
    tdrift = pct(tf, tb)

    rows.append(["**total**", "",
                 fmt_kb(tb), fmt_kb(min(tot_series)) if tot_series else "-",
                 fmt_kb(max(tot_series)) if tot_series else "-",
                 fmt_kb(tf), "**%+.2f%%**" % tdrift,
                 "%s -> %s" % (
                     fmt_kb(sum(base.get(p, {}).get("RssAnon", 0)
                                for p in procs)),
                     fmt_kb(sum(final.get(p, {}).get("RssAnon", 0)
                                for p in procs))),
                 "%s -> %s" % (
                     fmt_kb(sum(base.get(p, {}).get("RssFile", 0)
                                for p in procs)),
                     fmt_kb(sum(final.get(p, {}).get("RssFile", 0)
                                for p in procs)))])

    if not tdrift <= args.max_drift:
        verdicts.append("total RSS drift %+.2f%% > %.1f%%" % (
            tdrift, args.max_drift))
    for pid in ngx.initial_workers:
        if pid not in final or pid not in base:
            verdicts.append("%s (pid %d) died: no RSS drift" % (
                names[pid], pid))
        elif not drift[pid] <= args.max_drift:
            verdicts.append("%s (pid %d) RSS drift %+.2f%% > %.1f%%" % (
                names[pid], pid, drift[pid], args.max_drift))
    if n_errors:
        verdicts.append("%d errors (0 allowed)" % n_errors)
    passed = not verdicts

    # ---- the report
    out = []
    out.append("# ngx_bubble soak: %s" % ("PASS" if passed else "FAIL"))
    out.append("")
    out.append("Started %s; nginx %s, 2 workers, thread_pool threads=2; "
               "module %s." % (started, NGINX, args.module))
    out.append("Capacity %.1f req/s (closed loop, concurrency %d, %.0f s, "
               "%d requests); soak at %.0f%%: %.1f req/s paced, %d client "
               "threads, for %d s (warm-up %d s) - %.0f s with the pause."
               % (capacity, args.capacity_concurrency,
                  args.capacity_seconds, cap_stats.sent, 100 * args.load,
                  rate, args.clients, duration, warmup, soak_seconds))
    out.append("Load average at the end: %s." % " ".join(
        "%.2f" % x for x in os.getloadavg()))
    out.append("")
    out.append("## RSS (quiescent readings: after the warm-up and at the "
               "end)")
    out.append("")
    out.extend(md_table(
        ["process", "pid", "baseline", "min", "max", "final", "drift",
         "RssAnon", "RssFile"], rows))
    out.append("")
    out.append("baseline and final: the median of three readings %.1f s "
               "after the load paused; min and max: the %d samples under "
               "load after the warm-up (every %.0f s)."
               % (SETTLE, len(after_warm), args.interval))
    cpu_rows = []
    first = sampler.samples[0][2] if sampler.samples else {}
    last = sampler.samples[-1][2] if sampler.samples else {}
    for pid in procs:
        c0 = first.get(pid, {}).get("cpu")
        c1 = last.get(pid, {}).get("cpu")
        cpu_rows.append("%s %.1f s" % (
            names[pid], (c1 - c0) if c0 is not None and c1 is not None
            else float("nan")))
    out.append("CPU time over the run: %s." % ", ".join(cpu_rows))
    out.append("")

    window = 30.0 if duration >= 600 else 10.0
    out.append("### Floor under load: the least VmRSS (RssAnon) of each "
               "%.0f s window after the warm-up (total: their sum)"
               % window)
    out.append("")
    frows = []
    ft0 = after_warm[0][0] if after_warm else 0
    ft1 = after_warm[-1][0] if after_warm else 0
    wins = {}
    for pid in procs:
        for key in ("VmRSS", "RssAnon"):
            wins[pid, key] = floors_of(
                [(s[0], s[2][pid][key]) for s in after_warm if pid in s[2]],
                ft0, ft1, window)
    for key in ("VmRSS", "RssAnon"):
        # the total's floor: the sum of the processes' floors (the least
        # sum would need every process idle in the same sample)
        common = set.intersection(*(set(wins[p, key]) for p in procs))
        wins["total", key] = {k: sum(wins[p, key][k] for p in procs)
                              for k in common}
    for pid in procs + ["total"]:
        pts = {key: slope_of(wins[pid, key], ft0, window)
               for key in ("VmRSS", "RssAnon")}
        fl, slope = pts["VmRSS"]
        fa, slope_a = pts["RssAnon"]
        if not fl:
            continue
        frows.append([
            "**total**" if pid == "total" else names[pid],
            "%d kB" % fl[0][1], "%d kB" % fl[-1][1],
            "%+.2f%%" % pct(fl[-1][1], fl[0][1]),
            "%+.1f kB/min" % slope,
            "%d -> %d kB" % (fa[0][1], fa[-1][1]) if fa else "-",
            "%+.1f kB/min" % slope_a])
    out.extend(md_table(["process", "first floor", "last floor", "change",
                         "slope", "RssAnon floor", "RssAnon slope"],
                        frows))
    out.append("")
    out.append("(information: a steady slope is memory that stays; the "
               "drift above, from quiescent readings, is the verdict)")
    out.append("")

    growth_lines = []
    for pid in ngx.initial_workers:
        g = smaps_growth(base_smaps.get(pid) or {}, final_smaps.get(pid)
                         or {})
        for d, name, b, a in g:
            growth_lines.append([names[pid], name[-60:], "%+d kB" % d,
                                 "%d -> %d kB" % (b[0], a[0]),
                                 "%d -> %d kB" % (b[1], a[1])])
    out.append("### smaps: mappings whose Rss changed by 64 kB or more")
    out.append("")
    if growth_lines:
        out.extend(md_table(["process", "mapping", "Rss change", "Rss",
                             "Anonymous"], growth_lines))
    else:
        out.append("none")
    out.append("")

    out.append("## Requests during the soak")
    out.append("")
    labels = sorted({l for d in stats.by_kind.values() for l in d})
    req_rows = []
    all_lat = []
    all_svc = []
    for k in kinds:
        d = stats.by_kind[k.name]
        lat = stats.latency[k.name]
        svc = stats.service[k.name]
        all_lat += lat
        all_svc += svc
        req_rows.append([k.name, k.expect] + [d.get(l, 0) for l in labels]
                        + ["%.1f" % (1000 * percentile(lat, 50)),
                           "%.1f" % (1000 * percentile(lat, 99)),
                           "%.1f" % (1000 * percentile(svc, 99))])
    req_rows.append(["**all**", ""] +
                    [sum(stats.by_kind[k.name].get(l, 0) for k in kinds)
                     for l in labels] +
                    ["%.1f" % (1000 * percentile(all_lat, 50)),
                     "%.1f" % (1000 * percentile(all_lat, 99)),
                     "%.1f" % (1000 * percentile(all_svc, 99))])
    out.extend(md_table(["kind", "expected"] + labels +
                        ["P50 ms", "P99 ms", "P99 service ms"], req_rows))
    out.append("")
    out.append("%d requests in %.0f s (%.1f/s); latency from the scheduled "
               "send (service: from the actual send); %d sent over 1 s "
               "late; %d refusals (503 + Retry-After: not expected at this "
               "load)." % (stats.sent, soak_seconds,
                           stats.sent / soak_seconds, stats.late,
                           stats.refusals))
    out.append("")
    if counters:
        out.append("Zone counters over the soak vs the client: " + "; ".join(
            "%s %d/%d" % c for c in counters) + "; reserved at the end %s, "
            "peak %s." % (zone_end.get("reserved"), zone_end.get("peak")))
        out.append("")

    out.append("## Verdict")
    out.append("")
    out.append("- total RSS drift %+.2f%% (max %.1f%%): %s" % (
        tdrift, args.max_drift,
        "ok" if tdrift <= args.max_drift else "FAIL"))
    for pid in ngx.initial_workers:
        if pid not in final or pid not in base:
            out.append("- %s (pid %d): died, FAIL" % (names[pid], pid))
            continue
        out.append("- %s RSS drift %+.2f%% (max %.1f%%): %s" % (
            names[pid], drift[pid], args.max_drift,
            "ok" if drift[pid] <= args.max_drift else "FAIL"))
    out.append("- errors: %d: %s" % (n_errors, "ok" if not n_errors
                                     else "FAIL"))
    for e in errors[:50]:
        out.append("  - " + e)
    if len(errors) > 50:
        out.append("  - ... %d more" % (len(errors) - 50))
    out.append("")
    out.append("**%s**%s" % ("PASS" if passed else "FAIL",
                             "" if passed else ": " + "; ".join(verdicts)))
    report = "\n".join(out) + "\n"

    log()
    log(report)
    os.makedirs(os.path.dirname(os.path.abspath(args.report)), exist_ok=True)
    with open(args.report, "w") as f:
        f.write(report)
    with open(samples_path, "w") as f:
        f.write("t,phase,pid,role,VmRSS_kB,RssAnon_kB,RssFile_kB,cpu_s,"
                "zone_reserved,zone_renders\n")
        for t, phase, ps, zone in sampler.samples:
            for pid, st in sorted(ps.items()):
                f.write("%.1f,%s,%d,%s,%d,%d,%d,%.2f,%s,%s\n" % (
                    t, phase, pid, names.get(pid, "?"), st.get("VmRSS", 0),
                    st.get("RssAnon", 0), st.get("RssFile", 0),
                    st.get("cpu") or 0,
                    zone.get("reserved", "") if zone else "",
                    zone.get("renders", "") if zone else ""))
    log("soak: report %s, samples %s" % (args.report, samples_path))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
