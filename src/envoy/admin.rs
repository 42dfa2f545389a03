//! `--admin URL`: one GET of /config_dump?include_eds from Envoy's admin endpoint.

use std::time::Duration;

use crate::source::InputError;
use crate::source::sniff::json_is_dump;

/// The admin path fetched: the full dump, endpoints included.
pub const ADMIN_PATH: &str = "/config_dump?include_eds";

/// Reads a live dump from an Envoy admin endpoint (`http://127.0.0.1:15000`): one GET of
/// [`ADMIN_PATH`] with a deadline, no proxy, no redirects, plain HTTP only.
pub fn fetch_admin(url: &str, timeout: Duration) -> Result<String, String> {
    let (host, port, prefix) = parse_admin_url(url)?;
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host
    };
    let target = format!(
        "http://{host}:{port}{}{ADMIN_PATH}",
        prefix.trim_end_matches('/')
    );
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .proxy(None)
        .user_agent(concat!("meshlint/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let mut response = agent.get(&target).call().map_err(|e| match e {
        ureq::Error::Timeout(_) => format!(
            "the Envoy admin endpoint {url} did not answer within {}s",
            timeout.as_secs_f64()
        ),
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => format!(
            "cannot connect to the Envoy admin endpoint {url}: connection refused (is `kubectl port-forward POD 15000` running?)"
        ),
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => format!(
            "the Envoy admin endpoint {url} did not answer within {}s",
            timeout.as_secs_f64()
        ),
        ureq::Error::HostNotFound => format!("cannot resolve the admin host of {url}"),
        other => format!("cannot read the Envoy admin endpoint {url}: {other}"),
    })?;
    let status = response.status();
    let body = response
        .body_mut()
        .with_config()
        .limit(MAX_ADMIN_BODY)
        .read_to_string()
        .map_err(|e| format!("cannot read the answer of {url}: {e}"));
    if !status.is_success() {
        let snippet: String = body
            .as_deref()
            .unwrap_or_default()
            .trim()
            .chars()
            .take(200)
            .collect();
        return Err(format!(
            "GET {url}{ADMIN_PATH} answered {}{}",
            status,
            if snippet.is_empty() {
                String::new()
            } else {
                format!(": {snippet}")
            }
        ));
    }
    let text = body?;
    if !json_is_dump(&text) {
        return Err(format!(
            "{url}{ADMIN_PATH} did not return a config dump (expected JSON with `configs`)"
        ));
    }
    Ok(text)
}

/// Dumps of large proxies run to tens of megabytes; anything past this is not a dump.
const MAX_ADMIN_BODY: u64 = 1 << 30;

/// `http://host:port/prefix` → (host, port, prefix). `https` is refused: the admin endpoint
/// serves plain HTTP.
pub fn parse_admin_url(url: &str) -> Result<(String, u16, String), String> {
    let rest = if let Some(r) = url.strip_prefix("http://") {
        r
    } else if url.starts_with("https://") {
        return Err(format!(
            "`{url}`: the Envoy admin endpoint serves plain HTTP; use http://"
        ));
    } else if url.contains("://") {
        return Err(format!("`{url}`: only http:// admin URLs are supported"));
    } else {
        url
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    if path.contains('?') || path.contains('#') {
        return Err(format!(
            "`{url}`: give the admin base URL only; meshlint adds {ADMIN_PATH}"
        ));
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, p) = v6
            .split_once(']')
            .ok_or_else(|| format!("`{url}`: bad IPv6 host"))?;
        (h.to_string(), p.strip_prefix(':').unwrap_or(""))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), p),
            None => (authority.to_string(), ""),
        }
    };
    if host.is_empty() {
        return Err(format!("`{url}`: no host"));
    }
    let port = if port.is_empty() {
        15000
    } else {
        port.parse()
            .map_err(|_| format!("`{url}`: `{port}` is not a port"))?
    };
    Ok((host, port, path.to_string()))
}

/// Turns a fetch into the error shape inputs use.
pub fn admin_error(url: &str, message: String) -> InputError {
    InputError {
        file: url.to_string(),
        line: 0,
        column: 0,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_admin_urls() {
        assert_eq!(
            parse_admin_url("http://127.0.0.1:15000").expect("ok"),
            ("127.0.0.1".into(), 15000, String::new())
        );
        assert_eq!(
            parse_admin_url("localhost").expect("ok"),
            ("localhost".into(), 15000, String::new())
        );
        assert_eq!(
            parse_admin_url("http://[::1]:9901/envoy").expect("ok"),
            ("::1".into(), 9901, "/envoy".into())
        );
        assert!(parse_admin_url("https://x:15000").is_err());
        assert!(parse_admin_url("http://x:15000/config_dump?x").is_err());
        assert!(parse_admin_url("http://x:abc").is_err());
    }
}
