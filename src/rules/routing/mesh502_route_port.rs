//! MESH502 route-port-unbound: VirtualService ports that lead nowhere. `tcp`/`tls` match ports
//! no bound Gateway server serves (or serves with another kind of route), destination ports the
//! destination does not have (istio's IST0101 `host:port`) and port-less destinations on
//! multi-port Services (IST0112).

use std::collections::{BTreeMap, BTreeSet};

use crate::diagnostic::Severity;
use crate::model::istio::Server;
use crate::model::{ResId, Resource, Spec, Store};
use crate::source::{FieldPath, Node, Value};

use crate::mesh::hosts::{HostIndex, Viewers, fqdn};
use crate::mesh::routes;
use crate::model::raw::{self, label, raw};
use crate::rules::{Context, Rule, RuleMeta};

pub struct RoutePortUnbound;

static META: RuleMeta = RuleMeta {
    code: "MESH502",
    name: "route-port-unbound",
    summary: "VirtualService match or destination port that no bound Gateway server or destination Service has",
    severity: Severity::Error,
    istio_codes: &["IST0101", "IST0112"],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH502-route-port-unbound.md"),
};

/// A listening port of a bound gateway: protocol and TLS mode.
#[derive(Clone, Debug)]
struct Listen {
    gateway: ResId,
    /// `spec.servers[i]` or `spec.listeners[i]`.
    path: FieldPath,
    protocol: String,
    tls_mode: Option<String>,
}

impl Listen {
    /// Whether a `tcp` or `tls` route applies to this server, as istiod builds gateway filter
    /// chains: TCP-ish servers and terminated TLS take `tcp` routes, passthrough TLS/HTTPS takes
    /// `tls` routes, everything else uses `http` routes.
    fn takes(&self, section: &str) -> bool {
        let passthrough = matches!(
            self.tls_mode.as_deref(),
            Some("PASSTHROUGH" | "AUTO_PASSTHROUGH")
        );
        match (section, self.protocol.as_str()) {
            ("tcp", "TCP" | "MONGO" | "MYSQL" | "REDIS") => true,
            ("tcp", "TLS") => !passthrough,
            ("tls", "TLS" | "HTTPS") => passthrough,
            _ => false,
        }
    }

    fn describe(&self) -> String {
        match &self.tls_mode {
            Some(mode) => format!("{} ({mode})", self.protocol),
            None => self.protocol.clone(),
        }
    }
}

fn server_listen(gateway: ResId, i: usize, s: &Server) -> Listen {
    Listen {
        gateway,
        path: FieldPath::parse("spec.servers").index(i),
        protocol: s
            .port
            .protocol
            .clone()
            .unwrap_or_default()
            .to_ascii_uppercase(),
        tls_mode: s
            .tls
            .as_ref()
            .and_then(|t| t.get("mode"))
            .and_then(|m| m.as_str())
            .map(|m| m.to_ascii_uppercase()),
    }
}

/// Ports of every gateway in the input: `(namespace, name)` → port → listeners.
type GatewayPorts = BTreeMap<(String, String), (ResId, BTreeMap<i64, Vec<Listen>>)>;

fn gateway_ports(store: &Store) -> GatewayPorts {
    let mut out: GatewayPorts = BTreeMap::new();
    for (id, r) in store.iter() {
        let mut ports: BTreeMap<i64, Vec<Listen>> = BTreeMap::new();
        match &r.spec {
            Spec::Gateway(gw) => {
                for (i, s) in gw.servers.iter().enumerate() {
                    if let Some(n) = s.port.number {
                        ports.entry(n).or_default().push(server_listen(id, i, s));
                    }
                }
            }
            _ if routes::is_k8s_gateway(r) => {
                if let Some(listeners) = raw(r, "spec.listeners").and_then(Node::as_seq) {
                    for (i, l) in listeners.iter().enumerate() {
                        let Some(n) = l.get("port").and_then(|p| match &p.value {
                            Value::Int(n) => Some(*n),
                            _ => None,
                        }) else {
                            continue;
                        };
                        let protocol = l
                            .get("protocol")
                            .and_then(Node::as_str)
                            .unwrap_or_default()
                            .to_ascii_uppercase();
                        let tls_mode = l
                            .get("tls")
                            .and_then(|t| t.get("mode"))
                            .and_then(Node::as_str)
                            .map(|m| match m {
                                "Passthrough" => "PASSTHROUGH".to_string(),
                                _ => "SIMPLE".to_string(),
                            });
                        ports.entry(n).or_default().push(Listen {
                            gateway: id,
                            path: FieldPath::parse("spec.listeners").index(i),
                            protocol,
                            tls_mode,
                        });
                    }
                }
            }
            _ => continue,
        }
        out.insert((r.namespace.clone(), r.name.clone()), (id, ports));
    }
    out
}

