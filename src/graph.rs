//! The mesh as a typed graph: resources are nodes, references between them are edges.

use std::collections::{BTreeMap, HashMap};

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;

use crate::model::{ResId, Spec, Store};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Edge {
    /// Service → workload whose pod labels match its selector (same namespace).
    Selects,
}

pub struct MeshGraph {
    graph: DiGraph<ResId, Edge>,
    index: Vec<NodeIndex>,
}

/// Workloads by `(namespace, label key, label value)`, so a selector is matched against the
/// smallest candidate list instead of every workload.
struct LabelIndex<'a> {
    postings: HashMap<(&'a str, &'a str, &'a str), Vec<ResId>>,
}

impl<'a> LabelIndex<'a> {
    fn new(store: &'a Store) -> Self {
        let mut postings: HashMap<_, Vec<ResId>> = HashMap::new();
        for (id, r) in store.iter() {
            if let Some(w) = r.workload() {
                for (k, v) in &w.pod_labels {
                    postings
                        .entry((r.namespace.as_str(), k.as_str(), v.as_str()))
                        .or_default()
                        .push(id);
                }
            }
        }
        Self { postings }
    }

    /// Workloads in `ns` whose pod labels contain every pair of `selector`.
    fn select(&self, store: &Store, ns: &str, selector: &BTreeMap<String, String>) -> Vec<ResId> {
        let mut lists = Vec::with_capacity(selector.len());
        for (k, v) in selector {
            match self.postings.get(&(ns, k.as_str(), v.as_str())) {
                Some(list) => lists.push(list),
                None => return Vec::new(),
            }
        }
        let Some(smallest) = lists.iter().min_by_key(|l| l.len()) else {
            // An empty selector selects nothing for a Service.
            return Vec::new();
        };
        smallest
            .iter()
            .copied()
            .filter(|&id| {
                store
                    .get(id)
                    .workload()
                    .is_some_and(|w| selector.iter().all(|(k, v)| w.pod_labels.get(k) == Some(v)))
            })
            .collect()
    }
}

impl MeshGraph {
    pub fn build(store: &Store) -> Self {
        let mut graph = DiGraph::with_capacity(store.resources.len(), store.resources.len());
        let index: Vec<NodeIndex> = (0..store.resources.len())
            .map(|id| graph.add_node(id))
            .collect();
        let labels = LabelIndex::new(store);
        for (id, r) in store.iter() {
            if let Spec::Service(svc) = &r.spec
                && let Some(sel) = &svc.spec.selector
            {
                for w in labels.select(store, &r.namespace, sel) {
                    graph.add_edge(index[id], index[w], Edge::Selects);
                }
            }
        }
        Self { graph, index }
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

    /// Workloads a Service selects.
    pub fn selected_workloads(&self, service: ResId) -> Vec<ResId> {
        self.targets(service, Edge::Selects)
    }

    /// Services that select a workload.
    pub fn selecting_services(&self, workload: ResId) -> Vec<ResId> {
        self.sources(workload, Edge::Selects)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::from_documents;

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
        let g = MeshGraph::build(&store);
        assert_eq!(g.selected_workloads(0), vec![1]);
        assert_eq!(g.selecting_services(1), vec![0]);
        assert!(g.selecting_services(2).is_empty());
    }
}
