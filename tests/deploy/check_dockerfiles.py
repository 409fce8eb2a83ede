#!/usr/bin/env python3
"""Static checks of the Dockerfiles (no Docker engine here; hadolint is in
neither Debian nor npm): every COPY source exists and survives
.dockerignore, every --from names an earlier stage, every script a RUN
calls is in the repository, executable and run by CI's native test
(test_native.py), every RUN passes shellcheck as the /bin/sh script
Docker hands it, and the runtime stage is non-root with a HEALTHCHECK on
a location of its nginx.conf and EXPOSEs exactly the ports nginx listens
on; it installs its packages before it copies the module (a new module
does not redo the apt-get layer) and copies it where nginx.conf loads it.
docker/official.Dockerfile (the official nginx image's recipe) builds the
module in compat mode for the image's own nginx and adds only the
libraries and fonts, non-root.  conf/ingress-nginx/Dockerfile (the init
image) copies `make musl`'s artifact, which .dockerignore lets through,
into the layout init_module.sh and values.yaml use.  The shell scripts themselves go through shellcheck too.  The build
dependencies (build-module.sh's Debian and Alpine lists, and the build
stages docs/deploy.md shows) install the -dev package of every library
`config` probes, and nothing installs librsvg, which the module does not
link (tests/unit/test_draw.c alone uses it).

    tests/deploy/check_dockerfiles.py
"""

import fnmatch
import os
import re
import shlex
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import deploylib as dl  # noqa: E402

t = dl.Checks("deploy dockerfiles")

with open(os.path.join(os.path.dirname(__file__), "test_native.py")) as fh:
    NATIVE_TEST = fh.read()


def instructions(path):
    """[(lineno, INSTRUCTION, rest)] with continuations joined."""
    out, buf, start = [], "", 0
    with open(path) as fh:
        for n, line in enumerate(fh, 1):
            s = line.rstrip("\n")
            if not buf and (not s.strip() or s.lstrip().startswith("#")):
                continue
            if buf and s.lstrip().startswith("#"):
                continue                    # comment inside a continuation
            if not buf:
                start = n
            if s.endswith("\\"):
                buf += s[:-1] + " "
                continue
            buf += s
            word, _, rest = buf.strip().partition(" ")
            out.append((start, word.upper(), rest.strip()))
            buf = ""
    return out


def dockerignore():
    path = os.path.join(dl.ROOT, ".dockerignore")
    if not os.path.exists(path):
        return []
    with open(path) as fh:
        return [l.strip() for l in fh if l.strip() and not l.startswith("#")]


def ignored(src, patterns):
    """Docker's rule: the last pattern that matches src or a directory
    above it decides; "!pattern" lets it through again."""
    parts = src.strip("/").split("/")
    paths = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    out = False
    for p in patterns:
        neg = p.startswith("!")
        pat = p[1:] if neg else p
        if any(fnmatch.fnmatch(x, pat.strip("/")) for x in paths):
            out = not neg
    return out


# what `make musl` leaves (tools/musl/build-nginx.sh), which a Dockerfile
# may copy from the build context once it is built
MUSL_ARTIFACT = ("build/musl/modules/ngx_http_bubble_module.so",
                 "build/musl/fonts", "build/musl/nginx-version")


def shellcheck_run(name, lineno, cmd):
    """shellcheck a RUN command as the /bin/sh -c script Docker runs."""
    with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as fh:
        fh.write("#!/bin/sh\n" + cmd + "\n")
        path = fh.name
    try:
        r = subprocess.run(["shellcheck", "-s", "sh", "-S", "warning", path],
                           capture_output=True, text=True)
    finally:
        os.unlink(path)
    t.ok(r.returncode == 0, "%s:%d RUN passes shellcheck" % (name, lineno),
         r.stdout[-800:])


