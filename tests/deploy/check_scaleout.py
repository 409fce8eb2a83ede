#!/usr/bin/env python3
"""Static checks of the scale-out pieces (docs/deploy.md, "Scale-out"),
what `make image-test` cannot run without a cluster:

 - the HPA on custom metrics (conf/kubernetes/custom-metrics/): a
   kustomize overlay of conf/kubernetes/ patching its HPA, whose Pods
   metrics are the names prometheus-adapter's rules serve
   (prometheus-adapter-values.yaml), built on series the module's status
   handler emits and refusal reasons it counts; each rule's metricsQuery,
   with the adapter's placeholders filled in, evaluated by `promtool test
   rules` on sample series (a pod holding 400 of 800 MiB reads 0.5; one
   refusing 60 renders a minute for memory reads 1/s, bad input none);
 - the router (tests/image/router.conf, which tests/image/scale_out.py
   runs): hash $request_uri consistent, retries on error and timeout only,
   `nginx -t` accepts it, and docs/deploy.md shows its upstream block
   as it is.

    tests/deploy/check_scaleout.py
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

sys.path.insert(0, os.path.dirname(__file__))
import deploylib as dl  # noqa: E402

K8S = os.path.join(dl.ROOT, "conf", "kubernetes")
CM = os.path.join(K8S, "custom-metrics")
ROUTER = os.path.join(dl.ROOT, "tests", "image", "router.conf")
DOC = os.path.join(dl.ROOT, "docs", "deploy.md")

t = dl.Checks("deploy scale-out")


def load(path):
    with open(path) as fh:
        return [d for d in yaml.safe_load_all(fh) if d is not None]


def status_metrics():
    """Series names the module's status handler writes."""
    names = set()
    for f in os.listdir(dl.MODULE_DIR):
        if f.endswith(".c"):
            with open(os.path.join(dl.MODULE_DIR, f)) as fh:
                names.update(re.findall(r'"(bubble_[a-z_]+)[ {"]', fh.read()))
    return names


def refusal_reasons():
    with open(os.path.join(dl.MODULE_DIR, "ngx_http_bubble_metrics.c")) as fh:
        src = fh.read()
    m = re.search(r'"memory",\s*"working_set"[^}]*', src)
    return set(re.findall(r'"(\w+)"', m.group(0))) if m else set()


def fill(query):
    """The adapter's template, as it runs for the pods of a namespace."""
    return (query.replace("<<.LabelMatchers>>",
                          'namespace="default",pod=~"ngx-bubble-.*"')
            .replace("<<.GroupBy>>", "pod").strip())


PROMTOOL_TEST = """
rule_files: [rules.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'bubble_memory_reserved_bytes{namespace="default",pod="ngx-bubble-a"}'
        values: '419430400x10'
      - series: 'bubble_memory_budget_bytes{namespace="default",pod="ngx-bubble-a"}'
        values: '838860800x10'
      - series: 'bubble_memory_reserved_bytes{namespace="default",pod="ngx-bubble-b"}'
        values: '0x10'
      - series: 'bubble_memory_budget_bytes{namespace="default",pod="ngx-bubble-b"}'
        values: '838860800x10'
      - series: 'bubble_refusals_total{namespace="default",pod="ngx-bubble-a",reason="memory"}'
        values: '0+60x10'
      - series: 'bubble_refusals_total{namespace="default",pod="ngx-bubble-b",reason="bad_input"}'
        values: '0+60x10'
      - series: 'bubble_refusals_total{namespace="other",pod="ngx-bubble-c",reason="queue"}'
        values: '0+60x10'
    promql_expr_test:
      - expr: bubble_memory_reserved_ratio
        eval_time: 5m
        exp_samples:
          - labels: 'bubble_memory_reserved_ratio{pod="ngx-bubble-a"}'
            value: 0.5
          - labels: 'bubble_memory_reserved_ratio{pod="ngx-bubble-b"}'
            value: 0
      - expr: bubble_refusals_per_second
        eval_time: 5m
        exp_samples:
          - labels: 'bubble_refusals_per_second{pod="ngx-bubble-a"}'
            value: 1
"""


