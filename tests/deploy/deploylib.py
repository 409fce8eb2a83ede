"""Helpers for the deployment checks: an nginx.conf parser, the module's
directive and variable names read from its C tables, the libraries
`config` probes and those a built module really links (DT_NEEDED, ldd),
`nginx -t` with the built module, and a pass/fail counter that prints the
closing line "deploy: N passed, N failed"."""

import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODULE_DIR = os.path.join(ROOT, "ngx_bubble_module")
NGINX = os.environ.get("NGINX", "/usr/sbin/nginx")


class Checks:
    """Counts checks; every failure is printed with its reason."""

    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failed = 0

    def ok(self, cond, what, detail=""):
        if cond:
            self.passed += 1
            print("ok - %s" % what)
        else:
            self.failed += 1
            print("not ok - %s%s" % (what, (": " + detail) if detail else ""))
        return cond

    def done(self):
        print("%s: %d passed, %d failed" % (self.name, self.passed, self.failed))
        sys.exit(1 if self.failed or not self.passed else 0)


# -- nginx.conf -------------------------------------------------------------

class Directive:
    def __init__(self, name, args, block=None, line=0):
        self.name = name
        self.args = args
        self.block = block          # list of Directive, or None
        self.line = line

    def __repr__(self):
        return "%s %s" % (self.name, " ".join(self.args))


def tokenize(text):
    """nginx's tokens: words, quoted strings, ';', '{', '}'; # comments."""
    tokens = []
    i, n, line = 0, len(text), 1
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
        elif c.isspace():
            i += 1
        elif c == "#":
            while i < n and text[i] != "\n":
                i += 1
        elif c in ";{}":
            tokens.append((c, line, False))
            i += 1
        elif c in "\"'":
            j = i + 1
            buf = []
            while j < n and text[j] != c:
                if text[j] == "\\" and j + 1 < n:
                    buf.append(text[j + 1])
                    j += 2
                    continue
                if text[j] == "\n":
                    line += 1
                buf.append(text[j])
                j += 1
            if j >= n:
                raise ValueError("line %d: unterminated string" % line)
            tokens.append(("".join(buf), line, True))
            i = j + 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in ";{}":
                j += 1
            tokens.append((text[i:j], line, False))
            i = j
    return tokens


def parse(text):
    """The config as a tree of Directive; raises ValueError on bad nesting."""
    tokens = tokenize(text)
    pos = 0

    def block(depth):
        nonlocal pos
        out = []
        words = []
        while pos < len(tokens):
            tok, line, quoted = tokens[pos]
            pos += 1
            if not quoted and tok == ";":
                if not words:
                    raise ValueError("line %d: empty directive" % line)
                out.append(Directive(words[0][0], [w for w, _ in words[1:]],
                                     None, words[0][1]))
                words = []
            elif not quoted and tok == "{":
                if not words:
                    raise ValueError("line %d: block without a name" % line)
                d = Directive(words[0][0], [w for w, _ in words[1:]], None,
                              words[0][1])
                words = []
                d.block = block(depth + 1)
                out.append(d)
            elif not quoted and tok == "}":
                if depth == 0:
                    raise ValueError("line %d: unexpected }" % line)
                if words:
                    raise ValueError("line %d: missing ;" % line)
                return out
            else:
                words.append((tok, line))
        if depth:
            raise ValueError("unexpected end of file: missing }")
        if words:
            raise ValueError("unexpected end of file: missing ;")
        return out

    return block(0)


def walk(tree):
    for d in tree:
        yield d
        if d.block:
            yield from walk(d.block)


def find(tree, name):
    return [d for d in tree if d.name == name]


def servers(tree):
    """[(listen ports, server block)] of every http server."""
    out = []
    for http in find(tree, "http"):
        for srv in find(http.block, "server"):
            ports = []
            for lst in find(srv.block, "listen"):
                m = re.search(r"(\d+)$", lst.args[0])
                if m:
                    ports.append(int(m.group(1)))
            out.append((ports, srv))
    return out


def location(server, path):
    """The location block of server that serves path exactly, or None:
    '= path' first, then the longest matching prefix (no regexes here)."""
    best, best_len = None, -1
    for loc in find(server.block, "location"):
        if loc.args[0] == "=" and loc.args[1] == path:
            return loc
        prefix = loc.args[-1] if loc.args[0] not in ("=", "~", "~*") else None
        if prefix and path.startswith(prefix) and len(prefix) > best_len:
            best, best_len = loc, len(prefix)
    return best


