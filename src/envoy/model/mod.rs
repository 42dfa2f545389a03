//! Envoy config dumps as typed data: every shape in research §1 read into one model.
//!
//! Accepted shapes: `/config_dump` with `configs` as a list (v3 and v2alpha wrappers), as an
//! object keyed `bootstrap`/`listeners`/… (Envoy ≤ 1.7), or one entry per item
//! (`?resource=`); bare arrays of Listener/Cluster/RouteConfiguration/ClusterLoadAssignment
//! (`istioctl proxy-config … -o json`); snake_case or lowerCamelCase keys. Fields are read
//! leniently: a polymorphic value of an unexpected shape is skipped rather than failing the dump.
//!
//! Only what the linter and the simulator use is kept; everything else is skipped while parsing
//! (no intermediate tree), which is what keeps a 50 MB dump fast.

mod address;
mod cluster;
mod endpoint;
mod lenient;
mod listener;
mod node;
mod raw;
mod route;

pub use address::{Address, CidrRange, InternalAddress, Pipe, SocketAddress};
pub use cluster::{
    Cluster, CustomClusterType, EdsClusterConfig, FilterMetadata, IstioClusterName, IstioMetadata,
    IstioService, Metadata, parse_cluster_name,
};
pub use endpoint::{ClusterLoadAssignment, Endpoint, LbEndpoint, LocalityLbEndpoints};
pub use listener::{
    AdditionalAddress, DeprecatedV1, Filter, FilterChain, FilterChainMatch, FilterConfig,
    FilterKind, Listener, Rds, Terminal, V1Route, V1RouteConfig, V1Value,
};
pub use node::{ProxyNode, RawBootstrap, RawNode, RawNodeMeta};
pub use raw::{
    Configs, RawClusterEntry, RawDump, RawDynamicListener, RawEndpointEntry, RawEntry,
    RawErrorState, RawListenerState, RawRouteEntry,
};
pub use route::{
    DirectResponse, Route, RouteAction, RouteConfiguration, RouteMatch, SafeRegex, VirtualHost,
    WeightedCluster, WeightedClusters,
};

/// Which state a listener was reported in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ListenerState {
    /// Bootstrap `static_listeners`.
    Static,
    /// `active_state` / `dynamic_active_listeners`: serving traffic.
    Active,
    /// Not on the workers yet.
    Warming,
    /// Being removed.
    Draining,
}

impl ListenerState {
    pub fn as_str(self) -> &'static str {
        match self {
            ListenerState::Static => "static",
            ListenerState::Active => "active",
            ListenerState::Warming => "warming",
            ListenerState::Draining => "draining",
        }
    }

    /// Static and active listeners take connections.
    pub fn serves(self) -> bool {
        matches!(self, ListenerState::Static | ListenerState::Active)
    }
}

#[derive(Clone, Debug)]
pub struct DumpListener {
    pub listener: Listener,
    pub state: ListenerState,
    /// JSON pointer of the Listener object in the document.
    pub pointer: String,
}

impl DumpListener {
    /// Its name, or `<address>` for the unnamed static listeners of older bootstraps.
    pub fn label(&self) -> String {
        match self.listener.name.as_deref() {
            Some(n) if !n.is_empty() => n.to_string(),
            _ => format!("{} ({})", self.listener.address_text(), self.state.as_str()),
        }
    }
}

/// An `error_state`: a listener Envoy rejected (named), or an LDS error tied to no name.
#[derive(Clone, Debug)]
pub struct ListenerError {
    pub name: Option<String>,
    pub details: String,
    pub last_update_attempt: Option<String>,
    pub failed: Option<Box<Listener>>,
    /// Pointer of the `error_state` object.
    pub pointer: String,
    /// Whether the same name also has an active (older) version.
    pub has_active: bool,
}

#[derive(Clone, Debug)]
pub struct DumpCluster {
    pub cluster: Cluster,
    pub warming: bool,
    pub pointer: String,
}

