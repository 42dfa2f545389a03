//! MESH204 host-port-collision: two workloads take the same port on the node, or one workload
//! with a host port asks for more replicas than it can place on one node.
//!
//! A `hostNetwork` pod's container ports are host ports (Kubernetes defaults `hostPort` to the
//! `containerPort`), as is every `hostPort`. The scheduler's NodePorts filter keeps two pods with
//! the same host port off one node, so a DaemonSet's host port leaves no node for another
//! workload using it.

use std::collections::{HashMap, HashSet};

use crate::diagnostic::Severity;
use crate::model::{ResId, Resource, Store};
use crate::source::{FieldPath, Node, Value};

use crate::rules::{Context, Rule, RuleMeta};

pub struct HostPortCollision;

static META: RuleMeta = RuleMeta {
    code: "MESH204",
    name: "host-port-collision",
    summary: "two workloads use the same host port, or a replicated workload uses one",
    severity: Severity::Error,
    istio_codes: &[],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH204-host-port-collision.md"),
};

/// Kinds whose `spec.replicas` pods the scheduler spreads freely.
const REPLICATED: &[&str] = &[
    "Deployment",
    "StatefulSet",
    "ReplicaSet",
    "ReplicationController",
];

/// One host port a workload takes.
#[derive(Clone, Debug)]
struct HostPort {
    /// Index into the workload list.
    owner: usize,
    port: i64,
    protocol: String,
    /// Empty for every address (`""` or `0.0.0.0`).
    ip: String,
    path: FieldPath,
    container: String,
}

impl HostPort {
    fn shown(&self) -> String {
        if self.ip.is_empty() {
            format!("{}/{}", self.port, self.protocol)
        } else {
            format!("{}/{} on {}", self.port, self.protocol, self.ip)
        }
    }
}

struct Owner<'a> {
    id: ResId,
    res: &'a Resource,
}

impl Owner<'_> {
    fn is_daemonset(&self) -> bool {
        self.res.kind == "DaemonSet"
    }

    fn label(&self) -> String {
        format!(
            "{} `{}/{}`",
            self.res.kind, self.res.namespace, self.res.name
        )
    }
}

/// The first entries of up to two distinct workloads, in input order.
#[derive(Clone, Copy, Default)]
struct FirstTwo([Option<usize>; 2]);

impl FirstTwo {
    fn add(&mut self, entry: usize, entries: &[HostPort]) {
        match self.0 {
            [None, _] => self.0[0] = Some(entry),
            [Some(a), None] if entries[a].owner != entries[entry].owner => self.0[1] = Some(entry),
            _ => {}
        }
    }

    /// The first entry not owned by `owner`.
    fn other_than(&self, owner: usize, entries: &[HostPort]) -> Option<usize> {
        self.0
            .iter()
            .flatten()
            .copied()
            .find(|&e| entries[e].owner != owner)
    }
}

/// The earliest entries seen for one address, overall and among DaemonSets.
#[derive(Clone, Copy, Default)]
struct Seen {
    any: FirstTwo,
    daemonsets: FirstTwo,
}

impl Seen {
    fn add(&mut self, entry: usize, entries: &[HostPort], owners: &[Owner<'_>]) {
        self.any.add(entry, entries);
        if owners[entries[entry].owner].is_daemonset() {
            self.daemonsets.add(entry, entries);
        }
    }

    /// The entry `entry` collides with: the earliest DaemonSet's, else the earliest other one.
    fn partner(&self, owner: usize, entries: &[HostPort]) -> (Option<usize>, Option<usize>) {
        (
            self.daemonsets.other_than(owner, entries),
            self.any.other_than(owner, entries),
        )
    }
}

fn earliest(a: Option<usize>, b: Option<usize>) -> Option<usize> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

impl Rule for HostPortCollision {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let store = cx.store;
        // "Earliest" below means first in this order, which depends on the objects only, not
        // on the order of files or documents: DaemonSets first, so every workload that shares
        // a host port with one is paired with it.
        let mut owners = workloads(store);
        owners.sort_by(|a, b| {
            let key = |o: &Owner<'_>| {
                (
                    !o.is_daemonset(),
                    o.res.namespace.clone(),
                    o.res.name.clone(),
                    o.res.kind.clone(),
                )
            };
            key(a).cmp(&key(b))
        });
        let entries = host_ports(&owners);

