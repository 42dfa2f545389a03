//! Which sidecar a workload gets injected, and the ports that sidecar reserves.
//!
//! Injection follows each platform's webhook: Istio's namespace/object selectors
//! (`istio-injection`, `istio.io/rev`, `sidecar.istio.io/inject`), Linkerd's
//! `linkerd.io/inject`, Consul's `consul.hashicorp.com/connect-inject` and Dapr's
//! `dapr.io/enabled`. A pod spec that already contains the proxy container counts as injected.

use std::collections::BTreeMap;

use crate::model::Resource;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Platform {
    Istio,
    Linkerd,
    Consul,
    Dapr,
}

impl Platform {
    pub fn name(self) -> &'static str {
        match self {
            Platform::Istio => "Istio",
            Platform::Linkerd => "Linkerd",
            Platform::Consul => "Consul Connect",
            Platform::Dapr => "Dapr",
        }
    }

    /// The proxy container's name, as shown in messages.
    pub fn proxy_container(self) -> &'static str {
        match self {
            Platform::Istio => "istio-proxy",
            Platform::Linkerd => "linkerd-proxy",
            Platform::Consul => "consul-dataplane",
            Platform::Dapr => "daprd",
        }
    }

    /// Whether `name` is this platform's proxy container (already injected, or customised).
    fn is_proxy(self, name: &str) -> bool {
        match self {
            Platform::Consul => name.starts_with("consul-dataplane") || name == "envoy-sidecar",
            _ => name == self.proxy_container(),
        }
    }

    /// Whether a container belongs to this platform rather than to the app.
    pub fn owns_container(self, name: &str) -> bool {
        match self {
            Platform::Istio => matches!(name, "istio-proxy" | "istio-init" | "istio-validation"),
            Platform::Linkerd => name.starts_with("linkerd-"),
            Platform::Consul => {
                name.starts_with("consul-dataplane")
                    || matches!(
                        name,
                        "envoy-sidecar" | "consul-sidecar" | "consul-connect-inject-init"
                    )
            }
            Platform::Dapr => name == "daprd",
        }
    }
}

const ALL: [Platform; 4] = [
    Platform::Istio,
    Platform::Linkerd,
    Platform::Consul,
    Platform::Dapr,
];

/// A port the injected sidecar binds, with what it is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReservedPort {
    pub port: i64,
    pub purpose: &'static str,
}

/// A sidecar a workload gets, and why meshlint thinks so.
#[derive(Clone, Debug)]
pub struct Injection {
    pub platform: Platform,
    pub reason: String,
    pub ports: Vec<ReservedPort>,
}

/// Namespaces where no sidecar is ever injected.
pub const SYSTEM_NAMESPACES: &[&str] = &[
    "kube-system",
    "kube-public",
    "kube-node-lease",
    "local-path-storage",
];

fn port_override(
    ann: &BTreeMap<String, String>,
    key: &str,
    default: i64,
    purpose: &'static str,
) -> ReservedPort {
    let port = ann
        .get(key)
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default);
    ReservedPort { port, purpose }
}

fn reserved_ports(platform: Platform, ann: &BTreeMap<String, String>) -> Vec<ReservedPort> {
    let p = |port, purpose| ReservedPort { port, purpose };
    let mut ports = match platform {
        Platform::Istio => vec![
            p(15000, "Envoy admin"),
            p(15001, "outbound traffic capture (virtualOutbound)"),
            p(15004, "pilot-agent debug"),
            p(15006, "inbound traffic capture (virtualInbound)"),
            p(15008, "HBONE tunnel"),
            port_override(
                ann,
                "status.sidecar.istio.io/port",
                15020,
                "pilot-agent status and merged metrics",
            ),
            p(15021, "health checks"),
            p(15053, "DNS proxy"),
            p(15090, "Envoy Prometheus metrics"),
        ],
        Platform::Linkerd => vec![
            port_override(ann, "config.linkerd.io/inbound-port", 4143, "inbound proxy"),
            port_override(
                ann,
                "config.linkerd.io/outbound-port",
                4140,
                "outbound proxy",
            ),
            port_override(
                ann,
                "config.linkerd.io/admin-port",
                4191,
                "admin, metrics and probes",
            ),
            port_override(ann, "config.linkerd.io/control-port", 4190, "control (tap)"),
        ],
        Platform::Consul => vec![
            p(15001, "transparent-proxy outbound capture"),
            p(19000, "Envoy admin"),
            p(20000, "public listener (inbound mTLS)"),
            p(20100, "merged metrics"),
            p(20200, "Prometheus scrape"),
            p(20600, "graceful shutdown"),
            p(21000, "proxy readiness"),
        ],
        Platform::Dapr => vec![
            p(3500, "Dapr HTTP API"),
            p(3501, "Dapr health and metadata"),
            port_override(ann, "dapr.io/grpc-port", 50001, "Dapr gRPC API"),
            port_override(
                ann,
                "dapr.io/internal-grpc-port",
                50002,
                "Dapr internal gRPC",
            ),
            port_override(ann, "dapr.io/metrics-port", 9090, "Dapr metrics"),
        ],
    };
    // `status.sidecar.istio.io/port: "0"` disables the status port.
    ports.retain(|r| r.port > 0);
    ports
}

