//! MESH704 unreached-outbound-cluster: an outbound service cluster no listener or route of the
//! proxy sends to. When a TCP catch-all on the same port took the traffic instead, MESH401
//! reports it (the shadowed owner), as for manifests.

use crate::diagnostic::Severity;
use crate::rules::{Context, Rule, RuleMeta};

pub struct UnreachedOutboundCluster;

static META: RuleMeta = RuleMeta {
    code: "MESH704",
    name: "unreached-outbound-cluster",
    summary: "an outbound service cluster that no listener or route of the proxy reaches",
    severity: Severity::Warning,
    istio_codes: &[],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH704-unreached-outbound-cluster.md"),
};

/// Help for a cluster that nothing routes to; MESH401 on dumps gives the same advice.
pub const NO_ROUTE_HELP: &str = "give the service a VIP (ServiceEntry `addresses`, a ClusterIP Service) or a port of its own; `meshlint trace` shows where connections to it go";

impl Rule for UnreachedOutboundCluster {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let unreached = cx.dump_unreached();
        let dumps = cx.dumps;
        for (d, found) in unreached.iter().enumerate() {
            let dump = &dumps[d].dump;
            for u in found.iter().filter(|u| u.shadowed_by.is_none()) {
                let c = &dump.clusters[u.cluster];
                let name = c.cluster.name().to_string();
                let Some(k) = u.own_listener else {
                    let message = format!(
                        "no listener or route of this proxy sends to cluster {name}: connections to {}:{} are matched by destination IP and port only, and none leads there",
                        u.host, u.port
                    );
                    cx.report_dump(d, ("Cluster", name), &c.pointer, &["name"], message)
                        .help(NO_ROUTE_HELP);
                    continue;
                };
                let l = &dump.listeners[k];
                let message = format!(
                    "{} (port {}) is unreachable from this proxy: port {} belongs to the proxy's own listener {} ({}), which takes connections to any IP on it, so nothing reaches cluster {name}",
                    u.host,
                    u.port,
                    u.port,
                    l.label(),
                    l.listener.address_text()
                );
                cx.report_dump(d, ("Cluster", name), &c.pointer, &["name"], message)
                    .help(format!(
                        "move the service off port {} (sidecar ports 15000-15090 are reserved), or reach it through a VIP listener",
                        u.port
                    ))
                    .related_dump(
                        &l.pointer,
                        &["name"],
                        format!("{} takes port {}", l.label(), u.port),
                    );
            }
        }
    }
}
