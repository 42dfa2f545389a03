//! Istio `networking.istio.io` resources (v1, v1beta1 and v1alpha3 share these shapes) and
//! the mesh configuration.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::source::{FieldPath, Node};

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PortSpec {
    #[serde(deserialize_with = "super::port::proto_port")]
    pub number: Option<i64>,
    pub name: Option<String>,
    pub protocol: Option<String>,
    #[serde(deserialize_with = "super::port::proto_port")]
    pub target_port: Option<i64>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ServiceEntry {
    pub hosts: Vec<String>,
    pub addresses: Vec<String>,
    pub ports: Vec<PortSpec>,
    pub location: Option<String>,
    pub resolution: Option<String>,
    pub endpoints: Vec<serde_json::Value>,
    pub workload_selector: Option<WorkloadSelector>,
    pub export_to: Vec<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct WorkloadSelector {
    pub labels: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Gateway {
    pub selector: BTreeMap<String, String>,
    pub servers: Vec<Server>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Server {
    pub port: PortSpec,
    pub bind: Option<String>,
    pub hosts: Vec<String>,
    pub tls: Option<serde_json::Value>,
    pub name: Option<String>,
}

impl Server {
    /// The Kubernetes Secret `tls.credentialName` names; `None` when unset, empty or a URL-style
    /// SDS reference (`sds://...`), which names no Secret.
    pub fn credential_secret(&self) -> Option<&str> {
        self.tls
            .as_ref()
            .and_then(|t| t.get("credentialName"))
            .and_then(|c| c.as_str())
            .filter(|c| !c.is_empty() && !c.contains("://"))
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct VirtualService {
    pub hosts: Vec<String>,
    pub gateways: Vec<String>,
    pub http: Vec<HttpRoute>,
    pub tcp: Vec<TcpRoute>,
    pub tls: Vec<TcpRoute>,
    pub export_to: Vec<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HttpRoute {
    pub name: Option<String>,
    #[serde(rename = "match")]
    pub matches: Vec<serde_json::Value>,
    pub route: Vec<RouteDestination>,
    pub mirror: Option<Destination>,
    pub mirrors: Vec<HttpMirrorPolicy>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HttpMirrorPolicy {
    pub destination: Option<Destination>,
}

/// A `tcp` or `tls` route: L4 match attributes and destinations.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TcpRoute {
    #[serde(rename = "match")]
    pub matches: Vec<L4Match>,
    pub route: Vec<RouteDestination>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct L4Match {
    #[serde(deserialize_with = "super::port::proto_port")]
    pub port: Option<i64>,
    pub gateways: Vec<String>,
    pub sni_hosts: Vec<String>,
    pub destination_subnets: Vec<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RouteDestination {
    pub destination: Option<Destination>,
    pub weight: Option<i64>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Destination {
    pub host: String,
    pub subset: Option<String>,
    pub port: Option<PortSelector>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PortSelector {
    #[serde(deserialize_with = "super::port::proto_port")]
    pub number: Option<i64>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DestinationRule {
    pub host: String,
    pub subsets: Vec<Subset>,
    pub export_to: Vec<String>,
    pub workload_selector: Option<WorkloadSelector>,
    pub traffic_policy: Option<TrafficPolicy>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Subset {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub traffic_policy: Option<TrafficPolicy>,
}

/// The parts of a DestinationRule `trafficPolicy` meshlint reads: client TLS, per port too.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TrafficPolicy {
    pub tls: Option<ClientTls>,
    pub port_level_settings: Vec<PortTrafficPolicy>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PortTrafficPolicy {
    pub port: Option<PortSelector>,
    pub tls: Option<ClientTls>,
}

/// `ClientTLSSettings`: what a client sidecar sends to the destination.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ClientTls {
    /// DISABLE (the default), SIMPLE, MUTUAL or ISTIO_MUTUAL.
    pub mode: Option<String>,
    pub client_certificate: Option<String>,
    pub private_key: Option<String>,
    pub ca_certificates: Option<String>,
    pub credential_name: Option<String>,
    pub sni: Option<String>,
    pub insecure_skip_verify: Option<bool>,
}

impl ClientTls {
    /// The mode in upper case; an absent mode is DISABLE, as in the proto.
    pub fn mode(&self) -> String {
        self.mode
            .as_deref()
            .unwrap_or("DISABLE")
            .to_ascii_uppercase()
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Sidecar {
    pub workload_selector: Option<WorkloadSelector>,
    pub egress: Vec<EgressListener>,
    pub outbound_traffic_policy: Option<serde_json::Value>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EgressListener {
    pub port: Option<PortSpec>,
    pub bind: Option<String>,
    pub capture_mode: Option<String>,
    pub hosts: Vec<String>,
}

/// An EnvoyFilter (`networking.istio.io/v1alpha3`): the fields that decide whether and where
/// istiod applies its patches. Patch values stay untyped; istiod checks them against Envoy's
/// protos.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EnvoyFilter {
    pub workload_selector: Option<WorkloadSelector>,
    pub priority: i64,
    pub config_patches: Vec<Option<EnvoyConfigPatch>>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EnvoyConfigPatch {
    pub apply_to: Option<String>,
    #[serde(rename = "match")]
    pub matches: Option<EnvoyPatchMatch>,
    pub patch: Option<EnvoyPatch>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EnvoyPatchMatch {
    pub context: Option<String>,
    pub proxy: Option<EnvoyProxyMatch>,
    pub listener: Option<EnvoyListenerMatch>,
    pub route_configuration: Option<EnvoyRouteConfigurationMatch>,
    pub cluster: Option<serde_json::Value>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EnvoyProxyMatch {
    pub proxy_version: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EnvoyListenerMatch {
    pub filter_chain: Option<EnvoyFilterChainMatch>,
    pub listener_filter: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EnvoyFilterChainMatch {
    pub filter: Option<EnvoyFilterMatch>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EnvoyFilterMatch {
    pub name: Option<String>,
    pub sub_filter: Option<EnvoySubFilterMatch>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EnvoySubFilterMatch {
    pub name: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EnvoyRouteConfigurationMatch {
    pub vhost: Option<EnvoyVirtualHostMatch>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EnvoyVirtualHostMatch {
    pub route: Option<serde_json::Value>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EnvoyPatch {
    pub operation: Option<String>,
    pub value: Option<serde_json::Value>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct WorkloadEntry {
    pub address: Option<String>,
    #[serde(deserialize_with = "super::port::proto_port_map")]
    pub ports: BTreeMap<String, i64>,
    pub labels: BTreeMap<String, String>,
    pub network: Option<String>,
}

/// A Gateway server or Sidecar listener bound to a Unix socket has no port number.
fn unix_bind(bind: &Option<String>) -> bool {
    bind.as_deref().is_some_and(|b| b.starts_with("unix://"))
}

// Where istiod's validation requires a port number that is unset (0 is unset in protobuf), the
// path of the first one: `agent.ValidatePort` on every ServiceEntry port, on Gateway servers and
// Sidecar egress listeners not bound to a Unix socket, and in `validatePortSelector` on every
// destination with a `port`.

impl ServiceEntry {
    pub fn unset_port(&self) -> Option<FieldPath> {
        let i = self.ports.iter().position(|p| p.number.is_none())?;
        Some(FieldPath::parse("spec.ports").index(i).key("number"))
    }
}

impl Gateway {
    /// A server without `port` at all is left out rather than refused: istio's analyzers accept
    /// one (their conflicting-gateway tests feed it), and so does meshlint, reading no port.
    pub fn unset_port(&self, root: &Node) -> Option<FieldPath> {
        self.servers.iter().enumerate().find_map(|(i, s)| {
            let port = FieldPath::parse("spec.servers").index(i).key("port");
            let written = root.lookup(&port).1;
            (written && s.port.number.is_none() && !unix_bind(&s.bind)).then(|| port.key("number"))
        })
    }
}

impl Sidecar {
    pub fn unset_port(&self) -> Option<FieldPath> {
        let i = self.egress.iter().position(|e| {
            e.port.as_ref().is_some_and(|p| p.number.is_none()) && !unix_bind(&e.bind)
        })?;
        Some(
            FieldPath::parse("spec.egress")
                .index(i)
                .key("port")
                .key("number"),
        )
    }
}

impl Destination {
    fn port_unset(&self) -> bool {
        self.port.as_ref().is_some_and(|p| p.number.is_none())
    }
}

/// A route or mirror destination of a VirtualService, with where it is written.
pub struct DestinationAt<'a> {
    /// `http`, `tcp` or `tls`.
    pub section: &'static str,
    pub rule: usize,
    /// Index in `route` or `mirrors`; `None` for `mirror`.
    pub index: Option<usize>,
    pub mirror: bool,
    /// Path of the destination (`…destination` or `…mirror`), or of its entry when it has none.
    pub path: FieldPath,
    pub dest: Option<&'a Destination>,
}

impl<'a> DestinationAt<'a> {
    /// A route or `mirrors` entry: the path is its `destination`'s when it has one.
    fn entry(
        section: &'static str,
        (rule, index): (usize, usize),
        mirror: bool,
        entry: FieldPath,
        dest: Option<&'a Destination>,
    ) -> Self {
        let path = match dest {
            Some(_) => entry.key("destination"),
            None => entry,
        };
        DestinationAt {
            section,
            rule,
            index: Some(index),
            mirror,
            path,
            dest,
        }
    }
}

impl VirtualService {
    /// Every route and mirror destination. Order: tcp, tls, http, as istio's analyzers walk
    /// them, then http mirrors.
    pub fn destinations(&self) -> Vec<DestinationAt<'_>> {
        let mut out = Vec::new();
        let sections: [(&'static str, Vec<&[RouteDestination]>); 3] = [
            ("tcp", self.tcp.iter().map(|r| &r.route[..]).collect()),
            ("tls", self.tls.iter().map(|r| &r.route[..]).collect()),
            ("http", self.http.iter().map(|r| &r.route[..]).collect()),
        ];
        for (section, rules) in sections {
            for (i, route) in rules.into_iter().enumerate() {
                for (j, rd) in route.iter().enumerate() {
                    let entry = FieldPath::parse("spec")
                        .key(section)
                        .index(i)
                        .key("route")
                        .index(j);
                    let dest = rd.destination.as_ref();
                    out.push(DestinationAt::entry(section, (i, j), false, entry, dest));
                }
            }
        }
        for (i, rule) in self.http.iter().enumerate() {
            let base = FieldPath::parse("spec.http").index(i);
            if let Some(m) = &rule.mirror {
                out.push(DestinationAt {
                    section: "http",
                    rule: i,
                    index: None,
                    mirror: true,
                    path: base.clone().key("mirror"),
                    dest: Some(m),
                });
            }
            for (j, m) in rule.mirrors.iter().enumerate() {
                let entry = base.clone().key("mirrors").index(j);
                let dest = m.destination.as_ref();
                out.push(DestinationAt::entry("http", (i, j), true, entry, dest));
            }
        }
        out
    }

    pub fn unset_port(&self) -> Option<FieldPath> {
        let d = self
            .destinations()
            .into_iter()
            .find(|d| d.dest.is_some_and(Destination::port_unset))?;
        Some(d.path.key("port").key("number"))
    }
}

/// The fields of Istio's MeshConfig that change listener generation.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MeshConfig {
    pub default_service_export_to: Vec<String>,
    pub default_virtual_service_export_to: Vec<String>,
    pub default_destination_rule_export_to: Vec<String>,
    pub default_config: ProxyConfig,
    pub outbound_traffic_policy: Option<serde_json::Value>,
    pub ingress_controller_mode: Option<String>,
    pub root_namespace: Option<String>,
    /// `enableAutoMtls`; istio's default is true.
    pub enable_auto_mtls: Option<bool>,
    pub extension_providers: Vec<NamedProvider>,
    pub trust_domain: Option<String>,
    pub trust_domain_aliases: Vec<String>,
    /// `defaultProviders`: the providers Telemetry entries without `providers` use.
    pub default_providers: DefaultProviders,
}

/// MeshConfig `defaultProviders`, by provider name.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DefaultProviders {
    pub access_logging: Vec<String>,
    pub tracing: Vec<String>,
    pub metrics: Vec<String>,
}

/// An `extensionProviders` entry: its name, and whether it is a Lightstep one.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NamedProvider {
    pub name: String,
    /// Set when the provider is the deprecated Lightstep tracer.
    pub lightstep: Option<serde_json::Value>,
}

impl MeshConfig {
    /// The root namespace: `rootNamespace`, else istio-system (the default of istiod's
    /// `--meshConfig` loader, `pkg/config/mesh/mesh.go` `DefaultMeshConfig`).
    pub fn root_namespace(&self) -> &str {
        self.root_namespace.as_deref().unwrap_or("istio-system")
    }

    /// `enableAutoMtls`, true unless turned off.
    pub fn auto_mtls(&self) -> bool {
        self.enable_auto_mtls.unwrap_or(true)
    }

    /// `trustDomain`, else cluster.local.
    pub fn trust_domain(&self) -> &str {
        self.trust_domain.as_deref().unwrap_or("cluster.local")
    }
}

/// The `istio` ConfigMap: the mesh config (`data.mesh`) and the mesh networks
/// (`data.meshNetworks`) istiod reads from it.
#[derive(Clone, Debug, Default)]
pub struct IstioConfigMap {
    pub mesh: Option<MeshConfig>,
    /// The networks, or where and why they do not parse; istiod then keeps its last known
    /// networks (`pkg/config/mesh/meshwatcher/collection.go`).
    pub networks: Option<Result<MeshNetworks, (crate::source::FieldPath, String)>>,
}

/// MeshNetworks: which endpoints belong to which network (`mesh/v1alpha1/network.proto`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MeshNetworks {
    pub networks: BTreeMap<String, Network>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Network {
    pub endpoints: Vec<NetworkEndpoints>,
}

/// A `networks.<name>.endpoints` entry: a registry (cluster ID) or a CIDR.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NetworkEndpoints {
    pub from_registry: Option<String>,
    pub from_cidr: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProxyConfig {
    pub proxy_metadata: BTreeMap<String, String>,
    pub image: Option<ProxyImage>,
}

/// ProxyConfig `image`: which build of the proxy image the injector picks.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProxyImage {
    pub image_type: Option<String>,
}
