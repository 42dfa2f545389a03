//! MESH1105 alpha-annotation (opt-in): an Istio annotation its table marks alpha (istio's
//! `maturity.AlphaAnalyzer`, which istioctl also leaves out of its default analyzers).

use crate::diagnostic::Severity;
use crate::mesh::annotations::Status;
use crate::model::Store;
use crate::rules::{Context, Rule, RuleMeta};

use super::{Site, known, sites};

pub struct AlphaAnnotation;

static META: RuleMeta = RuleMeta {
    code: "MESH1105",
    name: "alpha-annotation",
    summary: "Istio annotation that is alpha and may change or go in any release",
    severity: Severity::Info,
    istio_codes: &["IST0136"],
    kiali_codes: &[],
    opt_in: true,
    doc: include_str!("../../../rules/MESH1105-alpha-annotation.md"),
};

/// Annotations the injector writes on Pods by default when Istio CNI does the redirection
/// (`conditionallyIgnoredAnnotations`).
const SET_WITH_CNI: [&str; 4] = [
    "sidecar.istio.io/interceptionMode",
    "traffic.sidecar.istio.io/includeInboundPorts",
    "traffic.sidecar.istio.io/excludeInboundPorts",
    "traffic.sidecar.istio.io/includeOutboundIPRanges",
];

/// A Pod without an `istio-init` init container (`isCNIEnabled`).
fn cni_pod(store: &Store, site: &Site<'_>) -> bool {
    let r = store.get(site.id);
    r.kind == "Pod"
        && !site.template
        && r.workload()
            .is_some_and(|w| !w.pod.init_containers.iter().any(|c| c.name == "istio-init"))
}

impl Rule for AlphaAnnotation {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        for site in sites(cx.store) {
            let cni = cni_pod(cx.store, &site);
            for (name, _, a) in known(&site) {
                if a.status != Status::Alpha || (cni && SET_WITH_CNI.contains(&name)) {
                    continue;
                }
                cx.report(
                    site.id,
                    site.path(name),
                    format!("`{name}` is an alpha annotation: Istio may change or remove it in any release without a deprecation period"),
                )
                .help("prefer a stable mechanism (`proxy.istio.io/config`, a ProxyConfig, MeshConfig) where one exists, or recheck this annotation on each Istio upgrade")
                .istio(site.istio(&["IST0136"]));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::findings_with;

    fn run(text: &str) -> Vec<String> {
        findings_with("MESH1105", text, &["MESH1105"])
            .into_iter()
            .map(|f| f.message)
            .collect()
    }

    #[test]
    fn alpha_annotations_are_reported_stable_and_beta_ones_not() {
        let pod = |ann: &str, init: &str| {
            format!(
                "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: shop\n  annotations: {{{ann}}}\nspec:\n  initContainers: [{init}]\n  containers: [{{name: app, image: app}}]\n"
            )
        };
        assert_eq!(run(&pod("sidecar.istio.io/proxyCPU: 100m", "")).len(), 1);
        assert!(run(&pod("proxy.istio.io/config: '{}'", "")).is_empty());
        assert!(run(&pod("sidecar.istio.io/status: '{}'", "")).is_empty());
        let interception = "sidecar.istio.io/interceptionMode: REDIRECT";
        assert!(
            run(&pod(interception, "")).is_empty(),
            "set by the injector with CNI"
        );
        assert_eq!(
            run(&pod(interception, "{name: istio-init, image: proxyv2}")).len(),
            1
        );
    }

    #[test]
    fn the_rule_is_off_unless_selected() {
        let text = "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  namespace: shop\n  annotations: {networking.istio.io/exportTo: '.'}\nspec:\n  ports: [{port: 80, name: http}]\n";
        assert_eq!(run(text).len(), 1);
        assert!(crate::rules::testing::findings_of("MESH1105", text).is_empty());
    }
}
