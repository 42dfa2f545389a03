//! MESH1704 envoyfilter-remove-misused: a REMOVE patch on a ROUTE_CONFIGURATION, which istiod
//! ignores, or on an HTTP_ROUTE without a route match, which removes every route it reaches.

use crate::diagnostic::Severity;
use crate::rules::{Context, Rule, RuleMeta};

use super::{names_route, patches, report_ignored_on_route_configuration};

pub struct RemoveMisused;

static META: RuleMeta = RuleMeta {
    code: "MESH1704",
    name: "envoyfilter-remove-misused",
    summary: "EnvoyFilter REMOVE that istiod ignores (ROUTE_CONFIGURATION) or that removes every route (HTTP_ROUTE without a route match)",
    severity: Severity::Error,
    istio_codes: &["IST0154"],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH1704-envoyfilter-remove-misused.md"),
};

impl Rule for RemoveMisused {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        for p in patches(cx.store) {
            if p.operation != "REMOVE" {
                continue;
            }
            match p.apply_to {
                "ROUTE_CONFIGURATION" => report_ignored_on_route_configuration(
                    cx,
                    &p,
                    "REMOVE the VIRTUAL_HOST or HTTP_ROUTE you mean, or MERGE into the route configuration",
                ),
                "HTTP_ROUTE" if !names_route(&p) => {
                    cx.report(
                        p.id,
                        p.path("patch.operation"),
                        format!(
                            "patch {}: REMOVE on HTTP_ROUTE without `match.routeConfiguration.vhost.route` matches every route: istiod removes all routes of every virtual host the patch reaches, and requests there get 404",
                            p.index
                        ),
                    )
                    .subkind("removes-all-routes")
                    .severity(Severity::Warning)
                    .help("name the route to remove in `match.routeConfiguration.vhost.route.name`");
                }
                _ => {}
            }
        }
    }
}
