//! MESH1104 deprecated-annotation: an Istio annotation its table marks deprecated.

use crate::diagnostic::Severity;
use crate::mesh::annotations::replacement;
use crate::rules::{Context, Rule, RuleMeta};

use super::{known, sites};

pub struct DeprecatedAnnotation;

static META: RuleMeta = RuleMeta {
    code: "MESH1104",
    name: "deprecated-annotation",
    summary: "Istio annotation that Istio has deprecated",
    severity: Severity::Info,
    istio_codes: &["IST0135"],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH1104-deprecated-annotation.md"),
};

impl Rule for DeprecatedAnnotation {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        for site in sites(cx.store) {
            for (name, _, a) in known(&site) {
                // Keeping the annotation beside its replacement label is deliberate (istio's
                // analyzer skips it too).
                if !a.deprecated
                    || (name == "sidecar.istio.io/inject" && site.labels.contains_key(name))
                {
                    continue;
                }
                let note =
                    replacement(name).map_or(String::new(), |r| format!(" in favour of {r}"));
                cx.report(
                    site.id,
                    site.path(name),
                    format!("`{name}` is deprecated{note}; a later Istio release may stop reading it"),
                )
                .help(match replacement(name) {
                    Some(r) => format!("use {r} instead"),
                    None => "see https://istio.io/latest/docs/reference/config/annotations/ for its replacement".into(),
                })
                .istio(site.istio(&["IST0135"]));
            }
        }
    }
}
