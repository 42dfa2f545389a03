//! MESH402 port-protocol-clash: HTTP and TCP owners share one `0.0.0.0:PORT` listener.

use std::collections::BTreeMap;

use crate::diagnostic::Severity;
use crate::envoy::trace::cluster_service;

use super::catch_all::{describe, scope_list};
use crate::rules::{Context, Rule, RuleMeta};

pub struct PortProtocolClash;

static META: RuleMeta = RuleMeta {
    code: "MESH402",
    name: "port-protocol-clash",
    summary: "HTTP and TCP owners share one 0.0.0.0:PORT listener",
    severity: Severity::Warning,
    istio_codes: &[],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH402-port-protocol-clash.md"),
};

impl Rule for PortProtocolClash {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        check_dumps(cx);
        let table = cx.listeners();
        let store = cx.store;
        // (http owner, tcp winner) → scopes.
        let mut clashes: BTreeMap<(usize, usize), Vec<usize>> = BTreeMap::new();
        for (s, sl) in table.scopes.iter().enumerate() {
            for w in sl.wildcard.values() {
                let Some(&tcp) = w.tcp.first() else { continue };
                for &http in &w.http {
                    if table.owners[http].resource != table.owners[tcp].resource {
                        clashes.entry((http, tcp)).or_default().push(s);
                    }
                }
            }
        }
        for ((http, tcp), scopes) in clashes {
            let (h, t) = (&table.owners[http], &table.owners[tcp]);
            let message = format!(
                "HTTP port {} shares listener 0.0.0.0:{} with the TCP catch-all of {} in {}: the sidecar must sniff every connection on port {}; HTTP goes to route \"{}\", everything else to {}, and server-first protocols (MySQL, SMTP, ...) wait for the sniffing timeout",
                h.port,
                h.port,
                describe(store, t),
                scope_list(store, &table, &scopes),
                h.port,
                h.port,
                t.cluster(),
            );
            cx.report(h.resource, h.port_path.clone().key("name"), message)
                .help(format!(
                    "if this port is not HTTP, name it `tcp-…`; otherwise give {} `addresses` so its TCP chain leaves the wildcard listener, or move one of them to another port",
                    describe(store, t)
                ))
                .related(
                    t.resource,
                    t.port_path.clone(),
                    format!("TCP catch-all owner of 0.0.0.0:{}", t.port),
                );
        }
    }
}

/// On a config dump: one `0.0.0.0:PORT` listener routes HTTP by Host and sends every other
/// byte to a service cluster, so each connection waits for sniffing.
fn check_dumps(cx: &mut Context<'_>) {
    let catch_alls = cx.dump_catch_alls();
    let dumps = cx.dumps;
    for (d, found) in catch_alls.iter().enumerate() {
        let dump = &dumps[d].dump;
        for c in found.iter().filter(|c| c.has_http) {
            let l = &dump.listeners[c.listener];
            let first = &c.clusters[0];
            let owner = cluster_service(dump, first).unwrap_or_else(|| first.clone());
            let message = format!(
                "listener {} serves HTTP (routed by Host) and a TCP chain to {first} on port {}: the proxy sniffs every connection, server-first protocols (MySQL, SMTP, ...) wait for the sniffing timeout, and all non-HTTP traffic on the port goes to {owner}",
                l.label(),
                c.port,
            );
            cx.report_dump(d, ("Listener", l.label()), &l.pointer, &["name"], message)
                .help("if the HTTP service's port is really TCP, name it `tcp-…`; otherwise give the TCP owner a VIP (`addresses`, or DNS auto-allocation) so its chain leaves the wildcard listener");
        }
    }
}
