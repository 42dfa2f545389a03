//! Clusters (`envoy.config.cluster.v3`) and Istio's cluster names and metadata.

use serde::Deserialize;

use super::address::Address;
use super::endpoint::ClusterLoadAssignment;
use super::lenient;

/// `envoy.config.cluster.v3.Cluster`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Cluster {
    #[serde(deserialize_with = "lenient::string")]
    pub name: Option<String>,
    #[serde(rename = "type", deserialize_with = "lenient::string")]
    pub discovery_type: Option<String>,
    #[serde(alias = "clusterType", deserialize_with = "lenient::object")]
    pub cluster_type: Option<CustomClusterType>,
    #[serde(alias = "edsClusterConfig", deserialize_with = "lenient::object")]
    pub eds_cluster_config: Option<EdsClusterConfig>,
    #[serde(alias = "loadAssignment", deserialize_with = "lenient::object")]
    pub load_assignment: Option<ClusterLoadAssignment>,
    /// v2 clusters may list `hosts` instead of a load assignment.
    #[serde(deserialize_with = "lenient::seq")]
    pub hosts: Vec<Address>,
    #[serde(deserialize_with = "lenient::object")]
    pub metadata: Option<Metadata>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct CustomClusterType {
    #[serde(deserialize_with = "lenient::string")]
    pub name: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct EdsClusterConfig {
    #[serde(alias = "serviceName", deserialize_with = "lenient::string")]
    pub service_name: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Metadata {
    #[serde(alias = "filterMetadata", deserialize_with = "lenient::object")]
    pub filter_metadata: Option<FilterMetadata>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct FilterMetadata {
    #[serde(deserialize_with = "lenient::object")]
    pub istio: Option<IstioMetadata>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct IstioMetadata {
    #[serde(deserialize_with = "lenient::seq")]
    pub services: Vec<IstioService>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct IstioService {
    #[serde(deserialize_with = "lenient::string")]
    pub host: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    pub name: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    pub namespace: Option<String>,
}

impl Cluster {
    pub fn name(&self) -> &str {
        self.name.as_deref().unwrap_or("")
    }

    /// `EDS`, `STRICT_DNS`, `ORIGINAL_DST`, … (`STATIC` when unset, as proto3 defaults; a custom
    /// cluster type by its name).
    pub fn kind(&self) -> String {
        if let Some(n) = self.cluster_type.as_ref().and_then(|c| c.name.as_deref()) {
            return n.to_string();
        }
        self.discovery_type
            .clone()
            .unwrap_or_else(|| "STATIC".to_string())
    }

    /// The services Istio recorded in the cluster's `istio` metadata.
    pub fn istio_services(&self) -> &[IstioService] {
        self.metadata
            .as_ref()
            .and_then(|m| m.filter_metadata.as_ref())
            .and_then(|f| f.istio.as_ref())
            .map_or(&[], |i| i.services.as_slice())
    }
}

/// Parts of an Istio cluster name `outbound|PORT|SUBSET|HOST` (also `inbound|…`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IstioClusterName<'a> {
    pub direction: &'a str,
    pub port: u32,
    pub subset: &'a str,
    pub host: &'a str,
}

pub fn parse_cluster_name(name: &str) -> Option<IstioClusterName<'_>> {
    let mut parts = name.splitn(4, '|');
    let direction = parts.next()?;
    if direction != "outbound" && direction != "inbound" {
        return None;
    }
    let port = parts.next()?.parse().ok()?;
    let subset = parts.next()?;
    let host = parts.next()?;
    Some(IstioClusterName {
        direction,
        port,
        subset,
        host,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_names_parse() {
        let p = parse_cluster_name("outbound|5701||app-ext.app.svc.cluster.local").expect("ok");
        assert_eq!(
            (p.direction, p.port, p.subset, p.host),
            ("outbound", 5701, "", "app-ext.app.svc.cluster.local")
        );
        assert!(parse_cluster_name("PassthroughCluster").is_none());
    }
}
