#!/usr/bin/env python3
"""Every Kubernetes manifest in conf/kubernetes/ parses and says what
matters: the ConfigMap's nginx.conf is docker/nginx.conf, names only the
module's real directives and variables and passes `nginx -t` with the
built module; the probes hit locations of that config on the port it
listens on; the memory limit that `bubble_memory_limit auto` reads is set;
names, labels and image agree across the files, the Dockerfile and the
README.

    BUBBLE_MODULE=.../ngx_http_bubble_module.so tests/deploy/check_manifests.py
    tests/deploy/check_manifests.py --write-configmap   (regenerate it)
"""

import glob
import os
import re
import sys

import yaml

sys.path.insert(0, os.path.dirname(__file__))
import deploylib as dl  # noqa: E402

K8S = os.path.join(dl.ROOT, "conf", "kubernetes")
CONF = os.path.join(dl.ROOT, "docker", "nginx.conf")

UNITS = {"": 1, "k": 1000, "M": 1000**2, "G": 1000**3, "T": 1000**4,
         "Ki": 1024, "Mi": 1024**2, "Gi": 1024**3, "Ti": 1024**4}


def quantity(q):
    """A Kubernetes memory quantity in bytes ('512Mi', '1G', '1e9')."""
    m = re.fullmatch(r"([0-9.]+(?:e[0-9]+)?)([KMGT]i?|k)?", str(q))
    if not m:
        raise ValueError("bad quantity %r" % q)
    return float(m.group(1)) * UNITS[m.group(2) or ""]


def write_configmap():
    path = os.path.join(K8S, "configmap.yaml")
    with open(path) as fh:
        head = fh.read().split("  nginx.conf: |\n")[0]
    with open(CONF) as fh:
        conf = fh.read()
    body = "".join(("    " + l if l else "") + "\n" for l in conf.splitlines())
    with open(path, "w") as fh:
        fh.write(head + "  nginx.conf: |\n" + body)
    print("wrote", path)


