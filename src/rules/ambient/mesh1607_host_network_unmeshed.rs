//! MESH1607 host-network-unmeshed: a hostNetwork workload in a namespace (or with pod labels)
//! that puts workloads in the mesh. It runs outside the mesh: the injector skips hostNetwork pods
//! (istio `pkg/kube/inject/inject.go`, `injectRequired`) and the CNI agent never redirects them
//! to ztunnel (istio `cni/pkg/util/enablement_selector.go`, `Matches`).

use std::collections::BTreeMap;

use crate::diagnostic::Severity;
use crate::mesh::ambient::mode::DATAPLANE_MODE;
use crate::mesh::injection::{ISTIO_INJECTION, ISTIO_REV, SIDECAR_INJECT, SYSTEM_NAMESPACES};
use crate::mesh::security::mode::ServerMode;
use crate::mesh::workloads::selector_matches;
use crate::model::{ResId, Spec};
use crate::rules::{Context, Rule, RuleMeta};
use crate::source::FieldPath;

use super::judged;

pub struct HostNetworkUnmeshed;

static META: RuleMeta = RuleMeta {
    code: "MESH1607",
    name: "host-network-unmeshed",
    summary: "hostNetwork workload in a meshed namespace: neither a sidecar nor ztunnel takes its traffic",
    severity: Severity::Warning,
    istio_codes: &[],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH1607-host-network-unmeshed.md"),
};

/// Why the namespace or the pod template asks for the mesh, with the label's location.
fn meshed_by(
    cx: &Context<'_>,
    id: ResId,
    pod_labels: &BTreeMap<String, String>,
    pod_labels_at: &FieldPath,
) -> Option<(ResId, FieldPath, String)> {
    let r = cx.store.get(id);
    let labels = FieldPath::parse("metadata.labels");
    if let Some(ns) = cx.namespace(&r.namespace) {
        let l = &cx.store.get(ns).labels;
        for (key, on) in [
            (
                DATAPLANE_MODE,
                l.get(DATAPLANE_MODE).is_some_and(|v| v == "ambient"),
            ),
            (
                ISTIO_INJECTION,
                l.get(ISTIO_INJECTION).is_some_and(|v| v == "enabled"),
            ),
            (
                ISTIO_REV,
                !l.contains_key(ISTIO_INJECTION) && l.contains_key(ISTIO_REV),
            ),
        ] {
            if on {
                let text = format!("namespace {} has `{key}={}`", r.namespace, l[key]);
                return Some((ns, labels.key(key), text));
            }
        }
    }
    for (key, on) in [
        (
            DATAPLANE_MODE,
            pod_labels
                .get(DATAPLANE_MODE)
                .is_some_and(|v| v == "ambient"),
        ),
        (
            SIDECAR_INJECT,
            pod_labels.get(SIDECAR_INJECT).is_some_and(|v| v == "true"),
        ),
        (ISTIO_REV, pod_labels.contains_key(ISTIO_REV)),
    ] {
        if on {
            let text = format!("its pod template has `{key}={}`", pod_labels[key]);
            return Some((id, pod_labels_at.clone().key(key), text));
        }
    }
    None
}

