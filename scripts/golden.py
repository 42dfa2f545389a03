#!/usr/bin/env python3
"""Records meshlint's outputs on every input the project can reach, to compare two builds.

Runs `check --format json` on each file and directory of testdata/, on each case of istio's
analyzer suite and on each config dump of the shared corpus; `listeners --format json` on the same
inputs; `graph --format json` on testdata/; and `trace --format json` on every dump for each
listener port it declares. Each output (stdout, stderr, exit code) goes to one file in OUT_DIR, so
`diff -r BEFORE AFTER` shows what a change altered.

Usage: golden.py OUT_DIR [--bin PATH] [--shared DIR]
"""

import argparse
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(binary, args, out_dir, name):
    proc = subprocess.run(
        [binary, *args], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name)
    with open(os.path.join(out_dir, safe), "w") as f:
        f.write(f"$ meshlint {' '.join(args)}\nexit {proc.returncode}\n")
        f.write(proc.stdout)
        f.write("\n--- stderr\n")
        f.write(proc.stderr)


def dump_ports(path):
    """Listener ports in a dump, read by a plain text scan (no model): good enough for probes."""
    try:
        text = open(path, encoding="utf-8").read()
    except (OSError, UnicodeDecodeError):
        return []
    ports = sorted({int(p) for p in re.findall(r'"?port_value"?\s*:\s*(\d+)', text)})
    return [p for p in ports if 0 < p < 65536][:12]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--bin", default=os.path.join(ROOT, "target/debug/meshlint"))
    ap.add_argument("--shared", default=os.path.join(ROOT, "..", "shared"))
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    b = a.bin

    inputs = []
    for dirpath, dirnames, filenames in os.walk(os.path.join(ROOT, "testdata")):
        dirnames.sort()
        rel = os.path.relpath(dirpath, ROOT)
        inputs.append(rel)
        inputs += [os.path.join(rel, f) for f in sorted(filenames)]
    for p in inputs:
        run(b, ["check", "--format", "json", p], a.out, "check:" + p)
        run(b, ["listeners", "--format", "json", p], a.out, "listeners:" + p)
    run(b, ["graph", "--format", "json", "testdata"], a.out, "graph:testdata")
    run(b, ["graph", "--format", "json", "testdata/demo"], a.out, "graph:testdata-demo")

    dumps = [os.path.join("testdata/dumps", f) for f in sorted(os.listdir(os.path.join(ROOT, "testdata/dumps")))]
    corpus = os.path.join(a.shared, "corpus", "config-dumps")
    if os.path.isdir(corpus):
        dumps += [os.path.join(corpus, f) for f in sorted(os.listdir(corpus)) if f.endswith((".json", ".yaml"))]
        for d in dumps[-len(os.listdir(corpus)):]:
            run(b, ["check", "--format", "json", d], a.out, "check:" + os.path.basename(d))
            run(b, ["listeners", "--format", "json", d], a.out, "listeners:" + os.path.basename(d))
    for d in dumps:
        for port in dump_ports(os.path.join(ROOT, d)):
            for ip in ("10.96.0.10", "127.0.0.1"):
                run(b, ["trace", "--format", "json", d, f"{ip}:{port}"], a.out,
                    f"trace:{os.path.basename(d)}:{ip}:{port}")
        run(b, ["trace", d, "10.96.0.10:443", "--sni", "example.com"], a.out,
            f"trace-human:{os.path.basename(d)}")

    compat = os.path.join(a.shared, "compat", "istio-analyze")
    if os.path.isdir(compat):
        cases = json.load(open(os.path.join(compat, "cases.json")))
        for case in cases:
            files = [os.path.join(compat, "testdata", f) for f in case["inputFiles"]]
            files.append(os.path.join(compat, "harness", "default-ingress-gateway.yaml"))
            extra = []
            if case.get("meshConfigFile"):
                extra = ["--mesh-config", os.path.join(compat, "testdata", case["meshConfigFile"])]
            run(b, ["check", "--format", "json", *extra, *files], a.out, "compat:" + case["id"])
            run(b, ["listeners", "--format", "json", *extra, *files], a.out, "compat-listeners:" + case["id"])
    print(f"{len(os.listdir(a.out))} outputs in {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
