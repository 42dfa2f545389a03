//! MESH1501 access-log-without-provider: a Telemetry `accessLogging` entry that names no
//! provider while MeshConfig has no default access-log provider, so no access log is written
//! (istio/istio `pilot/pkg/model/telemetry.go`: an entry without `providers` uses
//! `defaultProviders.accessLogging`).

use crate::diagnostic::Severity;
use crate::model::raw::raw;
use crate::rules::{Context, Rule, RuleMeta};
use crate::source::{FieldPath, Node, Value};

pub struct AccessLogWithoutProvider;

static META: RuleMeta = RuleMeta {
    code: "MESH1501",
    name: "access-log-without-provider",
    summary: "Telemetry access-log entry without a provider while MeshConfig has no default one",
    severity: Severity::Warning,
    istio_codes: &["IST0157"],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH1501-access-log-without-provider.md"),
};

/// Whether an entry's `disabled` is `true`.
fn disabled(entry: &Node) -> bool {
    matches!(
        entry.get("disabled").map(|d| &d.value),
        Some(Value::Bool(true))
    )
}

impl Rule for AccessLogWithoutProvider {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        if !cx.settings.mesh.default_providers.access_logging.is_empty() {
            return;
        }
        // Without a mesh config in the input, the defaults may be set where meshlint cannot see.
        let known = cx.settings.mesh_source.is_some();
        for (id, r) in cx.store.iter() {
            if r.kind != "Telemetry" || !r.api_version.starts_with("telemetry.istio.io/") {
                continue;
            }
            let entries = raw(r, "spec.accessLogging")
                .and_then(Node::as_seq)
                .unwrap_or_default();
            for (i, entry) in entries.iter().enumerate() {
                let providers = entry
                    .get("providers")
                    .and_then(Node::as_seq)
                    .unwrap_or_default();
                if disabled(entry) || !providers.is_empty() {
                    continue;
                }
                let mesh = if known {
                    "the mesh config has no `defaultProviders.accessLogging`".to_string()
                } else {
                    "the input has no mesh config setting `defaultProviders.accessLogging`"
                        .to_string()
                };
                cx.report(
                    id,
                    FieldPath::parse("spec.accessLogging").index(i),
                    format!(
                        "accessLogging entry {i} names no provider and {mesh}: istiod configures no access log for it, so its settings (filter, match) do nothing"
                    ),
                )
                .help("name a provider (`providers: [{name: envoy}]`), or set `defaultProviders.accessLogging` in the mesh config")
                .severity(if known { Severity::Warning } else { Severity::Info });
            }
        }
    }
}
