//! Gateway API Gateways as istiod handles them: the class, the Deployment and Service it
//! generates (`pilot/pkg/config/kube/gatewaycommon/deploymentcontroller.go`, the `kube-gateway`
//! template), each listener's protocol, allowed routes and conflicts
//! (`gatewaycommon/listener_conflict.go`, `gateway/conversion.go` `buildListener`).

use std::collections::{BTreeMap, HashMap};

use crate::model::gateway_api::{self as gw, GROUP, RouteKind};
use crate::model::{ResId, Spec, Store};

/// istiod's default controller name (`features.ManagedGatewayController`).
pub const ISTIO_CONTROLLER: &str = "istio.io/gateway-controller";

/// The label istio puts on the generated Deployment's pods and Service selector.
pub const GATEWAY_NAME_LABEL: &str = "gateway.networking.k8s.io/gateway-name";

/// The annotation that sets the generated Service's type.
pub const SERVICE_TYPE_ANNOTATION: &str = "networking.istio.io/service-type";

/// The annotation that overrides the generated Deployment and Service name.
pub const NAME_OVERRIDE_ANNOTATION: &str = "gateway.istio.io/name-override";

/// The annotation that overrides the generated Deployment's service account.
pub const SERVICE_ACCOUNT_ANNOTATION: &str = "gateway.istio.io/service-account";

/// Who handles a Gateway, from its `gatewayClassName`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Class {
    /// `istio`, or a GatewayClass of istio's controller: Deployment, Service and routes.
    Istio,
    /// `istio-remote`: a gateway of another cluster; istiod generates nothing for it.
    Remote,
    /// `istio-waypoint` (ambient): a waypoint, whose routes are not converted here.
    Waypoint,
    /// A GatewayClass in the input with another controller.
    Foreign(String),
    /// Neither built in nor in the input: the class may be installed elsewhere.
    Unknown,
}

impl Class {
    /// Whether istiod predicts listeners and attaches routes for Gateways of the class.
    pub fn routes_converted(&self) -> bool {
        matches!(self, Class::Istio)
    }
}

/// Why a listener is not accepted, with the spec reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListenerProblem {
    pub reason: &'static str,
    pub message: String,
    /// Whether istiod counts the listener invalid on its Gateway (`buildListener` returns
    /// `ok=false`): an unsupported protocol does, a waypoint listener other than HBONE on
    /// 15008 only gets `Accepted=False`.
    pub invalid: bool,
}

/// A listener that loses to an earlier one of the same Gateway.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    /// `HostnameConflict` or `ProtocolConflict`.
    pub reason: &'static str,
    /// Index of the listener it loses to.
    pub with: usize,
}

/// Which namespaces may attach routes to a listener.
#[derive(Clone, Debug)]
pub enum AllowedFrom {
    Same,
    All,
    Selector(gw::LabelSelector),
    /// `None`, an unknown value, or `Selector` without a selector.
    Nothing(String),
}

#[derive(Clone, Debug)]
pub struct ListenerView {
    pub index: usize,
    pub name: String,
    pub port: Option<i64>,
    pub protocol: String,
    pub hostname: Option<String>,
    pub from: AllowedFrom,
    /// Route kinds that may attach (`GenerateGatewaySupportedKinds`).
    pub kinds: Vec<RouteKind>,
    /// Some `allowedRoutes.kinds` are not supported on this protocol (`InvalidRouteKinds`).
    pub invalid_kinds: bool,
    pub conflict: Option<Conflict>,
    pub problem: Option<ListenerProblem>,
    /// `tls` is set.
    pub tls: bool,
    /// How its `tls` resolves (istio's class only; set once ReferenceGrants are known).
    pub tls_result: super::tls::TlsResult,
}

impl ListenerView {
    /// Whether istiod builds a server for the listener, so routes can be checked against it:
    /// not conflicted, and not HTTPS or TLS without `tls` (`buildListener`). A listener with an
    /// unsupported protocol still gets one, and routes are then refused for their kind.
    pub fn server(&self) -> bool {
        self.conflict.is_none() && (self.tls || !matches!(self.protocol.as_str(), "HTTPS" | "TLS"))
    }

    /// Whether istiod counts the listener valid for the Gateway's `Accepted` condition
    /// (`buildListener`'s `ok`): not conflicted, without an invalidating problem, and with a
    /// `tls` that resolves. HTTPS or
    /// TLS without `tls` counts as valid: istiod keeps it as a placeholder for ListenerSets.
    pub fn valid(&self) -> bool {
        self.conflict.is_none()
            && self.problem.as_ref().is_none_or(|p| !p.invalid)
            && self.tls_result.error.is_none()
    }

