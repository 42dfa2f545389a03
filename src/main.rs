use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    ExitCode::from(meshlint::cli::run(meshlint::cli::Cli::parse()))
}
