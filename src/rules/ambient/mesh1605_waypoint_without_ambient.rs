//! MESH1605 waypoint-without-ambient: `istio.io/use-waypoint` on the pods of a workload that
//! ztunnel does not capture (a sidecar, hostNetwork, or outside the mesh).

use crate::diagnostic::Severity;
use crate::mesh::ambient::{DataplaneMode, EnrolmentSource};
use crate::rules::{Context, Rule, RuleMeta};

use super::judged;

pub struct WaypointWithoutAmbient;

static META: RuleMeta = RuleMeta {
    code: "MESH1605",
    name: "waypoint-without-ambient",
    summary: "`istio.io/use-waypoint` on a workload that ztunnel does not capture",
    severity: Severity::Warning,
    istio_codes: &[],
    kiali_codes: &["KIA1312"],
    opt_in: false,
    doc: include_str!("../../../rules/MESH1605-waypoint-without-ambient.md"),
};

impl Rule for WaypointWithoutAmbient {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let view = cx.ambient();
        for id in judged(cx, &view) {
            let Some(w) = view.workload_enrolment(id).waypoint().cloned() else {
                continue;
            };
            let Some(f) = view.workload_facts(id) else {
                continue;
            };
            if w.source != EnrolmentSource::Workload || f.mode == DataplaneMode::Ambient {
                continue;
            }
            let why = if f.host_network {
                "it uses the host network, which ztunnel never captures".to_string()
            } else if !f.observed.with_sidecar.is_empty() {
                "its pods run an istio-proxy sidecar".to_string()
            } else if let Some(reason) = &f.injected {
                format!("istio's injector gives it a sidecar ({reason})")
            } else if f.opted_out.is_some() {
                "it is labelled `istio.io/dataplane-mode=none`".to_string()
            } else {
                "neither it nor its namespace is labelled `istio.io/dataplane-mode=ambient`"
                    .to_string()
            };
            let r = cx.store.get(id);
            let (at, path) = w.label_at.clone();
            cx.report(
                at,
                path,
                format!(
                    "{} {}/{} names waypoint {}/{} for its pods, but it is not in ambient mode: {why}. A workload waypoint serves pods that ztunnel captures, so traffic to these pods reaches them without the waypoint and its L7 policies",
                    r.kind, r.namespace, r.name, w.namespace, w.name
                ),
            )
            .help("enrol the workload in ambient (`istio.io/dataplane-mode: ambient`, without a sidecar), or remove `istio.io/use-waypoint` from its pods");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::workload_input as input;
    use crate::rules::testing::findings_of;

    #[test]
    fn only_the_pods_own_label_outside_ambient_is_reported() {
        let cases = [
            ("{}", "{istio.io/use-waypoint: wp}", true),
            (
                "{istio.io/dataplane-mode: ambient}",
                "{istio.io/use-waypoint: wp}",
                false,
            ),
            (
                "{}",
                "{istio.io/use-waypoint: wp, istio.io/dataplane-mode: ambient}",
                false,
            ),
            (
                "{istio.io/dataplane-mode: ambient}",
                "{istio.io/use-waypoint: wp, istio.io/dataplane-mode: none}",
                true,
            ),
            ("{istio.io/use-waypoint: wp}", "{app: web}", false),
            ("{}", "{istio.io/use-waypoint: none}", false),
        ];
        for (ns, pod, reported) in cases {
            let f = findings_of("MESH1605", &input(ns, pod));
            assert_eq!(!f.is_empty(), reported, "{ns} {pod}: {f:#?}");
        }
    }
}
