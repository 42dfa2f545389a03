//! A workload's data plane: a sidecar, ambient (ztunnel), or neither, and the facts that decide
//! it, in the order istio applies them.
//!
//! - The injector never injects hostNetwork pods (istio `pkg/kube/inject/inject.go`
//!   `injectRequired`), and the CNI agent never redirects them to ztunnel (istio
//!   `cni/pkg/util/enablement_selector.go` `Matches`): they run outside the mesh.
//! - A pod with a sidecar is never redirected to ztunnel: `Matches` opts out every pod whose
//!   `sidecar.istio.io/status` annotation the injector wrote (`podHasSidecar` in
//!   `cni/pkg/util/podutil.go`), and the injector does not read `istio.io/dataplane-mode`. So
//!   when both select a pod, the sidecar wins and the ambient label has no effect.
//! - Otherwise the CNI agent's default enablement selectors (istio
//!   `manifests/charts/istio-cni/values.yaml`, `ambient.enablementSelectors`) redirect a pod
//!   labelled `istio.io/dataplane-mode=ambient`, or a pod in a namespace so labelled unless the
//!   pod is labelled `istio.io/dataplane-mode=none`.
//! - In a cluster snapshot, a Pod's `ambient.istio.io/redirection: enabled` annotation (written
//!   by the CNI agent once it redirected the pod, `AnnotateEnrolledPod`) and its
//!   `sidecar.istio.io/status` annotation show what happened, whatever the labels say now.

use crate::source::FieldPath;

/// The label that enrols a namespace or pod in ambient (`ambient`) or opts a pod out (`none`).
pub const DATAPLANE_MODE: &str = "istio.io/dataplane-mode";
/// The annotation the CNI agent writes on a pod it redirected to ztunnel.
pub const REDIRECTION: &str = "ambient.istio.io/redirection";
/// The annotation the injector writes on a pod it injected.
pub const SIDECAR_STATUS: &str = "sidecar.istio.io/status";

/// The ports ztunnel listens on inside the network namespace of every pod it captures (in-pod
/// redirection): istio `cni/pkg/config/config.go` (`ZtunnelOutboundPort`,
/// `ZtunnelInboundPlaintextPort`, `ZtunnelInboundPort`, `DNSCapturePort`) and
/// `architecture/ambient/ztunnel.md`; inbound traffic to any other port is redirected to 15006,
/// and traffic to 15008 is taken as HBONE.
pub const ZTUNNEL_POD_PORTS: [(i64, &str); 4] = [
    (15001, "outbound capture"),
    (15006, "inbound plain-text capture"),
    (15008, "inbound HBONE"),
    (15053, "DNS capture"),
];

/// How a workload's pods reach the mesh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataplaneMode {
    /// An injected `istio-proxy` sidecar.
    Sidecar,
    /// Redirected to the node's ztunnel.
    Ambient,
    /// Neither: outside the mesh (or a gateway proxy, which is its own data plane).
    None,
}

impl DataplaneMode {
    pub fn name(self) -> &'static str {
        match self {
            DataplaneMode::Sidecar => "sidecar",
            DataplaneMode::Ambient => "ambient",
            DataplaneMode::None => "no mesh data plane",
        }
    }
}

/// What a cluster snapshot shows of a workload's pods.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observed {
    /// Pods carrying `ambient.istio.io/redirection: enabled`.
    pub redirected: Vec<crate::model::ResId>,
    /// Pods carrying `sidecar.istio.io/status` or an `istio-proxy` container.
    pub with_sidecar: Vec<crate::model::ResId>,
}

impl Observed {
    pub fn is_empty(&self) -> bool {
        self.redirected.is_empty() && self.with_sidecar.is_empty()
    }
}

/// Every fact about one workload's data plane, and the mode istio derives from them.
#[derive(Debug, Clone)]
pub struct ModeFacts {
    pub mode: DataplaneMode,
    /// Why istio's injector gives the pods a sidecar (from `injection::injections`).
    pub injected: Option<String>,
    /// The `istio.io/dataplane-mode=ambient` label that selects the pods for ztunnel, on the pod
    /// template or, when the pod has no such label and is not opted out, on the namespace; set
    /// even when a sidecar or hostNetwork overrides it.
    pub ambient_label: Option<(crate::model::ResId, FieldPath)>,
    /// The pod template's `istio.io/dataplane-mode=none` label, when the namespace is ambient.
    pub opted_out: Option<(crate::model::ResId, FieldPath)>,
    /// `spec.hostNetwork: true`.
    pub host_network: bool,
    /// An Istio gateway or waypoint: a proxy of its own, neither sidecar nor ambient.
    pub gateway: bool,
    /// Pods of a cluster snapshot: the Pod itself, or the Pods an owner's template labels match.
    pub observed: Observed,
}

/// Decides the mode from the facts, in istio's order (see the module comment).
pub fn decide(f: &ModeFacts) -> DataplaneMode {
    if f.host_network || f.gateway {
        return DataplaneMode::None;
    }
    if !f.observed.with_sidecar.is_empty() {
        return DataplaneMode::Sidecar;
    }
    if !f.observed.redirected.is_empty() {
        return DataplaneMode::Ambient;
    }
    if f.injected.is_some() {
        return DataplaneMode::Sidecar;
    }
    if f.ambient_label.is_some() {
        return DataplaneMode::Ambient;
    }
    DataplaneMode::None
}
