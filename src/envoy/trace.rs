//! `meshlint trace`: what Envoy does with one outbound connection, read from a config dump
//! (research §2 and §6).
//!
//! 1. The redirected connection lands on the `use_original_dst` listener (Istio's 15001), which
//!    hands it off by its original destination: the listener bound to exactly `IP:PORT`, else
//!    the any-address listener of the same family on PORT, else it stays on 15001.
//! 2. The chosen listener's listener filters derive the transport protocol, SNI and ALPN.
//! 3. Filter-chain selection in Envoy's order (destination port, destination IP, server name,
//!    transport protocol, application protocols, direct source IP, source type, source IP,
//!    source port), most specific bucket at each step, no backtracking, then
//!    `default_filter_chain`; or the `filter_chain_matcher` tree.
//! 4. The terminal filter: `tcp_proxy` (cluster or weighted clusters) or the HTTP connection
//!    manager → RDS or inline route configuration → virtual host → route → cluster.
//! 5. The cluster's type and endpoints.
//!
//! Every step records the candidates it passed over and why.

use std::fmt::Write as _;
use std::net::IpAddr;

use serde::Serialize;
use serde_json::Value as J;

use crate::envoy::model::{
    CidrRange, Dump, DumpListener, FilterChain, FilterChainMatch, FilterKind, Listener,
    RouteConfiguration, Terminal, parse_cluster_name,
};

/// The connection to simulate.
#[derive(Clone, Debug)]
pub struct Connection {
    pub dest: IpAddr,
    pub port: u32,
    /// TLS with this SNI (a TLS client that sends no SNI is not modelled).
    pub sni: Option<String>,
    /// HTTP with this Host / `:authority`.
    pub host: Option<String>,
    /// ALPN the client offers (TLS), or the HTTP version it speaks in plaintext (`h2` = h2c).
    pub alpn: Vec<String>,
    pub source: Option<IpAddr>,
}

impl Connection {
    pub fn tcp(dest: IpAddr, port: u32) -> Self {
        Self {
            dest,
            port,
            sni: None,
            host: None,
            alpn: Vec::new(),
            source: None,
        }
    }

    pub fn is_tls(&self) -> bool {
        self.sni.is_some()
    }

    pub fn is_http(&self) -> bool {
        self.host.is_some() || (!self.is_tls() && !self.alpn.is_empty())
    }

    pub fn dest_text(&self) -> String {
        match self.dest {
            IpAddr::V6(a) => format!("[{a}]:{}", self.port),
            IpAddr::V4(a) => format!("{a}:{}", self.port),
        }
    }
}

/// Parses `IP:PORT` (`[v6]:PORT` for IPv6).
pub fn parse_destination(s: &str) -> Result<(IpAddr, u32), String> {
    let (ip, port) = if let Some(rest) = s.strip_prefix('[') {
        let (ip, port) = rest
            .split_once("]:")
            .ok_or_else(|| format!("`{s}`: expected [IPv6]:PORT"))?;
        (ip, port)
    } else {
        s.rsplit_once(':')
            .ok_or_else(|| format!("`{s}`: expected IP:PORT"))?
    };
    let ip: IpAddr = ip
        .parse()
        .map_err(|_| format!("`{s}`: `{ip}` is not an IP address"))?;
    let port: u32 = port
        .parse()
        .ok()
        .filter(|p| (1..=65535).contains(p))
        .ok_or_else(|| format!("`{s}`: `{port}` is not a port"))?;
    Ok((ip, port))
}

/// A candidate that was not taken, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Passed {
    pub candidate: String,
    pub reason: String,
}

/// One step of the path.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Step {
    /// `listener`, `listener_filters`, `filter_chain`, `filter`, `route_config`,
    /// `virtual_host`, `route`, `cluster`.
    pub stage: String,
    pub chosen: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub passed_over: Vec<Passed>,
}

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

/// Where the connection ends.
#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    /// `cluster`, `closed`, `direct_response`, `redirect`, `unresolved`.
    pub kind: String,
    pub clusters: Vec<ClusterView>,
    pub summary: String,
}

/// What the connection would have reached without the listener that took it.
#[derive(Clone, Debug, Serialize)]
pub struct WithoutListener {
    pub listener: String,
    pub would_reach: String,
    pub clusters: Vec<String>,
}

/// The whole simulated path.
#[derive(Clone, Debug, Serialize)]
pub struct Trace {
    pub destination: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy: Option<String>,
    pub connection: String,
    pub listener: Option<String>,
    /// 1-based index of the chosen chain in `filter_chains`, 0 for `default_filter_chain`.
    pub chain: Option<usize>,
    pub steps: Vec<Step>,
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub without_listener: Option<WithoutListener>,
}

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

// ---------------------------------------------------------------------------------------------
// Listener choice.

fn parse_ip(s: &str) -> Option<IpAddr> {
    s.parse().ok()
}

fn is_any(ip: &str) -> bool {
    matches!(ip, "0.0.0.0" | "::" | "[::]" | "0:0:0:0:0:0:0:0")
}

/// Whether a listener address catches `dest` as the any-address of its family.
fn any_address_for(listener: &Listener, ip: &str, ipv4_compat: bool, dest: IpAddr) -> bool {
    let _ = listener;
    match dest {
        IpAddr::V4(_) => ip == "0.0.0.0" || (is_any(ip) && ipv4_compat),
        IpAddr::V6(_) => is_any(ip) && ip != "0.0.0.0",
    }
}

/// The listener the original destination is handed to: exact address, then the any-address
/// listener of the same family. `skip` excludes listeners (for "what if it were not there").
pub fn hand_off_target(
    dump: &Dump,
    dest: IpAddr,
    port: u32,
    skip: &[usize],
) -> (Option<usize>, &'static str, Vec<Passed>) {
    let mut passed = Vec::new();
    let mut exact = None;
    let mut any = None;
    for (i, l) in dump.serving() {
        let addrs = std::iter::once(l.listener.address.as_ref())
            .chain(
                l.listener
                    .additional_addresses
                    .iter()
                    .map(|a| a.address.as_ref()),
            )
            .flatten();
        for a in addrs {
            let Some(sa) = &a.socket_address else {
                continue;
            };
            let ip = sa.address.as_deref().unwrap_or("");
            if sa.port_value != Some(port) {
                continue;
            }
            if skip.contains(&i) {
                passed.push(Passed {
                    candidate: l.label(),
                    reason: "left out for this what-if".into(),
                });
                continue;
            }
            if parse_ip(ip) == Some(dest) {
                exact.get_or_insert(i);
            } else if any_address_for(&l.listener, ip, sa.ipv4_compat == Some(true), dest) {
                any.get_or_insert(i);
            } else {
                passed.push(Passed {
                    candidate: l.label(),
                    reason: format!("bound to {ip}, not {dest}"),
                });
            }
        }
    }
    if let Some(i) = exact {
        if let Some(a) = any {
            passed.push(Passed {
                candidate: dump.listeners[a].label(),
                reason: "any-address listener; an exact address match wins".into(),
            });
        }
        return (Some(i), "exact", passed);
    }
    if let Some(i) = any {
        return (Some(i), "any-address", passed);
    }
    (None, "none", passed)
}

