//! Listeners (`envoy.config.listener.v3`): filter chains, their match criteria, and the network
//! and listener filters with the parts of their configs the tools read.

use serde::Deserialize;
use serde::de::IgnoredAny;

use super::address::{Address, CidrRange};
use super::lenient;
use super::route::{RouteConfiguration, WeightedClusters};

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct AdditionalAddress {
    #[serde(deserialize_with = "lenient::object")]
    pub address: Option<Address>,
}

/// `deprecated_v1` of old listeners: `{bind_to_port: false}`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct DeprecatedV1 {
    #[serde(alias = "bindToPort", deserialize_with = "lenient::bool")]
    pub bind_to_port: Option<bool>,
}

/// `envoy.config.listener.v3.FilterChainMatch`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct FilterChainMatch {
    #[serde(alias = "destinationPort", deserialize_with = "lenient::u32")]
    pub destination_port: Option<u32>,
    #[serde(alias = "prefixRanges", deserialize_with = "lenient::seq")]
    pub prefix_ranges: Vec<CidrRange>,
    #[serde(alias = "serverNames", deserialize_with = "lenient::strings")]
    pub server_names: Vec<String>,
    #[serde(alias = "transportProtocol", deserialize_with = "lenient::string")]
    pub transport_protocol: Option<String>,
    #[serde(alias = "applicationProtocols", deserialize_with = "lenient::strings")]
    pub application_protocols: Vec<String>,
    #[serde(alias = "directSourcePrefixRanges", deserialize_with = "lenient::seq")]
    pub direct_source_prefix_ranges: Vec<CidrRange>,
    #[serde(alias = "sourceType", deserialize_with = "lenient::string")]
    pub source_type: Option<String>,
    #[serde(alias = "sourcePrefixRanges", deserialize_with = "lenient::seq")]
    pub source_prefix_ranges: Vec<CidrRange>,
    #[serde(alias = "sourcePorts", deserialize_with = "lenient::numbers")]
    pub source_ports: Vec<u32>,
}

impl FilterChainMatch {
    /// Whether nothing is constrained (a match-all chain).
    pub fn is_empty(&self) -> bool {
        *self == FilterChainMatch::default()
            || (self.destination_port.is_none()
                && self.prefix_ranges.is_empty()
                && self.server_names.is_empty()
                && self.transport_protocol.as_deref().is_none_or(str::is_empty)
                && self.application_protocols.is_empty()
                && self.direct_source_prefix_ranges.is_empty()
                && self
                    .source_type
                    .as_deref()
                    .is_none_or(|t| t.is_empty() || t == "ANY")
                && self.source_prefix_ranges.is_empty()
                && self.source_ports.is_empty())
    }

    /// A short description of the criteria, e.g. `prefix_ranges 10.0.0.1/32, transport tls`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(p) = self.destination_port {
            parts.push(format!("destination_port {p}"));
        }
        if !self.prefix_ranges.is_empty() {
            let r: Vec<String> = self.prefix_ranges.iter().map(|r| r.to_string()).collect();
            parts.push(format!("prefix_ranges {}", r.join(", ")));
        }
        if !self.server_names.is_empty() {
            parts.push(format!("server_names {}", self.server_names.join(", ")));
        }
        if let Some(t) = self.transport_protocol.as_deref().filter(|t| !t.is_empty()) {
            parts.push(format!("transport_protocol {t}"));
        }
        if !self.application_protocols.is_empty() {
            parts.push(format!(
                "application_protocols {}",
                self.application_protocols.join(", ")
            ));
        }
        if !self.direct_source_prefix_ranges.is_empty() {
            let r: Vec<String> = self
                .direct_source_prefix_ranges
                .iter()
                .map(|r| r.to_string())
                .collect();
            parts.push(format!("direct_source_prefix_ranges {}", r.join(", ")));
        }
        if let Some(t) = self
            .source_type
            .as_deref()
            .filter(|t| !t.is_empty() && *t != "ANY")
        {
            parts.push(format!("source_type {t}"));
        }
        if !self.source_prefix_ranges.is_empty() {
            let r: Vec<String> = self
                .source_prefix_ranges
                .iter()
                .map(|r| r.to_string())
                .collect();
            parts.push(format!("source_prefix_ranges {}", r.join(", ")));
        }
        if !self.source_ports.is_empty() {
            let p: Vec<String> = self.source_ports.iter().map(|p| p.to_string()).collect();
            parts.push(format!("source_ports {}", p.join(", ")));
        }
        if parts.is_empty() {
            "match-all".into()
        } else {
            parts.join("; ")
        }
    }
}

