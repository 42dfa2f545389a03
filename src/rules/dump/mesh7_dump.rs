//! Checks on config dumps. The engine calls [`check`] for every dump it loaded; each finding
//! names the listener or cluster and carries its JSON pointer, plus `file:line` when the dump
//! came from a file.
//!
//! Dump findings reuse the manifest codes where the meaning is the same (MESH301/302 for a TCP
//! catch-all whose owner is an ExternalName Service / a ServiceEntry, MESH401 for an owner the
//! catch-all shadows) and take 7xx codes for what only a dump shows.

use std::cell::RefCell;
use std::collections::BTreeSet;

use crate::diagnostic::{Finding, Location, Related, ResourceRef, Severity};
use crate::envoy::load::LoadedDump;
use crate::envoy::model::{Dump, parse_cluster_name};
use crate::envoy::table::{self as table, CatchAll};
use crate::envoy::trace::{self, ChainRef, Connection, chain_label, cluster_service};
use crate::source::SourceFile;
use crate::source::pointer::{JsonLocator, end_of, yaml_pos};

use crate::rules::{RuleMeta, find};

/// What the dump checks report through.
pub struct DumpCx<'a> {
    pub dump: &'a Dump,
    file: &'a SourceFile,
    yaml: Option<&'a crate::source::Node>,
    locator: RefCell<JsonLocator<'a>>,
    enabled: &'a BTreeSet<&'static str>,
    findings: Vec<Finding>,
}

impl<'a> DumpCx<'a> {
    pub fn enabled(&self, code: &str) -> bool {
        self.enabled.contains(code)
    }

    /// The position of `pointer` (trying `pointer/prefer` first, e.g. the listener's `name`).
    pub fn locate(&self, pointer: &str, prefer: &[&str]) -> Location {
        let mut loc = Location {
            file: self.file.path.clone(),
            pointer: Some(pointer.to_string()),
            ..Location::default()
        };
        let candidates: Vec<String> = prefer
            .iter()
            .map(|p| format!("{pointer}/{}", self.dump.key(p)))
            .chain(std::iter::once(pointer.to_string()))
            .collect();
        if let Some(root) = self.yaml {
            if let Some(pos) = candidates.iter().find_map(|p| yaml_pos(root, p)) {
                let (end_line, end_column) =
                    end_of(&self.file.text, pos.offset, pos.len, pos.line, pos.column);
                loc.line = pos.line;
                loc.column = pos.column;
                loc.end_line = end_line;
                loc.end_column = end_column;
                loc.offset = pos.offset;
                loc.len = pos.len;
            }
            return loc;
        }
        let mut locator = self.locator.borrow_mut();
        let Some((offset, len)) = candidates.iter().find_map(|p| locator.span(p)) else {
            return loc;
        };
        // A container's span is the whole object: mark its first character only.
        let first = self.file.text.as_bytes().get(offset).copied();
        let len = if matches!(first, Some(b'{' | b'[')) {
            1
        } else {
            len
        };
        let (line, column) = locator.line_col(offset);
        let (end_line, end_column) = locator.line_col(offset + len);
        loc.line = line;
        loc.column = column;
        loc.end_line = end_line;
        loc.end_column = end_column;
        loc.offset = offset;
        loc.len = len;
        loc
    }

    /// Reports a finding for rule `code` on the dump object at `pointer`.
    pub fn report(
        &mut self,
        code: &'static str,
        resource: (&str, &str),
        loc: Location,
        message: String,
    ) -> &mut Finding {
        let meta: &RuleMeta = find(code).expect("dump rules are registered").meta();
        self.findings.push(Finding {
            code: meta.code,
            name: meta.name,
            severity: meta.severity,
            message,
            help: None,
            resource: ResourceRef {
                kind: resource.0.to_string(),
                namespace: String::new(),
                name: resource.1.to_string(),
            },
            location: loc,
            related: Vec::new(),
            istio_codes: meta.istio_codes.to_vec(),
        });
        self.findings.last_mut().expect("just pushed")
    }

    pub fn related(&self, pointer: &str, prefer: &[&str], message: String) -> Related {
        Related {
            message,
            location: self.locate(pointer, prefer),
        }
    }
}

/// Runs every enabled dump check on one loaded dump.
pub fn check(ld: &LoadedDump, file: &SourceFile, enabled: &BTreeSet<&'static str>) -> Vec<Finding> {
    let mut cx = DumpCx {
        dump: &ld.dump,
        file,
        yaml: ld.yaml.as_ref(),
        locator: RefCell::new(JsonLocator::new(&file.text)),
        enabled,
        findings: Vec::new(),
    };
    super::mesh701_listener_error_state::check(&mut cx);
    super::mesh702_listener_not_serving::check(&mut cx);
    super::mesh703_duplicate_listener_address::check(&mut cx);
    catch_all_findings(&mut cx);
    super::mesh704_unreached_outbound_cluster::check(&mut cx);
    for f in &mut cx.findings {
        if let Some(p) = &f.location.pointer
            && f.location.line == 0
        {
            // No file position (e.g. the pointer could not be found): say where in the dump.
            f.message.push_str(&format!(" [{p}]"));
        }
    }
    cx.findings
}