        let mut first_of: Vec<Option<&HostPort>> = vec![None; owners.len()];
        for e in &entries {
            first_of[e.owner].get_or_insert(e);
        }
        for (o, first) in owners.iter().zip(first_of) {
            check_replicas(cx, o, first);
        }

        // Per (port, protocol): the earliest entries of every address, and of all addresses.
        let mut by_ip: HashMap<(i64, &str, &str), Seen> = HashMap::new();
        let mut by_port: HashMap<(i64, &str), Seen> = HashMap::new();
        let mut reported: HashSet<(usize, i64, &str, &str)> = HashSet::new();
        for (k, e) in entries.iter().enumerate() {
            let port_key = (e.port, e.protocol.as_str());
            let (ds, any) = if e.ip.is_empty() {
                by_port
                    .get(&port_key)
                    .map_or((None, None), |s| s.partner(e.owner, &entries))
            } else {
                let exact = by_ip
                    .get(&(e.port, e.protocol.as_str(), e.ip.as_str()))
                    .map_or((None, None), |s| s.partner(e.owner, &entries));
                let wildcard = by_ip
                    .get(&(e.port, e.protocol.as_str(), ""))
                    .map_or((None, None), |s| s.partner(e.owner, &entries));
                (earliest(exact.0, wildcard.0), earliest(exact.1, wildcard.1))
            };
            let partner = if owners[e.owner].is_daemonset() {
                any
            } else {
                ds.or(any)
            };
            if let Some(p) = partner
                && reported.insert((e.owner, e.port, e.protocol.as_str(), e.ip.as_str()))
            {
                report_pair(cx, &owners, &entries[p], e);
            }
            by_ip
                .entry((e.port, e.protocol.as_str(), e.ip.as_str()))
                .or_default()
                .add(k, &entries, &owners);
            by_port
                .entry(port_key)
                .or_default()
                .add(k, &entries, &owners);
        }
    }
}

/// How two workloads' node placement relates.
enum Placement {
    /// Their `nodeSelector`s require different values for one label: never on one node.
    Disjoint,
    /// A `nodeSelector` or affinity narrows where one runs: they may or may not meet.
    Constrained,
    /// Nothing keeps them apart.
    Anywhere,
}

fn placement(a: &Owner<'_>, b: &Owner<'_>) -> Placement {
    let (Some(pa), Some(pb)) = (a.res.workload(), b.res.workload()) else {
        return Placement::Anywhere;
    };
    let (sa, sb) = (&pa.pod.node_selector, &pb.pod.node_selector);
    if sa.iter().any(|(k, v)| sb.get(k).is_some_and(|w| w != v)) {
        return Placement::Disjoint;
    }
    if !sa.is_empty() || !sb.is_empty() || pa.pod.affinity.is_some() || pb.pod.affinity.is_some() {
        Placement::Constrained
    } else {
        Placement::Anywhere
    }
}

