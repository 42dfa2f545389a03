#!/usr/bin/env python3
"""Runs the inputs of istio's Gateway API controller tests through `meshlint gateways` and
compares the status meshlint predicts with the status istiod writes, condition by condition.

istio keeps, beside each input `pilot/pkg/config/kube/gateway/testdata/NAME.yaml`, the status
its controller writes for it (`NAME.status.yaml.golden`). Both are read at run time from a
bare git mirror of istio/istio; nothing of them is copied into this repository.

The test harness (`TestConvertResources` and `readConfig` in `conversion_test.go`, read from the
same mirror) adds objects to every case; they are written to a temporary file and passed to
meshlint with the input:
  - a Service (ports 80, 34000, 34001) for each mocked service whose host ends in the domain
    suffix `domain.suffix`, named by its `Name` or the host's first label;
  - a ServiceEntry for each other mocked service with a literal host (`example.com`,
    `google.com`, ...): istiod's `LookupHostname` finds them in its registry. Mocked services
    whose host is computed (InferencePool shadow Services) are left out;
  - the Secrets and ConfigMaps of `objects` (certificates for listeners);
  - a Namespace, labelled `istio.io/test-name-part`, for each namespace of the input.
The harness turns on alpha Gateway API kinds (TCPRoute, TLSRoute, ListenerSet, XBackend),
ambient waypoints and the InferencePool extension; meshlint needs no switch for those.

Compared, per object istiod writes status for (parents of its controllers
`istio.io/gateway-controller` and `istio.io/mesh-controller` only):
  route parent Accepted and ResolvedRefs    status and reason
  listener attachedRoutes                   the number
  listener Accepted, Conflicted, ResolvedRefs, Programmed    status and reason
  Gateway Accepted                          status and reason
Every other condition of the goldens, and every one meshlint makes no prediction for, is counted
as undecidable with its reason (which fact meshlint cannot know offline, or which feature it
does not model); `-v` lists each. A case whose input meshlint rejects counts all its
conditions as undecidable.

Usage: istio-gateway-status.py [--git-dir DIR] [--bin PATH] [-v]
"""
import argparse
import base64
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict

try:
    import yaml
except ImportError:
    sys.exit("istio-gateway-status.py needs PyYAML (python3-yaml) to read the goldens")

TESTDATA = "pilot/pkg/config/kube/gateway/testdata/"
HARNESS = "pilot/pkg/config/kube/gateway/conversion_test.go"
CONTROLLERS = ("istio.io/gateway-controller", "istio.io/mesh-controller")
ROUTE_KINDS = ("HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute")
COMPARED_LISTENER = ("Accepted", "Conflicted", "ResolvedRefs", "Programmed")
DOMAIN_SUFFIX = "domain.suffix"

CLASS_REASONS = {
    "istio-east-west": "class istio-east-west: built in only with AMBIENT_ENABLE_MULTI_NETWORK "
                       "(the harness turns it on); the east-west controller is not modelled",
    "istio-remote": "class istio-remote: another cluster's gateway, whose status istiod "
                    "writes without converting it (reportUnmanagedGatewayStatus); not predicted",
}

# Backend kinds istiod resolves only behind a feature flag the harness turns on.
FEATURE_BACKENDS = {
    "InferencePool": "ENABLE_GATEWAY_API_INFERENCE_EXTENSION",
    "XBackend": "PILOT_ENABLE_ALPHA_GATEWAY_API",
}

# Conditions meshlint does not predict, with what it would need to.
NOT_PREDICTED = {
    ("Gateway", "Programmed"): "needs the Service istiod generates or binds to and its address "
                               "(cluster state)",
    ("Gateway", "ResolvedRefs"): "decided by spec.tls.backend.clientCertificateRef (not modelled)",
    ("Gateway", "AttachedListenerSets"): "ListenerSet not modelled",
}


def git(git_dir, *args):
    return subprocess.run(["git", "--git-dir", git_dir, *args], check=True,
                          capture_output=True, text=True).stdout


def block(go, start):
    """The text of the brace block opening at or after `start`."""
    i = go.index("{", start)
    depth, j = 0, i
    while True:
        depth += {"{": 1, "}": -1}.get(go[j], 0)
        j += 1
        if depth == 0:
            return go[i + 1:j - 1]


