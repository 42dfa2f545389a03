//! MESH1606 waypoint-without-hbone: a waypoint Gateway (class `istio-waypoint`, or a class of
//! istio's mesh controller) without the listener on port 15008 with protocol HBONE through which
//! ztunnel reaches it, or with other listeners istiod does not accept on a waypoint
//! (`unexpectedWaypointListener` in istio `pilot/pkg/config/kube/gateway/conversion.go`;
//! `getGatewayAddress` in `pilot/pkg/serviceregistry/ambient/waypoints.go` sends to port 15008).

use crate::diagnostic::Severity;
use crate::mesh::ambient::waypoints::{HBONE, HBONE_PORT, hbone_listener};
use crate::mesh::gateway_api::gateways::Class;
use crate::model::Spec;
use crate::rules::{Context, Rule, RuleMeta};
use crate::source::FieldPath;

pub struct WaypointWithoutHbone;

static META: RuleMeta = RuleMeta {
    code: "MESH1606",
    name: "waypoint-without-hbone",
    summary: "waypoint Gateway without its HBONE listener on port 15008, or with listeners istiod does not accept on a waypoint",
    severity: Severity::Error,
    istio_codes: &[],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH1606-waypoint-without-hbone.md"),
};

/// The annotation that binds ztunnel to another listener (a PROXY-protocol "sandwich").
const INBOUND_BINDING: &str = "ambient.istio.io/waypoint-inbound-binding";

impl Rule for WaypointWithoutHbone {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let api = cx.gateway_api();
        let store = cx.store;
        for g in api.gateways.iter().filter(|g| g.class == Class::Waypoint) {
            let r = store.get(g.id);
            let Spec::K8sGateway(spec) = &r.spec else {
                continue;
            };
            let who = format!("waypoint Gateway {}/{}", r.namespace, r.name);
            let sandwich = r.annotations.contains_key(INBOUND_BINDING);
            if hbone_listener(spec).is_none() && !sandwich {
                cx.report(
                    g.id,
                    FieldPath::parse("spec.listeners"),
                    format!(
                        "{who} has no listener on port {HBONE_PORT} with protocol {HBONE}: ztunnel sends the traffic of every Service and workload that uses this waypoint to its port {HBONE_PORT} over HBONE, so that traffic fails"
                    ),
                )
                .subkind("no-hbone-listener")
                .help(format!("add the listener `{{name: mesh, port: {HBONE_PORT}, protocol: {HBONE}}}` (as `istioctl waypoint generate` writes it)"));
            }
            if sandwich {
                continue;
            }
            for l in &g.listeners {
                // MESH808 reports a listener istio's class does not take at all.
                let unsupported = l.problem.as_ref().is_some_and(|p| p.invalid);
                if (l.port == Some(HBONE_PORT) && l.protocol == HBONE) || unsupported {
                    continue;
                }
                let path = FieldPath::parse("spec.listeners").index(l.index);
                cx.report(
                    g.id,
                    path.key("port"),
                    format!(
                        "listener {:?} of {who} ({} on port {}): istiod accepts only a listener on port {HBONE_PORT} with protocol {HBONE} on a waypoint and marks this one Accepted=False (\"Expected a single listener on port 15008 with protocol \\\"HBONE\\\"\"); it serves nothing",
                        l.name,
                        l.protocol,
                        l.port.map_or_else(|| "no port".to_string(), |p| p.to_string()),
                    ),
                )
                .subkind("unexpected-listener")
                .severity(Severity::Warning)
                .help("remove the listener: ztunnel reaches a waypoint only through its HBONE listener");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::findings_of;

    fn gw(class: &str, annotations: &str, listeners: &str) -> String {
        format!(
            "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: wp, namespace: shop, annotations: {annotations}}}\nspec: {{gatewayClassName: {class}, listeners: {listeners}}}\n"
        )
    }

    #[test]
    fn waypoints_need_exactly_the_hbone_listener() {
        let subkinds = |text: &str| -> Vec<&'static str> {
            findings_of("MESH1606", text)
                .iter()
                .filter_map(|f| f.subkind)
                .collect()
        };
        let hbone = "{name: mesh, port: 15008, protocol: HBONE}";
        assert!(subkinds(&gw("istio-waypoint", "{}", &format!("[{hbone}]"))).is_empty());
        assert_eq!(
            subkinds(&gw(
                "istio-waypoint",
                "{}",
                "[{name: mesh, port: 15009, protocol: HBONE}]"
            )),
            ["no-hbone-listener", "unexpected-listener"]
        );
        assert_eq!(
            subkinds(&gw(
                "istio-waypoint",
                "{}",
                &format!("[{hbone}, {{name: h, port: 80, protocol: HTTP}}]")
            )),
            ["unexpected-listener"]
        );
        // Other classes are not waypoints; a bound waypoint picks its own listener.
        assert!(subkinds(&gw("istio", "{}", "[{name: h, port: 80, protocol: HTTP}]")).is_empty());
        let bound = gw(
            "istio-waypoint",
            "{ambient.istio.io/waypoint-inbound-binding: PROXY/16000}",
            "[{name: p, port: 16000, protocol: TCP}]",
        );
        assert!(subkinds(&bound).is_empty());
    }
}
