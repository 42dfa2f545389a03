//! Fields of a resource's document for what the typed model does not hold, and resource labels
//! for messages.

use crate::source::{FieldPath, Node, Value};

use super::{ResId, Resource, Store};

/// `Kind ns/name` of a resource, for messages.
pub fn label(store: &Store, id: ResId) -> String {
    let r = store.get(id);
    format!("{} {}/{}", r.kind, r.namespace, r.name)
}

/// A field of the raw document, for kinds meshlint does not model.
pub fn raw<'a>(res: &'a Resource, path: &str) -> Option<&'a Node> {
    match res.node.lookup(&FieldPath::parse(path)) {
        (node, true) => Some(node),
        _ => None,
    }
}

/// Strings of a raw sequence, with their indexes.
pub fn raw_strings(node: Option<&Node>) -> Vec<(usize, String)> {
    match node {
        Some(Node {
            value: Value::Seq(items),
            ..
        }) => items
            .iter()
            .enumerate()
            .filter(|(_, n)| !matches!(n.value, Value::Seq(_) | Value::Map(_) | Value::Null))
            .map(|(i, n)| (i, n.scalar_text()))
            .collect(),
        _ => Vec::new(),
    }
}
