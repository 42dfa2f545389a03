//! MESH1206 proxy-image-outdated: in a cluster snapshot, running pods whose `istio-proxy`
//! image is not the one their injector now injects: they were injected by an earlier control
//! plane and keep that proxy until restarted.

use std::collections::{BTreeMap, BTreeSet};

use crate::diagnostic::Severity;
use crate::mesh::injection::{ISTIO_INJECTION, ISTIO_REV};
use crate::mesh::injector::{ProxyConfigs, config_map_name, injectors};
use crate::model::{ResId, Spec};
use crate::rules::{Context, Rule, RuleMeta};
use crate::source::FieldPath;

pub struct ProxyImageOutdated;

static META: RuleMeta = RuleMeta {
    code: "MESH1206",
    name: "proxy-image-outdated",
    summary: "running pods whose istio-proxy image differs from the one their injector injects now",
    severity: Severity::Warning,
    istio_codes: &["IST0158"],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH1206-proxy-image-outdated.md"),
};

/// How many pods a finding names; a namespace of hundreds names the first ones by name.
const SHOWN: usize = 10;

/// A pod whose proxy image differs, and where the image is written.
struct Stale {
    pod: ResId,
    path: FieldPath,
    image: String,
    /// The image type the pod asks for (`distroless`), empty for none.
    variant: String,
}