def main():
    if "--write-configmap" in sys.argv:
        write_configmap()
        return

    t = dl.Checks("deploy manifests")

    # -- every file parses; the kinds we promise exist, once each
    docs = {}
    files = sorted(glob.glob(os.path.join(K8S, "*.yaml")))
    t.ok(files, "conf/kubernetes has manifests")
    kustomization = None
    for f in files:
        name = os.path.basename(f)
        try:
            with open(f) as fh:
                parsed = [d for d in yaml.safe_load_all(fh) if d is not None]
        except yaml.YAMLError as e:
            t.ok(False, "%s parses" % name, str(e))
            continue
        t.ok(parsed, "%s parses (%d document(s))" % (name, len(parsed)))
        for d in parsed:
            if d.get("kind") == "Kustomization":
                kustomization = (name, d)
                continue
            good = (isinstance(d, dict) and d.get("apiVersion")
                    and d.get("kind") and d.get("metadata", {}).get("name"))
            t.ok(good, "%s: %s has apiVersion, kind, metadata.name"
                 % (name, d.get("kind")))
            if good:
                t.ok(d["kind"] not in docs, "%s: one %s" % (name, d["kind"]))
                docs[d["kind"]] = (name, d)

    for kind, api in (("Deployment", "apps/v1"), ("Service", "v1"),
                      ("HorizontalPodAutoscaler", "autoscaling/v2"),
                      ("PodDisruptionBudget", "policy/v1"),
                      ("ConfigMap", "v1")):
        t.ok(kind in docs and docs[kind][1]["apiVersion"] == api,
             "%s %s present" % (api, kind))
    if not all(k in docs for k in ("Deployment", "Service", "ConfigMap",
                                   "HorizontalPodAutoscaler",
                                   "PodDisruptionBudget")):
        t.done()

    if t.ok(kustomization, "kustomization.yaml present"):
        listed = set(kustomization[1].get("resources", []))
        others = {os.path.basename(f) for f in files} - {kustomization[0]}
        t.ok(listed == others, "kustomization lists every manifest",
             "listed %s, files %s" % (sorted(listed), sorted(others)))

    dep = docs["Deployment"][1]
    cm = docs["ConfigMap"][1]
    svc = docs["Service"][1]
    hpa = docs["HorizontalPodAutoscaler"][1]
    pdb = docs["PodDisruptionBudget"][1]
    pod = dep["spec"]["template"]["spec"]
    labels = dep["spec"]["template"]["metadata"]["labels"]
    containers = pod["containers"]
    t.ok(len(containers) == 1, "one container")
    c = containers[0]

    # -- the ConfigMap's nginx.conf: the image's, the module's words, valid
    conf_text = cm["data"].get("nginx.conf", "")
    with open(CONF) as fh:
        t.ok(conf_text == fh.read(),
             "ConfigMap nginx.conf is docker/nginx.conf",
             "run tests/deploy/check_manifests.py --write-configmap")
    tree = dl.parse(conf_text)
    directives = dl.module_directives()
    t.ok(len(directives) >= 10, "read %d directives from the module's "
         "ngx_command_t tables" % len(directives))
    used = {d.name for d in dl.walk(tree) if d.name.startswith("bubble")}
    t.ok(used and used <= directives, "nginx.conf uses only real module "
         "directives (%s)" % ", ".join(sorted(used)),
         "not in ngx_bubble_module/*.c: %s" % ", ".join(sorted(used - directives)))
    for need in ("bubble", "bubble_zone", "bubble_memory_limit",
                 "bubble_ready", "bubble_status"):
        t.ok(need in used, "nginx.conf uses %s" % need)
    mem = [d for d in dl.walk(tree) if d.name == "bubble_memory_limit"]
    t.ok(mem and mem[0].args[0] == "auto",
         "bubble_memory_limit auto (reads the container's limit)")
    bvars = {v for v in dl.variables(tree) if v.startswith("bubble_")}
    mvars = dl.module_variables()
    t.ok(bvars <= mvars, "nginx.conf uses only real module variables (%s)"
         % ", ".join(sorted(bvars)),
         "not in the module's variable tables: %s"
         % ", ".join(sorted(bvars - mvars)))

    module = dl.module_path()
    if t.ok(os.path.exists(module), "built module at %s" % module,
            "run make build or set BUBBLE_MODULE"):
        ok, out = dl.nginx_test(conf_text, module)
        t.ok(ok, "nginx -t accepts the ConfigMap's nginx.conf with the "
             "built module", out)

    # -- the container runs that file, on the ports and paths it names
    args = c.get("args") or c.get("command") or []
    conf_path = args[args.index("-c") + 1] if "-c" in args else None
    mounts = {m["mountPath"]: m for m in c.get("volumeMounts", [])}
    vols = {v["name"]: v for v in pod.get("volumes", [])}
    cfg_mount = [m for p, m in mounts.items()
                 if conf_path and conf_path == p.rstrip("/") + "/nginx.conf"]
    t.ok(cfg_mount, "nginx -c %s is in a mounted directory" % conf_path)
    if cfg_mount:
        v = vols.get(cfg_mount[0]["name"], {})
        t.ok(v.get("configMap", {}).get("name") == cm["metadata"]["name"],
             "that mount is the ConfigMap %s" % cm["metadata"]["name"])

    with open(os.path.join(dl.ROOT, "Dockerfile")) as fh:
        dockerfile = fh.read()
    cmd = re.search(r"^CMD\s+(\[.*\])\s*$", dockerfile, re.M)
    t.ok(cmd and yaml.safe_load(cmd.group(1)) == args,
         "container args are the Dockerfile's CMD", cmd and cmd.group(1))
    t.ok(re.search(r"^COPY docker/nginx.conf %s$" % re.escape(conf_path or "?"),
                   dockerfile, re.M),
         "the image's default config is docker/nginx.conf at %s" % conf_path)

    ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
    srv = dl.servers(tree)
    listening = {p for ps, _ in srv for p in ps}
    t.ok(set(ports.values()) == listening,
         "containerPorts %s are nginx's listen ports %s"
         % (sorted(ports.values()), sorted(listening)))

    def probe(kind, directive):
        p = c.get(kind, {}).get("httpGet")
        if not t.ok(p, "%s is an httpGet probe" % kind):
            return
        port = ports.get(p["port"], p["port"])
        servers = [s for ps, s in srv if port in ps]
        if not t.ok(servers, "%s port %s is a server of nginx.conf"
                    % (kind, p["port"])):
            return
        loc = dl.location(servers[0], p["path"])
        t.ok(loc is not None, "%s path %s has a location" % (kind, p["path"]))
        if loc is not None and directive:
            names = {d.name for d in loc.block}
            t.ok(directive in names, "%s %s is served by %s"
                 % (kind, p["path"], directive), "location has %s" % names)
        return loc

    probe("readinessProbe", "bubble_ready")
    live = probe("livenessProbe", None)
    if live is not None:
        t.ok(not any(d.name.startswith("bubble") for d in live.block),
             "liveness does not depend on memory pressure (no bubble_*)")
    if "startupProbe" in c:
        probe("startupProbe", None)

    # -- resources: the limit auto reads, requests at most the limit
    res = c.get("resources", {})
    lim = res.get("limits", {}).get("memory")
    req = res.get("requests", {}).get("memory")
    t.ok(lim, "resources.limits.memory is set (%s)" % lim)
    t.ok(req and res.get("requests", {}).get("cpu"),
         "requests of memory and cpu are set")
    if lim and req:
        t.ok(quantity(req) <= quantity(lim), "requests.memory <= limits.memory")
        t.ok(quantity(lim) >= 256 * 1024**2,
             "limit leaves room for renders (>= 256Mi)")

    # -- non-root, read-only root fs, and somewhere to write
    psc = pod.get("securityContext", {})
    csc = c.get("securityContext", {})
    t.ok(psc.get("runAsNonRoot") is True and psc.get("runAsUser", 0) != 0,
         "pod runs as non-root uid %s" % psc.get("runAsUser"))
    t.ok(re.search(r"^USER %s(:|$)" % psc.get("runAsUser"), dockerfile, re.M),
         "the image's USER is the pod's runAsUser")
    t.ok(csc.get("readOnlyRootFilesystem") is True,
         "readOnlyRootFilesystem: true")
    t.ok(csc.get("allowPrivilegeEscalation") is False
         and "ALL" in csc.get("capabilities", {}).get("drop", []),
         "no privilege escalation, all capabilities dropped")
    writable = [p for p, m in mounts.items()
                if "emptyDir" in vols.get(m["name"], {})]
    t.ok(writable, "an emptyDir is mounted (%s)" % writable)
    written = []
    for d in dl.walk(tree):
        if d.name == "pid" or d.name.endswith("_temp_path"):
            written.append(d.args[0])
    t.ok(written and all(any(w.startswith(p.rstrip("/") + "/") for p in writable)
                         for w in written),
         "every path nginx writes (%d) is on an emptyDir" % len(written),
         str(written))
    for v in vols.values():
        if "emptyDir" in v:
            t.ok(v["emptyDir"].get("medium") != "Memory",
                 "emptyDir %s is not tmpfs (it would count against the "
                 "memory limit)" % v["name"])

    # -- names, selectors and image agree
    sel = dep["spec"]["selector"]["matchLabels"]
    t.ok(all(labels.get(k) == v for k, v in sel.items()),
         "Deployment selector matches its pod labels")
    t.ok(svc["spec"]["selector"] == sel, "Service selects the pods")
    t.ok(pdb["spec"]["selector"]["matchLabels"] == sel, "PDB selects the pods")
    tp = svc["spec"]["ports"][0]["targetPort"]
    t.ok(tp in ports or tp in ports.values(),
         "Service targetPort %s is a container port" % tp)
    t.ok(ports.get("metrics") not in [p.get("targetPort") for p in
                                      svc["spec"]["ports"]]
         and "metrics" not in [p.get("targetPort") for p in svc["spec"]["ports"]],
         "Service does not expose the metrics port")
    ref = hpa["spec"]["scaleTargetRef"]
    t.ok(ref["kind"] == "Deployment" and ref["name"] == dep["metadata"]["name"],
         "HPA scales the Deployment")
    t.ok(hpa["spec"]["minReplicas"] >= 2
         and pdb["spec"].get("minAvailable", 0) < hpa["spec"]["minReplicas"],
         "PDB minAvailable leaves a pod drainable at HPA minReplicas")
    t.ok(any(m.get("resource", {}).get("name") == "cpu"
             for m in hpa["spec"].get("metrics", [])),
         "HPA scales on CPU (the requests it divides by are set)")
    ann = dep["spec"]["template"]["metadata"].get("annotations", {})
    t.ok(str(ann.get("prometheus.io/port")) == str(ports.get("metrics")),
         "scrape annotation names the metrics port")
    mport = ports.get("metrics")
    msrv = [s for ps, s in srv if mport in ps]
    t.ok(msrv and dl.location(msrv[0], ann.get("prometheus.io/path", "")) is not None
         and "bubble_status" in {d.name for d in
                                 dl.location(msrv[0], ann["prometheus.io/path"]).block},
         "scrape path %s is bubble_status" % ann.get("prometheus.io/path"))

    image = c["image"]
    repo = image.rsplit(":", 1)[0]
    with open(os.path.join(dl.ROOT, "README.md")) as fh:
        readme = fh.read()
    t.ok(re.search(r"docker build -t %s\b" % re.escape(image), readme),
         "README builds the image the Deployment runs (%s)" % image)
    t.ok(re.search(r"docker build -t %s\b" % re.escape(image), dockerfile),
         "Dockerfile's header builds %s" % image)
    if kustomization:
        names = [i.get("name") for i in kustomization[1].get("images", [])]
        t.ok(not names or repo in names,
             "kustomization images name %s" % repo)

    check_ingress_nginx(t, directives)
    t.done()


