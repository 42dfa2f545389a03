//! MESH1901 multicluster-inconsistent-service: a Service of one namespace and name defined
//! differently in the clusters of a multi-cluster run (headless or not, type, ports).

use std::collections::{BTreeMap, HashMap};

use crate::diagnostic::Severity;
use crate::model::k8s::{ServicePort, ServiceSpec};
use crate::model::{ResId, Store};
use crate::rules::{Context, Rule, RuleMeta};
use crate::source::FieldPath;

pub struct InconsistentService;

static META: RuleMeta = RuleMeta {
    code: "MESH1901",
    name: "multicluster-inconsistent-service",
    summary: "a Service defined differently in the clusters of a multi-cluster mesh (headless, type, ports)",
    severity: Severity::Warning,
    istio_codes: &["IST0170"],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH1901-multicluster-inconsistent-service.md"),
};

/// Every Service of a cluster by `(namespace, name)`; one with a generated name is a distinct
/// object wherever it is created.
fn services(store: &Store) -> HashMap<(&str, &str), (ResId, &ServiceSpec)> {
    store
        .iter()
        .filter(|(_, r)| !r.generated_name)
        .filter_map(|(id, r)| {
            let svc = r.service()?;
            Some(((r.namespace.as_str(), r.name.as_str()), (id, &svc.spec)))
        })
        .collect()
}

/// One copy of the Service: the cluster it is in (`None` for the cluster being checked, else
/// the index of a peer) and its spec.
#[derive(Clone, Copy)]
struct Instance<'a> {
    peer: Option<usize>,
    cluster: &'a str,
    id: ResId,
    spec: &'a ServiceSpec,
}

/// One property as each copy has it: where it is and how it reads, e.g. `tcp-foo`.
struct Aspect {
    /// What the property is, e.g. "port 8080 `name`".
    subject: String,
    /// `(copy index, field, value)`, in the order of the copies.
    values: Vec<(usize, FieldPath, String)>,
}

impl Aspect {
    fn differs(&self) -> bool {
        self.values.windows(2).any(|w| w[0].2 != w[1].2)
    }

