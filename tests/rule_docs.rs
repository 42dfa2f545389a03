//! Every rule doc is a test: its front matter must match the registry, each `yaml bad` example
//! must produce exactly the findings its `# expect: CODE` lines mark, and each `yaml good`
//! example none. A multi-cluster example is one block per cluster, consecutive, each naming its
//! cluster in its first line (`# cluster: east`, then `# cluster: west`); they are checked
//! together as `--cluster` runs check clusters, each block being its cluster's only file.

use std::collections::BTreeMap;
use std::path::Path;

use meshlint::engine::{Settings, check_clusters, check_sources};
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

/// A `yaml bad` or `yaml good` example: one block, or one block per cluster (a block whose
/// first line is `# cluster: NAME`).
struct Example {
    bad: bool,
    /// `(cluster, text)`; the cluster is `None` for an ordinary example.
    blocks: Vec<(Option<String>, String)>,
}

fn rule_examples(doc: &str) -> Vec<Example> {
    let mut out: Vec<Example> = Vec::new();
    for (info, text) in examples(doc) {
        let bad = match info.as_str() {
            "yaml bad" => true,
            "yaml good" => false,
            _ => continue,
        };
        let cluster = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# cluster: "))
            .map(|name| name.trim().to_string());
        // A cluster block joins the example before it when that one is of the same kind, made
        // of cluster blocks, and has no block for this cluster yet.
        if let (Some(name), Some(last)) = (&cluster, out.last_mut())
            && last.bad == bad
            && last
                .blocks
                .iter()
                .all(|(c, _)| c.is_some() && c.as_ref() != Some(name))
        {
            last.blocks.push((cluster, text));
            continue;
        }
        out.push(Example {
            bad,
            blocks: vec![(cluster, text)],
        });
    }
    out
}

/// The file a block is read as: `example.yaml`, or `<cluster>.yaml` in a multi-cluster example.
fn file_of(cluster: &Option<String>) -> String {
    match cluster {
        Some(name) => format!("{name}.yaml"),
        None => "example.yaml".into(),
    }
}

/// `(file, line)` of every finding of `code` in the example.
fn finding_lines(code: &str, example: &Example) -> Vec<(String, u32)> {
    let load = |text: &str, file: String| {
        let mut sources = Sources::default();
        sources.add_text(file, text.into());
        sources
    };
    // Opt-in rules run in their own examples as `--extend-select CODE` runs them.
    let settings = Settings {
        extend_select: vec![code.to_string()],
        ..Settings::default()
    };
    let outcome = match &example.blocks[..] {
        [(None, text)] => check_sources(load(text, file_of(&None)), &settings),
        blocks => {
            assert!(
                blocks.len() > 1 && blocks.iter().all(|(c, _)| c.is_some()),
                "{code}: an example is one block, or one `# cluster:` block per cluster (two or more)"
            );
            let clusters = blocks
                .iter()
                .map(|(c, text)| {
                    let name = c.clone().expect("cluster block");
                    (name, load(text, file_of(c)))
                })
                .collect();
            check_clusters(clusters, &settings)
        }
    }
    .expect("default settings are valid");
    assert!(
        outcome.errors.is_empty(),
        "example does not load: {:?}",
        outcome.errors
    );
    let mut lines: Vec<(String, u32)> = outcome
        .findings
        .iter()
        .filter(|f| f.code == code)
        .map(|f| (f.location.file.clone(), f.location.line))
        .collect();
    lines.sort();
    lines
}

fn show(example: &Example) -> String {
    example
        .blocks
        .iter()
        .map(|(c, text)| format!("--- {}\n{text}", file_of(c)))
        .collect()
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
        let all = rule_examples(m.doc);
        assert!(
            all.iter().any(|e| e.bad),
            "{}: no `yaml bad` example",
            m.code
        );
        assert!(
            all.iter().any(|e| !e.bad),
            "{}: no `yaml good` example",
            m.code
        );
        let marker = format!("# expect: {}", m.code);
        for example in &all {
            let expected: Vec<(String, u32)> = example
                .blocks
                .iter()
                .flat_map(|(c, text)| {
                    text.lines()
                        .enumerate()
                        .filter(|(_, l)| l.contains(&marker))
                        .map(|(i, _)| (file_of(c), i as u32 + 1))
                        .collect::<Vec<_>>()
                })
                .collect();
            if example.bad {
                assert!(
                    !expected.is_empty(),
                    "{}: bad example marks no line",
                    m.code
                );
            } else {
                assert!(expected.is_empty(), "{}: good example marks a line", m.code);
            }
            assert_eq!(
                finding_lines(m.code, example),
                expected,
                "{}: example findings differ from its `# expect` lines:\n{}",
                m.code,
                show(example)
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
