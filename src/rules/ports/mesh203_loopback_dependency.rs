//! MESH203 loopback-dependency-collision: two dependencies of a workload want the same port on
//! the pod's loopback address, or one wants a port the app listens on.
//!
//! Consul Connect binds each upstream of `consul.hashicorp.com/connect-service-upstreams` on
//! `127.0.0.1:<local port>`. Platforms such as Rainbond map every dependency onto the port it
//! serves, on `127.0.0.1`; with `loopback-dependencies` enabled, dependencies are read from env
//! var values naming a Service and port, and from `meshlint.io/depends-on`.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::diagnostic::Severity;
use crate::model::k8s::Workload;
use crate::model::{ResId, Store};
use crate::source::FieldPath;

use crate::mesh::injection::Platform;
use crate::rules::{Context, Rule, RuleMeta};

pub struct LoopbackDependencyCollision;

static META: RuleMeta = RuleMeta {
    code: "MESH203",
    name: "loopback-dependency-collision",
    summary: "two dependencies of a workload want the same local port, or one wants the app's own port",
    severity: Severity::Error,
    istio_codes: &[],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH203-loopback-dependency-collision.md"),
};

/// Consul's explicit upstreams annotation.
pub const CONSUL_UPSTREAMS: &str = "consul.hashicorp.com/connect-service-upstreams";
/// meshlint's own dependency declaration, for loopback platforms.
pub const DEPENDS_ON: &str = "meshlint.io/depends-on";

const PLATFORMS: [Platform; 4] = [
    Platform::Istio,
    Platform::Linkerd,
    Platform::Consul,
    Platform::Dapr,
];

/// What a dependency points at.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Dest {
    Service { namespace: String, name: String },
    PreparedQuery(String),
}

/// Where a dependency was declared.
#[derive(Clone, Debug)]
enum Origin {
    Consul,
    Env { container: String, var: String },
    DependsOn,
}

#[derive(Clone, Debug)]
struct Dep {
    origin: Origin,
    dest: Dest,
    /// The entry as written (one upstream, one env value, one depends-on entry).
    written: String,
    port: i64,
    path: FieldPath,
    /// The Service in the input, and the index of the matching port in `spec.ports`.
    service: Option<(ResId, Option<usize>)>,
}

impl Dep {
    fn is_consul(&self) -> bool {
        matches!(self.origin, Origin::Consul)
    }

    /// Whether `self` and `other` are the same dependency declared twice (not a collision).
    /// Two Consul upstreams on one port always collide: Consul rejects duplicates of either kind.
    fn same_as(&self, other: &Dep) -> bool {
        self.dest == other.dest && !(self.is_consul() && other.is_consul())
    }

    fn describe(&self) -> String {
        match &self.origin {
            Origin::Consul => format!("Consul upstream `{}`", self.written),
            Origin::Env { container, var } => {
                format!("env `{var}: {}` of container `{container}`", self.written)
            }
            Origin::DependsOn => format!("`{DEPENDS_ON}` entry `{}`", self.written),
        }
    }

    fn dest_name(&self, workload_ns: &str) -> String {
        match &self.dest {
            Dest::Service { namespace, name } if namespace == workload_ns => {
                format!("Service `{name}`")
            }
            Dest::Service { namespace, name } => format!("Service `{namespace}/{name}`"),
            Dest::PreparedQuery(q) => format!("prepared query `{q}`"),
        }
    }
}

/// Services of the input by `(namespace, name)`; the first wins.
struct Services<'a> {
    store: &'a Store,
    by_name: HashMap<(&'a str, &'a str), ResId>,
}

impl<'a> Services<'a> {
    fn new(store: &'a Store) -> Self {
        let mut by_name = HashMap::new();
        for (id, r) in store.iter() {
            if r.service().is_some() {
                by_name
                    .entry((r.namespace.as_str(), r.name.as_str()))
                    .or_insert(id);
            }
        }
        Self { store, by_name }
    }

    fn get(&self, ns: &str, name: &str) -> Option<ResId> {
        self.by_name.get(&(ns, name)).copied()
    }

    /// Index of `port` in the Service's `spec.ports`.
    fn port_index(&self, id: ResId, port: i64) -> Option<usize> {
        let svc = self.store.get(id).service()?;
        svc.spec.ports.iter().position(|p| p.port == port)
    }
}

