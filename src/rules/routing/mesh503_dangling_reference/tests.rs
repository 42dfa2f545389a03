use crate::diagnostic::{Finding, Severity};

fn run(text: &str) -> Vec<Finding> {
    crate::rules::testing::findings_of("MESH503", text)
}

fn summary(f: &[Finding]) -> Vec<(u32, Severity, Vec<&'static str>)> {
    f.iter()
        .map(|f| (f.location.line, f.severity, f.istio_codes.clone()))
        .collect()
}

#[test]
fn export_to_hides_a_service_from_other_namespaces() {
    let text = "\
apiVersion: v1
kind: Service
metadata:
  name: details
  namespace: default
  annotations: {networking.istio.io/exportTo: banana}
spec: {ports: [{name: http, port: 9080}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: a, namespace: istio-system}
spec:
  hosts: [details]
  http:
  - route:
    - destination: {host: details.default.svc.cluster.local}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: b, namespace: banana}
spec:
  hosts: [details]
  http:
  - route:
    - destination: {host: details.default.svc.cluster.local}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: c, namespace: default}
spec:
  hosts: [details]
  exportTo: [bogus]
  http:
  - route:
    - destination: {host: details}
";
    let f = run(text);
    assert_eq!(
        summary(&f),
        vec![
            (16, Severity::Warning, vec!["IST0101"]),
            (35, Severity::Warning, vec!["IST0101"]),
        ],
        "{f:#?}"
    );
    assert!(
        f[0].message.contains("exportTo (namespace banana)"),
        "{}",
        f[0].message
    );
    assert_eq!(f[0].related.len(), 1);
}

#[test]
fn wildcard_service_entries_and_partial_inputs() {
    let text = "\
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: eu, namespace: default}
spec: {hosts: ['*.eu.example.com'], ports: [{number: 443, name: tls, protocol: TLS}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: a, namespace: default}
spec:
  hosts: [a.example.com]
  tls:
  - match: [{sniHosts: [a.example.com]}]
    route:
    - destination: {host: shop.eu.example.com}
    - destination: {host: api.payments.svc.cluster.local}
    - {}
";
    let f = run(text);
    // The payments namespace has nothing in the input: info. The empty destination: warning.
    assert_eq!(
        summary(&f),
        vec![
            (15, Severity::Info, vec!["IST0101"]),
            (16, Severity::Warning, vec!["IST0101"]),
        ],
        "{f:#?}"
    );
}

#[test]
fn a_namespace_with_only_gateway_services_is_partial_input() {
    let text = "\
apiVersion: v1
kind: Service
metadata: {name: istio-ingressgateway, namespace: istio-system}
spec: {selector: {app: istio-ingressgateway, istio: ingressgateway}, ports: [{name: http2, port: 80}]}
---
apiVersion: v1
kind: Service
metadata:
  name: web-istio
  namespace: web
  labels: {gateway.networking.k8s.io/gateway-name: web}
spec: {selector: {gateway.networking.k8s.io/gateway-name: web}, ports: [{name: http, port: 80}]}
---
apiVersion: v1
kind: Pod
metadata: {name: edge, namespace: edge, labels: {app: edge-proxy}}
spec: {containers: [{name: istio-proxy}]}
---
apiVersion: v1
kind: Service
metadata: {name: edge-proxy, namespace: edge}
spec: {selector: {app: edge-proxy}, ports: [{name: http, port: 80}]}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: edge, namespace: edge}
spec:
  selector: {app: edge-proxy}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ['*']}]
