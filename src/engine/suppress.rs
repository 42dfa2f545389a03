//! Suppressions: `meshlint.io/ignore` and istio's `galley.istio.io/analyze-suppress` on a
//! resource, `# meshlint: ignore[...]` comments (`comments.rs`), and `ignore:` entries of the
//! config file. A suppression that silences nothing is
//! itself reported (MESH001). Findings on config dumps have no manifest resource, so only config
//! entries apply to them.

use std::collections::{BTreeMap, BTreeSet};

use globset::{Glob, GlobMatcher};

use crate::config::{IgnoreEntry, LoadedConfig, Suppression};
use crate::diagnostic::{Finding, Location, RawFinding, ResourceRef, Target};
use crate::model::ResId;
use crate::rules::{self, RULES, UNUSED_SUPPRESSION};
use crate::source::FieldPath;

use super::comments;
use super::locate::{Locator, resource_ref};

/// Annotation listing rules (codes or names, comma-separated, or `*`) to ignore on a resource.
pub const IGNORE_ANNOTATION: &str = "meshlint.io/ignore";
/// istio's own suppression annotation; it silences findings whose istio codes it lists.
pub const GALLEY_ANNOTATION: &str = "galley.istio.io/analyze-suppress";

/// Where a suppression was written, to report it when it matches nothing.
pub(super) struct Origin {
    pub location: Location,
    pub resource: ResourceRef,
    pub what: String,
}

/// One entry of a `meshlint.io/ignore` annotation.
struct AnnotationRule {
    resource: ResId,
    codes: BTreeSet<&'static str>,
    /// `None` when the entry cannot be judged unused (`*`, or a rule that did not run).
    origin: Option<Origin>,
    used: bool,
}

/// One `ignore:` entry of the config file that names a rule and optionally globs.
struct ConfigRule<'a> {
    entry: &'a Suppression,
    code: &'static str,
    resource: Option<GlobMatcher>,
    file: Option<GlobMatcher>,
    index: usize,
    used: bool,
}

/// What survives suppression, and a MESH001 finding for each suppression that matched nothing.
pub struct Suppressed {
    pub kept: Vec<RawFinding>,
    pub unused: Vec<Finding>,
}

pub fn apply(
    raw: Vec<RawFinding>,
    locator: &Locator<'_>,
    store: &crate::model::Store,
    config: &LoadedConfig,
    enabled: &BTreeSet<&'static str>,
) -> Suppressed {
    let mut unused = Vec::new();
    let mut annotations = annotation_rules(store, locator, enabled, &mut unused);
    let galley = galley_codes(store);
    let mut entries = config_rules(config);
    let mut comment_rules = comments::collect(locator.sources(), store, enabled, &mut unused);
    let kept = raw
        .into_iter()
        .filter(|f| {
            let mut suppressed = false;
            let resource = match f.target {
                Target::Field { resource, .. } => Some(resource),
                Target::Dump { .. } | Target::PeerField { .. } => None,
            };
            suppressed |= comments::suppresses(&mut comment_rules, f, resource, || {
                let at = locator.locate(&f.target);
                (at.file, at.line)
            });
            if let Target::Field { resource, .. } = f.target {
                suppressed |= galley_suppresses(galley.get(&resource), f);
                for a in annotations
                    .iter_mut()
                    .filter(|a| a.resource == resource && a.codes.contains(f.rule.code))
                {
                    a.used = true;
                    suppressed = true;
                }
            }
            let label = locator.subject(f).to_string();
            let file = locator.file(&f.target);
            suppressed |= config_suppresses(&mut entries, f.rule.code, &label, file);
            !suppressed
        })
        .collect();
    annotations.retain(|a| !a.used);
    for origin in annotations.into_iter().filter_map(|a| a.origin) {
        unused.push(unused_finding(
            origin.location,
            origin.resource,
            format!(
                "{} suppresses nothing: no such finding on this resource",
                origin.what
            ),
        ));
    }
    unused.extend(comments::unused(comment_rules));
    unused.extend(unused_config_entries(entries, config, enabled));
    Suppressed { kept, unused }
}

