#!/usr/bin/env python3
"""What a `docker build` and an ingress-nginx init image would do, run
natively, so that CI catches a broken step without a Docker engine:

 1. docker/build-module.sh (the Dockerfile's build stage, Debian mode)
    builds a module that /usr/sbin/nginx loads, links every library
    `config` probes and not librsvg, and records the nginx package version
    and exactly the packages of its NEEDED libraries, which the runtime
    stage installs;
 2. docker/install-runtime.sh's package list exists in the archive;
 3. nginx runs the image's own docker/nginx.conf as a non-root user
    (as in the container; only /tmp, ports and the module path moved) and
    answers /healthz, /ready, /chart.png and /metrics;
 4. build-module.sh --mode compat --bundle (the ingress-nginx init image's
    build) yields a module whose libraries resolve inside the bundle, a
    bundle of exactly what it loads (no librsvg), and refuses a target of
    another version or without --with-compat;
 5. init_module.sh copies the bundle to a modules mount, and nginx runs the
    ingress-nginx snippets of conf/ingress-nginx/ (main-snippet before
    events, http-snippet, the Ingress's server-snippet) and renders a CJK
    chart with every NEEDED library and the fonts mapped from the bundle.

    tests/deploy/test_native.py     (root or not; about 2-3 minutes)
"""

import json
import os
import pwd
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import yaml

sys.path.insert(0, os.path.dirname(__file__))
import deploylib as dl  # noqa: E402

BUILD_SCRIPT = os.path.join(dl.ROOT, "docker", "build-module.sh")
INSTALL_SCRIPT = os.path.join(dl.ROOT, "docker", "install-runtime.sh")
INIT_SCRIPT = os.path.join(dl.ROOT, "conf", "ingress-nginx", "init_module.sh")
SPEC = os.path.join(dl.ROOT, "examples", "cjk-title.json")

t = dl.Checks("deploy native")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def http(url, data=None, headers=None):
    """(status, headers, body) of one request; never raises for 4xx/5xx."""
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()
    except (urllib.error.URLError, OSError) as e:
        return 0, {}, str(e).encode()


def png_size(body):
    if body[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return struct.unpack(">II", body[16:24])


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


class Nginx:
    """nginx in the foreground on conf, as `nobody` when we are root."""

    def __init__(self, prefix, conf, port):
        self.prefix, self.port = prefix, port
        cmd = [dl.NGINX, "-p", prefix, "-c", conf, "-e", "stderr",
               "-g", "daemon off;"]
        if os.getuid() == 0:
            nobody = pwd.getpwnam("nobody")
            cmd = ["setpriv", "--reuid=%d" % nobody.pw_uid,
                   "--regid=%d" % nobody.pw_gid, "--clear-groups"] + cmd
        self.log = open(os.path.join(prefix, "stderr.log"), "w+")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=self.log)
        deadline = time.time() + 15
        while time.time() < deadline and self.proc.poll() is None:
            if http("http://127.0.0.1:%d/" % port)[0]:
                break
            time.sleep(0.1)

    def running(self):
        return self.proc.poll() is None

    def stderr(self):
        self.log.seek(0)
        return self.log.read()[-2000:]

    def worker_pids(self):
        pids = []
        for d in os.listdir("/proc"):
            try:
                with open("/proc/%s/stat" % d) as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if ppid == self.master_pid():
                pids.append(int(d))
        return pids

    def master_pid(self):
        # setpriv execs nginx: same pid
        return self.proc.pid

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def shared_to_nobody(path):
    """Let the non-root nginx read the tree and write its /tmp."""
    os.chmod(path, 0o755)
    if os.getuid() == 0:
        nobody = pwd.getpwnam("nobody")
        os.chown(path, nobody.pw_uid, nobody.pw_gid)


def is_rsvg(soname_or_package):
    return soname_or_package.startswith("librsvg")