/// What a network or listener filter is, from its `@type` when present, else its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterKind {
    TcpProxy,
    HttpConnectionManager,
    TlsInspector,
    HttpInspector,
    OriginalDst,
    /// Another terminal network filter (sni_cluster, redis_proxy, …).
    OtherTerminal,
    Other,
}

fn kind_of(name: &str, type_url: Option<&str>) -> FilterKind {
    let t = type_url.unwrap_or("");
    let has = |needle: &str| t.contains(needle) || name.contains(needle);
    if t.contains("tcp_proxy")
        || matches!(name, "envoy.tcp_proxy" | "envoy.filters.network.tcp_proxy")
    {
        FilterKind::TcpProxy
    } else if t.contains("http_connection_manager")
        || matches!(
            name,
            "envoy.http_connection_manager" | "envoy.filters.network.http_connection_manager"
        )
    {
        FilterKind::HttpConnectionManager
    } else if has("tls_inspector") {
        FilterKind::TlsInspector
    } else if has("http_inspector") {
        FilterKind::HttpInspector
    } else if has("original_dst") {
        FilterKind::OriginalDst
    } else if has("sni_cluster")
        || has("sni_dynamic_forward_proxy")
        || has("redis_proxy")
        || has("thrift_proxy")
        || has("dubbo_proxy")
        || has("echo")
        || has("direct_response")
    {
        FilterKind::OtherTerminal
    } else {
        FilterKind::Other
    }
}

/// The parts of a filter config (typed_config Any or v2 `config` Struct) the tools read.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct FilterConfig {
    #[serde(rename = "@type", deserialize_with = "lenient::string")]
    pub type_url: Option<String>,
    /// TypedStruct wrappers name the real type here.
    #[serde(alias = "typeUrl", deserialize_with = "lenient::string")]
    pub type_url_inner: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    pub cluster: Option<String>,
    #[serde(alias = "weightedClusters", deserialize_with = "lenient::object")]
    pub weighted_clusters: Option<WeightedClusters>,
    #[serde(deserialize_with = "lenient::object")]
    pub rds: Option<Rds>,
    #[serde(alias = "routeConfig", deserialize_with = "lenient::object")]
    pub route_config: Option<RouteConfiguration>,
    #[serde(alias = "scopedRoutes", deserialize_with = "lenient::object")]
    pub scoped_routes: Option<IgnoredAny>,
    /// Istio 1.0 `tcp_proxy` v1 form: `{deprecated_v1: true, value: {route_config: {routes}}}`.
    #[serde(deserialize_with = "lenient::object")]
    pub value: Option<V1Value>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Rds {
    #[serde(alias = "routeConfigName", deserialize_with = "lenient::string")]
    pub route_config_name: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct V1Value {
    #[serde(alias = "routeConfig", deserialize_with = "lenient::object")]
    pub route_config: Option<V1RouteConfig>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct V1RouteConfig {
    #[serde(deserialize_with = "lenient::seq")]
    pub routes: Vec<V1Route>,
}

/// A route of the Istio 1.0 `tcp_proxy` v1 config.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct V1Route {
    #[serde(deserialize_with = "lenient::string")]
    pub cluster: Option<String>,
    #[serde(alias = "destinationIpList", deserialize_with = "lenient::seq")]
    pub destination_ip_list: Vec<CidrRange>,
    #[serde(alias = "destinationPorts", deserialize_with = "lenient::string")]
    pub destination_ports: Option<String>,
}

/// A network or listener filter.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Filter {
    #[serde(deserialize_with = "lenient::string")]
    pub name: Option<String>,
    // Boxed, as most of the other fields below: a dump holds hundreds of thousands of
    // filters, each with one config at most.
    #[serde(alias = "typedConfig", deserialize_with = "lenient::object")]
    pub typed_config: Option<Box<FilterConfig>>,
    /// The v2 `config` Struct (no `@type`).
    #[serde(deserialize_with = "lenient::object")]
    pub config: Option<Box<FilterConfig>>,
}

