//! `--format json`: the version-1 schema. The document is built from the structs below, and
//! its JSON Schema (`docs/schema/meshlint-output.schema.json`) is derived from the same structs.

use schemars::JsonSchema;
use serde::Serialize;

use crate::diagnostic::{Finding, Outcome};

/// The output of `meshlint check --format json`.
#[derive(Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "meshlint check --format json")]
pub struct Report<'a> {
    /// The schema version; changes that could break a reader raise it.
    #[schemars(extend("const" = 1))]
    pub version: u32,
    /// In file, line, column and code order.
    pub findings: &'a [Finding],
    /// Inputs that could not be read or parsed.
    pub errors: Vec<InputError<'a>>,
    pub summary: Summary,
    /// The config file in effect, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<&'a str>,
}

/// An input that could not be read or parsed.
#[derive(Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InputError<'a> {
    /// The path as the findings name it.
    pub file: &'a str,
    /// 1-based; 0 when there is no position (an unreadable file).
    pub line: u32,
    /// 1-based, in characters; 0 when there is no position.
    pub column: u32,
    pub message: &'a str,
}

#[derive(Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    /// Files read.
    pub files: usize,
    /// Kubernetes objects, and listeners, clusters and routes of config dumps, loaded.
    pub resources: usize,
    pub findings: Counts,
    /// Findings left out because the baseline (`--baseline`) records them.
    pub baselined: usize,
}

/// Findings by severity.
#[derive(Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Counts {
    pub error: usize,
    pub warning: usize,
    pub info: usize,
}

pub fn report(outcome: &Outcome) -> Report<'_> {
    let (error, warning, info) = super::counts(outcome);
    Report {
        version: 1,
        findings: &outcome.findings,
        errors: outcome
            .errors
            .iter()
            .map(|e| InputError {
                file: &e.file,
                line: e.line,
                column: e.column,
                message: &e.message,
            })
            .collect(),
        summary: Summary {
            files: outcome.sources.files.len(),
            resources: outcome.resources,
            findings: Counts {
                error,
                warning,
                info,
            },
            baselined: outcome.baselined,
        },
        config: outcome.config.as_deref(),
    }
}

/// The JSON Schema of [`Report`], as written to `docs/schema/meshlint-output.schema.json`.
pub fn schema() -> String {
    let schema = schemars::schema_for!(Report<'static>);
    let mut out = serde_json::to_string_pretty(&schema).expect("schemas always serialise");
    out.push('\n');
    out
}

pub fn render(outcome: &Outcome) -> String {
    // Through a JSON value, so object keys come out sorted.
    let value = serde_json::to_value(report(outcome)).expect("the report always serialises");
    let mut out = serde_json::to_string_pretty(&value).expect("JSON values always serialise");
    out.push('\n');
    out
}
