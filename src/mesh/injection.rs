//! Which sidecar a workload gets injected, the ports that sidecar reserves, and which meshes an
//! input shows.
//!
//! Every label and annotation by which a mesh's injector decides injection, or by which a manifest
//! shows the mesh, is listed once, in [`MARKERS`], as each injector reads it:
//! - Istio: istio `pkg/kube/inject/inject.go` (`injectRequired`: the `sidecar.istio.io/inject`
//!   label over the annotation), the injector's namespace selectors (`istio-injection`,
//!   `istio.io/rev`), and ambient enrolment `istio.io/dataplane-mode` (istio `cni/README.md`);
//! - Linkerd: `linkerd.io/inject` on the pod template or its namespace (linkerd2
//!   `pkg/inject/report.go`, `disabledByAnnotation`);
//! - Consul: consul-k8s `control-plane/connect-inject/webhook/mesh_webhook.go` (`shouldInject`:
//!   `consul.hashicorp.com/connect-inject`), its v2 webhook `webhookv2/mesh_webhook.go`
//!   (`consul.hashicorp.com/mesh-inject`; removed after consul-k8s 491024516d), the namespace
//!   labels of `common/common.go` and `webhook/container_init.go`, and the status both leave;
//! - Dapr: `dapr.io/enabled` (dapr `pkg/injector/service/handler.go`, `podHasDaprEnabled`).
//!
//! A pod spec that already contains the proxy container counts as injected.

use std::collections::BTreeMap;

use crate::model::k8s::Workload;
use crate::model::{Resource, Store};
use crate::source::Value;

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

/// Where a marker is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    NamespaceLabel,
    NamespaceAnnotation,
    PodLabel,
    PodAnnotation,
}

/// A label or annotation key that belongs to one mesh.
#[derive(Debug)]
struct Marker {
    platform: Platform,
    key: &'static str,
    /// Where the mesh's injector reads it.
    read_on: &'static [Place],
    /// Whether its value switches the sidecar on or off; otherwise the key only shows the mesh (a
    /// setting of injected pods, ambient enrolment, the status an injector leaves on a pod).
    switches: bool,
}

pub const ISTIO_INJECTION: &str = "istio-injection";
pub const ISTIO_REV: &str = "istio.io/rev";
pub const SIDECAR_INJECT: &str = "sidecar.istio.io/inject";

const NS_LABEL: &[Place] = &[Place::NamespaceLabel];
const POD_ANNOTATION: &[Place] = &[Place::PodAnnotation];
const POD_STATUS: &[Place] = &[Place::PodLabel, Place::PodAnnotation];
const NS_LABEL_OR_POD_ANNOTATION: &[Place] = &[Place::NamespaceLabel, Place::PodAnnotation];

/// Every injection marker of the supported meshes (see the module comment for their sources).
const MARKERS: &[Marker] = &[
    Marker {
        platform: Platform::Istio,
        key: ISTIO_INJECTION,
        read_on: NS_LABEL,
        switches: true,
    },
    Marker {
        platform: Platform::Istio,
        key: ISTIO_REV,
        read_on: &[Place::NamespaceLabel, Place::PodLabel],
        switches: true,
    },
    Marker {
        platform: Platform::Istio,
        key: SIDECAR_INJECT,
        read_on: &[Place::PodLabel, Place::PodAnnotation],
        switches: true,
    },
    // `ambient` enrols pods in the mesh through ztunnel, with no sidecar.
    Marker {
        platform: Platform::Istio,
        key: "istio.io/dataplane-mode",
        read_on: &[Place::NamespaceLabel, Place::PodLabel],
        switches: false,
    },
    Marker {
        platform: Platform::Linkerd,
        key: "linkerd.io/inject",
        read_on: &[Place::NamespaceAnnotation, Place::PodAnnotation],
        switches: true,
    },
    Marker {
        platform: Platform::Consul,
        key: "consul.hashicorp.com/connect-inject",
        read_on: POD_ANNOTATION,
        switches: true,
    },
    Marker {
        platform: Platform::Consul,
        key: "consul.hashicorp.com/mesh-inject",
        read_on: POD_ANNOTATION,
        switches: true,
    },
    Marker {
        platform: Platform::Consul,
        key: "consul.hashicorp.com/transparent-proxy",
        read_on: NS_LABEL_OR_POD_ANNOTATION,
        switches: false,
    },
    Marker {
        platform: Platform::Consul,
        key: "consul.hashicorp.com/consul-dns",
        read_on: NS_LABEL_OR_POD_ANNOTATION,
        switches: false,
    },
    Marker {
        platform: Platform::Consul,
        key: "consul.hashicorp.com/connect-inject-status",
        read_on: POD_STATUS,
        switches: false,
    },
    Marker {
        platform: Platform::Consul,
        key: "consul.hashicorp.com/mesh-inject-status",
        read_on: POD_STATUS,
        switches: false,
    },
    Marker {
        platform: Platform::Dapr,
        key: "dapr.io/enabled",
        read_on: POD_ANNOTATION,
        switches: true,
    },
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
    if is_istio_gateway(res) {
        return None;
    }
    injector_selects(ns_labels, res)
}

