//! File paths as SARIF artifact locations. Every format names a file by the path given on the
//! command line (or found under a directory given there), relative to the working directory;
//! SARIF writes that path as a URI relative to `%SRCROOT%`, which the run declares as the
//! working directory, so the same file has the same name in every format.

use std::path::{Component, Path, PathBuf};

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use url::Url;

use super::types::ArtifactLocation;

/// The base every relative artifact URI is relative to: the working directory.
pub const SRCROOT: &str = "%SRCROOT%";

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

/// A relative URI reference for a relative path: each segment percent-encoded, `.` dropped.
fn relative_uri(path: &Path) -> String {
    path.components()
        .filter(|c| !matches!(c, Component::CurDir))
        .map(|c| utf8_percent_encode(&c.as_os_str().to_string_lossy(), SEGMENT).to_string())
        .collect::<Vec<_>>()
        .join("/")
}

/// `%SRCROOT%` as an absolute directory URI (with the trailing slash RFC 3986 resolution
/// needs), when the working directory can be named.
pub fn srcroot() -> Option<ArtifactLocation> {
    let cwd = std::env::current_dir().ok()?;
    let url = Url::from_directory_path(cwd).ok()?;
    Some(ArtifactLocation {
        uri: url.to_string(),
        uri_base_id: None,
    })
}

/// The artifact location of `file` as the other formats print it: a relative path below the
/// working directory is a URI relative to `%SRCROOT%`; an absolute path, or one that climbs out
/// with `..`, an absolute `file://` URI; a dump fetched with `--admin` keeps its `http://` URL.
pub fn artifact(file: &str) -> ArtifactLocation {
    let absolute = |uri: String| ArtifactLocation {
        uri,
        uri_base_id: None,
    };
    if file == crate::source::STDIN_NAME {
        return absolute("stdin".into());
    }
    if let Ok(url) = Url::parse(file)
        && url.scheme() == "http"
    {
        return absolute(url.to_string());
    }
    let path = Path::new(file);
    let climbs = path.components().any(|c| c == Component::ParentDir);
    if !path.is_absolute() && !climbs {
        return ArtifactLocation {
            uri: relative_uri(path),
            uri_base_id: Some(SRCROOT),
        };
    }
    // `..` is resolved against the file system where it can be; a path that cannot be
    // (`/dev/fd/63` of a process substitution) is still absolute.
    let full = std::env::current_dir()
        .map(|cwd| cwd.join(path))
        .ok()
        .map(|p| p.canonicalize().unwrap_or_else(|_| lexical(&p)))
        .unwrap_or_else(|| path.to_path_buf());
    match Url::from_file_path(&full) {
        Ok(url) => absolute(url.to_string()),
        Err(()) => ArtifactLocation {
            uri: relative_uri(path),
            uri_base_id: Some(SRCROOT),
        },
    }
}

/// `path` with `.` and `..` resolved by name, for a file that does not exist (any more).
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(a: ArtifactLocation) -> (String, Option<&'static str>) {
        (a.uri, a.uri_base_id)
    }

    #[test]
    fn relative_paths_are_encoded_references_to_srcroot() {
        assert_eq!(
            pair(artifact("k8s/über a.yaml")),
            ("k8s/%C3%BCber%20a.yaml".into(), Some(SRCROOT))
        );
        assert_eq!(
            pair(artifact("./a#b?c%d.yaml")),
            ("a%23b%3Fc%25d.yaml".into(), Some(SRCROOT))
        );
        assert_eq!(
            pair(artifact("new\nline.yaml")),
            ("new%0Aline.yaml".into(), Some(SRCROOT))
        );
        assert_eq!(
            pair(artifact("a:b.yaml")),
            ("a%3Ab.yaml".into(), Some(SRCROOT))
        );
    }

    #[test]
    fn absolute_paths_urls_and_stdin_stand_alone() {
        assert_eq!(
            pair(artifact("/dev/fd/999999")),
            ("file:///dev/fd/999999".into(), None)
        );
        assert_eq!(
            pair(artifact("http://127.0.0.1:15000")),
            ("http://127.0.0.1:15000/".into(), None)
        );
        assert_eq!(pair(artifact("<stdin>")), ("stdin".into(), None));
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("x y#1.yaml");
        std::fs::write(&file, "").expect("write");
        let (u, base) = pair(artifact(&file.to_string_lossy()));
        assert!(
            base.is_none() && u.starts_with("file:///") && u.ends_with("/x%20y%231.yaml"),
            "{u}"
        );
        let (u, base) = pair(artifact("../outside.yaml"));
        assert!(base.is_none() && u.starts_with("file:///") && u.ends_with("/outside.yaml"));
        assert!(!u.contains(".."), "{u}");
    }

    #[test]
    fn srcroot_is_the_working_directory_as_a_directory_uri() {
        let root = srcroot().expect("cwd");
        let cwd = std::env::current_dir().expect("cwd");
        assert_eq!(
            Url::parse(&root.uri)
                .expect("URI")
                .to_file_path()
                .expect("file URI"),
            cwd
        );
        assert!(root.uri.ends_with('/'));
    }
}