    /// The hostname as a route sees it: unset is `*`.
    pub fn host(&self) -> &str {
        self.hostname
            .as_deref()
            .filter(|h| !h.is_empty())
            .unwrap_or("*")
    }
}

/// Where the gateway's traffic is served.
#[derive(Clone, Debug)]
pub struct Deployment {
    /// istiod creates a Deployment and Service (`IsManaged`): no address, or one IP address.
    pub managed: bool,
    /// The generated Deployment and Service name: `<gateway>-<class>`, the Gateway's own name for
    /// waypoints (`DisableNameSuffix`), unless overridden.
    pub name: String,
    /// The generated Deployment's service account: the name unless overridden.
    pub service_account: String,
    /// The Service hosts the gateway binds to: the generated one, or the Hostname addresses.
    pub services: Vec<String>,
    /// The generated Service's type.
    pub service_type: String,
}

#[derive(Clone, Debug)]
pub struct GatewayView {
    pub id: ResId,
    pub class: Class,
    pub deployment: Deployment,
    pub listeners: Vec<ListenerView>,
}

/// The classes of the input: GatewayClass name → controller.
pub fn classes(store: &Store) -> HashMap<&str, &str> {
    store
        .iter()
        .filter_map(|(_, r)| match &r.spec {
            Spec::GatewayClass(c) => Some((r.name.as_str(), c.controller_name.as_str())),
            _ => None,
        })
        .collect()
}

fn class_of(name: &str, classes: &HashMap<&str, &str>) -> Class {
    match classes.get(name) {
        Some(&ISTIO_CONTROLLER) => Class::Istio,
        Some(&"istio.io/unmanaged-gateway") => Class::Remote,
        Some(&"istio.io/mesh-controller") => Class::Waypoint,
        Some(c) => Class::Foreign(c.to_string()),
        None => match name {
            // istiod creates these GatewayClasses itself (`GetBuiltinGatewayClasses`).
            "istio" => Class::Istio,
            "istio-remote" => Class::Remote,
            "istio-waypoint" => Class::Waypoint,
            _ => Class::Unknown,
        },
    }
}

/// `extractGatewayServices`, `IsManaged` and the names of `deploymentcontroller.go`
/// (`GetDefaultName`; the waypoint class sets `DisableNameSuffix` and a ClusterIP Service in
/// `gatewaycommon/classinfo.go`).
fn deployment(store: &Store, id: ResId, spec: &gw::Gateway, class: &Class) -> Deployment {
    let r = store.get(id);
    let waypoint = *class == Class::Waypoint;
    let name = r
        .annotations
        .get(NAME_OVERRIDE_ANNOTATION)
        .cloned()
        .unwrap_or_else(|| {
            if waypoint {
                r.name.clone()
            } else {
                format!("{}-{}", r.name, spec.gateway_class_name)
            }
        });
    let service_account = r
        .annotations
        .get(SERVICE_ACCOUNT_ANNOTATION)
        .cloned()
        .unwrap_or_else(|| name.clone());
    let managed = match spec.addresses.as_slice() {
        [] => true,
        [one] => one.kind() == "IPAddress",
        _ => false,
    };
    let services = if managed {
        vec![format!("{name}.{}.svc.cluster.local", r.namespace)]
    } else {
        spec.addresses
            .iter()
            .filter(|a| a.kind() == "Hostname")
            .map(|a| {
                if a.value.contains('.') {
                    a.value.clone()
                } else {
                    format!("{}.{}.svc.cluster.local", a.value, r.namespace)
                }
            })
            .collect()
    };
    let default_type = if waypoint {
        "ClusterIP"
    } else {
        "LoadBalancer"
    };
    Deployment {
        managed,
        name,
        service_account,
        services,
        service_type: r
            .annotations
            .get(SERVICE_TYPE_ANNOTATION)
            .cloned()
            .unwrap_or_else(|| default_type.into()),
    }
}

fn is_tcp_udp(p: &str) -> bool {
    matches!(p, "TCP" | "UDP")
}

fn is_http_like(p: &str) -> bool {
    matches!(p, "HTTP" | "HTTPS" | "TLS")
}

/// `listenersDistinct`: whether two listeners can share a Gateway.
fn distinct(a: &gw::Listener, b: &gw::Listener) -> bool {
    if a.port != b.port {
        return true;
    }
    let (pa, pb) = (a.protocol.as_str(), b.protocol.as_str());
    if (is_tcp_udp(pa) && is_http_like(pb)) || (is_http_like(pa) && is_tcp_udp(pb)) {
        return false;
    }
    if is_tcp_udp(pa) && is_tcp_udp(pb) {
        return false;
    }
    if is_http_like(pa) && is_http_like(pb) {
        let host = |l: &gw::Listener| l.hostname.clone().filter(|h| !h.is_empty());
        return host(a).unwrap_or_else(|| "*".into()) != host(b).unwrap_or_else(|| "*".into());
    }
    pa != pb
}

