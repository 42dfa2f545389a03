//! `meshlint check`'s arguments.

use crate::diagnostic::Severity;
use crate::report::{ColorChoice, Format};

use super::{AdminArgs, MeshArgs, ReadArgs};

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
    /// Leave out the findings recorded in this baseline file (written by --write-baseline);
    /// entries that match nothing any more are reported as MESH001.
    #[arg(long, value_name = "FILE", conflicts_with = "write_baseline")]
    pub baseline: Option<String>,
    /// Record every finding of this run in FILE as a baseline, then exit 0 (2 on input errors).
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<String>,
}
