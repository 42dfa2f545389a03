//! Istio's ambient mode: L7 policies and routes that no waypoint applies (MESH1610-MESH1614).
//! `l7.rs` holds what they share; which fields are L7 is `mesh::ambient_l7`.

pub mod l7;
pub mod mesh1610_waypoint_ignores_selector;
pub mod mesh1611_policy_target_without_waypoint;
pub mod mesh1612_route_target_without_waypoint;
pub mod mesh1613_route_outside_waypoint_scope;
pub mod mesh1614_workload_l7_authz_without_waypoint;
