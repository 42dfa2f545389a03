//! The protocol istiod gives a port: from `appProtocol`, else the port name's prefix, else a
//! few well-known TCP port numbers (istio's `protocol.Parse` and `ConvertProtocol`).

use crate::model::k8s::ServicePort;

/// Protocol prefixes istio's `protocol.Parse` accepts (lowercased).
pub const PROTOCOLS: &[&str] = &[
    "grpc",
    "grpc-web",
    "http",
    "http_proxy",
    "http2",
    "https",
    "mongo",
    "mysql",
    "redis",
    "tcp",
    "tls",
    "udp",
];

/// Ports istio treats as TCP when the name says nothing.
const WELL_KNOWN_TCP: &[i64] = &[25, 53, 3306, 27017];

/// Whether istio can determine the protocol of `port` (mirrors `ConvertProtocol`).
pub fn protocol_known(port: &ServicePort) -> bool {
    if port.protocol.as_deref() == Some("UDP") {
        return true;
    }
    let name = match &port.app_protocol {
        Some(app) => match app.as_str() {
            "kubernetes.io/h2c" | "kubernetes.io/ws" | "kubernetes.io/wss" => return true,
            other => other,
        },
        None => port.name.as_deref().unwrap_or(""),
    };
    name_protocol(name).is_some() || WELL_KNOWN_TCP.contains(&port.port)
}

/// The protocol a port name (or appProtocol) declares, lowercased.
pub fn name_protocol(name: &str) -> Option<String> {
    if name.len() >= 8 && name.is_char_boundary(8) && name[..8].eq_ignore_ascii_case("grpc-web") {
        return Some("grpc-web".into());
    }
    let prefix = name.split('-').next().unwrap_or("").to_ascii_lowercase();
    PROTOCOLS.contains(&prefix.as_str()).then_some(prefix)
}
