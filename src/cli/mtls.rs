//! `meshlint mtls`.

use crate::engine;
use crate::report::mtls as render;

use super::{ListFormat, MeshArgs, ReadArgs, eprint_line, input_error, print, print_notices};

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
    let mut settings = match args.mesh.settings(args.namespace.clone(), &args.read) {
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
    let table = match engine::mtls(&paths, &settings) {
        Ok(t) => t,
        Err(e) => {
            eprint_line("error", &e);
            return 2;
        }
    };
    let ns = args.namespace.as_deref();
    let out = match args.format {
        super::ListFormat::Human => render::human(&table, ns),
        super::ListFormat::Json => render::json(&table, ns),
    };
    print_notices(&table.notices);
    for e in &table.errors {
        eprint_line("error", &input_error(e));
    }
    print(&out);
    if table.errors.is_empty() { 0 } else { 2 }
}
