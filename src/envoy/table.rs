//! The listener table read from a config dump, and the facts the dump rules share: which
//! any-address listeners capture unknown destinations (TCP catch-alls), duplicate binds, and
//! outbound clusters no listener or route reaches.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::IpAddr;

use crate::envoy::model::{
    Dump, DumpEndpoints, DumpListener, ListenerState, Terminal, parse_cluster_name,
};

use crate::model::listener::Row;

use super::trace::{self, ChainRef, Connection, cluster_service, is_special_cluster};

/// An address in TEST-NET-1 / the documentation prefix: a destination no listener names.
const PROBE_V4: &str = "192.0.2.1";
const PROBE_V6: &str = "2001:db8::1";

fn is_any_address(ip: &str) -> bool {
    matches!(ip, "0.0.0.0" | "::" | "[::]")
}

fn probe_for(ip: &str) -> IpAddr {
    if ip == "0.0.0.0" {
        PROBE_V4.parse().expect("valid")
    } else {
        PROBE_V6.parse().expect("valid")
    }
}

/// Whether a listener is Istio's inbound side (or the hand-off listener): never a catch-all.
fn is_inbound(l: &DumpListener) -> bool {
    l.listener.traffic_direction.as_deref() == Some("INBOUND")
        || matches!(
            l.listener.name(),
            "virtualInbound" | "virtualOutbound" | "virtual"
        )
}

/// An any-address listener whose chains send connections to unknown IPs to a service cluster.
#[derive(Clone, Debug)]
pub struct CatchAll {
    /// Index into `dump.listeners`.
    pub listener: usize,
    pub port: u32,
    pub chain: ChainRef,
    /// The chain's clusters (service clusters, not pass-through).
    pub clusters: Vec<String>,
    /// What the hand-off listener alone would do with such a connection (`PassthroughCluster`).
    pub fallback: Vec<String>,
    /// The listener also has an HTTP chain: HTTP traffic is still routed by Host.
    pub has_http: bool,
}

/// The hand-off listener's own verdict for an unknown destination on `port`.
pub fn fallback(dump: &Dump, port: u32, v6: bool) -> Vec<String> {
    let Some((h, _)) = dump.hand_off_listener() else {
        return Vec::new();
    };
    let ip = probe_for(if v6 { "::" } else { "0.0.0.0" });
    let (_, res) = trace::through_listener(dump, h, &Connection::tcp(ip, port));
    res.outcome.clusters.into_iter().map(|c| c.name).collect()
}

/// Every TCP catch-all of a sidecar dump (a dump without a hand-off listener has none: a
/// bound any-address listener there is simply where the proxy accepts traffic).
pub fn catch_alls(dump: &Dump) -> Vec<CatchAll> {
    let hand_off = dump.hand_off_listener();
    // A sidecar: it has the hand-off listener, or (a filtered `istioctl proxy-config listener`
    // array) listeners that do not bind and so are only reached through the hand-off.
    let sidecar = hand_off.is_some()
        || dump
            .serving()
            .any(|(_, l)| !l.listener.binds() && l.listener.ip_port().is_some());
    if !sidecar {
        return Vec::new();
    }
    let h = hand_off.map(|(h, _)| h);
    let hand_off_port = hand_off.and_then(|(_, hl)| hl.listener.ip_port().map(|(_, p)| p));
    let mut out = Vec::new();
    for (i, l) in dump.serving() {
        if Some(i) == h || l.state != ListenerState::Active || is_inbound(l) {
            continue;
        }
        let Some((ip, port)) = l.listener.ip_port() else {
            continue;
        };
        if !is_any_address(ip) || Some(port) == hand_off_port || port == 0 {
            continue;
        }
        let conn = Connection::tcp(probe_for(ip), port);
        let (chain, _) = trace::through_listener(dump, i, &conn);
        let Some(chain) = chain else { continue };
        let Some(c) = trace::chain_of(&l.listener, chain) else {
            continue;
        };
        let clusters = match c.terminal() {
            Terminal::Tcp { clusters, .. } => clusters,
            _ => continue,
        };
        let services: Vec<String> = clusters
            .into_iter()
            .filter(|c| !is_special_cluster(c))
            .collect();
        if services.is_empty() {
            continue;
        }
        let has_http = l
            .listener
            .filter_chains
            .iter()
            .chain(l.listener.default_chain())
            .any(|c| matches!(c.terminal(), Terminal::Http { .. }));
        out.push(CatchAll {
            listener: i,
            port,
            chain,
            clusters: services,
            fallback: fallback(dump, port, ip != "0.0.0.0"),
            has_http,
        });
    }
    out
}

