//! `meshlint check`.

use std::io::IsTerminal;

use crate::diagnostic::Severity;
use crate::engine::{self, baseline};
use crate::report;

use super::check_args::CheckArgs;
use super::{eprint_line, print, print_notices};

pub(super) fn check(args: CheckArgs) -> u8 {
    let mut settings = match args.mesh.settings(args.namespace.clone(), &args.read) {
        Ok(s) => s,
        Err(e) => {
            eprint_line("error", &e);
            return 2;
        }
    };
    let threshold = args
        .failure_threshold
        .or(settings.config.config.failure_threshold)
        .unwrap_or(Severity::Warning);
    let paths = if args.paths.is_empty() && args.admin.admin.is_none() {
        vec![".".to_string()]
    } else {
        args.paths.clone()
    };
    settings.select = args.select.clone();
    settings.ignore = args.ignore.clone();
    settings.exclude = args.exclude.clone();
    settings.no_ignore = args.no_ignore;
    if let Some(path) = &args.baseline {
        match baseline::load(path, args.read.max_file_size) {
            Ok(b) => settings.baseline = Some(b),
            Err(e) => {
                eprint_line("error", &e);
                return 2;
            }
        }
    }
    let outcome = match engine::check_with(&paths, args.admin.fetch(), &settings) {
        Ok(o) => o,
        Err(e) => {
            eprint_line("error", &e);
            return 2;
        }
    };
    print_notices(&outcome.sources.notices);
    if let Some(path) = &args.write_baseline {
        return write_baseline(path, &outcome);
    }
    let color = args.color.enabled(std::io::stdout().is_terminal());
    print(&report::render(args.format, &outcome, color));
    report::exit_code(&outcome, threshold)
}

/// Writes the run's findings as a baseline; the exit code says only whether the input was read.
fn write_baseline(path: &str, outcome: &crate::diagnostic::Outcome) -> u8 {
    for e in &outcome.errors {
        eprint_line("error", &super::input_error(e));
    }
    if let Err(e) = std::fs::write(path, baseline::render(&outcome.findings)) {
        eprint_line("error", &format!("{path}: cannot write the baseline: {e}"));
        return 2;
    }
    eprint_line(
        "note",
        &format!(
            "wrote {} finding{} to the baseline {path}",
            outcome.findings.len(),
            if outcome.findings.len() == 1 { "" } else { "s" }
        ),
    );
    if outcome.errors.is_empty() { 0 } else { 2 }
}
