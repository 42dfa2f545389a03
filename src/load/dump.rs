//! Config dumps: detection by content, parsing (JSON directly with serde_json, YAML through the
//! positioned loader), positions of JSON pointers, and the `--admin` fetch.

use std::collections::HashMap;
use std::time::Duration;

use crate::model::envoy::{Dump, RawDump, resource_kind};

use super::node::{FieldPath, Node, Pos, Value};
use super::{FileId, InputError};

/// A dump read from one input file.
#[derive(Clone, Debug)]
pub struct LoadedDump {
    pub file: FileId,
    pub dump: Dump,
    /// The positioned tree, when the dump was YAML.
    pub yaml: Option<Node>,
}

/// Field names only lowerCamelCase output has (looked for near the start of the text).
const CAMEL_MARKERS: &[&str] = &[
    "socketAddress",
    "filterChains",
    "dynamicActive",
    "dynamicListeners",
    "staticListeners",
    "activeState",
    "clusterName",
    "lbEndpoints",
    "staticClusters",
    "virtualHosts",
    "portValue",
];

/// Whether the document spells its keys in lowerCamelCase.
pub fn is_camel(text: &str) -> bool {
    let head = match text.char_indices().nth(1 << 20) {
        Some((i, _)) => &text[..i],
        None => text,
    };
    CAMEL_MARKERS.iter().any(|m| head.contains(m))
}

/// The first byte that is not whitespace (or a BOM).
fn first_significant(text: &str) -> Option<(usize, u8)> {
    let t = text.strip_prefix('\u{feff}').unwrap_or(text);
    let skip = text.len() - t.len();
    t.bytes()
        .enumerate()
        .find(|(_, b)| !b.is_ascii_whitespace())
        .map(|(i, b)| (i + skip, b))
}

/// The first key of the top-level object, if the text starts with `{"key"`.
fn first_key(text: &str, open: usize) -> Option<&str> {
    let rest = &text[open + 1..];
    let rest = rest.trim_start();
    let rest = rest.strip_prefix('"')?;
    let end = rest.find('"')?;
    Some(&rest[..end])
}

/// Whether a JSON text is a config dump: an object whose first key is `configs`, or an array
/// whose first element is an Envoy resource.
pub fn json_is_dump(text: &str) -> bool {
    match first_significant(text) {
        Some((i, b'{')) => first_key(text, i) == Some("configs"),
        Some((i, b'[')) => {
            let rest = text[i + 1..].trim_start();
            rest.starts_with('{') && {
                // Look at the first element's keys only.
                match first_key(rest, 0) {
                    Some(k) => !matches!(k, "apiVersion" | "kind" | "metadata"),
                    None => false,
                }
            }
        }
        _ => false,
    }
}

/// A parse failure with its position (1-based; 0 when unknown).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DumpError {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

/// Parses a JSON config dump.
pub fn parse_json(text: &str) -> Result<Dump, DumpError> {
    let camel = is_camel(text);
    let err = |e: serde_json::Error| DumpError {
        line: e.line() as u32,
        column: e.column() as u32,
        message: format!("invalid config dump JSON: {e}"),
    };
    match first_significant(text) {
        Some((_, b'[')) => {
            let items: Vec<serde_json::Value> = serde_json::from_str(text).map_err(err)?;
            check_array(&items)?;
            Dump::from_array(items, camel).map_err(|m| DumpError {
                line: 0,
                column: 0,
                message: m,
            })
        }
        _ => {
            let raw: RawDump = serde_json::from_str(text).map_err(err)?;
            Ok(Dump::from_raw(raw, camel))
        }
    }
}

fn check_array(items: &[serde_json::Value]) -> Result<(), DumpError> {
    if let Some(first) = items.first()
        && resource_kind(first) == "unknown"
    {
        return Err(DumpError {
            line: 0,
            column: 0,
            message: "a JSON array that is not a list of Envoy resources".into(),
        });
    }
    Ok(())
}

