//! Fingerprints and baselines: a recorded finding stays recorded when lines move or the input
//! is reordered, new findings still fail the run, and stale entries are reported (MESH001).

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use common::{codes, demo_copy, findings, run, write};
use serde_json::Value;

fn fingerprints(doc: &Value) -> BTreeSet<(String, String)> {
    findings(doc)
        .iter()
        .map(|f| {
            (
                f["code"].as_str().expect("code").to_string(),
                f["fingerprint"].as_str().expect("fingerprint").to_string(),
            )
        })
        .collect()
}

/// The documents of a YAML stream in reverse order, with blank lines and comments inserted
/// above each, so every line moves.
fn shuffled(text: &str) -> String {
    let docs: Vec<&str> = text.split("\n---\n").collect();
    docs.iter()
        .rev()
        .map(|d| format!("# moved\n\n{}\n", d.trim_end()))
        .collect::<Vec<_>>()
        .join("---\n")
}

#[test]
fn fingerprints_are_invariant_to_line_moves_and_input_order() {
    let (_tmp, demo) = demo_copy();
    let before = run(&demo, &["check", ".", "--format", "json"]);
    before.expect_code(1);
    let before = before.json();
    assert!(findings(&before).len() > 5);
    for f in findings(&before) {
        let fp = f["fingerprint"]
            .as_str()
            .expect("every finding has a fingerprint");
        assert_eq!(fp.len(), 16, "{fp}");
    }
    // Move every line, reverse the documents in each file, and rename the files so they are
    // walked in another order.
    let names: Vec<_> = fs::read_dir(&demo)
        .expect("read")
        .map(|e| e.expect("entry").path())
        .collect();
    for (i, p) in names.iter().enumerate() {
        let text = fs::read_to_string(p).expect("read");
        fs::remove_file(p).expect("remove");
        let name = p.file_name().expect("name").to_string_lossy().into_owned();
        write(&demo.join(format!("{:02}-{name}", 99 - i)), shuffled(&text));
    }
    let after = run(&demo, &["check", ".", "--format", "json"]).json();
    let lines = |doc: &Value| -> BTreeSet<u64> {
        findings(doc)
            .iter()
            .map(|f| f["location"]["line"].as_u64().expect("line"))
            .collect()
    };
    assert_ne!(lines(&before), lines(&after), "the lines did move");
    assert_eq!(fingerprints(&before), fingerprints(&after));
}

#[test]
fn a_baseline_hides_recorded_findings_and_reports_new_and_stale_ones() {
    let (_tmp, demo) = demo_copy();
    let base = demo.join("../base.json");
    let base = base.to_str().expect("utf-8 path");
    let all = run(&demo, &["check", ".", "--format", "json"]).json();
    let wrote = run(&demo, &["check", ".", "--write-baseline", base]);
    wrote.expect_code(0);
    assert!(wrote.stderr.contains("to the baseline"), "{}", wrote.stderr);
    let recorded: Value = serde_json::from_str(&fs::read_to_string(base).expect("baseline"))
        .expect("baseline is JSON");
    assert_eq!(recorded["version"], 1);
    assert_eq!(
        recorded["findings"].as_array().expect("entries").len(),
        findings(&all).len()
    );

    // Everything recorded: nothing reported, exit 0, the count in the summary.
    let clean = run(
        &demo,
        &["check", ".", "--baseline", base, "--format", "json"],
    );
    clean.expect_code(0);
    let clean = clean.json();
    assert!(findings(&clean).is_empty(), "{:#?}", findings(&clean));
    assert_eq!(clean["summary"]["baselined"], findings(&all).len());

    // A new problem is reported; the old ones stay hidden.
    write(
        &demo.join("new.yaml"),
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: fresh\n  namespace: shop\nspec:\n  selector: {app: fresh}\n  ports:\n  - name: wbe\n    port: 8080\n",
    );
    let new = run(
        &demo,
        &["check", ".", "--baseline", base, "--format", "json"],
    );
    new.expect_code(1);
    let new = new.json();
    assert_eq!(codes(&new), ["MESH101"]);
    assert_eq!(findings(&new)[0]["resource"]["name"], "fresh");

    // Changing the offending value makes it a new finding, and its entry stale.
    let shop = demo.join("shop.yaml");
    let text = fs::read_to_string(&shop).expect("shop");
    let recorded_101: Vec<&Value> = findings(&all)
        .iter()
        .filter(|f| f["code"] == "MESH101" && f["location"]["file"] == "./shop.yaml")
        .collect();
    assert!(
        !recorded_101.is_empty(),
        "the demo has a MESH101 in shop.yaml"
    );
    let line = recorded_101[0]["location"]["line"].as_u64().expect("line") as usize;
    let edited: Vec<String> = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i + 1 == line {
                l.replacen("name: ", "name: x", 1)
            } else {
                l.to_string()
            }
        })
        .collect();
    fs::write(&shop, edited.join("\n") + "\n").expect("edit");
    fs::remove_file(demo.join("new.yaml")).expect("remove");
    let changed = run(
        &demo,
        &["check", ".", "--baseline", base, "--format", "json"],
    );
    let changed = changed.json();
    let mut got = codes(&changed);
    got.sort();
    assert_eq!(got, ["MESH001", "MESH101"], "{:#?}", findings(&changed));
    let stale = findings(&changed)
        .iter()
        .find(|f| f["code"] == "MESH001")
        .expect("stale entry");
    assert_eq!(stale["subkind"], "baseline");
    assert_eq!(stale["location"]["file"], base);
    assert!(stale["location"]["line"].as_u64().expect("line") > 2);
    assert!(
        stale["message"]
            .as_str()
            .expect("message")
            .contains("shop.yaml"),
        "{stale}"
    );
}

