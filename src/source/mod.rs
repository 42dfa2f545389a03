//! Input discovery and parsing: paths, directories and stdin into positioned documents.

pub mod comments;
pub mod embedded;
mod kustomize;
pub mod node;
pub mod pointer;
mod progress;
mod read;
mod skip;
pub mod sniff;
mod walk;
pub mod yaml;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;

use rayon::prelude::*;

pub use node::{FieldPath, Node, Pos, Seg, Value};
pub use progress::{Progress, ProgressSink};
pub use read::{FileSize, Unreadable, read_text};
pub use skip::template_note;
pub use walk::{Discovered, Discovery, discover};

/// Index of a file in [`Sources::files`].
pub type FileId = usize;

/// A read input file: the path as the user named it, and its text.
#[derive(Clone, Debug)]
pub struct SourceFile {
    pub path: String,
    pub text: String,
}

/// A problem reading or parsing an input, with its position when known (1-based, 0 = unknown).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct InputError {
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub message: String,
}

/// How much a [`Notice`] matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Something left out on purpose, e.g. a file that is not a Kubernetes object.
    Note,
    /// Something the user may want to fix, e.g. a broken symbolic link in a walked tree.
    Warning,
}

/// A remark about the input that is neither a finding nor an input error: one line on stderr,
/// never a change to the exit code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub level: Level,
    /// Empty for a notice about the whole run.
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub message: String,
}

/// One top-level document of a file.
#[derive(Clone, Debug)]
pub struct Document {
    pub file: FileId,
    pub root: Node,
}

#[derive(Debug, Default)]
pub struct Sources {
    pub files: Vec<SourceFile>,
    pub documents: Vec<Document>,
    pub errors: Vec<InputError>,
    pub notices: Vec<Notice>,
    /// Files whose text is a JSON config dump, left unparsed for `envoy::load`.
    pub dump_files: Vec<FileId>,
    /// For each file a skipped kustomize patch can reach (see [`kustomize::reach`]): the kinds
    /// the patches change (`*` for a patch that names none, such as a JSON 6902 patch).
    /// Objects of these kinds in that file may differ once built.
    pub patched_kinds: BTreeMap<FileId, BTreeSet<String>>,
    /// The skipped patches: the kinds each names and its kustomization's canonical path.
    patches: Vec<(BTreeSet<String>, PathBuf)>,
}

/// The name under which stdin is reported.
pub const STDIN_NAME: &str = "<stdin>";

/// Reads and parses every path. Failures become [`InputError`]s; everything else still loads.
pub fn load(paths: &[String], opts: &Discovery) -> Sources {
    let Discovered {
        files,
        errors,
        notices,
    } = discover(paths, opts);
    let mut sources = Sources {
        errors,
        notices,
        ..Sources::default()
    };
    // Each file's canonical path, found once: kustomizations are looked up from it, and the
    // patches they list matched against it.
    let canonical: Vec<Option<PathBuf>> = files
        .par_iter()
        .map(|f| (f != "-").then(|| std::fs::canonicalize(f).ok()).flatten())
        .collect();
    let patches = kustomize::patch_files(
        canonical.iter().flatten().map(PathBuf::as_path),
        opts.max_file_size,
    );
    opts.progress.stage("reading", files.len());
    // Reading and parsing run in parallel; results are added in discovery order, so output
    // never depends on scheduling.
    let parsed: Vec<_> = files
        .into_par_iter()
        .zip(canonical)
        .map(|(f, c)| {
            let patch_of = c.as_ref().and_then(|c| {
                let k = patches.get(c)?;
                Some((kustomize::display(k, &f, c), k.clone()))
            });
            let read =
                read_text(std::path::Path::new(&f), opts.max_file_size, "file").map(|text| {
                    let parsed = match patch_of {
                        Some((shown, kustomization)) => Parsed::Patch(shown, kustomization),
                        None => parse(&text),
                    };
                    (text, parsed)
                });
            opts.progress.tick();
            (f, c, read)
        })
        .collect();
    let mut canonical_of = HashMap::new();
    for (f, c, read) in parsed {
        // Files found by walking a directory may be any YAML (Helm values, CI configs): what
        // is plainly no Kubernetes object is skipped there without a word.
        let walked = !paths.contains(&f);
        match read {
            Ok((text, parsed)) => {
                // Only patch scopes need them.
                if let Some(c) = c.filter(|_| !patches.is_empty()) {
                    canonical_of.insert(display_name(&f), c);
                }
                sources.add_parsed(f, text, parsed, walked)
            }
            Err(e) => sources.errors.push(InputError {
                file: display_name(&f),
                line: e.line,
                column: e.column,
                message: e.message,
            }),
        }
    }
    sources.scope_patches(opts.max_file_size, &canonical_of);
    sources
}