def check(rel, runtime_checks, min_stages=2):
    path = os.path.join(dl.ROOT, rel)
    if not t.ok(os.path.exists(path), "%s exists" % rel):
        return None
    ins = instructions(path)
    patterns = dockerignore()
    stages, copies_into = [], {}
    pre_args = set()
    for lineno, word, rest in ins:
        if word == "ARG" and not stages:
            pre_args.add(rest.split("=")[0])
        elif word == "FROM":
            parts = rest.split()
            image = parts[0]
            for var in re.findall(r"\$\{?(\w+)", image):
                t.ok(var in pre_args, "%s:%d FROM uses ARG %s declared "
                     "before the first FROM" % (rel, lineno, var))
            name = parts[2] if len(parts) >= 3 and parts[1].upper() == "AS" \
                else None
            stages.append({"image": image, "name": name, "ins": []})
        elif not stages:
            t.ok(False, "%s:%d %s before any FROM" % (rel, lineno, word))
            continue
        else:
            stages[-1]["ins"].append((lineno, word, rest))

        if word == "COPY":
            args = shlex.split(rest)
            flags = [a for a in args if a.startswith("--")]
            files = [a for a in args if not a.startswith("--")]
            srcs, dest = files[:-1], files[-1]
            frm = [f.split("=", 1)[1] for f in flags if f.startswith("--from=")]
            if frm:
                earlier = [s["name"] for s in stages[:-1]]
                t.ok(frm[0] in earlier, "%s:%d COPY --from=%s is an earlier "
                     "stage" % (rel, lineno, frm[0]))
                continue
            for src in srcs:
                if src.startswith("build/"):
                    # a build output: `make musl` makes it
                    t.ok(src in MUSL_ARTIFACT, "%s:%d COPY %s is make musl's"
                         % (rel, lineno, src))
                else:
                    t.ok(os.path.exists(os.path.join(dl.ROOT, src)),
                         "%s:%d COPY %s exists" % (rel, lineno, src))
                t.ok(not ignored(src, patterns), "%s:%d COPY %s is not in "
                     ".dockerignore" % (rel, lineno, src))
                copies_into[dest] = src
        elif word == "RUN":
            shellcheck_run(rel, lineno, rest)
            for script in re.findall(r"(?:^|[\s;&|])(/?[\w./-]+\.sh)\b", rest):
                src = copies_into.get(script, script.lstrip("/"))
                for dest, s in copies_into.items():
                    # a script inside a copied directory (COPY docker /src/docker)
                    if script.startswith(dest.rstrip("/") + "/"):
                        src = s.rstrip("/") + script[len(dest.rstrip("/")):]
                full = os.path.join(dl.ROOT, src)
                if t.ok(os.path.isfile(full), "%s:%d RUN %s is %s in the "
                        "repository" % (rel, lineno, script, src)):
                    t.ok(os.access(full, os.X_OK), "%s is executable" % src)
                    t.ok(os.path.basename(src) in NATIVE_TEST,
                         "%s is run by CI (tests/deploy/test_native.py)" % src)

    t.ok(len(stages) >= min_stages, "%s has %d stages (at least %d)"
         % (rel, len(stages), min_stages))
    return stages, copies_into


# Alpine's -dev package for each library `config` probes by pkg-config name
# (a library added to config without one here fails the check, on purpose)
ALPINE_DEV = {"cairo": "cairo-dev", "pangocairo": "pango-dev",
              "harfbuzz": "harfbuzz-dev", "fontconfig": "fontconfig-dev",
              "yajl": "yajl-dev"}


def shell_words(text, var):
    """The words of VAR="..." in a shell script."""
    m = re.search(r'^%s="([^"]*)"' % var, text, re.M)
    return m.group(1).split() if m else []


def installs(text):
    """The packages of every apt-get/apk install in a shell or Dockerfile
    text, a list for each (continuations joined; flags, pins dropped)."""
    out = []
    for line in re.sub(r"\\\n", " ", text).splitlines():
        for m in re.finditer(r"(?:apt-get|apk)\s+(?:install|add)\b([^;&|]*)",
                             line):
            pkgs = [w.split("=")[0] for w in m.group(1).split()
                    if not w.startswith(("-", "$")) and w not in ("\\",)]
            out.append(pkgs)
    return out


