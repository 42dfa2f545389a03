//! `check --fix` and `check --diff`: the fixes of the run's findings, applied to the files or
//! shown as a diff.

use std::collections::BTreeMap;

use crate::diagnostic::{Outcome, TextEdit};
use crate::engine::fix;
use crate::report;
use crate::source::STDIN_NAME;

use super::{eprint_line, print};

/// Each file's text after its fixes, with the number of fixes applied; files read from stdin
/// or a fetched dump have nowhere to be written and are left out.
fn fixed(outcome: &Outcome) -> Vec<(String, String, String, usize)> {
    let mut by_file: BTreeMap<&str, Vec<TextEdit>> = BTreeMap::new();
    for f in &outcome.findings {
        if let Some(fx) = &f.fix {
            by_file
                .entry(f.location.file.as_str())
                .or_default()
                .extend(fx.edits.iter().cloned());
        }
    }
    by_file
        .into_iter()
        .filter(|(file, _)| *file != STDIN_NAME && std::path::Path::new(file).is_file())
        .filter_map(|(file, edits)| {
            let old = &outcome.sources.files.iter().find(|s| s.path == file)?.text;
            let (new, applied) = fix::apply(old, &edits);
            (applied > 0).then(|| (file.to_string(), old.clone(), new, applied))
        })
        .collect()
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Prints the diff of every fix; 1 when there is one, as the files would change.
pub(super) fn diff(outcome: &Outcome, quiet: bool) -> u8 {
    let files = fixed(outcome);
    let mut out = String::new();
    for (file, old, new, _) in &files {
        out.push_str(&report::diff::render(file, old, new));
    }
    print(&out);
    if !quiet {
        let n: usize = files.iter().map(|f| f.3).sum();
        eprint_line(
            "note",
            &format!(
                "{} would be applied to {}; run with --fix to apply",
                count(n, "fix", "fixes"),
                count(files.len(), "file", "files")
            ),
        );
    }
    if !outcome.errors.is_empty() {
        2
    } else {
        u8::from(!files.is_empty())
    }
}

/// Writes every file with its fixes; returns how many fixes were applied, or why a file could
/// not be written.
pub(super) fn apply(outcome: &Outcome, quiet: bool) -> Result<usize, String> {
    let files = fixed(outcome);
    for (file, _, new, _) in &files {
        std::fs::write(file, new).map_err(|e| format!("{file}: cannot write the fix: {e}"))?;
    }
    let n = files.iter().map(|f| f.3).sum();
    if !quiet && n > 0 {
        eprint_line(
            "note",
            &format!(
                "applied {} in {}",
                count(n, "fix", "fixes"),
                count(files.len(), "file", "files")
            ),
        );
    }
    Ok(n)
}
