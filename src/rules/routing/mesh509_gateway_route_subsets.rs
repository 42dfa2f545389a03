//! MESH509 gateway-route-skips-subsets: a gateway VirtualService routes to a host without a
//! subset while a sidecar VirtualService splits that host into subsets (istio's IST0140).
//!
//! Sidecar VirtualServices that route their own hosts to subsets are indexed by FQDN first.

use std::collections::{BTreeMap, BTreeSet};

use crate::diagnostic::Severity;
use crate::model::{ResId, Spec};

use crate::mesh::hosts::fqdn;
use crate::mesh::routes;
use crate::rules::{Context, Rule, RuleMeta};

pub struct GatewayRouteSkipsSubsets;

static META: RuleMeta = RuleMeta {
    code: "MESH509",
    name: "gateway-route-skips-subsets",
    summary: "gateway VirtualService routes to a host without the subsets a sidecar VirtualService splits it into",
    severity: Severity::Warning,
    istio_codes: &["IST0140"],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH509-gateway-route-skips-subsets.md"),
};

impl Rule for GatewayRouteSkipsSubsets {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let store = cx.store;
        // FQDN → sidecar VirtualServices routing that host (one of their own) to subsets, with
        // the subsets used.
        let mut split: BTreeMap<String, BTreeMap<ResId, BTreeSet<String>>> = BTreeMap::new();
        for (id, r) in store.iter() {
            let Spec::VirtualService(vs) = &r.spec else {
                continue;
            };
            if !(vs.gateways.is_empty() || vs.gateways.iter().any(|g| g == "mesh")) {
                continue;
            }
            let own: BTreeSet<String> = vs.hosts.iter().map(|h| fqdn(h, &r.namespace)).collect();
            for d in routes::route_destinations(r) {
                let (Some(subset), false) = (&d.subset, d.mirror) else {
                    continue;
                };
                let host = fqdn(&d.host, &r.namespace);
                if own.contains(&host) {
                    split
                        .entry(host)
                        .or_default()
                        .entry(id)
                        .or_default()
                        .insert(subset.clone());
                }
            }
        }
        if split.is_empty() {
            return;
        }
        for (id, r) in store.iter() {
            let Spec::VirtualService(vs) = &r.spec else {
                continue;
            };
            if vs.gateways.iter().all(|g| g == "mesh") {
                continue;
            }
            for d in routes::route_destinations(r) {
                if d.mirror || d.subset.is_some() || d.host.is_empty() {
                    continue;
                }
                let host = fqdn(&d.host, &r.namespace);
                let Some(by_vs) = split.get(&host) else {
                    continue;
                };
                let others: Vec<(ResId, &BTreeSet<String>)> = by_vs
                    .iter()
                    .filter(|(o, _)| **o != id)
                    .map(|(o, s)| (*o, s))
                    .collect();
                let Some(&(first, _)) = others.first() else {
                    continue;
                };
                let names: Vec<String> = others
                    .iter()
                    .map(|(o, subsets)| {
                        let v = store.get(*o);
                        format!(
                            "{}/{} (subsets {})",
                            v.namespace,
                            v.name,
                            subsets.iter().cloned().collect::<Vec<_>>().join(", ")
                        )
                    })
                    .collect();
                let gateways: Vec<&str> = vs
                    .gateways
                    .iter()
                    .filter(|g| g.as_str() != "mesh")
                    .map(String::as_str)
                    .collect();
                cx.report(
                    id,
                    d.host_path(),
                    format!(
                        "`{}` is routed here without a subset, but VirtualService {} splits `{host}` into subsets for sidecars only; requests through gateway {} skip that routing and reach every version of the host",
                        d.host,
                        names.join(", "),
                        gateways.join(", ")
                    ),
                )
                // istio only checks HTTP routes.
                .istio(if d.section == "http" { &["IST0140"] } else { &[] })
                .help("route to the same subsets (and weights) here, or bind the sidecar VirtualService to the gateway as well")
                .related(first, crate::source::FieldPath::parse("spec.http"), "the subset routing for sidecars");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::diagnostic::Finding;

    fn run(text: &str) -> Vec<Finding> {
        crate::rules::testing::findings_of("MESH509", text)
    }

    #[test]
    fn short_names_are_compared_in_their_namespaces() {
        let text = "\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: gw, namespace: a}
spec:
  hosts: [x.example.com]
  gateways: [istio-system/public]
  http:
  - route: [{destination: {host: reviews}}, {destination: {host: reviews.b.svc.cluster.local}}]
  tcp:
  - route: [{destination: {host: reviews}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: split, namespace: b}
spec:
  hosts: [reviews]
  http:
  - route: [{destination: {host: reviews, subset: v1}}]
";
        let f = run(text);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(
            f[0].message.contains("b/split (subsets v1)"),
            "{}",
            f[0].message
        );
        assert_eq!(f[0].location.column, 66);
    }
}
