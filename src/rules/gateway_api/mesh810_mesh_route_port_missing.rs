//! MESH810 mesh-route-port-missing: a mesh (GAMMA) route whose Service parentRef names a port
//! the Service does not have: istiod attaches the route and it never matches.

use crate::diagnostic::Severity;
use crate::mesh::gateway_api::attach::ParentTarget;
use crate::model::Spec;
use crate::rules::{Context, Rule, RuleMeta};
use crate::source::FieldPath;

pub struct MeshRoutePortMissing;

static META: RuleMeta = RuleMeta {
    code: "MESH810",
    name: "mesh-route-port-missing",
    summary: "a mesh route's Service parentRef names a port the Service does not have",
    severity: Severity::Error,
    istio_codes: &[],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH810-mesh-route-port-missing.md"),
};

impl Rule for MeshRoutePortMissing {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let api = cx.gateway_api();
        let store = cx.store;
        for rv in &api.routes {
            if !rv.istio_programs(&api) {
                continue;
            }
            let Spec::Route(_, route) = &store.get(rv.id).spec else {
                continue;
            };
            for p in &rv.parents {
                let ParentTarget::Service(svc) = p.target else {
                    continue;
                };
                let Some(port) = route.parent_refs.get(p.index).and_then(|pr| pr.port) else {
                    continue;
                };
                let Spec::Service(s) = &store.get(svc).spec else {
                    continue;
                };
                if s.spec.ports.iter().any(|sp| sp.port == port) {
                    continue;
                }
                let ports: Vec<String> =
                    s.spec.ports.iter().map(|sp| sp.port.to_string()).collect();
                let sr = store.get(svc);
                let r = store.get(rv.id);
                cx.report(
                    rv.id,
                    rv.parent_path(p.index).key("port"),
                    format!(
                        "{} {}/{} attaches to Service {}/{} on port {port}, which the Service does not have ({}): istiod accepts the route and only applies it to traffic to that port, so it never applies",
                        r.kind, r.namespace, r.name, sr.namespace, sr.name,
                        if ports.is_empty() { "no ports".to_string() } else { ports.join(", ") }
                    ),
                )
                .help("use one of the Service's `port` numbers (not a targetPort), or drop `port` to apply the route to every port")
                .related(svc, FieldPath::parse("spec.ports"), "the Service's ports");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::findings_of;

    #[test]
    fn a_parent_port_must_be_a_service_port() {
        let text = |port: i64| {
            format!(
                "apiVersion: v1\nkind: Service\nmetadata: {{name: reviews, namespace: app}}\nspec: {{ports: [{{port: 9080, targetPort: 8080}}]}}\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: r, namespace: app}}\nspec: {{parentRefs: [{{group: '', kind: Service, name: reviews, port: {port}}}], rules: [{{backendRefs: [{{name: reviews, port: 9080}}]}}]}}\n"
            )
        };
        assert!(findings_of("MESH810", &text(9080)).is_empty());
        let f = findings_of("MESH810", &text(8080));
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(f[0].message.contains("(9080)"), "{}", f[0].message);
    }
}
