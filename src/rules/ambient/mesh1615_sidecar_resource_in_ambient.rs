//! MESH1615 sidecar-resource-in-ambient: a Sidecar resource for workloads ztunnel captures, or
//! namespace-wide in an ambient namespace. Only sidecar proxies read Sidecar resources;
//! waypoints use the default scope (`doGetSidecarScope` in istio `pilot/pkg/model/push_context.go`)
//! and ztunnel none. istioctl reports it as IST0167 (`pkg/config/analysis/analyzers/sidecar/selector.go`).

use crate::diagnostic::Severity;
use crate::mesh::ambient::DataplaneMode;
use crate::mesh::ambient::mode::DATAPLANE_MODE;
use crate::model::{ResId, Spec};
use crate::rules::selectors::workloads_text;
use crate::rules::{Context, Rule, RuleMeta};
use crate::source::FieldPath;

pub struct SidecarResourceInAmbient;

static META: RuleMeta = RuleMeta {
    code: "MESH1615",
    name: "sidecar-resource-in-ambient",
    summary: "Sidecar resource for ambient workloads or an ambient namespace: no proxy reads it",
    severity: Severity::Warning,
    istio_codes: &["IST0167"],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH1615-sidecar-resource-in-ambient.md"),
};

const HELP: &str = "remove the Sidecar resource, or give the workloads a sidecar if they need its egress or ingress settings; in ambient mode, scope L7 configuration with a waypoint instead";

impl Rule for SidecarResourceInAmbient {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let ambient = cx.ambient();
        if !ambient.any_ambient() {
            return;
        }
        let store = cx.store;
        for (id, r) in store.iter() {
            let Spec::Sidecar(sc) = &r.spec else {
                continue;
            };
            let selector = sc
                .workload_selector
                .as_ref()
                .map(|w| &w.labels)
                .filter(|l| !l.is_empty());
            let Some(selector) = selector else {
                // `NamespaceInAmbientMode`: the ambient label without an injection label.
                let Some(ns) =
                    ambient.sidecar_resources_unread(store, &cx.index.workloads, &r.namespace)
                else {
                    continue;
                };
                let message = format!(
                    "namespace-wide Sidecar in ambient namespace `{}`: its workloads are captured by ztunnel and have no sidecar proxy to read it, and waypoints ignore Sidecar resources, so it has no effect",
                    r.namespace
                );
                cx.report(id, FieldPath::parse("metadata.name"), message)
                    .related(
                        ns,
                        FieldPath::parse("metadata.labels").key(DATAPLANE_MODE),
                        "the namespace is ambient",
                    )
                    .help(HELP);
                continue;
            };
            let mut captured: Vec<ResId> = cx
                .index
                .workloads
                .matching(selector, Some(&r.namespace))
                .into_iter()
                .filter(|&w| ambient.workload_mode(w) == DataplaneMode::Ambient)
                .collect();
            if captured.is_empty() {
                continue;
            }
            captured.sort_by_key(|&w| (store.get(w).name.clone(), store.get(w).kind.clone()));
            let message = format!(
                "Sidecar selects {}, which ztunnel captures in ambient mode: it has no sidecar proxy to read this resource, and waypoints ignore Sidecar resources, so it has no effect there",
                workloads_text(store, &captured)
            );
            let first = captured[0];
            let at = store
                .get(first)
                .workload()
                .map_or_else(FieldPath::root, |w| w.pod_meta_path.clone().key("labels"));
            cx.report(
                id,
                FieldPath::parse("spec.workloadSelector.labels"),
                message,
            )
            .related(first, at, "ambient workload")
            .help(HELP);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::findings_of;

    fn input(namespace_labels: &str) -> String {
        format!(
            "apiVersion: v1\nkind: Namespace\nmetadata: {{name: shop, labels: {namespace_labels}}}\n---\napiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: {{name: default, namespace: shop}}\nspec: {{egress: [{{hosts: ['./*']}}]}}\n"
        )
    }

    #[test]
    fn an_injection_label_or_revision_keeps_the_namespace_on_sidecars() {
        let f = findings_of("MESH1615", &input("{istio.io/dataplane-mode: ambient}"));
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].istio_codes, ["IST0167"]);
        assert_eq!(f[0].related.len(), 1);
        for labels in [
            "{istio.io/dataplane-mode: ambient, istio.io/rev: canary}",
            "{istio.io/dataplane-mode: ambient, istio-injection: enabled}",
            "{}",
        ] {
            assert!(
                findings_of("MESH1615", &input(labels)).is_empty(),
                "{labels}"
            );
        }
    }
}
