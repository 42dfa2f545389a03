//! The same inputs give the same output: in any file order and with any number of threads,
//! byte for byte; with the documents of a file reordered, the same findings (their lines move).
//!
//! Order carries meaning in one place: of several copies of one object, the last one read wins.
//! Shuffles therefore keep copies of one object (same kind and name) in their relative order,
//! across files and within a file. `MESHLINT_FUZZ_CASES` runs more cases, as in tests/fuzz.rs.
//! `check` is held to this; `listeners` rows on one port and `graph` nodes still follow input
//! order.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use meshlint::source::{Node, Value, parse_yaml};
use proptest::prelude::*;

const FORMATS: &[&str] = &["json", "human", "concise", "sarif", "github"];
const THREADS: &[&str] = &["1", "2", "3"];

fn cases(default: u32) -> u32 {
    std::env::var("MESHLINT_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata")
}

/// The YAML and JSON files directly in a folder of testdata/, as paths relative to testdata/.
fn files_in(dir: &str) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(testdata().join(dir))
        .expect("folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "json"))
        .map(|p| format!("{dir}/{}", p.file_name().expect("name").to_string_lossy()))
        .collect();
    files.sort();
    files
}

/// Sets of files checked together: the demo, the dump fixtures among manifests, the listener
/// fixtures, and each rule's fixtures.
fn input_sets() -> &'static [Vec<String>] {
    static SETS: OnceLock<Vec<Vec<String>>> = OnceLock::new();
    SETS.get_or_init(|| {
        let mut sets = vec![
            files_in("demo"),
            [files_in("dumps"), files_in("demo")].concat(),
            files_in("listeners"),
        ];
        let mut rules: Vec<_> = std::fs::read_dir(testdata().join("rules"))
            .expect("rules")
            .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect();
        rules.sort();
        sets.extend(
            rules
                .iter()
                .map(|r| files_in(&format!("rules/{r}")))
                .filter(|s| s.len() > 1),
        );
        sets
    })
}

/// `(kind, name)` of every object a document holds, `*List` items included. Namespaces are
/// left out, so objects that might be one are kept in order.
fn identities(doc: &Node) -> Vec<(String, String)> {
    let text = |n: Option<&Node>| n.and_then(Node::as_str).unwrap_or_default().to_string();
    let mut out = Vec::new();
    if let Some(Value::Seq(items)) = doc.get("items").map(|i| &i.value) {
        for item in items {
            out.extend(identities(item));
        }
    }
    let kind = text(doc.get("kind"));
    let name = text(doc.get("metadata").and_then(|m| m.get("name")));
    if !kind.is_empty() && !name.is_empty() {
        out.push((kind, name));
    }
    out
}

fn text_identities(text: &str) -> Vec<(String, String)> {
    parse_yaml(text)
        .map(|docs| docs.iter().flat_map(identities).collect())
        .unwrap_or_default()
}

/// A random order of `items` in which two items that share an identity keep their order.
fn shuffle<T: Clone>(items: &[(T, Vec<(String, String)>)], mut seed: u64) -> Vec<T> {
    let mut next = move || {
        // splitmix64
        seed = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = seed;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let mut placed = vec![false; items.len()];
    let mut out = Vec::with_capacity(items.len());
    while out.len() < items.len() {
        let ready: Vec<usize> = (0..items.len())
            .filter(|&i| {
                !placed[i]
                    && (0..i)
                        .all(|j| placed[j] || !items[j].1.iter().any(|x| items[i].1.contains(x)))
            })
            .collect();
        let pick = ready[(next() % ready.len() as u64) as usize];
        placed[pick] = true;
        out.push(items[pick].0.clone());
    }
    out
}

/// stdout and exit code of meshlint run in `dir`.
fn meshlint(dir: &Path, args: &[String], threads: Option<&str>) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_meshlint"));
    cmd.args(args).current_dir(dir).env_remove("NO_COLOR");
    match threads {
        Some(n) => cmd.env("RAYON_NUM_THREADS", n),
        None => cmd.env_remove("RAYON_NUM_THREADS"),
    };
    let out = cmd.output().expect("meshlint runs");
    format!(
        "exit {:?}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout)
    )
}

fn check_args(format: &str, files: &[String]) -> Vec<String> {
    let mut args = vec!["check".to_string(), "--format".into(), format.into()];
    args.extend(files.iter().cloned());
    args
}

/// Output of a set in its sorted order with the default thread pool, computed once.
fn baseline(set: usize, format: &str) -> String {
    static CACHE: OnceLock<Mutex<HashMap<(usize, String), String>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(out) = cache.lock().expect("lock").get(&(set, format.to_string())) {
        return out.clone();
    }
    let out = meshlint(&testdata(), &check_args(format, &input_sets()[set]), None);
    cache
        .lock()
        .expect("lock")
        .insert((set, format.to_string()), out.clone());
    out
}