/// Why Istio's injection webhook processes the pods of `res` (gateways included, which get
/// their proxy from the `gateway` template); `None` when it does not or it cannot be told.
pub fn injector_selects(
    ns_labels: Option<&BTreeMap<String, String>>,
    res: &Resource,
) -> Option<String> {
    let w = res.workload()?;
    let label = w.pod_labels.get(SIDECAR_INJECT);
    let annotation = w.pod_annotations.get(SIDECAR_INJECT);
    // istiod reads only "true" and "false" here; any other value leaves the namespace's
    // default (`injectRequired` in `pkg/kube/inject/inject.go`). The label overrides the
    // annotation when both are set.
    let choice = |v: Option<&String>| match v.map(String::as_str) {
        Some("true") => Some(true),
        Some("false") => Some(false),
        _ => None,
    };
    let pod_choice = choice(label).or_else(|| choice(annotation));
    if pod_choice == Some(false) {
        return None;
    }
    if let Some(labels) = ns_labels {
        match labels.get(ISTIO_INJECTION).map(String::as_str) {
            Some("enabled") => {
                return Some(format!(
                    "namespace `{}` has `{ISTIO_INJECTION}=enabled`",
                    res.namespace
                ));
            }
            Some(_) => return None,
            None => {}
        }
        if let Some(rev) = labels.get(ISTIO_REV) {
            return Some(format!(
                "namespace `{}` has `{ISTIO_REV}={rev}`",
                res.namespace
            ));
        }
    }
    if let Some(rev) = w.pod_labels.get(ISTIO_REV) {
        return Some(format!("the pod template has `{ISTIO_REV}={rev}`"));
    }
    // Without a namespace label only the `object` webhook runs, and it selects the pod label
    // `sidecar.istio.io/inject=true` (`manifests/charts/istio-control/istio-discovery/templates/
    // mutatingwebhook.yaml`); the annotation alone injects only where the namespace, not in
    // the input here, is selected anyway.
    if choice(label) == Some(true) {
        return Some(format!(
            "the pod template has the `{SIDECAR_INJECT}: \"true\"` label"
        ));
    }
    if pod_choice == Some(true) && ns_labels.is_none() {
        return Some(format!(
            "the pod template has the `{SIDECAR_INJECT}: \"true\"` annotation (its namespace is not in the input)"
        ));
    }
    None
}

/// A switching marker's value; Linkerd's `ingress` mode injects too.
fn switched_on(v: Option<&String>) -> Option<bool> {
    match v {
        Some(v) if v == "ingress" => Some(true),
        v => truthy(v),
    }
}

/// Why `platform`'s sidecar is injected by annotation (Linkerd, Consul, Dapr): a switching
/// marker on the pod template decides, else one on the namespace where the injector reads it.
fn annotation_reason(
    platform: Platform,
    namespace: Option<&Resource>,
    res: &Resource,
    w: &Workload,
) -> Option<String> {
    let switches = || {
        MARKERS
            .iter()
            .filter(move |m| m.platform == platform && m.switches)
    };
    let mut off = false;
    for m in switches().filter(|m| m.read_on.contains(&Place::PodAnnotation)) {
        let v = w.pod_annotations.get(m.key);
        match switched_on(v) {
            Some(true) if v.is_some_and(|v| v == "ingress") => {
                return Some(format!("the pod template has `{}: ingress`", m.key));
            }
            Some(true) => {
                return Some(format!("the pod template has the `{}` annotation", m.key));
            }
            Some(false) => off = true,
            None => {}
        }
    }
    if off {
        return None;
    }
    let ann = &namespace?.annotations;
    switches()
        .filter(|m| m.read_on.contains(&Place::NamespaceAnnotation))
        .find(|m| switched_on(ann.get(m.key)) == Some(true))
        .map(|m| {
            format!(
                "namespace `{}` has the `{}` annotation",
                res.namespace, m.key
            )
        })
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
                _ => annotation_reason(platform, namespace, res, w),
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

/// The meshes `res` shows: a marker on the object or on its pod template, wherever it is written
/// (a misplaced marker still tells which mesh the author meant), or a mesh's proxy container.
pub fn platforms_shown(res: &Resource) -> impl Iterator<Item = Platform> + '_ {
    let pod = res.workload();
    ALL.into_iter().filter(move |&platform| {
        let marked = MARKERS.iter().filter(|m| m.platform == platform).any(|m| {
            res.labels.contains_key(m.key)
                || res.annotations.contains_key(m.key)
                || pod.is_some_and(|w| {
                    w.pod_labels.contains_key(m.key) || w.pod_annotations.contains_key(m.key)
                })
        });
        marked || pod.is_some_and(|w| w.all_containers().any(|(_, c)| platform.is_proxy(&c.name)))
    })
}

