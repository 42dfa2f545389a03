//! MESH506 gateway-host-mismatch: a VirtualService bound to a Gateway that accepts none of its
//! hosts (istio's IST0132), and hosts of gateway-only VirtualServices that no bound gateway
//! accepts.

use std::collections::BTreeMap;

use crate::diagnostic::Severity;
use crate::model::{ResId, Resource, Spec, Store};
use crate::source::{FieldPath, Node};

use crate::mesh::hosts::{fqdn, hosts_match};
use crate::mesh::routes;
use crate::model::raw::raw;
use crate::rules::{Context, Rule, RuleMeta};

pub struct GatewayHostMismatch;

static META: RuleMeta = RuleMeta {
    code: "MESH506",
    name: "gateway-host-mismatch",
    summary: "VirtualService bound to a Gateway that accepts none of its hosts",
    severity: Severity::Warning,
    istio_codes: &["IST0132"],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH506-gateway-host-mismatch.md"),
};

/// A host a gateway accepts: the namespace it is limited to (`None` for any) and the name.
#[derive(Clone, Debug)]
struct GwHost {
    namespace: Option<String>,
    host: String,
    /// As written, for messages.
    written: String,
}

/// Hosts of an Istio Gateway's servers or a Gateway API Gateway's listeners.
fn gateway_hosts(res: &Resource) -> Vec<GwHost> {
    let mut out = Vec::new();
    match &res.spec {
        Spec::Gateway(gw) => {
            for s in &gw.servers {
                for h in &s.hosts {
                    let (namespace, host) = match h.split_once('/') {
                        Some((".", host)) => (Some(res.namespace.clone()), host),
                        Some(("*", host)) => (None, host),
                        Some((ns, host)) => (Some(ns.to_string()), host),
                        None => (None, h.as_str()),
                    };
                    out.push(GwHost {
                        namespace,
                        host: host.to_string(),
                        written: h.clone(),
                    });
                }
            }
        }
        _ => {
            if let Some(listeners) = raw(res, "spec.listeners").and_then(Node::as_seq) {
                for l in listeners {
                    let host = l
                        .get("hostname")
                        .and_then(Node::as_str)
                        .filter(|h| !h.is_empty())
                        .unwrap_or("*");
                    out.push(GwHost {
                        namespace: None,
                        host: host.to_string(),
                        written: host.to_string(),
                    });
                }
            }
        }
    }
    out
}

