//! `meshlint listeners`: the predicted listeners of every proxy scope, then each dump's own.

use crate::envoy::load::take_dumps;
use crate::envoy::table as dump_table;
use crate::mesh::table::{self, ListenerTable};
use crate::model::Store;
use crate::model::listener::Row;
use crate::source::{InputError, Notice};

use super::{Fetched, Settings, add_fetched, discovery, mesh_settings, model_options};

/// The predicted listeners of every scope: (label, namespace, workload names, rows).
pub struct ListenerView {
    pub scopes: Vec<(String, String, Vec<String>, Vec<Row>)>,
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
    let mut sources = crate::source::load(paths, &discovery(settings));
    add_fetched(&mut sources, fetched);
    let dumps = take_dumps(&mut sources);
    let store = Store::build(&mut sources, &model_options(settings));
    let rs = mesh_settings(settings, &store)?;
    let table = ListenerTable::build(&store, &rs);
    let scopes = table
        .scopes
        .iter()
        .map(|s| {
            (
                s.scope.label(&store),
                s.scope.namespace.clone(),
                s.scope
                    .workloads
                    .iter()
                    .map(|&w| store.get(w).name.clone())
                    .collect(),
                table::rows(&store, &table, s),
            )
        })
        .collect::<Vec<_>>();
    let mut scopes = scopes;
    for ld in &dumps {
        let node = ld.dump.node.clone().unwrap_or_default();
        scopes.push((
            dump_table::scope_label(&ld.dump, &sources.files[ld.file].path),
            node.namespace.clone(),
            if node.pod.is_empty() {
                Vec::new()
            } else {
                vec![node.pod.clone()]
            },
            dump_table::rows(&ld.dump),
        ));
    }
    let mut errors = sources.errors;
    errors.sort();
    Ok(ListenerView {
        scopes,
        errors,
        notices: sources.notices,
    })
}