// ---------------------------------------------------------------------------------------------
// Listener filters.

/// What the listener filters of a listener make of the connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Detected {
    pub transport: String,
    pub sni: Option<String>,
    pub alpn: Vec<String>,
    pub notes: Vec<String>,
}

pub fn detect(listener: &Listener, conn: &Connection) -> Detected {
    let tls_inspector = listener.has_listener_filter(FilterKind::TlsInspector);
    let http_inspector = listener.has_listener_filter(FilterKind::HttpInspector);
    let mut notes = Vec::new();
    if conn.is_tls() {
        if tls_inspector {
            notes.push(format!(
                "tls_inspector: transport tls, SNI {}{}",
                conn.sni.as_deref().unwrap_or(""),
                if conn.alpn.is_empty() {
                    String::new()
                } else {
                    format!(", ALPN {}", conn.alpn.join(", "))
                }
            ));
            return Detected {
                transport: "tls".into(),
                sni: conn.sni.clone(),
                alpn: conn.alpn.clone(),
                notes,
            };
        }
        notes.push(
            "no tls_inspector: the TLS handshake is not inspected (transport raw_buffer, no SNI)"
                .into(),
        );
        return Detected {
            transport: "raw_buffer".into(),
            sni: None,
            alpn: Vec::new(),
            notes,
        };
    }
    let mut alpn = Vec::new();
    if conn.is_http() {
        let h2 = conn.alpn.iter().any(|a| a == "h2" || a == "h2c");
        if http_inspector {
            let proto = if h2 {
                "h2c"
            } else if conn.alpn.iter().any(|a| a == "http/1.0") {
                "http/1.0"
            } else {
                "http/1.1"
            };
            alpn.push(proto.to_string());
            notes.push(format!(
                "http_inspector: plaintext HTTP, application protocol {proto}"
            ));
        } else {
            notes.push("no http_inspector: plaintext, no application protocol detected".into());
        }
    } else if tls_inspector || http_inspector {
        notes.push(
            "plaintext, not HTTP: transport raw_buffer, no SNI, no application protocol".into(),
        );
    }
    Detected {
        transport: "raw_buffer".into(),
        sni: None,
        alpn,
        notes,
    }
}

// ---------------------------------------------------------------------------------------------
// Filter-chain selection.

/// Which chain was chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChainRef {
    /// Index into `filter_chains`.
    Index(usize),
    Default,
}

#[derive(Clone, Debug)]
pub struct ChainChoice {
    pub chosen: Option<ChainRef>,
    pub how: String,
    pub passed: Vec<Passed>,
    pub notes: Vec<String>,
}

/// `chain 2 (name)` or `default_filter_chain (name)`.
pub fn chain_label(listener: &Listener, r: ChainRef) -> String {
    let (base, chain) = match r {
        ChainRef::Index(i) => (format!("chain {}", i + 1), listener.filter_chains.get(i)),
        ChainRef::Default => (
            "default_filter_chain".to_string(),
            listener.default_filter_chain.as_ref(),
        ),
    };
    match chain
        .and_then(|c| c.name.as_deref())
        .filter(|n| !n.is_empty())
    {
        Some(n) => format!("{base} ({n})"),
        None => base,
    }
}

pub fn chain_of(listener: &Listener, r: ChainRef) -> Option<&FilterChain> {
    match r {
        ChainRef::Index(i) => listener.filter_chains.get(i),
        ChainRef::Default => listener.default_filter_chain.as_ref(),
    }
}

/// Where a chain sends traffic, briefly (`→ BlackHoleCluster`, `→ HTTP route "80"`).
pub fn chain_target(chain: &FilterChain) -> String {
    match chain.terminal() {
        Terminal::Tcp { clusters, .. } if clusters.is_empty() => "→ tcp_proxy".into(),
        Terminal::Tcp { clusters, .. } => format!("→ {}", clusters.join(", ")),
        Terminal::Http { rds: Some(r), .. } => format!("→ HTTP route \"{r}\""),
        Terminal::Http { .. } => "→ HTTP (inline routes)".into(),
        Terminal::Other { name, .. } => format!("→ {name}"),
        Terminal::None => "→ no terminal filter".into(),
    }
}

fn describe_chain(dump: &Dump, listener: &Listener, i: usize) -> String {
    let chain = &listener.filter_chains[i];
    let fcm = chain.fcm();
    let own = own_ip_note(dump, &fcm);
    format!(
        "{} [{}{own}] {}",
        chain_label(listener, ChainRef::Index(i)),
        fcm.describe(),
        chain_target(chain)
    )
}

/// ` — the proxy's own IP` when a chain's only prefix is the proxy's address.
fn own_ip_note(dump: &Dump, fcm: &FilterChainMatch) -> &'static str {
    let own = dump
        .node
        .as_ref()
        .map(|n| n.ips.clone())
        .unwrap_or_default();
    let is_own = !fcm.prefix_ranges.is_empty()
        && fcm.prefix_ranges.iter().all(|r| {
            r.address_prefix
                .as_deref()
                .is_some_and(|p| own.iter().any(|o| o == p))
                && (r.len() == 32 || r.len() == 128)
        });
    if is_own { " = the pod's own IP" } else { "" }
}

/// Keeps `cands` where `keep` holds, recording the others as passed over with `why`.
fn filter_stage(
    dump: &Dump,
    listener: &Listener,
    cands: &mut Vec<usize>,
    passed: &mut Vec<Passed>,
    keep: impl Fn(usize) -> bool,
    why: impl Fn(usize) -> String,
) {
    let (kept, dropped): (Vec<usize>, Vec<usize>) = cands.iter().partition(|&&i| keep(i));
    for i in dropped {
        passed.push(Passed {
            candidate: describe_chain(dump, listener, i),
            reason: why(i),
        });
    }
    *cands = kept;
}

fn source_is_local(conn: &Connection) -> Option<bool> {
    conn.source.map(|s| s.is_loopback() || s == conn.dest)
}

type StageState<'s> = (&'s mut Vec<usize>, &'s mut Vec<Passed>, &'s mut Vec<String>);

