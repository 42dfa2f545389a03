//! Multi-cluster meshes (istio's `multicluster` analyzers): rules that compare a cluster's
//! objects with those of its peer clusters (`--cluster NAME=PATH`, `Context::peers`), as istiod
//! merges the clusters' registries, and the networks clusters are placed in.

pub mod mesh1901_inconsistent_service;
pub mod mesh1902_mesh_networks_endpoints;
