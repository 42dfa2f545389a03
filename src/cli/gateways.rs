//! `meshlint gateways`.

use crate::engine;
use crate::report;

use super::{ListFormat, MeshArgs, ReadArgs, eprint_line, input_error, print, print_notices};

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
    let mut settings = match args.mesh.settings(None, &args.read) {
        Ok(s) => s,
        Err(e) => {
            eprint_line("error", &e);
            return 2;
        }
    };
    settings.no_ignore = args.no_ignore;
    let paths = if args.paths.is_empty() {
        vec![".".to_string()]
    } else {
        args.paths.clone()
    };
    let view = match engine::gateways(&paths, &settings) {
        Ok(v) => v,
        Err(e) => {
            eprint_line("error", &e);
            return 2;
        }
    };
    print_notices(&view.notices);
    for e in &view.errors {
        eprint_line("error", &input_error(e));
    }
    print(&match args.format {
        ListFormat::Human => report::gateways::human(&view),
        ListFormat::Json => report::gateways::json(&view),
    });
    if view.errors.is_empty() { 0 } else { 2 }
}
