//! Emitters: one per `--format`. Each writes the whole report to a string.

mod concise;
pub mod diff;
pub mod gateways;
mod github;
pub mod graph;
mod html;
mod human;
pub mod json;
pub mod mtls;
mod sarif;
pub mod statistics;
pub mod text;
pub mod trace;

use clap::ValueEnum;

use crate::diagnostic::Outcome;
use crate::diagnostic::Severity;

pub use human::ColorChoice;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Each finding with a code frame, related locations and help, then a summary
    Human,
    /// One `file:line:column: severity[CODE] message` line per finding
    Concise,
    /// A versioned JSON document (docs/output-formats.md)
    Json,
    /// SARIF 2.1.0, for code scanning
    Sarif,
    /// GitHub Actions workflow commands (annotations)
    Github,
    Html,
}

/// How a report is drawn where that is up to the reader's terminal and wishes.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    pub color: bool,
    /// Columns to wrap the human format at.
    pub width: usize,
    /// Findings only: no summary line.
    pub quiet: bool,
}

pub fn render(format: Format, outcome: &Outcome, style: Style) -> String {
    match format {
        Format::Human => human::render(outcome, style),
        Format::Concise => concise::render(outcome, style.quiet),
        Format::Json => json::render(outcome),
        Format::Sarif => sarif::render(outcome),
        Format::Github => github::render(outcome),
        Format::Html => html::render(outcome),
    }
}

/// Writes the report to `out`; the JSON and SARIF reports are written as they are produced,
/// the others as [`render`] makes them.
pub fn write(
    format: Format,
    outcome: &Outcome,
    style: Style,
    out: &mut impl std::io::Write,
) -> std::io::Result<()> {
    match format {
        Format::Json => json::write(outcome, out),
        Format::Sarif => sarif::write(outcome, out),
        _ => out.write_all(render(format, outcome, style).as_bytes()),
    }
}

/// `cluster: east, west` for a finding of a multi-cluster run (the clusters that reported it).
fn clusters_note(f: &crate::diagnostic::Finding) -> Option<String> {
    match f.clusters.len() {
        0 => None,
        1 => Some(format!("cluster: {}", f.clusters[0])),
        _ => Some(format!("clusters: {}", f.clusters.join(", "))),
    }
}

/// `1 file`, `2 files`.
fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Counts of findings by severity: (error, warning, info).
pub fn counts(outcome: &Outcome) -> (usize, usize, usize) {
    let n = |s| outcome.findings.iter().filter(|f| f.severity == s).count();
    (n(Severity::Error), n(Severity::Warning), n(Severity::Info))
}

/// 0: nothing at or above the threshold; 1: findings at or above it; 2: input errors.
pub fn exit_code(outcome: &Outcome, threshold: Severity) -> u8 {
    if !outcome.errors.is_empty() {
        2
    } else if outcome.findings.iter().any(|f| f.severity >= threshold) {
        1
    } else {
        0
    }
}
