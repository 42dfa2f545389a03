//! Multi-cluster meshes (`--cluster NAME=PATH`): rules that compare a cluster's objects with
//! those of its peer clusters (`Context::peers`), as istiod merges the clusters' registries
//! (istio's `multicluster` analyzers).

pub mod mesh1901_inconsistent_service;
