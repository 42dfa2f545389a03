//! MESH908 authz-http-on-tcp: AuthorizationPolicy rules with HTTP-only fields (methods, paths,
//! hosts, request principals, `request.*` conditions) that apply to a TCP port. istiod cannot
//! express them on the TCP filter chain: an ALLOW rule is dropped there (it allows nothing), a
//! DENY or AUDIT rule keeps only its other fields (it matches more).

use std::collections::BTreeSet;

use crate::diagnostic::Severity;
use crate::mesh::protocol::name_protocol;
use crate::mesh::security::authz::{self, AuthzPolicies};
use crate::mesh::security::ports;
use crate::model::ResId;
use crate::model::security::AuthzRule;
use crate::rules::{Context, Rule, RuleMeta};
use crate::source::FieldPath;

pub struct AuthzHttpOnTcp;

static META: RuleMeta = RuleMeta {
    code: "MESH908",
    name: "authz-http-on-tcp",
    summary: "AuthorizationPolicy rule with HTTP-only fields applies to a TCP port: ALLOW allows nothing there, DENY denies more",
    severity: Severity::Warning,
    istio_codes: &[],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH908-authz-http-on-tcp.md"),
};

/// Protocols whose inbound filter chain is TCP, not HTTP.
const TCP: &[&str] = &["tcp", "tls", "https", "mongo", "mysql", "redis"];

/// The first HTTP-only field of a rule, with its path.
fn http_field(rule: &AuthzRule, base: &FieldPath) -> Option<(FieldPath, &'static str)> {
    for (j, from) in rule.from.iter().enumerate() {
        let s = &from.source;
        for (name, list) in [
            ("requestPrincipals", &s.request_principals),
            ("notRequestPrincipals", &s.not_request_principals),
        ] {
            if !list.is_empty() {
                let path = base.clone().key("from").index(j).key("source").key(name);
                return Some((path, name));
            }
        }
    }
    for (j, to) in rule.to.iter().enumerate() {
        let o = &to.operation;
        for (name, list) in [
            ("methods", &o.methods),
            ("notMethods", &o.not_methods),
            ("paths", &o.paths),
            ("notPaths", &o.not_paths),
            ("hosts", &o.hosts),
            ("notHosts", &o.not_hosts),
        ] {
            if !list.is_empty() {
                let path = base.clone().key("to").index(j).key("operation").key(name);
                return Some((path, name));
            }
        }
    }
    rule.when.iter().enumerate().find_map(|(j, c)| {
        c.key.starts_with("request.").then(|| {
            let path = base.clone().key("when").index(j).key("key");
            (path, "a `request.*` condition")
        })
    })
}

/// The ports a rule names in `to.operation.ports`, when it names any.
fn rule_ports(rule: &AuthzRule) -> BTreeSet<i64> {
    rule.to
        .iter()
        .flat_map(|t| t.operation.ports.iter())
        .filter_map(|p| p.trim().parse().ok())
        .collect()
}

impl Rule for AuthzHttpOnTcp {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let store = cx.store;
        let root = cx.settings.mesh.root_namespace().to_string();
        let policies = AuthzPolicies::build(store, &root);
        for id in policies.all().collect::<Vec<_>>() {
            let ap = authz::spec(store, id);
            let action = ap.action().to_ascii_uppercase();
            if ap.has_target_refs() || !matches!(action.as_str(), "ALLOW" | "DENY" | "AUDIT") {
                continue;
            }
            let ns = store.get(id).namespace.clone();
            let selected: Vec<ResId> = if ap.match_labels().is_empty() {
                if ns == root {
                    continue;
                }
                cx.index.workloads.in_namespace(&ns).to_vec()
            } else {
                let scope = (ns != root).then_some(ns.as_str());
                cx.index.workloads.matching(ap.match_labels(), scope)
            };
            // Workload ports by protocol, from the Service ports that reach them.
            let mut tcp = BTreeSet::new();
            let mut http = BTreeSet::new();
            for &w in &selected {
                for e in ports::exposed(store, cx.graph, w) {
                    let Some(s) = store.get(e.service).service() else {
                        continue;
                    };
                    let p = &s.spec.ports[e.index];
                    let name = p
                        .app_protocol
                        .as_deref()
                        .or(p.name.as_deref())
                        .unwrap_or("");
                    match name_protocol(name) {
                        Some(proto) if TCP.contains(&proto.as_str()) => tcp.insert(e.target),
                        _ => http.insert(e.target),
                    };
                }
            }
            if tcp.is_empty() {
                continue;
            }
            for (i, rule) in ap.rules().iter().enumerate() {
                let base = FieldPath::parse("spec.rules").index(i);
                let Some((path, field)) = http_field(rule, &base) else {
                    continue;
                };
                let named = rule_ports(rule);
                let on: Vec<i64> = if named.is_empty() {
                    // A rule without ports on a workload that also serves HTTP is taken as meant
                    // for HTTP; on TCP-only workloads it can only be a mistake.
                    if !http.iter().all(|p| tcp.contains(p)) {
                        continue;
                    }
                    tcp.iter().copied().collect()
                } else {
                    named.intersection(&tcp).copied().collect()
                };
                if on.is_empty() {
                    continue;
                }
                let list: Vec<String> = on.iter().map(i64::to_string).collect();
                let effect = if action == "ALLOW" {
                    "istiod drops this rule from the TCP filter chain, so it allows nothing there: unless another ALLOW rule matches, every connection to the port is denied"
                } else {
                    "istiod keeps only the rule's other fields on the TCP filter chain, so it matches every connection they match (with none left, every connection)"
                };
                cx.report(
                    id,
                    path,
                    format!(
                        "{action} rule {i} uses {field}, which only HTTP requests have, and applies to TCP port {}: {effect}",
                        list.join(", ")
                    ),
                )
                .severity(if action == "AUDIT" { Severity::Info } else { Severity::Warning })
                .help("limit the rule to HTTP ports with `to.operation.ports`, name the port for its protocol (`http-…`), or write a separate rule for the TCP port with L4 fields only (principals, namespaces, ipBlocks, ports)");
            }
        }
    }
}