def entries(body):
    """Top-level `{...}` entries of a Go composite literal body."""
    out, depth, start = [], 0, None
    for i, ch in enumerate(body):
        if ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                out.append(body[start:i + 1])
    return out


def port_list(body):
    return [int(p) for p in re.findall(r"Port:\s*(\d+)", body)]


def harness_objects(go):
    """The mocked services and extra objects of `conversion_test.go`, as manifests."""
    ports = port_list(block(go, go.index("var ports = ")))
    svc_ports = port_list(block(go, go.index("var svcPorts = ")))
    strings = dict(re.findall(r"(\w+PEM) = `([^`]*)`", go))
    services, entries_out = [], []
    for e in entries(block(go, go.index("var services = "))):
        host = re.search(r'Hostname:\s*"([^"]+)"', e)
        ns = re.search(r'Namespace:\s*"([^"]+)"', e)
        if not host or not ns:
            continue  # a computed host (InferencePool shadow Service)
        host, ns = host.group(1), ns.group(1)
        name = re.search(r'Name:\s*"([^"]+)"', e.split("Ports:")[0])
        inline = re.search(r"Ports:\s*\[\]\*model\.Port\{", e)
        svc_ports_model = port_list(block(e, inline.start())) if inline else ports
        if host.endswith(DOMAIN_SUFFIX):
            services.append({"apiVersion": "v1", "kind": "Service",
                             "metadata": {"name": name.group(1) if name else host.split(".")[0],
                                          "namespace": ns},
                             "spec": {"ports": [{"name": f"p{p}", "port": p} for p in svc_ports]}})
        else:
            slug = re.sub(r"[^a-z0-9]+", "-", host.lower()).strip("-")
            entries_out.append({"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
                                "metadata": {"name": f"registry-{slug}", "namespace": ns},
                                "spec": {"hosts": [host], "resolution": "STATIC",
                                         "ports": [{"name": f"p{p}", "number": p, "protocol": "TCP"}
                                                   for p in svc_ports_model]}})
    extra = []
    for m in re.finditer(r"&corev1\.(Secret|ConfigMap)\{", go[go.index("objects = []runtime.Object"):]):
        body = block(go, go.index("objects = []runtime.Object") + m.start())
        name = re.search(r'Name:\s*"([^"]+)"', body).group(1)
        ns = re.search(r'Namespace:\s*"([^"]+)"', body).group(1)
        data = {}
        for key, val in re.findall(r'"([\w.-]+)":\s*(?:\[\]byte\()?(\w+|"[^"]*")\)?', body):
            text = val.strip('"') if val.startswith('"') else strings.get(val, "")
            data[key] = base64.b64encode(text.encode()).decode() if m.group(1) == "Secret" else text
        extra.append({"apiVersion": "v1", "kind": m.group(1),
                      "metadata": {"name": name, "namespace": ns}, "data": data})
    return services + entries_out + extra


def namespaces(docs):
    seen = sorted({d["metadata"].get("namespace") for d in docs
                   if d.get("metadata", {}).get("namespace")})
    return [{"apiVersion": "v1", "kind": "Namespace",
             "metadata": {"name": ns, "labels": {"istio.io/test-name-part": ns.split("-")[0]}}}
            for ns in seen]


def parent_key(ref, route_ns):
    """`Kind ns/name[:section][@port]`, as `meshlint gateways` names a route parent."""
    key = f"{ref.get('kind', 'Gateway')} {ref.get('namespace') or route_ns}/{ref['name']}"
    if ref.get("sectionName"):
        key += f":{ref['sectionName']}"
    if ref.get("port") is not None:
        key += f"@{ref['port']}"
    return key


def conds(items):
    return {c["type"]: (c["status"], c["reason"]) for c in items or []}


class Tally:
    def __init__(self, verbose):
        self.verbose = verbose
        self.counts = defaultdict(Counter)
        self.reasons = Counter()
        self.differ = []
        self.extra = []

    def undecidable(self, category, label, why):
        self.counts[category]["undecidable"] += 1
        self.reasons[(category, why)] += 1
        if self.verbose:
            print(f"undecidable  {category:28s} {label} ({why})")

    def compare(self, category, label, istiod, meshlint):
        if istiod == meshlint:
            self.counts[category]["agree"] += 1
            if self.verbose:
                print(f"agree        {category:28s} {label} {istiod}")
        else:
            self.counts[category]["disagree"] += 1
            self.differ.append(f"{label}  {category}: istiod {istiod}, meshlint {meshlint}")
            if self.verbose:
                print(f"DISAGREE     {category:28s} {label} istiod {istiod}, meshlint {meshlint}")


