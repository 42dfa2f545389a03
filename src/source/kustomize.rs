//! Files that a kustomization names as patches: fragments kustomize merges into objects, not
//! objects. A patch file often repeats the target's kind and name, or has no name at all, so it
//! is told apart by the kustomization that lists it, not by its content.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use super::FileSize;

/// File names kustomize reads as a directory's kustomization.
const KUSTOMIZATION_FILES: &[&str] = &["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Fields whose entries name patch files (a string, or a map with `path`).
const PATCH_FIELDS: &[&str] = &["patches", "patchesStrategicMerge", "patchesJson6902"];

/// Every patch file named by a kustomization in the directory of one of `files` (canonical
/// paths) or above it (kustomize only loads files under the kustomization's directory), by
/// canonical path, with the kustomization's canonical path.
pub(super) fn patch_files<'p>(
    files: impl Iterator<Item = &'p Path>,
    limit: FileSize,
) -> HashMap<PathBuf, PathBuf> {
    let mut dirs = BTreeSet::new();
    for parent in files.filter_map(Path::parent) {
        dirs.extend(parent.ancestors().map(Path::to_path_buf));
    }
    let mut out = HashMap::new();
    for dir in dirs {
        let Some(k) = KUSTOMIZATION_FILES
            .iter()
            .map(|name| dir.join(name))
            .find(|p| p.is_file())
        else {
            continue;
        };
        for patch in listed_patches(&k, limit) {
            if let Ok(canonical) = std::fs::canonicalize(dir.join(patch)) {
                out.entry(canonical).or_insert_with(|| k.clone());
            }
        }
    }
    out
}

/// Fields whose entries name what a kustomization builds: files, or directories holding a
/// kustomization of their own.
const RESOURCE_FIELDS: &[&str] = &["resources", "bases", "components"];

/// How deep kustomizations naming kustomizations are followed.
const MAX_REACH_DEPTH: usize = 16;

/// What the patches of a kustomization can change.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Reach {
    /// Any object of the input: a Component's patches apply to whatever includes it, and a
    /// chain too deep to follow is not followed to its end.
    Everywhere,
    /// These canonical files and directories (everything below a directory).
    Within(Vec<PathBuf>),
}

/// What the patches of `kustomization` can change: its own directory and, recursively, the
/// files and directories its `resources`, `bases` and `components` name (kustomize builds
/// those, wherever they are, and patches the result). Remote entries are not followed.
pub(super) fn reach(kustomization: &Path, limit: FileSize) -> Reach {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    match collect_reach(kustomization, limit, 0, &mut seen, &mut out) {
        true => Reach::Within(out),
        false => Reach::Everywhere,
    }
}

/// Adds what `kustomization` builds to `out`; false when it is bounded by nothing in the
/// input: a Component (as the kustomization whose patches are asked about), or a chain too
/// deep to follow.
fn collect_reach(
    kustomization: &Path,
    limit: FileSize,
    depth: usize,
    seen: &mut BTreeSet<PathBuf>,
    out: &mut Vec<PathBuf>,
) -> bool {
    let Some(dir) = kustomization.parent() else {
        return true;
    };
    if depth > MAX_REACH_DEPTH {
        return false;
    }
    if !seen.insert(dir.to_path_buf()) {
        return true;
    }
    let root = read_root(kustomization, limit);
    let kind = root.as_ref().and_then(|r| r.get("kind")?.as_str());
    if depth == 0 && kind == Some("Component") {
        return false;
    }
    out.push(dir.to_path_buf());
    for entry in entries(root.as_ref(), RESOURCE_FIELDS) {
        if entry.contains("://") || entry.starts_with("github.com/") {
            continue;
        }
        let Ok(path) = std::fs::canonicalize(dir.join(&entry)) else {
            continue;
        };
        if !path.is_dir() {
            out.push(path);
            continue;
        }
        match KUSTOMIZATION_FILES
            .iter()
            .map(|name| path.join(name))
            .find(|p| p.is_file())
        {
            Some(k) => {
                if !collect_reach(&k, limit, depth + 1, seen, out) {
                    return false;
                }
            }
            None => out.push(path),
        }
    }
    true
}

/// The patch paths a kustomization file lists; inline patches (text with a newline) are not
/// files. An unreadable kustomization lists nothing: it is reported, if at all, as an input.
fn listed_patches(kustomization: &Path, limit: FileSize) -> Vec<String> {
    entries(read_root(kustomization, limit).as_ref(), PATCH_FIELDS)
        .into_iter()
        .filter(|p| !p.contains('\n'))
        .collect()
}

/// A kustomization file's document; an unreadable one is none (reported, if at all, as an
/// input).
fn read_root(kustomization: &Path, limit: FileSize) -> Option<super::Node> {
    let text = super::read_text(kustomization, limit, "file").ok()?;
    super::yaml::parse_stream(&text).ok()?.into_iter().next()
}

