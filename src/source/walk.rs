//! Which files the paths name: files as given, directories walked, `-` for stdin.

use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};

use super::{FileSize, InputError, Level, Notice};

/// File name extensions of the files a walk keeps.
const EXTENSIONS: &[&str] = &["yaml", "yml", "json"];

/// How inputs are found and read.
#[derive(Clone, Debug, Default)]
pub struct Discovery {
    pub exclude: Vec<String>,
    /// Walk without ignore files (`.gitignore`, `.ignore`, git's excludes).
    pub no_ignore: bool,
    /// Inputs larger than this are input errors, not read.
    pub max_file_size: FileSize,
    /// Where reading reports its progress.
    pub progress: super::Progress,
}

impl Discovery {
    fn exclude_set(&self) -> Result<GlobSet, InputError> {
        let mut b = GlobSetBuilder::new();
        for pat in &self.exclude {
            let glob = Glob::new(pat).map_err(|e| InputError {
                file: "--exclude".into(),
                line: 0,
                column: 0,
                message: format!("invalid glob `{pat}`: {e}"),
            })?;
            b.add(glob);
        }
        b.build().map_err(|e| InputError {
            file: "--exclude".into(),
            line: 0,
            column: 0,
            message: e.to_string(),
        })
    }
}

/// The files to read, in order, and what went wrong or was passed over while listing them.
#[derive(Debug, Default)]
pub struct Discovered {
    pub files: Vec<String>,
    pub errors: Vec<InputError>,
    pub notices: Vec<Notice>,
}

/// Lists the files named by `paths`: files as given, directories walked recursively (honouring
/// ignore files as ripgrep does unless `no_ignore`, and the exclude globs, keeping YAML/JSON
/// files), `-` for stdin. Sorted per directory so output order never depends on the file system.
pub fn discover(paths: &[String], opts: &Discovery) -> Discovered {
    let mut out = Discovered::default();
    let excludes = match opts.exclude_set() {
        Ok(set) => set,
        Err(e) => {
            out.errors.push(e);
            GlobSet::empty()
        }
    };
    for p in paths {
        if p == "-" {
            out.files.push(p.clone());
            continue;
        }
        let path = Path::new(p);
        if !path.is_dir() {
            if !excluded(&excludes, path) {
                out.files.push(p.clone());
            }
            continue;
        }
        let mut found: Vec<PathBuf> = Vec::new();
        // Symlinked manifests are followed; the walker detects loops. `.gitignore`, git's
        // excludes and `core.excludesFile` apply only inside a git work tree, and a
        // `.gitignore` above the work tree's root never does: outside a repository they
        // describe nothing meshlint is asked to check.
        let use_ignore = !opts.no_ignore;
        let walker = ignore::WalkBuilder::new(path)
            .require_git(true)
            .parents(use_ignore)
            .ignore(use_ignore)
            .git_ignore(use_ignore)
            .git_global(use_ignore)
            .git_exclude(use_ignore)
            .follow_links(true)
            .sort_by_file_path(|a, b| a.cmp(b))
            .build();
        for entry in walker {
            match entry {
                Ok(e) => {
                    let fp = e.path();
                    // Named pipes, sockets and devices are no manifests, and reading one could
                    // block or never end.
                    let is_file = e.file_type().is_some_and(|t| t.is_file());
                    if is_file && has_manifest_extension(fp) && !excluded(&excludes, fp) {
                        found.push(fp.to_path_buf());
                    }
                }
                Err(e) => {
                    // The walker fails on a link it cannot follow before any filter sees the
                    // entry, so excludes are applied to the failing path here.
                    let at = error_path(&e);
                    if at.is_some_and(|a| excluded(&excludes, a)) {
                        continue;
                    }
                    if let Some(link) = at.filter(|a| dangling(a)) {
                        if could_hold_manifests(link) {
                            out.notices.push(dangling_notice(link));
                        }
                        continue;
                    }
                    out.errors.push(InputError {
                        file: at.map_or_else(|| p.clone(), |a| a.to_string_lossy().into_owned()),
                        line: 0,
                        column: 0,
                        message: e.to_string(),
                    });
                }
            }
        }
        found.sort();
        out.files
            .extend(found.into_iter().map(|f| f.to_string_lossy().into_owned()));
    }
    // A file named twice (directly and through its directory) is read once.
    let mut seen = std::collections::HashSet::new();
    out.files.retain(|f| {
        f == "-" || seen.insert(std::fs::canonicalize(f).unwrap_or_else(|_| PathBuf::from(f)))
    });
    out
}