def backend_kinds(spec):
    for rule in spec.get("rules") or []:
        for b in rule.get("backendRefs") or []:
            yield b.get("group", ""), b.get("kind", "Service")
            for f in b.get("filters") or []:
                m = (f.get("requestMirror") or {}).get("backendRef")
                if m:
                    yield m.get("group", ""), m.get("kind", "Service")
        for f in rule.get("filters") or []:
            m = (f.get("requestMirror") or {}).get("backendRef")
            if m:
                yield m.get("group", ""), m.get("kind", "Service")


def input_condition_types(docs, kind, ns, name):
    """Condition types of a route's own `status` in the input (istiod keeps those it does not
    set)."""
    for d in docs:
        m = d.get("metadata", {})
        if d.get("kind") == kind and m.get("namespace") == ns and m.get("name") == name:
            return {c.get("type") for p in (d.get("status") or {}).get("parents") or []
                    for c in p.get("conditions") or []}
    return set()


def route_undecidable(typ, spec, input_docs):
    """Why a route condition is not decidable offline or not modelled, from the input alone."""
    kinds = {k for _, k in backend_kinds(spec)}
    if typ == "ResolvedRefs":
        for k, flag in FEATURE_BACKENDS.items():
            if k in kinds:
                return (f"{k} backend: the harness turns on {flag}, meshlint assumes istiod's "
                        f"default (off: InvalidKind)")
    return None


def class_reason(g):
    """Why meshlint predicts nothing for a Gateway of this class."""
    if g is None:
        return "Gateway absent from meshlint's view"
    return CLASS_REASONS.get(g["class"], f"class {g['class']}: meshlint predicts nothing "
                                         f"({g['controller']})")


