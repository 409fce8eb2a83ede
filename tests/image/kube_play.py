#!/usr/bin/env python3
"""conf/kubernetes/ run as pods by `podman kube play` (podman 4.3), with
the image tests/image/build.sh tagged ngx-bubble:dev.

    tests/image/kube_play.py

What is played: the ConfigMap and the Deployment, as they are, but for
three rewrites podman 4.3 forces, printed when the test runs:

  - the container's `ports` are dropped: podman 4.3 publishes every
    containerPort on the same port of the host (hostPort = containerPort),
    which a pod with its own network cannot have, and which on a shared
    machine would take its 8080;
  - the probes' named port (`port: http`) becomes its number: podman 4.3
    reads a named port as 0 (`curl http://localhost:0/healthz`);
  - the image is named localhost/ngx-bubble:dev (no registry).

The pods run with `--network none`: each has its own network namespace
with only a loopback, which this test enters (setns into the infra
container's namespace) to reach 127.0.0.1:8080 as the kubelet would reach
the pod's IP.  For every pod (the Deployment's 2 replicas):

  - the startup probe's GET passes within its failureThreshold x
    periodSeconds, the readiness probe's GET passes successThreshold
    times in a row at its period (podman 4.3 implements neither, so this
    test runs them), and the liveness probe passes as podman itself runs
    it: `podman healthcheck run` of the health check kube play made of it
    (its timer needs systemd, absent here, so the test triggers it);
  - the container has what the manifest asks: uid 10001 for every
    process, no capabilities, a seccomp filter, no-new-privileges, a
    read-only root, the
    ConfigMap's nginx.conf at /etc/bubble (read-only), /tmp writable, the
    1 GiB memory limit (in the cgroup and in the module's metrics);
  - nginx starts with [notice] lines only, and serves charts: every
    example as PNG, and one compact GET URL;
  - `podman pod stop -t 30` stops it gracefully (exit code 0).

What kube play cannot check stays with tests/deploy/check_manifests.py
(static): the Service, the HPA, the PDB, kustomization, the rolling
update strategy, the preStop hook, terminationGracePeriodSeconds, the
emptyDir's sizeLimit (podman 4.3 also gives the replicas one shared
emptyDir volume, where Kubernetes gives each pod its own), requests.

Prints "kube play: N passed, N failed" last.
"""

import json
import os
import sys
import time

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import imagelib as il  # noqa: E402

K8S = os.path.join(il.ROOT, "conf", "kubernetes")
IMAGE = "localhost/ngx-bubble:dev"
OUT = os.environ.get("IMG_OUT", os.path.join(il.ROOT, "build-img"))


def manifests():
    docs = []
    for f in ("configmap.yaml", "deployment.yaml"):
        with open(os.path.join(K8S, f)) as fh:
            docs += [d for d in yaml.safe_load_all(fh) if d]
    return docs


def rewrite(docs):
    """The three rewrites podman 4.3 needs; returns (docs, notes)."""
    notes = []
    for d in docs:
        if d.get("kind") != "Deployment":
            continue
        for c in d["spec"]["template"]["spec"]["containers"]:
            ports = {p.get("name"): p["containerPort"]
                     for p in c.pop("ports", [])}
            notes.append("container %s: ports %s dropped" % (c["name"],
                                                             ports))
            for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
                hg = (c.get(kind) or {}).get("httpGet")
                if hg and hg["port"] in ports:
                    notes.append("%s port %s -> %d" % (kind, hg["port"],
                                                       ports[hg["port"]]))
                    hg["port"] = ports[hg["port"]]
            notes.append("image %s -> %s" % (c["image"], IMAGE))
            c["image"] = IMAGE
    return docs, notes


def probe_get(probe, timeout=None):
    hg = probe["httpGet"]
    return il.request(hg["port"], "GET", hg["path"],
                      timeout=timeout or probe.get("timeoutSeconds", 1))


def run_probe(probe, need):
    """need consecutive successes at the probe's period, within its
    failureThreshold; (ok, seconds)."""
    period = probe.get("periodSeconds", 10)
    fails, ok, t0 = 0, 0, time.time()
    while fails < probe.get("failureThreshold", 3):
        st = probe_get(probe)[0]
        if 200 <= st < 400:
            ok += 1
            if ok >= need:
                return True, time.time() - t0
        else:
            ok = 0
            fails += 1
        time.sleep(period)
    return False, time.time() - t0