/// Every `meshlint.io/ignore` entry; entries naming no rule are reported right away.
fn annotation_rules(
    store: &crate::model::Store,
    locator: &Locator<'_>,
    enabled: &BTreeSet<&'static str>,
    unused: &mut Vec<Finding>,
) -> Vec<AnnotationRule> {
    let mut out = Vec::new();
    for (id, res) in store.iter() {
        let Some(value) = res.annotations.get(IGNORE_ANNOTATION) else {
            continue;
        };
        let path = FieldPath::parse("metadata.annotations").key(IGNORE_ANNOTATION);
        let location = locator.locate(&Target::Field { resource: id, path });
        for key in value.split(',').map(str::trim).filter(|k| !k.is_empty()) {
            let everything = key == "*" || key.eq_ignore_ascii_case("all");
            let codes: BTreeSet<&'static str> = if everything {
                RULES.iter().map(|r| r.meta().code).collect()
            } else if let Some(r) = rules::find(key) {
                [r.meta().code].into()
            } else {
                unused.push(unused_finding(
                    location.clone(),
                    resource_ref(store, id),
                    match rules::suggest(key) {
                        Some(s) => format!(
                            "`{IGNORE_ANNOTATION}` names `{key}`, which is not a meshlint rule; did you mean `{s}`?"
                        ),
                        None => format!(
                            "`{IGNORE_ANNOTATION}` names `{key}`, which is not a meshlint rule"
                        ),
                    },
                ));
                continue;
            };
            // Entries for rules that did not run cannot be judged unused.
            let judged = codes.iter().all(|c| enabled.contains(c)) && !everything;
            out.push(AnnotationRule {
                resource: id,
                codes,
                origin: judged.then(|| Origin {
                    location: location.clone(),
                    resource: resource_ref(store, id),
                    what: format!("`{IGNORE_ANNOTATION}: {key}`"),
                }),
                used: false,
            });
        }
    }
    out
}

/// The istio codes each resource's `galley.istio.io/analyze-suppress` lists.
fn galley_codes(store: &crate::model::Store) -> BTreeMap<ResId, Vec<String>> {
    store
        .iter()
        .filter_map(|(id, res)| {
            let value = res.annotations.get(GALLEY_ANNOTATION)?;
            Some((id, value.split(',').map(|c| c.trim().to_string()).collect()))
        })
        .collect()
}

/// istio's `*` covers istio's analyzers, so only findings that have an istio code.
fn galley_suppresses(codes: Option<&Vec<String>>, f: &RawFinding) -> bool {
    codes.is_some_and(|codes| {
        codes
            .iter()
            .any(|c| (c == "*" && !f.istio_codes.is_empty()) || f.istio_codes.contains(&c.as_str()))
    })
}

fn glob(pattern: &Option<String>) -> Option<GlobMatcher> {
    pattern
        .as_ref()
        .and_then(|p| Glob::new(p).ok())
        .map(|g| g.compile_matcher())
}

fn config_rules(config: &LoadedConfig) -> Vec<ConfigRule<'_>> {
    config
        .config
        .ignore
        .iter()
        .enumerate()
        .filter_map(|(index, e)| match e {
            IgnoreEntry::Finding(s) => rules::find(&s.rule).map(|r| ConfigRule {
                entry: s,
                code: r.meta().code,
                resource: glob(&s.resource),
                file: glob(&s.file),
                index,
                used: false,
            }),
            IgnoreEntry::Rule(_) => None,
        })
        .collect()
}

/// Whether a config `ignore:` entry matches; marks the entries that do as used.
fn config_suppresses(rules: &mut [ConfigRule<'_>], code: &str, label: &str, file: &str) -> bool {
    let file = file.trim_start_matches("./");
    let mut hit = false;
    for c in rules.iter_mut().filter(|c| c.code == code) {
        let res_ok = c.resource.as_ref().is_none_or(|g| g.is_match(label));
        let file_ok = c.file.as_ref().is_none_or(|g| g.is_match(file));
        if res_ok && file_ok {
            c.used = true;
            hit = true;
        }
    }
    hit
}

/// MESH001 for config entries of rules that ran and suppressed nothing.
fn unused_config_entries(
    entries: Vec<ConfigRule<'_>>,
    config: &LoadedConfig,
    enabled: &BTreeSet<&'static str>,
) -> Vec<Finding> {
    let file = config.path.clone().unwrap_or_default();
    entries
        .into_iter()
        .filter(|c| !c.used && enabled.contains(c.code))
        .map(|c| {
            let (line, column) = config.position(&FieldPath::parse("ignore").index(c.index));
            let scope = c
                .entry
                .resource
                .as_deref()
                .map_or(String::new(), |r| format!(" on `{r}`"));
            unused_finding(
                Location {
                    file: file.clone(),
                    line,
                    column,
                    end_line: line,
                    end_column: column,
                    ..Location::default()
                },
                ResourceRef {
                    kind: "MeshlintConfig".into(),
                    namespace: String::new(),
                    name: file.clone(),
                },
                format!(
                    "ignore entry for {}{scope} suppresses nothing",
                    c.entry.rule
                ),
            )
        })
        .collect()
}

pub(super) fn unused_finding(
    location: Location,
    resource: ResourceRef,
    message: String,
) -> Finding {
    Finding {
        fingerprint: super::fingerprint::of_engine(UNUSED_SUPPRESSION.code, &resource, &message),
        code: UNUSED_SUPPRESSION.code,
        name: UNUSED_SUPPRESSION.name,
        severity: UNUSED_SUPPRESSION.severity,
        message,
        help: Some("remove the stale entry so it cannot hide a future finding".into()),
        resource,
        location,
        related: Vec::new(),
        istio_codes: Vec::new(),
        kiali_codes: Vec::new(),
        subkind: None,
        fix: None,
        clusters: Vec::new(),
    }
}
