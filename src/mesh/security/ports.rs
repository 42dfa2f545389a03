//! The ports a workload serves and whether it has an Istio sidecar to enforce mTLS on them.

use std::collections::BTreeSet;

use crate::model::k8s::{IntOrString, ServicePort, Workload};
use crate::model::{ResId, Resource, Store};

use crate::mesh::graph::MeshGraph;
use crate::mesh::injection;

/// The container port a Service port reaches on `w`: its number, or the container port of that
/// name. `None` when a named target is not declared by the workload.
pub fn target_port(w: &Workload, port: &ServicePort) -> Option<i64> {
    match port.target() {
        IntOrString::Int(n) => Some(n),
        IntOrString::Str(name) => w
            .all_containers()
            .flat_map(|(_, c)| c.ports.iter())
            .find(|p| p.name.as_deref() == Some(name.as_str()))
            .map(|p| p.container_port),
    }
}

/// A Service port and the workload port it sends to.
#[derive(Clone, Debug)]
pub struct Exposed {
    pub service: ResId,
    /// Index in the Service's `spec.ports`.
    pub index: usize,
    pub port: i64,
    pub target: i64,
}

/// Every Service port that selects workload `id`, with the workload port it reaches.
pub fn exposed(store: &Store, graph: &MeshGraph, id: ResId) -> Vec<Exposed> {
    let Some(w) = store.get(id).workload() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for svc in graph.selecting_services(id) {
        let Some(s) = store.get(svc).service() else {
            continue;
        };
        for (index, p) in s.spec.ports.iter().enumerate() {
            if let Some(target) = target_port(w, p) {
                out.push(Exposed {
                    service: svc,
                    index,
                    port: p.port,
                    target,
                });
            }
        }
    }
    // By Service, not input order, so the first match a rule names is always the same.
    out.sort_by(|a, b| {
        let (ra, rb) = (store.get(a.service), store.get(b.service));
        (&ra.namespace, &ra.name, a.index).cmp(&(&rb.namespace, &rb.name, b.index))
    });
    out
}

/// The ports workload `id` serves: its declared container ports and the targets of the
/// Service ports that select it.
pub fn served(store: &Store, graph: &MeshGraph, id: ResId) -> BTreeSet<i64> {
    let mut out: BTreeSet<i64> = store
        .get(id)
        .workload()
        .map(|w| {
            w.all_containers()
                .flat_map(|(_, c)| c.ports.iter().map(|p| p.container_port))
                .collect()
        })
        .unwrap_or_default();
    out.extend(exposed(store, graph, id).into_iter().map(|e| e.target));
    out
}

/// Whether a workload runs an Istio sidecar.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sidecar {
    Yes(String),
    No(String),
    /// Captured by ztunnel in ambient mode, which applies PeerAuthentication instead.
    Ambient,
    /// The input does not tell, and why (its Namespace is elsewhere, a skipped patch may
    /// change it, or it is a gateway).
    Unknown(&'static str),
}

/// The Istio sidecar state of workload `res`, given its Namespace when the input has it. A
/// kustomize patch the input skips may add injection labels, so "no sidecar" is only concluded
/// from objects no skipped patch may change.
pub fn sidecar(store: &Store, res: &Resource, namespace: Option<&Resource>) -> Sidecar {
    let Some(w) = res.workload() else {
        return Sidecar::Unknown("it is not a workload");
    };
    // Ambient pods get mTLS from ztunnel, without a sidecar; gateways are proxies themselves.
    let ambient = |labels: &std::collections::BTreeMap<String, String>| {
        labels
            .get("istio.io/dataplane-mode")
            .is_some_and(|m| m == "ambient")
    };
    if injection::is_istio_gateway(res) {
        return Sidecar::Unknown("it is an Istio gateway, a proxy itself");
    }
    if ambient(&w.pod_labels) || namespace.is_some_and(|n| ambient(&n.labels)) {
        return Sidecar::Ambient;
    }
    if let Some(i) = injection::injections(res, namespace)
        .into_iter()
        .find(|i| i.platform == injection::Platform::Istio)
    {
        return Sidecar::Yes(i.reason);
    }
    if w.pod.host_network {
        return Sidecar::No("it runs with hostNetwork".into());
    }
    let off = |v: Option<&String>| v.is_some_and(|v| v == "false");
    if off(w.pod_labels.get("sidecar.istio.io/inject"))
        || off(w.pod_annotations.get("sidecar.istio.io/inject"))
    {
        return Sidecar::No("its pod template has `sidecar.istio.io/inject: \"false\"`".into());
    }
    if namespace.is_some_and(|ns| store.may_be_patched("Namespace", ns))
        || store.may_be_patched(&res.kind, res)
    {
        return Sidecar::Unknown("a kustomize patch the input skips may add an injection label");
    }
    match namespace {
        Some(ns) => Sidecar::No(format!(
            "namespace `{}` selects no injection (no `istio-injection=enabled` or `istio.io/rev` label) and the pod does not ask for it",
            ns.name
        )),
        None => Sidecar::Unknown("its Namespace is not in the input to tell"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::from_documents;

    const WORKLOAD: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: shop}\nspec:\n  template:\n    metadata: {labels: {app: api}}\n    spec: {containers: [{name: api, image: api:1}]}\n";

    fn state(namespace_labels: Option<&str>, patched: bool) -> Sidecar {
        let mut text = WORKLOAD.to_string();
        if let Some(labels) = namespace_labels {
            text.push_str(&format!(
                "---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: shop, labels: {labels}}}\n"
            ));
        }
        let (_, mut store) = from_documents(&[("a.yaml".into(), text)]);
        if patched {
            // Both objects are in the one file the patch reaches.
            store
                .patched_kinds
                .insert(0, ["Namespace".to_string()].into());
        }
        let ns = store
            .iter()
            .find(|(_, r)| r.kind == "Namespace")
            .map(|(_, r)| r);
        sidecar(&store, store.get(0), ns)
    }

    #[test]
    fn each_unknown_sidecar_state_says_why() {
        assert!(matches!(state(Some("{}"), false), Sidecar::No(_)));
        assert!(matches!(
            state(Some("{istio-injection: enabled}"), false),
            Sidecar::Yes(_)
        ));
        assert!(matches!(
            state(Some("{istio.io/dataplane-mode: ambient}"), false),
            Sidecar::Ambient
        ));
        let why = |s: Sidecar| match s {
            Sidecar::Unknown(why) => why,
            other => panic!("{other:?}"),
        };
        assert!(why(state(None, false)).contains("Namespace is not in the input"));
        assert!(why(state(Some("{}"), true)).contains("kustomize patch"));
    }
}