fn report_pair(cx: &mut Context<'_>, owners: &[Owner<'_>], first: &HostPort, e: &HostPort) {
    let (a, b) = (&owners[first.owner], &owners[e.owner]);
    let port = e.shown();
    let constrained = match placement(a, b) {
        Placement::Disjoint => return,
        Placement::Constrained => true,
        Placement::Anywhere => false,
    };
    let (severity, message) = if b.is_daemonset() {
        (
            Severity::Error,
            format!(
                "this DaemonSet takes host port {port} on every node, but {} uses it too: on each node running a `{}` pod, the DaemonSet's pod fails the scheduler's NodePorts filter and stays Pending",
                a.label(),
                a.res.name
            ),
        )
    } else if a.is_daemonset() {
        (
            Severity::Error,
            format!(
                "host port {port} is taken on every node by {}: this workload's pods fit on no node where the DaemonSet runs and stay Pending (the scheduler's NodePorts filter)",
                a.label(),
            ),
        )
    } else {
        (
            Severity::Warning,
            format!(
                "host port {port} is also used by {}: pods of the two workloads can never share a node, so unless the cluster has enough nodes for both, some stay Pending",
                a.label(),
            ),
        )
    };
    // With nodeSelector or affinity the two may never meet: say so, and warn only.
    let (severity, message) = if constrained {
        (
            Severity::Warning,
            format!("{message} (where their nodeSelector or affinity lets them share a node)"),
        )
    } else {
        (severity, message)
    };
    cx.report(b.id, e.path.clone(), message)
        .severity(severity)
        .help("expose the workload through a Service (NodePort or LoadBalancer) or an ingress instead of hostPort/hostNetwork, or give each workload its own host port or hostIP")
        .related(
            a.id,
            first.path.clone(),
            format!(
                "{} takes host port {} (container `{}`)",
                a.label(),
                first.shown(),
                first.container
            ),
        );
}

fn check_replicas(cx: &mut Context<'_>, o: &Owner<'_>, first: Option<&HostPort>) {
    let Some(first) = first else {
        return;
    };
    let Some(w) = o.res.workload() else {
        return;
    };
    let replicas = w.replicas.unwrap_or(1);
    if replicas <= 1 || !REPLICATED.contains(&o.res.kind.as_str()) {
        return;
    }
    let message = format!(
        "{replicas} replicas take host port {}: no two of them fit on one node, so the workload needs at least {replicas} schedulable nodes (one more for a rolling update), else the extra replicas stay Pending",
        first.shown()
    );
    cx.report(o.id, first.path.clone(), message)
        .severity(Severity::Warning)
        .help("run one pod per node as a DaemonSet, or expose the workload through a Service instead of a host port")
        .related(
            o.id,
            FieldPath::parse("spec.replicas"),
            format!("{replicas} replicas"),
        );
}

/// The workloads to compare: every workload except copies of an earlier one (same kind,
/// namespace and name) and those owned by another workload of the input.
fn workloads(store: &Store) -> Vec<Owner<'_>> {
    let mut present: HashSet<(&str, &str, &str)> = HashSet::new();
    for (_, r) in store.iter() {
        if r.workload().is_some() {
            present.insert((r.kind.as_str(), r.namespace.as_str(), r.name.as_str()));
        }
    }
    let mut seen: HashSet<(&str, &str, &str)> = HashSet::new();
    let mut out = Vec::new();
    for (id, r) in store.iter() {
        if r.workload().is_none()
            || !seen.insert((r.kind.as_str(), r.namespace.as_str(), r.name.as_str()))
        {
            continue;
        }
        let owned = owner_refs(&r.node)
            .into_iter()
            .any(|(kind, name)| present.contains(&(kind, r.namespace.as_str(), name)));
        if !owned {
            out.push(Owner { id, res: r });
        }
    }
    out
}

/// `(kind, name)` of each `metadata.ownerReferences` entry.
fn owner_refs(root: &Node) -> Vec<(&str, &str)> {
    let (refs, found) = root.lookup(&FieldPath::parse("metadata.ownerReferences"));
    let (true, Value::Seq(items)) = (found, &refs.value) else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| {
            let kind = item.get("kind")?.as_str()?;
            let name = item.get("name")?.as_str()?;
            Some((kind, name))
        })
        .collect()
}