/// The documents of a YAML text, split at `---` lines (the fixtures use no other form).
fn documents(text: &str) -> Vec<String> {
    let mut docs = vec![String::new()];
    for line in text.lines() {
        if line.trim_end() == "---" {
            docs.push(String::new());
        } else {
            let doc = docs.last_mut().expect("one");
            doc.push_str(line);
            doc.push('\n');
        }
    }
    docs.retain(|d| {
        d.lines()
            .any(|l| !l.trim().is_empty() && !l.starts_with('#'))
    });
    docs
}

/// Findings without positions, sorted: what must not change when documents move.
fn findings_without_positions(json_output: &str) -> Vec<String> {
    let (_, body) = json_output.split_once('\n').expect("exit line");
    let mut v: serde_json::Value = serde_json::from_str(body).expect("json report");
    let strip = |loc: &mut serde_json::Value| {
        if let Some(o) = loc.as_object_mut() {
            for k in ["line", "column", "end_line", "end_column"] {
                o.remove(k);
            }
        }
    };
    let mut out: Vec<String> = v["findings"]
        .as_array_mut()
        .expect("findings")
        .iter_mut()
        .map(|f| {
            strip(&mut f["location"]);
            for r in f["related"].as_array_mut().into_iter().flatten() {
                strip(&mut r["location"]);
            }
            // A fix's edits are byte offsets into the file, positions too.
            for e in f["fix"]["edits"].as_array_mut().into_iter().flatten() {
                if let Some(o) = e.as_object_mut() {
                    o.remove("offset");
                }
            }
            f.to_string()
        })
        .collect();
    out.sort();
    out
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(24),
        // Cases name inputs by index, and mean others once an input is added.
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn any_file_order_and_thread_count_gives_the_same_bytes(
        set in any::<prop::sample::Index>(),
        seed in any::<u64>(),
        format in 0usize..FORMATS.len(),
        threads in 0usize..THREADS.len(),
    ) {
        let set = set.index(input_sets().len());
        let files = &input_sets()[set];
        let tagged: Vec<(String, Vec<(String, String)>)> = files
            .iter()
            .map(|f| {
                let text = std::fs::read_to_string(testdata().join(f)).expect("read");
                (f.clone(), text_identities(&text))
            })
            .collect();
        let order = shuffle(&tagged, seed);
        let format = FORMATS[format];
        let got = meshlint(&testdata(), &check_args(format, &order), Some(THREADS[threads]));
        prop_assert_eq!(got, baseline(set, format), "order {:?}, {} threads", order, THREADS[threads]);
    }

    #[test]
    fn reordered_documents_give_the_same_findings(
        set in any::<prop::sample::Index>(),
        file in any::<prop::sample::Index>(),
        seed in any::<u64>(),
    ) {
        let files: Vec<&String> = input_sets()[set.index(input_sets().len())]
            .iter()
            .filter(|f| f.ends_with(".yaml"))
            .collect();
        prop_assume!(!files.is_empty());
        let name = files[file.index(files.len())];
        let text = std::fs::read_to_string(testdata().join(name)).expect("read");
        let docs: Vec<(String, Vec<(String, String)>)> = documents(&text)
            .into_iter()
            .map(|d| {
                let ids = text_identities(&d);
                (d, ids)
            })
            .collect();
        let dir = tempfile::tempdir().expect("tempdir");
        let base = Path::new(name).file_name().expect("name").to_string_lossy().into_owned();
        let args = check_args("json", std::slice::from_ref(&base));
        std::fs::write(dir.path().join(&base), docs.iter().map(|d| d.0.as_str()).collect::<Vec<_>>().join("---\n")).expect("write");
        let before = meshlint(dir.path(), &args, None);
        std::fs::write(dir.path().join(&base), shuffle(&docs, seed).join("---\n")).expect("write");
        let after = meshlint(dir.path(), &args, None);
        prop_assert_eq!(before.lines().next(), after.lines().next(), "{}", name);
        prop_assert_eq!(findings_without_positions(&before), findings_without_positions(&after), "{}", name);
    }
}

/// `graph` prints the same in any file order: nodes are ordered by resource, edges by node. The
/// demo defines every object once; where copies exist, their order decides which one counts.
#[test]
fn graph_ignores_file_order() {
    let set = files_in("demo");
    let mut reversed = set.clone();
    reversed.reverse();
    for format in ["dot", "json"] {
        let run = |files: &[String]| {
            let mut args = vec!["graph".to_string(), "--format".into(), format.into()];
            args.extend(files.iter().cloned());
            meshlint(&testdata(), &args, None)
        };
        assert_eq!(run(&set), run(&reversed), "graph --format {format}");
    }
}
