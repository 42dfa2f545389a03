//! MESH802 listener-conflict: Gateway API listeners that cannot share a port: within one
//! Gateway (the spec's `Conflicted` condition), across Gateways served by one deployment, and
//! the same hostname and port on Gateways with separate deployments.

use std::collections::BTreeMap;

use crate::diagnostic::Severity;
use crate::mesh::gateway_api::gateways::{GatewayView, ListenerView};
use crate::model::{ResId, Store};
use crate::rules::{Context, Rule, RuleMeta};
use crate::source::FieldPath;

pub struct ListenerConflict;

static META: RuleMeta = RuleMeta {
    code: "MESH802",
    name: "listener-conflict",
    summary: "Gateway API listeners on one port that conflict (same hostname, or protocols that cannot share it)",
    severity: Severity::Error,
    istio_codes: &[],
    kiali_codes: &["KIA1501", "KIA1503"],
    opt_in: false,
    doc: include_str!("../../../rules/MESH802-listener-conflict.md"),
};

/// Where a listener is written: its hostname when set, else its port.
fn listener_path(store: &Store, gw: ResId, l: &ListenerView) -> FieldPath {
    let base = FieldPath::parse("spec.listeners").index(l.index);
    let field = if l.hostname.is_some() {
        "hostname"
    } else {
        "port"
    };
    if store.get(gw).node.lookup(&base.clone().key(field)).1 {
        base.key(field)
    } else {
        base
    }
}

fn describe(l: &ListenerView) -> String {
    format!(
        "listener {:?} ({} {} {})",
        l.name,
        l.protocol,
        l.port.map_or_else(|| "no port".into(), |p| p.to_string()),
        l.host()
    )
}

impl Rule for ListenerConflict {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let api = cx.gateway_api();
        let store = cx.store;
        for g in api.gateways.iter().filter(|g| g.class.routes_converted()) {
            let r = store.get(g.id);
            for l in &g.listeners {
                let Some(c) = &l.conflict else { continue };
                let winner = &g.listeners[c.with];
                // KIA1503 is a repeated hostname, port and protocol; istiod also compares
                // listeners of a protocol it does not know by protocol alone.
                let same_host = l.host().eq_ignore_ascii_case(winner.host());
                let unknown = if same_host || c.reason != "HostnameConflict" {
                    ""
                } else {
                    " (istiod tells listeners of a protocol it does not know apart by protocol alone, not by hostname)"
                };
                cx.report(
                    g.id,
                    listener_path(store, g.id, l),
                    format!(
                        "{} of Gateway {}/{} conflicts with the earlier {} (Conflicted=True, {}){unknown}: istiod programs only the earlier one, so routes attached here are served by no listener",
                        describe(l), r.namespace, r.name, describe(winner), c.reason
                    ),
                )
                .subkind("within-gateway")
                .kiali(if c.reason == "HostnameConflict" && same_host { &["KIA1503"] } else { &[] })
                .help("give the listeners different ports or hostnames, or merge them into one")
                .related(g.id, FieldPath::parse("spec.listeners").index(winner.index), "the listener that wins");
            }
        }
        across_gateways(cx, &api.gateways);
    }
}