#[derive(Clone, Debug)]
pub struct DumpRoute {
    pub route: RouteConfiguration,
    pub pointer: String,
}

#[derive(Clone, Debug)]
pub struct DumpEndpoints {
    pub assignment: ClusterLoadAssignment,
    pub pointer: String,
}

/// Which sections the dump had (a finding that needs routes is not made without them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sections {
    pub listeners: bool,
    pub clusters: bool,
    pub routes: bool,
    pub endpoints: bool,
}

/// A config dump, normalised.
#[derive(Clone, Debug, Default)]
pub struct Dump {
    /// What shape it was read from, for messages (`Envoy /config_dump (v3)`, …).
    pub shape: String,
    /// Keys were lowerCamelCase (istioctl per-resource output, re-marshalled dumps).
    pub camel: bool,
    pub node: Option<ProxyNode>,
    pub listeners: Vec<DumpListener>,
    pub errors: Vec<ListenerError>,
    pub clusters: Vec<DumpCluster>,
    pub routes: Vec<DumpRoute>,
    pub endpoints: Vec<DumpEndpoints>,
    pub sections: Sections,
}

/// Escapes a JSON pointer token (RFC 6901).
pub fn escape_token(t: &str) -> String {
    t.replace('~', "~0").replace('/', "~1")
}

