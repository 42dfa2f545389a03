//! MESH803 gateway-address-conflict: Gateways that ask for the same IP address, and addresses
//! istiod ignores.

use std::collections::BTreeMap;

use crate::diagnostic::Severity;
use crate::model::Spec;
use crate::rules::{Context, Rule, RuleMeta};
use crate::source::FieldPath;

pub struct GatewayAddressConflict;

static META: RuleMeta = RuleMeta {
    code: "MESH803",
    name: "gateway-address-conflict",
    summary: "two Gateway API Gateways request the same IP address, or a Gateway address istiod ignores",
    severity: Severity::Warning,
    istio_codes: &[],
    kiali_codes: &["KIA1502"],
    opt_in: false,
    doc: include_str!("../../../rules/MESH803-gateway-address-conflict.md"),
};

impl Rule for GatewayAddressConflict {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let api = cx.gateway_api();
        let store = cx.store;
        let mut by_ip: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (gi, g) in api.gateways.iter().enumerate() {
            if !g.class.routes_converted() {
                continue;
            }
            let r = store.get(g.id);
            let Spec::K8sGateway(spec) = &r.spec else {
                continue;
            };
            if g.deployment.managed {
                if let Some(a) = spec.addresses.first()
                    && g.deployment.service_type == "LoadBalancer"
                {
                    by_ip.entry(a.value.as_str()).or_default().push(gi);
                }
                continue;
            }
            for (i, a) in spec.addresses.iter().enumerate() {
                if a.kind() != "Hostname" {
                    cx.report(
                        g.id,
                        FieldPath::parse("spec.addresses").index(i),
                        format!(
                            "Gateway {}/{} has several addresses or a Hostname one, so istiod binds it to existing Services and ignores {} address {} (Accepted=False, UnsupportedAddress)",
                            r.namespace, r.name, a.kind(), a.value
                        ),
                    )
                    .subkind("ignored-address")
                    .kiali(&[])
                    .help("give a manually deployed Gateway only Hostname addresses naming its Services, or a managed one a single IP address");
                }
            }
        }
        for (ip, members) in by_ip {
            if members.len() < 2 {
                continue;
            }
            for &gi in &members {
                let g = &api.gateways[gi];
                let r = store.get(g.id);
                let others: Vec<String> = members
                    .iter()
                    .filter(|&&o| o != gi)
                    .map(|&o| {
                        let o = store.get(api.gateways[o].id);
                        format!("{}/{}", o.namespace, o.name)
                    })
                    .collect();
                cx.report(
                    g.id,
                    FieldPath::parse("spec.addresses").index(0).key("value"),
                    format!(
                        "Gateway {}/{} and Gateway {} ask for address {ip}: istiod sets it as the loadBalancerIP of each generated LoadBalancer Service ({}), and the load balancer gives an address to one Service only, so the other stays without one",
                        r.namespace, r.name, others.join(", "), g.deployment.name
                    ),
                )
                .subkind("same-ip")
                .help("give each Gateway its own address, or serve both from one Gateway");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::findings_of;

    fn gw(name: &str, addresses: &str) -> String {
        format!(
            "---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: {name}, namespace: infra}}\nspec: {{gatewayClassName: istio, addresses: {addresses}, listeners: [{{name: http, port: 80, protocol: HTTP}}]}}\n"
        )
    }

    #[test]
    fn one_ip_for_two_load_balancers_and_ignored_addresses() {
        let ip = "[{type: IPAddress, value: 10.0.0.1}]";
        assert_eq!(
            findings_of("MESH803", &format!("{}{}", gw("a", ip), gw("b", ip))).len(),
            2
        );
        let other = "[{type: IPAddress, value: 10.0.0.2}]";
        assert!(findings_of("MESH803", &format!("{}{}", gw("a", ip), gw("b", other))).is_empty());
        let mixed = "[{type: Hostname, value: ingress}, {type: IPAddress, value: 10.0.0.1}]";
        let f = findings_of("MESH803", &gw("a", mixed));
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].subkind, Some("ignored-address"));
        let shared = "[{type: Hostname, value: ingress}]";
        assert!(
            findings_of(
                "MESH803",
                &format!("{}{}", gw("a", shared), gw("b", shared))
            )
            .is_empty()
        );
    }
}