/// A source-address stage: longest prefix containing the source; chains without ranges are /0.
fn ranges_stage(
    dump: &Dump,
    listener: &Listener,
    fcms: &[FilterChainMatch],
    ranges: fn(&FilterChainMatch) -> &Vec<CidrRange>,
    what: &str,
    src: Option<IpAddr>,
    (cands, passed, notes): StageState<'_>,
) {
    if cands.iter().all(|&i| ranges(&fcms[i]).is_empty()) {
        return;
    }
    let best = |i: usize| -> Option<u32> {
        let r = ranges(&fcms[i]);
        if r.is_empty() {
            Some(0)
        } else {
            src.and_then(|s| r.iter().filter(|c| c.contains(s)).map(|c| c.len()).max())
        }
    };
    if src.is_none() {
        notes.push(format!(
            "chains match on {what} but no --source was given: assuming it matches none of them"
        ));
    }
    let max = cands.iter().filter_map(|&i| best(i)).max();
    filter_stage(
        dump,
        listener,
        cands,
        passed,
        |i| best(i).is_some() && best(i) == max,
        |i| match best(i) {
            None => format!("{what} do not contain the source"),
            _ => format!("a chain with a more specific {what} wins"),
        },
    );
}

/// Selects the filter chain as Envoy does.
pub fn select_chain(
    dump: &Dump,
    listener: &Listener,
    conn: &Connection,
    seen: &Detected,
) -> ChainChoice {
    if let Some(m) = &listener.filter_chain_matcher {
        return select_by_matcher(listener, m, conn, seen);
    }
    let mut passed = Vec::new();
    let mut notes = Vec::new();
    let fcms: Vec<FilterChainMatch> = listener.filter_chains.iter().map(|c| c.fcm()).collect();
    let mut cands: Vec<usize> = (0..fcms.len()).collect();
    let port = conn.port;
    let ip = conn.dest;

    // 1. destination_port
    let any_port = cands
        .iter()
        .any(|&i| fcms[i].destination_port == Some(port));
    filter_stage(
        dump,
        listener,
        &mut cands,
        &mut passed,
        |i| match fcms[i].destination_port {
            Some(p) => p == port,
            None => !any_port,
        },
        |i| match fcms[i].destination_port {
            Some(p) => format!("destination_port {p} ≠ {port}"),
            None => format!("no destination_port; another chain names port {port}"),
        },
    );
    // 2. destination IP (longest prefix; chains without ranges are /0)
    let best = |i: usize| -> Option<u32> {
        let r = &fcms[i].prefix_ranges;
        if r.is_empty() {
            Some(0)
        } else {
            r.iter().filter(|c| c.contains(ip)).map(|c| c.len()).max()
        }
    };
    let max = cands.iter().filter_map(|&i| best(i)).max();
    filter_stage(
        dump,
        listener,
        &mut cands,
        &mut passed,
        |i| best(i).is_some() && best(i) == max,
        |i| match best(i) {
            None => {
                let r: Vec<String> = fcms[i]
                    .prefix_ranges
                    .iter()
                    .map(|r| r.to_string())
                    .collect();
                format!("{} does not contain {ip}", r.join(", "))
            }
            Some(0) if fcms[i].prefix_ranges.is_empty() => format!(
                "no prefix_ranges, and a chain with a /{} range containing {ip} is more specific",
                max.unwrap_or(0)
            ),
            Some(b) => format!(
                "/{b} is less specific than another chain's /{}",
                max.unwrap_or(0)
            ),
        },
    );
    // 3. server names
    let sni = seen.sni.as_deref();
    let sni_rank = |i: usize| -> Option<usize> {
        // 0 = exact, 1.. = wildcard suffix (more specific first), MAX = no server_names.
        let names = &fcms[i].server_names;
        if names.is_empty() {
            return Some(usize::MAX);
        }
        let s = sni?;
        if names.iter().any(|n| n.eq_ignore_ascii_case(s)) {
            return Some(0);
        }
        let labels: Vec<&str> = s.split('.').collect();
        (1..labels.len()).find(|&k| {
            let wc = format!("*.{}", labels[k..].join("."));
            names.iter().any(|n| n.eq_ignore_ascii_case(&wc))
        })
    };
    let top = cands.iter().filter_map(|&i| sni_rank(i)).min();
    filter_stage(
        dump,
        listener,
        &mut cands,
        &mut passed,
        |i| sni_rank(i).is_some() && sni_rank(i) == top,
        |i| match (sni_rank(i), sni) {
            (None, None) => format!(
                "needs SNI {}; the connection sends none",
                fcms[i].server_names.join(", ")
            ),
            (None, Some(s)) => format!(
                "server_names {} do not match {s}",
                fcms[i].server_names.join(", ")
            ),
            _ => "a chain with a more specific server name match wins".into(),
        },
    );
    // 4. transport protocol
    let tp = |i: usize| fcms[i].transport_protocol.clone().unwrap_or_default();
    let exact_tp = cands.iter().any(|&i| tp(i) == seen.transport);
    filter_stage(
        dump,
        listener,
        &mut cands,
        &mut passed,
        |i| {
            if exact_tp {
                tp(i) == seen.transport
            } else {
                tp(i).is_empty()
            }
        },
        |i| {
            if tp(i).is_empty() {
                format!(
                    "no transport_protocol; a chain for {} is more specific",
                    seen.transport
                )
            } else {
                format!("transport_protocol {} ≠ {}", tp(i), seen.transport)
            }
        },
    );
    // 5. application protocols
    let chosen_alpn = seen
        .alpn
        .iter()
        .find(|a| {
            cands
                .iter()
                .any(|&i| fcms[i].application_protocols.contains(a))
        })
        .cloned();
    let alpn_text = if seen.alpn.is_empty() {
        "none".to_string()
    } else {
        seen.alpn.join(", ")
    };
    filter_stage(
        dump,
        listener,
        &mut cands,
        &mut passed,
        |i| match &chosen_alpn {
            Some(a) => fcms[i].application_protocols.contains(a),
            None => fcms[i].application_protocols.is_empty(),
        },
        |i| {
            if fcms[i].application_protocols.is_empty() {
                "no application_protocols; a chain listing the connection's protocol wins".into()
            } else {
                format!(
                    "application_protocols {} do not include the connection's ({alpn_text})",
                    fcms[i].application_protocols.join(", ")
                )
            }
        },
    );
    // 6-9. source criteria
    let src = conn.source;
    ranges_stage(
        dump,
        listener,
        &fcms,
        |m| &m.direct_source_prefix_ranges,
        "direct_source_prefix_ranges",
        src,
        (&mut cands, &mut passed, &mut notes),
    );
    let st = |i: usize| {
        fcms[i]
            .source_type
            .clone()
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| "ANY".into())
    };
    if cands.iter().any(|&i| st(i) != "ANY") {
        let local = source_is_local(conn).unwrap_or(false);
        let want = if local {
            "SAME_IP_OR_LOOPBACK"
        } else {
            "EXTERNAL"
        };
        let exact = cands.iter().any(|&i| st(i) == want);
        filter_stage(
            dump,
            listener,
            &mut cands,
            &mut passed,
            |i| if exact { st(i) == want } else { st(i) == "ANY" },
            |i| format!("source_type {} does not fit a {} source", st(i), want),
        );
    }
    ranges_stage(
        dump,
        listener,
        &fcms,
        |m| &m.source_prefix_ranges,
        "source_prefix_ranges",
        src,
        (&mut cands, &mut passed, &mut notes),
    );
    if cands.iter().any(|&i| !fcms[i].source_ports.is_empty()) {
        filter_stage(
            dump,
            listener,
            &mut cands,
            &mut passed,
            |i| fcms[i].source_ports.is_empty(),
            |_| "matches on source_ports (the client's ephemeral port is not known)".into(),
        );
    }

    match cands.as_slice() {
        [i] => ChainChoice {
            chosen: Some(ChainRef::Index(*i)),
            how: if listener.filter_chains.len() == 1 {
                "the listener's only filter chain".into()
            } else {
                "the one chain left after matching in Envoy's order".into()
            },
            passed,
            notes,
        },
        [] => {
            if listener.default_filter_chain.is_some() {
                ChainChoice {
                    chosen: Some(ChainRef::Default),
                    how: "no filter chain matched: default_filter_chain".into(),
                    passed,
                    notes,
                }
            } else {
                ChainChoice {
                    chosen: None,
                    how: "no filter chain matched and there is no default_filter_chain: Envoy closes the connection".into(),
                    passed,
                    notes,
                }
            }
        }
        [first, rest @ ..] => {
            notes.push(format!(
                "{} chains have identical match criteria; Envoy rejects such a listener (\"multiple filter chains with the same matching rules are defined\"); taking the first",
                rest.len() + 1
            ));
            ChainChoice {
                chosen: Some(ChainRef::Index(*first)),
                how: "filter_chain_match".into(),
                passed,
                notes,
            }
        }
    }
}

