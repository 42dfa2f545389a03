//! Several Sidecars or Telemetries competing for one workload or one namespace, where istiod
//! keeps the oldest or merges them in creation order (istio's `sidecar.SelectorAnalyzer`,
//! `telemetry.SelectorAnalyzer`, `telemetry.DefaultSelectorAnalyzer`), and policies that reach
//! Gateway API gateways by selector (`k8sgateway.SelectorAnalyzer`).

pub mod mesh1301_sidecar_conflict;
pub mod mesh1302_telemetry_conflict;
pub mod mesh1303_gateway_policy_selector;

use std::collections::BTreeMap;

use crate::diagnostic::Severity;
use crate::model::raw::label;
use crate::model::{ResId, Store};
use crate::rules::Context;
use crate::source::FieldPath;

/// istiod's order for these resources: creation time (missing last), then namespace and name
/// (`sortConfigByCreationTime`).
pub fn istiod_order(store: &Store, id: ResId) -> (bool, Option<jiff::Timestamp>, String, String) {
    let r = store.get(id);
    (
        r.created.is_none(),
        r.created,
        r.namespace.clone(),
        r.name.clone(),
    )
}

/// Resources of one kind that compete: namespace-wide ones per namespace, and selector ones
/// that select common workloads.
pub struct Competition {
    /// Namespace → namespace-wide resources, in istiod's order.
    pub namespace_wide: BTreeMap<String, Vec<ResId>>,
    /// Resources (in istiod's order) that all select the same workloads → those workloads,
    /// by kind, namespace and name.
    pub overlapping: BTreeMap<Vec<ResId>, Vec<ResId>>,
}

/// Groups the resources `selector` gives: `None` for a resource of another kind, `Some(empty)`
/// for a namespace-wide one. Workloads are matched in the resource's own namespace.
pub fn competition(
    cx: &Context<'_>,
    selector: impl Fn(&crate::model::Resource) -> Option<BTreeMap<String, String>>,
) -> Competition {
    let store = cx.store;
    let mut namespace_wide: BTreeMap<String, Vec<ResId>> = BTreeMap::new();
    let mut by_workload: BTreeMap<ResId, Vec<ResId>> = BTreeMap::new();
    for (id, r) in store.iter() {
        let Some(sel) = selector(r) else { continue };
        if sel.is_empty() {
            namespace_wide
                .entry(r.namespace.clone())
                .or_default()
                .push(id);
            continue;
        }
        for w in cx.index.workloads.matching(&sel, Some(&r.namespace)) {
            by_workload.entry(w).or_default().push(id);
        }
    }
    for list in namespace_wide.values_mut() {
        list.sort_by_key(|&id| istiod_order(store, id));
    }
    namespace_wide.retain(|_, l| l.len() > 1);
    let mut overlapping: BTreeMap<Vec<ResId>, Vec<ResId>> = BTreeMap::new();
    for (w, mut list) in by_workload {
        if list.len() < 2 {
            continue;
        }
        list.sort_by_key(|&id| istiod_order(store, id));
        overlapping.entry(list).or_default().push(w);
    }
    for workloads in overlapping.values_mut() {
        workloads.sort_by_key(|&w| {
            let r = store.get(w);
            (r.kind.clone(), r.namespace.clone(), r.name.clone())
        });
    }
    Competition {
        namespace_wide,
        overlapping,
    }
}

/// `W`, or `W and N more workloads`.
pub fn workloads_text(store: &Store, workloads: &[ResId]) -> String {
    let first = workloads
        .first()
        .map(|&w| label(store, w))
        .unwrap_or_default();
    match workloads.len() {
        0 | 1 => first,
        n => format!(
            "{first} and {} more workload{}",
            n - 1,
            if n == 2 { "" } else { "s" }
        ),
    }
}

/// `Kind ns/name` of each resource, in istiod's order.
pub fn names(store: &Store, ids: impl IntoIterator<Item = ResId>) -> Vec<String> {
    let mut ids: Vec<ResId> = ids.into_iter().collect();
    ids.sort_by_key(|&id| istiod_order(store, id));
    ids.iter()
        .map(|&id| format!("`{}`", store.get(id).name))
        .collect()
}

/// How istiod's choice was made, for messages: by creation time when every resource has one,
/// else by the order they were created in, which manifests do not show.
pub fn order_note(store: &Store, ids: &[ResId]) -> &'static str {
    if ids.iter().all(|&id| store.get(id).created.is_some()) {
        "by their creationTimestamp"
    } else {
        "which one is oldest depends on the order they were created in"
    }
}

/// How the namespace-wide resources of one kind are reported.
pub struct NamespaceWide {
    /// `Sidecars without a workloadSelector`, for messages.
    pub what: &'static str,
    pub help: &'static str,
    pub severity: Severity,
    pub istio: &'static [&'static str],
}

/// Reports every namespace-wide resource of a namespace that has several, naming the oldest,
/// the one istiod uses.
pub fn report_namespace_wide(cx: &mut Context<'_>, c: &Competition, how: &NamespaceWide) {
    let store = cx.store;
    for (ns, list) in &c.namespace_wide {
        let all = names(store, list.iter().copied());
        for (i, &id) in list.iter().enumerate() {
            let fate = if i == 0 {
                "istiod uses this one, the oldest, and ignores the others".to_string()
            } else {
                format!("istiod ignores this one and uses {}, the oldest", all[0])
            };
            cx.report(
                id,
                FieldPath::parse("metadata.name"),
                format!(
                    "namespace `{ns}` has {} {} ({}): {fate} ({})",
                    list.len(),
                    how.what,
                    all.join(", "),
                    order_note(store, list)
                ),
            )
            .help(how.help)
            .severity(how.severity)
            .istio(how.istio);
        }
    }
}