def check_custom_metrics():
    kust = load(os.path.join(CM, "kustomization.yaml"))[0]
    t.ok(kust.get("resources") == ["../"],
         "custom-metrics: an overlay of conf/kubernetes/ (resources: ../)")
    patches = [p["path"] for p in kust.get("patches", [])]
    t.ok(patches and all(os.path.exists(os.path.join(CM, p))
                         for p in patches),
         "custom-metrics: its patches exist (%s)" % patches)
    base_hpa = load(os.path.join(K8S, "hpa.yaml"))[0]
    base_dep = load(os.path.join(K8S, "deployment.yaml"))[0]
    base_pdb = load(os.path.join(K8S, "pdb.yaml"))[0]
    patch = load(os.path.join(CM, "hpa-patch.yaml"))[0]
    t.ok(patch["kind"] == "HorizontalPodAutoscaler"
         and patch["apiVersion"] == "autoscaling/v2"
         and patch["metadata"]["name"] == base_hpa["metadata"]["name"],
         "custom-metrics: hpa-patch.yaml patches the HPA %s"
         % base_hpa["metadata"]["name"])
    ref = base_hpa["spec"]["scaleTargetRef"]
    t.ok(ref["name"] == base_dep["metadata"]["name"]
         and "scaleTargetRef" not in patch["spec"],
         "custom-metrics: it scales the Deployment %s (the base's target)"
         % ref["name"])
    spec = patch["spec"]
    t.ok(spec["minReplicas"] >= 2
         and base_pdb["spec"]["minAvailable"] < spec["minReplicas"]
         <= spec["maxReplicas"],
         "custom-metrics: minReplicas %d > PDB minAvailable %d, <= max %d"
         % (spec["minReplicas"], base_pdb["spec"]["minAvailable"],
            spec["maxReplicas"]))
    mets = spec["metrics"]
    t.ok(any(m.get("resource", {}).get("name") == "cpu" for m in mets),
         "custom-metrics: still scales on CPU too (the patch replaces the "
         "list)")
    pods = {m["pods"]["metric"]["name"]: m["pods"]["target"]
            for m in mets if m["type"] == "Pods"}
    t.ok(len(pods) >= 2, "custom-metrics: Pods metrics %s" % sorted(pods))

    values = load(os.path.join(CM, "prometheus-adapter-values.yaml"))[0]
    rules = values["rules"]["custom"]
    served = {r["name"]["as"]: r for r in rules}
    t.ok(set(pods) <= set(served), "custom-metrics: every HPA metric is a "
         "rule's name.as in prometheus-adapter-values.yaml",
         "missing: %s" % (set(pods) - set(served)))
    for name, target in pods.items():
        t.ok(target.get("type") == "AverageValue"
             and target.get("averageValue"),
             "custom-metrics: %s targets an AverageValue (%s)"
             % (name, target.get("averageValue")))
    emitted = status_metrics()
    reasons = refusal_reasons()
    t.ok({"bubble_memory_reserved_bytes", "bubble_memory_budget_bytes",
          "bubble_refusals_total"} <= emitted,
         "the module emits the series the rules read")
    for r in rules:
        series = re.match(r"\s*(\w+)", r["seriesQuery"]).group(1)
        used = set(re.findall(r"\b(bubble_[a-z_]+)\{", r["metricsQuery"]))
        t.ok(series in emitted and used <= emitted,
             "rule %s: %s and %s are series of the module"
             % (r["name"]["as"], series, sorted(used)),
             "unknown: %s" % (({series} | used) - emitted))
        ov = r["resources"]["overrides"]
        t.ok(ov.get("namespace", {}).get("resource") == "namespace"
             and ov.get("pod", {}).get("resource") == "pod",
             "rule %s: namespace and pod labels map to their resources"
             % r["name"]["as"])
        t.ok("<<.LabelMatchers>>" in r["metricsQuery"]
             and "<<.GroupBy>>" in r["metricsQuery"],
             "rule %s: metricsQuery uses the adapter's LabelMatchers and "
             "GroupBy" % r["name"]["as"])
        for rs in re.findall(r'reason=~"([^"]+)"', r["metricsQuery"]):
            t.ok(set(rs.split("|")) <= reasons, "rule %s: reasons %s are "
                 "the module's (%s)" % (r["name"]["as"], rs,
                                        ", ".join(sorted(reasons))))

    promtool = shutil.which("promtool")
    if not t.ok(promtool, "promtool is installed (make deps: prometheus)"):
        return
    with tempfile.TemporaryDirectory(prefix="bubble-adapter-") as tmp:
        group = {"groups": [{"name": "adapter", "rules": [
            {"record": r["name"]["as"], "expr": fill(r["metricsQuery"])}
            for r in rules]}]}
        with open(os.path.join(tmp, "rules.yml"), "w") as fh:
            yaml.safe_dump(group, fh)
        with open(os.path.join(tmp, "test.yml"), "w") as fh:
            fh.write(PROMTOOL_TEST)
        r = subprocess.run([promtool, "check", "rules", "rules.yml"],
                           cwd=tmp, capture_output=True, text=True)
        t.ok(r.returncode == 0, "promtool check rules: the adapter's "
             "queries parse as PromQL", r.stdout + r.stderr)
        r = subprocess.run([promtool, "test", "rules", "test.yml"],
                           cwd=tmp, capture_output=True, text=True)
        t.ok(r.returncode == 0, "promtool test rules: 400 of 800 MiB reads "
             "0.5, 60 memory refusals a minute read 1/s, bad input and "
             "other namespaces none", (r.stdout + r.stderr)[-1500:])