impl Rule for ProxyImageOutdated {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let store = cx.store;
        let injectors = injectors(store);
        if injectors.is_empty() {
            return;
        }
        let configs = ProxyConfigs::new(store, cx.settings.mesh.root_namespace());
        // Namespaces with injection on, by name: the label that turns it on and the revision.
        let mut namespaces: BTreeMap<&str, (ResId, &'static str, String)> = BTreeMap::new();
        for (id, r) in store.iter() {
            if !matches!(r.spec, Spec::Namespace) {
                continue;
            }
            if let Some(rev) = r.labels.get(ISTIO_REV) {
                namespaces.insert(&r.name, (id, ISTIO_REV, rev.clone()));
            } else if r.labels.get(ISTIO_INJECTION).map(String::as_str) == Some("enabled") {
                namespaces.insert(&r.name, (id, ISTIO_INJECTION, String::new()));
            }
        }
        let mut stale: BTreeMap<(&str, String), Vec<Stale>> = BTreeMap::new();
        for (id, r) in store.iter() {
            if r.kind != "Pod" || r.annotations.contains_key("sidecar.istio.io/proxyImage") {
                continue;
            }
            let (Some((_, _, ns_rev)), Some(w)) =
                (namespaces.get(r.namespace.as_str()), r.workload())
            else {
                continue;
            };
            let cm = config_map_name(ns_rev);
            let Some(injector) = injectors.get(&cm) else {
                continue;
            };
            let variant = configs.image_type(&cx.settings.mesh, r);
            let expected = &injector.image;
            for (path, c) in w.all_containers() {
                let image = c.image.as_deref().unwrap_or_default();
                if c.name != "istio-proxy"
                    || image == expected
                    || image == format!("{expected}-{variant}")
                {
                    continue;
                }
                stale
                    .entry((r.namespace.as_str(), cm.clone()))
                    .or_default()
                    .push(Stale {
                        pod: id,
                        path: path.key("image"),
                        image: image.to_string(),
                        variant: variant.clone(),
                    });
            }
        }
        for ((ns, cm), mut pods) in stale {
            let Some(&(ns_id, label, _)) = namespaces.get(ns) else {
                continue;
            };
            pods.sort_by(|a, b| store.get(a.pod).name.cmp(&store.get(b.pod).name));
            let injector = &injectors[&cm];
            let mut list = pods
                .iter()
                .take(SHOWN)
                .map(|p| format!("{} (`{}`)", store.get(p.pod).name, p.image))
                .collect::<Vec<_>>()
                .join(", ");
            if pods.len() > SHOWN {
                list.push_str(&format!(" and {} more", pods.len() - SHOWN));
            }
            let variants: BTreeSet<&str> = pods.iter().map(|p| p.variant.as_str()).collect();
            let wanted = match variants.iter().next() {
                Some(v) if variants.len() == 1 && !v.is_empty() => {
                    format!("`{0}` (or `{0}-{v}`)", injector.image)
                }
                _ => format!("`{}`", injector.image),
            };
            let mut reported = cx
                .report(
                    ns_id,
                    FieldPath::parse("metadata.labels").key(label),
                    format!(
                        "{} running pod{} in namespace `{ns}` run{} an istio-proxy image other than {wanted}, which the `{cm}` ConfigMap injects now: {list}; pods keep the proxy they were injected with, so these still run the proxy of another (usually an earlier) control plane",
                        pods.len(),
                        if pods.len() == 1 { "" } else { "s" },
                        if pods.len() == 1 { "s" } else { "" },
                    ),
                )
                .help("restart the workloads (`kubectl rollout restart deployment -n NAMESPACE`) so the injector gives them the current proxy")
                .related(injector.id, FieldPath::parse("data.values"), format!("{cm} injects `{}`", injector.image));
            for p in pods.iter().take(SHOWN) {
                reported = reported.related(
                    p.pod,
                    p.path.clone(),
                    format!("pod {} runs `{}`", store.get(p.pod).name, p.image),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::findings_of;

    const INJECTOR: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio-sidecar-injector, namespace: istio-system}\ndata:\n  values: '{\"global\":{\"hub\":\"r.io/istio\",\"tag\":\"1.24.2\",\"proxy\":{\"image\":\"proxyv2\"}}}'\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: web, labels: {istio-injection: enabled}}\n---\n";

    fn pod(labels: &str, image: &str) -> String {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: p, namespace: web, labels: {{{labels}}}}}\nspec:\n  containers:\n  - {{name: istio-proxy, image: {image}}}\n---\n"
        )
    }

    fn proxy_config(ns: &str, selector: &str, image_type: &str) -> String {
        format!(
            "apiVersion: networking.istio.io/v1beta1\nkind: ProxyConfig\nmetadata: {{name: pc, namespace: {ns}}}\nspec:\n  {selector}\n  image: {{imageType: {image_type}}}\n---\n"
        )
    }

    #[test]
    fn the_image_is_hub_image_and_tag_with_the_image_type_the_pod_gets() {
        let current = pod("app: a", "r.io/istio/proxyv2:1.24.2");
        assert!(findings_of("MESH1206", &format!("{INJECTOR}{current}")).is_empty());
        let distroless = pod("app: a", "r.io/istio/proxyv2:1.24.2-distroless");
        assert_eq!(
            findings_of("MESH1206", &format!("{INJECTOR}{distroless}")).len(),
            1
        );
        // A selecting ProxyConfig asks for it; one selecting other pods does not.
        let selecting = proxy_config("web", "selector: {matchLabels: {app: a}}", "distroless");
        assert!(findings_of("MESH1206", &format!("{INJECTOR}{selecting}{distroless}")).is_empty());
        let other = proxy_config("web", "selector: {matchLabels: {app: b}}", "distroless");
        let found = findings_of("MESH1206", &format!("{INJECTOR}{other}{distroless}"));
        assert_eq!(found.len(), 1);
        // The root namespace's applies to every namespace; `default` means no suffix.
        let root = proxy_config("istio-system", "", "distroless");
        assert!(findings_of("MESH1206", &format!("{INJECTOR}{root}{distroless}")).is_empty());
        let reset = proxy_config("web", "", "default");
        assert_eq!(
            findings_of("MESH1206", &format!("{INJECTOR}{root}{reset}{distroless}")).len(),
            1
        );
    }

    #[test]
    fn the_message_names_the_image_type_the_pods_asked_for() {
        let root = proxy_config("istio-system", "", "distroless");
        let old = pod("app: a", "r.io/istio/proxyv2:1.23.0-distroless");
        let found = findings_of("MESH1206", &format!("{INJECTOR}{root}{old}"));
        assert!(
            found[0]
                .message
                .contains("(or `r.io/istio/proxyv2:1.24.2-distroless`)"),
            "{}",
            found[0].message
        );
    }
}
