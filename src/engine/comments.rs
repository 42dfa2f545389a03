//! `# meshlint: ignore[CODE,name]` comments, attached to what they cover:
//!
//! - in a resource's `metadata` (on the `metadata:` line or any line inside it), or alone on a
//!   line at the top of a document (before its first key, after its `---`): every finding of
//!   the listed rules on that resource;
//! - after a value on any other line: the findings of the listed rules located on that line.
//!
//! A comment alone on a line elsewhere covers nothing and is reported as MESH001, as is one
//! that covers no finding or names no rule.

use std::collections::{BTreeMap, BTreeSet};

use crate::diagnostic::{Finding, Location, RawFinding, ResourceRef};
use crate::model::{ResId, Store};
use crate::rules::{self, RULES};
use crate::source::comments::{IgnoreComment, ignore_comments};
use crate::source::{FileId, Node, Sources, Value};

use super::locate::resource_ref;
use super::suppress::{Origin, unused_finding};

/// What a comment covers.
#[derive(Debug, PartialEq, Eq)]
enum Scope {
    Resource(ResId),
    /// A line of a file, by the file's path as printed.
    Line(String, u32),
}

pub(super) struct CommentRule {
    scope: Scope,
    codes: BTreeSet<&'static str>,
    /// `None` when the comment cannot be judged unused (`*`, or a rule that did not run).
    origin: Option<Origin>,
    used: bool,
}

/// The start byte of each line of `text`.
fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect()
}

/// 1-based line of byte `offset`.
fn line_of(starts: &[usize], offset: usize) -> u32 {
    starts.partition_point(|&s| s <= offset) as u32
}

/// The byte just past the last scalar under `node` (a container's own span is not reliable).
fn end_of(node: &Node) -> usize {
    let own = node.pos.offset + node.pos.len;
    match &node.value {
        Value::Seq(items) => items.iter().map(end_of).fold(own, usize::max),
        Value::Map(entries) => entries
            .iter()
            .map(|(k, v)| end_of(k).max(end_of(v)))
            .fold(own, usize::max),
        _ => own,
    }
}

/// The resource a comment at `c` covers whole, if any: the one whose metadata holds the line,
/// or the document it heads.
fn resource_of(
    c: &IgnoreComment,
    resources: &[ResId],
    store: &Store,
    text: &str,
    starts: &[usize],
) -> Option<ResId> {
    let line = c.pos.line;
    for &id in resources {
        let node = &store.resources[id].node;
        let Value::Map(entries) = &node.value else {
            continue;
        };
        let Some(i) = entries
            .iter()
            .position(|(k, _)| k.as_str() == Some("metadata"))
        else {
            continue;
        };
        // From the `metadata:` line to the line before the next key (comments closing the
        // block included), or to metadata's last line when it is the last key.
        let (key, value) = &entries[i];
        let end = match entries.get(i + 1) {
            Some((next, _)) if next.pos.line > key.pos.line => next.pos.line - 1,
            _ => line_of(starts, end_of(value).saturating_sub(1)),
        };
        if key.pos.line <= line && line <= end.max(key.pos.line) {
            return Some(id);
        }
    }
    if !c.own_line {
        return None;
    }
    // The first document starting below the comment, with no `---` between them.
    let next = resources
        .iter()
        .filter(|&&id| store.resources[id].node.pos.line > line)
        .min_by_key(|&&id| store.resources[id].node.pos.offset)?;
    let root = &store.resources[*next].node.pos;
    let between = text.get(c.pos.offset..root.offset)?;
    let separated = between.lines().skip(1).any(|l| l.starts_with("---"));
    (!separated).then_some(*next)
}

