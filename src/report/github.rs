//! `--format github`: GitHub Actions workflow commands, one annotation per finding.

use std::fmt::Write;

use crate::diagnostic::Outcome;
use crate::diagnostic::Severity;

use super::text::visible;

/// Escapes message data as `@actions/core` does; other control characters are written as
/// escapes, so the log shows them instead of interpreting them.
fn escape_data(s: &str) -> String {
    let escaped = s
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    visible(&escaped).into_owned()
}

/// Escapes a property value: message escaping plus `:` and `,`.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn render(outcome: &Outcome) -> String {
    let mut out = String::new();
    for f in &outcome.findings {
        let command = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let mut message = format!("{} {}: {}", f.code, f.resource, f.message);
        if let Some(help) = &f.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        if let Some(note) = super::clusters_note(f) {
            message.push('\n');
            message.push_str(&note);
        }
        let l = &f.location;
        let _ = writeln!(
            out,
            "::{command} file={},line={},endLine={},col={},endColumn={},title={}::{}",
            escape_property(&l.file),
            l.line,
            l.end_line,
            l.column,
            l.end_column,
            escape_property(&format!("{} {}", f.code, f.name)),
            escape_data(&message),
        );
    }
    for e in &outcome.errors {
        let mut props = format!("file={}", escape_property(&e.file));
        if e.line > 0 {
            let _ = write!(props, ",line={},col={}", e.line, e.column);
        }
        let _ = writeln!(
            out,
            "::error {props},title=meshlint input error::{}",
            escape_data(&e.message)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_actions_core() {
        assert_eq!(escape_data("50% a\r\nb"), "50%25 a%0D%0Ab");
        assert_eq!(escape_property("a:b,c%"), "a%3Ab%2Cc%25");
    }
}
