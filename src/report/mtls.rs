//! The rendering of `meshlint mtls`: per namespace, what each workload port accepts, then what
//! clients send to each destination and whether the server takes it.

use std::collections::BTreeSet;

use crate::engine::{AuthzRow, InboundRow, MtlsTable, OutboundRow};

use super::text::{visible, visible_list};

/// The rows of namespace `ns`, or of every namespace.
fn wanted(ns: Option<&str>, row_ns: &str) -> bool {
    ns.is_none_or(|n| n == row_ns)
}

pub fn human(t: &MtlsTable, namespace: Option<&str>) -> String {
    let mut out = format!(
        "root namespace {}, auto mTLS {}\n",
        visible(&t.root_namespace),
        if t.auto_mtls { "on" } else { "off" }
    );
    let namespaces: BTreeSet<&str> = t
        .inbound
        .iter()
        .map(|r| r.namespace.as_str())
        .chain(t.outbound.iter().map(|r| r.server_namespace.as_str()))
        .chain(t.authorization.iter().map(|r| r.namespace.as_str()))
        .filter(|n| wanted(namespace, n))
        .collect();
    for ns in namespaces {
        out.push_str(&format!("\nnamespace {}\n", visible(ns)));
        let inbound: Vec<&InboundRow> = t.inbound.iter().filter(|r| r.namespace == ns).collect();
        if !inbound.is_empty() {
            out.push_str("  inbound: what each workload port accepts\n");
            let width = inbound
                .iter()
                .map(|r| visible(&r.workload).len())
                .max()
                .unwrap_or(0);
            for r in inbound {
                let why = if r.mode == "no sidecar" {
                    r.sidecar.trim_start_matches("no: ").to_string()
                } else {
                    r.policy.clone()
                };
                out.push_str(&format!(
                    "    {:<width$} {:>5}  {:<10}  {}\n",
                    visible(&r.workload),
                    r.port,
                    r.mode,
                    visible(&why)
                ));
            }
        }
        let outbound: Vec<&OutboundRow> = t
            .outbound
            .iter()
            .filter(|r| r.server_namespace == ns)
            .collect();
        if !outbound.is_empty() {
            out.push_str("  outbound: what clients send to each destination\n");
        }
        let mut last: Option<(&str, &str)> = None;
        for r in outbound {
            if last != Some((&r.destination, &r.server)) {
                let via = if r.accepts_via.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", visible(&r.accepts_via))
                };
                let accepts = if r.accepts == "no sidecar" {
                    "has no sidecar".to_string()
                } else {
                    format!("accepts {}", r.accepts)
                };
                out.push_str(&format!(
                    "    {} -> {}: {accepts}{via}\n",
                    visible(&r.destination),
                    visible(&r.server)
                ));
                last = Some((&r.destination, &r.server));
            }
            let verdict = match &r.problem {
                Some(p) => format!("  MISMATCH: {}", visible(p)),
                None => "  ok".into(),
            };
            out.push_str(&format!(
                "      clients in {}: {} via {}{verdict}\n",
                visible_list(&r.clients),
                visible(&r.sends),
                visible(&r.via)
            ));
        }
        out.push_str(&authorization(t, ns));
    }
    let mismatches = t
        .outbound
        .iter()
        .filter(|r| wanted(namespace, &r.server_namespace) && r.problem.is_some())
        .count();
    out.push_str(&format!(
        "\n{mismatches} mismatch{}\n",
        if mismatches == 1 { "" } else { "es" }
    ));
    out
}

/// Per workload, the AuthorizationPolicies in the order Envoy evaluates them.
fn authorization(t: &MtlsTable, ns: &str) -> String {
    let rows: Vec<&AuthzRow> = t
        .authorization
        .iter()
        .filter(|r| r.namespace == ns)
        .collect();
    if rows.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "  authorization: the policies of each workload, in the order they are evaluated\n",
    );
    for r in rows {
        let mut parts = Vec::new();
        for (action, list) in [
            ("CUSTOM", &r.custom),
            ("DENY", &r.deny),
            ("AUDIT", &r.audit),
            ("ALLOW", &r.allow),
        ] {
            if !list.is_empty() {
                parts.push(format!("{action} {}", visible_list(list)));
            }
        }
        let verdict = if r.default_deny {
            "what no ALLOW rule matches is denied"
        } else if parts.is_empty() {
            "no policy: every request is allowed"
        } else {
            "no ALLOW policy: what is not denied is allowed"
        };
        let parts = if parts.is_empty() {
            String::new()
        } else {
            format!("{}; ", parts.join("; "))
        };
        out.push_str(&format!("    {}: {parts}{verdict}\n", visible(&r.workload)));
    }
    out
}

pub fn json(t: &MtlsTable, namespace: Option<&str>) -> String {
    let inbound: Vec<&InboundRow> = t
        .inbound
        .iter()
        .filter(|r| wanted(namespace, &r.namespace))
        .collect();
    let outbound: Vec<&OutboundRow> = t
        .outbound
        .iter()
        .filter(|r| wanted(namespace, &r.server_namespace))
        .collect();
    let authorization: Vec<&AuthzRow> = t
        .authorization
        .iter()
        .filter(|r| wanted(namespace, &r.namespace))
        .collect();
    let mut s = serde_json::to_string_pretty(&serde_json::json!({
        "version": 1,
        "authorization": authorization,
        "root_namespace": t.root_namespace,
        "auto_mtls": t.auto_mtls,
        "inbound": inbound,
        "outbound": outbound,
    }))
    .expect("JSON values always serialise");
    s.push('\n');
    s
}
