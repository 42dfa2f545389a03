//! `meshlint completions SHELL` and `meshlint man`: shell completion scripts and manual pages,
//! generated from the same argument definitions the binary parses.

use std::path::PathBuf;

use clap::CommandFactory;
use clap_complete::Shell;

use super::{Cli, eprint_line, print};

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// Write one page per command (meshlint.1, meshlint-check.1, ...) into this directory
    /// instead of printing meshlint(1).
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

pub(super) fn completions(args: CompletionsArgs) -> u8 {
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "meshlint", &mut out);
    print(&String::from_utf8_lossy(&out));
    0
}

pub(super) fn man(args: ManArgs) -> u8 {
    let cmd = Cli::command();
    match args.out_dir {
        Some(dir) => match clap_mangen::generate_to(cmd, &dir) {
            Ok(()) => 0,
            Err(e) => {
                eprint_line("error", &format!("{}: {e}", dir.display()));
                2
            }
        },
        None => {
            let mut out = Vec::new();
            match clap_mangen::Man::new(cmd).render(&mut out) {
                Ok(()) => {
                    print(&String::from_utf8_lossy(&out));
                    0
                }
                Err(e) => {
                    eprint_line("error", &e.to_string());
                    2
                }
            }
        }
    }
}
