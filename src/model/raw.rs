//! Fields of a resource's document for what the typed model does not hold, and resource labels
//! for messages.

use crate::source::{FieldPath, Node};

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

/// Strings of a raw sequence, with their indexes (the shape check when the resource is built
/// refuses other items in the lists rules read).
pub fn raw_strings(node: Option<&Node>) -> Vec<(usize, String)> {
    match node.and_then(Node::as_seq) {
        Some(items) => items
            .iter()
            .enumerate()
            .filter_map(|(i, n)| Some((i, n.as_str()?.to_string())))
            .collect(),
        None => Vec::new(),
    }
}