impl Filter {
    pub fn name(&self) -> &str {
        self.name.as_deref().unwrap_or("")
    }

    /// The config, whichever of `typed_config` and `config` is set.
    pub fn conf(&self) -> Option<&FilterConfig> {
        self.typed_config.as_deref().or(self.config.as_deref())
    }

    /// The key the config sits under (`typed_config` or `config`), for pointers.
    pub fn conf_key(&self) -> &'static str {
        if self.typed_config.is_some() {
            "typed_config"
        } else {
            "config"
        }
    }

    pub fn kind(&self) -> FilterKind {
        let conf = self.conf();
        let t = conf.and_then(|c| {
            c.type_url
                .as_deref()
                .filter(|t| !t.ends_with("TypedStruct"))
                .or(c.type_url_inner.as_deref())
        });
        kind_of(self.name(), t)
    }

    /// The clusters a `tcp_proxy` sends to: `cluster`, `weighted_clusters`, or the v1 routes.
    pub fn tcp_clusters(&self) -> Vec<String> {
        let Some(c) = self.conf() else {
            return Vec::new();
        };
        if let Some(name) = &c.cluster {
            return vec![name.clone()];
        }
        if let Some(w) = &c.weighted_clusters {
            return w.clusters.iter().filter_map(|c| c.name.clone()).collect();
        }
        if let Some(v1) = c.value.as_ref().and_then(|v| v.route_config.as_ref()) {
            return v1.routes.iter().filter_map(|r| r.cluster.clone()).collect();
        }
        Vec::new()
    }
}

/// `envoy.config.listener.v3.FilterChain`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct FilterChain {
    #[serde(deserialize_with = "lenient::string")]
    pub name: Option<String>,
    #[serde(alias = "filterChainMatch", deserialize_with = "lenient::object")]
    pub filter_chain_match: Option<FilterChainMatch>,
    #[serde(deserialize_with = "lenient::seq")]
    pub filters: Vec<Filter>,
}

/// What a filter chain ends in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Terminal {
    /// `tcp_proxy` to these clusters (index of the filter).
    Tcp {
        filter: usize,
        clusters: Vec<String>,
    },
    /// HTTP connection manager with RDS (route name) or an inline route config.
    Http {
        filter: usize,
        rds: Option<String>,
        inline: bool,
    },
    /// Another terminal filter (named).
    Other { filter: usize, name: String },
    /// No terminal filter.
    None,
}

impl FilterChain {
    pub fn fcm(&self) -> FilterChainMatch {
        self.filter_chain_match.clone().unwrap_or_default()
    }

    pub fn is_match_all(&self) -> bool {
        self.filter_chain_match
            .as_ref()
            .is_none_or(FilterChainMatch::is_empty)
    }

    /// The first terminal network filter: `tcp_proxy`, HTTP connection manager or another.
    pub fn terminal(&self) -> Terminal {
        for (i, f) in self.filters.iter().enumerate() {
            match f.kind() {
                FilterKind::TcpProxy => {
                    return Terminal::Tcp {
                        filter: i,
                        clusters: f.tcp_clusters(),
                    };
                }
                FilterKind::HttpConnectionManager => {
                    let c = f.conf();
                    return Terminal::Http {
                        filter: i,
                        rds: c
                            .and_then(|c| c.rds.as_ref())
                            .and_then(|r| r.route_config_name.clone()),
                        inline: c.is_some_and(|c| c.route_config.is_some()),
                    };
                }
                FilterKind::OtherTerminal => {
                    return Terminal::Other {
                        filter: i,
                        name: f.name().to_string(),
                    };
                }
                _ => {}
            }
        }
        Terminal::None
    }

