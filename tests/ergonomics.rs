//! Command-line ergonomics: --exit-zero, --output-threshold, --statistics, --quiet,
//! --show-settings, rule-name suggestions, `rules --format json` and the help text.

mod common;

use std::collections::BTreeMap;

use common::{codes, findings, root, run, temp_dir, write};

const WARNING_ONLY: &str = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  ports:\n  - name: web\n    port: 8080\n";

#[test]
fn exit_zero_passes_findings_but_not_input_errors() {
    run(root(), &["check", "testdata/demo"]).expect_code(1);
    let out = run(root(), &["check", "testdata/demo", "--exit-zero"]);
    out.expect_code(0);
    assert!(out.stdout.contains("MESH201"), "findings are still printed");
    let dir = temp_dir();
    write(&dir.path().join("bad.yaml"), "a: [1, 2\n");
    run(dir.path(), &["check", "bad.yaml", "--exit-zero"]).expect_code(2);
}

#[test]
fn output_threshold_hides_lower_findings_but_the_exit_code_counts_them() {
    let dir = temp_dir();
    write(&dir.path().join("svc.yaml"), WARNING_ONLY);
    let all = run(dir.path(), &["check", ".", "--format", "json"]);
    all.expect_code(1);
    assert_eq!(codes(&all.json()), ["MESH101"]);
    let errors_only = run(
        dir.path(),
        &[
            "check",
            ".",
            "--format",
            "json",
            "--output-threshold",
            "error",
        ],
    );
    errors_only.expect_code(1);
    assert!(findings(&errors_only.json()).is_empty());
    let demo = run(
        root(),
        &[
            "check",
            "testdata/demo",
            "--format",
            "json",
            "--output-threshold",
            "error",
        ],
    )
    .json();
    assert!(!findings(&demo).is_empty());
    assert!(findings(&demo).iter().all(|f| f["severity"] == "error"));
}

#[test]
fn statistics_count_the_findings_per_rule() {
    let json = run(root(), &["check", "testdata/demo", "--format", "json"]).json();
    let mut expected: BTreeMap<String, u64> = BTreeMap::new();
    for c in codes(&json) {
        *expected.entry(c).or_default() += 1;
    }
    let stats = run(
        root(),
        &["check", "testdata/demo", "--statistics", "--format", "json"],
    );
    stats.expect_code(1);
    let rows = stats.json();
    let rows = rows.as_array().expect("rows");
    let got: BTreeMap<String, u64> = rows
        .iter()
        .map(|r| {
            (
                r["code"].as_str().expect("code").to_string(),
                r["count"].as_u64().expect("count"),
            )
        })
        .collect();
    assert_eq!(got, expected);
    let counts: Vec<u64> = rows
        .iter()
        .map(|r| r["count"].as_u64().expect("count"))
        .collect();
    assert!(
        counts.windows(2).all(|w| w[0] >= w[1]),
        "most first: {counts:?}"
    );
    let text = run(root(), &["check", "testdata/demo", "--statistics"]);
    let first = text.stdout.lines().next().expect("a row");
    let (code, n) = rows[0]["code"]
        .as_str()
        .zip(rows[0]["count"].as_u64())
        .expect("row");
    assert!(
        first.contains(code) && first.trim_start().starts_with(&n.to_string()),
        "{first}"
    );
    assert!(text.stdout.contains(&format!(
        "{} findings from",
        json["findings"].as_array().expect("f").len()
    )));
}

#[test]
fn quiet_prints_findings_only() {
    let dir = temp_dir();
    write(&dir.path().join("svc.yaml"), WARNING_ONLY);
    write(&dir.path().join("values.yaml"), "replicaCount: 2\n");
    let loud = run(
        dir.path(),
        &["check", "svc.yaml", "values.yaml", "--format", "concise"],
    );
    assert!(loud.stderr.contains("note:"), "{}", loud.stderr);
    assert!(loud.stdout.contains("1 finding"));
    let quiet = run(
        dir.path(),
        &[
            "check",
            "svc.yaml",
            "values.yaml",
            "--format",
            "concise",
            "-q",
        ],
    );
    quiet.expect_code(1);
    assert_eq!(quiet.stderr, "");
    assert_eq!(quiet.stdout.lines().count(), 1, "{}", quiet.stdout);
    assert!(quiet.stdout.contains("warning[MESH101]"));
    let human = run(dir.path(), &["check", "svc.yaml", "--quiet"]);
    assert!(human.stdout.contains("MESH101") && !human.stdout.contains("1 finding ("));
}

