#!/usr/bin/env python3
"""Scale-out: three ngx_bubble containers behind an nginx that routes
chart URLs by `hash $request_uri consistent` (tests/image/router.conf,
the config docs/deploy.md gives).

    tests/image/scale_out.py [--image localhost/ngx-bubble:test-bookworm]

Everything runs in a network namespace made for the test, on its
loopback: the replicas are the image with docker/nginx.conf, only its two
listen ports moved (18081-18083 and 19146-19148), mounted where the
image reads it (as a ConfigMap would be), 256 MiB each, read-only root;
the router is the same image running router.conf (Debian's nginx has
the upstream hash and proxy modules).

 1. Hit ratio.  42 distinct compact chart URLs (every example as PNG,
    SVG and PDF), each asked 10 times, in random order, by 8 clients:
    the cluster-wide cache hit ratio (every replica's
    bubble_cache_hits_total and _misses_total) is printed and must be at
    least 80% (the ideal is 1 - 42/420 = 90%, each chart rendered once;
    a URL asked again while its first render is in flight renders
    again); every URL went to exactly one replica (router log).  For
    comparison, the same mix of fresh URLs through a round-robin router
    (router.conf without its hash line), where a chart is rendered on up
    to every replica: hashing must beat it by 10 points or more.
 2. A replica killed mid-run.  8 clients ask fresh chart URLs (every
    request renders) for 12 s (at most 3000 requests); at 4 s the
    replica with the most renders in flight (its metrics) is SIGKILLed
    (podman kill: its nginx and every worker, connections reset).  Renders must have been in flight on it, and no
    request may fail beyond those; the test prints how many were in
    flight there and how the router retried them on the next replica
    (proxy_next_upstream error timeout): none is lost.

Prints "scale-out: N passed, N failed" last.
"""

import argparse
import json
import os
import random
import re
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import imagelib as il  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.environ.get("IMG_OUT", os.path.join(il.ROOT, "build-img"))
REPLICAS = 3
ROUTER, ROUTER_RR = 8080, 8090
CLIENTS = 8
REPEAT = 10
KILL_SECONDS, KILL_AT, KILL_MAX = 12, 4, 3000


def replica_conf(i):
    with open(os.path.join(il.ROOT, "docker", "nginx.conf")) as fh:
        conf = fh.read()
    conf, n1 = re.subn(r"^(\s*listen\s+)8080;", r"\g<1>%d;" % (18080 + i),
                       conf, flags=re.M)
    conf, n2 = re.subn(r"^(\s*listen\s+)9145;", r"\g<1>%d;" % (19145 + i),
                       conf, flags=re.M)
    assert n1 == 1 and n2 == 1, "docker/nginx.conf listens on 8080 and 9145"
    path = os.path.join(OUT, "scale-out", "replica%d.conf" % i)
    with open(path, "w") as fh:
        fh.write(conf)
    return path


def router_conf(round_robin=False):
    with open(os.path.join(HERE, "router.conf")) as fh:
        conf = fh.read()
    name = "router.conf"
    if round_robin:
        conf, n = re.subn(r"^\s*hash\s+\$request_uri\s+consistent;\n", "",
                          conf, flags=re.M)
        assert n == 1
        conf = conf.replace("listen  8080;", "listen  %d;" % ROUTER_RR)
        conf = conf.replace("/tmp/router", "/tmp/router-rr")
        name = "router-rr.conf"
    path = os.path.join(OUT, "scale-out", name)
    with open(path, "w") as fh:
        fh.write(conf)
    return path


def urls(tag=""):
    out = []
    for path in il.examples():
        with open(path) as fh:
            spec = json.load(fh)
        if tag:
            spec["caption"] = tag
        for fmt in ("png", "svg", "pdf"):
            out.append(il.compact_url(spec, fmt))
    return out


class FreshUrls:
    """A 'mix' whose every choice is a new chart URL: an example as PNG
    at scale 2 with a caption numbered per request (no cache hit
    possible; a render of some 20-60 ms each)."""

    def __init__(self):
        self.specs = []
        for path in il.examples():
            with open(path) as fh:
                self.specs.append(json.load(fh))
        self.n = 0
        self.lock = threading.Lock()

    def choice(self, rnd):
        with self.lock:
            self.n += 1
            n = self.n
        spec = dict(rnd.choice(self.specs), caption="fresh #%d" % n,
                    scale=2)
        return il.compact_url(spec, "png")


def cache_totals():
    hits = misses = 0
    per = []
    for i in range(1, REPLICAS + 1):
        m = il.metrics(19145 + i)
        h = m.get("bubble_cache_hits_total", 0)
        mi = m.get("bubble_cache_misses_total", 0)
        per.append((h, mi))
        hits += h
        misses += mi
    return hits, misses, per


