#!/usr/bin/env python3
"""The checks of one ngx_bubble image, through running containers.

    tests/image/check_image.py --image localhost/ngx-bubble:test-bookworm \\
        --variant bookworm [--uid 10001] [--golden DIR]

Every container joins a network namespace made for the run (only its
loopback; the test's sockets move into it with setns), so the image's
fixed ports 8080 and 9145 meet nothing else on the machine.

 1. the image's config: non-root numeric USER, STOPSIGNAL SIGQUIT, a
    HEALTHCHECK, EXPOSE 8080 9145;
 2. a container with --memory 256m --read-only --tmpfs /tmp: /ready 200;
    its log at start has nginx [notice] lines only (no error or warning:
    no "Fontconfig error"); /healthz 200 and `podman healthcheck run`
    (the image's own HEALTHCHECK, curl inside it) healthy;
 3. the metrics show the container's limit (= its cgroup's
    memory.limit_in_bytes = 256 MiB) and a budget derived from it;
 4. every process of the container runs as the image's user;
 5. every examples/*.json as PNG (complete, every CRC, the spec's pixel
    size), SVG (parses; byte for byte the golden SVG of this renderer)
    and PDF; a compact GET URL twice: the same PNG, one cache hit;
 6. nothing written outside /tmp: no read-only-filesystem or permission
    error in the log, and a second container with a writable root and
    the same requests shows nothing in `podman diff` beyond what podman
    itself changes in a container that runs `true`;
 7. graceful stop: a 1-2 s render in flight, `podman stop -t 30` (the
    image's STOPSIGNAL): the render completes (200, a whole PNG, answered
    after the stop began), the container exits 0 well within the grace
    period, nginx logged its graceful shutdown;
 8. a flood inside a 128 MiB container (20 s, 32 keep-alive clients on
    loopback, W1 and W1 at 2048x2048 and 4096x4096 with unique titles,
    Retry-After honoured): 0 OOM kills (cgroup oom_kill counter, podman's
    OOMKilled), only 200 (whole PNGs) and 503 + Retry-After, no connection
    error, W1 and 2048x2048 renders served (a 4096x4096 canvas, 64 MiB,
    is past a 128 MiB container's budget: always 413 too_large naming
    width, never a retry), /ready 200 again after it, no worker died.

Prints "image VARIANT: N passed, N failed" last; exit 1 on any failure.
"""

import argparse
import json
import os
import random
import re
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import imagelib as il  # noqa: E402

LIMIT = 256 * 1024 * 1024
FLOOD_LIMIT = 128 * 1024 * 1024
FLOOD_SECONDS = 20
FLOOD_CLIENTS = 32
FLOOD_MAX_REQUESTS = 6000
GRACE = 30                      # s: terminationGracePeriodSeconds
HTTP, METRICS = 8080, 9145
W1 = os.path.join(il.ROOT, "tests", "bench", "workloads", "w1-standard.json")

# lines the official image's entrypoint prints before nginx starts
ENTRYPOINT_LINES = (r"^/docker-entrypoint\.sh: ",
                    r"^\d\d-[\w-]+\.(sh|envsh): info: ")


def golden_override(variant, name):
    """A per-renderer golden: tests/image/golden/VARIANT/NAME.svg, used
    instead of t/golden/NAME.svg where a variant's cairo/pango/harfbuzz
    lay text out differently (none is needed today: the SVGs of all three
    variants equal t/golden; IMG_GOLDEN_UPDATE=1 writes them)."""
    return os.path.join(il.ROOT, "tests", "image", "golden", variant,
                        name + ".svg")


def golden_svg(gdir, name):
    """The golden SVG: from the work tree, or from the commit named by
    IMG_MODULE_SRC when the image was built from that commit."""
    src = os.environ.get("IMG_MODULE_SRC", "worktree")
    path = os.path.join(gdir, name + ".svg")
    if src != "worktree" and os.path.relpath(path, il.ROOT).startswith("t/"):
        r = subprocess.run(["git", "-C", il.ROOT, "show", "%s:%s" % (
            src, os.path.relpath(path, il.ROOT))], capture_output=True)
        return r.stdout if r.returncode == 0 else None
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError:
        return None