---
apiVersion: v1
kind: Service
metadata: {name: ratings, namespace: shop}
spec: {selector: {app: ratings}, ports: [{name: http, port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: shop-gateway, namespace: shop}
spec: {selector: {istio: shop-gateway}, ports: [{name: http, port: 80}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: a, namespace: default}
spec:
  hosts: [a.example.com]
  http:
  - route:
    - destination: {host: grafana.istio-system.svc.cluster.local}
    - destination: {host: frontend.web.svc.cluster.local}
    - destination: {host: api.edge.svc.cluster.local}
    - destination: {host: cart.shop.svc.cluster.local}
";
    let f = run(text);
    // istio-system, web and edge only hold gateways' Services: info. shop has an application
    // Service beside its gateway: warning.
    let got: Vec<Severity> = f.iter().map(|f| f.severity).collect();
    assert_eq!(
        got,
        [
            Severity::Info,
            Severity::Info,
            Severity::Info,
            Severity::Warning
        ],
        "{f:#?}"
    );
    assert!(
        f[0].message.contains(
            "namespace istio-system has no Services in the input but the gateway's (Service istio-system/istio-ingressgateway)"
        ),
        "{}",
        f[0].message
    );
    assert!(f[3].message.contains("fail with 503"), "{}", f[3].message);
}

#[test]
fn subsets_follow_destination_rule_precedence() {
    let text = "\
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: bookinfo}
spec: {ports: [{name: http, port: 9080}]}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: bookinfo}
spec:
  host: reviews
  subsets: [{name: v1}, {name: v2}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews-local, namespace: frontend}
spec:
  host: reviews.bookinfo.svc.cluster.local
  subsets: [{name: v1}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: a, namespace: frontend}
spec:
  hosts: [reviews.bookinfo.svc.cluster.local]
  http:
  - route:
    - destination: {host: reviews.bookinfo.svc.cluster.local, subset: v2}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: b, namespace: other}
spec:
  hosts: [reviews.bookinfo.svc.cluster.local]
  http:
  - route:
    - destination: {host: reviews.bookinfo.svc.cluster.local, subset: v2}
    mirror: {host: reviews.bookinfo.svc.cluster.local, subset: v3}
";
    let f = run(text);
    // frontend's own DestinationRule wins there and lacks v2; `other` uses bookinfo's.
    assert_eq!(
        summary(&f),
        vec![
            (27, Severity::Error, vec!["IST0101"]),
            (37, Severity::Error, vec!["IST0101"]),
        ],
        "{f:#?}"
    );
    assert!(
        f[0].message.contains("frontend/reviews-local"),
        "{}",
        f[0].message
    );
    assert!(f[1].message.starts_with("subset `v3`"), "{}", f[1].message);
}

#[test]
fn subset_labels_use_service_workloads_and_node_topology() {
    let text = "\
apiVersion: v1
kind: Node
metadata:
  name: n1
  labels: {topology.kubernetes.io/region: us-west-1, topology.kubernetes.io/zone: us-west-1a}
---
apiVersion: v1
kind: Pod
metadata: {name: httpbin, namespace: default, labels: {app: httpbin, version: v1}}
spec: {nodeName: n1, containers: [{name: c}]}
---
apiVersion: v1
kind: Pod
metadata: {name: other, namespace: default, labels: {app: other, version: v2}}
spec: {containers: [{name: c}]}
---
apiVersion: v1
kind: Service
metadata: {name: httpbin, namespace: default}
spec: {selector: {app: httpbin}, ports: [{name: http, port: 8000}]}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: httpbin, namespace: default}
spec:
  host: httpbin
  subsets:
  - {name: west, labels: {topology.kubernetes.io/zone: us-west-1a}}
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
";
    let f = run(text);
    // v2 only exists on a pod that is not behind the Service; nothing routes to it.
    assert_eq!(
        summary(&f),
        vec![(30, Severity::Warning, vec!["IST0173"])],
        "{f:#?}"
    );
    assert!(f[0].message.contains("version: v1"), "{}", f[0].message);
    assert!(
        f[0].message
            .contains("no VirtualService in the input routes to it"),
        "{}",
        f[0].message
    );
    // A mirror to the subset does not make it an error; a route does, and is named.
    let mirror = "\
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: shadow, namespace: default}
spec:
  hosts: [httpbin]
  http:
  - route:
    - destination: {host: httpbin, subset: v1}
    mirror: {host: httpbin, subset: v2}
