//! ztunnel's L4 authorization, as its dump shows it: the `policies` istiod sends (ztunnel
//! `src/rbac.rs` `Authorization`) and the order ztunnel applies them in (`src/state.rs`
//! `assert_rbac`): a matching DENY policy denies; without ALLOW policies the connection is
//! allowed; otherwise one ALLOW policy must match. Dry-run policies are only logged.

use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// An `Authorization` of the dump.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Policy {
    pub name: String,
    pub namespace: String,
    /// `Global`, `Namespace` or `WorkloadSelector`.
    pub scope: String,
    /// `Allow` or `Deny`.
    pub action: String,
    /// Rules (any matches) of clauses (all match) of matches (any matches).
    pub rules: Vec<Vec<Vec<Match>>>,
    pub dry_run: bool,
}

/// An `RbacMatch`: every set field must match, each by any of its entries; `not*` fields by
/// none of theirs. A field meshlint does not know makes the policy unread, as ignoring it
/// would widen the match.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Match {
    namespaces: Vec<Value>,
    not_namespaces: Vec<Value>,
    service_accounts: Vec<ServiceAccount>,
    not_service_accounts: Vec<ServiceAccount>,
    principals: Vec<Value>,
    not_principals: Vec<Value>,
    source_ips: Vec<String>,
    not_source_ips: Vec<String>,
    destination_ips: Vec<String>,
    not_destination_ips: Vec<String>,
    destination_ports: Vec<u16>,
    not_destination_ports: Vec<u16>,
}

#[derive(Deserialize, Default, PartialEq)]
#[serde(rename_all = "camelCase", default)]
struct ServiceAccount {
    namespace: String,
    service_account: String,
}

/// A peer's SPIFFE identity.
#[derive(Clone, Debug, Serialize)]
pub struct Identity {
    pub trust_domain: String,
    pub namespace: String,
    pub service_account: String,
}

impl std::fmt::Display for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "spiffe://{}/ns/{}/sa/{}",
            self.trust_domain, self.namespace, self.service_account
        )
    }
}

/// One connection as the destination's ztunnel sees it.
pub struct Connection {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub port: u16,
    /// `None` for plaintext from outside the mesh.
    pub identity: Option<Identity>,
}

/// A `StringMatch` as serde writes ztunnel's enum: `{"Exact": "x"}`, `{"Prefix": "x"}`,
/// `{"Suffix": "x"}` or `{"Presence": []}`.
fn string_matches(m: &Value, check: &str) -> bool {
    let Some((kind, v)) = m.as_object().and_then(|o| o.iter().next()) else {
        return false;
    };
    let v = v.as_str().unwrap_or_default();
    match kind.as_str() {
        "Exact" => check == v,
        "Prefix" => check.starts_with(v),
        "Suffix" => check.ends_with(v),
        "Presence" => !check.is_empty(),
        _ => false,
    }
}

fn ip_in(net: &str, ip: IpAddr) -> bool {
    net.parse::<IpNet>()
        .map(|n| n.contains(&ip))
        .or_else(|_| net.parse::<IpAddr>().map(|a| a == ip))
        .unwrap_or(false)
}

/// ztunnel's `matches_internal`: any positive entry (when there are any) and no negative one.
fn field<T>(positive: &[T], negative: &[T], mut hit: impl FnMut(&T) -> bool) -> bool {
    (positive.is_empty() || positive.iter().any(&mut hit)) && !negative.iter().any(hit)
}

impl Match {
    fn is_empty(&self) -> bool {
        self.namespaces.is_empty()
            && self.not_namespaces.is_empty()
            && self.service_accounts.is_empty()
            && self.not_service_accounts.is_empty()
            && self.principals.is_empty()
            && self.not_principals.is_empty()
            && self.source_ips.is_empty()
            && self.not_source_ips.is_empty()
            && self.destination_ips.is_empty()
            && self.not_destination_ips.is_empty()
            && self.destination_ports.is_empty()
            && self.not_destination_ports.is_empty()
    }

    fn matches(&self, c: &Connection) -> bool {
        // Principals are matched without the `spiffe://` prefix; no identity matches none.
        let principal = c
            .identity
            .as_ref()
            .map(|i| i.to_string()["spiffe://".len()..].to_string());
        let namespace = c.identity.as_ref().map_or("", |i| i.namespace.as_str());
        field(&self.destination_ips, &self.not_destination_ips, |n| {
            ip_in(n, c.dst)
        }) && field(&self.source_ips, &self.not_source_ips, |n| ip_in(n, c.src))
            && field(&self.destination_ports, &self.not_destination_ports, |p| {
                *p == c.port
            })
            && field(&self.service_accounts, &self.not_service_accounts, |sa| {
                c.identity.as_ref().is_some_and(|i| {
                    i.namespace == sa.namespace && i.service_account == sa.service_account
                })
            })
            && field(&self.principals, &self.not_principals, |m| {
                principal.as_deref().is_some_and(|p| string_matches(m, p))
            })
            && field(&self.namespaces, &self.not_namespaces, |m| {
                string_matches(m, namespace)
            })
    }
}

impl Policy {
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    pub fn is_allow(&self) -> bool {
        self.action.eq_ignore_ascii_case("allow")
    }