/// Two serving listeners on one address (including `additional_addresses`).
#[derive(Clone, Debug)]
pub struct DuplicateBind {
    pub address: String,
    /// Listener indexes, in dump order; the first keeps the address.
    pub listeners: Vec<usize>,
}

pub fn duplicate_binds(dump: &Dump) -> Vec<DuplicateBind> {
    let mut by_addr: BTreeMap<(String, u32), Vec<usize>> = BTreeMap::new();
    for (i, l) in dump.serving() {
        let mut seen = HashSet::new();
        for (ip, port) in l.listener.socket_addresses() {
            if port == 0 {
                continue;
            }
            let ip = ip
                .parse::<IpAddr>()
                .map_or_else(|_| ip.to_string(), |a| a.to_string());
            if seen.insert((ip.clone(), port)) {
                by_addr.entry((ip, port)).or_default().push(i);
            }
        }
    }
    by_addr
        .into_iter()
        .filter(|(_, v)| v.len() > 1)
        .map(|((ip, port), listeners)| DuplicateBind {
            address: if ip.contains(':') {
                format!("[{ip}]:{port}")
            } else {
                format!("{ip}:{port}")
            },
            listeners,
        })
        .collect()
}

/// Every cluster name a serving listener's chains or a route configuration may send to.
pub fn referenced_clusters(dump: &Dump) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (_, l) in dump.serving() {
        for c in l
            .listener
            .filter_chains
            .iter()
            .chain(l.listener.default_chain())
        {
            for f in &c.filters {
                out.extend(f.tcp_clusters());
            }
            if let Some(rc) = c.inline_routes() {
                out.extend(rc.clusters().map(str::to_string));
            }
        }
    }
    for r in &dump.routes {
        out.extend(r.route.clusters().map(str::to_string));
    }
    out
}

/// An `outbound|PORT||HOST` cluster no listener chain or route reaches.
#[derive(Clone, Debug)]
pub struct Unreached {
    /// Index into `dump.clusters`.
    pub cluster: usize,
    pub port: u32,
    pub host: String,
    /// The catch-all that takes its port, when one does.
    pub shadowed_by: Option<usize>,
    /// The proxy's own any-address listener on that port (15021, 15090, …), when one exists.
    pub own_listener: Option<usize>,
}