/// A field of a JSON object under its snake_case or lowerCamelCase name.
fn jget<'a>(v: &'a J, key: &str) -> Option<&'a J> {
    v.get(key)
        .or_else(|| v.get(crate::envoy::model::camel_case(key)))
}

fn matcher_input(input: &J, conn: &Connection, seen: &Detected) -> Result<String, String> {
    let t = jget(input, "typed_config")
        .and_then(|t| t.get("@type"))
        .and_then(J::as_str)
        .unwrap_or("");
    let kind = t.rsplit('.').next().unwrap_or("");
    Ok(match kind {
        "DestinationIPInput" => conn.dest.to_string(),
        "DestinationPortInput" => conn.port.to_string(),
        "ServerNameInput" => seen.sni.clone().unwrap_or_default(),
        "TransportProtocolInput" => seen.transport.clone(),
        "ApplicationProtocolInput" => seen
            .alpn
            .iter()
            .map(|a| format!("'{a}'"))
            .collect::<Vec<_>>()
            .join(","),
        "SourceIPInput" | "DirectSourceIPInput" => conn
            .source
            .map(|s| s.to_string())
            .ok_or_else(|| "the matcher reads the source IP; give --source".to_string())?,
        "SourceTypeInput" => {
            if source_is_local(conn).unwrap_or(false) {
                "local".into()
            } else {
                String::new()
            }
        }
        other => return Err(format!("matcher input {other} is not simulated")),
    })
}

/// Evaluates a unified matcher; returns the chain name it yields (None: no match).
fn eval_matcher(
    m: &J,
    conn: &Connection,
    seen: &Detected,
    notes: &mut Vec<String>,
    depth: usize,
) -> Result<Option<String>, String> {
    if depth > 32 {
        return Err("matcher nested too deeply".into());
    }
    let on_match = |om: &J, notes: &mut Vec<String>| -> Result<Option<String>, String> {
        if let Some(a) = jget(om, "action") {
            let name = jget(a, "typed_config")
                .and_then(|t| t.get("value"))
                .and_then(J::as_str)
                .or_else(|| a.get("name").and_then(J::as_str));
            return Ok(name.map(str::to_string));
        }
        if let Some(inner) = jget(om, "matcher") {
            return eval_matcher(inner, conn, seen, notes, depth + 1);
        }
        Ok(None)
    };
    let mut result = None;
    if let Some(tree) = jget(m, "matcher_tree") {
        let input = jget(tree, "input").ok_or("matcher_tree without input")?;
        let value = matcher_input(input, conn, seen)?;
        let iname = input.get("name").and_then(J::as_str).unwrap_or("input");
        if let Some(map) = jget(tree, "exact_match_map").and_then(|e| e.get("map")) {
            if let Some(om) = map.get(&value) {
                notes.push(format!("{iname} = {value:?}: exact match"));
                result = on_match(om, notes)?;
            } else {
                notes.push(format!("{iname} = {value:?}: no exact match"));
            }
        } else if let Some(map) = jget(tree, "prefix_match_map").and_then(|e| e.get("map")) {
            let best = map
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(k, _)| value.starts_with(k.as_str()))
                .max_by_key(|(k, _)| k.len());
            if let Some((k, om)) = best {
                notes.push(format!("{iname} = {value:?}: prefix {k:?}"));
                result = on_match(om, notes)?;
            }
        } else if let Some(custom) = jget(tree, "custom_match") {
            let ip: Option<IpAddr> = value.parse().ok();
            let ranges = jget(custom, "typed_config")
                .and_then(|t| jget(t, "range_matchers"))
                .and_then(J::as_array)
                .ok_or("custom matcher is not an IP matcher")?;
            let mut best: Option<(u32, &J)> = None;
            for rm in ranges {
                for r in jget(rm, "ranges")
                    .and_then(J::as_array)
                    .into_iter()
                    .flatten()
                {
                    let cidr: crate::envoy::model::CidrRange =
                        serde_json::from_value(r.clone()).unwrap_or_default();
                    if ip.is_some_and(|ip| cidr.contains(ip))
                        && best.is_none_or(|(l, _)| cidr.len() > l)
                    {
                        best = Some((cidr.len(), rm));
                    }
                }
            }
            match best {
                Some((len, rm)) => {
                    notes.push(format!("{iname} = {value}: range /{len}"));
                    if let Some(om) = jget(rm, "on_match") {
                        result = on_match(om, notes)?;
                    }
                }
                None => notes.push(format!("{iname} = {value}: in no range")),
            }
        } else {
            return Err("matcher_tree kind is not simulated".into());
        }
    } else if let Some(list) = jget(m, "matcher_list") {
        for fm in jget(list, "matchers")
            .and_then(J::as_array)
            .into_iter()
            .flatten()
        {
            let pred = jget(fm, "predicate").ok_or("matcher without predicate")?;
            let single =
                jget(pred, "single_predicate").ok_or("only single predicates are simulated")?;
            let input = jget(single, "input").ok_or("predicate without input")?;
            let value = matcher_input(input, conn, seen)?;
            let vm = jget(single, "value_match").ok_or("only value_match is simulated")?;
            let hit = if let Some(e) = vm.get("exact").and_then(J::as_str) {
                value == e
            } else if let Some(p) = vm.get("prefix").and_then(J::as_str) {
                value.starts_with(p)
            } else if let Some(s) = vm.get("suffix").and_then(J::as_str) {
                value.ends_with(s)
            } else {
                return Err("string matcher kind is not simulated".into());
            };
            if hit && let Some(om) = jget(fm, "on_match") {
                result = on_match(om, notes)?;
                break;
            }
        }
    }
    if result.is_none()
        && let Some(om) = jget(m, "on_no_match")
    {
        notes.push("no match: on_no_match".into());
        result = on_match(om, notes)?;
    }
    Ok(result)
}

