//! `--format sarif`: SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.

mod types;
mod uri;

use std::collections::BTreeMap;

use crate::diagnostic::Outcome;
use crate::diagnostic::{Location, Severity};
use crate::rules::RULES;

use types::{
    Configuration, Invocation, Level, Log, Message, MultiformatMessage, Notification,
    PhysicalLocation, Region, ReportingDescriptor, ResultProperties, RuleProperties, Run,
    SarifResult, Tool, ToolComponent,
};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const INFO_URI: &str = env!("CARGO_PKG_REPOSITORY");

fn level(s: Severity) -> Level {
    match s {
        Severity::Error => Level::Error,
        Severity::Warning => Level::Warning,
        Severity::Info => Level::Note,
    }
}

fn text(text: impl Into<String>) -> Message {
    Message { text: text.into() }
}

fn location(l: &Location, id: Option<usize>, message: Option<&str>) -> types::Location {
    types::Location {
        id,
        message: message.map(text),
        physical_location: PhysicalLocation {
            artifact_location: uri::artifact(&l.file),
            region: Region {
                start_line: l.line.max(1),
                start_column: l.column.max(1),
                end_line: (l.end_line > 0).then_some(l.end_line),
                end_column: (l.end_line > 0).then_some(l.end_column.max(1)),
            },
        },
    }
}

/// The rule doc without its front matter and test markers, as SARIF help markdown.
fn doc_body(doc: &str) -> String {
    let body = doc
        .strip_prefix("---")
        .and_then(|rest| rest.split_once("\n---"))
        .map_or(doc, |(_, body)| body.trim_start_matches('\n'));
    body.lines()
        .map(|l| {
            let l = l.split("  # expect: ").next().unwrap_or(l).trim_end();
            match l {
                "```yaml bad" | "```yaml good" | "```json bad" | "```json good" => {
                    l.split(' ').next().unwrap_or(l)
                }
                _ => l,
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn rule(m: &'static crate::diagnostic::RuleMeta) -> ReportingDescriptor {
    let body = doc_body(m.doc);
    ReportingDescriptor {
        id: m.code,
        name: m.name,
        short_description: text(m.summary),
        full_description: text(m.summary),
        help: MultiformatMessage {
            text: body.clone(),
            markdown: body,
        },
        help_uri: format!("{INFO_URI}/blob/main/rules/{}-{}.md", m.code, m.name),
        default_configuration: Configuration {
            level: level(m.severity),
        },
        properties: RuleProperties {
            tags: &["service-mesh"],
            istio_codes: m.istio_codes,
            kiali_codes: m.kiali_codes,
        },
    }
}

pub fn render(outcome: &Outcome) -> String {
    let index_of = |code: &str| RULES.iter().position(|r| r.meta().code == code);
    let results = outcome
        .findings
        .iter()
        .map(|f| {
            let mut message = format!("{}: {}", f.resource, f.message);
            if let Some(h) = &f.help {
                message.push_str("\nhelp: ");
                message.push_str(h);
            }
            SarifResult {
                rule_id: f.code,
                rule_index: index_of(f.code),
                level: level(f.severity),
                message: text(message),
                locations: vec![location(&f.location, None, None)],
                related_locations: f
                    .related
                    .iter()
                    .enumerate()
                    .map(|(i, r)| location(&r.location, Some(i), Some(&r.message)))
                    .collect(),
                partial_fingerprints: [("meshlint/v1", f.fingerprint.clone())].into(),
                properties: f.subkind.map(|subkind| ResultProperties { subkind }),
            }
        })
        .collect();
    let notifications = outcome
        .errors
        .iter()
        .map(|e| Notification {
            level: Level::Error,
            message: text(e.message.clone()),
            locations: vec![location(
                &Location {
                    file: e.file.clone(),
                    line: e.line,
                    column: e.column,
                    ..Location::default()
                },
                None,
                None,
            )],
        })
        .collect();
    let log = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: ToolComponent {
                    name: "meshlint",
                    version: env!("CARGO_PKG_VERSION"),
                    information_uri: INFO_URI,
                    rules: RULES.iter().map(|r| rule(r.meta())).collect(),
                },
            },
            original_uri_base_ids: uri::srcroot()
                .map(|root| BTreeMap::from([(uri::SRCROOT, root)]))
                .unwrap_or_default(),
            column_kind: "unicodeCodePoints",
            invocations: vec![Invocation {
                execution_successful: outcome.errors.is_empty(),
                tool_execution_notifications: notifications,
            }],
            results,
        }],
    };
    // Through a JSON value, so object keys come out sorted as in the other JSON outputs.
    let value = serde_json::to_value(&log).expect("SARIF types always serialise");
    let mut out = serde_json::to_string_pretty(&value).expect("JSON values always serialise");
    out.push('\n');
    out
}
