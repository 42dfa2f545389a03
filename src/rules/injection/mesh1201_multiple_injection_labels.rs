//! MESH1201 multiple-injection-labels: a Namespace labelled for more than one data plane or
//! control plane revision; one label silently wins.

use crate::diagnostic::Severity;
use crate::mesh::injection::{ISTIO_INJECTION, ISTIO_REV};
use crate::model::Spec;
use crate::rules::{Context, Rule, RuleMeta};
use crate::source::FieldPath;

use super::CONTROL_PLANE_NAMESPACE;

pub struct MultipleInjectionLabels;

static META: RuleMeta = RuleMeta {
    code: "MESH1201",
    name: "multiple-injection-labels",
    summary: "Namespace labelled for several data planes or revisions; only one applies",
    severity: Severity::Warning,
    istio_codes: &["IST0123"],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH1201-multiple-injection-labels.md"),
};

const DATAPLANE_MODE: &str = "istio.io/dataplane-mode";

impl Rule for MultipleInjectionLabels {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        for (id, r) in cx.store.iter() {
            if !matches!(r.spec, Spec::Namespace) || r.name == CONTROL_PLANE_NAMESPACE {
                continue;
            }
            let injection = r.labels.get(ISTIO_INJECTION);
            // A namespace that opts out with `istio-injection` ignores the others too.
            if injection.is_some_and(|v| v != "enabled") {
                continue;
            }
            let rev = r.labels.get(ISTIO_REV);
            let ambient = r.labels.get(DATAPLANE_MODE);
            let mut given: Vec<(&str, &String)> = Vec::new();
            for (key, value) in [
                (ISTIO_INJECTION, injection),
                (ISTIO_REV, rev),
                (DATAPLANE_MODE, ambient),
            ] {
                if let Some(v) = value {
                    given.push((key, v));
                }
            }
            if given.len() < 2 {
                continue;
            }
            let shown: Vec<String> = given.iter().map(|(k, v)| format!("`{k}={v}`")).collect();
            // The default revision's webhook selects `istio-injection=enabled`; revision
            // webhooks require that label to be absent (istio's `mutatingwebhook.yaml`), and
            // ztunnel skips pods that already have a sidecar.
            let (winner, effect) = if injection.is_some() {
                (
                    ISTIO_INJECTION,
                    "the default revision's webhook injects a sidecar: revision webhooks only select namespaces without `istio-injection`, and ambient mode skips pods that have a sidecar".to_string(),
                )
            } else if let Some(rev) = rev {
                (
                    ISTIO_REV,
                    format!(
                        "revision `{rev}` injects a sidecar, and ambient mode skips pods that have one"
                    ),
                )
            } else {
                continue;
            };
            let second = given
                .iter()
                .find(|(k, _)| *k != winner)
                .map_or(ISTIO_REV, |(k, _)| *k);
            cx.report(
                id,
                FieldPath::parse("metadata.labels").key(second),
                format!(
                    "Namespace `{}` has {}: {effect}",
                    r.name,
                    shown.join(" and ")
                ),
            )
            .help(format!(
                "keep only the label of the data plane you want (`{winner}` is the one that applies today)"
            ));
        }
    }
}
