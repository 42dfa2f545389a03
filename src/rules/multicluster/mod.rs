//! Rules over more than one cluster of a mesh: the networks clusters are placed in (istio's
//! `multicluster` analyzers).

pub mod mesh1902_mesh_networks_endpoints;
