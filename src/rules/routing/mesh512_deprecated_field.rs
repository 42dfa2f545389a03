//! MESH512 deprecated-field: Istio fields the API deprecates (`fault.delay.percent`,
//! `mirrorPercent`), a Sidecar `egressProxy` istiod ignores because the policy is not
//! ALLOW_ANY, Telemetry tracing through the deprecated Lightstep provider, and CRDs of kinds
//! Istio removed.

use crate::diagnostic::Severity;
use crate::model::raw::raw;
use crate::rules::{Context, Rule, RuleMeta};
use crate::source::{FieldPath, Node};

pub struct DeprecatedField;

static META: RuleMeta = RuleMeta {
    code: "MESH512",
    name: "deprecated-field",
    summary: "deprecated Istio field, egressProxy istiod ignores, or CRD of a kind Istio removed",
    severity: Severity::Warning,
    istio_codes: &["IST0002"],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH512-deprecated-field.md"),
};

/// Kinds Istio removed (the `rbac.istio.io` API, istio/istio
/// `pkg/config/analysis/analyzers/deprecation/deprecation.go`).
const REMOVED: &[(&str, &str)] = &[
    ("rbac.istio.io", "ClusterRbacConfig"),
    ("rbac.istio.io", "RbacConfig"),
    ("rbac.istio.io", "ServiceRole"),
    ("rbac.istio.io", "ServiceRoleBinding"),
];

impl Rule for DeprecatedField {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        for (id, r) in cx.store.iter() {
            match r.kind.as_str() {
                "VirtualService" if r.is_istio_networking() => {
                    let routes = raw(r, "spec.http")
                        .and_then(Node::as_seq)
                        .unwrap_or_default();
                    for (i, route) in routes.iter().enumerate() {
                        let base = FieldPath::parse("spec.http").index(i);
                        let delay = route.get("fault").and_then(|f| f.get("delay"));
                        if delay.and_then(|d| d.get("percent")).is_some() {
                            let honoured = delay.and_then(|d| d.get("percentage")).is_none();
                            cx.report(
                                id,
                                base.clone().key("fault").key("delay").key("percent"),
                                if honoured {
                                    "`fault.delay.percent` is deprecated (istiod still reads it while `percentage` is unset); use `fault.delay.percentage.value`".to_string()
                                } else {
                                    "`fault.delay.percent` is deprecated and ignored: `percentage` is set and istiod reads only that".to_string()
                                },
                            )
                            .subkind("delay-percent")
                            .severity(Severity::Info)
                            .help("replace `percent: N` with `percentage: {value: N}`");
                        }
                        if route.get("mirrorPercent").is_some() {
                            cx.report(
                                id,
                                base.key("mirrorPercent"),
                                "`mirrorPercent` is deprecated; use `mirrorPercentage.value`",
                            )
                            .subkind("mirror-percent")
                            .severity(Severity::Info)
                            .istio(&[])
                            .help("replace `mirrorPercent: N` with `mirrorPercentage: {value: N}`");
                        }
                    }
                }
                "Sidecar" if r.is_istio_networking() => {
                    let Some(policy) = raw(r, "spec.outboundTrafficPolicy") else {
                        continue;
                    };
                    if policy.get("egressProxy").is_none() {
                        continue;
                    }
                    let mode = policy
                        .get("mode")
                        .and_then(Node::as_str)
                        .unwrap_or("REGISTRY_ONLY");
                    if mode == "ALLOW_ANY" {
                        continue;
                    }
                    cx.report(
                        id,
                        FieldPath::parse("spec.outboundTrafficPolicy.egressProxy"),
                        format!(
                            "`egressProxy` is ignored with mode {mode}{}: istiod sends unknown destinations to it only with ALLOW_ANY, and blocks them otherwise",
                            if policy.get("mode").is_none() { " (the default)" } else { "" }
                        ),
                    )
                    .subkind("egress-proxy-ignored")
                    .help("set `mode: ALLOW_ANY` for traffic to unknown destinations to go through the egress proxy, or remove `egressProxy`");
                }
                "Telemetry" if r.api_version.starts_with("telemetry.istio.io/") => {
                    let lightstep: Vec<&str> = cx
                        .settings
                        .mesh
                        .extension_providers
                        .iter()
                        .filter(|p| p.lightstep.is_some())
                        .map(|p| p.name.as_str())
                        .collect();
                    let tracing = raw(r, "spec.tracing")
                        .and_then(Node::as_seq)
                        .unwrap_or_default();
                    for (i, t) in tracing.iter().enumerate() {
                        let providers = t
                            .get("providers")
                            .and_then(Node::as_seq)
                            .unwrap_or_default();
                        for (j, p) in providers.iter().enumerate() {
                            let Some(name) = p.get("name").and_then(Node::as_str) else {
                                continue;
                            };
                            if !lightstep.contains(&name) {
                                continue;
                            }
                            cx.report(
                                id,
                                FieldPath::parse("spec.tracing").index(i).key("providers").index(j).key("name"),
                                format!("tracing provider `{name}` is a Lightstep provider in the mesh config, which Istio deprecates"),
                            )
                            .subkind("lightstep-provider")
                            .severity(Severity::Info)
                            .help("move to an OpenTelemetry provider (`opentelemetry` in `extensionProviders`; Lightstep accepts OTLP)");
                        }
                    }
                }
                "CustomResourceDefinition" => {
                    let group = raw(r, "spec.group")
                        .and_then(Node::as_str)
                        .unwrap_or_default();
                    let kind = raw(r, "spec.names.kind")
                        .and_then(Node::as_str)
                        .unwrap_or_default();
                    if REMOVED.contains(&(group, kind)) {
                        cx.report(
                            id,
                            FieldPath::parse("spec.names.kind"),
                            format!("custom resource type {group} {kind} was removed from Istio: istiod ignores its objects; AuthorizationPolicy replaces it"),
                        )
                        .subkind("removed-kind")
                        .help("convert the policies to AuthorizationPolicy and delete the CRD");
                    }
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::findings_of;

    fn sidecar(policy: &str) -> Vec<String> {
        let text = format!(
            "apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: {{name: s, namespace: shop}}\nspec:\n  outboundTrafficPolicy: {policy}\n"
        );
        findings_of("MESH512", &text)
            .into_iter()
            .map(|f| f.message)
            .collect()
    }

    #[test]
    fn egress_proxy_counts_only_where_istiod_ignores_it() {
        let proxy = "egressProxy: {host: egress.istio-system.svc.cluster.local}";
        assert!(sidecar(&format!("{{mode: ALLOW_ANY, {proxy}}}")).is_empty());
        assert_eq!(
            sidecar(&format!("{{mode: REGISTRY_ONLY, {proxy}}}")).len(),
            1
        );
        assert!(sidecar(&format!("{{{proxy}}}"))[0].contains("(the default)"));
        assert!(sidecar("{mode: REGISTRY_ONLY}").is_empty());
    }
}
