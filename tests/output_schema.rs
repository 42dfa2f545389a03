//! The JSON output has a JSON Schema, derived from the structs the output is built from and
//! kept in `docs/schema/meshlint-output.schema.json`; every output meshlint gives on the test
//! inputs validates against that file.

use std::path::{Path, PathBuf};

use meshlint::engine::{Settings, check};
use meshlint::report::{self, Format};
use serde_json::Value;

const SCHEMA_FILE: &str = "docs/schema/meshlint-output.schema.json";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The schema file matches the structs. A stale file is rewritten outside CI, and the test
/// fails either way, so the change is reviewed and committed.
#[test]
fn schema_file_is_current() {
    let fresh = report::json::schema();
    let path = root().join(SCHEMA_FILE);
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    if on_disk != fresh {
        if std::env::var_os("CI").is_none() {
            std::fs::write(&path, &fresh).expect("write the schema");
            panic!("{SCHEMA_FILE} was stale and has been rewritten: review and commit it");
        }
        panic!("{SCHEMA_FILE} is stale: run `cargo test --test output_schema` and commit it");
    }
}

fn validator() -> jsonschema::Validator {
    let text = std::fs::read_to_string(root().join(SCHEMA_FILE)).expect("schema file");
    let schema: Value = serde_json::from_str(&text).expect("schema is JSON");
    jsonschema::validator_for(&schema).expect("a valid JSON Schema")
}

fn errors(validator: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    validator
        .iter_errors(doc)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

/// Every directory and file the tests check: rule, listener and dump fixtures, the demo, and
/// the CLI inputs (broken files, config files, templates).
fn inputs() -> Vec<PathBuf> {
    let list = |dir: &Path| {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .expect("testdata")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        entries
    };
    let mut out = Vec::new();
    for rule in list(&root().join("testdata/rules")) {
        out.extend(list(&rule));
    }
    for dir in ["testdata/cli", "testdata/listeners", "testdata/dumps"] {
        out.extend(list(&root().join(dir)));
    }
    out.push(root().join("testdata/demo"));
    out
}

#[test]
fn every_output_validates_against_the_schema() {
    let validator = validator();
    std::env::set_current_dir(root()).expect("crate root");
    let mut checked = 0;
    let mut with_errors = 0;
    let mut with_pointer = 0;
    for input in inputs() {
        let rel = input.strip_prefix(root()).expect("under the crate");
        let outcome = check(&[rel.to_string_lossy().into_owned()], &Settings::default())
            .expect("default settings");
        let text = report::render(Format::Json, &outcome, STYLE);
        let doc: Value = serde_json::from_str(&text).expect("JSON output");
        let problems = errors(&validator, &doc);
        assert!(problems.is_empty(), "{}: {problems:#?}", rel.display());
        checked += 1;
        with_errors += usize::from(!outcome.errors.is_empty());
        with_pointer += usize::from(
            outcome
                .findings
                .iter()
                .any(|f| f.location.pointer.is_some()),
        );
    }
    // The inputs cover the optional parts of the schema, not only the common shape.
    assert!(checked > 80, "{checked} outputs");
    assert!(with_errors > 0 && with_pointer > 0);
}

/// The schema is strict enough to catch a wrong output: a misspelt severity, a missing field
/// and an unknown one are each refused.
#[test]
fn schema_refuses_outputs_that_break_it() {
    let validator = validator();
    std::env::set_current_dir(root()).expect("crate root");
    let outcome = check(&["testdata/demo".to_string()], &Settings::default()).expect("demo");
    let doc: Value =
        serde_json::from_str(&report::render(Format::Json, &outcome, STYLE)).expect("JSON");
    assert!(errors(&validator, &doc).is_empty());

    let mut bad = doc.clone();
    bad["findings"][0]["severity"] = "fatal".into();
    assert!(!errors(&validator, &bad).is_empty(), "severity `fatal`");

    let mut bad = doc.clone();
    bad["findings"][0]["location"]
        .as_object_mut()
        .expect("location")
        .remove("line");
    assert!(!errors(&validator, &bad).is_empty(), "no line");

    let mut bad = doc.clone();
    bad["summary"]["score"] = 3.into();
    assert!(
        !errors(&validator, &bad).is_empty(),
        "unknown summary field"
    );

    let mut bad = doc;
    bad["version"] = 2.into();
    assert!(!errors(&validator, &bad).is_empty(), "version 2");
}

const STYLE: report::Style = report::Style {
    color: false,
    width: 110,
    quiet: false,
};