/// The entries of `fields` in a kustomization's document: strings, or maps with a `path`.
fn entries(root: Option<&super::Node>, fields: &[&str]) -> Vec<String> {
    let Some(root) = root else {
        return Vec::new();
    };
    fields
        .iter()
        .filter_map(|field| root.get(field).and_then(|n| n.as_seq()))
        .flatten()
        .filter_map(|entry| entry.as_str().or_else(|| entry.get("path")?.as_str()))
        .map(str::to_string)
        .collect()
}

/// How to name `kustomization` for a reader who named the patch as `patch_display`: the same
/// way, relative to where they are, when the kustomization is above the patch.
pub(super) fn display(kustomization: &Path, patch_display: &str, patch: &Path) -> String {
    let Some(below) = kustomization
        .parent()
        .and_then(|dir| patch.strip_prefix(dir).ok())
    else {
        return kustomization.to_string_lossy().into_owned();
    };
    let mut at = PathBuf::from(patch_display);
    let mut ups = PathBuf::new();
    for _ in below.components() {
        if at.as_os_str().is_empty() || at.ends_with("..") {
            ups.push("..");
        } else {
            at.pop();
        }
    }
    let name = kustomization.file_name().unwrap_or_default();
    at.join(ups).join(name).to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patches_are_found_from_the_kustomization_above_them() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = std::fs::canonicalize(dir.path()).expect("canonical");
        std::fs::create_dir_all(root.join("base/patches")).expect("mkdir");
        std::fs::write(
            root.join("base/kustomization.yaml"),
            "resources: [svc.yaml]\npatches:\n- path: patches/svc.yaml\n- patch: |-\n    inline\n  target: {kind: Service}\npatchesStrategicMerge: [old.yaml]\npatchesJson6902:\n- path: ops.json\n  target: {kind: Service, name: a}\n",
        )
        .expect("write");
        for f in ["svc.yaml", "patches/svc.yaml", "old.yaml", "ops.json"] {
            std::fs::write(root.join("base").join(f), "a: 1\n").expect("write");
        }
        let named = root.join("base/patches/svc.yaml");
        let found = patch_files(std::iter::once(named.as_path()), FileSize::default());
        let mut listed: Vec<_> = found
            .keys()
            .map(|p| p.strip_prefix(&root).expect("under root").to_path_buf())
            .collect();
        listed.sort();
        let want: Vec<PathBuf> = ["base/old.yaml", "base/ops.json", "base/patches/svc.yaml"]
            .iter()
            .map(PathBuf::from)
            .collect();
        assert_eq!(listed, want);
        let k = &found[&named];
        assert_eq!(
            display(k, "base/patches/svc.yaml", &named),
            "base/kustomization.yaml"
        );
        assert_eq!(
            display(k, "./patches/svc.yaml", &named),
            "./kustomization.yaml"
        );
        assert_eq!(display(k, "svc.yaml", &named), "../kustomization.yaml");
    }

    #[test]
    fn a_patch_reaches_what_its_kustomization_builds_and_nothing_else() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = std::fs::canonicalize(dir.path()).expect("canonical");
        for d in ["base", "shared", "overlays/prod", "docs"] {
            std::fs::create_dir_all(root.join(d)).expect("mkdir");
        }
        let write = |f: &str, text: &str| std::fs::write(root.join(f), text).expect("write");
        write("base/kustomization.yaml", "resources: [ns.yaml]\n");
        write("base/ns.yaml", "kind: Namespace\n");
        write("shared/cm.yaml", "kind: ConfigMap\n");
        write("docs/ns.yaml", "kind: Namespace\n");
        write(
            "overlays/prod/kustomization.yaml",
            "resources:\n- ../../base\n- ../../shared/cm.yaml\n- https://github.com/x/y//z\n- missing.yaml\ncomponents: [../prod]\npatches: [{path: ns.yaml}]\n",
        );
        let Reach::Within(reached) = reach(
            &root.join("overlays/prod/kustomization.yaml"),
            FileSize::default(),
        ) else {
            panic!("an overlay's reach is bounded");
        };
        let mut reached: Vec<PathBuf> = reached
            .iter()
            .map(|p| p.strip_prefix(&root).expect("under root").to_path_buf())
            .collect();
        reached.sort();
        let want: Vec<PathBuf> = ["base", "base/ns.yaml", "overlays/prod", "shared/cm.yaml"]
            .iter()
            .map(PathBuf::from)
            .collect();
        assert_eq!(reached, want);
        // A Component's patches apply to whatever kustomization includes it.
        std::fs::create_dir_all(root.join("comp")).expect("mkdir");
        write(
            "comp/kustomization.yaml",
            "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatches: [{path: inject.yaml}]\n",
        );
        assert_eq!(
            reach(&root.join("comp/kustomization.yaml"), FileSize::default()),
            Reach::Everywhere
        );
    }
}
