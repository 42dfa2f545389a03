//! Command-line interface.

use std::io::{IsTerminal, Write};
use std::path::Path;

use clap::{Parser, Subcommand};

use crate::config::{self, LoadedConfig};
use crate::diagnostic::Severity;
use crate::engine::{self, Settings};
use crate::report::graph::GraphFormat;
use crate::report::{self, ColorChoice, Format};
use crate::rules::{self, RULES};

#[derive(Debug, Parser)]
#[command(
    name = "meshlint",
    version,
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
    /// Simulate Envoy for one connection in a config dump: listener, filter chain, route,
    /// cluster, endpoints, and why each alternative was passed over.
    Trace(TraceArgs),
    /// Print the resource graph (Services, workloads, Gateways, routes...) with the resources
    /// that have findings highlighted.
    Graph(GraphArgs),
    /// List every rule.
    Rules,
    /// Print a rule's documentation.
    Explain {
        /// Rule code (MESH101) or name (port-name-missing-protocol).
        rule: String,
    },
}

#[derive(Debug, clap::Args)]
pub struct GraphArgs {
    /// Files or directories; `-` reads stdin. Defaults to the current directory.
    pub paths: Vec<String>,
    #[arg(long, value_enum, default_value = "dot")]
    pub format: GraphFormat,
    /// Namespace for resources that do not set one.
    #[arg(long, short = 'n')]
    pub namespace: Option<String>,
    /// Skip paths matching this glob.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    #[command(flatten)]
    pub mesh: MeshArgs,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Files or directories to check; `-` reads stdin. Defaults to the current directory.
    pub paths: Vec<String>,
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// Exit 1 when a finding at or above this severity is reported.
    #[arg(long, value_name = "SEVERITY")]
    pub failure_threshold: Option<Severity>,
    /// Only run these rules (codes, names or code prefixes; comma-separated or repeated).
    #[arg(long, value_delimiter = ',')]
    pub select: Vec<String>,
    /// Do not run these rules.
    #[arg(long, value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// Skip files whose path or file name matches this glob (walked or named).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Namespace for resources that do not set one.
    #[arg(long, short = 'n')]
    pub namespace: Option<String>,
    #[command(flatten)]
    pub mesh: MeshArgs,
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorChoice,
    #[command(flatten)]
    pub admin: AdminArgs,
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
    /// Settings from the config file (flag or discovered), `--mesh-config` and the version.
    fn settings(&self, namespace: Option<String>) -> Result<Settings, String> {
        Ok(Settings {
            istio_version: self.istio_version.clone(),
            mesh_config: self
                .mesh_config
                .as_deref()
                .map(config::load_mesh_config)
                .transpose()?,
            namespace,
            config: load_config(self.config.as_deref())?,
            ..Settings::default()
        })
    }
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

#[derive(Debug, clap::Args)]
pub struct TraceArgs {
    /// `DUMP DEST_IP:PORT`, or only `DEST_IP:PORT` with --admin. DUMP may be `-` (stdin).
    #[arg(required = true, num_args = 1..=2, value_name = "DUMP|DEST")]
    pub args: Vec<String>,
    /// The connection is TLS with this SNI.
    #[arg(long, value_name = "NAME")]
    pub sni: Option<String>,
    /// The connection is HTTP with this Host header.
    #[arg(long, value_name = "HOST")]
    pub host: Option<String>,
    /// ALPN the client offers (TLS), or the HTTP version in plaintext (h2, http/1.1).
    #[arg(long, value_delimiter = ',', value_name = "PROTO")]
    pub alpn: Vec<String>,
    /// Source IP of the connection (for source-matching filter chains).
    #[arg(long, value_name = "IP")]
    pub source: Option<String>,
    #[arg(long, value_enum, default_value = "human")]
    pub format: ListFormat,
    #[command(flatten)]
    pub admin: AdminArgs,
}

#[derive(Debug, clap::Args)]
pub struct ListenersArgs {
    /// Files or directories; `-` reads stdin.
    pub paths: Vec<String>,
    /// Only scopes of this namespace (also the namespace of resources that do not set one).
    #[arg(long, short = 'n')]
    pub namespace: Option<String>,
    /// Only the scope of the Sidecar or namespace that applies to this workload.
    #[arg(long)]
    pub workload: Option<String>,
    #[arg(long, value_enum, default_value = "human")]
    pub format: ListFormat,
    #[command(flatten)]
    pub mesh: MeshArgs,
    #[command(flatten)]
    pub admin: AdminArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    Human,
    Json,
}

/// Runs the CLI and returns the process exit code.
pub fn run(cli: Cli) -> u8 {
    match cli.command {
        Command::Check(args) => check(args),
        Command::Listeners(args) => listeners(args),
        Command::Trace(args) => trace(args),
        Command::Graph(args) => graph(args),
        Command::Rules => {
            let mut out = String::new();
            for r in RULES {
                let m = r.meta();
                let istio = if m.istio_codes.is_empty() {
                    String::new()
                } else {
                    format!(" [{}]", m.istio_codes.join(", "))
                };
                out.push_str(&format!(
                    "{}  {:<32} {:<8} {}{istio}\n",
                    m.code,
                    m.name,
                    m.severity.as_str(),
                    m.summary
                ));
            }
            print(&out);
            0
        }
        Command::Explain { rule } => match rules::find(&rule) {
            Some(r) => {
                print(r.meta().doc);
                0
            }
            None => {
                eprintln!("error: unknown rule `{rule}` (run `meshlint rules` for the list)");
                2
            }
        },
    }
}

/// `file:line:column: message`, or `file: message` when the position is unknown.
fn input_error(e: &crate::source::InputError) -> String {
    if e.line > 0 {
        format!("{}:{}:{}: {}", e.file, e.line, e.column, e.message)
    } else {
        format!("{}: {}", e.file, e.message)
    }
}

fn print(s: &str) {
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`meshlint ... | head`) is not an error worth reporting.
    let _ = stdout.write_all(s.as_bytes());
    let _ = stdout.flush();
}

