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
        self.authorization_policy_selector(id, res);
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

    /// The workloads a policy's `selector` picks (istio's `analyzeNoMatchingWorkloads`): in its
    /// namespace, or anywhere for a policy in the root namespace. Policies attached with
    /// `targetRefs` are not selected by labels, and selector-less ones are namespace-wide.
    fn authorization_policy_selector(&mut self, id: ResId, res: &'a Resource) {
        if raw(res, "spec.targetRefs").is_some() || raw(res, "spec.targetRef").is_some() {
            return;
        }
        let sel = crate::model::string_map(raw(res, "spec.selector.matchLabels"));
        let ns = res.namespace.as_str();
        if sel.is_empty() {
            // Namespace-wide: it applies to nothing only when its namespace has no workloads,
            // which the input can show only as a note (they may be deployed from elsewhere).
            if ns != self.cx.settings.mesh.root_namespace()
                && self.workloads.any()
                && !self.workloads.namespace_has_workloads(ns)
            {
                self.cx
                    .report(
                        id,
                        FieldPath::parse("metadata.namespace"),
                        format!(
                            "this namespace-wide AuthorizationPolicy applies to the workloads of namespace {ns}, and the input has none there"
                        ),
                    )
                    .subkind("workload-selector")
                    .severity(Severity::Info)
                    .istio(&["IST0127"])
                    .help("check the namespace; if its workloads are deployed from elsewhere, nothing is wrong");
            }
            return;
        }
        let first = sel.keys().next().cloned().unwrap_or_default();
        let path = FieldPath::parse("spec.selector.matchLabels").key(first);
        if ns != self.cx.settings.mesh.root_namespace() {
            self.selector_in_namespace(id, res, &sel, path, ("selector", &["IST0127"]));
            return;
        }
        if !self.workloads.matching(&sel, None).is_empty() {
            return;
        }
        // Workloads that use one of the selector's label keys make a typo likely; without any,
        // the selected workloads (often the ingress gateway) are probably deployed elsewhere.
        let present = sel.keys().any(|k| self.workloads.has_label_key(k));
        self.cx
            .report(
                id,
                path,
                format!(
                    "selector `{}` of this root-namespace AuthorizationPolicy matches no workload in any namespace of the input, so it applies to nothing",
                    crate::mesh::workloads::selector_text(&sel)
                ),
            )
            .subkind("workload-selector")
            .severity(super::partial(present))
            .istio(&["IST0127"])
            .help("make the labels match the pod template labels of the workloads the policy is for");
    }
}
