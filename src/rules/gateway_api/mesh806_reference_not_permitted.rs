//! MESH806 reference-not-permitted: a route attached to a Gateway references a backend in
//! another namespace, and no ReferenceGrant there permits it (`RefNotPermitted`).

use crate::diagnostic::Severity;
use crate::mesh::gateway_api::backends::BackendProblem;
use crate::model::Spec;
use crate::rules::{Context, Rule, RuleMeta};

pub struct ReferenceNotPermitted;

static META: RuleMeta = RuleMeta {
    code: "MESH806",
    name: "reference-not-permitted",
    summary: "a Gateway API route references a backend in another namespace that no ReferenceGrant permits",
    severity: Severity::Error,
    istio_codes: &[],
    kiali_codes: &["KIA1402"],
    opt_in: false,
    doc: include_str!("../../../rules/MESH806-reference-not-permitted.md"),
};

impl Rule for ReferenceNotPermitted {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let api = cx.gateway_api();
        let store = cx.store;
        // Grants of each namespace, to name one that does not cover the reference.
        let mut grants_in: std::collections::HashMap<&str, Vec<usize>> = Default::default();
        for (id, r) in store.iter() {
            if matches!(r.spec, Spec::ReferenceGrant(_)) {
                grants_in.entry(r.namespace.as_str()).or_default().push(id);
            }
        }
        for rv in &api.routes {
            if !rv.istio_programs(&api) {
                continue;
            }
            let r = store.get(rv.id);
            for b in rv.backends.iter().filter(|b| b.resolved_by_istiod()) {
                if b.problem != Some(BackendProblem::NotPermitted) {
                    continue;
                }
                let grants = grants_in
                    .get(b.namespace.as_str())
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                let target = api.object(&b.kind, &b.namespace, &b.name);
                let (severity, why) = if !grants.is_empty() {
                    (
                        Severity::Error,
                        format!(
                            "the ReferenceGrants of namespace {} do not cover it",
                            b.namespace
                        ),
                    )
                } else if target.is_some() {
                    (
                        Severity::Warning,
                        format!(
                            "namespace {} has no ReferenceGrant in the input",
                            b.namespace
                        ),
                    )
                } else {
                    (
                        Severity::Info,
                        format!(
                            "namespace {} has neither the backend nor a ReferenceGrant in the input, so a grant may be deployed with it",
                            b.namespace
                        ),
                    )
                };
                let mut rep = cx
                    .report(
                        rv.id,
                        b.path().key("namespace"),
                        format!(
                            "{} {}/{} references {} {}/{} in another namespace, which needs a ReferenceGrant there from {} in {}; {why} (ResolvedRefs=False, RefNotPermitted): {}",
                            r.kind, r.namespace, r.name, b.kind, b.namespace, b.name, r.kind, r.namespace,
                            if b.mirror { "istiod drops the request mirror, so no copies are sent" } else { "requests this rule sends there fail with 500" }
                        ),
                    )
                    .severity(severity)
                    .help(format!(
                        "add a ReferenceGrant in namespace {} with from {{group: gateway.networking.k8s.io, kind: {}, namespace: {}}} and to {{group: \"\", kind: {}}}",
                        b.namespace, r.kind, r.namespace, b.kind
                    ));
                if let Some(&g) = grants.first() {
                    rep = rep.related(
                        g,
                        crate::source::FieldPath::parse("spec"),
                        "a ReferenceGrant of that namespace",
                    );
                }
                if let Some(t) = target {
                    rep.related(
                        t,
                        crate::source::FieldPath::parse("metadata.name"),
                        "the backend",
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

    const BASE: &str = "apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: app}
spec: {gatewayClassName: istio, listeners: [{name: http, port: 80, protocol: HTTP}]}
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: data}
spec: {ports: [{port: 80}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: app}
spec: {parentRefs: [{name: gw}], rules: [{backendRefs: [{name: db, namespace: data, port: 80}]}]}
";

    fn grant(from_ns: &str) -> String {
        format!(
            "---\napiVersion: gateway.networking.k8s.io/v1beta1\nkind: ReferenceGrant\nmetadata: {{name: g, namespace: data}}\nspec: {{from: [{{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: {from_ns}}}], to: [{{group: '', kind: Service}}]}}\n"
        )
    }

    #[test]
    fn a_grant_permits_and_a_wrong_one_is_named() {
        assert!(findings_of("MESH806", &format!("{BASE}{}", grant("app"))).is_empty());
        let f = findings_of("MESH806", &format!("{BASE}{}", grant("other")));
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, Severity::Error);
        assert_eq!(f[0].related.len(), 2);
        let f = findings_of("MESH806", BASE);
        assert_eq!(f[0].severity, Severity::Warning, "{f:#?}");
    }

    #[test]
    fn mesh_routes_are_not_held_to_grants_as_istiod_does_not() {
        let mesh = BASE.replace(
            "parentRefs: [{name: gw}]",
            "parentRefs: [{kind: Service, group: '', name: db, namespace: data}]",
        );
        assert!(findings_of("MESH806", &mesh).is_empty());
    }
}
