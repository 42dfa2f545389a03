//! MESH1203 pod-missing-proxy: in a snapshot of a cluster, a running Pod the injector should
//! have given a sidecar and did not (created before its namespace was labelled, or while the
//! webhook was down).

use crate::diagnostic::Severity;
use crate::mesh::injection::{is_cluster_snapshot, istio_reason};
use crate::rules::{Context, Rule, RuleMeta};
use crate::source::FieldPath;

use super::{CONTROL_PLANE_NAMESPACE, namespace_labels};

pub struct PodMissingProxy;

static META: RuleMeta = RuleMeta {
    code: "MESH1203",
    name: "pod-missing-proxy",
    summary: "running Pod that should have an Istio sidecar and has none",
    severity: Severity::Warning,
    istio_codes: &["IST0103"],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH1203-pod-missing-proxy.md"),
};

impl Rule for PodMissingProxy {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        // A Pod in a manifest gets its proxy when it is created; only a cluster's pods show
        // whether injection happened.
        if !is_cluster_snapshot(cx.store) {
            return;
        }
        for (id, r) in cx.store.iter() {
            // Control plane pods run without sidecars.
            if r.kind != "Pod" || r.namespace == CONTROL_PLANE_NAMESPACE {
                continue;
            }
            let Some(w) = r.workload() else { continue };
            if w.pod.host_network || w.all_containers().any(|(_, c)| c.name == "istio-proxy") {
                continue;
            }
            let Some(reason) = istio_reason(namespace_labels(cx, r), r) else {
                continue;
            };
            cx.report(
                id,
                FieldPath::parse("spec.containers"),
                format!(
                    "Pod `{}` should have an Istio sidecar ({reason}) but has no `istio-proxy` container: it was created before injection applied, or the injection webhook failed",
                    r.name
                ),
            )
            .help("restart its workload (`kubectl rollout restart`) so the pod is re-created and injected; if it stays without a proxy, check the webhook and the injector's logs");
        }
    }
}
