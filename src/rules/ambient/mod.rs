//! Istio ambient mode: workloads enrolled in both a sidecar and ambient, sidecars in ambient
//! namespaces, `istio.io/use-waypoint` naming a waypoint that is missing, misconfigured or
//! refuses the traffic, waypoint labels on workloads ztunnel does not capture, waypoint
//! Gateways without their HBONE listener, and hostNetwork pods in meshed namespaces
//! (MESH1601-MESH1607); L7 policies and routes that no waypoint applies (MESH1610-MESH1614,
//! sharing `l7.rs`; which fields are L7 is `mesh::ambient_l7`) and Sidecar resources no proxy
//! reads (MESH1615). The facts come from `mesh::ambient` (see `docs/ambient.md`).

pub mod enrolments;
pub mod l7;
pub mod mesh1601_sidecar_and_ambient;
pub mod mesh1602_sidecar_in_ambient_namespace;
pub mod mesh1603_waypoint_not_found;
pub mod mesh1604_waypoint_refuses_traffic;
pub mod mesh1605_waypoint_without_ambient;
pub mod mesh1606_waypoint_without_hbone;
pub mod mesh1607_host_network_unmeshed;
pub mod mesh1610_waypoint_ignores_selector;
pub mod mesh1611_policy_target_without_waypoint;
pub mod mesh1612_route_target_without_waypoint;
pub mod mesh1613_route_outside_waypoint_scope;
pub mod mesh1614_workload_l7_authz_without_waypoint;
pub mod mesh1615_sidecar_resource_in_ambient;

use crate::mesh::ambient::{AmbientView, ModeFacts};
use crate::model::ResId;
use crate::rules::Context;
use crate::source::FieldPath;

/// The workloads to judge, in input order: every Pod and pod-template owner, except snapshot
/// Pods whose owner the input has (the owner is reported, once), gateways and waypoints.
pub fn judged(cx: &Context<'_>, view: &AmbientView) -> Vec<ResId> {
    cx.store
        .iter()
        .filter(|(id, _)| {
            view.workload_facts(*id).is_some_and(|f| !f.gateway)
                && view.owners_of_pod(*id).is_empty()
        })
        .map(|(id, _)| id)
        .collect()
}

/// Whether the `istio.io/dataplane-mode=ambient` label that selects the workload is its own.
pub fn own_ambient_label(id: ResId, f: &ModeFacts) -> Option<&FieldPath> {
    f.ambient_label
        .as_ref()
        .filter(|(at, _)| *at == id)
        .map(|(_, p)| p)
}

/// The names of snapshot Pods, for messages, sorted: `web-1, web-2`.
pub fn pods_text(cx: &Context<'_>, pods: &[ResId]) -> String {
    let mut names: Vec<&str> = pods
        .iter()
        .map(|&p| cx.store.get(p).name.as_str())
        .collect();
    names.sort_unstable();
    names.join(", ")
}

/// Where the label that makes istio's injector select workload `id` is written: its
/// namespace's `istio-injection=enabled` or `istio.io/rev`, else its pod template's
/// `sidecar.istio.io/inject=true` or `istio.io/rev`.
pub fn injection_label_at(cx: &Context<'_>, id: ResId) -> Option<(ResId, FieldPath)> {
    use crate::mesh::injection::{ISTIO_INJECTION, ISTIO_REV, SIDECAR_INJECT};
    let r = cx.store.get(id);
    let labels = FieldPath::parse("metadata.labels");
    if let Some(ns) = cx.namespace(&r.namespace) {
        let l = &cx.store.get(ns).labels;
        match l.get(ISTIO_INJECTION).map(String::as_str) {
            Some("enabled") => return Some((ns, labels.key(ISTIO_INJECTION))),
            Some(_) => {}
            None if l.contains_key(ISTIO_REV) => return Some((ns, labels.key(ISTIO_REV))),
            None => {}
        }
    }
    let w = r.workload()?;
    let pod_labels = w.pod_meta_path.clone().key("labels");
    [SIDECAR_INJECT, ISTIO_REV]
        .into_iter()
        .find(|k| w.pod_labels.contains_key(*k))
        .map(|k| (id, pod_labels.key(k)))
}

/// Test input shared by the workload rules: Namespace `shop` and Deployment `web` with the
/// given labels (YAML flow maps).
#[cfg(test)]
fn workload_input(ns_labels: &str, pod_labels: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Namespace\nmetadata: {{name: shop, labels: {ns_labels}}}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: shop}}\nspec:\n  template:\n    metadata: {{labels: {pod_labels}}}\n    spec: {{containers: [{{name: web, image: web}}]}}\n"
    )
}
