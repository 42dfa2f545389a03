//! MESH1101 unknown-annotation: an annotation in an Istio domain that Istio does not define (a
//! typo, an Istio label written as an annotation, or one Istio dropped), so it does nothing.

use crate::diagnostic::Severity;
use crate::mesh::annotations;
use crate::rules::{Context, Rule, RuleMeta};

use super::sites;

pub struct UnknownAnnotation;

static META: RuleMeta = RuleMeta {
    code: "MESH1101",
    name: "unknown-annotation",
    summary: "annotation in an Istio domain that Istio does not define, so it has no effect",
    severity: Severity::Warning,
    istio_codes: &["IST0108"],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH1101-unknown-annotation.md"),
};

impl Rule for UnknownAnnotation {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        for site in sites(cx.store) {
            for name in site.annotations.keys() {
                if !annotations::is_istio(name)
                    || annotations::set_by_istio(name)
                    || annotations::lookup(name).is_some()
                {
                    continue;
                }
                let istio = site.istio(&["IST0108"]);
                let path = site.path(name);
                if annotations::is_label(name) {
                    cx.report(
                        site.id,
                        path,
                        format!("`{name}` is an Istio label, not an annotation: Istio does not read it here"),
                    )
                    .help(format!(
                        "move it to `{}` (`labels`, not `annotations`)",
                        site.meta.clone().key("labels")
                    ))
                    .subkind("label")
                    .istio(istio);
                } else if let Some(when) = annotations::removed(name) {
                    cx.report(
                        site.id,
                        path,
                        format!(
                            "Istio no longer reads `{name}`: it left Istio's annotation table in {when}"
                        ),
                    )
                    .help("remove it, or look up its replacement in the release notes of the Istio version that dropped it")
                    .subkind("removed")
                    .severity(Severity::Info)
                    .istio(istio);
                } else {
                    let help = match annotations::suggestion(name) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => "check the spelling against https://istio.io/latest/docs/reference/config/annotations/".into(),
                    };
                    cx.report(
                        site.id,
                        path,
                        format!("`{name}` is not an annotation Istio defines, so it has no effect"),
                    )
                    .help(help)
                    .subkind("unknown")
                    .istio(istio);
                }
            }
        }
    }
}
