//! Workloads by label: label selectors matched against posting lists, not every workload.

use std::collections::{BTreeMap, HashMap};

use crate::model::{ResId, Store};

/// Whether every label of `selector` is on `labels`. An empty selector selects nothing here;
/// callers decide what an empty selector means for their resource.
pub fn selector_matches(
    selector: &BTreeMap<String, String>,
    labels: &BTreeMap<String, String>,
) -> bool {
    !selector.is_empty() && selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// `k=v,k2=v2`, as istio prints selectors.
pub fn selector_text(selector: &BTreeMap<String, String>) -> String {
    selector
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Workloads by label, across namespaces, so selectors are matched against short lists.
pub struct Workloads<'a> {
    store: &'a Store,
    postings: HashMap<(&'a str, &'a str), Vec<ResId>>,
    by_namespace: HashMap<&'a str, Vec<ResId>>,
}

impl<'a> Workloads<'a> {
    pub fn build(store: &'a Store) -> Self {
        let mut postings: HashMap<(&str, &str), Vec<ResId>> = HashMap::new();
        let mut by_namespace: HashMap<&str, Vec<ResId>> = HashMap::new();
        for (id, r) in store.iter() {
            if let Some(w) = r.workload() {
                by_namespace
                    .entry(r.namespace.as_str())
                    .or_default()
                    .push(id);
                for (k, v) in &w.pod_labels {
                    postings
                        .entry((k.as_str(), v.as_str()))
                        .or_default()
                        .push(id);
                }
            }
        }
        Self {
            store,
            postings,
            by_namespace,
        }
    }

    /// Workloads whose pod labels contain `selector` (in `namespace` when given). An empty
    /// selector selects nothing.
    pub fn matching(
        &self,
        selector: &BTreeMap<String, String>,
        namespace: Option<&str>,
    ) -> Vec<ResId> {
        let mut lists = Vec::with_capacity(selector.len());
        for (k, v) in selector {
            match self.postings.get(&(k.as_str(), v.as_str())) {
                Some(list) => lists.push(list),
                None => return Vec::new(),
            }
        }
        let Some(smallest) = lists.iter().min_by_key(|l| l.len()) else {
            return Vec::new();
        };
        smallest
            .iter()
            .copied()
            .filter(|&id| {
                let r = self.store.get(id);
                namespace.is_none_or(|ns| r.namespace == ns)
                    && r.workload()
                        .is_some_and(|w| selector_matches(selector, &w.pod_labels))
            })
            .collect()
    }

    /// Whether some workload of the input has label `key`, whatever its value.
    pub fn has_label_key(&self, key: &str) -> bool {
        self.postings.keys().any(|(k, _)| *k == key)
    }

    /// Whether the input has any workload at all.
    pub fn any(&self) -> bool {
        !self.by_namespace.is_empty()
    }

    /// Whether the input has any workload in `ns`.
    pub fn namespace_has_workloads(&self, ns: &str) -> bool {
        self.by_namespace.contains_key(ns)
    }

    pub fn in_namespace(&self, ns: &str) -> &[ResId] {
        self.by_namespace.get(ns).map_or(&[], Vec::as_slice)
    }
}
