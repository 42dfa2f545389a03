//! `meshlint graph`.

use crate::engine;
use crate::report;
use crate::report::graph::GraphFormat;

use super::{MeshArgs, ReadArgs, eprint_line, input_error, print, print_notices};

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
    let mut settings = match args.mesh.settings(args.namespace.clone(), &args.read) {
        Ok(s) => s,
        Err(e) => {
            eprint_line("error", &e);
            return 2;
        }
    };
    let paths = if args.paths.is_empty() {
        vec![".".to_string()]
    } else {
        args.paths.clone()
    };
    settings.exclude = args.exclude.clone();
    settings.no_ignore = args.no_ignore;
    match engine::check(&paths, &settings) {
        Ok(outcome) => {
            print_notices(&outcome.sources.notices);
            for e in &outcome.errors {
                eprint_line("error", &input_error(e));
            }
            print(&report::graph::render(&outcome.graph, args.format));
            if outcome.errors.is_empty() { 0 } else { 2 }
        }
        Err(e) => {
            eprint_line("error", &e);
            2
        }
    }
}