/// A file's content, parsed: a JSON config dump is decoded by `envoy::load`, a kustomize patch
/// (named by the kustomization listing it) is left out, everything else is YAML.
enum Parsed {
    JsonDump,
    /// A patch: the kustomization as shown, and its canonical path.
    Patch(String, PathBuf),
    /// The documents that parse, and an error for each one that does not.
    Yaml(Vec<Node>, Vec<yaml::ParseError>),
}

fn parse(text: &str) -> Parsed {
    if sniff::json_is_dump(text) {
        Parsed::JsonDump
    } else {
        let (docs, errors) = yaml::parse_documents(text);
        Parsed::Yaml(docs, errors)
    }
}

fn display_name(path: &str) -> String {
    if path == "-" {
        STDIN_NAME.to_string()
    } else {
        path.to_string()
    }
}

impl Sources {
    /// Adds a note on `file`, once per file and message: a file of twenty Helm values
    /// documents gets one line.
    pub fn note(&mut self, file: &str, at: Pos, message: String) {
        // Notes are added file by file, so only the last ones can be this file's.
        if self
            .notices
            .iter()
            .rev()
            .take_while(|n| n.file == file)
            .any(|n| n.message == message)
        {
            return;
        }
        self.notices.push(Notice {
            level: Level::Note,
            file: file.to_string(),
            line: at.line,
            column: at.column,
            message,
        });
    }

    /// Marks the files each skipped patch can reach with the kinds it changes; `canonical_of`
    /// gives each read file's canonical path by its name.
    fn scope_patches(&mut self, limit: FileSize, canonical_of: &HashMap<String, PathBuf>) {
        if self.patches.is_empty() {
            return;
        }
        // The kinds each kustomization's patches change, then what they reach: a set of roots
        // that each file's ancestors are looked up in.
        let mut by_kustomization: BTreeMap<&std::path::Path, BTreeSet<String>> = BTreeMap::new();
        for (kinds, k) in &self.patches {
            by_kustomization
                .entry(k.as_path())
                .or_default()
                .extend(kinds.iter().cloned());
        }
        let scopes: Vec<(BTreeSet<String>, Option<BTreeSet<PathBuf>>)> = by_kustomization
            .into_iter()
            .map(|(k, kinds)| match kustomize::reach(k, limit) {
                kustomize::Reach::Everywhere => (kinds, None),
                kustomize::Reach::Within(roots) => (kinds, Some(roots.into_iter().collect())),
            })
            .collect();
        for (id, file) in self.files.iter().enumerate() {
            let path = canonical_of.get(&file.path);
            for (kinds, roots) in &scopes {
                let reached = match (roots, path) {
                    (None, _) => true,
                    (Some(roots), Some(path)) => path.ancestors().any(|a| roots.contains(a)),
                    (Some(_), None) => false,
                };
                if reached {
                    self.patched_kinds
                        .entry(id)
                        .or_default()
                        .extend(kinds.iter().cloned());
                }
            }
        }
    }

    /// Parses `text` as the file `path` and appends its documents and errors.
    pub fn add_text(&mut self, path: String, text: String) {
        let parsed = parse(&text);
        self.add_parsed(path, text, parsed, false);
    }

    fn add_parsed(&mut self, path: String, text: String, parsed: Parsed, walked: bool) {
        let name = display_name(&path);
        let (docs, errors) = match parsed {
            Parsed::JsonDump => {
                self.dump_files.push(self.files.len());
                self.files.push(SourceFile { path: name, text });
                return;
            }
            Parsed::Patch(kustomization, canonical) => {
                let mut kinds: BTreeSet<String> = parse_yaml(&text)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|d| d.get("kind").and_then(Node::as_str).map(str::to_string))
                    .collect();
                if kinds.is_empty() {
                    kinds.insert("*".into());
                }
                self.patches.push((kinds, canonical));
                self.note(
                    &name,
                    Pos::default(),
                    format!(
                        "skipped: a kustomize patch (listed in {kustomization}), not an object; check the output of `kustomize build` instead"
                    ),
                );
                self.files.push(SourceFile { path: name, text });
                return;
            }
            Parsed::Yaml(docs, errors) => (docs, errors),
        };
        // A YAML error where a template stands skips the whole file, as a template in a
        // field does: the documents beside it are as unrendered.
        if let Some(at) = errors
            .iter()
            .find_map(|e| skip::template_at_error(&text, e.line))
        {
            self.note(&name, at, skip::template_note(&text, at.line));
            self.files.push(SourceFile { path: name, text });
            return;
        }
        for e in &errors {
            self.errors.push(yaml_error(&name, e, &text));
        }
        let id = self.files.len();
        for root in docs {
            match skip::skip(&root, walked) {
                None => self.documents.push(Document { file: id, root }),
                Some(s) if !s.quiet => self.note(&name, s.at, format!("skipped: {}", s.why)),
                Some(_) => {}
            }
        }
        self.files.push(SourceFile { path: name, text });
    }
}

