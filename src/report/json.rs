//! `--format json`: the version-1 schema.

use serde_json::json;

use crate::diagnostic::Outcome;

pub fn render(outcome: &Outcome) -> String {
    let (error, warning, info) = super::counts(outcome);
    let doc = json!({
        "version": 1,
        "findings": outcome.findings,
        "errors": outcome.errors.iter().map(|e| json!({
            "file": e.file,
            "line": e.line,
            "column": e.column,
            "message": e.message,
        })).collect::<Vec<_>>(),
        "summary": {
            "files": outcome.sources.files.len(),
            "resources": outcome.resources,
            "findings": {"error": error, "warning": warning, "info": info},
            "baselined": outcome.baselined,
        },
    });
    let mut doc = doc;
    if let Some(c) = &outcome.config {
        doc["config"] = json!(c);
    }
    let mut out = serde_json::to_string_pretty(&doc).expect("JSON values always serialise");
    out.push('\n');
    out
}
