//! MESH1103 invalid-annotation: a sidecar annotation whose value the injector rejects; the
//! webhook then refuses to create the pod (istio/istio `pkg/kube/inject/webhook.go`: an error
//! from `RunTemplate` becomes a denied admission response).

use crate::diagnostic::Severity;
use crate::mesh::annotations::validate;
use crate::mesh::injection::istio_reason;
use crate::rules::{Context, Rule, RuleMeta};

use super::{known, sites};

pub struct InvalidAnnotation;

static META: RuleMeta = RuleMeta {
    code: "MESH1103",
    name: "invalid-annotation",
    summary: "sidecar annotation value the injector rejects, so the pod is not created",
    severity: Severity::Error,
    istio_codes: &["IST0125"],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH1103-invalid-annotation.md"),
};

impl Rule for InvalidAnnotation {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let store = cx.store;
        for site in sites(store) {
            let r = store.get(site.id);
            let ns_labels = cx.namespace(&r.namespace).map(|n| &store.get(n).labels);
            for (name, value, a) in known(&site) {
                if !a.belongs_on(site.kind) {
                    continue;
                }
                let Err(why) = validate(name, value) else {
                    continue;
                };
                let injected = (site.kind == "Pod")
                    .then(|| istio_reason(ns_labels, r))
                    .flatten();
                let (severity, effect) = match &injected {
                    Some(reason) => (
                        Severity::Error,
                        format!("the sidecar injector refuses the pod ({reason}), so it is never created"),
                    ),
                    None => (
                        Severity::Warning,
                        "if the pod is injected, the sidecar injector refuses it and it is never created".to_string(),
                    ),
                };
                cx.report(
                    site.id,
                    site.path(name),
                    format!("`{name}: {value}` is invalid ({why}): {effect}"),
                )
                .help("fix the value, or remove the annotation to use the default")
                .severity(severity)
                .istio(site.istio(&["IST0125"]));
            }
        }
    }
}
