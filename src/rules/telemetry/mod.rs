//! Telemetry resources and the MeshConfig providers they rely on (istio's
//! `telemetry.ProviderAnalyzer`).

pub mod mesh1501_access_log_without_provider;