def check_config(t, image, uid, expose):
    cfg = json.loads(il.podman("image", "inspect", image).stdout)[0]
    c = cfg.get("Config", {})
    user = c.get("User", "")
    t.ok(user.split(":")[0] == str(uid), "image USER is %s (numeric, non-root)"
         % user)
    t.ok(c.get("StopSignal") == "SIGQUIT", "image STOPSIGNAL is %s"
         % c.get("StopSignal"))
    hc = c.get("Healthcheck") or cfg.get("Healthcheck") or {}
    t.ok(hc.get("Test"), "image has a HEALTHCHECK (%s)"
         % " ".join(hc.get("Test") or []))
    ports = sorted(int(p.split("/")[0]) for p in (c.get("ExposedPorts") or {}))
    t.ok(ports == sorted(expose), "image EXPOSEs %s" % ports,
         "expected %s" % sorted(expose))
    log_size(cfg)


def log_size(cfg):
    il.log("# image size %.1f MB" % (cfg.get("Size", 0) / 1e6))


def check_start(t, c, allow):
    t0 = time.time()
    st = il.wait_http(HTTP, "/ready", timeout=30, proc_alive=c.running)
    if not t.ok(st and st[0] == 200, "/ready 200 (%.1f s after start)"
                % (time.time() - c.started), st and st[2][:200]):
        il.log(c.logs()[-3000:])
        return False
    # the first worker's own start-up lines end with the zone's notice
    # (after its warm-up, where fontconfig would complain): wait for it
    deadline = time.time() + 10
    start_log = c.logs()
    while "bubble: memory limit" not in start_log and time.time() < deadline:
        time.sleep(0.05)
        start_log = c.logs()
    t.ok("bubble: memory limit" in start_log,
         "the first worker started (its zone notice is logged)")
    for line in start_log.splitlines():
        il.log("#   | " + line)
    bad = il.start_lines_ok(start_log, allow)
    t.ok(not bad, "no error or warning line at start (read-only root)",
         "\n    " + "\n    ".join(bad[:20]))
    st = il.request(HTTP, "GET", "/healthz")
    t.ok(st[0] == 200, "/healthz 200")
    r = il.podman("healthcheck", "run", c.name, check=False)
    t.ok(r.returncode == 0 and "unhealthy" not in r.stdout,
         "podman healthcheck run: the image's HEALTHCHECK passes",
         (r.stdout + r.stderr)[-300:])
    return True


def check_metrics(t, c, limit):
    cg = c.memcg()
    cg_limit = int((il.cgroup_read(cg, "memory.limit_in_bytes")
                    or il.cgroup_read(cg, "memory.max") or "0").strip())
    m = il.metrics(METRICS)
    got = m.get("bubble_cgroup_limit_bytes")
    t.ok(got == limit == cg_limit, "metrics: bubble_cgroup_limit_bytes %s = "
         "the container's limit %d = its cgroup's %d" % (got, limit, cg_limit))
    budget = m.get("bubble_memory_budget_bytes", 0)
    # bubble_memory_limit auto 85%, less the zones it must hold (cache
    # zone 64m, accounting zone 1m: docker/nginx.conf)
    want = int(limit * 0.85) - 64 * 2**20 - 2**20
    t.ok(abs(budget - want) <= 4096, "metrics: budget %d = 85%% of the "
         "limit less the zones (%d)" % (budget, want))
    t.ok(m.get("bubble_ready") == 1, "metrics: bubble_ready 1")
    st, _, body = il.request(METRICS, "GET", "/metrics?format=json")
    try:
        json.loads(body)
        ok = st == 200
    except ValueError:
        ok = False
    t.ok(ok, "metrics as JSON (?format=json)")


