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
//! Every step records the candidates it passed over and why. One file per stage: `listener`
//! (1), `detect` (2), `chain` and `matcher` (3), `terminal` and `route` (4), `cluster` (5).

mod chain;
mod cluster;
mod detect;
mod listener;
mod matcher;
mod route;
mod terminal;

use std::fmt::Write as _;
use std::net::IpAddr;

use serde::Serialize;

use crate::envoy::model::{Dump, DumpListener, Listener};

pub use chain::{ChainChoice, ChainRef, chain_label, chain_of, chain_target, select_chain};
pub use cluster::{ClusterView, EndpointView, cluster_service, cluster_view, is_special_cluster};
pub use detect::{Detected, detect};
pub use listener::hand_off_target;
pub use route::select_virtual_host;

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

/// Whether the source is the proxy's own host (loopback or the destination itself); None
/// without `--source`.
fn source_is_local(conn: &Connection) -> Option<bool> {
    conn.source.map(|s| s.is_loopback() || s == conn.dest)
}

/// The connection as the trace's `connection` field states it.
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

/// Where the connection ends.
#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    /// `cluster`, `closed`, `direct_response`, `redirect`, `unresolved`.
    pub kind: String,
    pub clusters: Vec<ClusterView>,
    pub summary: String,
}

fn outcome(kind: &str, clusters: Vec<ClusterView>, summary: String) -> Outcome {
    Outcome {
        kind: kind.into(),
        clusters,
        summary,
    }
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

/// Where a chain leads: its terminal resolved to clusters (or why not).
pub struct Resolution {
    pub outcome: Outcome,
    pub steps: Vec<Step>,
}

/// The steps recorded while following a connection through one listener.
struct Walk<'d> {
    dump: &'d Dump,
    conn: &'d Connection,
    steps: Vec<Step>,
}

impl Walk<'_> {
    fn step(&mut self, stage: &str, chosen: String) -> &mut Step {
        self.steps.push(Step {
            stage: stage.into(),
            chosen,
            ..Step::default()
        });
        self.steps.last_mut().expect("just pushed")
    }

    /// Records what the listener filters made of the connection, when they made anything.
    fn listener_filters(&mut self, listener: &Listener, seen: &Detected) {
        if seen.notes.is_empty() {
            return;
        }
        let filters: Vec<&str> = listener.listener_filters.iter().map(|f| f.name()).collect();
        let s = self.step(
            "listener_filters",
            if filters.is_empty() {
                "(none)".into()
            } else {
                filters.join(", ")
            },
        );
        s.notes = seen.notes.clone();
    }

    fn filter_chain(&mut self, dl: &DumpListener, choice: ChainChoice) {
        let chosen = choice.chosen;
        let label = chosen.map_or_else(|| "(none)".to_string(), |r| chain_label(&dl.listener, r));
        let pointer = chosen.map(|r| chain_pointer(self.dump, dl, r));
        let s = self.step("filter_chain", label);
        s.pointer = pointer;
        s.notes.push(choice.how);
        if let Some(r) = chosen
            && let Some(c) = chain_of(&dl.listener, r)
        {
            s.notes.push(format!("match: {}", c.fcm().describe()));
        }
        s.notes.extend(choice.notes);
        s.passed_over = choice.passed;
    }
}

/// The JSON pointer of a listener's chain in the dump.
fn chain_pointer(dump: &Dump, dl: &DumpListener, r: ChainRef) -> String {
    match r {
        ChainRef::Index(i) => format!("{}/{}/{i}", dl.pointer, dump.key("filter_chains")),
        ChainRef::Default => format!("{}/{}", dl.pointer, dump.key("default_filter_chain")),
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
    w.listener_filters(&dl.listener, &seen);
    let choice = select_chain(dump, &dl.listener, conn, &seen);
    let chosen = choice.chosen;
    w.filter_chain(dl, choice);
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
    let (li, mut steps) = match listener::arrive(dump, conn, skip) {
        Ok(arrived) => arrived,
        Err(passed) => return refused(dump, conn, passed),
    };
    let dl = &dump.listeners[li];
    let (chain, res) = through_listener(dump, li, conn);
    steps.extend(res.steps);
    let without_listener = match dump.hand_off_listener() {
        Some((h, _)) if h != li && skip.is_empty() => Some(without_listener(dump, conn, h, li)),
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

/// The trace of a connection no listener takes.
fn refused(dump: &Dump, conn: &Connection, passed: Vec<Passed>) -> Trace {
    Trace {
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
    }
}

/// Where the connection goes when listener `li` is left out; `h` is the hand-off listener.
fn without_listener(dump: &Dump, conn: &Connection, h: usize, li: usize) -> WithoutListener {
    let alt = trace_with(dump, conn, &[li]);
    let via = match (&alt.listener, alt.chain) {
        (Some(l), Some(0)) => format!("{l} default_filter_chain"),
        (Some(l), Some(c)) => {
            let at = dump
                .listeners
                .iter()
                .position(|x| &x.label() == l)
                .unwrap_or(h);
            let chain_name = chain_of(&dump.listeners[at].listener, ChainRef::Index(c - 1))
                .and_then(|c| c.name.clone());
            match chain_name {
                Some(n) => format!("{l} chain {c} ({n})"),
                None => format!("{l} chain {c}"),
            }
        }
        (Some(l), None) => l.clone(),
        (None, _) => "no listener".into(),
    };
    WithoutListener {
        listener: dump.listeners[li].label(),
        would_reach: format!("{via} → {}", alt.outcome.summary),
        clusters: alt
            .outcome
            .clusters
            .iter()
            .map(|c| c.name.clone())
            .collect(),
    }
}
