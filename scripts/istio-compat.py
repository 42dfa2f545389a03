#!/usr/bin/env python3
"""Scores meshlint against istio's analyzer test suite (an `istio-analyze` conformance corpus).

For each case: run meshlint on the case's input files plus the harness files (a multi-cluster
case's file sets, `cluster1InputFiles`..., each as `--cluster NAME=FILE`, the harness common to
them), keep findings whose
istio codes are among the case's analyzer codes, and compare (code, resource) pairs with the
expected messages. Prints per-code matched / missed / extra and lists every mismatch.

Usage: istio-compat.py CORPUS_DIR [--bin PATH] [--require IST0118,IST0150] [--cases]
                        [--no-attribution]
Exits 1 when a required code has a miss or an extra. Expected messages meshlint leaves out on
purpose (DELIBERATE, each with its reason) are counted apart and do not fail the gate.

Some codes are reported by several istio analyzers (IST0101 ReferencedResourceNotFound by nine of
them), while upstream runs one analyzer per case. A meshlint finding for such a code therefore
counts only in cases whose analyzer performs the check it is about: ATTRIBUTION maps each
analyzer to the (meshlint code, resource kind, subkind) of the findings that correspond to it;
`subkind` is the stable name meshlint gives each check of a rule. Analyzers not listed there keep
every finding with the code. `--no-attribution` turns this off and counts every finding with the
code in every case.
"""

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile


# Shared code -> analyzer -> findings that stand for that analyzer's check, as
# (meshlint code, resource kind, subkind); a subkind of None accepts any finding of the code.
ATTRIBUTION = {
    "IST0101": {
        "gateway.IngressGatewayPortAnalyzer": [
            ("MESH501", "Gateway", "no-gateway-workload"),
        ],
        "gateway.SecretAnalyzer": [
            ("MESH501", "Gateway", "no-gateway-workload"),
            ("MESH503", "Gateway", "credential-name"),
        ],
        # Reports a Gateway that has a selector but no servers; meshlint has no such check.
        "gateway.ConflictingGatewayAnalyzer": [],
        "sidecar.SelectorAnalyzer": [("MESH503", "Sidecar", "workload-selector")],
        "virtualservice.DestinationHostAnalyzer": [
            ("MESH503", "VirtualService", "destination-host"),
            ("MESH503", "VirtualService", "mirror-host"),
            ("MESH502", "VirtualService", None),
        ],
        "virtualservice.DestinationRuleAnalyzer": [("MESH503", "VirtualService", "subset")],
        "virtualservice.GatewayAnalyzer": [("MESH503", "VirtualService", "gateway")],
        "authz.AuthorizationPoliciesAnalyzer": [("MESH503", "AuthorizationPolicy", "namespace")],
        "telemetry.SelectorAnalyzer": [("MESH503", "Telemetry", "workload-selector")],
    },
}


# Expected messages meshlint does not give on purpose, with the reason; they are counted as
# `deliberate`, not as misses, and listed with the reason. Keyed by (case id, code, kind,
# namespace, name).
DELIBERATE = {
    ("deprecation", "IST0002", "Sidecar", "default", "no-selector"): (
        "the Sidecar's `outboundTrafficPolicy.egressProxy` is used by istiod under ALLOW_ANY "
        "(pilot/pkg/networking/core/listener_builder.go, httproute.go), so it is not deprecated "
        "there; rules/MESH512-deprecated-field.md"
    ),
}

# A case's MeshNetworks file is what istiod reads from the `meshNetworks` key of the `istio`
# ConfigMap; meshlint reads it there, and reports on that ConfigMap.
MESH_NETWORKS_RESOURCE = ("ConfigMap", "istio-system", "istio")


def mesh_networks_config_map(path, out_dir):
    """Writes the MeshNetworks file as the `istio` ConfigMap's `meshNetworks` key."""
    with open(path) as f:
        body = "".join("    " + line if line.strip() else line for line in f)
    out = os.path.join(out_dir, "istio-configmap.yaml")
    with open(out, "w") as f:
        f.write(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: istio\n"
            "  namespace: istio-system\ndata:\n  meshNetworks: |\n" + body
        )
    return out


def attributed(code, analyzer, finding):
    """Whether `finding` (reported with istio `code`) stands for a check of `analyzer`."""
    by_analyzer = ATTRIBUTION.get(code)
    if by_analyzer is None or analyzer not in by_analyzer:
        return True
    kind = finding["resource"]["kind"]
    return any(
        finding["code"] == c and kind == k and (sub is None or finding.get("subkind") == sub)
        for c, k, sub in by_analyzer[analyzer]
    )


def fixed_text_codes(corpus):
    """Codes whose message template has no parameter. The upstream harness keeps one of messages
    with the same text (`SortedDedupedCopy`; its resources carry no line), so such a code is
    expected at most once per resource however many fields meshlint reports."""
    codes = set()
    with open(os.path.join(corpus, "codes.tsv")) as f:
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if len(cols) >= 4 and cols[1].startswith("IST") and "%" not in cols[3]:
                codes.add(cols[1])
    return codes


