//! The resource graph as `meshlint graph` prints it.

use std::collections::{BTreeSet, HashMap};

use crate::diagnostic::{Finding, GraphNode, GraphView, ResourceRef, Severity};
use crate::mesh::graph::MeshGraph;
use crate::model::Store;

use super::locate::resource_ref;

/// The resources that are linked or have findings, their edges, and their worst findings.
pub fn view(store: &Store, graph: &MeshGraph, findings: &[Finding]) -> GraphView {
    let edges = graph.edges();
    let mut by_ref: HashMap<ResourceRef, (Option<Severity>, BTreeSet<&'static str>)> =
        HashMap::new();
    for f in findings {
        let e = by_ref.entry(f.resource.clone()).or_default();
        e.0 = e.0.max(Some(f.severity));
        e.1.insert(f.code);
    }
    let linked: BTreeSet<usize> = edges.iter().flat_map(|&(a, b, _)| [a, b]).collect();
    // Nodes in the order of their resources, edges in the order of their nodes: the same input
    // in any file order draws the same graph.
    let mut shown: Vec<(ResourceRef, usize)> = store
        .iter()
        .map(|(id, _)| (resource_ref(store, id), id))
        .filter(|(r, id)| linked.contains(id) || by_ref.contains_key(r))
        .collect();
    shown.sort();
    let mut index = HashMap::new();
    let mut view = GraphView::default();
    for (r, id) in shown {
        let found = by_ref.get(&r);
        index.insert(id, view.nodes.len());
        view.nodes.push(GraphNode {
            resource: r,
            worst: found.and_then(|f| f.0),
            codes: found
                .map(|f| f.1.iter().copied().collect())
                .unwrap_or_default(),
        });
    }
    view.edges = edges
        .into_iter()
        .filter_map(|(a, b, e)| Some((*index.get(&a)?, *index.get(&b)?, e.as_str())))
        .collect();
    view.edges.sort_unstable();
    view
}
