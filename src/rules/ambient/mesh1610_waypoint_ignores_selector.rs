//! MESH1610 waypoint-ignores-selector: an L7 AuthorizationPolicy, RequestAuthentication,
//! WasmPlugin or Telemetry attached by selector (or namespace-wide) to ambient workloads.
//! Waypoints take these policies by `targetRefs` only (`ShouldAttachPolicy`, istio
//! `pilot/pkg/model/policyattachment.go`), and ztunnel enforces AuthorizationPolicies without
//! their HTTP attributes (`convertAuthorizationPolicy`,
//! `pilot/pkg/serviceregistry/ambient/authorization.go`) and reads none of the other kinds.

use crate::diagnostic::Severity;
use crate::mesh::ambient_l7::{
    L7Field, PolicyKind, ZtunnelAuthz, attachment, fields_text, policy_l7_fields, ztunnel_authz,
};
use crate::model::raw::label;
use crate::model::{ResId, Resource, Spec};
use crate::rules::selectors::workloads_text;
use crate::rules::{Context, Rule, RuleMeta};
use crate::source::FieldPath;

use super::l7::{namespace_has_waypoint, reached, split_ambient};

pub struct WaypointIgnoresSelector;

static META: RuleMeta = RuleMeta {
    code: "MESH1610",
    name: "waypoint-ignores-selector",
    summary: "L7 policy attached by selector to ambient workloads: waypoints ignore it and ztunnel enforces no HTTP",
    severity: Severity::Error,
    istio_codes: &["IST0166"],
    kiali_codes: &[
        "KIA0109", "KIA0110", "KIA1110", "KIA1111", "KIA1112", "KIA1115", "KIA1116", "KIA1117",
    ],
    opt_in: false,
    doc: include_str!("../../../rules/MESH1610-waypoint-ignores-selector.md"),
};

/// The Kiali codes of a finding: "no targetRefs", and "no waypoint" when the workloads use none.
fn kiali(kind: PolicyKind, no_waypoint: bool) -> &'static [&'static str] {
    match (kind, no_waypoint) {
        (PolicyKind::AuthorizationPolicy, false) => &["KIA0110"],
        (PolicyKind::AuthorizationPolicy, true) => &["KIA0109", "KIA0110"],
        (PolicyKind::RequestAuthentication, false) => &["KIA1115"],
        (PolicyKind::RequestAuthentication, true) => &["KIA1110", "KIA1115"],
        (PolicyKind::WasmPlugin, false) => &["KIA1116"],
        (PolicyKind::WasmPlugin, true) => &["KIA1111", "KIA1116"],
        (PolicyKind::Telemetry, false) => &["KIA1117"],
        (PolicyKind::Telemetry, true) => &["KIA1112", "KIA1117"],
    }
}