/// snake_case → lowerCamelCase.
pub fn camel_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut up = false;
    for c in s.chars() {
        if c == '_' {
            up = true;
        } else if up {
            out.extend(c.to_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    out
}

impl Dump {
    /// A field name as the document spells it.
    pub fn key(&self, snake: &str) -> String {
        if self.camel {
            camel_case(snake)
        } else {
            snake.to_string()
        }
    }

    /// `base` + `/key` (spelled as in the document) + more raw tokens.
    pub fn ptr(&self, base: &str, key: &str) -> String {
        format!("{base}/{}", self.key(key))
    }

    /// Builds the model from `{"configs": …}`.
    pub fn from_raw(raw: RawDump, camel: bool) -> Dump {
        let mut d = Dump {
            camel,
            ..Dump::default()
        };
        let was_map = raw.configs.0.iter().any(|(k, _)| k.is_some());
        let mut versions = Vec::new();
        for (i, (key, e)) in raw.configs.0.into_iter().enumerate() {
            let base = match &key {
                Some(k) => format!("/configs/{}", escape_token(k)),
                None => format!("/configs/{i}"),
            };
            if let Some(t) = &e.type_url {
                versions.push(t.clone());
            }
            d.add_entry(&base, e);
        }
        let v2 = versions.iter().any(|t| t.contains(".v2alpha."));
        d.shape = match (was_map, v2) {
            _ if d.listeners.is_empty() && d.clusters.is_empty() && d.errors.is_empty() => {
                "Envoy config dump".into()
            }
            (true, _) => "Envoy config dump (configs object, Envoy ≤ 1.7)".into(),
            (false, true) => "Envoy config dump (envoy.admin.v2alpha)".into(),
            (false, false) => "Envoy config dump (envoy.admin.v3)".into(),
        };
        d.mark_active_errors();
        d
    }

    fn add_entry(&mut self, base: &str, e: RawEntry) {
        if let Some(n) = e.bootstrap.as_ref().and_then(|b| b.node.as_ref()) {
            self.node = self.node.take().or_else(|| ProxyNode::from_raw(n));
        }
        let t = e.type_url.as_deref().unwrap_or("");
        let listener_section = t.ends_with("ListenersConfigDump")
            || !e.static_listeners.is_empty()
            || !e.dynamic_listeners.is_empty()
            || !e.dynamic_active_listeners.is_empty();
        if listener_section {
            self.sections.listeners = true;
        }
        for (field, items, state) in [
            (
                "static_listeners",
                e.static_listeners,
                ListenerState::Static,
            ),
            (
                "dynamic_active_listeners",
                e.dynamic_active_listeners,
                ListenerState::Active,
            ),
            (
                "dynamic_warming_listeners",
                e.dynamic_warming_listeners,
                ListenerState::Warming,
            ),
            (
                "dynamic_draining_listeners",
                e.dynamic_draining_listeners,
                ListenerState::Draining,
            ),
        ] {
            for (j, s) in items.into_iter().enumerate() {
                if let Some(l) = s.listener {
                    let pointer = format!("{}/{j}/listener", self.ptr(base, field));
                    self.listeners.push(DumpListener {
                        listener: *l,
                        state,
                        pointer,
                    });
                }
            }
        }
        for (j, dl) in e.dynamic_listeners.into_iter().enumerate() {
            let at = format!("{}/{j}", self.ptr(base, "dynamic_listeners"));
            self.add_dynamic(&at, dl);
        }
        // Per-item DynamicListener / StaticListener.
        if e.active_state.is_some()
            || e.warming_state.is_some()
            || e.draining_state.is_some()
            || e.error_state.is_some()
        {
            self.sections.listeners = true;
            self.add_dynamic(
                base,
                RawDynamicListener {
                    name: e.name.clone(),
                    active_state: e.active_state,
                    warming_state: e.warming_state,
                    draining_state: e.draining_state,
                    error_state: e.error_state,
                },
            );
        }
        if let Some(l) = e.listener {
            self.sections.listeners = true;
            let state = if t.contains("StaticListener") {
                ListenerState::Static
            } else {
                ListenerState::Active
            };
            self.listeners.push(DumpListener {
                listener: *l,
                state,
                pointer: format!("{base}/listener"),
            });
        }
        if t.ends_with("ClustersConfigDump") {
            self.sections.clusters = true;
        }
        for (field, items, warming) in [
            ("static_clusters", e.static_clusters, false),
            ("dynamic_active_clusters", e.dynamic_active_clusters, false),
            ("dynamic_warming_clusters", e.dynamic_warming_clusters, true),
        ] {
            if !items.is_empty() {
                self.sections.clusters = true;
            }
            for (j, c) in items.into_iter().enumerate() {
                if let Some(cluster) = c.cluster {
                    let pointer = format!("{}/{j}/cluster", self.ptr(base, field));
                    self.clusters.push(DumpCluster {
                        cluster: *cluster,
                        warming,
                        pointer,
                    });
                }
            }
        }
        if let Some(cluster) = e.cluster {
            self.sections.clusters = true;
            self.clusters.push(DumpCluster {
                cluster: *cluster,
                warming: t.contains("Warming"),
                pointer: format!("{base}/cluster"),
            });
        }
        if t.ends_with("RoutesConfigDump") && !t.ends_with("ScopedRoutesConfigDump") {
            self.sections.routes = true;
        }
        for (field, items) in [
            ("static_route_configs", e.static_route_configs),
            ("dynamic_route_configs", e.dynamic_route_configs),
        ] {
            if !items.is_empty() {
                self.sections.routes = true;
            }
            for (j, r) in items.into_iter().enumerate() {
                if let Some(route) = r.route_config {
                    let pointer =
                        format!("{}/{j}/{}", self.ptr(base, field), self.key("route_config"));
                    self.routes.push(DumpRoute { route, pointer });
                }
            }
        }
        if let Some(route) = e.route_config {
            self.sections.routes = true;
            let pointer = self.ptr(base, "route_config");
            self.routes.push(DumpRoute { route, pointer });
        }
        if t.ends_with("EndpointsConfigDump") {
            self.sections.endpoints = true;
        }
        for (field, items) in [
            ("static_endpoint_configs", e.static_endpoint_configs),
            ("dynamic_endpoint_configs", e.dynamic_endpoint_configs),
        ] {
            if !items.is_empty() {
                self.sections.endpoints = true;
            }
            for (j, r) in items.into_iter().enumerate() {
                if let Some(assignment) = r.endpoint_config {
                    let pointer = format!(
                        "{}/{j}/{}",
                        self.ptr(base, field),
                        self.key("endpoint_config")
                    );
                    self.endpoints.push(DumpEndpoints {
                        assignment,
                        pointer,
                    });
                }
            }
        }
        if let Some(assignment) = e.endpoint_config {
            self.sections.endpoints = true;
            let pointer = self.ptr(base, "endpoint_config");
            self.endpoints.push(DumpEndpoints {
                assignment,
                pointer,
            });
        }
    }

    fn add_dynamic(&mut self, at: &str, dl: RawDynamicListener) {
        for (field, st, state) in [
            ("active_state", dl.active_state, ListenerState::Active),
            ("warming_state", dl.warming_state, ListenerState::Warming),
            ("draining_state", dl.draining_state, ListenerState::Draining),
        ] {
            if let Some(l) = st.and_then(|s| s.listener) {
                let pointer = format!("{}/listener", self.ptr(at, field));
                self.listeners.push(DumpListener {
                    listener: *l,
                    state,
                    pointer,
                });
            }
        }
        if let Some(err) = dl.error_state {
            let name = dl.name.filter(|n| !n.is_empty());
            self.errors.push(ListenerError {
                name: name.clone(),
                details: err.details.unwrap_or_default().trim_end().to_string(),
                last_update_attempt: err.last_update_attempt,
                failed: err.failed_configuration,
                pointer: self.ptr(at, "error_state"),
                has_active: false,
            });
        }
    }

    fn mark_active_errors(&mut self) {
        for i in 0..self.errors.len() {
            let Some(name) = self.errors[i].name.clone() else {
                continue;
            };
            self.errors[i].has_active = self
                .listeners
                .iter()
                .any(|l| l.state == ListenerState::Active && l.listener.name() == name);
        }
    }

    /// Builds the model from a bare array of resources (`istioctl proxy-config … -o json`).
    pub fn from_array(
        items: impl IntoIterator<Item = serde_json::Value>,
        camel: bool,
    ) -> Result<Dump, String> {
        let mut d = ArrayDump::new(camel);
        for v in items {
            d.push(v)?;
        }
        Ok(d.finish())
    }

    /// Listeners that take connections: static and active.
    pub fn serving(&self) -> impl Iterator<Item = (usize, &DumpListener)> {
        self.listeners
            .iter()
            .enumerate()
            .filter(|(_, l)| l.state.serves())
    }

    pub fn cluster(&self, name: &str) -> Option<&DumpCluster> {
        self.clusters
            .iter()
            .filter(|c| !c.warming)
            .chain(self.clusters.iter().filter(|c| c.warming))
            .find(|c| c.cluster.name() == name)
    }

    pub fn route(&self, name: &str) -> Option<&DumpRoute> {
        self.routes.iter().find(|r| r.route.name() == name)
    }

    pub fn assignment(&self, name: &str) -> Option<&DumpEndpoints> {
        self.endpoints
            .iter()
            .find(|e| e.assignment.cluster_name.as_deref() == Some(name))
    }

    /// The listener Istio's iptables redirect lands on (`use_original_dst`, e.g. 15001).
    pub fn hand_off_listener(&self) -> Option<(usize, &DumpListener)> {
        self.serving().find(|(_, l)| l.listener.hands_off())
    }
}

/// A dump read from a bare array of resources one item at a time, so that a reader holds one
/// item's JSON tree at most, never the whole array's.
pub struct ArrayDump {
    dump: Dump,
    kinds: std::collections::BTreeSet<&'static str>,
    len: usize,
}

impl ArrayDump {
    pub fn new(camel: bool) -> ArrayDump {
        ArrayDump {
            dump: Dump {
                camel,
                ..Dump::default()
            },
            kinds: Default::default(),
            len: 0,
        }
    }

    /// Adds the next item of the array.
    pub fn push(&mut self, v: serde_json::Value) -> Result<(), String> {
        let pointer = format!("/{}", self.len);
        self.len += 1;
        let kind = resource_kind(&v);
        let err = |e: serde_json::Error| format!("{pointer}: not a valid {kind}: {e}");
        let d = &mut self.dump;
        match kind {
            "Listener" => {
                d.sections.listeners = true;
                d.listeners.push(DumpListener {
                    listener: serde_json::from_value(v).map_err(err)?,
                    state: ListenerState::Active,
                    pointer,
                });
            }
            "RouteConfiguration" => {
                d.sections.routes = true;
                d.routes.push(DumpRoute {
                    route: serde_json::from_value(v).map_err(err)?,
                    pointer,
                });
            }
            "ClusterLoadAssignment" => {
                d.sections.endpoints = true;
                d.endpoints.push(DumpEndpoints {
                    assignment: serde_json::from_value(v).map_err(err)?,
                    pointer,
                });
            }
            "Cluster" => {
                d.sections.clusters = true;
                d.clusters.push(DumpCluster {
                    cluster: serde_json::from_value(v).map_err(err)?,
                    warming: false,
                    pointer,
                });
            }
            _ if self.len == 1 => {
                return Err("a JSON array that is not a list of Envoy resources".into());
            }
            _ => {
                return Err(format!(
                    "{pointer}: not an Envoy Listener, Cluster, RouteConfiguration or ClusterLoadAssignment"
                ));
            }
        }
        self.kinds.insert(kind);
        Ok(())
    }

    pub fn finish(self) -> Dump {
        let mut d = self.dump;
        d.shape = format!(
            "array of {} (istioctl proxy-config -o json)",
            self.kinds.into_iter().collect::<Vec<_>>().join(", ")
        );
        d
    }
}

/// Which resource a bare-array element is, by its `@type` or its keys.
fn resource_kind(v: &serde_json::Value) -> &'static str {
    const KINDS: [&str; 4] = [
        "Listener",
        "Cluster",
        "RouteConfiguration",
        "ClusterLoadAssignment",
    ];
    let Some(o) = v.as_object() else {
        return "unknown";
    };
    if let Some(t) = o.get("@type").and_then(|t| t.as_str()) {
        let kind = t.rsplit('.').next().unwrap_or_default();
        return KINDS.into_iter().find(|k| *k == kind).unwrap_or("unknown");
    }
    let has = |k: &str| o.contains_key(k) || o.contains_key(&camel_case(k));
    if has("filter_chains")
        || has("listener_filters")
        || has("default_filter_chain")
        || has("filter_chain_matcher")
        || has("internal_listener")
        || has("use_original_dst")
        || (has("address") && !has("cluster_name"))
    {
        "Listener"
    } else if has("virtual_hosts") {
        "RouteConfiguration"
    } else if has("cluster_name") || (has("endpoints") && !has("name")) {
        "ClusterLoadAssignment"
    } else if has("name") || has("connect_timeout") || has("lb_policy") {
        "Cluster"
    } else {
        "unknown"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> Dump {
        let camel = text.contains("filterChains") || text.contains("socketAddress");
        Dump::from_raw(serde_json::from_str(text).expect("parses"), camel)
    }

    #[test]
    fn reads_v2alpha_and_keyed_configs_with_camel_case_pointers() {
        let d = raw(
            r#"{"configs": {"listeners": {"@type": "type.googleapis.com/envoy.admin.v2alpha.ListenersConfigDump",
            "dynamicActiveListeners": [{"listener": {"name": "0.0.0.0_80",
              "address": {"socketAddress": {"address": "0.0.0.0", "portValue": 80}},
              "deprecatedV1": {"bindToPort": false},
              "filterChains": [{"filters": [{"name": "envoy.tcp_proxy", "config": {"cluster": "c"}}]}]}}]}}}"#,
        );
        assert!(d.shape.contains("Envoy ≤ 1.7"), "{}", d.shape);
        let l = &d.listeners[0];
        assert_eq!(
            l.pointer,
            "/configs/listeners/dynamicActiveListeners/0/listener"
        );
        assert_eq!(l.listener.ip_port(), Some(("0.0.0.0", 80)));
        assert!(!l.listener.binds());
        assert_eq!(
            l.listener.filter_chains[0].terminal(),
            Terminal::Tcp {
                filter: 0,
                clusters: vec!["c".into()]
            }
        );
    }

    #[test]
    fn odd_shapes_are_skipped_not_fatal() {
        // A filter config with a list where an object is expected, a string port, a
        // `{value: n}` wrapper, a CIDR string, and an error_state-only entry without a name.
        let d = raw(
            r#"{"configs": [{"@type": "x.ListenersConfigDump", "dynamic_listeners": [
            {"name": "a", "active_state": {"listener": {"name": "a",
              "address": {"socket_address": {"address": "10.0.0.1", "port_value": "81"}},
              "filter_chains": [{"filter_chain_match": {"prefix_ranges": [{"address_prefix": "10.0.0.0", "prefix_len": {"value": 8}}]},
                "filters": [{"name": "envoy.filters.network.dubbo_proxy", "typed_config": {"route_config": [1, 2]}},
                            {"name": "envoy.tcp_proxy", "config": {"deprecated_v1": true, "value": {"route_config": {"routes": [
                              {"cluster": "v1", "destination_ip_list": ["10.0.0.0/8"]}]}}}}]}]}}},
            {"error_state": {"details": "boom"}}]}]}"#,
        );
        let l = &d.listeners[0].listener;
        assert_eq!(l.ip_port(), Some(("10.0.0.1", 81)));
        let fcm = l.filter_chains[0].fcm();
        assert_eq!(fcm.prefix_ranges[0].len(), 8);
        assert!(fcm.prefix_ranges[0].contains("10.2.3.4".parse().unwrap()));
        assert_eq!(l.filter_chains[0].filters[1].tcp_clusters(), vec!["v1"]);
        assert_eq!(d.errors.len(), 1);
        assert_eq!(d.errors[0].name, None);
        assert_eq!(d.errors[0].details, "boom");
    }

    #[test]
    fn bare_arrays_are_classified() {
        let d = Dump::from_array(
            serde_json::from_str::<Vec<serde_json::Value>>(
                r#"[{"clusterName": "c", "endpoints": [{"lbEndpoints": [{"endpoint": {"address": {"socketAddress": {"address": "1.2.3.4", "portValue": 80}}}, "healthStatus": "HEALTHY"}]}]},
                   {"name": "r", "virtualHosts": [{"domains": ["*"]}]},
                   {"name": "c", "type": "STRICT_DNS"}]"#,
            )
            .expect("json"),
            true,
        )
        .expect("classified");
        assert_eq!(
            d.endpoints[0].assignment.endpoints(),
            vec![("1.2.3.4:80".to_string(), "HEALTHY".to_string())]
        );
        assert_eq!(d.routes[0].route.name(), "r");
        assert_eq!(d.clusters[0].cluster.kind(), "STRICT_DNS");
        assert_eq!(camel_case("filter_chain_match"), "filterChainMatch");
        let typed = |t: &str| resource_kind(&serde_json::json!({"@type": t, "name": "x"}));
        assert_eq!(
            typed("type.googleapis.com/envoy.config.listener.v3.Listener"),
            "Listener"
        );
        assert_eq!(typed("type.googleapis.com/envoy.api.v2.Cluster"), "Cluster");
        assert_eq!(
            typed("type.googleapis.com/envoy.admin.v3.Secret"),
            "unknown"
        );
    }
}
