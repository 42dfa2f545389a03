//! MESH703 duplicate-listener-address: two listeners bind one address:port.

use crate::diagnostic::Severity;
use crate::envoy::table::duplicate_binds;

use super::mesh7_dump::DumpCx;
use crate::rules::{Rule, RuleMeta};

pub struct DuplicateListenerAddress;

pub(super) static META: RuleMeta = RuleMeta {
    code: "MESH703",
    name: "duplicate-listener-address",
    summary: "two listeners bind the same address and port",
    severity: Severity::Error,
    istio_codes: &[],
    doc: include_str!("../../../rules/MESH703-duplicate-listener-address.md"),
};

impl Rule for DuplicateListenerAddress {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
}

pub(super) fn check(cx: &mut DumpCx<'_>) {
    if !cx.enabled(META.code) {
        return;
    }
    let dump = cx.dump;
    for d in duplicate_binds(dump) {
        let first = &dump.listeners[d.listeners[0]];
        for &j in &d.listeners[1..] {
            let l = &dump.listeners[j];
            let message = format!(
                "listeners {} and {} both bind {}: Envoy keeps the first and rejects the other (\"error adding listener: '{}' has duplicate address '{}' as existing listener\"); traffic for {} reaches only {}",
                first.label(),
                l.label(),
                d.address,
                l.label(),
                d.address,
                d.address,
                first.label()
            );
            let loc = cx.locate(&l.pointer, &["name"]);
            let related = cx.related(
                &first.pointer,
                &["name"],
                format!("{} binds {} first", first.label(), d.address),
            );
            let label = l.label();
            let f = cx.report(META.code, ("Listener", &label), loc, message);
            f.help = Some("remove one of them: usually an EnvoyFilter ADD patch, a TCP service without a VIP on a sidecar port (15001, 15006, 15021, 15090), or overlapping additional_addresses".into());
            f.related.push(related);
        }
    }
}