/// If a YAML document is a config dump, its model (or why it is not a valid one).
pub fn from_yaml(root: &Node, text: &str) -> Option<Result<Dump, String>> {
    match &root.value {
        Value::Map(_) if root.get("configs").is_some() && root.get("kind").is_none() => {
            let camel = is_camel(text);
            Some(
                serde_json::from_value::<RawDump>(root.to_json())
                    .map(|raw| Dump::from_raw(raw, camel))
                    .map_err(|e| format!("invalid config dump: {e}")),
            )
        }
        Value::Seq(items)
            if items.first().is_some_and(|f| {
                f.is_map() && f.get("kind").is_none() && resource_kind(&f.to_json()) != "unknown"
            }) =>
        {
            let camel = is_camel(text);
            let json: Vec<serde_json::Value> = items.iter().map(Node::to_json).collect();
            Some(Dump::from_array(json, camel))
        }
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Positions of JSON pointers.

/// Finds the source span of JSON pointers in a JSON text without parsing it into a tree.
/// Array element offsets are remembered, so resolving many pointers costs about one pass.
pub struct JsonLocator<'a> {
    text: &'a [u8],
    arrays: HashMap<String, Vec<usize>>,
    lines: Option<Vec<usize>>,
}

impl<'a> JsonLocator<'a> {
    pub fn new(text: &'a str) -> Self {
        Self {
            text: text.as_bytes(),
            arrays: HashMap::new(),
            lines: None,
        }
    }

    fn ws(&self, mut i: usize) -> usize {
        while i < self.text.len() && self.text[i].is_ascii_whitespace() {
            i += 1;
        }
        i
    }

    /// End (exclusive) of the string starting at `i` (`"`).
    fn string_end(&self, i: usize) -> Option<usize> {
        let mut j = i + 1;
        while j < self.text.len() {
            match self.text[j] {
                b'\\' => j += 2,
                b'"' => return Some(j + 1),
                _ => j += 1,
            }
        }
        None
    }

    /// End (exclusive) of the value starting at `i`.
    fn value_end(&self, i: usize) -> Option<usize> {
        match *self.text.get(i)? {
            b'"' => self.string_end(i),
            b'{' | b'[' => {
                let mut depth = 0usize;
                let mut j = i;
                while j < self.text.len() {
                    match self.text[j] {
                        b'"' => {
                            j = self.string_end(j)?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                return Some(j + 1);
                            }
                        }
                        _ => {}
                    }
                    j += 1;
                }
                None
            }
            _ => {
                let mut j = i;
                while j < self.text.len()
                    && !matches!(self.text[j], b',' | b'}' | b']')
                    && !self.text[j].is_ascii_whitespace()
                {
                    j += 1;
                }
                Some(j)
            }
        }
    }

    /// Start of member `key`'s value in the object starting at `i`.
    fn member(&self, i: usize, key: &str) -> Option<usize> {
        let mut j = self.ws(i + 1);
        while j < self.text.len() && self.text[j] == b'"' {
            let end = self.string_end(j)?;
            let k = &self.text[j + 1..end - 1];
            j = self.ws(end);
            if self.text.get(j) != Some(&b':') {
                return None;
            }
            let v = self.ws(j + 1);
            if k == key.as_bytes() {
                return Some(v);
            }
            j = self.ws(self.value_end(v)?);
            if self.text.get(j) == Some(&b',') {
                j = self.ws(j + 1);
            }
        }
        None
    }

    /// Start of element `n` of the array starting at `i` (whose pointer is `at`).
    fn element(&mut self, at: &str, i: usize, n: usize) -> Option<usize> {
        let known = self.arrays.entry(at.to_string()).or_default();
        if let Some(&o) = known.get(n) {
            return Some(o);
        }
        let mut starts = std::mem::take(known);
        let mut j = match starts.last() {
            Some(&last) => {
                let e = self.ws(self.value_end(last)?);
                if self.text.get(e) != Some(&b',') {
                    self.arrays.insert(at.to_string(), starts);
                    return None;
                }
                self.ws(e + 1)
            }
            None => self.ws(i + 1),
        };
        let mut found = None;
        while j < self.text.len() && self.text[j] != b']' {
            starts.push(j);
            if starts.len() == n + 1 {
                found = Some(j);
                break;
            }
            j = self.ws(self.value_end(j)?);
            if self.text.get(j) == Some(&b',') {
                j = self.ws(j + 1);
            }
        }
        self.arrays.insert(at.to_string(), starts);
        found
    }

    /// The byte span of the value at `pointer`.
    pub fn span(&mut self, pointer: &str) -> Option<(usize, usize)> {
        let mut i = self.ws(0);
        if self.text.get(i..i + 3) == Some(&[0xef, 0xbb, 0xbf]) {
            i = self.ws(i + 3);
        }
        let mut at = String::new();
        for raw in pointer.split('/').skip(1) {
            let token = raw.replace("~1", "/").replace("~0", "~");
            i = match self.text.get(i)? {
                b'{' => self.member(i, &token)?,
                b'[' => {
                    let n: usize = token.parse().ok()?;
                    self.element(&at, i, n)?
                }
                _ => return None,
            };
            at.push('/');
            at.push_str(raw);
        }
        let end = self.value_end(i)?;
        Some((i, end - i))
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&mut self, offset: usize) -> (u32, u32) {
        let text = self.text;
        let lines = self.lines.get_or_insert_with(|| {
            let mut v = vec![0];
            v.extend(
                text.iter()
                    .enumerate()
                    .filter(|(_, b)| **b == b'\n')
                    .map(|(i, _)| i + 1),
            );
            v
        });
        let line = lines.partition_point(|&s| s <= offset);
        let start = lines[line - 1];
        let column = String::from_utf8_lossy(&text[start..offset])
            .chars()
            .count()
            + 1;
        (line as u32, column as u32)
    }
}

