//! Whatever the input, `check` returns findings and errors; it never panics.

use std::path::Path;

use meshlint::engine::{Settings, check_sources};
use meshlint::source::Sources;
use proptest::prelude::*;

fn check_text(text: &str) {
    let mut sources = Sources::default();
    sources.add_text("input.yaml".into(), text.into());
    let outcome = check_sources(sources, &Settings::default()).expect("default settings");
    for e in &outcome.errors {
        assert!(!e.message.is_empty());
    }
    for f in &outcome.findings {
        assert!(f.location.line >= 1, "{f:?}");
    }
}

fn demo_texts() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/demo");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("demo dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| std::fs::read_to_string(p).expect("utf-8"))
        .collect()
}

/// Characters that change YAML structure.
const SYNTAX: &[char] = &[
    ':', '-', '[', ']', '{', '}', '&', '*', '!', '|', '>', '\'', '"', '\n', ' ', '#', ',', '?',
    '0', 'a', '~',
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    #[test]
    fn arbitrary_text_never_panics(text in "[ -~\n\t]{0,400}") {
        check_text(&text);
    }

    #[test]
    fn mutated_manifests_never_panic(
        file in 0usize..7,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), 0usize..8, 0usize..SYNTAX.len()), 1..6),
    ) {
        let texts = demo_texts();
        let mut chars: Vec<char> = texts[file % texts.len()].chars().collect();
        for (at, delete, insert) in edits {
            let i = at.index(chars.len().max(1)).min(chars.len());
            let end = (i + delete).min(chars.len());
            chars.splice(i..end, [SYNTAX[insert]]);
        }
        check_text(&chars.into_iter().collect::<String>());
    }
}