    /// The inline route config of its HTTP connection manager, if any.
    pub fn inline_routes(&self) -> Option<&RouteConfiguration> {
        self.filters
            .iter()
            .find(|f| f.kind() == FilterKind::HttpConnectionManager)
            .and_then(|f| f.conf())
            .and_then(|c| c.route_config.as_ref())
    }
}

/// `envoy.config.listener.v3.Listener` (and `envoy.api.v2.Listener`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Listener {
    #[serde(deserialize_with = "lenient::string")]
    pub name: Option<String>,
    #[serde(deserialize_with = "lenient::object")]
    pub address: Option<Address>,
    #[serde(alias = "additionalAddresses", deserialize_with = "lenient::seq")]
    pub additional_addresses: Vec<AdditionalAddress>,
    #[serde(alias = "filterChains", deserialize_with = "lenient::seq")]
    pub filter_chains: Vec<FilterChain>,
    #[serde(alias = "defaultFilterChain", deserialize_with = "lenient::object")]
    pub default_filter_chain: Option<Box<FilterChain>>,
    #[serde(alias = "filterChainMatcher", deserialize_with = "lenient::object")]
    pub filter_chain_matcher: Option<serde_json::Value>,
    #[serde(alias = "listenerFilters", deserialize_with = "lenient::seq")]
    pub listener_filters: Vec<Filter>,
    #[serde(alias = "useOriginalDst", deserialize_with = "lenient::bool")]
    pub use_original_dst: Option<bool>,
    #[serde(alias = "bindToPort", deserialize_with = "lenient::bool")]
    pub bind_to_port: Option<bool>,
    #[serde(alias = "deprecatedV1", deserialize_with = "lenient::object")]
    pub deprecated_v1: Option<DeprecatedV1>,
    #[serde(alias = "trafficDirection", deserialize_with = "lenient::string")]
    pub traffic_direction: Option<String>,
    #[serde(alias = "internalListener", deserialize_with = "lenient::object")]
    pub internal_listener: Option<IgnoredAny>,
}

impl Listener {
    pub fn name(&self) -> &str {
        self.name.as_deref().unwrap_or("")
    }

    pub fn default_chain(&self) -> Option<&FilterChain> {
        self.default_filter_chain.as_deref()
    }

    /// `(ip, port)` of its socket address; `None` for internal and pipe listeners.
    pub fn ip_port(&self) -> Option<(&str, u32)> {
        self.address.as_ref().and_then(Address::ip_port)
    }

    /// The main and additional socket addresses.
    pub fn socket_addresses(&self) -> Vec<(&str, u32)> {
        self.ip_port()
            .into_iter()
            .chain(
                self.additional_addresses
                    .iter()
                    .filter_map(|a| a.address.as_ref().and_then(Address::ip_port)),
            )
            .collect()
    }

    /// Whether it binds its port: `bind_to_port`, else `deprecated_v1.bind_to_port`, else true.
    pub fn binds(&self) -> bool {
        self.bind_to_port
            .or(self.deprecated_v1.as_ref().and_then(|d| d.bind_to_port))
            .unwrap_or(true)
    }

    /// Whether it hands connections off by their original destination (Istio's 15001).
    pub fn hands_off(&self) -> bool {
        self.use_original_dst == Some(true)
    }

    pub fn has_listener_filter(&self, kind: FilterKind) -> bool {
        self.listener_filters.iter().any(|f| f.kind() == kind)
    }

    pub fn address_text(&self) -> String {
        self.address
            .as_ref()
            .map_or_else(|| "(no address)".to_string(), |a| a.to_string())
    }
}