def check_build_deps():
    probed = dl.config_libraries()
    t.ok(len(probed) >= 5, "config probes its libraries (%s)"
         % ", ".join(n for n, _, _ in probed))
    script = os.path.join(dl.ROOT, "docker", "build-module.sh")
    with open(script) as fh:
        text = fh.read()
    r = subprocess.run([script, "--print-deps"], capture_output=True,
                       text=True)
    deb = r.stdout.split()
    alpine = shell_words(text, "ALPINE_BUILD_DEPS")
    t.ok(r.returncode == 0 and deb and alpine,
         "build-module.sh --print-deps and ALPINE_BUILD_DEPS list packages")
    for name, pkg, _ in probed:
        t.ok(pkg in deb, "build-module.sh installs %s on Debian (config "
             "probes %s)" % (pkg, name), " ".join(deb))
        apk = ALPINE_DEV.get(name)
        t.ok(apk in alpine, "build-module.sh installs %s on Alpine (config "
             "probes %s)" % (apk, name), " ".join(alpine))
    for what, pkgs in (("Debian", deb), ("Alpine", alpine)):
        t.ok(not any("rsvg" in p for p in pkgs), "build-module.sh installs "
             "no librsvg on %s (the module does not link it)" % what,
             " ".join(p for p in pkgs if "rsvg" in p))

    # the build stages docs/deploy.md tells people to write
    with open(os.path.join(dl.ROOT, "docs", "deploy.md")) as fh:
        doc = fh.read()
    blocks = "\n".join(re.findall(r"^```[a-z]*\n(.*?)^```", doc,
                                   re.S | re.M))
    found = installs(blocks)
    t.ok(found, "docs/deploy.md shows package installs (%d)" % len(found))
    for pkgs in found:
        if "build-essential" in pkgs:
            missing = [p for _, p, _ in probed if p not in pkgs]
            t.ok(not missing, "docs/deploy.md build stage (%s ...) installs "
                 "the -dev package of every library config probes"
                 % " ".join(pkgs[:3]), "missing: %s" % missing)
        t.ok(not any("rsvg" in p for p in pkgs), "docs/deploy.md install "
             "of %s ... names no librsvg" % " ".join(pkgs[:3]),
             " ".join(pkgs))
    with open(os.path.join(dl.ROOT, "docker", "official.Dockerfile")) as fh:
        found = installs(fh.read())
    t.ok(found, "docker/official.Dockerfile installs packages")
    for pkgs in found:
        if "build-essential" in pkgs:
            missing = [p for _, p, _ in probed if p not in pkgs]
            t.ok(not missing, "docker/official.Dockerfile's build stage "
                 "installs the -dev package of every library config probes",
                 "missing: %s" % missing)
            t.ok("nginx" not in pkgs and "nginx-dev" not in pkgs,
                 "docker/official.Dockerfile installs no Debian nginx over "
                 "the image's own")
    for rel in ("Dockerfile", "conf/ingress-nginx/Dockerfile",
                "docker/official.Dockerfile", "docker/install-runtime.sh"):
        with open(os.path.join(dl.ROOT, rel)) as fh:
            body = "\n".join(l for l in fh.read().splitlines()
                             if not l.lstrip().startswith("#"))
        t.ok("rsvg" not in body, "%s installs no librsvg" % rel)


def run_cmds(stage):
    return " ".join(rest for _, w, rest in stage["ins"] if w == "RUN")


def last(stage, word):
    found = [rest for _, w, rest in stage["ins"] if w == word]
    return found[-1] if found else None