def run_mix(port, mix, clients, stats, deadline=None, max_total=None,
            loop=False):
    """clients threads GET the mix (a shared queue, or round and round
    when loop) until done or deadline; stats: {'status': {}, 'inflight':
    set of (thread, url, t0)}."""
    import http.client
    lock = threading.Lock()
    queue = [] if isinstance(mix, FreshUrls) else list(mix)
    stats.setdefault("status", {})
    stats.setdefault("inflight", {})
    stats.setdefault("failed", [])
    stats.setdefault("total", 0)

    def client(i):
        rnd = random.Random(i)
        conn = None
        while True:
            with lock:
                if deadline and time.time() >= deadline:
                    return
                if max_total and stats["total"] >= max_total:
                    return
                if loop and isinstance(mix, FreshUrls):
                    url = None
                elif loop:
                    url = rnd.choice(mix)
                elif queue:
                    url = queue.pop()
                else:
                    return
                stats["total"] += 1
            if url is None:
                url = mix.choice(rnd)
            with lock:
                stats["inflight"][i] = (url, time.time())
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", port,
                                                      timeout=60)
                conn.request("GET", url)
                r = conn.getresponse()
                body = r.read()
                st = r.status
                ok = st == 200 and len(body) > 0
            except Exception as e:
                st, ok = "error: %s" % e.__class__.__name__, False
                if conn:
                    conn.close()
                conn = None
            with lock:
                url0, t0 = stats["inflight"].pop(i)
                stats["status"][st] = stats["status"].get(st, 0) + 1
                if not ok:
                    stats["failed"].append((url0, t0, time.time(), st))

    def snapshot():
        with lock:
            return list(stats["inflight"].values())

    stats["snapshot"] = snapshot
    threads = [threading.Thread(target=client, args=(i,))
               for i in range(clients)]
    for th in threads:
        th.start()
    return threads