def check_ingress_nginx(t, directives):
    """conf/ingress-nginx: Helm values and the plain ConfigMap agree, the
    snippets name real directives and the paths the init image fills."""
    d = os.path.join(dl.ROOT, "conf", "ingress-nginx")
    with open(os.path.join(d, "values.yaml")) as fh:
        values = yaml.safe_load(fh)
    with open(os.path.join(d, "configmap.yaml")) as fh:
        cm = yaml.safe_load(fh)
    with open(os.path.join(d, "ingress.yaml")) as fh:
        ing = yaml.safe_load(fh)
    ctl = values["controller"]
    cfg = ctl["config"]
    t.ok(cfg == cm["data"], "ingress-nginx: Helm controller.config equals "
         "the plain ConfigMap's data")
    t.ok(ctl.get("allowSnippetAnnotations") is True
         and cfg.get("allow-snippet-annotations") == "true",
         "ingress-nginx: snippet annotations allowed")
    t.ok(cfg.get("annotations-risk-level") == "Critical",
         "ingress-nginx: annotations-risk-level Critical (v1.12+ for snippets)")
    main = dl.parse(cfg["main-snippet"])
    t.ok(main and main[0].name == "load_module",
         "ingress-nginx: main-snippet starts with load_module")
    so = main[0].args[0] if main else ""
    t.ok(so == "/modules_mount/bubble/ngx_http_bubble_module.so",
         "ingress-nginx: it loads the module from the modules emptyDir "
         "(%s)" % so)
    with open(os.path.join(d, "init_module.sh")) as fh:
        init = fh.read()
    t.ok('DEST="${MODULES_MOUNT:-/modules_mount}"' in init
         and 'cp -R "$SRC" "$DEST/bubble"' in init,
         "ingress-nginx: init_module.sh copies the bundle to /modules_mount/bubble")
    env = [x for x in main if x.name == "env"]
    t.ok(env and env[0].args[0] ==
         "FONTCONFIG_FILE=/modules_mount/bubble/fonts/fonts.conf",
         "ingress-nginx: env FONTCONFIG_FILE points at the bundle's fonts.conf")
    snippet = ing["metadata"]["annotations"].get(
        "nginx.ingress.kubernetes.io/server-snippet", "")
    tree = dl.parse(cfg["main-snippet"] + cfg["http-snippet"] + snippet)
    used = {x.name for x in dl.walk(tree) if x.name.startswith("bubble")}
    t.ok(used and used <= directives, "ingress-nginx: snippets use only real "
         "directives (%s)" % ", ".join(sorted(used)),
         "unknown: %s" % (used - directives))
    pools = {x.args[0] for x in main if x.name == "thread_pool"}
    tp = [x.args[0] for x in dl.walk(tree) if x.name == "bubble_thread_pool"]
    t.ok(all(p in pools for p in tp), "ingress-nginx: bubble_thread_pool "
         "names a thread_pool of main-snippet")
    locs = [x for x in dl.walk(tree) if x.name == "location"]
    t.ok(any(x.args[-1] == "/chart" and any(y.name == "bubble" for y in x.block)
             for x in locs), "ingress-nginx: the Ingress routes /chart to bubble")
    mods = ctl.get("extraModules", [])
    t.ok(mods and mods[0]["image"].get("image") and mods[0]["image"].get("tag")
         == ctl["image"]["tag"],
         "ingress-nginx: extraModules image tag is the controller's tag")
    t.ok(ctl.get("resources", {}).get("limits", {}).get("memory"),
         "ingress-nginx: the controller has a memory limit for auto to read")


if __name__ == "__main__":
    main()