def compare_case(case, golden, input_docs, view, t):
    gws = {(g["namespace"], g["name"]): g for g in view["gateways"]}
    routes = {(r["kind"], r["namespace"], r["name"]): r for r in view["routes"]}
    specs = {(d["kind"], d["metadata"].get("namespace", ""), d["metadata"]["name"]): d.get("spec") or {}
             for d in input_docs}
    golden_parents = set()
    for doc in golden:
        if not doc:
            continue
        kind, meta, status = doc["kind"], doc["metadata"], doc.get("status") or {}
        ns, name = meta.get("namespace", ""), meta["name"]
        label = f"{case}: {kind} {ns}/{name}"
        if kind == "Gateway":
            g = gws.get((ns, name))
            for typ, val in conds(status.get("conditions")).items():
                cat = f"Gateway {typ}"
                mine = conds(g["conditions"]).get(typ) if g else None
                if mine is None:
                    t.undecidable(cat, label, NOT_PREDICTED.get(("Gateway", typ)) or class_reason(g))
                elif g.get("note"):
                    t.undecidable(cat, label, f"meshlint assumed: {g['note']}")
                else:
                    t.compare(cat, label, val, mine)
            mine_ls = {l["name"]: l for l in (g["listeners"] if g else [])}
            for l in status.get("listeners") or []:
                ll = f"{label} listener {l['name']}"
                m = mine_ls.get(l["name"])
                if m is None:
                    t.undecidable("listener attachedRoutes", ll, "listener absent from meshlint's view")
                    continue
                t.compare("listener attachedRoutes", ll, l.get("attachedRoutes", 0), m["attachedRoutes"])
                mc = conds(m["conditions"])
                for typ, val in conds(l.get("conditions")).items():
                    cat = f"listener {typ}"
                    if typ not in COMPARED_LISTENER:
                        t.undecidable(cat, ll, "not modelled")
                    elif m.get("note") and typ != "Conflicted":
                        t.undecidable(cat, ll, f"meshlint assumed: {m['note']}")
                    elif typ not in mc:
                        t.undecidable(cat, ll, class_reason(g))
                    else:
                        t.compare(cat, ll, val, mc[typ])
        elif kind in ROUTE_KINDS:
            r = routes.get((kind, ns, name))
            spec = specs.get((kind, ns, name), {})
            mine_ps = {p["parent"]: p for p in (r["parents"] if r else [])}
            for p in status.get("parents") or []:
                if p.get("controllerName") not in CONTROLLERS:
                    continue
                key = parent_key(p["parentRef"], ns)
                golden_parents.add((kind, ns, name, key))
                pl = f"{label} parent {key}"
                m = mine_ps.get(key)
                mc = conds(m["conditions"]) if m else {}
                for typ, val in conds(p.get("conditions")).items():
                    cat = f"route {typ}"
                    why = route_undecidable(typ, spec, input_docs)
                    if typ not in ("Accepted", "ResolvedRefs"):
                        kept = typ in input_condition_types(input_docs, kind, ns, name)
                        t.undecidable(cat, pl, "kept from the input's own status, not written "
                                               "by istiod" if kept else "not modelled")
                    elif m is None:
                        t.undecidable(cat, pl, "parent absent from meshlint's view")
                    elif why:
                        t.undecidable(cat, pl, why)
                    elif typ not in mc:
                        t.undecidable(cat, pl, f"meshlint makes no prediction: {m.get('note', '?')}")
                    else:
                        t.compare(cat, pl, val, mc[typ])
    # Predictions for parents istiod writes no status for.
    for r in view["routes"]:
        for p in r["parents"]:
            if p["conditions"] and (r["kind"], r["namespace"], r["name"], p["parent"]) not in golden_parents:
                conds_ = ", ".join(f"{c['type']}={c['status']} {c['reason']}" for c in p["conditions"])
                t.extra.append(f"{case}: {r['kind']} {r['namespace']}/{r['name']} parent {p['parent']}: "
                               f"{conds_}" + (f" ({p['note']})" if p.get("note") else ""))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--git-dir", default="/work/.mirror/istio+istio/repo")
    ap.add_argument("--bin", default="target/release/meshlint")
    ap.add_argument("-v", action="store_true", help="list every comparison")
    a = ap.parse_args()
    files = set(git(a.git_dir, "ls-tree", "--name-only", "HEAD", TESTDATA).split())
    cases = sorted(p[len(TESTDATA):-len(".status.yaml.golden")]
                   for p in files if p.endswith(".status.yaml.golden"))
    harness = harness_objects(git(a.git_dir, "show", f"HEAD:{HARNESS}"))
    t = Tally(a.v)
    rejected = []
    with tempfile.TemporaryDirectory() as tmp:
        for case in cases:
            text = git(a.git_dir, "show", f"HEAD:{TESTDATA}{case}.yaml")
            golden = list(yaml.safe_load_all(git(a.git_dir, "show", f"HEAD:{TESTDATA}{case}.status.yaml.golden")))
            docs = [d for d in yaml.safe_load_all(text) if d]
            inp, extra = os.path.join(tmp, f"{case}.yaml"), os.path.join(tmp, "harness.yaml")
            with open(inp, "w") as f:
                f.write(text)
            with open(extra, "w") as f:
                yaml.safe_dump_all(harness + namespaces(docs), f)
            run = subprocess.run([a.bin, "gateways", "--format", "json", inp, extra],
                                 capture_output=True, text=True)
            if not run.stdout.startswith("{"):
                rejected.append(f"{case}: {run.stderr.strip().splitlines()[:1]}")
                view = {"gateways": [], "routes": []}
            else:
                view = json.loads(run.stdout)
            compare_case(case, golden, docs, view, t)
    cats = sorted(t.counts)
    print(f"cases with a status golden: {len(cases)}")
    print(f"{'condition':30s} {'agree':>6s} {'disagree':>9s} {'undecidable':>12s}")
    tot = Counter()
    for c in cats:
        n = t.counts[c]
        tot.update(n)
        print(f"{c:30s} {n['agree']:6d} {n['disagree']:9d} {n['undecidable']:12d}")
    print(f"{'total':30s} {tot['agree']:6d} {tot['disagree']:9d} {tot['undecidable']:12d}")
    print("undecidable:")
    for (cat, why), n in sorted(t.reasons.items()):
        print(f"  {n:4d}  {cat}: {why}")
    print(f"route parents meshlint predicts and istiod writes no status for: {len(t.extra)}")
    for e in t.extra:
        print(f"  {e}")
    for r in rejected:
        print(f"input rejected: {r}")
    for d in t.differ:
        print(f"differs: {d}")
    return 0 if not t.differ else 1


if __name__ == "__main__":
    sys.exit(main())
