//! `--format sarif`: SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.

mod types;
mod uri;

use std::collections::BTreeMap;

use serde::{Serialize, Serializer};

use crate::diagnostic::{Finding, Location, Outcome, Severity};
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

/// Results GitHub code scanning accepts in one run: it refuses a file with more. See
/// https://docs.github.com/en/code-security/code-scanning/troubleshooting-sarif-uploads/results-exceed-limit
pub const MAX_RESULTS: usize = 25_000;

fn result(f: &Finding) -> SarifResult {
    let index_of = |code: &str| RULES.iter().position(|r| r.meta().code == code);
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
        properties: (f.subkind.is_some() || !f.clusters.is_empty()).then(|| ResultProperties {
            subkind: f.subkind,
            clusters: f.clusters.clone(),
        }),
    }
}

/// Which findings become results: all of them, or the [`MAX_RESULTS`] most severe (in output
/// order) when there are more.
fn kept(findings: &[Finding]) -> Vec<bool> {
    if findings.len() <= MAX_RESULTS {
        return vec![true; findings.len()];
    }
    let mut by_severity: Vec<usize> = (0..findings.len()).collect();
    by_severity.sort_by_key(|&i| std::cmp::Reverse(findings[i].severity));
    let mut kept = vec![false; findings.len()];
    for &i in &by_severity[..MAX_RESULTS] {
        kept[i] = true;
    }
    kept
}

pub fn render(outcome: &Outcome) -> String {
    let mut out = Vec::new();
    write(outcome, &mut out).expect("writing to memory does not fail");
    String::from_utf8(out).expect("JSON is UTF-8")
}

/// Writes the log with every object's keys in sorted order, as the other JSON outputs, one
/// result at a time: a run with many findings never holds the whole log as a JSON value.
pub fn write(outcome: &Outcome, out: &mut impl std::io::Write) -> std::io::Result<()> {
    let kept = kept(&outcome.findings);
    let left_out = kept.iter().filter(|&&k| !k).count();
    let mut notifications: Vec<Notification> = outcome
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
    if left_out > 0 {
        notifications.push(Notification {
            level: Level::Warning,
            message: text(format!(
                "{left_out} of {} findings are left out: GitHub code scanning refuses a run of more than {MAX_RESULTS} results, so the {MAX_RESULTS} most severe are kept; `--format json` lists them all",
                outcome.findings.len()
            )),
            locations: Vec::new(),
        });
    }
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
            results: Vec::new(),
        }],
    };
    // Through a JSON value, so object keys come out sorted; the results are spliced in.
    let value = serde_json::to_value(&log).expect("SARIF types always serialise");
    let results = || {
        outcome
            .findings
            .iter()
            .zip(&kept)
            .filter(|(_, k)| **k)
            .map(|(f, _)| serde_json::to_value(result(f)).expect("SARIF types always serialise"))
    };
    serde_json::to_writer_pretty(
        &mut *out,
        &Spliced {
            value: &value,
            depth: 0,
            results: &results,
        },
    )?;
    out.write_all(b"\n")
}

/// A JSON value written as is, except that `runs[0].results` is written from `results`.
struct Spliced<'a, F> {
    value: &'a serde_json::Value,
    /// 0 for the log, 1 for the runs list, 2 for the run.
    depth: u8,
    results: &'a F,
}

impl<F, I> Serialize for Spliced<'_, F>
where
    F: Fn() -> I,
    I: Iterator<Item = serde_json::Value>,
{
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        use serde_json::Value;
        let inner = |value| Spliced {
            value,
            depth: self.depth + 1,
            results: self.results,
        };
        match (self.depth, self.value) {
            (0, Value::Object(log)) => {
                let mut m = s.serialize_map(Some(log.len()))?;
                for (k, v) in log {
                    if k == "runs" {
                        m.serialize_entry(k, &inner(v))?;
                    } else {
                        m.serialize_entry(k, v)?;
                    }
                }
                m.end()
            }
            (1, Value::Array(runs)) => {
                let mut seq = s.serialize_seq(Some(runs.len()))?;
                for (i, run) in runs.iter().enumerate() {
                    if i == 0 {
                        seq.serialize_element(&inner(run))?;
                    } else {
                        seq.serialize_element(run)?;
                    }
                }
                seq.end()
            }
            (2, Value::Object(run)) => {
                let mut m = s.serialize_map(Some(run.len()))?;
                for (k, v) in run {
                    if k == "results" {
                        m.serialize_entry(k, &Results(self.results))?;
                    } else {
                        m.serialize_entry(k, v)?;
                    }
                }
                m.end()
            }
            (_, v) => v.serialize(s),
        }
    }
}

struct Results<'a, F>(&'a F);

impl<F, I> Serialize for Results<'_, F>
where
    F: Fn() -> I,
    I: Iterator<Item = serde_json::Value>,
{
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq((self.0)())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn more_findings_than_github_accepts_keep_the_most_severe_in_order() {
        let finding = |severity| Finding {
            code: "MESH101",
            name: "port-protocol",
            severity,
            message: String::new(),
            help: None,
            resource: crate::diagnostic::ResourceRef {
                kind: "Service".into(),
                namespace: "default".into(),
                name: "web".into(),
            },
            location: Location::default(),
            related: Vec::new(),
            istio_codes: Vec::new(),
            kiali_codes: Vec::new(),
            subkind: None,
            fingerprint: String::new(),
            fix: None,
            clusters: Vec::new(),
        };
        let mut findings: Vec<Finding> =
            (0..MAX_RESULTS).map(|_| finding(Severity::Info)).collect();
        findings.insert(10, finding(Severity::Error));
        findings.push(finding(Severity::Warning));
        let kept = kept(&findings);
        assert_eq!(kept.iter().filter(|&&k| k).count(), MAX_RESULTS);
        assert!(
            kept[10] && kept[MAX_RESULTS + 1],
            "the error and the warning are kept"
        );
        assert_eq!(kept.iter().filter(|&&k| !k).count(), 2);
        assert!(super::kept(&findings[..100]).iter().all(|&k| k));
    }
}
