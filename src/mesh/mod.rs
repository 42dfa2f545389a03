//! The listener model: which outbound listeners istiod gives each sidecar.

pub mod owners;
pub mod scope;
pub mod table;
pub mod version;
