//! Route configurations (`envoy.config.route.v3`), inline or from RDS.

use serde::Deserialize;
use serde::de::IgnoredAny;

use super::lenient;

/// `envoy.config.route.v3.RouteConfiguration`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct RouteConfiguration {
    #[serde(deserialize_with = "lenient::string")]
    pub name: Option<String>,
    #[serde(alias = "virtualHosts", deserialize_with = "lenient::seq")]
    pub virtual_hosts: Vec<VirtualHost>,
    #[serde(alias = "ignorePortInHostMatching", deserialize_with = "lenient::bool")]
    pub ignore_port_in_host_matching: Option<bool>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct VirtualHost {
    #[serde(deserialize_with = "lenient::string")]
    pub name: Option<String>,
    #[serde(deserialize_with = "lenient::strings")]
    pub domains: Vec<String>,
    #[serde(deserialize_with = "lenient::seq")]
    pub routes: Vec<Route>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Route {
    #[serde(deserialize_with = "lenient::string")]
    pub name: Option<String>,
    #[serde(rename = "match", deserialize_with = "lenient::object")]
    pub matcher: Option<RouteMatch>,
    #[serde(deserialize_with = "lenient::object")]
    pub route: Option<RouteAction>,
    #[serde(deserialize_with = "lenient::object")]
    pub redirect: Option<IgnoredAny>,
    #[serde(alias = "directResponse", deserialize_with = "lenient::object")]
    pub direct_response: Option<DirectResponse>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct RouteMatch {
    #[serde(deserialize_with = "lenient::string")]
    pub prefix: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    pub path: Option<String>,
    #[serde(alias = "pathSeparatedPrefix", deserialize_with = "lenient::string")]
    pub path_separated_prefix: Option<String>,
    #[serde(alias = "safeRegex", deserialize_with = "lenient::object")]
    pub safe_regex: Option<SafeRegex>,
    #[serde(deserialize_with = "lenient::seq")]
    pub headers: Vec<IgnoredAny>,
    #[serde(alias = "queryParameters", deserialize_with = "lenient::seq")]
    pub query_parameters: Vec<IgnoredAny>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct SafeRegex {
    #[serde(deserialize_with = "lenient::string")]
    pub regex: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct RouteAction {
    #[serde(deserialize_with = "lenient::string")]
    pub cluster: Option<String>,
    #[serde(alias = "weightedClusters", deserialize_with = "lenient::object")]
    pub weighted_clusters: Option<WeightedClusters>,
    #[serde(alias = "clusterHeader", deserialize_with = "lenient::string")]
    pub cluster_header: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct DirectResponse {
    #[serde(deserialize_with = "lenient::u32")]
    pub status: Option<u32>,
}

impl RouteConfiguration {
    pub fn name(&self) -> &str {
        self.name.as_deref().unwrap_or("")
    }

    /// Every cluster a route of it may send to.
    pub fn clusters(&self) -> impl Iterator<Item = &str> {
        self.virtual_hosts
            .iter()
            .flat_map(|v| v.routes.iter())
            .filter_map(|r| r.route.as_ref())
            .flat_map(|a| {
                a.cluster.as_deref().into_iter().chain(
                    a.weighted_clusters
                        .iter()
                        .flat_map(|w| w.clusters.iter().filter_map(|c| c.name.as_deref())),
                )
            })
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct WeightedClusters {
    #[serde(deserialize_with = "lenient::seq")]
    pub clusters: Vec<WeightedCluster>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct WeightedCluster {
    #[serde(deserialize_with = "lenient::string")]
    pub name: Option<String>,
    #[serde(deserialize_with = "lenient::u32")]
    pub weight: Option<u32>,
}
