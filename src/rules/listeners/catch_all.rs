//! Shared reasoning for the catch-all rules: which scopes get a `0.0.0.0:PORT` TCP chain from
//! an owner, and whose traffic it takes.

use std::collections::BTreeSet;

use crate::mesh::owners::{Owner, OwnerKind};
use crate::mesh::table::ListenerTable;
use crate::model::{ResId, Store};

/// Indexes of the scopes in which owner `i` sits on a wildcard TCP chain.
pub fn scopes_with(table: &ListenerTable, i: usize) -> Vec<usize> {
    let port = table.owners[i].port;
    table
        .scopes
        .iter()
        .enumerate()
        .filter(|(_, s)| s.wildcard.get(&port).is_some_and(|w| w.tcp.contains(&i)))
        .map(|(n, _)| n)
        .collect()
}

/// Human list of the scopes, e.g. `namespaces app, manager, shop`.
pub fn scope_list(store: &Store, table: &ListenerTable, scopes: &[usize]) -> String {
    let labels: Vec<String> = scopes
        .iter()
        .map(|&s| table.scopes[s].scope.label(store))
        .collect();
    labels.join(", ")
}

/// Workloads behind what an ExternalName Service aliases (its target Service's pods).
fn target_workloads(graph: &crate::mesh::graph::MeshGraph, owner: &Owner) -> BTreeSet<ResId> {
    graph
        .alias_targets(owner.resource)
        .into_iter()
        .flat_map(|t| graph.selected_workloads(t))
        .collect()
}

/// Workloads whose pods serve `port` and whose own scope gets the catch-all: their peers and
/// same-namespace clients reach them by pod IP, which the wildcard listener now captures.
/// The catch-all's own backends (an ExternalName's target) are left out.
pub fn victims(
    graph: &crate::mesh::graph::MeshGraph,
    table: &ListenerTable,
    i: usize,
) -> Vec<ResId> {
    let owner = &table.owners[i];
    let exclude = if owner.kind == OwnerKind::ExternalName {
        target_workloads(graph, owner)
    } else {
        BTreeSet::new()
    };
    let scopes: BTreeSet<usize> = scopes_with(table, i).into_iter().collect();
    let mut out: Vec<ResId> = table
        .serving
        .get(&owner.port)
        .into_iter()
        .flatten()
        .copied()
        .filter(|w| !exclude.contains(w))
        .filter(|w| table.scope_of.get(w).is_some_and(|s| scopes.contains(s)))
        .collect();
    out.sort_unstable();
    out
}

/// "created 2024-03-01T10:00:00Z", "no creationTimestamp", or why the written one counts as
/// missing.
pub fn created(store: &Store, owner: &Owner) -> String {
    store.get(owner.resource).created_text()
}

/// A short name for an owner: `ServiceEntry shop/github (github.com)`.
pub fn describe(store: &Store, owner: &Owner) -> String {
    let r = store.get(owner.resource);
    match owner.kind {
        OwnerKind::ServiceEntry => {
            format!("ServiceEntry {}/{} (`{}`)", r.namespace, r.name, owner.host)
        }
        _ => format!("Service {}/{}", r.namespace, r.name),
    }
}

/// The field of an owner's port entry that holds its number.
pub fn port_field(owner: &Owner) -> crate::source::FieldPath {
    let field = if owner.kind == OwnerKind::ServiceEntry {
        "number"
    } else {
        "port"
    };
    owner.port_path.clone().key(field)
}

/// Where a workload declares `port`, or its pod spec when it does not.
pub fn container_port_path(res: &crate::model::Resource, port: i64) -> crate::source::FieldPath {
    let Some(w) = res.workload() else {
        return crate::source::FieldPath::root();
    };
    w.running_containers()
        .find_map(|(path, c)| {
            c.ports
                .iter()
                .position(|p| p.container_port == port)
                .map(|i| path.key("ports").index(i).key("containerPort"))
        })
        .unwrap_or_else(|| w.pod_spec_path.clone())
}

/// `StatefulSet manager/manager, Deployment shop/web`.
pub fn workload_list(store: &Store, ids: &[ResId]) -> String {
    ids.iter()
        .map(|&w| {
            let r = store.get(w);
            format!("{} {}/{}", r.kind, r.namespace, r.name)
        })
        .collect::<Vec<_>>()
        .join(", ")
}
