//! `--diff`: the edits `--fix` would make, as a unified diff per file.

use similar::TextDiff;

/// A unified diff of `file` from `old` to `new`, `a/` and `b/` prefixed as git prints them.
pub fn render(file: &str, old: &str, new: &str) -> String {
    let name = file.trim_start_matches("./");
    TextDiff::from_lines(old, new)
        .unified_diff()
        .header(&format!("a/{name}"), &format!("b/{name}"))
        .to_string()
}
