//! The fixture runner: every fixture under `testdata/` is checked with default settings and its
//! whole JSON report (codes, severities, resources, positions, full messages, help, related
//! locations, input errors) is compared with a reviewed snapshot in `tests/snapshots/`.
//!
//! Fixtures of one rule live in `testdata/rules/<CODE>/`: a file whose name starts with `bad`
//! must produce at least one finding of that rule, one that starts with `good` none. A rule's
//! own tests therefore need no copy of this loop; `cargo insta review` shows what changed.

use std::path::Path;

use meshlint::diagnostic::Outcome;
use meshlint::engine::{ClusterPaths, Settings, check, check_cluster_paths};
use meshlint::report::{self, Format};

/// Asserts what a rule fixture must show: findings of `code` in a `bad` one, none in a `good` one.
fn expect(path: &Path, code: &str, outcome: &Outcome) {
    let name = path.file_name().expect("named").to_string_lossy();
    let hits = outcome.findings.iter().filter(|f| f.code == code).count();
    if name.starts_with("bad") {
        assert!(hits > 0, "{} must produce {code}", path.display());
    } else if name.starts_with("good") {
        assert_eq!(hits, 0, "{} must not produce {code}", path.display());
    }
}

/// Checks `path` (relative to the crate, so reports name it the same on every machine).
fn run(path: &Path) -> Outcome {
    run_with(path, &Settings::default())
}

/// Checks a rule fixture with its rule selected besides the defaults, as `--extend-select`
/// runs an opt-in rule.
fn run_rule(path: &Path) -> Outcome {
    let settings = Settings {
        extend_select: vec![rule_of(path)],
        ..Settings::default()
    };
    run_with(path, &settings)
}

fn run_with(path: &Path, settings: &Settings) -> Outcome {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let rel = |p: &Path| {
        p.strip_prefix(root)
            .expect("fixture under the crate")
            .to_string_lossy()
            .into_owned()
    };
    std::env::set_current_dir(root).expect("crate root");
    let clusters = path.join("clusters");
    if !clusters.is_dir() {
        return check(&[rel(path)], settings).expect("default settings");
    }
    let entries = |dir: &Path| {
        let mut out: Vec<_> = std::fs::read_dir(dir)
            .expect("readable fixture")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        out.sort();
        out
    };
    let common: Vec<String> = entries(path)
        .iter()
        .filter(|p| **p != clusters)
        .map(|p| rel(p))
        .collect();
    let clusters: Vec<ClusterPaths> = entries(&clusters)
        .iter()
        .map(|p| ClusterPaths {
            name: p.file_name().expect("named").to_string_lossy().into_owned(),
            paths: vec![rel(p)],
        })
        .collect();
    check_cluster_paths(&common, &clusters, Vec::new(), settings).expect("default settings")
}

fn json(outcome: &Outcome) -> String {
    report::render(
        Format::Json,
        outcome,
        report::Style {
            color: false,
            width: 110,
            quiet: false,
        },
    )
}

#[test]
fn rule_fixtures() {
    insta::glob!("../testdata", "rules/*/*.yaml", |path| {
        let outcome = run_rule(path);
        expect(path, &rule_of(path), &outcome);
        insta::assert_snapshot!(json(&outcome));
    });
}

/// Fixtures that are whole trees (`testdata/rules/<CODE>/bad-*/`, `good-*/`): copies of one
/// object across files, or a file that only means something beside the others. A tree with a
/// `clusters/` directory is a multi-cluster mesh: each directory in it is a cluster
/// (`--cluster NAME=clusters/NAME`), and the tree's other entries are common to all.
#[test]
fn rule_tree_fixtures() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/rules");
    let mut trees: Vec<_> = std::fs::read_dir(&root)
        .expect("testdata/rules")
        .filter_map(|e| e.ok())
        .flat_map(|rule| std::fs::read_dir(rule.path()).into_iter().flatten())
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    trees.sort();
    assert!(!trees.is_empty());
    for tree in trees {
        let outcome = run_rule(&tree);
        expect(&tree, &rule_of(&tree), &outcome);
        let rel = tree.strip_prefix(&root).expect("under testdata/rules");
        insta::with_settings!({ snapshot_suffix => rel.to_string_lossy().replace('/', "__") }, {
            insta::assert_snapshot!(json(&outcome));
        });
    }
}

/// `testdata/rules/<CODE>/<fixture>` → CODE.
fn rule_of(path: &Path) -> String {
    path.parent()
        .and_then(Path::file_name)
        .expect("testdata/rules/<CODE>/")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn listener_fixtures() {
    insta::glob!("../testdata", "listeners/*.yaml", |path| {
        insta::assert_snapshot!(json(&run(path)));
    });
}

#[test]
fn dump_fixtures() {
    insta::glob!("../testdata", "dumps/*", |path| {
        insta::assert_snapshot!(json(&run(path)));
    });
}

#[test]
fn demo() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    insta::assert_snapshot!(json(&run(&root.join("testdata/demo"))));
}
