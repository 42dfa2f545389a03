//! The mesh as a typed graph: resources are nodes, references between them are edges.

use std::collections::HashMap;

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;

use crate::mesh::gateway_api::GatewayApi;
use crate::mesh::gateway_api::attach::ParentTarget;
use crate::mesh::hosts::{self, HostIndex};
use crate::mesh::routes;
use crate::mesh::workloads::Workloads;
use crate::model::{ResId, Spec, Store};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Edge {
    /// Service → workload whose pod labels match its selector (same namespace).
    Selects,
    /// Istio Gateway → workload whose pod labels match its selector (any namespace, as istiod
    /// places gateways unless `PILOT_SCOPE_GATEWAY_TO_NAMESPACE` is set).
    AppliesTo,
    /// VirtualService → Gateway (Istio or Kubernetes Gateway API) named in `gateways`.
    Binds,
    /// VirtualService → Service or ServiceEntry declaring a route or mirror destination host
    /// (exportTo is not applied here; rules decide visibility); Gateway API route → the
    /// Service or ServiceEntry a backendRef resolves to.
    RoutesTo,
    /// DestinationRule → Service or ServiceEntry declaring its host.
    Configures,
    /// ExternalName Service → the Service or ServiceEntry its `externalName` names.
    Aliases,
    /// Gateway API route → the Gateway, Service or ServiceEntry a parentRef names (attached
    /// or not; rules say whether istiod attaches it).
    Attaches,
    /// ReferenceGrant → an object of its namespace that a route of another namespace
    /// references through it.
    Permits,
}

impl Edge {
    pub fn as_str(self) -> &'static str {
        match self {
            Edge::Selects => "selects",
            Edge::AppliesTo => "applies-to",
            Edge::Binds => "binds",
            Edge::RoutesTo => "routes-to",
            Edge::Configures => "configures",
            Edge::Aliases => "aliases",
            Edge::Attaches => "attaches-to",
            Edge::Permits => "permits",
        }
    }
}

pub struct MeshGraph {
    graph: DiGraph<ResId, Edge>,
    index: Vec<NodeIndex>,
}

impl MeshGraph {
    /// The graph of `store`, with selectors and hosts looked up in the run's shared indexes.
    pub fn build(store: &Store, hosts: &HostIndex, workloads: &Workloads<'_>) -> Self {
        let mut graph = DiGraph::with_capacity(store.resources.len(), store.resources.len());
        let index: Vec<NodeIndex> = (0..store.resources.len())
            .map(|id| graph.add_node(id))
            .collect();
        for (id, r) in store.iter() {
            if let Spec::Service(svc) = &r.spec
                && let Some(sel) = &svc.spec.selector
            {
                // An empty selector selects nothing for a Service.
                for w in workloads.matching(sel, Some(&r.namespace)) {
                    graph.add_edge(index[id], index[w], Edge::Selects);
                }
            }
        }
        let mut g = Self { graph, index };
        g.add_routing_edges(store, hosts, workloads);
        g
    }

    /// Gateway placement, gateway bindings, route targets and DestinationRule hosts.
    fn add_routing_edges(&mut self, store: &Store, hosts: &HostIndex, workloads: &Workloads<'_>) {
        let mut gateways: HashMap<(&str, &str), Vec<ResId>> = HashMap::new();
        for (id, r) in store.iter() {
            if matches!(r.spec, Spec::Gateway(_)) || routes::is_k8s_gateway(r) {
                gateways
                    .entry((r.namespace.as_str(), r.name.as_str()))
                    .or_default()
                    .push(id);
            }
        }
        let mut edges: Vec<(ResId, ResId, Edge)> = Vec::new();
        for (id, r) in store.iter() {
            match &r.spec {
                Spec::Gateway(gw) => {
                    for w in workloads.matching(&gw.selector, None) {
                        edges.push((id, w, Edge::AppliesTo));
                    }
                }
                Spec::VirtualService(vs) => {
                    for name in &vs.gateways {
                        let (ns, n) = routes::resolve_gateway_ref(name, &r.namespace);
                        for &g in gateways
                            .get(&(ns.as_str(), n.as_str()))
                            .into_iter()
                            .flatten()
                        {
                            edges.push((id, g, Edge::Binds));
                        }
                    }
                    for d in routes::route_destinations(r) {
                        let host = hosts::fqdn(&d.host, &r.namespace);
                        for e in hosts.declaring(&host) {
                            edges.push((id, e.resource, Edge::RoutesTo));
                        }
                    }
                }
                Spec::DestinationRule(dr) => {
                    let host = hosts::fqdn(&dr.host, &r.namespace);
                    for e in hosts.declaring(&host) {
                        edges.push((id, e.resource, Edge::Configures));
                    }
                }
                Spec::Service(svc) if svc.spec.is_external_name() => {
                    let target = svc.spec.external_name.as_deref().unwrap_or_default();
                    for e in hosts.declaring(target.trim_end_matches('.')) {
                        if e.resource != id {
                            edges.push((id, e.resource, Edge::Aliases));
                        }
                    }
                }
                _ => {}
            }
        }
        gateway_api_edges(store, hosts, &mut edges);
        edges.sort_unstable_by_key(|&(a, b, e)| (a, b, e as u8));
        edges.dedup();
        for (a, b, e) in edges {
            self.graph.add_edge(self.index[a], self.index[b], e);
        }
    }

