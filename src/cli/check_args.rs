//! `meshlint check`'s arguments.

use crate::diagnostic::Severity;
use crate::report::{ColorChoice, Format};

use super::{AdminArgs, MeshArgs, ReadArgs};

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Files or directories to check; `-` reads stdin. Defaults to the current directory.
    /// With --context, the files to report on.
    pub paths: Vec<String>,
    /// Load the whole tree under DIR, so rules relating files see all of them, but report only
    /// findings in the files named (or naming them as related); other files' input errors are
    /// warnings. For pre-commit hooks, which pass only the staged files, in batches.
    #[arg(long, value_name = "DIR", conflicts_with = "admin")]
    pub context: Option<String>,
    /// Check a multi-cluster mesh: add the file or directory PATH to cluster NAME (repeatable;
    /// a NAME given again adds paths). Each cluster is checked on its own, as its own API
    /// server holds it, with the paths given beside --cluster common to every cluster; rules
    /// such as MESH1901 compare the clusters. Replaces `clusters` of the config file.
    #[arg(long, value_name = "NAME=PATH", value_parser = parse_cluster, conflicts_with = "context")]
    pub cluster: Vec<(String, String)>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// Exit 1 when a finding at or above this severity is reported [default: `failure-threshold`
    /// of the config file, else warning].
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub failure_threshold: Option<Severity>,
    /// Report only findings at or above this severity. As with istioctl's --output-threshold,
    /// the exit code still counts the findings left out.
    #[arg(long, value_enum, value_name = "SEVERITY", default_value = "info")]
    pub output_threshold: Severity,
    /// Exit 0 even when findings are reported; input and usage errors still exit 2.
    #[arg(long)]
    pub exit_zero: bool,
    /// Print how many findings each rule reported instead of the findings (JSON with
    /// --format json).
    #[arg(long)]
    pub statistics: bool,
    /// Print the findings only: no notes or warnings on stderr and no summary line.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Print the settings in effect (config file, rules, thresholds, inputs) and exit.
    #[arg(long)]
    pub show_settings: bool,
    /// Only run these rules: codes (MESH201), names (container-port-collision), code prefixes
    /// (MESH2) or ALL; an istioctl code (IST0118) keeps the findings that carry it;
    /// comma-separated or repeated [default: `select` of the config file, else ALL].
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    pub select: Vec<String>,
    /// Run these rules besides the selected ones (same forms as --select), e.g. opt-in rules
    /// such as `--extend-select IST0136`; added to `extend-select` of the config file.
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    pub extend_select: Vec<String>,
    /// Do not run these rules (same forms as --select; an istioctl code drops the findings that
    /// carry it); added to `ignore` of the config file.
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    pub ignore: Vec<String>,
    /// Skip files whose path or file name matches this glob (walked or named).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Walk directories without honouring ignore files (`.gitignore`, `.ignore`).
    #[arg(long)]
    pub no_ignore: bool,
    #[command(flatten)]
    pub read: ReadArgs,
    /// Namespace for resources that do not set one [default: `namespace` of the config file,
    /// else default].
    #[arg(long, short = 'n', value_name = "NS")]
    pub namespace: Option<String>,
    #[command(flatten)]
    pub mesh: MeshArgs,
    /// When to colour the human format.
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorChoice,
    #[command(flatten)]
    pub admin: AdminArgs,
    /// Leave out the findings recorded in this baseline file (written by --write-baseline);
    /// entries that match nothing any more are reported as MESH001.
    #[arg(long, value_name = "FILE", conflicts_with = "write_baseline")]
    pub baseline: Option<String>,
    /// Apply the safe fixes of the findings to the files (comments and layout are kept), then
    /// check again and report what is left.
    #[arg(long, conflicts_with_all = ["diff", "write_baseline"])]
    pub fix: bool,
    /// Print the safe fixes as a unified diff instead of the findings; exit 1 when there is
    /// one.
    #[arg(long, conflicts_with = "write_baseline")]
    pub diff: bool,
    /// Record every finding of this run in FILE as a baseline, then exit 0 (2 on input errors).
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<String>,
}

/// `NAME=PATH` of `--cluster`, with NAME a DNS-1123 label.
fn parse_cluster(arg: &str) -> Result<(String, String), String> {
    let Some((name, path)) = arg.split_once('=') else {
        return Err(format!(
            "expected NAME=PATH (e.g. east=clusters/east), got `{arg}`"
        ));
    };
    crate::config::check_cluster_name(name)?;
    if path.is_empty() {
        return Err(format!("no path after `{name}=`"));
    }
    Ok((name.to_string(), path.to_string()))
}
