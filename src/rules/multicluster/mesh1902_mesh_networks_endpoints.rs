//! MESH1902 mesh-networks-endpoints: `meshNetworks` endpoints istiod cannot use: a
//! `fromRegistry` that names no known cluster or a cluster another network names too, and
//! entries that make istiod reject the whole networks.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::IpNet;

use crate::diagnostic::Severity;
use crate::mesh::clusters::ClusterIds;
use crate::mesh::injection::is_cluster_snapshot;
use crate::model::istio::MeshNetworks;
use crate::model::{ResId, Spec};
use crate::rules::{Context, Rule, RuleMeta};
use crate::source::FieldPath;

pub struct MeshNetworksEndpoints;

static META: RuleMeta = RuleMeta {
    code: "MESH1902",
    name: "mesh-networks-endpoints",
    summary: "meshNetworks endpoint naming no known cluster, a cluster of two networks, or invalid",
    severity: Severity::Error,
    istio_codes: &["IST0126"],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH1902-mesh-networks-endpoints.md"),
};

const REJECTED: &str = "istiod rejects the whole meshNetworks and keeps its last known networks, so none of this configuration applies";

/// A DNS-1123 label as istio checks registry names (`pkg/config/labels/instance.go`
/// `IsDNS1123Label`, which also allows upper case).
fn is_dns_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

/// `fromCidr` as istio accepts it: a CIDR or a single address (`ValidateIPSubnet`).
fn is_subnet(s: &str) -> bool {
    if s.contains('/') {
        s.parse::<IpNet>().is_ok()
    } else {
        s.parse::<IpAddr>().is_ok()
    }
}

fn endpoint_path(network: &str, i: usize, field: &str) -> FieldPath {
    FieldPath::parse("data.meshNetworks")
        .key("networks")
        .key(network)
        .key("endpoints")
        .index(i)
        .key(field)
}

impl Rule for MeshNetworksEndpoints {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let store = cx.store;
        let maps: Vec<(ResId, &_)> = store
            .iter()
            .filter_map(|(id, r)| match &r.spec {
                Spec::IstioConfigMap(m) => Some((id, m.networks.as_ref()?)),
                _ => None,
            })
            .collect();
        if maps.is_empty() {
            return;
        }
        let ids = ClusterIds::build(store);
        for (id, networks) in maps {
            match networks {
                Ok(n) => check_networks(cx, id, n, &ids),
                Err((path, why)) => {
                    cx.report(id, path.clone(), format!("meshNetworks {why}; {REJECTED}"))
                        .subkind("invalid")
                        .help("fix the meshNetworks text so that it parses as MeshNetworks (`networks: {NAME: {endpoints: [...], gateways: [...]}}`)");
                }
            }
        }
    }
}

fn check_networks(cx: &mut Context<'_>, id: ResId, mn: &MeshNetworks, ids: &ClusterIds<'_>) {
    let snapshot = is_cluster_snapshot(cx.store);
    let known = ids
        .all()
        .map(|c| format!("`{c}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let local = match ids.local_from {
        Some(_) => format!("`{}` (istiod's CLUSTER_ID)", ids.local),
        None => format!("`{}` (istiod's default CLUSTER_ID)", ids.local),
    };
    let mut first_network: BTreeMap<&str, (&str, usize)> = BTreeMap::new();
    for (name, network) in &mn.networks {
        for (i, e) in network.endpoints.iter().enumerate() {
            if let Some(cidr) = e.from_cidr.as_deref().filter(|c| !is_subnet(c)) {
                cx.report(
                    id,
                    endpoint_path(name, i, "fromCidr"),
                    format!("`fromCidr: {cidr}` of network `{name}` is neither a CIDR nor an IP address; {REJECTED}"),
                )
                .subkind("invalid")
                .help("write a CIDR such as `10.20.0.0/16`");
            }
            let Some(registry) = e.from_registry.as_deref() else {
                continue;
            };
            let path = endpoint_path(name, i, "fromRegistry");
            if !is_dns_label(registry) {
                cx.report(
                    id,
                    path,
                    format!("`fromRegistry: {registry}` of network `{name}` is not a valid registry name (a DNS label); {REJECTED}"),
                )
                .subkind("invalid")
                .help("use the cluster ID, a DNS label such as `cluster-east`");
                continue;
            }
            // A cluster named twice in one network only sets that network's flag again.
            if let Some(&(other, j)) = first_network
                .get(registry)
                .filter(|(o, _)| *o != name.as_str())
            {
                cx.report(
                    id,
                    path,
                    format!("cluster `{registry}` is also placed in network `{other}`; istiod keeps whichever network it iterates first (the order of a Go map, which can change when istiod restarts) and logs a warning, so the cluster's endpoints and gateways may move between networks"),
                )
                .subkind("duplicate-registry")
                .related(id, endpoint_path(other, j, "fromRegistry"), format!("network `{other}` names cluster `{registry}` first"))
                .help("name each cluster in one network's endpoints only");
                continue;
            }
            first_network.entry(registry).or_insert((name, i));
            if ids.contains(registry) {
                continue;
            }
            let near = ids.all().find(|k| k.eq_ignore_ascii_case(registry));
            // Remote secrets carry credentials and are mostly created outside manifest trees:
            // only a cluster snapshot lists them all.
            let severity = if near.is_some() || snapshot {
                Severity::Error
            } else {
                Severity::Warning
            };
            let mut message = format!(
                "`fromRegistry: {registry}` of network `{name}` names no cluster istiod knows (this cluster is {local}; known: {known}); istiod matches it against cluster IDs only, so it places no endpoints in network `{name}` and registers none of its gateways"
            );
            match near {
                Some(k) => message.push_str(&format!("; cluster IDs are case-sensitive: did you mean `{k}`?")),
                None if snapshot => {}
                None => message.push_str("; if it is a remote cluster whose secret (`istio/multiCluster: \"true\"`) is not in the input, this is fine"),
            }
            let reported = cx
                .report(id, path, message)
                .severity(severity)
                .subkind("unknown-registry")
                .help("write the cluster ID exactly as istiod's CLUSTER_ID (Helm `global.multiCluster.clusterName`) or a remote secret's key");
            if let Some((src, at)) = &ids.local_from {
                reported.related(
                    *src,
                    at.clone(),
                    format!("istiod sets CLUSTER_ID `{}`", ids.local),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_names_and_subnets_follow_istio_validation() {
        assert!(is_dns_label("Kubernetes"));
        assert!(is_dns_label("cluster-1"));
        assert!(!is_dns_label("-cluster"));
        assert!(!is_dns_label("a.b"));
        assert!(!is_dns_label(""));
        assert!(is_subnet("10.0.0.0/8"));
        assert!(is_subnet("10.0.0.1"));
        assert!(is_subnet("2001:db8::/32"));
        assert!(!is_subnet("10.0.0.0/33"));
        assert!(!is_subnet("network1"));
    }
}