def check_linked(so, what):
    """What the module links, from its own DT_NEEDED entries (so the lists
    checked here follow the build): every library `config` probes, and no
    librsvg, neither NEEDED nor loaded through another library (PNG and
    PDF are drawn with cairo and pango, core/bubble_draw.c; librsvg is for
    tests/unit/test_draw.c only).  Returns the NEEDED sonames but libc's."""
    needed = dl.needed_libs(so)
    t.ok(needed, "%s: readelf -d lists its NEEDED libraries" % what)
    probed = dl.config_libraries()
    t.ok(len(probed) >= 5, "config probes cairo, pangocairo, harfbuzz, "
         "fontconfig, yajl (%s)" % ", ".join(n for n, _, _ in probed))
    for name, _, lib in probed:
        t.ok(lib and any(n.startswith("lib%s.so" % lib) for n in needed),
             "%s links lib%s (config probes %s)" % (what, lib, name),
             "NEEDED: %s" % " ".join(needed))
    t.ok(not any(is_rsvg(n) for n in needed),
         "%s does not need librsvg" % what, "NEEDED: %s" % " ".join(needed))
    loaded = dl.resolved_libs(so)
    t.ok(loaded and not any(is_rsvg(n) for n in loaded),
         "nor does any of the %d libraries it loads" % len(loaded),
         " ".join(sorted(loaded)))
    return [n for n in needed if not dl.is_libc(n)]


def step_build_debian(work):
    out = os.path.join(work, "deb")
    r = run([BUILD_SCRIPT, "--out", out, "--work", os.path.join(work, "w-deb")])
    if not t.ok(r.returncode == 0, "build-module.sh (Debian mode) succeeds",
                (r.stdout + r.stderr)[-1500:]):
        return None
    print("#", r.stdout.strip().splitlines()[-1])
    so = os.path.join(out, "ngx_http_bubble_module.so")
    t.ok(os.path.getsize(so) > 100000, "it wrote the module (%d bytes)"
         % os.path.getsize(so))
    ver = run([dl.NGINX, "-v"]).stderr.strip().split("/")[-1]
    with open(os.path.join(out, "nginx-version")) as fh:
        t.ok(fh.read().strip() == ver, "nginx-version is %s, /usr/sbin/nginx's"
             % ver)
    deb = run(["dpkg-query", "-W", "-f=${Version}", "nginx"]).stdout
    with open(os.path.join(out, "nginx-deb-version")) as fh:
        t.ok(fh.read().strip() == deb, "nginx-deb-version is the installed "
             "nginx package, %s" % deb)
    with open(os.path.join(out, "runtime-debs")) as fh:
        debs = fh.read().split()
    libs = check_linked(so, "the Debian-mode module")
    loaded = dl.resolved_libs(so)
    want = set()
    for lib in libs:
        pkg = dl.deb_package(loaded[lib]) if lib in loaded else None
        t.ok(pkg and pkg in debs, "runtime-debs names %s, which ships its "
             "NEEDED %s" % (pkg, lib), "%s => %s; %s"
             % (lib, loaded.get(lib), debs))
        want.add(pkg)
    t.ok(set(debs) == want, "runtime-debs is exactly those %d packages"
         % len(want), "extra: %s" % sorted(set(debs) - want))
    t.ok(not any(is_rsvg(d) for d in debs),
         "the runtime image installs no librsvg package", str(debs))
    return out


def step_runtime_packages(out):
    r = run([INSTALL_SCRIPT, "--dry-run", out])
    if not t.ok(r.returncode == 0, "install-runtime.sh --dry-run", r.stderr):
        return
    pkgs = r.stdout.split()
    missing = [p for p in pkgs if run(["apt-cache", "show", p]).returncode]
    t.ok(pkgs and not missing, "its %d packages exist in the archive "
         "(nginx pinned to the module's version)" % len(pkgs),
         "unknown: %s" % missing)
    for must in ("fonts-dejavu-core", "fonts-noto-cjk", "curl"):
        t.ok(must in pkgs, "the runtime image installs %s" % must)


