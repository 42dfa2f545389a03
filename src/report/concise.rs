//! `--format concise`: one line per finding, `file:line:column: severity[CODE] resource: message`,
//! which editors, terminals and pre-commit output make clickable.

use std::fmt::Write;

use crate::diagnostic::Outcome;

use super::text::visible;

pub fn render(outcome: &Outcome, quiet: bool) -> String {
    let mut out = String::new();
    for f in &outcome.findings {
        let l = &f.location;
        let _ = writeln!(
            out,
            "{}:{}:{}: {}[{}] {}{}",
            visible(&l.file),
            l.line,
            l.column,
            f.severity,
            f.code,
            visible(&format!("{}: {}", f.resource, f.message)),
            super::clusters_note(f)
                .map_or(String::new(), |c| visible(&format!(" [{c}]")).into_owned())
        );
    }
    for e in &outcome.errors {
        let at = if e.line > 0 {
            format!("{}:{}:{}", visible(&e.file), e.line, e.column)
        } else {
            visible(&e.file).into_owned()
        };
        let _ = writeln!(out, "{at}: error[input] {}", visible(&e.message));
    }
    if quiet {
        return out;
    }
    let (error, warning, info) = super::counts(outcome);
    let _ = writeln!(
        out,
        "{} ({error} error, {warning} warning, {info} info), {}",
        super::plural(error + warning + info, "finding"),
        super::plural(outcome.errors.len(), "input error"),
    );
    out
}