    /// "`name` tcp-foo in east, tcp-fake in west", clusters of one value together.
    fn describe(&self, copies: &[Instance<'_>]) -> String {
        let mut by_value: Vec<(&str, Vec<&str>)> = Vec::new();
        for (c, _, value) in &self.values {
            match by_value.iter_mut().find(|(v, _)| v == value) {
                Some((_, clusters)) => clusters.push(copies[*c].cluster),
                None => by_value.push((value, vec![copies[*c].cluster])),
            }
        }
        let parts: Vec<String> = by_value
            .iter()
            .map(|(v, clusters)| format!("{v} in {}", and_list(clusters)))
            .collect();
        format!("{}: {}", self.subject, parts.join(", "))
    }
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn ports_path() -> FieldPath {
    FieldPath::parse("spec.ports")
}

fn port_path(i: usize, field: &str) -> FieldPath {
    ports_path().index(i).key(field.to_string())
}

/// A port as the API server stores it: protocol TCP and targetPort `port` when omitted.
fn port_fields(p: &ServicePort) -> [(&'static str, String); 4] {
    let quoted = |v: Option<&str>| v.map_or("none".to_string(), |v| format!("`{v}`"));
    [
        ("name", quoted(p.name.as_deref())),
        ("protocol", format!("`{}`", p.l4_protocol())),
        ("targetPort", format!("`{}`", p.target())),
        ("appProtocol", quoted(p.app_protocol.as_deref())),
    ]
}

/// The ports of a copy, by port number, each with its index in `spec.ports`.
fn ports_by_number(spec: &ServiceSpec) -> BTreeMap<i64, Vec<(usize, &ServicePort)>> {
    let mut out: BTreeMap<i64, Vec<(usize, &ServicePort)>> = BTreeMap::new();
    for (i, p) in spec.ports.iter().enumerate() {
        out.entry(p.port).or_default().push((i, p));
    }
    out
}

/// How each copy has each property, in the order findings list them: headless, type, then the
/// ports by number (and protocol, for a number given for several protocols).
fn aspects(copies: &[Instance<'_>]) -> Vec<Aspect> {
    let headless = Aspect {
        subject: "headless".into(),
        values: copies
            .iter()
            .enumerate()
            .map(|(c, copy)| {
                let value = if copy.spec.is_headless() {
                    "`clusterIP: None`"
                } else {
                    "not headless"
                };
                (c, FieldPath::parse("spec.clusterIP"), value.to_string())
            })
            .collect(),
    };
    let type_ = Aspect {
        subject: "`type`".into(),
        values: copies
            .iter()
            .enumerate()
            .map(|(c, copy)| {
                let value = format!("`{}`", copy.spec.service_type());
                (c, FieldPath::parse("spec.type"), value)
            })
            .collect(),
    };
    let mut out = vec![headless, type_];
    let by_number: Vec<_> = copies.iter().map(|c| ports_by_number(c.spec)).collect();
    let mut numbers: Vec<i64> = by_number.iter().flat_map(|m| m.keys().copied()).collect();
    numbers.sort_unstable();
    numbers.dedup();
    for n in numbers {
        let entries: Vec<&[(usize, &ServicePort)]> = by_number
            .iter()
            .map(|m| m.get(&n).map_or(&[][..], Vec::as_slice))
            .collect();
        // One entry per copy: compare them field by field, protocol included. Several (a
        // number given for TCP and UDP): pair the entries by protocol.
        if entries.iter().all(|e| e.len() <= 1) {
            port_aspects(&format!("port {n}"), &entries, |e| e.first(), &mut out);
        } else {
            let mut protocols: Vec<&str> = entries
                .iter()
                .flat_map(|e| e.iter().map(|(_, p)| p.l4_protocol()))
                .collect();
            protocols.sort_unstable();
            protocols.dedup();
            for proto in protocols {
                let subject = format!("port {n}/{proto}");
                port_aspects(
                    &subject,
                    &entries,
                    |e| e.iter().find(|(_, p)| p.l4_protocol() == proto),
                    &mut out,
                );
            }
        }
    }
    out
}

/// The aspects of one port: whether each copy has it, then its fields where all have it.
fn port_aspects<'p>(
    subject: &str,
    entries: &[&'p [(usize, &'p ServicePort)]],
    pick: impl Fn(&'p [(usize, &'p ServicePort)]) -> Option<&'p (usize, &'p ServicePort)>,
    out: &mut Vec<Aspect>,
) {
    let picked: Vec<Option<&(usize, &ServicePort)>> = entries.iter().map(|e| pick(e)).collect();
    if picked.iter().any(Option::is_none) {
        let values = picked
            .iter()
            .enumerate()
            .map(|(c, p)| match p {
                Some((i, port)) => {
                    let named = port
                        .name
                        .as_deref()
                        .map_or(String::new(), |n| format!(" (`{n}`)"));
                    (c, port_path(*i, "port"), format!("defined{named}"))
                }
                None => (c, ports_path(), "missing".to_string()),
            })
            .collect();
        out.push(Aspect {
            subject: subject.to_string(),
            values,
        });
        return;
    }
    let fields: Vec<(usize, [(&str, String); 4])> = picked
        .iter()
        .flatten()
        .map(|(i, p)| (*i, port_fields(p)))
        .collect();
    for f in 0..4 {
        let field = fields[0].1[f].0;
        out.push(Aspect {
            subject: format!("{subject} `{field}`"),
            values: fields
                .iter()
                .enumerate()
                .map(|(c, (i, values))| (c, port_path(*i, field), values[f].1.clone()))
                .collect(),
        });
    }
}

/// Whether the only differences are target ports, which change nothing istiod routes: each
/// cluster's endpoints carry the port their EndpointSlice gives.
fn target_ports_only(differing: &[&Aspect]) -> bool {
    differing
        .iter()
        .all(|a| a.subject.ends_with("`targetPort`"))
}

/// What follows from the differences, as istiod merges a Service across clusters.
fn consequence(differing: &[&Aspect]) -> String {
    if target_ports_only(differing) {
        return "istiod builds each cluster's endpoints with the port of its own EndpointSlices, so a different target port alone changes no routing; the definitions have drifted apart, and the next difference will matter".into();
    }
    let mut out = vec![
        "istiod keeps one cluster's definition of the Service (the first registry's: its own cluster's, in a multi-primary mesh) and merges only the other clusters' cluster IPs and service accounts"
            .to_string(),
    ];
    if differing
        .iter()
        .any(|a| a.subject.starts_with("port") && !a.subject.ends_with("`targetPort`"))
    {
        out.push(
            "listeners exist only for the kept definition's ports, with the protocol its names give them, and a port's endpoints are those whose Service names the port alike, so some clusters' pods get no traffic on it"
                .into(),
        );
    }
    if differing.iter().any(|a| a.subject == "headless") {
        out.push(
            "whether clients load-balance over the endpoints or connect to the resolved address (headless) depends on which definition is kept"
                .into(),
        );
    }
    if differing.iter().any(|a| a.subject == "`type`") {
        out.push("the type and LoadBalancer addresses are the kept definition's only".into());
    }
    out.join("; ")
}