def step_serve_image_conf(work, out):
    prefix = os.path.join(work, "image")
    os.makedirs(os.path.join(prefix, "tmp"))
    shared_to_nobody(work)
    shared_to_nobody(prefix)
    shared_to_nobody(os.path.join(prefix, "tmp"))
    p_http, p_metrics = free_port(), free_port()
    with open(os.path.join(dl.ROOT, "docker", "nginx.conf")) as fh:
        conf = fh.read()
    # the container's paths and ports, moved; nothing else changes
    moved = (conf.replace("/tmp/", prefix + "/tmp/")
             .replace("/usr/lib/nginx/modules/ngx_http_bubble_module.so",
                      os.path.join(out, "ngx_http_bubble_module.so"))
             .replace("/dev/stdout", prefix + "/tmp/access.log")
             .replace("listen  8080;", "listen  127.0.0.1:%d;" % p_http)
             .replace("listen  9145;", "listen  127.0.0.1:%d;" % p_metrics))
    t.ok(moved.count("127.0.0.1:") == 2 and os.path.join(out, "ngx_") in moved,
         "docker/nginx.conf has the module path and ports 8080, 9145")
    path = os.path.join(prefix, "nginx.conf")
    with open(path, "w") as fh:
        fh.write(moved)
    os.chmod(path, 0o644)

    ngx = Nginx(prefix, path, p_http)
    try:
        if not t.ok(ngx.running(), "nginx runs the image's nginx.conf",
                    ngx.stderr()):
            return
        uid = os.stat("/proc/%d" % ngx.master_pid()).st_uid
        t.ok(uid != 0 or os.getuid() != 0,
             "the master process is not root (uid %d)" % uid)
        base = "http://127.0.0.1:%d" % p_http
        st, _, body = http(base + "/healthz")
        t.ok(st == 200, "/healthz 200 (liveness)", "%s %r" % (st, body[:200]))
        st, _, body = http(base + "/ready")
        ready = None
        try:
            ready = json.loads(body).get("ready")
        except ValueError:
            pass
        t.ok(st == 200 and ready is True, "/ready 200 {\"ready\":true} "
             "(readiness)", "%s %r" % (st, body[:200]))
        with open(SPEC, "rb") as fh:
            spec = fh.read()
        st, hdr, body = http(base + "/chart.png", spec,
                             {"Content-Type": "application/json"})
        size = png_size(body)
        t.ok(st == 200 and size, "POST /chart.png renders a PNG %s" % (size,),
             "%s %r" % (st, body[:300]))
        st, _, body = http(base + "/chart.png",
                           b'{"data":[{"x":1,"y":2},{"x":2,"y":"abc"}]}',
                           {"Content-Type": "application/json"})
        t.ok(st == 400 and b'"path":"data[1].y"' in body,
             "a bad spec gets 400 naming the field", "%s %r" % (st, body[:300]))
        st, _, body = http("http://127.0.0.1:%d/metrics" % p_metrics)
        t.ok(st == 200 and b"bubble_renders_total" in body,
             "/metrics on the metrics port 200 with bubble_renders_total",
             "%s %r" % (st, body[:300]))
        st, _, _ = http(base + "/metrics")
        t.ok(st == 404, "/metrics is not served on the chart port (%s)" % st)
        time.sleep(0.2)
        with open(os.path.join(prefix, "tmp", "access.log")) as fh:
            log = fh.read()
        t.ok(re.search(r"POST /chart\.png .* render=[0-9.]+ reserved=\d+", log),
             "the access log has render time and reserved bytes",
             log[-400:])
    finally:
        ngx.stop()