def check_user(t, c, uid):
    pids = c.pids()
    bad = []
    for p in pids:
        s = il.proc_status(p)
        uids = s.get("Uid", "").split()
        gids = s.get("Gid", "").split()
        if not uids or set(uids) != {str(uid)} or "0" in gids:
            bad.append("%d %s uid %s gid %s" % (p, s.get("Name"), uids, gids))
    names = sorted(il.proc_status(p).get("Name", "?") for p in pids)
    t.ok(pids and not bad, "all %d processes (%s) run as uid %d, no gid 0"
         % (len(pids), " ".join(names), uid), "; ".join(bad))
    caps = [il.proc_status(p).get("CapEff") for p in pids]
    t.ok(all(x and int(x, 16) == 0 for x in caps),
         "no process has effective capabilities", str(caps))


def check_examples(t, golden_dir, variant):
    specs = il.examples()
    t.ok(len(specs) >= 10, "%d example specs" % len(specs))
    bad, svg_equal, svg_differ, svg_override, render = [], [], [], [], {}
    for path in specs:
        name = os.path.basename(path)[:-5]
        with open(path, "rb") as fh:
            body = fh.read()
        spec = json.loads(body)
        for fmt in ("png", "svg", "pdf"):
            t0 = time.time()
            st, h, b = il.request(HTTP, "POST", "/chart." + fmt, body)
            render[(name, fmt)] = time.time() - t0
            if st != 200:
                bad.append("%s.%s: %d %s" % (name, fmt, st, b[:120]))
                continue
            if fmt == "png":
                size = il.png_info(b)
                if size != il.spec_size(spec):
                    bad.append("%s.png: %s, want %s" % (name, size,
                                                        il.spec_size(spec)))
            elif fmt == "svg":
                if not il.svg_ok(b):
                    bad.append("%s.svg does not parse" % name)
                want = golden_svg(golden_dir, name) if golden_dir else None
                override = golden_override(variant, name)
                if os.path.exists(override):
                    with open(override, "rb") as fh:
                        want = fh.read()
                    svg_override.append(name)
                if want == b:
                    svg_equal.append(name)
                elif os.environ.get("IMG_GOLDEN_UPDATE") == "1":
                    os.makedirs(os.path.dirname(override), exist_ok=True)
                    with open(override, "wb") as fh:
                        fh.write(b)
                    svg_equal.append(name + " (written)")
                else:
                    svg_differ.append(name if want is not None
                                      else name + " (no golden)")
            elif il.pdf_pages(b) != 1:
                bad.append("%s.pdf is not a whole one-page PDF" % name)
    t.ok(not bad, "every example as PNG, SVG, PDF: %d renders, each whole "
         "and of the spec's size (%.0f ms the slowest)"
         % (3 * len(specs), 1000 * max(render.values())), "; ".join(bad))
    if golden_dir:
        t.ok(not svg_differ, "every example's SVG byte for byte as %s/ "
             "(%d equal; %d from tests/image/golden/%s/)"
             % (os.path.relpath(golden_dir, il.ROOT), len(svg_equal),
                len(svg_override), variant),
             "differ: %s" % ", ".join(svg_differ))

    with open(os.path.join(il.ROOT, "examples", "theme-minimal.json")) as fh:
        spec = json.load(fh)
    url = il.compact_url(spec, "png")
    hits = il.metrics(METRICS).get("bubble_cache_hits_total", 0)
    a = il.request(HTTP, "GET", url)
    b = il.request(HTTP, "GET", url)
    hits = il.metrics(METRICS).get("bubble_cache_hits_total", 0) - hits
    t.ok(a[0] == 200 and b[0] == 200 and a[2] == b[2] and hits >= 1,
         "a compact GET URL twice: 200, the same PNG, a cache hit "
         "(bubble_cache_hits_total +%d)" % hits)


def check_writes(t, c):
    r = il.podman("exec", c.name, "find", "/tmp", "-mindepth", "1",
                  "-maxdepth", "2", check=False)
    il.log("# written under /tmp: %s" % " ".join(sorted(r.stdout.split())))
    logs = c.logs()
    bad = [l for l in logs.splitlines()
           if re.search(r"Read-only file system|Permission denied|\[(crit|"
                        r"alert|emerg|error)\]", l)]
    t.ok(not bad, "no read-only or permission error in the log after the "
         "renders", "\n    ".join(bad[:10]))