fn select_by_matcher(
    listener: &Listener,
    m: &J,
    conn: &Connection,
    seen: &Detected,
) -> ChainChoice {
    let mut notes = Vec::new();
    match eval_matcher(m, conn, seen, &mut notes, 0) {
        Ok(Some(name)) => {
            if let Some(i) = listener
                .filter_chains
                .iter()
                .position(|c| c.name.as_deref() == Some(name.as_str()))
            {
                ChainChoice {
                    chosen: Some(ChainRef::Index(i)),
                    how: format!("filter_chain_matcher → {name}"),
                    passed: Vec::new(),
                    notes,
                }
            } else if listener
                .default_filter_chain
                .as_ref()
                .is_some_and(|c| c.name.as_deref() == Some(name.as_str()))
            {
                ChainChoice {
                    chosen: Some(ChainRef::Default),
                    how: format!("filter_chain_matcher → {name}"),
                    passed: Vec::new(),
                    notes,
                }
            } else {
                notes.push(format!(
                    "the matcher names chain {name}, which the listener does not have"
                ));
                default_or_closed(listener, notes)
            }
        }
        Ok(None) => default_or_closed(listener, notes),
        Err(e) => {
            notes.push(e);
            ChainChoice {
                chosen: None,
                how: "filter_chain_matcher could not be simulated".into(),
                passed: Vec::new(),
                notes,
            }
        }
    }
}

fn default_or_closed(listener: &Listener, notes: Vec<String>) -> ChainChoice {
    if listener.default_filter_chain.is_some() {
        ChainChoice {
            chosen: Some(ChainRef::Default),
            how: "filter_chain_matcher matched nothing: default_filter_chain".into(),
            passed: Vec::new(),
            notes,
        }
    } else {
        ChainChoice {
            chosen: None,
            how: "filter_chain_matcher matched nothing and there is no default_filter_chain: Envoy closes the connection".into(),
            passed: Vec::new(),
            notes,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// HTTP routing.

fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host
            .split_once("]:")
            .map_or(host, |(h, _)| &host[..h.len() + 1]);
    }
    match host.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) && !h.contains(':') => h,
        _ => host,
    }
}

/// Selects the virtual host for `host` (exact, suffix wildcard, prefix wildcard, `*`).
pub fn select_virtual_host(rc: &RouteConfiguration, host: &str) -> Option<(usize, String)> {
    let host = if rc.ignore_port_in_host_matching == Some(true) {
        strip_port(host)
    } else {
        host
    };
    let h = host.to_ascii_lowercase();
    let domains = || {
        rc.virtual_hosts
            .iter()
            .enumerate()
            .flat_map(|(i, v)| v.domains.iter().map(move |d| (i, d.to_ascii_lowercase())))
    };
    if let Some((i, d)) = domains().find(|(_, d)| *d == h) {
        return Some((i, format!("exact domain {d}")));
    }
    let suffix = domains()
        .filter(|(_, d)| d.len() > 1 && d.starts_with('*'))
        .filter(|(_, d)| h.len() > d.len() - 1 && h.ends_with(&d[1..]))
        .max_by_key(|(_, d)| d.len());
    if let Some((i, d)) = suffix {
        return Some((i, format!("suffix wildcard {d}")));
    }
    let prefix = domains()
        .filter(|(_, d)| d.len() > 1 && d.ends_with('*'))
        .filter(|(_, d)| h.len() > d.len() - 1 && h.starts_with(&d[..d.len() - 1]))
        .max_by_key(|(_, d)| d.len());
    if let Some((i, d)) = prefix {
        return Some((i, format!("prefix wildcard {d}")));
    }
    domains()
        .find(|(_, d)| d == "*")
        .map(|(i, _)| (i, "the catch-all domain *".to_string()))
}

