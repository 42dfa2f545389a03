//! Config dumps end to end: our own fixtures (testdata/dumps/), the shared corpus when it is
//! present (../shared/corpus/config-dumps), `meshlint trace`, `listeners` and `--admin`.

use std::path::{Path, PathBuf};

use meshlint::load::{self, Discovery};

fn corpus_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/config-dumps");
    dir.is_dir().then_some(dir)
}

fn corpus_files() -> Vec<PathBuf> {
    let Some(dir) = corpus_dir() else {
        eprintln!("skipped: ../shared/corpus/config-dumps is absent");
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("readable")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json" || x == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_corpus_dump_loads() {
    for f in corpus_files() {
        let s = load::load(&[f.to_string_lossy().into_owned()], &Discovery::default());
        assert!(s.errors.is_empty(), "{}: {:?}", f.display(), s.errors);
        assert_eq!(s.dumps.len(), 1, "{}", f.display());
        let d = &s.dumps[0].dump;
        eprintln!(
            "{}: {} — {} listeners, {} errors, {} clusters, {} routes, {} endpoints, node {:?}",
            f.file_name().unwrap().to_string_lossy(),
            d.shape,
            d.listeners.len(),
            d.errors.len(),
            d.clusters.len(),
            d.routes.len(),
            d.endpoints.len(),
            d.node.as_ref().map(|n| n.label())
        );
        assert!(
            !d.listeners.is_empty() || !d.endpoints.is_empty(),
            "{}",
            f.display()
        );
    }
}