impl Rule for HostNetworkUnmeshed {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let view = cx.ambient();
        let store = cx.store;
        let mut services: BTreeMap<&str, Vec<ResId>> = BTreeMap::new();
        for (id, r) in store.iter() {
            if matches!(r.spec, Spec::Service(_)) {
                services.entry(r.namespace.as_str()).or_default().push(id);
            }
        }
        let mut strict: Option<Vec<String>> = None;
        for id in judged(cx, &view) {
            let r = store.get(id);
            let Some(w) = r.workload() else { continue };
            if !w.pod.host_network
                || SYSTEM_NAMESPACES.contains(&r.namespace.as_str())
                || r.namespace == "istio-system"
            {
                continue;
            }
            let pod_labels_at = w.pod_meta_path.clone().key("labels");
            let Some((at, label_path, why)) = meshed_by(cx, id, &w.pod_labels, &pod_labels_at)
            else {
                continue;
            };
            let strict = strict.get_or_insert_with(|| strict_namespaces(cx));
            let mut selecting: Vec<ResId> = services
                .get(r.namespace.as_str())
                .into_iter()
                .flatten()
                .copied()
                .filter(|&s| {
                    store
                        .get(s)
                        .service()
                        .and_then(|svc| svc.spec.selector.as_ref())
                        .is_some_and(|sel| selector_matches(sel, &w.pod_labels))
                })
                .collect();
            selecting.sort_by(|&a, &b| store.get(a).name.cmp(&store.get(b).name));
            let as_client = if strict.is_empty() {
                "Its requests leave without mTLS".to_string()
            } else {
                format!(
                    "Its requests leave without mTLS, so workloads under STRICT mTLS ({}) refuse them",
                    strict.join(", ")
                )
            };
            let as_server = match selecting.as_slice() {
                [] => String::new(),
                svcs => format!(
                    "; clients of Service {} reach it in plain text (no sidecar or ztunnel stands behind these endpoints), and no AuthorizationPolicy applies to it",
                    svcs.iter()
                        .map(|&s| store.get(s).name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            let mut rep = cx
                .report(
                    id,
                    w.pod_spec_path.clone().key("hostNetwork"),
                    format!(
                        "{} {}/{} uses the host network while {why}: the injector skips hostNetwork pods and ztunnel never captures them, so it runs outside the mesh. {as_client}{as_server}",
                        r.kind, r.namespace, r.name
                    ),
                )
                .related(at, label_path, "the label that meshes the namespace or pod")
                .help("drop `hostNetwork` if the workload should be in the mesh; if it must use the host network, label its pods `istio.io/dataplane-mode: none` and `sidecar.istio.io/inject: \"false\"` to record that it stays out, and allow its plain-text traffic where STRICT mTLS applies (a PERMISSIVE port or a DISABLE exception)");
            for &s in &selecting {
                rep = rep.related(
                    s,
                    FieldPath::parse("spec.selector"),
                    "a Service that selects it",
                );
            }
        }
    }
}

/// The scopes where STRICT mTLS applies at mesh or namespace level: `mesh-wide`, `namespace x`.
fn strict_namespaces(cx: &Context<'_>) -> Vec<String> {
    let mtls = cx.mtls();
    let root = mtls.peers.root().to_string();
    mtls.peers
        .wide_namespaces()
        .into_iter()
        .filter(|ns| mtls.peers.namespace_level(cx.store, ns).mode == ServerMode::Strict)
        .map(|ns| {
            if ns == root {
                "mesh-wide".to_string()
            } else {
                format!("namespace {ns}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::findings_of;

    fn input(ns: &str, ns_labels: &str, pod_labels: &str, extra: &str) -> String {
        format!(
            "apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}, labels: {ns_labels}}}\n---\napiVersion: apps/v1\nkind: DaemonSet\nmetadata: {{name: agent, namespace: {ns}}}\nspec:\n  template:\n    metadata: {{labels: {pod_labels}}}\n    spec: {{hostNetwork: true, containers: [{{name: a, image: a}}]}}\n---\n{extra}"
        )
    }

    #[test]
    fn meshed_namespaces_and_pod_opt_ins_are_reported() {
        for (ns_labels, pod_labels) in [
            ("{istio.io/dataplane-mode: ambient}", "{app: agent}"),
            ("{istio-injection: enabled}", "{app: agent}"),
            ("{istio.io/rev: canary}", "{app: agent}"),
            ("{}", "{app: agent, istio.io/dataplane-mode: ambient}"),
        ] {
            let f = findings_of("MESH1607", &input("mon", ns_labels, pod_labels, ""));
            assert_eq!(f.len(), 1, "{ns_labels} {pod_labels}");
        }
        for (ns, ns_labels) in [
            ("mon", "{}"),
            ("mon", "{istio-injection: disabled}"),
            ("kube-system", "{istio.io/dataplane-mode: ambient}"),
        ] {
            assert!(
                findings_of("MESH1607", &input(ns, ns_labels, "{app: agent}", "")).is_empty(),
                "{ns} {ns_labels}"
            );
        }
    }

    #[test]
    fn strict_peers_and_selecting_services_are_named() {
        let extra = "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: p, namespace: pay}\nspec: {mtls: {mode: STRICT}}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: agent, namespace: mon}\nspec: {selector: {app: agent}, ports: [{port: 9100}]}\n";
        let f = findings_of(
            "MESH1607",
            &input(
                "mon",
                "{istio.io/dataplane-mode: ambient}",
                "{app: agent}",
                extra,
            ),
        );
        assert_eq!(f.len(), 1);
        assert!(
            f[0].message.contains("STRICT mTLS (namespace pay)"),
            "{}",
            f[0].message
        );
        assert!(
            f[0].message.contains("clients of Service agent"),
            "{}",
            f[0].message
        );
    }
}