def step_build_bundle(work):
    out = os.path.join(work, "bundle")
    r = run([BUILD_SCRIPT, "--mode", "compat", "--bundle", "--out", out,
             "--work", os.path.join(work, "w-compat")])
    if not t.ok(r.returncode == 0, "build-module.sh --mode compat --bundle "
                "succeeds", (r.stdout + r.stderr)[-1500:]):
        return None
    conf_line = [l for l in r.stdout.splitlines() if "configure nginx" in l]
    t.ok(conf_line and "--with-compat" in conf_line[0]
         and "--prefix" not in conf_line[0],
         "compat mode configures with --with-compat and only the flags the "
         "module depends on", conf_line[0] if conf_line else r.stdout)
    so = os.path.join(out, "ngx_http_bubble_module.so")
    rpath = run(["readelf", "-d", so]).stdout
    t.ok("(RPATH)" in rpath and "[$ORIGIN/lib]" in rpath,
         "the module's RPATH is $ORIGIN/lib")
    needed = check_linked(so, "the bundled module")
    libs = dl.resolved_libs(so)
    for lib in needed:
        t.ok(libs.get(lib, "").startswith(out + "/lib/"),
             "%s resolves inside the bundle" % lib, libs.get(lib, "missing"))
    closure = {n for n in libs if not dl.is_libc(n)}
    bundled = set(os.listdir(os.path.join(out, "lib")))
    t.ok(bundled == closure, "the bundle's lib/ is exactly what the module "
         "loads but libc (%d libraries)" % len(bundled),
         "extra: %s, missing: %s" % (sorted(bundled - closure),
                                     sorted(closure - bundled)))
    fonts = os.listdir(os.path.join(out, "fonts"))
    t.ok("fonts.conf" in fonts and any("CJK" in f for f in fonts)
         and any("DejaVuSans" in f for f in fonts),
         "the bundle has DejaVu, Noto CJK and a fonts.conf")
    return out


def step_refusals(work):
    ver = run([dl.NGINX, "-v"]).stderr.strip().split("/")[-1]
    other = "1.25.5" if ver != "1.25.5" else "1.27.1"
    fake = os.path.join(work, "nginx-V.txt")
    with open(fake, "w") as fh:
        fh.write("nginx version: nginx/%s\nbuilt by gcc\nconfigure arguments:"
                 " --prefix=/usr/local/nginx --with-compat --with-threads\n"
                 % other)
    r = run([BUILD_SCRIPT, "--mode", "compat", "--nginx-v", fake, "--out",
             os.path.join(work, "refused1")])
    t.ok(r.returncode != 0 and other in r.stderr,
         "compat mode refuses a source of another version than the target",
         r.stderr)
    with open(fake, "w") as fh:
        fh.write("nginx version: nginx/%s\nconfigure arguments: "
                 "--with-threads --with-http_ssl_module\n" % ver)
    r = run([BUILD_SCRIPT, "--mode", "compat", "--nginx-v", fake, "--out",
             os.path.join(work, "refused2")])
    t.ok(r.returncode != 0 and "--with-compat" in r.stderr,
         "compat mode refuses a target built without --with-compat", r.stderr)


