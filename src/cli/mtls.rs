//! `meshlint mtls`.

use crate::engine;
use crate::report::mtls as render;

use super::{ListFormat, MeshArgs, ReadArgs, or_report, paths_or_cwd, print, report_inputs};

#[derive(Debug, clap::Args)]
pub struct MtlsArgs {
    /// Files or directories; `-` reads stdin.
    pub paths: Vec<String>,
    /// Only servers in this namespace (also the namespace of resources that do not set one).
    #[arg(long, short = 'n')]
    pub namespace: Option<String>,
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

pub(super) fn mtls(args: MtlsArgs) -> u8 {
    let Some(mut settings) = or_report(args.mesh.settings(args.namespace.clone(), &args.read))
    else {
        return 2;
    };
    settings.no_ignore = args.no_ignore;
    let Some(table) = or_report(engine::mtls(&paths_or_cwd(&args.paths), &settings)) else {
        return 2;
    };
    let ns = args.namespace.as_deref();
    let out = match args.format {
        ListFormat::Human => render::human(&table, ns),
        ListFormat::Json => render::json(&table, ns),
    };
    let code = report_inputs(&table.notices, &table.errors);
    print(&out);
    code
}
