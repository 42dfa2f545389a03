//! `meshlint graph`.

use crate::engine;
use crate::report;
use crate::report::graph::GraphFormat;

use super::{MeshArgs, ReadArgs, or_report, paths_or_cwd, print, report_inputs};

#[derive(Debug, clap::Args)]
pub struct GraphArgs {
    /// Files or directories; `-` reads stdin. Defaults to the current directory.
    pub paths: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "dot")]
    pub format: GraphFormat,
    /// Namespace for resources that do not set one.
    #[arg(long, short = 'n')]
    pub namespace: Option<String>,
    /// Skip paths matching this glob.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Walk directories without honouring ignore files (`.gitignore`, `.ignore`).
    #[arg(long)]
    pub no_ignore: bool,
    #[command(flatten)]
    pub read: ReadArgs,
    #[command(flatten)]
    pub mesh: MeshArgs,
}

pub(super) fn graph(args: GraphArgs) -> u8 {
    let Some(mut settings) = or_report(args.mesh.settings(args.namespace.clone(), &args.read))
    else {
        return 2;
    };
    settings.exclude = args.exclude.clone();
    settings.no_ignore = args.no_ignore;
    let Some(outcome) = or_report(engine::check(&paths_or_cwd(&args.paths), &settings)) else {
        return 2;
    };
    let code = report_inputs(&outcome.sources.notices, &outcome.errors);
    print(&report::graph::render(&outcome.graph, args.format));
    // The process ends here: freeing a large run's trees piece by piece would only cost time.
    std::mem::forget(outcome);
    code
}
