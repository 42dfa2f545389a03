//! MESH906 authz-unknown-reference: an AuthorizationPolicy names a service account (principal),
//! a trust domain or a port that nothing in the input has (namespaces are MESH503's). The input
//! may be partial, so these are hints.

use std::collections::BTreeSet;

use crate::diagnostic::Severity;
use crate::mesh::gateway_api::GatewayApi;
use crate::mesh::gateway_api::gateways::Class;
use crate::mesh::security::authz::{self, AuthzPolicies};
use crate::mesh::security::ports;
use crate::model::{ResId, Store};
use crate::rules::{Context, Rule, RuleMeta};
use crate::source::FieldPath;

pub struct AuthzUnknownReference;

static META: RuleMeta = RuleMeta {
    code: "MESH906",
    name: "authz-unknown-reference",
    summary: "AuthorizationPolicy names a service account, trust domain or port that nothing in the input has, or an IP block that is none",
    severity: Severity::Info,
    istio_codes: &[],
    kiali_codes: &["KIA0106", "KIA0108"],
    opt_in: false,
    doc: include_str!("../../../rules/MESH906-authz-unknown-reference.md"),
};

/// `(trust domain, namespace, service account)` of a SPIFFE-style principal
/// `TD/ns/NS/sa/SA`; `None` for other forms and for patterns with `*`.
fn principal_parts(p: &str) -> Option<(&str, &str, &str)> {
    if p.contains('*') {
        return None;
    }
    let (td, rest) = p.split_once("/ns/")?;
    let (ns, sa) = rest.split_once("/sa/")?;
    (!ns.is_empty() && !sa.is_empty() && !sa.contains('/')).then_some((td, ns, sa))
}

/// istio's `security.ValidateIPs`: a CIDR range when it has a `/`, else an address.
fn ip_block_valid(block: &str) -> bool {
    if block.contains('/') {
        block.parse::<ipnet::IpNet>().is_ok()
    } else {
        block.parse::<std::net::IpAddr>().is_ok()
    }
}

/// What the input knows of namespaces and service accounts.
struct Known {
    namespaces: BTreeSet<String>,
    /// `(namespace, service account)` of every workload and ServiceAccount object, and of the
    /// Deployments istiod generates for Gateway API gateways and waypoints.
    accounts: BTreeSet<(String, String)>,
    /// Service accounts of objects that do not write their namespace: `kustomize build` or
    /// `kubectl apply -n` may place them in any namespace.
    floating: BTreeSet<String>,
}

impl Known {
    fn build(store: &Store, gateway_api: &GatewayApi) -> Self {
        let mut namespaces = BTreeSet::new();
        let mut accounts = BTreeSet::new();
        let mut floating = BTreeSet::new();
        for g in &gateway_api.gateways {
            if g.deployment.managed && matches!(g.class, Class::Istio | Class::Waypoint) {
                let r = store.get(g.id);
                let sa = g.deployment.service_account.clone();
                if !r.namespace_explicit {
                    floating.insert(sa.clone());
                }
                accounts.insert((r.namespace.clone(), sa));
            }
        }
        for (_, r) in store.iter() {
            namespaces.insert(r.namespace.clone());
            let sa = match (r.workload(), r.kind.as_str()) {
                (Some(w), _) => w.pod.service_account().to_string(),
                (None, "ServiceAccount") => r.name.clone(),
                _ => continue,
            };
            if !r.namespace_explicit {
                floating.insert(sa.clone());
            }
            accounts.insert((r.namespace.clone(), sa));
        }
        Self {
            namespaces,
            accounts,
            floating,
        }
    }
}

