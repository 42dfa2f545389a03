//! Clusters: what the connection reaches, by cluster type, with its endpoints.

use serde::Serialize;

use super::{Connection, Outcome, Walk, outcome};
use crate::envoy::model::{Cluster, ClusterLoadAssignment, Dump, parse_cluster_name};

const SPECIAL_CLUSTERS: &[&str] = &[
    "PassthroughCluster",
    "BlackHoleCluster",
    "InboundPassthroughClusterIpv4",
    "InboundPassthroughClusterIpv6",
    "InboundPassthroughCluster",
];

/// Whether a cluster is one of Istio's pass-through/black-hole clusters (not a service).
pub fn is_special_cluster(name: &str) -> bool {
    SPECIAL_CLUSTERS.contains(&name)
}

/// How many endpoints a cluster's destination text lists before summarising.
const ENDPOINTS_SHOWN: usize = 5;

#[derive(Clone, Debug, Serialize)]
pub struct EndpointView {
    pub address: String,
    pub health: String,
}

/// A cluster the connection may reach.
#[derive(Clone, Debug, Serialize)]
pub struct ClusterView {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<u32>,
    /// The service behind it (`host (Service ns/name)` from Istio metadata or its name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    pub endpoints: Vec<EndpointView>,
    /// Where the bytes go when there is no endpoint list (ORIGINAL_DST, missing data).
    pub destination: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
}

impl ClusterView {
    /// `outbound|…` (STRICT_DNS idle.manager.svc.cluster.local:5701)
    pub fn summary(&self) -> String {
        format!(
            "{} ({}{})",
            self.name,
            self.kind
                .as_deref()
                .map_or(String::new(), |k| format!("{k} ")),
            self.destination
        )
    }
}

/// The service behind a cluster: Istio metadata, else the host of an `outbound|…` name.
pub fn cluster_service(dump: &Dump, name: &str) -> Option<String> {
    if let Some(c) = dump.cluster(name)
        && let Some(s) = c.cluster.istio_services().first()
    {
        let host = s.host.clone().unwrap_or_default();
        return Some(match (&s.namespace, &s.name) {
            (Some(ns), Some(n)) => format!("{host} (Service {ns}/{n})"),
            _ => host,
        });
    }
    parse_cluster_name(name)
        .filter(|p| p.direction == "outbound")
        .map(|p| p.host.to_string())
}

pub fn cluster_view(
    dump: &Dump,
    name: &str,
    conn: &Connection,
    weight: Option<u32>,
) -> ClusterView {
    let Some(c) = dump.cluster(name) else {
        return absent_view(dump, name, conn, weight);
    };
    let kind = c.cluster.kind();
    let (endpoints, destination) = match kind.as_str() {
        "ORIGINAL_DST" => (
            Vec::new(),
            format!("the original destination {}", conn.dest_text()),
        ),
        "EDS" => eds_endpoints(dump, &c.cluster, name),
        _ => listed_endpoints(&c.cluster, name, &kind),
    };
    ClusterView {
        name: name.to_string(),
        kind: Some(kind),
        weight,
        service: cluster_service(dump, name),
        endpoints,
        destination,
        pointer: Some(c.pointer.clone()),
    }
}

/// A cluster the dump does not hold.
fn absent_view(dump: &Dump, name: &str, conn: &Connection, weight: Option<u32>) -> ClusterView {
    let destination = if name == "PassthroughCluster" {
        format!("the original destination {}", conn.dest_text())
    } else if dump.sections.clusters {
        "not in the dump's clusters".into()
    } else {
        "unknown: the dump has no clusters section".into()
    };
    ClusterView {
        name: name.to_string(),
        kind: None,
        weight,
        service: cluster_service(dump, name),
        endpoints: Vec::new(),
        destination,
        pointer: None,
    }
}

fn endpoints_of(cla: &ClusterLoadAssignment) -> Vec<EndpointView> {
    cla.endpoints()
        .into_iter()
        .map(|(address, health)| EndpointView { address, health })
        .collect()
}

/// An EDS cluster's endpoints, from the dump's endpoint section.
fn eds_endpoints(dump: &Dump, cluster: &Cluster, name: &str) -> (Vec<EndpointView>, String) {
    let service = cluster
        .eds_cluster_config
        .as_ref()
        .and_then(|e| e.service_name.clone())
        .unwrap_or_else(|| name.to_string());
    match dump.assignment(&service) {
        Some(a) => {
            let endpoints = endpoints_of(&a.assignment);
            let destination = if endpoints.is_empty() {
                "no endpoints".into()
            } else {
                endpoint_text(&endpoints)
            };
            (endpoints, destination)
        }
        None if dump.sections.endpoints => (Vec::new(), "no endpoints".into()),
        None => (
            Vec::new(),
            "endpoints not in the dump (take it with ?include_eds)".into(),
        ),
    }
}

/// The endpoints a cluster lists itself (`load_assignment`, v2 `hosts`).
fn listed_endpoints(cluster: &Cluster, name: &str, kind: &str) -> (Vec<EndpointView>, String) {
    let mut endpoints = Vec::new();
    if let Some(la) = &cluster.load_assignment {
        endpoints = endpoints_of(la);
    }
    endpoints.extend(cluster.hosts.iter().map(|h| EndpointView {
        address: h.to_string(),
        health: "UNKNOWN".into(),
    }));
    let destination = if !endpoints.is_empty() {
        endpoint_text(&endpoints)
    } else if name == "BlackHoleCluster" || kind == "STATIC" {
        "no endpoints: the connection is dropped".into()
    } else {
        "no endpoints".into()
    };
    (endpoints, destination)
}

/// `10.0.0.1:80 HEALTHY, 10.0.0.2:80 and 3 more`.
fn endpoint_text(eps: &[EndpointView]) -> String {
    let shown: Vec<String> = eps
        .iter()
        .take(ENDPOINTS_SHOWN)
        .map(|e| {
            if e.health == "UNKNOWN" || e.health.is_empty() {
                e.address.clone()
            } else {
                format!("{} {}", e.address, e.health)
            }
        })
        .collect();
    let more = eps.len().saturating_sub(ENDPOINTS_SHOWN);
    if more > 0 {
        format!("{} and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

impl Walk<'_> {
    /// One `cluster` step per cluster, and the outcome that reaches them.
    pub(super) fn clusters_outcome(&mut self, names: &[(String, Option<u32>)]) -> Outcome {
        let views: Vec<ClusterView> = names
            .iter()
            .map(|(n, w)| cluster_view(self.dump, n, self.conn, *w))
            .collect();
        for v in &views {
            let mut notes = Vec::new();
            if let Some(s) = &v.service {
                notes.push(format!("service {s}"));
            }
            if let Some(w) = v.weight {
                notes.push(format!("weight {w}"));
            }
            notes.push(format!(
                "{}: {}",
                v.kind.as_deref().unwrap_or("type unknown"),
                v.destination
            ));
            let s = self.step("cluster", v.name.clone());
            s.pointer = v.pointer.clone();
            s.notes = notes;
        }
        let summary = views
            .iter()
            .map(ClusterView::summary)
            .collect::<Vec<_>>()
            .join(" | ");
        outcome("cluster", views, summary)
    }
}
