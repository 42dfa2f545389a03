//! Listener owners: every (host, port) that istiod turns into an outbound listener.

use std::cmp::Ordering;

use crate::mesh::protocol::name_protocol;
use crate::mesh::settings::MeshSettings;
use crate::model::{ResId, Resource, Spec, Store};
use crate::source::FieldPath;

/// The protocol family that decides a listener's shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Proto {
    /// http, http2, grpc, grpc-web: routed by Host on a shared `0.0.0.0:PORT` listener.
    Http,
    /// tls, https: routed by SNI.
    Tls,
    /// tcp, mongo, mysql, redis: forwarded by destination address only.
    Tcp,
    /// Unknown or unset: sniffed; its TCP part behaves like Tcp.
    Auto,
    /// UDP gets no listener.
    Udp,
}

impl Proto {
    pub fn from_name(p: &str) -> Proto {
        match p.to_ascii_lowercase().as_str() {
            "http" | "http2" | "grpc" | "grpc-web" | "http_proxy" => Proto::Http,
            "tls" | "https" => Proto::Tls,
            "tcp" | "mongo" | "mysql" | "redis" => Proto::Tcp,
            "udp" => Proto::Udp,
            _ => Proto::Auto,
        }
    }

    /// Whether non-HTTP bytes on this port are forwarded by address alone.
    pub fn is_tcp_like(self) -> bool {
        matches!(self, Proto::Tcp | Proto::Auto)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Http => "HTTP",
            Proto::Tls => "TLS",
            Proto::Tcp => "TCP",
            Proto::Auto => "unknown (sniffed)",
            Proto::Udp => "UDP",
        }
    }
}

/// The address part of a listener key.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Addr {
    /// `0.0.0.0`: catches every destination IP without a more exact listener.
    Wildcard,
    /// A known service VIP.
    Vip(String),
    /// A ClusterIP Service whose manifest does not say its VIP: a distinct, unknown address.
    UnknownVip(ResId),
    /// Headless: one listener per endpoint IP, none shared.
    PerEndpoint,
}

