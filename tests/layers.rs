//! The module layout holds: layers only import the layers below them, rule families import no
//! family that imports them back, and no source file grows past 800 lines (unit tests at the
//! end of a file excluded). Imports are read as text (`crate::module` paths), like a reviewer
//! would, so the check needs no compiler internals.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const MAX_LINES: usize = 800;

/// Each top-level module and the modules it may import. Anything else is a layering error.
const ALLOWED: &[(&str, &[&str])] = &[
    ("source", &[]),
    ("model", &["source"]),
    ("diagnostic", &["source", "model"]),
    ("mesh", &["source", "model"]),
    ("envoy", &["source", "model"]),
    ("config", &["source", "model", "diagnostic"]),
    ("rules", &["source", "model", "diagnostic", "mesh", "envoy"]),
    (
        "engine",
        &[
            "source",
            "model",
            "diagnostic",
            "mesh",
            "envoy",
            "config",
            "rules",
        ],
    ),
    (
        "report",
        &[
            "source",
            "model",
            "diagnostic",
            "mesh",
            "envoy",
            "config",
            "rules",
            "engine",
        ],
    ),
    (
        "cli",
        &[
            "source",
            "model",
            "diagnostic",
            "mesh",
            "envoy",
            "config",
            "rules",
            "engine",
            "report",
        ],
    ),
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("readable")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The file's text without its trailing `#[cfg(test)] mod ... { }` (tests may import anything).
fn code_of(text: &str) -> &str {
    let mut cut = text.len();
    let mut rest = text;
    let mut base = 0;
    while let Some(i) = rest.find("#[cfg(test)]") {
        let after = rest[i + "#[cfg(test)]".len()..].trim_start();
        let after = after.strip_prefix("pub(crate) ").unwrap_or(after);
        if after.starts_with("mod ") {
            cut = base + i;
            break;
        }
        base += i + 1;
        rest = &rest[i + 1..];
    }
    &text[..cut]
}

/// `rules/ports/mesh101.rs` → ("rules", Some("ports")); `engine/mod.rs` → ("engine", None).
fn module_of(rel: &Path) -> (String, Option<String>) {
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let top = parts[0].trim_end_matches(".rs").to_string();
    let family = (top == "rules" && parts.len() > 2).then(|| parts[1].clone());
    (top, family)
}

/// The `crate::a::b` paths a text uses, as `(a, b)`, including grouped `use crate::{a, b::c}`.
fn crate_paths(code: &str) -> Vec<(String, String)> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut out = Vec::new();
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let item = item.trim();
                let first = ident(item);
                let second = item
                    .strip_prefix(&first)
                    .and_then(|r| r.strip_prefix("::"))
                    .map(ident)
                    .unwrap_or_default();
                out.push((first, second));
            }
        } else {
            let first = ident(rest);
            let second = rest[first.len()..]
                .strip_prefix("::")
                .map(ident)
                .unwrap_or_default();
            out.push((first, second));
        }
    }
    out
}

struct Scan {
    /// (file, imported top-level module) pairs that break the layering.
    violations: Vec<String>,
    /// Rule family → families it imports.
    families: BTreeMap<String, BTreeSet<String>>,
    oversized: Vec<String>,
}

/// The source tree read once for every test here.
fn scan() -> &'static Scan {
    static SCAN: OnceLock<Scan> = OnceLock::new();
    SCAN.get_or_init(read_tree)
}

fn read_tree() -> Scan {
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut scan = Scan {
        violations: Vec::new(),
        families: BTreeMap::new(),
        oversized: Vec::new(),
    };
    for path in files {
        let rel = path.strip_prefix(src()).expect("under src").to_path_buf();
        let text = std::fs::read_to_string(&path).expect("utf-8 source");
        let code = code_of(&text);
        let lines = code.lines().count();
        if lines > MAX_LINES {
            scan.oversized
                .push(format!("{} ({lines} lines)", rel.display()));
        }
        let (top, family) = module_of(&rel);
        let Some(ok) = allowed.get(top.as_str()) else {
            continue; // lib.rs and main.rs wire everything together.
        };
        for (first, second) in crate_paths(code) {
            if first != top && allowed.contains_key(first.as_str()) && !ok.contains(&first.as_str())
            {
                scan.violations
                    .push(format!("{} imports crate::{first}", rel.display()));
            }
            if let Some(f) = &family
                && first == "rules"
                && !second.is_empty()
                && &second != f
                && src().join("rules").join(&second).is_dir()
            {
                scan.families
                    .entry(f.clone())
                    .or_default()
                    .insert(second.clone());
            }
        }
    }
    scan
}

#[test]
fn layers_only_point_down() {
    let scan = scan();
    assert!(
        scan.violations.is_empty(),
        "imports against the layering (see docs/architecture.md):\n{}",
        scan.violations.join("\n")
    );
}

#[test]
fn rule_families_do_not_import_each_other_in_a_cycle() {
    let scan = scan();
    for start in scan.families.keys() {
        // Depth-first search from `start`; reaching it again is a cycle.
        let mut stack: Vec<Vec<String>> = vec![vec![start.clone()]];
        while let Some(path) = stack.pop() {
            let last = path.last().expect("non-empty");
            for next in scan.families.get(last).into_iter().flatten() {
                assert!(
                    next != start,
                    "rule families import each other: {} -> {next}",
                    path.join(" -> ")
                );
                if !path.contains(next) {
                    let mut p = path.clone();
                    p.push(next.clone());
                    stack.push(p);
                }
            }
        }
    }
}

#[test]
fn no_source_file_is_over_800_lines() {
    let scan = scan();
    assert!(
        scan.oversized.is_empty(),
        "split these files:\n{}",
        scan.oversized.join("\n")
    );
}

#[test]
fn the_scan_sees_imports_and_groups() {
    let paths = crate_paths("use crate::{mesh::hosts, model};\nlet x = crate::rules::find(y);");
    assert_eq!(
        paths,
        vec![
            ("mesh".into(), "hosts".into()),
            ("model".into(), String::new()),
            ("rules".into(), "find".into()),
        ]
    );
    assert_eq!(
        module_of(Path::new("rules/ports/mesh101_port_name.rs")),
        ("rules".into(), Some("ports".into()))
    );
    assert_eq!(code_of("a\n#[cfg(test)]\nmod tests {\n}\n"), "a\n");
}
