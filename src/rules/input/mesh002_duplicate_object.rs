//! MESH002 duplicate-object: one object defined by several documents. The store already keeps
//! only the last copy, as `kubectl apply` does (`model::Store::copies`); this rule says so once.

use crate::diagnostic::Severity;
use crate::model::Resource;
use crate::rules::{Context, Rule, RuleMeta};
use crate::source::FieldPath;

pub struct DuplicateObject;

static META: RuleMeta = RuleMeta {
    code: "MESH002",
    name: "duplicate-object",
    summary: "one object is defined more than once; only the last definition takes effect",
    severity: Severity::Info,
    istio_codes: &[],
    doc: include_str!("../../../rules/MESH002-duplicate-object.md"),
};

/// Metadata the API server sets; copies that differ only there are the same definition.
const SERVER_FIELDS: &[&str] = &[
    "creationTimestamp",
    "resourceVersion",
    "uid",
    "generation",
    "managedFields",
    "selfLink",
];

/// The parts of a document that define the object: everything but the API version (one object
/// is served at every version of its group), server-set metadata and `status`, which
/// `kubectl apply` does not write.
fn definition(res: &Resource) -> serde_json::Value {
    let mut v = res.node.to_json();
    if let Some(obj) = v.as_object_mut() {
        obj.remove("apiVersion");
        obj.remove("status");
        if let Some(meta) = obj.get_mut("metadata").and_then(|m| m.as_object_mut()) {
            for f in SERVER_FIELDS {
                meta.remove(*f);
            }
        }
    }
    v
}

impl Rule for DuplicateObject {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let store = cx.store;
        for (&survivor, earlier) in &store.copies {
            let res = store.get(survivor);
            let own = definition(res);
            let differ = earlier.iter().any(|&e| definition(store.get(e)) != own);
            let others = match earlier.len() {
                1 => "the earlier definition never takes effect".to_string(),
                n => format!("the {n} earlier definitions never take effect"),
            };
            let (message, severity) = if differ {
                (
                    format!(
                        "this object is defined {} times in the input and the copies differ: `kubectl apply` keeps only this last one, so {others}; meshlint checks this one",
                        earlier.len() + 1,
                    ),
                    Severity::Warning,
                )
            } else {
                (
                    format!(
                        "this object is defined {} times in the input with the same content; `kubectl apply` keeps one object, and meshlint checks it once",
                        earlier.len() + 1,
                    ),
                    Severity::Info,
                )
            };
            let name = FieldPath::parse("metadata.name");
            let mut r = cx
                .report(survivor, name.clone(), message)
                .severity(severity)
                .help("keep one definition per object; if the files are alternatives applied one at a time, check each set on its own");
            for &e in earlier {
                r = r.related(e, name.clone(), "an earlier definition of the same object");
            }
        }
    }
}