fn excluded(set: &GlobSet, path: &Path) -> bool {
    if set.is_empty() {
        return false;
    }
    let stripped = path.strip_prefix("./").unwrap_or(path);
    set.is_match(stripped) || path.file_name().is_some_and(|n| set.is_match(n))
}

fn has_manifest_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|x| x.to_str())
        .is_some_and(|x| EXTENSIONS.contains(&x.to_ascii_lowercase().as_str()))
}

/// The path a walk error is about, if it names one.
fn error_path(e: &ignore::Error) -> Option<&Path> {
    match e {
        ignore::Error::WithPath { path, .. } => Some(path),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        ignore::Error::Loop { child, .. } => Some(child),
        _ => None,
    }
}

/// A symbolic link whose target does not exist.
fn dangling(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
        && std::fs::metadata(path).is_err()
}

/// Whether a dangling link may have led to manifests: its name or its target is a YAML/JSON
/// file or has no extension (a directory). A broken `README.md` link is none of meshlint's
/// business.
fn could_hold_manifests(link: &Path) -> bool {
    let maybe = |p: &Path| p.extension().is_none() || has_manifest_extension(p);
    maybe(link) || std::fs::read_link(link).is_ok_and(|t| maybe(&t))
}

fn dangling_notice(link: &Path) -> Notice {
    let target = std::fs::read_link(link)
        .map(|t| format!(" to {}", t.to_string_lossy()))
        .unwrap_or_default();
    Notice {
        level: Level::Warning,
        file: link.to_string_lossy().into_owned(),
        line: 0,
        column: 0,
        message: format!(
            "skipped: broken symbolic link{target} (the target does not exist; `--exclude` it to silence this)"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_directories_sorted_honouring_gitignore_and_excludes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        std::fs::create_dir_all(root.join("b")).expect("mkdir");
        std::fs::create_dir_all(root.join(".git")).expect("mkdir");
        std::fs::write(root.join(".gitignore"), "ignored.yaml\n").expect("write");
        for f in [
            "b/z.yaml",
            "a.yml",
            "c.json",
            "ignored.yaml",
            "notes.txt",
            "skip.yaml",
        ] {
            std::fs::write(root.join(f), "a: 1\n").expect("write");
        }
        let Discovered { files, errors, .. } = discover(
            &[root.to_string_lossy().into_owned()],
            &Discovery {
                exclude: vec!["skip.yaml".into()],
                ..Discovery::default()
            },
        );
        assert!(errors.is_empty(), "{errors:?}");
        let names: Vec<_> = files
            .iter()
            .map(|f| {
                Path::new(f)
                    .strip_prefix(root)
                    .expect("under root")
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(names, vec!["a.yml", "b/z.yaml", "c.json"]);
    }

    #[cfg(unix)]
    #[test]
    fn dangling_links_are_warnings_and_excludes_apply_before_following_links() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        std::fs::create_dir_all(root.join("config")).expect("mkdir");
        std::fs::create_dir_all(root.join("vendor")).expect("mkdir");
        std::fs::write(root.join("config/svc.yaml"), "a: 1\n").expect("write");
        let link = |target: &str, at: &str| {
            std::os::unix::fs::symlink(target, root.join(at)).expect("symlink")
        };
        link("../vendor/caching/image.yaml", "config/300-image.yaml");
        link("../gone", "vendor/knative.dev");
        link("../docs/README.md", "config/README.md");
        let walk = |exclude: &[&str]| {
            discover(
                &[root.to_string_lossy().into_owned()],
                &Discovery {
                    exclude: exclude.iter().map(|e| e.to_string()).collect(),
                    ..Discovery::default()
                },
            )
        };
        let d = walk(&[]);
        assert!(d.errors.is_empty(), "{:?}", d.errors);
        assert_eq!(d.files.len(), 1);
        let warned: Vec<&str> = d
            .notices
            .iter()
            .map(|n| {
                n.file
                    .strip_prefix(&*root.to_string_lossy())
                    .expect("under root")
            })
            .collect();
        assert_eq!(warned, ["/config/300-image.yaml", "/vendor/knative.dev"]);
        assert!(d.notices.iter().all(|n| n.level == Level::Warning));
        assert!(
            d.notices[0]
                .message
                .contains("../vendor/caching/image.yaml")
        );

        let d = walk(&["**/vendor/**", "300-image.yaml"]);
        assert!(d.errors.is_empty() && d.notices.is_empty(), "{d:?}");
    }
}
