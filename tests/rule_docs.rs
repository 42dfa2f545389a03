//! Every rule doc is a test: its front matter must match the registry, each `yaml bad` example
//! must produce exactly the findings its `# expect: CODE` lines mark, and each `yaml good`
//! example none.

use std::collections::BTreeMap;
use std::path::Path;

use meshlint::engine::{Settings, check_sources};
use meshlint::rules::RULES;
use meshlint::source::Sources;
use pulldown_cmark::{CodeBlockKind, Event, Parser, Tag, TagEnd};

fn front_matter(doc: &str) -> BTreeMap<String, String> {
    let body = doc
        .strip_prefix("---\n")
        .and_then(|r| r.split_once("\n---\n"))
        .map(|(fm, _)| fm)
        .expect("doc starts with front matter");
    body.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

fn examples(doc: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current: Option<(String, String)> = None;
    for event in Parser::new(doc) {
        match event {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) => {
                current = Some((info.to_string(), String::new()));
            }
            Event::Text(t) => {
                if let Some((_, text)) = current.as_mut() {
                    text.push_str(&t);
                }
            }
            Event::End(TagEnd::CodeBlock) => {
                if let Some(block) = current.take() {
                    out.push(block);
                }
            }
            _ => {}
        }
    }
    out
}

fn finding_lines(code: &str, text: &str) -> Vec<u32> {
    let mut sources = Sources::default();
    sources.add_text("example.yaml".into(), text.into());
    // Opt-in rules run in their own examples as `--extend-select CODE` runs them.
    let settings = Settings {
        extend_select: vec![code.to_string()],
        ..Settings::default()
    };
    let outcome = check_sources(sources, &settings).expect("default settings are valid");
    assert!(
        outcome.errors.is_empty(),
        "example does not load: {:?}\n{text}",
        outcome.errors
    );
    let mut lines: Vec<u32> = outcome
        .findings
        .iter()
        .filter(|f| f.code == code)
        .map(|f| f.location.line)
        .collect();
    lines.sort_unstable();
    lines
}

#[test]
fn every_rule_has_a_doc_that_matches_the_registry() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .expect("rules/ exists")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("MESH") && n.ends_with(".md"))
        .collect();
    on_disk.sort();
    let mut registered: Vec<String> = RULES
        .iter()
        .map(|r| format!("{}-{}.md", r.meta().code, r.meta().name))
        .collect();
    registered.sort();
    assert_eq!(on_disk, registered, "rules/ and the registry disagree");

    for rule in RULES {
        let m = rule.meta();
        let on_file = std::fs::read_to_string(dir.join(format!("{}-{}.md", m.code, m.name)))
            .expect("doc readable");
        assert_eq!(on_file, m.doc, "{}: embedded doc is stale", m.code);
        let fm = front_matter(m.doc);
        assert_eq!(fm.get("code").map(String::as_str), Some(m.code));
        assert_eq!(fm.get("name").map(String::as_str), Some(m.name));
        assert_eq!(
            fm.get("severity").map(String::as_str),
            Some(m.severity.as_str())
        );
        assert_eq!(
            fm.get("opt_in").map(String::as_str) == Some("true"),
            m.opt_in,
            "{}: `opt_in: true` in the front matter exactly for opt-in rules",
            m.code
        );
        let istio = format!("[{}]", m.istio_codes.join(", "));
        assert_eq!(fm.get("istio"), Some(&istio), "{}: istio codes", m.code);
        // `kiali` is written when the rule has Kiali codes.
        let kiali = format!("[{}]", m.kiali_codes.join(", "));
        let written = fm.get("kiali").cloned().unwrap_or_else(|| "[]".into());
        assert_eq!(written, kiali, "{}: kiali codes", m.code);
    }
}

#[test]
fn doc_examples_produce_exactly_the_documented_findings() {
    for rule in RULES {
        let m = rule.meta();
        let blocks = examples(m.doc);
        let bad: Vec<_> = blocks.iter().filter(|(i, _)| i == "yaml bad").collect();
        let good: Vec<_> = blocks.iter().filter(|(i, _)| i == "yaml good").collect();
        assert!(!bad.is_empty(), "{}: no `yaml bad` example", m.code);
        assert!(!good.is_empty(), "{}: no `yaml good` example", m.code);
        let marker = format!("# expect: {}", m.code);
        for (_, text) in bad {
            let expected: Vec<u32> = text
                .lines()
                .enumerate()
                .filter(|(_, l)| l.contains(&marker))
                .map(|(i, _)| i as u32 + 1)
                .collect();
            assert!(
                !expected.is_empty(),
                "{}: bad example marks no line",
                m.code
            );
            assert_eq!(
                finding_lines(m.code, text),
                expected,
                "{}: bad example findings differ from its `# expect` lines:\n{text}",
                m.code
            );
        }
        for (_, text) in good {
            assert_eq!(
                finding_lines(m.code, text),
                Vec::<u32>::new(),
                "{}: good example has findings:\n{text}",
                m.code
            );
        }
    }
}

#[test]
fn readme_lists_every_rule_as_registered() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    for rule in RULES {
        let m = rule.meta();
        let row = format!(
            "| {} | {} | {} | {} |",
            m.code,
            m.name,
            m.severity.as_str(),
            m.summary
        );
        assert!(
            readme.contains(&row),
            "README.md has no row starting `{row}`"
        );
    }
}
