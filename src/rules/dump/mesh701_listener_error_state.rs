//! MESH701 listener-error-state: Envoy rejected a listener (`error_state` in the dump).

use crate::diagnostic::Severity;

use crate::rules::{Context, Rule, RuleMeta};

pub struct ListenerErrorState;

static META: RuleMeta = RuleMeta {
    code: "MESH701",
    name: "listener-error-state",
    summary: "Envoy rejected a listener: the dump shows it in error_state",
    severity: Severity::Error,
    istio_codes: &[],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH701-listener-error-state.md"),
};

impl Rule for ListenerErrorState {
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
    for e in &dump.errors {
        let quoted = e.details.trim();
        let address = e
            .failed
            .as_ref()
            .and_then(|l| l.ip_port().map(|_| l.address_text()));
        let when = e
            .last_update_attempt
            .as_deref()
            .map_or(String::new(), |t| format!(" at {t}"));
        let message = match &e.name {
            Some(name) => {
                let at = address
                    .as_deref()
                    .map_or(String::new(), |a| format!(" ({a})"));
                let effect = if e.has_active {
                    "the previous version of the listener stays active, so the config istiod sent is not in effect".to_string()
                } else if name == "virtualInbound" {
                    "no version of it is active: this proxy has no inbound listener, so traffic redirected to 15006 is refused".to_string()
                } else if name == "virtualOutbound" {
                    "no version of it is active: outbound traffic redirected to 15001 is refused"
                        .to_string()
                } else {
                    "no version of it is active: the proxy has no such listener".to_string()
                };
                format!("Envoy rejected listener {name}{at}{when}: \"{quoted}\"; {effect}")
            }
            None => {
                let failed = e.failed.as_ref().map_or(String::new(), |l| {
                    format!(
                        "; the configuration it failed on is listener {} ({})",
                        l.name(),
                        l.address_text()
                    )
                });
                format!(
                    "Envoy rejected a listener update{when} with an error tied to no listener name (the LDS response was NACKed): \"{quoted}\"{failed}"
                )
            }
        };
        let name = e.name.clone().unwrap_or_else(|| "(LDS update)".into());
        let dup = quoted.contains("duplicate address");
        cx.report_dump(d, ("Listener", name), &e.pointer, &["details"], message)
            .help(if dup {
            "two listeners claim one address: see MESH703; usually an EnvoyFilter ADD patch, a TCP service without a VIP on a sidecar port (15001, 15006, 15021, 15090), or overlapping additional_addresses. `istioctl proxy-status` shows the NACK".to_string()
        } else {
            "fix what Envoy quotes (often an EnvoyFilter patch producing invalid config); `istioctl proxy-status` shows the NACK and istiod logs `ADS:LDS: ACK ERROR`".to_string()
        });
    }
}
