//! Filter-chain selection by `filter_chain_match`, criterion by criterion in Envoy's order.

use std::net::IpAddr;

use super::matcher::select_by_matcher;
use super::{Connection, Detected, Passed, source_is_local};
use crate::envoy::model::{CidrRange, Dump, FilterChain, FilterChainMatch, Listener, Terminal};

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
        ChainRef::Default => ("default_filter_chain".to_string(), listener.default_chain()),
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
        ChainRef::Default => listener.default_chain(),
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
    let fcms: Vec<FilterChainMatch> = listener.filter_chains.iter().map(|c| c.fcm()).collect();
    let mut chains = Matching {
        dump,
        listener,
        cands: (0..fcms.len()).collect(),
        fcms,
        passed: Vec::new(),
        notes: Vec::new(),
    };
    chains.destination_port(conn.port);
    chains.destination_ip(conn.dest);
    chains.server_names(seen.sni.as_deref());
    chains.transport_protocol(&seen.transport);
    chains.application_protocols(&seen.alpn);
    chains.source_ranges(
        |m| &m.direct_source_prefix_ranges,
        "direct_source_prefix_ranges",
        conn.source,
    );
    chains.source_type(conn);
    chains.source_ranges(
        |m| &m.source_prefix_ranges,
        "source_prefix_ranges",
        conn.source,
    );
    chains.source_ports();
    chains.choice()
}

/// The chains still in the running, narrowed one criterion at a time with no backtracking.
struct Matching<'a> {
    dump: &'a Dump,
    listener: &'a Listener,
    fcms: Vec<FilterChainMatch>,
    cands: Vec<usize>,
    passed: Vec<Passed>,
    notes: Vec<String>,
}

