//! The dump as Envoy's admin (or istioctl) prints it: `configs` and its sections, read as they
//! are before [`Dump::from_raw`](super::Dump::from_raw) normalises them.

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess};

use super::cluster::Cluster;
use super::endpoint::ClusterLoadAssignment;
use super::lenient::{self, Lenient, Object, Scalar, Shape};
use super::listener::Listener;
use super::node::RawBootstrap;
use super::route::RouteConfiguration;

/// `{"configs": …}`: a list (v3, v2alpha, per-item) or an object keyed by section (≤ 1.7).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawDump {
    pub configs: Configs,
}

/// The entries of `configs`, each with its object key when `configs` is an object.
#[derive(Debug, Default)]
pub struct Configs(pub Vec<(Option<String>, RawEntry)>);

/// An entry that is not an object reads as an empty section; `configs` that is neither a list
/// nor an object fails the dump.
impl Shape for Configs {
    type Value = Configs;
    const EXPECTING: &'static str = "a list or an object of config dump sections";

    fn scalar<E: de::Error>(v: Scalar<'_>) -> Result<Configs, E> {
        Err(v.refuse(Self::EXPECTING))
    }

    fn seq<'de, A: SeqAccess<'de>>(mut a: A) -> Result<Configs, A::Error> {
        let mut out = Vec::new();
        while let Some(e) = a.next_element::<Entry>()? {
            out.push((None, e.0.unwrap_or_default()));
        }
        Ok(Configs(out))
    }

    fn map<'de, A: MapAccess<'de>>(mut a: A) -> Result<Configs, A::Error> {
        let mut out = Vec::new();
        while let Some((k, e)) = a.next_entry::<String, Entry>()? {
            out.push((Some(k), e.0.unwrap_or_default()));
        }
        Ok(Configs(out))
    }
}

impl<'de> Deserialize<'de> for Configs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient::read::<Configs, D>(d)
    }
}

type Entry = Lenient<Object<RawEntry>>;

/// One `configs` entry: a whole section (`ListenersConfigDump`, …) or, with `?resource=`, one
/// item of a section. The fields of every kind live side by side; `@type` tells them apart.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawEntry {
    #[serde(rename = "@type", deserialize_with = "lenient::string")]
    pub type_url: Option<String>,
    #[serde(deserialize_with = "lenient::object")]
    pub bootstrap: Option<Box<RawBootstrap>>,
    #[serde(alias = "staticListeners", deserialize_with = "lenient::seq")]
    pub static_listeners: Vec<RawListenerState>,
    #[serde(alias = "dynamicListeners", deserialize_with = "lenient::seq")]
    pub dynamic_listeners: Vec<RawDynamicListener>,
    #[serde(alias = "dynamicActiveListeners", deserialize_with = "lenient::seq")]
    pub dynamic_active_listeners: Vec<RawListenerState>,
    #[serde(alias = "dynamicWarmingListeners", deserialize_with = "lenient::seq")]
    pub dynamic_warming_listeners: Vec<RawListenerState>,
    #[serde(alias = "dynamicDrainingListeners", deserialize_with = "lenient::seq")]
    pub dynamic_draining_listeners: Vec<RawListenerState>,
    #[serde(alias = "staticClusters", deserialize_with = "lenient::seq")]
    pub static_clusters: Vec<RawClusterEntry>,
    #[serde(alias = "dynamicActiveClusters", deserialize_with = "lenient::seq")]
    pub dynamic_active_clusters: Vec<RawClusterEntry>,
    #[serde(alias = "dynamicWarmingClusters", deserialize_with = "lenient::seq")]
    pub dynamic_warming_clusters: Vec<RawClusterEntry>,
    #[serde(alias = "staticRouteConfigs", deserialize_with = "lenient::seq")]
    pub static_route_configs: Vec<RawRouteEntry>,
    #[serde(alias = "dynamicRouteConfigs", deserialize_with = "lenient::seq")]
    pub dynamic_route_configs: Vec<RawRouteEntry>,
    #[serde(alias = "staticEndpointConfigs", deserialize_with = "lenient::seq")]
    pub static_endpoint_configs: Vec<RawEndpointEntry>,
    #[serde(alias = "dynamicEndpointConfigs", deserialize_with = "lenient::seq")]
    pub dynamic_endpoint_configs: Vec<RawEndpointEntry>,
    // Per-item entries (`?resource=`): a DynamicListener, StaticListener, cluster, route, CLA.
    #[serde(deserialize_with = "lenient::string")]
    pub name: Option<String>,
    #[serde(alias = "activeState", deserialize_with = "lenient::object")]
    pub active_state: Option<RawListenerState>,
    #[serde(alias = "warmingState", deserialize_with = "lenient::object")]
    pub warming_state: Option<RawListenerState>,
    #[serde(alias = "drainingState", deserialize_with = "lenient::object")]
    pub draining_state: Option<RawListenerState>,
    #[serde(alias = "errorState", deserialize_with = "lenient::object")]
    pub error_state: Option<RawErrorState>,
    #[serde(deserialize_with = "lenient::object")]
    pub listener: Option<Box<Listener>>,
    #[serde(deserialize_with = "lenient::object")]
    pub cluster: Option<Box<Cluster>>,
    #[serde(alias = "routeConfig", deserialize_with = "lenient::object")]
    pub route_config: Option<RouteConfiguration>,
    #[serde(alias = "endpointConfig", deserialize_with = "lenient::object")]
    pub endpoint_config: Option<ClusterLoadAssignment>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawListenerState {
    #[serde(deserialize_with = "lenient::object")]
    pub listener: Option<Box<Listener>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawDynamicListener {
    #[serde(deserialize_with = "lenient::string")]
    pub name: Option<String>,
    #[serde(alias = "activeState", deserialize_with = "lenient::object")]
    pub active_state: Option<RawListenerState>,
    #[serde(alias = "warmingState", deserialize_with = "lenient::object")]
    pub warming_state: Option<RawListenerState>,
    #[serde(alias = "drainingState", deserialize_with = "lenient::object")]
    pub draining_state: Option<RawListenerState>,
    #[serde(alias = "errorState", deserialize_with = "lenient::object")]
    pub error_state: Option<RawErrorState>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawErrorState {
    #[serde(alias = "failedConfiguration", deserialize_with = "lenient::object")]
    pub failed_configuration: Option<Box<Listener>>,
    #[serde(deserialize_with = "lenient::string")]
    pub details: Option<String>,
    #[serde(alias = "lastUpdateAttempt", deserialize_with = "lenient::string")]
    pub last_update_attempt: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawClusterEntry {
    #[serde(deserialize_with = "lenient::object")]
    pub cluster: Option<Box<Cluster>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawRouteEntry {
    #[serde(alias = "routeConfig", deserialize_with = "lenient::object")]
    pub route_config: Option<RouteConfiguration>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawEndpointEntry {
    #[serde(alias = "endpointConfig", deserialize_with = "lenient::object")]
    pub endpoint_config: Option<ClusterLoadAssignment>,
}
