#!/usr/bin/env python3
"""Writes a synthetic mesh to stdout: Services and Deployments spread over namespaces, a few
TCP ServiceEntries without addresses, and with --routing a VirtualService and DestinationRule
per Service plus an ingress Gateway per namespace, and with --gateway-api a Gateway API Gateway
per namespace, an HTTPRoute per Service (every tenth to a backend of the next namespace, which
a ReferenceGrant per namespace permits) and a TCPRoute per namespace, for timing
`meshlint check` on large inputs. With --files N DIR the documents are spread in order over N
files DIR/mesh-NNNN.yaml instead, as a repository of manifests holds them.

Usage: synthetic-mesh.py SERVICES [NAMESPACES] [--routing] [--gateway-api] [--files N DIR] > mesh.yaml
"""
import io
import os
import sys

argv = sys.argv[1:]
if not argv or "-h" in argv or "--help" in argv:
    sys.exit(__doc__)
files = None
if "--files" in argv:
    i = argv.index("--files")
    files = (int(argv[i + 1]), argv[i + 2])
    del argv[i : i + 3]
args = [a for a in argv if not a.startswith("--")]
routing = "--routing" in argv
gateway_api = "--gateway-api" in argv
services = int(args[0])
namespaces = int(args[1]) if len(args) > 1 else 100
out = io.StringIO() if files else sys.stdout
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
if routing:
    out.write(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: istio-ingressgateway\n  namespace: istio-system\n"
        "spec:\n  template:\n    metadata:\n      labels: {istio: ingressgateway}\n"
        "    spec:\n      containers:\n      - {name: istio-proxy, image: docker.io/istio/proxyv2:1.22.0}\n---\n"
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: istio-ingressgateway\n  namespace: istio-system\n"
        "spec:\n  selector: {istio: ingressgateway}\n  ports:\n  - {name: http2, port: 80, targetPort: 8080}\n---\n"
    )
    for n in range(namespaces):
        out.write(
            f"apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: gw\n  namespace: ns{n}\n"
            f"spec:\n  selector: {{istio: ingressgateway}}\n  servers:\n  - port: {{number: 80, name: http, protocol: HTTP}}\n"
            f"    hosts: [\"ns{n}.example.com\"]\n---\n"
        )
    for i in range(services):
        ns = f"ns{i % namespaces}"
        port = 8000 + i % 50
        out.write(
            f"apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: vs{i}\n  namespace: {ns}\n"
            f"spec:\n  hosts: [\"ns{i % namespaces}.example.com\"]\n  gateways: [gw]\n  http:\n"
            f"  - match: [{{uri: {{prefix: /svc{i}}}}}]\n    route:\n"
            f"    - destination: {{host: svc{i}, subset: v1, port: {{number: {port}}}}}\n      weight: 90\n"
            f"    - destination: {{host: svc{i}, subset: v2, port: {{number: {port}}}}}\n      weight: 10\n---\n"
            f"apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: dr{i}\n  namespace: {ns}\n"
            f"spec:\n  host: svc{i}\n  subsets:\n  - {{name: v1, labels: {{app: app{i}}}}}\n  - {{name: v2, labels: {{app: app{i}}}}}\n---\n"
        )
for j in range(20):
    out.write(
        f"apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: ext{j}\n  namespace: ns{j}\n"
        f"spec:\n  hosts: [ext{j}.example.com]\n  resolution: DNS\n  ports:\n  - number: {5000 + j % 5}\n    name: tcp\n    protocol: TCP\n---\n"
    )
if gateway_api:
    for n in range(namespaces):
        out.write(
            f"apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n  name: web\n  namespace: ns{n}\n"
            f"spec:\n  gatewayClassName: istio\n  listeners:\n"
            f"  - {{name: http, port: 80, protocol: HTTP, hostname: '*.ns{n}.example.com'}}\n"
            f"  - {{name: tcp, port: 9000, protocol: TCP}}\n---\n"
            f"apiVersion: gateway.networking.k8s.io/v1beta1\nkind: ReferenceGrant\nmetadata:\n  name: from-prev\n  namespace: ns{n}\n"
            f"spec:\n  from: [{{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: ns{(n - 1) % namespaces}}}]\n"
            f"  to: [{{group: '', kind: Service}}]\n---\n"
            f"apiVersion: gateway.networking.k8s.io/v1alpha2\nkind: TCPRoute\nmetadata:\n  name: tcp\n  namespace: ns{n}\n"
            f"spec:\n  parentRefs: [{{name: web, sectionName: tcp}}]\n"
            f"  rules: [{{backendRefs: [{{name: svc{n}, port: 9000}}]}}]\n---\n"
        )
    for i in range(services):
        n = i % namespaces
        port = 8000 + i % 50
        if (i // namespaces) % 10 == 0 and i + 1 < services:
            # A Service of the next namespace (svc i+1 lives there).
            backend = f"{{name: svc{i + 1}, namespace: ns{(n + 1) % namespaces}, port: {8000 + (i + 1) % 50}}}"
        else:
            backend = f"{{name: svc{i}, port: {port}}}"
        out.write(
            f"apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: route{i}\n  namespace: ns{n}\n"
            f"spec:\n  parentRefs: [{{name: web, sectionName: http}}]\n  hostnames: [svc{i}.ns{n}.example.com]\n"
            f"  rules:\n  - matches: [{{path: {{type: PathPrefix, value: /}}}}]\n    backendRefs: [{backend}]\n---\n"
        )
if files:
    count, directory = files
    os.makedirs(directory, exist_ok=True)
    docs = out.getvalue().split("---\n")[:-1]
    per_file = -(-len(docs) // count)
    for n in range(count):
        chunk = docs[n * per_file : (n + 1) * per_file]
        with open(os.path.join(directory, f"mesh-{n:04}.yaml"), "w") as f:
            f.write("".join(d + "---\n" for d in chunk))
