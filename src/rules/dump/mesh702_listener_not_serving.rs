//! MESH702 listener-not-serving: a listener the dump shows warming or draining.

use crate::diagnostic::Severity;
use crate::envoy::model::ListenerState;

use crate::rules::{Context, Rule, RuleMeta};

pub struct ListenerNotServing;

static META: RuleMeta = RuleMeta {
    code: "MESH702",
    name: "listener-not-serving",
    summary: "a listener is warming (not yet taking connections) or draining",
    severity: Severity::Warning,
    istio_codes: &[],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH702-listener-not-serving.md"),
};

impl Rule for ListenerNotServing {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        for d in 0..cx.dumps.len() {
            check_dump(cx, d);
        }
    }
}

fn check_dump(cx: &mut Context<'_>, d: usize) {
    let dump = &cx.dumps[d].dump;
    for l in &dump.listeners {
        let active = || {
            dump.listeners
                .iter()
                .any(|o| o.state == ListenerState::Active && o.listener.name() == l.listener.name())
        };
        let (message, severity) = match l.state {
            ListenerState::Warming if active() => (
                format!(
                    "a new version of listener {} is warming; the previous version keeps serving until it is ready (normal during an update; if it stays, a route, secret or cluster it waits for never arrived)",
                    l.label()
                ),
                Severity::Info,
            ),
            ListenerState::Warming => (
                format!(
                    "listener {} ({}) is warming: it is not on the workers yet and takes no connections until its routes, secrets and clusters arrive",
                    l.label(),
                    l.listener.address_text()
                ),
                Severity::Warning,
            ),
            ListenerState::Draining => (
                format!(
                    "listener {} ({}) is draining: it is being removed; open connections finish there, new ones are not accepted",
                    l.label(),
                    l.listener.address_text()
                ),
                Severity::Info,
            ),
            _ => continue,
        };
        cx.report_dump(d, ("Listener", l.label()), &l.pointer, &["name"], message)
            .severity(severity)
            .help("take the dump again: a listener that stays warming waits for config that istiod never sent (check `istioctl proxy-status` for a stale or NACKed proxy)");
    }
}
