//! MESH1803 injector-webhook-conflict: Istio sidecar-injector webhooks that select the same
//! pods (so a pod may be injected twice, or by the wrong revision), and injector webhooks that
//! call a Service the input does not have.

use std::collections::{BTreeMap, BTreeSet};

use crate::diagnostic::Severity;
use crate::model::ResId;
use crate::model::gateway_api::LabelSelector;
use crate::model::raw::raw;
use crate::rules::{Context, Rule, RuleMeta};
use crate::source::{FieldPath, Node};

pub struct InjectorWebhookConflict;

static META: RuleMeta = RuleMeta {
    code: "MESH1803",
    name: "injector-webhook-conflict",
    summary: "Istio injector webhooks selecting the same pods, or calling a Service the input does not have",
    severity: Severity::Error,
    istio_codes: &["IST0139"],
    kiali_codes: &[],
    opt_in: false,
    doc: include_str!("../../../rules/MESH1803-injector-webhook-conflict.md"),
};

const REV: &str = "istio.io/rev";

/// One webhook of a MutatingWebhookConfiguration Istio's injector owns.
struct Hook<'a> {
    config: ResId,
    index: usize,
    name: &'a str,
    namespace_selector: Option<LabelSelector>,
    object_selector: Option<LabelSelector>,
    node: &'a Node,
    /// `configuration/webhook`, for messages.
    label: String,
}

fn selector(node: &Node, key: &str) -> Option<LabelSelector> {
    let n = node.get(key)?;
    serde_json::from_value(n.to_json()).ok()
}

/// The revisions a selector names in `istio.io/rev`.
fn revisions(sel: &LabelSelector, out: &mut BTreeSet<String>) {
    out.extend(sel.match_labels.get(REV).cloned());
    for e in sel.match_expressions.iter().filter(|e| e.key == REV) {
        out.extend(e.values.iter().cloned());
    }
}

/// The label sets istio's analyzer tries for namespaces (`istio-injection`) or pods
/// (`sidecar.istio.io/inject`), each also with every revision.
fn label_sets(key: &str, revs: &BTreeSet<String>) -> Vec<BTreeMap<String, String>> {
    let base = [
        None,
        Some(if key == "istio-injection" {
            "enabled"
        } else {
            "true"
        }),
        Some(if key == "istio-injection" {
            "disabled"
        } else {
            "false"
        }),
    ];
    let mut out = Vec::new();
    for rev in std::iter::once(None).chain(revs.iter().map(Some)) {
        for value in base {
            let mut set = BTreeMap::new();
            if let Some(v) = value {
                set.insert(key.to_string(), v.to_string());
            }
            if let Some(r) = rev {
                set.insert(REV.to_string(), r.clone());
            }
            out.push(set);
        }
    }
    out
}