";
    let f = run(&format!("{text}{mirror}"));
    assert_eq!(summary(&f)[0], (30, Severity::Warning, vec!["IST0173"]));
    let route = "\
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: canary, namespace: other}
spec:
  hosts: [httpbin.default.svc.cluster.local]
  http:
  - route:
    - destination: {host: httpbin.default.svc.cluster.local, subset: v2}
";
    let f = run(&format!("{text}{mirror}{route}"));
    assert_eq!(summary(&f)[0], (30, Severity::Error, vec!["IST0173"]));
    assert!(
        f[0].message
            .contains("VirtualService other/canary routes to it, so those requests fail"),
        "{}",
        f[0].message
    );
    assert_eq!(f[0].related.len(), 1, "{f:#?}");
}

#[test]
fn selectors_namespaces_and_secrets() {
    let text = "\
apiVersion: v1
kind: Namespace
metadata: {name: httpbin}
---
apiVersion: v1
kind: Pod
metadata: {name: reviews, namespace: default, labels: {app: reviews}}
spec: {containers: [{name: c}]}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: s, namespace: other}
spec:
  workloadSelector: {labels: {app: reviews}}
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: t, namespace: default}
spec:
  selector: {matchLabels: {app: bogus}}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: p, namespace: httpbin}
spec:
  rules:
  - from:
    - source: {namespaces: [httpbin, 'http*', '*-bogus']}
---
apiVersion: v1
kind: Pod
metadata: {name: gw, namespace: istio-system, labels: {istio: ingressgateway}}
spec: {containers: [{name: istio-proxy}]}
---
apiVersion: v1
kind: Secret
metadata: {name: cert, namespace: default}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: g, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    tls: {mode: SIMPLE, credentialName: cert}
    hosts: ['*']
";
    let f = run(text);
    assert_eq!(
        summary(&f),
        vec![
            (14, Severity::Warning, vec!["IST0101"]),
            (20, Severity::Warning, vec!["IST0101"]),
            // The namespace-wide policy in httpbin, where the input has no workloads.
            (24, Severity::Info, vec!["IST0127"]),
            (28, Severity::Warning, vec!["IST0101"]),
            (46, Severity::Warning, vec!["IST0101"]),
        ],
        "{f:#?}"
    );
    assert!(
        f[0].message.contains("Pod default/reviews match"),
        "{}",
        f[0].message
    );
    assert!(
        f[4].message.contains("exists in namespace default"),
        "{}",
        f[4].message
    );
}

