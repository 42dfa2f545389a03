//! MESH501 gateway-port-not-exposed: a Gateway server port that no Service in front of the
//! gateway workload exposes (istio's IST0162), and Gateways whose selector matches no workload
//! in the input (IST0101, info).
//!
//! The gateway workload comes from the graph's `AppliesTo` edges (Pods and pod-template owners in
//! any namespace); the Services from its `Selects` edges. A port is exposed as a TCP Service
//! `port` or `targetPort`, as istio's `IngressGatewayPortAnalyzer` and istiod's port
//! translation accept it.

use std::collections::{BTreeMap, BTreeSet};

use crate::diagnostic::Severity;
use crate::mesh::version::istiod_flag;
use crate::model::k8s::IntOrString;
use crate::model::{ResId, Spec, Store};
use crate::source::FieldPath;

use crate::mesh::workloads::selector_text;
use crate::model::raw::label;
use crate::rules::{Context, Rule, RuleMeta};

pub struct GatewayPortNotExposed;

static META: RuleMeta = RuleMeta {
    code: "MESH501",
    name: "gateway-port-not-exposed",
    summary: "Gateway server port is not exposed by any Service of the gateway workload",
    severity: Severity::Warning,
    istio_codes: &["IST0101", "IST0162"],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH501-gateway-port-not-exposed.md"),
};

/// Where a gateway port is exposed: `(service, port index, how)`.
type Exposure = (ResId, usize, String);

/// The ports a set of Services exposes for the gateway workloads, keyed by the port a gateway
/// server may use (service `port` and resolved `targetPort`).
fn exposed_ports(
    store: &Store,
    services: &[ResId],
    workloads: &[ResId],
) -> BTreeMap<i64, Exposure> {
    let mut out: BTreeMap<i64, Exposure> = BTreeMap::new();
    for &s in services {
        let Some(svc) = store.get(s).service() else {
            continue;
        };
        for (i, p) in svc.spec.ports.iter().enumerate() {
            if !p.l4_protocol().eq_ignore_ascii_case("TCP") {
                continue;
            }
            out.entry(p.port)
                .or_insert_with(|| (s, i, format!("port {}", p.port)));
            let targets: Vec<i64> = match &p.target_port {
                Some(IntOrString::Int(t)) => vec![*t],
                Some(IntOrString::Str(name)) => workloads
                    .iter()
                    .filter_map(|&w| store.get(w).workload())
                    .flat_map(|w| w.pod.containers.iter())
                    .flat_map(|c| c.ports.iter())
                    .filter(|cp| cp.name.as_deref() == Some(name.as_str()))
                    .map(|cp| cp.container_port)
                    .collect(),
                None => Vec::new(),
            };
            for t in targets {
                out.entry(t)
                    .or_insert_with(|| (s, i, format!("targetPort {t} of port {}", p.port)));
            }
        }
    }
    out
}

/// The TCP ports of `services`, as `port` or `port→targetPort`, for messages.
fn offered_ports(store: &Store, services: &[ResId]) -> Vec<String> {
    let mut out: Vec<(i64, String)> = Vec::new();
    for &s in services {
        if let Some(svc) = store.get(s).service() {
            for p in &svc.spec.ports {
                if !p.l4_protocol().eq_ignore_ascii_case("TCP") {
                    continue;
                }
                let shown = match &p.target_port {
                    Some(t) if t.to_string() != p.port.to_string() => format!("{}→{t}", p.port),
                    _ => p.port.to_string(),
                };
                out.push((p.port, shown));
            }
        }
    }
    out.sort();
    out.dedup();
    out.into_iter().map(|(_, s)| s).collect()
}

/// Values each label key has on some workload, for "did you mean" on a selector.
fn label_values(store: &Store) -> BTreeMap<&str, BTreeSet<&str>> {
    let mut out: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (_, r) in store.iter() {
        if let Some(w) = r.workload() {
            for (k, v) in &w.pod_labels {
                out.entry(k.as_str()).or_default().insert(v.as_str());
            }
        }
    }
    out
}

fn near_miss(
    selector: &BTreeMap<String, String>,
    values: &BTreeMap<&str, BTreeSet<&str>>,
) -> Option<String> {
    for (k, v) in selector {
        let Some(seen) = values.get(k.as_str()) else {
            continue;
        };
        if seen.contains(v.as_str()) {
            continue;
        }
        let best = seen
            .iter()
            .map(|s| (strsim::damerau_levenshtein(v, s), *s))
            .filter(|(d, s)| *d <= 3 && *d * 3 <= s.len().max(v.len()))
            .min();
        if let Some((_, s)) = best {
            return Some(format!("`{k}: {s}`"));
        }
    }
    None
}