def main():
    for tool in ("shellcheck",):
        if not t.ok(subprocess.run(["sh", "-c", "command -v " + tool],
                                   capture_output=True).returncode == 0,
                    "%s is installed (make deps)" % tool):
            t.done()

    # -- the image ----------------------------------------------------------
    res = check("Dockerfile", True)
    if res:
        stages, copies = res
        build, final = stages[0], stages[-1]
        t.ok("docker/build-module.sh --out" in run_cmds(build),
             "the build stage runs docker/build-module.sh --out")
        t.ok(re.match(r"debian:\$\{DEBIAN_RELEASE\}-slim$|debian:\w+-slim$",
                      final["image"]), "runtime stage is debian slim (%s)"
             % final["image"])
        user = last(final, "USER")
        t.ok(user and user.split(":")[0] not in ("0", "root"),
             "runtime USER is not root (%s)" % user)
        t.ok(user and user.split(":")[0].isdigit(),
             "USER is numeric, so runAsNonRoot can verify it")
        t.ok("install-runtime.sh" in run_cmds(final),
             "the runtime stage runs install-runtime.sh")

        with open(os.path.join(dl.ROOT, "docker", "nginx.conf")) as fh:
            tree = dl.parse(fh.read())
        srv = dl.servers(tree)
        listening = sorted(p for ps, _ in srv for p in ps)
        expose = sorted(int(p) for e in [r for _, w, r in final["ins"]
                                         if w == "EXPOSE"]
                        for p in e.split())
        t.ok(expose == listening, "EXPOSE %s = nginx.conf listen %s"
             % (expose, listening))

        hc = last(final, "HEALTHCHECK") or ""
        m = re.search(r"http://127\.0\.0\.1:(\d+)(/[^\s\"]*)", hc)
        if t.ok(m, "HEALTHCHECK requests a local URL (%s)" % (m.group(0) if m else hc)):
            port, hpath = int(m.group(1)), m.group(2)
            s = [x for ps, x in srv if port in ps]
            loc = dl.location(s[0], hpath) if s else None
            t.ok(loc is not None and any(d.name == "return" for d in loc.block),
                 "HEALTHCHECK %s:%d is a cheap location of nginx.conf"
                 % (hpath, port))
            t.ok("curl" in hc and "curl" in open(os.path.join(
                dl.ROOT, "docker", "install-runtime.sh")).read(),
                "the HEALTHCHECK's curl is installed in the runtime stage")

        cmd = last(final, "CMD") or ""
        m = re.search(r'"-c",\s*"([^"]+)"', cmd)
        t.ok(m and copies.get(m.group(1)) == "docker/nginx.conf",
             "CMD -c %s is docker/nginx.conf" % (m.group(1) if m else "?"))
        t.ok("daemon off;" in cmd, "CMD keeps nginx in the foreground")
        t.ok(last(final, "STOPSIGNAL") == "SIGQUIT",
             "STOPSIGNAL SIGQUIT (graceful: in-flight renders finish)")
        with open(os.path.join(dl.ROOT, "docker", "nginx.conf")) as fh:
            text = fh.read()
        t.ok("/usr/lib/nginx/modules/ngx_http_bubble_module.so" in text
             and "/usr/lib/nginx/modules/ngx_http_bubble_module.so" in
             open(os.path.join(dl.ROOT, "docker", "install-runtime.sh")).read(),
             "nginx.conf loads the module where install-runtime.sh puts it")

        # the module lands where nginx.conf's load_module reads it
        so = [r for _, w, r in final["ins"] if w == "COPY"
              and "ngx_http_bubble_module.so" in r and "--from=build" in r]
        t.ok(so and so[-1].split()[-1].rstrip("/") == "/usr/lib/nginx/modules",
             "the runtime stage copies the module to /usr/lib/nginx/modules/, "
             "where nginx.conf loads it (%s)" % (so[-1] if so else None))
        # the layer of apt-get comes before the module: a new module alone
        # does not redo it
        words = [(w, r) for _, w, r in final["ins"]]
        i_run = [i for i, (w, r) in enumerate(words)
                 if w == "RUN" and "install-runtime.sh" in r]
        i_so = [i for i, (w, r) in enumerate(words)
                if w == "COPY" and "ngx_http_bubble_module.so" in r]
        t.ok(i_run and i_so and i_run[0] < i_so[0],
             "install-runtime.sh runs before the module is copied (layer "
             "cache: a new module does not reinstall packages)")

    # -- the official nginx image's recipe (docs/deploy.md, section 3) -------
    res = check("docker/official.Dockerfile", True)
    if res:
        stages, copies = res
        build, final = stages[0], stages[-1]
        t.ok(build["image"] == final["image"] == "${NGINX_IMAGE}",
             "official: both stages are the nginx image (%s, %s)"
             % (build["image"], final["image"]))
        runs = run_cmds(build)
        t.ok(re.search(r"build-module\.sh\s+--mode\s+compat\s+--src\s+\S+"
                       r"\s+--nginx\s+.+?\s+--out\s+/out", runs),
             "official: the module is built in compat mode for the image's "
             "own nginx (its nginx -V, its nginx -t)")
        t.ok("NGINX_SOURCE_URL" in runs and "nginx.org/download" in runs,
             "official: the source is nginx.org's tarball of that version, "
             "or NGINX_SOURCE_URL")
        t.ok("install-runtime.sh --libs-only" in run_cmds(final),
             "official: the runtime stage adds only the libraries and fonts "
             "(install-runtime.sh --libs-only), not Debian's nginx")
        t.ok(any(w == "COPY" and r.endswith(" /etc/nginx/nginx.conf")
                 and "docker/nginx.conf" in r for _, w, r in final["ins"]),
             "official: docker/nginx.conf becomes /etc/nginx/nginx.conf")
        t.ok(any(w == "COPY" and "ngx_http_bubble_module.so" in r
                 and r.split()[-1] == "/etc/nginx/modules/"
                 for _, w, r in final["ins"]),
             "official: the module goes to /etc/nginx/modules/ (the image's "
             "link to /usr/lib/nginx/modules, where nginx.conf loads it)")
        t.ok("nginx -t" in run_cmds(final),
             "official: the build fails when nginx refuses the config")
        user = last(final, "USER")
        t.ok(user and user.split(":")[0].isdigit()
             and user.split(":")[0] != "0",
             "official: USER %s, numeric and not root" % user)
        hc = last(final, "HEALTHCHECK") or ""
        t.ok("http://127.0.0.1:8080/healthz" in hc,
             "official: HEALTHCHECK curl /healthz")

    # -- the ingress-nginx init image ----------------------------------------
    res = check("conf/ingress-nginx/Dockerfile", False, min_stages=1)
    if res:
        stages, copies = res
        final = stages[-1]
        t.ok(not run_cmds(final), "the init image builds nothing: it "
             "carries make musl's artifact")
        t.ok(copies.get("/usr/local/bin/init_module.sh")
             == "conf/ingress-nginx/init_module.sh",
             "/usr/local/bin/init_module.sh (what the Helm chart runs) is "
             "conf/ingress-nginx/init_module.sh")
        want = {"/bubble/ngx_http_bubble_module.so": MUSL_ARTIFACT[0],
                "/bubble/fonts": MUSL_ARTIFACT[1],
                "/bubble/nginx-version": MUSL_ARTIFACT[2]}
        t.ok(all(copies.get(d) == s for d, s in want.items()),
             "the musl module, its fonts (fonts.conf) and nginx-version land "
             "in /bubble, init_module.sh's source",
             "copies: %s" % copies)
        user = last(final, "USER")
        t.ok(user and user not in ("0", "root"),
             "the init container runs as non-root (%s)" % user)

    # -- the build dependencies ----------------------------------------------
    check_build_deps()

    # -- the scripts ---------------------------------------------------------
    scripts = ["docker/build-module.sh", "docker/install-runtime.sh",
               "conf/ingress-nginx/init_module.sh",
               "tests/image/lib.sh", "tests/image/base-image.sh",
               "tests/image/build.sh", "tests/image/run.sh"]
    r = subprocess.run(["shellcheck"] + scripts, cwd=dl.ROOT,
                       capture_output=True, text=True)
    t.ok(r.returncode == 0, "shellcheck %s" % " ".join(scripts),
         r.stdout[-1500:])
    t.done()


if __name__ == "__main__":
    main()
