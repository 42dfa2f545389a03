//! Baselines: the findings of a tree recorded once (`--write-baseline FILE`) and left out of
//! later runs (`--baseline FILE`), so meshlint can gate new problems in a tree that already has
//! some. Entries match by fingerprint, never by line. An entry that matches nothing, for a
//! rule that ran, in a run that read every file the baseline names, is stale and reported as
//! MESH001, as a stale suppression is.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::diagnostic::{Finding, Location, ResourceRef};
use crate::rules::UNUSED_SUPPRESSION;
use crate::source::{self, FieldPath, FileSize, Node};

use super::fingerprint;

/// The baseline format's version; a file of another version is refused.
const VERSION: u64 = 1;

/// One recorded finding. Only `fingerprint` matches; the rest tells a reader what it was and
/// decides whether the entry can be judged stale in a run (its rule ran, its file was read).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub fingerprint: String,
    pub code: String,
    pub resource: String,
    pub file: String,
    pub message: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    version: u64,
    findings: Vec<Entry>,
}

/// A loaded baseline, with its tree so a stale entry points at its line.
#[derive(Clone, Debug, Default)]
pub struct Baseline {
    pub path: String,
    pub entries: Vec<Entry>,
    root: Option<Node>,
}

/// A path as compared between runs: `./k8s/a.yaml` and `k8s/a.yaml` are one file.
fn normal(file: &str) -> &str {
    file.trim_start_matches("./")
}

/// Reads a baseline file written by [`render`].
pub fn load(path: &str, limit: FileSize) -> Result<Baseline, String> {
    let text = source::read_text(Path::new(path), limit, "baseline")
        .map_err(|e| format!("{path}: {}", e.message))?;
    let docs = source::parse_yaml(&text)
        .map_err(|e| format!("{path}:{}:{}: {}", e.line, e.column, e.message))?;
    let Some(root) = docs.into_iter().next() else {
        return Err(format!("{path}: empty baseline file"));
    };
    let file: File = serde_path_to_error::deserialize(root.to_json()).map_err(|e| {
        let pos = root.lookup(&FieldPath::parse(&e.path().to_string())).0.pos;
        format!(
            "{path}:{}:{}: invalid baseline: {}",
            pos.line,
            pos.column,
            e.into_inner()
        )
    })?;
    if file.version != VERSION {
        return Err(format!(
            "{path}: baseline version {} is not supported (expected {VERSION}); write it again with --write-baseline",
            file.version
        ));
    }
    Ok(Baseline {
        path: path.to_string(),
        entries: file.findings,
        root: Some(root),
    })
}

/// The baseline of `findings` as JSON, entries in a stable order (file, code, resource,
/// fingerprint) so a rewritten baseline diffs only where findings changed.
pub fn render(findings: &[Finding]) -> String {
    let mut entries: Vec<Entry> = findings
        .iter()
        .map(|f| Entry {
            fingerprint: f.fingerprint.clone(),
            code: f.code.to_string(),
            resource: f.resource.to_string(),
            file: normal(&f.location.file).to_string(),
            message: f.message.clone(),
        })
        .collect();
    entries.sort_by(|a, b| {
        (&a.file, &a.code, &a.resource, &a.fingerprint).cmp(&(
            &b.file,
            &b.code,
            &b.resource,
            &b.fingerprint,
        ))
    });
    entries.dedup_by(|a, b| a.fingerprint == b.fingerprint);
    let doc = File {
        version: VERSION,
        findings: entries,
    };
    let mut out = serde_json::to_string_pretty(&doc).expect("baseline entries always serialise");
    out.push('\n');
    out
}

/// What is left after the baseline: findings it does not hold, how many it held, and a
/// MESH001 finding for each stale entry.
pub struct Applied {
    pub kept: Vec<Finding>,
    pub matched: usize,
    pub stale: Vec<Finding>,
}

/// Drops the findings `baseline` records. Entries are judged stale only for rules that ran and
/// only when every file of the baseline was read, so checking part of a tree calls nothing
/// stale.
pub fn apply(
    baseline: &Baseline,
    findings: Vec<Finding>,
    files_read: &BTreeSet<&str>,
    enabled: &BTreeSet<&'static str>,
) -> Applied {
    let mut used: BTreeMap<&str, bool> = baseline
        .entries
        .iter()
        .map(|e| (e.fingerprint.as_str(), false))
        .collect();
    let mut matched = 0;
    let kept = findings
        .into_iter()
        .filter(|f| match used.get_mut(f.fingerprint.as_str()) {
            Some(u) => {
                *u = true;
                matched += 1;
                false
            }
            None => true,
        })
        .collect();
    let read: BTreeSet<&str> = files_read.iter().map(|f| normal(f)).collect();
    // A finding may need files besides its own (a Namespace's label, a Service's workload):
    // only a run that read every recorded file still on disk can tell an entry is stale.
    let covered = baseline
        .entries
        .iter()
        .all(|e| read.contains(normal(&e.file)) || !Path::new(&e.file).exists());
    let stale = baseline
        .entries
        .iter()
        .enumerate()
        .filter(|(_, e)| {
            covered && !used[e.fingerprint.as_str()] && enabled.contains(e.code.as_str())
        })
        .map(|(i, e)| baseline.stale(i, e))
        .collect();
    Applied {
        kept,
        matched,
        stale,
    }
}

impl Baseline {
    fn stale(&self, index: usize, e: &Entry) -> Finding {
        let pos = self.root.as_ref().map_or_else(Default::default, |r| {
            r.lookup(&FieldPath::parse("findings").index(index)).0.pos
        });
        let resource = ResourceRef {
            kind: "MeshlintBaseline".into(),
            namespace: String::new(),
            name: self.path.clone(),
        };
        let message = format!(
            "baseline entry for {} on {} in {} matches no finding",
            e.code, e.resource, e.file
        );
        Finding {
            code: UNUSED_SUPPRESSION.code,
            name: UNUSED_SUPPRESSION.name,
            severity: UNUSED_SUPPRESSION.severity,
            fingerprint: fingerprint::of_engine(UNUSED_SUPPRESSION.code, &resource, &e.fingerprint),
            message,
            help: Some(
                "the finding is gone: remove the entry, or write the baseline again with --write-baseline"
                    .into(),
            ),
            resource,
            location: Location {
                file: self.path.clone(),
                line: pos.line,
                column: pos.column,
                end_line: pos.line,
                end_column: pos.column,
                offset: pos.offset,
                len: pos.len,
                pointer: None,
            },
            related: Vec::new(),
            istio_codes: Vec::new(),
            kiali_codes: Vec::new(),
            subkind: Some("baseline"),
            fix: None,
            clusters: Vec::new(),
        }
    }
}