def upstream_block(text):
    m = re.search(r"^( *)upstream bubble \{\n.*?^\1\}\n", text, re.S | re.M)
    if not m:
        return None
    lines = m.group(0).splitlines()
    indent = len(m.group(1))
    return "\n".join(l[indent:] for l in lines)


def check_router():
    with open(ROUTER) as fh:
        text = fh.read()
    tree = dl.parse(text)
    ups = [d for d in dl.walk(tree) if d.name == "upstream"
           and d.args == ["bubble"]]
    if not t.ok(ups, "router.conf has upstream bubble"):
        return
    up = ups[0]
    h = [d for d in up.block if d.name == "hash"]
    t.ok(h and h[0].args == ["$request_uri", "consistent"],
         "router: hash $request_uri consistent")
    servers = [d for d in up.block if d.name == "server"]
    t.ok(len(servers) == 3, "router: three replicas")
    loc = [d for d in dl.walk(tree) if d.name == "location"
           and d.args == ["/chart"]]
    nu = [d for d in dl.walk(loc[0].block if loc else [])
          if d.name == "proxy_next_upstream"]
    t.ok(nu and set(nu[0].args) == {"error", "timeout"},
         "router: proxy_next_upstream error timeout (a replica's 503 goes "
         "to the client; no non_idempotent)")
    t.ok(any(d.name == "proxy_pass" and d.args == ["http://bubble"]
             for d in dl.walk(loc[0].block if loc else [])),
         "router: /chart goes to the upstream")
    ok, out = dl.nginx_test(text, dl.module_path())
    t.ok(ok, "nginx -t accepts router.conf", out)
    with open(DOC) as fh:
        doc = fh.read()
    block = upstream_block(text)
    t.ok(block and block in doc, "docs/deploy.md shows router.conf's "
         "upstream block as it is", block)


def main():
    check_custom_metrics()
    check_router()
    t.done()


if __name__ == "__main__":
    main()