fn yaml_error(file: &str, e: &yaml::ParseError, text: &str) -> InputError {
    let template = text.lines().any(|l| skip::template_start(l).is_some());
    let hint = if template {
        " (this looks like an unrendered Helm template: check the output of `helm template` instead)"
    } else {
        ""
    };
    InputError {
        file: file.to_string(),
        line: e.line,
        column: e.column,
        message: format!("invalid YAML: {}{hint}", e.message),
    }
}

/// Parses a standalone YAML text (a config file or an embedded mesh config).
pub fn parse_yaml(text: &str) -> Result<Vec<Node>, yaml::ParseError> {
    yaml::parse_stream(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_without_resources_are_skipped_quietly_when_walked_and_with_a_note_when_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let values = dir.path().join("values.yaml");
        std::fs::write(&values, "replicaCount: 2\nimage: {tag: v1}\n").expect("write");
        std::fs::write(
            dir.path().join("Chart.yaml"),
            "apiVersion: v2\nname: web\nversion: 0.1.0\n",
        )
        .expect("write");
        std::fs::write(
            dir.path().join("kustomization.yaml"),
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [a.yaml]\n",
        )
        .expect("write");
        let walked = load(
            &[dir.path().to_string_lossy().into_owned()],
            &Discovery::default(),
        );
        assert!(walked.documents.is_empty() && walked.errors.is_empty());
        assert!(walked.notices.is_empty(), "{:?}", walked.notices);
        let named = load(
            &[values.to_string_lossy().into_owned()],
            &Discovery::default(),
        );
        assert!(named.documents.is_empty() && named.errors.is_empty());
        assert_eq!(named.notices.len(), 1, "{:?}", named.notices);
        assert!(named.notices[0].message.contains("no `kind` or `metadata`"));
    }

    #[test]
    fn files_a_kustomization_lists_as_patches_are_skipped_with_a_note() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        std::fs::write(
            root.join("kustomization.yaml"),
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [svc.yaml]\npatches:\n- path: svc-patch.yaml\n",
        )
        .expect("write");
        let svc =
            "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: 80}]}\n";
        std::fs::write(root.join("svc.yaml"), svc).expect("write");
        std::fs::write(root.join("svc-patch.yaml"), svc).expect("write");
        let s = load(
            &[root.to_string_lossy().into_owned()],
            &Discovery::default(),
        );
        assert_eq!(s.documents.len(), 1);
        assert_eq!(s.notices.len(), 1, "{:?}", s.notices);
        assert!(s.notices[0].file.ends_with("svc-patch.yaml"));
        assert!(
            s.notices[0].message.contains("kustomization.yaml"),
            "{:?}",
            s.notices
        );
    }

    #[test]
    fn bad_files_become_errors_and_others_still_load() {
        let dir = tempfile::tempdir().expect("tempdir");
        let good = dir.path().join("good.yaml");
        let bad = dir.path().join("bad.yaml");
        let binary = dir.path().join("bin.yaml");
        std::fs::write(&good, "kind: Service\n").expect("write");
        std::fs::write(&bad, "a: [1,\n").expect("write");
        std::fs::write(&binary, [0x61, 0x3a, 0x20, 0xff, 0xfe]).expect("write");
        let paths: Vec<String> = [&good, &bad, &binary, &dir.path().join("missing.yaml")]
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        let s = load(&paths, &Discovery::default());
        assert_eq!(s.documents.len(), 1);
        assert_eq!(s.errors.len(), 3, "{:?}", s.errors);
        assert!(s.errors.iter().any(|e| e.message.contains("UTF-8")));
        assert!(s.errors.iter().any(|e| e.message.contains("cannot read")));
        let yaml_err = s
            .errors
            .iter()
            .find(|e| e.message.starts_with("invalid YAML"))
            .expect("yaml error");
        assert!(yaml_err.line >= 1);
    }
}
