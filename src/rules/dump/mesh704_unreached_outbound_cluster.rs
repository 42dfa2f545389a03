//! MESH704 unreached-outbound-cluster: an outbound service cluster no listener or route of the
//! proxy sends to. When a TCP catch-all on the same port took the traffic instead, the finding
//! is MESH401 (the shadowed owner), as for manifests.

use crate::diagnostic::Severity;
use crate::envoy::table::unreached_clusters;
use crate::envoy::trace::chain_label;

use super::mesh7_dump::DumpCx;
use crate::rules::{Rule, RuleMeta};

pub struct UnreachedOutboundCluster;

pub(super) static META: RuleMeta = RuleMeta {
    code: "MESH704",
    name: "unreached-outbound-cluster",
    summary: "an outbound service cluster that no listener or route of the proxy reaches",
    severity: Severity::Warning,
    istio_codes: &[],
    doc: include_str!("../../../rules/MESH704-unreached-outbound-cluster.md"),
};

impl Rule for UnreachedOutboundCluster {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
}

pub(super) fn check(cx: &mut DumpCx<'_>) {
    let dump = cx.dump;
    for u in unreached_clusters(dump) {
        let c = &dump.clusters[u.cluster];
        let name = c.cluster.name().to_string();
        let (code, message, related) = if let Some(k) = u.shadowed_by {
            let l = &dump.listeners[k];
            let winner = crate::envoy::table::catch_alls(dump)
                .into_iter()
                .find(|c| c.listener == k)
                .map(|c| (c.clusters.join(", "), c.chain));
            let (winner, chain) = winner.unwrap_or_default_pair();
            (
                "MESH401",
                format!(
                    "{} (port {}) is shadowed: no listener or route of this proxy sends to its cluster {name}; connections to it on port {} land on {} ({}), which sends them to {winner}",
                    u.host,
                    u.port,
                    u.port,
                    l.label(),
                    chain.map_or_else(
                        || "its catch-all chain".to_string(),
                        |c| chain_label(&l.listener, c)
                    )
                ),
                Some((
                    l.pointer.clone(),
                    format!("{} takes port {}", l.label(), u.port),
                )),
            )
        } else if let Some(k) = u.own_listener {
            let l = &dump.listeners[k];
            (
                META.code,
                format!(
                    "{} (port {}) is unreachable from this proxy: port {} belongs to the proxy's own listener {} ({}), which takes connections to any IP on it, so nothing reaches cluster {name}",
                    u.host,
                    u.port,
                    u.port,
                    l.label(),
                    l.listener.address_text()
                ),
                Some((
                    l.pointer.clone(),
                    format!("{} takes port {}", l.label(), u.port),
                )),
            )
        } else {
            (
                META.code,
                format!(
                    "no listener or route of this proxy sends to cluster {name}: connections to {}:{} are matched by destination IP and port only, and none leads there",
                    u.host, u.port
                ),
                None,
            )
        };
        if !cx.enabled(code) {
            continue;
        }
        let loc = cx.locate(&c.pointer, &["name"]);
        let related = related.map(|(p, m)| cx.related(&p, &["name"], m));
        let f = cx.report(code, ("Cluster", &name), loc, message);
        f.severity = if code == "MESH401" {
            Severity::Warning
        } else {
            META.severity
        };
        f.help = Some(if u.own_listener.is_some() {
            format!(
                "move the service off port {} (sidecar ports 15000-15090 are reserved), or reach it through a VIP listener",
                u.port
            )
        } else {
            "give the service a VIP (ServiceEntry `addresses`, a ClusterIP Service) or a port of its own; `meshlint trace` shows where connections to it go".to_string()
        });
        f.related.extend(related);
    }
}

trait PairDefault<A, B> {
    fn unwrap_or_default_pair(self) -> (A, Option<B>);
}

impl<A: Default, B> PairDefault<A, B> for Option<(A, B)> {
    fn unwrap_or_default_pair(self) -> (A, Option<B>) {
        match self {
            Some((a, b)) => (a, Some(b)),
            None => (A::default(), None),
        }
    }
}
