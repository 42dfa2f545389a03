//! MESH1703 envoyfilter-add-misused: an ADD patch on a ROUTE_CONFIGURATION, which istiod
//! ignores, or on an HTTP_ROUTE, which istiod appends after the virtual host's routes.

use crate::diagnostic::Severity;
use crate::rules::{Context, Rule, RuleMeta};

use super::{patches, report_ignored_on_route_configuration};

pub struct AddMisused;

static META: RuleMeta = RuleMeta {
    code: "MESH1703",
    name: "envoyfilter-add-misused",
    summary: "EnvoyFilter ADD that istiod ignores (ROUTE_CONFIGURATION) or appends behind a catch-all route (HTTP_ROUTE)",
    severity: Severity::Error,
    istio_codes: &["IST0153"],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH1703-envoyfilter-add-misused.md"),
};

impl Rule for AddMisused {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        for p in patches(cx.store) {
            if p.operation != "ADD" {
                continue;
            }
            match p.apply_to {
                "ROUTE_CONFIGURATION" => report_ignored_on_route_configuration(
                    cx,
                    &p,
                    "MERGE into the route configuration, or ADD a VIRTUAL_HOST or HTTP_ROUTE",
                ),
                "HTTP_ROUTE" => {
                    cx.report(
                        p.id,
                        p.path("patch.operation"),
                        format!(
                            "patch {}: ADD on HTTP_ROUTE appends the route after the virtual host's routes; the virtual hosts istiod generates end with a catch-all route (prefix `/`), and Envoy uses the first route that matches, so the added route is reached only in virtual hosts without one",
                            p.index
                        ),
                    )
                    .subkind("appended-route")
                    .severity(Severity::Warning)
                    .help("use INSERT_FIRST, or INSERT_BEFORE a named route, to place the route where it is reached");
                }
                _ => {}
            }
        }
    }
}
