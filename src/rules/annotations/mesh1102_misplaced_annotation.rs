//! MESH1102 misplaced-annotation: an Istio annotation on a kind it does not apply to, most often
//! a pod annotation on a Deployment's own metadata, where the sidecar injector never sees it.

use crate::diagnostic::Severity;
use crate::rules::{Context, Rule, RuleMeta};

use super::{known, sites, where_};

pub struct MisplacedAnnotation;

static META: RuleMeta = RuleMeta {
    code: "MESH1102",
    name: "misplaced-annotation",
    summary: "Istio annotation on a kind it does not apply to, so it is ignored",
    severity: Severity::Warning,
    istio_codes: &["IST0107"],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH1102-misplaced-annotation.md"),
};

impl Rule for MisplacedAnnotation {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let store = cx.store;
        for site in sites(store) {
            for (name, _, a) in known(&site) {
                if a.belongs_on(site.kind) {
                    continue;
                }
                let belongs = a.resources.join(", ");
                let template = (!site.template && a.belongs_on("Pod"))
                    .then(|| store.get(site.id).workload())
                    .flatten();
                let help = match template {
                    Some(w) => format!(
                        "move it to `{}`: the injector reads the annotations of the pods, not of the {}",
                        w.pod_meta_path.clone().key("annotations"),
                        site.kind
                    ),
                    None => format!("move it to the {belongs} it is meant for, or remove it"),
                };
                cx.report(
                    site.id,
                    site.path(name),
                    format!(
                        "`{name}` applies to {belongs}, not to {}: Istio ignores it here",
                        where_(&site)
                    ),
                )
                .help(help)
                .istio(site.istio(&["IST0107"]));
            }
        }
    }
}