/// The raw `match` list of `spec.<section>[i]`.
fn l4_matches(res: &Resource, section: &str, i: usize) -> Vec<(usize, Option<i64>, Vec<String>)> {
    let Some(matches) = raw(res, &format!("spec.{section}[{i}].match")).and_then(Node::as_seq)
    else {
        return Vec::new();
    };
    matches
        .iter()
        .enumerate()
        .map(|(j, m)| {
            let port = m.get("port").and_then(|p| match &p.value {
                Value::Int(n) => Some(*n),
                Value::Str(s) => s.parse().ok(),
                _ => None,
            });
            let gateways = raw::raw_strings(m.get("gateways"))
                .into_iter()
                .map(|(_, g)| g)
                .collect();
            (j, port, gateways)
        })
        .collect()
}

impl Rule for RoutePortUnbound {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let store = cx.store;
        let hosts = &cx.index.hosts;
        let gateways = gateway_ports(store);
        for (id, res) in store.iter() {
            let Spec::VirtualService(vs) = &res.spec else {
                continue;
            };
            let ns = res.namespace.as_str();
            // Bound gateways present in the input, by the names used.
            let resolve = |names: &[String]| -> (Vec<ResId>, bool) {
                let mut found = Vec::new();
                let mut mesh = names.is_empty();
                for g in names {
                    if g == "mesh" {
                        mesh = true;
                        continue;
                    }
                    let key = routes::resolve_gateway_ref(g, ns);
                    if let Some((gid, _)) = gateways.get(&key) {
                        found.push(*gid);
                    }
                }
                found.sort_unstable();
                found.dedup();
                (found, mesh)
            };
            let (vs_gateways, vs_mesh) = resolve(&vs.gateways);
            for (section, count) in [("tcp", vs.tcp.len()), ("tls", vs.tls.len())] {
                for i in 0..count {
                    for (j, port, match_gws) in l4_matches(res, section, i) {
                        let Some(port) = port else { continue };
                        let (bound, _) = if match_gws.is_empty() {
                            (vs_gateways.clone(), vs_mesh)
                        } else {
                            resolve(&match_gws)
                        };
                        if bound.is_empty() {
                            continue;
                        }
                        self.match_port(cx, id, section, i, j, port, &bound, &gateways);
                    }
                }
            }
            self.destinations(cx, id, res, hosts, &vs_gateways, vs_mesh, &gateways);
        }
    }
}