fn show(labels: &BTreeMap<String, String>) -> String {
    if labels.is_empty() {
        return "no labels".to_string();
    }
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

impl Rule for InjectorWebhookConflict {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let store = cx.store;
        let mut hooks: Vec<Hook<'_>> = Vec::new();
        let mut revs = BTreeSet::new();
        for (id, r) in store.iter() {
            if r.kind != "MutatingWebhookConfiguration" {
                continue;
            }
            let items = raw(r, "webhooks")
                .and_then(Node::as_seq)
                .unwrap_or_default();
            let mut own = BTreeSet::new();
            own.extend(r.labels.get(REV).cloned());
            let parsed: Vec<Hook<'_>> = items
                .iter()
                .enumerate()
                .map(|(index, node)| {
                    let name = node
                        .get("name")
                        .and_then(Node::as_str)
                        .unwrap_or("(unnamed)");
                    Hook {
                        config: id,
                        index,
                        name,
                        label: format!("{}/{name}", r.name),
                        namespace_selector: selector(node, "namespaceSelector"),
                        object_selector: selector(node, "objectSelector"),
                        node,
                    }
                })
                .collect();
            for h in &parsed {
                for s in [&h.namespace_selector, &h.object_selector]
                    .into_iter()
                    .flatten()
                {
                    revisions(s, &mut own);
                }
            }
            // istio's `extractRevisions` and `isIstioWebhook`: a revision, or a webhook named
            // `…istio.io`.
            if own.is_empty() && !parsed.iter().any(|h| h.name.ends_with("istio.io")) {
                continue;
            }
            revs.extend(own);
            hooks.extend(parsed);
        }
        if hooks.is_empty() {
            return;
        }
        let matches = |s: &Option<LabelSelector>, l: &BTreeMap<String, String>| {
            s.as_ref().is_none_or(|s| s.matches(l))
        };
        // For each webhook: the others it selects pods with, and the first labels where it does.
        let mut overlaps: BTreeMap<usize, (BTreeSet<usize>, String)> = BTreeMap::new();
        for ns in label_sets("istio-injection", &revs) {
            for pod in label_sets("sidecar.istio.io/inject", &revs) {
                let hit: Vec<usize> = (0..hooks.len())
                    .filter(|&i| {
                        matches(&hooks[i].namespace_selector, &ns)
                            && matches(&hooks[i].object_selector, &pod)
                    })
                    .collect();
                if hit.len() < 2 {
                    continue;
                }
                for &i in &hit {
                    let entry = overlaps.entry(i).or_insert_with(|| {
                        (
                            BTreeSet::new(),
                            format!(
                                "a namespace with {} and a pod with {}",
                                show(&ns),
                                show(&pod)
                            ),
                        )
                    });
                    entry.0.extend(hit.iter().copied().filter(|&j| j != i));
                }
            }
        }
        for (i, (others, example)) in overlaps {
            let h = &hooks[i];
            let names = others
                .iter()
                .map(|&j| format!("`{}`", hooks[j].label))
                .collect::<Vec<_>>()
                .join(", ");
            let path = FieldPath::parse("webhooks").index(h.index).key(
                if h.node.get("namespaceSelector").is_some() {
                    "namespaceSelector"
                } else {
                    "name"
                },
            );
            let mut reported = cx
                .report(
                    h.config,
                    path,
                    format!(
                        "webhook `{}` selects the same pods as {names} (for example {example}): the API server calls each, so such pods are injected twice or by the wrong revision, and fail to start or run two proxies",
                        h.name
                    ),
                )
                .subkind("overlap")
                .help("give each injector webhook disjoint namespace and object selectors (istioctl tag and the revision charts do), and remove webhooks of revisions that are gone");
            for &j in &others {
                let o = &hooks[j];
                reported = reported.related(
                    o.config,
                    FieldPath::parse("webhooks").index(o.index).key("name"),
                    format!("webhook `{}`", o.label),
                );
            }
        }
        let services: BTreeSet<(&str, &str)> = store
            .iter()
            .filter(|(_, r)| r.kind == "Service")
            .map(|(_, r)| (r.namespace.as_str(), r.name.as_str()))
            .collect();
        let service_namespaces: BTreeSet<&str> = services.iter().map(|(ns, _)| *ns).collect();
        for h in &hooks {
            let Some(svc) = h.node.get("clientConfig").and_then(|c| c.get("service")) else {
                continue;
            };
            let (Some(name), Some(ns)) = (
                svc.get("name").and_then(Node::as_str),
                svc.get("namespace").and_then(Node::as_str),
            ) else {
                continue;
            };
            if services.contains(&(ns, name)) {
                continue;
            }
            let known = service_namespaces.contains(ns);
            let mut message = format!(
                "webhook `{}` calls Service {ns}/{name}, which the input does not have: the API server cannot reach the injector, so pods are created without a sidecar or not at all (failurePolicy)",
                h.name
            );
            if !known {
                message.push_str(&format!("; namespace {ns} has no Services in the input, so it may be deployed from elsewhere"));
            }
            cx.report(
                h.config,
                FieldPath::parse("webhooks").index(h.index).key("clientConfig").key("service").key("name"),
                message,
            )
            .subkind("missing-service")
            .severity(if known { Severity::Error } else { Severity::Warning })
            .help("point the webhook at the istiod Service of its revision (`istiod` or `istiod-REVISION`), or remove the webhook of a revision that is gone");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::findings_of;

    #[test]
    fn label_sets_cover_each_choice_with_and_without_every_revision() {
        let revs: BTreeSet<String> = ["canary".to_string()].into();
        let sets = label_sets("istio-injection", &revs);
        assert_eq!(sets.len(), 6);
        assert!(sets.contains(&BTreeMap::new()));
        assert!(
            sets.iter()
                .any(|s| s.get(REV).map(String::as_str) == Some("canary")
                    && s.get("istio-injection").map(String::as_str) == Some("disabled"))
        );
    }

    #[test]
    fn object_selectors_keep_webhooks_apart() {
        let hook = |name: &str, object: &str| {
            format!(
                "apiVersion: admissionregistration.k8s.io/v1\nkind: MutatingWebhookConfiguration\nmetadata: {{name: {name}}}\nwebhooks:\n- name: {name}.sidecar-injector.istio.io\n  clientConfig: {{url: 'https://istiod.example.com/inject'}}\n  namespaceSelector: {{matchLabels: {{istio-injection: enabled}}}}\n  objectSelector: {object}\n---\n"
            )
        };
        let apart = hook("a", "{matchLabels: {sidecar.istio.io/inject: 'true'}}")
            + &hook(
                "b",
                "{matchExpressions: [{key: sidecar.istio.io/inject, operator: DoesNotExist}]}",
            );
        assert!(findings_of("MESH1803", &apart).is_empty());
        let together = hook("a", "{}")
            + &hook(
                "b",
                "{matchExpressions: [{key: sidecar.istio.io/inject, operator: NotIn, values: ['false']}]}",
            );
        assert_eq!(findings_of("MESH1803", &together).len(), 2);
    }
}