def step_ingress_snippets(work, bundle):
    with open(os.path.join(dl.ROOT, "conf/ingress-nginx/values.yaml")) as fh:
        values = yaml.safe_load(fh)
    with open(os.path.join(dl.ROOT, "conf/ingress-nginx/ingress.yaml")) as fh:
        ingress = yaml.safe_load(fh)
    cfg = values["controller"]["config"]
    server_snippet = ingress["metadata"]["annotations"][
        "nginx.ingress.kubernetes.io/server-snippet"]

    mount = os.path.join(work, "modules_mount")
    os.makedirs(mount)
    shared_to_nobody(mount)
    # the init container's command, with the image's /bubble = the bundle
    r = run(["sh", INIT_SCRIPT],
            env=dict(os.environ, MODULES_MOUNT=mount, BUBBLE_SRC=bundle))
    if not t.ok(r.returncode == 0 and os.path.exists(
            os.path.join(mount, "bubble", "ngx_http_bubble_module.so")),
            "init_module.sh copies the bundle to the modules mount",
            r.stdout + r.stderr):
        return

    prefix = os.path.join(work, "ingress")
    os.makedirs(os.path.join(prefix, "tmp"))
    shared_to_nobody(prefix)
    shared_to_nobody(os.path.join(prefix, "tmp"))
    port = free_port()
    # ingress-nginx's nginx.tmpl order: main-snippet, events, http with
    # http-snippet, then a server per host with its server-snippet and the
    # Ingress's own locations
    conf = """%s
pid %s/nginx.pid;
events { worker_connections 256; }
http {
    client_body_temp_path %s/tmp/body;
    proxy_temp_path %s/tmp/proxy;
    fastcgi_temp_path %s/tmp/fastcgi;
    uwsgi_temp_path %s/tmp/uwsgi;
    scgi_temp_path %s/tmp/scgi;
    access_log off;
%s
    server {
        listen 127.0.0.1:%d;
        server_name charts.example.com;
%s
        location / { return 502; }
    }
}
""" % (cfg["main-snippet"], prefix, prefix, prefix, prefix, prefix, prefix,
       cfg["http-snippet"], port, server_snippet)
    conf = conf.replace("/modules_mount/", mount + "/")
    path = os.path.join(prefix, "nginx.conf")
    with open(path, "w") as fh:
        fh.write(conf)
    os.chmod(path, 0o644)

    ngx = Nginx(prefix, path, port)
    try:
        if not t.ok(ngx.running(), "nginx runs the ingress-nginx snippets "
                    "with the bundled module", ngx.stderr()):
            return
        with open(SPEC, "rb") as fh:
            spec = fh.read()
        st, _, body = http("http://127.0.0.1:%d/chart.png" % port, spec,
                           {"Content-Type": "application/json",
                            "Host": "charts.example.com"})
        t.ok(st == 200 and png_size(body),
             "/chart.png through the server-snippet renders a PNG",
             "%s %r" % (st, body[:300]))
        st, _, _ = http("http://127.0.0.1:%d/other" % port)
        t.ok(st == 502, "other paths still go to the Ingress backend (%s)" % st)
        maps = ""
        for pid in ngx.worker_pids():
            try:
                with open("/proc/%d/maps" % pid) as fh:
                    maps += fh.read()
            except OSError:
                pass
        # A soname nginx itself links (zlib, libcrypto) is already loaded
        # when load_module runs, and the loader shares it; every other
        # library the module needs must come from the bundle.
        so = os.path.join(mount, "bubble", "ngx_http_bubble_module.so")
        needed = [n for n in dl.needed_libs(so) if not dl.is_libc(n)]
        nginx_own = set(dl.resolved_libs(dl.NGINX))
        own = [n for n in needed if n in nginx_own]
        unmapped = [n for n in needed if n not in nginx_own
                    and mount + "/bubble/lib/" + n not in maps]
        t.ok(len(own) < len(needed) and not unmapped,
             "a worker mapped each of the module's %d NEEDED libraries but "
             "nginx's own (%s) from the bundle, not the system: cairo, "
             "pango, harfbuzz, ..." % (len(needed) - len(own),
                                       " ".join(own) or "none"),
             "not from the bundle: %s" % unmapped)
        t.ok(re.search(re.escape(mount) + r"/bubble/fonts/\S*CJK", maps),
             "a worker mapped the CJK font from the bundle (fonts.conf via "
             "env FONTCONFIG_FILE)")
        t.ok("/usr/share/fonts/" not in maps,
             "and no font from the system's /usr/share/fonts")
    finally:
        ngx.stop()


def main():
    work = tempfile.mkdtemp(prefix="bubble-deploy-")
    shared_to_nobody(work)
    try:
        out = step_build_debian(work)
        if out:
            step_runtime_packages(out)
            step_serve_image_conf(work, out)
        step_refusals(work)
        bundle = step_build_bundle(work)
        if bundle:
            step_ingress_snippets(work, bundle)
    finally:
        if os.environ.get("KEEP"):
            print("# kept", work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    t.done()


if __name__ == "__main__":
    main()
