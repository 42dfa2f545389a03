//! MESH703 duplicate-listener-address: two listeners bind one address:port.

use crate::diagnostic::Severity;
use crate::envoy::table::duplicate_binds;

use crate::rules::{Context, Rule, RuleMeta};

pub struct DuplicateListenerAddress;

static META: RuleMeta = RuleMeta {
    code: "MESH703",
    name: "duplicate-listener-address",
    summary: "two listeners bind the same address and port",
    severity: Severity::Error,
    istio_codes: &[],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH703-duplicate-listener-address.md"),
};

impl Rule for DuplicateListenerAddress {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        for d in 0..cx.dumps.len() {
            check_dump(cx, d);
        }
    }
}

fn check_dump(cx: &mut Context<'_>, dump_id: usize) {
    let dump = &cx.dumps[dump_id].dump;
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
            cx.report_dump(dump_id, ("Listener", l.label()), &l.pointer, &["name"], message)
                .help("remove one of them: usually an EnvoyFilter ADD patch, a TCP service without a VIP on a sidecar port (15001, 15006, 15021, 15090), or overlapping additional_addresses")
                .related_dump(
                    &first.pointer,
                    &["name"],
                    format!("{} binds {} first", first.label(), d.address),
                );
        }
    }
}