fn truthy(v: Option<&String>) -> Option<bool> {
    match v.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
        Some("true" | "enabled" | "1" | "yes") => Some(true),
        Some("false" | "disabled" | "0" | "no") => Some(false),
        _ => None,
    }
}

/// Whether `res` is an Istio gateway: its `istio-proxy` is the workload itself (a router, not a
/// sidecar), so its ports are the proxy's own and it gets no sidecar listeners.
pub fn is_istio_gateway(res: &Resource) -> bool {
    let Some(w) = res.workload() else {
        return false;
    };
    let labelled = w
        .pod_labels
        .get("istio")
        .is_some_and(|v| v.ends_with("gateway"))
        || w.pod_labels.contains_key("gateway.istio.io/managed")
            && w.pod_labels
                .get("gateway.istio.io/managed")
                .map(String::as_str)
                != Some("istio.io-mesh-controller");
    let template = w
        .pod_annotations
        .get("inject.istio.io/templates")
        .is_some_and(|t| t.split(',').any(|t| t.trim() == "gateway"));
    let proxy_only = w.all_containers().any(|(_, c)| c.name == "istio-proxy")
        && w.all_containers()
            .all(|(_, c)| Platform::Istio.owns_container(&c.name));
    labelled || template || proxy_only
}

/// Why `res` gets an Istio sidecar, given its namespace's labels when the Namespace is in the
/// input; `None` when it does not (or it cannot be told).
pub fn istio_reason(
    ns_labels: Option<&BTreeMap<String, String>>,
    res: &Resource,
) -> Option<String> {
    let w = res.workload()?;
    if is_istio_gateway(res) {
        return None;
    }
    let label = w.pod_labels.get("sidecar.istio.io/inject");
    let annotation = w.pod_annotations.get("sidecar.istio.io/inject");
    // The label overrides the annotation when both are set.
    let pod_choice = truthy(label).or_else(|| truthy(annotation));
    if pod_choice == Some(false) {
        return None;
    }
    if let Some(labels) = ns_labels {
        match labels.get("istio-injection").map(String::as_str) {
            Some("enabled") => {
                return Some(format!(
                    "namespace `{}` has `istio-injection=enabled`",
                    res.namespace
                ));
            }
            Some(_) => return None,
            None => {}
        }
        if let Some(rev) = labels.get("istio.io/rev") {
            return Some(format!(
                "namespace `{}` has `istio.io/rev={rev}`",
                res.namespace
            ));
        }
    }
    if let Some(rev) = w.pod_labels.get("istio.io/rev") {
        return Some(format!("the pod template has `istio.io/rev={rev}`"));
    }
    if pod_choice == Some(true) {
        let how = if truthy(label).is_some() {
            "label"
        } else {
            "annotation"
        };
        return Some(format!(
            "the pod template has the `sidecar.istio.io/inject: \"true\"` {how}"
        ));
    }
    None
}

fn annotation_reason(
    namespace: Option<&Resource>,
    res: &Resource,
    key: &str,
    namespace_level: bool,
) -> Option<String> {
    let w = res.workload()?;
    match truthy(w.pod_annotations.get(key)) {
        Some(true) => return Some(format!("the pod template has the `{key}` annotation")),
        Some(false) => return None,
        None => {}
    }
    if w.pod_annotations.get(key).is_some_and(|v| v == "ingress") {
        return Some(format!("the pod template has `{key}: ingress`"));
    }
    if namespace_level {
        let ann = &namespace?.annotations;
        if truthy(ann.get(key)) == Some(true) || ann.get(key).is_some_and(|v| v == "ingress") {
            return Some(format!(
                "namespace `{}` has the `{key}` annotation",
                res.namespace
            ));
        }
    }
    None
}

/// The sidecars workload `res` gets injected (empty when none or when unknown), given its
/// Namespace resource when the input has it.
pub fn injections(res: &Resource, namespace: Option<&Resource>) -> Vec<Injection> {
    let Some(w) = res.workload() else {
        return Vec::new();
    };
    if w.pod.host_network || SYSTEM_NAMESPACES.contains(&res.namespace.as_str()) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for platform in ALL {
        if platform == Platform::Istio && is_istio_gateway(res) {
            continue;
        }
        let present = w.all_containers().find(|(_, c)| platform.is_proxy(&c.name));
        let reason = match present {
            Some((_, c)) => Some(format!("the pod already runs the `{}` container", c.name)),
            None => match platform {
                Platform::Istio => istio_reason(namespace.map(|n| &n.labels), res),
                Platform::Linkerd => annotation_reason(namespace, res, "linkerd.io/inject", true),
                Platform::Consul => {
                    annotation_reason(namespace, res, "consul.hashicorp.com/connect-inject", false)
                }
                Platform::Dapr => annotation_reason(namespace, res, "dapr.io/enabled", false),
            },
        };
        if let Some(reason) = reason {
            out.push(Injection {
                platform,
                reason,
                ports: reserved_ports(platform, &w.pod_annotations),
            });
        }
    }
    out
}
