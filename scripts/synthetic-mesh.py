#!/usr/bin/env python3
"""Writes a synthetic mesh to stdout: N namespaces-worth of Services, Deployments and a few
TCP ServiceEntries without addresses, for timing `meshlint check` on large inputs.

Usage: synthetic-mesh.py SERVICES [NAMESPACES] > mesh.yaml
"""
import sys

services = int(sys.argv[1])
namespaces = int(sys.argv[2]) if len(sys.argv) > 2 else 100
out = sys.stdout
for n in range(namespaces):
    out.write(f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns{n}\n  labels: {{istio-injection: enabled}}\n---\n")
for i in range(services):
    ns = f"ns{i % namespaces}"
    port = 8000 + i % 50
    out.write(
        f"apiVersion: v1\nkind: Service\nmetadata:\n  name: svc{i}\n  namespace: {ns}\n"
        f"spec:\n  selector: {{app: app{i}}}\n  ports:\n  - name: http-web\n    port: {port}\n"
        f"  - name: grpc\n    port: 9000\n---\n"
        f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app{i}\n  namespace: {ns}\n"
        f"spec:\n  replicas: 2\n  template:\n    metadata:\n      labels: {{app: app{i}}}\n"
        f"    spec:\n      containers:\n      - name: app\n        image: app:1\n        ports:\n"
        f"        - containerPort: {port}\n        - containerPort: 9000\n---\n"
    )
for j in range(20):
    out.write(
        f"apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: ext{j}\n  namespace: ns{j}\n"
        f"spec:\n  hosts: [ext{j}.example.com]\n  resolution: DNS\n  ports:\n  - number: {5000 + j % 5}\n    name: tcp\n    protocol: TCP\n---\n"
    )