#[test]
fn show_settings_prints_what_a_run_would_use_and_checks_nothing() {
    let dir = temp_dir();
    write(
        &dir.path().join(".meshlint.yaml"),
        "failure-threshold: error\nignore: [MESH302]\nseverity:\n  MESH101: error\n",
    );
    write(&dir.path().join("svc.yaml"), WARNING_ONLY);
    let out = run(
        dir.path(),
        &["check", ".", "--show-settings", "--ignore", "MESH2"],
    );
    out.expect_code(0);
    let s = &out.stdout;
    assert!(s.contains("config: \".meshlint.yaml\""), "{s}");
    assert!(
        s.contains("failure-threshold: \"error (config file)\""),
        "{s}"
    );
    assert!(s.contains("severity: [\"MESH101: error\"]"), "{s}");
    let line = |key: &str| {
        s.lines()
            .find(|l| l.starts_with(&format!("{key}: ")))
            .unwrap_or_else(|| panic!("no {key}: {s}"))
            .to_string()
    };
    assert!(line("disabled").contains("MESH201") && line("disabled").contains("MESH302"));
    assert!(!line("rules").contains("MESH201") && line("rules").contains("MESH101"));
    assert!(!s.contains("MESH101 port-name"), "nothing was checked");
    let bad = run(
        dir.path(),
        &["check", "--show-settings", "--select", "MESH99"],
    );
    bad.expect_code(2);
}

#[test]
fn unknown_rules_get_a_suggestion_wherever_they_are_named() {
    let out = run(
        root(),
        &[
            "check",
            "testdata/demo",
            "--select",
            "port-name-mising-protocol",
        ],
    );
    out.expect_code(2);
    assert!(
        out.stderr
            .contains("did you mean `port-name-missing-protocol`?"),
        "{}",
        out.stderr
    );
    let out = run(root(), &["check", "testdata/demo", "--ignore", "MESH1011"]);
    out.expect_code(2);
    assert!(
        out.stderr.contains("did you mean `MESH101`?"),
        "{}",
        out.stderr
    );
    let out = run(root(), &["explain", "host-port-colision"]);
    out.expect_code(2);
    assert!(
        out.stderr.contains("did you mean `host-port-collision`?"),
        "{}",
        out.stderr
    );

    let dir = temp_dir();
    write(&dir.path().join("svc.yaml"), WARNING_ONLY);
    write(
        &dir.path().join(".meshlint.yaml"),
        "ignore:\n  - rule: container-port-colision\n",
    );
    let out = run(dir.path(), &["check", "svc.yaml"]);
    out.expect_code(2);
    assert!(out.stderr.contains(".meshlint.yaml:2:"), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("did you mean `container-port-collision`?"),
        "{}",
        out.stderr
    );
    write(
        &dir.path().join(".meshlint.yaml"),
        "severity:\n  MESH10l: error\n",
    );
    let out = run(dir.path(), &["check", "svc.yaml"]);
    out.expect_code(2);
    assert!(out.stderr.contains(".meshlint.yaml:2:3:"), "{}", out.stderr);
    assert!(
        out.stderr.contains("did you mean `MESH101`?"),
        "{}",
        out.stderr
    );
}

#[test]
fn rules_as_json_lists_every_rule_with_its_metadata() {
    let text = run(root(), &["rules"]);
    text.expect_code(0);
    let json = run(root(), &["rules", "--format", "json"]);
    json.expect_code(0);
    let rules = json.json();
    let rules = rules.as_array().expect("array");
    assert_eq!(rules.len(), text.stdout.lines().count());
    for r in rules {
        for key in ["code", "name", "severity", "summary"] {
            assert!(r[key].is_string(), "{key} in {r}");
        }
        assert!(
            r["istio_codes"].is_array() && r["kiali_codes"].is_array(),
            "{r}"
        );
        assert!(r["fixable"].is_boolean(), "{r}");
        let code = r["code"].as_str().expect("code");
        assert!(text.stdout.contains(code));
    }
    let mesh101 = rules
        .iter()
        .find(|r| r["code"] == "MESH101")
        .expect("MESH101");
    assert_eq!(
        mesh101["istio_codes"],
        serde_json::json!(["IST0118", "IST0150"])
    );
}