impl RoutePortUnbound {
    #[allow(clippy::too_many_arguments)]
    fn match_port(
        &self,
        cx: &mut Context<'_>,
        id: ResId,
        section: &str,
        i: usize,
        j: usize,
        port: i64,
        bound: &[ResId],
        gateways: &GatewayPorts,
    ) {
        let store = cx.store;
        let ports_of = |g: ResId| -> &BTreeMap<i64, Vec<Listen>> {
            let r = store.get(g);
            &gateways[&(r.namespace.clone(), r.name.clone())].1
        };
        let listening: Vec<&Listen> = bound
            .iter()
            .flat_map(|&g| ports_of(g).get(&port).into_iter().flatten())
            .collect();
        if listening.iter().any(|l| l.takes(section)) {
            return;
        }
        let path = FieldPath::parse("spec")
            .key(section)
            .index(i)
            .key("match")
            .index(j)
            .key("port");
        let names: Vec<String> = bound.iter().map(|&g| label(store, g)).collect();
        let available: BTreeSet<i64> = bound
            .iter()
            .flat_map(|&g| ports_of(g).iter())
            .filter(|(_, ls)| ls.iter().any(|l| l.takes(section)))
            .map(|(p, _)| *p)
            .collect();
        let available: Vec<String> = available.iter().map(i64::to_string).collect();
        let kind = if section == "tcp" {
            "TCP servers (or TLS servers that terminate TLS)"
        } else {
            "TLS or HTTPS servers in PASSTHROUGH mode"
        };
        let (message, related) = if let Some(l) = listening.first() {
            (
                format!(
                    "match port {port}: the server on port {port} of {} is {}, which uses `http` routes; this `{section}` route only applies to {kind}, so it never matches",
                    label(store, l.gateway),
                    l.describe()
                ),
                Some((l.gateway, l.path.clone())),
            )
        } else {
            (
                format!(
                    "match port {port}: no server of {} listens on port {port}, so this `{section}` route never matches and the gateway has no route for it",
                    names.join(", ")
                ),
                None,
            )
        };
        let help = if available.is_empty() {
            format!(
                "add a server with port {port} to the Gateway (protocol {}), or bind the route to a Gateway that has one",
                if section == "tcp" {
                    "TCP"
                } else {
                    "TLS, mode PASSTHROUGH"
                }
            )
        } else {
            format!(
                "use a port the bound Gateway serves for `{section}` routes ({}), or add a server on port {port}",
                available.join(", ")
            )
        };
        let mut r = cx.report(id, path, message).istio(&[]).help(help);
        match related {
            Some((g, p)) => {
                r.related(g, p, "this server");
            }
            None => {
                for &g in bound {
                    r = r.related(
                        g,
                        FieldPath::parse("spec.servers"),
                        "servers of the bound Gateway",
                    );
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn destinations(
        &self,
        cx: &mut Context<'_>,
        id: ResId,
        res: &Resource,
        hosts: &HostIndex,
        vs_gateways: &[ResId],
        vs_mesh: bool,
        gateways: &GatewayPorts,
    ) {
        let store = cx.store;
        let ns = res.namespace.as_str();
        let Spec::VirtualService(vs) = &res.spec else {
            return;
        };
        let viewers = Viewers::of(&vs.export_to, ns);
        for d in routes::route_destinations(res) {
            if d.host.is_empty() {
                continue;
            }
            let host = fqdn(&d.host, ns);
            let found = hosts.resolve(&host, &viewers);
            let Some(first) = found.first() else {
                continue;
            };
            let mut ports: Vec<i64> = found
                .iter()
                .flat_map(|e| e.ports.iter().map(|p| p.number))
                .collect();
            ports.sort_unstable();
            ports.dedup();
            let owner = first.label(store);
            let port_list: Vec<String> = ports.iter().map(i64::to_string).collect();
            match d.port {
                Some(p) if !ports.contains(&p) => {
                    let path = d.path.clone().key("port").key("number");
                    let message = format!(
                        "destination port {p}: `{}` ({owner}) has no port {p} (it has {}), so istiod routes to cluster `outbound|{p}|{}|{host}`, which does not exist; connections fail",
                        d.host,
                        if port_list.is_empty() {
                            "no ports".into()
                        } else {
                            port_list.join(", ")
                        },
                        d.subset.as_deref().unwrap_or("")
                    );
                    let help = match ports.as_slice() {
                        [only] => format!("set `port.number: {only}`"),
                        [] => format!("declare the port on {owner}"),
                        _ => format!("use one of {}", port_list.join(", ")),
                    };
                    cx.report(id, path, message)
                        .istio(&["IST0101"])
                        .help(help)
                        .related(
                            first.resource,
                            FieldPath::parse("spec.ports"),
                            "the ports it has",
                        );
                }
                None if ports.len() > 1 => {
                    // Which ports the request can arrive on: gateway server ports for gateway
                    // routes, the client's port in sidecars.
                    let rule_gateways = rule_gateways(res, d.section, d.rule, ns, gateways);
                    let (bound, mesh) = match rule_gateways {
                        Some(g) => g,
                        None => (vs_gateways.to_vec(), vs_mesh),
                    };
                    let server_ports: BTreeSet<i64> = bound
                        .iter()
                        .flat_map(|&g| {
                            let r = store.get(g);
                            gateways[&(r.namespace.clone(), r.name.clone())]
                                .1
                                .keys()
                                .copied()
                        })
                        .collect();
                    let missing: Vec<String> = server_ports
                        .iter()
                        .filter(|p| !ports.contains(p))
                        .map(i64::to_string)
                        .collect();
                    let (severity, consequence) = if !missing.is_empty() {
                        (
                            Severity::Error,
                            format!(
                                "on the bound gateway that is the server port ({}), which `{}` does not have, so those requests fail",
                                missing.join(", "),
                                d.host
                            ),
                        )
                    } else if mesh || bound.is_empty() {
                        (
                            Severity::Warning,
                            "in sidecars that is the port the client called, so the route silently depends on it".to_string(),
                        )
                    } else {
                        (
                            Severity::Warning,
                            "on the bound gateway that is the server port".to_string(),
                        )
                    };
                    let message = format!(
                        "{} `{}` ({owner}) has ports {} but names none; istiod then uses the port the request arrived on: {consequence}",
                        d.what(),
                        d.host,
                        port_list.join(", ")
                    );
                    cx.report(id, d.host_path(), message)
                        .severity(severity)
                        .istio(&["IST0112"])
                        .help(format!(
                            "add `port: {{number: N}}` with one of {}",
                            port_list.join(", ")
                        ))
                        .related(
                            first.resource,
                            FieldPath::parse("spec.ports"),
                            "the ports it has",
                        );
                }
                _ => {}
            }
        }
    }
}

/// The gateways a rule's matches narrow it to, when every match names gateways.
fn rule_gateways(
    res: &Resource,
    section: &str,
    i: usize,
    ns: &str,
    gateways: &GatewayPorts,
) -> Option<(Vec<ResId>, bool)> {
    let matches = l4_or_http_match_gateways(res, section, i);
    if matches.is_empty() || matches.iter().any(|g| g.is_empty()) {
        return None;
    }
    let mut out = Vec::new();
    let mut mesh = false;
    for g in matches.iter().flatten() {
        if g == "mesh" {
            mesh = true;
        } else if let Some((gid, _)) = gateways.get(&routes::resolve_gateway_ref(g, ns)) {
            out.push(*gid);
        }
    }
    out.sort_unstable();
    out.dedup();
    Some((out, mesh))
}

fn l4_or_http_match_gateways(res: &Resource, section: &str, i: usize) -> Vec<Vec<String>> {
    let Some(matches) = raw(res, &format!("spec.{section}[{i}].match")).and_then(Node::as_seq)
    else {
        return Vec::new();
    };
    matches
        .iter()
        .map(|m| {
            raw::raw_strings(m.get("gateways"))
                .into_iter()
                .map(|(_, g)| g)
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::diagnostic::{Finding, Severity};

    fn run(text: &str) -> Vec<Finding> {
        crate::rules::testing::findings_of("MESH502", text)
    }

    fn summary(f: &[Finding]) -> Vec<(u32, Severity, Vec<&'static str>)> {
        f.iter()
            .map(|f| (f.location.line, f.severity, f.istio_codes.clone()))
            .collect()
    }

    const BASE: &str = "\
apiVersion: v1
kind: Service
metadata: {name: web, namespace: app}
spec: {ports: [{name: http, port: 80}, {name: https, port: 443}]}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: edge}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: tls, protocol: TLS}
    tls: {mode: PASSTHROUGH}
    hosts: ['*']
  - port: {number: 8443, name: tls-term, protocol: TLS}
    tls: {mode: SIMPLE, credentialName: c}
    hosts: ['*']
  - port: {number: 8080, name: http, protocol: HTTP}
    hosts: ['*']
";

    #[test]
    fn tls_and_tcp_routes_need_matching_server_kinds() {
        let text = format!(
            "{BASE}---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: vs, namespace: app}}
spec:
  hosts: [web.example.com]
  gateways: [edge/gw, mesh]
  tls:
  - match: [{{port: 443, sniHosts: [web.example.com]}}, {{port: 8443, sniHosts: [web.example.com]}}]
    route: [{{destination: {{host: web, port: {{number: 443}}}}}}]
  tcp:
  - match: [{{port: 8443}}, {{port: 8080}}, {{port: 443, gateways: [mesh]}}]
    route: [{{destination: {{host: web, port: {{number: 80}}}}}}]
"
        );
        let f = run(&text);
        assert_eq!(
            summary(&f),
            vec![(28, Severity::Error, vec![]), (31, Severity::Error, vec![]),],
            "{f:#?}"
        );
        assert!(f[0].message.contains("TLS (SIMPLE)"), "{}", f[0].message);
        assert!(f[1].message.contains("HTTP"), "{}", f[1].message);
    }

    #[test]
    fn portless_destinations_depend_on_where_traffic_arrives() {
        let text = format!(
            "{BASE}---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: mesh-only, namespace: app}}
spec:
  hosts: [web]
  http:
  - route: [{{destination: {{host: web}}}}]
    mirror: {{host: web.app.svc.cluster.local, port: {{number: 8080}}}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: at-gateway, namespace: app}}
spec:
  hosts: ['*']
  gateways: [edge/gw]
  http:
  - route: [{{destination: {{host: web}}}}]
"
        );
        let f = run(&text);
        assert_eq!(
            summary(&f),
            vec![
                (27, Severity::Warning, vec!["IST0112"]),
                (28, Severity::Error, vec!["IST0101"]),
                (37, Severity::Error, vec!["IST0112"]),
            ],
            "{f:#?}"
        );
        assert!(f[2].message.contains("8080, 8443"), "{}", f[2].message);
    }
}
