//! Istio `security.istio.io` resources (v1 and v1beta1 share these shapes): PeerAuthentication
//! and AuthorizationPolicy, as far as meshlint reads them.

use std::collections::BTreeMap;

use serde::Deserialize;

/// `security.istio.io` PeerAuthentication: the mTLS mode servers accept.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PeerAuthentication {
    /// `selector.matchLabels`; empty or absent makes the policy namespace-wide (mesh-wide in
    /// the root namespace).
    pub selector: Option<LabelSelector>,
    pub mtls: Option<MutualTls>,
    /// Keyed by the workload's port (the container port, not the Service port), as written.
    pub port_level_mtls: BTreeMap<String, MutualTls>,
}

impl PeerAuthentication {
    /// The selector's labels; empty when the policy has none.
    pub fn match_labels(&self) -> &BTreeMap<String, String> {
        static EMPTY: BTreeMap<String, String> = BTreeMap::new();
        self.selector.as_ref().map_or(&EMPTY, |s| &s.match_labels)
    }

    /// The mode written at the top level (`None` for UNSET or absent).
    pub fn mode(&self) -> Option<&str> {
        self.mtls.as_ref().and_then(MutualTls::set_mode)
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LabelSelector {
    pub match_labels: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MutualTls {
    pub mode: Option<String>,
}

impl MutualTls {
    /// The mode in upper case, `None` when unset (`UNSET` or absent inherits from the parent).
    pub fn set_mode(&self) -> Option<&str> {
        self.mode
            .as_deref()
            .filter(|m| !m.eq_ignore_ascii_case("UNSET"))
    }
}

/// `security.istio.io` AuthorizationPolicy.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AuthorizationPolicy {
    pub selector: Option<LabelSelector>,
    pub target_ref: Option<PolicyTargetRef>,
    pub target_refs: Vec<PolicyTargetRef>,
    /// ALLOW (the default), DENY, AUDIT or CUSTOM.
    pub action: Option<String>,
    pub provider: Option<ExtensionProvider>,
    /// `None` when absent; `Some(empty)` when written as an empty list. Both match nothing.
    pub rules: Option<Vec<AuthzRule>>,
}

impl AuthorizationPolicy {
    pub fn action(&self) -> &str {
        self.action.as_deref().unwrap_or("ALLOW")
    }

    pub fn match_labels(&self) -> &BTreeMap<String, String> {
        static EMPTY: BTreeMap<String, String> = BTreeMap::new();
        self.selector.as_ref().map_or(&EMPTY, |s| &s.match_labels)
    }

    pub fn rules(&self) -> &[AuthzRule] {
        self.rules.as_deref().unwrap_or(&[])
    }

    /// Whether the policy names targets (`targetRef`/`targetRefs`) instead of a selector.
    pub fn has_target_refs(&self) -> bool {
        self.target_ref.is_some() || !self.target_refs.is_empty()
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PolicyTargetRef {
    pub group: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub namespace: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ExtensionProvider {
    pub name: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AuthzRule {
    pub from: Vec<AuthzFrom>,
    pub to: Vec<AuthzTo>,
    pub when: Vec<Condition>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AuthzFrom {
    pub source: Source,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AuthzTo {
    pub operation: Operation,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Source {
    pub principals: Vec<String>,
    pub not_principals: Vec<String>,
    pub request_principals: Vec<String>,
    pub not_request_principals: Vec<String>,
    pub namespaces: Vec<String>,
    pub not_namespaces: Vec<String>,
    pub ip_blocks: Vec<String>,
    pub not_ip_blocks: Vec<String>,
    pub remote_ip_blocks: Vec<String>,
    pub not_remote_ip_blocks: Vec<String>,
    /// `namespace/name` or a name in the policy's namespace (istio 1.25 and later).
    pub service_accounts: Vec<String>,
    pub not_service_accounts: Vec<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Operation {
    pub hosts: Vec<String>,
    pub not_hosts: Vec<String>,
    pub ports: Vec<String>,
    pub not_ports: Vec<String>,
    pub methods: Vec<String>,
    pub not_methods: Vec<String>,
    pub paths: Vec<String>,
    pub not_paths: Vec<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Condition {
    pub key: String,
    pub values: Vec<String>,
    pub not_values: Vec<String>,
}