    /// Gateways, Services and ServiceEntries a Gateway API route names as parents.
    pub fn route_parents(&self, route: ResId) -> Vec<ResId> {
        self.targets(route, Edge::Attaches)
    }

    /// Objects a ReferenceGrant lets routes of other namespaces reference.
    pub fn permitted(&self, grant: ResId) -> Vec<ResId> {
        self.targets(grant, Edge::Permits)
    }

    fn targets(&self, from: ResId, kind: Edge) -> Vec<ResId> {
        let mut out: Vec<ResId> = self
            .graph
            .edges(self.index[from])
            .filter(|e| *e.weight() == kind)
            .map(|e| self.graph[e.target()])
            .collect();
        out.sort_unstable();
        out
    }

    fn sources(&self, to: ResId, kind: Edge) -> Vec<ResId> {
        let mut out: Vec<ResId> = self
            .graph
            .edges_directed(self.index[to], petgraph::Direction::Incoming)
            .filter(|e| *e.weight() == kind)
            .map(|e| self.graph[e.source()])
            .collect();
        out.sort_unstable();
        out
    }

    /// What an ExternalName Service's `externalName` resolves to in the input.
    pub fn alias_targets(&self, service: ResId) -> Vec<ResId> {
        self.targets(service, Edge::Aliases)
    }

    /// Every edge as `(from, to, kind)`, sorted.
    pub fn edges(&self) -> Vec<(ResId, ResId, Edge)> {
        let mut out: Vec<(ResId, ResId, Edge)> = self
            .graph
            .edge_references()
            .map(|e| (self.graph[e.source()], self.graph[e.target()], *e.weight()))
            .collect();
        out.sort_by_key(|&(a, b, e)| (a, b, e.as_str()));
        out.dedup();
        out
    }

    /// Workloads a Service selects.
    pub fn selected_workloads(&self, service: ResId) -> Vec<ResId> {
        self.targets(service, Edge::Selects)
    }

    /// Services that select a workload.
    pub fn selecting_services(&self, workload: ResId) -> Vec<ResId> {
        self.sources(workload, Edge::Selects)
    }

    /// Workloads (any namespace) whose pods an Istio Gateway's selector matches.
    pub fn gateway_workloads(&self, gateway: ResId) -> Vec<ResId> {
        self.targets(gateway, Edge::AppliesTo)
    }

    /// Istio Gateways whose selector matches a workload.
    pub fn gateways_of(&self, workload: ResId) -> Vec<ResId> {
        self.sources(workload, Edge::AppliesTo)
    }

    /// Gateways in the input that a VirtualService names in `gateways`.
    pub fn bound_gateways(&self, virtual_service: ResId) -> Vec<ResId> {
        self.targets(virtual_service, Edge::Binds)
    }

    /// VirtualServices bound to a gateway.
    pub fn bound_virtual_services(&self, gateway: ResId) -> Vec<ResId> {
        self.sources(gateway, Edge::Binds)
    }

    /// Services and ServiceEntries a VirtualService routes or mirrors to.
    pub fn route_targets(&self, virtual_service: ResId) -> Vec<ResId> {
        self.targets(virtual_service, Edge::RoutesTo)
    }

    /// Services and ServiceEntries whose host a DestinationRule configures.
    pub fn configured_hosts(&self, destination_rule: ResId) -> Vec<ResId> {
        self.targets(destination_rule, Edge::Configures)
    }

