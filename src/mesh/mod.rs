//! The listener model: which outbound listeners istiod gives each sidecar.

pub mod version;