#[test]
fn entries_of_files_not_read_or_rules_not_run_are_not_stale() {
    let (_tmp, demo) = demo_copy();
    let base = demo.join("../base.json");
    let base = base.to_str().expect("utf-8 path");
    run(&demo, &["check", ".", "--write-baseline", base]).expect_code(0);
    let one = run(
        &demo,
        &["check", "shop.yaml", "--baseline", base, "--format", "json"],
    );
    one.expect_code(0);
    assert!(findings(&one.json()).is_empty(), "{}", one.stdout);
    let some = run(
        &demo,
        &[
            "check",
            ".",
            "--baseline",
            base,
            "--select",
            "MESH001,MESH101",
            "--format",
            "json",
        ],
    );
    some.expect_code(0);
    assert!(findings(&some.json()).is_empty(), "{}", some.stdout);
}

#[test]
fn sarif_results_carry_the_fingerprint_as_partial_fingerprints() {
    let dir = common::root();
    let json = run(dir, &["check", "testdata/demo", "--format", "json"]).json();
    let sarif = run(dir, &["check", "testdata/demo", "--format", "sarif"]).json();
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), findings(&json).len());
    for (r, f) in results.iter().zip(findings(&json)) {
        assert_eq!(r["partialFingerprints"]["meshlint/v1"], f["fingerprint"]);
    }
}

#[test]
fn a_broken_baseline_is_a_usage_error_with_its_position() {
    let dir = common::temp_dir();
    write(
        &dir.path().join("b.json"),
        "{\"version\": 1, \"findings\": [{\"code\": 3}]}\n",
    );
    write(
        &dir.path().join("a.yaml"),
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n",
    );
    let out = run(dir.path(), &["check", "a.yaml", "--baseline", "b.json"]);
    out.expect_code(2);
    assert!(out.stderr.contains("b.json:1:"), "{}", out.stderr);
    let missing = run(dir.path(), &["check", "a.yaml", "--baseline", "nope.json"]);
    missing.expect_code(2);
    assert!(missing.stderr.contains("nope.json"), "{}", missing.stderr);
    assert!(Path::new(&dir.path().join("a.yaml")).exists());
}

#[test]
fn the_config_file_can_name_the_baseline() {
    let (_tmp, demo) = demo_copy();
    run(&demo, &["check", ".", "--write-baseline", "base.json"]).expect_code(0);
    write(&demo.join(".meshlint.yaml"), "baseline: base.json\n");
    let out = run(&demo, &["check", ".", "--format", "json"]);
    out.expect_code(0);
    assert!(findings(&out.json()).is_empty(), "{}", out.stdout);
    // From a subdirectory the path is still relative to the config file.
    let sub = demo.join("sub");
    fs::create_dir_all(&sub).expect("mkdir");
    let settings = run(&sub, &["check", "..", "--show-settings"]);
    let expected = format!("baseline: {}", serde_json::json!(demo.join("base.json")));
    assert!(settings.stdout.contains(&expected), "{}", settings.stdout);
    // Writing a baseline ignores the one in use, so it records every finding.
    let again = run(&demo, &["check", ".", "--write-baseline", "new.json"]);
    again.expect_code(0);
    let old = fs::read_to_string(demo.join("base.json")).expect("old");
    let new = fs::read_to_string(demo.join("new.json")).expect("new");
    assert_eq!(old, new);
}