impl Rule for LoopbackDependencyCollision {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let store = cx.store;
        let services = Services::new(store);
        let loopback = cx.settings.loopback_dependencies;
        for (id, res) in store.iter() {
            let Some(w) = res.workload() else {
                continue;
            };
            let mut deps = consul_upstreams(w, &res.namespace, &services);
            if loopback {
                let own = cx.graph.selecting_services(id);
                let mut declared = env_dependencies(w, &res.namespace, &services);
                declared.extend(depends_on(w, &res.namespace, &services));
                declared.retain(|d| !d.service.is_some_and(|(s, _)| own.contains(&s)));
                deps.extend(declared);
            }
            if deps.is_empty() {
                continue;
            }
            check_workload(cx, id, w, &res.namespace, deps);
        }
    }
}

fn check_workload(cx: &mut Context<'_>, id: ResId, w: &Workload, ns: &str, deps: Vec<Dep>) {
    let mut by_port: BTreeMap<i64, Vec<Dep>> = BTreeMap::new();
    for d in deps {
        by_port.entry(d.port).or_default().push(d);
    }
    let own_ports = own_tcp_ports(w);
    let mut used: HashSet<i64> = by_port.keys().copied().collect();
    used.extend(own_ports.keys().copied());
    for (port, group) in &by_port {
        let port = *port;
        for (k, d) in group.iter().enumerate() {
            let earlier = &group[..k];
            if earlier.iter().any(|e| e.same_as(d)) {
                continue;
            }
            if let Some(first) = earlier.iter().find(|e| !e.same_as(d)) {
                let free = free_port(&used, port);
                report_pair(cx, id, ns, port, first, d, free);
            }
        }
        if let Some((cpath, container)) = own_ports.get(&port) {
            let free = free_port(&used, port);
            report_own_port(cx, id, ns, port, &group[0], cpath.clone(), container, free);
        }
    }
}

/// The first port above `port` that no dependency and no container of the pod uses.
fn free_port(used: &HashSet<i64>, port: i64) -> i64 {
    (port + 1..=65535)
        .chain(1024..port)
        .find(|p| !used.contains(p))
        .unwrap_or(port)
}

fn report_pair(
    cx: &mut Context<'_>,
    id: ResId,
    ns: &str,
    port: i64,
    first: &Dep,
    d: &Dep,
    free: i64,
) {
    let consul_help = format!(
        "give each upstream its own local port (e.g. `{}:{free}`) and point the app at localhost:{free} for it; the local port is independent of the port the upstream service serves",
        upstream_name(&d.written),
    );
    let (message, help) = if first.is_consul() && d.is_consul() && first.dest == d.dest {
        (
            format!(
                "Consul upstream `{}` lists {} on local port {port} a second time (first as `{}`): Consul refuses to register the sidecar proxy (`upstreams cannot contain duplicates`), so the pod never gets past its init container",
                d.written,
                d.dest_name(ns),
                first.written,
            ),
            "remove the repeated upstream".to_string(),
        )
    } else if first.is_consul() && d.is_consul() {
        (
            format!(
                "Consul upstreams `{}` ({}) and `{}` ({}) both bind local port {port}: Consul refuses to register the sidecar proxy (`upstreams cannot contain duplicates by local bind address and port; \"127.0.0.1:{port}\" is specified twice`), so the pod never gets past its init container",
                first.written,
                first.dest_name(ns),
                d.written,
                d.dest_name(ns),
            ),
            consul_help,
        )
    } else {
        let help = if d.is_consul() {
            consul_help
        } else {
            "change the port one of the services serves, or map one dependency onto another local port (on Rainbond-style platforms: dependency port mapping; or reach the service by domain name through the L7 network plugin or the Kubernetes Service mode, so the sidecar binds nothing locally)".to_string()
        };
        (
            format!(
                "{} (from {}) and {} (from {}) are different dependencies that both need 127.0.0.1:{port} in this pod: only one listener can bind it, so calls meant for one service reach the other, or the sidecar fails to start",
                first.dest_name(ns),
                first.describe(),
                d.dest_name(ns),
                d.describe(),
            ),
            help,
        )
    };
    let mut reported = cx.report(id, d.path.clone(), message).help(help);
    if first.path != d.path {
        reported = reported.related(
            id,
            first.path.clone(),
            format!(
                "{} declares the dependency on {} at port {port}",
                first.describe(),
                first.dest_name(ns)
            ),
        );
    }
    let mut shown = Vec::new();
    for dep in [first, d] {
        if let Some((svc, path, message)) = service_related(dep, ns)
            && !shown.contains(&(svc, path.clone()))
        {
            shown.push((svc, path.clone()));
            reported = reported.related(svc, path, message);
        }
    }
}

