//! `meshlint trace`.

use crate::report;

use super::{AdminArgs, ListFormat, ReadArgs, eprint_line, input_error, print};

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
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: ListFormat,
    #[command(flatten)]
    pub read: ReadArgs,
    #[command(flatten)]
    pub admin: AdminArgs,
}

pub(super) fn trace(args: TraceArgs) -> u8 {
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
            eprint_line("error", &e);
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
                    eprint_line("error", &e);
                    return 2;
                }
            }
        }
    } else {
        sources = crate::source::load(
            std::slice::from_ref(&input),
            &crate::source::Discovery {
                max_file_size: args.read.max_file_size,
                ..crate::source::Discovery::default()
            },
        );
    }
    let dumps = crate::envoy::load::take_dumps(&mut sources);
    if let Some(e) = sources.errors.first() {
        eprint_line("error", &input_error(e));
        return 2;
    }
    if dumps.len() > 1 {
        let names: Vec<&str> = dumps
            .iter()
            .map(|d| sources.files[d.file].path.as_str())
            .collect();
        eprint_line(
            "error",
            &format!(
                "{input} holds {} config dumps ({}); trace one proxy's dump at a time",
                names.len(),
                names.join(", ")
            ),
        );
        return 2;
    }
    let Some(ld) = dumps.first() else {
        if let Some(z) = sources
            .files
            .iter()
            .find_map(|f| crate::envoy::ztunnel::parse(&f.text))
        {
            let t = crate::envoy::ztunnel::trace(&z, ip, port, source);
            match args.format {
                ListFormat::Human => print(&report::trace::render_ztunnel(&t)),
                ListFormat::Json => {
                    let mut out = serde_json::to_string_pretty(
                        &serde_json::json!({"version": 1, "ztunnel": t}),
                    )
                    .expect("JSON values always serialise");
                    out.push('\n');
                    print(&out);
                }
            }
            return 0;
        }
        eprint_line(
            "error",
            &format!(
                "{input}: not an Envoy config dump (expected `istioctl proxy-config all -o json`, Envoy /config_dump, or `istioctl proxy-config listener -o json` output, or a ztunnel dump from `istioctl ztunnel-config all -o json`)"
            ),
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
