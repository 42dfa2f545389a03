//! `meshlint check`.

use std::io::{IsTerminal, Write};

use crate::diagnostic::Severity;
use crate::engine::{self, baseline};
use crate::report;

use super::check_args::CheckArgs;
use super::{eprint_line, or_report, print, print_notices};

pub(super) fn check(args: CheckArgs) -> u8 {
    let Some(mut settings) = or_report(args.mesh.settings(args.namespace.clone(), &args.read))
    else {
        return 2;
    };
    let threshold = args
        .failure_threshold
        .or(settings.config.config.failure_threshold)
        .unwrap_or(Severity::Warning);
    let clusters = clusters(&args, &settings);
    if args.context.is_some() && !clusters.is_empty() {
        eprint_line(
            "error",
            "--context checks one tree; the config file's `clusters` do not apply to it",
        );
        return 2;
    }
    // Beside clusters, paths are common to every cluster, and none is a fine default.
    let paths = if args.paths.is_empty() && args.admin.admin.is_none() && clusters.is_empty() {
        vec![".".to_string()]
    } else {
        args.paths.clone()
    };
    settings.select = args.select.clone();
    settings.extend_select = args.extend_select.clone();
    settings.ignore = args.ignore.clone();
    settings.exclude = args.exclude.clone();
    settings.no_ignore = args.no_ignore;
    // A baseline of the config file does not apply when one is being written.
    let baseline = args.baseline.clone().or_else(|| {
        args.write_baseline
            .is_none()
            .then(|| settings.config.baseline())
            .flatten()
    });
    if let Some(path) = &baseline {
        match baseline::load(path, args.read.max_file_size) {
            Ok(b) => settings.baseline = Some(b),
            Err(e) => {
                eprint_line("error", &e);
                return 2;
            }
        }
    }
    if args.fix && paths.iter().any(|p| p == "-") {
        eprint_line(
            "error",
            "--fix writes the fixed files and checks them again, so it does not take stdin (`-`); use --diff",
        );
        return 2;
    }
    let style = style(&args);
    if args.show_settings {
        return match super::settings::show(&args, &settings, &paths, &clusters, threshold, style) {
            Ok(text) => {
                print(&text);
                0
            }
            Err(e) => {
                eprint_line("error", &e);
                2
            }
        };
    }
    settings.listener_table = args.format == report::Format::Html;
    let (bar, progress) = super::progress::Shown::start();
    settings.progress = progress;
    let run = || match &args.context {
        Some(dir) => engine::check_in_context(dir, &args.paths, &settings),
        None if !clusters.is_empty() => {
            engine::check_cluster_paths(&paths, &clusters, args.admin.fetch(), &settings)
        }
        None => engine::check_with(&paths, args.admin.fetch(), &settings),
    };
    let first = run();
    drop(bar);
    let mut outcome = match first {
        Ok(o) => o,
        Err(e) => {
            eprint_line("error", &e);
            return 2;
        }
    };
    if args.diff {
        if !args.quiet {
            print_notices(&outcome.sources.notices);
        }
        return super::fix::diff(&outcome, args.quiet);
    }
    if args.fix {
        match super::fix::apply(&outcome, args.quiet) {
            // What is left is what the files now hold.
            Ok(n) if n > 0 => match run() {
                Ok(o) => outcome = o,
                Err(e) => {
                    eprint_line("error", &e);
                    return 2;
                }
            },
            Ok(_) => {}
            Err(e) => {
                eprint_line("error", &e);
                return 2;
            }
        }
    }
    if !args.quiet {
        print_notices(&outcome.sources.notices);
    }
    if let Some(path) = &args.write_baseline {
        return write_baseline(path, &outcome, args.quiet);
    }
    // As istioctl does, the exit code counts the findings --output-threshold leaves out.
    let code = match report::exit_code(&outcome, threshold) {
        1 if args.exit_zero => 0,
        code => code,
    };
    outcome
        .findings
        .retain(|f| f.severity >= args.output_threshold);
    if args.statistics {
        print(&report::statistics::render(
            &outcome,
            args.format == report::Format::Json,
            args.quiet,
        ));
    } else {
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        // A closed pipe (`meshlint ... | head`) is not an error worth reporting.
        let _ = report::write(args.format, &outcome, style, &mut out).and_then(|()| out.flush());
    }
    // The process ends here: handing a large run's trees back one node at a time would only
    // cost time.
    std::mem::forget(outcome);
    code
}

/// The clusters of a multi-cluster run, in name order: `--cluster` flags, else the config file's
/// `clusters`; none for an ordinary run.
fn clusters(args: &CheckArgs, settings: &engine::Settings) -> Vec<engine::ClusterPaths> {
    let mut by_name = std::collections::BTreeMap::<String, Vec<String>>::new();
    if args.cluster.is_empty() {
        by_name = settings.config.clusters();
    }
    for (name, path) in &args.cluster {
        by_name.entry(name.clone()).or_default().push(path.clone());
    }
    by_name
        .into_iter()
        .map(|(name, paths)| engine::ClusterPaths { name, paths })
        .collect()
}

/// Colour and width from the flags, the environment and the terminal.
fn style(args: &CheckArgs) -> report::Style {
    let stdout = std::io::stdout();
    let terminal = stdout.is_terminal();
    report::Style {
        color: args.color.enabled(terminal),
        width: width(
            terminal
                .then(|| terminal_size::terminal_size_of(&stdout))
                .flatten(),
        ),
        quiet: args.quiet,
    }
}

/// Columns to wrap at: `COLUMNS` when set, else the terminal's width, else 110 (a log or file).
fn width(terminal: Option<(terminal_size::Width, terminal_size::Height)>) -> usize {
    let columns = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok());
    columns
        .or(terminal.map(|(w, _)| usize::from(w.0)))
        .filter(|w| *w >= 20)
        .unwrap_or(110)
}

/// Writes the run's findings as a baseline; the exit code says only whether the input was read.
fn write_baseline(path: &str, outcome: &crate::diagnostic::Outcome, quiet: bool) -> u8 {
    for e in &outcome.errors {
        eprint_line("error", &super::input_error(e));
    }
    if let Err(e) = std::fs::write(path, baseline::render(&outcome.findings)) {
        eprint_line("error", &format!("{path}: cannot write the baseline: {e}"));
        return 2;
    }
    if !quiet {
        eprint_line(
            "note",
            &format!(
                "wrote {} finding{} to the baseline {path}",
                outcome.findings.len(),
                if outcome.findings.len() == 1 { "" } else { "s" }
            ),
        );
    }
    if outcome.errors.is_empty() { 0 } else { 2 }
}