/// Every ignore comment in the files that hold resources. Comments that name no rule or
/// attach to nothing are reported into `unused` right away.
pub(super) fn collect(
    sources: &Sources,
    store: &Store,
    enabled: &BTreeSet<&'static str>,
    unused: &mut Vec<Finding>,
) -> Vec<CommentRule> {
    let mut by_file: BTreeMap<FileId, Vec<ResId>> = BTreeMap::new();
    for (id, r) in store.resources.iter().enumerate() {
        by_file.entry(r.file).or_default().push(id);
    }
    let mut out = Vec::new();
    for (file, resources) in by_file {
        let source = &sources.files[file];
        let comments = ignore_comments(&source.text);
        if comments.is_empty() {
            continue;
        }
        let starts = line_starts(&source.text);
        for c in comments {
            let covered = resource_of(&c, &resources, store, &source.text, &starts);
            let written = format!("`{}`", &source.text[c.pos.offset..c.pos.offset + c.pos.len]);
            let location = Location {
                file: source.path.clone(),
                line: c.pos.line,
                column: c.pos.column,
                end_line: c.pos.line,
                end_column: c.pos.column
                    + source.text[c.pos.offset..c.pos.offset + c.pos.len]
                        .chars()
                        .count() as u32,
                offset: c.pos.offset,
                len: c.pos.len,
                pointer: None,
            };
            // The resource a MESH001 about the comment names: the covered one, else the one
            // whose document holds the comment.
            let about = covered
                .or_else(|| {
                    resources
                        .iter()
                        .copied()
                        .filter(|&id| store.resources[id].node.pos.offset <= c.pos.offset)
                        .max_by_key(|&id| store.resources[id].node.pos.offset)
                })
                .or(resources.first().copied())
                .map_or_else(
                    || ResourceRef {
                        kind: "File".into(),
                        namespace: String::new(),
                        name: source.path.clone(),
                    },
                    |id| resource_ref(store, id),
                );
            let scope = match covered {
                Some(id) => Scope::Resource(id),
                None if !c.own_line => Scope::Line(source.path.clone(), c.pos.line),
                None => {
                    unused.push(unused_finding(
                        location,
                        about,
                        format!(
                            "{written} is alone on a line that is neither in `metadata` nor at the top of a document, so it covers nothing"
                        ),
                    ));
                    continue;
                }
            };
            let mut codes = BTreeSet::new();
            let mut everything = false;
            for key in &c.keys {
                if key == "*" || key.eq_ignore_ascii_case("all") {
                    everything = true;
                    codes.extend(RULES.iter().map(|r| r.meta().code));
                } else if let Some(r) = rules::find(key) {
                    codes.insert(r.meta().code);
                } else {
                    let hint = rules::suggest(key)
                        .map_or(String::new(), |s| format!("; did you mean `{s}`?"));
                    unused.push(unused_finding(
                        location.clone(),
                        about.clone(),
                        format!("{written} names `{key}`, which is not a meshlint rule{hint}"),
                    ));
                }
            }
            if codes.is_empty() {
                continue;
            }
            let judged = !everything && codes.iter().all(|c| enabled.contains(c));
            let what = match scope {
                Scope::Resource(_) => "on this resource",
                Scope::Line(..) => "on this line",
            };
            out.push(CommentRule {
                scope,
                codes,
                origin: judged.then(|| Origin {
                    location,
                    resource: about,
                    what: format!("{written} suppresses nothing: no such finding {what}"),
                }),
                used: false,
            });
        }
    }
    out
}

/// Whether a comment covers finding `f`, located at `file`:`line` (computed only when a
/// comment of that file needs it); marks the comments that do as used.
pub(super) fn suppresses(
    rules: &mut [CommentRule],
    f: &RawFinding,
    resource: Option<ResId>,
    position: impl Fn() -> (String, u32),
) -> bool {
    let mut hit = false;
    let mut at: Option<(String, u32)> = None;
    for r in rules.iter_mut().filter(|r| r.codes.contains(f.rule.code)) {
        let covers = match &r.scope {
            Scope::Resource(id) => resource == Some(*id),
            Scope::Line(file, line) => {
                let (ffile, fline) = at.get_or_insert_with(&position);
                ffile == file && fline == line
            }
        };
        if covers {
            r.used = true;
            hit = true;
        }
    }
    hit
}

/// MESH001 for each judged comment that covered nothing.
pub(super) fn unused(rules: Vec<CommentRule>) -> Vec<Finding> {
    rules
        .into_iter()
        .filter(|r| !r.used)
        .filter_map(|r| r.origin)
        .map(|o| unused_finding(o.location, o.resource, o.what))
        .collect()
}