def variables(tree):
    """Every $name used in any argument."""
    out = set()
    for d in walk(tree):
        for a in d.args:
            out.update(re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", a))
    return out


# -- the module's own names -------------------------------------------------

def _c_sources():
    for f in sorted(os.listdir(MODULE_DIR)):
        if f.endswith(".c"):
            with open(os.path.join(MODULE_DIR, f)) as fh:
                yield f, fh.read()


def module_directives():
    """Names in every ngx_command_t table of ngx_bubble_module/*.c."""
    names = set()
    for _, src in _c_sources():
        for m in re.finditer(r"ngx_command_t\s+\w+\s*\[\]\s*=\s*\{(.*?)"
                             r"ngx_null_command", src, re.S):
            names.update(re.findall(r'ngx_string\("([a-z_0-9]+)"\)', m.group(1)))
    return names


def module_variables():
    """Names in every ngx_http_variable_t table of ngx_bubble_module/*.c."""
    names = set()
    for _, src in _c_sources():
        for m in re.finditer(r"ngx_http_variable_t\s+\w+\s*\[\]\s*=\s*\{(.*?)"
                             r"ngx_http_null_variable", src, re.S):
            names.update(re.findall(r'ngx_string\("([a-z_0-9]+)"\)', m.group(1)))
    return names


# -- the libraries: what `config` probes, what a module links -------------

def config_libraries():
    """[(name, Debian -dev package, -l library)] of every library the addon
    script `config` probes: its `bubble_pkg_config NAME PACKAGE` lines
    (the library is the first -l of `pkg-config --libs NAME`) and the yajl
    feature test (ngx_feature_libs, and the package its error names)."""
    with open(os.path.join(ROOT, "config")) as fh:
        text = fh.read()
    out = []
    for name, pkg in re.findall(r"^bubble_pkg_config\s+(\S+)\s+(\S+)\s*$",
                                text, re.M):
        r = subprocess.run(["pkg-config", "--libs-only-l", name],
                           capture_output=True, text=True)
        libs = re.findall(r"-l(\S+)", r.stdout)
        out.append((name, pkg, libs[0] if libs else None))
    m = re.search(r'ngx_feature_libs="-l(\w+)"(.*?)install the Debian '
                  r'package (\S+?)"', text, re.S)
    if m:
        out.append((m.group(1), m.group(3), m.group(1)))
    return out


# what build-module.sh's is_libc() leaves out of runtime-debs and the bundle
LIBC = ("libc.so", "libm.so", "libdl.so", "libpthread.so", "librt.so",
        "ld-linux", "libc.musl", "ld-musl", "linux-vdso", "libresolv.so")


def is_libc(soname):
    return soname.startswith(LIBC)


def needed_libs(so):
    """The DT_NEEDED sonames of a shared object, in order (readelf -d)."""
    r = subprocess.run(["readelf", "-d", so], capture_output=True, text=True)
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]",
                      r.stdout)


def resolved_libs(so):
    """{soname: path} of every library the loader resolves for so (ldd):
    its NEEDED entries and all of theirs."""
    r = subprocess.run(["ldd", so], capture_output=True, text=True)
    return dict(re.findall(r"^\s*(\S+) => (/\S+)", r.stdout, re.M))


def deb_package(path):
    """The Debian package that ships the library at path, or None.  dpkg
    knows one spelling of a path (merged /usr: /lib or /usr/lib, the link
    or its target), so ask for each, as build-module.sh does."""
    for p in (path, os.path.realpath(path)):
        for f in (p, p[4:] if p.startswith("/usr/") else "/usr" + p):
            r = subprocess.run(["dpkg-query", "-S", f], capture_output=True,
                               text=True)
            if r.returncode == 0 and r.stdout.strip():
                return r.stdout.splitlines()[0].split(":")[0]
    return None


# -- nginx -t ----------------------------------------------------------------

def nginx_test(conf_text, module, replace=()):
    """Run `nginx -t` on conf_text with the module's load_module path and
    /tmp/ paths pointed at module and a scratch directory.  (ok, output)"""
    with tempfile.TemporaryDirectory(prefix="bubble-conf-") as tmp:
        text = conf_text.replace("/tmp/", tmp + "/")
        text = re.sub(r"^(\s*load_module\s+)\S*ngx_http_bubble_module\.so;",
                      lambda m: m.group(1) + module + ";", text, flags=re.M)
        for a, b in replace:
            text = text.replace(a, b)
        path = os.path.join(tmp, "nginx.conf")
        with open(path, "w") as fh:
            fh.write(text)
        r = subprocess.run([NGINX, "-p", tmp, "-c", path, "-e", "stderr",
                            "-t"], capture_output=True, text=True)
        return r.returncode == 0, r.stderr.strip()


def module_path():
    m = os.environ.get("BUBBLE_MODULE")
    if not m:
        m = os.path.join(ROOT, "build/nginx/objs/ngx_http_bubble_module.so")
    return os.path.abspath(m)