// ---------------------------------------------------------------------------------------------
// Clusters.

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
        let destination = if name == "PassthroughCluster" {
            format!("the original destination {}", conn.dest_text())
        } else if dump.sections.clusters {
            "not in the dump's clusters".into()
        } else {
            "unknown: the dump has no clusters section".into()
        };
        return ClusterView {
            name: name.to_string(),
            kind: None,
            weight,
            service: cluster_service(dump, name),
            endpoints: Vec::new(),
            destination,
            pointer: None,
        };
    };
    let kind = c.cluster.kind();
    let from_assignment = |cla: &crate::envoy::model::ClusterLoadAssignment| {
        cla.endpoints()
            .into_iter()
            .map(|(address, health)| EndpointView { address, health })
            .collect::<Vec<_>>()
    };
    let mut endpoints = Vec::new();
    let destination = match kind.as_str() {
        "ORIGINAL_DST" => format!("the original destination {}", conn.dest_text()),
        "EDS" => {
            let service = c
                .cluster
                .eds_cluster_config
                .as_ref()
                .and_then(|e| e.service_name.clone())
                .unwrap_or_else(|| name.to_string());
            match dump.assignment(&service) {
                Some(a) => {
                    endpoints = from_assignment(&a.assignment);
                    if endpoints.is_empty() {
                        "no endpoints".into()
                    } else {
                        endpoint_text(&endpoints)
                    }
                }
                None if dump.sections.endpoints => "no endpoints".into(),
                None => "endpoints not in the dump (take it with ?include_eds)".into(),
            }
        }
        _ => {
            if let Some(la) = &c.cluster.load_assignment {
                endpoints = from_assignment(la);
            }
            endpoints.extend(c.cluster.hosts.iter().map(|h| EndpointView {
                address: h.to_string(),
                health: "UNKNOWN".into(),
            }));
            if endpoints.is_empty() {
                if name == "BlackHoleCluster" || kind == "STATIC" {
                    "no endpoints: the connection is dropped".into()
                } else {
                    "no endpoints".into()
                }
            } else {
                endpoint_text(&endpoints)
            }
        }
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

fn endpoint_text(eps: &[EndpointView]) -> String {
    let shown: Vec<String> = eps
        .iter()
        .take(5)
        .map(|e| {
            if e.health == "UNKNOWN" || e.health.is_empty() {
                e.address.clone()
            } else {
                format!("{} {}", e.address, e.health)
            }
        })
        .collect();
    let more = eps.len().saturating_sub(5);
    if more > 0 {
        format!("{} and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

// ---------------------------------------------------------------------------------------------
// The walk.

struct Walk<'d> {
    dump: &'d Dump,
    conn: &'d Connection,
    steps: Vec<Step>,
}

/// Where a chain leads: its terminal resolved to clusters (or why not).
pub struct Resolution {
    pub outcome: Outcome,
    pub steps: Vec<Step>,
}

fn outcome(kind: &str, clusters: Vec<ClusterView>, summary: String) -> Outcome {
    Outcome {
        kind: kind.into(),
        clusters,
        summary,
    }
}

impl<'d> Walk<'d> {
    fn step(&mut self, stage: &str, chosen: String) -> &mut Step {
        self.steps.push(Step {
            stage: stage.into(),
            chosen,
            ..Step::default()
        });
        self.steps.last_mut().expect("just pushed")
    }

    fn clusters_outcome(&mut self, names: &[(String, Option<u32>)]) -> Outcome {
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

    /// Follows a chain to its clusters.
    fn chain(&mut self, listener: &DumpListener, r: ChainRef) -> Outcome {
        let Some(chain) = chain_of(&listener.listener, r) else {
            return outcome("closed", Vec::new(), "no such chain".into());
        };
        let chain_ptr = match r {
            ChainRef::Index(i) => format!(
                "{}/{}/{i}",
                listener.pointer,
                self.dump.key("filter_chains")
            ),
            ChainRef::Default => format!(
                "{}/{}",
                listener.pointer,
                self.dump.key("default_filter_chain")
            ),
        };
        match chain.terminal() {
            Terminal::Tcp { filter, clusters } => {
                let f = &chain.filters[filter];
                let ptr = format!("{chain_ptr}/filters/{filter}");
                let mut weighted: Vec<(String, Option<u32>)> = Vec::new();
                let conf = f.conf();
                if let Some(w) = conf.and_then(|c| c.weighted_clusters.as_ref())
                    && conf.is_some_and(|c| c.cluster.is_none())
                {
                    weighted = w
                        .clusters
                        .iter()
                        .filter_map(|c| c.name.clone().map(|n| (n, c.weight)))
                        .collect();
                } else if let Some(v1) = conf
                    .and_then(|c| c.value.as_ref())
                    .and_then(|v| v.route_config.as_ref())
                    && conf.is_some_and(|c| c.cluster.is_none())
                {
                    // Istio 1.0 v1 routes: first whose destination_ip_list holds the IP.
                    let hit = v1.routes.iter().find(|r| {
                        r.destination_ip_list.is_empty()
                            || r.destination_ip_list
                                .iter()
                                .any(|c| c.contains(self.conn.dest))
                    });
                    if let Some(c) = hit.and_then(|r| r.cluster.clone()) {
                        weighted.push((c, None));
                    }
                } else {
                    weighted = clusters.into_iter().map(|c| (c, None)).collect();
                }
                let s = self.step("filter", format!("{} (tcp_proxy)", f.name()));
                s.pointer = Some(ptr);
                if weighted.is_empty() {
                    s.notes.push("tcp_proxy names no cluster".into());
                    return outcome(
                        "unresolved",
                        Vec::new(),
                        "tcp_proxy without a cluster".into(),
                    );
                }
                self.clusters_outcome(&weighted)
            }
            Terminal::Http { filter, rds, .. } => {
                let f = &chain.filters[filter];
                let ptr = format!("{chain_ptr}/filters/{filter}");
                let s = self.step("filter", format!("{} (HTTP connection manager)", f.name()));
                s.pointer = Some(ptr.clone());
                let (rc, rc_ptr, rc_label) = match &rds {
                    Some(name) => match self.dump.route(name) {
                        Some(r) => (
                            &r.route,
                            Some(r.pointer.clone()),
                            format!("RDS route \"{name}\""),
                        ),
                        None => {
                            let why = if self.dump.sections.routes {
                                format!("route config \"{name}\" is not in the dump")
                            } else {
                                format!("route config \"{name}\": the dump has no routes section")
                            };
                            self.step("route_config", name.clone())
                                .notes
                                .push(why.clone());
                            return outcome("unresolved", Vec::new(), why);
                        }
                    },
                    None => match chain.inline_routes() {
                        Some(rc) => (
                            rc,
                            Some(format!(
                                "{ptr}/{}/{}",
                                f.conf_key(),
                                self.dump.key("route_config")
                            )),
                            format!("inline route config {}", rc.name()),
                        ),
                        None => {
                            let why = "the HTTP connection manager has neither RDS nor inline routes (scoped routes are not simulated)".to_string();
                            self.step("route_config", "(none)".into())
                                .notes
                                .push(why.clone());
                            return outcome("unresolved", Vec::new(), why);
                        }
                    },
                };
                let conn = self.conn;
                let s = self.step("route_config", rc_label);
                s.pointer = rc_ptr.clone();
                let host = match &conn.host {
                    Some(h) => h.clone(),
                    None => {
                        s.notes.push(format!(
                            "no --host given: using {} as the Host header",
                            conn.dest_text()
                        ));
                        conn.dest_text()
                    }
                };
                let Some((vi, why)) = select_virtual_host(rc, &host) else {
                    let s = self.step("virtual_host", "(none)".into());
                    s.notes.push(format!(
                        "no virtual host matches Host {host}: Envoy answers 404 (NR)"
                    ));
                    return outcome(
                        "direct_response",
                        Vec::new(),
                        format!("404: no virtual host for {host}"),
                    );
                };
                let vh = &rc.virtual_hosts[vi];
                let vh_key = self.dump.key("virtual_hosts");
                let s = self.step(
                    "virtual_host",
                    vh.name.clone().unwrap_or_else(|| format!("#{vi}")),
                );
                s.pointer = rc_ptr.as_ref().map(|p| format!("{p}/{vh_key}/{vi}"));
                s.notes.push(format!("Host {host}: {why}"));
                // First route that a plain `GET /` satisfies.
                let mut passed = Vec::new();
                let mut chosen = None;
                for (ri, r) in vh.routes.iter().enumerate() {
                    let label = r
                        .name
                        .clone()
                        .unwrap_or_else(|| format!("route {}", ri + 1));
                    let m = r.matcher.clone().unwrap_or_default();
                    let reason = if !m.headers.is_empty() {
                        Some("matches on headers".to_string())
                    } else if !m.query_parameters.is_empty() {
                        Some("matches on query parameters".to_string())
                    } else if let Some(p) = &m.prefix {
                        (!"/".starts_with(p.as_str()))
                            .then(|| format!("prefix {p} does not match /"))
                    } else if let Some(p) = &m.path {
                        (p != "/").then(|| format!("path {p} is not /"))
                    } else if let Some(p) = &m.path_separated_prefix {
                        (p != "/").then(|| format!("path_separated_prefix {p} does not match /"))
                    } else if let Some(re) = m.safe_regex.as_ref().and_then(|r| r.regex.as_deref())
                    {
                        (!matches!(re, ".*" | "/.*" | "^/.*" | ".+"))
                            .then(|| format!("regex {re} (not evaluated; assuming no match)"))
                    } else {
                        None
                    };
                    match reason {
                        Some(reason) => passed.push(Passed {
                            candidate: label,
                            reason,
                        }),
                        None => {
                            chosen = Some((ri, label));
                            break;
                        }
                    }
                }
                let Some((ri, label)) = chosen else {
                    let s = self.step("route", "(none)".into());
                    s.passed_over = passed;
                    s.notes
                        .push("no route matches GET /: Envoy answers 404 (NR)".into());
                    return outcome("direct_response", Vec::new(), "404: no route".into());
                };
                let r = &vh.routes[ri];
                let s = self.step("route", label);
                s.passed_over = passed;
                s.notes.push("first route a GET / satisfies".into());
                if let Some(a) = &r.route {
                    if let Some(c) = &a.cluster {
                        return self.clusters_outcome(&[(c.clone(), None)]);
                    }
                    if let Some(w) = &a.weighted_clusters {
                        let names: Vec<(String, Option<u32>)> = w
                            .clusters
                            .iter()
                            .filter_map(|c| c.name.clone().map(|n| (n, c.weight)))
                            .collect();
                        return self.clusters_outcome(&names);
                    }
                    if let Some(h) = &a.cluster_header {
                        return outcome(
                            "unresolved",
                            Vec::new(),
                            format!("the cluster is taken from request header {h}"),
                        );
                    }
                }
                if r.redirect.is_some() {
                    return outcome(
                        "redirect",
                        Vec::new(),
                        "the route answers with a redirect".into(),
                    );
                }
                if let Some(d) = &r.direct_response {
                    return outcome(
                        "direct_response",
                        Vec::new(),
                        format!(
                            "the route answers directly with status {}",
                            d.status.unwrap_or(0)
                        ),
                    );
                }
                outcome("unresolved", Vec::new(), "the route has no action".into())
            }
            Terminal::Other { filter, name } => {
                let s = self.step("filter", name.clone());
                s.pointer = Some(format!("{chain_ptr}/filters/{filter}"));
                s.notes
                    .push("this terminal filter picks its upstream itself (not simulated)".into());
                outcome("unresolved", Vec::new(), format!("terminal filter {name}"))
            }
            Terminal::None => {
                self.step("filter", "(none)".into())
                    .notes
                    .push("the chain has no terminal network filter".into());
                outcome("unresolved", Vec::new(), "no terminal filter".into())
            }
        }
    }
}

/// Follows `conn` through listener `li`: listener filters, chain, terminal, clusters.
pub fn through_listener(
    dump: &Dump,
    li: usize,
    conn: &Connection,
) -> (Option<ChainRef>, Resolution) {
    let mut w = Walk {
        dump,
        conn,
        steps: Vec::new(),
    };
    let dl = &dump.listeners[li];
    let seen = detect(&dl.listener, conn);
    if !seen.notes.is_empty() {
        let filters: Vec<&str> = dl
            .listener
            .listener_filters
            .iter()
            .map(|f| f.name())
            .collect();
        let s = w.step(
            "listener_filters",
            if filters.is_empty() {
                "(none)".into()
            } else {
                filters.join(", ")
            },
        );
        s.notes = seen.notes.clone();
    }
    let choice = select_chain(dump, &dl.listener, conn, &seen);
    let chosen = choice.chosen;
    let label = chosen.map_or_else(|| "(none)".to_string(), |r| chain_label(&dl.listener, r));
    let s = w.step("filter_chain", label);
    s.pointer = chosen.map(|r| match r {
        ChainRef::Index(i) => format!("{}/{}/{i}", dl.pointer, dump.key("filter_chains")),
        ChainRef::Default => format!("{}/{}", dl.pointer, dump.key("default_filter_chain")),
    });
    s.notes.push(choice.how.clone());
    if let Some(r) = chosen
        && let Some(c) = chain_of(&dl.listener, r)
    {
        s.notes.push(format!("match: {}", c.fcm().describe()));
    }
    s.notes.extend(choice.notes);
    s.passed_over = choice.passed;
    let out = match chosen {
        Some(r) => w.chain(dl, r),
        None => outcome(
            "closed",
            Vec::new(),
            "the connection is closed: no filter chain".into(),
        ),
    };
    (
        chosen,
        Resolution {
            outcome: out,
            steps: w.steps,
        },
    )
}

/// Simulates `conn`. `skip` leaves listeners out (for the what-if).
pub fn trace_with(dump: &Dump, conn: &Connection, skip: &[usize]) -> Trace {
    let mut steps = Vec::new();
    let hand_off = dump.hand_off_listener();
    let (target, how, passed) = hand_off_target(dump, conn.dest, conn.port, skip);
    let mut notes = Vec::new();
    let li = match (hand_off, target) {
        (Some((h, hl)), Some(t)) if t != h => {
            steps.push(Step {
                stage: "listener".into(),
                chosen: format!("{} {}", hl.label(), hl.listener.address_text()),
                pointer: Some(hl.pointer.clone()),
                notes: vec![format!(
                    "use_original_dst: the redirected connection is handed off by its original destination {}",
                    conn.dest_text()
                )],
                passed_over: Vec::new(),
            });
            notes.push(if how == "exact" {
                format!("bound to exactly {}", conn.dest_text())
            } else {
                format!(
                    "no listener on exactly {}; the any-address listener on port {} takes it",
                    conn.dest_text(),
                    conn.port
                )
            });
            t
        }
        (Some((h, hl)), _) => {
            notes.push(if target == Some(h) {
                format!("{} is the hand-off listener's own address", conn.dest_text())
            } else {
                format!(
                    "no listener on {} or on the any-address for port {}: the connection stays on {}, matched against its own filter chains",
                    conn.dest_text(),
                    conn.port,
                    hl.label()
                )
            });
            h
        }
        (None, Some(t)) => {
            notes.push(format!(
                "no use_original_dst listener in the dump: the connection is taken as arriving on {}",
                conn.dest_text()
            ));
            t
        }
        (None, None) => {
            return Trace {
                destination: conn.dest_text(),
                proxy: dump.node.as_ref().map(|n| n.label()),
                connection: connection_text(conn),
                listener: None,
                chain: None,
                steps: vec![Step {
                    stage: "listener".into(),
                    chosen: "(none)".into(),
                    notes: vec![format!(
                        "no listener takes {}: the dump has no use_original_dst listener and none on this address",
                        conn.dest_text()
                    )],
                    passed_over: passed,
                    pointer: None,
                }],
                outcome: outcome(
                    "closed",
                    Vec::new(),
                    "no listener: the connection is refused".into(),
                ),
                without_listener: None,
            };
        }
    };
    let dl = &dump.listeners[li];
    let mut passed = passed;
    passed.retain(|p| p.candidate != dl.label());
    let limit = 12;
    if passed.len() > limit {
        let more = passed.len() - limit;
        passed.truncate(limit);
        passed.push(Passed {
            candidate: format!("… {more} more"),
            reason: "other addresses on this port".into(),
        });
    }
    steps.push(Step {
        stage: "listener".into(),
        chosen: format!("{} {}", dl.label(), dl.listener.address_text()),
        pointer: Some(dl.pointer.clone()),
        notes,
        passed_over: passed,
    });
    let (chain, res) = through_listener(dump, li, conn);
    steps.extend(res.steps);
    let without_listener = match hand_off {
        Some((h, _)) if h != li && skip.is_empty() => {
            let alt = trace_with(dump, conn, &[li]);
            let via = match (&alt.listener, alt.chain) {
                (Some(l), Some(0)) => format!("{l} default_filter_chain"),
                (Some(l), Some(c)) => {
                    let chain_name = chain_of(
                        &dump.listeners[dump
                            .listeners
                            .iter()
                            .position(|x| &x.label() == l)
                            .unwrap_or(h)]
                        .listener,
                        ChainRef::Index(c - 1),
                    )
                    .and_then(|c| c.name.clone());
                    match chain_name {
                        Some(n) => format!("{l} chain {c} ({n})"),
                        None => format!("{l} chain {c}"),
                    }
                }
                (Some(l), None) => l.clone(),
                (None, _) => "no listener".into(),
            };
            Some(WithoutListener {
                listener: dl.label(),
                would_reach: format!("{via} → {}", alt.outcome.summary),
                clusters: alt
                    .outcome
                    .clusters
                    .iter()
                    .map(|c| c.name.clone())
                    .collect(),
            })
        }
        _ => None,
    };
    Trace {
        destination: conn.dest_text(),
        proxy: dump.node.as_ref().map(|n| {
            let mut s = n.label();
            if let Some(v) = &n.istio_version {
                s.push_str(&format!(" (Istio {v})"));
            }
            s
        }),
        connection: connection_text(conn),
        listener: Some(dl.label()),
        chain: chain.map(|r| match r {
            ChainRef::Index(i) => i + 1,
            ChainRef::Default => 0,
        }),
        steps,
        outcome: res.outcome,
        without_listener,
    }
}

pub fn trace(dump: &Dump, conn: &Connection) -> Trace {
    trace_with(dump, conn, &[])
}

fn connection_text(conn: &Connection) -> String {
    let mut s = if conn.is_tls() {
        format!("TLS, SNI {}", conn.sni.as_deref().unwrap_or(""))
    } else if conn.is_http() {
        "plaintext HTTP".to_string()
    } else {
        "plaintext TCP (not HTTP, no TLS)".to_string()
    };
    if !conn.alpn.is_empty() {
        let _ = write!(s, ", ALPN {}", conn.alpn.join(", "));
    }
    if let Some(h) = &conn.host {
        let _ = write!(s, ", Host {h}");
    }
    if let Some(src) = conn.source {
        let _ = write!(s, ", from {src}");
    }
    s
}

/// The human rendering.
pub fn render(t: &Trace) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "trace {}{}",
        t.destination,
        t.proxy
            .as_ref()
            .map_or(String::new(), |p| format!(" from {p}"))
    );
    let _ = writeln!(out, "connection: {}", t.connection);
    out.push('\n');
    for (i, s) in t.steps.iter().enumerate() {
        let _ = writeln!(
            out,
            "{:>2}. {:<16} {}",
            i + 1,
            s.stage.replace('_', " "),
            s.chosen
        );
        for n in &s.notes {
            let _ = writeln!(out, "    {n}");
        }
        if !s.passed_over.is_empty() {
            let _ = writeln!(out, "    passed over:");
            for p in &s.passed_over {
                let _ = writeln!(out, "      - {}: {}", p.candidate, p.reason);
            }
        }
    }
    out.push('\n');
    let _ = writeln!(out, "=> {}", t.outcome.summary);
    if let Some(w) = &t.without_listener {
        let _ = writeln!(
            out,
            "   without listener {} the connection would have reached: {}",
            w.listener, w.would_reach
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envoy::model::{RouteConfiguration, VirtualHost};

    #[test]
    fn destinations_parse() {
        assert_eq!(
            parse_destination("10.0.0.1:80").expect("ok"),
            ("10.0.0.1".parse().unwrap(), 80)
        );
        assert_eq!(
            parse_destination("[fd00::1]:443").expect("ok"),
            ("fd00::1".parse().unwrap(), 443)
        );
        assert!(parse_destination("10.0.0.1").is_err());
        assert!(parse_destination("host:80").is_err());
        assert!(parse_destination("10.0.0.1:0").is_err());
    }

    fn rc(domains: &[&[&str]], ignore_port: bool) -> RouteConfiguration {
        RouteConfiguration {
            name: Some("r".into()),
            virtual_hosts: domains
                .iter()
                .map(|d| VirtualHost {
                    domains: d.iter().map(|s| s.to_string()).collect(),
                    ..VirtualHost::default()
                })
                .collect(),
            ignore_port_in_host_matching: Some(ignore_port),
        }
    }

    #[test]
    fn virtual_hosts_in_envoys_order() {
        let r = rc(
            &[
                &["*"],
                &["api.*"],
                &["*.example.com"],
                &["*.b.example.com"],
                &["a.example.com"],
            ],
            true,
        );
        let pick = |h: &str| select_virtual_host(&r, h).map(|(i, _)| i);
        assert_eq!(pick("a.example.com:8080"), Some(4));
        assert_eq!(pick("x.b.example.com"), Some(3));
        assert_eq!(pick("x.example.com"), Some(2));
        assert_eq!(pick("api.example.org"), Some(1));
        assert_eq!(pick("other"), Some(0));
        // A wildcard does not match the empty string.
        assert_eq!(pick(".example.com"), Some(0));
        // Without ignore_port_in_host_matching, `host:port` must be listed literally.
        let strict = rc(&[&["a.example.com"]], false);
        assert!(select_virtual_host(&strict, "a.example.com:80").is_none());
    }

    #[test]
    fn listener_filters_shape_what_chains_see() {
        let mut l = Listener::default();
        let mut c = Connection::tcp("10.0.0.1".parse().unwrap(), 443);
        c.sni = Some("a.example.com".into());
        assert_eq!(detect(&l, &c).transport, "raw_buffer");
        l.listener_filters.push(crate::envoy::model::Filter {
            name: Some("envoy.filters.listener.tls_inspector".into()),
            ..Default::default()
        });
        let seen = detect(&l, &c);
        assert_eq!(
            (seen.transport.as_str(), seen.sni.as_deref()),
            ("tls", Some("a.example.com"))
        );
    }
}
