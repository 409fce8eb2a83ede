#!/usr/bin/env python3
"""The OOM test: nginx with the module in a 128 MiB memory cgroup, flooded.

    BUBBLE_MODULE=/abs/ngx_http_bubble_module.so BUBBLE_ROOT=/repo \\
        tests/oom/run_oom_test.py            (or: make oom)

Creates a child of this process's memory cgroup (v1: memory.limit_in_bytes,
v2: memory.max) of 128 MiB, starts nginx (2 workers, a render thread pool)
from a process already moved into it, and floods it for 60 s from outside
the cgroup with 64 keep-alive connections, each sending W1
(tests/bench/workloads/w1-standard.json) or W1 at 4096 x 4096 at random, back to
back, waiting Retry-After seconds only after a 503 (a client that ignored
it would measure how fast nginx says 503, not what it renders).  Then
asserts:

  - no OOM kill (memory.oom_control / memory.events "oom_kill");
  - the cgroup's peak usage (max_usage_in_bytes / memory.peak, else
    sampled every 50 ms) stays at or under 90% of the limit;
  - every 200 is a complete PNG of the expected size (chunks walked, every
    CRC checked, IHDR first, IEND last);
  - every refusal is a 503 with Retry-After and the JSON "overloaded";
  - nothing else: no other status, no connection error;
  - at least 30% of the W1 requests are served;
  - 10 s after the flood, the nginx processes' RSS is within 10% of the
    baseline taken before it;
  - no worker died.

Then the same flood with "bubble_memory_limit off" must get a worker
OOM-killed (oom_kill > 0, or "exited on signal 9" in error.log): proof the
test measures something.  It stops 3 s after the first kill.

Prints its figures.  Exits 0 with a "SKIP:" line only when it cannot run at
all (not root, no writable memory cgroup); 1 when an assertion fails.
Cgroups and processes are cleaned up however it ends.  Python 3 stdlib.
"""

import asyncio
import json
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import zlib

LIMIT = 128 * 1024 * 1024       # bytes, the cgroup's limit
USAGE_MAX = 0.90                # of LIMIT, the peak allowed
FLOOD_SECONDS = 60
CONNECTIONS = 64
W1_SERVED_MIN = 0.30
RSS_SETTLE = 10                 # s after the flood
RSS_TOLERANCE = 0.10
WORKERS = 2
BIG = 4096                      # px, the big chart's side

NGINX = os.environ.get("BUBBLE_NGINX", "/usr/sbin/nginx")


def log(msg):
    print(msg, flush=True)


def skip(why):
    log("SKIP: OOM test not run: " + why)
    sys.exit(0)


def read(path):
    with open(path) as f:
        return f.read()


def write(path, data):
    with open(path, "w") as f:
        f.write(data)


def mib(n):
    return "%.1f MiB" % (n / 1048576.0)


# --------------------------------------------------------------------------
# cgroups


