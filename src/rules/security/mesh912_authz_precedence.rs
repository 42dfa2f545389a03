//! MESH912 authz-precedence: AuthorizationPolicy outcomes that the order Envoy evaluates them in
//! (CUSTOM, then DENY, then ALLOW) makes different from what the ALLOW policy says: a DENY
//! rule that matches every request, and an ALLOW rule for a source that a DENY rule on the
//! same workload denies outright.

use std::collections::BTreeMap;

use crate::diagnostic::Severity;
use crate::mesh::security::authz::{self, AuthzPolicies};
use crate::model::raw::label;
use crate::model::security::AuthzRule;
use crate::model::{ResId, Store};
use crate::rules::{Context, Rule, RuleMeta};
use crate::source::FieldPath;

pub struct AuthzPrecedence;

static META: RuleMeta = RuleMeta {
    code: "MESH912",
    name: "authz-precedence",
    summary: "DENY before ALLOW: a DENY rule matching every request, or denying a source an ALLOW rule allows, on the same workload",
    severity: Severity::Warning,
    istio_codes: &[],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH912-authz-precedence.md"),
};

/// A rule with no `from`, `to` or `when` matches every request.
fn matches_all(rule: &AuthzRule) -> bool {
    rule.from.is_empty() && rule.to.is_empty() && rule.when.is_empty()
}

/// The sources (`principals` and `namespaces` entries) a DENY rule denies whatever the
/// request: a rule with only `from`, each entry with only those fields.
fn denied_sources(rule: &AuthzRule) -> Vec<(&'static str, &str)> {
    if rule.from.is_empty() || !rule.to.is_empty() || !rule.when.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for f in &rule.from {
        let s = &f.source;
        let only_ids = s.not_principals.is_empty()
            && s.request_principals.is_empty()
            && s.not_request_principals.is_empty()
            && s.not_namespaces.is_empty()
            && s.ip_blocks.is_empty()
            && s.not_ip_blocks.is_empty()
            && s.remote_ip_blocks.is_empty()
            && s.not_remote_ip_blocks.is_empty();
        // Two fields in one source must both match, so neither alone is denied outright.
        if !only_ids || !s.principals.is_empty() && !s.namespaces.is_empty() {
            continue;
        }
        out.extend(s.principals.iter().map(|p| ("principals", p.as_str())));
        out.extend(s.namespaces.iter().map(|n| ("namespaces", n.as_str())));
    }
    out
}

/// A DENY rule that denies a source an ALLOW entry names, and the workloads where it does.
struct Shadow {
    deny: ResId,
    rule: usize,
    value: String,
    workloads: Vec<ResId>,
}

fn workload_names(store: &Store, ids: &[ResId]) -> String {
    let mut names: Vec<String> = ids.iter().map(|&w| label(store, w)).collect();
    names.sort();
    match names.len() {
        0..=3 => names.join(", "),
        n => format!("{} and {} more", names[..3].join(", "), n - 3),
    }
}

impl Rule for AuthzPrecedence {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let store = cx.store;
        let policies = AuthzPolicies::build(store, cx.settings.mesh.root_namespace());
        if policies.is_empty() {
            return;
        }
        // (DENY policy, rule) matching everything -> ALLOW policies it makes dead, and where.
        let mut deny_all: BTreeMap<(ResId, usize), BTreeMap<ResId, Vec<ResId>>> = BTreeMap::new();
        // (ALLOW policy, path of its entry) -> (DENY policy, rule, workloads).
        let mut shadowed: BTreeMap<(ResId, FieldPath), Shadow> = BTreeMap::new();
        for (w, r) in store.iter() {
            if r.workload().is_none() || crate::mesh::injection::is_istio_gateway(r) {
                continue;
            }
            let applied = policies.for_workload(store, r);
            if applied.allow.is_empty() || applied.deny.is_empty() {
                continue;
            }
            for &d in &applied.deny {
                for (i, rule) in authz::spec(store, d).rules().iter().enumerate() {
                    if matches_all(rule) {
                        let e = deny_all.entry((d, i)).or_default();
                        for &a in &applied.allow {
                            e.entry(a).or_default().push(w);
                        }
                        continue;
                    }
                    for (field, value) in denied_sources(rule) {
                        for &a in &applied.allow {
                            for (ai, arule) in authz::spec(store, a).rules().iter().enumerate() {
                                for (fi, f) in arule.from.iter().enumerate() {
                                    let list = match field {
                                        "principals" => &f.source.principals,
                                        _ => &f.source.namespaces,
                                    };
                                    if let Some(k) = list.iter().position(|v| v == value) {
                                        let path = FieldPath::parse("spec.rules")
                                            .index(ai)
                                            .key("from")
                                            .index(fi)
                                            .key("source")
                                            .key(field)
                                            .index(k);
                                        shadowed
                                            .entry((a, path))
                                            .or_insert_with(|| Shadow {
                                                deny: d,
                                                rule: i,
                                                value: value.to_string(),
                                                workloads: Vec::new(),
                                            })
                                            .workloads
                                            .push(w);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        for ((d, i), allows) in deny_all {
            let mut names: Vec<String> = allows.keys().map(|&a| label(store, a)).collect();
            names.sort();
            let mut workloads: Vec<ResId> = allows.values().flatten().copied().collect();
            workloads.sort_unstable();
            workloads.dedup();
            let verb = if names.len() == 1 { "allows" } else { "allow" };
            let mut reported = cx
                .report(
                    d,
                    FieldPath::parse("spec.rules").index(i),
                    format!(
                        "DENY rule {i} has no `from`, `to` or `when`, so it denies every request to {}; DENY is evaluated before ALLOW, so {} never {verb} anything there",
                        workload_names(store, &workloads),
                        names.join(", ")
                    ),
                )
                .help("narrow the DENY rule, or remove it; an ALLOW policy cannot override a DENY");
            for &a in allows.keys() {
                reported = reported.related(
                    a,
                    FieldPath::parse("metadata.name"),
                    "ALLOW policy that never takes effect",
                );
            }
        }
        for ((a, path), sh) in shadowed {
            let Shadow {
                deny: d,
                rule: i,
                value,
                workloads,
            } = sh;
            cx.report(
                a,
                path,
                format!(
                    "`{value}` is allowed here, but DENY rule {i} of {} denies every request from it to {}: DENY is evaluated before ALLOW",
                    label(store, d),
                    workload_names(store, &workloads)
                ),
            )
            .severity(Severity::Info)
            .help("remove the source from one of the policies, or narrow the DENY rule with `to`/`when`")
            .related(d, FieldPath::parse("spec.rules").index(i), "the DENY rule");
        }
    }
}
