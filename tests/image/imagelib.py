"""Helpers of the image tests: a network namespace of our own, containers
run with podman (storage and config from tests/image/lib.sh's files),
their memory cgroup, HTTP into the namespace, PNG/SVG/PDF checks, and a
pass/fail counter whose closing line is "NAME: N passed, N failed".

Every container and namespace made here is removed by cleanup(), which
the scripts call in a finally block and on SIGTERM/SIGINT."""

import ctypes
import http.client
import json
import os
import re
import signal
import struct
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
import zlib

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
IMG_CACHE = os.environ.get("IMG_CACHE", "/var/cache/ngx_bubble/images")
ENV = dict(os.environ,
           CONTAINERS_STORAGE_CONF=os.path.join(IMG_CACHE, "storage.conf"),
           CONTAINERS_CONF=os.path.join(IMG_CACHE, "containers.conf"),
           TMPDIR=os.path.join(IMG_CACHE, "tmp"))
CLONE_NEWNET = 0x40000000

_cleanups = []


def log(msg):
    print(msg, flush=True)


class Checks:
    """Counts checks; every failure is printed with its reason."""

    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failed = 0

    def ok(self, cond, what, detail=""):
        if cond:
            self.passed += 1
            log("ok - %s" % what)
        else:
            self.failed += 1
            log("not ok - %s%s" % (what, (": " + str(detail)) if detail
                                   else ""))
        return bool(cond)

    def done(self):
        log("%s: %d passed, %d failed" % (self.name, self.passed,
                                          self.failed))
        return 1 if self.failed or not self.passed else 0


# -- cleanup -----------------------------------------------------------------

def at_exit(fn):
    _cleanups.append(fn)


def cleanup():
    while _cleanups:
        fn = _cleanups.pop()
        try:
            fn()
        except Exception as e:  # keep cleaning
            log("# cleanup: %s" % e)


def _on_signal(signum, frame):
    cleanup()
    sys.exit(128 + signum)


signal.signal(signal.SIGTERM, _on_signal)
signal.signal(signal.SIGINT, _on_signal)


# -- podman ------------------------------------------------------------------

def podman(*args, check=True, timeout=300, input=None):
    r = subprocess.run(["podman"] + list(args), env=ENV, capture_output=True,
                       text=True, timeout=timeout, input=input)
    if check and r.returncode != 0:
        raise RuntimeError("podman %s: %s" % (" ".join(args[:3]),
                                               (r.stderr or r.stdout)[-800:]))
    return r


def run_cmd(cmd, timeout=120):
    return subprocess.run(cmd, env=ENV, capture_output=True, text=True,
                          timeout=timeout)


# -- a network namespace of our own ----------------------------------------

class Netns:
    """`ip netns add` a namespace with only lo, and move this thread into
    it (setns): every socket the test opens is then on that namespace's
    loopback, and containers join it with --network ns:PATH."""

    def __init__(self, name):
        self.name = name
        self.path = "/run/netns/" + name
        subprocess.run(["ip", "netns", "del", name], capture_output=True)
        subprocess.run(["ip", "netns", "add", name], check=True)
        at_exit(self.remove)
        subprocess.run(["ip", "netns", "exec", name, "ip", "link", "set",
                        "lo", "up"], check=True)
        self._libc = ctypes.CDLL("libc.so.6", use_errno=True)
        self._home = os.open("/proc/self/ns/net", os.O_RDONLY)
        self.enter()

    def _setns(self, fd):
        if self._libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns")

    def enter(self):
        fd = os.open(self.path, os.O_RDONLY)
        try:
            self._setns(fd)
        finally:
            os.close(fd)

    def leave(self):
        self._setns(self._home)

    def remove(self):
        self.leave()
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)


class NetnsOf(Netns):
    """The network namespace of a running process (a pod's infra
    container, which podman made with --network none: only lo)."""

    def __init__(self, pid):
        self.name = None
        self.path = "/proc/%d/ns/net" % pid
        self._libc = ctypes.CDLL("libc.so.6", use_errno=True)
        self._home = os.open("/proc/self/ns/net", os.O_RDONLY)
        self.enter()

    def remove(self):
        self.leave()


# -- containers ----------------------------------------------------------------

class Container:
    def __init__(self, name, image, netns, memory=None, read_only=True,
                 extra=(), cmd=()):
        self.name = name
        podman("rm", "-f", "-t", "0", name, check=False)
        args = ["run", "-d", "--name", name, "--network", "ns:" + netns.path,
                "--ulimit", "host", "--health-interval", "disable",
                "--tmpfs", "/tmp:rw,mode=1777,size=64m"]
        if memory:
            args += ["--memory", memory, "--memory-swap", memory]
        if read_only:
            args += ["--read-only"]
        args += list(extra) + [image] + list(cmd)
        self.started = time.time()
        podman(*args)
        at_exit(self.remove)
        self.id = self.inspect("{{.Id}}")

    def inspect(self, fmt):
        return podman("inspect", "--format", fmt, self.name).stdout.strip()

    def running(self):
        return self.inspect("{{.State.Running}}") == "true"

    def pid(self):
        return int(self.inspect("{{.State.Pid}}"))

    def logs(self):
        r = podman("logs", self.name, check=False)
        return r.stdout + r.stderr

    def memcg(self):
        """The container's v1 memory cgroup directory (or v2 group)."""
        with open("/proc/%d/cgroup" % self.pid()) as fh:
            lines = fh.read().splitlines()
        for line in lines:
            _, ctrl, path = line.split(":", 2)
            if "memory" in ctrl.split(","):
                return "/sys/fs/cgroup/memory" + path
        for line in lines:
            if line.startswith("0::"):
                return "/sys/fs/cgroup" + line[3:]
        raise RuntimeError("no memory cgroup for %s" % self.name)

    def pids(self):
        with open(os.path.join(self.memcg(), "cgroup.procs")) as fh:
            return [int(p) for p in fh.read().split()]

    def stop(self, timeout=30):
        """podman stop: the image's STOPSIGNAL, SIGKILL after timeout s."""
        t0 = time.time()
        podman("stop", "-t", str(timeout), self.name, timeout=timeout + 30)
        return time.time() - t0

    def remove(self):
        podman("rm", "-f", "-t", "0", self.name, check=False)