impl Rule for GatewayPortNotExposed {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let store = cx.store;
        let scoped = istiod_flag(store, "PILOT_SCOPE_GATEWAY_TO_NAMESPACE") == Some(true);
        let mut values: Option<BTreeMap<&str, BTreeSet<&str>>> = None;
        for (id, res) in store.iter() {
            let Spec::Gateway(gw) = &res.spec else {
                continue;
            };
            if gw.selector.is_empty() {
                continue;
            }
            let sel = selector_text(&gw.selector);
            let workloads: Vec<ResId> = cx
                .graph
                .gateway_workloads(id)
                .into_iter()
                .filter(|&w| !scoped || store.get(w).namespace == res.namespace)
                .collect();
            if workloads.is_empty() {
                let values = values.get_or_insert_with(|| label_values(store));
                let hint = match near_miss(&gw.selector, values) {
                    Some(s) => {
                        format!("; workloads in the input have {s}, is the selector a typo of it?")
                    }
                    None => String::new(),
                };
                let scope = if scoped {
                    format!(
                        "namespace {} (istiod runs with PILOT_SCOPE_GATEWAY_TO_NAMESPACE)",
                        res.namespace
                    )
                } else {
                    "any namespace".to_string()
                };
                let first = gw.selector.keys().next().cloned().unwrap_or_default();
                cx.report(
                    id,
                    FieldPath::parse("spec.selector").key(first),
                    format!(
                        "no workload in the input matches selector `{sel}` (Pods and Deployments, DaemonSets, StatefulSets and other pod templates in {scope}), so the gateway's ports cannot be checked against its Service{hint}; if the gateway is deployed from elsewhere this is expected, otherwise no proxy serves this Gateway"
                    ),
                )
                .subkind("no-gateway-workload")
                .severity(Severity::Info)
                .istio(&["IST0101"])
                .help("make the selector match the gateway Deployment's pod template labels (istio's default ingress gateway has `istio: ingressgateway`), or check the gateway's Deployment and Service together with this Gateway");
                continue;
            }
            let mut services: Vec<ResId> = workloads
                .iter()
                .flat_map(|&w| cx.graph.selecting_services(w))
                .collect();
            services.sort_unstable();
            services.dedup();
            let exposed = exposed_ports(store, &services, &workloads);
            let workload_names: Vec<String> = workloads.iter().map(|&w| label(store, w)).collect();
            let service_names: Vec<String> = services.iter().map(|&s| label(store, s)).collect();
            let offered = offered_ports(store, &services);
            for (i, server) in gw.servers.iter().enumerate() {
                let Some(number) = server.port.number else {
                    continue;
                };
                if exposed.contains_key(&number) {
                    continue;
                }
                let path = FieldPath::parse("spec.servers")
                    .index(i)
                    .key("port")
                    .key("number");
                let (message, help) = if services.is_empty() {
                    (
                        format!(
                            "server port {number}: no Service in the input selects the gateway workload ({}), so nothing outside the gateway pod can reach port {number}",
                            workload_names.join(", ")
                        ),
                        format!(
                            "add a Service selecting `{sel}` with a TCP port {number} (type LoadBalancer or NodePort for traffic from outside the cluster)"
                        ),
                    )
                } else {
                    let svc_list = if services.len() == 1 {
                        service_names[0].clone()
                    } else {
                        format!("any of {}", service_names.join(", "))
                    };
                    let target = &service_names[0];
                    let alternatives = if offered.is_empty() {
                        String::new()
                    } else {
                        format!(
                            ", or move the server to a port the Service already exposes ({})",
                            offered.join(", ")
                        )
                    };
                    (
                        format!(
                            "server port {number} is not exposed by {svc_list} in front of the gateway workload ({}); the gateway proxy listens on {number}, but connections to the gateway's address on {number} are refused (the Service exposes {} as port[→targetPort])",
                            workload_names.join(", "),
                            if offered.is_empty() {
                                "no TCP port".to_string()
                            } else {
                                offered.join(", ")
                            }
                        ),
                        format!(
                            "add `{{name: tcp-{number}, port: {number}, targetPort: {number}}}` to `spec.ports` of {target} (with a nodePort for a NodePort or LoadBalancer Service){alternatives}"
                        ),
                    )
                };
                let mut r = cx.report(id, path, message).istio(&["IST0162"]).help(help);
                for &s in &services {
                    r = r.related(
                        s,
                        FieldPath::parse("spec.ports"),
                        "the ports this Service exposes",
                    );
                }
                if services.is_empty() {
                    for &w in &workloads {
                        let meta = store
                            .get(w)
                            .workload()
                            .map(|wl| wl.pod_meta_path.clone())
                            .unwrap_or_default();
                        r = r.related(
                            w,
                            meta.key("labels"),
                            "gateway workload selected by this Gateway",
                        );
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::diagnostic::{Finding, Severity};
    use crate::engine::{Settings, check_sources};
    use crate::source::Sources;

    fn run(text: &str) -> Vec<Finding> {
        crate::rules::testing::findings_of("MESH501", text)
    }

    const GATEWAY: &str = "\
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: app}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 8443, name: https, protocol: HTTPS}
    hosts: [\"*\"]
  - port: {number: 9000, name: tcp, protocol: TCP}
    hosts: [\"*\"]
";

    #[test]
    fn named_target_ports_resolve_through_container_ports() {
        let text = format!(
            "{GATEWAY}---
apiVersion: apps/v1
kind: DaemonSet
metadata: {{name: ingress, namespace: edge}}
spec:
  template:
    metadata: {{labels: {{istio: ingressgateway}}}}
    spec:
      containers:
      - name: istio-proxy
        ports: [{{name: https, containerPort: 8443}}]
---
apiVersion: v1
kind: Service
metadata: {{name: ingress, namespace: edge}}
spec:
  selector: {{istio: ingressgateway}}
  ports:
  - {{name: https, port: 443, targetPort: https}}
  - {{name: udp, port: 9000, protocol: UDP}}
"
        );
        let f = run(&text);
        // 8443 is the named targetPort of 443; 9000 is only exposed as UDP.
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].location.line, 9);
        assert_eq!(f[0].istio_codes, vec!["IST0162"]);
        assert!(
            f[0].message.contains("Service edge/ingress"),
            "{}",
            f[0].message
        );
        assert_eq!(f[0].related.len(), 1);
    }

    #[test]
    fn a_workload_without_service_reports_every_server() {
        let text = format!(
            "{GATEWAY}---
apiVersion: v1
kind: Pod
metadata: {{name: ingress, namespace: edge, labels: {{istio: ingressgateway}}}}
spec: {{containers: [{{name: istio-proxy}}]}}
"
        );
        let f = run(&text);
        assert_eq!(f.len(), 2, "{f:#?}");
        assert!(
            f.iter()
                .all(|f| f.message.contains("no Service in the input"))
        );
        assert!(f.iter().all(|f| f.severity == Severity::Warning));
    }

    #[test]
    fn missing_workload_is_one_info_finding_with_a_hint() {
        let text = format!(
            "{}---
apiVersion: v1
kind: Pod
metadata: {{name: other, namespace: edge, labels: {{istio: ingressgatewy}}}}
spec: {{containers: [{{name: c}}]}}
",
            GATEWAY
        );
        let f = run(&text);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, Severity::Info);
        assert_eq!(f[0].istio_codes, vec!["IST0101"]);
        assert_eq!(f[0].location.line, 5);
        assert!(
            f[0].message.contains("`istio: ingressgatewy`"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn scoped_gateways_only_see_their_namespace() {
        let text = format!(
            "{GATEWAY}---
apiVersion: v1
kind: Pod
metadata: {{name: ingress, namespace: edge, labels: {{istio: ingressgateway}}}}
spec: {{containers: [{{name: istio-proxy}}]}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: istiod, namespace: istio-system}}
spec:
  template:
    metadata: {{labels: {{app: istiod}}}}
    spec:
      containers:
      - name: discovery
        image: docker.io/istio/pilot:1.22.0
        env: [{{name: PILOT_SCOPE_GATEWAY_TO_NAMESPACE, value: \"true\"}}]
"
        );
        let f = run(&text);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(f[0].message.contains("PILOT_SCOPE_GATEWAY_TO_NAMESPACE"));
    }

    /// The README demo's gateway: only port 28674 is reported, by this rule alone among the
    /// gateway and route rules.
    #[test]
    fn demo_tcp_gateway() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/demo/gateway.yaml");
        let text = std::fs::read_to_string(path).expect("demo");
        let mut sources = Sources::default();
        sources.add_text("gateway.yaml".into(), text);
        let outcome = check_sources(sources, &Settings::default()).expect("valid settings");
        assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
        let ours: Vec<(&str, u32)> = outcome
            .findings
            .iter()
            .filter(|f| f.code.starts_with("MESH5") || f.code.starts_with("MESH6"))
            .map(|f| (f.code, f.location.line))
            .collect();
        assert_eq!(ours, vec![("MESH501", 81)], "{:#?}", outcome.findings);
        let f = outcome
            .findings
            .iter()
            .find(|f| f.code == "MESH501")
            .expect("MESH501");
        assert!(
            f.message.contains("80→8080, 443→8443, 31400"),
            "{}",
            f.message
        );
    }
}