/// The service kind behind a catch-all cluster: which code describes it.
fn catch_all_code(dump: &Dump, cluster: &str) -> (&'static str, &'static str) {
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
            "MESH301",
            "a Kubernetes ExternalName Service (before Istio 1.21 its TCP ports get a 0.0.0.0 listener)",
        ),
        _ if !host.is_empty() && !in_cluster => (
            "MESH302",
            "a ServiceEntry without addresses (its TCP port gets a 0.0.0.0 listener)",
        ),
        Some("ORIGINAL_DST") if in_cluster => (
            "MESH705",
            "a headless Service (older Istio gave its TCP ports a 0.0.0.0 listener)",
        ),
        _ => ("MESH705", "a service without a VIP for this proxy"),
    }
}

/// TCP catch-all listeners (MESH301/302/705) and the owners they shadow (MESH401).
fn catch_all_findings(cx: &mut DumpCx<'_>) {
    let dump = cx.dump;
    let catch = table::catch_alls(dump);
    for c in &catch {
        catch_all_finding(cx, c);
        if c.has_http {
            clash_finding(cx, c);
        }
    }
}

/// MESH402 on a dump: one `0.0.0.0:PORT` listener routes HTTP by Host and sends every other
/// byte to a service cluster, so each connection waits for sniffing.
fn clash_finding(cx: &mut DumpCx<'_>, c: &CatchAll) {
    if !cx.enabled("MESH402") {
        return;
    }
    let dump = cx.dump;
    let l = &dump.listeners[c.listener];
    let first = &c.clusters[0];
    let owner = cluster_service(dump, first).unwrap_or_else(|| first.clone());
    let message = format!(
        "listener {} serves HTTP (routed by Host) and a TCP chain to {first} on port {}: the proxy sniffs every connection, server-first protocols (MySQL, SMTP, ...) wait for the sniffing timeout, and all non-HTTP traffic on the port goes to {owner}",
        l.label(),
        c.port,
    );
    let loc = cx.locate(&l.pointer, &["name"]);
    let label = l.label();
    let f = cx.report("MESH402", ("Listener", &label), loc, message);
    f.help = Some(
        "if the HTTP service's port is really TCP, name it `tcp-…`; otherwise give the TCP owner a VIP (`addresses`, or DNS auto-allocation) so its chain leaves the wildcard listener".into(),
    );
}

fn catch_all_finding(cx: &mut DumpCx<'_>, c: &CatchAll) {
    let dump = cx.dump;
    let l = &dump.listeners[c.listener];
    let first = &c.clusters[0];
    let (code, what) = catch_all_code(dump, first);
    if !cx.enabled(code) {
        return;
    }
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
    let instead = if c.fallback.is_empty() {
        String::new()
    } else {
        format!(" instead of {}", c.fallback.join(", "))
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
    let help = match code {
        "MESH301" => {
            "annotate the ExternalName Service with `networking.istio.io/exportTo: \".\"`, drop its TCP port, use a ServiceEntry with `addresses` or a VirtualService instead, or upgrade to Istio ≥ 1.21 (ExternalName Services become aliases); `meshlint trace` shows where a given destination goes"
        }
        "MESH302" => {
            "give the ServiceEntry `addresses` (or enable DNS auto-allocation: ISTIO_META_DNS_CAPTURE + ISTIO_META_DNS_AUTO_ALLOCATE), or declare the port TLS/HTTPS so it is routed by SNI; `meshlint trace` shows where a given destination goes"
        }
        _ => {
            "find the service behind the cluster and give it a VIP, export it only where it is used (`exportTo`), or move it to a port no other traffic uses; `meshlint trace` shows where a given destination goes"
        }
    };
    let severity = if original_dst {
        Severity::Warning
    } else {
        Severity::Error
    };
    let chain_ptr = match c.chain {
        ChainRef::Index(i) => format!("{}/{}/{i}", l.pointer, dump.key("filter_chains")),
        ChainRef::Default => format!("{}/{}", l.pointer, dump.key("default_filter_chain")),
    };
    let loc = cx.locate(&l.pointer, &["name"]);
    let cluster_related = dump
        .cluster(first)
        .map(|k| cx.related(&k.pointer, &["name"], format!("cluster {first}")));
    let label = l.label();
    let f = cx.report(code, ("Listener", &label), loc, message);
    f.severity = severity;
    f.help = Some(format!("{help} (the chain: JSON pointer {chain_ptr})"));
    f.related.extend(cluster_related);
}