/// Whether workload `res` shows another mesh (Linkerd, Consul, Dapr) and nothing of Istio, on
/// itself or on its Namespace when the input has it: a workload of another mesh in an input that
/// also holds Istio resources.
pub fn other_mesh_only(res: &Resource, namespace: Option<&Resource>) -> bool {
    if namespace.is_some_and(|ns| platforms_shown(ns).any(|p| p == Platform::Istio)) {
        return false;
    }
    let mut other = false;
    for platform in platforms_shown(res) {
        if platform == Platform::Istio {
            return false;
        }
        other = true;
    }
    other
}

/// Whether the input is a snapshot of a cluster (`kubectl get -o yaml`) rather than manifests:
/// an object carries server-set fields, or a pod already has its injected proxy. Only then does
/// a pod without a proxy mean injection did not happen.
pub fn is_cluster_snapshot(store: &Store) -> bool {
    store.iter().any(|(_, r)| {
        let injected = r.kind == "Pod"
            && (r.annotations.contains_key("sidecar.istio.io/status")
                || r.workload()
                    .is_some_and(|w| w.all_containers().any(|(_, c)| c.name == "istio-proxy")));
        injected
            // `kubectl create --dry-run -o yaml` writes `status: {}`; a server fills it in.
            || r.node
                .get("status")
                .is_some_and(|s| matches!(&s.value, Value::Map(m) if !m.is_empty()))
            || ["resourceVersion", "uid"]
                .iter()
                .any(|k| r.node.get("metadata").and_then(|m| m.get(k)).is_some())
    })
}

/// What the input shows of service meshes: `Some(true)` when something of Istio (an Istio API
/// object, or an Istio marker or proxy), `Some(false)` when only other meshes' markers, `None`
/// when no mesh at all.
fn istio_shown(store: &Store) -> Option<bool> {
    let mut other = false;
    for (_, r) in store.iter() {
        if r.api_version.contains("istio.io/") {
            return Some(true);
        }
        for platform in platforms_shown(r) {
            if platform == Platform::Istio {
                return Some(true);
            }
            other = true;
        }
    }
    other.then_some(false)
}

/// Whether the input shows Istio: an Istio API object, or an Istio marker on a namespace or
/// workload.
pub fn uses_istio(store: &Store) -> bool {
    istio_shown(store) == Some(true)
}