def check_diff(t, image, ns):
    """A writable root this time: podman diff must show no change."""
    # what podman itself changes in any container (a bare `true`)
    base = il.Container("bimg-diff0", image, ns, read_only=False,
                        cmd=("true",))
    for _ in range(100):
        if not base.running():
            break
        time.sleep(0.1)
    podman_own = set(l for l in il.podman("diff", base.name).stdout
                     .splitlines() if l.strip())
    base.remove()
    c = il.Container("bimg-diff", image, ns, memory="256m", read_only=False)
    try:
        if not t.ok(il.wait_http(HTTP, "/ready", timeout=30)[0] == 200,
                    "writable-root container ready"):
            return
        with open(os.path.join(il.ROOT, "examples", "cjk-title.json"),
                  "rb") as fh:
            body = fh.read()
        for fmt in ("png", "svg", "pdf"):
            il.request(HTTP, "POST", "/chart." + fmt, body)
        il.request(HTTP, "GET", "/ready")
        il.request(METRICS, "GET", "/metrics")
        il.podman("healthcheck", "run", c.name, check=False)
        # a body past client_body_buffer_size goes to a temp file
        big = json.dumps({"data": {"x": list(range(30000)),
                                   "y": list(range(30000))}}).encode()
        il.request(HTTP, "POST", "/chart.svg", big)
        c.stop(GRACE)
        diff = [d for d in il.podman("diff", c.name).stdout.splitlines()
                if d.strip() and d not in podman_own]
        t.ok(not diff, "writable root: podman diff shows nothing after "
             "renders, a temp-file body, metrics, healthcheck and stop "
             "(beyond podman's own %s)" % " ".join(sorted(podman_own)),
             " ".join(diff[:20]))
    finally:
        c.remove()


def slow_spec():
    rnd = random.Random(7)
    n = 50000
    return {"width": 4096, "height": 4096, "title": "in flight at SIGQUIT",
            "data": {"x": [rnd.random() for _ in range(n)],
                     "y": [rnd.random() for _ in range(n)],
                     "size": [rnd.random() for _ in range(n)],
                     "color": [rnd.random() for _ in range(n)]}}


def check_graceful_stop(t, c):
    body = json.dumps(slow_spec()).encode()
    res = {}

    def client():
        res["resp"] = il.request(HTTP, "POST", "/chart.png", body,
                                 timeout=GRACE + 10)
        res["done"] = time.time()

    th = threading.Thread(target=client)
    th.start()
    deadline = time.time() + 10
    inflight = 0
    while time.time() < deadline and "done" not in res:
        m = il.metrics(METRICS)
        inflight = il.metric_sum(m, "bubble_worker_renders_in_flight")
        if inflight >= 1:
            break
        time.sleep(0.01)
    if not t.ok(inflight >= 1 and "done" not in res,
                "a render in flight (bubble_worker_renders_in_flight %d)"
                % inflight):
        th.join()
        return
    stop_at = time.time()
    took = c.stop(GRACE)
    th.join(GRACE + 15)
    st, h, b = res.get("resp", (0, {}, b""))
    t.ok(st == 200 and il.png_info(b) == (4096, 4096)
         and res.get("done", 0) > stop_at,
         "the in-flight render completed after the stop began: %d, %d "
         "bytes, %.2f s after SIGQUIT" % (st, len(b),
                                          res.get("done", 0) - stop_at))
    code = c.inspect("{{.State.ExitCode}}")
    t.ok(took < GRACE - 5 and code == "0",
         "stopped in %.1f s (grace %d s), exit code %s (not SIGKILL)"
         % (took, GRACE, code))
    logs = c.logs()
    t.ok("gracefully shutting down" in logs and "exit" in logs.splitlines()[-1],
         "nginx shut down gracefully (SIGQUIT)", logs[-600:])
    t.ok(c.inspect("{{.State.OOMKilled}}") == "false", "not OOM-killed")


