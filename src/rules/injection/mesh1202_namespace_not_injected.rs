//! MESH1202 namespace-not-injected: in an Istio input, a Namespace with no injection or ambient
//! label, so its workloads run without a proxy; or one injected only because the injector
//! enables every namespace by default.

use crate::diagnostic::Severity;
use crate::mesh::injection::{ISTIO_INJECTION, ISTIO_REV, SYSTEM_NAMESPACES, uses_istio};
use crate::model::raw::raw;
use crate::model::{Spec, Store};
use crate::rules::{Context, Rule, RuleMeta};
use crate::source::FieldPath;

use super::CONTROL_PLANE_NAMESPACE;

pub struct NamespaceNotInjected;

static META: RuleMeta = RuleMeta {
    code: "MESH1202",
    name: "namespace-not-injected",
    summary: "Namespace in an Istio input without an injection or ambient label",
    severity: Severity::Info,
    istio_codes: &["IST0102", "IST0148"],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH1202-namespace-not-injected.md"),
};

/// `sidecarInjectorWebhook.enableNamespacesByDefault` of the default injector's ConfigMap
/// (`istio-sidecar-injector`, data `values`, JSON).
fn enabled_by_default(store: &Store) -> bool {
    store.iter().any(|(_, r)| {
        r.kind == "ConfigMap"
            && r.name == "istio-sidecar-injector"
            && raw(r, "data.values")
                .and_then(|v| v.as_str())
                .and_then(|v| serde_json::from_str::<serde_json::Value>(v).ok())
                .and_then(|v| {
                    v.pointer("/sidecarInjectorWebhook/enableNamespacesByDefault")
                        .and_then(serde_json::Value::as_bool)
                })
                == Some(true)
    })
}

impl Rule for NamespaceNotInjected {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let store = cx.store;
        let by_default = enabled_by_default(store);
        if !by_default && !uses_istio(store) {
            return;
        }
        for (id, r) in store.iter() {
            if !matches!(r.spec, Spec::Namespace)
                || r.name == CONTROL_PLANE_NAMESPACE
                || SYSTEM_NAMESPACES.contains(&r.name.as_str())
                || r.labels.contains_key(ISTIO_INJECTION)
                || r.labels.contains_key(ISTIO_REV)
                || r.labels.contains_key("istio.io/dataplane-mode")
            {
                continue;
            }
            let path = FieldPath::parse("metadata.name");
            if by_default {
                cx.report(
                    id,
                    path,
                    format!(
                        "Namespace `{}` has no injection label, and the sidecar injector is configured to inject every namespace by default (`enableNamespacesByDefault`): its pods get sidecars",
                        r.name
                    ),
                )
                .help(format!("label it `{ISTIO_INJECTION}=disabled` if it must not be injected, or `{ISTIO_INJECTION}=enabled` to say so explicitly"))
                .istio(&["IST0148"]);
            } else {
                cx.report(
                    id,
                    path,
                    format!(
                        "Namespace `{}` has no `{ISTIO_INJECTION}`, `{ISTIO_REV}` or `istio.io/dataplane-mode` label: its pods join the mesh only if a pod opts in",
                        r.name
                    ),
                )
                .help(format!("label it `{ISTIO_INJECTION}=enabled` (or `{ISTIO_REV}=REVISION`, or `istio.io/dataplane-mode=ambient`) to put its workloads in the mesh, or `{ISTIO_INJECTION}=disabled` to record that it stays out"))
                .istio(&["IST0102"]);
            }
        }
    }
}