/// Whether Istio's conventions apply to the input: false only when it shows another mesh and
/// nothing of Istio; an input with no mesh marker at all is taken as Istio's.
pub fn mesh_is_istio(store: &Store) -> bool {
    istio_shown(store) != Some(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::from_documents;

    fn store(text: &str) -> Store {
        let (sources, store) = from_documents(&[("t.yaml".into(), text.into())]);
        assert!(sources.errors.is_empty(), "{:?}", sources.errors);
        store
    }

    fn deployment(annotations: &str) -> String {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: shop}}\nspec:\n  template:\n    metadata: {{labels: {{app: web}}, annotations: {annotations}}}\n    spec: {{containers: [{{name: web, image: web}}]}}\n"
        )
    }

    fn platforms(store: &Store) -> Vec<Platform> {
        let mut out: Vec<Platform> = store.iter().flat_map(|(_, r)| platforms_shown(r)).collect();
        out.dedup();
        out
    }

    #[test]
    fn consul_v2_mesh_inject_injects_consul_dataplane() {
        let s = store(&deployment(r#"{consul.hashicorp.com/mesh-inject: "true"}"#));
        let inj = injections(s.get(0), None);
        assert_eq!(inj.len(), 1);
        assert_eq!(inj[0].platform, Platform::Consul);
        assert!(inj[0].reason.contains("consul.hashicorp.com/mesh-inject"));
        assert!(inj[0].ports.iter().any(|p| p.port == 20000));
        assert!(!mesh_is_istio(&s));
    }

    #[test]
    fn consul_pods_opting_out_get_no_sidecar() {
        let both = r#"{consul.hashicorp.com/connect-inject: "false", consul.hashicorp.com/mesh-inject: "false"}"#;
        assert!(injections(store(&deployment(both)).get(0), None).is_empty());
    }

    #[test]
    fn every_mesh_is_told_by_its_markers() {
        let cases = [
            (r#"{linkerd.io/inject: enabled}"#, Platform::Linkerd),
            (
                r#"{consul.hashicorp.com/connect-inject: "true"}"#,
                Platform::Consul,
            ),
            (
                r#"{consul.hashicorp.com/connect-inject-status: injected}"#,
                Platform::Consul,
            ),
            (r#"{dapr.io/enabled: "true"}"#, Platform::Dapr),
            (r#"{sidecar.istio.io/inject: "false"}"#, Platform::Istio),
        ];
        for (annotations, platform) in cases {
            assert_eq!(platforms(&store(&deployment(annotations))), vec![platform]);
        }
        let ns = "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {consul.hashicorp.com/transparent-proxy: \"true\"}}\n";
        assert_eq!(platforms(&store(ns)), vec![Platform::Consul]);
        let proxy = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: app}, {name: linkerd-proxy}]}\n";
        assert_eq!(platforms(&store(proxy)), vec![Platform::Linkerd]);
    }

    #[test]
    fn istio_ambient_beside_another_mesh_is_istio() {
        let ambient = "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {istio.io/dataplane-mode: ambient}}\n---\n";
        let dapr = deployment(r#"{dapr.io/enabled: "true"}"#);
        assert!(!mesh_is_istio(&store(&dapr)));
        assert!(mesh_is_istio(&store(&format!("{ambient}{dapr}"))));
        // Ambient enrols pods without a sidecar.
        let s = store(&format!("{ambient}{dapr}"));
        let inj = injections(s.get(1), Some(s.get(0)));
        assert_eq!(
            inj.iter().map(|i| i.platform).collect::<Vec<_>>(),
            vec![Platform::Dapr]
        );
    }

    #[test]
    fn an_input_without_markers_is_istio() {
        assert!(mesh_is_istio(&store(&deployment("{}"))));
    }

    #[test]
    fn istio_reads_only_true_and_false_and_the_annotation_needs_a_selected_namespace() {
        let pod = |labels: &str, annotations: &str| {
            format!(
                "apiVersion: v1\nkind: Pod\nmetadata: {{name: p, namespace: shop, labels: {labels}, annotations: {annotations}}}\nspec: {{containers: [{{name: c}}]}}\n"
            )
        };
        let reason = |ns_labels: Option<&str>, labels: &str, annotations: &str| {
            let ns = ns_labels.map_or(String::new(), |l| {
                format!(
                    "apiVersion: v1\nkind: Namespace\nmetadata: {{name: shop, labels: {l}}}\n---\n"
                )
            });
            let st = store(&format!("{ns}{}", pod(labels, annotations)));
            let (_, res) = st.iter().find(|(_, r)| r.kind == "Pod").expect("pod");
            let ns_res = st
                .iter()
                .find(|(_, r)| r.kind == "Namespace")
                .map(|(_, r)| &r.labels);
            istio_reason(ns_res, res)
        };
        let ann = "{sidecar.istio.io/inject: \"true\"}";
        assert!(
            reason(Some("{}"), "{}", ann).is_none(),
            "annotation alone, unlabelled namespace"
        );
        assert!(reason(None, "{}", ann).is_some(), "namespace unknown");
        assert!(reason(Some("{}"), "{sidecar.istio.io/inject: \"true\"}", "{}").is_some());
        let enabled = Some("{istio-injection: enabled}");
        assert!(reason(enabled, "{sidecar.istio.io/inject: disabled}", "{}").is_some());
        assert!(reason(enabled, "{sidecar.istio.io/inject: \"false\"}", "{}").is_none());
    }
}