fn conflict_reason(a: &gw::Listener, b: &gw::Listener) -> &'static str {
    if (is_tcp_udp(&a.protocol) && is_tcp_udp(&b.protocol)) || a.protocol != b.protocol {
        "ProtocolConflict"
    } else {
        "HostnameConflict"
    }
}

/// `ComputeGatewayListenerConflicts` for one Gateway: each listener against the earlier
/// listeners that won. Listeners of one port are compared only with each other.
pub fn conflicts(listeners: &[gw::Listener]) -> Vec<Option<Conflict>> {
    let mut out = vec![None; listeners.len()];
    let mut accepted: BTreeMap<Option<i64>, Vec<usize>> = BTreeMap::new();
    for (i, l) in listeners.iter().enumerate() {
        let same_port = accepted.entry(l.port).or_default();
        match same_port.iter().find(|&&j| !distinct(l, &listeners[j])) {
            Some(&j) => {
                out[i] = Some(Conflict {
                    reason: conflict_reason(l, &listeners[j]),
                    with: j,
                })
            }
            None => same_port.push(i),
        }
    }
    out
}

/// `listenerProtocolToIstio`: the protocols istio's gateway class takes.
fn protocol_problem(class: &Class, l: &gw::Listener) -> Option<ListenerProblem> {
    let p = l.protocol.as_str();
    let supported = ["HTTP", "HTTPS", "TLS", "TCP"];
    if supported.contains(&p) || (p == "HBONE" && *class == Class::Waypoint) {
        return None;
    }
    let upper = p.to_ascii_uppercase();
    let message = if supported.contains(&upper.as_str()) {
        format!("protocol {p:?} is unsupported. hint: {upper:?} (uppercase) may be supported")
    } else {
        format!("protocol {p:?} is unsupported")
    };
    Some(ListenerProblem {
        reason: "UnsupportedProtocol",
        message,
        invalid: true,
    })
}

/// `unexpectedWaypointListener`: a waypoint takes one listener, HBONE on 15008; any other is
/// not accepted, yet still counted valid for the Gateway.
fn waypoint_problem(class: &Class, l: &gw::Listener) -> Option<ListenerProblem> {
    let expected = l.port == Some(15008) && l.protocol == "HBONE";
    (*class == Class::Waypoint && !expected).then(|| ListenerProblem {
        reason: "UnsupportedProtocol",
        message: r#"Expected a single listener on port 15008 with protocol "HBONE""#.into(),
        invalid: false,
    })
}

/// `GenerateGatewaySupportedKinds`: the kinds a listener's protocol takes, narrowed by
/// `allowedRoutes.kinds`, and whether every listed kind is supported.
fn supported_kinds(l: &gw::Listener) -> (Vec<RouteKind>, bool) {
    let mut kinds = match l.protocol.as_str() {
        "HTTP" | "HTTPS" => vec![RouteKind::Http, RouteKind::Grpc],
        "TCP" => vec![RouteKind::Tcp],
        "TLS" => {
            let terminate = l.tls.as_ref().and_then(|t| t.mode.as_deref()) == Some("Terminate");
            if terminate {
                vec![RouteKind::Tls, RouteKind::Tcp]
            } else {
                vec![RouteKind::Tls]
            }
        }
        _ => Vec::new(),
    };
    let listed = l
        .allowed_routes
        .as_ref()
        .map(|a| a.kinds.as_slice())
        .unwrap_or_default();
    if listed.is_empty() {
        return (kinds, true);
    }
    kinds.retain(|k| {
        listed
            .iter()
            .any(|rk| rk.kind == k.kind() && rk.group.as_deref().unwrap_or(GROUP) == GROUP)
    });
    let valid = kinds.len() == listed.len();
    (kinds, valid)
}

fn allowed_from(l: &gw::Listener) -> AllowedFrom {
    let Some(ns) = l
        .allowed_routes
        .as_ref()
        .and_then(|a| a.namespaces.as_ref())
    else {
        return AllowedFrom::Same;
    };
    match ns.from.as_deref() {
        None | Some("Same") => AllowedFrom::Same,
        Some("All") => AllowedFrom::All,
        // istio's `namespacesFromSelector` allows all when the selector is missing.
        Some("Selector") => match &ns.selector {
            Some(s) => AllowedFrom::Selector(s.clone()),
            None => AllowedFrom::All,
        },
        Some(other) => AllowedFrom::Nothing(format!("from: {other}")),
    }
}

