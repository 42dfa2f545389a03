//! `--admin URL`: one GET of /config_dump?include_eds from Envoy's admin endpoint.

use std::time::Duration;

use url::Url;

use crate::source::InputError;
use crate::source::sniff::json_is_dump;

/// The admin path fetched: the full dump, endpoints included.
pub const ADMIN_PATH: &str = "/config_dump?include_eds";

/// Reads a live dump from an Envoy admin endpoint (`http://127.0.0.1:15000`): one GET of
/// [`ADMIN_PATH`] with a deadline, no proxy, no redirects, plain HTTP only. Messages name the
/// endpoint as [`shown`] does, never with credentials.
pub fn fetch_admin(url: &str, timeout: Duration) -> Result<String, String> {
    let base = parse_admin_url(url)?;
    let url = base.as_str().trim_end_matches('/').to_string();
    let target = format!("{url}{ADMIN_PATH}");
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

/// The admin base URL: `http://host[:port][/prefix]`, port 15000 when not given, `http://`
/// assumed when no scheme is. `https` is refused (the admin endpoint serves plain HTTP), and so
/// are credentials, a query or a fragment: meshlint adds [`ADMIN_PATH`] itself.
pub fn parse_admin_url(url: &str) -> Result<Url, String> {
    let with_scheme = if url.contains("://") {
        url.to_string()
    } else {
        format!("http://{url}")
    };
    let mut parsed = Url::parse(&with_scheme).map_err(|e| format!("`{}`: {e}", shown(url)))?;
    let at = shown(url);
    match parsed.scheme() {
        "http" => {}
        "https" => {
            return Err(format!(
                "`{at}`: the Envoy admin endpoint serves plain HTTP; use http://"
            ));
        }
        _ => return Err(format!("`{at}`: only http:// admin URLs are supported")),
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(format!(
            "`{at}`: the admin URL carries credentials; the Envoy admin endpoint takes none, leave them out"
        ));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(format!(
            "`{at}`: give the admin base URL only; meshlint adds {ADMIN_PATH}"
        ));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(format!("`{at}`: no host"));
    }
    if parsed.port().is_none() {
        parsed
            .set_port(Some(15000))
            .map_err(|()| format!("`{at}`: cannot take a port"))?;
    }
    Ok(parsed)
}

/// How an admin URL is shown in messages and as the input's name: credentials removed.
pub fn shown(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return match url.rsplit_once('@') {
            Some((_, host)) => host.to_string(),
            None => url.to_string(),
        };
    };
    // Everything up to the last `@` may be credentials, even with a `/` in a password.
    match rest.rfind('@') {
        Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
        None => url.to_string(),
    }
}

/// Turns a fetch into the error shape inputs use.
pub fn admin_error(url: &str, message: String) -> InputError {
    InputError {
        file: shown(url),
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
        let p = |u: &str| parse_admin_url(u).map(|u| u.to_string());
        assert_eq!(
            p("http://127.0.0.1:15000").unwrap(),
            "http://127.0.0.1:15000/"
        );
        assert_eq!(p("localhost").unwrap(), "http://localhost:15000/");
        assert_eq!(
            p("http://[::1]:9901/envoy").unwrap(),
            "http://[::1]:9901/envoy"
        );
        assert!(p("https://x:15000").is_err());
        assert!(p("ftp://x").is_err());
        assert!(p("http://x:15000/config_dump?x").is_err());
        assert!(p("http://x:abc").is_err());
    }

    #[test]
    fn credentials_are_refused_and_never_shown() {
        let e = parse_admin_url("http://user:s3cret@127.0.0.1:9901").unwrap_err();
        assert!(!e.contains("s3cret") && !e.contains("user"), "{e}");
        assert!(e.contains("127.0.0.1:9901"), "{e}");
        assert_eq!(shown("http://u:p@h:1/x"), "http://h:1/x");
        assert_eq!(shown("u:p@h:1"), "h:1");
        assert_eq!(shown("http://admin:pa/ss@h:1"), "http://h:1");
    }
}
