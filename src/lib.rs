//! meshlint: finds port and listener conflicts in service-mesh configuration.

pub mod cli;
pub mod config;
pub mod diagnostic;
pub mod engine;
pub mod envoy;
pub mod mesh;
pub mod model;
pub mod report;
pub mod rules;
pub mod source;
