//! MESH101 port-name-missing-protocol: Istio cannot tell a Service port's protocol.
//!
//! Semantics follow istio's `PortNameAnalyzer` and `ConvertProtocol`: UDP is always fine;
//! `appProtocol` (even empty) replaces the name; `grpc-web` is checked as a prefix; otherwise the
//! name up to the first `-` must be a known protocol (case-insensitive); ports 25, 53, 3306 and
//! 27017 default to TCP. ExternalName Services also flag a port named exactly `tcp` (IST0150).

use crate::diagnostic::{FixAction, Severity};
use crate::mesh::protocol::{PROTOCOLS, protocol_known};
use crate::model::Spec;
use crate::model::k8s::ServicePort;
use crate::source::FieldPath;

use crate::mesh::injection::{SYSTEM_NAMESPACES, mesh_is_istio, other_mesh_only};
use crate::rules::{Context, Rule, RuleMeta};

pub struct PortNameMissingProtocol;

static META: RuleMeta = RuleMeta {
    code: "MESH101",
    name: "port-name-missing-protocol",
    summary: "Service port name has no protocol prefix and no appProtocol",
    severity: Severity::Warning,
    istio_codes: &["IST0118", "IST0150"],
    kiali_codes: &["KIA0601", "KIA0602"],
    opt_in: false,
    doc: include_str!("../../../rules/MESH101-port-name-missing-protocol.md"),
};

/// Labels that mark istio's own control-plane Services, which the analyzer skips.
fn is_control_plane(labels: &std::collections::BTreeMap<String, String>) -> bool {
    labels.contains_key("istio")
        || labels.get("release").is_some_and(|v| v == "istio")
        || labels.get("gateway.istio.io/managed").is_some_and(|v| {
            matches!(
                v.as_str(),
                "istio.io-gateway-controller"
                    | "istio.io-mesh-controller"
                    | "istio.io-eastwest-controller"
            )
        })
}

/// A known protocol the prefix is probably a typo of (`htpp` → `http`).
fn likely_typo(prefix: &str) -> Option<&'static str> {
    let p = prefix.to_ascii_lowercase();
    if p.len() < 3 {
        return None;
    }
    PROTOCOLS
        .iter()
        .copied()
        .filter(|proto| !proto.contains('-'))
        .map(|proto| (strsim::damerau_levenshtein(&p, proto), proto))
        .filter(|(d, proto)| *d == 1 || (*d == 2 && proto.len() >= 5 && p.len() >= 5))
        .min()
        .map(|(_, proto)| proto)
}

impl Rule for PortNameMissingProtocol {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn fixable(&self) -> bool {
        true
    }

    fn check(&self, cx: &mut Context<'_>) {
        // Port naming is Istio's convention: a Linkerd-, Consul- or Dapr-only input is not held
        // to it (the markers that tell are in `mesh::injection`).
        if !mesh_is_istio(cx.store) {
            return;
        }
        for (id, res) in cx.store.iter() {
            let Spec::Service(svc) = &res.spec else {
                continue;
            };
            if SYSTEM_NAMESPACES.contains(&res.namespace.as_str()) || is_control_plane(&res.labels)
            {
                continue;
            }
            // A Service whose pods all belong to another mesh is not held to Istio's naming,
            // even when the input holds Istio resources too (`mesh::injection`).
            let selected = cx.graph.selected_workloads(id);
            if !selected.is_empty()
                && selected.iter().all(|&w| {
                    let w = cx.store.get(w);
                    let ns = cx.namespace(&w.namespace).map(|n| cx.store.get(n));
                    other_mesh_only(w, ns)
                })
            {
                continue;
            }
            let external = svc.spec.is_external_name();
            for (i, port) in svc.spec.ports.iter().enumerate() {
                let base = FieldPath::parse("spec.ports").index(i);
                let name = port.name.as_deref().unwrap_or("");
                let bare_tcp = external && name == "tcp";
                if protocol_known(port) && !bare_tcp {
                    continue;
                }
                let shown = if name.is_empty() {
                    format!("unnamed port {}", port.port)
                } else {
                    format!("port `{name}` ({})", port.port)
                };
                let (path, message) = if let Some(app) = &port.app_protocol {
                    (
                        base.clone().key("appProtocol"),
                        format!(
                            "{shown} has appProtocol `{app}`, which Istio does not recognise; it falls back to protocol sniffing"
                        ),
                    )
                } else if bare_tcp {
                    (
                        base.clone().key("name"),
                        format!(
                            "{shown} of ExternalName Service `{}` is named plain `tcp`: the proxy may not forward this port's TCP traffic correctly",
                            res.name
                        ),
                    )
                } else if name.is_empty() {
                    (
                        base.clone().key("port"),
                        format!(
                            "{shown} has no name and no appProtocol, so Istio cannot tell its protocol and falls back to protocol sniffing"
                        ),
                    )
                } else {
                    let prefix = name.split('-').next().unwrap_or(name);
                    let detail = match likely_typo(prefix) {
                        Some(proto) => format!("`{prefix}` looks like a typo of `{proto}`"),
                        None => format!("`{prefix}` is not a protocol Istio knows"),
                    };
                    (
                        base.clone().key("name"),
                        format!(
                            "{shown} has no protocol prefix ({detail}); Istio falls back to protocol sniffing"
                        ),
                    )
                };
                let help = fix_help(name, port, external);
                let istio: &'static [&'static str] =
                    if external { &["IST0150"] } else { &["IST0118"] };
                let kiali: &'static [&'static str] = if port.app_protocol.is_some() {
                    &["KIA0602"]
                } else {
                    &["KIA0601"]
                };
                let reported = cx
                    .report(id, path, message)
                    .help(help)
                    .istio(istio)
                    .kiali(kiali);
                if let Some(proto) = safe_fix(name, port) {
                    reported.fix(
                        format!("add `appProtocol: {proto}`"),
                        FixAction::AddKey {
                            beside: base.key("name"),
                            key: "appProtocol",
                            value: proto.to_string(),
                        },
                    );
                }
            }
        }
    }
}

