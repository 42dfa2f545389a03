//! The catch-all rules on config dumps: an any-address listener whose chain sends connections
//! to unknown IPs to a service cluster. Which rule reports it depends on the service behind the
//! cluster (MESH301 ExternalName Service, MESH302 ServiceEntry, MESH705 anything else); the
//! message is the same for all three, the help is the rule's own.

use crate::diagnostic::Severity;
use crate::envoy::model::{Dump, parse_cluster_name};
use crate::envoy::table::CatchAll;
use crate::envoy::trace::{self, ChainRef, Connection, chain_label, cluster_service};
use crate::rules::Context;

/// The service behind a catch-all's first cluster, as far as the dump tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behind {
    /// A Kubernetes ExternalName Service (MESH301).
    ExternalName,
    /// A ServiceEntry without addresses (MESH302).
    ServiceEntry,
    /// A headless Service, or a service without a VIP for this proxy (MESH705).
    Other,
}

/// Classifies the service behind `cluster` and says what it is, for the message.
fn behind(dump: &Dump, cluster: &str) -> (Behind, &'static str) {
    let host = parse_cluster_name(cluster)
        .map(|p| p.host.to_string())
        .or_else(|| {
            dump.cluster(cluster).and_then(|c| {
                c.cluster
                    .istio_services()
                    .first()
                    .and_then(|s| s.host.clone())
            })
        })
        .unwrap_or_default();
    let kind = dump.cluster(cluster).map(|c| c.cluster.kind());
    let in_cluster = host.contains(".svc.");
    match kind.as_deref() {
        Some("STRICT_DNS" | "LOGICAL_DNS") if in_cluster => (
            Behind::ExternalName,
            "a Kubernetes ExternalName Service (before Istio 1.21 its TCP ports get a 0.0.0.0 listener)",
        ),
        _ if !host.is_empty() && !in_cluster => (
            Behind::ServiceEntry,
            "a ServiceEntry without addresses (its TCP port gets a 0.0.0.0 listener)",
        ),
        Some("ORIGINAL_DST") if in_cluster => (
            Behind::Other,
            "a headless Service (older Istio gave its TCP ports a 0.0.0.0 listener)",
        ),
        _ => (Behind::Other, "a service without a VIP for this proxy"),
    }
}

/// Reports every dump catch-all whose service is `which`, with the rule's `help`.
pub fn report(cx: &mut Context<'_>, which: Behind, help: &str) {
    let catch_alls = cx.dump_catch_alls();
    let dumps = cx.dumps;
    for (d, found) in catch_alls.iter().enumerate() {
        let dump = &dumps[d].dump;
        for c in found {
            let (kind, what) = behind(dump, &c.clusters[0]);
            if kind == which {
                report_one(cx, d, c, what, help);
            }
        }
    }
}

fn report_one(cx: &mut Context<'_>, d: usize, c: &CatchAll, what: &str, help: &str) {
    let dumps = cx.dumps;
    let dump = &dumps[d].dump;
    let l = &dump.listeners[c.listener];
    let first = &c.clusters[0];
    let (ip, _) = l.listener.ip_port().unwrap_or(("0.0.0.0", c.port));
    let probe: std::net::IpAddr = if ip == "0.0.0.0" {
        "192.0.2.1".parse().expect("valid")
    } else {
        "2001:db8::1".parse().expect("valid")
    };
    let conn = Connection::tcp(probe, c.port);
    let views: Vec<String> = c
        .clusters
        .iter()
        .map(|n| {
            let v = trace::cluster_view(dump, n, &conn, None);
            if v.kind.as_deref() == Some("ORIGINAL_DST") {
                format!("{} (ORIGINAL_DST: still the original destination)", v.name)
            } else {
                v.summary()
            }
        })
        .collect();
    let owners: Vec<String> = c
        .clusters
        .iter()
        .filter_map(|n| cluster_service(dump, n))
        .collect();
    let original_dst = c.clusters.iter().all(|n| {
        dump.cluster(n)
            .is_some_and(|x| x.cluster.kind() == "ORIGINAL_DST")
    });
    // What the hand-off listener alone would do, unless that is where the chain goes anyway.
    let fallback: Vec<&String> = c
        .fallback
        .iter()
        .filter(|f| !c.clusters.contains(f))
        .collect();
    let instead = if fallback.is_empty() {
        String::new()
    } else {
        let names: Vec<&str> = fallback.iter().map(|f| f.as_str()).collect();
        format!(" instead of {}", names.join(", "))
    };
    let chain = chain_label(&l.listener, c.chain);
    let mut message = format!(
        "listener {} is a TCP catch-all: connections from this proxy to any IP on port {} that has no listener of its own (pod IPs, external hosts) match its {chain} and go to {}{instead}; owner: {} — {what}",
        l.label(),
        c.port,
        views.join(", "),
        if owners.is_empty() {
            first.clone()
        } else {
            owners.join(", ")
        },
    );
    if c.has_http {
        message.push_str(
            "; HTTP on this port is still routed by Host, only non-HTTP bytes are captured",
        );
    }
    let severity = if original_dst {
        Severity::Warning
    } else {
        Severity::Error
    };
    let chain_ptr = match c.chain {
        ChainRef::Index(i) => format!("{}/{}/{i}", l.pointer, dump.key("filter_chains")),
        ChainRef::Default => format!("{}/{}", l.pointer, dump.key("default_filter_chain")),
    };
    let r = cx
        .report_dump(d, ("Listener", l.label()), &l.pointer, &["name"], message)
        .severity(severity)
        .help(format!("{help} (the chain: JSON pointer {chain_ptr})"));
    if let Some(k) = dump.cluster(first) {
        r.related_dump(&k.pointer, &["name"], format!("cluster {first}"));
    }
}
