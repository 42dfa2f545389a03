//! `meshlint listeners`: the predicted listeners of every proxy scope, then each dump's own.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use crate::envoy::load::LoadedDump;
use crate::envoy::load::take_dumps;
use crate::envoy::table as dump_table;
use crate::mesh::injection::{SYSTEM_NAMESPACES, istio_reason};
use crate::mesh::settings::MeshSettings;
use crate::mesh::table::{self, ListenerTable};
use crate::model::listener::{Row, ScopeRows};
use crate::model::{Spec, Store};
use crate::source::{InputError, Notice, Sources};

use super::ambient_listeners::{AmbientNamespace, ambient_namespaces};
use super::{
    Fetched, Settings, add_fetched, discovery, mesh_settings, model_options, warn_if_empty,
};

/// The predicted listeners of every scope: (label, namespace, workload names, rows).
pub struct ListenerView {
    pub scopes: Vec<ScopeRows>,
    /// Why there is no scope at all, when the input has objects but no proxies: one line.
    pub no_scopes: Option<String>,
    /// Ambient namespaces: no sidecar listeners, and where their traffic goes instead.
    pub ambient: Vec<AmbientNamespace>,
    pub errors: Vec<InputError>,
    pub notices: Vec<Notice>,
}

/// Loads `paths` and predicts every scope's outbound listeners.
pub fn listeners(paths: &[String], settings: &Settings) -> Result<ListenerView, String> {
    listeners_with(paths, Vec::new(), settings)
}

/// Loads `paths` plus fetched inputs: predicted scopes, then each config dump's listeners.
pub fn listeners_with(
    paths: &[String],
    fetched: Fetched,
    settings: &Settings,
) -> Result<ListenerView, String> {
    let mut sources = crate::source::load(paths, &discovery(settings)?);
    add_fetched(&mut sources, fetched);
    let dumps = take_dumps(&mut sources);
    let store = Store::build(&mut sources, &model_options(settings));
    warn_if_empty(&mut sources, &store, &dumps);
    let rs = mesh_settings(settings, &store)?;
    let scopes = scopes(&store, &rs, &dumps, &sources);
    let ambient = ambient_namespaces(&store, &rs);
    let no_scopes =
        (scopes.is_empty() && ambient.is_empty() && !store.is_empty()).then(|| no_scopes(&store));
    let mut errors = sources.errors;
    errors.sort();
    Ok(ListenerView {
        scopes,
        no_scopes,
        ambient,
        errors,
        notices: sources.notices,
    })
}

/// The predicted listeners of every proxy scope, then each config dump's own.
pub(super) fn scopes(
    store: &Store,
    rs: &MeshSettings,
    dumps: &[LoadedDump],
    sources: &Sources,
) -> Vec<ScopeRows> {
    let table = ListenerTable::build(store, rs);
    let mut shared: HashMap<(bool, Vec<usize>), Arc<[Row]>> = HashMap::new();
    let mut scopes: Vec<ScopeRows> = table
        .scopes
        .iter()
        .map(|s| {
            let key = (
                s.scope.auto_allocate,
                table::listener_owners(store, &table, &s.scope),
            );
            let rows = shared
                .entry(key)
                .or_insert_with_key(|(auto, owners)| {
                    table::rows(store, &table, owners, *auto).into()
                })
                .clone();
            (
                s.scope.label(store),
                s.scope.namespace.clone(),
                s.scope
                    .workloads
                    .iter()
                    .map(|&w| store.get(w).name.clone())
                    .collect(),
                rows,
            )
        })
        .collect();
    for ld in dumps {
        let node = ld.dump.node.clone().unwrap_or_default();
        scopes.push((
            dump_table::scope_label(&ld.dump, &sources.files[ld.file].path),
            node.namespace.clone(),
            if node.pod.is_empty() {
                Vec::new()
            } else {
                vec![node.pod.clone()]
            },
            dump_table::rows(&ld.dump).into(),
        ));
    }
    scopes
}

/// Why no namespace of the input has Istio proxies, namespace by namespace (the reasons
/// `mesh::scope` skips them for), and how to mark one.
fn no_scopes(store: &Store) -> String {
    const SHOWN: usize = 8;
    let labels: BTreeMap<&str, &BTreeMap<String, String>> = store
        .iter()
        .filter(|(_, r)| matches!(r.spec, Spec::Namespace))
        .map(|(_, r)| (r.name.as_str(), &r.labels))
        .collect();
    let mut workloads: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, r) in store.iter().filter(|(_, r)| r.workload().is_some()) {
        *workloads.entry(r.namespace.as_str()).or_default() += 1;
    }
    let namespaces: BTreeSet<&str> = store.iter().map(|(_, r)| r.namespace.as_str()).collect();
    let mut seen: Vec<String> = namespaces
        .iter()
        .take(SHOWN)
        .map(|&ns| {
            let mut why = Vec::new();
            if SYSTEM_NAMESPACES.contains(&ns) {
                why.push("a system namespace, never injected".to_string());
            } else {
                if let Some(l) = labels.get(ns) {
                    match l.get("istio-injection") {
                        Some(v) => why.push(format!("its Namespace has `istio-injection={v}`")),
                        None if !l.contains_key("istio.io/rev") => why.push(
                            "its Namespace has no `istio-injection` or `istio.io/rev` label"
                                .to_string(),
                        ),
                        None => {}
                    }
                }
                if let Some(&n) = workloads.get(ns) {
                    let meshed = |r: &crate::model::Resource| {
                        istio_reason(labels.get(ns).copied(), r).is_some()
                    };
                    let any = store.iter().any(|(_, r)| r.namespace == ns && meshed(r));
                    if !any {
                        why.push(format!(
                            "{n} workload{}, none marked for an Istio sidecar",
                            if n == 1 { "" } else { "s" }
                        ));
                    }
                }
            }
            format!("{ns} ({})", why.join("; "))
        })
        .collect();
    if namespaces.len() > SHOWN {
        seen.push(format!("{} more", namespaces.len() - SHOWN));
    }
    format!(
        "no proxy scopes, so no listeners to show: namespaces seen: {}; label a namespace `istio-injection=enabled` (or `istio.io/rev=REVISION`), or a pod template `sidecar.istio.io/inject: \"true\"`, to give its workloads Istio sidecars (an `istio.io/dataplane-mode=ambient` namespace has no sidecar listeners either)",
        seen.join(", ")
    )
}