/// Where the Service a dependency names is defined: its matching port, else its name.
fn service_related(d: &Dep, ns: &str) -> Option<(ResId, FieldPath, String)> {
    let (svc, idx) = d.service?;
    let path = match idx {
        Some(i) => FieldPath::parse("spec.ports").index(i).key("port"),
        None => FieldPath::parse("metadata.name"),
    };
    Some((svc, path, format!("{} is defined here", d.dest_name(ns))))
}

#[allow(clippy::too_many_arguments)]
fn report_own_port(
    cx: &mut Context<'_>,
    id: ResId,
    ns: &str,
    port: i64,
    d: &Dep,
    cpath: FieldPath,
    container: &str,
    free: i64,
) {
    let (message, help) = if d.is_consul() {
        (
            format!(
                "{} binds 127.0.0.1:{port} for {}, but container `{container}` listens on port {port} itself: the app and the proxy's upstream listener cannot both bind it (EADDRINUSE)",
                d.describe(),
                d.dest_name(ns),
            ),
            format!(
                "pick a local port the app does not use (e.g. `{}:{free}`) and point the app at localhost:{free}",
                upstream_name(&d.written),
            ),
        )
    } else {
        (
            format!(
                "the dependency on {} ({}) is mapped onto 127.0.0.1:{port}, but container `{container}` listens on port {port} itself: the app and the sidecar's dependency listener cannot both bind it (EADDRINUSE)",
                d.dest_name(ns),
                d.describe(),
            ),
            format!(
                "move the app or the dependency to another port (e.g. {free}), or map the dependency onto another local port (on Rainbond-style platforms: dependency port mapping)"
            ),
        )
    };
    let reported = cx.report(id, d.path.clone(), message).help(help).related(
        id,
        cpath,
        format!("container `{container}` declares port {port}"),
    );
    if let Some((svc, path, message)) = service_related(d, ns) {
        reported.related(svc, path, message);
    }
}

/// The service part of an upstream entry, for examples in help texts.
fn upstream_name(written: &str) -> &str {
    let mut parts = written.splitn(3, ':');
    let first = parts.next().unwrap_or_default().trim();
    if first == "prepared_query" {
        // `prepared_query:name` keeps its prefix.
        let end = written
            .match_indices(':')
            .nth(1)
            .map_or(written.len(), |(i, _)| i);
        return written[..end].trim();
    }
    first
}

/// TCP container ports of the containers that run beside the proxy, excluding the mesh's own.
fn own_tcp_ports(w: &Workload) -> HashMap<i64, (FieldPath, String)> {
    let mut out = HashMap::new();
    for (cpath, c) in w.running_containers() {
        if PLATFORMS.iter().any(|p| p.owns_container(&c.name)) {
            continue;
        }
        for (i, p) in c.ports.iter().enumerate() {
            if p.l4_protocol().eq_ignore_ascii_case("TCP") {
                out.entry(p.container_port).or_insert_with(|| {
                    (
                        cpath.clone().key("ports").index(i).key("containerPort"),
                        c.name.clone(),
                    )
                });
            }
        }
    }
    out
}

fn annotation_path(w: &Workload, key: &str) -> FieldPath {
    w.pod_meta_path.clone().key("annotations").key(key)
}

/// Parses an integer as Go's `strconv.ParseInt(s, 0, 32)` does (`0x`, `0o`, `0b`, leading-0
/// octal, optional `_` separators only with a prefix), as consul-k8s reads upstream ports.
fn go_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits, prefixed) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d.to_string(), true)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d.to_string(), true)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d.to_string(), true)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, lower[1..].to_string(), true)
    } else {
        (10, lower, false)
    };
    let digits = if prefixed {
        digits.replace('_', "")
    } else {
        digits
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let v = i64::from_str_radix(&digits, radix).ok()?;
    let v = if neg { -v } else { v };
    (i64::from(i32::MIN)..=i64::from(i32::MAX))
        .contains(&v)
        .then_some(v)
}

