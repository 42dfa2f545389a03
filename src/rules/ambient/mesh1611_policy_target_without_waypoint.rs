//! MESH1611 policy-target-without-waypoint: an AuthorizationPolicy, RequestAuthentication,
//! WasmPlugin or Telemetry attached by `targetRefs` to a Service no waypoint serves, in an
//! ambient namespace; and namespace-wide L7 Telemetry in an ambient namespace without a
//! waypoint. Only waypoints apply policies with `targetRefs` (`convertAuthorizationPolicy`,
//! istio `pilot/pkg/serviceregistry/ambient/authorization.go`; `ShouldAttachPolicy`,
//! `pilot/pkg/model/policyattachment.go`); istiod's status for it is "Service ... is not bound
//! to a waypoint" (`pilot/pkg/serviceregistry/ambient/policies.go`).

use crate::diagnostic::Severity;
use crate::mesh::ambient::Enrolment;
use crate::mesh::ambient_l7::{PolicyKind, attachment, fields_text, policy_l7_fields};
use crate::model::Spec;
use crate::rules::{Context, Rule, RuleMeta};

use super::l7::{namespace_has_waypoint, no_waypoint_text};

pub struct PolicyTargetWithoutWaypoint;

static META: RuleMeta = RuleMeta {
    code: "MESH1611",
    name: "policy-target-without-waypoint",
    summary: "policy attached by targetRefs to a Service no waypoint serves: nothing enforces it",
    severity: Severity::Warning,
    istio_codes: &[],
    kiali_codes: &["KIA0109", "KIA1110", "KIA1111", "KIA1112"],
    opt_in: false,
    doc: include_str!("../../../rules/MESH1611-policy-target-without-waypoint.md"),
};

fn kiali(kind: PolicyKind) -> &'static [&'static str] {
    match kind {
        PolicyKind::AuthorizationPolicy => &["KIA0109"],
        PolicyKind::RequestAuthentication => &["KIA1110"],
        PolicyKind::WasmPlugin => &["KIA1111"],
        PolicyKind::Telemetry => &["KIA1112"],
    }
}

/// What not being applied means for the policy.
fn consequence(kind: PolicyKind, spec: &Spec, listed: &str) -> String {
    match (kind, spec) {
        (PolicyKind::AuthorizationPolicy, Spec::AuthorizationPolicy(ap)) => {
            match ap.action().to_ascii_uppercase().as_str() {
                "DENY" => "this DENY policy denies nothing".into(),
                "ALLOW" => {
                    "this ALLOW policy restricts nothing: requests it would refuse are allowed"
                        .into()
                }
                _ => "the policy is not enforced".into(),
            }
        }
        (PolicyKind::RequestAuthentication, _) => "no JWT is validated".into(),
        (PolicyKind::WasmPlugin, _) => "the plugin never runs".into(),
        _ if listed.is_empty() => "it is not applied".into(),
        _ => format!("nothing applies its {listed}"),
    }
}