# Kinds without a namespace: meshlint names them with an empty one.
CLUSTER_SCOPED = {"Namespace", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration", "CustomResourceDefinition", "GatewayClass"}


def resource_key(kind, namespace, name):
    return (kind, namespace or "", name)


def cluster_files(case):
    """`{cluster name: input files}` of a multi-cluster case (`cluster1InputFiles`, ...)."""
    return {
        key[: -len("InputFiles")]: files
        for key, files in sorted(case.items())
        if key.startswith("cluster") and key.endswith("InputFiles")
    }


def run_case(binary, corpus, case, codes, tmp):
    clusters = cluster_files(case)
    # A multi-cluster case loads each file set as its own cluster; the harness is common.
    files = [] if clusters else [os.path.join(corpus, "testdata", f) for f in case["inputFiles"]]
    files.append(os.path.join(corpus, "harness", "default-ingress-gateway.yaml"))
    if case.get("meshNetworksFile"):
        files.append(mesh_networks_config_map(os.path.join(corpus, "testdata", case["meshNetworksFile"]), tmp))
    # istio's test runs the case's analyzer even when istioctl leaves it out of its defaults
    # (the alpha-annotation one): meshlint's opt-in rules for these codes run too.
    cmd = [binary, "check", "--format", "json", "--failure-threshold", "error"]
    cmd += ["--extend-select", ",".join(sorted(codes))]
    if case.get("meshConfigFile"):
        cmd += ["--mesh-config", os.path.join(corpus, "testdata", case["meshConfigFile"])]
    for name, inputs in clusters.items():
        for f in inputs:
            cmd += ["--cluster", f"{name}={os.path.join(corpus, 'testdata', f)}"]
    proc = subprocess.run(cmd + files, capture_output=True, text=True, timeout=60)
    if proc.returncode not in (0, 1, 2):
        raise RuntimeError(f"{case['id']}: meshlint exited {proc.returncode}: {proc.stderr}")
    return json.loads(proc.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus")
    ap.add_argument("--bin", default=os.environ.get("MESHLINT", "target/debug/meshlint"))
    ap.add_argument("--require", default="", help="comma-separated IST codes that must match exactly")
    ap.add_argument("--cases", action="store_true", help="print every case's result")
    ap.add_argument(
        "--no-attribution",
        action="store_true",
        help="count findings of codes shared by several analyzers in every case (see ATTRIBUTION)",
    )
    args = ap.parse_args()

    cases = json.load(open(os.path.join(args.corpus, "cases.json")))
    covered = set()
    out = subprocess.run([args.bin, "rules"], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        if "[" in line:
            covered.update(c.strip() for c in line[line.rindex("[") + 1 : line.rindex("]")].split(","))

    once = fixed_text_codes(args.corpus)
    per_code = collections.defaultdict(lambda: [0, 0, 0, 0])
    problems = []
    deliberate = []
    input_errors = 0
    for case in cases:
        # The skip of a multi-cluster case is about single-tree tools: meshlint runs it with
        # one --cluster per file set.
        if case.get("skip") and not cluster_files(case):
            continue
        codes = set(case["analyzerCodes"]) & covered
        if not codes:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            report = run_case(args.bin, args.corpus, case, codes, tmp)
        input_errors += len(report["errors"])
        got = collections.Counter()
        severities = collections.defaultdict(list)
        for f in report["findings"]:
            for code in set(f["istio_codes"]) & codes:
                if not args.no_attribution and not attributed(code, case["analyzer"], f):
                    continue
                r = f["resource"]
                key = (code, r["kind"], r["namespace"], r["name"])
                if case.get("meshNetworksFile") and key[1:] == MESH_NETWORKS_RESOURCE:
                    key = (code, "MeshNetworks", "istio-system", "meshnetworks")
                if key[0] not in once or not got[key]:
                    got[key] += 1
                severities[key].append(f["severity"])
        want = collections.Counter()
        for e in case["expected"]:
            if e["code"] in codes:
                # The upstream harness leaves namespace-less objects without a namespace;
                # meshlint puts them in `default`.
                if e["kind"] in CLUSTER_SCOPED:
                    ns = ""
                else:
                    ns = e["namespace"] if e["namespace"] is not None else "default"
                want[(e["code"], e["kind"], ns, e["name"])] += e.get("count", 1)
        keys = set(got) | set(want)
        for k in sorted(keys):
            matched = min(got[k], want[k])
            missed = want[k] - matched
            extra = got[k] - matched
            reason = DELIBERATE.get((case["id"],) + k)
            if reason and missed:
                per_code[k[0]][3] += missed
                deliberate.append((case["id"], k, missed, reason))
                missed = 0
            per_code[k[0]][0] += matched
            per_code[k[0]][1] += missed
            per_code[k[0]][2] += extra
            if missed or extra:
                problems.append((case["id"], k, missed, extra, sorted(set(severities[k]))))
        if args.cases:
            status = "ok" if all(got[k] == want[k] for k in keys) else "MISMATCH"
            print(f"{case['id']:<60} {status}")

    print(f"{'code':<10}{'matched':>9}{'missed':>8}{'extra':>7}{'deliberate':>12}")
    for code in sorted(per_code):
        m, mi, ex, de = per_code[code]
        print(f"{code:<10}{m:>9}{mi:>8}{ex:>7}{de:>12}")
    print(f"input errors reported by meshlint across cases: {input_errors}")
    for case_id, (code, kind, ns, name), missed, reason in deliberate:
        print(f"  {case_id}: {code} {kind} {ns}/{name}: deliberately not reported ({missed}): {reason}")
    for case_id, (code, kind, ns, name), missed, extra, sev in problems:
        what = f"missed {missed}" if missed else f"extra {extra} ({', '.join(sev)})"
        print(f"  {case_id}: {code} {kind} {ns}/{name}: {what}")

    required = {c for c in args.require.split(",") if c}
    failing = [p for p in problems if p[1][0] in required]
    if failing:
        print(f"required codes with mismatches: {sorted({p[1][0] for p in failing})}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
