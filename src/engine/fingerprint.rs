//! Fingerprints: a finding's identity across runs. A line number changes whenever a line above
//! is added, and a document's place in a file or a file's place in a tree changes nothing that
//! matters, so neither is part of it. What is: the code and check (subkind), the resource
//! (`Kind namespace/name`, or the dump object and its file), the field path, the field's value,
//! and the same for each related location. A field that is absent hashes as absent, not as
//! the parent it points at, so editing an unrelated sibling keeps the fingerprint.

use sha2::{Digest, Sha256};

use crate::diagnostic::{RawFinding, ResourceRef, Target};

use super::locate::{Locator, resource_ref};

/// Hex digits kept of the SHA-256: 64 bits, ample for the findings of one tree.
const HEX_LEN: usize = 16;

/// Accumulates the parts of a fingerprint, each length-prefixed so that no two sequences of
/// parts hash alike.
struct Parts(Sha256);

impl Parts {
    fn new(code: &str) -> Self {
        let mut p = Parts(Sha256::new());
        p.add("meshlint-fingerprint-v1");
        p.add(code);
        p
    }

    fn add(&mut self, part: &str) {
        self.0.update((part.len() as u64).to_le_bytes());
        self.0.update(part.as_bytes());
    }

    fn resource(&mut self, r: &ResourceRef) {
        self.add(&r.kind);
        self.add(&r.namespace);
        self.add(&r.name);
    }

    fn finish(self) -> String {
        let digest = self.0.finalize();
        let mut out = String::with_capacity(HEX_LEN);
        for b in digest.iter().take(HEX_LEN / 2) {
            out.push_str(&format!("{b:02x}"));
        }
        out
    }
}

/// The identity of a target: for a manifest field its resource, path and value; for a dump
/// object its file and the object's kind and name (pointers hold indexes, which move).
fn target_parts(locator: &Locator<'_>, target: &Target, out: &mut Vec<String>) {
    let path = match target {
        Target::Field { path, .. } => path,
        Target::PeerField { peer, path, .. } => {
            // A field in another cluster is named with its cluster; a field of the run's own
            // cluster is not, so single-cluster fingerprints stay what they were.
            out.push(format!("cluster:{}", locator.peer_name(*peer)));
            path
        }
        Target::Dump { .. } => {
            out.push(locator.file(target).to_string());
            return;
        }
    };
    let Some((store, _, resource)) = locator.field_input(target) else {
        return;
    };
    let r = resource_ref(store, resource);
    out.extend([r.kind, r.namespace, r.name, path.to_string()]);
    let (node, found) = store.get(resource).node.lookup(path);
    out.push(if found {
        node.to_json().to_string()
    } else {
        "<absent>".into()
    });
}

/// The fingerprint of a rule's finding.
pub fn of_raw(f: &RawFinding, locator: &Locator<'_>) -> String {
    let mut p = Parts::new(f.rule.code);
    p.add(f.subkind.unwrap_or(""));
    p.resource(&locator.subject(f));
    let mut own = Vec::new();
    target_parts(locator, &f.target, &mut own);
    for part in &own {
        p.add(part);
    }
    // Related locations in a canonical order, so a rule listing them differently for another
    // input order cannot change the fingerprint.
    let mut related: Vec<Vec<String>> = f
        .related
        .iter()
        .map(|r| {
            let mut parts = Vec::new();
            match &r.target {
                Target::Field { .. } | Target::PeerField { .. } => {
                    target_parts(locator, &r.target, &mut parts)
                }
                Target::Dump { .. } => parts.push(r.message.clone()),
            }
            parts
        })
        .collect();
    related.sort();
    related.dedup();
    for parts in &related {
        p.add("related");
        for part in parts {
            p.add(part);
        }
    }
    p.finish()
}

/// The fingerprint of a finding the engine makes itself (MESH001): the code, what it is about
/// and what it says, which names the stale entry.
pub fn of_engine(code: &str, resource: &ResourceRef, what: &str) -> String {
    let mut p = Parts::new(code);
    p.resource(resource);
    p.add(what);
    p.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_delimited_and_hex_is_fixed_length() {
        let r = ResourceRef {
            kind: "Service".into(),
            namespace: "a".into(),
            name: "b".into(),
        };
        let one = of_engine("MESH001", &r, "xy");
        assert_eq!(one.len(), HEX_LEN);
        assert!(one.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(one, of_engine("MESH001", &r, "xy"));
        let shifted = ResourceRef {
            name: "bx".into(),
            ..r.clone()
        };
        assert_ne!(one, of_engine("MESH001", &shifted, "y"));
    }
}