def check_pod(t, pod, spec, dep):
    c = spec["containers"][0]
    ctr = "%s-%s" % (pod, c["name"])
    infra = il.podman("pod", "inspect", "--format", "{{.InfraContainerID}}",
                      pod).stdout.strip()
    ipid = int(il.podman("inspect", "--format", "{{.State.Pid}}",
                         infra).stdout)
    ns = il.NetnsOf(ipid)
    try:
        ok, secs = run_probe(c["startupProbe"], 1)
        t.ok(ok, "%s: startupProbe GET %s passes (%.1f s)"
             % (pod, c["startupProbe"]["httpGet"]["path"], secs))
        ok, secs = run_probe(c["readinessProbe"],
                             c["readinessProbe"].get("successThreshold", 1))
        t.ok(ok, "%s: readinessProbe GET %s passes %d times in a row "
             "(%.1f s)" % (pod, c["readinessProbe"]["httpGet"]["path"],
                           c["readinessProbe"].get("successThreshold", 1),
                           secs))
        hc = json.loads(il.podman("inspect", "--format",
                                  "{{json .Config.Healthcheck}}",
                                  ctr).stdout or "null") or {}
        r = il.podman("healthcheck", "run", ctr, check=False)
        t.ok(r.returncode == 0 and hc.get("Test"),
             "%s: livenessProbe as podman runs it passes (%s)"
             % (pod, " ".join(hc.get("Test") or [])),
             (r.stdout + r.stderr)[-300:])

        info = json.loads(il.podman("inspect", ctr).stdout)[0]
        host = info["HostConfig"]
        limit = c["resources"]["limits"]["memory"]
        want_limit = 1024 ** 3 if limit == "1Gi" else None
        t.ok(host.get("ReadonlyRootfs") is True, "%s: read-only root" % pod)
        t.ok("no-new-privileges" in (host.get("SecurityOpt") or []),
             "%s: no-new-privileges (allowPrivilegeEscalation: false)" % pod)
        mounts = {m["Destination"]: m for m in info["Mounts"]}
        t.ok("/etc/bubble" in mounts and not mounts["/etc/bubble"]["RW"]
             and "/tmp" in mounts and mounts["/tmp"]["RW"],
             "%s: the ConfigMap at /etc/bubble read-only, /tmp writable"
             % pod, str({k: v["RW"] for k, v in mounts.items()}))
        cont = il.Container.__new__(il.Container)
        cont.name = ctr
        cg = il.Container.memcg(cont)
        cg_limit = int((il.cgroup_read(cg, "memory.limit_in_bytes")
                        or "0").strip())
        m = il.metrics(9145)
        t.ok(cg_limit == want_limit == m.get("bubble_cgroup_limit_bytes"),
             "%s: limits.memory %s is the cgroup's limit %d and the "
             "module's" % (pod, limit, cg_limit))
        procs = il.Container.pids(cont)
        uid = str(spec["securityContext"]["runAsUser"])
        bad = [p for p in procs
               if set(il.proc_status(p).get("Uid", "").split()) != {uid}
               or int(il.proc_status(p).get("CapEff", "1"), 16) != 0
               or il.proc_status(p).get("Seccomp") != "2"]
        t.ok(procs and not bad, "%s: all %d processes run as uid %s with no "
             "capabilities, under a seccomp filter (RuntimeDefault)"
             % (pod, len(procs), uid), str(bad))
        bad = il.start_lines_ok(il.podman("logs", ctr).stderr
                                + il.podman("logs", ctr).stdout)
        t.ok(not bad, "%s: no error or warning at start" % pod,
             "; ".join(bad[:5]))

        served = 0
        for path in il.examples():
            with open(path, "rb") as fh:
                body = fh.read()
            st, _, b = il.request(8080, "POST", "/chart.png", body)
            if st == 200 and il.png_info(b) == il.spec_size(json.loads(body)):
                served += 1
        t.ok(served == len(il.examples()), "%s: serves every example as PNG "
             "(%d of %d)" % (pod, served, len(il.examples())))
        with open(os.path.join(il.ROOT, "examples",
                               "gapminder-log10.json")) as fh:
            spec_json = json.load(fh)
        st, h, b = il.request(8080, "GET", il.compact_url(spec_json, "svg"))
        t.ok(st == 200 and il.svg_ok(b), "%s: a compact GET URL as SVG" % pod)
    finally:
        ns.remove()


def main():
    t = il.Checks("kube play")
    docs, notes = rewrite(manifests())
    dep = [d for d in docs if d["kind"] == "Deployment"][0]
    spec = dep["spec"]["template"]["spec"]
    for n in notes:
        il.log("# rewrite: " + n)
    os.makedirs(os.path.join(OUT, "kube"), exist_ok=True)
    play = os.path.join(OUT, "kube", "play.yaml")
    with open(play, "w") as fh:
        yaml.safe_dump_all(docs, fh, sort_keys=False)
    t0 = time.time()

    def down():
        il.podman("kube", "down", play, check=False)
        for v in [v["name"] for v in spec.get("volumes", [])] + [
                d["metadata"]["name"] for d in docs if d["kind"] == "ConfigMap"]:
            il.podman("volume", "rm", "-f", v, check=False)

    try:
        down()
        il.at_exit(down)
        r = il.podman("kube", "play", "--network", "none", play, check=False)
        if not t.ok(r.returncode == 0, "podman kube play conf/kubernetes/ "
                    "(ConfigMap, Deployment)", r.stderr[-800:]):
            return t.done()
        pods = sorted(l.split()[1] for l in il.podman(
            "pod", "ps", "--format", "{{.Id}} {{.Name}}").stdout.splitlines()
            if l.split()[1].startswith(dep["metadata"]["name"] + "-pod-"))
        t.ok(len(pods) == dep["spec"]["replicas"], "%d pods for replicas: %d "
             "(%s)" % (len(pods), dep["spec"]["replicas"], " ".join(pods)))
        for pod in pods:
            check_pod(t, pod, spec, dep)
        grace = spec.get("terminationGracePeriodSeconds", 30)
        for pod in pods:
            t1 = time.time()
            il.podman("pod", "stop", "-t", str(grace), pod, timeout=grace + 30)
            took = time.time() - t1
            ctr = "%s-%s" % (pod, spec["containers"][0]["name"])
            code = il.podman("inspect", "--format", "{{.State.ExitCode}}",
                             ctr).stdout.strip()
            logs = il.podman("logs", ctr).stderr
            t.ok(code == "0" and took < grace and "gracefully shutting down"
                 in logs, "%s: podman pod stop -t %d: graceful, exit code %s "
                 "in %.1f s" % (pod, grace, code, took))
    except Exception as e:
        t.ok(False, "kube play checks ran to the end", repr(e))
    finally:
        il.cleanup()
    il.log("# kube play took %.1f s" % (time.time() - t0))
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