/// The protocol `appProtocol` can be set to without doubt: the name's prefix is a typo of it
/// (`htpp-web`). Renaming the port instead would break whatever refers to it by name
/// (targetPort, ServiceMonitors, Ingresses), so the fix leaves the name alone. UDP is left out:
/// a typo of it on a TCP port says nothing sure.
fn safe_fix(name: &str, port: &ServicePort) -> Option<&'static str> {
    if port.app_protocol.is_some() || name.is_empty() {
        return None;
    }
    likely_typo(name.split('-').next()?).filter(|p| *p != "udp")
}

fn fix_help(name: &str, port: &ServicePort, external: bool) -> String {
    let suffix = if name.is_empty() || name == "tcp" {
        port.port.to_string()
    } else {
        name.to_string()
    };
    let typo = name
        .split('-')
        .next()
        .and_then(likely_typo)
        .filter(|_| !name.is_empty());
    let rename = match typo {
        Some(proto) => {
            let rest = name.split_once('-').map_or("", |(_, r)| r);
            if rest.is_empty() {
                proto.to_string()
            } else {
                format!("{proto}-{rest}")
            }
        }
        None => format!("tcp-{suffix}` or `http-{suffix}"),
    };
    let base = format!(
        "name the port `{rename}` (`<protocol>[-<suffix>]`), or set `appProtocol: tcp` (or http, grpc, tls, ...)"
    );
    if external {
        format!(
            "{base}; for an ExternalName Service prefer a protocol-specific name such as `https` or `tls-{suffix}`, since a TCP port opens a 0.0.0.0 listener in every sidecar before Istio 1.21"
        )
    } else {
        base
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(
        name: Option<&str>,
        number: i64,
        app: Option<&str>,
        proto: Option<&str>,
    ) -> ServicePort {
        ServicePort {
            name: name.map(str::to_string),
            port: number,
            app_protocol: app.map(str::to_string),
            protocol: proto.map(str::to_string),
            ..ServicePort::default()
        }
    }

    #[test]
    fn protocol_detection_matches_istio() {
        assert!(protocol_known(&port(Some("http-web"), 80, None, None)));
        assert!(protocol_known(&port(Some("HTTP-web"), 80, None, None)));
        assert!(protocol_known(&port(Some("tcp"), 80, None, None)));
        assert!(protocol_known(&port(Some("tcp-"), 80, None, None)));
        assert!(protocol_known(&port(Some("grpc-web"), 80, None, None)));
        assert!(protocol_known(&port(Some("grpc-webfoo"), 80, None, None)));
        assert!(protocol_known(&port(Some("http_proxy-x"), 80, None, None)));
        assert!(!protocol_known(&port(Some("httpfoo"), 80, None, None)));
        assert!(!protocol_known(&port(Some("-http"), 80, None, None)));
        assert!(!protocol_known(&port(None, 8080, None, None)));
        assert!(!protocol_known(&port(Some("hbone"), 15008, None, None)));
        // UDP is always fine, whatever the name.
        assert!(protocol_known(&port(Some("dns"), 5353, None, Some("UDP"))));
        // appProtocol replaces the name entirely, even when empty.
        assert!(protocol_known(&port(Some("foo"), 80, Some("http"), None)));
        assert!(!protocol_known(&port(Some("http"), 80, Some("foo"), None)));
        assert!(!protocol_known(&port(Some("http"), 80, Some(""), None)));
        assert!(protocol_known(&port(
            Some("x"),
            80,
            Some("kubernetes.io/h2c"),
            None
        )));
        assert!(!protocol_known(&port(
            Some("x"),
            80,
            Some("kubernetes.io/other"),
            None
        )));
        // Well-known ports default to TCP.
        for p in [25, 53, 3306, 27017] {
            assert!(protocol_known(&port(None, p, None, None)));
        }
    }

    #[test]
    fn typos_are_recognised() {
        assert_eq!(likely_typo("htpp"), Some("http"));
        assert_eq!(likely_typo("tpc"), Some("tcp"));
        assert_eq!(likely_typo("grcp"), Some("grpc"));
        assert_eq!(likely_typo("https2"), Some("http2"));
        assert_eq!(likely_typo("web"), None);
        assert_eq!(likely_typo("metrics"), None);
    }
}