class Cgroup:
    """A child memory cgroup of this process's own, v1 or v2."""

    def __init__(self, name):
        self.version, parent = self.own()
        self.dir = os.path.join(parent, name)
        self.samples_max = 0
        os.mkdir(self.dir)
        try:
            if self.version == 1:
                write(self.file("memory.limit_in_bytes"), str(LIMIT))
                # with swap, memsw must bound it too (>= the limit)
                if os.path.exists(self.file("memory.memsw.limit_in_bytes")):
                    try:
                        write(self.file("memory.memsw.limit_in_bytes"),
                              str(LIMIT))
                    except OSError:
                        pass
            else:
                write(self.file("memory.max"), str(LIMIT))
                if os.path.exists(self.file("memory.swap.max")):
                    write(self.file("memory.swap.max"), "0")
        except OSError:
            self.remove()
            raise

    @staticmethod
    def own():
        """(version, directory) of this process's memory cgroup."""
        v1 = v2 = None
        for line in read("/proc/self/cgroup").splitlines():
            hid, ctrls, path = line.split(":", 2)
            if "memory" in ctrls.split(","):
                v1 = path
            elif hid == "0" and ctrls == "":
                v2 = path
        mounts = {}
        for line in read("/proc/self/mountinfo").splitlines():
            left, _, right = line.partition(" - ")
            f = left.split()
            fstype, _, opts = right.split(" ", 2)
            if fstype == "cgroup" and "memory" in opts.split(","):
                mounts[1] = (f[3], f[4])
            elif fstype == "cgroup2":
                mounts[2] = (f[3], f[4])
        if v1 is not None and 1 in mounts:
            root, point = mounts[1]
            path = v1
            version = 1
        elif v2 is not None and 2 in mounts:
            root, point = mounts[2]
            path = v2
            version = 2
            ctrls = os.path.join(point, "cgroup.controllers")
            if "memory" not in read(ctrls).split():
                raise OSError("cgroup v2 without the memory controller")
        else:
            raise OSError("no memory cgroup hierarchy is mounted")
        if root != "/" and path.startswith(root):
            path = path[len(root):]
        return version, os.path.join(point, path.lstrip("/"))

    def file(self, name):
        return os.path.join(self.dir, name)

    def enter_cmd(self):
        """a shell prefix that moves itself into the cgroup, then execs"""
        return "echo $$ > %s && exec " % self.file("cgroup.procs")

    def pids(self):
        try:
            return [int(p) for p in read(self.file("cgroup.procs")).split()]
        except OSError:
            return []

    def usage(self):
        f = "memory.usage_in_bytes" if self.version == 1 else "memory.current"
        return int(read(self.file(f)))

    def peak(self):
        f = ("memory.max_usage_in_bytes" if self.version == 1
             else "memory.peak")
        try:
            return int(read(self.file(f)))
        except OSError:
            return self.samples_max

    def oom_kills(self):
        f = "memory.oom_control" if self.version == 1 else "memory.events"
        m = re.search(r"^oom_kill (\d+)$", read(self.file(f)), re.M)
        return int(m.group(1)) if m else 0

    def kill_all(self):
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in self.pids():
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.time() + 5
            while self.pids() and time.time() < deadline:
                time.sleep(0.05)
            if not self.pids():
                return

    def remove(self):
        self.kill_all()
        for _ in range(50):
            try:
                os.rmdir(self.dir)
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.1)
        log("warning: could not remove %s" % self.dir)


def check_cgroups():
    if os.geteuid() != 0:
        skip("needs root, to create a memory cgroup")
    try:
        version, parent = Cgroup.own()
    except OSError as e:
        skip(str(e))
    probe = os.path.join(parent, "bubble-oom-probe-%d" % os.getpid())
    try:
        os.mkdir(probe)
        os.rmdir(probe)
    except OSError as e:
        skip("the memory cgroup %s is not writable (%s)" % (parent, e))
    if version == 2:
        sub = read(os.path.join(parent, "cgroup.subtree_control")).split()
        if "memory" not in sub:
            try:
                write(os.path.join(parent, "cgroup.subtree_control"),
                      "+memory")
            except OSError as e:
                skip("cannot enable the memory controller for children of "
                     "%s (%s)" % (parent, e))
    return version, parent


# --------------------------------------------------------------------------
# nginx