/// Every Gateway API Gateway of the input, in input order.
pub fn gateways(store: &Store) -> Vec<GatewayView> {
    let classes = classes(store);
    let mut out = Vec::new();
    for (id, r) in store.iter() {
        let Spec::K8sGateway(spec) = &r.spec else {
            continue;
        };
        let class = class_of(&spec.gateway_class_name, &classes);
        let conflicts = conflicts(&spec.listeners);
        let listeners = spec
            .listeners
            .iter()
            .zip(conflicts)
            .enumerate()
            .map(|(index, (l, conflict))| {
                let (kinds, valid) = supported_kinds(l);
                let invalid = protocol_problem(&class, l).or_else(|| {
                    l.port.is_none().then(|| ListenerProblem {
                        reason: "UnsupportedProtocol",
                        message: "listener has no port".into(),
                        invalid: true,
                    })
                });
                // The waypoint check runs last in `buildListener`: its message wins, and the
                // listener stays invalid when the protocol already made it so.
                let problem = match (waypoint_problem(&class, l), invalid) {
                    (Some(w), Some(i)) => Some(ListenerProblem {
                        invalid: i.invalid,
                        ..w
                    }),
                    (w, i) => w.or(i),
                };
                ListenerView {
                    index,
                    name: l.name.clone(),
                    port: l.port,
                    protocol: l.protocol.clone(),
                    hostname: l.hostname.clone(),
                    from: allowed_from(l),
                    kinds,
                    invalid_kinds: !valid,
                    conflict,
                    problem,
                    tls: l.tls.is_some(),
                    tls_result: Default::default(),
                }
            })
            .collect();
        out.push(GatewayView {
            id,
            deployment: deployment(store, id, spec, &class),
            class,
            listeners,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(name: &str, port: i64, protocol: &str, host: Option<&str>) -> gw::Listener {
        gw::Listener {
            name: name.into(),
            port: Some(port),
            protocol: protocol.into(),
            hostname: host.map(str::to_string),
            ..Default::default()
        }
    }

    #[test]
    fn generated_names_follow_the_class() {
        let (sources, store) = crate::model::from_documents(&[(
            "t.yaml".into(),
            "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: edge, namespace: shop}\nspec: {gatewayClassName: istio, listeners: [{name: h, port: 80, protocol: HTTP}]}\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: waypoint, namespace: shop, annotations: {gateway.istio.io/service-account: wp}}\nspec: {gatewayClassName: istio-waypoint, listeners: [{name: mesh, port: 15008, protocol: HBONE}]}\n".into(),
        )]);
        assert!(sources.errors.is_empty(), "{:?}", sources.errors);
        let got: Vec<_> = gateways(&store)
            .into_iter()
            .map(|g| {
                let d = g.deployment;
                (d.name, d.service_account, d.service_type)
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    "edge-istio".into(),
                    "edge-istio".into(),
                    "LoadBalancer".into()
                ),
                ("waypoint".into(), "wp".into(), "ClusterIP".into()),
            ]
        );
    }

    #[test]
    fn listener_conflicts_follow_istio() {
        let ls = [
            l("a", 80, "HTTP", Some("a.com")),
            l("b", 80, "HTTP", Some("a.com")),
            l("c", 80, "HTTPS", Some("b.com")),
            l("d", 80, "TCP", None),
            l("e", 9000, "TCP", None),
            l("f", 9000, "TCP", None),
            l("g", 80, "HTTP", None),
        ];
        let c = conflicts(&ls);
        assert_eq!(c[0], None);
        assert_eq!(
            c[1],
            Some(Conflict {
                reason: "HostnameConflict",
                with: 0
            })
        );
        assert_eq!(c[2], None, "different hostnames are distinct");
        assert_eq!(c[3].as_ref().map(|c| c.reason), Some("ProtocolConflict"));
        assert_eq!(c[4], None);
        assert_eq!(
            c[5].as_ref().map(|c| (c.reason, c.with)),
            Some(("ProtocolConflict", 4))
        );
        assert_eq!(c[6], None, "no hostname is `*`, distinct from a.com");
    }

    #[test]
    fn supported_kinds_by_protocol_and_allowed_kinds() {
        let mut tls = l("t", 443, "TLS", None);
        assert_eq!(supported_kinds(&tls).0, vec![RouteKind::Tls]);
        tls.tls = Some(gw::ListenerTls {
            mode: Some("Terminate".into()),
            certificate_refs: Vec::new(),
        });
        assert_eq!(
            supported_kinds(&tls).0,
            vec![RouteKind::Tls, RouteKind::Tcp]
        );
        let mut http = l("h", 80, "HTTP", None);
        http.allowed_routes = Some(gw::AllowedRoutes {
            namespaces: None,
            kinds: vec![gw::RouteGroupKind {
                group: None,
                kind: "TCPRoute".into(),
            }],
        });
        assert_eq!(supported_kinds(&http), (vec![], false));
    }
}
