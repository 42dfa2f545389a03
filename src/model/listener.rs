//! A listener as `meshlint listeners` shows it, whether predicted from manifests (`mesh::table`)
//! or read from a config dump (`envoy::table`).

use std::sync::Arc;

/// One row of `meshlint listeners`: a listener a scope's sidecars get, and its owners.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Row {
    pub address: String,
    pub port: i64,
    /// `HTTP`, `TCP`, `TLS (SNI)`, `HTTP+TCP (sniffed)`.
    pub kind: String,
    /// Owners in istiod's order, as `host (Kind ns/name)`.
    pub owners: Vec<String>,
    /// Why this listener is a problem, when it is.
    pub conflict: Option<String>,
}

/// One proxy scope's listeners: (label, namespace, workload names, rows). Scopes that see the
/// same owners share one list of rows: a mesh of many namespaces that all see every Service
/// holds its rows once, not once per namespace.
pub type ScopeRows = (String, String, Vec<String>, Arc<[Row]>);
