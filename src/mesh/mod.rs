//! istiod's view of the manifests: host names and visibility, workloads and selectors, sidecar
//! injection, port protocols, the resource graph, and the outbound listeners it gives each proxy.

pub mod ambient;
pub mod ambient_l7;
pub mod annotations;
pub mod clusters;
pub mod destination_rules;
pub mod gateway_api;
pub mod graph;
pub mod hosts;
pub mod injection;
pub mod injector;
pub mod owners;
pub mod protocol;
pub mod routes;
pub mod scope;
pub mod security;
pub mod settings;
pub mod table;
pub mod version;
pub mod workloads;