fn load_config(flag: Option<&str>) -> Result<LoadedConfig, String> {
    let found = match flag {
        Some(p) => Some(Path::new(p).to_path_buf()),
        None => std::env::current_dir()
            .ok()
            .and_then(|d| config::discover(&d)),
    };
    match found {
        Some(p) => config::load_file(&p).map_err(|e| {
            if e.line > 0 {
                format!("{}:{}:{}: {}", e.file, e.line, e.column, e.message)
            } else {
                format!("{}: {}", e.file, e.message)
            }
        }),
        None => Ok(LoadedConfig::default()),
    }
}

fn check(args: CheckArgs) -> u8 {
    let mut settings = match args.mesh.settings(args.namespace.clone()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let threshold = args
        .failure_threshold
        .or(settings.config.config.failure_threshold)
        .unwrap_or(Severity::Warning);
    let paths = if args.paths.is_empty() && args.admin.admin.is_none() {
        vec![".".to_string()]
    } else {
        args.paths.clone()
    };
    settings.select = args.select.clone();
    settings.ignore = args.ignore.clone();
    settings.exclude = args.exclude.clone();
    let outcome = match engine::check_with(&paths, args.admin.fetch(), &settings) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let color = args.color.enabled(std::io::stdout().is_terminal());
    print(&report::render(args.format, &outcome, color));
    report::exit_code(&outcome, threshold)
}

fn listeners(args: ListenersArgs) -> u8 {
    // `-n` picks the scopes to print and is also the namespace of resources without one, so
    // `... | meshlint listeners - -n payments` shows them.
    let settings = match args.mesh.settings(args.namespace.clone()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let paths = if args.paths.is_empty() && args.admin.admin.is_none() {
        vec![".".to_string()]
    } else {
        args.paths.clone()
    };
    let view = match engine::listeners_with(&paths, args.admin.fetch(), &settings) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let mut out = String::new();
    let mut json_scopes = Vec::new();
    for (label, namespace, workloads, rows) in &view.scopes {
        if args.namespace.as_ref().is_some_and(|n| n != namespace) {
            continue;
        }
        if args
            .workload
            .as_ref()
            .is_some_and(|w| !workloads.contains(w))
        {
            continue;
        }
        match args.format {
            ListFormat::Human => {
                out.push_str(&format!("{label}\n"));
                out.push_str(&format!(
                    "  {:<16} {:>6}  {:<20} {}\n",
                    "ADDRESS", "PORT", "TYPE", "OWNERS"
                ));
                for r in rows {
                    out.push_str(&format!(
                        "  {:<16} {:>6}  {:<20} {}{}\n",
                        r.address,
                        r.port,
                        r.kind,
                        r.owners.join(", "),
                        r.conflict
                            .as_ref()
                            .map_or(String::new(), |c| format!("  <- {c}"))
                    ));
                }
                out.push('\n');
            }
            ListFormat::Json => json_scopes.push(serde_json::json!({
                "scope": label,
                "namespace": namespace,
                "workloads": workloads,
                "listeners": rows.iter().map(|r| serde_json::json!({
                    "address": r.address, "port": r.port, "type": r.kind,
                    "owners": r.owners, "conflict": r.conflict,
                })).collect::<Vec<_>>(),
            })),
        }
    }
    if args.format == ListFormat::Json {
        out =
            serde_json::to_string_pretty(&serde_json::json!({"version": 1, "scopes": json_scopes}))
                .expect("JSON values always serialise");
        out.push('\n');
    }
    for e in &view.errors {
        eprintln!("error: {}", input_error(e));
    }
    print(&out);
    if view.errors.is_empty() { 0 } else { 2 }
}

fn trace(args: TraceArgs) -> u8 {
    let (input, dest) = match (args.admin.admin.as_ref(), args.args.as_slice()) {
        (Some(url), [dest]) => (url.clone(), dest.clone()),
        (None, [dump, dest]) => (dump.clone(), dest.clone()),
        (Some(_), _) => {
            eprintln!(
                "error: with --admin, give only the destination: meshlint trace --admin URL DEST_IP:PORT"
            );
            return 2;
        }
        (None, _) => {
            eprintln!(
                "error: usage: meshlint trace DUMP DEST_IP:PORT (or --admin URL DEST_IP:PORT)"
            );
            return 2;
        }
    };
    let (ip, port) = match parse_destination(&dest) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let source = match args.source.as_deref().map(str::parse::<std::net::IpAddr>) {
        Some(Ok(s)) => Some(s),
        Some(Err(_)) => {
            eprintln!("error: --source: not an IP address");
            return 2;
        }
        None => None,
    };
    let mut sources = crate::source::Sources::default();
    if args.admin.admin.is_some() {
        for (name, got) in args.admin.fetch() {
            match got {
                Ok(text) => sources.add_text(name, text),
                Err(e) => {
                    eprintln!("error: {e}");
                    return 2;
                }
            }
        }
    } else {
        sources = crate::source::load(
            std::slice::from_ref(&input),
            &crate::source::Discovery::default(),
        );
    }
    let dumps = crate::envoy::load::take_dumps(&mut sources);
    if let Some(e) = sources.errors.first() {
        eprintln!("error: {}", input_error(e));
        return 2;
    }
    if dumps.len() > 1 {
        let names: Vec<&str> = dumps
            .iter()
            .map(|d| sources.files[d.file].path.as_str())
            .collect();
        eprintln!(
            "error: {input} holds {} config dumps ({}); trace one proxy's dump at a time",
            names.len(),
            names.join(", ")
        );
        return 2;
    }
    let Some(ld) = dumps.first() else {
        eprintln!(
            "error: {input}: not an Envoy config dump (expected `istioctl proxy-config all -o json`, Envoy /config_dump, or `istioctl proxy-config listener -o json` output)"
        );
        return 2;
    };
    let conn = crate::envoy::trace::Connection {
        dest: ip,
        port,
        sni: args.sni.clone(),
        host: args.host.clone(),
        alpn: args.alpn.clone(),
        source,
    };
    let t = crate::envoy::trace::trace(&ld.dump, &conn);
    match args.format {
        ListFormat::Human => print(&report::trace::render(&t)),
        ListFormat::Json => {
            let mut out =
                serde_json::to_string_pretty(&serde_json::json!({"version": 1, "trace": t}))
                    .expect("JSON values always serialise");
            out.push('\n');
            print(&out);
        }
    }
    0
}

/// Parses `IP:PORT` (`[v6]:PORT` for IPv6).
pub fn parse_destination(s: &str) -> Result<(std::net::IpAddr, u32), String> {
    let (ip, port) = if let Some(rest) = s.strip_prefix('[') {
        let (ip, port) = rest
            .split_once("]:")
            .ok_or_else(|| format!("`{s}`: expected [IPv6]:PORT"))?;
        (ip, port)
    } else {
        s.rsplit_once(':')
            .ok_or_else(|| format!("`{s}`: expected IP:PORT"))?
    };
    let ip: std::net::IpAddr = ip
        .parse()
        .map_err(|_| format!("`{s}`: `{ip}` is not an IP address"))?;
    let port: u32 = port
        .parse()
        .ok()
        .filter(|p| (1..=65535).contains(p))
        .ok_or_else(|| format!("`{s}`: `{port}` is not a port"))?;
    Ok((ip, port))
}

fn graph(args: GraphArgs) -> u8 {
    let mut settings = match args.mesh.settings(args.namespace.clone()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let paths = if args.paths.is_empty() {
        vec![".".to_string()]
    } else {
        args.paths.clone()
    };
    settings.exclude = args.exclude.clone();
    match engine::check(&paths, &settings) {
        Ok(outcome) => {
            for e in &outcome.errors {
                eprintln!("error: {}", input_error(e));
            }
            print(&report::graph::render(&outcome.graph, args.format));
            if outcome.errors.is_empty() { 0 } else { 2 }
        }
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_parse() {
        assert_eq!(
            parse_destination("10.0.0.1:80").expect("ok"),
            ("10.0.0.1".parse().unwrap(), 80)
        );
        assert_eq!(
            parse_destination("[fd00::1]:443").expect("ok"),
            ("fd00::1".parse().unwrap(), 443)
        );
        assert!(parse_destination("10.0.0.1").is_err());
        assert!(parse_destination("host:80").is_err());
        assert!(parse_destination("10.0.0.1:0").is_err());
    }
}
