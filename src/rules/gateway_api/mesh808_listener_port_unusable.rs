//! MESH808 listener-port-unusable: a Gateway API listener istiod's gateway cannot serve: a port
//! the generated Service already uses (15021) or the proxy itself binds (15000, 15020, ...), a
//! protocol istio's class does not take, HTTPS/TLS without `tls` (unless ListenerSets extend
//! the Gateway), or certificate references istiod cannot resolve (`buildTLS`).

use crate::diagnostic::Severity;
use crate::mesh::gateway_api::gateways::Class;
use crate::mesh::gateway_api::tls;
use crate::rules::{Context, Rule, RuleMeta};
use crate::source::FieldPath;

pub struct ListenerPortUnusable;

static META: RuleMeta = RuleMeta {
    code: "MESH808",
    name: "listener-port-unusable",
    summary: "a Gateway API listener on a port istio's gateway already uses, with a protocol it does not take, HTTPS/TLS without tls, or certificates istiod cannot resolve",
    severity: Severity::Error,
    istio_codes: &[],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH808-listener-port-unusable.md"),
};

/// The ports an istio gateway pod binds itself (`manifests/charts/istio-control/istio-discovery/
/// files/kube-gateway.yaml`, pilot-agent and Envoy defaults). Other ports of 15000-15090 are
/// free on a gateway: an east-west gateway serves istiod's 15012 and 15017 (istio's own
/// `eastwest` controller test input).
fn own_port(port: i64) -> Option<&'static str> {
    Some(match port {
        15000 => "Envoy admin",
        15001 => "outbound capture",
        15004 => "pilot-agent debug",
        15006 => "inbound capture",
        15008 => "HBONE",
        15020 => "pilot-agent merged metrics and status",
        15021 => "the health check status port",
        15053 => "DNS proxy",
        15090 => "Envoy Prometheus metrics",
        _ => return None,
    })
}

impl Rule for ListenerPortUnusable {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let api = cx.gateway_api();
        let store = cx.store;
        for g in api
            .gateways
            .iter()
            .filter(|g| g.class.routes_converted() || g.class == Class::Waypoint)
        {
            let r = store.get(g.id);
            for l in g.listeners.iter().filter(|l| l.conflict.is_none()) {
                let base = FieldPath::parse("spec.listeners").index(l.index);
                let at = |f: &str| {
                    if r.node.lookup(&base.clone().key(f)).1 {
                        base.clone().key(f)
                    } else {
                        base.clone()
                    }
                };
                let who = format!(
                    "listener {:?} of Gateway {}/{}",
                    l.name, r.namespace, r.name
                );
                if let Some(p) = &l.problem {
                    // MESH1606 reports a waypoint's listener other than HBONE on 15008.
                    if !p.invalid {
                        continue;
                    }
                    cx.report(g.id, at("protocol"), format!("{who}: {} (Accepted=False, {}): no route attaches to it", p.message, p.reason))
                        .subkind("unsupported-protocol")
                        .help("use HTTP, HTTPS, TLS or TCP (upper case); istio's gateway class takes no UDP");
                    continue;
                }
                // istiod keeps HTTPS/TLS without `tls` as a placeholder for the listeners
                // ListenerSets add on the port (`buildListener`).
                let placeholder = api
                    .extended
                    .contains(&(r.namespace.clone(), r.name.clone()));
                if !l.server() && !placeholder {
                    cx.report(g.id, base.clone(), format!("{who} has protocol {} but no `tls`: istiod builds no server for it, so nothing is served on it", l.protocol))
                        .subkind("no-tls")
                        .help("add `tls` (mode Terminate with certificateRefs, or Passthrough for TLS)");
                    continue;
                }
                if let Some(e) = &l.tls_result.error {
                    let partial = if e.partial {
                        "; the object may come from outside the input"
                    } else {
                        ""
                    };
                    cx.report(g.id, e.path.clone(), format!("{who}: {} (ResolvedRefs=False, {}): the listener is not programmed, so TLS handshakes on it fail{partial}", e.message, e.reason))
                        .subkind("tls-unresolved")
                        .severity(if e.partial { Severity::Warning } else { Severity::Error })
                        .help(match e.reason {
                            tls::REF_NOT_PERMITTED => "add a ReferenceGrant in the Secret's (or ConfigMap's) namespace that lets Gateways of this namespace reference it",
                            tls::INVALID_CERTIFICATE_REF => "reference at most two Secrets (group \"\", kind Secret) that hold a PEM certificate and key under tls.crt and tls.key",
                            _ => "reference one ConfigMap or Secret that holds a PEM CA bundle under ca.crt",
                        });
                }
                let Some(port) = l.port else { continue };
                if g.class == Class::Waypoint && port == 15008 {
                    continue;
                }
                let Some(what) = own_port(port) else { continue };
                let message = if port == 15021 && g.deployment.managed {
                    format!(
                        "{who} uses port 15021, which the Service istiod generates ({}) already has as `status-port`: two ports 15021 make the Service invalid, so the API server refuses it and the gateway gets no Service at all",
                        g.deployment.name
                    )
                } else {
                    format!(
                        "{who} uses port {port}, {what} of the gateway's own proxy: Envoy cannot bind the listener there"
                    )
                };
                cx.report(g.id, at("port"), message)
                    .subkind(if port == 15021 {
                        "status-port"
                    } else {
                        "reserved-port"
                    })
                    .help("move the listener to a port the gateway's proxy does not bind itself (15000, 15001, 15004, 15006, 15008, 15020, 15021, 15053 and 15090 are taken)");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::findings_of;

    fn gw(class: &str, listeners: &str) -> String {
        format!(
            "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: g, namespace: infra}}\nspec: {{gatewayClassName: {class}, listeners: {listeners}}}\n"
        )
    }

    #[test]
    fn reserved_ports_protocols_and_missing_tls() {
        let f = findings_of(
            "MESH808",
            &gw(
                "istio",
                "[{name: a, port: 15021, protocol: HTTP}, {name: b, port: 15090, protocol: TCP}, {name: c, port: 80, protocol: http}, {name: d, port: 443, protocol: HTTPS}, {name: e, port: 8080, protocol: HTTP}]",
            ),
        );
        let subkinds: Vec<_> = f.iter().map(|f| f.subkind.unwrap_or_default()).collect();
        assert_eq!(
            subkinds,
            vec![
                "status-port",
                "reserved-port",
                "unsupported-protocol",
                "no-tls"
            ],
            "{f:#?}"
        );
        assert!(
            f[2].message
                .contains("\"HTTP\" (uppercase) may be supported"),
            "{}",
            f[2].message
        );
    }

    #[test]
    fn waypoints_take_hbone_on_15008_and_other_classes_are_not_judged() {
        assert!(
            findings_of(
                "MESH808",
                &gw(
                    "istio-waypoint",
                    "[{name: mesh, port: 15008, protocol: HBONE}]"
                )
            )
            .is_empty()
        );
        assert!(
            findings_of(
                "MESH808",
                &gw("other", "[{name: a, port: 15021, protocol: HTTP}]")
            )
            .is_empty()
        );
    }
}