def router_log(name, since=0.0):
    """[(uri, status, upstream_addr, upstream_status)] of a router's
    requests that ended after the time since."""
    out = []
    for line in il.podman("logs", name).stdout.splitlines():
        m = re.match(r'^([\d.]+) (\S+) (\d+) (.*) "([^"]*)" [\d.]+$', line)
        if m and float(m.group(1)) >= since:
            out.append((m.group(2), int(m.group(3)), m.group(4), m.group(5)))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--image", default="localhost/ngx-bubble:test-bookworm")
    a = ap.parse_args()
    t = il.Checks("scale-out")
    os.makedirs(os.path.join(OUT, "scale-out"), exist_ok=True)
    t0 = time.time()
    try:
        ns = il.Netns("bimg-scale-%d" % os.getpid())
        reps = []
        for i in range(1, REPLICAS + 1):
            reps.append(il.Container(
                "bimg-replica%d" % i, a.image, ns, memory="256m",
                extra=["-v", "%s:/etc/bubble/nginx.conf:ro" % replica_conf(i)]))
        cmd = ["nginx", "-c", "/etc/bubble/router.conf", "-e", "stderr",
               "-g", "daemon off;"]
        il.Container("bimg-router", a.image, ns, memory="128m", extra=[
            "-v", "%s:/etc/bubble/router.conf:ro" % router_conf()], cmd=cmd)
        il.Container("bimg-router-rr", a.image, ns, memory="128m", extra=[
            "-v", "%s:/etc/bubble/router.conf:ro" % router_conf(True)],
            cmd=cmd)
        ready = all(il.wait_http(18080 + i, "/ready", timeout=30)[0] == 200
                    for i in range(1, REPLICAS + 1))
        ready = ready and il.wait_http(ROUTER, "/healthz")[0] == 200 \
            and il.wait_http(ROUTER_RR, "/healthz")[0] == 200
        if not t.ok(ready, "3 replicas and the routers ready"):
            return t.done()

        # -- 1. the hit ratio, hash vs round robin ---------------------------
        mix = urls()
        work = mix * REPEAT
        random.Random(1).shuffle(work)
        h0, m0, _ = cache_totals()
        stats = {}
        for th in run_mix(ROUTER, work, CLIENTS, stats):
            th.join(300)
        h1, m1, per = cache_totals()
        hits, misses = h1 - h0, m1 - m0
        ratio = hits / max(1, hits + misses)
        il.log("# hash $request_uri consistent: %d requests (%d URLs x %d), "
               "statuses %s; cluster-wide cache: %d hits, %d misses, hit "
               "ratio %.1f%% (ideal %.1f%%); per replica (hits, misses) %s"
               % (len(work), len(mix), REPEAT, stats["status"], hits, misses,
                  100 * ratio, 100 * (1 - 1 / REPEAT),
                  [(int(x), int(y)) for x, y in per]))
        t.ok(stats["status"] == {200: len(work)},
             "every request of the mix answered 200", stats["status"])
        t.ok(ratio >= 0.80, "cluster-wide cache hit ratio %.1f%% >= 80%% "
             "(%d misses for %d URLs: beyond one each, a URL asked again "
             "while its first render was in flight, which the module's "
             "cache does not hold back)" % (100 * ratio, misses, len(mix)))
        where = {}
        for uri, st, up, _ in router_log("bimg-router"):
            where.setdefault(uri, set()).add(up)
        multi = [u for u in mix if len(where.get(u, ())) != 1]
        spread = {}
        for u in mix:
            for up in where.get(u, ()):
                spread[up] = spread.get(up, 0) + 1
        t.ok(not multi, "every URL went to exactly one replica (URLs per "
             "replica %s)" % dict(sorted(spread.items())),
             "%d URLs on several" % len(multi))

        rr_mix = urls("round robin")
        rr_work = rr_mix * REPEAT
        random.Random(2).shuffle(rr_work)
        h0, m0, _ = cache_totals()
        rr = {}
        for th in run_mix(ROUTER_RR, rr_work, CLIENTS, rr):
            th.join(300)
        h1, m1, _ = cache_totals()
        rr_ratio = (h1 - h0) / max(1, (h1 - h0) + (m1 - m0))
        il.log("# round robin, for comparison: %d requests, hit ratio %.1f%% "
               "(%d misses: a chart rendered up to %d times)"
               % (len(rr_work), 100 * rr_ratio, m1 - m0, REPLICAS))
        t.ok(ratio >= rr_ratio + 0.10, "hashing beats round robin by 10 "
             "points or more (%.1f%% vs %.1f%%)" % (100 * ratio,
                                                   100 * rr_ratio))

        # -- 2. a replica killed mid-run --------------------------------------
        # fresh URLs (a caption numbered per request): every request
        # renders, so renders are in flight on every replica at the kill
        start = time.time()
        fresh = FreshUrls()
        kill = {}
        deadline = time.time() + KILL_SECONDS
        threads = run_mix(ROUTER, fresh, CLIENTS, kill, deadline=deadline,
                          max_total=KILL_MAX, loop=True)
        time.sleep(KILL_AT)
        # the replica with the most renders in flight (its module's
        # bubble_worker_renders_in_flight), so that the kill breaks some
        victim, busy, until = None, 0, time.time() + 3
        while time.time() < until and not busy:
            for i in range(1, REPLICAS + 1):
                n = il.metric_sum(il.metrics(19145 + i),
                                  "bubble_worker_renders_in_flight")
                if n > busy:
                    victim, busy = i, n
        victim = victim or 2
        vnum = 18080 + victim
        vport = "127.0.0.1:%d" % vnum
        victim = reps[victim - 1]
        il.podman("kill", "--signal", "KILL", victim.name)
        kill_done = time.time()
        for th in threads:
            th.join(KILL_SECONDS + 60)
        failed = kill["failed"]
        # the router's error log names what the kill broke: a request in
        # flight on the replica is reset ("Connection reset by peer" or
        # "prematurely closed" while reading the response), one sent after
        # it is refused ("Connection refused" while connecting)
        errs = [l for l in (il.podman("logs", "bimg-router").stderr
                            .splitlines()) if "upstream" in l
                and ":%d/" % vnum in l]
        reset = [l for l in errs if "[error]" in l and re.search(
            r"reset by peer|prematurely closed", l)]
        refused = [l for l in errs if "[error]" in l
                   and "Connection refused" in l]
        for line in (reset + refused)[:2]:
            il.log("#   router: " + re.sub(r"request: .*", "...", line))
        run = router_log("bimg-router", since=start)
        retried = [(u, up, us) for u, st, up, us in run
                   if up.startswith(vport + ",")]
        late = [u for u, st, up, us in router_log("bimg-router",
                                                   since=kill_done)
                if up == vport]
        done_after = len(router_log("bimg-router", since=kill_done))
        il.log("# kill: %d requests in %d s (each a fresh URL, rendered), "
               "statuses %s; %s SIGKILLed at %.1f s with %d renders in "
               "flight (its metrics): %d requests in flight "
               "on it were reset, %d sent to it afterwards refused before "
               "it was marked down; the router retried all %d on the next "
               "replica (upstream_addr, upstream_status: %s); %d failed"
               % (kill["total"], KILL_SECONDS, kill["status"], victim.name,
                  KILL_AT, busy, len(reset), len(refused), len(retried),
                  "; ".join("%s %s" % (up, us) for _, up, us in retried[:2]),
                  len(failed)))
        t.ok(reset, "renders were in flight on the killed replica (%d reset)"
             % len(reset))
        t.ok(len(failed) <= len(reset) and all(
            f[1] <= kill_done for f in failed),
             "no request lost beyond those in flight on the killed replica "
             "(%d failed, %d were in flight there)"
             % (len(failed), len(reset)), str(failed[:5]))
        t.ok(not failed and len(retried) >= len(reset) + len(refused),
             "none lost at all: proxy_next_upstream retried every broken "
             "GET elsewhere (%d failed, %d retried)"
             % (len(failed), len(retried)))
        t.ok(done_after >= 50, "the load went on after the kill (%d requests "
             "answered after it)" % done_after)
        t.ok(il.podman("inspect", "--format", "{{.State.Running}}",
                       victim.name).stdout.strip() == "false"
             and not late, "the killed replica is down and answered "
             "nothing after its kill (%d)" % len(late))
    except Exception as e:
        t.ok(False, "the scale-out test ran to the end", repr(e))
    finally:
        il.cleanup()
    il.log("# scale-out took %.1f s" % (time.time() - t0))
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
