//! `.meshlint.yaml`: the same settings as the command line, plus severity overrides and
//! ignore entries.
//!
//! ```yaml
//! failure-threshold: warning
//! select: [MESH1, MESH201]          # codes, code prefixes or names
//! extend-select: [IST0136]           # added to the selection (opt-in rules)
//! ignore:
//!   - MESH202                        # a rule, disabled everywhere
//!   - rule: MESH101                  # findings of a rule on matching resources
//!     resource: "Service legacy/*"   # glob over "Kind namespace/name"
//!     reason: ports named by a third-party chart
//! severity:
//!   MESH101: error
//! exclude: ["vendor/**"]
//! namespace: default
//! istio-version: "1.20"
//! mesh:
//!   loopback-dependencies: true      # sidecar maps dependencies onto 127.0.0.1:PORT
//! clusters:                          # check each cluster on its own (`--cluster NAME=PATH`)
//!   east: [clusters/east]
//!   west: [clusters/west]
//! ```

mod schema;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::diagnostic::Severity;
use crate::model::istio::MeshConfig;
use crate::source::{self, FieldPath, Node, Value};

pub const FILE_NAME: &str = ".meshlint.yaml";

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct Config {
    pub failure_threshold: Option<Severity>,
    pub select: Vec<String>,
    pub extend_select: Vec<String>,
    pub ignore: Vec<IgnoreEntry>,
    pub severity: BTreeMap<String, Severity>,
    pub exclude: Vec<String>,
    pub namespace: Option<String>,
    /// Target Istio version, `MAJOR.MINOR`, as a quoted string (`1.20` unquoted is the number 1.2).
    #[serde(deserialize_with = "quoted_version", default)]
    pub istio_version: Option<String>,
    pub mesh: MeshSection,
    /// A baseline file (`--baseline`), relative to the config file's directory.
    pub baseline: Option<String>,
    /// The clusters of a multi-cluster mesh: name → paths only that cluster reads, relative to
    /// the config file's directory (`--cluster NAME=PATH`).
    pub clusters: BTreeMap<String, Vec<String>>,
}

/// Checks a cluster name (`--cluster NAME=PATH`, `clusters:`): a DNS-1123 label, as istio's
/// cluster IDs in multi-cluster secrets usually are, so names print and sort plainly.
pub fn check_cluster_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid cluster name `{name}`: use 1 to 63 lowercase letters, digits and `-`, starting and ending with a letter or digit (e.g. `east`, `cluster-1`)"
        ))
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct MeshSection {
    /// The platform maps each dependency onto the same port on 127.0.0.1 (e.g. Rainbond).
    #[serde(alias = "loopbackDependencies")]
    pub loopback_dependencies: bool,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum IgnoreEntry {
    Rule(String),
    Finding(Suppression),
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Suppression {
    pub rule: String,
    /// Glob over `Kind namespace/name`; absent matches every resource.
    pub resource: Option<String>,
    /// Glob over the file path; absent matches every file.
    pub file: Option<String>,
    pub reason: Option<String>,
}

fn quoted_version<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Ok(Some(s)),
        serde_json::Value::Null => Ok(None),
        other => Err(serde::de::Error::custom(format!(
            "istio-version must be a quoted string such as \"1.20\" (YAML reads {other} as a number)"
        ))),
    }
}

/// A loaded config file, with its source so problems point into it.
#[derive(Clone, Debug, Default)]
pub struct LoadedConfig {
    pub path: Option<String>,
    pub config: Config,
    pub root: Option<Node>,
}

impl LoadedConfig {
    /// The `baseline` file, as a path from the working directory: relative to the config
    /// file's directory, as written.
    pub fn baseline(&self) -> Option<String> {
        let written = self.config.baseline.as_ref()?;
        let dir = self
            .path
            .as_deref()
            .and_then(|p| Path::new(p).parent())
            .unwrap_or(Path::new(""));
        Some(dir.join(written).to_string_lossy().into_owned())
    }

