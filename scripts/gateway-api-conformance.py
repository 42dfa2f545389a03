#!/usr/bin/env python3
"""Runs the manifests of the Gateway API conformance suite through `meshlint gateways` and
compares the conditions meshlint predicts with the ones each conformance test asserts.

The suite is read at run time from a bare git mirror of kubernetes-sigs/gateway-api
(`conformance/base/manifests.yaml`, `conformance/tests/*.yaml` and the Go test next to each);
nothing of it is copied into this repository. `{GATEWAY_CLASS_NAME}` becomes `istio`.

Expectations are read from the Go tests' assertion helpers:
  XRouteMustHaveCondition(route, gateway, condition)    a route parent condition
  GatewayAnd*RoutesMustBeAccepted(gateway, routes...)   Accepted=True on each route's parent
  XRouteMustHaveResolvedRefsConditionsTrue(route, gw)   ResolvedRefs=True
  XRouteMustHaveNoAcceptedParents(route)                no parent Accepted=True
  GatewayMustHaveZeroRoutes(gateway)                    attachedRoutes 0 on every listener
An expectation is decidable offline when it is about route attachment or references (Accepted,
ResolvedRefs) or attached-route counts, on kinds istio's class serves (not UDPRoute, not
ListenerSet) and not on TLS, certificates or BackendTLSPolicy, which need the cluster's
Secrets and the data plane. Each undecidable expectation is counted with its reason.

Usage: gateway-api-conformance.py [--git-dir DIR] [--bin PATH] [-v]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter

NAMESPACES = {
    "InfrastructureNamespace": "gateway-conformance-infra",
    "AppBackendNamespace": "gateway-conformance-app-backend",
    "WebBackendNamespace": "gateway-conformance-web-backend",
    "MeshNamespace": "gateway-conformance-mesh",
}
# Object names of the base manifests, filled in by main().
BASE_NAMES = ""


def git(git_dir, *args):
    return subprocess.run(["git", "--git-dir", git_dir, *args], check=True,
                          capture_output=True, text=True).stdout


def strip_prefix(const):
    for p in ("RouteConditionType", "RouteCondition", "RouteReason", "ListenerCondition",
              "ListenerReason", "GatewayCondition", "GatewayReason"):
        if const.startswith(p):
            return const[len(p):]
    return const


class Bindings:
    """Values of Go variables by where they are assigned: a lookup at a call site takes the
    last assignment before it (tests reuse `gwNN` for several Gateways)."""

    def __init__(self):
        self.seen = []

    def bind(self, pos, var, value):
        self.seen.append((pos, var, value))

    def at(self, pos, var):
        before = [val for p, v, val in self.seen if v == var and p < pos]
        if before:
            return before[-1]
        # Declared after use in source order (package-level vars, closures).
        return next((val for _, v, val in self.seen if v == var), None)


def names(go):
    """Variables bound to types.NamespacedName{...} and to namespaces."""
    ns_vars = {}
    for var, val in re.findall(r"(\w+)\s*:?=\s*(?:confsuite|suite)\.(\w+Namespace)\b", go):
        ns_vars[var] = NAMESPACES.get(val, val)
    for var, val in re.findall(r'(\w+)\s*:?=\s*"(gateway-conformance[\w-]*)"', go):
        ns_vars[var] = val
    out = Bindings()
    for m in re.finditer(r"(\w+)\s*:?=\s*types\.NamespacedName\{([^}]*)\}", go):
        var, body = m.group(1), m.group(2)
        name = re.search(r'Name:\s*"([^"]+)"', body)
        ns = re.search(r"Namespace:\s*([\w.\"-]+)", body)
        if not name or not ns:
            # A name computed at run time (table-driven tests): unknown from here on.
            out.bind(m.start(), var, None)
            continue
        ns = ns.group(1).strip('"')
        if "." in ns:
            ns = NAMESPACES.get(ns.split(".")[-1], ns)
        out.bind(m.start(), var, (ns_vars.get(ns, ns), name.group(1)))
    for m in re.finditer(r"for\s+_,\s*(\w+)\s*:=\s*range", go):
        # A loop over a list of names: each iteration's value is not read here.
        out.bind(m.start(), m.group(1), None)
    return out


def conditions(go):
    """Variables bound to metav1.Condition{Type, Status, Reason}."""
    out = Bindings()
    pat = (r"(\w+)\s*:?=\s*metav1\.Condition\{\s*Type:\s*string\(\w+\.(\w+)\),\s*"
           r"Status:\s*metav1\.Condition(True|False),\s*Reason:\s*string\(\w+\.(\w+)\),?\s*\}")
    for m in re.finditer(pat, go):
        var, typ, status, reason = m.groups()
        out.bind(m.start(), var, (strip_prefix(typ), status, strip_prefix(reason)))
    return out


def inline_condition(arg):
    m = re.search(r"Type:\s*string\(\w+\.(\w+)\),\s*Status:\s*metav1\.Condition(True|False),\s*"
                  r"Reason:\s*string\(\w+\.(\w+)\)", arg)
    return (strip_prefix(m.group(1)), m.group(2), strip_prefix(m.group(3))) if m else None


def calls(go, helper):
    """Argument lists of calls to kubernetes.<helper>(...), split at top-level commas."""
    out = []
    for m in re.finditer(r"kubernetes\." + helper + r"\(", go):
        depth, i, start = 1, m.end(), m.end()
        while i < len(go) and depth:
            depth += {"(": 1, ")": -1, "{": 1, "}": -1}.get(go[i], 0)
            i += 1
        body = go[start:i - 1]
        args, depth, cur = [], 0, ""
        for ch in body:
            if ch in "({[":
                depth += 1
            elif ch in ")}]":
                depth -= 1
            if ch == "," and depth == 0:
                args.append(cur.strip())
                cur = ""
            else:
                cur += ch
        if cur.strip():
            args.append(cur.strip())
        out.append((m.group(0)[len("kubernetes."):-1], args, m.start()))
    return out


def expectations(go):
    """(kind of check, route kind, subject, gateway, condition) tuples the test asserts."""
    nn, conds = names(go), conditions(go)
    exp = []
    for helper, args, pos in calls(go, r"(\w+)RouteMustHaveCondition"):
        kind = helper.replace("MustHaveCondition", "")
        cond = conds.at(pos, args[-1]) or inline_condition(args[-1])
        gw = nn.at(pos, args[4]) if len(args) > 5 else None
        exp.append(("route-condition", kind, nn.at(pos, args[3]), gw, cond))
    for helper, args, pos in calls(go, r"GatewayAnd(\w*)RoutesMustBeAccepted"):
        kind = helper.replace("GatewayAnd", "").replace("RoutesMustBeAccepted", "") or None
        gw = re.search(r"NewGatewayRef\((\w+)", args[4]) if len(args) > 4 else None
        gw = nn.at(pos, gw.group(1)) if gw else None
        for a in args[5:]:
            exp.append(("route-condition", kind, nn.at(pos, a.rstrip(".")), gw,
                        ("Accepted", "True", "Accepted")))
    for helper, args, pos in calls(go, r"(\w+)RouteMustHaveResolvedRefsConditionsTrue"):
        kind = helper.replace("MustHaveResolvedRefsConditionsTrue", "")
        gw = nn.at(pos, args[4]) if len(args) > 4 else None
        exp.append(("route-condition", kind, nn.at(pos, args[3]), gw, ("ResolvedRefs", "True", "ResolvedRefs")))
    for helper, args, pos in calls(go, r"(\w+)RouteMustHaveNoAcceptedParents"):
        kind = helper.replace("MustHaveNoAcceptedParents", "")
        exp.append(("no-accepted-parents", kind, nn.at(pos, args[3]), None, None))
    for helper, args, pos in calls(go, r"GatewayMustHaveZeroRoutes"):
        exp.append(("zero-routes", "Gateway", nn.at(pos, args[3]), None, None))
    return exp


def undecidable(test_yaml, go, e):
    kind = e[1]
    if "ListenerSet" in go or "ListenerSet" in test_yaml:
        return "ListenerSet (not modelled)"
    if kind == "UDP" or "UDPRoute" in test_yaml:
        return "UDPRoute (istio's class serves no UDP)"
    if "BackendTLSPolicy" in test_yaml:
        return "BackendTLSPolicy (not modelled)"
    if e[2] is None:
        return "subject not read from the Go test"
    if f"name: {e[2][1]}" not in test_yaml and f"name: {e[2][1]}" not in BASE_NAMES:
        return "object created by the Go test, not in the manifests"
    if re.search(r"\.(Update|Patch|Delete)\(|MustApplyObjectsWithCleanup", go):
        return "the Go test changes the objects after applying the manifests"
    if e[0] == "route-condition" and e[4] is None:
        return "condition not read from the Go test"
    if e[0] == "route-condition" and e[4][0] not in ("Accepted", "ResolvedRefs"):
        return f"condition {e[4][0]} (data plane)"
    if "certificateRefs" in test_yaml and e[0] == "route-condition" and e[4][1] == "False" \
            and e[4][0] == "ResolvedRefs":
        return "TLS certificate references (the cluster's Secrets)"
    return None


def parent_matches(p, gw):
    return gw is None or p["parent"].split(" ", 1)[-1].split(":")[0].split("@")[0] == f"{gw[0]}/{gw[1]}"


def check(view, e):
    kind, subject, gw, cond = e[1], e[2], e[3], e[4]
    if e[0] == "zero-routes":
        g = next((g for g in view["gateways"] if (g["namespace"], g["name"]) == subject), None)
        return g is not None and all(l["attachedRoutes"] == 0 for l in g["listeners"])
    want = kind and kind.removesuffix("Route") + "Route"
    route = next((r for r in view["routes"] if (r["namespace"], r["name"]) == subject
                  and (want is None or r["kind"] == want)), None)
    if route is None:
        return False
    parents = [p for p in route["parents"] if parent_matches(p, gw)]
    if e[0] == "no-accepted-parents":
        return not any(c["type"] == "Accepted" and c["status"] == "True"
                       for p in route["parents"] for c in p["conditions"])
    typ, status, reason = cond
    return bool(parents) and any(
        c["type"] == typ and c["status"] == status and (status == "True" or c["reason"] == reason)
        for p in parents for c in p["conditions"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--git-dir", default="/work/.mirror/kubernetes-sigs+gateway-api/repo")
    ap.add_argument("--bin", default="target/release/meshlint")
    ap.add_argument("-v", action="store_true", help="list every expectation")
    a = ap.parse_args()
    files = git(a.git_dir, "ls-tree", "--name-only", "HEAD", "conformance/tests/").split()
    global BASE_NAMES
    base = git(a.git_dir, "show", "HEAD:conformance/base/manifests.yaml").replace("{GATEWAY_CLASS_NAME}", "istio")
    BASE_NAMES = base
    totals, reasons, misses = Counter(), Counter(), []
    cases = 0
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "base.yaml"), "w") as f:
            f.write(base)
        for path in sorted(p for p in files if p.endswith(".go") and not p.endswith("_test.go")):
            go = git(a.git_dir, "show", f"HEAD:{path}")
            m = re.search(r'Manifests:\s*\[\]string\{"tests/([^"]+\.yaml)"', go)
            if not m:
                continue
            name = m.group(1)
            yaml_path = f"conformance/tests/{name}"
            if yaml_path not in files:
                continue
            test_yaml = git(a.git_dir, "show", f"HEAD:{yaml_path}").replace("{GATEWAY_CLASS_NAME}", "istio")
            exps = expectations(go)
            if not exps:
                continue
            cases += 1
            with open(os.path.join(tmp, "test.yaml"), "w") as f:
                f.write(test_yaml)
            run = subprocess.run([a.bin, "gateways", "--format", "json",
                                  os.path.join(tmp, "base.yaml"), os.path.join(tmp, "test.yaml")],
                                 capture_output=True, text=True)
            view = json.loads(run.stdout) if run.stdout.startswith("{") else {"gateways": [], "routes": []}
            for e in exps:
                why = undecidable(test_yaml, go, e)
                label = f"{name}: {e[0]} {e[1] or ''} {e[2]} {e[4] or ''}"
                if why:
                    totals["undecidable"] += 1
                    reasons[why] += 1
                    if a.v:
                        print(f"undecidable  {label} ({why})")
                    continue
                totals["decidable"] += 1
                if check(view, e):
                    totals["matched"] += 1
                    if a.v:
                        print(f"matched      {label}")
                else:
                    misses.append(label)
                    if a.v:
                        print(f"MISSED       {label}")
    print(f"conformance tests with readable expectations: {cases}")
    print(f"expectations: {totals['decidable'] + totals['undecidable']}, decidable offline: "
          f"{totals['decidable']}, predicted the same: {totals['matched']}, differing: {len(misses)}")
    print(f"undecidable: {totals['undecidable']}")
    for why, n in reasons.most_common():
        print(f"  {n:4d}  {why}")
    for m in misses:
        print(f"differs: {m}")
    return 0 if not misses else 1


if __name__ == "__main__":
    sys.exit(main())
