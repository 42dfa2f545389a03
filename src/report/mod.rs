//! Emitters: one per `--format`. Each writes the whole report to a string.

mod concise;
mod github;
pub mod graph;
mod human;
mod json;
pub mod mtls;
mod sarif;
pub mod text;
pub mod trace;

use clap::ValueEnum;

use crate::diagnostic::Outcome;
use crate::diagnostic::Severity;

pub use human::ColorChoice;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Concise,
    Json,
    Sarif,
    Github,
}

pub fn render(format: Format, outcome: &Outcome, color: bool) -> String {
    match format {
        Format::Human => human::render(outcome, color),
        Format::Concise => concise::render(outcome),
        Format::Json => json::render(outcome),
        Format::Sarif => sarif::render(outcome),
        Format::Github => github::render(outcome),
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
