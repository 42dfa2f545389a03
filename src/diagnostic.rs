//! Findings as rules report them and as emitters print them.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::model::ResId;
use crate::model::listener::ScopeRows;
use crate::source::{FieldPath, InputError, Sources};

#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    JsonSchema,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    #[value(alias = "warn")]
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "info" => Ok(Severity::Info),
            "warning" | "warn" => Ok(Severity::Warning),
            "error" => Ok(Severity::Error),
            _ => Err(format!(
                "unknown severity `{s}` (expected error, warning or info)"
            )),
        }
    }
}

/// What a rule is, as data: shown by `meshlint rules`, SARIF and the docs.
#[derive(Debug)]
pub struct RuleMeta {
    /// Stable code, never reused.
    pub code: &'static str,
    /// Kebab-case name, accepted wherever a code is.
    pub name: &'static str,
    pub summary: &'static str,
    pub severity: Severity,
    /// The closest `istioctl analyze` codes.
    pub istio_codes: &'static [&'static str],
    /// The Kiali validation codes (`KIAnnnn`) this rule covers. A finding carries the rule's
    /// code when it has one; a rule with several sets them per finding (`Reported::kiali`).
    pub kiali_codes: &'static [&'static str],
    /// Off unless selected by code, name, IST code, prefix, `ALL` or `--extend-select` (the
    /// rules istioctl also leaves out of its default analyzers).
    pub opt_in: bool,
    /// The rule's documentation (`rules/<code>-<name>.md`).
    pub doc: &'static str,
}

/// Where a finding points; the engine turns it into a [`Location`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    /// A field of a manifest resource (a missing field resolves to its nearest parent).
    Field { resource: ResId, path: FieldPath },
    /// An object of config dump `dump` (an index into the run's dumps), by JSON pointer;
    /// `prefer` names members whose position is shown instead of the object's, first found first.
    Dump {
        dump: usize,
        pointer: String,
        prefer: &'static [&'static str],
    },
    /// A field of a resource in peer cluster `peer` (an index into the run's peers, see
    /// `rules::Context::peers`), resolved with that cluster's files.
    PeerField {
        peer: usize,
        resource: ResId,
        path: FieldPath,
    },
}

#[derive(Clone, Debug)]
pub struct RelatedTarget {
    pub target: Target,
    pub message: String,
}

/// A fix as a rule states it, on the finding's resource; the engine turns it into text edits
/// on the file as written (never by writing the YAML out again), so comments, quoting and
/// layout stay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FixAction {
    /// Adds `key: value` to the mapping holding the existing key at `beside`, as its own line
    /// above that key in block style, or as an entry before it in flow style or JSON.
    AddKey {
        beside: FieldPath,
        key: &'static str,
        value: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fix {
    /// What the fix does, e.g. "add `appProtocol: http`".
    pub title: String,
    pub action: FixAction,
}

/// Replace `len` bytes at byte `offset` of a file with `text`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TextEdit {
    /// Byte offset in the file where the edit applies.
    pub offset: usize,
    /// Bytes replaced (0 for an insertion).
    pub len: usize,
    pub text: String,
}

/// A fix ready to apply: edits to the finding's file (`location.file`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TextFix {
    pub title: String,
    pub edits: Vec<TextEdit>,
}

/// What a rule reports; the engine stamps code and severity and resolves positions.
#[derive(Clone, Debug)]
pub struct RawFinding {
    pub rule: &'static RuleMeta,
    pub severity: Severity,
    pub target: Target,
    /// For a dump finding, the object it is about: `(kind, name)`, e.g. a Listener.
    pub dump_object: Option<(&'static str, String)>,
    /// Which check of the rule this is, for rules with several (MESH503 `subset`, `gateway`…).
    pub subkind: Option<&'static str>,
    pub message: String,
    pub help: Option<String>,
    pub related: Vec<RelatedTarget>,
    /// The istioctl codes this particular finding corresponds to.
    pub istio_codes: &'static [&'static str],
    /// The Kiali codes this particular finding corresponds to.
    pub kiali_codes: &'static [&'static str],
    /// A safe, local fix `--fix` may apply.
    pub fix: Option<Fix>,
}