/// Listeners of different Gateways with one port, protocol and hostname.
fn across_gateways(cx: &mut Context<'_>, gateways: &[GatewayView]) {
    let store = cx.store;
    type Key = (i64, String, String);
    let mut by_key: BTreeMap<Key, Vec<(usize, usize)>> = BTreeMap::new();
    for (gi, g) in gateways.iter().enumerate() {
        if !g.class.routes_converted() {
            continue;
        }
        for l in g.listeners.iter().filter(|l| l.conflict.is_none()) {
            let Some(port) = l.port else { continue };
            by_key
                .entry((
                    port,
                    l.protocol.to_ascii_uppercase(),
                    l.host().to_ascii_lowercase(),
                ))
                .or_default()
                .push((gi, l.index));
        }
    }
    for ((port, protocol, host), members) in by_key {
        if members.len() < 2 {
            continue;
        }
        for &(gi, li) in &members {
            let g = &gateways[gi];
            let l = &g.listeners[li];
            let others: Vec<&(usize, usize)> = members.iter().filter(|(o, _)| *o != gi).collect();
            let Some(&&(oi, ol)) = others.first() else {
                continue;
            };
            let other = &gateways[oi];
            let shared = g
                .deployment
                .services
                .iter()
                .any(|s| other.deployment.services.contains(s));
            // Separate deployments without a hostname share nothing a client names.
            if !shared && host == "*" {
                continue;
            }
            let (r, o) = (store.get(g.id), store.get(other.id));
            let more = if others.len() > 1 {
                format!(" and {} more", others.len() - 1)
            } else {
                String::new()
            };
            let (message, severity, subkind) = if shared {
                (
                    format!(
                        "{} of Gateway {}/{} and listener {:?} of Gateway {}/{}{more} serve {protocol} {host} on port {port} from the same deployment ({}): the proxy merges them like two Istio Gateways for one workload, so one set of routes shadows the other",
                        describe(l),
                        r.namespace,
                        r.name,
                        other.listeners[ol].name,
                        o.namespace,
                        o.name,
                        g.deployment.services.join(", ")
                    ),
                    Severity::Warning,
                    "shared-deployment",
                )
            } else {
                (
                    format!(
                        "{} of Gateway {}/{} and listener {:?} of Gateway {}/{}{more} serve {protocol} {host} on port {port}; each Gateway has its own deployment and address, so which one a client reaches depends on where DNS points {host}",
                        describe(l),
                        r.namespace,
                        r.name,
                        other.listeners[ol].name,
                        o.namespace,
                        o.name
                    ),
                    Severity::Info,
                    "same-host-other-gateway",
                )
            };
            cx.report(g.id, listener_path(store, g.id, l), message)
                .subkind(subkind)
                .severity(severity)
                .kiali(&["KIA1501"])
                .help("serve each hostname and port from one Gateway, or give the listeners different hostnames")
                .related(other.id, FieldPath::parse("spec.listeners").index(ol), "the other Gateway's listener");
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::diagnostic::Severity;
    use crate::rules::testing::findings_of;

    fn gw(name: &str, extra: &str, listeners: &str) -> String {
        format!(
            "---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: {name}, namespace: infra}}\nspec: {{gatewayClassName: istio, {extra} listeners: {listeners}}}\n"
        )
    }

    #[test]
    fn conflicts_within_a_gateway_name_the_winner() {
        let f = findings_of(
            "MESH802",
            &gw(
                "a",
                "",
                "[{name: one, port: 80, protocol: HTTP, hostname: a.com}, {name: two, port: 80, protocol: HTTP, hostname: a.com}, {name: tcp, port: 80, protocol: TCP}]",
            ),
        );
        assert_eq!(f.len(), 2, "{f:#?}");
        assert!(
            f[0].message.contains("\"two\"") && f[0].message.contains("HostnameConflict"),
            "{}",
            f[0].message
        );
        assert_eq!(f[0].kiali_codes, vec!["KIA1503"]);
        assert!(
            f[1].message.contains("ProtocolConflict"),
            "{}",
            f[1].message
        );
        assert!(f[1].kiali_codes.is_empty());
    }

    #[test]
    fn unknown_protocols_conflict_by_protocol_alone_without_a_kiali_code() {
        let f = findings_of(
            "MESH802",
            &gw(
                "a",
                "",
                "[{name: one, port: 80, protocol: http, hostname: a.com}, {name: two, port: 80, protocol: http, hostname: b.com}]",
            ),
        );
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(
            f[0].message.contains("by protocol alone"),
            "{}",
            f[0].message
        );
        assert!(f[0].kiali_codes.is_empty());
    }

    #[test]
    fn other_gateways_are_info_unless_they_share_a_deployment() {
        let l = "[{name: web, port: 80, protocol: HTTP, hostname: a.com}]";
        let f = findings_of("MESH802", &format!("{}{}", gw("a", "", l), gw("b", "", l)));
        assert_eq!(f.len(), 2, "{f:#?}");
        assert!(f.iter().all(|f| f.severity == Severity::Info));
        let shared = "addresses: [{type: Hostname, value: ingress}],";
        let f = findings_of(
            "MESH802",
            &format!("{}{}", gw("a", shared, l), gw("b", shared, l)),
        );
        assert!(
            f.iter()
                .all(|f| f.severity == Severity::Warning && f.subkind == Some("shared-deployment")),
            "{f:#?}"
        );
        let other = "[{name: web, port: 80, protocol: HTTP, hostname: b.com}]";
        assert!(
            findings_of(
                "MESH802",
                &format!("{}{}", gw("a", "", l), gw("b", "", other))
            )
            .is_empty()
        );
    }
}