# -- the flood ----------------------------------------------------------------

class FloodStats:
    def __init__(self):
        self.lock = threading.Lock()
        self.status = {}
        self.bad = []
        self.served = {"w1": 0, "2048": 0, "4096": 0}
        self.sent = {"w1": 0, "2048": 0, "4096": 0}
        self.total = 0
        self.too_large = 0              # 4096x4096 answered 413


def flood_client(i, stats, deadline, w1):
    import http.client
    rnd = random.Random(i)
    conn = None
    n = 0
    while time.time() < deadline:
        with stats.lock:
            if stats.total >= FLOOD_MAX_REQUESTS:
                return
            stats.total += 1
        x = rnd.random()
        kind = "w1" if x < 0.4 else "2048" if x < 0.8 else "4096"
        spec = dict(w1, title="flood %d.%d" % (i, n))
        if kind != "w1":
            spec["width"] = spec["height"] = int(kind)
            spec["scale"] = 1
        want = il.spec_size(spec)
        n += 1
        body = json.dumps(spec)
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", HTTP,
                                                  timeout=60)
            conn.request("POST", "/chart.png", body=body,
                         headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            data = r.read()
            st = r.status
            retry = r.getheader("Retry-After")
            if r.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = None
        except Exception as e:
            with stats.lock:
                stats.status["conn-error"] = stats.status.get("conn-error",
                                                              0) + 1
                stats.bad.append("client %d: %s" % (i, e))
            if conn:
                conn.close()
            conn = None
            time.sleep(0.2)
            continue
        with stats.lock:
            stats.sent[kind] += 1
            stats.status[st] = stats.status.get(st, 0) + 1
            if st == 200:
                if il.png_info(data) != want:
                    stats.bad.append("200 that is not a whole %dx%d PNG"
                                     % want)
                else:
                    stats.served[kind] += 1
            elif st == 503:
                if not retry:
                    stats.bad.append("503 without Retry-After")
            elif st == 413 and kind == "4096":
                # over the whole budget: the one answer that is not a
                # retry, naming the image as what is too large
                try:
                    j = json.loads(data)
                except ValueError:
                    j = {}
                if (j.get("error"), j.get("path")) != ("too_large", "width") \
                        or retry:
                    stats.bad.append("413 that is not too_large/width, "
                                     "or with Retry-After: %s" % data[:100])
                else:
                    stats.too_large += 1
            else:
                stats.bad.append("status %d: %s" % (st, data[:100]))
        if st == 503 and retry:
            time.sleep(min(float(retry), max(0, deadline - time.time())))


def check_flood(t, image, ns):
    c = il.Container("bimg-flood", image, ns, memory="128m")
    try:
        if not t.ok(il.wait_http(HTTP, "/ready", timeout=30)[0] == 200,
                    "128 MiB container ready"):
            il.log(c.logs()[-2000:])
            return
        cg = c.memcg()
        m = il.metrics(METRICS)
        t.ok(m.get("bubble_cgroup_limit_bytes") == FLOOD_LIMIT,
             "its metrics show the 128 MiB limit")
        with open(W1) as fh:
            w1 = json.load(fh)
        stats = FloodStats()
        deadline = time.time() + FLOOD_SECONDS
        peak_ws = [0]
        done = threading.Event()

        def sample():
            while not done.is_set():
                mm = il.metrics(METRICS)
                peak_ws[0] = max(peak_ws[0], mm.get(
                    "bubble_cgroup_working_set_bytes", 0))
                done.wait(0.25)

        threads = [threading.Thread(target=flood_client,
                                    args=(i, stats, deadline, w1))
                   for i in range(FLOOD_CLIENTS)]
        sampler = threading.Thread(target=sample)
        t0 = time.time()
        sampler.start()
        for th in threads:
            th.start()
        for th in threads:
            th.join(FLOOD_SECONDS + 90)
        done.set()
        sampler.join()
        secs = time.time() - t0
        max_usage = int((il.cgroup_read(cg, "memory.max_usage_in_bytes")
                         or il.cgroup_read(cg, "memory.peak") or "0").strip())
        kills = il.oom_kills(cg)
        mm = il.metrics(METRICS)
        il.log("# flood: %.1f s, %d requests, statuses %s; served: W1 %d/%d, "
               "2048x2048 %d/%d, 4096x4096 %d/%d; cgroup peak usage %.1f MiB "
               "(%.0f%% of the limit), peak working set seen by the module "
               "%.1f MiB; budget %.1f MiB; cache %d entries, %d evictions"
               % (secs, sum(stats.sent.values()), stats.status,
                  stats.served["w1"], stats.sent["w1"], stats.served["2048"],
                  stats.sent["2048"], stats.served["4096"],
                  stats.sent["4096"], max_usage / 2**20,
                  100.0 * max_usage / FLOOD_LIMIT, peak_ws[0] / 2**20,
                  mm.get("bubble_memory_budget_bytes", 0) / 2**20,
                  mm.get("bubble_cache_entries", 0),
                  mm.get("bubble_cache_evictions_total", 0)))
        t.ok(kills == 0, "flood in 128 MiB: 0 OOM kills (cgroup oom_kill %s)"
             % kills)
        t.ok(c.running() and c.inspect("{{.State.OOMKilled}}") == "false",
             "the container still runs, never OOMKilled")
        t.ok(not stats.bad and "conn-error" not in stats.status,
             "only whole PNGs, 503 + Retry-After and (4096x4096) 413 "
             "too_large, no connection error",
             "; ".join(stats.bad[:5]))
        t.ok(stats.sent["4096"] > 0
             and stats.too_large == stats.sent["4096"],
             "4096x4096, over the whole budget: 413 every time (%d of %d)"
             % (stats.too_large, stats.sent["4096"]))
        t.ok(stats.served["w1"] >= 0.3 * max(1, stats.sent["w1"])
             and stats.served["2048"] > 0,
             "renders were served, not only refused (W1 %d of %d, "
             "2048x2048 %d of %d)" % (stats.served["w1"], stats.sent["w1"],
                                      stats.served["2048"],
                                      stats.sent["2048"]))
        t.ok(il.wait_http(HTTP, "/ready", timeout=20)[0] == 200,
             "/ready 200 again after the flood")
        logs = c.logs()
        died = [l for l in logs.splitlines()
                if re.search(r"exited on signal|\[alert\]|\[emerg\]", l)]
        t.ok(not died, "no worker died", "; ".join(died[:5]))
    finally:
        c.remove()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--image", required=True)
    ap.add_argument("--variant", required=True)
    ap.add_argument("--uid", type=int, default=10001)
    ap.add_argument("--golden", help="directory of golden SVGs")
    ap.add_argument("--expose", type=int, nargs="+", default=[HTTP, METRICS],
                    help="the ports the image EXPOSEs (a derived image "
                    "keeps its base's: the official image's 80)")
    ap.add_argument("--no-flood", action="store_true")
    a = ap.parse_args()
    t = il.Checks("image %s" % a.variant)
    allow = ENTRYPOINT_LINES
    golden = os.path.join(il.ROOT, a.golden) if a.golden else None
    t_start = time.time()
    try:
        ns = il.Netns("bimg-%d" % os.getpid())
        check_config(t, a.image, a.uid, a.expose)
        c = il.Container("bimg-main", a.image, ns, memory="256m")
        if check_start(t, c, allow):
            check_metrics(t, c, LIMIT)
            check_user(t, c, a.uid)
            check_examples(t, golden, a.variant)
            check_writes(t, c)
            check_graceful_stop(t, c)
        c.remove()
        check_diff(t, a.image, ns)
        if not a.no_flood:
            check_flood(t, a.image, ns)
    except Exception as e:
        t.ok(False, "the checks ran to the end", repr(e))
    finally:
        il.cleanup()
    il.log("# checks of %s took %.1f s" % (a.variant, time.time() - t_start))
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
