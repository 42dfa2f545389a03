//! MESH1601 sidecar-and-ambient: a workload labelled for ambient that gets (or already has) a
//! sidecar, or whose pods ztunnel captures while the injector now selects them. The sidecar
//! wins: the CNI agent never redirects a pod with a sidecar (istio
//! `cni/pkg/util/enablement_selector.go`, `Matches`).

use crate::diagnostic::Severity;
use crate::rules::{Context, Rule, RuleMeta};
use crate::source::FieldPath;

use super::{injection_label_at, judged, own_ambient_label, pods_text};

pub struct SidecarAndAmbient;

static META: RuleMeta = RuleMeta {
    code: "MESH1601",
    name: "sidecar-and-ambient",
    summary: "workload labelled for ambient that gets a sidecar, or redirected to ztunnel while the injector selects it",
    severity: Severity::Warning,
    istio_codes: &[],
    kiali_codes: &["KIA1311", "KIA1314", "KIA1315"],
    opt_in: false,
    doc: include_str!("../../../rules/MESH1601-sidecar-and-ambient.md"),
};

impl Rule for SidecarAndAmbient {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let view = cx.ambient();
        for id in judged(cx, &view) {
            let Some(f) = view.workload_facts(id) else {
                continue;
            };
            if f.host_network {
                continue;
            }
            let r = cx.store.get(id);
            let who = format!("{} {}/{}", r.kind, r.namespace, r.name);
            let own_label = own_ambient_label(id, f).cloned();
            let injection_at = injection_label_at(cx, id);
            if let Some(label) = &own_label {
                if !f.observed.with_sidecar.is_empty() {
                    let pods = pods_text(cx, &f.observed.with_sidecar);
                    let mut rep = cx
                        .report(
                            id,
                            label.clone(),
                            format!(
                                "{who} is labelled `istio.io/dataplane-mode=ambient`, but its Pods in the snapshot run an istio-proxy sidecar ({pods}): the CNI agent never redirects a pod that has a sidecar to ztunnel, so these pods are meshed by their sidecar and the ambient label has no effect"
                            ),
                        )
                        .subkind("sidecar-pod-labelled-ambient")
                        .kiali(&["KIA1315"])
                        .help("choose one data plane: remove the sidecar injection (and restart the pods) to move them to ambient, or remove the ambient label");
                    for &p in &f.observed.with_sidecar {
                        rep =
                            rep.related(p, FieldPath::parse("metadata.name"), "Pod with a sidecar");
                    }
                    continue;
                }
                if let (Some(reason), true) = (&f.injected, f.observed.is_empty()) {
                    let mut rep = cx
                        .report(
                            id,
                            label.clone(),
                            format!(
                                "{who} is labelled `istio.io/dataplane-mode=ambient`, but istio's injector gives its pods a sidecar ({reason}): the injector does not read the ambient label and the CNI agent skips pods that have a sidecar, so the pods run with a sidecar and ztunnel does not capture them"
                            ),
                        )
                        .subkind("injected-and-ambient")
                        .kiali(&["KIA1311"])
                        .help("choose one data plane: opt the pods out of injection (`sidecar.istio.io/inject: \"false\"` label) to run them in ambient, or remove the ambient label");
                    if let Some((at, path)) = injection_at.clone() {
                        rep = rep.related(at, path, "the label that selects the injector");
                    }
                    continue;
                }
            }
            if let (Some(reason), false) = (&f.injected, f.observed.redirected.is_empty()) {
                let pods = pods_text(cx, &f.observed.redirected);
                let Some(w) = r.workload() else { continue };
                let mut rep = cx
                    .report(
                        id,
                        w.pod_meta_path.clone().key("labels"),
                        format!(
                            "the Pods of {who} in the snapshot are redirected to ztunnel (`ambient.istio.io/redirection: enabled`: {pods}), but istio's injector now selects them ({reason}): when they are recreated they get a sidecar and leave ambient, so the workload's pods end up on two data planes"
                        ),
                    )
                    .subkind("redirected-pod-now-injected")
                    .kiali(&["KIA1314"]);
                if let Some((at, path)) = injection_at {
                    rep = rep.related(at, path, "the label that selects the injector");
                }
                rep.help("remove the injection label if the workload should stay in ambient, or restart its pods to move them to sidecars");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::workload_input as input;
    use crate::rules::testing::findings_of;

    #[test]
    fn an_ambient_pod_the_injector_selects_is_reported_whatever_selects_it() {
        for (ns, pod) in [
            (
                "{istio-injection: enabled}",
                "{istio.io/dataplane-mode: ambient}",
            ),
            (
                "{}",
                "{istio.io/dataplane-mode: ambient, sidecar.istio.io/inject: \"true\"}",
            ),
            (
                "{}",
                "{istio.io/dataplane-mode: ambient, istio.io/rev: canary}",
            ),
        ] {
            let f = findings_of("MESH1601", &input(ns, pod));
            assert_eq!(f.len(), 1, "{ns} {pod}: {f:#?}");
            assert_eq!(f[0].subkind, Some("injected-and-ambient"));
            assert_eq!(f[0].kiali_codes, ["KIA1311"]);
        }
    }

    #[test]
    fn one_data_plane_is_not_reported() {
        for (ns, pod) in [
            // `enabled` is no value the injector reads on the pod.
            (
                "{}",
                "{istio.io/dataplane-mode: ambient, sidecar.istio.io/inject: enabled}",
            ),
            (
                "{istio-injection: enabled}",
                "{istio.io/dataplane-mode: ambient, sidecar.istio.io/inject: \"false\"}",
            ),
            ("{istio.io/dataplane-mode: ambient}", "{app: web}"),
            // Both on the namespace is MESH1201's.
            (
                "{istio.io/dataplane-mode: ambient, istio-injection: enabled}",
                "{app: web}",
            ),
        ] {
            assert!(
                findings_of("MESH1601", &input(ns, pod)).is_empty(),
                "{ns} {pod}"
            );
        }
    }
}
