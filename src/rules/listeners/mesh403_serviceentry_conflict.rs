//! MESH403 serviceentry-conflict: one host and port declared by several ServiceEntries that
//! some proxy sees together, with different protocols (istio's IST0177) or at all.

use std::collections::{BTreeMap, BTreeSet};

use crate::diagnostic::Severity;
use crate::model::{ResId, Spec};
use crate::source::FieldPath;

use crate::rules::{Context, Rule, RuleMeta};

pub struct ServiceEntryConflict;

static META: RuleMeta = RuleMeta {
    code: "MESH403",
    name: "serviceentry-conflict",
    summary: "several ServiceEntries declare one host and port (with different protocols, or twice)",
    severity: Severity::Warning,
    istio_codes: &["IST0177"],
    kiali_codes: &["KIA1211", "KIA1212"],
    opt_in: false,
    doc: include_str!("../../../rules/MESH403-serviceentry-conflict.md"),
};

/// One port declaration: (upper-case protocol, entry, port index).
type Declaration = (String, ResId, usize);

/// The exportTo scopes of an entry, as istio's analyzer computes them: `*` for all.
fn scopes(export_to: &[String], ns: &str) -> BTreeSet<String> {
    if export_to.is_empty() || export_to.iter().any(|e| e == "*") {
        return ["*".to_string()].into();
    }
    export_to
        .iter()
        .map(|e| if e == "." { ns.to_string() } else { e.clone() })
        .collect()
}

impl Rule for ServiceEntryConflict {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let store = cx.store;
        // (scope, host, port) → [(protocol, entry, port index)]
        let mut index: BTreeMap<(String, String, i64), Vec<Declaration>> = BTreeMap::new();
        for (id, r) in store.iter() {
            let Spec::ServiceEntry(se) = &r.spec else {
                continue;
            };
            for scope in scopes(&se.export_to, &r.namespace) {
                for host in &se.hosts {
                    for (i, p) in se.ports.iter().enumerate() {
                        let Some(n) = p.number else { continue };
                        index
                            .entry((scope.clone(), host.clone(), n))
                            .or_default()
                            .push((p.protocol.clone().unwrap_or_default().to_uppercase(), id, i));
                    }
                }
            }
        }
        let mut reported: BTreeSet<ResId> = BTreeSet::new();
        let mut duplicates: BTreeSet<(ResId, String, i64)> = BTreeSet::new();
        for ((scope, host, port), entries) in &index {
            let mut all = entries.clone();
            if scope != "*"
                && let Some(star) = index.get(&("*".to_string(), host.clone(), *port))
            {
                all.extend(star.iter().cloned());
            }
            let protocols: BTreeSet<&str> = all.iter().map(|(p, _, _)| p.as_str()).collect();
            let ids: BTreeSet<ResId> = all.iter().map(|(_, id, _)| *id).collect();
            let names: Vec<String> = ids
                .iter()
                .map(|&id| {
                    let r = store.get(id);
                    format!("{}/{}", r.namespace, r.name)
                })
                .collect();
            if protocols.len() >= 2 {
                let shown: Vec<&str> = protocols
                    .iter()
                    .map(|p| if p.is_empty() { "(unset)" } else { p })
                    .collect();
                for &(_, id, i) in &all {
                    if !reported.insert(id) {
                        continue;
                    }
                    let message = format!(
                        "ServiceEntries {} declare `{host}:{port}` with different protocols ({}); istiod builds one service per host and port, so only one protocol applies and the others' traffic is handled wrongly",
                        names.join(", "),
                        shown.join(", ")
                    );
                    let mut r = cx
                        .report(id, FieldPath::parse("spec.ports").index(i).key("protocol"), message)
                        .kiali(&["KIA1212"])
                        .help("declare the host and port once, with one protocol, or export the entries to namespaces that do not overlap");
                    for &(_, other, j) in &all {
                        if other != id {
                            r = r.related(
                                other,
                                FieldPath::parse("spec.ports").index(j),
                                format!("also declares `{host}:{port}`"),
                            );
                        }
                    }
                }
            } else if ids.len() >= 2 {
                let mut sorted: Vec<&Declaration> = all.iter().collect();
                sorted.sort_by_key(|(_, id, _)| *id);
                sorted.dedup_by_key(|(_, id, _)| *id);
                let (_, first, fi) = *sorted[0];
                for &&(_, id, i) in &sorted[1..] {
                    if !duplicates.insert((id, host.clone(), *port)) {
                        continue;
                    }
                    let f = store.get(first);
                    let message = format!(
                        "`{host}:{port}` is already declared by ServiceEntry {}/{}; istiod merges or drops duplicate declarations depending on resolution and creation order, so settings of one entry silently win",
                        f.namespace, f.name
                    );
                    cx.report(id, FieldPath::parse("spec.ports").index(i), message)
                        .istio(&[])
                        .kiali(&["KIA1211"])
                        .help("declare each host and port in one ServiceEntry")
                        .related(
                            first,
                            FieldPath::parse("spec.ports").index(fi),
                            "first declaration",
                        );
                }
            }
        }
    }
}