impl Rule for InconsistentService {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let Some(me) = cx.cluster else {
            return;
        };
        if cx.peers.is_empty() {
            return;
        }
        let peers: Vec<_> = cx.peers.iter().map(|p| services(p.store)).collect();
        let mut own: Vec<_> = services(cx.store).into_iter().collect();
        own.sort_by_key(|(key, _)| *key);
        let mut found = Vec::new();
        for ((ns, name), (id, spec)) in own {
            let mut copies = vec![Instance {
                peer: None,
                cluster: me,
                id,
                spec,
            }];
            for (p, services) in peers.iter().enumerate() {
                if let Some((id, spec)) = services.get(&(ns, name)) {
                    copies.push(Instance {
                        peer: Some(p),
                        cluster: cx.peers[p].name,
                        id: *id,
                        spec,
                    });
                }
            }
            // Reported once, by the first cluster (by name) that has the Service.
            if copies.len() < 2 || copies[1..].iter().any(|c| c.cluster < me) {
                continue;
            }
            copies[1..].sort_by_key(|c| c.cluster);
            let all = aspects(&copies);
            let differing: Vec<&Aspect> = all.iter().filter(|a| a.differs()).collect();
            // At the first difference in a field this copy has (a port only others define
            // points at the port list).
            let Some(first) = differing
                .iter()
                .find(|a| a.values[0].2 != "missing")
                .or(differing.first())
            else {
                continue;
            };
            let clusters: Vec<&str> = copies.iter().map(|c| c.cluster).collect();
            let details: Vec<String> = differing.iter().map(|a| a.describe(&copies)).collect();
            let message = format!(
                "defined differently in clusters {}: {}. {}",
                and_list(&clusters),
                details.join("; "),
                consequence(&differing)
            );
            let mut related = Vec::new();
            for a in &differing {
                let own_value = &a.values[0].2;
                for (c, path, value) in &a.values[1..] {
                    if value != own_value
                        && let Some(p) = copies[*c].peer
                    {
                        let what = a.subject.clone();
                        related.push((p, copies[*c].id, path.clone(), what, value.clone()));
                    }
                }
            }
            let severity = if target_ports_only(&differing) {
                Severity::Info
            } else {
                META.severity
            };
            found.push((id, first.values[0].1.clone(), message, severity, related));
        }
        let peer_names: Vec<&str> = cx.peers.iter().map(|p| p.name).collect();
        for (id, path, message, severity, related) in found {
            let mut r = cx.report(id, path, message).severity(severity).help(
                "deploy the same Service definition (ports, their names and protocols, type, headless or not) to every cluster, e.g. one manifest applied to each; if the clusters serve different things, give the Services different names",
            );
            for (p, rid, path, what, value) in related {
                let cluster = peer_names[p];
                r = r.related_peer(
                    p,
                    rid,
                    path,
                    format!("{what}: {value} in cluster {cluster}"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::diagnostic::Finding;
    use crate::engine::{Settings, check_clusters};
    use crate::source::Sources;

    fn service(name: &str, spec: &str) -> String {
        format!(
            "apiVersion: v1\nkind: Service\nmetadata: {{name: {name}, namespace: ns}}\nspec:\n{spec}"
        )
    }

    /// MESH1901 findings of a run with one file per cluster.
    fn run(clusters: &[(&str, String)]) -> Vec<Finding> {
        let inputs = clusters
            .iter()
            .map(|(name, text)| {
                let mut sources = Sources::default();
                sources.add_text(format!("{name}.yaml"), text.clone());
                (name.to_string(), sources)
            })
            .collect();
        let outcome = check_clusters(inputs, &Settings::default()).expect("valid settings");
        assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
        outcome
            .findings
            .into_iter()
            .filter(|f| f.code == "MESH1901")
            .collect()
    }

    #[test]
    fn defaults_and_assigned_fields_do_not_count_as_differences() {
        let east = service(
            "web",
            "  clusterIP: 10.0.0.1\n  ports:\n  - {name: http, port: 80, nodePort: 30001}\n",
        );
        let west = service(
            "web",
            "  type: ClusterIP\n  clusterIP: 10.9.9.9\n  ports:\n  - {name: http, port: 80, protocol: TCP, targetPort: 80, nodePort: 31999}\n",
        );
        assert!(run(&[("east", east), ("west", west)]).is_empty());
    }

    #[test]
    fn a_renamed_port_is_reported_once_on_the_first_cluster_pointing_at_the_others() {
        let a = service("web", "  ports:\n  - {name: tcp-foo, port: 80}\n");
        let b = service("web", "  ports:\n  - {name: tcp-fake, port: 80}\n");
        // Given in any order, the first cluster by name reports.
        let found = run(&[("west", b.clone()), ("east", a.clone()), ("north", a)]);
        assert_eq!(found.len(), 1, "{found:?}");
        let f = &found[0];
        assert_eq!(f.location.file, "east.yaml");
        assert_eq!(f.clusters, vec!["east"]);
        assert!(
            f.message
                .contains("port 80 `name`: `tcp-foo` in east and north, `tcp-fake` in west"),
            "{}",
            f.message
        );
        assert_eq!(f.related.len(), 1, "{:?}", f.related);
        assert_eq!(f.related[0].location.file, "west.yaml");
        assert_eq!(f.related[0].location.line, 6);
    }

    #[test]
    fn missing_ports_headless_and_type_are_each_named() {
        let east = service(
            "web",
            "  clusterIP: None\n  ports:\n  - {name: http, port: 80}\n",
        );
        let west = service(
            "web",
            "  type: LoadBalancer\n  ports:\n  - {name: http, port: 80}\n  - {name: grpc, port: 9090, appProtocol: grpc}\n",
        );
        let found = run(&[("east", east), ("west", west)]);
        assert_eq!(found.len(), 1);
        let m = &found[0].message;
        for part in [
            "headless: `clusterIP: None` in east, not headless in west",
            "`type`: `ClusterIP` in east, `LoadBalancer` in west",
            "port 9090: missing in east, defined (`grpc`) in west",
        ] {
            assert!(m.contains(part), "{part} not in {m}");
        }
        // At the first difference: east's clusterIP.
        assert_eq!(found[0].location.line, 5);
    }

    #[test]
    fn ports_of_one_number_are_paired_by_protocol() {
        let east = service(
            "dns",
            "  ports:\n  - {name: dns, port: 53, protocol: UDP}\n  - {name: dns-tcp, port: 53}\n",
        );
        let west = service(
            "dns",
            "  ports:\n  - {name: dns-tcp, port: 53, protocol: TCP}\n  - {name: dns, port: 53, protocol: UDP, targetPort: 5353}\n",
        );
        let found = run(&[("east", east), ("west", west)]);
        assert_eq!(found.len(), 1);
        assert!(
            found[0]
                .message
                .contains("port 53/UDP `targetPort`: `53` in east, `5353` in west"),
            "{}",
            found[0].message
        );
        assert!(!found[0].message.contains("53/TCP"), "{}", found[0].message);
    }

    #[test]
    fn a_different_target_port_alone_is_info() {
        let east = service(
            "web",
            "  ports:\n  - {name: http, port: 80, targetPort: 8080}\n",
        );
        let west = service(
            "web",
            "  ports:\n  - {name: http, port: 80, targetPort: http}\n",
        );
        let found = run(&[("east", east.clone()), ("west", west)]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, crate::diagnostic::Severity::Info);
        assert!(
            found[0].message.contains("changes no routing"),
            "{}",
            found[0].message
        );
        let renamed = service(
            "web",
            "  ports:\n  - {name: tcp, port: 80, targetPort: 9090}\n",
        );
        let found = run(&[("east", east), ("west", renamed)]);
        assert_eq!(found[0].severity, crate::diagnostic::Severity::Warning);
    }

    #[test]
    fn services_in_one_cluster_or_other_namespaces_are_not_compared() {
        let east = service("web", "  ports:\n  - {name: http, port: 80}\n");
        let west = service("web", "  ports:\n  - {name: tcp, port: 80}\n").replace("ns}", "other}");
        assert!(run(&[("east", east.clone()), ("west", west)]).is_empty());
        assert!(run(&[("east", east)]).is_empty());
    }
}