#[test]
fn gateway_references() {
    let text = "\
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: k8s-gw, namespace: default}
spec: {gatewayClassName: istio, listeners: [{name: http, port: 80, protocol: HTTP}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: a, namespace: default}
spec:
  hosts: ['*']
  gateways:
  - mesh
  - k8s-gw
  - default/k8s-gw
  - k8s-gw.default.svc.cluster.local
  - k8s-gwx
  - edge/main
  - istio-ingress/gateway~istio-autogenerated-k8s-gateway~http
  tcp:
  - match: [{gateways: [nope]}]
    route: [{destination: {host: a.example.com}}]
";
    let f: Vec<Finding> = run(text)
        .into_iter()
        .filter(|f| f.message.starts_with("gateway"))
        .collect();
    assert_eq!(
        summary(&f),
        vec![
            (16, Severity::Warning, vec!["IST0101", "IST0132"]),
            (17, Severity::Info, vec!["IST0101", "IST0132"]),
            (18, Severity::Warning, vec!["IST0165"]),
            (20, Severity::Warning, vec![]),
        ],
        "{f:#?}"
    );
    assert!(
        f[0].message.contains("did you mean `k8s-gw`"),
        "{}",
        f[0].message
    );
}

#[test]
fn sidecar_egress_hosts() {
    let text = "\
apiVersion: v1
kind: Service
metadata: {name: ratings, namespace: bookinfo}
spec: {ports: [{name: http, port: 9080}]}
---
apiVersion: v1
kind: Service
metadata: {name: hidden, namespace: bookinfo, annotations: {networking.istio.io/exportTo: .}}
spec: {ports: [{name: http, port: 9080}]}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: s, namespace: frontend}
spec:
  egress:
  - hosts:
    - bookinfo/ratings.bookinfo.svc.cluster.local
    - '*/ratings.bookinfo.svc.cluster.local'
    - ./*
    - bookinfo/hidden.bookinfo.svc.cluster.local
    - payments/api.payments.svc.cluster.local
    - bookinfo/ratings
";
    let f = run(text);
    assert_eq!(
        summary(&f),
        vec![
            (20, Severity::Warning, vec![]),
            (21, Severity::Info, vec![])
        ],
        "{f:#?}"
    );
}

#[test]
fn hosts_of_unmodelled_declarations_are_info() {
    let base = "\
apiVersion: v1
kind: Service
metadata: {name: web, namespace: app}
spec: {selector: {app: web}, ports: [{name: http, port: 80}]}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: vm, namespace: app}
spec: {address: 10.0.0.9, labels: {app: billing}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: a, namespace: app}
spec:
  hosts: [a.example.com]
  http:
  - route:
    - destination: {host: reviews.app.global}
    - destination: {host: reviews.app.svc.other.local}
    - destination: {host: billing}
    - destination: {host: wbe}
";
    let f = run(base);
    assert_eq!(
        summary(&f),
        vec![
            (18, Severity::Info, vec!["IST0101"]),
            (19, Severity::Info, vec!["IST0101"]),
            (20, Severity::Info, vec!["IST0101"]),
            // Close to a declared host: a typo, whatever else the namespace holds.
            (21, Severity::Warning, vec!["IST0101"]),
        ],
        "{f:#?}"
    );
    assert!(
        f[2].message
            .contains("WorkloadEntry app/vm (app=billing) is selected by no ServiceEntry"),
        "{}",
        f[2].message
    );
    // A ServiceEntry selecting the WorkloadEntry takes that reason away.
    let selected = "\
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: billing-vm, namespace: app}
spec:
  hosts: [billing.internal]
  workloadSelector: {labels: {app: billing}}
  ports: [{number: 80, name: http, protocol: HTTP}]
";
    let f = run(&format!("{base}{selected}"));
    assert_eq!(f[2].severity, Severity::Warning, "{}", f[2].message);
    // Maistra federation resources make any undeclared host info.
    let federation = "\
---
apiVersion: federation.maistra.io/v1
kind: ImportedServiceSet
metadata: {name: peer, namespace: mesh-system}
spec: {importRules: [{type: NameSelector, importAsLocal: true, nameSelector: {namespace: app, name: billing}}]}
";
    let f = run(&format!("{base}{selected}{federation}"));
    assert_eq!(f[2].severity, Severity::Info, "{}", f[2].message);
    assert!(
        f[2].message
            .contains("Maistra federation resources (ImportedServiceSet mesh-system/peer)"),
        "{}",
        f[2].message
    );
}

#[test]
fn a_service_host_routed_to_itself_is_probably_created_elsewhere() {
    let text = "\
apiVersion: v1
kind: Service
metadata: {name: frontend, namespace: shop}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: catalog, namespace: shop}
spec:
  hosts: [catalog, api.example.com]
  http:
  - route:
    - destination: {host: catalog.shop.svc.cluster.local}
    - destination: {host: api.example.com}
    - destination: {host: payments}
";
    let found = run(text);
    assert_eq!(
        summary(&found),
        vec![
            (13, Severity::Info, vec!["IST0101"]),
            (14, Severity::Warning, vec!["IST0101"]),
            (15, Severity::Warning, vec!["IST0101"]),
        ],
        "{found:#?}"
    );
    assert!(
        found[0]
            .message
            .contains("probably created outside the input")
    );
}
