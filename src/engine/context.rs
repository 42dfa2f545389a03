//! `check --context DIR FILE...`: the whole tree is loaded, so rules that relate resources
//! across files see every file, and only what concerns the named files is reported. This is
//! what a pre-commit hook needs: pre-commit passes the staged files only, and in batches, so
//! checking just the files passed misses a conflict between a staged file and a committed one,
//! or between two files of different batches.
//!
//! A finding concerns a named file when it is located there or names it as a related location
//! (a staged ServiceEntry that makes a committed one unreachable is reported, though the
//! finding sits on the committed one). Input errors in other files of the tree become
//! warnings: they are not this change's doing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use crate::diagnostic::Outcome;
use crate::source::{self, Level, Notice};

use super::{Settings, check_sources, discovery};

/// A file's identity on disk, so `./k8s/a.yaml` (walked) and `k8s/a.yaml` (named) are one.
fn identity(path: &str) -> Option<PathBuf> {
    std::fs::canonicalize(path).ok()
}

/// Checks the tree under `context` and reports what concerns `files` (all of it when `files`
/// is empty). Named files are shown as they were named.
pub fn check_in_context(
    context: &str,
    files: &[String],
    settings: &Settings,
) -> Result<Outcome, String> {
    let opts = discovery(settings)?;
    let walked = source::discover(&[context.to_string()], &opts);
    let in_tree: BTreeSet<PathBuf> = walked.files.iter().filter_map(|f| identity(f)).collect();
    let named: BTreeMap<PathBuf, &String> = files
        .iter()
        .filter_map(|f| Some((identity(f)?, f)))
        .collect();
    // Named files the walk does not reach (outside DIR, ignored, missing) are read as named,
    // so a missing one is still an error.
    let mut paths = vec![context.to_string()];
    paths.extend(
        files
            .iter()
            .filter(|f| identity(f).is_none_or(|id| !in_tree.contains(&id)))
            .cloned(),
    );
    let mut sources = source::load(&paths, &opts);
    let mut renamed: BTreeMap<String, String> = BTreeMap::new();
    for file in &mut sources.files {
        // Paths as git and pre-commit print them: as named, else without a leading `./`.
        let shown = match identity(&file.path).and_then(|id| named.get(&id)) {
            Some(given) => (*given).clone(),
            None => file.path.trim_start_matches("./").to_string(),
        };
        if file.path != shown {
            renamed.insert(file.path.clone(), shown.clone());
            file.path = shown;
        }
    }
    let rename = |file: &mut String| {
        if let Some(given) = renamed.get(file.as_str()) {
            *file = given.clone();
        }
    };
    sources.errors.iter_mut().for_each(|e| rename(&mut e.file));
    sources.notices.iter_mut().for_each(|n| rename(&mut n.file));
    let mut outcome = check_sources(sources, settings)?;
    if files.is_empty() {
        return Ok(outcome);
    }
    let shown: BTreeSet<&str> = files.iter().map(String::as_str).collect();
    outcome.findings.retain(|f| {
        shown.contains(f.location.file.as_str())
            || f.related
                .iter()
                .any(|r| shown.contains(r.location.file.as_str()))
    });
    let (own, others): (Vec<_>, Vec<_>) = std::mem::take(&mut outcome.errors)
        .into_iter()
        .partition(|e| shown.contains(e.file.as_str()));
    outcome.errors = own;
    // Remarks about other files of the tree are noise for this change.
    outcome
        .sources
        .notices
        .retain(|n| n.file.is_empty() || shown.contains(n.file.as_str()));
    outcome.sources.notices.extend(others.into_iter().map(|e| Notice {
        level: Level::Warning,
        file: e.file,
        line: e.line,
        column: e.column,
        message: format!(
            "{} (a file of the context, not one being checked; findings that depend on it may be missing)",
            e.message
        ),
    }));
    Ok(outcome)
}
