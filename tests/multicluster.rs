//! Multi-cluster runs end to end: `--cluster NAME=PATH` and `clusters:` in the config file,
//! common paths, the clusters each finding names in every format, and bad cluster arguments.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_meshlint");
const FIXTURE: &str = "testdata/rules/MESH1901/bad-ports";

fn meshlint(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env("CI", "1")
        .output()
        .expect("meshlint runs");
    (
        out.status.code().expect("exit code"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn fixture_args(format: &str) -> Vec<String> {
    vec![
        "check".into(),
        "--format".into(),
        format.into(),
        "--cluster".into(),
        format!("east={FIXTURE}/clusters/east"),
        "--cluster".into(),
        format!("west={FIXTURE}/clusters/west"),
        format!("{FIXTURE}/namespace.yaml"),
    ]
}

fn run_fixture(format: &str) -> (i32, String) {
    let args = fixture_args(format);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, stdout, stderr) = meshlint(root(), &args);
    assert!(stderr.is_empty() || code != 2, "{stderr}");
    (code, stdout)
}

#[test]
fn every_format_names_the_clusters_of_a_finding() {
    let (code, json) = run_fixture("json");
    assert_eq!(code, 1, "a warning fails the default threshold");
    let doc: Value = serde_json::from_str(&json).expect("JSON");
    let findings = doc["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), 1, "{json}");
    assert_eq!(findings[0]["code"], "MESH1901");
    assert_eq!(findings[0]["clusters"], serde_json::json!(["east"]));
    assert!(
        findings[0]["related"][0]["location"]["file"]
            .as_str()
            .is_some_and(|f| f.contains("clusters/west/")),
        "{json}"
    );
    let (_, sarif) = run_fixture("sarif");
    let sarif: Value = serde_json::from_str(&sarif).expect("SARIF");
    assert_eq!(
        sarif["runs"][0]["results"][0]["properties"]["clusters"],
        serde_json::json!(["east"])
    );
    let (_, human) = run_fixture("human");
    assert!(human.contains("= cluster: east"), "{human}");
    let (_, concise) = run_fixture("concise");
    assert!(concise.contains("[cluster: east]"), "{concise}");
}

#[test]
fn a_single_cluster_run_carries_no_clusters() {
    let (_, stdout, _) = meshlint(
        root(),
        &[
            "check",
            "--format",
            "json",
            "testdata/rules/MESH1901/good.yaml",
        ],
    );
    assert!(!stdout.contains("\"clusters\""), "{stdout}");
}

#[test]
fn config_clusters_are_relative_to_the_config_file_and_flags_replace_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let conf = dir.path().join("conf");
    for c in ["east", "west"] {
        std::fs::create_dir_all(conf.join(c)).expect("mkdir");
        let from = root()
            .join(FIXTURE)
            .join("clusters")
            .join(c)
            .join("reviews.yaml");
        std::fs::copy(from, conf.join(c).join("reviews.yaml")).expect("copy");
    }
    std::fs::write(
        conf.join("meshlint.yaml"),
        "clusters:\n  east: [east]\n  west: [west]\n",
    )
    .expect("write config");
    let base = [
        "check",
        "--format",
        "json",
        "--config",
        "conf/meshlint.yaml",
    ];
    let (code, stdout, stderr) = meshlint(dir.path(), &base);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stdout.contains("MESH1901"), "{stdout}");
    // --cluster replaces the file's clusters: one cluster has nothing to compare.
    let mut args = base.to_vec();
    args.extend(["--cluster", "east=conf/east"]);
    let (code, stdout, stderr) = meshlint(dir.path(), &args);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let mut args = base.to_vec();
    args.push("--show-settings");
    let (_, settings, _) = meshlint(dir.path(), &args);
    assert!(
        settings.contains(r#"clusters: {"east":["conf/east"],"west":["conf/west"]}"#),
        "{settings}"
    );
}

#[test]
fn bad_cluster_arguments_are_usage_errors() {
    for arg in ["East=x", "a-=x", "east", "east="] {
        let (code, _, stderr) = meshlint(root(), &["check", "--cluster", arg]);
        assert_eq!(code, 2, "{arg}: {stderr}");
        assert!(stderr.contains("--cluster"), "{arg}: {stderr}");
    }
    let (code, _, stderr) = meshlint(root(), &["check", "--cluster", "a=x", "--context", "."]);
    assert_eq!(code, 2, "{stderr}");
    let (_, help, _) = meshlint(root(), &["check", "--help"]);
    assert!(help.contains("--cluster <NAME=PATH>"), "{help}");
}

#[test]
fn the_order_of_clusters_and_their_paths_does_not_change_the_output() {
    let three = "testdata/rules/MESH1901/bad-three-clusters/clusters";
    let run = |order: &[&str]| {
        let mut args = vec!["check".to_string(), "--format".into(), "json".into()];
        for c in order {
            args.push("--cluster".into());
            args.push(format!("{c}={three}/{c}"));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        meshlint(root(), &args).1
    };
    let first = run(&["alpha", "beta", "gamma"]);
    assert!(first.contains("MESH1901"), "{first}");
    assert_eq!(first, run(&["gamma", "alpha", "beta"]));
    assert_eq!(first, run(&["beta", "gamma", "alpha"]));
}