/// A position for a pointer into a YAML dump, from its positioned tree.
pub fn yaml_pos(root: &Node, pointer: &str) -> Option<Pos> {
    let mut path = FieldPath::root();
    for raw in pointer.split('/').skip(1) {
        let token = raw.replace("~1", "/").replace("~0", "~");
        path = match token.parse::<usize>() {
            Ok(n) if matches!(root.lookup(&path).0.value, Value::Seq(_)) => path.index(n),
            _ => path.key(token),
        };
    }
    let (node, found) = root.lookup(&path);
    found.then_some(node.pos)
}

// ---------------------------------------------------------------------------------------------
// `--admin URL`: one GET of /config_dump?include_eds from Envoy's admin endpoint.

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

// ---------------------------------------------------------------------------------------------
// Hooks for `Sources`.

impl super::Sources {
    /// Adds a JSON config dump (detected by [`json_is_dump`]).
    pub(crate) fn add_json_dump(&mut self, name: String, text: String) {
        let id = self.files.len();
        match parse_json(&text) {
            Ok(dump) => self.dumps.push(LoadedDump {
                file: id,
                dump,
                yaml: None,
            }),
            Err(e) => self.errors.push(InputError {
                file: name.clone(),
                line: e.line,
                column: e.column,
                message: e.message,
            }),
        }
        self.files.push(super::SourceFile { path: name, text });
    }

    /// Takes the YAML documents that are config dumps out of `docs`.
    pub(crate) fn take_yaml_dumps(
        &mut self,
        file: FileId,
        name: &str,
        docs: Vec<Node>,
        text: &str,
    ) -> Vec<Node> {
        let mut rest = Vec::with_capacity(docs.len());
        for root in docs {
            match from_yaml(&root, text) {
                Some(Ok(dump)) => self.dumps.push(LoadedDump {
                    file,
                    dump,
                    yaml: Some(root),
                }),
                Some(Err(message)) => self.errors.push(InputError {
                    file: name.to_string(),
                    line: root.pos.line,
                    column: root.pos.column,
                    message,
                }),
                None => rest.push(root),
            }
        }
        rest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_dumps_by_content() {
        assert!(json_is_dump("  {\n  \"configs\": []}"));
        assert!(json_is_dump(
            "[{\"name\": \"0.0.0.0_80\", \"address\": {}}]"
        ));
        assert!(!json_is_dump(
            "{\"apiVersion\": \"v1\", \"kind\": \"Service\"}"
        ));
        assert!(!json_is_dump("[{\"kind\": \"Service\"}]"));
        assert!(!json_is_dump("kind: Service\n"));
    }

    #[test]
    fn camel_case_is_detected() {
        assert!(is_camel("{\"socketAddress\": {}}"));
        assert!(!is_camel("{\"socket_address\": {}}"));
    }

    #[test]
    fn locates_pointers_and_lines() {
        let text =
            "{\n \"configs\": [\n  {\"a\": 1},\n  {\"b\": [10, {\"name\": \"x/y\"}]}\n ]\n}\n";
        let mut loc = JsonLocator::new(text);
        let (o, l) = loc.span("/configs/1/b/1/name").expect("found");
        assert_eq!(&text[o..o + l], "\"x/y\"");
        assert_eq!(loc.line_col(o), (4, 23));
        let (o, _) = loc.span("/configs/0/a").expect("found");
        assert_eq!(&text[o..o + 1], "1");
        assert!(loc.span("/configs/2").is_none());
        assert!(loc.span("/configs/1/c").is_none());
        // A later element after a cached earlier one.
        let (o, _) = loc.span("/configs/1").expect("found");
        assert_eq!(&text[o..o + 6], "{\"b\": ");
    }

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
