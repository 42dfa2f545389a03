//! Kubernetes Gateway API (`gateway.networking.k8s.io`): route attachment, listener and route
//! conflicts, backends and ReferenceGrants, the deployment istiod generates for a Gateway, and
//! how Gateway API routes meet Istio's own Gateways and VirtualServices. The facts come from
//! `mesh::gateway_api`, built once per run.

pub mod mesh801_route_not_attached;
pub mod mesh802_listener_conflict;
pub mod mesh803_gateway_address_conflict;
pub mod mesh804_l4_route_conflict;
pub mod mesh805_backend_not_found;
pub mod mesh806_reference_not_permitted;
pub mod mesh807_unused_reference_grant;
pub mod mesh808_listener_port_unusable;
pub mod mesh809_gateway_port_overlap;
pub mod mesh810_mesh_route_port_missing;
pub mod mesh811_virtualservice_httproute_overlap;
pub mod mesh812_http_route_match_shadowed;

use crate::diagnostic::Severity;

/// Severity of "X is not in the input": a warning when the input has objects of that kind in
/// that namespace (a likely mistake), info when it has none (the input is probably partial).
fn partial(kind_in_namespace: bool) -> Severity {
    if kind_in_namespace {
        Severity::Warning
    } else {
        Severity::Info
    }
}