    /// The `clusters` paths, as paths from the working directory: relative to the config
    /// file's directory, as written.
    pub fn clusters(&self) -> BTreeMap<String, Vec<String>> {
        let dir = self
            .path
            .as_deref()
            .and_then(|p| Path::new(p).parent())
            .unwrap_or(Path::new(""));
        self.config
            .clusters
            .iter()
            .map(|(name, paths)| {
                let paths = paths
                    .iter()
                    .map(|p| dir.join(p).to_string_lossy().into_owned())
                    .collect();
                (name.clone(), paths)
            })
            .collect()
    }

    /// Position of a field of the config file, for findings about it.
    pub fn position(&self, path: &FieldPath) -> (u32, u32) {
        self.root.as_ref().map_or((0, 0), |r| {
            let p = r.lookup(path).0.pos;
            (p.line, p.column)
        })
    }
}

/// A config problem: the file, its position and the message.
#[derive(Clone, Debug)]
pub struct ConfigError {
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub message: String,
}

/// Finds `.meshlint.yaml` in `start` or its ancestors, up to the root of the repository
/// (`.git`) or the home directory, whichever comes first: a config planted higher up (`/tmp`,
/// `/`) must not silently apply to a checkout below it.
pub fn discover(start: &Path) -> Option<PathBuf> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    for dir in start.ancestors() {
        let candidate = dir.join(FILE_NAME);
        if candidate.is_file() {
            return Some(candidate);
        }
        if dir.join(".git").exists() || home.as_deref() == Some(dir) {
            return None;
        }
    }
    None
}

pub fn load_file(path: &Path, limit: source::FileSize) -> Result<LoadedConfig, ConfigError> {
    // Shown relative to the working directory, like the manifests, so annotations attach.
    let shown = std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok())
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned();
    let text = source::read_text(path, limit, "config").map_err(|e| ConfigError {
        file: shown.clone(),
        line: e.line,
        column: e.column,
        message: e.message,
    })?;
    parse(&shown, &text)
}

pub fn parse(shown: &str, text: &str) -> Result<LoadedConfig, ConfigError> {
    let err = |line, column, message| ConfigError {
        file: shown.to_string(),
        line,
        column,
        message,
    };
    let docs = source::parse_yaml(text).map_err(|e| err(e.line, e.column, e.message))?;
    if let Some(second) = docs.get(1) {
        return Err(err(
            second.pos.line,
            second.pos.column,
            format!(
                "the config holds {} YAML documents; put every setting in one document",
                docs.len()
            ),
        ));
    }
    let Some(root) = docs.into_iter().next().filter(|r| r.value != Value::Null) else {
        return Ok(LoadedConfig {
            path: Some(shown.to_string()),
            ..LoadedConfig::default()
        });
    };
    if let Err(e) = schema::check(&root) {
        let pos = e.key.unwrap_or_else(|| root.lookup(&e.path).0.pos);
        return Err(err(
            pos.line,
            pos.column,
            format!("invalid config: {}", e.message),
        ));
    }
    let config: Config = serde_path_to_error::deserialize(root.to_json()).map_err(|e| {
        let path = FieldPath::parse(&e.path().to_string());
        let pos = root.lookup(&path).0.pos;
        err(
            pos.line,
            pos.column,
            format!("invalid config: {}", e.into_inner()),
        )
    })?;
    Ok(LoadedConfig {
        path: Some(shown.to_string()),
        config,
        root: Some(root),
    })
}

