//! Command-line interface: the arguments, one file per command, and the exit code.

mod check;
mod check_args;
mod completions;
mod fix;
mod gateways;
mod graph;
mod listeners;
mod mtls;
mod progress;
mod rules_list;
mod settings;
mod trace;

use std::io::Write;
use std::path::Path;

use clap::{Parser, Subcommand};

use crate::config::{self, LoadedConfig};
use crate::engine::{self, Settings};
use crate::rules;
use crate::source::{FileSize, InputError, Level, Notice};

pub use check_args::CheckArgs;
pub use gateways::GatewaysArgs;
pub use graph::GraphArgs;
pub use listeners::ListenersArgs;
pub use trace::{TraceArgs, parse_destination};

#[derive(Debug, Parser)]
#[command(
    name = "meshlint",
    version = env!("MESHLINT_VERSION"),
    about = "Find port and listener conflicts in service-mesh configuration",
    long_about = None
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check manifests (files, directories, `-` for stdin) and report findings.
    Check(CheckArgs),
    /// Print the outbound listeners istiod would give each proxy scope, marking conflicts.
    Listeners(ListenersArgs),
    /// Print the status istiod would write on each Gateway API Gateway, listener and route
    /// (Accepted, ResolvedRefs, Conflicted, Programmed), predicted from the manifests.
    Gateways(GatewaysArgs),
    /// Simulate Envoy for one connection in a config dump: listener, filter chain, route,
    /// cluster, endpoints, and why each alternative was passed over.
    Trace(TraceArgs),
    /// Print the resource graph (Services, workloads, Gateways, routes...) with the resources
    /// that have findings highlighted.
    Graph(GraphArgs),
    /// Show the mTLS mode each workload port accepts and the TLS each client sends to it.
    Mtls(mtls::MtlsArgs),
    /// List every rule: code, name, default severity, whether --fix can fix it, summary.
    Rules(rules_list::RulesArgs),
    /// Print a rule's documentation.
    Explain {
        /// Rule code (MESH101) or name (port-name-missing-protocol).
        rule: String,
    },
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions(completions::CompletionsArgs),
    /// Print the manual page (roff), or write one per command with --out-dir.
    Man(completions::ManArgs),
}

/// The config file and the mesh facts every command that models the mesh takes.
#[derive(Debug, Clone, clap::Args)]
pub struct MeshArgs {
    /// Config file; by default `.meshlint.yaml` is searched upward from the working directory.
    #[arg(long, value_name = "FILE")]
    pub config: Option<String>,
    /// Target Istio version (MAJOR.MINOR); otherwise detected from istiod/proxy images.
    #[arg(long, value_name = "X.Y")]
    pub istio_version: Option<String>,
    /// A MeshConfig YAML file (like `istioctl analyze --meshConfigFile`).
    #[arg(long, value_name = "FILE")]
    pub mesh_config: Option<String>,
}

impl MeshArgs {
    /// Settings from the config file (flag or discovered), `--mesh-config` and the version;
    /// every file is read with the `--max-file-size` bound.
    fn settings(&self, namespace: Option<String>, read: &ReadArgs) -> Result<Settings, String> {
        let limit = read.max_file_size;
        Ok(Settings {
            istio_version: self.istio_version.clone(),
            mesh_config: self
                .mesh_config
                .as_deref()
                .map(|p| config::load_mesh_config(p, limit))
                .transpose()?,
            namespace,
            config: load_config(self.config.as_deref(), limit)?,
            max_file_size: limit,
            ..Settings::default()
        })
    }
}

/// How inputs are read.
#[derive(Debug, Clone, clap::Args)]
pub struct ReadArgs {
    /// Refuse any input (file, stdin, config) larger than SIZE: bytes, or with a K, M or G
    /// suffix (powers of 1024), e.g. 256MiB, 10M.
    #[arg(long, value_name = "SIZE", default_value = "256MiB")]
    pub max_file_size: FileSize,
}

/// Reading a live config dump from Envoy's admin endpoint.
#[derive(Debug, Clone, clap::Args)]
pub struct AdminArgs {
    /// Envoy admin URL (e.g. http://127.0.0.1:15000 through `kubectl port-forward POD 15000`);
    /// meshlint GETs /config_dump?include_eds once and sends nothing else.
    #[arg(long, value_name = "URL")]
    pub admin: Option<String>,
    /// Seconds to wait for the admin endpoint.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0, value_parser = seconds)]
    pub admin_timeout: f64,
}

