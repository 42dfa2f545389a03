//! `--statistics`: how many findings each rule reported, most first, instead of the findings.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde_json::json;

use crate::diagnostic::Outcome;
use crate::rules;

/// One row per rule that reported something: count, code, name, and `[*]` when `--fix` can
/// fix some of its findings.
pub fn render(outcome: &Outcome, as_json: bool, quiet: bool) -> String {
    let mut counts: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for f in &outcome.findings {
        *counts.entry((f.code, f.name)).or_default() += 1;
    }
    let mut rows: Vec<_> = counts.into_iter().collect();
    // Most frequent first; ties by code, so the order never depends on the input.
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let fixable = |code: &str| rules::find(code).is_some_and(|r| r.fixable());
    if as_json {
        let doc: Vec<_> = rows
            .iter()
            .map(|((code, name), count)| {
                json!({"code": code, "name": name, "count": count, "fixable": fixable(code)})
            })
            .collect();
        let mut out = serde_json::to_string_pretty(&doc).expect("JSON values always serialise");
        out.push('\n');
        return out;
    }
    let width = rows
        .iter()
        .map(|(_, n)| n.to_string().len())
        .max()
        .unwrap_or(1);
    let mut out = String::new();
    for ((code, name), count) in &rows {
        let mark = if fixable(code) { "  [*]" } else { "" };
        let _ = writeln!(out, "{count:>width$}  {code}  {name}{mark}");
    }
    if !quiet {
        let total: usize = rows.iter().map(|(_, n)| n).sum();
        let _ = writeln!(
            out,
            "{} from {}",
            super::plural(total, "finding"),
            super::plural(rows.len(), "rule")
        );
    }
    out
}