/// An upstream's local port as consul-k8s resolves it: a container port name first, else a number.
fn consul_port(w: &Workload, text: &str) -> Option<i64> {
    let text = text.trim();
    let named = w
        .pod
        .containers
        .iter()
        .flat_map(|c| &c.ports)
        .find(|p| p.name.as_deref() == Some(text))
        .map(|p| p.container_port);
    let port = named.or_else(|| go_int(text))?;
    (1..=65535).contains(&port).then_some(port)
}

/// The upstreams of `consul.hashicorp.com/connect-service-upstreams`, as consul-k8s parses them.
fn consul_upstreams(w: &Workload, ns: &str, services: &Services<'_>) -> Vec<Dep> {
    let Some(value) = w.pod_annotations.get(CONSUL_UPSTREAMS) else {
        return Vec::new();
    };
    let path = annotation_path(w, CONSUL_UPSTREAMS);
    let mut out = Vec::new();
    for raw in value.split(',') {
        let parts: Vec<&str> = raw.splitn(3, ':').collect();
        if parts.len() < 2 {
            continue;
        }
        let written = raw.trim().to_string();
        let named = |n: &str| !n.trim().is_empty();
        let (dest, port_text) = if parts[0].trim() == "prepared_query" {
            let Some(port) = parts.get(2).filter(|_| named(parts[1])) else {
                continue;
            };
            (Dest::PreparedQuery(parts[1].trim().to_string()), *port)
        } else {
            let pieces: Vec<&str> = parts[0].split('.').map(str::trim).collect();
            let (name, namespace) = if pieces.len() >= 2 && pieces[1] == "svc" {
                // Labelled: name.svc[.ns.ns][.peer.peer|.ap.ap|.dc.dc]
                let namespace = (pieces.len() >= 4 && pieces[3] == "ns").then(|| pieces[2]);
                (pieces[0], namespace)
            } else {
                // Unlabelled: name[.ns[.partition]]
                (pieces[0], pieces.get(1).copied())
            };
            if !named(name) {
                continue;
            }
            let namespace = namespace.filter(|n| !n.is_empty()).unwrap_or(ns);
            (
                Dest::Service {
                    namespace: namespace.to_string(),
                    name: name.to_string(),
                },
                parts[1],
            )
        };
        let Some(port) = consul_port(w, port_text) else {
            continue;
        };
        let service = match &dest {
            Dest::Service { namespace, name } => services.get(namespace, name).map(|s| (s, None)),
            Dest::PreparedQuery(_) => None,
        };
        out.push(Dep {
            origin: Origin::Consul,
            dest,
            written,
            port,
            path: path.clone(),
            service,
        });
    }
    out
}