/// A positive, finite number of seconds.
fn seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("`{s}` is not a positive number of seconds")),
    }
}

impl AdminArgs {
    /// The fetched dump (or why it could not be had), named by its URL.
    fn fetch(&self) -> engine::Fetched {
        self.admin
            .iter()
            .map(|url| {
                let timeout =
                    std::time::Duration::from_secs_f64(self.admin_timeout.clamp(0.05, 3600.0));
                (
                    crate::envoy::admin::shown(url),
                    crate::envoy::admin::fetch_admin(url, timeout),
                )
            })
            .collect()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    /// Text for a terminal
    Human,
    /// JSON for tools
    Json,
}

/// Runs the CLI and returns the process exit code.
pub fn run(cli: Cli) -> u8 {
    match cli.command {
        Command::Check(args) => check::check(args),
        Command::Listeners(args) => listeners::listeners(args),
        Command::Gateways(args) => gateways::gateways(args),
        Command::Trace(args) => trace::trace(args),
        Command::Graph(args) => graph::graph(args),
        Command::Mtls(args) => mtls::mtls(args),
        Command::Completions(args) => completions::completions(args),
        Command::Man(args) => completions::man(args),
        Command::Rules(args) => {
            print(&rules_list::render(args.format));
            0
        }
        Command::Explain { rule } => match rules::find(&rule) {
            Some(r) => {
                print(r.meta().doc);
                0
            }
            None => {
                eprint_line("error", &rules::unknown_rule(&rule));
                2
            }
        },
    }
}

/// `file:line:column: message`, or `file: message` when the position is unknown.
fn located(file: &str, line: u32, column: u32, message: &str) -> String {
    if line > 0 {
        format!("{file}:{line}:{column}: {message}")
    } else {
        format!("{file}: {message}")
    }
}

fn input_error(e: &InputError) -> String {
    located(&e.file, e.line, e.column, &e.message)
}

/// One `level: text` line on stderr. File names and messages come from the input, so control
/// characters are escaped rather than sent to the terminal.
fn eprint_line(level: &str, text: &str) {
    let text: String = text
        .chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect();
    eprintln!("{level}: {text}");
}

/// The run's notices on stderr, one line each, in file order; those about the whole run last.
fn print_notices(notices: &[Notice]) {
    let mut sorted: Vec<&Notice> = notices.iter().collect();
    sorted.sort_by_key(|n| (n.file.is_empty(), &n.file, n.line, n.column));
    for n in sorted {
        let level = match n.level {
            Level::Note => "note",
            Level::Warning => "warning",
        };
        if n.file.is_empty() {
            eprint_line(level, &n.message);
        } else {
            eprint_line(level, &located(&n.file, n.line, n.column, &n.message));
        }
    }
}

/// The value of a step that may fail; the error is printed and `None` returned, and the command
/// then exits 2.
fn or_report<T>(result: Result<T, String>) -> Option<T> {
    result.map_err(|e| eprint_line("error", &e)).ok()
}

/// A command's inputs: the paths given, else the current directory.
fn paths_or_cwd(paths: &[String]) -> Vec<String> {
    if paths.is_empty() {
        vec![".".to_string()]
    } else {
        paths.to_vec()
    }
}

/// Prints the notices and input errors of a run; the exit code is 2 when an input failed.
fn report_inputs(notices: &[Notice], errors: &[InputError]) -> u8 {
    print_notices(notices);
    for e in errors {
        eprint_line("error", &input_error(e));
    }
    if errors.is_empty() { 0 } else { 2 }
}

fn print(s: &str) {
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`meshlint ... | head`) is not an error worth reporting.
    let _ = stdout.write_all(s.as_bytes());
    let _ = stdout.flush();
}

fn load_config(flag: Option<&str>, limit: FileSize) -> Result<LoadedConfig, String> {
    let found = match flag {
        Some(p) => Some(Path::new(p).to_path_buf()),
        None => std::env::current_dir()
            .ok()
            .and_then(|d| config::discover(&d)),
    };
    match found {
        Some(p) => config::load_file(&p, limit).map_err(|e| {
            if e.line > 0 {
                format!("{}:{}:{}: {}", e.file, e.line, e.column, e.message)
            } else {
                format!("{}: {}", e.file, e.message)
            }
        }),
        None => Ok(LoadedConfig::default()),
    }
}