/// Every host port of every workload, in input order.
fn host_ports(owners: &[Owner<'_>]) -> Vec<HostPort> {
    let mut out = Vec::new();
    for (i, o) in owners.iter().enumerate() {
        let Some(w) = o.res.workload() else {
            continue;
        };
        for (cpath, c) in w.running_containers() {
            for (k, p) in c.ports.iter().enumerate() {
                let declared = p.host_port.filter(|&h| h > 0);
                let port = match declared {
                    Some(h) => h,
                    None if w.pod.host_network => p.container_port,
                    None => continue,
                };
                if port <= 0 {
                    continue;
                }
                let field = if declared.is_some() {
                    "hostPort"
                } else {
                    "containerPort"
                };
                let ip = p.host_ip.as_deref().unwrap_or_default().trim();
                out.push(HostPort {
                    owner: i,
                    port,
                    protocol: p.l4_protocol().to_ascii_uppercase(),
                    ip: if ip == "0.0.0.0" {
                        String::new()
                    } else {
                        ip.to_string()
                    },
                    path: cpath.clone().key("ports").index(k).key(field),
                    container: c.name.clone(),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Finding;

    fn run(text: &str) -> Vec<Finding> {
        crate::rules::testing::findings_of("MESH204", text)
    }

    fn summary(findings: &[Finding]) -> Vec<(String, u32, Severity)> {
        findings
            .iter()
            .map(|f| (f.resource.to_string(), f.location.line, f.severity))
            .collect()
    }

    fn pod(name: &str, kind: &str, spec: &str) -> String {
        let tpl = format!("{{containers: [{spec}]}}");
        match kind {
            "Pod" => {
                format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}}}\nspec: {tpl}\n")
            }
            _ => format!(
                "apiVersion: apps/v1\nkind: {kind}\nmetadata: {{name: {name}}}\nspec: {{template: {{spec: {tpl}}}}}\n"
            ),
        }
    }

    #[test]
    fn daemonset_pairs_are_errors_other_pairs_warnings() {
        let text = [
            pod(
                "a",
                "Deployment",
                "{name: c, ports: [{containerPort: 80, hostPort: 8080}]}",
            ),
            pod(
                "ds",
                "DaemonSet",
                "{name: c, ports: [{containerPort: 8080, hostPort: 8080}]}",
            ),
            pod(
                "b",
                "Deployment",
                "{name: c, ports: [{containerPort: 81, hostPort: 8080}]}",
            ),
            pod(
                "c",
                "Pod",
                "{name: c, ports: [{containerPort: 9, hostPort: 9}]}",
            ),
            pod(
                "d",
                "Job",
                "{name: c, ports: [{containerPort: 9, hostPort: 9}]}",
            ),
        ]
        .join("---\n");
        let f = run(&text);
        assert_eq!(
            summary(&f),
            vec![
                ("Deployment default/a".into(), 4, Severity::Error),
                ("Deployment default/b".into(), 14, Severity::Error),
                ("Job default/d".into(), 24, Severity::Warning),
            ],
            "{f:#?}"
        );
        // Both Deployments are paired with the DaemonSet, not with each other.
        assert_eq!(f[0].related[0].location.line, 9);
        assert_eq!(f[1].related[0].location.line, 9);
        assert!(
            f[1].message.contains("DaemonSet `default/ds`"),
            "{}",
            f[1].message
        );
        assert!(f[2].message.contains("9/TCP"), "{}", f[2].message);
    }

    #[test]
    fn host_ips_and_protocols_separate_ports() {
        let text = [
            pod(
                "a",
                "DaemonSet",
                "{name: c, ports: [{containerPort: 53, hostPort: 53, protocol: UDP}]}",
            ),
            pod(
                "b",
                "DaemonSet",
                "{name: c, ports: [{containerPort: 53, hostPort: 53}]}",
            ),
            pod(
                "c",
                "DaemonSet",
                "{name: c, ports: [{containerPort: 80, hostPort: 80, hostIP: 10.0.0.1}]}",
            ),
            pod(
                "d",
                "DaemonSet",
                "{name: c, ports: [{containerPort: 80, hostPort: 80, hostIP: 10.0.0.2}]}",
            ),
            pod(
                "e",
                "DaemonSet",
                "{name: c, ports: [{containerPort: 80, hostPort: 80, hostIP: 0.0.0.0}]}",
            ),
            pod(
                "f",
                "DaemonSet",
                "{name: c, ports: [{containerPort: 80, hostPort: 80, hostIP: 10.0.0.2}]}",
            ),
        ]
        .join("---\n");
        let f = run(&text);
        // `e` (every address) collides with `c`; `f` with `d` (same IP) and `e` (wildcard): the
        // earlier, `d`.
        assert_eq!(
            summary(&f),
            vec![
                ("DaemonSet default/e".into(), 24, Severity::Error),
                ("DaemonSet default/f".into(), 29, Severity::Error),
            ],
            "{f:#?}"
        );
        assert_eq!(f[0].related[0].location.line, 14);
        assert_eq!(f[1].related[0].location.line, 19);
        assert!(
            f[1].message.contains("80/TCP on 10.0.0.2"),
            "{}",
            f[1].message
        );
    }

    #[test]
    fn host_network_ports_default_to_container_ports() {
        let text = "\
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  template:
    spec:
      hostNetwork: true
      initContainers:
      - {name: setup, ports: [{containerPort: 7000}]}
      - {name: sidecar, restartPolicy: Always, ports: [{containerPort: 7001}]}
      containers:
      - {name: agent, ports: [{containerPort: 9100}, {containerPort: 9101}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      hostNetwork: true
      initContainers:
      - {name: setup, ports: [{containerPort: 7001}]}
      containers:
      - {name: web, ports: [{containerPort: 7000}, {containerPort: 9100}, {containerPort: 8080, hostPort: 8080}]}
";
        let f = run(text);
        assert_eq!(
            summary(&f),
            vec![("Deployment default/web".into(), 24, Severity::Error)],
            "{f:#?}"
        );
        assert_eq!(
            f[0].location.column, 68,
            "points at the second port's containerPort"
        );
        assert!(f[0].message.contains("9100/TCP"));
    }

    #[test]
    fn replicas_need_a_node_each() {
        let text = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  template:
    spec:
      containers:
      - {name: web, ports: [{containerPort: 80}, {containerPort: 443, hostPort: 443}, {containerPort: 8443, hostPort: 8443}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: one}
spec:
  replicas: 1
  template:
    spec:
      containers:
      - {name: web, ports: [{containerPort: 81, hostPort: 81}]}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: ds}
spec:
  replicas: 3
  template:
    spec:
      containers:
      - {name: web, ports: [{containerPort: 82, hostPort: 82}]}
";
        let f = run(text);
        assert_eq!(
            summary(&f),
            vec![("Deployment default/web".into(), 9, Severity::Warning)],
            "{f:#?}"
        );
        assert!(f[0].message.contains("3 replicas"));
        assert!(f[0].message.contains("443/TCP"));
        assert_eq!(f[0].related[0].location.line, 5);
    }

    #[test]
    fn same_workload_copies_and_owned_resources_are_not_compared() {
        let text = "\
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: mon}
spec: {template: {spec: {containers: [{name: a, ports: [{containerPort: 1, hostPort: 9100}, {containerPort: 2, hostPort: 9100}]}]}}}
---
apiVersion: v1
kind: Pod
metadata:
  name: agent-x1y2z
  namespace: mon
  ownerReferences: [{apiVersion: apps/v1, kind: DaemonSet, name: agent, controller: true}]
spec: {containers: [{name: a, ports: [{containerPort: 1, hostPort: 9100}]}]}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: mon}
spec: {template: {spec: {containers: [{name: a, ports: [{containerPort: 1, hostPort: 9100}]}]}}}
---
apiVersion: v1
kind: Pod
metadata:
  name: orphan
  namespace: mon
  ownerReferences: [{apiVersion: apps/v1, kind: DaemonSet, name: gone}]
spec: {containers: [{name: a, ports: [{containerPort: 1, hostPort: 9100}]}]}
";
        let f = run(text);
        assert_eq!(
            summary(&f),
            vec![("Pod mon/orphan".into(), 25, Severity::Error)],
            "{f:#?}"
        );
    }

    #[test]
    fn many_workloads_on_one_port_report_each_later_one_once() {
        let text: Vec<String> = (0..200)
            .map(|i| {
                pod(
                    &format!("w{i}"),
                    "Deployment",
                    "{name: c, ports: [{containerPort: 80, hostPort: 80}]}",
                )
            })
            .collect();
        let f = run(&text.join("---\n"));
        assert_eq!(f.len(), 199);
        assert!(f.iter().all(|f| f.related[0].location.line == 4));
    }
}
