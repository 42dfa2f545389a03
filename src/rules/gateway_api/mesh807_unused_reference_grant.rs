//! MESH807 unused-reference-grant: a ReferenceGrant `from` entry that no reference in the
//! input uses, or whose namespace the input's Namespace list does not have.

use crate::diagnostic::Severity;
use crate::mesh::gateway_api::backends::{grant, modelled_from};
use crate::mesh::injection::is_cluster_snapshot;
use crate::model::Spec;
use crate::model::gateway_api::GROUP;
use crate::rules::{Context, Rule, RuleMeta};
use crate::source::FieldPath;

pub struct UnusedReferenceGrant;

static META: RuleMeta = RuleMeta {
    code: "MESH807",
    name: "unused-reference-grant",
    summary: "a ReferenceGrant entry that no route or Gateway in the input uses, or that names a namespace that does not exist",
    severity: Severity::Warning,
    istio_codes: &[],
    kiali_codes: &["KIA1601"],
    opt_in: false,
    doc: include_str!("../../../rules/MESH807-unused-reference-grant.md"),
};

impl Rule for UnusedReferenceGrant {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let api = cx.gateway_api();
        let store = cx.store;
        // (kind, namespace) of the routes and Gateways in the input.
        let kinds: std::collections::HashSet<(&str, &str)> = store
            .iter()
            .filter(|(_, r)| matches!(r.spec, Spec::Route(..) | Spec::K8sGateway(_)))
            .map(|(_, r)| (r.kind.as_str(), r.namespace.as_str()))
            .collect();
        // Namespaces some object of the input lives in: they exist even without a Namespace.
        let inhabited: std::collections::HashSet<&str> =
            store.iter().map(|(_, r)| r.namespace.as_str()).collect();
        // Only a cluster snapshot lists every Namespace; manifests may leave some to others.
        let all_namespaces = is_cluster_snapshot(store);
        for (id, r) in store.iter() {
            let Some(g) = grant(store, id) else { continue };
            for (i, from) in g.from.iter().enumerate() {
                let path = FieldPath::parse("spec.from").index(i);
                if api.namespaces.declared()
                    && !api.namespaces.contains(&from.namespace)
                    && !inhabited.contains(from.namespace.as_str())
                {
                    let mut msg = format!(
                        "ReferenceGrant {}/{} admits references from namespace {}, which is not among the input's Namespaces and holds none of its objects: it grants nothing",
                        r.namespace, r.name, from.namespace
                    );
                    if !all_namespaces {
                        msg.push_str(", unless that namespace is created outside this input");
                    }
                    cx.report(id, path.key("namespace"), msg)
                        .severity(if all_namespaces {
                            Severity::Warning
                        } else {
                            Severity::Info
                        })
                        .subkind("namespace-not-found")
                    .help("name the namespace the referencing routes live in, or remove the entry");
                    continue;
                }
                if from.group != GROUP
                    || !modelled_from(&from.kind)
                    || api.grants.used.contains_key(&(id, i))
                {
                    continue;
                }
                let present = kinds.contains(&(from.kind.as_str(), from.namespace.as_str()));
                let mut msg = format!(
                    "no {} in namespace {} references anything in namespace {} that this entry of ReferenceGrant {}/{} permits: it grants nothing",
                    from.kind, from.namespace, r.namespace, r.namespace, r.name
                );
                if !present {
                    msg.push_str(&format!(
                        "; namespace {} has no {} in the input, so the references may be deployed from elsewhere",
                        from.namespace, from.kind
                    ));
                }
                cx.report(id, path, msg)
                    .subkind("unused")
                    .kiali(&[])
                    .severity(if present { Severity::Warning } else { Severity::Info })
                    .help("remove the stale entry, or check the kind, namespace and `to` names against the references it is meant for");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::diagnostic::Severity;
    use crate::rules::testing::findings_of;

    const GRANT: &str = "apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: g, namespace: data}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: app}]
  to: [{group: '', kind: Service}]
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: data}
spec: {ports: [{port: 80}]}
";

    fn route(ns: &str) -> String {
        format!(
            "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: r, namespace: {ns}}}\nspec: {{parentRefs: [{{name: gw}}], rules: [{{backendRefs: [{{name: db, namespace: data, port: 80}}]}}]}}\n"
        )
    }

    #[test]
    fn used_grants_pass_and_stale_ones_are_reported() {
        assert!(findings_of("MESH807", &format!("{GRANT}{}", route("app"))).is_empty());
        let f = findings_of("MESH807", &format!("{GRANT}{}", route("web")));
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(
            f[0].severity,
            Severity::Info,
            "no HTTPRoute in app: partial input"
        );
        let other = route("app").replace("namespace: data", "namespace: cache");
        let f = findings_of("MESH807", &format!("{GRANT}{other}"));
        assert_eq!(f[0].severity, Severity::Warning, "{f:#?}");
    }

    #[test]
    fn a_grant_used_by_a_request_mirror_is_used() {
        let mirror = "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r, namespace: app}\nspec: {parentRefs: [{name: gw}], rules: [{filters: [{type: RequestMirror, requestMirror: {backendRef: {name: db, namespace: data, port: 80}}}]}]}\n";
        assert!(findings_of("MESH807", &format!("{GRANT}{mirror}")).is_empty());
        let per_backend = "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r, namespace: app}\nspec: {parentRefs: [{name: gw}], rules: [{backendRefs: [{name: web, port: 80, filters: [{type: RequestMirror, requestMirror: {backendRef: {name: db, namespace: data, port: 80}}}]}]}]}\n";
        assert!(findings_of("MESH807", &format!("{GRANT}{per_backend}")).is_empty());
    }

    #[test]
    fn a_namespace_missing_from_the_namespace_list_is_kiali_1601() {
        let ns = "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: data}\n";
        let f = findings_of("MESH807", &format!("{GRANT}{ns}"));
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].kiali_codes, vec!["KIA1601"]);
        assert_eq!(f[0].subkind, Some("namespace-not-found"));
        assert_eq!(f[0].severity, Severity::Info, "manifests: {f:#?}");
        let snapshot = ns.replace("{name: data}", "{name: data, uid: 5c1e}");
        let f = findings_of("MESH807", &format!("{GRANT}{snapshot}"));
        assert_eq!(f[0].severity, Severity::Warning, "cluster snapshot: {f:#?}");
    }
}