/// Outbound clusters that nothing reaches. Only judged on sidecar dumps that carry listeners,
/// clusters and routes (without routes, HTTP services cannot be told from unreachable ones).
/// `catch` is the dump's [`catch_alls`], which callers have already found.
pub fn unreached_clusters(dump: &Dump, catch: &[CatchAll]) -> Vec<Unreached> {
    if dump.hand_off_listener().is_none()
        || !dump.sections.listeners
        || !dump.sections.clusters
        || !dump.sections.routes
    {
        return Vec::new();
    }
    let referenced = referenced_clusters(dump);
    // Looked up once per cluster: indexed here, not searched per cluster, as a dump can hold
    // tens of thousands of each. The first entry wins, as a search would find it.
    let mut assignments: HashMap<&str, &DumpEndpoints> = HashMap::new();
    for e in &dump.endpoints {
        if let Some(name) = e.assignment.cluster_name.as_deref() {
            assignments.entry(name).or_insert(e);
        }
    }
    let mut own_listeners: HashMap<u32, usize> = HashMap::new();
    for (i, l) in dump.serving() {
        if let Some((ip, port)) = l.listener.ip_port()
            && is_any_address(ip)
            && (l.state == ListenerState::Static || l.listener.hands_off() || is_inbound(l))
        {
            own_listeners.entry(port).or_insert(i);
        }
    }
    let mut out = Vec::new();
    for (ci, c) in dump.clusters.iter().enumerate() {
        let name = c.cluster.name();
        let Some(parts) = parse_cluster_name(name) else {
            continue;
        };
        if parts.direction != "outbound" || !parts.subset.is_empty() || referenced.contains(name) {
            continue;
        }
        // Nothing to reach: headless clusters forward to the original destination, and an EDS
        // cluster without endpoints has none to send to.
        let kind = c.cluster.kind();
        if kind == "ORIGINAL_DST" {
            continue;
        }
        if kind == "EDS"
            && dump.sections.endpoints
            && assignments
                .get(
                    c.cluster
                        .eds_cluster_config
                        .as_ref()
                        .and_then(|e| e.service_name.as_deref())
                        .unwrap_or(name),
                )
                .is_none_or(|a| a.assignment.endpoints().is_empty())
        {
            continue;
        }
        let shadowed_by = catch
            .iter()
            .find(|k| k.port == parts.port)
            .map(|k| k.listener);
        let own_listener = own_listeners.get(&parts.port).copied();
        out.push(Unreached {
            cluster: ci,
            port: parts.port,
            host: parts.host.to_string(),
            shadowed_by,
            own_listener,
        });
    }
    out
}

fn owner_list(dump: &Dump, clusters: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for c in clusters {
        if is_special_cluster(&c) {
            continue;
        }
        let label = cluster_service(dump, &c).unwrap_or(c);
        if seen.insert(label.clone()) {
            out.push(label);
        }
    }
    out
}

