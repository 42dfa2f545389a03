//! Listener choice: the `use_original_dst` hand-off by original destination.

use std::net::IpAddr;

use super::{Connection, Passed, Step};
use crate::envoy::model::{Dump, DumpListener};

/// How many listeners passed over on the port the listener step lists before summarising.
const PASSED_LIMIT: usize = 12;

fn parse_ip(s: &str) -> Option<IpAddr> {
    s.parse().ok()
}

fn is_any(ip: &str) -> bool {
    matches!(ip, "0.0.0.0" | "::" | "[::]" | "0:0:0:0:0:0:0:0")
}

/// Whether a listener address catches `dest` as the any-address of its family.
fn any_address_for(ip: &str, ipv4_compat: bool, dest: IpAddr) -> bool {
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
            } else if any_address_for(ip, sa.ipv4_compat == Some(true), dest) {
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

/// The listener that takes `conn` and the `listener` steps that lead to it; Err holds the
/// listeners passed over when none does.
pub(super) fn arrive(
    dump: &Dump,
    conn: &Connection,
    skip: &[usize],
) -> Result<(usize, Vec<Step>), Vec<Passed>> {
    let hand_off = dump.hand_off_listener();
    let (target, how, passed) = hand_off_target(dump, conn.dest, conn.port, skip);
    let mut steps = Vec::new();
    let (li, note) = match (hand_off, target) {
        (Some((h, hl)), Some(t)) if t != h => {
            steps.push(hand_off_step(hl, conn));
            (t, handed_to_note(how, conn))
        }
        (Some((h, hl)), _) => (h, stays_note(target == Some(h), hl, conn)),
        (None, Some(t)) => (
            t,
            format!(
                "no use_original_dst listener in the dump: the connection is taken as arriving on {}",
                conn.dest_text()
            ),
        ),
        (None, None) => return Err(passed),
    };
    steps.push(chosen_step(&dump.listeners[li], note, passed));
    Ok((li, steps))
}

/// The `use_original_dst` listener the redirected connection lands on first.
fn hand_off_step(hl: &DumpListener, conn: &Connection) -> Step {
    Step {
        stage: "listener".into(),
        chosen: format!("{} {}", hl.label(), hl.listener.address_text()),
        pointer: Some(hl.pointer.clone()),
        notes: vec![format!(
            "use_original_dst: the redirected connection is handed off by its original destination {}",
            conn.dest_text()
        )],
        passed_over: Vec::new(),
    }
}

/// Why the hand-off went to the listener it went to.
fn handed_to_note(how: &str, conn: &Connection) -> String {
    if how == "exact" {
        format!("bound to exactly {}", conn.dest_text())
    } else {
        format!(
            "no listener on exactly {}; the any-address listener on port {} takes it",
            conn.dest_text(),
            conn.port
        )
    }
}

/// Why the connection stays on the hand-off listener `hl`.
fn stays_note(own_address: bool, hl: &DumpListener, conn: &Connection) -> String {
    if own_address {
        format!(
            "{} is the hand-off listener's own address",
            conn.dest_text()
        )
    } else {
        format!(
            "no listener on {} or on the any-address for port {}: the connection stays on {}, matched against its own filter chains",
            conn.dest_text(),
            conn.port,
            hl.label()
        )
    }
}

/// The listener that takes the connection, with the others bound to the port.
fn chosen_step(dl: &DumpListener, note: String, mut passed: Vec<Passed>) -> Step {
    passed.retain(|p| p.candidate != dl.label());
    if passed.len() > PASSED_LIMIT {
        let more = passed.len() - PASSED_LIMIT;
        passed.truncate(PASSED_LIMIT);
        passed.push(Passed {
            candidate: format!("… {more} more"),
            reason: "other addresses on this port".into(),
        });
    }
    Step {
        stage: "listener".into(),
        chosen: format!("{} {}", dl.label(), dl.listener.address_text()),
        pointer: Some(dl.pointer.clone()),
        notes: vec![note],
        passed_over: passed,
    }
}