impl Rule for PolicyTargetWithoutWaypoint {
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
        let root = cx.settings.mesh.root_namespace().to_string();
        for (id, r) in store.iter() {
            let Some(kind) = PolicyKind::of(r) else {
                continue;
            };
            let att = attachment(r);
            let fields = policy_l7_fields(kind, r);
            let listed = fields_text(&fields);
            if att.target_refs.is_empty() {
                // Namespace-wide Telemetry reaches the namespace's waypoints, when it has any.
                if kind == PolicyKind::Telemetry
                    && att.namespace_wide()
                    && !fields.is_empty()
                    && r.namespace != root
                    && ambient.namespace_ambient(&r.namespace)
                    && !namespace_has_waypoint(cx, &r.namespace)
                {
                    let message = format!(
                        "namespace-wide Telemetry in ambient namespace `{}`, which uses no waypoint (no `istio.io/use-waypoint` label): ztunnel reads no Telemetry and only waypoints apply it, so nothing applies its {listed} to the namespace's ambient workloads",
                        r.namespace
                    );
                    cx.report(id, fields[0].path.clone(), message)
                        .kiali(kiali(kind))
                        .help("enrol the namespace with a waypoint (`istio.io/use-waypoint: NAME`, e.g. `istioctl waypoint apply -n NAMESPACE --enroll-namespace`)");
                }
                continue;
            }
            for tr in &att.target_refs {
                // A reference to another namespace never matches (`ShouldAttachPolicy`).
                let ns = tr.namespace.clone().unwrap_or_else(|| r.namespace.clone());
                if !tr.is_service() || ns != r.namespace || !ambient.namespace_ambient(&ns) {
                    continue;
                }
                let enrolment = ambient.service_enrolment(&ns, &tr.name);
                if enrolment.waypoint().is_some() {
                    continue;
                }
                let service = api.object("Service", &ns, &tr.name);
                let why = no_waypoint_text(&enrolment, &format!("Service {ns}/{}", tr.name));
                let missing = if service.is_some() {
                    ""
                } else {
                    " (the Service is not in the input, so its own labels are not known)"
                };
                let l7 = if kind == PolicyKind::AuthorizationPolicy && !fields.is_empty() {
                    format!("; its HTTP attributes ({listed}) need a waypoint in any case")
                } else {
                    String::new()
                };
                let message = format!(
                    "{} is attached by `targetRefs` to Service {ns}/{}, but {why}{missing}: only waypoints apply policies with `targetRefs` (ztunnel and sidecars ignore them), so {}{l7}",
                    kind.name(),
                    tr.name,
                    consequence(kind, &r.spec, &listed),
                );
                let opted_out = matches!(enrolment, Enrolment::OptedOut { .. });
                // The input itself refuses the waypoint that would enforce an access policy.
                let severity = if opted_out && kind == PolicyKind::AuthorizationPolicy {
                    Severity::Error
                } else {
                    Severity::Warning
                };
                let codes = if fields.is_empty() {
                    &[][..]
                } else {
                    kiali(kind)
                };
                let mut f = cx
                    .report(id, tr.path.clone(), message)
                    .severity(severity)
                    .kiali(codes)
                    .help("enrol the Service or its namespace with a waypoint (`istio.io/use-waypoint: NAME`, e.g. `istioctl waypoint apply -n NAMESPACE --enroll-namespace`), or enforce what ztunnel can (principals, namespaces, IP blocks, ports) with a selector-based policy");
                if let Enrolment::OptedOut { label_at } = &enrolment {
                    f = f.related(
                        label_at.0,
                        label_at.1.clone(),
                        "opts the Service out of waypoints",
                    );
                } else if let Some(s) = service {
                    f = f.related(
                        s,
                        crate::source::FieldPath::parse("metadata.name"),
                        "the Service",
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::diagnostic::Severity;
    use crate::rules::testing::findings_of;

    fn input(namespace_labels: &str, service_labels: &str, policy_spec: &str) -> String {
        format!(
            "apiVersion: v1\nkind: Namespace\nmetadata: {{name: shop, labels: {namespace_labels}}}\n---\napiVersion: v1\nkind: Service\nmetadata: {{name: reviews, namespace: shop, labels: {service_labels}}}\nspec: {{selector: {{app: reviews}}, ports: [{{name: http, port: 9080}}]}}\n---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {{name: p, namespace: shop}}\nspec: {policy_spec}\n"
        )
    }

    const AMBIENT: &str = "{istio.io/dataplane-mode: ambient}";
    const TARGET: &str = "targetRefs: [{kind: Service, group: '', name: reviews}]";

    #[test]
    fn an_unbound_service_target_is_a_warning_and_an_opt_out_an_error() {
        let l7 = format!("{{{TARGET}, rules: [{{to: [{{operation: {{methods: [GET]}}}}]}}]}}");
        let f = findings_of("MESH1611", &input(AMBIENT, "{}", &l7));
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, Severity::Warning);
        assert_eq!(f[0].kiali_codes, ["KIA0109"]);
        assert!(
            f[0].message.contains("restricts nothing"),
            "{}",
            f[0].message
        );
        let f = findings_of(
            "MESH1611",
            &input(AMBIENT, "{istio.io/use-waypoint: none}", &l7),
        );
        assert_eq!(f[0].severity, Severity::Error);
        assert_eq!(f[0].related.len(), 1);
    }

    #[test]
    fn l4_policies_are_reported_without_kiali_codes_and_bound_services_not_at_all() {
        let l4 = format!("{{{TARGET}, rules: [{{from: [{{source: {{namespaces: [shop]}}}}]}}]}}");
        let f = findings_of("MESH1611", &input(AMBIENT, "{}", &l4));
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(f[0].kiali_codes.is_empty());
        let enrolled = "{istio.io/dataplane-mode: ambient, istio.io/use-waypoint: waypoint}";
        assert!(findings_of("MESH1611", &input(enrolled, "{}", &l4)).is_empty());
        assert!(findings_of("MESH1611", &input("{}", "{}", &l4)).is_empty());
    }
}