CONF = """
load_module {module};

daemon on;
master_process on;
worker_processes {workers};
pid {dir}/nginx.pid;

# alerts and worker exits; per-request refusals are kept out (a flood of
# them would fill the page cache the cgroup is charged for)
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

    # bodies stay in memory: no temp files, no page cache
    client_body_buffer_size 64k;
    keepalive_requests 100000;

    bubble_zone bubble:1m;
    bubble_memory_limit {limit};

    server {{
        listen 127.0.0.1:{port};

        location /chart {{
            bubble;
            bubble_thread_pool bubble;
            error_log {dir}/error.log crit;
        }}

        location = /status {{
            bubble_status;
        }}
    }}
}}
"""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Nginx:
    def __init__(self, cg, module, limit, name):
        self.cg = cg
        self.dir = tempfile.mkdtemp(prefix="bubble-oom-%s-" % name,
                                    dir="/var/tmp")
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        write(os.path.join(self.dir, "nginx.conf"),
              CONF.format(module=module, workers=WORKERS, dir=self.dir,
                          limit=limit, port=self.port))
        cmd = "%s%s -p %s/ -c nginx.conf -e %s/error.log" % (
            cg.enter_cmd(), NGINX, self.dir, self.dir)
        r = subprocess.run(["sh", "-c", cmd], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("nginx did not start: %s%s\n%s" % (
                r.stdout, r.stderr, self.error_log()))
        deadline = time.time() + 15
        while time.time() < deadline:
            st = self.status()
            if st and len(st.get("workers", [])) >= WORKERS:
                return
            time.sleep(0.1)
        raise RuntimeError("nginx is not up:\n" + self.error_log())

    def error_log(self):
        try:
            return read(os.path.join(self.dir, "error.log"))
        except OSError:
            return ""

    def status(self):
        try:
            s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            s.sendall(b"GET /status?format=json HTTP/1.0\r\nHost: x\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            s.close()
            return json.loads(data.split(b"\r\n\r\n", 1)[1])
        except (OSError, ValueError, IndexError):
            return None

    def rss(self):
        """bytes: VmRSS, RssAnon, RssFile, RssShmem summed over the
        cgroup's processes"""
        sums = [0, 0, 0, 0]
        for pid in self.cg.pids():
            try:
                st = read("/proc/%d/status" % pid)
            except OSError:
                continue
            for i, k in enumerate(("VmRSS", "RssAnon", "RssFile",
                                   "RssShmem")):
                m = re.search(r"^%s:\s+(\d+) kB" % k, st, re.M)
                sums[i] += int(m.group(1)) * 1024 if m else 0
        return sums

    def wait_idle(self, secs):
        deadline = time.time() + secs
        while time.time() < deadline:
            st = self.status()
            if st and st.get("in_flight") == 0:
                return st
            time.sleep(0.1)
        return self.status()

    def stop(self):
        self.cg.kill_all()


# --------------------------------------------------------------------------
# the flood


PNG_SIG = b"\x89PNG\r\n\x1a\n"


def png_ok(b, width, height):
    """a complete PNG: every chunk's CRC, IHDR first, IEND last"""
    if len(b) < 8 or b[:8] != PNG_SIG:
        return False
    pos = 8
    first = True
    while pos + 12 <= len(b):
        length, ctype = struct.unpack(">I4s", b[pos:pos + 8])
        end = pos + 12 + length
        if end > len(b):
            return False
        crc = struct.unpack(">I", b[end - 4:end])[0]
        if zlib.crc32(b[pos + 4:end - 4]) & 0xffffffff != crc:
            return False
        if first:
            if ctype != b"IHDR" or length != 13:
                return False
            w, h = struct.unpack(">II", b[pos + 8:pos + 16])
            if (w, h) != (width, height):
                return False
            first = False
        pos = end
        if ctype == b"IEND":
            return pos == len(b)
    return False


class Stats:
    def __init__(self):
        self.kinds = {k: {"sent": 0, "ok": 0, "bad_png": 0, "refused": 0,
                          "bad_503": 0, "other": {}, "errors": 0}
                      for k in ("w1", "big")}
        self.usage_max = 0
        self.first_oom = None


async def read_response(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif "chunked" in headers.get("transfer-encoding", ""):
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            body += await reader.readexactly(size + 2)
            body = body[:-2]
            if size == 0:
                break
    else:
        body = await reader.read()
    return status, headers, body


async def client(i, stats, port, requests, deadline):
    rng = random.Random(i)
    reader = writer = None
    while time.monotonic() < deadline:
        kind = "w1" if rng.random() < 0.5 else "big"
        k = stats.kinds[kind]
        req, dims = requests[kind]
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1",
                                                               port)
            k["sent"] += 1
            writer.write(req)
            await writer.drain()
            status, headers, body = await asyncio.wait_for(
                read_response(reader), timeout=120)
        except (OSError, EOFError, asyncio.IncompleteReadError,
                asyncio.LimitOverrunError, asyncio.TimeoutError,
                ValueError):
            k["errors"] += 1
            if writer:
                writer.close()
            reader = writer = None
            await asyncio.sleep(0.05)
            continue
        if status == 200:
            if png_ok(body, *dims):
                k["ok"] += 1
            else:
                k["bad_png"] += 1
        elif status == 503:
            try:
                err = json.loads(body).get("error")
            except ValueError:
                err = None
            retry = headers.get("retry-after", "")
            if re.fullmatch(r"\d+", retry) and err == "overloaded":
                k["refused"] += 1
                # as a well-behaved client: this connection waits
                await asyncio.sleep(min(int(retry), 5))
            else:
                k["bad_503"] += 1
        else:
            k["other"][status] = k["other"].get(status, 0) + 1
        if headers.get("connection", "").lower() == "close":
            writer.close()
            reader = writer = None
    if writer:
        writer.close()


async def monitor(cg, stats, done):
    while not done.is_set():
        try:
            stats.usage_max = max(stats.usage_max, cg.usage())
            if stats.first_oom is None and cg.oom_kills() > 0:
                stats.first_oom = time.monotonic()
        except OSError:
            pass
        await asyncio.sleep(0.05)


async def flood(ngx, requests, seconds, stop_on_oom=False):
    stats = Stats()
    done = asyncio.Event()
    mon = asyncio.ensure_future(monitor(ngx.cg, stats, done))
    start = time.monotonic()
    deadline = start + seconds
    tasks = [asyncio.ensure_future(client(i, stats, ngx.port, requests,
                                          deadline))
             for i in range(CONNECTIONS)]
    while time.monotonic() < deadline and not all(t.done() for t in tasks):
        if (stop_on_oom and stats.first_oom
                and time.monotonic() > stats.first_oom + 3):
            break
        await asyncio.sleep(0.1)
    # no new requests from here; those in flight may finish
    _, pending = await asyncio.wait(tasks, timeout=5 if stop_on_oom else 90)
    for t in pending:
        t.cancel()
    done.set()
    await mon
    stats.seconds = time.monotonic() - start
    ngx.cg.samples_max = max(ngx.cg.samples_max, stats.usage_max)
    return stats


def post(body):
    return (b"POST /chart.png HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body)) + body


def run_flood(ngx, requests, seconds, stop_on_oom=False):
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(flood(ngx, requests, seconds,
                                             stop_on_oom))
    finally:
        loop.close()


def report(stats):
    for kind, k in stats.kinds.items():
        log("  %-4s sent %6d  200 %6d  503 %6d  bad PNG %d  bad 503 %d  "
            "other %s  connection errors %d" % (
                kind, k["sent"], k["ok"], k["refused"], k["bad_png"],
                k["bad_503"], k["other"] or "{}", k["errors"]))


# --------------------------------------------------------------------------


def main():
    module = os.environ.get("BUBBLE_MODULE")
    root = os.environ.get("BUBBLE_ROOT",
                          os.path.join(os.path.dirname(__file__), "..", ".."))
    if not module or not os.path.isabs(module) or not os.path.exists(module):
        log("FAIL: BUBBLE_MODULE must be the absolute path of the built "
            "module (make oom sets it)")
        return 1
    if not os.path.exists(NGINX):
        log("FAIL: %s is missing (make deps)" % NGINX)
        return 1

    version, parent = check_cgroups()

    w1 = open(os.path.join(root, "tests", "bench", "workloads",
                           "w1-standard.json"), "rb").read()
    spec = json.loads(w1)
    spec["width"] = spec["height"] = BIG
    big = json.dumps(spec).encode()
    requests = {"w1": (post(w1), (800, 600)),
                "big": (post(big), (BIG, BIG))}

    log("OOM test: cgroup v%d under %s, limit %s, %d workers, %d "
        "connections, %d s" % (version, parent, mib(LIMIT), WORKERS,
                               CONNECTIONS, FLOOD_SECONDS))

    failures = []
    cgroups = []
    servers = []

    def check(ok, what):
        log("  %s %s" % ("ok  " if ok else "FAIL", what))
        if not ok:
            failures.append(what)

    def cleanup(*_):
        for n in servers:
            n.stop()
        for c in cgroups:
            c.remove()

    def on_signal(signum, frame):
        cleanup()
        log("interrupted")
        sys.exit(1)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    try:
        # ---- with the default bubble_memory_limit: auto 85% ----

        cg = Cgroup("bubble-oom-%d-limited" % os.getpid())
        cgroups.append(cg)
        ngx = Nginx(cg, module, "auto", "limited")
        servers.append(ngx)

        st = ngx.status()
        log("\n[1] bubble_memory_limit auto (85%%): budget %s, working set "
            "at start %s (cgroup %s)" % (mib(st["budget"]),
                                         mib(st["cgroup"]["working_set"]),
                                         cg.dir))

        # W1 renders first, until they no longer grow the RSS: the
        # baseline of a server in service (each render thread has its own
        # pango font map and maps the fonts, when it first draws text)
        warmed = 0
        base = [0]
        for _ in range(6):
            warm = run_flood(ngx, {"w1": requests["w1"],
                                   "big": requests["w1"]}, 2)
            warmed += sum(k["ok"] for k in warm.kinds.values())
            ngx.wait_idle(10)
            time.sleep(1.5)
            prev, base = base[0], ngx.rss()
            if base[0] <= prev * 1.02:
                break
        base_rss = base[0]
        log("  baseline: RSS %s (anon %s, file %s, shmem %s) after %d "
            "warm-up renders" % (mib(base[0]), mib(base[1]), mib(base[2]),
                                 mib(base[3]), warmed))

        stats = run_flood(ngx, requests, FLOOD_SECONDS)
        log("  flood: %.1f s" % stats.seconds)
        report(stats)

        st = ngx.wait_idle(30)
        time.sleep(RSS_SETTLE)
        after = ngx.rss()
        after_rss = after[0]
        st = ngx.status() or st

        peak = cg.peak()
        kills = cg.oom_kills()
        w1 = stats.kinds["w1"]
        bk = stats.kinds["big"]
        served = w1["ok"] / w1["sent"] if w1["sent"] else 0

        log("  zone: renders %d, refused %s, peak reserved %s, reserved "
            "now %s" % (st["renders"], st["refused"], mib(st["peak"]),
                        mib(st["reserved"])))
        log("  cgroup: peak usage %s (%.1f%% of the limit), sampled max "
            "%s, OOM kills %d" % (mib(peak), 100.0 * peak / LIMIT,
                                  mib(stats.usage_max), kills))
        log("  RSS: baseline %s, %d s after the flood %s (%+.1f%%); anon "
            "%s -> %s, file %s -> %s, shmem %s -> %s" % (
                mib(base_rss), RSS_SETTLE, mib(after_rss),
                100.0 * (after_rss - base_rss) / base_rss,
                mib(base[1]), mib(after[1]), mib(base[2]), mib(after[2]),
                mib(base[3]), mib(after[3])))

        check(kills == 0, "no OOM kill (oom_kill %d)" % kills)
        check(peak <= USAGE_MAX * LIMIT,
              "peak usage %s <= 90%% of %s" % (mib(peak), mib(LIMIT)))
        check(w1["bad_png"] == 0 and bk["bad_png"] == 0,
              "every 200 is a complete PNG (%d W1, %d %dx%d)" % (
                  w1["ok"], bk["ok"], BIG, BIG))
        check(w1["bad_503"] == 0 and bk["bad_503"] == 0,
              "every 503 has Retry-After and the JSON error (%d)" % (
                  w1["refused"] + bk["refused"]))
        check(not w1["other"] and not bk["other"]
              and w1["errors"] == 0 and bk["errors"] == 0,
              "no other status, no connection error")
        check(served >= W1_SERVED_MIN,
              "%.1f%% of W1 served (>= %d%%)" % (100 * served,
                                                 100 * W1_SERVED_MIN))
        check(abs(after_rss - base_rss) <= RSS_TOLERANCE * base_rss,
              "RSS %d s after the flood within 10%% of the baseline" %
              RSS_SETTLE)
        check(st["reserved"] == 0, "nothing reserved after the flood")
        # the metrics count refusals as requests end, the zone as it
        # refuses: under real pressure both must agree, reason by reason
        ref = st.get("refusals_total", {})
        png = st.get("renders_total", {}).get("png", {})
        check(ref.get("working_set") == st["refused"]["working_set"]
              and ref.get("memory") == st["refused"]["budget"]
              + st["refused"]["no_slot"]
              and png.get("ok", 0) + png.get("error", 0) == st["renders"],
              "metrics agree with the zone: refusals_total %s, renders_total "
              "png %s" % (ref, png))
        crashes = [l for l in ngx.error_log().splitlines()
                   if "exited on signal" in l]
        check(not crashes, "no worker died")

        ngx.stop()
        cg.remove()

        # ---- the same flood, bubble_memory_limit off ----

        cg = Cgroup("bubble-oom-%d-off" % os.getpid())
        cgroups.append(cg)
        ngx = Nginx(cg, module, "off", "off")
        servers.append(ngx)

        log("\n[2] bubble_memory_limit off: the same flood (stops 3 s "
            "after the first OOM kill)")
        stats = run_flood(ngx, requests, FLOOD_SECONDS, stop_on_oom=True)
        log("  flood: %.1f s" % stats.seconds)
        report(stats)
        time.sleep(0.5)
        kills = cg.oom_kills()
        signal9 = [l for l in ngx.error_log().splitlines()
                   if "exited on signal 9" in l]
        log("  cgroup: peak usage %s (%.1f%%), OOM kills %d, workers "
            "killed by signal 9: %d" % (mib(cg.peak()),
                                        100.0 * cg.peak() / LIMIT, kills,
                                        len(signal9)))
        check(kills > 0 or signal9,
              "without the limit the flood gets workers OOM-killed")

        ngx.stop()
        cg.remove()

    finally:
        cleanup()

    if failures:
        log("\nOOM test FAILED: " + "; ".join(failures))
        for n in servers:
            log("  kept for a post-mortem: %s" % n.dir)
        return 1

    for n in servers:
        shutil.rmtree(n.dir, ignore_errors=True)

    log("\nOOM test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
