//! AuthorizationPolicy references: the namespaces and notNamespaces of rule sources.

use std::collections::BTreeSet;

use crate::diagnostic::Severity;
use crate::model::{ResId, Resource};
use crate::source::{FieldPath, Node};

use crate::model::raw::{raw, raw_strings};

use super::Checker;

/// `namespaces` entries of AuthorizationPolicy sources: `*`, `prefix*`, `*suffix` or exact.
fn namespace_pattern_matches(pattern: &str, ns: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    if let Some(suffix) = pattern.strip_prefix('*') {
        return ns.ends_with(suffix);
    }
    if let Some(prefix) = pattern.strip_suffix('*') {
        return ns.starts_with(prefix);
    }
    pattern.eq_ignore_ascii_case(ns)
}

impl<'a> Checker<'a, '_> {
    pub(super) fn authorization_policy(
        &mut self,
        id: ResId,
        res: &'a Resource,
        known: &BTreeSet<&str>,
        declared: bool,
    ) {
        let Some(rules) = raw(res, "spec.rules").and_then(Node::as_seq) else {
            return;
        };
        for (i, rule) in rules.iter().enumerate() {
            let Some(froms) = rule.get("from").and_then(Node::as_seq) else {
                continue;
            };
            for (j, from) in froms.iter().enumerate() {
                let source = from.get("source");
                for field in ["namespaces", "notNamespaces"] {
                    for (k, pattern) in raw_strings(source.and_then(|s| s.get(field))) {
                        if known
                            .iter()
                            .any(|ns| namespace_pattern_matches(&pattern, ns))
                        {
                            continue;
                        }
                        let path = FieldPath::parse("spec.rules")
                            .index(i)
                            .key("from")
                            .index(j)
                            .key("source")
                            .key(field)
                            .index(k);
                        let effect = if field == "namespaces" {
                            "it allows or denies no caller"
                        } else {
                            "it excludes nothing"
                        };
                        let basis = if declared {
                            "no Namespace in the input"
                        } else {
                            "no namespace of any resource in the input (the input has no Namespace objects)"
                        };
                        self.cx
                            .report(
                                id,
                                path,
                                format!("namespace `{pattern}` in `{field}` matches {basis}, so {effect}"),
                            )
                            .subkind("namespace")
                            .kiali(&["KIA0101"])
                            .severity(if declared { Severity::Warning } else { Severity::Info })
                            .istio(&["IST0101"])
                            .help("fix the namespace name or pattern (`prefix*`, `*suffix`, `*`)");
                    }
                }
            }
        }
    }
}