    /// ztunnel's `Authorization::matches`: no rules match nothing; a rule matches when each
    /// clause has a matching, non-empty match (an empty clause matches).
    pub fn matches(&self, c: &Connection) -> bool {
        self.rules.iter().any(|rule| {
            rule.iter().all(|clause| {
                clause.is_empty() || clause.iter().any(|m| !m.is_empty() && m.matches(c))
            })
        })
    }
}

/// What ztunnel decides for a connection, and why.
#[derive(Debug, Serialize)]
pub struct Verdict {
    pub allowed: bool,
    pub reason: String,
}

/// The policies ztunnel applies to a workload in `namespace` whose own policies are `own`:
/// global ones, its namespace's, and those selecting it.
pub fn applied<'a>(policies: &'a [Policy], namespace: &str, own: &[String]) -> Vec<&'a Policy> {
    policies
        .iter()
        .filter(|p| {
            p.scope == "Global"
                || (p.scope == "Namespace" && p.namespace == namespace)
                || own.contains(&p.key())
        })
        .collect()
}

/// `assert_rbac` for `conn` under the `applied` policies.
pub fn decide(applied: &[&Policy], conn: &Connection) -> Verdict {
    let enforced = || applied.iter().filter(|p| !p.dry_run);
    if let Some(p) = enforced().find(|p| !p.is_allow() && p.matches(conn)) {
        return Verdict {
            allowed: false,
            reason: format!("DENY policy {} matches", p.key()),
        };
    }
    let allow: Vec<_> = enforced().filter(|p| p.is_allow()).collect();
    if allow.is_empty() {
        return Verdict {
            allowed: true,
            reason: "no ALLOW policy applies, and no DENY policy matches".into(),
        };
    }
    match allow.iter().find(|p| p.matches(conn)) {
        Some(p) => Verdict {
            allowed: true,
            reason: format!("ALLOW policy {} matches", p.key()),
        },
        None => Verdict {
            allowed: false,
            reason: format!(
                "ALLOW policies apply ({}) and none matches",
                allow.iter().map(|p| p.key()).collect::<Vec<_>>().join(", ")
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policies(json: &str) -> Vec<Policy> {
        serde_json::from_str(json).expect("policies")
    }

    fn conn(identity: Option<(&str, &str)>, port: u16) -> Connection {
        Connection {
            src: "10.0.0.9".parse().expect("ip"),
            dst: "10.0.0.5".parse().expect("ip"),
            port,
            identity: identity.map(|(ns, sa)| Identity {
                trust_domain: "cluster.local".into(),
                namespace: ns.into(),
                service_account: sa.into(),
            }),
        }
    }

    const POLICIES: &str = r#"[
      {"action": "Allow", "name": "allow-nothing", "namespace": "default", "rules": [], "scope": "Namespace"},
      {"action": "Allow", "name": "allow-waypoint", "namespace": "default", "scope": "WorkloadSelector",
       "rules": [[[{"serviceAccounts": [{"namespace": "default", "serviceAccount": "waypoint"}]}]]]},
      {"action": "Deny", "name": "no-admin-port", "namespace": "default", "scope": "WorkloadSelector",
       "rules": [[[{"destinationPorts": [9090]}], [{"notPrincipals": [{"Prefix": "cluster.local/ns/ops/"}]}]]]},
      {"action": "Allow", "name": "other-ns", "namespace": "shop", "rules": [[[{}]]], "scope": "Namespace"},
      {"action": "Allow", "name": "any", "namespace": "cart", "rules": [[[]]], "scope": "Namespace"}
    ]"#;

    #[test]
    fn deny_first_then_one_allow_must_match() {
        let p = policies(POLICIES);
        let own = vec![
            "default/allow-waypoint".into(),
            "default/no-admin-port".into(),
        ];
        let at = applied(&p, "default", &own);
        assert_eq!(at.len(), 3);
        let v = decide(&at, &conn(Some(("default", "waypoint")), 8080));
        assert!(v.allowed, "{v:?}");
        assert_eq!(v.reason, "ALLOW policy default/allow-waypoint matches");
        let v = decide(&at, &conn(Some(("default", "waypoint")), 9090));
        assert!(!v.allowed);
        assert_eq!(v.reason, "DENY policy default/no-admin-port matches");
        let v = decide(&at, &conn(Some(("ops", "admin")), 9090));
        assert!(!v.allowed);
        assert!(v.reason.contains("none matches"), "{v:?}");
        let v = decide(&applied(&p, "default", &[]), &conn(None, 8080));
        assert!(!v.allowed, "allow-nothing applies namespace-wide: {v:?}");
    }

    #[test]
    fn without_allow_policies_anything_not_denied_passes() {
        let p = policies(POLICIES);
        assert!(applied(&p, "web", &[]).is_empty());
        let v = decide(&applied(&p, "web", &[]), &conn(None, 80));
        assert!(v.allowed);
        let v = decide(&applied(&p, "shop", &[]), &conn(None, 80));
        assert!(!v.allowed, "an empty match never matches: {v:?}");
        let v = decide(&applied(&p, "cart", &[]), &conn(None, 80));
        assert!(v.allowed, "an empty clause always matches: {v:?}");
    }
}
