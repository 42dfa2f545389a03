//! Cluster load assignments (`envoy.config.endpoint.v3`), inline or from EDS.

use serde::Deserialize;

use super::address::Address;
use super::lenient;

/// `envoy.config.endpoint.v3.ClusterLoadAssignment`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct ClusterLoadAssignment {
    #[serde(alias = "clusterName", deserialize_with = "lenient::string")]
    pub cluster_name: Option<String>,
    #[serde(deserialize_with = "lenient::seq")]
    pub endpoints: Vec<LocalityLbEndpoints>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct LocalityLbEndpoints {
    #[serde(alias = "lbEndpoints", deserialize_with = "lenient::seq")]
    pub lb_endpoints: Vec<LbEndpoint>,
    #[serde(deserialize_with = "lenient::u32")]
    pub priority: Option<u32>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct LbEndpoint {
    #[serde(deserialize_with = "lenient::object")]
    pub endpoint: Option<Endpoint>,
    #[serde(alias = "healthStatus", deserialize_with = "lenient::string")]
    pub health_status: Option<String>,
    #[serde(alias = "loadBalancingWeight", deserialize_with = "lenient::u32")]
    pub load_balancing_weight: Option<u32>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Endpoint {
    #[serde(deserialize_with = "lenient::object")]
    pub address: Option<Address>,
    #[serde(deserialize_with = "lenient::string")]
    pub hostname: Option<String>,
}

impl ClusterLoadAssignment {
    /// Every endpoint as `(address, health)`.
    pub fn endpoints(&self) -> Vec<(String, String)> {
        self.endpoints
            .iter()
            .flat_map(|l| l.lb_endpoints.iter())
            .map(|e| {
                let addr = e
                    .endpoint
                    .as_ref()
                    .and_then(|e| e.address.as_ref())
                    .map_or_else(|| "?".to_string(), |a| a.to_string());
                let health = e
                    .health_status
                    .clone()
                    .unwrap_or_else(|| "UNKNOWN".to_string());
                (addr, health)
            })
            .collect()
    }
}