/// The rows of `meshlint listeners` for a dump, in the predicted table's form.
pub fn rows(dump: &Dump) -> Vec<Row> {
    let catch: BTreeMap<usize, CatchAll> = catch_alls(dump)
        .into_iter()
        .map(|c| (c.listener, c))
        .collect();
    let dups = duplicate_binds(dump);
    let mut out = Vec::new();
    for (i, l) in dump.listeners.iter().enumerate() {
        let (address, port) = match l.listener.ip_port() {
            Some((ip, p)) => (ip.to_string(), i64::from(p)),
            None => (l.listener.address_text(), 0),
        };
        let mut has_http = false;
        let mut has_tcp = false;
        let mut all_sni = true;
        let mut clusters = Vec::new();
        for c in l
            .listener
            .filter_chains
            .iter()
            .chain(l.listener.default_chain())
        {
            match c.terminal() {
                Terminal::Tcp { clusters: cs, .. } => {
                    if cs.iter().any(|c| !is_special_cluster(c)) {
                        has_tcp = true;
                        all_sni &= !c.fcm().server_names.is_empty();
                    }
                    clusters.extend(cs);
                }
                Terminal::Http { rds, .. } => {
                    has_http = true;
                    match rds.as_deref().and_then(|r| dump.route(r)) {
                        Some(r) => clusters.extend(r.route.clusters().map(str::to_string)),
                        None => {
                            if let Some(rc) = c.inline_routes() {
                                clusters.extend(rc.clusters().map(str::to_string));
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        let mut kind = if l.listener.hands_off() {
            "hand-off".to_string()
        } else if l.listener.ip_port().is_none() {
            "internal".to_string()
        } else if is_inbound(l) {
            "inbound".to_string()
        } else {
            match (has_http, has_tcp) {
                (true, true) => "HTTP+TCP (sniffed)",
                (true, false) => "HTTP",
                (false, true) if all_sni => "TLS (SNI)",
                _ => "TCP",
            }
            .to_string()
        };
        if !l.state.serves() {
            kind.push_str(&format!(" [{}]", l.state.as_str()));
        } else if l.state == ListenerState::Static {
            kind.push_str(" [static]");
        }
        let mut conflict = None;
        if let Some(c) = catch.get(&i) {
            let fallback = if c.fallback.is_empty() {
                String::new()
            } else {
                format!(" instead of {}", c.fallback.join(", "))
            };
            conflict = Some(format!(
                "catch-all: TCP to any IP on port {} goes to {}{fallback}",
                c.port,
                c.clusters.join(", ")
            ));
        }
        if let Some(d) = dups.iter().find(|d| d.listeners.contains(&i)) {
            let others: Vec<String> = d
                .listeners
                .iter()
                .filter(|&&j| j != i)
                .map(|&j| dump.listeners[j].label())
                .collect();
            conflict = Some(format!(
                "duplicate address {} with {}",
                d.address,
                others.join(", ")
            ));
        }
        out.push(Row {
            address,
            port,
            kind,
            owners: owner_list(dump, clusters),
            conflict,
        });
        let _ = l;
    }
    for e in &dump.errors {
        let (address, port) = match e.failed.as_ref().and_then(|l| l.ip_port()) {
            Some((ip, p)) => (ip.to_string(), i64::from(p)),
            None => ("-".to_string(), 0),
        };
        let details: String = e
            .details
            .lines()
            .next()
            .unwrap_or("")
            .chars()
            .take(160)
            .collect();
        out.push(Row {
            address,
            port,
            kind: "REJECTED".into(),
            owners: vec![e.name.clone().unwrap_or_else(|| "(LDS update)".into())],
            conflict: Some(format!("Envoy rejected it: {details}")),
        });
    }
    out.sort_by(|a, b| (a.port, &a.address, &a.kind).cmp(&(b.port, &b.address, &b.kind)));
    out
}

/// A heading for a dump's table: the proxy and the dump's shape.
pub fn scope_label(dump: &Dump, file: &str) -> String {
    let proxy = dump.node.as_ref().map_or_else(
        || "proxy unknown (no bootstrap)".to_string(),
        |n| {
            let mut s = format!(
                "{}{}",
                if n.kind.is_empty() {
                    String::new()
                } else {
                    format!("{} ", n.kind)
                },
                n.label()
            );
            if let Some(v) = &n.istio_version {
                s.push_str(&format!(", Istio {v}"));
            }
            s
        },
    );
    format!("config dump {file} ({proxy}; {})", dump.shape)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envoy::load::parse_json;

    fn hazelcast() -> Dump {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/testdata/dumps/hazelcast-5701.json"
        ))
        .expect("fixture");
        parse_json(&text).expect("parses")
    }

    #[test]
    fn finds_the_hazelcast_catch_all_and_its_fallback() {
        let d = hazelcast();
        let c = catch_alls(&d);
        assert_eq!(c.len(), 1, "{c:?}");
        assert_eq!(d.listeners[c[0].listener].label(), "0.0.0.0_5701");
        assert_eq!(c[0].chain, ChainRef::Index(1));
        assert_eq!(
            c[0].clusters,
            vec!["outbound|5701||app-ext.app.svc.cluster.local".to_string()]
        );
        assert_eq!(c[0].fallback, vec!["PassthroughCluster".to_string()]);
        assert!(duplicate_binds(&d).is_empty());
    }

    #[test]
    fn rows_mark_the_catch_all_and_keep_standard_listeners_quiet() {
        let d = hazelcast();
        let rows = rows(&d);
        let flagged: Vec<_> = rows.iter().filter(|r| r.conflict.is_some()).collect();
        assert_eq!(flagged.len(), 1, "{rows:#?}");
        assert_eq!(
            (flagged[0].address.as_str(), flagged[0].port),
            ("0.0.0.0", 5701)
        );
        let http = rows.iter().find(|r| r.port == 8080).expect("8080");
        assert_eq!(http.kind, "HTTP");
        assert!(
            http.owners
                .iter()
                .any(|o| o.starts_with("app.app.svc.cluster.local"))
        );
    }
}
