//! MESH811 virtualservice-httproute-overlap: a mesh HTTPRoute or GRPCRoute and a sidecar
//! VirtualService for the same Service host. A sidecar gets one set of routes per host.

use std::collections::HashMap;

use crate::diagnostic::Severity;
use crate::mesh::gateway_api::attach::ParentTarget;
use crate::mesh::hosts::{fqdn, hosts_match};
use crate::model::gateway_api::RouteKind;
use crate::model::{ResId, Spec};
use crate::rules::{Context, Rule, RuleMeta};
use crate::source::FieldPath;

pub struct VirtualServiceHttpRouteOverlap;

static META: RuleMeta = RuleMeta {
    code: "MESH811",
    name: "virtualservice-httproute-overlap",
    summary: "a mesh HTTPRoute and a sidecar VirtualService route the same Service host; each sidecar uses only one of them",
    severity: Severity::Warning,
    istio_codes: &[],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH811-virtualservice-httproute-overlap.md"),
};

impl Rule for VirtualServiceHttpRouteOverlap {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let api = cx.gateway_api();
        let store = cx.store;
        // Sidecar VirtualServices by host (FQDN, lowercase), wildcard hosts apart.
        let mut exact: HashMap<String, Vec<(ResId, usize)>> = HashMap::new();
        let mut wildcard: Vec<(String, ResId, usize)> = Vec::new();
        for (id, r) in store.iter() {
            let Spec::VirtualService(vs) = &r.spec else {
                continue;
            };
            if !(vs.gateways.is_empty() || vs.gateways.iter().any(|g| g == "mesh")) {
                continue;
            }
            for (i, h) in vs.hosts.iter().enumerate() {
                let h = fqdn(h, &r.namespace).to_ascii_lowercase();
                if h.starts_with('*') {
                    wildcard.push((h, id, i));
                } else {
                    exact.entry(h).or_default().push((id, i));
                }
            }
        }
        if exact.is_empty() && wildcard.is_empty() {
            return;
        }
        for rv in api
            .routes
            .iter()
            .filter(|r| matches!(r.kind, RouteKind::Http | RouteKind::Grpc))
        {
            let route = store.get(rv.id);
            for p in &rv.parents {
                let ParentTarget::Service(svc) = p.target else {
                    continue;
                };
                let s = store.get(svc);
                if !matches!(s.spec, Spec::Service(_)) {
                    continue;
                }
                let host = format!("{}.{}.svc.cluster.local", s.name, s.namespace);
                let mut hits: Vec<(ResId, usize)> = exact.get(&host).cloned().unwrap_or_default();
                hits.extend(
                    wildcard
                        .iter()
                        .filter(|(w, _, _)| hosts_match(w, &host))
                        .map(|&(_, id, i)| (id, i)),
                );
                let Some(&(vs, hi)) = hits.first() else {
                    continue;
                };
                let v = store.get(vs);
                let older = match (route.created, v.created) {
                    (Some(a), Some(b)) if a < b => {
                        format!("{} {}/{}", route.kind, route.namespace, route.name)
                    }
                    (Some(a), Some(b)) if b < a => {
                        format!("VirtualService {}/{}", v.namespace, v.name)
                    }
                    _ => {
                        "the older of the two (the input has no creationTimestamps to tell)".into()
                    }
                };
                cx.report(
                    rv.id,
                    rv.parent_path(p.index),
                    format!(
                        "{} {}/{} and VirtualService {}/{} both route host {host} for sidecars: istiod gives each sidecar one set of routes per host and drops the other (`duplicate domain`); sidecars in namespace {} take this {} (routes of the sidecar's own namespace come first), sidecars elsewhere take {older}",
                        route.kind, route.namespace, route.name, v.namespace, v.name, route.namespace, route.kind
                    ),
                )
                .help("route the host with one API: move the VirtualService's rules into the route, or remove the route")
                .related(vs, FieldPath::parse("spec.hosts").index(hi), "the VirtualService's host");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::findings_of;

    const BASE: &str = "apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: app}
spec: {ports: [{name: http, port: 9080}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: reviews, namespace: app, creationTimestamp: '2024-02-01T00:00:00Z'}
spec: {parentRefs: [{group: '', kind: Service, name: reviews}], rules: [{backendRefs: [{name: reviews, port: 9080}]}]}
";

    fn vs(hosts: &str, gateways: &str) -> String {
        format!(
            "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {{name: reviews, namespace: app, creationTimestamp: '2024-01-01T00:00:00Z'}}\nspec: {{hosts: {hosts}, gateways: {gateways}, http: [{{route: [{{destination: {{host: reviews}}}}]}}]}}\n"
        )
    }

    #[test]
    fn sidecar_virtual_services_for_the_host_overlap() {
        let f = findings_of("MESH811", &format!("{BASE}{}", vs("[reviews]", "[]")));
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(
            f[0].message
                .contains("sidecars elsewhere take VirtualService app/reviews"),
            "{}",
            f[0].message
        );
        assert_eq!(
            findings_of(
                "MESH811",
                &format!("{BASE}{}", vs("['*.app.svc.cluster.local']", "[mesh]"))
            )
            .len(),
            1
        );
        assert!(
            findings_of(
                "MESH811",
                &format!("{BASE}{}", vs("[reviews]", "[ingress]"))
            )
            .is_empty()
        );
        assert!(findings_of("MESH811", &format!("{BASE}{}", vs("[ratings]", "[]"))).is_empty());
    }
}
