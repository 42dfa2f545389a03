//! MESH1702 envoyfilter-replace-unsupported: a REPLACE patch on a kind istiod cannot replace
//! (only listener, network and HTTP filters and virtual hosts), which istiod skips.

use crate::diagnostic::Severity;
use crate::rules::{Context, Rule, RuleMeta};

use super::{patches, replace_supported};

pub struct ReplaceUnsupported;

static META: RuleMeta = RuleMeta {
    code: "MESH1702",
    name: "envoyfilter-replace-unsupported",
    summary: "EnvoyFilter REPLACE on a kind istiod cannot replace",
    severity: Severity::Error,
    istio_codes: &["IST0152"],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH1702-envoyfilter-replace-unsupported.md"),
};

impl Rule for ReplaceUnsupported {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        for p in patches(cx.store) {
            if p.operation != "REPLACE" || replace_supported(p.apply_to) {
                continue;
            }
            let apply_to = if p.apply_to.is_empty() {
                "an unset applyTo"
            } else {
                p.apply_to
            };
            let fix = match p.apply_to {
                "CLUSTER" | "LISTENER" | "FILTER_CHAIN" | "ROUTE_CONFIGURATION" => {
                    "use MERGE to change the object, or REMOVE it and ADD the new one"
                }
                "HTTP_ROUTE" => {
                    "use MERGE to change the route, or REMOVE it and INSERT_BEFORE/INSERT_AFTER the new one"
                }
                _ => "use MERGE or ADD, the operations istiod applies to this kind",
            };
            cx.report(
                p.id,
                p.path("patch.operation"),
                format!(
                    "patch {}: istiod ignores REPLACE on {apply_to}: it replaces only HTTP_FILTER, NETWORK_FILTER, LISTENER_FILTER and VIRTUAL_HOST objects, so this patch does nothing",
                    p.index
                ),
            )
            .help(fix);
        }
    }
}
