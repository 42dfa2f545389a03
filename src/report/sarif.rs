//! `--format sarif`: SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.

use std::path::{Path, PathBuf};

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde_json::{Value, json};
use url::Url;

use crate::diagnostic::Outcome;
use crate::diagnostic::{Location, Severity};
use crate::rules::RULES;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const INFO_URI: &str = "https://github.com/meshlint/meshlint";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// The repository root: the nearest ancestor of the working directory holding `.git`, else the
/// working directory itself.
fn source_root() -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    Some(
        cwd.ancestors()
            .find(|d| d.join(".git").exists())
            .unwrap_or(&cwd)
            .to_path_buf(),
    )
}

/// What a path segment of a URI reference may not hold raw (RFC 3986): controls, space, double
/// quote, `#`, `%`, `:`, `<`, `>`, `?`, brackets, backslash, caret, backtick, braces and `|`;
/// non-ASCII is always encoded.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    // A `:` in the first segment would read as a scheme.
    .add(b':')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// A relative URI reference for a relative path: each segment percent-encoded.
fn relative_uri(path: &Path) -> String {
    path.components()
        .map(|c| utf8_percent_encode(&c.as_os_str().to_string_lossy(), SEGMENT).to_string())
        .collect::<Vec<_>>()
        .join("/")
}

/// A URI for `file`: relative to the repository root (stable across runs and machines) when
/// the file is inside it, otherwise an absolute `file://` URI; a dump fetched with `--admin`
/// keeps its `http://` URL.
fn uri(file: &str, root: Option<&Path>) -> (String, bool) {
    if file == crate::source::STDIN_NAME {
        return ("stdin".into(), false);
    }
    if let Ok(url) = Url::parse(file)
        && url.scheme() == "http"
    {
        return (url.to_string(), false);
    }
    let path = Path::new(file);
    let absolute = std::env::current_dir()
        .map(|cwd| cwd.join(path))
        .ok()
        .and_then(|p| p.canonicalize().ok());
    if let (Some(abs), Some(root)) = (&absolute, root)
        && let Ok(rel) = abs.strip_prefix(root)
    {
        return (relative_uri(rel), true);
    }
    // A path that cannot be resolved (`/dev/fd/63` of a process substitution) is still absolute.
    let absolute = absolute.or_else(|| path.is_absolute().then(|| path.to_path_buf()));
    match absolute.as_deref().map(Url::from_file_path) {
        Some(Ok(url)) => (url.to_string(), false),
        _ => (relative_uri(path.strip_prefix("./").unwrap_or(path)), true),
    }
}

fn physical(l: &Location, root: Option<&Path>) -> Value {
    let mut region = json!({"startLine": l.line.max(1), "startColumn": l.column.max(1)});
    if l.end_line > 0 {
        region["endLine"] = json!(l.end_line);
        region["endColumn"] = json!(l.end_column.max(1));
    }
    let (uri, relative) = uri(&l.file, root);
    let mut artifact = json!({ "uri": uri });
    if relative {
        artifact["uriBaseId"] = json!("%SRCROOT%");
    }
    json!({
        "physicalLocation": {
            "artifactLocation": artifact,
            "region": region,
        }
    })
}

/// The rule doc without its front matter and test markers, as SARIF help markdown.
fn doc_body(doc: &str) -> String {
    let body = doc
        .strip_prefix("---")
        .and_then(|rest| rest.split_once("\n---"))
        .map_or(doc, |(_, body)| body.trim_start_matches('\n'));
    body.lines()
        .map(|l| {
            let l = l.split("  # expect: ").next().unwrap_or(l).trim_end();
            match l {
                "```yaml bad" | "```yaml good" | "```json bad" | "```json good" => {
                    l.split(' ').next().unwrap_or(l)
                }
                _ => l,
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn render(outcome: &Outcome) -> String {
    let root = source_root();
    let root = root.as_deref();
    let rules: Vec<Value> = RULES
        .iter()
        .map(|r| {
            let m = r.meta();
            let body = doc_body(m.doc);
            json!({
                "id": m.code,
                "name": m.name,
                "shortDescription": {"text": m.summary},
                "fullDescription": {"text": m.summary},
                "help": {"text": body, "markdown": body},
                "helpUri": format!("{INFO_URI}/blob/main/rules/{}-{}.md", m.code, m.name),
                "defaultConfiguration": {"level": level(m.severity)},
                "properties": {"tags": ["service-mesh"], "istio_codes": m.istio_codes, "kiali_codes": m.kiali_codes},
            })
        })
        .collect();
    let index_of = |code: &str| RULES.iter().position(|r| r.meta().code == code);
    let results: Vec<Value> = outcome
        .findings
        .iter()
        .map(|f| {
            let mut text = format!("{}: {}", f.resource, f.message);
            if let Some(h) = &f.help {
                text.push_str("\nhelp: ");
                text.push_str(h);
            }
            let related: Vec<Value> = f
                .related
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let mut loc = physical(&r.location, root);
                    loc["id"] = json!(i);
                    loc["message"] = json!({"text": r.message});
                    loc
                })
                .collect();
            let mut result = json!({
                "ruleId": f.code,
                "level": level(f.severity),
                "message": {"text": text},
                "locations": [physical(&f.location, root)],
                "partialFingerprints": {"meshlint/v1": f.fingerprint},
            });
            if let Some(i) = index_of(f.code) {
                result["ruleIndex"] = json!(i);
            }
            if !related.is_empty() {
                result["relatedLocations"] = json!(related);
            }
            if let Some(k) = f.subkind {
                result["properties"] = json!({ "subkind": k });
            }
            result
        })
        .collect();
    let notifications: Vec<Value> = outcome
        .errors
        .iter()
        .map(|e| {
            json!({
                "level": "error",
                "message": {"text": e.message},
                "locations": [physical(&Location {
                    file: e.file.clone(),
                    line: e.line,
                    column: e.column,
                    ..Location::default()
                }, root)],
            })
        })
        .collect();
    let doc = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "meshlint",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": INFO_URI,
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "invocations": [{
                "executionSuccessful": outcome.errors.is_empty(),
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
        }],
    });
    let mut out = serde_json::to_string_pretty(&doc).expect("JSON values always serialise");
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_valid_references() {
        assert_eq!(
            relative_uri(Path::new("k8s/über a.yaml")),
            "k8s/%C3%BCber%20a.yaml"
        );
        assert_eq!(
            relative_uri(Path::new("a#b?c%d.yaml")),
            "a%23b%3Fc%25d.yaml"
        );
        assert_eq!(relative_uri(Path::new("new\nline.yaml")), "new%0Aline.yaml");
        assert_eq!(relative_uri(Path::new("a:b.yaml")), "a%3Ab.yaml");
        assert_eq!(
            uri("/dev/fd/999999", None),
            ("file:///dev/fd/999999".to_string(), false)
        );
        assert_eq!(
            uri("http://127.0.0.1:15000", None),
            ("http://127.0.0.1:15000/".to_string(), false)
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("x y#1.yaml");
        std::fs::write(&file, "").expect("write");
        let (u, relative) = uri(
            &file.to_string_lossy(),
            Some(Path::new("/nonexistent-root")),
        );
        assert!(
            !relative && u.starts_with("file:///") && u.ends_with("/x%20y%231.yaml"),
            "{u}"
        );
    }
}
