//! MESH805 backend-not-found: a route's backendRef that istiod cannot resolve (no such Service
//! or host, a kind it cannot route to, a host name instead of a Service name, no port), or a
//! port the Service does not have.

use crate::diagnostic::Severity;
use crate::mesh::gateway_api::backends::BackendProblem;
use crate::model::raw::label;
use crate::rules::{Context, Rule, RuleMeta};

use super::partial;

pub struct BackendNotFound;

static META: RuleMeta = RuleMeta {
    code: "MESH805",
    name: "backend-not-found",
    summary: "a Gateway API route's backendRef names no Service or host, an unsupported kind, or a port the Service lacks",
    severity: Severity::Error,
    istio_codes: &[],
    kiali_codes: &["KIA1402"],
    opt_in: false,
    doc: include_str!("../../../rules/MESH805-backend-not-found.md"),
};

impl Rule for BackendNotFound {
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
            let r = store.get(rv.id);
            for b in rv.backends.iter().filter(|b| b.resolved_by_istiod()) {
                let Some(problem) = &b.problem else { continue };
                let what = format!(
                    "{} {} {}/{}",
                    if b.mirror {
                        "request mirror backendRef"
                    } else {
                        "backendRef"
                    },
                    b.kind,
                    b.namespace,
                    b.name
                );
                let consequence = if b.mirror {
                    "istiod drops the mirror, so no copies are sent"
                } else {
                    "requests this rule sends there fail with 500 (istiod's route to a backend it cannot resolve)"
                };
                match problem {
                    BackendProblem::NotFound { kind_in_namespace } => {
                        // istiod resolves a ServiceImport to the Service of its name.
                        let (missing, looked_up) = if b.kind == "ServiceImport" {
                            (
                                format!(
                                    "{what}: istiod routes it to Service {}/{}, which is not in the input",
                                    b.namespace, b.name
                                ),
                                "Service",
                            )
                        } else {
                            (format!("{what} is not in the input"), b.kind.as_str())
                        };
                        let mut msg = format!(
                            "{missing} (ResolvedRefs=False, BackendNotFound): {consequence}"
                        );
                        if !kind_in_namespace {
                            msg.push_str(&format!(
                                "; namespace {} has no {looked_up} in the input, so it may be deployed from elsewhere",
                                b.namespace
                            ));
                        }
                        cx.report(rv.id, b.path().key("name"), msg)
                            .subkind("not-found")
                            .severity(partial(*kind_in_namespace))
                            .help("name an existing Service (its `metadata.name`, in `namespace` when it is in another one), or add it");
                    }
                    BackendProblem::InvalidKind => {
                        cx.report(
                            rv.id,
                            b.path().key("kind"),
                            format!("{what}: istiod cannot route to this group and kind (ResolvedRefs=False, InvalidKind): {consequence}"),
                        )
                        .subkind("invalid-kind")
                        .kiali(&[])
                        .help("reference a Service (group \"\", kind Service) or an Istio host (group networking.istio.io, kind Hostname)");
                    }
                    BackendProblem::Invalid(why) => {
                        let field = if why.starts_with("port") {
                            "port"
                        } else if why.starts_with("namespace") {
                            "namespace"
                        } else {
                            "name"
                        };
                        let path = if r.node.lookup(&b.path().key(field)).1 {
                            b.path().key(field)
                        } else {
                            b.path()
                        };
                        cx.report(
                            rv.id,
                            path,
                            format!("{what}: {why} (istiod rejects the rule: ResolvedRefs=False, InvalidDestination)"),
                        )
                        .subkind("invalid")
                        .kiali(if field == "name" { &["KIA1402"] } else { &[] })
                        .help("use the Service's name (not its DNS name) and set the Service port in `port`");
                    }
                    BackendProblem::PortMissing => {
                        let Some(target) = b.target else { continue };
                        let ports = cx
                            .index
                            .hosts
                            .entries
                            .iter()
                            .find(|e| e.resource == target)
                            .map(|e| e.port_list())
                            .unwrap_or_default();
                        let port = b.port.unwrap_or_default();
                        cx.report(
                            rv.id,
                            b.path().key("port"),
                            format!("{what} names port {port}, which {} does not have ({ports}): istiod accepts the route, and the requests it sends there fail (no such cluster)", label(store, target)),
                        )
                        .subkind("port-missing")
                        .kiali(&[])
                        .help("use one of the Service's `port` numbers (not a targetPort)")
                        .related(target, crate::source::FieldPath::parse("spec.ports"), "the Service's ports");
                    }
                    BackendProblem::NotPermitted => {}
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::diagnostic::Severity;
    use crate::rules::testing::findings_of;

    const SVC: &str = "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: app}\nspec: {ports: [{port: 8080}]}\n";

    fn route(backend: &str) -> String {
        format!(
            "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: r, namespace: app}}\nspec: {{parentRefs: [{{kind: Service, group: '', name: web}}], rules: [{{backendRefs: [{backend}]}}]}}\n"
        )
    }

    #[test]
    fn each_problem_is_reported_once_with_its_subkind() {
        let cases = [
            ("{name: web, port: 8080}", None),
            (
                "{name: webb, port: 8080}",
                Some(("not-found", Severity::Warning)),
            ),
            (
                "{name: web.app.svc.cluster.local, port: 8080}",
                Some(("invalid", Severity::Error)),
            ),
            ("{name: web}", Some(("invalid", Severity::Error))),
            (
                "{name: web, port: 80}",
                Some(("port-missing", Severity::Error)),
            ),
            (
                "{name: web, port: 8080, kind: Pod}",
                Some(("invalid-kind", Severity::Error)),
            ),
            (
                "{name: web, namespace: elsewhere, port: 80}",
                Some(("not-found", Severity::Info)),
            ),
        ];
        for (backend, want) in cases {
            let f = findings_of("MESH805", &format!("{SVC}{}", route(backend)));
            match want {
                None => assert!(f.is_empty(), "{backend}: {f:#?}"),
                Some((sub, sev)) => {
                    assert_eq!(f.len(), 1, "{backend}: {f:#?}");
                    assert_eq!(f[0].subkind, Some(sub), "{backend}");
                    assert_eq!(f[0].severity, sev, "{backend}");
                }
            }
        }
    }

    #[test]
    fn a_mirror_to_a_missing_service_is_dropped() {
        let r = route("{name: web, port: 8080}").replace(
            "rules: [{backendRefs:",
            "rules: [{filters: [{type: RequestMirror, requestMirror: {backendRef: {name: shadow, port: 8080}}}], backendRefs:",
        );
        let f = findings_of("MESH805", &format!("{SVC}{r}"));
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(
            f[0].message.contains("drops the mirror"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn istio_hostnames_resolve_through_service_entries() {
        let se = "---\napiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: ext, namespace: app}\nspec: {hosts: [api.example.com], ports: [{number: 443, name: tls, protocol: TLS}], resolution: DNS}\n";
        let ok =
            route("{group: networking.istio.io, kind: Hostname, name: api.example.com, port: 443}");
        assert!(findings_of("MESH805", &format!("{SVC}{se}{ok}")).is_empty());
        let missing = route(
            "{group: networking.istio.io, kind: Hostname, name: other.example.com, port: 443}",
        );
        assert_eq!(
            findings_of("MESH805", &format!("{SVC}{se}{missing}")).len(),
            1
        );
    }
}
