#!/usr/bin/env python3
"""Writes a large synthetic Envoy /config_dump for timing `meshlint check` on big inputs.

Usage: gen-big-dump.py TEMPLATE.json OUT.json [SIZE_MB]

TEMPLATE is any v3 config dump (for instance an `istioctl proxy-config all -o json` of a busy
sidecar). Its per-VIP listeners, clusters, endpoint and route configs are copied with fresh
addresses and names until OUT reaches SIZE_MB (default 50), pretty-printed like Envoy's admin.
"""
import copy
import json
import sys


def renamed(obj, old, new):
    return json.loads(json.dumps(obj).replace(old, new))


def main():
    template, out = sys.argv[1], sys.argv[2]
    target = int(sys.argv[3] if len(sys.argv) > 3 else 50) * 1024 * 1024
    dump = json.load(open(template))
    sections = {c["@type"].rsplit(".", 1)[-1]: c for c in dump["configs"]}
    listeners = sections["ListenersConfigDump"]["dynamic_listeners"]
    clusters = sections["ClustersConfigDump"]["dynamic_active_clusters"]
    vip = [l for l in listeners if l.get("name", "").startswith("10.") and "active_state" in l]
    out_clusters = [c for c in clusters if c["cluster"]["name"].startswith("outbound|")]
    size = len(json.dumps(dump, indent=1))
    i = 0
    while size < target:
        i += 1
        a, b = 100 + (i // 250) % 150, i % 250
        for l in vip[:20]:
            ip = l["name"].split("_")[0]
            new = renamed(l, ip, f"10.{a}.{b}.{vip.index(l) + 1}")
            new = renamed(new, ".svc.cluster.local", f"-{i}.svc.cluster.local")
            listeners.append(new)
            size += len(json.dumps(new, indent=1))
        for c in out_clusters[:20]:
            new = renamed(c, ".svc.cluster.local", f"-{i}.svc.cluster.local")
            clusters.append(new)
            size += len(json.dumps(new, indent=1))
    with open(out, "w") as f:
        json.dump(dump, f, indent=1)


if __name__ == "__main__":
    main()