impl Rule for GatewayHostMismatch {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let store: &Store = cx.store;
        let mut gateways: BTreeMap<(String, String), ResId> = BTreeMap::new();
        for (id, r) in store.iter() {
            if matches!(r.spec, Spec::Gateway(_)) || routes::is_k8s_gateway(r) {
                gateways.insert((r.namespace.clone(), r.name.clone()), id);
            }
        }
        for (id, res) in store.iter() {
            let Spec::VirtualService(vs) = &res.spec else {
                continue;
            };
            let ns = res.namespace.as_str();
            let hosts: Vec<String> = vs.hosts.iter().map(|h| fqdn(h, ns)).collect();
            let mut bound: Vec<(usize, ResId)> = Vec::new();
            let mut all_exist = true;
            let mut mesh = vs.gateways.is_empty();
            for (i, g) in vs.gateways.iter().enumerate() {
                if g == "mesh" {
                    mesh = true;
                    continue;
                }
                if routes::is_internal_gateway_ref(g) {
                    all_exist = false;
                    continue;
                }
                match gateways.get(&routes::resolve_gateway_ref(g, ns)) {
                    Some(&gid) => bound.push((i, gid)),
                    None => all_exist = false,
                }
            }
            let mut reported = 0;
            let mut accepted = vec![false; hosts.len()];
            for &(i, gid) in &bound {
                let g = store.get(gid);
                let gw_hosts = gateway_hosts(g);
                let usable: Vec<&GwHost> = gw_hosts
                    .iter()
                    .filter(|h| h.namespace.as_deref().is_none_or(|n| n == ns))
                    .collect();
                let mut any = false;
                for (k, vh) in hosts.iter().enumerate() {
                    if usable.iter().any(|gh| hosts_match(&gh.host, vh)) {
                        accepted[k] = true;
                        any = true;
                    }
                }
                if any {
                    continue;
                }
                reported += 1;
                let excluded: Vec<String> = gw_hosts
                    .iter()
                    .filter(|h| h.namespace.as_deref().is_some_and(|n| n != ns))
                    .filter(|h| hosts.iter().any(|vh| hosts_match(&h.host, vh)))
                    .map(|h| {
                        format!(
                            "`{}` (namespace {})",
                            h.written,
                            h.namespace.as_deref().unwrap_or_default()
                        )
                    })
                    .collect();
                let offered: Vec<&str> = gw_hosts.iter().map(|h| h.written.as_str()).collect();
                let detail = if !excluded.is_empty() {
                    format!(
                        "; {} would match, but only for VirtualServices in that namespace, not in {ns}",
                        excluded.join(", ")
                    )
                } else if offered.is_empty() {
                    "; the Gateway has no server hosts".to_string()
                } else {
                    format!("; it accepts {}", offered.join(", "))
                };
                cx.report(
                    id,
                    FieldPath::parse("spec.gateways").index(i),
                    format!(
                        "none of the hosts ({}) is accepted by {} {}/{}{detail}, so istiod leaves this VirtualService out of the gateway's routes",
                        vs.hosts.join(", "),
                        if routes::is_k8s_gateway(g) { "Gateway API Gateway" } else { "Gateway" },
                        g.namespace,
                        g.name
                    ),
                )
                .istio(&["IST0132"])
                .help("add the host to a server of the Gateway (or a wildcard covering it), or fix the VirtualService hosts")
                .related(gid, FieldPath::parse("spec.servers"), "the Gateway's servers");
            }
            if mesh || !all_exist || bound.is_empty() || reported == bound.len() {
                continue;
            }
            for (k, ok) in accepted.iter().enumerate() {
                if *ok {
                    continue;
                }
                cx.report(
                    id,
                    FieldPath::parse("spec.hosts").index(k),
                    format!(
                        "host `{}` is accepted by none of the bound gateways and the VirtualService is not bound to `mesh`, so its routes never apply to this host",
                        vs.hosts[k]
                    ),
                )
                .istio(&[])
                .help("add the host to a bound Gateway's server, bind the VirtualService to `mesh` too, or remove the host");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::diagnostic::Finding;

    fn run(text: &str) -> Vec<Finding> {
        crate::rules::testing::findings_of("MESH506", text)
    }

    #[test]
    fn gateway_api_listeners_and_namespace_prefixes() {
        let text = "\
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: k, namespace: default}
spec:
  gatewayClassName: istio
  listeners: [{name: http, hostname: example.com, port: 80, protocol: HTTP}]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: g, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ['./a.com', '*/b.com', 'web/c.com']
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ok, namespace: default}
spec: {hosts: [example.com, b.com], gateways: [k, istio-system/g]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: bad, namespace: default}
spec: {hosts: [wrong.example.com, a.com, c.com], gateways: [default/k, istio-system/g]}
";
        let f = run(text);
        let got: Vec<(String, u32, Vec<&str>)> = f
            .iter()
            .map(|f| {
                (
                    f.resource.name.clone(),
                    f.location.column,
                    f.istio_codes.clone(),
                )
            })
            .collect();
        assert_eq!(got.len(), 2, "{f:#?}");
        assert!(
            got.iter()
                .all(|(n, _, c)| n == "bad" && c == &vec!["IST0132"])
        );
        assert!(
            f[0].message.contains("Gateway API Gateway default/k"),
            "{}",
            f[0].message
        );
        assert!(
            f[1].message
                .contains("only for VirtualServices in that namespace"),
            "{}",
            f[1].message
        );
    }

    #[test]
    fn short_hosts_are_expanded_first() {
        let text = "\
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: g, namespace: app}
spec:
  selector: {istio: eastwest}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ['*.app.svc.cluster.local']
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: v, namespace: app}
spec: {hosts: [reviews], gateways: [g]}
";
        assert!(run(text).is_empty());
    }
}
