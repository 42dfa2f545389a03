//! Kubernetes Gateway API resources (`gateway.networking.k8s.io`, v1, v1beta1 and v1alpha2
//! share these shapes): GatewayClass, Gateway, the route kinds and ReferenceGrant, as far as
//! attachment, references and conflicts need them.

use std::collections::BTreeMap;

use serde::Deserialize;

/// The API group of the Gateway API.
pub const GROUP: &str = "gateway.networking.k8s.io";

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GatewayClass {
    pub controller_name: String,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Gateway {
    pub gateway_class_name: String,
    pub listeners: Vec<Listener>,
    pub addresses: Vec<Address>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Address {
    #[serde(rename = "type")]
    pub type_: Option<String>,
    pub value: String,
}

impl Address {
    /// The address type; `IPAddress` when unset, as the API defaults it.
    pub fn kind(&self) -> &str {
        self.type_.as_deref().unwrap_or("IPAddress")
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Listener {
    pub name: String,
    pub hostname: Option<String>,
    #[serde(deserialize_with = "super::port::optional_port")]
    pub port: Option<i64>,
    pub protocol: String,
    pub tls: Option<ListenerTls>,
    pub allowed_routes: Option<AllowedRoutes>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ListenerTls {
    pub mode: Option<String>,
    pub certificate_refs: Vec<ObjectRef>,
}

/// A reference to an object by group, kind, name and optional namespace (`SecretObjectReference`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ObjectRef {
    pub group: Option<String>,
    pub kind: Option<String>,
    pub name: String,
    pub namespace: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AllowedRoutes {
    pub namespaces: Option<RouteNamespaces>,
    pub kinds: Vec<RouteGroupKind>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RouteNamespaces {
    pub from: Option<String>,
    pub selector: Option<LabelSelector>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RouteGroupKind {
    pub group: Option<String>,
    pub kind: String,
}

/// A Kubernetes `LabelSelector`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LabelSelector {
    pub match_labels: BTreeMap<String, String>,
    pub match_expressions: Vec<LabelRequirement>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LabelRequirement {
    pub key: String,
    pub operator: String,
    pub values: Vec<String>,
}

impl LabelSelector {
    /// Whether `labels` satisfy the selector (`metav1.LabelSelectorAsSelector`); an unknown
    /// operator matches nothing, as the API server would refuse it.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.match_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
            && self.match_expressions.iter().all(|e| {
                let value = labels.get(&e.key);
                match e.operator.as_str() {
                    "In" => value.is_some_and(|v| e.values.contains(v)),
                    "NotIn" => value.is_none_or(|v| !e.values.contains(v)),
                    "Exists" => value.is_some(),
                    "DoesNotExist" => value.is_none(),
                    _ => false,
                }
            })
    }
}

/// The route kinds Istio reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RouteKind {
    Http,
    Grpc,
    Tcp,
    Tls,
    Udp,
}

impl RouteKind {
    pub fn from_kind(kind: &str) -> Option<Self> {
        Some(match kind {
            "HTTPRoute" => RouteKind::Http,
            "GRPCRoute" => RouteKind::Grpc,
            "TCPRoute" => RouteKind::Tcp,
            "TLSRoute" => RouteKind::Tls,
            "UDPRoute" => RouteKind::Udp,
            _ => return None,
        })
    }

    pub fn kind(self) -> &'static str {
        match self {
            RouteKind::Http => "HTTPRoute",
            RouteKind::Grpc => "GRPCRoute",
            RouteKind::Tcp => "TCPRoute",
            RouteKind::Tls => "TLSRoute",
            RouteKind::Udp => "UDPRoute",
        }
    }

    /// TCP and TLS routes: a listener serves one route of the kind, not a merge.
    pub fn is_l4(self) -> bool {
        matches!(self, RouteKind::Tcp | RouteKind::Tls | RouteKind::Udp)
    }
}

/// Any route kind: the fields the kinds share.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Route {
    pub parent_refs: Vec<ParentRef>,
    pub hostnames: Vec<String>,
    pub rules: Vec<RouteRule>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ParentRef {
    pub group: Option<String>,
    pub kind: Option<String>,
    pub namespace: Option<String>,
    pub name: String,
    pub section_name: Option<String>,
    #[serde(deserialize_with = "super::port::optional_port")]
    pub port: Option<i64>,
}

impl ParentRef {
    /// The referenced kind; `Gateway` of the Gateway API group when unset.
    pub fn kind(&self) -> &str {
        self.kind.as_deref().unwrap_or("Gateway")
    }

    pub fn group(&self) -> &str {
        self.group.as_deref().unwrap_or(GROUP)
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RouteRule {
    pub matches: Vec<serde_json::Value>,
    pub backend_refs: Vec<BackendRef>,
    pub filters: Vec<RouteFilter>,
}

/// A rule filter; only `RequestMirror` references an object.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RouteFilter {
    #[serde(rename = "type")]
    pub type_: String,
    pub request_mirror: Option<RequestMirror>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RequestMirror {
    pub backend_ref: BackendRef,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BackendRef {
    pub group: Option<String>,
    pub kind: Option<String>,
    pub name: String,
    pub namespace: Option<String>,
    #[serde(deserialize_with = "super::port::optional_port")]
    pub port: Option<i64>,
    pub weight: Option<i64>,
    /// Filters of this backend only (HTTPRoute, GRPCRoute).
    pub filters: Vec<RouteFilter>,
}

impl BackendRef {
    /// The referenced kind; `Service` of the core group when unset.
    pub fn kind(&self) -> &str {
        self.kind.as_deref().unwrap_or("Service")
    }

    pub fn group(&self) -> &str {
        self.group.as_deref().unwrap_or("")
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ReferenceGrant {
    pub from: Vec<GrantFrom>,
    pub to: Vec<GrantTo>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GrantFrom {
    pub group: String,
    pub kind: String,
    pub namespace: String,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GrantTo {
    pub group: String,
    pub kind: String,
    pub name: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_selectors_match_labels_and_expressions() {
        let labels: BTreeMap<String, String> = [("team".to_string(), "a".to_string())]
            .into_iter()
            .collect();
        let sel = |ml: &[(&str, &str)], ex: &[(&str, &str, &[&str])]| LabelSelector {
            match_labels: ml
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            match_expressions: ex
                .iter()
                .map(|(k, op, vs)| LabelRequirement {
                    key: k.to_string(),
                    operator: op.to_string(),
                    values: vs.iter().map(|s| s.to_string()).collect(),
                })
                .collect(),
        };
        assert!(sel(&[("team", "a")], &[]).matches(&labels));
        assert!(!sel(&[("team", "b")], &[]).matches(&labels));
        assert!(sel(&[], &[("team", "In", &["a", "b"])]).matches(&labels));
        assert!(!sel(&[], &[("team", "NotIn", &["a"])]).matches(&labels));
        assert!(sel(&[], &[("x", "DoesNotExist", &[])]).matches(&labels));
        assert!(!sel(&[], &[("team", "Bogus", &[])]).matches(&labels));
    }
}
