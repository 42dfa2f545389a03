//! `meshlint gateways`.

use crate::engine;
use crate::report;

use super::{ListFormat, MeshArgs, ReadArgs, or_report, paths_or_cwd, print, report_inputs};

#[derive(Debug, clap::Args)]
pub struct GatewaysArgs {
    /// Files or directories; `-` reads stdin.
    pub paths: Vec<String>,
    #[arg(long, value_enum, default_value = "human")]
    pub format: ListFormat,
    /// Walk directories without honouring ignore files (`.gitignore`, `.ignore`).
    #[arg(long)]
    pub no_ignore: bool,
    #[command(flatten)]
    pub read: ReadArgs,
    #[command(flatten)]
    pub mesh: MeshArgs,
}

pub(super) fn gateways(args: GatewaysArgs) -> u8 {
    let Some(mut settings) = or_report(args.mesh.settings(None, &args.read)) else {
        return 2;
    };
    settings.no_ignore = args.no_ignore;
    let Some(view) = or_report(engine::gateways(&paths_or_cwd(&args.paths), &settings)) else {
        return 2;
    };
    let code = report_inputs(&view.notices, &view.errors);
    print(&match args.format {
        ListFormat::Human => report::gateways::human(&view),
        ListFormat::Json => report::gateways::json(&view),
    });
    code
}
