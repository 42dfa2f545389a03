//! The proxy a dump came from: the bootstrap's node id and Istio metadata.

use serde::Deserialize;

use super::lenient;

/// The proxy the dump came from, from the bootstrap node.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProxyNode {
    pub id: String,
    /// `sidecar`, `router`, `waypoint`, … (first field of an Istio node id).
    pub kind: String,
    /// The proxy's IPs (node id and `INSTANCE_IPS`).
    pub ips: Vec<String>,
    /// `pod.namespace` from the node id, or the metadata's name.
    pub pod: String,
    pub namespace: String,
    pub istio_version: Option<String>,
}

impl ProxyNode {
    pub(super) fn from_raw(n: &RawNode) -> Option<ProxyNode> {
        let id = n.id.clone().unwrap_or_default();
        let meta = n.metadata.as_ref();
        let parts: Vec<&str> = id.split('~').collect();
        let mut node = ProxyNode {
            id: id.clone(),
            ..ProxyNode::default()
        };
        if parts.len() == 4 {
            node.kind = parts[0].to_string();
            if !parts[1].is_empty() {
                node.ips.push(parts[1].to_string());
            }
            let (pod, ns) = parts[2].split_once('.').unwrap_or((parts[2], ""));
            node.pod = pod.to_string();
            node.namespace = ns.to_string();
        }
        if let Some(m) = meta {
            if node.pod.is_empty() {
                node.pod = m.name.clone().or(m.pod_name.clone()).unwrap_or_default();
            }
            if node.namespace.is_empty() {
                node.namespace = m
                    .namespace
                    .clone()
                    .or(m.config_namespace.clone())
                    .unwrap_or_default();
            }
            node.istio_version = m.istio_version.clone();
            for ip in m.instance_ips.iter().flat_map(|s| s.split(',')) {
                let ip = ip.trim();
                if !ip.is_empty() && !node.ips.iter().any(|i| i == ip) {
                    node.ips.push(ip.to_string());
                }
            }
        }
        (!id.is_empty() || meta.is_some()).then_some(node)
    }

    /// `pod.namespace`, or the node id.
    pub fn label(&self) -> String {
        match (self.pod.is_empty(), self.namespace.is_empty()) {
            (false, false) => format!("{}.{}", self.pod, self.namespace),
            (false, true) => self.pod.clone(),
            _ => self.id.clone(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawBootstrap {
    #[serde(deserialize_with = "lenient::object")]
    pub node: Option<RawNode>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawNode {
    #[serde(deserialize_with = "lenient::string")]
    pub id: Option<String>,
    #[serde(deserialize_with = "lenient::object")]
    pub metadata: Option<RawNodeMeta>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawNodeMeta {
    #[serde(rename = "ISTIO_VERSION", deserialize_with = "lenient::string")]
    pub istio_version: Option<String>,
    #[serde(rename = "NAMESPACE", deserialize_with = "lenient::string")]
    pub namespace: Option<String>,
    #[serde(rename = "CONFIG_NAMESPACE", deserialize_with = "lenient::string")]
    pub config_namespace: Option<String>,
    #[serde(rename = "NAME", deserialize_with = "lenient::string")]
    pub name: Option<String>,
    #[serde(rename = "POD_NAME", deserialize_with = "lenient::string")]
    pub pod_name: Option<String>,
    #[serde(
        rename = "INSTANCE_IPS",
        alias = "ISTIO_META_INSTANCE_IPS",
        deserialize_with = "lenient::string"
    )]
    pub instance_ips: Option<String>,
}