/// A resolved source position: 1-based line/column (characters) and end, plus the byte span.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Location {
    /// The path as given on the command line or found under a directory given there, relative
    /// to the working directory; `<stdin>` for `-`; the URL of a dump read with `--admin`.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
    /// The line the offending text ends on.
    pub end_line: u32,
    /// The column just past the offending text.
    pub end_column: u32,
    #[serde(skip)]
    pub offset: usize,
    #[serde(skip)]
    pub len: usize,
    /// For a finding in a config dump: the JSON pointer of the listener or cluster.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
}

/// The object a finding is about.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceRef {
    /// `Service`, `VirtualService`…; `Listener` or `Cluster` in a config dump; `MeshlintConfig`
    /// for an entry of the config file.
    pub kind: String,
    /// Empty for cluster-scoped resources.
    pub namespace: String,
    pub name: String,
}

impl fmt::Display for ResourceRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{} {}", self.kind, self.name)
        } else {
            write!(f, "{} {}/{}", self.kind, self.namespace, self.name)
        }
    }
}

/// Another place that explains a finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Related {
    pub message: String,
    pub location: Location,
}

/// A finding ready to print.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Finding {
    /// The rule's stable code, `MESH201`.
    pub code: &'static str,
    /// The rule's name, `container-port-collision`.
    pub name: &'static str,
    /// After config overrides.
    pub severity: Severity,
    /// What is wrong, without the resource.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
    pub resource: ResourceRef,
    pub location: Location,
    pub related: Vec<Related>,
    /// The `istioctl analyze` codes this finding corresponds to.
    pub istio_codes: Vec<&'static str>,
    /// The Kiali validation codes this finding corresponds to.
    pub kiali_codes: Vec<&'static str>,
    /// A stable name for which check of the rule fired; tools match on it, not on the message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subkind: Option<&'static str>,
    /// Identifies the finding across runs whatever its line or the input order: a hash of the
    /// code, the resource, the field path and the field's value (see `engine::fingerprint`).
    pub fingerprint: String,
    /// The edits `--fix` applies for this finding, when it has a safe fix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<TextFix>,
    /// The clusters whose check reported this finding, by name (`--cluster`); empty for a run
    /// that is not multi-cluster.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clusters: Vec<String>,
}

impl Finding {
    /// Output order: file, line, column, code, message.
    pub fn sort_key(&self) -> impl Ord + '_ {
        (
            &self.location.file,
            self.location.line,
            self.location.column,
            self.code,
            &self.message,
        )
    }
}

/// The result of a run.
#[derive(Debug, Default)]
pub struct Outcome {
    pub sources: Sources,
    pub findings: Vec<Finding>,
    pub errors: Vec<InputError>,
    pub resources: usize,
    /// The resource graph, with each resource's findings, for `meshlint graph`.
    pub graph: GraphView,
    /// Every proxy scope's listeners, when the settings ask for them.
    pub listeners: Vec<ScopeRows>,
    /// The config file in effect, as shown to the user.
    pub config: Option<String>,
    /// Findings left out because the baseline records them.
    pub baselined: usize,
}

/// A resource in the graph and what the rules found on it.
#[derive(Clone, Debug)]
pub struct GraphNode {
    pub resource: ResourceRef,
    pub worst: Option<Severity>,
    pub codes: Vec<&'static str>,
}

/// Nodes, and edges as `(from, to, kind)` indexes into the nodes.
#[derive(Clone, Debug, Default)]
pub struct GraphView {
    pub nodes: Vec<GraphNode>,
    pub edges: Vec<(usize, usize, &'static str)>,
}