impl std::fmt::Display for Addr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Addr::Wildcard => f.write_str("0.0.0.0"),
            Addr::Vip(v) => f.write_str(v),
            Addr::UnknownVip(_) => f.write_str("<cluster IP>"),
            Addr::PerEndpoint => f.write_str("<pod IP>"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OwnerKind {
    ClusterIp,
    Headless,
    ExternalName,
    ServiceEntry,
}

/// One service port as istiod sees it.
#[derive(Clone, Debug)]
pub struct Owner {
    pub resource: ResId,
    pub kind: OwnerKind,
    /// The service hostname (FQDN for Kubernetes Services).
    pub host: String,
    pub port: i64,
    /// The `spec.ports[i]` entry, for findings.
    pub port_path: FieldPath,
    pub proto: Proto,
    pub addr: Addr,
    pub namespace: String,
    /// `exportTo` as written, or the mesh default.
    pub export_to: Vec<String>,
    pub created: Option<jiff::Timestamp>,
    /// Name istiod sorts by after the creation time (Service name, or ServiceEntry host).
    pub sort_name: String,
    /// The ExternalName target or ServiceEntry endpoints' meaning, for messages.
    pub target: Option<String>,
}

impl Owner {
    /// The Envoy cluster istiod builds for this port.
    pub fn cluster(&self) -> String {
        format!("outbound|{}||{}", self.port, self.host)
    }

    /// istiod's service order: oldest first, then name, then namespace. Owners without a
    /// creation time sort after those with one.
    pub fn istiod_order(&self, other: &Owner) -> Ordering {
        let t = |o: &Owner| (o.created.is_none(), o.created);
        t(self)
            .cmp(&t(other))
            .then_with(|| self.sort_name.cmp(&other.sort_name))
            .then_with(|| self.namespace.cmp(&other.namespace))
    }
}

/// `exportTo` of a resource: the field or annotation, else the mesh default, else everywhere.
fn export_to(res: &Resource, written: &[String], settings: &MeshSettings) -> Vec<String> {
    if !written.is_empty() {
        return written.to_vec();
    }
    if let Some(a) = res.annotations.get("networking.istio.io/exportTo") {
        return a.split(',').map(|s| s.trim().to_string()).collect();
    }
    if !settings.mesh.default_service_export_to.is_empty() {
        return settings.mesh.default_service_export_to.clone();
    }
    vec!["*".into()]
}

/// Whether ServiceEntries without addresses get auto-allocated VIPs mesh-wide.
pub fn auto_allocation(settings: &MeshSettings) -> bool {
    let md = &settings.mesh.default_config.proxy_metadata;
    let on = |k: &str| md.get(k).is_some_and(|v| v == "true");
    on("ISTIO_META_DNS_CAPTURE")
        && (on("ISTIO_META_DNS_AUTO_ALLOCATE") || on("PILOT_ENABLE_IP_AUTOALLOCATE"))
}

/// Whether a ServiceEntry already carries allocated addresses in its status.
fn status_allocated(res: &Resource) -> bool {
    let (node, found) = res.node.lookup(&FieldPath::parse("status.addresses"));
    found && matches!(&node.value, crate::source::Value::Seq(items) if !items.is_empty())
}

/// Every owner in the input, in input order.
pub fn collect(store: &Store, settings: &MeshSettings) -> Vec<Owner> {
    let mut out = Vec::new();
    for (id, res) in store.iter() {
        match &res.spec {
            Spec::Service(svc) => {
                let spec = &svc.spec;
                let host = format!("{}.{}.svc.cluster.local", res.name, res.namespace);
                let (kind, addr) = if spec.is_external_name() {
                    (OwnerKind::ExternalName, Addr::Wildcard)
                } else if spec.is_headless() {
                    (OwnerKind::Headless, Addr::PerEndpoint)
                } else {
                    let addr = spec
                        .cluster_ip
                        .clone()
                        .filter(|ip| !ip.is_empty())
                        .map_or(Addr::UnknownVip(id), Addr::Vip);
                    (OwnerKind::ClusterIp, addr)
                };
                let export = export_to(res, &[], settings);
                for (i, p) in spec.ports.iter().enumerate() {
                    let proto = if p.protocol.as_deref() == Some("UDP") {
                        Proto::Udp
                    } else {
                        let name = p
                            .app_protocol
                            .as_deref()
                            .or(p.name.as_deref())
                            .unwrap_or("");
                        match name_protocol(name) {
                            Some(n) => Proto::from_name(&n),
                            None if [25, 53, 3306, 27017].contains(&p.port) => Proto::Tcp,
                            None => Proto::Auto,
                        }
                    };
                    out.push(Owner {
                        resource: id,
                        kind: kind.clone(),
                        host: host.clone(),
                        port: p.port,
                        port_path: FieldPath::parse("spec.ports").index(i),
                        proto,
                        addr: addr.clone(),
                        namespace: res.namespace.clone(),
                        export_to: export.clone(),
                        created: res.created,
                        sort_name: res.name.clone(),
                        target: spec.external_name.clone(),
                    });
                }
            }
            Spec::ServiceEntry(se) => {
                let allocated =
                    !se.addresses.is_empty() || status_allocated(res) || auto_allocation(settings);
                let export = export_to(res, &se.export_to, settings);
                for host in &se.hosts {
                    let addr = match se.addresses.first() {
                        // A CIDR still uses the wildcard listener, but with prefix-matched chains.
                        Some(a) if a.contains('/') && !a.ends_with("/32") => Addr::Vip(a.clone()),
                        Some(a) => Addr::Vip(a.trim_end_matches("/32").to_string()),
                        None if allocated => Addr::Vip("<auto-allocated>".into()),
                        None => Addr::Wildcard,
                    };
                    for (i, p) in se.ports.iter().enumerate() {
                        let Some(number) = p.number else { continue };
                        out.push(Owner {
                            resource: id,
                            kind: OwnerKind::ServiceEntry,
                            host: host.clone(),
                            port: number,
                            port_path: FieldPath::parse("spec.ports").index(i),
                            proto: Proto::from_name(p.protocol.as_deref().unwrap_or("")),
                            addr: addr.clone(),
                            namespace: res.namespace.clone(),
                            export_to: export.clone(),
                            created: res.created,
                            sort_name: host.clone(),
                            target: None,
                        });
                    }
                }
            }
            _ => {}
        }
    }
    out
}
