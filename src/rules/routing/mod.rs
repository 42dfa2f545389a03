//! Routing rules: Gateways, VirtualServices, DestinationRules and the hosts, ports and subsets they name.

pub mod mesh501_gateway_port;
pub mod mesh502_route_port;
pub mod mesh503_dangling_reference;
pub mod mesh504_conflicting_gateways;
pub mod mesh505_route_weights;
pub mod mesh506_gateway_host;
pub mod mesh507_conflicting_mesh_hosts;
pub mod mesh508_unreachable_route;
pub mod mesh509_gateway_route_subsets;
pub mod mesh510_gateway_duplicate_certificate;
pub mod mesh511_jwt_claim_route_without_authn;
pub mod mesh512_deprecated_field;
pub mod mesh601_short_hostname;
