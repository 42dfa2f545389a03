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
    let mut out = Vec::new();
    write(outcome, &mut out).expect("writing to memory does not fail");
    String::from_utf8(out).expect("JSON is UTF-8")
}

/// Writes the report with every object's keys in sorted order, one finding at a time: a run
/// with many findings never holds the whole document as a JSON value.
pub fn write(outcome: &Outcome, out: &mut impl std::io::Write) -> std::io::Result<()> {
    /// [`Report`]'s fields in sorted order; the parts other than the findings are small.
    #[derive(Serialize)]
    struct Sorted<'a> {
        #[serde(skip_serializing_if = "Option::is_none")]
        config: Option<&'a str>,
        errors: serde_json::Value,
        findings: Findings<'a>,
        summary: serde_json::Value,
        version: u32,
    }
    /// Each finding through a JSON value of its own, whose keys come out sorted.
    struct Findings<'a>(&'a [Finding]);
    impl Serialize for Findings<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(
                self.0
                    .iter()
                    .map(|f| serde_json::to_value(f).expect("findings always serialise")),
            )
        }
    }
    let r = report(outcome);
    let sorted = Sorted {
        config: r.config,
        errors: serde_json::to_value(&r.errors).expect("input errors always serialise"),
        findings: Findings(r.findings),
        summary: serde_json::to_value(&r.summary).expect("the summary always serialises"),
        version: r.version,
    };
    serde_json::to_writer_pretty(&mut *out, &sorted)?;
    out.write_all(b"\n")
}
