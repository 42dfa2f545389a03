//! The shape of `.meshlint.yaml`, checked on the positioned tree before decoding, so a typo or a
//! wrong type is reported at its line with what was expected (and a close match for a mistyped
//! key) instead of serde's wording ("untagged enum", "unknown variant").

use crate::source::{FieldPath, Node, Pos, Value};

/// A problem at a field of the config; `key` is the position of an unknown key itself.
pub struct ShapeError {
    pub path: FieldPath,
    pub key: Option<Pos>,
    pub message: String,
}

const TOP: &[&str] = &[
    "failure-threshold",
    "select",
    "extend-select",
    "ignore",
    "severity",
    "exclude",
    "namespace",
    "istio-version",
    "mesh",
    "baseline",
    "clusters",
];
const IGNORE_ENTRY: &[&str] = &["rule", "resource", "file", "reason"];
const MESH: &[&str] = &["loopback-dependencies", "loopbackDependencies"];

fn kind(node: &Node) -> &'static str {
    match node.value {
        Value::Map(_) => "a mapping",
        Value::Seq(_) => "a list",
        Value::Null => "empty",
        _ => "a single value",
    }
}

fn error(path: FieldPath, message: String) -> Result<(), ShapeError> {
    Err(ShapeError {
        path,
        key: None,
        message,
    })
}

/// Known keys only; an unknown one is named with the closest known key.
fn keys(node: &Node, at: &FieldPath, known: &[&str], what: &str) -> Result<(), ShapeError> {
    let Value::Map(entries) = &node.value else {
        return Ok(());
    };
    for (k, _) in entries {
        let key = k.scalar_text();
        if known.contains(&key.as_str()) {
            continue;
        }
        let close = known
            .iter()
            .map(|c| (strsim::damerau_levenshtein(&key, c), *c))
            .filter(|(d, _)| *d <= 3)
            .min()
            .map_or(String::new(), |(_, c)| format!(" (did you mean `{c}`?)"));
        return Err(ShapeError {
            path: at.clone().key(key.clone()),
            key: Some(k.pos),
            message: format!(
                "unknown key `{key}` in {what}{close}; known keys: {}",
                known.join(", ")
            ),
        });
    }
    Ok(())
}

fn expect_map(node: &Node, at: &FieldPath, what: &str) -> Result<(), ShapeError> {
    if node.is_map() || node.value == Value::Null {
        Ok(())
    } else {
        error(
            at.clone(),
            format!("{what} must be a mapping, not {}", kind(node)),
        )
    }
}

/// A list of strings; a single string is accepted as a list of one.
fn expect_strings(node: &Node, at: &FieldPath, what: &str) -> Result<(), ShapeError> {
    match &node.value {
        Value::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                if matches!(item.value, Value::Seq(_) | Value::Map(_) | Value::Null) {
                    return error(
                        at.clone().index(i),
                        format!("entries of {what} must be strings, not {}", kind(item)),
                    );
                }
            }
            Ok(())
        }
        Value::Map(_) => error(
            at.clone(),
            format!("{what} must be a list of strings, not a mapping"),
        ),
        _ => Ok(()),
    }
}

/// `clusters:`: a mapping of cluster names (DNS-1123 labels) to lists of paths.
fn clusters(node: &Node, at: &FieldPath) -> Result<(), ShapeError> {
    expect_map(node, at, "`clusters`")?;
    let Value::Map(entries) = &node.value else {
        return Ok(());
    };
    for (k, paths) in entries {
        let name = k.scalar_text();
        if let Err(message) = super::check_cluster_name(&name) {
            return Err(ShapeError {
                path: at.clone().key(name.clone()),
                key: Some(k.pos),
                message,
            });
        }
        let here = at.clone().key(name.clone());
        if !matches!(paths.value, Value::Seq(_)) {
            return error(
                here,
                format!(
                    "cluster `{name}` must be a list of paths (files or directories), not {}",
                    kind(paths)
                ),
            );
        }
        expect_strings(paths, &here, &format!("cluster `{name}`"))?;
    }
    Ok(())
}

pub fn check(root: &Node) -> Result<(), ShapeError> {
    let top = FieldPath::root();
    if !root.is_map() {
        return error(
            top,
            format!(
                "the config must be a mapping of settings ({}), not {}",
                TOP.join(", "),
                kind(root)
            ),
        );
    }
    keys(root, &top, TOP, "the config")?;
    for key in ["select", "extend-select", "exclude"] {
        if let Some(n) = root.get(key) {
            expect_strings(n, &top.clone().key(key), &format!("`{key}`"))?;
        }
    }
    if let Some(n) = root.get("severity") {
        expect_map(n, &top.clone().key("severity"), "`severity`")?;
    }
    if let Some(n) = root.get("mesh") {
        let at = top.clone().key("mesh");
        expect_map(n, &at, "`mesh`")?;
        keys(n, &at, MESH, "`mesh`")?;
    }
    if let Some(n) = root.get("clusters") {
        clusters(n, &top.clone().key("clusters"))?;
    }
    if let Some(n) = root.get("ignore") {
        let at = top.clone().key("ignore");
        let Value::Seq(entries) = &n.value else {
            return if n.value == Value::Null {
                Ok(())
            } else {
                error(
                    at,
                    format!(
                        "`ignore` must be a list of rules or `rule:` entries, not {}",
                        kind(n)
                    ),
                )
            };
        };
        for (i, e) in entries.iter().enumerate() {
            let at = at.clone().index(i);
            match &e.value {
                Value::Map(_) => {
                    keys(e, &at, IGNORE_ENTRY, "an `ignore` entry")?;
                    if e.get("rule").is_none() {
                        return error(
                            at,
                            "an `ignore` entry with fields needs `rule:` (the code or name it silences)"
                                .into(),
                        );
                    }
                }
                Value::Seq(_) | Value::Null => {
                    return error(
                        at,
                        format!(
                            "an `ignore` entry is a rule (`MESH101`) or a mapping with `rule:`, not {}",
                            kind(e)
                        ),
                    );
                }
                _ => {}
            }
        }
    }
    Ok(())
}