/// `(namespace, name)` of a Service DNS name: `svc`, `svc.ns`, `svc.ns.svc[.<cluster domain>]`.
fn service_of_host(host: &str, ns: &str) -> Option<(String, String)> {
    let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    let valid = |l: &str| {
        !l.is_empty()
            && l.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    let labels: Vec<&str> = host.split('.').collect();
    if !labels.iter().all(|l| valid(l)) {
        return None;
    }
    match labels.as_slice() {
        [name] => Some((ns.to_string(), name.to_string())),
        [name, namespace] => Some((namespace.to_string(), name.to_string())),
        [name, namespace, "svc", ..] => Some((namespace.to_string(), name.to_string())),
        _ => None,
    }
}

/// `host:port` of one address in an env value: `scheme://user@host:port/path?query`.
fn host_port(item: &str) -> Option<(&str, i64)> {
    let rest = item.find("://").map_or(item, |i| &item[i + 3..]);
    let rest = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let rest = rest.rsplit('@').next().unwrap_or_default();
    let (host, port) = rest.rsplit_once(':')?;
    if port.is_empty() || !port.chars().all(|c| c.is_ascii_digit()) || port.len() > 5 {
        return None;
    }
    let port: i64 = port.parse().ok()?;
    (!host.is_empty() && (1..=65535).contains(&port)).then_some((host, port))
}

/// Env values naming a Service of the input and one of its ports.
fn env_dependencies(w: &Workload, ns: &str, services: &Services<'_>) -> Vec<Dep> {
    let mut out = Vec::new();
    for (cpath, c) in w.all_containers() {
        if PLATFORMS.iter().any(|p| p.owns_container(&c.name)) {
            continue;
        }
        for (i, var) in c.env.iter().enumerate() {
            let Some(value) = &var.value else {
                continue;
            };
            for item in value.split(',').map(str::trim) {
                let Some((host, port)) = host_port(item) else {
                    continue;
                };
                let Some((namespace, name)) = service_of_host(host, ns) else {
                    continue;
                };
                let Some(svc) = services.get(&namespace, &name) else {
                    continue;
                };
                let Some(idx) = services.port_index(svc, port) else {
                    continue;
                };
                out.push(Dep {
                    origin: Origin::Env {
                        container: c.name.clone(),
                        var: var.name.clone(),
                    },
                    dest: Dest::Service { namespace, name },
                    written: item.to_string(),
                    port,
                    path: cpath.clone().key("env").index(i).key("value"),
                    service: Some((svc, Some(idx))),
                });
            }
        }
    }
    out
}

/// Entries of `meshlint.io/depends-on`: `service[.namespace][:port]`; no port means every port.
fn depends_on(w: &Workload, ns: &str, services: &Services<'_>) -> Vec<Dep> {
    let Some(value) = w.pod_annotations.get(DEPENDS_ON) else {
        return Vec::new();
    };
    let path = annotation_path(w, DEPENDS_ON);
    let mut out = Vec::new();
    for entry in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (host, port) = match entry.rsplit_once(':') {
            Some((h, p)) => match p.trim().parse::<i64>() {
                Ok(p) if (1..=65535).contains(&p) => (h.trim(), Some(p)),
                _ => continue,
            },
            None => (entry, None),
        };
        let Some((namespace, name)) = service_of_host(host, ns) else {
            continue;
        };
        let svc = services.get(&namespace, &name);
        let ports: Vec<(i64, Option<usize>)> = match (port, svc) {
            (Some(p), Some(s)) => vec![(p, services.port_index(s, p))],
            (Some(p), None) => vec![(p, None)],
            (None, Some(s)) => services
                .store
                .get(s)
                .service()
                .map(|svc| {
                    svc.spec
                        .ports
                        .iter()
                        .enumerate()
                        .map(|(i, p)| (p.port, Some(i)))
                        .collect()
                })
                .unwrap_or_default(),
            (None, None) => Vec::new(),
        };
        for (port, idx) in ports {
            out.push(Dep {
                origin: Origin::DependsOn,
                dest: Dest::Service {
                    namespace: namespace.clone(),
                    name: name.clone(),
                },
                written: entry.to_string(),
                port,
                path: path.clone(),
                service: svc.map(|s| (s, idx)),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, LoadedConfig, MeshSection};
    use crate::diagnostic::Finding;
    use crate::engine::{Settings, check_sources};
    use crate::source::Sources;

    fn run(text: &str, loopback: bool) -> Vec<Finding> {
        let mut sources = Sources::default();
        sources.add_text("t.yaml".into(), text.into());
        let settings = Settings {
            config: LoadedConfig {
                config: Config {
                    mesh: MeshSection {
                        loopback_dependencies: loopback,
                    },
                    ..Config::default()
                },
                ..LoadedConfig::default()
            },
            ..Settings::default()
        };
        let outcome = check_sources(sources, &settings).expect("valid settings");
        assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
        outcome
            .findings
            .into_iter()
            .filter(|f| f.code == "MESH203")
            .collect()
    }

    fn lines(findings: &[Finding]) -> Vec<u32> {
        findings.iter().map(|f| f.location.line).collect()
    }

    const TWO_ON_8080: &str = "\
apiVersion: v1
kind: Service
metadata: {name: b}
spec: {selector: {app: b}, ports: [{name: http, port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: c, namespace: other}
spec: {selector: {app: c}, ports: [{name: http, port: 8080}, {name: grpc, port: 9090}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: a}
spec:
  template:
    metadata:
      labels: {app: a}
    spec:
      containers:
      - name: a
        image: a:1
        env:
        - name: B_URL
          value: http://b:8080/api
        - name: C_ADDR
          value: c.other.svc.cluster.local:8080
";

    #[test]
    fn two_dependencies_on_one_port_collide_only_in_loopback_mode() {
        assert!(run(TWO_ON_8080, false).is_empty());
        let f = run(TWO_ON_8080, true);
        assert_eq!(lines(&f), vec![26], "{f:#?}");
        let f = &f[0];
        assert_eq!(f.severity, Severity::Error);
        assert_eq!(f.resource.name, "a");
        assert!(f.message.contains("127.0.0.1:8080"), "{}", f.message);
        assert!(f.message.contains("Service `b`"), "{}", f.message);
        assert!(f.message.contains("Service `other/c`"), "{}", f.message);
        assert!(
            f.message
                .contains("(from env `C_ADDR: c.other.svc.cluster.local:8080` of container `a`)"),
            "{}",
            f.message
        );
        let related: Vec<u32> = f.related.iter().map(|r| r.location.line).collect();
        // The other env var, then the Service port of each dependency.
        assert_eq!(related, vec![24, 4, 9]);
        assert!(f.help.as_deref().unwrap_or_default().contains("port"));
    }

    #[test]
    fn env_values_that_name_no_service_port_are_not_dependencies() {
        let text = "\
apiVersion: v1
kind: Service
metadata: {name: b}
spec: {ports: [{port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: c}
spec: {ports: [{port: 8080}]}
---
apiVersion: v1
kind: Pod
metadata: {name: a}
spec:
  containers:
  - name: a
    env:
    - {name: B, value: 'http://b:8080'}
    - {name: C_OTHER_PORT, value: 'c:9999'}
    - {name: C_WRONG_NS, value: 'c.elsewhere:8080'}
    - {name: PLAIN, value: '8080'}
    - {name: REF}
    - {name: B_AGAIN, value: 'postgres://u:p@b.default.svc:8080/db?x=1'}
";
        assert!(run(text, true).is_empty());
    }

    #[test]
    fn own_container_port_collides_with_a_dependency() {
        let text = "\
apiVersion: v1
kind: Service
metadata: {name: b}
spec: {ports: [{port: 8080}]}
---
apiVersion: v1
kind: Pod
metadata: {name: a}
spec:
  containers:
  - name: a
    ports: [{containerPort: 8080}]
    env:
    - {name: B, value: 'b:8080'}
";
        let f = run(text, true);
        assert_eq!(lines(&f), vec![14], "{f:#?}");
        assert!(f[0].message.contains("container `a` listens on port 8080"));
        assert_eq!(f[0].related[0].location.line, 12);
    }

    #[test]
    fn a_service_selecting_the_workload_itself_is_no_dependency() {
        let text = "\
apiVersion: v1
kind: Service
metadata: {name: a}
spec: {selector: {app: a}, ports: [{port: 8080}]}
---
apiVersion: v1
kind: Pod
metadata: {name: a, labels: {app: a}}
spec:
  containers:
  - name: a
    ports: [{containerPort: 8080}]
    env:
    - {name: SELF, value: 'http://a:8080'}
";
        assert!(run(text, true).is_empty());
    }

    #[test]
    fn depends_on_annotation_with_and_without_ports() {
        let text = "\
apiVersion: v1
kind: Service
metadata: {name: b}
spec: {ports: [{port: 8080}, {port: 9090}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: a}
spec:
  template:
    metadata:
      annotations:
        meshlint.io/depends-on: 'b, c.other:9090, d:7000'
    spec:
      containers:
      - name: a
        env:
        - {name: B, value: 'b:8080'}
";
        let f = run(text, true);
        // `b` without a port claims 8080 and 9090; `c.other:9090` collides with b's 9090. The
        // env var naming b:8080 is the same dependency as the annotation's `b`.
        assert_eq!(lines(&f), vec![13], "{f:#?}");
        assert!(
            f[0].message.contains("Service `other/c`"),
            "{}",
            f[0].message
        );
        assert!(f[0].message.contains("127.0.0.1:9090"), "{}", f[0].message);
        assert!(run(text, false).is_empty());
    }

    #[test]
    fn consul_upstreams_parse_every_form() {
        let w_text = "\
apiVersion: v1
kind: Pod
metadata:
  name: a
  annotations:
    consul.hashicorp.com/connect-service-upstreams: >-
      b:1001, b.ns:1002:dc2, b.ns.part:1003, b.svc:1004, b.svc.ns2.ns:1005,
      b.svc.ns2.ns.peer1.peer:1006, prepared_query:q:1007 ,c:http, d:0x3F0, e:zz, :1010, f
spec:
  containers:
  - name: a
    ports: [{name: http, containerPort: 1009}]
";
        let (_, store) = crate::model::from_documents(&[("t.yaml".into(), w_text.into())]);
        let services = Services::new(&store);
        let w = store.get(0).workload().expect("pod");
        let deps = consul_upstreams(w, "default", &services);
        let got: Vec<(i64, Dest)> = deps.iter().map(|d| (d.port, d.dest.clone())).collect();
        let svc = |ns: &str, name: &str| Dest::Service {
            namespace: ns.into(),
            name: name.into(),
        };
        assert_eq!(
            got,
            vec![
                (1001, svc("default", "b")),
                (1002, svc("ns", "b")),
                (1003, svc("ns", "b")),
                (1004, svc("default", "b")),
                (1005, svc("ns2", "b")),
                (1006, svc("ns2", "b")),
                (1007, Dest::PreparedQuery("q".into())),
                (1009, svc("default", "c")),
                (1008, svc("default", "d")),
            ]
        );
        assert_eq!(deps[6].written, "prepared_query:q:1007");
    }

    #[test]
    fn consul_duplicate_local_ports_are_errors_without_loopback_mode() {
        let text = "\
apiVersion: v1
kind: Service
metadata: {name: b}
spec: {ports: [{port: 80}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: a}
spec:
  template:
    metadata:
      annotations:
        consul.hashicorp.com/connect-service-upstreams: 'b:8080,c:8080,b:8080'
    spec:
      containers: [{name: a}]
";
        let f = run(text, false);
        // `c` collides with `b`; the repeated `b` is a Consul duplicate of the first.
        assert_eq!(lines(&f), vec![13, 13], "{f:#?}");
        assert!(f.iter().all(|f| f.message.contains("Consul refuses")));
        let pair = f
            .iter()
            .find(|f| f.message.contains("`b:8080` (Service `b`) and `c:8080`"))
            .expect("b/c collision");
        let repeat = f
            .iter()
            .find(|f| f.message.contains("a second time"))
            .expect("repeated b");
        // Service `b` once, though both entries name it.
        assert_eq!(repeat.related.len(), 1);
        assert!(
            pair.help
                .as_deref()
                .unwrap_or_default()
                .contains("`c:8081`")
        );
        // Related: the Service `b` (no Consul-to-Consul self link on the same annotation).
        assert_eq!(pair.related.len(), 1);
        assert_eq!(pair.related[0].location.line, 3);
    }

    #[test]
    fn consul_upstream_and_env_on_one_service_are_one_dependency() {
        let text = "\
apiVersion: v1
kind: Service
metadata: {name: b}
spec: {ports: [{port: 8080}]}
---
apiVersion: v1
kind: Pod
metadata:
  name: a
  annotations:
    consul.hashicorp.com/connect-service-upstreams: 'b:8080'
spec:
  containers:
  - name: a
    env: [{name: B, value: 'http://b:8080'}]
";
        assert!(run(text, true).is_empty());
    }

    #[test]
    fn go_style_integers() {
        assert_eq!(go_int("8080"), Some(8080));
        assert_eq!(go_int("0x1F90"), Some(8080));
        assert_eq!(go_int("017620"), Some(8080));
        assert_eq!(go_int("0o17620"), Some(8080));
        assert_eq!(go_int("08080"), None);
        assert_eq!(go_int("80_80"), None);
        assert_eq!(go_int(""), None);
        assert_eq!(go_int("0"), Some(0));
    }

    #[test]
    fn host_port_forms() {
        assert_eq!(host_port("http://b:8080"), Some(("b", 8080)));
        assert_eq!(host_port("b.ns:8080/path"), Some(("b.ns", 8080)));
        assert_eq!(host_port("jdbc:mysql://db:3306/x"), Some(("db", 3306)));
        assert_eq!(host_port("amqp://u:p@mq:5672"), Some(("mq", 5672)));
        assert_eq!(host_port("http://b"), None);
        assert_eq!(host_port("8080"), None);
        assert_eq!(host_port("b:99999"), None);
        assert_eq!(
            service_of_host("B.NS.svc.cluster.local.", "x"),
            Some(("ns".into(), "b".into()))
        );
        assert_eq!(service_of_host("example.com.au", "x"), None);
        assert_eq!(service_of_host("10.0.0.1", "x"), None);
    }

    #[test]
    fn good_fixture_stays_silent_on_loopback_platforms() {
        let good = include_str!("../../../testdata/rules/MESH203/good.yaml");
        let f = run(good, true);
        assert!(f.is_empty(), "{f:#?}");
    }
}
