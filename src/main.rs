use std::process::ExitCode;

use clap::Parser;

// A run allocates millions of small tree nodes, many from the parsing threads: mimalloc hands
// them out faster than the system allocator and returns what the threads free, so large inputs
// take less time and less memory.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    ExitCode::from(meshlint::cli::run(meshlint::cli::Cli::parse()))
}