/// What ztunnel does with the policy, for the message.
fn ztunnel_text(kind: PolicyKind, r: &Resource, fields: &[L7Field]) -> String {
    let listed = fields_text(fields);
    match kind {
        PolicyKind::AuthorizationPolicy => {
            let Spec::AuthorizationPolicy(ap) = &r.spec else {
                return String::new();
            };
            match ztunnel_authz(ap) {
                Some(ZtunnelAuthz::Unsupported(action)) => format!(
                    "ztunnel does not support action {action} and ignores the policy, so it is not enforced"
                ),
                Some(ZtunnelAuthz::AllowDropped { kept: 0, .. }) => format!(
                    "ztunnel drops every rule of this ALLOW policy for its HTTP attributes ({listed}) and keeps an ALLOW policy that matches nothing: requests to these workloads that no other ALLOW policy allows are denied"
                ),
                Some(ZtunnelAuthz::AllowDropped { dropped, .. }) => format!(
                    "ztunnel drops the rule{} {} of this ALLOW policy for their HTTP attributes ({listed}): the requests only they allow are denied",
                    if dropped.len() == 1 { "" } else { "s" },
                    dropped
                        .iter()
                        .map(|i| format!("rules[{i}]"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                Some(ZtunnelAuthz::DenyNoEffect) => format!(
                    "ztunnel enforces this DENY policy without its HTTP attributes ({listed}), which leaves no rule that can match: it denies nothing"
                ),
                Some(ZtunnelAuthz::DenyWidened) => format!(
                    "ztunnel enforces this DENY policy without its HTTP attributes ({listed}): it denies every request its remaining conditions match, more than written"
                ),
                None => format!("ztunnel does not enforce its HTTP attributes ({listed})"),
            }
        }
        PolicyKind::RequestAuthentication => {
            format!("ztunnel validates no JWT, so its {listed} are not enforced")
        }
        PolicyKind::WasmPlugin => "ztunnel runs no Wasm plugin, so the plugin never runs".into(),
        PolicyKind::Telemetry => {
            format!("ztunnel reads no Telemetry, so nothing applies its {listed}")
        }
    }
}

impl Rule for WaypointIgnoresSelector {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let ambient = cx.ambient();
        if !ambient.any_ambient() {
            return;
        }
        let store = cx.store;
        let api = cx.gateway_api();
        for (id, r) in store.iter() {
            let Some(kind) = PolicyKind::of(r) else {
                continue;
            };
            let att = attachment(r);
            // Waypoints apply namespace-wide Telemetry (`pilot/pkg/model/telemetry.go`).
            if !att.target_refs.is_empty()
                || (kind == PolicyKind::Telemetry && att.selector.is_empty())
            {
                continue;
            }
            let fields = policy_l7_fields(kind, r);
            if fields.is_empty() {
                continue;
            }
            let reached = reached(cx, r, &att);
            let (captured, mut waypoints) = split_ambient(cx, &ambient, &api, &reached);
            // A namespace-wide policy is not meant for the namespace's waypoints.
            if att.selector.is_empty() {
                waypoints.clear();
            }
            let unmatched_in_ambient =
                reached.is_empty() && ambient.namespace_ambient(&r.namespace);
            if captured.is_empty() && waypoints.is_empty() && !unmatched_in_ambient {
                continue;
            }
            let no_waypoint = if captured.is_empty() {
                waypoints.is_empty() && !namespace_has_waypoint(cx, &r.namespace)
            } else {
                captured
                    .iter()
                    .any(|&w| ambient.workload_enrolment(w).waypoint().is_none())
            };
            let reach = Reach {
                captured,
                waypoints,
                namespace_wide: att.selector.is_empty(),
                no_waypoint,
            };
            report(cx, id, kind, &fields, &reach);
        }
    }
}

/// Whom a policy attached by selector reaches.
struct Reach {
    /// Workloads ztunnel captures.
    captured: Vec<ResId>,
    /// Waypoints' own pods.
    waypoints: Vec<ResId>,
    namespace_wide: bool,
    /// The workloads reached use no waypoint either.
    no_waypoint: bool,
}

fn report(cx: &mut Context<'_>, id: ResId, kind: PolicyKind, fields: &[L7Field], reach: &Reach) {
    let Reach {
        captured,
        waypoints,
        namespace_wide,
        no_waypoint,
    } = reach;
    let (namespace_wide, no_waypoint) = (*namespace_wide, *no_waypoint);
    let store = cx.store;
    let r = store.get(id);
    let reach = if !captured.is_empty() {
        let how = if namespace_wide {
            "applies namespace-wide, to ambient workloads"
        } else {
            "selects ambient workloads"
        };
        format!("{how} ({})", workloads_text(store, captured))
    } else if !waypoints.is_empty() {
        format!(
            "selects the pods of a waypoint ({})",
            workloads_text(store, waypoints)
        )
    } else if namespace_wide {
        format!(
            "applies namespace-wide in ambient namespace `{}`",
            r.namespace
        )
    } else {
        format!(
            "selects workloads of ambient namespace `{}` (none of them is in the input)",
            r.namespace
        )
    };
    let mut message = format!(
        "{} {reach} without `targetRefs`: waypoints never apply a policy attached by selector",
        kind.name()
    );
    if !captured.is_empty() || waypoints.is_empty() {
        message.push_str(&format!("; {}", ztunnel_text(kind, r, fields)));
    } else {
        message.push_str(", so it never applies to this waypoint");
    }
    if no_waypoint {
        message.push_str("; no waypoint serves them either (no `istio.io/use-waypoint` label)");
    }
    let path = if namespace_wide {
        fields[0].path.clone()
    } else {
        FieldPath::parse("spec.selector.matchLabels")
    };
    // An error when the input shows ztunnel enforcing a different AuthorizationPolicy.
    let severity = if kind == PolicyKind::AuthorizationPolicy && !captured.is_empty() {
        Severity::Error
    } else {
        Severity::Warning
    };
    let related: Vec<(ResId, FieldPath, String)> = captured
        .iter()
        .chain(waypoints)
        .take(3)
        .map(|&w| {
            let wl = store.get(w);
            let path = wl
                .workload()
                .map_or_else(FieldPath::root, |x| x.pod_meta_path.clone().key("labels"));
            (w, path, format!("{} is reached", label(store, w)))
        })
        .collect();
    let mut f = cx
        .report(id, path, message)
        .severity(severity)
        .kiali(kiali(kind, no_waypoint))
        .help(
            "deploy a waypoint (`istioctl waypoint apply -n NAMESPACE --enroll-namespace`) and attach the policy with `targetRefs` to the Service (`kind: Service`, `group: \"\"`) or the waypoint Gateway; keep L4 conditions (principals, namespaces, IP blocks, ports) in a selector policy for ztunnel",
        );
    if !waypoints.is_empty() {
        f = f.istio(&["IST0166"]);
    } else {
        f = f.istio(&[]);
    }
    for (w, path, text) in related {
        f = f.related(w, path, text);
    }
}

#[cfg(test)]
mod tests {
    use crate::diagnostic::Severity;
    use crate::rules::testing::findings_of;

    const NAMESPACE: &str = "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {istio.io/dataplane-mode: ambient}}\n";

    fn deployment(name: &str, labels: &str) -> String {
        format!(
            "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: shop}}\nspec:\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {{labels: {labels}}}\n    spec: {{containers: [{{name: app, image: app}}]}}\n"
        )
    }

    fn policy(kind: &str, spec: &str) -> String {
        let api = match kind {
            "WasmPlugin" => "extensions.istio.io/v1alpha1",
            "Telemetry" => "telemetry.istio.io/v1",
            _ => "security.istio.io/v1",
        };
        format!(
            "---\napiVersion: {api}\nkind: {kind}\nmetadata: {{name: p, namespace: shop}}\nspec: {spec}\n"
        )
    }

    #[test]
    fn an_l7_authorization_policy_on_ambient_workloads_is_an_error_naming_what_ztunnel_does() {
        let text = format!(
            "{NAMESPACE}{}{}",
            deployment("reviews", "{app: reviews}"),
            policy(
                "AuthorizationPolicy",
                "{selector: {matchLabels: {app: reviews}}, action: DENY, rules: [{to: [{operation: {methods: [DELETE]}}]}]}"
            )
        );
        let f = findings_of("MESH1610", &text);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, Severity::Error);
        assert!(
            f[0].message.contains("it denies nothing"),
            "{}",
            f[0].message
        );
        assert_eq!(f[0].kiali_codes, ["KIA0109", "KIA0110"]);
        assert!(f[0].istio_codes.is_empty());
    }

    #[test]
    fn sidecar_and_opted_out_workloads_keep_selector_policies() {
        let spec = "{selector: {matchLabels: {app: reviews}}, rules: [{to: [{operation: {methods: [GET]}}]}]}";
        for labels in [
            "{app: reviews, istio.io/dataplane-mode: none}",
            "{app: reviews, sidecar.istio.io/inject: 'true'}",
        ] {
            let text = format!(
                "{NAMESPACE}{}{}",
                deployment("reviews", labels),
                policy("AuthorizationPolicy", spec)
            );
            assert!(findings_of("MESH1610", &text).is_empty(), "{labels}");
        }
    }

    #[test]
    fn other_kinds_are_warnings_and_a_namespace_wide_telemetry_is_left_to_waypoints() {
        let text = format!(
            "{NAMESPACE}{}{}",
            deployment("reviews", "{app: reviews, istio.io/use-waypoint: waypoint}"),
            policy(
                "WasmPlugin",
                "{selector: {matchLabels: {app: reviews}}, url: 'oci://x/y:1'}"
            )
        );
        let f = findings_of("MESH1610", &text);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, Severity::Warning);
        // The workload uses a waypoint: only the selector is the problem.
        assert_eq!(f[0].kiali_codes, ["KIA1116"]);
        let telemetry = format!(
            "{NAMESPACE}{}{}",
            deployment("reviews", "{app: reviews}"),
            policy("Telemetry", "{tracing: [{randomSamplingPercentage: 1}]}")
        );
        assert!(findings_of("MESH1610", &telemetry).is_empty());
    }

    #[test]
    fn a_selector_on_waypoint_pods_carries_ist0166() {
        let text = format!(
            "{NAMESPACE}{}{}",
            deployment(
                "waypoint",
                "{gateway.networking.k8s.io/gateway-name: waypoint, gateway.istio.io/managed: istio.io-mesh-controller}"
            ),
            policy(
                "RequestAuthentication",
                "{selector: {matchLabels: {gateway.networking.k8s.io/gateway-name: waypoint}}, jwtRules: [{issuer: x}]}"
            )
        );
        let f = findings_of("MESH1610", &text);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].istio_codes, ["IST0166"]);
        assert!(
            f[0].message.contains("selects the pods of a waypoint"),
            "{}",
            f[0].message
        );
    }
}
