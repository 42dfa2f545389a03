//! MESH1301 sidecar-conflict: several Sidecars apply to one workload, or several namespace-wide
//! Sidecars to one namespace; istiod uses only the oldest (istio/istio
//! `pilot/pkg/model/push_context.go`, `initSidecarScopes`; `sidecar.go`).

use crate::diagnostic::Severity;
use crate::mesh::ambient::DataplaneMode;
use crate::model::Spec;
use crate::rules::{Context, Rule, RuleMeta};
use crate::source::FieldPath;

use super::{NamespaceWide, competition, names, order_note, report_namespace_wide, workloads_text};

pub struct SidecarConflict;

static META: RuleMeta = RuleMeta {
    code: "MESH1301",
    name: "sidecar-conflict",
    summary: "several Sidecars apply to one workload or one namespace; istiod uses only the oldest",
    severity: Severity::Error,
    istio_codes: &["IST0110", "IST0111"],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH1301-sidecar-conflict.md"),
};

impl Rule for SidecarConflict {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let store = cx.store;
        let mut c = competition(cx, |r| match &r.spec {
            Spec::Sidecar(s) => Some(
                s.workload_selector
                    .as_ref()
                    .map(|w| w.labels.clone())
                    .unwrap_or_default(),
            ),
            _ => None,
        });
        // No proxy reads Sidecars in ambient mode: MESH1615 reports them there, once each.
        let ambient = cx.ambient();
        let workloads = &cx.index.workloads;
        c.namespace_wide.retain(|ns, _| {
            ambient
                .sidecar_resources_unread(store, workloads, ns)
                .is_none()
        });
        c.overlapping.retain(|_, ws| {
            ws.retain(|&w| ambient.workload_mode(w) != DataplaneMode::Ambient);
            !ws.is_empty()
        });
        report_namespace_wide(
            cx,
            &c,
            &NamespaceWide {
                what: "Sidecars without a workloadSelector",
                help: "merge them into one Sidecar per namespace, or give all but one a workloadSelector",
                severity: Severity::Error,
                istio: &["IST0111"],
            },
        );
        for (group, workloads) in &c.overlapping {
            let all = names(store, group.iter().copied());
            for (i, &id) in group.iter().enumerate() {
                let fate = if i == 0 {
                    "istiod uses this one, the oldest, for them".to_string()
                } else {
                    format!(
                        "istiod uses {}, the oldest, and ignores this one for them",
                        all[0]
                    )
                };
                cx.report(
                    id,
                    FieldPath::parse("spec.workloadSelector"),
                    format!(
                        "Sidecars {} all select {}: {fate} ({})",
                        all.join(", "),
                        workloads_text(store, workloads),
                        order_note(store, group)
                    ),
                )
                .help("make the workloadSelectors select disjoint workloads, so each workload has one Sidecar")
                .istio(&["IST0110"]);
            }
        }
    }
}