/// Reads a MeshConfig YAML file (`--mesh-config`).
pub fn load_mesh_config(path: &str, limit: source::FileSize) -> Result<MeshConfig, String> {
    let text = source::read_text(Path::new(path), limit, "mesh config").map_err(|e| {
        if e.line > 0 {
            format!("{path}:{}:{}: {}", e.line, e.column, e.message)
        } else {
            format!("{path}: {}", e.message)
        }
    })?;
    let docs = source::parse_yaml(&text)
        .map_err(|e| format!("{path}:{}:{}: {}", e.line, e.column, e.message))?;
    match docs.first() {
        None => Ok(MeshConfig::default()),
        Some(doc) => serde_path_to_error::deserialize(doc.to_json()).map_err(|e| {
            let pos = doc.lookup(&FieldPath::parse(&e.path().to_string())).0.pos;
            format!(
                "{path}:{}:{}: invalid mesh config: {}",
                pos.line,
                pos.column,
                e.into_inner()
            )
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_setting() {
        let text = "\
failure-threshold: error
select: [MESH1]
ignore:
  - MESH202
  - rule: port-name-missing-protocol
    resource: Service legacy/*
    reason: vendor chart
severity: {MESH101: info}
";
        let c = parse(".meshlint.yaml", text).expect("valid").config;
        assert_eq!(c.failure_threshold, Some(Severity::Error));
        assert_eq!(c.select, vec!["MESH1"]);
        assert!(matches!(&c.ignore[0], IgnoreEntry::Rule(r) if r == "MESH202"));
        assert!(
            matches!(&c.ignore[1], IgnoreEntry::Finding(s) if s.resource.as_deref() == Some("Service legacy/*"))
        );
        assert_eq!(c.severity.get("MESH101"), Some(&Severity::Info));
    }

    #[test]
    fn unknown_keys_are_errors_with_a_position_and_a_suggestion() {
        let e =
            parse("c.yaml", "select: [MESH1]\nfailure_threshold: error\n").expect_err("invalid");
        assert!(
            e.message.contains("`failure_threshold`")
                && e.message.contains("did you mean `failure-threshold`"),
            "{}",
            e.message
        );
        assert_eq!((e.file.as_str(), e.line, e.column), ("c.yaml", 2, 1));
        let e = parse(
            "c.yaml",
            "ignore:\n  - rule: MESH101\n    resourse: Service a/*\n",
        )
        .expect_err("typo");
        assert!(
            e.message.contains("did you mean `resource`"),
            "{}",
            e.message
        );
        assert_eq!(e.line, 3);
    }

    #[test]
    fn wrong_shapes_say_what_was_expected() {
        let msg = |t: &str| parse("c.yaml", t).expect_err("invalid").message;
        assert!(msg("- select\n- ignore\n").contains("must be a mapping of settings"));
        assert!(msg("ignore: [[MESH101]]\n").contains("is a rule (`MESH101`) or a mapping"));
        assert!(msg("ignore:\n  - resource: x\n").contains("needs `rule:`"));
        assert!(msg("select: {MESH1: true}\n").contains("list of strings"));
        assert!(msg("select: [MESH1]\n---\nignore: [ALL]\n").contains("2 YAML documents"));
    }

    #[test]
    fn clusters_are_relative_to_the_config_file_and_named_as_labels() {
        let c = parse(
            "conf/.meshlint.yaml",
            "clusters:\n  east: [east, ../shared]\n  west: [west]\n",
        )
        .expect("valid");
        let clusters = c.clusters();
        assert_eq!(clusters["east"], vec!["conf/east", "conf/../shared"]);
        assert_eq!(clusters["west"], vec!["conf/west"]);
        let e = parse("c.yaml", "clusters:\n  East_1: [a]\n").expect_err("bad name");
        assert!(
            e.message.contains("invalid cluster name `East_1`"),
            "{}",
            e.message
        );
        assert_eq!((e.line, e.column), (2, 3));
        let e = parse("c.yaml", "clusters:\n  east: a\n").expect_err("not a list");
        assert!(e.message.contains("list of paths"), "{}", e.message);
        assert!(check_cluster_name("cluster-1").is_ok());
        for bad in ["", "-a", "a-", "a.b", &"a".repeat(64)] {
            assert!(check_cluster_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn discovery_stops_at_the_repository_root() {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = dir.path().join("repo");
        std::fs::create_dir_all(repo.join(".git")).expect("mkdir");
        std::fs::create_dir_all(repo.join("k8s")).expect("mkdir");
        std::fs::write(dir.path().join(FILE_NAME), "ignore: [ALL]\n").expect("write");
        assert_eq!(discover(&repo.join("k8s")), None);
        std::fs::write(repo.join(FILE_NAME), "select: [MESH1]\n").expect("write");
        assert_eq!(discover(&repo.join("k8s")), Some(repo.join(FILE_NAME)));
    }
}
