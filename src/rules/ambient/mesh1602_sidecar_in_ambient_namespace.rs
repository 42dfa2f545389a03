//! MESH1602 sidecar-in-ambient-namespace: a workload that runs with a sidecar in a namespace
//! labelled `istio.io/dataplane-mode=ambient`: ztunnel does not capture it (istio
//! `cni/pkg/util/enablement_selector.go`, `Matches` skips pods with a sidecar).

use crate::diagnostic::Severity;
use crate::mesh::ambient::DataplaneMode;
use crate::mesh::injection::{ISTIO_INJECTION, ISTIO_REV};
use crate::rules::{Context, Rule, RuleMeta};
use crate::source::FieldPath;

use super::{injection_label_at, judged, own_ambient_label};

pub struct SidecarInAmbientNamespace;

static META: RuleMeta = RuleMeta {
    code: "MESH1602",
    name: "sidecar-in-ambient-namespace",
    summary: "workload with a sidecar in an ambient namespace: ztunnel does not capture it",
    severity: Severity::Info,
    istio_codes: &[],
    kiali_codes: &["KIA1316"],
    opt_in: false,
    doc: include_str!("../../../rules/MESH1602-sidecar-in-ambient-namespace.md"),
};

impl Rule for SidecarInAmbientNamespace {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let view = cx.ambient();
        for id in judged(cx, &view) {
            let Some(f) = view.workload_facts(id) else {
                continue;
            };
            let r = cx.store.get(id);
            let Some(ns) = view.ambient_namespace(&r.namespace) else {
                continue;
            };
            // A namespace labelled for both is MESH1201's; a pod labelled ambient is MESH1601's.
            let ns_labels = &cx.store.get(ns).labels;
            let ns_injects = ns_labels.get(ISTIO_INJECTION).map(String::as_str) == Some("enabled")
                || (!ns_labels.contains_key(ISTIO_INJECTION) && ns_labels.contains_key(ISTIO_REV));
            if f.mode != DataplaneMode::Sidecar || ns_injects || own_ambient_label(id, f).is_some()
            {
                continue;
            }
            let Some(w) = r.workload() else { continue };
            let why = match (&f.injected, f.observed.with_sidecar.is_empty()) {
                (_, false) => "its pods run an istio-proxy sidecar".to_string(),
                (Some(reason), true) => {
                    format!("istio's injector gives its pods a sidecar ({reason})")
                }
                (None, true) => continue,
            };
            let injection_at = injection_label_at(cx, id);
            // Point at the pod template's injection label when that is what adds the sidecar.
            let path = match &injection_at {
                Some((at, p)) if *at == id => p.clone(),
                _ => w.pod_meta_path.clone().key("labels"),
            };
            let rep = cx
                .report(
                    id,
                    path,
                    format!(
                        "{} {}/{} is in ambient namespace {}, but {why}: the CNI agent does not redirect pods that have a sidecar to ztunnel, so this workload is meshed by its sidecar (it still talks to ambient workloads over mTLS) and namespace-wide ambient settings such as its waypoint do not capture its inbound traffic",
                        r.kind, r.namespace, r.name, r.namespace
                    ),
                )
                .related(ns, FieldPath::parse("metadata.labels").key("istio.io/dataplane-mode"), "the namespace's ambient label")
                .help("if the sidecar is intended, nothing to do; to run the workload in ambient, drop its injection label and restart its pods");
            if let Some((at, path)) = injection_at.filter(|(at, _)| *at != id) {
                rep.related(at, path, "the label that selects the injector");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::workload_input as input;
    use crate::rules::testing::findings_of;

    #[test]
    fn pod_level_injection_in_an_ambient_namespace_is_a_note() {
        let f = findings_of(
            "MESH1602",
            &input(
                "{istio.io/dataplane-mode: ambient}",
                "{sidecar.istio.io/inject: \"true\"}",
            ),
        );
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, crate::diagnostic::Severity::Info);
        assert!(f[0].message.contains("ambient namespace shop"));
    }

    #[test]
    fn other_rules_own_the_other_combinations() {
        for (ns, pod) in [
            (
                "{istio.io/dataplane-mode: ambient, istio-injection: enabled}",
                "{app: web}",
            ),
            (
                "{istio.io/dataplane-mode: ambient}",
                "{istio.io/dataplane-mode: ambient, istio.io/rev: x}",
            ),
            ("{istio-injection: enabled}", "{app: web}"),
        ] {
            assert!(
                findings_of("MESH1602", &input(ns, pod)).is_empty(),
                "{ns} {pod}"
            );
        }
    }
}