#[test]
fn every_check_flag_has_help_and_enumerated_values_are_listed() {
    let out = run(root(), &["check", "--help"]);
    out.expect_code(0);
    let help = &out.stdout;
    // Every option line is followed by its description.
    let lines: Vec<&str> = help.lines().collect();
    for (i, l) in lines.iter().enumerate() {
        // Option lines are indented less than their descriptions.
        let indent = l.len() - l.trim_start().len();
        if indent < 8 && l.trim_start().starts_with('-') {
            let next = lines.get(i + 1).copied().unwrap_or("");
            assert!(!next.trim().is_empty(), "no help for `{}`", l.trim());
        }
    }
    for values in [
        "[possible values: info, warning, error]",
        "[default: human]",
        "[default: info]",
        "[default: auto]",
        "- concise:",
        "- never:",
    ] {
        assert!(
            help.contains(values),
            "`{values}` missing from check --help:\n{help}"
        );
    }
}

#[test]
fn istioctl_codes_select_and_ignore_findings() {
    let json = |args: &[&str]| {
        let mut all = vec!["check", "testdata/demo", "--format", "json"];
        all.extend_from_slice(args);
        run(root(), &all).json()
    };
    let carries = |doc: &serde_json::Value, code: &str| {
        findings(doc)
            .iter()
            .filter(|f| {
                f["istio_codes"]
                    .as_array()
                    .is_some_and(|c| c.iter().any(|c| c == code))
            })
            .count()
    };
    let everything = json(&[]);
    let with = carries(&everything, "IST0118");
    assert!(with > 0, "the demo has IST0118 findings");
    // Selecting an IST code keeps exactly the findings that carry it.
    let selected = json(&["--select", "ist0118"]);
    assert_eq!(findings(&selected).len(), with);
    assert_eq!(carries(&selected, "IST0118"), with);
    // Beside a rule code, both are kept.
    let both = json(&["--select", "IST0118,MESH201"]);
    assert_eq!(
        findings(&both).len(),
        with + codes(&everything)
            .iter()
            .filter(|c| *c == "MESH201")
            .count()
    );
    // Ignoring it drops those findings and nothing else.
    let ignored = json(&["--ignore", "IST0118"]);
    assert_eq!(carries(&ignored, "IST0118"), 0);
    assert_eq!(findings(&ignored).len(), findings(&everything).len() - with);
    // The same from the config file.
    let dir = temp_dir();
    write(&dir.path().join(".meshlint.yaml"), "ignore:\n  - IST0118\n");
    let demo = root().join("testdata/demo");
    let from_config = run(
        dir.path(),
        &[
            "check",
            demo.to_str().expect("utf-8 path"),
            "--format",
            "json",
        ],
    );
    assert_eq!(carries(&from_config.json(), "IST0118"), 0);
    write(&dir.path().join(".meshlint.yaml"), "select:\n  - IST0118\n");
    let selected_in_config = run(
        dir.path(),
        &[
            "check",
            demo.to_str().expect("utf-8 path"),
            "--format",
            "json",
        ],
    )
    .json();
    assert_eq!(findings(&selected_in_config).len(), with);
    // A code no rule reports is a usage error that says so.
    let unknown = run(root(), &["check", "testdata/demo", "--select", "IST0141"]);
    unknown.expect_code(2);
    assert!(
        unknown.stderr.contains("no meshlint rule reports"),
        "{}",
        unknown.stderr
    );
}

#[test]
fn opt_in_rules_run_only_when_selected() {
    let dir = temp_dir();
    let file = dir.path().join("svc.yaml");
    write(
        &file,
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: api\n  namespace: shop\n  annotations: {networking.istio.io/exportTo: \".\"}\nspec:\n  selector: {app: api}\n  ports: [{name: http, port: 80}]\n",
    );
    let path = file.to_str().expect("utf-8 path");
    let codes_with = |args: &[&str]| {
        let mut all = vec!["check", path, "--format", "json"];
        all.extend_from_slice(args);
        codes(&run(root(), &all).json())
    };
    assert!(!codes_with(&[]).contains(&"MESH1105".to_string()));
    for extend in ["MESH1105", "alpha-annotation", "IST0136"] {
        assert!(
            codes_with(&["--extend-select", extend]).contains(&"MESH1105".to_string()),
            "--extend-select {extend}"
        );
    }
    assert!(codes_with(&["--select", "ALL"]).contains(&"MESH1105".to_string()));
    write(
        &dir.path().join(".meshlint.yaml"),
        "extend-select: [IST0136]\n",
    );
    let from_config = run(dir.path(), &["check", path, "--format", "json"]).json();
    assert!(codes(&from_config).contains(&"MESH1105".to_string()));
}
