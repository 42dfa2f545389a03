//! MESH302 serviceentry-catch-all: a TCP (or unset-protocol) ServiceEntry port without
//! addresses becomes a `0.0.0.0:PORT` listener that captures traffic to every IP on that port.
//!
//! The condition is istio's IST0134 (no `addresses`, none allocated in `status`, and no DNS
//! capture with auto-allocation in the mesh config); the severity depends on whether anything
//! else uses the port where the listener appears.

use crate::diagnostic::Severity;
use crate::mesh::owners::{OwnerKind, Proto, auto_allocation};
use crate::model::Spec;

use super::catch_all::{
    container_port_path, describe, port_field, scope_list, scopes_with, victims, workload_list,
};
use crate::rules::listeners::dump_catch_all::{self, Behind};
use crate::rules::{Context, Rule, RuleMeta};

pub struct ServiceEntryCatchAll;

/// How many other owners a finding names: ports shared by thousands of entries would
/// otherwise make every message list all of them.
const MAX_LISTED: usize = 5;

fn capped(names: &[String]) -> String {
    if names.len() <= MAX_LISTED {
        names.join(", ")
    } else {
        format!(
            "{} and {} more",
            names[..MAX_LISTED].join(", "),
            names.len() - MAX_LISTED
        )
    }
}

static META: RuleMeta = RuleMeta {
    code: "MESH302",
    name: "serviceentry-catch-all",
    summary: "TCP ServiceEntry port without addresses opens a 0.0.0.0 catch-all listener",
    severity: Severity::Info,
    istio_codes: &["IST0134"],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH302-serviceentry-catch-all.md"),
};

/// The help on a config dump's catch-all listener owned by this rule's kind of service.
const DUMP_HELP: &str = "give the ServiceEntry `addresses` (or enable DNS auto-allocation: ISTIO_META_DNS_CAPTURE + ISTIO_META_DNS_AUTO_ALLOCATE), or declare the port TLS/HTTPS so it is routed by SNI; `meshlint trace` shows where a given destination goes";

impl Rule for ServiceEntryCatchAll {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        dump_catch_all::report(cx, Behind::ServiceEntry, DUMP_HELP);
        if auto_allocation(cx.settings) {
            return;
        }
        let table = cx.listeners();
        let store = cx.store;
        // One finding per ServiceEntry port, however many hosts it lists.
        let mut seen = std::collections::BTreeSet::new();
        for (i, owner) in table.owners.iter().enumerate() {
            if owner.kind != OwnerKind::ServiceEntry
                || !owner.proto.is_tcp_like()
                || owner.addr != crate::mesh::owners::Addr::Wildcard
                || !seen.insert((owner.resource, owner.port_path.clone()))
            {
                continue;
            }
            let Spec::ServiceEntry(se) = &store.get(owner.resource).spec else {
                continue;
            };
            let declared = se
                .ports
                .iter()
                .find(|p| p.number == Some(owner.port))
                .and_then(|p| p.protocol.clone())
                .unwrap_or_default();
            let ist0134 = declared.is_empty() || declared.eq_ignore_ascii_case("TCP");
            let scopes = scopes_with(&table, i);
            let other_ids: std::collections::BTreeSet<usize> = scopes
                .iter()
                .filter_map(|&s| table.scopes[s].wildcard.get(&owner.port))
                .flat_map(|w| w.tcp.iter().chain(&w.http).chain(&w.tls))
                .copied()
                .filter(|&j| table.owners[j].resource != owner.resource)
                .collect();
            let others: Vec<String> = other_ids
                .iter()
                .map(|&j| describe(store, &table.owners[j]))
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            let hit = victims(cx.graph, &table, i);
            let proto = if owner.proto == Proto::Auto {
                "no protocol (sniffed, so its TCP part is forwarded by port)".to_string()
            } else {
                format!("protocol {declared}")
            };
            let hosts = se.hosts.join(", ");
            let mut message = format!(
                "port {} has {proto} and the entry has no `addresses`, so sidecars that import it get a listener 0.0.0.0:{} whose TCP chain sends traffic to any IP on port {} to {}",
                owner.port, owner.port, owner.port, hosts
            );
            if scopes.is_empty() && cx.ambient().any_ambient() {
                message.push_str(
                    " (no sidecar in the input imports it: the namespaces that could are ambient or outside the mesh, or exportTo or Sidecar egress hides it; ztunnel and waypoints build no such listener, any sidecar that imports it does)",
                );
            } else if scopes.is_empty() {
                message.push_str(
                    " (no proxy scope in the input imports it, because of exportTo or Sidecar egress; any proxy that does gets the listener)",
                );
            } else {
                message.push_str(&format!(" (in {})", scope_list(store, &table, &scopes)));
            }
            let busy = !others.is_empty() || !hit.is_empty();
            if !others.is_empty() {
                message.push_str(&format!("; the port is also used by {}", capped(&others)));
            }
            if !hit.is_empty() {
                message.push_str(&format!(
                    "; pods of {} serve port {} and their pod-IP traffic is captured",
                    workload_list(store, &hit),
                    owner.port
                ));
            }
            let path = if se.ports.iter().any(|p| p.protocol.is_some()) {
                owner.port_path.clone().key("protocol")
            } else {
                port_field(owner)
            };
            let path = if store.get(owner.resource).node.lookup(&path).1 {
                path
            } else {
                port_field(owner)
            };
            let istio: &'static [&'static str] = if ist0134 { &["IST0134"] } else { &[] };
            let mut reported = cx
                .report(owner.resource, path, message)
                .severity(if busy { Severity::Warning } else { Severity::Info })
                .istio(istio)
                .help(
                    "add `addresses` (a VIP or CIDR) so the listener binds that address instead of 0.0.0.0, declare the port TLS/HTTPS if the traffic is TLS so SNI routes it, or enable DNS auto-allocation (`ISTIO_META_DNS_CAPTURE` and `ISTIO_META_DNS_AUTO_ALLOCATE` in proxyMetadata)",
                );
            // Named in an order of their own, not the input's.
            let mut listed: Vec<usize> = other_ids.iter().copied().collect();
            listed.sort_by(|&a, &b| {
                let (a, b) = (&table.owners[a], &table.owners[b]);
                (&a.namespace, &a.host, &a.sort_name).cmp(&(&b.namespace, &b.host, &b.sort_name))
            });
            for &j in listed.iter().take(MAX_LISTED) {
                let o = &table.owners[j];
                reported = reported.related(
                    o.resource,
                    port_field(o),
                    format!("{} also uses 0.0.0.0:{}", describe(store, o), o.port),
                );
            }
            for &w in &hit {
                let r = store.get(w);
                reported = reported.related(
                    w,
                    container_port_path(r, owner.port),
                    format!(
                        "{} {}/{} serves port {}",
                        r.kind, r.namespace, r.name, owner.port
                    ),
                );
            }
        }
    }
}