impl Matching<'_> {
    /// Keeps the candidates where `keep` holds, recording the others as passed over with `why`.
    fn keep(
        &mut self,
        keep: impl Fn(&FilterChainMatch) -> bool,
        why: impl Fn(&FilterChainMatch) -> String,
    ) {
        let (kept, dropped): (Vec<usize>, Vec<usize>) =
            self.cands.iter().partition(|&&i| keep(&self.fcms[i]));
        for i in dropped {
            self.passed.push(Passed {
                candidate: describe_chain(self.dump, self.listener, i),
                reason: why(&self.fcms[i]),
            });
        }
        self.cands = kept;
    }

    fn any(&self, f: impl Fn(&FilterChainMatch) -> bool) -> bool {
        self.cands.iter().any(|&i| f(&self.fcms[i]))
    }

    /// 1. `destination_port`: chains naming the port, else chains naming none.
    fn destination_port(&mut self, port: u32) {
        let any_port = self.any(|m| m.destination_port == Some(port));
        self.keep(
            |m| match m.destination_port {
                Some(p) => p == port,
                None => !any_port,
            },
            |m| match m.destination_port {
                Some(p) => format!("destination_port {p} ≠ {port}"),
                None => format!("no destination_port; another chain names port {port}"),
            },
        );
    }

    /// 2. `prefix_ranges`: the longest prefix containing the destination; no ranges is /0.
    fn destination_ip(&mut self, ip: IpAddr) {
        let best = |m: &FilterChainMatch| -> Option<u32> {
            let r = &m.prefix_ranges;
            if r.is_empty() {
                Some(0)
            } else {
                r.iter().filter(|c| c.contains(ip)).map(|c| c.len()).max()
            }
        };
        let max = self.cands.iter().filter_map(|&i| best(&self.fcms[i])).max();
        self.keep(
            |m| best(m).is_some() && best(m) == max,
            |m| match best(m) {
                None => {
                    let r: Vec<String> = m.prefix_ranges.iter().map(|r| r.to_string()).collect();
                    format!("{} does not contain {ip}", r.join(", "))
                }
                Some(0) if m.prefix_ranges.is_empty() => format!(
                    "no prefix_ranges, and a chain with a /{} range containing {ip} is more specific",
                    max.unwrap_or(0)
                ),
                Some(b) => format!(
                    "/{b} is less specific than another chain's /{}",
                    max.unwrap_or(0)
                ),
            },
        );
    }

    /// 3. `server_names`: exact, then the longest wildcard suffix, then chains without names.
    fn server_names(&mut self, sni: Option<&str>) {
        let rank = |m: &FilterChainMatch| sni_rank(&m.server_names, sni);
        let top = self.cands.iter().filter_map(|&i| rank(&self.fcms[i])).min();
        self.keep(
            |m| rank(m).is_some() && rank(m) == top,
            |m| match (rank(m), sni) {
                (None, None) => format!(
                    "needs SNI {}; the connection sends none",
                    m.server_names.join(", ")
                ),
                (None, Some(s)) => format!(
                    "server_names {} do not match {s}",
                    m.server_names.join(", ")
                ),
                _ => "a chain with a more specific server name match wins".into(),
            },
        );
    }

    /// 4. `transport_protocol`: the detected one, else chains naming none.
    fn transport_protocol(&mut self, transport: &str) {
        let tp = |m: &FilterChainMatch| m.transport_protocol.clone().unwrap_or_default();
        let exact_tp = self.any(|m| tp(m) == transport);
        self.keep(
            |m| {
                if exact_tp {
                    tp(m) == transport
                } else {
                    tp(m).is_empty()
                }
            },
            |m| {
                if tp(m).is_empty() {
                    format!("no transport_protocol; a chain for {transport} is more specific")
                } else {
                    format!("transport_protocol {} ≠ {transport}", tp(m))
                }
            },
        );
    }

    /// 5. `application_protocols`: the first protocol of the connection some chain lists, else
    ///    chains listing none.
    fn application_protocols(&mut self, alpn: &[String]) {
        let chosen = alpn
            .iter()
            .find(|a| self.any(|m| m.application_protocols.contains(a)))
            .cloned();
        let alpn_text = if alpn.is_empty() {
            "none".to_string()
        } else {
            alpn.join(", ")
        };
        self.keep(
            |m| match &chosen {
                Some(a) => m.application_protocols.contains(a),
                None => m.application_protocols.is_empty(),
            },
            |m| {
                if m.application_protocols.is_empty() {
                    "no application_protocols; a chain listing the connection's protocol wins"
                        .into()
                } else {
                    format!(
                        "application_protocols {} do not include the connection's ({alpn_text})",
                        m.application_protocols.join(", ")
                    )
                }
            },
        );
    }

    /// 6 and 8. A source-address criterion: the longest prefix containing the source; chains
    /// without ranges are /0.
    fn source_ranges(
        &mut self,
        ranges: fn(&FilterChainMatch) -> &Vec<CidrRange>,
        what: &str,
        src: Option<IpAddr>,
    ) {
        if !self.any(|m| !ranges(m).is_empty()) {
            return;
        }
        let best = |m: &FilterChainMatch| -> Option<u32> {
            let r = ranges(m);
            if r.is_empty() {
                Some(0)
            } else {
                src.and_then(|s| r.iter().filter(|c| c.contains(s)).map(|c| c.len()).max())
            }
        };
        if src.is_none() {
            self.notes.push(format!(
                "chains match on {what} but no --source was given: assuming it matches none of them"
            ));
        }
        let max = self.cands.iter().filter_map(|&i| best(&self.fcms[i])).max();
        self.keep(
            |m| best(m).is_some() && best(m) == max,
            |m| match best(m) {
                None => format!("{what} do not contain the source"),
                _ => format!("a chain with a more specific {what} wins"),
            },
        );
    }

    /// 7. `source_type`: the source's kind, else chains accepting any source.
    fn source_type(&mut self, conn: &Connection) {
        let st = |m: &FilterChainMatch| {
            m.source_type
                .clone()
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| "ANY".into())
        };
        if !self.any(|m| st(m) != "ANY") {
            return;
        }
        let want = if source_is_local(conn).unwrap_or(false) {
            "SAME_IP_OR_LOOPBACK"
        } else {
            "EXTERNAL"
        };
        let exact = self.any(|m| st(m) == want);
        self.keep(
            |m| if exact { st(m) == want } else { st(m) == "ANY" },
            |m| format!("source_type {} does not fit a {} source", st(m), want),
        );
    }

    /// 9. `source_ports`: the client's ephemeral port is unknown, so only chains without them.
    fn source_ports(&mut self) {
        if !self.any(|m| !m.source_ports.is_empty()) {
            return;
        }
        self.keep(
            |m| m.source_ports.is_empty(),
            |_| "matches on source_ports (the client's ephemeral port is not known)".into(),
        );
    }

    /// The chain left standing, `default_filter_chain` when none is, the first of a tie.
    fn choice(mut self) -> ChainChoice {
        let (chosen, how) = match self.cands.as_slice() {
            [i] => (
                Some(ChainRef::Index(*i)),
                if self.listener.filter_chains.len() == 1 {
                    "the listener's only filter chain".into()
                } else {
                    "the one chain left after matching in Envoy's order".into()
                },
            ),
            [] if self.listener.default_filter_chain.is_some() => (
                Some(ChainRef::Default),
                "no filter chain matched: default_filter_chain".into(),
            ),
            [] => (
                None,
                "no filter chain matched and there is no default_filter_chain: Envoy closes the connection".into(),
            ),
            [first, rest @ ..] => {
                self.notes.push(format!(
                    "{} chains have identical match criteria; Envoy rejects such a listener (\"multiple filter chains with the same matching rules are defined\"); taking the first",
                    rest.len() + 1
                ));
                (Some(ChainRef::Index(*first)), "filter_chain_match".into())
            }
        };
        ChainChoice {
            chosen,
            how,
            passed: self.passed,
            notes: self.notes,
        }
    }
}

/// How well `names` match the SNI: 0 = exact, 1.. = wildcard suffix (more specific first),
/// MAX = no server_names; None = no match.
fn sni_rank(names: &[String], sni: Option<&str>) -> Option<usize> {
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
}