    /// DestinationRules configuring a Service or ServiceEntry.
    pub fn destination_rules_of(&self, service: ResId) -> Vec<ResId> {
        self.sources(service, Edge::Configures)
    }
}

/// Gateway API routes to their parents and backends, ReferenceGrants to what they permit.
fn gateway_api_edges(store: &Store, hosts: &HostIndex, edges: &mut Vec<(ResId, ResId, Edge)>) {
    let any = store
        .iter()
        .any(|(_, r)| matches!(r.spec, Spec::Route(..) | Spec::ReferenceGrant(_)));
    if !any {
        return;
    }
    let api = GatewayApi::build(store, hosts);
    for rv in &api.routes {
        for p in &rv.parents {
            match p.target {
                ParentTarget::Gateway(g) => edges.push((rv.id, api.gateways[g].id, Edge::Attaches)),
                ParentTarget::Service(s) => edges.push((rv.id, s, Edge::Attaches)),
                _ => {}
            }
        }
        for b in &rv.backends {
            if let Some(t) = b.target {
                edges.push((rv.id, t, Edge::RoutesTo));
                if let Some(g) = b.grant {
                    edges.push((g, t, Edge::Permits));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::from_documents;
    use crate::model::istio::MeshConfig;

    fn graph_of(store: &Store) -> MeshGraph {
        let hosts = HostIndex::build(store, &MeshConfig::default());
        MeshGraph::build(store, &hosts, &Workloads::build(store))
    }

    #[test]
    fn services_select_workloads_in_their_namespace_only() {
        let text = "\
apiVersion: v1
kind: Service
metadata: {name: web, namespace: a}
spec: {selector: {app: web}, ports: [{port: 80}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: a}
spec: {template: {metadata: {labels: {app: web, tier: fe}}, spec: {containers: [{name: c}]}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: b}
spec: {template: {metadata: {labels: {app: web}}, spec: {containers: [{name: c}]}}}
---
apiVersion: v1
kind: Pod
metadata: {name: other, namespace: a, labels: {app: other}}
spec: {containers: [{name: c}]}
";
        let (_, store) = from_documents(&[("t.yaml".into(), text.into())]);
        let g = graph_of(&store);
        assert_eq!(g.selected_workloads(0), vec![1]);
        assert_eq!(g.selecting_services(1), vec![0]);
        assert!(g.selecting_services(2).is_empty());
    }

    #[test]
    fn routing_edges() {
        let text = "\
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: app}
spec: {selector: {istio: ingressgateway}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ingress, namespace: istio-system}
spec: {template: {metadata: {labels: {istio: ingressgateway}}, spec: {containers: [{name: c}]}}}
---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: app}
spec: {ports: [{port: 80}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs, namespace: app}
spec:
  gateways: [gw, mesh]
  http: [{route: [{destination: {host: reviews}}], mirror: {host: reviews.app.svc.cluster.local}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: dr, namespace: other}
spec: {host: reviews.app.svc.cluster.local}
";
        let (_, store) = from_documents(&[("t.yaml".into(), text.into())]);
        let g = graph_of(&store);
        assert_eq!(g.gateway_workloads(0), vec![1]);
        assert_eq!(g.gateways_of(1), vec![0]);
        assert!(g.selecting_services(1).is_empty());
        assert_eq!(g.bound_gateways(3), vec![0]);
        assert_eq!(g.bound_virtual_services(0), vec![3]);
        assert_eq!(g.route_targets(3), vec![2]);
        assert_eq!(g.configured_hosts(4), vec![2]);
        assert_eq!(g.destination_rules_of(2), vec![4]);
    }

    #[test]
    fn gateway_api_edges() {
        let text = "\
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: web}
spec: {gatewayClassName: istio, listeners: [{name: http, port: 80, protocol: HTTP}]}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: data}
spec: {ports: [{port: 80}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: web}
spec:
  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{name: api, namespace: data, port: 80}]}]
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: g, namespace: data}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: web}]
  to: [{group: '', kind: Service}]
";
        let (_, store) = from_documents(&[("t.yaml".into(), text.into())]);
        let g = graph_of(&store);
        assert_eq!(g.route_parents(2), vec![0]);
        assert_eq!(g.route_targets(2), vec![1]);
        assert_eq!(g.permitted(3), vec![1]);
    }
}