def cgroup_read(cg, name):
    try:
        with open(os.path.join(cg, name)) as fh:
            return fh.read()
    except OSError:
        return None


def oom_kills(cg):
    """The cgroup's OOM kill counter (v1 memory.oom_control, v2
    memory.events), None when the kernel has neither."""
    for f in ("memory.oom_control", "memory.events"):
        text = cgroup_read(cg, f)
        if text:
            m = re.search(r"^oom_kill (\d+)", text, re.M)
            if m:
                return int(m.group(1))
    return None


def proc_status(pid):
    out = {}
    try:
        with open("/proc/%d/status" % pid) as fh:
            for line in fh:
                k, _, v = line.partition(":")
                out[k] = v.strip()
    except OSError:
        pass
    return out


# -- HTTP ----------------------------------------------------------------------

def request(port, method, path, body=None, headers=None, timeout=60,
            host="127.0.0.1"):
    """(status, headers dict lower-cased, body bytes); status 0 and the
    error as body when the connection fails."""
    h = dict(headers or {})
    if body is not None:
        h.setdefault("Content-Type", "application/json")
    c = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    except (OSError, http.client.HTTPException) as e:
        return 0, {}, str(e).encode()
    finally:
        c.close()


def wait_http(port, path, status=200, timeout=30, proc_alive=None):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = request(port, "GET", path, timeout=2)
        if last[0] == status:
            return last
        if proc_alive and not proc_alive():
            break
        time.sleep(0.1)
    return last


def metrics(port, path="/metrics"):
    """Prometheus text → {'name{labels}': float}."""
    st, _, body = request(port, "GET", path)
    out = {}
    if st != 200:
        return out
    for line in body.decode().splitlines():
        if not line or line.startswith("#"):
            continue
        k, _, v = line.rpartition(" ")
        try:
            out[k] = float(v)
        except ValueError:
            pass
    return out


def metric_sum(m, name):
    return sum(v for k, v in m.items()
               if k == name or k.startswith(name + "{"))


# -- formats -------------------------------------------------------------------

def png_info(b):
    """(width, height) of a complete PNG whose every chunk CRC is right,
    else None."""
    if len(b) < 8 or b[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    pos, first, size, end = 8, True, None, False
    while pos + 8 <= len(b):
        n, typ = struct.unpack(">I4s", b[pos:pos + 8])
        data = b[pos + 8:pos + 8 + n]
        if len(data) != n or pos + 12 + n > len(b):
            return None
        crc = struct.unpack(">I", b[pos + 8 + n:pos + 12 + n])[0]
        if zlib.crc32(typ + data) & 0xffffffff != crc:
            return None
        if first:
            if typ != b"IHDR":
                return None
            size = struct.unpack(">II", data[:8])
            first = False
        pos += 12 + n
        if typ == b"IEND":
            end = True
            break
    return size if end and pos == len(b) else None


def svg_ok(b):
    try:
        root = ET.fromstring(b)
    except ET.ParseError:
        return False
    return root.tag.endswith("svg")


def pdf_pages(b):
    """The page count pdfinfo (poppler-utils) reads from a whole PDF, 0
    when it is not one.  (cairo 1.18 keeps its page objects in compressed
    object streams: grepping for /Type /Page finds nothing there.)"""
    if not (b.startswith(b"%PDF-") and b.rstrip().endswith(b"%%EOF")):
        return 0
    r = subprocess.run(["pdfinfo", "-"], input=b, capture_output=True)
    m = re.search(rb"^Pages:\s+(\d+)", r.stdout, re.M)
    return int(m.group(1)) if r.returncode == 0 and m else 0


def spec_size(spec):
    """The PNG's pixel size a spec asks for."""
    scale = spec.get("scale", 1)
    return (int(round(spec.get("width", 800) * scale)),
            int(round(spec.get("height", 600) * scale)))


def compact_url(spec, fmt, base="/chart"):
    """The compact chart URL (docs/urls.md): raw DEFLATE, base64url."""
    import base64
    raw = json.dumps(spec, separators=(",", ":")).encode()
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = c.compress(raw) + c.flush()
    return "%s/%s.%s" % (base, base64.urlsafe_b64encode(data).decode()
                         .rstrip("="), fmt)


def examples():
    d = os.path.join(ROOT, "examples")
    return [os.path.join(d, f) for f in sorted(os.listdir(d))
            if f.endswith(".json")]


def start_lines_ok(text, allow=()):
    """The lines of a container's log at start that are not nginx
    [notice] lines (nor lines matching allow): a list, empty when clean.
    Any line naming an error or a warning is bad whatever else it says."""
    bad = []
    notice = re.compile(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[notice\] ")
    for line in text.splitlines():
        if not line.strip():
            continue
        if re.search(r"(?i)error|warn|crit|alert|emerg|fail|fontconfig",
                     line):
            bad.append(line)
        elif not notice.match(line) and not any(re.match(a, line)
                                                for a in allow):
            bad.append(line)
    return bad
