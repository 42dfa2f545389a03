//! `meshlint check`.

use std::io::IsTerminal;

use crate::diagnostic::Severity;
use crate::engine;
use crate::report::{self, ColorChoice, Format};

use super::{AdminArgs, MeshArgs, ReadArgs, eprint_line, print, print_notices};

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Files or directories to check; `-` reads stdin. Defaults to the current directory.
    pub paths: Vec<String>,
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// Exit 1 when a finding at or above this severity is reported.
    #[arg(long, value_name = "SEVERITY")]
    pub failure_threshold: Option<Severity>,
    /// Only run these rules (codes, names or code prefixes; comma-separated or repeated).
    #[arg(long, value_delimiter = ',')]
    pub select: Vec<String>,
    /// Do not run these rules.
    #[arg(long, value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// Skip files whose path or file name matches this glob (walked or named).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Walk directories without honouring ignore files (`.gitignore`, `.ignore`).
    #[arg(long)]
    pub no_ignore: bool,
    #[command(flatten)]
    pub read: ReadArgs,
    /// Namespace for resources that do not set one.
    #[arg(long, short = 'n')]
    pub namespace: Option<String>,
    #[command(flatten)]
    pub mesh: MeshArgs,
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorChoice,
    #[command(flatten)]
    pub admin: AdminArgs,
}

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
    settings.listener_table = args.format == Format::Html;
    let (bar, progress) = super::progress::Shown::start();
    settings.progress = progress;
    let outcome = engine::check_with(&paths, args.admin.fetch(), &settings);
    drop(bar);
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            eprint_line("error", &e);
            return 2;
        }
    };
    print_notices(&outcome.sources.notices);
    let color = args.color.enabled(std::io::stdout().is_terminal());
    print(&report::render(args.format, &outcome, color));
    report::exit_code(&outcome, threshold)
}