impl Rule for AuthzUnknownReference {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let store = cx.store;
        let mesh = &cx.settings.mesh;
        let root = mesh.root_namespace().to_string();
        let policies = AuthzPolicies::build(store, &root);
        if policies.is_empty() {
            return;
        }
        let known = Known::build(store, &cx.gateway_api());
        let mut domains: BTreeSet<&str> = mesh
            .trust_domain_aliases
            .iter()
            .map(String::as_str)
            .collect();
        domains.insert(mesh.trust_domain());
        for id in policies.all().collect::<Vec<_>>() {
            let ap = authz::spec(store, id);
            for (i, rule) in ap.rules().iter().enumerate() {
                let rule_path = FieldPath::parse("spec.rules").index(i);
                for (j, from) in rule.from.iter().enumerate() {
                    let src = rule_path.clone().key("from").index(j).key("source");
                    let blocks = [
                        ("ipBlocks", &from.source.ip_blocks),
                        ("notIpBlocks", &from.source.not_ip_blocks),
                        ("remoteIpBlocks", &from.source.remote_ip_blocks),
                        ("notRemoteIpBlocks", &from.source.not_remote_ip_blocks),
                    ];
                    for (field, list) in blocks {
                        for (k, block) in list.iter().enumerate() {
                            if ip_block_valid(block) {
                                continue;
                            }
                            cx.report(
                                id,
                                src.clone().key(field).index(k),
                                format!("`{block}` is neither an IP address nor a CIDR range: istio's validation rejects the AuthorizationPolicy (`bad CIDR range` / `bad IP address`), so none of its rules apply"),
                            )
                            .severity(Severity::Error)
                            .kiali(&[])
                            .subkind("ip-block")
                            .help("write an address (`10.0.0.7`) or a range (`10.0.0.0/16`)");
                        }
                    }
                    let lists = [
                        ("principals", &from.source.principals),
                        ("notPrincipals", &from.source.not_principals),
                    ];
                    for (field, list) in lists {
                        for (k, p) in list.iter().enumerate() {
                            let Some((td, ns, sa)) = principal_parts(p) else {
                                continue;
                            };
                            let at = src.clone().key(field).index(k);
                            if !domains.contains(td) {
                                cx.report(
                                    id,
                                    at,
                                    format!("principal `{p}` names trust domain `{td}`, but the mesh's is `{}`{}: a workload of this mesh never presents it", mesh.trust_domain(), if mesh.trust_domain_aliases.is_empty() { String::new() } else { format!(" (aliases: {})", mesh.trust_domain_aliases.join(", ")) }),
                                )
                                .kiali(&["KIA0108"])
                                .subkind("trust-domain")
                                .help("use the mesh's trust domain (MeshConfig `trustDomain`, default cluster.local) or add it to `trustDomainAliases`");
                                continue;
                            }
                            if known.accounts.contains(&(ns.to_string(), sa.to_string()))
                                || known.floating.contains(sa)
                            {
                                continue;
                            }
                            let why = if known.namespaces.contains(ns) {
                                format!(
                                    "no workload in namespace `{ns}` runs as service account `{sa}` and no ServiceAccount `{sa}` is in the input"
                                )
                            } else {
                                format!("namespace `{ns}` has no object in the input")
                            };
                            cx.report(
                                id,
                                at,
                                format!("principal `{p}`: {why}; if no such workload exists, this source matches no request"),
                            )
                            .kiali(&["KIA0106"])
                            .subkind("principal")
                            .help("check the namespace and service account (`serviceAccountName` of the client's pods; `default` when unset)");
                        }
                    }
                }
                // Ports are checked against the workloads the policy's selector picks in the
                // input; a namespace-wide policy covers workloads the input may not hold.
                if ap.has_target_refs() || ap.match_labels().is_empty() {
                    continue;
                }
                let ns = store.get(id).namespace.clone();
                let scope = if ns == root { None } else { Some(ns.as_str()) };
                let selected: Vec<ResId> = cx.index.workloads.matching(ap.match_labels(), scope);
                if selected.is_empty() {
                    continue;
                }
                let served: BTreeSet<i64> = selected
                    .iter()
                    .flat_map(|&w| ports::served(store, cx.graph, w))
                    .collect();
                for (j, to) in rule.to.iter().enumerate() {
                    let op = rule_path.clone().key("to").index(j).key("operation");
                    let lists = [
                        ("ports", &to.operation.ports),
                        ("notPorts", &to.operation.not_ports),
                    ];
                    for (field, list) in lists {
                        for (k, port) in list.iter().enumerate() {
                            let Ok(n) = port.trim().parse::<i64>() else {
                                continue;
                            };
                            if served.contains(&n) {
                                continue;
                            }
                            let service_port = selected.iter().find_map(|&w| {
                                ports::exposed(store, cx.graph, w)
                                    .into_iter()
                                    .find(|e| e.port == n && e.target != n)
                            });
                            let hint = match service_port {
                                Some(e) => format!(
                                    "; it is the port of Service {}/{}, which sends to {}: authorization sees {}",
                                    store.get(e.service).namespace,
                                    store.get(e.service).name,
                                    e.target,
                                    e.target
                                ),
                                None => String::new(),
                            };
                            let list: Vec<String> = served.iter().map(i64::to_string).collect();
                            // A Service port in the input mapping elsewhere is no mere gap in the input.
                            let severity = if hint.is_empty() {
                                Severity::Info
                            } else {
                                Severity::Warning
                            };
                            cx.report(
                                id,
                                op.clone().key(field).index(k),
                                format!(
                                    "port {port} is not served by the {} workload(s) the policy selects in the input (they serve {}){hint}; ports here are the workload's ports (the Service's targetPort), so {}",
                                    selected.len(),
                                    list.join(", "),
                                    if field == "ports" { "this entry matches no request" } else { "this entry excludes nothing" }
                                ),
                            )
                            .kiali(&[])
                            .severity(severity)
                            .subkind("port")
                            .help("use the port the workload listens on");
                        }
                    }
                }
            }
        }
    }
}
