//! MESH1302 telemetry-conflict: several namespace-wide Telemetries in one namespace (istiod uses
//! the oldest), or several selecting one workload (istiod merges them in creation order)
//! (istio/istio `pilot/pkg/model/telemetry.go`).

use crate::diagnostic::Severity;
use crate::model::raw::raw;
use crate::model::string_map;
use crate::rules::{Context, Rule, RuleMeta};
use crate::source::FieldPath;

use super::{NamespaceWide, competition, names, report_namespace_wide, workloads_text};

pub struct TelemetryConflict;

static META: RuleMeta = RuleMeta {
    code: "MESH1302",
    name: "telemetry-conflict",
    summary: "several Telemetries apply to one namespace or one workload",
    severity: Severity::Warning,
    istio_codes: &["IST0159", "IST0160"],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH1302-telemetry-conflict.md"),
};

impl Rule for TelemetryConflict {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let store = cx.store;
        let c = competition(cx, |r| {
            // A Telemetry attached with targetRefs is not namespace-wide (`namespaceWideTelemetryConfig`).
            (r.kind == "Telemetry"
                && r.api_version.starts_with("telemetry.istio.io/")
                && raw(r, "spec.targetRefs").is_none()
                && raw(r, "spec.targetRef").is_none())
            .then(|| string_map(raw(r, "spec.selector.matchLabels")))
        });
        report_namespace_wide(
            cx,
            &c,
            &NamespaceWide {
                what: "Telemetries without a selector",
                help: "merge them into one namespace-wide Telemetry",
                severity: Severity::Error,
                istio: &["IST0160"],
            },
        );
        for (group, workloads) in &c.overlapping {
            let all = names(store, group.iter().copied());
            for &id in group {
                cx.report(
                    id,
                    FieldPath::parse("spec.selector.matchLabels"),
                    format!(
                        "Telemetries {} all select {}: istiod merges them in creation order, so where they configure the same provider the result depends on which was created first",
                        all.join(", "),
                        workloads_text(store, workloads)
                    ),
                )
                .help("give each workload one Telemetry with a selector, or merge the settings into one")
                .istio(&["IST0159"]);
            }
        }
    }
}
